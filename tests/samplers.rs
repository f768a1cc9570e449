//! The samplers keep their laws, at fixed seeds: the Box–Muller normals (Kolmogorov–Smirnov,
//! Anderson–Darling, four moments, the counts beyond 4σ and 5σ, independence within a pair)
//! and the ball (radius law, uniform direction, the two independent).
//!
//! `SAMPLER_DRAWS` sets the number of normals (default 10⁷, about 2 s; the README reports a
//! run at 10⁸: `SAMPLER_DRAWS=100000000 cargo test --release --test samplers -- --nocapture`).
//! Every test rejects a correct sampler with probability at most 0.1%.

mod common;

use common::{ks_critical_001, ks_statistic};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use sgd_escape::noise::{Ball, NoiseLaw};
use sgd_escape::rng::normal_pair;
use statrs::distribution::{Beta, ContinuousCDF, DiscreteCDF, Normal, Poisson};

fn draws() -> usize {
    std::env::var("SAMPLER_DRAWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// Anderson–Darling A² of sorted samples against a continuous CDF (the terms' logarithms in
/// the complementary form where the CDF is near 1, so the tails keep their weight).
fn anderson_darling(sorted: &[f64], cdf: impl Fn(f64) -> f64, sf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len();
    let s: f64 = (0..n)
        .map(|i| {
            let w = (2 * i + 1) as f64;
            w * (cdf(sorted[i]).ln() + sf(sorted[n - 1 - i]).ln())
        })
        .sum();
    -(n as f64) - s / n as f64
}

/// Two-sided Poisson test of a count against its expectation: true when the count is
/// inside the central 99.9%.
fn poisson_plausible(count: u64, mean: f64) -> bool {
    let p = Poisson::new(mean).unwrap();
    let below = p.cdf(count);
    let above = 1.0 - if count == 0 { 0.0 } else { p.cdf(count - 1) };
    below > 0.0005 && above > 0.0005
}

#[test]
fn box_muller_normals_follow_the_standard_normal() {
    let n_pairs = draws().div_ceil(2);
    let mut rng = Pcg64Mcg::seed_from_u64(2026);
    let mut z = Vec::with_capacity(2 * n_pairs);
    let (mut cross, mut cross_sq) = (0.0, 0.0);
    for _ in 0..n_pairs {
        let (a, b) = normal_pair(&mut rng);
        cross += a * b;
        cross_sq += (a * a - 1.0) * (b * b - 1.0);
        z.push(a);
        z.push(b);
    }
    let n = z.len() as f64;
    let phi = Normal::new(0.0, 1.0).unwrap();

    // Moments: E z = 0, E z² = 1, E z³ = 0, E z⁴ = 3, each within 5 standard errors
    // (Var z^k = E z^{2k} − (E z^k)²: 1, 2, 15, 96).
    for (k, want, var) in [(1, 0.0, 1.0), (2, 1.0, 2.0), (3, 0.0, 15.0), (4, 3.0, 96.0)] {
        let m = z.iter().map(|v| v.powi(k)).sum::<f64>() / n;
        let se = (var / n).sqrt();
        assert!((m - want).abs() < 5.0 * se, "E z^{k} = {m}, se {se}");
    }
    // The two of a pair are uncorrelated, and so are their squares (independence, not only
    // zero correlation).
    let pairs = n_pairs as f64;
    assert!(cross.abs() / pairs < 5.0 / pairs.sqrt(), "pair correlation");
    assert!(
        cross_sq.abs() / pairs < 5.0 * 2.0 / pairs.sqrt(),
        "pair squares"
    );
    // Tails: the counts beyond 4σ and 5σ against their Poisson expectations.
    for k in [4.0, 5.0] {
        let count = z.iter().filter(|v| v.abs() > k).count() as u64;
        let mean = n * 2.0 * phi.sf(k);
        assert!(
            poisson_plausible(count, mean),
            "beyond {k}σ: {count}, expected {mean:.1}"
        );
        eprintln!("beyond {k}σ: {count} (expected {mean:.1})");
    }
    // The whole law: Kolmogorov–Smirnov, and Anderson–Darling (more weight on the tails;
    // 1% critical value 3.857 for a fully specified law, 0.1% about 5.97).
    z.sort_by(f64::total_cmp);
    let ad = anderson_darling(&z, |x| phi.cdf(x), |x| phi.sf(x));
    let ks = ks_statistic(&mut z, |x| phi.cdf(x));
    eprintln!(
        "{} normals: KS {ks:.3e} (critical {:.3e}), A² {ad:.3}",
        z.len(),
        ks_critical_001(z.len())
    );
    assert!(ks < ks_critical_001(z.len()), "KS {ks}");
    assert!(ad < 5.97, "Anderson–Darling A² = {ad}");
}

#[test]
fn ball_radius_and_direction_have_their_laws() {
    let r = 1.5;
    let total = draws() / 10;
    for (d, seed) in [(2, 7), (3, 8), (10, 9), (31, 10)] {
        let m = total / d;
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let (mut radius, mut first) = (Vec::with_capacity(m), Vec::with_capacity(m));
        let mut w = vec![0.0; d];
        for _ in 0..m {
            Ball { r }.sample_into(&[], &mut rng, &mut w);
            let rho = w.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(rho <= r * (1.0 + 1e-15), "d = {d}: outside the ball");
            radius.push(rho);
            first.push(w[0] / rho);
        }
        // The radius and the direction are independent: ‖ω‖ against u₁² uncorrelated.
        let (mr, mu) = (
            radius.iter().sum::<f64>() / m as f64,
            first.iter().map(|u| u * u).sum::<f64>() / m as f64,
        );
        let cov: f64 = radius
            .iter()
            .zip(&first)
            .map(|(a, u)| (a - mr) * (u * u - mu))
            .sum();
        let (vr, vu): (f64, f64) = (
            radius.iter().map(|a| (a - mr) * (a - mr)).sum(),
            first.iter().map(|u| (u * u - mu) * (u * u - mu)).sum(),
        );
        let corr = cov / (vr * vu).sqrt();
        assert!(
            corr.abs() < 5.0 / (m as f64).sqrt(),
            "d = {d}: radius–direction {corr}"
        );
        // ‖ω‖ has CDF (ρ/r)^d.
        let ks = ks_statistic(&mut radius, |rho| (rho / r).powi(d as i32));
        assert!(ks < ks_critical_001(m), "d = {d}: radius KS {ks}");
        // A uniform direction u has u₁² ~ Beta(1/2, (d − 1)/2), and u₁ is symmetric.
        let beta = Beta::new(0.5, (d as f64 - 1.0) / 2.0).unwrap();
        let positive = first.iter().filter(|u| **u > 0.0).count() as f64;
        assert!((positive / m as f64 - 0.5).abs() < 5.0 * 0.5 / (m as f64).sqrt());
        let mut sq: Vec<f64> = first.iter().map(|u| u * u).collect();
        let ks = ks_statistic(&mut sq, |x| beta.cdf(x));
        assert!(ks < ks_critical_001(m), "d = {d}: direction KS {ks}");
    }
}
