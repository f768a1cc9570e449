//! `sgd-escape calibrate`: the tool checks its own statistics.
//!
//! For each interval method and for the adaptive rule, on cases whose probability is known
//! exactly, the estimate is repeated many times (each replicate with its own seeded stream)
//! and the share of intervals that cover the truth is reported with its own Clopper–Pearson
//! interval. Cases: Bernoulli draws with known p, and the quadratic–Gaussian case, where
//! P(‖y_T‖ ≤ ρ) is a chi-square probability.

use crate::config;
use crate::experiment::ConfigSpec;
use crate::rng::{mix_words, trajectory_rng};
use crate::stats::sequential::{BetaBinomialCs, CS_METHOD};
use crate::stats::special::binomial_cdf;
use crate::stats::{Interval, Method, Side, interval};
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::path::Path;

/// How an interval is produced in a replicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A fixed-n interval of this method.
    Fixed(Method),
    /// The adaptive rule: batches until the confidence sequence's half-width ≤ ε; its
    /// interval at the stop.
    Sequence,
    /// The naive rule the adaptive one replaces: batches until the Wilson half-width ≤ ε,
    /// then the Wilson interval. Peeking at a fixed-n interval loses its coverage.
    NaiveWilson,
}

impl Rule {
    /// Name in tables.
    pub fn name(&self) -> String {
        match self {
            Rule::Fixed(m) => m.name().to_string(),
            Rule::Sequence => format!("adaptive ({CS_METHOD})"),
            Rule::NaiveWilson => "naive: stop when Wilson half-width ≤ ε".to_string(),
        }
    }
}

/// Batches of an adaptive rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stopping {
    /// Target half-width ε.
    pub epsilon: f64,
    /// Trajectories per batch.
    pub batch: u64,
    /// Cap.
    pub max: u64,
}

/// One row of the calibration table.
fn seed_text<S: serde::Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::rng::seed_text(*seed))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    /// The case.
    pub case: String,
    /// The rule.
    pub rule: String,
    /// The true probability.
    pub p: f64,
    /// Nominal coverage.
    pub nominal: f64,
    /// Replicates.
    pub replicates: u64,
    /// Replicates whose interval covered p.
    pub covered: u64,
    /// covered / replicates.
    pub coverage: f64,
    /// 95% Clopper–Pearson interval of the coverage.
    pub coverage_lower: f64,
    /// Upper end.
    pub coverage_upper: f64,
    /// Exact coverage (sum over the binomial law), for fixed-n Bernoulli cases.
    pub exact: Option<f64>,
    /// Mean number of trials per replicate (the stopping time, for adaptive rules).
    pub mean_n: f64,
    /// The seed of every replicate's stream, written as text (`1u64`, [`crate::rng::seed_text`]).
    #[serde(serialize_with = "seed_text")]
    pub seed: u64,
    /// The generator.
    pub rng: &'static str,
    /// The numerics version.
    pub numerics: u32,
}

fn row(
    case: String,
    rule: &Rule,
    p: f64,
    nominal: f64,
    hits: &[(bool, u64)],
    exact: Option<f64>,
    seed: u64,
) -> CoverageRow {
    let replicates = hits.len() as u64;
    let covered = hits.iter().filter(|h| h.0).count() as u64;
    let ci = interval(Method::ClopperPearson, covered, replicates, 0.05, Side::Two);
    CoverageRow {
        case,
        rule: rule.name(),
        p,
        nominal,
        replicates,
        covered,
        coverage: covered as f64 / replicates as f64,
        coverage_lower: ci.lower,
        coverage_upper: ci.upper,
        exact,
        mean_n: hits.iter().map(|h| h.1 as f64).sum::<f64>() / replicates as f64,
        seed,
        rng: crate::output::RNG_SHORT,
        numerics: crate::NUMERICS_VERSION,
    }
}

