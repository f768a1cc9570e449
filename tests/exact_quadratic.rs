//! The exact check: on ½k‖x‖² with Gaussian noise, started at x* = 0, y_T is Gaussian with
//! mean 0 and per-coordinate variance
//!     v_T = a² η² σ² (1 − a^{2T}) / (1 − a²),   a = 1 − ηk,
//! so P(‖y_T‖ ≤ ρ) = F_{χ²_d}(ρ² / v_T). 100,000 trajectories must agree within their 99.9%
//! Wilson interval.

mod common;

use sgd_escape::stats::wilson;
use statrs::distribution::{ChiSquared, ContinuousCDF};

fn check(d: usize, rho: f64) {
    let (k, eta, sigma, steps) = (2.0, 0.05, 1.5, 200);
    let text = format!(
        r#"
        seed = {d}
        trajectories = 100_000
        objective = {{ kind = "quadratic", dim = {d}, k = {k} }}
        noise = {{ law = "gaussian", sigma = {sigma} }}
        dynamics = {{ eta = {eta}, steps = {steps} }}
        init = {{ kind = "point", point = 0.0 }}
        events = {{ reach_radius = {rho} }}
        "#
    );
    let exp = common::experiment(&text);
    let spec = &exp.configs[0];
    let outcomes = spec.run(exp.seed, 0..spec.trajectories);
    let n = outcomes.len() as u64;
    let hits = outcomes.iter().filter(|o| o.final_y_dist <= rho).count() as u64;

    let a: f64 = 1.0 - eta * k;
    let v = a * a * eta * eta * sigma * sigma * (1.0 - a.powi(2 * steps)) / (1.0 - a * a);
    let exact = ChiSquared::new(d as f64).unwrap().cdf(rho * rho / v);
    let ci = wilson(hits, n, 0.999);
    assert!(
        ci.lower <= exact && exact <= ci.upper,
        "d = {d}: estimate {} [{}, {}] misses the exact {exact}",
        hits as f64 / n as f64,
        ci.lower,
        ci.upper
    );
    // The check has power: the interval is narrow enough to see a 5% error in v_T.
    let off = ChiSquared::new(d as f64)
        .unwrap()
        .cdf(rho * rho / (1.05 * v));
    assert!(
        off < ci.lower || off > ci.upper,
        "d = {d}: a 5% error in the variance would go unnoticed"
    );
}

#[test]
fn quadratic_gaussian_d1() {
    check(1, 0.104);
}

#[test]
fn quadratic_gaussian_d10() {
    check(10, 0.473);
}
