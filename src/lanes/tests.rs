//! Every instruction set's lanes give the bits of the one-lane (scalar) code.

use super::pcg::Pcg;
use super::*;
use crate::isa::{Isa, LaneKernel};
use crate::math::{elementary::ln_normal, trig::sin_turns};
use crate::rng::{splitmix64, trajectory_rng, trajectory_state};
use rand::Rng;

/// Runs `check::<R>()` on every instruction set this CPU has.
fn on_every_isa(check: impl Fn(Isa) + Copy) {
    for isa in Isa::available() {
        check(isa);
    }
}

/// Draws `rounds` outputs from lanes seeded like trajectories 0 … of a configuration; with
/// `masked`, lane k advances only on the rounds where [`drawn`] says so.
struct Outputs {
    rounds: usize,
    masked: bool,
}

/// Whether lane `lane` draws in round `round` of a masked [`Outputs`].
fn drawn(round: usize, lane: usize) -> bool {
    !(round + lane).is_multiple_of(3)
}

impl LaneKernel for Outputs {
    type Output = (usize, Vec<u64>);
    fn call<R: Real>(self) -> Self::Output {
        let n = R::LANES;
        let states: Vec<u128> = (0..n as u64).map(|i| trajectory_state(7, 11, i)).collect();
        let mut pcg = Pcg::<R::Bits>::new(&states);
        let mut out = vec![0; n * self.rounds];
        for (round, chunk) in out.chunks_mut(n).enumerate() {
            if self.masked {
                let mask: Vec<u64> = (0..n)
                    .map(|k| if drawn(round, k) { !0 } else { 0 })
                    .collect();
                pcg.next_u64_masked(R::Bits::load(&mask)).store(chunk);
            } else {
                pcg.next_u64().store(chunk);
            }
        }
        (n, out)
    }
}

#[test]
fn lane_generator_is_rand_pcg_bit_for_bit() {
    on_every_isa(|isa| {
        let (n, out) = isa.run_lanes(Outputs {
            rounds: 5000,
            masked: false,
        });
        for lane in 0..n {
            let mut scalar = trajectory_rng(7, 11, lane as u64);
            for (round, chunk) in out.chunks(n).enumerate() {
                assert_eq!(
                    chunk[lane],
                    scalar.next_u64(),
                    "{}: lane {lane}, draw {round}",
                    isa.name()
                );
            }
        }
    });
}

/// Lane k of the j-th vector of `values`, as bits, into `rows[k][first + j]`: one row of
/// results per lane.
fn store_columns<R: Real, const W: usize>(
    values: impl IntoIterator<Item = R>,
    rows: &mut [[u64; W]],
    first: usize,
) {
    let mut buf = [0.0; MAX_LANES];
    for (j, v) in values.into_iter().enumerate() {
        v.store(&mut buf);
        for (row, x) in rows.iter_mut().zip(&buf) {
            row[first + j] = x.to_bits();
        }
    }
}

/// Applies the lane functions to inputs `n` lanes at a time.
struct Apply<'a> {
    inputs: &'a [u64],
}

impl LaneKernel for Apply<'_> {
    type Output = Vec<[u64; 5]>;
    fn call<R: Real>(self) -> Self::Output {
        let n = R::LANES;
        let mut out = Vec::new();
        for pair in self.inputs.chunks_exact(2 * n) {
            let (a, b) = (R::Bits::load(&pair[..n]), R::Bits::load(&pair[n..]));
            let (z0, z1) = normal_pair::<R>(a, b);
            let u = unit::<R>(a);
            let results = [
                z0,
                z1,
                ln_normal(open_unit::<R>(a)),
                sin_turns(u * R::splat(1e6)),
                u,
            ];
            let mut rows = vec![[0u64; 5]; n];
            store_columns(results, &mut rows, 0);
            out.extend(rows);
        }
        out
    }
}

#[test]
fn lane_draws_and_functions_have_the_scalar_bits() {
    let inputs: Vec<u64> = (0..16_000u64).map(splitmix64).collect();
    on_every_isa(|isa| {
        let got = isa.run_lanes(Apply { inputs: &inputs });
        assert_eq!(got.len(), inputs.len() / 2, "one result per input pair");
        let w = isa.run_lanes(Width);
        for (i, row) in got.iter().enumerate() {
            let (block, lane) = (i / w, i % w);
            let (a, b) = (
                inputs[2 * w * block + lane],
                inputs[2 * w * block + w + lane],
            );
            let (z0, z1) = normal_pair::<f64>(a, b);
            let u = unit::<f64>(a);
            let want = [
                z0,
                z1,
                ln_normal(open_unit::<f64>(a)),
                sin_turns(u * 1e6),
                u,
            ];
            assert_eq!(row, &want.map(f64::to_bits), "{}: input {i}", isa.name());
        }
    });
}

