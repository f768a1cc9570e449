//! Verdicts keep the guarantee they state: each wrong verdict has probability at most α,
//! computed exactly (a sum over k of binomial probabilities), for every display method; the
//! display method never changes a verdict; Jeffreys never excludes p̂ at k = 0 or k = n; the
//! theorem's three guarantees are decided as one family.

use sgd_escape::stats::decision::{Verdict, decide, exact_test};
use sgd_escape::stats::{EventSummary, Method, Side, StatsSpec, interval};
use statrs::function::gamma::ln_gamma;

/// P(Bin(n, p) ∈ ks), summed term by term in log space (independent of the incomplete beta
/// function the decisions use).
fn binomial_mass(n: u64, p: f64, ks: impl Iterator<Item = u64>) -> f64 {
    let (nf, lp, lq) = (n as f64, p.ln(), (-p).ln_1p());
    ks.map(|k| {
        let kf = k as f64;
        (ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0)
            + kf * lp
            + (nf - kf) * lq)
            .exp()
    })
    .sum()
}

/// The smallest k in [lo, hi] where `pred` holds, for a predicate false then true in k.
fn first_true(mut lo: u64, mut hi: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if !pred(hi) {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

#[test]
fn worst_case_error_of_every_verdict_is_at_most_alpha_exactly() {
    let alpha = 0.05;
    let mut worst: f64 = 0.0;
    for p0 in [0.5, 0.9, 0.99] {
        for n in 50..=4000u64 {
            let holds = |k: u64| exact_test(k, n, p0, alpha).0 == Verdict::Holds;
            let violated = |k: u64| exact_test(k, n, p0, alpha).0 == Verdict::Violated;
            // "holds" is wrong when P < p₀; P(holds) grows with P, so its supremum over
            // P < p₀ is the mass of the "holds" set at P = p₀ itself.
            if let Some(k) = first_true(0, n, holds) {
                assert!(k == 0 || !holds(k - 1));
                let err = binomial_mass(n, p0, k..=n);
                worst = worst.max(err / alpha);
                assert!(
                    err <= alpha * (1.0 + 1e-9),
                    "holds: n={n} p0={p0} err={err}"
                );
            }
            // "violated" is wrong when P ≥ p₀: largest at P = p₀. Its set is k ≤ k_v.
            if let Some(k_after) = first_true(0, n, |k| !violated(k))
                && k_after > 0
            {
                {
                    assert!(violated(k_after - 1));
                    let err = binomial_mass(n, p0, 0..k_after);
                    worst = worst.max(err / alpha);
                    assert!(
                        err <= alpha * (1.0 + 1e-9),
                        "violated: n={n} p0={p0} err={err}"
                    );
                }
            }
        }
    }
    // The test is tight, not vacuous: somewhere the error comes close to α.
    eprintln!("worst error of an exact-test verdict: {worst:.4} α");
    assert!(worst > 0.9, "worst error / α = {worst}");
}

#[test]
fn the_display_method_never_changes_a_verdict() {
    for n in [1u64, 2, 10, 50, 100, 1000] {
        for k in (0..=n).step_by((n as usize / 25).max(1)) {
            for p0 in [0.0, 1e-6, 0.3, 0.5, 0.9, 0.9999999, 1.0] {
                for level in [0.5, 0.9, 0.95, 0.999] {
                    let reference = decide(k, n, p0, 1.0 - level);
                    for method in Method::ALL {
                        let stats = StatsSpec {
                            method,
                            level,
                            ..StatsSpec::default()
                        };
                        let e = EventSummary::new(k, n, Some(p0), &stats, false);
                        assert_eq!(
                            e.decision.as_ref(),
                            Some(&reference),
                            "{method} {k}/{n} p0={p0}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn verdicts_agree_with_the_written_p_value_and_bound() {
    // 85 of 100 against 0.9: Wilson's bound said "violated", the exact p-value is 0.073.
    let d = decide(85, 100, 0.9, 0.05);
    assert_eq!(d.verdict, Verdict::Inconclusive);
    assert!(d.p_value > 0.05);
    assert!(!d.toward_holds && d.bound >= 0.9, "{d:?}");
    for (k, n, p0) in [(980u64, 1000u64, 0.9), (700, 1000, 0.9), (0, 1000, 1e-6)] {
        let d = decide(k, n, p0, 0.05);
        match d.verdict {
            Verdict::Holds => assert!(d.p_value <= 0.05 && d.toward_holds && d.bound >= p0),
            Verdict::Violated => assert!(d.p_value <= 0.05 && !d.toward_holds && d.bound < p0),
            Verdict::Inconclusive => assert!(d.p_value > 0.05),
        }
    }
}

#[test]
fn jeffreys_never_excludes_the_estimate_at_the_edges() {
    for n in [1u64, 10, 1000, 10_000_000] {
        for alpha in [0.5, 0.05, 1e-12] {
            let ci = interval(Method::Jeffreys, 0, n, alpha, Side::Two);
            assert_eq!(ci.lower, 0.0);
            let ci = interval(Method::Jeffreys, n, n, alpha, Side::Two);
            assert_eq!(ci.upper, 1.0);
            assert_eq!(
                interval(Method::Jeffreys, 0, n, alpha, Side::Lower).lower,
                0.0
            );
            assert_eq!(
                interval(Method::Jeffreys, n, n, alpha, Side::Upper).upper,
                1.0
            );
        }
    }
    // The edge cases: 1000 of 1000 is not "P ≥ 0.9999999 violated", 0 of 1000 is not
    // "P ≥ 1e-6 holds", with Jeffreys chosen for display.
    let stats = StatsSpec {
        method: Method::Jeffreys,
        ..StatsSpec::default()
    };
    let all = EventSummary::new(1000, 1000, Some(0.9999999), &stats, false);
    assert_ne!(all.decision.unwrap().verdict, Verdict::Violated);
    assert_eq!(all.probability.upper, 1.0);
    let none = EventSummary::new(0, 1000, Some(1e-6), &stats, false);
    assert_ne!(none.decision.unwrap().verdict, Verdict::Holds);
    assert_eq!(none.probability.lower, 0.0);
}

#[test]
fn theorem_guarantees_are_one_family() {
    use sgd_escape::stats::Proportion;
    use sgd_escape::theory::check::{Guarantee, Verdict as T, family_verdict};
    let g = |name: &'static str, k: u64, n: u64, p0: f64| Guarantee {
        name,
        estimate: Proportion::new(Method::Wilson, k, n, 0.95),
        decision: decide(k, n, p0, 0.05),
    };
    // Each of two guarantees alone is "violated" at 5% (p ≈ 0.03 and 0.04), but not after
    // Holm over the three (3 × 0.03 > 0.05): the family is inconclusive.
    let mut v = vec![
        g("reach", 87, 100, 0.93),
        g("stay | reach", 87, 100, 0.93),
        g("reach and stay", 50, 100, 0.5),
    ];
    let raw: Vec<Verdict> = v.iter().map(|g| g.decision.verdict).collect();
    assert!(
        raw.iter().filter(|v| **v == Verdict::Violated).count() >= 1,
        "{raw:?}"
    );
    let p: Vec<f64> = v.iter().map(|g| g.decision.p_value).collect();
    assert!(p[0] < 0.05 && 3.0 * p[0] > 0.05, "{p:?}");
    assert_eq!(family_verdict(&mut v), T::Inconclusive);
    assert!(v[0].decision.adjusted_p.unwrap() > 0.05);
    // A clear violation survives the adjustment.
    let mut v = vec![
        g("reach", 60, 100, 0.9),
        g("stay | reach", 90, 100, 0.5),
        g("reach and stay", 55, 100, 0.45),
    ];
    assert_eq!(family_verdict(&mut v), T::Violated);
    // "holds" needs all three lower bounds, unadjusted.
    let mut v = vec![
        g("reach", 990, 1000, 0.9),
        g("stay | reach", 600, 990, 0.5),
        g("reach and stay", 600, 1000, 0.5),
    ];
    assert!(v.iter().all(|g| g.decision.verdict == Verdict::Holds));
    assert_eq!(family_verdict(&mut v), T::Holds);
    v.pop();
    assert_eq!(family_verdict(&mut v), T::Inconclusive);
}
