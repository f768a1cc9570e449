//! The engine in SIMD lanes: one trajectory per lane of a vector ([`crate::lanes`]),
//! coordinate-major, for an objective the engine may run in lanes
//! ([`Objective::RUNS_IN_LANES`]: closed forms with a lane gradient, and formulas, tables
//! and users' objectives through their scalar gradient lane by lane), a law with a lane
//! sampler, events on y and the noise entering the step (the paper's process). Every other
//! problem runs one trajectory at a time ([`super::Lane`]), as before lanes existed.
//!
//! Lane k does exactly the operations the one-trajectory engine does for its trajectory,
//! in the same order, on the same stream: its x_0 is drawn through its scalar stream, every
//! step's noise through its lane of the vector generator, whose bits are `rand_pcg`'s. So
//! the outcomes are the same bits on every instruction set and as without lanes (tested).

use super::{Problem, gradient_step, outcome};
use crate::dynamics::NoiseEntry;
use crate::events::{Measure, Outcome, Recorder};
use crate::isa::LaneKernel;
use crate::lanes::{MAX_LANES, Real, pcg::Pcg};
use crate::objective::{Objective, grad_lane_by_lane};
use crate::oracle::Oracle;
use crate::rng::trajectory_state;
use std::ops::Range;

/// Whether the problem runs in lanes.
pub(super) fn eligible<O: Objective, S: Oracle<O>>(p: &Problem<'_, O, S>) -> bool {
    O::RUNS_IN_LANES
        && p.oracle.has_lanes(p.objective.dim())
        && p.events.on == Measure::Y
        && p.entry == NoiseEntry::Step
        && S::USES_Y
}

/// Below this dimension a step is a short chain of dependent operations, so the blocks of
/// a batch advance step by step together (the CPU overlaps their chains); from it on, one
/// block after the other (their points would not fit the L1 cache together).
const INTERLEAVE_BELOW: usize = 8;

/// Trajectories `indices` of a problem, in blocks of one vector each.
pub(super) struct Batch<'a, 'p, O, S> {
    pub p: &'a Problem<'p, O, S>,
    pub seed: u64,
    pub config_id: u64,
    pub indices: Range<u64>,
}

impl<O: Objective, S: Oracle<O>> LaneKernel for Batch<'_, '_, O, S> {
    type Output = Vec<Outcome>;

    #[inline(always)]
    fn call<L: Real>(self) -> Vec<Outcome> {
        let Batch {
            p,
            seed,
            config_id,
            indices,
        } = self;
        let w = L::LANES as u64;
        let blocks: Vec<Range<u64>> = (indices.start..indices.end)
            .step_by(L::LANES)
            .map(|lo| lo..(lo + w).min(indices.end))
            .collect();
        let mut out = Vec::with_capacity((indices.end - indices.start) as usize);
        if p.objective.dim() < INTERLEAVE_BELOW {
            simulate::<O, S, L>(p, seed, config_id, &blocks, &mut out);
        } else {
            for block in blocks {
                simulate::<O, S, L>(p, seed, config_id, &[block], &mut out);
            }
        }
        out
    }
}

/// One vector of trajectories in flight.
struct Block<L: Real> {
    indices: Range<u64>,
    rng: Pcg<L::Bits>,
    recs: Vec<Recorder>,
    diverged_at: [Option<u64>; MAX_LANES],
    /// Per lane, the squared distance at or below which an event may happen at the next
    /// step: the reach radius² until the lane has reached (−∞ after).
    hit_below: L,
    /// Per lane, the squared distance above which the stay event may end: the stay
    /// radius² until the lane has left (+∞ after, and without a stay event).
    exit_above: L,
    x: Vec<L>,
    y: Vec<L>,
    grad: Vec<L>,
    omega: Vec<L>,
    /// The lanes' points and gradients one after the other, for an objective without a
    /// lane gradient ([`grad_lane_by_lane`]).
    xs: Vec<f64>,
    gs: Vec<f64>,
}

impl<L: Real> Block<L> {
    /// The lanes' streams and x_0, each x_0 drawn through its scalar stream (the bits of
    /// the one-trajectory engine). Lanes past the range (a last, partial block) repeat its
    /// last trajectory and are dropped at the end.
    fn new<O: Objective, S>(
        p: &Problem<'_, O, S>,
        seed: u64,
        config_id: u64,
        indices: Range<u64>,
    ) -> Self {
        let d = p.objective.dim();
        let n = (indices.end - indices.start) as usize;
        let mut states = [0u128; MAX_LANES];
        let mut x = vec![L::splat(0.0); d];
        let mut xk = vec![0.0; d];
        for (k, state) in states.iter_mut().enumerate().take(L::LANES) {
            let index = indices.start + k.min(n - 1) as u64;
            let mut stream = Pcg::<u64>::new(&[trajectory_state(seed, config_id, index)]);
            p.init.sample_into(&mut stream, &mut xk);
            *state = stream.states()[0];
            for (v, &c) in x.iter_mut().zip(&xk) {
                *v = v.with_lane(k, c);
            }
        }
        let reach2 = p.events.reach_radius * p.events.reach_radius;
        let stay2 = p
            .events
            .stay
            .as_ref()
            .map_or(f64::INFINITY, |s| s.radius * s.radius);
        Block {
            hit_below: L::splat(reach2),
            exit_above: L::splat(stay2),
            rng: Pcg::new(&states[..L::LANES]),
            recs: (0..n)
                .map(|_| Recorder::new(p.events, p.schedule.total_steps()))
                .collect(),
            diverged_at: [None; MAX_LANES],
            y: vec![L::splat(0.0); d],
            grad: vec![L::splat(0.0); d],
            omega: vec![L::splat(0.0); d],
            xs: if O::LANES {
                Vec::new()
            } else {
                vec![0.0; d * L::LANES]
            },
            gs: if O::LANES {
                Vec::new()
            } else {
                vec![0.0; d * L::LANES]
            },
            x,
            indices,
        }
    }