/// Runs an adaptive rule on a stream of batch counts; returns (k, n) at the stop.
fn stop(
    rule: &Rule,
    s: &Stopping,
    alpha: f64,
    mut next_batch: impl FnMut(u64, u64) -> u64,
) -> (u64, u64) {
    let (mut k, mut n) = (0u64, 0u64);
    while n < s.max {
        let b = s.batch.min(s.max - n);
        k += next_batch(n, b);
        n += b;
        let half = match rule {
            Rule::Sequence => BetaBinomialCs::default().interval(k, n, alpha).half_width(),
            _ => interval(Method::Wilson, k, n, alpha, Side::Two).half_width(),
        };
        if half <= s.epsilon {
            break;
        }
    }
    (k, n)
}

fn final_interval(rule: &Rule, k: u64, n: u64, alpha: f64) -> Interval {
    match rule {
        Rule::Fixed(m) => interval(*m, k, n, alpha, Side::Two),
        Rule::Sequence => BetaBinomialCs::default().interval(k, n, alpha),
        Rule::NaiveWilson => interval(Method::Wilson, k, n, alpha, Side::Two),
    }
}

/// Coverage on Bernoulli(p) draws: n trials for fixed rules, the stopping rule otherwise.
pub fn bernoulli(
    rule: Rule,
    p: f64,
    n: u64,
    stopping: &Stopping,
    level: f64,
    replicates: u64,
    seed: u64,
) -> CoverageRow {
    let alpha = 1.0 - level;
    let case_id = mix_words(&[p.to_bits(), n, stopping.epsilon.to_bits(), stopping.batch]);
    let hits: Vec<(bool, u64)> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = trajectory_rng(seed, case_id, r);
            let mut draw =
                |_: u64, b: u64| Binomial::new(b, p).expect("p in [0, 1]").sample(&mut rng);
            let (k, n) = match rule {
                Rule::Fixed(_) => (draw(0, n), n),
                _ => stop(&rule, stopping, alpha, draw),
            };
            (final_interval(&rule, k, n, alpha).contains(p), n)
        })
        .collect();
    let exact = match rule {
        Rule::Fixed(m) => Some(
            (0..=n)
                .filter(|&k| interval(m, k, n, alpha, Side::Two).contains(p))
                .map(|k| binomial_pmf(k, n, p))
                .sum(),
        ),
        _ => None,
    };
    let case = match rule {
        Rule::Fixed(_) => format!("Bernoulli p = {p}, n = {n}"),
        _ => format!(
            "Bernoulli p = {p}, ε = {}, batch {}",
            stopping.epsilon, stopping.batch
        ),
    };
    row(case, &rule, p, level, &hits, exact, seed)
}

fn binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    let upper = binomial_cdf(k, n, p);
    if k == 0 {
        upper
    } else {
        upper - binomial_cdf(k - 1, n, p)
    }
}

