//! Per-trajectory random streams.
//!
//! Every trajectory owns a [`TrajectoryRng`] whose 128-bit seed is a SplitMix64 hash of
//! (experiment seed, configuration identity, trajectory index). A trajectory's outcome is
//! therefore a pure function of those three, whatever the thread count or the machine. PCG
//! stream ids alone are not used to separate trajectories: streams of one PCG multiplier
//! started from related states can be correlated, a strong mix of the key is not.
//!
//! The draws every law is built from ([`unit`](fn@unit), [`open_unit`], [`normal_pair`]) are here
//! too: each takes a fixed number of 64-bit outputs and passes them through correctly
//! rounded operations and the project's own ln and sine ([`crate::math`]) only, so a draw
//! is the same on every machine, and a vector of trajectories can take its draws side by
//! side with the bits each would take alone.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// The generator every trajectory uses.
pub type TrajectoryRng = Pcg64Mcg;

/// The generator and seeding scheme, named in every result file.
pub const RNG_ALGORITHM: &str = "Pcg64Mcg (PCG XSL-RR 128/64 MCG, rand_pcg 0.10.3) seeded by SplitMix64(seed, config id, index)";

/// A seed as the result files write it: the decimal value with Rust's `u64` suffix, `42u64`.
///
/// The suffix is what makes pandas and R load `summary.csv`'s `seed` column as text by
/// default: a bare decimal loads as a number, and R rounds it to a double above 2⁵³ without a
/// warning (so would any hexadecimal form, which R's `type.convert` also reads as a number).
/// `--seed` and the experiment file's `seed` take it back as written ([`parse_seed`]).
pub fn seed_text(seed: u64) -> String {
    format!("{seed}u64")
}

/// Reads a seed written as a decimal unsigned 64-bit integer, with or without the `u64` suffix
/// of [`seed_text`]: `42`, `42u64`, `18446744073709551615u64`. No sign, spaces or other base.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let digits = text.strip_suffix("u64").unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a seed: write an unsigned 64-bit integer in decimal, as 42 or 42u64"
        ));
    }
    digits.parse().map_err(|_| {
        format!(
            "`{text}` is not a seed: the largest is {}",
            seed_text(u64::MAX)
        )
    })
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix.
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a sequence of words into one, each absorbed through a full SplitMix64 round.
pub fn mix_words(words: &[u64]) -> u64 {
    words.iter().fold(GOLDEN, |state, &w| {
        splitmix64(state.wrapping_add(GOLDEN) ^ splitmix64(w.wrapping_add(GOLDEN)))
    })
}

/// The generator of trajectory `index` of the configuration `config_id` under `seed`.
pub fn trajectory_rng(seed: u64, config_id: u64, index: u64) -> TrajectoryRng {
    TrajectoryRng::new(trajectory_state(seed, config_id, index))
}

/// The 128-bit state [`trajectory_rng`] starts from (before `Pcg64Mcg::new` makes it odd):
/// what the lane generator ([`crate::lanes::pcg::Pcg`]) is seeded with.
pub fn trajectory_state(seed: u64, config_id: u64, index: u64) -> u128 {
    let key = mix_words(&[seed, config_id, index]);
    let lo = splitmix64(key.wrapping_add(GOLDEN));
    let hi = splitmix64(key.wrapping_add(GOLDEN.wrapping_mul(2)));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// A uniform draw on [0, 1): the top 53 bits of one output, scaled (exactly). The bits of
/// rand's `random::<f64>()`.
#[inline(always)]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    crate::lanes::unit(rng.next_u64())
}

/// A uniform draw on the open interval (0, 1): 53 random bits and a half, so neither end
/// (whose logarithm would be infinite or zero) is ever drawn. Its smallest value is 2^−54.
#[inline(always)]
pub fn open_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    crate::lanes::open_unit(rng.next_u64())
}

