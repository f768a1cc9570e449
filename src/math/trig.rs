//! Fast, branch-free sines and cosines for the hot loop.
//!
//! `sin_turns(u) = sin(2π u)`. Reducing in turns rather than radians is exact (u − round(u)
//! has no rounding error), so the only error is the polynomial's: within 2 ulp of the true
//! value, relative, at every u, also next to the zeros (3 for [`cos_of_turns`], whose
//! quarter-turn shift may round; measured against a 256-bit reference in
//! `tests/elementary.rs`). [`cos_sin_of_bits`] gives the cosine and sine of a random angle
//! for Box–Muller. All are
//! plain IEEE arithmetic without fused multiply-add, so results are the same bit for bit on
//! every x86-64 or ARM machine, unlike a platform libm.

use crate::lanes::{Bits, Real};
use crate::math::elementary::horner;

/// |u| below which [`sin_turns`] is valid (the rounding trick needs |2u| < 2^51).
pub const FAST_LIMIT: f64 = 1.0e15;

/// 1.5 · 2^52: adding and subtracting it rounds a double to the nearest integer.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// sin(2π u) for |u| < [`FAST_LIMIT`]; garbage beyond (callers check). In every lane of a
/// vector ([`crate::lanes`]) or for one `f64`, with the same bits.
#[inline(always)]
pub fn sin_turns<R: Real>(u: R) -> R {
    let magic = R::splat(ROUND_MAGIC);
    let half_turns = R::splat(2.0) * u;
    let shifted = half_turns + magic;
    let n = shifted - magic;
    let f = half_turns - n; // in [-0.5, 0.5]; sin(2πu) = (−1)^n sin(π f)
    let odd = shifted.to_bits().shl(63); // parity of n moved to the sign bit
    R::from_bits(sin_pi_reduced(f).to_bits() ^ odd)
}

/// cos(2π u) for |u| ≤ 1/2: sin(2π (u + 1/4)), the shift exact for every such u that is a
/// multiple of 2^−53 (a uniform draw's turn fraction).
#[inline(always)]
pub fn cos_turns<R: Real>(u: R) -> R {
    sin_turns(u + R::splat(0.25))
}

/// sin(π f) for |f| ≤ 1/2: Taylor series in x = π f to x^21 (truncation < 2e-18).
#[inline(always)]
fn sin_pi_reduced<R: Real>(f: R) -> R {
    const C3: f64 = -1.0 / 6.0;
    const C5: f64 = 1.0 / 120.0;
    const C7: f64 = -1.0 / 5040.0;
    const C9: f64 = 1.0 / 362_880.0;
    const C11: f64 = -1.0 / 39_916_800.0;
    const C13: f64 = 1.0 / 6_227_020_800.0;
    const C15: f64 = -1.0 / 1_307_674_368_000.0;
    const C17: f64 = 1.0 / 355_687_428_096_000.0;
    const C19: f64 = -1.0 / 121_645_100_408_832_000.0;
    const C21: f64 = 1.0 / 51_090_942_171_709_440_000.0;
    let c = R::splat;
    // Estrin's scheme: the same polynomial as Horner's rule with a third of the latency,
    // which bounds the speed of a 1-D trajectory (each step waits for the last).
    let x = c(std::f64::consts::PI) * f;
    let z = x * x;
    let z2 = z * z;
    let z4 = z2 * z2;
    let z8 = z4 * z4;
    let a = (c(C3) + c(C5) * z) + (c(C7) + c(C9) * z) * z2;
    let b = (c(C11) + c(C13) * z) + (c(C15) + c(C17) * z) * z2;
    let d = c(C19) + c(C21) * z;
    let p = (a + b * z4) + d * z8;
    x + x * z * p
}

