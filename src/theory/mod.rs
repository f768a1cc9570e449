//! Theory: Theorem 1's bounds, checks of its assumptions on a landscape, and verdicts that put
//! the theorem next to what SGD does.

pub mod assumptions;
pub mod bounds;
pub mod certified;
pub mod check;

use crate::experiment::Experiment;
use check::{TheoremReport, TheoremSettings};
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs the theorem check on every configuration of `experiment` (with its `[theorem]`
/// settings, or the defaults) on `threads` worker threads (0: all cores).
pub fn check_experiment(
    experiment: &Experiment,
    threads: usize,
) -> anyhow::Result<Vec<TheoremReport>> {
    check_experiment_until(experiment, threads, None)
}

/// A theorem check stopped on request ([`check_experiment_until`]'s `stop`): nothing is
/// written, a later check starts again.
#[derive(Debug, thiserror::Error)]
#[error("the theorem check was stopped on request after {checked} of {total} configurations")]
pub struct Stopped {
    /// Configurations checked before the stop (their reports are dropped).
    pub checked: usize,
    /// Configurations in the experiment.
    pub total: usize,
}

/// [`check_experiment`], stopping with [`Stopped`] before the next configuration once
/// `stop` is set (by another thread): the check of one configuration takes seconds, so a
/// finer hook would buy little.
pub fn check_experiment_until(
    experiment: &Experiment,
    threads: usize,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<Vec<TheoremReport>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let settings = experiment.theorem.clone().unwrap_or_default();
    let settings = TheoremSettings {
        domains: settings.domains.clone(),
        ..settings
    };
    let total = experiment.configs.len();
    pool.install(|| {
        let mut reports = Vec::with_capacity(total);
        for (i, spec) in experiment.configs.iter().enumerate() {
            if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                return Err(Stopped { checked: i, total }.into());
            }
            reports.push(check::check(
                spec,
                &settings.spec_for(i, experiment.seed),
                experiment.seed,
                &experiment.stats,
            ));
        }
        Ok(reports)
    })
}

/// `theorem.json`: the full reports with the experiment, seed, version and RNG.
pub fn theorem_json(experiment: &Experiment, reports: &[TheoremReport]) -> anyhow::Result<Vec<u8>> {
    // Each report with its verdict as reported ("holds, given …") beside the bare verdict.
    let reports: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r)?;
            v["verdict_label"] = serde_json::json!(r.verdict_label());
            Ok(v)
        })
        .collect::<anyhow::Result<_>>()?;
    let doc = crate::output::provenance(serde_json::json!({
        "peak_rss_mb": crate::config::limits::peak_rss_mb(),
        "experiment": { "name": experiment.name, "source": experiment.source, "seed": experiment.seed },
        "stats": experiment.stats,
        "theorem": experiment.theorem,
        "reports": reports,
    }));
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    Ok(bytes)
}
