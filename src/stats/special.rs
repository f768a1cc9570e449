//! The regularized incomplete beta function and its inverse, accurate in the far tails and
//! for large parameters.
//!
//! statrs 0.19 is not used here: its `beta_reg` stops its continued fraction after 140 terms
//! (too few once a + b is in the millions: n = 10^7 trajectories) and computes the prefactor
//! from differences of ln Γ that cancel; its `inv_beta_reg` can panic, hang or lose
//! monotonicity at tiny probabilities (statrs issue #435). Exact binomial intervals live
//! exactly there (k = 0, k = n, α = 10^-12), so we evaluate I_x(a, b) with a Lentz continued
//! fraction without a small cap and a Stirling-form prefactor, and invert it by bisection,
//! which cannot fail, is monotone in its target, and always terminates.

use statrs::function::gamma::ln_gamma;

/// Stirling series correction δ(z) = ln Γ(z) − [(z − ½) ln z − z + ½ ln 2π], for z ≥ 10.
fn stirling_delta(z: f64) -> f64 {
    let z2 = z * z;
    (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * z2)) / z2) / z2) / z
}

/// ln of the prefactor x^a (1−x)^b / B(a, b), without catastrophic cancellation for large
/// a and b: a·ln(x/p₀) + b·ln((1−x)/q₀) + ½ ln(ab / (2π(a+b))) + δ(a+b) − δ(a) − δ(b), with
/// p₀ = a/(a+b), q₀ = b/(a+b).
fn ln_prefactor(a: f64, b: f64, x: f64) -> f64 {
    const HALF_LN_TAU: f64 = 0.918_938_533_204_672_8;
    if a >= 10.0 && b >= 10.0 {
        let s = a + b;
        let (p0, q0) = (a / s, b / s);
        let term_a = a * ((x - p0) / p0).ln_1p();
        let term_b = b * ((p0 - x) / q0).ln_1p(); // (1 − x)/q₀ − 1 = (p₀ − x)/q₀
        term_a + term_b + 0.5 * (a * b / s).ln() - HALF_LN_TAU + stirling_delta(s)
            - stirling_delta(a)
            - stirling_delta(b)
    } else if a < 10.0 && b >= 10.0 {
        // ln Γ(a + b) − ln Γ(b) by Stirling, without the cancellation of two huge ln Γ.
        let lg_ratio = (b - 0.5) * (a / b).ln_1p() + a * (a + b).ln() - a + stirling_delta(a + b)
            - stirling_delta(b);
        a * x.ln() + b * (-x).ln_1p() + lg_ratio - ln_gamma(a)
    } else if b < 10.0 && a >= 10.0 {
        ln_prefactor(b, a, 1.0 - x)
    } else {
        ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p()
    }
}

/// Continued fraction for I_x(a, b) (modified Lentz); converges fast for
/// x < (a + 1)/(a + b + 2). Up to 10^6 terms: enough for a + b ≈ 10^9.
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..1_000_000u32 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() <= EPS {
            break;
        }
    }
    h
}

/// (I_x(a, b), 1 − I_x(a, b)): the continued fraction is evaluated for the tail on the side
/// of x where it converges, and that tail is the accurate one when it is small.
fn beta_tails(a: f64, b: f64, x: f64) -> (f64, f64) {
    debug_assert!(
        a > 0.0 && b > 0.0,
        "the beta function needs a, b > 0 (got {a}, {b})"
    );
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if x >= 1.0 {
        return (1.0, 0.0);
    }
    if x < (a + 1.0) / (a + b + 2.0) {
        let lower = (ln_prefactor(a, b, x).exp() * beta_cf(a, b, x) / a).clamp(0.0, 1.0);
        (lower, 1.0 - lower)
    } else {
        let y = 1.0 - x;
        let upper = (ln_prefactor(b, a, y).exp() * beta_cf(b, a, y) / b).clamp(0.0, 1.0);
        (1.0 - upper, upper)
    }
}

/// The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b), with
/// a, b > 0; relative accuracy near 1e-14 while it is below ½ (use [`beta_sf`] above).
pub fn beta_cdf(a: f64, b: f64, x: f64) -> f64 {
    beta_tails(a, b, x).0
}

