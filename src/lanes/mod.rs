//! Trajectories in SIMD lanes: a small vector abstraction ([`Real`] over [`Bits`]), one
//! implementation per instruction set, and the random draws written once over it.
//!
//! A vector holds one value per trajectory. Every operation is one the IEEE standard rounds
//! correctly (add, sub, mul, div, sqrt), an exact conversion or an integer operation, and
//! no multiply is fused with an add, so lane k of a vector computes exactly what the scalar
//! code computes for trajectory k alone: `f64` and `u64` implement the same traits, and the
//! scalar functions of [`crate::math`] and [`crate::rng`] are these generic functions at
//! one lane. Which implementation runs is chosen once per run ([`crate::isa::Isa`]): AVX-512
//! (8 lanes), AVX2 (4 lanes), or portable arrays of 4 lanes that every CPU runs.

mod array;
pub mod pcg;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use array::{Array, ArrayBits};
#[cfg(target_arch = "x86_64")]
pub use x86::{F64x4, F64x8, U64x4, U64x8};

use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Sub};

/// A vector of 64-bit unsigned integers, one per lane; arithmetic wraps.
pub trait Bits:
    Copy + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self>
{
    /// The number of lanes.
    const LANES: usize;
    /// Every lane `v`.
    fn splat(v: u64) -> Self;
    /// From one value per lane (`v.len()` = [`Bits::LANES`]).
    fn load(v: &[u64]) -> Self;
    /// Into one value per lane.
    fn store(self, out: &mut [u64]);
    /// Wrapping addition.
    fn add(self, other: Self) -> Self;
    /// Wrapping subtraction.
    fn sub(self, other: Self) -> Self;
    /// The product of the low 32 bits of each, as 64 bits (exact).
    fn mul32(self, other: Self) -> Self;
    /// The low 64 bits of the product (wrapping), from three [`Bits::mul32`] products;
    /// one instruction where the vector unit multiplies 64-bit lanes (AVX-512DQ).
    #[inline(always)]
    fn mul_lo(self, other: Self) -> Self {
        let cross = self.mul32(other.shr(32)).add(self.shr(32).mul32(other));
        self.mul32(other).add(cross.shl(32))
    }
    /// Shift right by `n` bits (logical).
    fn shr(self, n: u32) -> Self;
    /// Shift left by `n` bits.
    fn shl(self, n: u32) -> Self;
    /// Rotate right by each lane's `r` (0 ≤ r < 64).
    fn rotate_right(self, r: Self) -> Self;
    /// Whether any lane is not zero (for a mask: whether any lane is set).
    fn any(self) -> bool;

    /// Lane by lane, `yes` where this mask's lane is all ones and `no` where it is zero.
    #[inline(always)]
    fn select(self, yes: Self, no: Self) -> Self {
        (yes & self) | (no & (self ^ Self::splat(!0)))
    }
}

