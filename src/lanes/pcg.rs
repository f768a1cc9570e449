//! The trajectories' generator, Pcg64Mcg (PCG XSL-RR 128/64 MCG, rand_pcg's `Mcg128Xsl64`),
//! advanced in lanes: lane k holds trajectory k's 128-bit state as two 64-bit halves, and
//! each draw is that lane's next `rand_pcg` output, bit for bit (tested against the crate).
//!
//! One step multiplies the state by a 128-bit constant modulo 2^128: the full 128-bit
//! product of the low halves and the low 64 bits of the two cross products. Vector units
//! give the high half of a 64 × 64 product only from four 32 × 32 → 64-bit products; the
//! low halves are one instruction each with AVX-512DQ ([`Bits::mul_lo`]), three such
//! products elsewhere.

use super::Bits;

/// rand_pcg's multiplier, split into 64-bit halves.
const MUL_HI: u64 = 0x2360_ED05_1FC6_5DA4;
const MUL_LO: u64 = 0x4385_DF64_9FCC_F645;
const LOW32: u64 = 0xFFFF_FFFF;

/// One Pcg64Mcg stream per lane.
#[derive(Debug, Clone, Copy)]
pub struct Pcg<B> {
    hi: B,
    lo: B,
}

impl<B: Bits> Pcg<B> {
    /// The streams with these 128-bit states, one per lane (`states.len()` =
    /// [`Bits::LANES`]; each made odd, as `Pcg64Mcg::new` does).
    pub fn new(states: &[u128]) -> Self {
        assert_eq!(states.len(), B::LANES, "one state per lane");
        let half = |f: fn(u128) -> u64| states.iter().map(|&s| f(s | 1)).collect::<Vec<_>>();
        Pcg {
            hi: B::load(&half(|s| (s >> 64) as u64)),
            lo: B::load(&half(|s| s as u64)),
        }
    }

    /// The 128-bit states, one per lane.
    pub fn states(&self) -> Vec<u128> {
        let (mut hi, mut lo) = (vec![0; B::LANES], vec![0; B::LANES]);
        self.hi.store(&mut hi);
        self.lo.store(&mut lo);
        hi.iter()
            .zip(&lo)
            .map(|(&h, &l)| (u128::from(h) << 64) | u128::from(l))
            .collect()
    }

    /// Lane `k`'s stream on its own (a slow path, for laws without a lane sampler).
    pub fn lane(&self, k: usize) -> Pcg<u64> {
        Pcg::new(&[self.states()[k]])
    }

    /// Sets lane `k`'s stream.
    pub fn set_lane(&mut self, k: usize, stream: &Pcg<u64>) {
        let mut states = self.states();
        states[k] = stream.states()[0];
        *self = Pcg::new(&states);
    }

    /// Every lane's next output: the state times the multiplier, then XSL-RR.
    #[inline(always)]
    pub fn next_u64(&mut self) -> B {
        let (hi, lo) = self.advanced();
        (self.hi, self.lo) = (hi, lo);
        output(hi, lo)
    }

    /// The next output of the lanes set in `mask`, whose streams advance; the other lanes
    /// stay where they are (their output is to be ignored). What a rejection sampler
    /// draws with, so that each lane takes exactly the draws its scalar stream would.
    #[inline(always)]
    pub fn next_u64_masked(&mut self, mask: B) -> B {
        let (hi, lo) = self.advanced();
        (self.hi, self.lo) = (mask.select(hi, self.hi), mask.select(lo, self.lo));
        output(hi, lo)
    }

    /// [`Pcg::next_u64_masked`] with a mask, [`Pcg::next_u64`] without.
    #[inline(always)]
    pub fn next_u64_or_masked(&mut self, mask: Option<B>) -> B {
        match mask {
            Some(mask) => self.next_u64_masked(mask),
            None => self.next_u64(),
        }
    }

    /// The state times the multiplier, modulo 2^128.
    #[inline(always)]
    fn advanced(&self) -> (B, B) {
        let (m_lo, m_hi) = (B::splat(MUL_LO), B::splat(MUL_HI));
        let hi = high_half(self.lo, MUL_LO)
            .add(self.lo.mul_lo(m_hi))
            .add(self.hi.mul_lo(m_lo));
        (hi, self.lo.mul_lo(m_lo))
    }
}

/// The high 64 bits of the 128-bit product x · m, from the four products of 32-bit halves.
#[inline(always)]
fn high_half<B: Bits>(x: B, m: u64) -> B {
    let mask = B::splat(LOW32);
    let (b0, b1) = (B::splat(m & LOW32), B::splat(m >> 32));
    let (a0, a1) = (x, x.shr(32));
    let (p00, p01, p10, p11) = (a0.mul32(b0), a0.mul32(b1), a1.mul32(b0), a1.mul32(b1));
    let mid = p00.shr(32).add(p01 & mask).add(p10 & mask);
    p11.add(p01.shr(32)).add(p10.shr(32)).add(mid.shr(32))
}

/// XSL-RR: the two halves of the state xor-ed, rotated by its top six bits.
#[inline(always)]
fn output<B: Bits>(hi: B, lo: B) -> B {
    (hi ^ lo).rotate_right(hi.shr(58))
}

/// One lane is a generator like any other (the bits of `rand_pcg::Pcg64Mcg` from the same
/// state): what a law without a lane sampler draws from, lane by lane.
impl rand::TryRng for Pcg<u64> {
    type Error = std::convert::Infallible;

    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next_u64() as u32)
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(Pcg::next_u64(self))
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dest.chunks_mut(8) {
            let bytes = Pcg::next_u64(self).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}