/// Two independent standard normals by Box & Muller (1958) from two outputs:
/// R = √(−2 ln U₁) with U₁ from [`open_unit`], and an angle of U₂ − 1/2 turns with U₂ from
/// [`unit`](fn@unit), so (R cos θ, R sin θ).
///
/// Exact in law up to the 2^−53 granularity of the uniforms: R ≤ √(108 ln 2) ≈ 8.65, so the
/// tails beyond 8.65σ (probability 5·10⁻¹⁸ per draw) are cut, where a double-precision
/// ziggurat has its own limit. No rejection and no table: every trajectory takes the same
/// number of outputs, which is what lets trajectories draw side by side in vector lanes.
#[inline(always)]
pub fn normal_pair<R: Rng + ?Sized>(rng: &mut R) -> (f64, f64) {
    let first = rng.next_u64();
    crate::lanes::normal_pair::<f64>(first, rng.next_u64())
}

/// One standard normal: the first of a [`normal_pair`] (the second is not kept, so every
/// call takes two outputs).
#[inline(always)]
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    normal_pair(rng).0
}

/// Fills `out` with independent standard normals, two per [`normal_pair`] (the second of the
/// last pair is not kept when `out.len()` is odd).
#[inline(always)]
pub fn normals_into<R: Rng + ?Sized>(rng: &mut R, out: &mut [f64]) {
    let mut pairs = out.chunks_exact_mut(2);
    for pair in &mut pairs {
        (pair[0], pair[1]) = normal_pair(rng);
    }
    if let [last] = pairs.into_remainder() {
        *last = normal(rng);
    }
}

/// FNV-1a over bytes: a stable (version- and platform-independent) 64-bit identity for a
/// configuration's canonical serialisation, finished with SplitMix64 to spread the bits.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = StableHasher::default();
    h.update(bytes);
    h.finish()
}

/// [`stable_hash`] fed piece by piece (for files streamed to disk).
#[derive(Debug, Clone, Copy)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        Self(0xCBF2_9CE4_8422_2325)
    }
}

impl StableHasher {
    /// Absorbs `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        });
    }

    /// The hash of everything absorbed.
    pub fn finish(&self) -> u64 {
        splitmix64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn seeds_read_back_as_written_and_nothing_else_reads() {
        for seed in [0, 1, 42, 1 << 53, (1 << 53) + 1, u64::MAX] {
            assert_eq!(parse_seed(&seed_text(seed)), Ok(seed));
            assert_eq!(parse_seed(&seed.to_string()), Ok(seed));
        }
        assert_eq!(seed_text(u64::MAX), "18446744073709551615u64");
        for bad in [
            "",
            "u64",
            "-1",
            "+1",
            " 1",
            "1 ",
            "0x2a",
            "1e3",
            "42u32",
            "42U64",
            "18446744073709551616",
        ] {
            assert!(parse_seed(bad).is_err(), "{bad:?} was read");
        }
        assert!(
            parse_seed("18446744073709551616u64")
                .unwrap_err()
                .contains("18446744073709551615u64")
        );
    }

    #[test]
    fn streams_differ_and_repeat() {
        let mut r1 = trajectory_rng(1, 2, 3);
        let mut r2 = trajectory_rng(1, 2, 3);
        let mut r3 = trajectory_rng(1, 2, 4);
        let x1: Vec<u64> = (0..8).map(|_| r1.next_u64()).collect();
        let x2: Vec<u64> = (0..8).map(|_| r2.next_u64()).collect();
        let x3: Vec<u64> = (0..8).map(|_| r3.next_u64()).collect();
        assert_eq!(x1, x2);
        assert_ne!(x1, x3);
    }

    #[test]
    fn hash_is_pinned() {
        // Pinned values: changing them changes every published result.
        assert_eq!(splitmix64(0), 0);
        assert_eq!(splitmix64(1), 0x5692_161D_100B_05E5);
        assert_eq!(stable_hash(b""), splitmix64(0xCBF2_9CE4_8422_2325));
    }
}
