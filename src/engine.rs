//! The driver: runs trajectories of SGD/GD in parallel, generic over objective and noise.
//!
//! The inner loop is monomorphised for each (objective, noise) pair: no dynamic dispatch and
//! no allocation per step. Trajectory i draws from its own stream (see [`crate::rng`]) and
//! results come back in index order, so the output is the same on any number of threads.

use crate::dynamics::{NoiseEntry, Schedule};
use crate::events::{EventSpec, Outcome, Recorder};
use crate::init::InitialPoints;
use crate::noise::NoiseLaw;
use crate::objective::Objective;
use crate::rng::{TrajectoryRng, trajectory_rng};
use rayon::prelude::*;
use std::ops::Range;

/// Everything that defines one configuration's trajectories.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a, O, W> {
    /// The landscape f.
    pub objective: &'a O,
    /// The noise law W.
    pub noise: &'a W,
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
struct Lane<B> {
    index: u64,
    rng: TrajectoryRng,
    rec: Recorder,
    x: B,
    y: B,
    grad: B,
    omega: B,
    diverged_at: Option<u64>,
}

/// y = x − η g; returns ‖y − x*‖².
#[inline(always)]
fn gradient_step(x: &[f64], grad: &[f64], eta: f64, target: &[f64], y: &mut [f64]) -> f64 {
    let mut dist2 = 0.0;
    for (((y, x), g), c) in y.iter_mut().zip(x).zip(grad).zip(target) {
        *y = x - eta * g;
        let d = *y - c;
        dist2 += d * d;
    }
    dist2
}

impl<B: PointBuf> Lane<B> {
    fn new<O: Objective, W: NoiseLaw>(
        p: &Problem<'_, O, W>,
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
            x,
            y: B::zeros(dim),
            grad: B::zeros(dim),
            omega: B::zeros(dim),
            diverged_at: None,
        }
    }

    /// Computes y_t, records events at t, and (unless `last`) moves x to x_{t+1}.
    #[inline(always)]
    fn step<O: Objective, W: NoiseLaw>(
        &mut self,
        p: &Problem<'_, O, W>,
        t: u64,
        eta: f64,
        last: bool,
    ) {
        if self.observe(p, t, eta) && !last {
            self.advance(p, eta);
        }
    }

    /// Computes y_t = x_t − η∇f(x_t) and records the events at t; false on divergence.
    #[inline(always)]
    fn observe<O: Objective, W: NoiseLaw>(
        &mut self,
        p: &Problem<'_, O, W>,
        t: u64,
        eta: f64,
    ) -> bool {
        let (x, grad, y) = (self.x.as_ref(), self.grad.as_mut(), self.y.as_mut());
        p.objective.grad_into(x, grad);
        let dist2 = gradient_step(x, grad, eta, p.objective.target(), y);
        if !dist2.is_finite() {
            self.diverged_at = Some(t);
            return false;
        }
        self.rec.observe(t, dist2);
        true
    }

    /// Moves x_t to x_{t+1} (y_t must be current).
    #[inline(always)]
    fn advance<O: Objective, W: NoiseLaw>(&mut self, p: &Problem<'_, O, W>, eta: f64) {
        if W::IS_ZERO {
            std::mem::swap(&mut self.x, &mut self.y);
            return;
        }
        p.noise
            .sample_into(self.x.as_ref(), &mut self.rng, self.omega.as_mut());
        match p.entry {
            NoiseEntry::Step => {
                let (x, y, omega) = (self.x.as_mut(), self.y.as_ref(), self.omega.as_ref());
                for ((x, y), w) in x.iter_mut().zip(y).zip(omega) {
                    *x = y - eta * w;
                }
            }
            NoiseEntry::Point => {
                // Reuse y as the perturbed point x − ηω, then step from x with ∇f there.
                let (x, z, omega, grad) = (
                    self.x.as_mut(),
                    self.y.as_mut(),
                    self.omega.as_ref(),
                    self.grad.as_mut(),
                );
                for ((z, x), w) in z.iter_mut().zip(x.iter()).zip(omega) {
                    *z = x - eta * w;
                }
                p.objective.grad_into(z, grad);
                for (x, g) in x.iter_mut().zip(grad.iter()) {
                    *x -= eta * g;
                }
            }
        }
    }

    fn finish<O: Objective, W: NoiseLaw>(mut self, p: &Problem<'_, O, W>) -> Outcome {
        let obj = p.objective;
        let target = obj.target();
        let diverged_at = self.diverged_at;
        let stayed = p.events.stay.as_ref().map(|stay| {
            let exited = self.rec.first_exit().is_some_and(|e| e <= stay.to);
            let blew_up = diverged_at.is_some_and(|d| d <= stay.to);
            !exited && !blew_up
        });
        let (x, y) = (self.x.as_ref(), self.y.as_ref());
        let (final_x, final_dist, final_y_dist, final_value) = if diverged_at.is_some() {
            (vec![f64::NAN; x.len()], f64::NAN, f64::NAN, f64::NAN)
        } else {
            let dist = |v: &[f64]| {
                v.iter()
                    .zip(target)
                    .map(|(v, c)| (v - c) * (v - c))
                    .sum::<f64>()
                    .sqrt()
            };
            (x.to_vec(), dist(x), dist(y), obj.value(x))
        };
        Outcome {
            index: self.index,
            first_hit: self.rec.first_hit(),
            stayed,
            first_exit: self.rec.first_exit(),
            snapshots: self.rec.take_snapshots(),
            diverged_at,
            final_x,
            final_dist,
            final_y_dist,
            final_value,
        }
    }
}

