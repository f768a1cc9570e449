//! Each noise law draws from the law it claims: bounds, means, and goodness of fit of the
//! radius and coordinate laws at a fixed seed.

mod common;

use common::{ks_critical_001, ks_statistic};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use sgd_escape::noise::{Ball, Cube, Gaussian, NoNoise, NoiseLaw, Sphere};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

const N: usize = 40_000;

fn draws<W: NoiseLaw>(law: &W, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let x = vec![0.0; d];
    (0..N)
        .map(|_| {
            let mut w = vec![0.0; d];
            law.sample_into(&x, &mut rng, &mut w);
            w
        })
        .collect()
}

fn norm(w: &[f64]) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Every coordinate's sample mean is within 5 standard errors of 0.
fn assert_centred(ws: &[Vec<f64>], coord_sd: f64) {
    let d = ws[0].len();
    for i in 0..d {
        let mean = ws.iter().map(|w| w[i]).sum::<f64>() / ws.len() as f64;
        let se = coord_sd / (ws.len() as f64).sqrt();
        assert!(
            mean.abs() < 5.0 * se,
            "coordinate {i}: mean {mean}, se {se}"
        );
    }
}

#[test]
fn ball_is_bounded_centred_with_radius_law_r_u_pow_1_over_d() {
    let r = 2.5;
    for (d, seed) in [(1, 1), (2, 2), (3, 3), (10, 4), (100, 5)] {
        let ws = draws(&Ball { r }, d, seed);
        assert!(
            ws.iter().all(|w| norm(w) <= r * (1.0 + 1e-12)),
            "d = {d}: a draw left the ball"
        );
        // E[ω_i²] = r²/(d + 2) for the uniform ball.
        assert_centred(&ws, r / ((d + 2) as f64).sqrt());
        // ‖ω‖ has CDF (ρ/r)^d on [0, r].
        let mut radii: Vec<f64> = ws.iter().map(|w| norm(w)).collect();
        let ks = ks_statistic(&mut radii, |rho| (rho / r).powi(d as i32));
        assert!(
            ks < ks_critical_001(N),
            "d = {d}: KS {ks} for the radius law"
        );
        // The direction is uniform: the first coordinate of ω/‖ω‖ is symmetric with
        // E[u_1²] = 1/d.
        let second: f64 = ws.iter().map(|w| (w[0] / norm(w)).powi(2)).sum::<f64>() / N as f64;
        assert!(
            (second - 1.0 / d as f64).abs() < 0.02,
            "d = {d}: E[u_1²] = {second}"
        );
    }
}

#[test]
fn cube_coordinates_are_uniform_on_minus_r_r() {
    let r = 0.7;
    let d = 3;
    let ws = draws(&Cube { r }, d, 11);
    assert!(ws.iter().flatten().all(|v| v.abs() <= r));
    assert_centred(&ws, r / 3f64.sqrt());
    for i in 0..d {
        let mut c: Vec<f64> = ws.iter().map(|w| w[i]).collect();
        let ks = ks_statistic(&mut c, |v| ((v + r) / (2.0 * r)).clamp(0.0, 1.0));
        assert!(ks < ks_critical_001(N), "coordinate {i}: KS {ks}");
    }
    assert_eq!(Cube { r }.bound(4), Some(2.0 * r));
}

#[test]
fn sphere_has_exact_radius_and_uniform_direction() {
    let r = 1.5;
    for (d, seed) in [(1, 21), (2, 22), (3, 23), (10, 24)] {
        let ws = draws(&Sphere { r }, d, seed);
        assert!(ws.iter().all(|w| (norm(w) - r).abs() < 1e-12));
        assert_centred(&ws, r / (d as f64).sqrt());
        if d == 3 {
            // Archimedes: on the 2-sphere each coordinate is uniform on [−r, r].
            let mut c: Vec<f64> = ws.iter().map(|w| w[2]).collect();
            let ks = ks_statistic(&mut c, |v| ((v + r) / (2.0 * r)).clamp(0.0, 1.0));
            assert!(ks < ks_critical_001(N), "KS {ks}");
        }
    }
}

