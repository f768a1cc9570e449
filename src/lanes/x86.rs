//! The x86-64 lanes: AVX2 (4 doubles) and AVX-512 (8 doubles), through `std::arch`.
//!
//! The AVX-512 types use AVX-512F and AVX-512DQ (64-bit lane multiplies and conversions),
//! which every AVX-512 CPU but the Xeon Phi has; [`crate::isa::Isa`] takes this path only
//! when the CPU has both. These types are made only inside kernels that
//! [`crate::isa::Isa`] runs after it has detected the instruction set, and every method is `#[inline(always)]` so it is compiled
//! into that kernel's `#[target_feature]` function: that is what makes each `unsafe` call
//! below sound.

use super::{Bits, Real};
use std::arch::x86_64::*;
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Sub};

/// 4 doubles in an AVX2 register.
#[derive(Debug, Clone, Copy)]
pub struct F64x4(__m256d);
/// 4 unsigned 64-bit integers in an AVX2 register.
#[derive(Debug, Clone, Copy)]
pub struct U64x4(__m256i);
/// 8 doubles in an AVX-512 register.
#[derive(Debug, Clone, Copy)]
pub struct F64x8(__m512d);
/// 8 unsigned 64-bit integers in an AVX-512 register.
#[derive(Debug, Clone, Copy)]
pub struct U64x8(__m512i);

macro_rules! binary {
    ($ty:ident, $trait:ident, $method:ident, $intrinsic:ident) => {
        impl $trait for $ty {
            type Output = Self;
            #[inline(always)]
            fn $method(self, other: Self) -> Self {
                // SAFETY: see the module documentation.
                $ty(unsafe { $intrinsic(self.0, other.0) })
            }
        }
    };
}

binary!(F64x4, Add, add, _mm256_add_pd);
binary!(F64x4, Sub, sub, _mm256_sub_pd);
binary!(F64x4, Mul, mul, _mm256_mul_pd);
binary!(F64x4, Div, div, _mm256_div_pd);
binary!(U64x4, BitAnd, bitand, _mm256_and_si256);
binary!(U64x4, BitOr, bitor, _mm256_or_si256);
binary!(U64x4, BitXor, bitxor, _mm256_xor_si256);
binary!(F64x8, Add, add, _mm512_add_pd);
binary!(F64x8, Sub, sub, _mm512_sub_pd);
binary!(F64x8, Mul, mul, _mm512_mul_pd);
binary!(F64x8, Div, div, _mm512_div_pd);
binary!(U64x8, BitAnd, bitand, _mm512_and_si512);
binary!(U64x8, BitOr, bitor, _mm512_or_si512);
binary!(U64x8, BitXor, bitxor, _mm512_xor_si512);

/// 2^52 as bits: OR-ing an integer below 2^52 into its mantissa gives 2^52 + that integer.
const EXP52: u64 = 0x4330_0000_0000_0000;

