//! The portable lanes: plain arrays, one loop per operation, for every CPU.

use super::{Bits, Real};
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Sub};

/// N doubles in plain arrays (the integer lanes: [`ArrayBits`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Array<const N: usize>(pub [f64; N]);

/// N unsigned 64-bit integers in a plain array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayBits<const N: usize>(pub [u64; N]);

macro_rules! lanewise {
    ($ty:ident, $trait:ident, $method:ident, $op:tt) => {
        impl<const N: usize> $trait for $ty<N> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, other: Self) -> Self {
                $ty(std::array::from_fn(|k| self.0[k] $op other.0[k]))
            }
        }
    };
}

lanewise!(Array, Add, add, +);
lanewise!(Array, Sub, sub, -);
lanewise!(Array, Mul, mul, *);
lanewise!(Array, Div, div, /);
lanewise!(ArrayBits, BitAnd, bitand, &);
lanewise!(ArrayBits, BitOr, bitor, |);
lanewise!(ArrayBits, BitXor, bitxor, ^);

impl<const N: usize> ArrayBits<N> {
    #[inline(always)]
    fn map(self, f: impl Fn(u64) -> u64) -> Self {
        ArrayBits(self.0.map(f))
    }
    #[inline(always)]
    fn zip(self, other: Self, f: impl Fn(u64, u64) -> u64) -> Self {
        ArrayBits(std::array::from_fn(|k| f(self.0[k], other.0[k])))
    }
}

impl<const N: usize> Bits for ArrayBits<N> {
    const LANES: usize = N;
    #[inline(always)]
    fn splat(v: u64) -> Self {
        ArrayBits([v; N])
    }
    #[inline(always)]
    fn load(v: &[u64]) -> Self {
        ArrayBits(std::array::from_fn(|k| v[k]))
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        out[..N].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.zip(other, Bits::add)
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self.zip(other, Bits::sub)
    }
    #[inline(always)]
    fn mul_lo(self, other: Self) -> Self {
        self.zip(other, u64::wrapping_mul)
    }
    #[inline(always)]
    fn mul32(self, other: Self) -> Self {
        self.zip(other, Bits::mul32)
    }
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        self.map(|v| v >> n)
    }
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        self.map(|v| v << n)
    }
    #[inline(always)]
    fn rotate_right(self, r: Self) -> Self {
        self.zip(r, Bits::rotate_right)
    }
    #[inline(always)]
    fn any(self) -> bool {
        self.0.iter().any(|&v| v != 0)
    }
}

impl<const N: usize> Real for Array<N> {
    type Bits = ArrayBits<N>;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        Array([v; N])
    }
    #[inline(always)]
    fn load(v: &[f64]) -> Self {
        Array(std::array::from_fn(|k| v[k]))
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        out[..N].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Array(self.0.map(f64::sqrt))
    }
    #[inline(always)]
    fn to_bits(self) -> Self::Bits {
        ArrayBits(self.0.map(f64::to_bits))
    }
    #[inline(always)]
    fn from_bits(b: Self::Bits) -> Self {
        Array(b.0.map(f64::from_bits))
    }
    #[inline(always)]
    fn from_u53(b: Self::Bits) -> Self {
        Array(b.0.map(|v| v as f64))
    }
    #[inline(always)]
    fn select_gt(self, other: Self, yes: Self, no: Self) -> Self {
        Array(std::array::from_fn(|k| {
            if self.0[k] > other.0[k] {
                yes.0[k]
            } else {
                no.0[k]
            }
        }))
    }
    #[inline(always)]
    fn any_ge(self, other: Self) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a >= b)
    }
    #[inline(always)]
    fn any_not_le(self, other: Self) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a.any_not_le(*b))
    }
    #[inline(always)]
    fn lt_mask(self, other: Self) -> Self::Bits {
        ArrayBits(std::array::from_fn(|k| self.0[k].lt_mask(other.0[k])))
    }
    #[inline(always)]
    fn le_mask(self, other: Self) -> Self::Bits {
        ArrayBits(std::array::from_fn(|k| self.0[k].le_mask(other.0[k])))
    }
}
