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

/// Draws `rounds` outputs from lanes seeded like trajectories 0 … of a configuration.
struct Outputs {
    rounds: usize,
}

impl LaneKernel for Outputs {
    type Output = (usize, Vec<u64>);
    fn call<R: Real>(self) -> Self::Output {
        let n = R::LANES;
        let states: Vec<u128> = (0..n as u64).map(|i| trajectory_state(7, 11, i)).collect();
        let mut pcg = Pcg::<R::Bits>::new(&states);
        let mut out = vec![0; n * self.rounds];
        for chunk in out.chunks_mut(n) {
            pcg.next_u64().store(chunk);
        }
        (n, out)
    }
}

#[test]
fn lane_generator_is_rand_pcg_bit_for_bit() {
    on_every_isa(|isa| {
        let (n, out) = isa.run_lanes(Outputs { rounds: 5000 });
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

/// Applies the lane functions to inputs `n` lanes at a time.
struct Apply<'a> {
    inputs: &'a [u64],
}

impl LaneKernel for Apply<'_> {
    type Output = Vec<[u64; 5]>;
    fn call<R: Real>(self) -> Self::Output {
        let n = R::LANES;
        let mut out = Vec::new();
        let mut lanes = vec![[0.0; 5]; n];
        let mut buf = vec![0.0; n];
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
            for (j, v) in results.into_iter().enumerate() {
                v.store(&mut buf);
                for (lane, x) in lanes.iter_mut().zip(&buf) {
                    lane[j] = *x;
                }
            }
            out.extend(lanes.iter().map(|l| l.map(f64::to_bits)));
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