/// The upper tail 1 − I_x(a, b) = I_{1−x}(b, a), accurate when it is small.
pub fn beta_sf(a: f64, b: f64, x: f64) -> f64 {
    beta_tails(a, b, x).1
}

/// Bisection for the x in [0, 1] where the increasing function `f` crosses `target`. Stops
/// when the bracket is as narrow as the floating-point grid allows (at most ~1100 halvings,
/// the distance from 1 to the smallest subnormal), so it always terminates.
fn bisect_increasing(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..1200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The q-quantile of Beta(a, b) for a lower-tail probability q (accurate for tiny q).
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    if q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    if q <= 0.5 {
        bisect_increasing(|x| beta_cdf(a, b, x), q)
    } else {
        // Solve the upper tail, 1 − I_x(a, b) = 1 − q, in the mirrored variable for accuracy.
        1.0 - bisect_increasing(|y| beta_cdf(b, a, y), 1.0 - q)
    }
}

/// The x with upper-tail probability `q`: 1 − I_x(a, b) = q (accurate for tiny q).
pub fn beta_quantile_upper(q: f64, a: f64, b: f64) -> f64 {
    1.0 - beta_quantile(q, b, a)
}

/// The p-quantile of Student's t with ν degrees of freedom, for p in [½, 1]: the t with
/// P(|T| > t) = 2(1 − p). Y = T²/(ν + T²) ~ Beta(½, ν/2), so t = √(ν y / (1 − y)) with y
/// the Beta's upper 2(1 − p) point, found by bisection in y itself while y ≤ ½ (full
/// relative precision also for ν in the millions, where y is tiny), else in X = 1 − Y ~
/// Beta(ν/2, ½) (the far tails of small ν, where y is within an ulp of 1). From ν = 10^6 on,
/// where the incomplete beta loses digits to the complement 1 − y (relative error ~ν·10^-16),
/// the Cornish–Fisher expansion in 1/ν to four terms instead (truncation below 10^-20 there
/// for z ≤ 8; the two agree within 10^-10 at the seam, tested). Not statrs' `StudentsT::inverse_cdf`: its
/// `inv_beta_reg` does not return for ν in the tens of millions (n − 1 for the mean of
/// 10^7 trajectories).
pub fn student_t_quantile(p: f64, nu: f64) -> f64 {
    let q = 2.0 * (1.0 - p);
    if q >= 1.0 {
        return 0.0;
    }
    if q <= 0.0 {
        return f64::INFINITY;
    }
    if nu >= 1e6 {
        return cornish_fisher_t(normal_upper_quantile(0.5 * q), nu);
    }
    // −sf increases with y.
    let y = bisect_increasing(|y| -beta_sf(0.5, 0.5 * nu, y), -q);
    if y <= 0.5 {
        return (nu * y / (1.0 - y)).sqrt();
    }
    let x = bisect_increasing(|x| beta_cdf(0.5 * nu, 0.5, x), q);
    (nu * (1.0 - x) / x).sqrt()
}

/// The z with P(Z > z) = `tail` for a standard normal Z, accurate for tiny tails.
fn normal_upper_quantile(tail: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    -Normal::standard().inverse_cdf(tail)
}

/// Student's t quantile from the normal quantile z, to order 1/ν⁴ (Abramowitz & Stegun
/// 26.7.5).
fn cornish_fisher_t(z: f64, nu: f64) -> f64 {
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu
}

/// P(Bin(n, p) ≥ k) = I_p(k, n − k + 1).
pub fn binomial_sf_at_least(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        1.0
    } else if k > n {
        0.0
    } else {
        beta_cdf(k as f64, (n - k + 1) as f64, p)
    }
}