/// The quadratic–Gaussian case: ½‖x‖² in d = 1 with Gaussian noise started at x* = 0, where
/// P(‖y_T‖ ≤ ρ) = F_{χ²₁}(ρ²/v_T) exactly. Each replicate runs its trajectories through the
/// engine with its own seed.
pub fn quadratic_gaussian(
    rule: Rule,
    n: u64,
    stopping: &Stopping,
    level: f64,
    replicates: u64,
    seed: u64,
) -> CoverageRow {
    let (k_curv, eta, sigma, steps, rho) = (1.0, 0.1, 1.0, 40u64, 0.2);
    let a: f64 = 1.0 - eta * k_curv;
    let v = a * a * eta * eta * sigma * sigma * (1.0 - a.powi(2 * steps as i32)) / (1.0 - a * a);
    let p = ChiSquared::new(1.0).expect("dof 1").cdf(rho * rho / v);
    let text = format!(
        r#"
        trajectories = {}
        objective = {{ kind = "quadratic", dim = 1, k = {k_curv} }}
        noise = {{ law = "gaussian", sigma = {sigma} }}
        dynamics = {{ eta = {eta}, steps = {steps} }}
        init = {{ kind = "point", point = 0.0 }}
        events = {{ reach_radius = 0.0 }}
        "#,
        n.max(1)
    );
    let exp = config::parse(&text, Path::new("<calibrate>"), "calibrate")
        .expect("the calibration case is valid");
    let mut spec: ConfigSpec = exp.configs[0].clone();
    let alpha = 1.0 - level;
    if !matches!(rule, Rule::Fixed(_)) {
        spec.trajectories = stopping.max;
    }
    let hits: Vec<(bool, u64)> = (0..replicates)
        .map(|replicate| {
            // Each replicate's own experiment seed, derived from the calibration seed.
            let r = crate::rng::mix_words(&[seed, replicate]);
            let inside = |o: &crate::events::Outcome| o.final_y_dist <= rho;
            let (k, n) = match rule {
                Rule::Fixed(_) => (
                    spec.run(r, 0..n).iter().filter(|o| inside(o)).count() as u64,
                    n,
                ),
                Rule::Sequence | Rule::NaiveWilson => stop(&rule, stopping, alpha, |start, b| {
                    spec.run(r, start..start + b)
                        .iter()
                        .filter(|o| inside(o))
                        .count() as u64
                }),
            };
            (final_interval(&rule, k, n, alpha).contains(p), n)
        })
        .collect();
    let case = match rule {
        Rule::Fixed(_) => format!("quadratic-Gaussian P(|y_T| ≤ {rho}), n = {n}"),
        _ => format!(
            "quadratic-Gaussian P(|y_T| ≤ {rho}), ε = {}, batch {}",
            stopping.epsilon, stopping.batch
        ),
    };
    row(case, &rule, p, level, &hits, None, seed)
}

/// The default calibration: every fixed-n method on four Bernoulli cases and the
/// quadratic–Gaussian case, and the adaptive rule against the naive one on three cases.
pub fn default_suite(replicates: u64, seed: u64) -> Vec<CoverageRow> {
    let level = 0.95;
    let fixed = Stopping {
        epsilon: 0.0,
        batch: 0,
        max: 0,
    };
    let mut rows = Vec::new();
    for (n, p) in [(30, 0.5), (50, 0.3), (500, 0.05), (1000, 0.5)] {
        for m in Method::ALL {
            rows.push(bernoulli(
                Rule::Fixed(m),
                p,
                n,
                &fixed,
                level,
                replicates,
                seed,
            ));
        }
    }
    for s in adaptive_cases() {
        for rule in [Rule::Sequence, Rule::NaiveWilson] {
            rows.push(bernoulli(rule, s.0, 0, &s.1, level, replicates, seed));
        }
    }
    for m in [Method::ClopperPearson, Method::Wilson, Method::Jeffreys] {
        rows.push(quadratic_gaussian(
            Rule::Fixed(m),
            400,
            &fixed,
            level,
            replicates,
            seed,
        ));
    }
    let s = Stopping {
        epsilon: 0.05,
        batch: 20,
        max: 5000,
    };
    rows.push(quadratic_gaussian(
        Rule::Sequence,
        0,
        &s,
        level,
        replicates,
        seed,
    ));
    rows
}

/// (p, stopping) cases on which the naive rule is known to lose coverage: small batches and
/// a coarse ε, so that it stops at the first lucky stretch where the Wilson interval looks
/// narrow enough.
pub fn adaptive_cases() -> Vec<(f64, Stopping)> {
    vec![
        (
            0.3,
            Stopping {
                epsilon: 0.15,
                batch: 5,
                max: 100_000,
            },
        ),
        (
            0.3,
            Stopping {
                epsilon: 0.15,
                batch: 1,
                max: 100_000,
            },
        ),
        (
            0.2,
            Stopping {
                epsilon: 0.08,
                batch: 1,
                max: 100_000,
            },
        ),
    ]
}