#[test]
fn gaussian_coordinates_and_norm_follow_their_laws() {
    let sigma = 0.8;
    let d = 4;
    let ws = draws(&Gaussian { sigma }, d, 31);
    assert_centred(&ws, sigma);
    let normal = Normal::new(0.0, sigma).unwrap();
    let mut c: Vec<f64> = ws.iter().map(|w| w[1]).collect();
    let ks = ks_statistic(&mut c, |v| normal.cdf(v));
    assert!(ks < ks_critical_001(N), "coordinate KS {ks}");
    let chi = ChiSquared::new(d as f64).unwrap();
    let mut q: Vec<f64> = ws
        .iter()
        .map(|w| norm(w).powi(2) / (sigma * sigma))
        .collect();
    let ks = ks_statistic(&mut q, |v| chi.cdf(v));
    assert!(ks < ks_critical_001(N), "‖ω‖²/σ² KS {ks}");
    assert_eq!(
        Gaussian { sigma }.bound(d),
        None,
        "gaussian noise is unbounded"
    );
}

#[test]
fn no_noise_is_zero() {
    let ws = draws(&NoNoise, 3, 41);
    assert!(ws.iter().flatten().all(|&v| v == 0.0));
    assert_eq!(NoNoise.bound(3), Some(0.0));
}

#[test]
fn a_wrong_sampler_is_caught() {
    // The radius test has power: r·U (wrong for d = 3) fails it.
    let r = 1.0;
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let mut radii: Vec<f64> = (0..N)
        .map(|_| {
            let mut w = [0.0];
            Ball { r }.sample_into(&[0.0], &mut rng, &mut w);
            w[0].abs()
        })
        .collect();
    let ks = ks_statistic(&mut radii, |rho| (rho / r).powi(3));
    assert!(ks > ks_critical_001(N));
}

/// Student's t per coordinate: every coordinate follows t_ν (KS), coordinates are
/// independent (log-magnitudes uncorrelated); spherical: the coordinates are t_ν too, share
/// their scale (log-magnitudes correlated), and ‖ω‖²/(d s²) follows F(d, ν).
#[test]
fn student_t_follows_its_law() {
    use sgd_escape::noise::StudentT;
    use statrs::distribution::{FisherSnedecor, StudentsT};
    let d = 3;
    let log_corr = |ws: &[Vec<f64>]| {
        let (a, b): (Vec<f64>, Vec<f64>) = ws
            .iter()
            .map(|w| (w[0].abs().ln(), w[1].abs().ln()))
            .unzip();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (ma, mb) = (mean(&a), mean(&b));
        let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
        cov / (va * vb).sqrt()
    };
    for (seed, nu) in [(31, 3.0), (32, 1.2), (34, 0.6)] {
        let t = StudentsT::new(0.0, 1.0, nu).unwrap();
        for spherical in [false, true] {
            let s = 2.0;
            let ws = draws(&StudentT { nu, s, spherical }, d, seed);
            for i in 0..d {
                let mut c: Vec<f64> = ws.iter().map(|w| w[i] / s).collect();
                let ks = ks_statistic(&mut c, |x| t.cdf(x));
                assert!(
                    ks < ks_critical_001(N),
                    "ν = {nu}, spherical {spherical}, coordinate {i}: KS {ks}"
                );
            }
            let r = log_corr(&ws);
            if spherical {
                assert!(
                    r > 0.1,
                    "ν = {nu}: shared scale, yet log-magnitudes correlate by {r}"
                );
                let f = FisherSnedecor::new(d as f64, nu).unwrap();
                let mut q: Vec<f64> = ws
                    .iter()
                    .map(|w| norm(w).powi(2) / (d as f64 * s * s))
                    .collect();
                let ks = ks_statistic(&mut q, |x| f.cdf(x));
                assert!(
                    ks < ks_critical_001(N),
                    "ν = {nu}: ‖ω‖²/(d s²) against F(d, ν): KS {ks}"
                );
            } else {
                assert!(
                    r.abs() < 5.0 / (N as f64).sqrt(),
                    "ν = {nu}: independent coordinates, yet r = {r}"
                );
            }
        }
    }
}

