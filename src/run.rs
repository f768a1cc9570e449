//! The `run` pipeline: experiment → trajectories → summaries → report.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::stats::{ConfigSummary, summarize};
use std::time::{Duration, Instant};

/// Two-sided confidence level of the intervals `run` prints and writes.
pub const DEFAULT_LEVEL: f64 = 0.95;

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
    /// Confidence level of the intervals.
    pub level: f64,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// Runs every configuration of `experiment` on `threads` worker threads (0: all cores),
/// calling `on_done` after each configuration.
pub fn execute(
    experiment: &Experiment,
    threads: usize,
    level: f64,
    mut on_done: impl FnMut(&ConfigResult),
) -> anyhow::Result<RunReport> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let start = Instant::now();
    let mut results = Vec::with_capacity(experiment.configs.len());
    for spec in &experiment.configs {
        let t0 = Instant::now();
        let outcomes = pool.install(|| spec.run(experiment.seed, 0..spec.trajectories));
        let elapsed = t0.elapsed();
        let summary = summarize(&outcomes, level);
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
    Ok(RunReport {
        experiment: experiment.clone(),
        results,
        threads: pool.current_num_threads(),
        level,
        elapsed: start.elapsed(),
    })
}
