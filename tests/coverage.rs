//! Coverage on cases whose probability is known exactly (fixed seeds, so the numbers are the
//! same on every run): nominal 95% Clopper–Pearson covers at least 95%, Wilson and Jeffreys
//! within 93.5–96.5%; the adaptive rule keeps its coverage at its stopping time, while the
//! naive "stop when the Wilson half-width < ε" rule loses it on the same cases.

use sgd_escape::calibrate::{Rule, Stopping, adaptive_cases, bernoulli, quadratic_gaussian};
use sgd_escape::stats::Method;

const REPLICATES: u64 = 2000;
const FIXED: Stopping = Stopping {
    epsilon: 0.0,
    batch: 0,
    max: 0,
};

#[test]
fn fixed_n_intervals_cover_as_advertised() {
    for (n, p) in [(30, 0.5), (50, 0.3), (500, 0.05), (1000, 0.5)] {
        let cp = bernoulli(
            Rule::Fixed(Method::ClopperPearson),
            p,
            n,
            &FIXED,
            0.95,
            REPLICATES,
            1,
        );
        assert!(
            cp.coverage >= 0.95,
            "Clopper–Pearson n={n} p={p}: {}",
            cp.coverage
        );
        assert!(
            cp.exact.unwrap() >= 0.95,
            "Clopper–Pearson n={n} p={p}: exact {:?}",
            cp.exact
        );
        for m in [Method::Wilson, Method::Jeffreys] {
            let r = bernoulli(Rule::Fixed(m), p, n, &FIXED, 0.95, REPLICATES, 1);
            assert!(
                (0.935..=0.965).contains(&r.coverage),
                "{m} n={n} p={p}: {}",
                r.coverage
            );
            assert!(
                (0.935..=0.965).contains(&r.exact.unwrap()),
                "{m} n={n} p={p}: exact {:?}",
                r.exact
            );
        }
        // The simulated coverage agrees with the exact one within 4 standard errors.
        let e = cp.exact.unwrap();
        assert!(
            (cp.coverage - e).abs() < 4.0 * (e * (1.0 - e) / REPLICATES as f64).sqrt(),
            "{} vs {e}",
            cp.coverage
        );
    }
}

#[test]
fn adaptive_rule_keeps_coverage_where_peeking_loses_it() {
    for (p, s) in adaptive_cases() {
        let adaptive = bernoulli(Rule::Sequence, p, 0, &s, 0.95, REPLICATES, 1);
        let naive = bernoulli(Rule::NaiveWilson, p, 0, &s, 0.95, REPLICATES, 1);
        assert!(
            adaptive.coverage >= 0.95,
            "adaptive p={p} {s:?}: {}",
            adaptive.coverage
        );
        // Significantly below nominal: even the upper end of its own 95% interval is.
        assert!(
            naive.coverage_upper < 0.95,
            "naive p={p} {s:?}: {} [{}, {}]",
            naive.coverage,
            naive.coverage_lower,
            naive.coverage_upper
        );
    }
}

#[test]
fn quadratic_gaussian_case() {
    let w = quadratic_gaussian(Rule::Fixed(Method::Wilson), 400, &FIXED, 0.95, 1000, 1);
    assert!(
        w.p > 0.3 && w.p < 0.7,
        "the case should be informative, p = {}",
        w.p
    );
    assert!(
        (0.935..=0.965).contains(&w.coverage),
        "Wilson: {}",
        w.coverage
    );
    let s = Stopping {
        epsilon: 0.05,
        batch: 20,
        max: 5000,
    };
    let a = quadratic_gaussian(Rule::Sequence, 0, &s, 0.95, 300, 1);
    assert!(a.coverage >= 0.95, "adaptive: {}", a.coverage);
}

#[test]
fn the_calibration_seed_reaches_every_row() {
    // The quadratic–Gaussian rows used to ignore --seed.
    let s = Stopping {
        epsilon: 0.05,
        batch: 20,
        max: 5000,
    };
    // Adaptive: the mean stopping time depends on every replicate's draws.
    let run = |seed| quadratic_gaussian(Rule::Sequence, 0, &s, 0.95, 20, seed);
    let (a, b, a2) = (run(1), run(2), run(1));
    assert_eq!(a.coverage, a2.coverage);
    assert!(
        a.coverage != b.coverage || a.mean_n != b.mean_n,
        "seeds 1 and 2 gave the same replicates"
    );
}
