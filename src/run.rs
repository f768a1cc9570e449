//! The `run` pipeline: experiment → trajectories → summaries → report.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::stats::sequential::BetaBinomialCs;
use crate::stats::{
    ConfigSummary, StatsSpec, StopReason, adjust_decisions, event_counts, summarize,
};
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
        let (outcomes, stopped) = pool.install(|| simulate(spec, experiment.seed, stats));
        let elapsed = t0.elapsed();
        let summary = summarize(&outcomes, spec.steps(), stats, stopped);
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
        let mut summaries: Vec<ConfigSummary> = results.iter().map(|r| r.summary.clone()).collect();
        adjust_decisions(&mut summaries);
        for (r, s) in results.iter_mut().zip(summaries) {
            r.summary = s;
        }
    }
    Ok(RunReport {
        experiment: experiment.clone(),
        results,
        threads: pool.current_num_threads(),
        elapsed: start.elapsed(),
    })
}

/// Runs one configuration: all `trajectories` at once, or, in an adaptive run, batch after
/// batch until the confidence sequence settles every tracked probability or the cap is
/// reached. Each batch is simulated in parallel and committed in index order, and the stop is
/// decided on that prefix only, so the stopping point does not depend on the thread count.
pub fn simulate(
    spec: &ConfigSpec,
    seed: u64,
    stats: &StatsSpec,
) -> (Vec<Outcome>, Option<StopReason>) {
    let Some(adaptive) = &stats.adaptive else {
        return (spec.run(seed, 0..spec.trajectories), None);
    };
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
    let mut outcomes: Vec<Outcome> = Vec::new();
    let (mut reach_k, mut stay_k) = (0u64, 0u64);
    loop {
        let start = outcomes.len() as u64;
        let end = (start + adaptive.batch).min(spec.trajectories);
        let batch = spec.run(seed, start..end);
        let (r, s) = event_counts(&batch);
        reach_k += r;
        stay_k += s.unwrap_or(0);
        outcomes.extend(batch);
        let n = end;
        let stay_done = spec.events.stay.is_none() || settled(stay_k, n, stats.thresholds.stay);
        if settled(reach_k, n, stats.thresholds.reach) && stay_done {
            return (outcomes, Some(StopReason::Settled));
        }
        if end >= spec.trajectories {
            return (outcomes, Some(StopReason::Cap));
        }
    }
}