// SAFETY (every `unsafe` block below): see the module documentation.
impl Bits for U64x4 {
    const LANES: usize = 4;
    #[inline(always)]
    fn splat(v: u64) -> Self {
        U64x4(unsafe { _mm256_set1_epi64x(v as i64) })
    }
    #[inline(always)]
    fn load(v: &[u64]) -> Self {
        let v = &v[..4];
        U64x4(unsafe { _mm256_loadu_si256(v.as_ptr().cast()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        let out = &mut out[..4];
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), self.0) }
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        U64x4(unsafe { _mm256_add_epi64(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        U64x4(unsafe { _mm256_sub_epi64(self.0, other.0) })
    }
    #[inline(always)]
    fn mul32(self, other: Self) -> Self {
        U64x4(unsafe { _mm256_mul_epu32(self.0, other.0) })
    }
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        U64x4(unsafe { _mm256_srl_epi64(self.0, _mm_cvtsi32_si128(n as i32)) })
    }
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        U64x4(unsafe { _mm256_sll_epi64(self.0, _mm_cvtsi32_si128(n as i32)) })
    }
    #[inline(always)]
    fn rotate_right(self, r: Self) -> Self {
        // A left shift by 64 (r = 0) gives 0, as the rotation needs.
        unsafe {
            let left = _mm256_sub_epi64(_mm256_set1_epi64x(64), r.0);
            U64x4(_mm256_or_si256(
                _mm256_srlv_epi64(self.0, r.0),
                _mm256_sllv_epi64(self.0, left),
            ))
        }
    }
    #[inline(always)]
    fn any(self) -> bool {
        unsafe { _mm256_testz_si256(self.0, self.0) == 0 }
    }
}

impl Real for F64x4 {
    type Bits = U64x4;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        F64x4(unsafe { _mm256_set1_pd(v) })
    }
    #[inline(always)]
    fn load(v: &[f64]) -> Self {
        let v = &v[..4];
        F64x4(unsafe { _mm256_loadu_pd(v.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        let out = &mut out[..4];
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F64x4(unsafe { _mm256_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn to_bits(self) -> U64x4 {
        U64x4(unsafe { _mm256_castpd_si256(self.0) })
    }
    #[inline(always)]
    fn from_bits(b: U64x4) -> Self {
        F64x4(unsafe { _mm256_castsi256_pd(b.0) })
    }
    #[inline(always)]
    fn from_u53(b: U64x4) -> Self {
        // High 21 and low 32 bits each through the 2^52 trick (exact), then one exact sum.
        let exp = U64x4::splat(EXP52);
        let two52 = F64x4::splat(4_503_599_627_370_496.0);
        let hi = F64x4::from_bits(b.shr(32) | exp) - two52;
        let lo = F64x4::from_bits((b & U64x4::splat(0xFFFF_FFFF)) | exp) - two52;
        hi * F64x4::splat(4_294_967_296.0) + lo
    }
    #[inline(always)]
    fn select_gt(self, other: Self, yes: Self, no: Self) -> Self {
        unsafe {
            let mask = _mm256_cmp_pd::<_CMP_GT_OQ>(self.0, other.0);
            F64x4(_mm256_blendv_pd(no.0, yes.0, mask))
        }
    }
    #[inline(always)]
    fn any_ge(self, other: Self) -> bool {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(self.0, other.0)) != 0 }
    }
    #[inline(always)]
    fn any_not_le(self, other: Self) -> bool {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_NLE_UQ>(self.0, other.0)) != 0 }
    }
    #[inline(always)]
    fn lt_mask(self, other: Self) -> U64x4 {
        unsafe {
            U64x4(_mm256_castpd_si256(_mm256_cmp_pd::<_CMP_LT_OQ>(
                self.0, other.0,
            )))
        }
    }
    #[inline(always)]
    fn le_mask(self, other: Self) -> U64x4 {
        unsafe {
            U64x4(_mm256_castpd_si256(_mm256_cmp_pd::<_CMP_LE_OQ>(
                self.0, other.0,
            )))
        }
    }
    #[inline(always)]
    fn select(mask: U64x4, yes: Self, no: Self) -> Self {
        // blendv reads each lane's sign bit: all ones or zero in a mask.
        unsafe { F64x4(_mm256_blendv_pd(no.0, yes.0, _mm256_castsi256_pd(mask.0))) }
    }
}

impl Bits for U64x8 {
    const LANES: usize = 8;
    #[inline(always)]
    fn splat(v: u64) -> Self {
        U64x8(unsafe { _mm512_set1_epi64(v as i64) })
    }
    #[inline(always)]
    fn load(v: &[u64]) -> Self {
        let v = &v[..8];
        U64x8(unsafe { _mm512_loadu_epi64(v.as_ptr().cast()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        let out = &mut out[..8];
        unsafe { _mm512_storeu_epi64(out.as_mut_ptr().cast(), self.0) }
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        U64x8(unsafe { _mm512_add_epi64(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        U64x8(unsafe { _mm512_sub_epi64(self.0, other.0) })
    }
    #[inline(always)]
    fn mul32(self, other: Self) -> Self {
        U64x8(unsafe { _mm512_mul_epu32(self.0, other.0) })
    }
    #[inline(always)]
    fn mul_lo(self, other: Self) -> Self {
        U64x8(unsafe { _mm512_mullo_epi64(self.0, other.0) })
    }
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        U64x8(unsafe { _mm512_srl_epi64(self.0, _mm_cvtsi32_si128(n as i32)) })
    }
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        U64x8(unsafe { _mm512_sll_epi64(self.0, _mm_cvtsi32_si128(n as i32)) })
    }
    #[inline(always)]
    fn rotate_right(self, r: Self) -> Self {
        U64x8(unsafe { _mm512_rorv_epi64(self.0, r.0) })
    }
    #[inline(always)]
    fn any(self) -> bool {
        unsafe { _mm512_test_epi64_mask(self.0, self.0) != 0 }
    }
}

impl Real for F64x8 {
    type Bits = U64x8;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        F64x8(unsafe { _mm512_set1_pd(v) })
    }
    #[inline(always)]
    fn load(v: &[f64]) -> Self {
        let v = &v[..8];
        F64x8(unsafe { _mm512_loadu_pd(v.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        let out = &mut out[..8];
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F64x8(unsafe { _mm512_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn to_bits(self) -> U64x8 {
        U64x8(unsafe { _mm512_castpd_si512(self.0) })
    }
    #[inline(always)]
    fn from_bits(b: U64x8) -> Self {
        F64x8(unsafe { _mm512_castsi512_pd(b.0) })
    }
    #[inline(always)]
    fn from_u53(b: U64x8) -> Self {
        // AVX-512DQ converts 64-bit integers; below 2^53 exactly.
        F64x8(unsafe { _mm512_cvtepu64_pd(b.0) })
    }
    #[inline(always)]
    fn select_gt(self, other: Self, yes: Self, no: Self) -> Self {
        unsafe {
            let mask = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, other.0);
            F64x8(_mm512_mask_blend_pd(mask, no.0, yes.0))
        }
    }
    #[inline(always)]
    fn any_ge(self, other: Self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_GE_OQ>(self.0, other.0) != 0 }
    }
    #[inline(always)]
    fn any_not_le(self, other: Self) -> bool {
        unsafe { _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(self.0, other.0) != 0 }
    }
    #[inline(always)]
    fn lt_mask(self, other: Self) -> U64x8 {
        unsafe {
            let k = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, other.0);
            U64x8(_mm512_maskz_mov_epi64(k, _mm512_set1_epi64(-1)))
        }
    }
    #[inline(always)]
    fn le_mask(self, other: Self) -> U64x8 {
        unsafe {
            let k = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, other.0);
            U64x8(_mm512_maskz_mov_epi64(k, _mm512_set1_epi64(-1)))
        }
    }
}
