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
