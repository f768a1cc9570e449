//! exp, ln and ln(1 + x) of our own, in plain IEEE arithmetic without fused multiply-add, so
//! that results that pass through them (the logistic loss and its gradient) are the same bit
//! for bit on every platform, unlike a platform libm. Accuracy over the whole range, measured
//! against a 256-bit reference in `tests/elementary.rs`: exp within 1 ulp of the correctly
//! rounded result, ln and ln_1p within 2.

use crate::lanes::{Bits, Real};

/// ln 2 split so that k·LN2_HI is exact for |k| < 2^11 (Cody–Waite; fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const INV_LN2: f64 = std::f64::consts::LOG2_E;
/// 1.5 · 2^52: adding and subtracting it rounds to the nearest integer.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// 2^k for −1074 ≤ k ≤ 1023 (exact), by two factors where one would leave the normal range.
fn pow2(k: i64) -> f64 {
    let normal = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
    if k < -1022 {
        normal(-1022) * normal(k + 1022)
    } else {
        normal(k)
    }
}

/// The reduction of e^x: k = round(x / ln 2) as a float, the rounding sum whose low bits
/// hold k as an integer, and p = e^r for r = x − k ln 2, so e^x = p · 2^k.
#[inline(always)]
fn exp_reduced<R: Real>(x: R) -> (R, R, R) {
    let c = R::splat;
    let sum = x * c(INV_LN2) + c(ROUND_MAGIC);
    let k = sum - c(ROUND_MAGIC);
    let r = (x - k * c(LN2_HI)) - k * c(LN2_LO); // |r| ≤ 0.347
    // Taylor series of e^r to r^13 (truncation below 4e-18 relative), by Horner.
    let mut p = c(1.0 / 6_227_020_800.0);
    for d in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + c(1.0 / d);
    }
    (k, sum, p)
}

/// e^x for |x| ≤ 708 (and NaN for NaN), equal bit for bit to [`exp`] there, without a branch
/// so a loop over a slice vectorises (and in every lane of a vector, [`crate::lanes`]): the
/// range checks of `exp` cannot fire, and 2^k comes from the integer bits of the rounding
/// sum instead of a float-to-integer conversion.
#[inline(always)]
pub fn exp_in_range<R: Real>(x: R) -> R {
    let (_, sum, p) = exp_reduced(x);
    let k = sum
        .to_bits()
        .add(R::Bits::splat(ROUND_MAGIC.to_bits().wrapping_neg()));
    p * R::from_bits(k.add(R::Bits::splat(1023)).shl(52))
}

/// e^x in every lane of a vector, the bits of [`exp`]: branch-free when every lane is within
/// ±708, else one lane at a time.
#[inline(always)]
pub fn exp_lanes<R: Real>(x: R) -> R {
    if x.abs().any_not_le(R::splat(708.0)) {
        crate::lanes::map_lanes(x, exp)
    } else {
        exp_in_range(x)
    }
}

/// ln x in every lane of a vector, the bits of [`ln`]: branch-free when every lane is
/// positive, normal and finite, else one lane at a time.
#[inline(always)]
pub fn ln_lanes<R: Real>(x: R) -> R {
    if R::splat(f64::MIN_POSITIVE).any_not_le(x) || x.any_not_le(R::splat(f64::MAX)) {
        crate::lanes::map_lanes(x, ln)
    } else {
        ln_normal(x)
    }
}

/// e^x of every entry in place, the bits of [`exp`]: through [`exp_in_range`], in a loop
/// that vectorises, when every entry is within ±708 (the rest: one `exp` at a time).
#[inline(always)]
pub fn exp_in_place(v: &mut [f64]) {
    if v.iter().all(|a| a.abs() <= 708.0) {
        v.iter_mut().for_each(|a| *a = exp_in_range(*a));
    } else {
        v.iter_mut().for_each(|a| *a = exp(*a));
    }
}

/// e^x. Within 1 ulp everywhere.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.133_219_101_941_2 {
        return 0.0;
    }
    let (k, _, p) = exp_reduced(x);
    let k = k as i64;
    // 2^k in two steps at the top of the range (e^709.78 = 2^1024 · (1 − ε)).
    if k > 1023 {
        p * pow2(1023) * pow2(k - 1023)
    } else if k < -1022 {
        // Scale into the subnormal range in one rounding.
        (p * pow2(k + 54)) * pow2(-54)
    } else {
        p * pow2(k)
    }
}

/// ln x (NaN below 0, −∞ at 0). Within 2 ulp everywhere.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    if x.to_bits() >> 52 == 0 {
        // Subnormal: normalise first.
        return ln_scaled(x * pow2(54), -54.0);
    }
    ln_normal(x)
}

/// ln x for finite x ≥ 2^−1022 (positive and normal), without a branch, in every lane of
/// a vector ([`crate::lanes`]) or for one `f64`: the bits of [`ln`] there.
#[inline(always)]
pub fn ln_normal<R: Real>(x: R) -> R {
    ln_scaled(x, R::splat(0.0))
}