    /// Step t: y_t = x_t − η∇f(x_t), the events on y_t, and (unless `last`)
    /// x_{t+1} = y_t − ηω_t.
    #[inline(always)]
    fn step<O: Objective, S: Oracle<O>>(
        &mut self,
        p: &Problem<'_, O, S>,
        events: &Events,
        target: &[L],
        t: u64,
        eta: f64,
        last: bool,
    ) {
        // ω_t first: it depends on x_t alone, so the CPU can draw it while the previous
        // step's x_t is still being computed (the draws and their order are the same).
        if !last && !S::IS_ZERO {
            p.oracle
                .sample_lanes(&self.x, &mut self.rng, &mut self.omega);
        }
        if O::LANES {
            p.objective.grad_lanes(&self.x, &mut self.grad);
        } else {
            grad_lane_by_lane(
                p.objective,
                &self.x,
                &mut self.grad,
                &mut self.xs,
                &mut self.gs,
            );
        }
        let eta_v = L::splat(eta);
        let dist2 = gradient_step(&self.x, &self.grad, eta_v, target, &mut self.y);
        // Lean bookkeeping: one vector test says whether any lane can record anything at
        // t (reach, leave the stay ball, diverge, or a snapshot); only then are the lanes
        // visited one by one, with the recorders' exact rules.
        let busy = self.hit_below.any_ge(dist2)
            || (t >= events.stay_from && dist2.any_not_le(self.exit_above))
            || dist2.any_not_le(L::splat(f64::MAX))
            || events.snapshot_at(t);
        if busy {
            self.record(t, dist2, target);
        }
        if last {
            return;
        }
        if S::IS_ZERO {
            std::mem::swap(&mut self.x, &mut self.y);
            return;
        }
        for ((x, &y), &w) in self.x.iter_mut().zip(&self.y).zip(&self.omega) {
            *x = y - eta_v * w;
        }
    }

    /// The events at t, lane by lane, and the thresholds of the busy test updated.
    #[cold]
    fn record(&mut self, t: u64, dist2: L, target: &[L]) {
        let mut d2 = [0.0; MAX_LANES];
        dist2.store(&mut d2);
        let live = self.recs.len();
        for (k, &d2k) in d2.iter().enumerate().take(live) {
            if self.diverged_at[k].is_some() {
                continue;
            }
            let rec = &mut self.recs[k];
            if !d2k.is_finite() {
                self.diverged_at[k] = Some(t);
                // Out of the busy test: its outcome is settled, so its y_t (from which
                // x_{t+1} is made) goes back to x* (finite distances from now on), and its
                // thresholds can never fire.
                self.hit_below = self.hit_below.with_lane(k, f64::NEG_INFINITY);
                self.exit_above = self.exit_above.with_lane(k, f64::INFINITY);
                for (y, c) in self.y.iter_mut().zip(target) {
                    *y = y.with_lane(k, c.lane(k));
                }
                continue;
            }
            rec.observe(t, d2k);
            if rec.first_hit().is_some() {
                self.hit_below = self.hit_below.with_lane(k, f64::NEG_INFINITY);
            }
            if rec.first_exit().is_some() {
                self.exit_above = self.exit_above.with_lane(k, f64::INFINITY);
            }
        }
    }

    /// The outcomes of the block's trajectories, in index order.
    fn finish<O: Objective, S>(mut self, p: &Problem<'_, O, S>, out: &mut Vec<Outcome>) {
        let d = self.x.len();
        let (mut xk, mut yk) = (vec![0.0; d], vec![0.0; d]);
        for (k, index) in self.indices.clone().enumerate() {
            for i in 0..d {
                (xk[i], yk[i]) = (self.x[i].lane(k), self.y[i].lane(k));
            }
            let rec = &mut self.recs[k];
            out.push(outcome(p, index, rec, self.diverged_at[k], &xk, &yk, None));
        }
    }
}

/// What the busy test needs of the events besides the radii.
struct Events {
    /// The first step of the stay window (never without a stay event).
    stay_from: u64,
    /// The snapshot times.
    snapshots: Vec<u64>,
}

impl Events {
    #[inline(always)]
    fn snapshot_at(&self, t: u64) -> bool {
        !self.snapshots.is_empty() && self.snapshots.binary_search(&t).is_ok()
    }
}

/// Blocks `blocks` advanced step by step together.
#[inline(always)]
fn simulate<O: Objective, S: Oracle<O>, L: Real>(
    p: &Problem<'_, O, S>,
    seed: u64,
    config_id: u64,
    blocks: &[Range<u64>],
    out: &mut Vec<Outcome>,
) {
    let target: Vec<L> = p.objective.target().iter().map(|&c| L::splat(c)).collect();
    let events = Events {
        stay_from: p.events.stay.as_ref().map_or(u64::MAX, |s| s.from),
        snapshots: p.events.snapshots.clone(),
    };
    let mut blocks: Vec<Block<L>> = blocks
        .iter()
        .map(|r| Block::new(p, seed, config_id, r.clone()))
        .collect();
    let mut t: u64 = 0;
    for stage in p.schedule.stages() {
        for _ in 0..stage.steps {
            for b in blocks.iter_mut() {
                b.step(p, &events, &target, t, stage.eta, false);
            }
            t += 1;
        }
    }
    let eta = p.schedule.final_eta();
    for b in blocks.iter_mut() {
        b.step(p, &events, &target, t, eta, true);
    }
    for b in blocks {
        b.finish(p, out);
    }
}