/// P(Bin(n, p) ≤ k) = I_{1−p}(n − k, k + 1).
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        1.0
    } else {
        beta_cdf((n - k) as f64, (k + 1) as f64, 1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_quantile_matches_closed_forms_statrs_and_the_normal_limit() {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        assert_eq!(student_t_quantile(0.5, 3.0), 0.0);
        for p in [0.6, 0.9, 0.975, 0.995, 1.0 - 1e-9] {
            // ν = 1 (Cauchy) and ν = 2 have closed forms, written in q = 2(1 − p) (exact).
            let q = 2.0 * (1.0 - p);
            let cauchy = 1.0 / (std::f64::consts::FRAC_PI_2 * q).tan();
            let got = student_t_quantile(p, 1.0);
            assert!(
                close(got, cauchy, 1e-12),
                "ν = 1, p = {p}: {got} against {cauchy}"
            );
            let two = (1.0 - q) * (2.0 / (q * (2.0 - q))).sqrt();
            let got = student_t_quantile(p, 2.0);
            assert!(
                close(got, two, 1e-12),
                "ν = 2, p = {p}: {got} against {two}"
            );
            for nu in [3.0, 7.5, 30.0, 1000.0] {
                let want = StudentsT::new(0.0, 1.0, nu).unwrap().inverse_cdf(p);
                let got = student_t_quantile(p, nu);
                assert!(
                    close(got, want, 1e-10),
                    "ν = {nu}, p = {p}: {got} against {want}"
                );
            }
        }
        // Large ν (statrs is off in the 8th digit at 10^5 and does not return in the tens
        // of millions): the bisection agrees with Cornish–Fisher at 10^5 and at the seam,
        // 10^6, where the expansion takes over; beyond, t decreases towards z.
        for p in [0.9, 0.975, 1.0 - 1e-12] {
            let z = normal_upper_quantile(1.0 - p);
            for (nu, tol) in [(1e5, 1e-12), (1e6 - 1.0, 1e-10)] {
                let (got, want) = (student_t_quantile(p, nu), cornish_fisher_t(z, nu));
                assert!(
                    close(got, want, tol),
                    "ν = {nu}, p = {p}: {got} against {want}"
                );
            }
            let mut last = student_t_quantile(p, 1e6 - 1.0);
            for nu in [1e6, 2.56e7, 1e9, 1e15] {
                let t = student_t_quantile(p, nu);
                assert!(
                    t <= last && t >= z,
                    "ν = {nu}, p = {p}: {t} after {last}, z = {z}"
                );
                last = t;
            }
        }
        assert_eq!(student_t_quantile(1.0, 10.0), f64::INFINITY);
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn cdf_matches_reference_values() {
        // scipy.special.betainc (SciPy 1.17, Boost's ibeta).
        let cases = [
            (2.0, 3.0, 0.4, 0.5248),
            (0.5, 0.5, 0.1, 0.204_832_764_699_133_5),
            (1.0, 1e7, 1e-7, 0.632_120_577_222_530_5),
            (5e6, 5e6, 0.5003, 0.971_110_222_571_088_5),
            (5e6, 5e6, 0.499, 1.269_763_590_115_168_7e-10),
        ];
        for (a, b, x, want) in cases {
            let got = beta_cdf(a, b, x);
            assert!(
                close(got, want, 1e-9),
                "I_{x}({a}, {b}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn quantiles_invert_the_cdf_in_the_far_tails() {
        for (a, b) in [
            (1.0, 10.0),
            (0.5, 0.5),
            (3.0, 1e7),
            (5e6, 5e6 + 1.0),
            (50.0, 0.5),
        ] {
            for q in [1e-300, 1e-100, 5e-13, 1e-6, 0.025, 0.5, 0.975] {
                let x = beta_quantile(q, a, b);
                assert!((0.0..=1.0).contains(&x));
                let back = beta_cdf(a, b, x);
                assert!(
                    close(back, q, 1e-6) || x == 0.0,
                    "a={a} b={b} q={q}: x={x}, I={back}"
                );
                let xu = beta_quantile_upper(q, a, b);
                let back = beta_sf(a, b, xu);
                // Near 1 the answer can only be as fine as the floating-point grid there.
                assert!(
                    close(back, q, 1e-6) || 1.0 - xu < 1e-9,
                    "upper a={a} b={b} q={q}: x={xu}, 1-I={back}"
                );
            }
        }
    }

    #[test]
    fn binomial_tails() {
        // P(Bin(10, 0.3) ≥ 3) = 0.6172172136; P(Bin(10, 0.3) ≤ 2) = 0.3827827864.
        assert!(close(
            binomial_sf_at_least(3, 10, 0.3),
            0.617_217_213_6,
            1e-9
        ));
        assert!(close(binomial_cdf(2, 10, 0.3), 0.382_782_786_4, 1e-9));
        assert_eq!(binomial_cdf(10, 10, 0.3), 1.0);
        assert_eq!(binomial_sf_at_least(0, 10, 0.3), 1.0);
    }
}