/// The lane count of an instruction set.
struct Width;

impl LaneKernel for Width {
    type Output = usize;
    fn call<R: Real>(self) -> usize {
        R::LANES
    }
}

#[test]
fn masked_draws_advance_only_the_masked_lanes() {
    on_every_isa(|isa| {
        let (n, out) = isa.run_lanes(Outputs {
            rounds: 3000,
            masked: true,
        });
        for lane in 0..n {
            let mut scalar = trajectory_rng(7, 11, lane as u64);
            let mut draws = 0;
            for (round, chunk) in out.chunks(n).enumerate() {
                if drawn(round, lane) {
                    assert_eq!(
                        chunk[lane],
                        scalar.next_u64(),
                        "{}: lane {lane}",
                        isa.name()
                    );
                    draws += 1;
                }
            }
            assert!(draws >= 1999, "{draws} draws");
        }
    });
}

/// The comparison masks, `select`, `neg`, and exp and ln with their slow lanes, `n` lanes
/// at a time over pairs of inputs.
struct Compare<'a> {
    inputs: &'a [f64],
}

impl LaneKernel for Compare<'_> {
    type Output = Vec<[u64; 6]>;
    fn call<R: Real>(self) -> Self::Output {
        use crate::math::elementary::{exp_lanes, ln_lanes};
        let n = R::LANES;
        let (mut out, mut bits) = (Vec::new(), vec![0; n]);
        for pair in self.inputs.chunks_exact(2 * n) {
            let (a, b) = (R::load(&pair[..n]), R::load(&pair[n..]));
            let mut rows = vec![[0u64; 6]; n];
            for (j, mask) in [a.lt_mask(b), a.le_mask(b)].into_iter().enumerate() {
                mask.store(&mut bits);
                rows.iter_mut().zip(&bits).for_each(|(r, &v)| r[j] = v);
            }
            let values = [
                R::select(a.lt_mask(b), a, b),
                a.neg(),
                exp_lanes(a),
                ln_lanes(a),
            ];
            store_columns(values, &mut rows, 2);
            out.extend(rows);
        }
        out
    }
}

#[test]
fn masks_and_lane_exp_and_ln_have_the_scalar_bits() {
    use crate::math::elementary::{exp, ln};
    // Ordinary values, ties, NaN, infinities, zeros, subnormals and values beyond exp's fast
    // range, mixed within vectors so the slow lanes meet fast ones.
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        1e-310,
        709.5,
        -720.0,
        -5000.0,
        2.5,
        1e300,
        0.3,
        -0.3,
    ];
    let mut inputs: Vec<f64> = (0..4096u64)
        .map(|i| {
            let u = (splitmix64(i) >> 11) as f64 / (1u64 << 53) as f64;
            (u - 0.5) * 3000.0
        })
        .collect();
    for (i, &v) in specials.iter().cycle().take(2048).enumerate() {
        inputs[(i * 37) % 4096] = v;
    }
    on_every_isa(|isa| {
        let got = isa.run_lanes(Compare { inputs: &inputs });
        let w = isa.run_lanes(Width);
        for (i, row) in got.iter().enumerate() {
            let (block, lane) = (i / w, i % w);
            let (a, b) = (
                inputs[2 * w * block + lane],
                inputs[2 * w * block + w + lane],
            );
            let want = [
                a.lt_mask(b),
                a.le_mask(b),
                (if a < b { a } else { b }).to_bits(),
                (-a).to_bits(),
                exp(a).to_bits(),
                ln(a).to_bits(),
            ];
            // NaNs compare by being NaN (their payload is not specified).
            for (j, (&g, &w)) in row.iter().zip(&want).enumerate() {
                let nan = |v: u64| f64::from_bits(v).is_nan();
                assert!(
                    g == w || (j >= 2 && nan(g) && nan(w)),
                    "{}: input {i} ({a}, {b}), result {j}: {g:#x} against {w:#x}",
                    isa.name()
                );
            }
        }
    });
}
