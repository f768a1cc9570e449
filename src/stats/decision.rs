//! Threshold decisions: does P ≥ p₀ hold, with error at most α?

use super::binomial::{Side, exact_bound};
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

/// The test behind a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    /// The exact one-sided binomial test (fixed n): its bounds are Clopper–Pearson's.
    ExactBinomial,
    /// The beta-binomial confidence sequence (adaptive n): valid at any stopping time.
    BetaBinomialCs,
}

impl Test {
    /// The name written in files.
    pub fn name(self) -> &'static str {
        match self {
            Test::ExactBinomial => "exact-binomial",
            Test::BetaBinomialCs => super::sequential::CS_METHOD,
        }
    }
}

/// A decision with its evidence.
///
/// The guarantee: if P ≥ p₀, the verdict is "violated" with probability at most α; if
/// P < p₀, it is "holds" with probability at most α. The verdict is read off the written
/// p-value (decided exactly when `p_value ≤ α`, in the direction of the estimate), and
/// `bound` is the one-sided confidence bound at level 1 − α of the same test, so the two
/// never disagree. The interval method chosen for display plays no part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// p₀.
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The test used.
    pub test: Test,
    /// The direction tested: toward "holds" (p̂ on the side of p₀ and above) or toward
    /// "violated".
    pub toward_holds: bool,
    /// The one-sided bound the verdict rests on: the lower bound when p̂ ≥ p₀ ("holds" iff it
    /// is at least p₀), else the upper bound ("violated" iff it is below p₀).
    pub bound: f64,
    /// One-sided lower confidence bound of the test at level 1 − α.
    pub lower: f64,
    /// One-sided upper confidence bound of the test at level 1 − α.
    pub upper: f64,
    /// Error probability α of each direction.
    pub alpha: f64,
    /// For an inconclusive verdict: the number of trajectories at which, if the estimate
    /// stayed where it is, the test would decide (`None` when the estimate equals p₀).
    pub settle_at: Option<u64>,
    /// One-sided p-value in the direction of the estimate: against "P < p₀" (for "holds")
    /// when p̂ ≥ p₀, against "P ≥ p₀" (for "violated") otherwise. Exact binomial tail for
    /// fixed n; min(1, 1/M_n(p₀)) for a sequence.
    pub p_value: f64,
    /// The Holm-adjusted p-value, when the decision was adjusted across configurations.
    pub adjusted_p: Option<f64>,
}

impl Decision {
    /// Re-decides from a Holm-adjusted p-value: holds or violated (by the direction of the
    /// estimate) when the adjusted p-value is at most α.
    pub fn adjust(&mut self, adjusted: f64) {
        self.adjusted_p = Some(adjusted);
        self.verdict = verdict_from(adjusted, self.alpha, self.toward_holds);
        if self.verdict != Verdict::Inconclusive {
            self.settle_at = None;
        }
    }
}

fn verdict_from(p_value: f64, alpha: f64, holds_side: bool) -> Verdict {
    match (p_value <= alpha, holds_side) {
        (false, _) => Verdict::Inconclusive,
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::Violated,
    }
}

/// Decides P ≥ p₀ from k of n (fixed n) with the exact one-sided binomial test at level α:
/// "holds" when P_{p₀}(K ≥ k) ≤ α, "violated" when P_{p₀}(K ≤ k) ≤ α (the direction of the
/// smaller tail). Each wrong verdict has probability at most α, for every n, k and p₀.
pub fn decide(k: u64, n: u64, p0: f64, alpha: f64) -> Decision {
    let bounds = (
        exact_bound(k, n, alpha, Side::Lower),
        exact_bound(k, n, alpha, Side::Upper),
    );
    let (_, p_value, holds_side) = exact_test(k, n, p0, alpha);
    finish(
        Test::ExactBinomial,
        p0,
        alpha,
        k,
        n,
        bounds,
        p_value,
        holds_side,
        |k, n| exact_test(k, n, p0, alpha).0 != Verdict::Inconclusive,
    )
}

/// The exact one-sided binomial test of [`decide`] alone (no bounds, no planning): the
/// verdict, the p-value in the direction of the smaller tail, and whether that direction is
/// "holds".
pub fn exact_test(k: u64, n: u64, p0: f64, alpha: f64) -> (Verdict, f64, bool) {
    let p_holds = binomial_sf_at_least(k, n, p0);
    let p_violated = binomial_cdf(k, n, p0);
    let holds_side = p_holds <= p_violated;
    let p_value = p_holds.min(p_violated);
    (
        verdict_from(p_value, alpha, holds_side),
        p_value,
        holds_side,
    )
}

/// The same decision from the anytime-valid confidence sequence: valid at a data-dependent
/// stopping time (an adaptive run stops as soon as the verdict is no longer inconclusive).
/// The p-value 1/M_n(p₀) is at most α exactly when p₀ lies outside the sequence's set.
pub fn decide_sequential(cs: &BetaBinomialCs, k: u64, n: u64, p0: f64, alpha: f64) -> Decision {
    let ci = cs.interval(k, n, alpha);
    let holds_side = k as f64 >= p0 * n as f64;
    finish(
        Test::BetaBinomialCs,
        p0,
        alpha,
        k,
        n,
        (ci.lower, ci.upper),
        cs.p_value(k, n, p0),
        holds_side,
        |k, n| cs.p_value(k, n, p0) <= alpha,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    test: Test,
    p0: f64,
    alpha: f64,
    k: u64,
    n: u64,
    (lower, upper): (f64, f64),
    p_value: f64,
    holds_side: bool,
    decided: impl Fn(u64, u64) -> bool,
) -> Decision {
    let verdict = verdict_from(p_value, alpha, holds_side);
    let settle_at = (verdict == Verdict::Inconclusive)
        .then(|| settle(k, n, p0, &decided))
        .flatten();
    Decision {
        threshold: p0,
        verdict,
        test,
        toward_holds: holds_side,
        bound: if holds_side { lower } else { upper },
        lower,
        upper,
        alpha,
        settle_at,
        p_value,
        adjusted_p: None,
    }
}

/// Smallest n' ≥ n at which k' = round(p̂ n') would decide, found by doubling then bisection.
fn settle(k: u64, n: u64, p0: f64, decided: &impl Fn(u64, u64) -> bool) -> Option<u64> {
    let p_hat = k as f64 / n as f64;
    if p_hat == p0 {
        return None;
    }
    let decided = |m: u64| decided(((p_hat * m as f64).round() as u64).min(m), m);
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
        let d = decide(980, 1000, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Holds);
        let d = decide(700, 1000, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Violated);
        let d = decide(91, 100, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Inconclusive);
        // 91% against 90% needs roughly z²·p(1−p)/0.01² ≈ 2200 trajectories.
        let n = d.settle_at.unwrap();
        assert!((1500..4000).contains(&n), "{n}");
        assert_eq!(decide(90, 100, 0.9, 0.05).settle_at, None);
        // 85 of 100 against 0.9: p = 0.073 > 0.05, so inconclusive (Wilson said "violated").
        let d = decide(85, 100, 0.9, 0.05);
        assert_eq!(d.verdict, Verdict::Inconclusive);
        assert!((d.p_value - 0.0726).abs() < 1e-3, "{}", d.p_value);
        assert!(d.bound >= 0.9);
        let s = decide_sequential(&BetaBinomialCs::default(), 91, 100, 0.9, 0.05);
        assert_eq!(s.verdict, Verdict::Inconclusive);
        assert!(
            s.settle_at.unwrap() > n,
            "the sequence needs more than the fixed-n test"
        );
    }
}