/// Symmetric α-stable: α = 2 is N(0, 2σ²) and α = 1 Cauchy(σ) (KS); for every α the
/// empirical characteristic function matches exp(−|σt|^α) within 4.5 standard errors (its
/// variance is known exactly: (1 + φ(2t))/2 − φ(t)²), and the imaginary part vanishes.
#[test]
fn stable_follows_its_law() {
    use sgd_escape::noise::Stable;
    use statrs::distribution::Cauchy;
    let sigma = 0.7;
    let ws = draws(&Stable { alpha: 2.0, sigma }, 2, 41);
    let normal = Normal::new(0.0, std::f64::consts::SQRT_2 * sigma).unwrap();
    for i in 0..2 {
        let mut c: Vec<f64> = ws.iter().map(|w| w[i]).collect();
        let ks = ks_statistic(&mut c, |x| normal.cdf(x));
        assert!(ks < ks_critical_001(N), "α = 2: KS {ks}");
    }
    let ws = draws(&Stable { alpha: 1.0, sigma }, 2, 42);
    let cauchy = Cauchy::new(0.0, sigma).unwrap();
    let mut c: Vec<f64> = ws.iter().map(|w| w[1]).collect();
    let ks = ks_statistic(&mut c, |x| cauchy.cdf(x));
    assert!(ks < ks_critical_001(N), "α = 1: KS {ks}");
    for (seed, alpha) in [(43, 0.5), (44, 0.9), (45, 1.5), (46, 1.8), (47, 2.0)] {
        let ws = draws(&Stable { alpha, sigma }, 2, seed);
        let phi = |t: f64| (-(sigma * t).abs().powf(alpha)).exp();
        for t in [0.2, 0.7, 1.5, 3.0] {
            let xs = ws.iter().map(|w| w[0]);
            let re = xs.clone().map(|x| (t * x).cos()).sum::<f64>() / N as f64;
            let im = xs.map(|x| (t * x).sin()).sum::<f64>() / N as f64;
            let sd_re = ((1.0 + phi(2.0 * t)) / 2.0 - phi(t) * phi(t)).sqrt();
            let sd_im = ((1.0 - phi(2.0 * t)) / 2.0).sqrt();
            let n = (N as f64).sqrt();
            assert!(
                (re - phi(t)).abs() < 4.5 * sd_re / n + 1e-12,
                "α = {alpha}, t = {t}: {re} vs {}",
                phi(t)
            );
            assert!(
                im.abs() < 4.5 * sd_im / n + 1e-12,
                "α = {alpha}, t = {t}: imaginary part {im}"
            );
        }
    }
}

/// The theorem check puts both laws outside its assumptions (the noise is unbounded).
#[test]
fn the_theorem_check_reports_heavy_tails_outside_its_assumptions() {
    for law in [
        r#"{ law = "student_t", nu = 5.0, s = 0.5 }"#,
        r#"{ law = "student_t", nu = 5.0, s = 0.5, spherical = true }"#,
        r#"{ law = "stable", alpha = 1.7, sigma = 0.2 }"#,
    ] {
        let exp = common::experiment(&format!(
            r#"
            seed = 4
            trajectories = 200
            objective = {{ kind = "quadratic", dim = 2, k = 1.0 }}
            noise = {law}
            dynamics = {{ eta = 0.05, steps = 200 }}
            init = {{ kind = "box", lo = -1.0, hi = 1.0 }}
            events = {{ reach_radius = 0.3 }}
            "#
        ));
        let r = &sgd_escape::theory::check_experiment(&exp, 2).unwrap()[0];
        assert_eq!(
            r.verdict,
            sgd_escape::theory::check::Verdict::NotApplicable,
            "{law}"
        );
        assert!(
            r.reasons
                .iter()
                .any(|s| s.contains("the noise is unbounded")),
            "{law}: {:?}",
            r.reasons
        );
    }
}

