//! Binomial intervals against published implementations, and robustness on a grid.
//!
//! Reference values: statsmodels 0.15 `proportion_confint` (methods beta, wilson, jeffreys,
//! agresti_coull) and SciPy 1.17 `binomtest(k, n).proportion_ci` (exact, wilson, wilsoncc;
//! one-sided with `alternative='greater'|'less'`). Where R's `binom.confint` reports the same
//! method (5/20: exact 0.0865715–0.4910459, wilson 0.1118617–0.4687009) it agrees.

use sgd_escape::stats::{Method, Side, interval};

/// (k, n, α, method, lower, upper), two-sided (statsmodels is given α itself; the
/// Wilson-cc rows come from SciPy, given the level).
const TWO_SIDED: &[(u64, u64, f64, Method, f64, f64)] = &[
    (
        5,
        20,
        0.05,
        Method::ClopperPearson,
        0.08657146910143461,
        0.49104587170795755,
    ),
    (
        5,
        20,
        0.05,
        Method::Wilson,
        0.11186170140766563,
        0.4687008776187441,
    ),
    (
        5,
        20,
        0.05,
        Method::Jeffreys,
        0.1023984856830451,
        0.4641946292408681,
    ),
    (
        5,
        20,
        0.05,
        Method::AgrestiCoull,
        0.1080871818217175,
        0.4724753972046921,
    ),
    (
        5,
        20,
        0.05,
        Method::WilsonCc,
        0.09593259186960579,
        0.494115458582845,
    ),
    (
        0,
        10,
        0.05,
        Method::ClopperPearson,
        0.0,
        0.30849710781876083,
    ),
    (0, 10, 0.05, Method::Wilson, 0.0, 0.27753279986288926),
    (
        0,
        10,
        0.05,
        Method::Jeffreys,
        0.0, // Brown, Cai & DasGupta: 0 at k = 0 (statsmodels: 4.7890433157581876e-05)
        0.2171962675092106,
    ),
    (0, 10, 0.05, Method::AgrestiCoull, 0.0, 0.3208873057505458),
    (0, 10, 0.05, Method::WilsonCc, 0.0, 0.3445372183069226),
    (
        10,
        10,
        0.05,
        Method::ClopperPearson,
        0.6915028921812392,
        1.0,
    ),
    (10, 10, 0.05, Method::Wilson, 0.7224672001371106, 1.0),
    (
        10,
        10,
        0.05,
        Method::Jeffreys,
        0.7828037324907894,
        1.0, // 1 at k = n (statsmodels: 0.9999521095668424)
    ),
    (10, 10, 0.05, Method::AgrestiCoull, 0.6791126942494543, 1.0),
    (10, 10, 0.05, Method::WilsonCc, 0.6554627816930775, 1.0),
    (0, 1, 0.05, Method::ClopperPearson, 0.0, 0.975),
    (0, 1, 0.05, Method::Wilson, 0.0, 0.7934506856227627),
    (
        0,
        1,
        0.05,
        Method::Jeffreys,
        0.0, // statsmodels: 0.0003855809807559011
        0.8532536836904249,
    ),
    (0, 1, 0.05, Method::AgrestiCoull, 0.0, 0.832500514520587),
    (0, 1, 0.05, Method::WilsonCc, 0.0, 0.945379244471148),
    (1, 1, 0.05, Method::ClopperPearson, 0.025, 1.0),
    (1, 1, 0.05, Method::Wilson, 0.2065493143772374, 1.0),
    (
        1,
        1,
        0.05,
        Method::Jeffreys,
        0.14674631630957513,
        1.0, // statsmodels: 0.9996144190192441
    ),
    (1, 1, 0.05, Method::AgrestiCoull, 0.167499485479413, 1.0),
    (1, 1, 0.05, Method::WilsonCc, 0.05462075552885204, 1.0),
    (
        81,
        263,
        0.05,
        Method::ClopperPearson,
        0.25273674558527126,
        0.3676219226013514,
    ),
    (
        81,
        263,
        0.05,
        Method::Wilson,
        0.2552885198782742,
        0.36620957698280004,
    ),
    (
        81,
        263,
        0.05,
        Method::Jeffreys,
        0.2545219349910236,
        0.36564749917408246,
    ),
    (
        81,
        263,
        0.05,
        Method::AgrestiCoull,
        0.25522066518999675,
        0.3662774316710775,
    ),
    (
        81,
        263,
        0.05,
        Method::WilsonCc,
        0.25350868229518514,
        0.3681762010430035,
    ),
    (
        1,
        10_000_000,
        0.05,
        Method::ClopperPearson,
        2.5317807952240303e-09,
        5.571642116990815e-07,
    ),
    (
        1,
        10_000_000,
        0.05,
        Method::Wilson,
        1.7652455711617434e-08,
        5.664932019606464e-07,
    ),
    (
        1,
        10_000_000,
        0.05,
        Method::Jeffreys,
        1.0789764342729502e-08,
        4.67420082669512e-07,
    ),
    (
        1,
        10_000_000,
        0.05,
        Method::AgrestiCoull,
        0.0,
        6.270332721589492e-07,
    ),
    (
        1,
        10_000_000,
        0.05,
        Method::WilsonCc,
        5.220014578804176e-09,
        6.495038030739615e-07,
    ),
    (
        5_000_000,
        10_000_000,
        0.05,
        Method::ClopperPearson,
        0.4996900525213711,
        0.5003099474786289,
    ),
    (
        5_000_000,
        10_000_000,
        0.05,
        Method::Wilson,
        0.49969010254337065,
        0.5003098974566293,
    ),
    (
        5_000_000,
        10_000_000,
        0.05,
        Method::Jeffreys,
        0.4996901025213566,
        0.5003098974786434,
    ),
    (
        5_000_000,
        10_000_000,
        0.05,
        Method::AgrestiCoull,
        0.49969010254337065,
        0.5003098974566293,
    ),
    (
        5_000_000,
        10_000_000,
        0.05,
        Method::WilsonCc,
        0.49969005254338983,
        0.5003099474566102,
    ),
    (
        0,
        10_000_000,
        1e-12,
        Method::ClopperPearson,
        0.0,
        2.832412818360088e-06,
    ),
    (
        0,
        10_000_000,
        1e-12,
        Method::Wilson,
        0.0,
        5.084386940059821e-06,
    ),
    (
        0,
        10_000_000,
        1e-12,
        Method::Jeffreys,
        0.0, // statsmodels: 1.9634953594062363e-32
        2.610243908267323e-06,
    ),
    (
        0,
        10_000_000,
        1e-12,
        Method::AgrestiCoull,
        0.0,
        6.137393383666945e-06,
    ),
    (
        0,
        10_000_000,
        SCIPY_TWO_SIDED_1E12,
        Method::WilsonCc,
        0.0,
        5.183886722142962e-06,
    ),
    (
        7,
        50,
        1e-12,
        Method::ClopperPearson,
        0.001267311833745978,
        0.637982148988104,
    ),
    (
        7,
        50,
        1e-12,
        Method::Wilson,
        0.015486127838687747,
        0.6275272954963851,
    ),
    (
        7,
        50,
        1e-12,
        Method::Jeffreys,
        0.0017674115382121905,
        0.6270158166914703,
    ),
    (7, 50, 1e-12, Method::AgrestiCoull, 0.0, 0.6531436474657001),
    (
        7,
        50,
        SCIPY_TWO_SIDED_1E12,
        Method::WilsonCc,
        0.013524304163292367,
        0.6353711105322589,
    ),
    (
        50,
        50,
        1e-12,
        Method::ClopperPearson,
        0.5675176856735134,
        1.0,
    ),
    (50, 50, 1e-12, Method::Wilson, 0.49581468981239896, 1.0),
    (50, 50, 1e-12, Method::Jeffreys, 0.5949164774488227, 1.0),
    (50, 50, 1e-12, Method::AgrestiCoull, 0.4395891963843139, 1.0),
    (
        50,
        50,
        SCIPY_TWO_SIDED_1E12,
        Method::WilsonCc,
        0.48599569810139354,
        1.0,
    ),
    (
        3,
        1000,
        0.01,
        Method::ClopperPearson,
        0.0003381445290664933,
        0.010933777420405242,
    ),
    (
        3,
        1000,
        0.01,
        Method::Wilson,
        0.0007581012310614674,
        0.011793516682924922,
    ),
    (
        3,
        1000,
        0.01,
        Method::Jeffreys,
        0.0004951245438696549,
        0.010100221588172384,
    ),
    (
        3,
        1000,
        0.01,
        Method::AgrestiCoull,
        0.0,
        0.012687149969585376,
    ),
    (
        3,
        1000,
        0.01,
        Method::WilsonCc,
        0.0005647738960661234,
        0.012577483587937087,
    ),
];

