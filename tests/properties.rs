//! Property-based tests of intervals and decisions over random (k, n, α, method, side):
//! every interval lies in [0, 1] and contains p̂; every verdict agrees with the p-value
//! written beside it, and with the one-sided bound it rests on.

use proptest::prelude::*;
use sgd_escape::stats::decision::{Verdict, decide, decide_sequential};
use sgd_escape::stats::sequential::BetaBinomialCs;
use sgd_escape::stats::{Method, Side, interval};

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(Method::ALL.to_vec())
}

fn side() -> impl Strategy<Value = Side> {
    prop::sample::select(vec![Side::Two, Side::Lower, Side::Upper])
}

/// (k, n) with n from 1 to 10⁷, k anywhere in [0, n] (the edges often).
fn counts() -> impl Strategy<Value = (u64, u64)> {
    (
        prop_oneof![1u64..20, 1u64..2000, 1u64..10_000_000],
        prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
    )
        .prop_map(|(n, f)| (((n as f64) * f).round() as u64, n))
}

/// α from 10⁻¹² to 0.9, log-uniform.
fn alpha() -> impl Strategy<Value = f64> {
    (-12.0..(0.9f64).log10()).prop_map(|e| 10f64.powf(e))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn intervals_lie_in_the_unit_interval_and_contain_the_estimate(
        (k, n) in counts(), a in alpha(), m in method(), s in side()
    ) {
        let ci = interval(m, k, n, a, s);
        let p = k as f64 / n as f64;
        prop_assert!(ci.lower.is_finite() && ci.upper.is_finite());
        prop_assert!(0.0 <= ci.lower && ci.lower <= ci.upper && ci.upper <= 1.0, "{ci:?}");
        prop_assert!(ci.lower <= p + 1e-12 && p <= ci.upper + 1e-12, "{m} {k}/{n} α={a} {s:?}: {ci:?}");
    }

    #[test]
    fn fixed_n_verdicts_agree_with_their_p_value_and_bound(
        (k, n) in counts(), a in alpha(), p0 in prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64]
    ) {
        let d = decide(k, n, p0, a);
        prop_assert_eq!(d.verdict != Verdict::Inconclusive, d.p_value <= a, "{:?}", d);
        match d.verdict {
            Verdict::Holds => prop_assert!(d.toward_holds),
            Verdict::Violated => prop_assert!(!d.toward_holds),
            Verdict::Inconclusive => {}
        }
        // The bound the verdict rests on says the same (up to the inversion's precision).
        let tol = 1e-9;
        match (d.verdict, d.toward_holds) {
            (Verdict::Holds, _) => prop_assert!(d.bound >= p0 - tol, "{:?}", d),
            (Verdict::Violated, _) => prop_assert!(d.bound <= p0 + tol, "{:?}", d),
            (Verdict::Inconclusive, true) => prop_assert!(d.bound <= p0 + tol, "{:?}", d),
            (Verdict::Inconclusive, false) => prop_assert!(d.bound >= p0 - tol, "{:?}", d),
        }
        prop_assert!(d.p_value >= 0.0 && d.p_value <= 1.0);
    }

    #[test]
    fn sequential_verdicts_agree_with_their_p_value(
        (k, n) in counts(), a in alpha(), p0 in 0.0..=1.0f64
    ) {
        let d = decide_sequential(&BetaBinomialCs::default(), k, n, p0, a);
        prop_assert_eq!(d.verdict != Verdict::Inconclusive, d.p_value <= a, "{:?}", d);
        if d.verdict == Verdict::Holds {
            prop_assert!(d.toward_holds && d.bound >= p0 - 1e-9, "{:?}", d);
        }
        if d.verdict == Verdict::Violated {
            prop_assert!(!d.toward_holds && d.bound <= p0 + 1e-9, "{:?}", d);
        }
    }
}
