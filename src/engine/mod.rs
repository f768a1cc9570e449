//! The driver: runs trajectories of SGD/GD in parallel, generic over the objective and the
//! stochastic-gradient oracle.
//!
//! The inner loop is monomorphised for each (objective, oracle) pair and for where events
//! are measured: no dynamic dispatch and no allocation per step. Trajectory i draws from its
//! own stream (see [`crate::rng`]) and results come back in index order, so the output is
//! the same on any number of threads.

mod lanes;

use crate::dynamics::{NoiseEntry, Schedule};
use crate::events::{EventSpec, Measure, Outcome, Recorder};
use crate::init::InitialPoints;
use crate::isa::Isa;
use crate::lanes::Real;
use crate::objective::Objective;
use crate::oracle::Oracle;
use crate::rng::{TrajectoryRng, trajectory_rng};
use rayon::prelude::*;
use std::ops::Range;

/// Everything that defines one configuration's trajectories.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a, O, S> {
    /// The landscape f.
    pub objective: &'a O,
    /// How x_t moves to x_{t+1}: a noise law on the exact gradient, or minibatch SGD.
    pub oracle: &'a S,
    /// The step sizes.
    pub schedule: &'a Schedule,
    /// Where the noise enters the step.
    pub entry: NoiseEntry,
    /// The law of x_0.
    pub init: &'a InitialPoints,
    /// The events to record.
    pub events: &'a EventSpec,
}

/// Trajectories simulated side by side in one thread. Their dependency chains are
/// independent, so the CPU overlaps them: in low dimension one step is a long chain of
/// dependent floating-point operations, and interleaving several trajectories hides its
/// latency. Each lane keeps its own stream, so results do not depend on the batching.
pub const LANES: usize = 16;

/// Storage for one point. In dimension 1 and 2 a fixed-size array, so that after inlining
/// every loop over coordinates has a known length and disappears; a `Vec` otherwise.
pub trait PointBuf: AsRef<[f64]> + AsMut<[f64]> + Send {
    /// A zero point of dimension `dim`.
    fn zeros(dim: usize) -> Self;
}

impl<const N: usize> PointBuf for [f64; N] {
    #[inline]
    fn zeros(dim: usize) -> Self {
        debug_assert_eq!(dim, N);
        [0.0; N]
    }
}

impl PointBuf for Vec<f64> {
    fn zeros(dim: usize) -> Self {
        vec![0.0; dim]
    }
}

/// One trajectory in flight.
struct Lane<B, St> {
    index: u64,
    rng: TrajectoryRng,
    rec: Recorder,
    state: St,
    x: B,
    y: B,
    grad: B,
    omega: B,
    diverged_at: Option<u64>,
}

/// y = x − η g; returns ‖y − x*‖². One trajectory (`f64`) or a vector of them (`x[i]`: coordinate i of every lane), with
/// the same operations in the same order.
#[inline(always)]
fn gradient_step<L: Real>(x: &[L], grad: &[L], eta: L, target: &[L], y: &mut [L]) -> L {
    let mut dist2 = L::splat(0.0);
    for (((y, &x), &g), &c) in y.iter_mut().zip(x).zip(grad).zip(target) {
        *y = x - eta * g;
        let d = *y - c;
        dist2 = dist2 + d * d;
    }
    dist2
}

/// ‖x − x*‖².
#[inline(always)]
fn distance2(x: &[f64], target: &[f64]) -> f64 {
    let mut dist2 = 0.0;
    for (x, c) in x.iter().zip(target) {
        let d = x - c;
        dist2 += d * d;
    }
    dist2
}

impl<B: PointBuf, St: Send> Lane<B, St> {
    fn new<O: Objective, S: Oracle<O, State = St>>(
        p: &Problem<'_, O, S>,
        seed: u64,
        config_id: u64,
        index: u64,
    ) -> Self {
        let dim = p.objective.dim();
        let mut rng = trajectory_rng(seed, config_id, index);
        let mut x = B::zeros(dim);
        p.init.sample_into(&mut rng, x.as_mut());
        Lane {
            index,
            rng,
            rec: Recorder::new(p.events, p.schedule.total_steps()),
            state: p.oracle.state(p.objective),
            x,
            y: B::zeros(dim),
            grad: B::zeros(dim),
            omega: B::zeros(dim),
            diverged_at: None,
        }
    }

