//! Kaplan–Meier, Greenwood and log-log intervals against the textbook example: the 6-MP arm
//! of the Freireich et al. (1963) leukaemia trial (Gehan 1965; Kleinbaum & Klein, Survival
//! Analysis, Table 2.x; Collett §2.1). Values: lifelines 0.30 `KaplanMeierFitter` (whose
//! default interval is the log(−log) "exponential Greenwood" one), which agree with R's
//! `survfit(conf.type = "log-log")` and the printed tables.

use sgd_escape::stats::survival::KaplanMeier;

const TIMES: [u64; 21] = [
    6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35,
];
const EVENT: [bool; 21] = [
    true, true, true, false, true, false, true, false, false, true, true, false, false, false,
    true, true, false, false, false, false, false,
];

/// (time, Ŝ, Greenwood SE, lower, upper)
const EXPECTED: [(u64, f64, f64, f64, f64); 7] = [
    (6, 0.857143, 0.076360, 0.619718, 0.951552),
    (7, 0.806723, 0.086935, 0.563147, 0.922809),
    (10, 0.752941, 0.096350, 0.503200, 0.889362),
    (13, 0.690196, 0.106815, 0.431610, 0.849066),
    (16, 0.627451, 0.114054, 0.367511, 0.804912),
    (22, 0.537815, 0.128234, 0.267779, 0.746791),
    (23, 0.448179, 0.134591, 0.188052, 0.680143),
];

fn fit() -> KaplanMeier {
    let obs: Vec<(u64, bool)> = TIMES.iter().copied().zip(EVENT).collect();
    KaplanMeier::fit(&obs, 0.95)
}

#[test]
fn kaplan_meier_greenwood_and_log_log_bounds() {
    let km = fit();
    assert_eq!(km.rows.len(), EXPECTED.len());
    for (row, &(t, s, se, lo, hi)) in km.rows.iter().zip(&EXPECTED) {
        assert_eq!(row.time, t);
        assert!((row.survival - s).abs() < 5e-7, "S({t}) = {}", row.survival);
        assert!((row.se - se).abs() < 5e-6, "SE({t}) = {}", row.se);
        assert!(
            (row.lower - lo).abs() < 5e-6 && (row.upper - hi).abs() < 5e-6,
            "CI({t}) = [{}, {}]",
            row.lower,
            row.upper
        );
    }
    assert_eq!((km.rows[0].at_risk, km.rows[0].events), (21, 3));
    assert_eq!((km.rows[6].at_risk, km.rows[6].events), (6, 1));
    assert_eq!(km.survival_at(5), 1.0);
    assert_eq!(km.survival_at(12), km.rows[2].survival);
}

#[test]
fn median_and_its_interval() {
    // lifelines: median 23, interval [13, ∞).
    let m = fit().quantile(0.5);
    assert_eq!(m.estimate, Some(23));
    assert_eq!(m.lower, Some(13));
    assert_eq!(m.upper, None);
    // The first quartile: Ŝ ≤ 0.75 first at t = 13.
    assert_eq!(fit().quantile(0.25).estimate, Some(13));
}

#[test]
fn restricted_mean() {
    // ∫₀^35 Ŝ(t) dt = 23.2874 (lifelines `restricted_mean_survival_time(t = 35)`).
    let (rm, se) = fit().restricted_mean(35);
    assert!((rm - 23.287_394_957_983).abs() < 1e-9, "{rm}");
    assert!(se > 0.0 && se < 5.0, "{se}");
    // Without censoring before the horizon it is the plain mean of min(τ, horizon).
    let obs = [(1, true), (3, true), (4, true), (10, false)];
    let (rm, _) = KaplanMeier::fit(&obs, 0.95).restricted_mean(10);
    assert!((rm - (1.0 + 3.0 + 4.0 + 10.0) / 4.0).abs() < 1e-12);
}

#[test]
fn all_events_and_no_events() {
    let km = KaplanMeier::fit(&[(2, true), (2, true), (5, true)], 0.95);
    assert_eq!(km.rows.last().unwrap().survival, 0.0);
    assert_eq!(km.quantile(0.5).estimate, Some(2));
    let km = KaplanMeier::fit(&[(9, false), (9, false)], 0.95);
    assert!(km.rows.is_empty());
    assert_eq!(km.quantile(0.5).estimate, None);
    assert_eq!(km.restricted_mean(9).0, 9.0);
}