/// A vector of doubles, one per lane, with the integer lanes of the same width.
pub trait Real:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// The integer lanes.
    type Bits: Bits;
    /// The number of lanes.
    const LANES: usize = <Self::Bits as Bits>::LANES;
    /// Every lane `v`.
    fn splat(v: f64) -> Self;
    /// From one value per lane.
    fn load(v: &[f64]) -> Self;
    /// Into one value per lane.
    fn store(self, out: &mut [f64]);
    /// The correctly rounded square root.
    fn sqrt(self) -> Self;
    /// The bits of each lane.
    fn to_bits(self) -> Self::Bits;
    /// Doubles from bits.
    fn from_bits(b: Self::Bits) -> Self;
    /// Each lane's integer as a double, exactly (the integers must be below 2^53).
    fn from_u53(b: Self::Bits) -> Self;
    /// Lane by lane: `yes` where `self > other`, `no` elsewhere.
    fn select_gt(self, other: Self, yes: Self, no: Self) -> Self;
    /// Whether `self ≥ other` in any lane (false where either is NaN, as for `f64`).
    fn any_ge(self, other: Self) -> bool;
    /// Whether `self ≤ other` fails in any lane (true where either is NaN).
    fn any_not_le(self, other: Self) -> bool;
    /// A mask: all ones in the lanes where `self < other`, zero elsewhere (and where
    /// either is NaN).
    fn lt_mask(self, other: Self) -> Self::Bits;
    /// A mask: all ones in the lanes where `self ≤ other`, zero elsewhere (and where
    /// either is NaN).
    fn le_mask(self, other: Self) -> Self::Bits;

    /// Lane by lane, `yes` where `mask` is set and `no` elsewhere.
    #[inline(always)]
    fn select(mask: Self::Bits, yes: Self, no: Self) -> Self {
        Self::from_bits(mask.select(yes.to_bits(), no.to_bits()))
    }

    /// −self in every lane (the sign bit flipped: exact, as `-x` for `f64`).
    #[inline(always)]
    fn neg(self) -> Self {
        Self::from_bits(self.to_bits() ^ Self::Bits::splat(1u64 << 63))
    }

    /// |self| in every lane (the sign bit cleared: exact).
    #[inline(always)]
    fn abs(self) -> Self {
        Self::from_bits(self.to_bits() & Self::Bits::splat(!(1u64 << 63)))
    }

    /// Lane `k`'s value (a slow path: through memory).
    #[inline(always)]
    fn lane(self, k: usize) -> f64 {
        let mut buf = [0.0; MAX_LANES];
        self.store(&mut buf);
        buf[k]
    }

    /// The vector with lane `k` set to `v` (a slow path: through memory).
    #[inline(always)]
    fn with_lane(self, k: usize, v: f64) -> Self {
        let mut buf = [0.0; MAX_LANES];
        self.store(&mut buf);
        buf[k] = v;
        Self::load(&buf)
    }
}

/// The most lanes any vector type has.
pub const MAX_LANES: usize = 16;

impl Bits for u64 {
    const LANES: usize = 1;
    #[inline(always)]
    fn splat(v: u64) -> Self {
        v
    }
    #[inline(always)]
    fn load(v: &[u64]) -> Self {
        v[0]
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        out[0] = self;
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self.wrapping_sub(other)
    }
    #[inline(always)]
    fn mul32(self, other: Self) -> Self {
        (self & 0xFFFF_FFFF) * (other & 0xFFFF_FFFF)
    }
    #[inline(always)]
    fn mul_lo(self, other: Self) -> Self {
        self.wrapping_mul(other)
    }
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        self >> n
    }
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        self << n
    }
    #[inline(always)]
    fn rotate_right(self, r: Self) -> Self {
        u64::rotate_right(self, r as u32)
    }
    #[inline(always)]
    fn any(self) -> bool {
        self != 0
    }
}

