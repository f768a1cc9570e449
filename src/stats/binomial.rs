//! Confidence intervals for a binomial proportion.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// A two-sided interval [lower, upper].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// The standard normal quantile z_{1 − α/2} of a two-sided level.
pub fn two_sided_z(level: f64) -> f64 {
    let std = Normal::new(0.0, 1.0).expect("standard normal");
    std.inverse_cdf(0.5 + level / 2.0)
}

/// Wilson's score interval (Wilson 1927) for k successes in n trials at two-sided `level`.
/// Never leaves [0, 1]; at k = 0 the lower bound is exactly 0, at k = n the upper is 1.
pub fn wilson(k: u64, n: u64, level: f64) -> Interval {
    assert!(
        n > 0 && k <= n,
        "wilson needs 0 ≤ k ≤ n, n > 0 (got k = {k}, n = {n})"
    );
    let (k, n) = (k as f64, n as f64);
    let z = two_sided_z(level);
    let p = k / n;
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt();
    Interval {
        lower: if k == 0.0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        upper: if k == n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    }
}

/// A proportion with its interval, method and level: what every output carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proportion {
    /// Successes.
    pub k: u64,
    /// Trials.
    pub n: u64,
    /// k / n.
    pub estimate: f64,
    /// Lower confidence bound.
    pub lower: f64,
    /// Upper confidence bound.
    pub upper: f64,
    /// The interval method.
    pub method: &'static str,
    /// The two-sided confidence level.
    pub level: f64,
}

impl Proportion {
    /// k out of n with a Wilson interval at `level`.
    pub fn wilson(k: u64, n: u64, level: f64) -> Self {
        let ci = wilson(k, n, level);
        Self {
            k,
            n,
            estimate: k as f64 / n as f64,
            lower: ci.lower,
            upper: ci.upper,
            method: "wilson",
            level,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // R: binom::binom.confint(x, n, methods = "wilson")
        //   x = 5, n = 20  → 0.1118617 0.4687010
        //   x = 0, n = 10  → 0.0000000 0.2775328
        //   x = 10, n = 10 → 0.7224672 1.0000000
        let ci = wilson(5, 20, 0.95);
        assert!(
            (ci.lower - 0.1118617).abs() < 1e-6 && (ci.upper - 0.4687010).abs() < 1e-6,
            "{ci:?}"
        );
        let ci = wilson(0, 10, 0.95);
        assert_eq!(ci.lower, 0.0);
        assert!((ci.upper - 0.2775328).abs() < 1e-6, "{ci:?}");
        let ci = wilson(10, 10, 0.95);
        assert!(
            (ci.lower - 0.7224672).abs() < 1e-6 && ci.upper == 1.0,
            "{ci:?}"
        );
    }

    #[test]
    fn z_values() {
        assert!((two_sided_z(0.95) - 1.959963985).abs() < 1e-8);
        assert!((two_sided_z(0.999) - 3.290526731).abs() < 1e-8);
    }
}