/// Simulates trajectories `indices` (at most a few, see [`LANES`]) side by side on this
/// thread: x_0 … x_T each, drawing x_0 and then every ω_t from the trajectory's own stream.
pub fn simulate_batch<O: Objective, W: NoiseLaw>(
    p: &Problem<'_, O, W>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    match p.objective.dim() {
        1 => simulate_lanes::<O, W, [f64; 1]>(p, seed, config_id, indices),
        2 => simulate_lanes::<O, W, [f64; 2]>(p, seed, config_id, indices),
        _ => simulate_lanes::<O, W, Vec<f64>>(p, seed, config_id, indices),
    }
}

fn simulate_lanes<O: Objective, W: NoiseLaw, B: PointBuf>(
    p: &Problem<'_, O, W>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    let mut lanes: Vec<Lane<B>> = indices.map(|i| Lane::new(p, seed, config_id, i)).collect();
    let mut t: u64 = 0;
    for stage in p.schedule.stages() {
        for _ in 0..stage.steps {
            for lane in lanes.iter_mut().filter(|l| l.diverged_at.is_none()) {
                lane.step(p, t, stage.eta, false);
            }
            t += 1;
        }
    }
    let eta = p.schedule.final_eta();
    for lane in lanes.iter_mut().filter(|l| l.diverged_at.is_none()) {
        lane.step(p, t, eta, true);
    }
    lanes.into_iter().map(|l| l.finish(p)).collect()
}

/// Simulates the single trajectory `index`.
pub fn simulate<O: Objective, W: NoiseLaw>(
    p: &Problem<'_, O, W>,
    seed: u64,
    config_id: u64,
    index: u64,
) -> Outcome {
    simulate_batch(p, seed, config_id, index..index + 1)
        .pop()
        .expect("one outcome")
}

/// Replays trajectory `index` step by step, calling `visit(t, x_t, y_t)` for t = 0 … T (or
/// until it diverges). The stream and the arithmetic are those of [`run`], so this retraces
/// exactly the trajectory whose outcome `run` reports: used by the assumption checks, which
/// need the points visited, not just the events.
pub fn trace<O: Objective, W: NoiseLaw>(
    p: &Problem<'_, O, W>,
    seed: u64,
    config_id: u64,
    index: u64,
    mut visit: impl FnMut(u64, &[f64], &[f64]),
) {
    let mut lane: Lane<Vec<f64>> = Lane::new(p, seed, config_id, index);
    let mut t = 0;
    for stage in p.schedule.stages() {
        for _ in 0..stage.steps {
            if !lane.observe(p, t, stage.eta) {
                return;
            }
            visit(t, &lane.x, &lane.y);
            lane.advance(p, stage.eta);
            t += 1;
        }
    }
    if lane.observe(p, t, p.schedule.final_eta()) {
        visit(t, &lane.x, &lane.y);
    }
}

/// Runs trajectories `indices` in parallel on the current rayon pool and returns their
/// outcomes in index order. The result depends only on (problem, seed, config_id, indices).
pub fn run<O: Objective, W: NoiseLaw>(
    p: &Problem<'_, O, W>,
    seed: u64,
    config_id: u64,
    indices: Range<u64>,
) -> Vec<Outcome> {
    let (start, end) = (indices.start, indices.end.max(indices.start));
    let batches = (end - start).div_ceil(LANES as u64);
    let per_batch: Vec<Vec<Outcome>> = (0..batches)
        .into_par_iter()
        .map(|b| {
            let lo = start + b * LANES as u64;
            simulate_batch(p, seed, config_id, lo..(lo + LANES as u64).min(end))
        })
        .collect();
    per_batch.into_iter().flatten().collect()
}