/// (k, n, α, method, one-sided lower bound, one-sided upper bound): SciPy, which is given
/// the level and takes α = 1 − level, hence `SCIPY_1E12`.
/// What α = 1 − (1 − 10^-12) is in floating point.
const SCIPY_1E12: f64 = 1.0 - (1.0 - 1e-12);
/// SciPy's two-sided Wilson takes z = Φ⁻¹(½ + ½·level): this is the α that z belongs to.
const SCIPY_TWO_SIDED_1E12: f64 = 2.0 * (1.0 - (0.5 + 0.5 * (1.0 - 1e-12)));

const ONE_SIDED: &[(u64, u64, f64, Method, f64, f64)] = &[
    (
        5,
        20,
        0.05,
        Method::ClopperPearson,
        0.1040808359101361,
        0.45558240400175,
    ),
    (
        5,
        20,
        0.05,
        Method::Wilson,
        0.12737716852035774,
        0.4322017501601245,
    ),
    (
        5,
        20,
        0.05,
        Method::WilsonCc,
        0.10994446853181247,
        0.4582582601236026,
    ),
    (0, 10, 0.05, Method::ClopperPearson, 0.0, 0.2588655508933471),
    (0, 10, 0.05, Method::Wilson, 0.0, 0.21294197008340698),
    (0, 10, 0.05, Method::WilsonCc, 0.0, 0.28473738771765555),
    (
        10,
        10,
        0.05,
        Method::ClopperPearson,
        0.7411344491066529,
        1.0,
    ),
    (10, 10, 0.05, Method::Wilson, 0.787058029916593, 1.0),
    (10, 10, 0.05, Method::WilsonCc, 0.7152626122823444, 1.0),
    (
        3,
        1000,
        0.01,
        Method::ClopperPearson,
        0.00043638656407612146,
        0.010009791991621922,
    ),
    (
        3,
        1000,
        0.01,
        Method::Wilson,
        0.0008527113312922557,
        0.010497755571142929,
    ),
    (
        3,
        1000,
        0.01,
        Method::WilsonCc,
        0.0006398032118976318,
        0.011263339104530552,
    ),
    (
        7,
        50,
        SCIPY_1E12,
        Method::ClopperPearson,
        0.001400221615739041,
        0.6315116924769036,
    ),
    (
        7,
        50,
        SCIPY_1E12,
        Method::Wilson,
        0.015829631574659664,
        0.6223031556365026,
    ),
    (
        7,
        50,
        SCIPY_1E12,
        Method::WilsonCc,
        0.013827897161412694,
        0.6302417777058881,
    ),
];

