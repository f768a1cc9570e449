//! The `run` pipeline: experiment → trajectories → summaries → report.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::stats::aggregate::{Accumulator, CHUNK, PART};
use crate::stats::sequential::BetaBinomialCs;
use crate::stats::{ConfigSummary, StatsSpec, StopReason, adjust_decisions};
use std::time::{Duration, Instant};

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
    /// Trajectory-steps per second (n·T / wall time).
    pub fn steps_per_second(&self) -> f64 {
        (self.spec.trajectories * self.spec.steps()) as f64 / self.elapsed.as_secs_f64()
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

/// Runs every configuration of `experiment` on `threads` worker threads (0: all cores),
/// calling `on_done` after each configuration. With `stats.holm`, the decisions of all
/// configurations are adjusted together at the end.
pub fn execute(
    experiment: &Experiment,
    threads: usize,
    mut on_done: impl FnMut(&ConfigResult),
) -> anyhow::Result<RunReport> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let stats = &experiment.stats;
    let start = Instant::now();
    let mut results = Vec::with_capacity(experiment.configs.len());
    for spec in &experiment.configs {
        let t0 = Instant::now();
        let (outcomes, acc, stopped) = pool.install(|| simulate(spec, experiment.seed, stats));
        let elapsed = t0.elapsed();
        let summary = acc.summarize(spec.steps(), stats, stopped);
        let result = ConfigResult {
            spec: spec.clone(),
            id: spec.id(),
            outcomes,
            summary,
            elapsed,
        };
        on_done(&result);
        results.push(result);
    }
    if stats.holm {
        adjust_decisions(results.iter_mut().map(|r| &mut r.summary));
    }
    Ok(RunReport {
        experiment: experiment.clone(),
        results,
        threads: pool.current_num_threads(),
        elapsed: start.elapsed(),
    })
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
    stats: &StatsSpec,
    mut on_chunk: impl FnMut(&[Outcome]),
) -> (Accumulator, Option<StopReason>) {
    let Some(adaptive) = &stats.adaptive else {
        // Fixed n: parts of PART trajectories, merged in order (see `aggregate::PART`).
        let mut acc = Accumulator::new(spec.events.stay.is_some());
        let mut start = 0;
        while start < spec.trajectories {
            let end = (start + PART).min(spec.trajectories);
            acc.merge(&simulate_range(spec, seed, start..end, &mut on_chunk));
            start = end;
        }
        return (acc, None);
    };
    let steps = spec.steps();
    let mut acc = Accumulator::new(spec.events.stay.is_some());
    let cs = BetaBinomialCs::default();
    let alpha = 1.0 - stats.level;
    // An event is tracked when it has a target: the half-width ε (every event) or a threshold
    // to decide (that event only). Untracked events never hold the run back.
    let settled = |k: u64, n: u64, threshold: Option<f64>| {
        if adaptive.epsilon.is_none() && threshold.is_none() {
            return true;
        }
        let ci = cs.interval(k, n, alpha);
        adaptive.epsilon.is_some_and(|e| ci.half_width() <= e)
            || threshold.is_some_and(|p0| ci.lower >= p0 || ci.upper < p0)
    };
    let mut start = 0;
    while start < spec.trajectories {
        let end = (start + adaptive.batch).min(spec.trajectories);
        let outcomes = spec.run(seed, start..end);
        acc.add_chunk(&outcomes, steps);
        on_chunk(&outcomes);
        start = end;
        let stay_done = acc
            .stay_k
            .is_none_or(|k| settled(k, acc.n, stats.thresholds.stay));
        if settled(acc.reach_k, acc.n, stats.thresholds.reach) && stay_done {
            return (acc, Some(StopReason::Settled));
        }
    }
    (acc, Some(StopReason::Cap))
}

/// Trajectories `range` of a configuration (a part of a large cell), folded in chunks of
/// [`CHUNK`] from the range's start; `range.start` must be a multiple of [`CHUNK`] so that
/// the parts of a cell fold exactly as the sweep runner always folds them.
pub fn simulate_range(
    spec: &ConfigSpec,
    seed: u64,
    range: std::ops::Range<u64>,
    mut on_chunk: impl FnMut(&[Outcome]),
) -> Accumulator {
    debug_assert_eq!(range.start % CHUNK, 0);
    let mut acc = Accumulator::new(spec.events.stay.is_some());
    let mut start = range.start;
    while start < range.end {
        let end = (start + CHUNK).min(range.end);
        let outcomes = spec.run(seed, start..end);
        acc.add_chunk(&outcomes, spec.steps());
        on_chunk(&outcomes);
        start = end;
    }
    acc
}

/// [`simulate_cell`], keeping every outcome.
pub fn simulate(
    spec: &ConfigSpec,
    seed: u64,
    stats: &StatsSpec,
) -> (Vec<Outcome>, Accumulator, Option<StopReason>) {
    let mut outcomes = Vec::new();
    let (acc, stopped) =
        simulate_cell(spec, seed, stats, |chunk| outcomes.extend_from_slice(chunk));
    (outcomes, acc, stopped)
}
