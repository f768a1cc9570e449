//! An anytime-valid confidence sequence for a Bernoulli mean, for adaptive runs.
//!
//! Robbins' beta-binomial mixture (Robbins 1970; see Howard, Ramdas, McAuliffe & Sekhon
//! 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences"): with a
//! Beta(a, b) mixing prior, the mixture likelihood ratio
//!
//!   M_n(p) = B(a + k, b + n − k) / B(a, b) / (p^k (1 − p)^{n−k})
//!
//! is a nonnegative martingale under p, so by Ville's inequality P(∃n: M_n(p) ≥ 1/α) ≤ α.
//! The set {p : M_n(p) < 1/α} therefore covers p at every n simultaneously, and in
//! particular at any data-dependent stopping time: checking it after every batch is safe,
//! unlike checking a fixed-n interval.

use super::binomial::Interval;
use statrs::function::gamma::ln_gamma;

/// The beta-binomial mixture confidence sequence with prior Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaBinomialCs {
    /// Prior a > 0.
    pub a: f64,
    /// Prior b > 0.
    pub b: f64,
}

impl Default for BetaBinomialCs {
    /// The Jeffreys prior Beta(½, ½): no preferred p, tightest where nothing is known.
    fn default() -> Self {
        Self { a: 0.5, b: 0.5 }
    }
}

/// The method name written next to intervals from the sequence.
pub const CS_METHOD: &str = "beta-binomial-cs";

/// ln p^k (1 − p)^{n−k}, with 0·ln 0 = 0.
fn ln_likelihood(k: u64, n: u64, p: f64) -> f64 {
    let (kf, ff) = (k as f64, (n - k) as f64);
    (if k == 0 { 0.0 } else { kf * p.ln() }) + if k == n { 0.0 } else { ff * (-p).ln_1p() }
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

impl BetaBinomialCs {
    /// ln M_n(p) after k successes in n trials.
    pub fn ln_mixture(&self, k: u64, n: u64, p: f64) -> f64 {
        self.ln_marginal(k, n) - ln_likelihood(k, n, p)
    }

    /// ln of the mixture's marginal likelihood B(a + k, b + n − k) / B(a, b).
    fn ln_marginal(&self, k: u64, n: u64) -> f64 {
        ln_beta(self.a + k as f64, self.b + (n - k) as f64) - ln_beta(self.a, self.b)
    }

    /// The sequence's interval {p : M_n(p) < 1/α} after k successes in n ≥ 0 trials.
    pub fn interval(&self, k: u64, n: u64, alpha: f64) -> Interval {
        if n == 0 {
            return Interval {
                lower: 0.0,
                upper: 1.0,
            };
        }
        let shift = self.ln_marginal(k, n) - (1.0 / alpha).ln();
        let f = |p: f64| shift - ln_likelihood(k, n, p);
        let p_hat = k as f64 / n as f64;
        // ln M_n is convex in p with its minimum (≤ 0 < ln 1/α) at p̂: one crossing per side.
        let lower = if k == 0 {
            0.0
        } else {
            crossing(&f, 0.0, p_hat)
        };
        let upper = if k == n {
            1.0
        } else {
            crossing(&f, p_hat, 1.0)
        };
        Interval { lower, upper }
    }

    /// The anytime-valid p-value for H₀: p = p₀ after k of n: min(1, 1/M_n(p₀)).
    pub fn p_value(&self, k: u64, n: u64, p0: f64) -> f64 {
        if n == 0 {
            return 1.0;
        }
        (-self.ln_mixture(k, n, p0)).exp().min(1.0)
    }
}

/// Bisection for the point in [lo, hi] where f changes sign (f(lo) and f(hi) differ in sign).
fn crossing(f: &impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let f_lo_positive = f(lo) > 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if (f(mid) > 0.0) == f_lo_positive {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // The outer end of the bracket, so the reported set never shrinks by rounding.
    if f_lo_positive { hi } else { lo }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_the_estimate_and_shrinks() {
        let cs = BetaBinomialCs::default();
        let mut last = 1.0;
        for n in [10u64, 100, 1000, 10_000, 100_000] {
            let k = 3 * n / 10;
            let ci = cs.interval(k, n, 0.05);
            assert!(ci.lower < 0.3 && 0.3 < ci.upper, "{ci:?}");
            assert!(ci.upper - ci.lower < last);
            last = ci.upper - ci.lower;
            // The boundary points have M = 1/α.
            assert!((cs.ln_mixture(k, n, ci.lower) - 20f64.ln()).abs() < 1e-6);
            assert!((cs.ln_mixture(k, n, ci.upper) - 20f64.ln()).abs() < 1e-6);
        }
        let ci = cs.interval(0, 50, 0.05);
        assert_eq!(ci.lower, 0.0);
        assert!(ci.upper > 0.0 && ci.upper < 0.2);
        let ci = cs.interval(50, 50, 0.05);
        assert_eq!(ci.upper, 1.0);
    }

    #[test]
    fn wider_than_the_fixed_n_interval() {
        // The price of validity at every n: wider than Clopper–Pearson at the same n.
        let cs = BetaBinomialCs::default().interval(300, 1000, 0.05);
        let cp = super::super::binomial::interval(
            super::super::Method::ClopperPearson,
            300,
            1000,
            0.05,
            super::super::Side::Two,
        );
        assert!(cs.lower < cp.lower && cs.upper > cp.upper);
    }
}
