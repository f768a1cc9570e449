//! Confidence intervals for a binomial proportion, two-sided or one-sided, at any level.

use super::special::{beta_quantile, beta_quantile_upper};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// An interval method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Clopper–Pearson (1934): exact, never below its nominal coverage.
    ClopperPearson,
    /// Wilson's score interval (1927).
    Wilson,
    /// Wilson's interval with continuity correction (Newcombe 1998, method 4).
    WilsonCc,
    /// Jeffreys: equal-tailed quantiles of the Beta(k + ½, n − k + ½) posterior, with Brown,
    /// Cai & DasGupta's (2001) boundary modification: lower bound 0 at k = 0, upper bound 1
    /// at k = n, so the interval never excludes p̂ (or a true P of 0 or 1).
    Jeffreys,
    /// Agresti–Coull (1998): Wald around (k + z²/2)/(n + z²), clipped to [0, 1].
    AgrestiCoull,
    /// Hoeffding: p̂ ± √(ln(1/α_tail)/(2n)); distribution-free, conservative.
    Hoeffding,
}

impl Method {
    /// Every method, in the order tables list them.
    pub const ALL: [Method; 6] = [
        Method::ClopperPearson,
        Method::Wilson,
        Method::WilsonCc,
        Method::Jeffreys,
        Method::AgrestiCoull,
        Method::Hoeffding,
    ];

    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::ClopperPearson => "clopper-pearson",
            Method::Wilson => "wilson",
            Method::WilsonCc => "wilson-cc",
            Method::Jeffreys => "jeffreys",
            Method::AgrestiCoull => "agresti-coull",
            Method::Hoeffding => "hoeffding",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which bounds an interval has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// [lower, upper], α/2 in each tail.
    Two,
    /// [lower, 1]: a lower confidence bound, all of α in the lower tail.
    Lower,
    /// [0, upper]: an upper confidence bound.
    Upper,
}

/// An interval [lower, upper] ⊂ [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

impl Interval {
    /// Whether p lies in the interval.
    pub fn contains(&self, p: f64) -> bool {
        self.lower <= p && p <= self.upper
    }

    /// Half the width.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.upper - self.lower)
    }
}

/// z with P(Z > z) = `tail` for a standard normal Z.
pub fn normal_upper_quantile(tail: f64) -> f64 {
    let std = Normal::new(0.0, 1.0).expect("standard normal");
    // inverse_cdf(1 − tail) loses everything below 1e-16; use the symmetric lower quantile.
    -std.inverse_cdf(tail)
}

/// The standard normal quantile z_{1 − α/2} of a two-sided level 1 − α.
pub fn two_sided_z(level: f64) -> f64 {
    normal_upper_quantile((1.0 - level) / 2.0)
}

/// A lower bound for k successes in n trials, with probability `tail` of exceeding p.
fn lower_bound(method: Method, k: u64, n: u64, tail: f64) -> f64 {
    let (kf, nf) = (k as f64, n as f64);
    let p = kf / nf;
    match method {
        Method::ClopperPearson => match k {
            0 => 0.0,
            _ if k == n => (tail.ln() / nf).exp(), // the tail^(1/n) closed form
            _ => beta_quantile(tail, kf, nf - kf + 1.0),
        },
        Method::Jeffreys => match k {
            0 => 0.0,
            _ => beta_quantile(tail, kf + 0.5, nf - kf + 0.5),
        },
        Method::Wilson => {
            if k == 0 {
                return 0.0;
            }
            let z = normal_upper_quantile(tail);
            let z2n = z * z / nf;
            let centre = (p + z2n / 2.0) / (1.0 + z2n);
            let half = z / (1.0 + z2n) * (p * (1.0 - p) / nf + z2n / (4.0 * nf)).sqrt();
            (centre - half).max(0.0)
        }
        Method::WilsonCc => {
            if k == 0 {
                return 0.0;
            }
            let z = normal_upper_quantile(tail);
            let root = (z * z - 2.0 - 1.0 / nf + 4.0 * p * (nf * (1.0 - p) + 1.0))
                .max(0.0)
                .sqrt();
            ((2.0 * nf * p + z * z - 1.0 - z * root) / (2.0 * (nf + z * z))).max(0.0)
        }
        Method::AgrestiCoull => {
            let z = normal_upper_quantile(tail);
            let nt = nf + z * z;
            let pt = (kf + z * z / 2.0) / nt;
            (pt - z * (pt * (1.0 - pt) / nt).sqrt()).clamp(0.0, 1.0)
        }
        Method::Hoeffding => (p - ((1.0 / tail).ln() / (2.0 * nf)).sqrt()).max(0.0),
    }
}

/// An upper bound: the lower bound of the failures, mirrored.
fn upper_bound(method: Method, k: u64, n: u64, tail: f64) -> f64 {
    match method {
        // Computed directly so that the result stays accurate near 1.
        Method::ClopperPearson => match k {
            _ if k == n => 1.0,
            0 => -((tail.ln() / n as f64).exp_m1()),
            _ => beta_quantile_upper(tail, k as f64 + 1.0, (n - k) as f64),
        },
        Method::Jeffreys => match k {
            _ if k == n => 1.0,
            _ => beta_quantile_upper(tail, k as f64 + 0.5, (n - k) as f64 + 0.5),
        },
        _ => 1.0 - lower_bound(method, n - k, n, tail),
    }
}