    /// Records the events on y at t and (unless `last`) moves x to x_{t+1}. (Events on x
    /// are taken for all lanes together by [`step_lanes`].)
    #[inline(always)]
    fn step_on_y<O: Objective, S: Oracle<O, State = St>>(
        &mut self,
        p: &Problem<'_, O, S>,
        t: u64,
        eta: f64,
        last: bool,
    ) {
        if self.observe_y(p, t, eta) && !last {
            self.advance(p, eta);
        }
    }

    /// Computes y_t = x_t − η∇f(x_t) when the oracle steps from it or when events are
    /// measured at t, and records the events at t on y_t; false on divergence.
    #[inline(always)]
    fn observe_y<O: Objective, S: Oracle<O, State = St>>(
        &mut self,
        p: &Problem<'_, O, S>,
        t: u64,
        eta: f64,
    ) -> bool {
        // Minibatch SGD never needs y to step: computing it (n/B times a step's cost) is
        // left to the times where events on y are measured.
        if !(S::USES_Y || self.rec.wants(t)) {
            return true;
        }
        let dist2 = self.refresh_y(p, eta);
        self.record(t, dist2)
    }

    /// Records the events at t for ‖·‖² = `dist2`; false (and the divergence noted) when it
    /// is not finite.
    #[inline(always)]
    fn record(&mut self, t: u64, dist2: f64) -> bool {
        if !dist2.is_finite() {
            self.diverged_at = Some(t);
            return false;
        }
        self.rec.observe(t, dist2);
        true
    }

    /// y = x − η∇f(x); returns ‖y − x*‖².
    #[inline(always)]
    fn refresh_y<O: Objective, S>(&mut self, p: &Problem<'_, O, S>, eta: f64) -> f64 {
        let (x, grad, y) = (self.x.as_ref(), self.grad.as_mut(), self.y.as_mut());
        p.objective.grad_into(x, grad);
        gradient_step(x, grad, eta, p.objective.target(), y)
    }

    /// Moves x_t to x_{t+1} (y_t must be current when the oracle uses it).
    #[inline(always)]
    fn advance<O: Objective, S: Oracle<O, State = St>>(&mut self, p: &Problem<'_, O, S>, eta: f64) {
        if S::IS_ZERO {
            std::mem::swap(&mut self.x, &mut self.y);
            return;
        }
        p.oracle.advance(
            p.objective,
            p.entry,
            &mut self.state,
            &mut self.rng,
            eta,
            self.x.as_mut(),
            self.y.as_mut(),
            self.grad.as_mut(),
            self.omega.as_mut(),
        );
    }

    fn finish<O: Objective, S: Oracle<O, State = St>>(mut self, p: &Problem<'_, O, S>) -> Outcome {
        let obj = p.objective;
        let mut value = None;
        if self.diverged_at.is_none() && !S::USES_Y {
            // y_T, which a minibatch oracle did not need, and f(x_T) in the same pass.
            let (x, grad) = (self.x.as_ref(), self.grad.as_mut());
            value = Some(obj.value_and_grad_into(x, grad));
            gradient_step(
                x,
                grad,
                p.schedule.final_eta(),
                obj.target(),
                self.y.as_mut(),
            );
        }
        outcome(
            p,
            self.index,
            &mut self.rec,
            self.diverged_at,
            self.x.as_ref(),
            self.y.as_ref(),
            value,
        )
    }
}

/// A trajectory's outcome from its recorder, its divergence step and its last x_T and y_T
/// (`value`: f(x_T) when already computed).
fn outcome<O: Objective, S>(
    p: &Problem<'_, O, S>,
    index: u64,
    rec: &mut Recorder,
    diverged_at: Option<u64>,
    x: &[f64],
    y: &[f64],
    value: Option<f64>,
) -> Outcome {
    let obj = p.objective;
    let stayed = p.events.stay.as_ref().map(|stay| {
        let exited = rec.first_exit().is_some_and(|e| e <= stay.to);
        let blew_up = diverged_at.is_some_and(|d| d <= stay.to);
        !exited && !blew_up
    });
    let (final_x, final_dist, final_y_dist, final_value) = if diverged_at.is_some() {
        (vec![f64::NAN; x.len()], f64::NAN, f64::NAN, f64::NAN)
    } else {
        let dist = |v: &[f64]| distance2(v, obj.target()).sqrt();
        let value = value.unwrap_or_else(|| obj.value(x));
        (x.to_vec(), dist(x), dist(y), value)
    };
    Outcome {
        index,
        first_hit: rec.first_hit(),
        stayed,
        first_exit: rec.first_exit(),
        snapshots: rec.take_snapshots(),
        diverged_at,
        final_x,
        final_dist,
        final_y_dist,
        final_value,
    }
}

