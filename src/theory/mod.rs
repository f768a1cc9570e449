//! Theory: Theorem 1's bounds, checks of its assumptions on a landscape, and verdicts that put
//! the theorem next to what SGD does.

pub mod assumptions;
pub mod bounds;
pub mod certified;
pub mod check;

use crate::experiment::Experiment;
use check::{TheoremReport, TheoremSettings};

/// Runs the theorem check on every configuration of `experiment` (with its `[theorem]`
/// settings, or the defaults) on `threads` worker threads (0: all cores).
pub fn check_experiment(
    experiment: &Experiment,
    threads: usize,
) -> anyhow::Result<Vec<TheoremReport>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let settings = experiment.theorem.clone().unwrap_or_default();
    let settings = TheoremSettings {
        domains: settings.domains.clone(),
        ..settings
    };
    Ok(pool.install(|| {
        experiment
            .configs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                check::check(
                    spec,
                    &settings.spec_for(i, experiment.seed),
                    experiment.seed,
                    &experiment.stats,
                )
            })
            .collect()
    }))
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