/// The `method` interval for k successes in n trials with error probability `alpha`
/// (confidence level 1 − α; α is the argument because 1 − 10^-12 is not exact in floating
/// point, while 10^-12 is).
///
/// Two-sided intervals put α/2 in each tail and match R's `binom.confint`, statsmodels'
/// `proportion_confint` and SciPy's `binomtest(...).proportion_ci`; one-sided ones put all
/// of α in one tail.
///
/// Every interval contains p̂ = k/n: at levels below 50% a one-sided bound (and the
/// Jeffreys quantiles) can pass the estimate; it is then moved to p̂, which only widens the
/// interval, so its coverage is kept.
///
/// # Panics
/// If n = 0, k > n or α is not in (0, 1): callers validate their inputs.
pub fn interval(method: Method, k: u64, n: u64, alpha: f64, side: Side) -> Interval {
    let ci = unclamped(method, k, n, alpha, side);
    let p = k as f64 / n as f64;
    Interval {
        lower: ci.lower.min(p),
        upper: ci.upper.max(p),
    }
}

/// The one-sided Clopper–Pearson bound of the exact binomial test at level 1 − α, as the test
/// defines it (not moved to p̂ at levels below 50%): `Side::Lower` gives the lower bound,
/// `Side::Upper` the upper. P ≥ p₀ is rejected at α exactly when the upper bound is below p₀.
pub fn exact_bound(k: u64, n: u64, alpha: f64, side: Side) -> f64 {
    let ci = unclamped(Method::ClopperPearson, k, n, alpha, side);
    match side {
        Side::Upper => ci.upper,
        _ => ci.lower,
    }
}

fn unclamped(method: Method, k: u64, n: u64, alpha: f64, side: Side) -> Interval {
    assert!(
        n > 0 && k <= n,
        "a binomial interval needs 0 ≤ k ≤ n, n > 0 (got k = {k}, n = {n})"
    );
    assert!(
        alpha > 0.0 && alpha < 1.0,
        "α must be in (0, 1), got {alpha}"
    );
    match side {
        Side::Two => Interval {
            lower: lower_bound(method, k, n, alpha / 2.0),
            upper: upper_bound(method, k, n, alpha / 2.0),
        },
        Side::Lower => Interval {
            lower: lower_bound(method, k, n, alpha),
            upper: 1.0,
        },
        Side::Upper => Interval {
            lower: 0.0,
            upper: upper_bound(method, k, n, alpha),
        },
    }
}

/// Wilson's two-sided interval at confidence `level`.
pub fn wilson(k: u64, n: u64, level: f64) -> Interval {
    interval(Method::Wilson, k, n, 1.0 - level, Side::Two)
}

/// A proportion with its interval: what every output carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proportion {
    /// Successes.
    pub k: u64,
    /// Trials.
    pub n: u64,
    /// k / n.
    pub estimate: f64,
    /// Lower confidence bound (two-sided).
    pub lower: f64,
    /// Upper confidence bound (two-sided).
    pub upper: f64,
    /// The interval method (a [`Method`] name, or `beta-binomial-cs` for the anytime-valid
    /// confidence sequence of an adaptive run).
    pub method: String,
    /// The confidence level.
    pub level: f64,
    /// At k = 0 the claim the data support is an upper bound, at k = n a lower bound: the
    /// one-sided bound at the full level (not split between two tails). `None` otherwise.
    pub one_sided: Option<f64>,
}

impl Proportion {
    /// k out of n with the `method` interval at confidence `level`.
    pub fn new(method: Method, k: u64, n: u64, level: f64) -> Self {
        let alpha = 1.0 - level;
        let ci = interval(method, k, n, alpha, Side::Two);
        let one_sided = if k == 0 {
            Some(interval(method, k, n, alpha, Side::Upper).upper)
        } else if k == n {
            Some(interval(method, k, n, alpha, Side::Lower).lower)
        } else {
            None
        };
        Self {
            k,
            n,
            estimate: k as f64 / n as f64,
            lower: ci.lower,
            upper: ci.upper,
            method: method.name().to_string(),
            level,
            one_sided,
        }
    }

    /// k out of n with a Wilson interval at `level`.
    pub fn wilson(k: u64, n: u64, level: f64) -> Self {
        Self::new(Method::Wilson, k, n, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_values() {
        assert!((two_sided_z(0.95) - 1.959_963_985).abs() < 1e-8);
        assert!((two_sided_z(0.999) - 3.290_526_731).abs() < 1e-8);
        assert!((normal_upper_quantile(1e-20) - 9.262_340_089_798_408).abs() < 1e-6);
    }

    #[test]
    fn edge_bounds() {
        let p = Proportion::new(Method::ClopperPearson, 0, 10, 0.95);
        // Upper one-sided 95% bound at k = 0: 1 − 0.05^(1/10).
        assert!((p.one_sided.unwrap() - (1.0 - 0.05f64.powf(0.1))).abs() < 1e-15);
        let p = Proportion::new(Method::ClopperPearson, 10, 10, 0.95);
        assert!((p.one_sided.unwrap() - 0.05f64.powf(0.1)).abs() < 1e-15);
        assert_eq!(Proportion::new(Method::Wilson, 3, 10, 0.95).one_sided, None);
    }
}