/// A σ per coordinate: each coordinate is N(0, σᵢ²) (KS), a zero σ gives zeros, the
/// list must have one σ per coordinate, and a single σ keeps the configuration's identity
/// (it serialises as before).
#[test]
fn anisotropic_gaussian_follows_its_law() {
    use sgd_escape::noise::AnisotropicGaussian;
    let sigma = [0.5, 2.0, 0.0, 7.0];
    let ws = draws(
        &AnisotropicGaussian {
            sigma: sigma.as_slice().into(),
        },
        4,
        51,
    );
    for (i, &s) in sigma.iter().enumerate() {
        if s == 0.0 {
            assert!(ws.iter().all(|w| w[i] == 0.0));
            continue;
        }
        let n = Normal::new(0.0, s).unwrap();
        let mut c: Vec<f64> = ws.iter().map(|w| w[i]).collect();
        let ks = ks_statistic(&mut c, |x| n.cdf(x));
        assert!(ks < ks_critical_001(N), "coordinate {i}: KS {ks}");
    }
    let text = |sigma: &str| {
        format!(
            r#"
            objective = {{ kind = "quadratic", dim = 3, k = 1.0 }}
            noise = {{ law = "gaussian", sigma = {sigma} }}
            dynamics = {{ eta = 0.05, steps = 20 }}
            init = {{ kind = "point", point = 0.0 }}
            events = {{ reach_radius = 0.3 }}
            "#
        )
    };
    let err = sgd_escape::config::parse(&text("[1.0, 2.0]"), std::path::Path::new("a.toml"), "a")
        .expect_err("two σ for three coordinates");
    assert_eq!(err.field(), "noise.sigma", "{err}");
    assert!(
        err.to_string().contains("2 values for dimension 3"),
        "{err}"
    );
    let err = sgd_escape::config::parse(
        &text("[1.0, -2.0, 1.0]"),
        std::path::Path::new("a.toml"),
        "a",
    )
    .expect_err("a negative σ");
    assert_eq!(err.field(), "noise.sigma[1]", "{err}");
    let one = common::experiment(&text("0.5"));
    let json = serde_json::to_string(&one.configs[0].noise).unwrap();
    assert_eq!(json, r#"{"law":"gaussian","sigma":0.5}"#);
    let per = common::experiment(&text("[0.5, 0.5, 0.5]"));
    let r = sgd_escape::pipeline::execute(&per, 1).unwrap();
    assert_eq!(r.results[0].summary.n, per.configs[0].trajectories);
}

/// ω = s(x)·ξ: at chosen points the draws divided by s(x) follow the base law (KS), and
/// their spread follows s(x); bounded only with a bound on s and a bounded base; a bad
/// scale formula or base law is refused naming the field.
#[test]
fn formula_law_scales_its_base_law_by_the_point() {
    use sgd_escape::noise::AnyLaw;
    let text = |noise: &str| {
        format!(
            r#"
            objective = {{ kind = "quadratic", dim = 2, k = 1.0 }}
            noise = {noise}
            dynamics = {{ eta = 0.05, steps = 20 }}
            init = {{ kind = "point", point = 0.0 }}
            events = {{ reach_radius = 0.3 }}
            "#
        )
    };
    let exp = common::experiment(&text(
        r#"{ law = "formula", scale = "0.1 + abs(x1) + x2^2", base = { law = "gaussian", sigma = 1.0 } }"#,
    ));
    let law = AnyLaw::of(&exp.configs[0].noise).unwrap();
    assert_eq!(law.bound(2), None, "no bound on s: unbounded");
    let std_normal = Normal::new(0.0, 1.0).unwrap();
    for (seed, x) in [(61u64, [0.5f64, -2.0]), (62, [-3.0, 0.0]), (63, [0.0, 0.0])] {
        let s = 0.1 + x[0].abs() + x[1] * x[1];
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut c: Vec<f64> = (0..N)
            .map(|_| {
                let mut w = [0.0; 2];
                law.sample_into(&x, &mut rng, &mut w);
                w[1] / s
            })
            .collect();
        let ks = ks_statistic(&mut c, |v| std_normal.cdf(v));
        assert!(ks < ks_critical_001(N), "at {x:?}: KS {ks}");
    }
    // Bounded: |s| ≤ 2 and a ball of radius 0.5 give ‖ω‖ ≤ 1.
    let exp = common::experiment(&text(
        r#"{ law = "formula", scale = "1 + tanh(x1)", base = { law = "ball", r = 0.5 }, bound = 2.0 }"#,
    ));
    assert_eq!(
        AnyLaw::of(&exp.configs[0].noise).unwrap().bound(2),
        Some(1.0)
    );
    let refused = |noise: &str, field: &str, reason: &str| {
        let err = sgd_escape::config::parse(&text(noise), std::path::Path::new("a.toml"), "a")
            .expect_err("must be refused");
        assert_eq!(err.field(), field, "{err}");
        assert!(err.to_string().contains(reason), "{err}");
    };
    refused(
        r#"{ law = "formula", scale = "1 + x3", base = { law = "ball", r = 1.0 } }"#,
        "noise.scale",
        "at character 5: unknown name `x3` (the dimension is 2)",
    );
    refused(
        r#"{ law = "formula", scale = "1", base = { law = "formula", scale = "1", base = { law = "none" } } }"#,
        "noise.base.law",
        "must be a plain law",
    );
    refused(
        r#"{ law = "formula", scale = "1", base = { law = "ball", r = -1.0 } }"#,
        "noise.base.r",
        "",
    );
}
