//! Simulating one configuration (a cell), or a range of its trajectories, folded into an
//! [`Accumulator`]; and the results a run reports.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::stats::aggregate::{Accumulator, CHUNK, PART};
use crate::stats::sequential::BetaBinomialCs;
use crate::stats::{ConfigSummary, StopReason, StopRule};
use std::ops::ControlFlow;
use std::time::Duration;

/// One configuration's results.
#[derive(Debug, Clone)]
pub struct ConfigResult {
    /// The configuration.
    pub spec: ConfigSpec,
    /// Its identity (see [`ConfigSpec::id`]).
    pub id: u64,
    /// Every trajectory's outcome, in index order.
    pub outcomes: Vec<Outcome>,
    /// The summary.
    pub summary: ConfigSummary,
    /// Wall-clock time of the simulation.
    pub elapsed: Duration,
}

impl ConfigResult {
    /// Trajectory-steps per second (n·T / wall time), with n the trajectories simulated (an
    /// adaptive run's stopping point, not its cap).
    pub fn steps_per_second(&self) -> f64 {
        self.summary.n as f64 * self.spec.steps() as f64 / self.elapsed.as_secs_f64()
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The experiment as run (seed overrides applied).
    pub experiment: Experiment,
    /// One result per configuration, in file order.
    pub results: Vec<ConfigResult>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// Runs one configuration, folding its outcomes chunk by chunk (see
/// [`crate::stats::aggregate`]) and handing each chunk to `on_chunk` (in index order): all
/// `trajectories`, or, in an adaptive run, batch after batch until the confidence sequence
/// settles every tracked probability or the cap is reached. Each chunk is simulated in
/// parallel and committed in index order, and the stop is decided on that prefix only, so
/// the stopping point does not depend on the thread count.
pub fn simulate_cell(
    spec: &ConfigSpec,
    seed: u64,
    rule: Option<&StopRule>,
    mut on_chunk: impl FnMut(&[Outcome]),
) -> (Accumulator, Option<StopReason>) {
    simulate_cell_until(spec, seed, rule, |chunk| {
        on_chunk(chunk);
        ControlFlow::Continue(())
    })
    .expect("never asked to stop")
}

/// [`simulate_cell`], which `on_chunk` can stop after any chunk by returning
/// `ControlFlow::Break`: `None` then (a stopped cell has no result; it is computed again).
pub fn simulate_cell_until(
    spec: &ConfigSpec,
    seed: u64,
    rule: Option<&StopRule>,
    mut on_chunk: impl FnMut(&[Outcome]) -> ControlFlow<()>,
) -> Option<(Accumulator, Option<StopReason>)> {
    let Some(rule) = rule else {
        // Fixed n: parts of PART trajectories, merged in order (see `aggregate::PART`).
        let mut acc = Accumulator::new(spec.events.stay.is_some());
        let mut start = 0;
        while start < spec.trajectories {
            let end = (start + PART).min(spec.trajectories);
            acc.merge(&simulate_range_until(
                spec,
                seed,
                start..end,
                &mut on_chunk,
            )?);
            start = end;
        }
        return Some((acc, None));
    };
    let steps = spec.steps();
    let mut acc = Accumulator::new(spec.events.stay.is_some());
    let cs = BetaBinomialCs::default();
    // An event is tracked when it has a target: the half-width ε (every event) or a threshold
    // to decide (that event only). Untracked events never hold the run back. A threshold is
    // decided at the rule's decision level (α/m under Holm), the width judged at α.
    let settled = |k: u64, n: u64, threshold: Option<f64>| {
        if rule.epsilon.is_none() && threshold.is_none() {
            return true;
        }
        rule.epsilon
            .is_some_and(|e| cs.interval(k, n, rule.alpha).half_width() <= e)
            || threshold.is_some_and(|p0| cs.p_value(k, n, p0) <= rule.decision_alpha)
    };
    let mut start = 0;
    while start < spec.trajectories {
        let end = (start + rule.batch).min(spec.trajectories);
        let outcomes = spec.run(seed, start..end);
        acc.add_chunk(&outcomes, steps);
        if on_chunk(&outcomes).is_break() {
            return None;
        }
        start = end;
        let stay_done = acc.stay_k.is_none_or(|k| settled(k, acc.n, rule.stay));
        if settled(acc.reach_k, acc.n, rule.reach) && stay_done {
            return Some((acc, Some(StopReason::Settled)));
        }
    }
    Some((acc, Some(StopReason::Cap)))
}

/// Trajectories `range` of a configuration (a part of a large cell), folded in chunks of
/// [`CHUNK`] from the range's start, each handed to `on_chunk`, which can stop after any
/// chunk (`None` then); `range.start` must be a multiple of [`CHUNK`] so that the parts of
/// a cell fold exactly as the sweep runner always folds them.
pub fn simulate_range_until(
    spec: &ConfigSpec,
    seed: u64,
    range: std::ops::Range<u64>,
    mut on_chunk: impl FnMut(&[Outcome]) -> ControlFlow<()>,
) -> Option<Accumulator> {
    debug_assert_eq!(range.start % CHUNK, 0);
    let mut acc = Accumulator::new(spec.events.stay.is_some());
    let mut start = range.start;
    while start < range.end {
        let end = (start + CHUNK).min(range.end);
        let outcomes = spec.run(seed, start..end);
        acc.add_chunk(&outcomes, spec.steps());
        if on_chunk(&outcomes).is_break() {
            return None;
        }
        start = end;
    }
    Some(acc)
}