/// Relative agreement; the references themselves differ by ~1e-8 at n = 10^7 (statsmodels
/// vs SciPy exact), and by ~1e-7 in the 1e-12 tails.
fn agrees(got: f64, want: f64, n: u64, alpha: f64) -> bool {
    let rel = if n >= 1_000_000 || alpha < 1e-4 {
        1e-7
    } else {
        1e-9
    };
    (got - want).abs() <= rel * want.abs() + 1e-300
}

#[test]
fn two_sided_intervals_match_published_values() {
    for &(k, n, alpha, m, lo, hi) in TWO_SIDED {
        let ci = interval(m, k, n, alpha, Side::Two);
        assert!(
            agrees(ci.lower, lo, n, alpha) && agrees(ci.upper, hi, n, alpha),
            "{m} k={k} n={n} α={alpha}: got [{:e}, {:e}], want [{lo:e}, {hi:e}]",
            ci.lower,
            ci.upper
        );
    }
}

#[test]
fn one_sided_bounds_match_published_values() {
    for &(k, n, alpha, m, lo, hi) in ONE_SIDED {
        let l = interval(m, k, n, alpha, Side::Lower);
        let u = interval(m, k, n, alpha, Side::Upper);
        assert_eq!((l.upper, u.lower), (1.0, 0.0));
        assert!(
            agrees(l.lower, lo, n, alpha) && agrees(u.upper, hi, n, alpha),
            "{m} k={k} n={n} α={alpha}: got {:e}, {:e}; want {lo:e}, {hi:e}",
            l.lower,
            u.upper
        );
    }
}