/// (cos 2πθ, sin 2πθ) for the angle θ = k / 2^53 turns, k the top 53 bits of `bits` in
/// every lane: the direction of a Box–Muller pair ([`crate::lanes::normal_pair`]), uniform
/// on the circle's 2^53 angles. Quarter turns come off exactly in integers (k rounded to
/// the nearest multiple of 2^51), which leaves v = θ − q/4 in [−1/8, 1/8] as a multiple
/// of 2^−53, also exact; cos and sin of 2πv are minimax polynomials in v and v²
/// (scripts/fit_polynomials.py), and the quarter turns swap and negate them. Each within
/// 2 ulp of the true value, relative (measured against a 256-bit reference in
/// `tests/elementary.rs`; the rounding of 2π·v and the sum of two rounded terms make up
/// most of it): cheaper than two [`sin_turns`], since the range is a quarter as wide and
/// the reduction is shared.
#[inline(always)]
pub fn cos_sin_of_bits<R: Real>(bits: R::Bits) -> (R, R) {
    let one_eighth = R::Bits::splat(1 << 50);
    let n = bits.shr(11).add(one_eighth); // k + 2^50 < 2^54
    let q = n.shr(51); // the nearest quarter turn (4 is 0)
    let r = n & R::Bits::splat((1 << 51) - 1); // v·2^53 + 2^50, in [0, 2^51)
    let v = (R::from_u53(r) - R::splat((1u64 << 50) as f64)) * R::splat(1.0 / (1u64 << 53) as f64);
    let w = v * v;
    let sin = v * R::splat(std::f64::consts::TAU) + v * w * horner(w, &SIN_2PI);
    let cos = R::splat(1.0) + w * horner(w, &COS_2PI);
    // A quarter turn maps (cos, sin) to (−sin, cos): odd q swaps them; cos is negated for
    // q = 1, 2 and sin for q = 2, 3.
    let odd = R::Bits::splat(0).sub(q & R::Bits::splat(1));
    let (c, s) = (R::select(odd, sin, cos), R::select(odd, cos, sin));
    let cos_sign = (q.add(R::Bits::splat(1)) & R::Bits::splat(2)).shl(62);
    let sin_sign = (q & R::Bits::splat(2)).shl(62);
    (
        R::from_bits(c.to_bits() ^ cos_sign),
        R::from_bits(s.to_bits() ^ sin_sign),
    )
}

/// sin(2πv) = 2πv + v·w·S(w), w = v² ≤ 1/64: the coefficients of S, low order first.
const SIN_2PI: [f64; 6] = [
    f64::from_bits(0xc044_abbc_e625_be52), // -41.341702240399755
    f64::from_bits(0x4054_66bc_6775_a478), // 81.60524927605172
    f64::from_bits(0xc053_2d2c_ce50_061e), // -76.70585973563036
    f64::from_bits(0x4045_0783_208b_e31c), // 42.05868918257167
    f64::from_bits(0xc02e_3027_e2cb_c1fb), // -15.0940543054321
    f64::from_bits(0x400e_4a9f_3937_d930), // 3.7864365072411132
];

/// cos(2πv) = 1 + w·C(w), w = v² ≤ 1/64: the coefficients of C, low order first.
const COS_2PI: [f64; 7] = [
    f64::from_bits(0xc033_bd3c_c9be_45de), // -19.739208802178716
    f64::from_bits(0x4050_3c1f_081b_5ac0), // 64.93939402266824
    f64::from_bits(0xc055_5d3c_7e3c_b243), // -85.45681720664383
    f64::from_bits(0x404e_1f50_6868_9166), // 60.244641352709365
    f64::from_bits(0xc03a_6d1e_ef4b_82a8), // -26.426253276763106
    f64::from_bits(0x401f_9ce2_4942_9ee5), // 7.9032069632446325
    f64::from_bits(0xbffb_2f3f_d83e_a607), // -1.6990354964312944
];

/// u minus the nearest integer, exactly (in [−1/2, 1/2]; NaN for ±∞ and NaN): adding and
/// subtracting 2^52 rounds to an integer without a libm call, and the difference of u and
/// an integer within 1/2 of it is exact.
pub fn fraction_of_turn(u: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if u.abs() < TWO_52 {
        let m = TWO_52.copysign(u);
        u - ((u + m) - m)
    } else if u.is_finite() {
        0.0 // an integer
    } else {
        f64::NAN
    }
}

/// sin(2π u) for any u, the reduction exact.
pub fn sin_of_turns(u: f64) -> f64 {
    sin_turns(fraction_of_turn(u))
}

/// cos(2π u) = sin(2π (u + 1/4)): the quarter turn is added after the exact reduction.
pub fn cos_of_turns(u: f64) -> f64 {
    sin_turns(fraction_of_turn(u) + 0.25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_library_sine() {
        let mut worst: f64 = 0.0;
        for i in 0..200_001 {
            let u = -50.0 + i as f64 * 5e-4 + 1e-7;
            let exact = (std::f64::consts::TAU * u).sin();
            worst = worst.max((sin_turns(u) - exact).abs());
        }
        // The library value itself carries the rounding of 2πu (up to ~1e-14 at |u| = 50).
        assert!(worst < 5e-14, "worst error {worst}");
        for i in 0..10_000 {
            let u = -0.5 + i as f64 / 10_000.0;
            let exact = (std::f64::consts::TAU * u).sin();
            assert!((sin_turns(u) - exact).abs() < 4e-16, "u = {u}");
        }
    }

    #[test]
    fn exact_at_quarter_turns() {
        assert_eq!(sin_turns(0.0), 0.0);
        assert_eq!(sin_turns(0.25), 1.0);
        assert_eq!(sin_turns(-0.25), -1.0);
        assert_eq!(sin_turns(0.75), -1.0);
        assert_eq!(sin_turns(3.5).abs(), 0.0);
    }
}