/// Simulates trajectories `indices` (at most a few, see [`LANES`]) side by side on this
/// thread: x_0 … x_T each, drawing x_0 and then every step's noise from the trajectory's
/// own stream.
pub fn simulate_batch<O: Objective, S: Oracle<O>>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    // The constants first: the lane kernels are then not compiled for the pairs that can
    // never run in lanes (finite sums, minibatch SGD, …): minutes less to build.
    if O::RUNS_IN_LANES && S::LANES && in_lanes(p) {
        return Isa::detect().run_lanes(lanes::Batch {
            p,
            seed,
            config_id,
            indices,
        });
    }
    // Fixed-size points for d = 1, 2 where a step is cheap (closed-form landscapes, events
    // on y); finite sums, whose cost is in the examples, and events on x use vectors.
    match (p.events.on, p.objective.dim()) {
        (Measure::Y, 1) if O::SMALL_DIM_PATHS => {
            simulate_lanes::<O, S, [f64; 1], false>(p, seed, config_id, indices)
        }
        (Measure::Y, 2) if O::SMALL_DIM_PATHS => {
            simulate_lanes::<O, S, [f64; 2], false>(p, seed, config_id, indices)
        }
        (Measure::Y, _) => simulate_lanes::<O, S, Vec<f64>, false>(p, seed, config_id, indices),
        (Measure::X, _) => simulate_lanes::<O, S, Vec<f64>, true>(p, seed, config_id, indices),
    }
}

fn simulate_lanes<O: Objective, S: Oracle<O>, B: PointBuf, const ON_X: bool>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    let mut lanes: Vec<Lane<B, S::State>> =
        indices.map(|i| Lane::new(p, seed, config_id, i)).collect();
    let mut dist2 = vec![0.0; lanes.len()];
    let mut t: u64 = 0;
    for stage in p.schedule.stages() {
        for _ in 0..stage.steps {
            step_lanes::<O, S, B, ON_X>(p, &mut lanes, &mut dist2, t, stage.eta, false);
            t += 1;
        }
    }
    let eta = p.schedule.final_eta();
    step_lanes::<O, S, B, ON_X>(p, &mut lanes, &mut dist2, t, eta, true);
    lanes.into_iter().map(|l| l.finish(p)).collect()
}

/// One step t of every live lane: events on y lane by lane ([`Lane::step_on_y`]); events on
/// x with the distances of all lanes taken together by [`distances2`]. Each lane does
/// exactly what it would alone.
#[inline(always)]
fn step_lanes<O: Objective, S: Oracle<O>, B: PointBuf, const ON_X: bool>(
    p: &Problem<'_, O, S>,
    lanes: &mut [Lane<B, S::State>],
    dist2: &mut [f64],
    t: u64,
    eta: f64,
    last: bool,
) {
    let live = |l: &&mut Lane<B, S::State>| l.diverged_at.is_none();
    if !ON_X {
        for lane in lanes.iter_mut().filter(live) {
            lane.step_on_y(p, t, eta, last);
        }
        return;
    }
    if S::USES_Y {
        for lane in lanes.iter_mut().filter(live) {
            lane.refresh_y(p, eta);
        }
    }
    distances2(lanes, |l| l.x.as_ref(), p.objective.target(), dist2);
    for (lane, &d) in lanes.iter_mut().zip(dist2.iter()).filter(|(l, _)| live(l)) {
        if lane.record(t, d) && !last {
            lane.advance(p, eta);
        }
    }
}

/// ‖x − x*‖² of every lane's x into `out`, eight lanes side by side (a last group of
/// fewer lanes one by one). Each sum runs in coordinate order, so it has the bits of
/// [`distance2`]; but where one sum waits on the latency of each addition (d = 2410 for
/// the digits MLP), eight independent ones overlap.
fn distances2<T>(lanes: &[T], x: impl Fn(&T) -> &[f64], target: &[f64], out: &mut [f64]) {
    const K: usize = 8;
    let d = target.len();
    for (group, out) in lanes.chunks(K).zip(out.chunks_mut(K)) {
        let Ok(group) = <&[T; K]>::try_from(group) else {
            for (lane, o) in group.iter().zip(out) {
                *o = distance2(x(lane), target);
            }
            continue;
        };
        let xs: [&[f64]; K] = std::array::from_fn(|k| &x(&group[k])[..d]);
        let mut sums = [0.0; K];
        for (i, &c) in target.iter().enumerate() {
            for (sum, x) in sums.iter_mut().zip(&xs) {
                let v = x[i] - c;
                *sum += v * v;
            }
        }
        out.copy_from_slice(&sums);
    }
}

