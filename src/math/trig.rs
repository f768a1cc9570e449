//! A fast, branch-free sine for the hot loop.
//!
//! `sin_turns(u) = sin(2π u)`. Reducing in turns rather than radians is exact (u − round(u)
//! has no rounding error), so the only error is the polynomial's: within 2 ulp of the true
//! value, relative, at every u, also next to the zeros (3 for [`cos_of_turns`], whose
//! quarter-turn shift may round; measured against a 256-bit reference in
//! `tests/elementary.rs`). It is
//! plain IEEE arithmetic without fused multiply-add, so results are the same bit for bit on
//! every x86-64 or ARM machine, unlike a platform libm.

use crate::lanes::{Bits, Real};

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
/// multiple of 2^−53 (every turn fraction of [`crate::rng::normal_pair`]).
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
