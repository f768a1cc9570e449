//! Threshold decisions: does P ≥ p₀ hold, with error at most α?

use super::binomial::{Method, Side, interval};
use super::sequential::BetaBinomialCs;
use super::special::{binomial_cdf, binomial_sf_at_least};
use serde::Serialize;

/// The answer to "is P ≥ p₀?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The lower confidence bound is at least p₀.
    Holds,
    /// The upper confidence bound is below p₀.
    Violated,
    /// Neither.
    Inconclusive,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// A decision with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// p₀.
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// One-sided lower confidence bound used for "holds".
    pub lower: f64,
    /// One-sided upper confidence bound used for "violated".
    pub upper: f64,
    /// Error probability α of each direction.
    pub alpha: f64,
    /// For an inconclusive verdict: the number of trajectories at which, if the estimate
    /// stayed where it is, the bound would clear p₀ (`None` when the estimate equals p₀).
    pub settle_at: Option<u64>,
    /// One-sided p-value in the direction of the estimate: against "P < p₀" when p̂ ≥ p₀,
    /// against "P ≥ p₀" otherwise (exact binomial for fixed n; 1/M_n(p₀) for a sequence).
    pub p_value: f64,
    /// The Holm-adjusted p-value, when the decision was adjusted across configurations.
    pub adjusted_p: Option<f64>,
}

impl Decision {
    /// Re-decides from a Holm-adjusted p-value: holds or violated (by the direction of the
    /// estimate) when the adjusted p-value is at most α.
    pub fn adjust(&mut self, adjusted: f64, estimate: f64) {
        self.adjusted_p = Some(adjusted);
        self.verdict = if adjusted > self.alpha {
            Verdict::Inconclusive
        } else if estimate >= self.threshold {
            Verdict::Holds
        } else {
            Verdict::Violated
        };
        if self.verdict != Verdict::Inconclusive {
            self.settle_at = None;
        }
    }
}

/// Decides P ≥ p₀ from k of n with one-sided `method` bounds, each with error α: if P ≥ p₀
/// the verdict is "violated" with probability at most α, and if P < p₀ it is "holds" with
/// probability at most α.
pub fn decide(method: Method, k: u64, n: u64, p0: f64, alpha: f64) -> Decision {
    let lower = interval(method, k, n, alpha, Side::Lower).lower;
    let upper = interval(method, k, n, alpha, Side::Upper).upper;
    let bounds = |k: u64, n: u64| {
        (
            interval(method, k, n, alpha, Side::Lower).lower,
            interval(method, k, n, alpha, Side::Upper).upper,
        )
    };
    let p_value = if k as f64 >= p0 * n as f64 {
        binomial_sf_at_least(k, n, p0)
    } else {
        binomial_cdf(k, n, p0)
    };
    finish(p0, alpha, k, n, lower, upper, p_value, bounds)
}

/// The same decision from the anytime-valid confidence sequence: valid at a data-dependent
/// stopping time (an adaptive run stops as soon as the verdict is no longer inconclusive).
pub fn decide_sequential(cs: &BetaBinomialCs, k: u64, n: u64, p0: f64, alpha: f64) -> Decision {
    let ci = cs.interval(k, n, alpha);
    let bounds = |k: u64, n: u64| {
        let ci = cs.interval(k, n, alpha);
        (ci.lower, ci.upper)
    };
    finish(
        p0,
        alpha,
        k,
        n,
        ci.lower,
        ci.upper,
        cs.p_value(k, n, p0),
        bounds,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    p0: f64,
    alpha: f64,
    k: u64,
    n: u64,
    lower: f64,
    upper: f64,
    p_value: f64,
    bounds: impl Fn(u64, u64) -> (f64, f64),
) -> Decision {
    let verdict = if lower >= p0 {
        Verdict::Holds
    } else if upper < p0 {
        Verdict::Violated
    } else {
        Verdict::Inconclusive
    };
    let settle_at = (verdict == Verdict::Inconclusive)
        .then(|| settle(k, n, p0, &bounds))
        .flatten();
    Decision {
        threshold: p0,
        verdict,
        lower,
        upper,
        alpha,
        settle_at,
        p_value,
        adjusted_p: None,
    }
}

/// Smallest n' ≥ n at which k' = round(p̂ n') would decide, found by doubling then bisection.
fn settle(k: u64, n: u64, p0: f64, bounds: &impl Fn(u64, u64) -> (f64, f64)) -> Option<u64> {
    let p_hat = k as f64 / n as f64;
    if p_hat == p0 {
        return None;
    }
    let decided = |m: u64| {
        let (lo, hi) = bounds(((p_hat * m as f64).round() as u64).min(m), m);
        lo >= p0 || hi < p0
    };
    let mut hi = n.max(1);
    while !decided(hi) {
        if hi > 1u64 << 45 {
            return None;
        }
        hi *= 2;
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if decided(mid) { hi = mid } else { lo = mid }
    }
    Some(hi.max(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let d = decide(Method::ClopperPearson, 980, 1000, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Holds);
        let d = decide(Method::ClopperPearson, 700, 1000, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Violated);
        let d = decide(Method::ClopperPearson, 91, 100, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Inconclusive);
        // 91% against 90% needs roughly z²·p(1−p)/0.01² ≈ 2200 trajectories.
        let n = d.settle_at.unwrap();
        assert!((1500..4000).contains(&n), "{n}");
        assert_eq!(decide(Method::Wilson, 90, 100, 0.9, 0.05).settle_at, None);
        let s = decide_sequential(&BetaBinomialCs::default(), 91, 100, 0.9, 0.05);
        assert_eq!(s.verdict, Verdict::Inconclusive);
        assert!(
            s.settle_at.unwrap() > n,
            "the sequence needs more than the fixed-n test"
        );
    }
}