#[test]
fn hoeffding_matches_its_closed_form() {
    // p̂ ± √(ln(2/α)/(2n)), clipped: 5/20 at 95% → 0.25 ± 0.30368…
    let half = ((2.0f64 / 0.05).ln() / 40.0).sqrt();
    let ci = interval(Method::Hoeffding, 5, 20, 0.05, Side::Two);
    assert_eq!(ci.lower, 0.0);
    assert!((ci.upper - (0.25 + half)).abs() < 1e-15);
    let ci = interval(Method::Hoeffding, 500, 1000, 0.05, Side::Lower);
    assert!((ci.lower - (0.5 - ((1.0f64 / 0.05).ln() / 2000.0).sqrt())).abs() < 1e-15);
}

#[test]
fn grid_never_panics_or_hangs_and_bounds_are_monotone_in_k() {
    let ns = [1u64, 2, 3, 7, 20, 101, 1000];
    let alphas = [0.5, 0.1, 0.05, 0.01, 1e-6, 1e-12];
    let start = std::time::Instant::now();
    for &n in &ns {
        for &alpha in &alphas {
            for m in Method::ALL {
                for side in [Side::Two, Side::Lower, Side::Upper] {
                    let mut prev = interval(m, 0, n, alpha, side);
                    for k in 0..=n {
                        let ci = interval(m, k, n, alpha, side);
                        let p = k as f64 / n as f64;
                        assert!(
                            ci.lower.is_finite() && ci.upper.is_finite(),
                            "{m} {k}/{n} α={alpha}"
                        );
                        assert!(
                            0.0 <= ci.lower && ci.lower <= ci.upper && ci.upper <= 1.0,
                            "{m} {k}/{n} α={alpha}: {ci:?}"
                        );
                        // (A one-sided bound at α = 0.5 is p̂ itself, up to rounding.)
                        assert!(
                            ci.lower <= p + 1e-12 && p <= ci.upper + 1e-12,
                            "{m} {k}/{n} α={alpha}: {ci:?} misses p̂"
                        );
                        assert!(
                            ci.lower >= prev.lower && ci.upper >= prev.upper,
                            "{m} {side:?} not monotone at {k}/{n} α={alpha}"
                        );
                        prev = ci;
                    }
                }
            }
        }
    }
    // Large n near the edges, where the beta inversion is hardest.
    for k in [0u64, 1, 2, 9_999_998, 9_999_999, 10_000_000] {
        for m in Method::ALL {
            let ci = interval(m, k, 10_000_000, 1e-12, Side::Two);
            assert!(0.0 <= ci.lower && ci.lower <= ci.upper && ci.upper <= 1.0);
        }
    }
    assert!(
        start.elapsed().as_secs() < 60,
        "the grid took {:?}",
        start.elapsed()
    );
}

#[test]
fn nesting_higher_levels_give_wider_intervals() {
    for m in Method::ALL {
        for k in [0u64, 3, 10, 17, 20] {
            let a = interval(m, k, 20, 0.1, Side::Two);
            let b = interval(m, k, 20, 0.01, Side::Two);
            assert!(b.lower <= a.lower && b.upper >= a.upper, "{m} k={k}");
        }
    }
}