/// Whether the problem's trajectories run in SIMD lanes ([`crate::lanes`]): an objective
/// the engine may run in lanes ([`Objective::RUNS_IN_LANES`]), a law with a lane sampler
/// (in this dimension), events on y and the noise entering the step. Everything else runs
/// one trajectory at a time. Either way the bits are the same.
pub fn in_lanes<O: Objective, S: Oracle<O>>(p: &Problem<'_, O, S>) -> bool {
    O::RUNS_IN_LANES && S::LANES && lanes::eligible(p)
}

/// Simulates the single trajectory `index`.
pub fn simulate<O: Objective, S: Oracle<O>>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    index: u64,
) -> Outcome {
    simulate_batch(p, seed, config_id, index..index + 1)
        .pop()
        .expect("one outcome")
}

/// Replays trajectory `index` step by step, calling `visit(t, x_t, y_t)` for t = 0 … T (or
/// until y_t is not finite). The stream and the arithmetic are those of [`run`], so this
/// retraces exactly the trajectory whose outcome `run` reports: used by the assumption
/// checks, which need the points visited, not just the events. y_t is computed at every t,
/// also for minibatch oracles.
pub fn trace<O: Objective, S: Oracle<O>>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    index: u64,
    mut visit: impl FnMut(u64, &[f64], &[f64]),
) {
    let mut lane: Lane<Vec<f64>, S::State> = Lane::new(p, seed, config_id, index);
    let mut t = 0;
    for stage in p.schedule.stages() {
        for _ in 0..stage.steps {
            if !lane.refresh_y(p, stage.eta).is_finite() {
                return;
            }
            visit(t, &lane.x, &lane.y);
            lane.advance(p, stage.eta);
            t += 1;
        }
    }
    if lane.refresh_y(p, p.schedule.final_eta()).is_finite() {
        visit(t, &lane.x, &lane.y);
    }
}

/// Runs trajectories `indices` in parallel on the current rayon pool and returns their
/// outcomes in index order. The result depends only on (problem, seed, config_id, indices).
pub fn run<O: Objective, S: Oracle<O>>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    let (start, end) = (indices.start, indices.end.max(indices.start));
    let n = usize::try_from(end - start).expect("a range of trajectories that fits in memory");
    // Each batch writes its outcomes straight into their places in the result: gathering
    // per-batch vectors afterwards is a serial copy (and the page faults of a fresh result)
    // that cost W1 about 2% of its two-thread time.
    let mut out: Vec<Outcome> = Vec::with_capacity(n);
    out.spare_capacity_mut()[..n]
        .par_chunks_mut(LANES)
        .enumerate()
        .for_each(|(b, slots)| {
            let lo = start + (b * LANES) as u64;
            let batch = simulate_batch(p, seed, config_id, lo..lo + slots.len() as u64);
            assert_eq!(batch.len(), slots.len(), "one outcome per trajectory");
            for (slot, o) in slots.iter_mut().zip(batch) {
                slot.write(o);
            }
        });
    // SAFETY: every chunk of the first n slots was written in full (checked above; a panic
    // in any chunk propagates before this line, leaving the vector empty).
    unsafe { out.set_len(n) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_side_by_side_have_the_bits_of_one_at_a_time() {
        // 19 lanes: two full groups of eight and three alone; values whose sums depend on
        // the order of the additions.
        let d: usize = 101;
        let target: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
        let lanes: Vec<Vec<f64>> = (0..19)
            .map(|l| {
                (0..d)
                    .map(|i| ((l * d + i) as f64 * 1.618).cos() * 10f64.powi((i % 9) as i32 - 4))
                    .collect()
            })
            .collect();
        let mut out = vec![f64::NAN; lanes.len()];
        distances2(&lanes, |x| x.as_slice(), &target, &mut out);
        for (x, &got) in lanes.iter().zip(&out) {
            assert_eq!(got.to_bits(), distance2(x, &target).to_bits());
            let other_order: f64 = x
                .iter()
                .zip(&target)
                .rev()
                .map(|(a, c)| (a - c) * (a - c))
                .sum();
            assert!((got - other_order).abs() <= 1e-12 * got);
        }
    }
}