/// ln(x · 2^e0) for a positive normal x.
#[inline(always)]
fn ln_scaled<R: Real>(x: R, e0: R) -> R {
    // x = m · 2^e with m in [√½, √2).
    let bits = x.to_bits();
    let m = R::from_bits((bits & R::Bits::splat((1u64 << 52) - 1)) | R::Bits::splat(1023u64 << 52));
    let e = R::from_u53(bits.shr(52)) - R::splat(1023.0) + e0;
    let sqrt2 = R::splat(std::f64::consts::SQRT_2);
    let e = m.select_gt(sqrt2, e + R::splat(1.0), e);
    let m = m.select_gt(sqrt2, m * R::splat(0.5), m);
    // ln m = 2 atanh(s) = 2s + 2s·z·P(z), s = (m − 1)/(m + 1), z = s² ≤ 0.0295, with P the
    // minimax polynomial of (atanh(s)/s − 1)/z (scripts/fit_polynomials.py; its error,
    // below 5e-18, enters ln m multiplied by z).
    let one = R::splat(1.0);
    let s = (m - one) / (m + one);
    let z = s * s;
    let s2 = s + s;
    let tail = s2 * z * horner(z, &LN_ATANH);
    e * R::splat(LN2_HI) + (s2 + (tail + e * R::splat(LN2_LO)))
}

/// The coefficients c_0..c_6 of P in [`ln_scaled`], low order first.
const LN_ATANH: [f64; 7] = [
    f64::from_bits(0x3fd5_5555_5555_5558), // 0.3333333333333335
    f64::from_bits(0x3fc9_9999_9999_522e), // 0.19999999999949253
    f64::from_bits(0x3fc2_4924_92e0_2b0c), // 0.14285714313185627
    f64::from_bits(0x3fbc_71c6_2d1c_77dc), // 0.11111105538699867
    f64::from_bits(0x3fb7_462b_9b7b_fd07), // 0.09091446443561689
    f64::from_bits(0x3fb3_9fdc_7e16_40a1), // 0.07665803983968768
    f64::from_bits(0x3fb2_b5f0_a2d7_94af), // 0.07308868384969246
];

/// The polynomial with coefficients `c` (low order first) at `z`, by Horner's rule: the
/// fewest operations, which is what bounds the throughput of a vector of trajectories.
#[inline(always)]
pub(crate) fn horner<R: Real>(z: R, c: &[f64]) -> R {
    let mut p = R::splat(c[c.len() - 1]);
    for &k in c[..c.len() - 1].iter().rev() {
        p = p * z + R::splat(k);
    }
    p
}

/// ln(1 + x), accurate for small x: within 2 ulp everywhere.
pub fn ln_1p(x: f64) -> f64 {
    let w = 1.0 + x;
    if w == 1.0 {
        return x;
    }
    // ln w corrected for the rounding of 1 + x (Goldberg's trick).
    ln(w) * (x / (w - 1.0))
}

/// ln(1 + e^z), without overflow.
pub fn softplus(z: f64) -> f64 {
    if z > 36.0 {
        z + exp(-z)
    } else if z < -36.0 {
        exp(z)
    } else {
        ln_1p(exp(z))
    }
}

/// 1 / (1 + e^{−z}).
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + exp(-z))
    } else {
        let e = exp(z);
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_in_range_gives_the_bits_of_exp() {
        let mut x: Vec<f64> = (-708_000..=708_000)
            .map(|i| i as f64 * 1e-3 + 1e-4)
            .collect();
        x.extend([
            0.0,
            -0.0,
            708.0,
            -708.0,
            5e-324,
            -5e-324,
            0.5 * std::f64::consts::LN_2,
        ]);
        for v in x {
            assert_eq!(exp_in_range(v).to_bits(), exp(v).to_bits(), "{v}");
        }
        assert!(exp_in_range(f64::NAN).is_nan());
        let x = [-1.0, -800.0, 0.5, f64::NAN, 710.0, -3.0];
        for v in [&x[..], &x[..1], &x[2..3], &x[5..]] {
            let mut y = v.to_vec();
            exp_in_place(&mut y);
            for (a, b) in v.iter().zip(&y) {
                assert_eq!(exp(*a).to_bits(), b.to_bits(), "{a}");
            }
        }
    }

    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn agree_with_the_standard_library_within_a_few_ulp() {
        let mut worst = (0, 0, 0);
        for i in 0..200_001 {
            let x = -745.0 + 1454.0 * i as f64 / 200_000.0;
            let (a, b) = (exp(x), x.exp());
            if b > 1e-300 {
                worst.0 = worst.0.max(ulps(a, b));
            }
            let y = 10f64.powf(-300.0 + 600.0 * i as f64 / 200_000.0);
            worst.1 = worst.1.max(ulps(ln(y), y.ln()));
            let z = 10f64.powf(-20.0 + 20.0 * i as f64 / 200_000.0);
            worst.2 = worst.2.max(ulps(ln_1p(z), z.ln_1p()));
        }
        assert!(worst.0 <= 2 && worst.1 <= 2 && worst.2 <= 4, "{worst:?}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(1000.0), f64::INFINITY);
        assert_eq!(exp(-1000.0), 0.0);
        assert!(ln(-1.0).is_nan() && ln(0.0) == f64::NEG_INFINITY);
        assert!((ln(5e-324) - (5e-324f64).ln()).abs() < 1e-12);
        assert!((exp(-740.0) - (-740.0f64).exp()).abs() <= 1e-323);
        assert!((softplus(800.0) - 800.0).abs() < 1e-12 && softplus(-800.0) == 0.0);
        assert!((sigmoid(0.0) - 0.5).abs() == 0.0);
    }
}