impl Real for f64 {
    type Bits = u64;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn load(v: &[f64]) -> Self {
        v[0]
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        out[0] = self;
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
    #[inline(always)]
    fn from_bits(b: u64) -> Self {
        f64::from_bits(b)
    }
    #[inline(always)]
    fn from_u53(b: u64) -> Self {
        b as f64
    }
    #[inline(always)]
    fn select_gt(self, other: Self, yes: Self, no: Self) -> Self {
        if self > other { yes } else { no }
    }
    #[inline(always)]
    fn any_ge(self, other: Self) -> bool {
        self >= other
    }
    #[inline(always)]
    fn any_not_le(self, other: Self) -> bool {
        // Greater, or unordered (a NaN).
        !matches!(
            self.partial_cmp(&other),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        )
    }
    #[inline(always)]
    fn lt_mask(self, other: Self) -> u64 {
        if self < other { !0 } else { 0 }
    }
    #[inline(always)]
    fn le_mask(self, other: Self) -> u64 {
        if self <= other { !0 } else { 0 }
    }
}

/// A uniform draw on [0, 1) in every lane from 64 random bits each: the top 53 bits,
/// scaled (exactly). One lane: the bits of rand's `random::<f64>()`.
#[inline(always)]
pub fn unit<R: Real>(bits: R::Bits) -> R {
    R::from_u53(bits.shr(11)) * R::splat(1.0 / (1u64 << 53) as f64)
}

/// A uniform draw on (0, 1) in every lane: 53 random bits and a half (smallest 2^−54).
#[inline(always)]
pub fn open_unit<R: Real>(bits: R::Bits) -> R {
    (R::from_u53(bits.shr(11)) + R::splat(0.5)) * R::splat(1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normals per lane by Box–Muller from two 64-bit draws per lane
/// (see [`crate::rng::normal_pair`], which is this function at one lane): the radius
/// √(−2 ln u) of u on (0, 1) from the first, the direction from the top 53 bits of the
/// second ([`cos_sin_of_bits`](crate::math::trig::cos_sin_of_bits)).
#[inline(always)]
pub fn normal_pair<R: Real>(first: R::Bits, second: R::Bits) -> (R, R) {
    use crate::math::{elementary::ln_normal, trig::cos_sin_of_bits};
    let u1 = open_unit::<R>(first);
    let radius = (R::splat(-2.0) * ln_normal(u1)).sqrt();
    let (cos, sin) = cos_sin_of_bits::<R>(second);
    (radius * cos, radius * sin)
}

/// Fills `out` with independent standard normals in every lane, two per [`normal_pair`]
/// (the second of the last pair not kept for odd lengths): the draws of
/// [`crate::rng::normals_into`], lane by lane.
#[inline(always)]
pub fn normals_into<R: Real>(rng: &mut pcg::Pcg<R::Bits>, out: &mut [R]) {
    normals_from(rng, None, out)
}

/// [`normals_into`] for the lanes of `mask` only: the other lanes' streams do not move
/// and their values in `out` are to be ignored (a rejection sampler's redraw).
#[inline(always)]
pub fn normals_into_masked<R: Real>(rng: &mut pcg::Pcg<R::Bits>, mask: R::Bits, out: &mut [R]) {
    normals_from(rng, Some(mask), out)
}

/// Standard normals, two per [`normal_pair`], drawn with `mask` if there is one. (Not a
/// closure for the draw: a closure is compiled without the kernel's instruction set, so
/// the intrinsics it calls would not be inlined.)
#[inline(always)]
fn normals_from<R: Real>(rng: &mut pcg::Pcg<R::Bits>, mask: Option<R::Bits>, out: &mut [R]) {
    // Two pairs at a time: their long dependency chains (a division, a square root and
    // two polynomials each) side by side, for the CPU to overlap.
    let mut quads = out.chunks_exact_mut(4);
    for quad in &mut quads {
        let (a, b) = (rng.next_u64_or_masked(mask), rng.next_u64_or_masked(mask));
        let (c, d) = (rng.next_u64_or_masked(mask), rng.next_u64_or_masked(mask));
        let ((z0, z1), (z2, z3)) = (normal_pair(a, b), normal_pair(c, d));
        (quad[0], quad[1], quad[2], quad[3]) = (z0, z1, z2, z3);
    }
    let mut pairs = quads.into_remainder().chunks_exact_mut(2);
    for pair in &mut pairs {
        let first = rng.next_u64_or_masked(mask);
        (pair[0], pair[1]) = normal_pair(first, rng.next_u64_or_masked(mask));
    }
    if let [last] = pairs.into_remainder() {
        let first = rng.next_u64_or_masked(mask);
        *last = normal_pair(first, rng.next_u64_or_masked(mask)).0;
    }
}

/// A uniform draw on [−1, 1) in every lane from 64 random bits each: 2u − 1 with u from
/// [`unit`](fn@unit).
#[inline(always)]
pub fn symmetric_unit<R: Real>(bits: R::Bits) -> R {
    R::splat(2.0) * unit::<R>(bits) - R::splat(1.0)
}

/// `f` applied to every lane (a slow path through memory, for the rare lanes a branch-free
/// function does not cover).
#[inline(always)]
pub fn map_lanes<R: Real>(x: R, f: impl Fn(f64) -> f64) -> R {
    let mut buf = [0.0; MAX_LANES];
    x.store(&mut buf);
    buf[..R::LANES].iter_mut().for_each(|v| *v = f(*v));
    R::load(&buf)
}

#[cfg(test)]
mod tests;
