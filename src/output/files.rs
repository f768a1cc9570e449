//! `summary.csv`, `trajectories.csv` and `run.json`.
//!
//! The two CSV files depend only on the experiment and seed: they are byte-identical on any
//! number of threads. `run.json` also records the thread count and timings.

use super::Exporter;
use crate::experiment::ConfigSpec;
use crate::run::RunReport;
use crate::stats::EventSummary;
use crate::stats::continuous::MeanEstimate;
use serde_json::json;

/// Short RNG name for CSV columns (the full description is in run.json).
pub const RNG_SHORT: &str = "Pcg64Mcg+SplitMix64";

/// Shortest round-trip decimal of a float; NaN as `NaN` (read as missing by pandas and R).
/// Values below 10⁻⁵ in magnitude are written with an exponent: positional digits past the
/// 17th would load as 0 with pandas' default parser.
pub(crate) fn num(x: f64) -> String {
    // Shortest round-trip digits; with an exponent when plain notation would be long.
    if x != 0.0 && x.is_finite() && !(1e-5..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// An optional number as written in CSV files (empty when absent).
pub(crate) fn opt_num(x: Option<f64>) -> String {
    x.map_or(String::new(), num)
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A boolean as the CSV files write it: `TRUE`/`FALSE`, the one spelling both pandas and R's
/// `read.csv` load as booleans by default (R reads `true`/`false` as text).
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b { "TRUE" } else { "FALSE" }
}

fn csv_bytes(
    header: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

fn event_cells(e: Option<&EventSummary>) -> Vec<String> {
    let Some(e) = e else {
        return vec![String::new(); 11];
    };
    let p = &e.probability;
    let d = e.decision.as_ref();
    vec![
        p.k.to_string(),
        num(p.estimate),
        num(p.lower),
        num(p.upper),
        p.one_sided.map_or(String::new(), num),
        d.map_or(String::new(), |d| num(d.threshold)),
        opt(d.map(|d| d.verdict)),
        d.map_or(String::new(), |d| num(d.bound)),
        d.map_or(String::new(), |d| num(d.p_value)),
        d.and_then(|d| d.adjusted_p).map_or(String::new(), num),
        opt(d.and_then(|d| d.settle_at)),
    ]
}

fn mean_cells(m: &MeanEstimate) -> [String; 4] {
    [num(m.mean), num(m.lower), num(m.upper), num(m.mcse)]
}

/// The columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "experiment",
    "config",
    "config_id",
    "objective",
    "dim",
    "noise",
    "noise_scale",
    "eta",
    "stages",
    "steps",
    "events_every",
    "events_on",
    "batch",
    "sampling",
    "steps_per_epoch",
    "epochs",
    "n",
    "stopped",
    "reach_k",
    "reach",
    "reach_lower",
    "reach_upper",
    "reach_one_sided",
    "reach_threshold",
    "reach_verdict",
    "reach_verdict_bound",
    "reach_p_value",
    "reach_adjusted_p",
    "reach_settle_at",
    "stay_k",
    "stay",
    "stay_lower",
    "stay_upper",
    "stay_one_sided",
    "stay_threshold",
    "stay_verdict",
    "stay_verdict_bound",
    "stay_p_value",
    "stay_adjusted_p",
    "stay_settle_at",
    "interval",
    "level",
    "decision_test",
    "hit_median",
    "hit_median_lower",
    "hit_median_upper",
    "hit_rmst",
    "hit_rmst_se",
    "final_dist_mean",
    "final_dist_lower",
    "final_dist_upper",
    "final_dist_mcse",
    "final_y_dist_mean",
    "final_y_dist_lower",
    "final_y_dist_upper",
    "final_y_dist_mcse",
    "final_value_mean",
    "final_value_lower",
    "final_value_upper",
    "final_value_mcse",
    "final_y_dist2_q90",
    "final_y_dist2_q90_lower",
    "final_y_dist2_q90_upper",
    "diverged",
    "seed",
    "rng",
    "numerics",
];

/// The columns of the swept parameters (`summary.csv` and `trajectories.csv` put them right
/// after the configuration's label): each axis's name, with `swept_` before a name that is
/// also a column of `summary.csv` (or starts with `swept_`, so that readers can undo the
/// prefix).
pub fn param_columns(experiment: &crate::experiment::Experiment) -> Vec<String> {
    experiment.configs.first().map_or(vec![], |c| {
        c.params
            .iter()
            .map(|p| {
                if SUMMARY_COLUMNS.contains(&p.0.as_str()) || p.0.starts_with("swept_") {
                    format!("swept_{}", p.0)
                } else {
                    p.0.clone()
                }
            })
            .collect()
    })
}

/// `summary.csv`: one row per configuration, a column per parameter and per estimate.
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<Vec<u8>> {
        let params = param_columns(&report.experiment);
        let mut header: Vec<String> = SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect();
        header.splice(2..2, params.iter().cloned());
        let exp = &report.experiment;
        let rows = report.results.iter().map(|r| {
            let s: &ConfigSpec = &r.spec;
            let m = &r.summary;
            let (law, scale) = s.noise.parts();
            let mut row = vec![
                exp.name.clone(),
                s.label.clone(),
                format!("{:016x}", r.id),
                s.objective.kind().to_string(),
                s.dim().to_string(),
                law.to_string(),
                scale.map_or(String::new(), num),
                num(s.schedule.stages()[0].eta),
                s.schedule.stages().len().to_string(),
                s.steps().to_string(),
                s.events.every.to_string(),
                s.events.on.name().to_string(),
                opt(s.noise.minibatch().map(|m| m.batch)),
                s.noise
                    .minibatch()
                    .map_or(String::new(), |m| m.sampling.name().to_string()),
                s.steps_per_epoch().map_or(String::new(), num),
                s.steps_per_epoch()
                    .map_or(String::new(), |e| num(s.steps() as f64 / e)),
                m.n.to_string(),
                m.stopped
                    .map(|r| {
                        serde_json::to_value(r)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default(),
            ];
            row.extend(event_cells(Some(&m.reach)));
            row.extend(event_cells(m.stay.as_ref()));
            row.extend([
                m.reach.probability.method.clone(),
                num(m.reach.probability.level),
                [Some(&m.reach), m.stay.as_ref()]
                    .into_iter()
                    .flatten()
                    .find_map(|e| e.decision.as_ref())
                    .map_or(String::new(), |d| d.test.name().to_string()),
            ]);
            row.extend([
                opt(m.hit_median.estimate),
                opt(m.hit_median.lower),
                opt(m.hit_median.upper),
            ]);
            row.extend([num(m.hit_restricted_mean.0), num(m.hit_restricted_mean.1)]);
            row.extend(mean_cells(&m.final_dist));
            row.extend(mean_cells(&m.final_y_dist));
            row.extend(mean_cells(&m.final_value));
            let q = &m.final_y_dist2_q90;
            row.extend([num(q.estimate), opt(q.lower), opt(q.upper)]);
            row.extend([
                m.diverged.to_string(),
                crate::rng::seed_text(exp.seed),
                RNG_SHORT.to_string(),
                crate::NUMERICS_VERSION.to_string(),
            ]);
            debug_assert_eq!(row.len(), SUMMARY_COLUMNS.len());
            row.splice(2..2, s.params.iter().map(|p| num(p.1)));
            row
        });
        csv_bytes(&header, rows)
    }
}

/// `trajectories.csv`: one row per trajectory, final coordinates in `x_1 … x_D`.
pub struct TrajectoriesCsv;

impl Exporter for TrajectoriesCsv {
    fn file_name(&self) -> &'static str {
        "trajectories.csv"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<Vec<u8>> {
        let max_dim = report.experiment.max_dim();
        let mut bytes = trajectories_header(&report.experiment)?;
        for r in &report.results {
            bytes.extend(trajectory_rows(&r.spec, &r.outcomes, max_dim)?);
        }
        Ok(bytes)
    }
}

/// The header line of `trajectories.csv`: the label, the swept parameters
/// ([`param_columns`]), the outcome, final points of up to the experiment's largest
/// dimension, RNG and numerics version.
pub fn trajectories_header(experiment: &crate::experiment::Experiment) -> anyhow::Result<Vec<u8>> {
    let mut header = vec!["config".to_string()];
    header.extend(param_columns(experiment));
    header.extend(
        [
            "index",
            "first_hit",
            "stayed",
            "first_exit",
            "diverged_at",
            "final_dist",
            "final_y_dist",
            "final_value",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    header.extend((1..=experiment.max_dim()).map(|i| format!("x_{i}")));
    header.push("rng".into());
    header.push("numerics".into());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// The rows (no header) of `trajectories.csv` for one configuration's outcomes.
pub fn trajectory_rows(
    spec: &ConfigSpec,
    outcomes: &[crate::events::Outcome],
    max_dim: usize,
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let numerics = crate::NUMERICS_VERSION.to_string();
    let params: Vec<String> = spec.params.iter().map(|p| num(p.1)).collect();
    for o in outcomes {
        let mut row = vec![spec.label.clone()];
        row.extend(params.iter().cloned());
        row.extend([
            o.index.to_string(),
            opt(o.first_hit),
            o.stayed.map_or(String::new(), |b| bool_text(b).into()),
            opt(o.first_exit),
            opt(o.diverged_at),
            num(o.final_dist),
            num(o.final_y_dist),
            num(o.final_value),
        ]);
        row.extend(o.final_x.iter().map(|&x| num(x)));
        row.extend((o.final_x.len()..max_dim).map(|_| String::new()));
        row.push(RNG_SHORT.into());
        row.push(numerics.clone());
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// Above this many configurations `run.json` lists only labels, ids and timings.
pub const RUN_JSON_DETAIL_LIMIT: usize = 100;

pub use crate::config::limits::peak_rss_mb;

/// `run.json`: the resolved configuration, seed, version, RNG, threads, timings and summaries.
pub struct RunJson;

impl Exporter for RunJson {
    fn file_name(&self) -> &'static str {
        "run.json"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<Vec<u8>> {
        let exp = &report.experiment;
        // Large sweeps keep the details in cells/ and summary.csv, so that this file (and the
        // memory to write it) does not grow with the number of cells.
        let detailed = report.results.len() <= RUN_JSON_DETAIL_LIMIT;
        let configs: Vec<_> = report
            .results
            .iter()
            .map(|r| {
                let mut c = json!({
                    "label": r.spec.label,
                    "config_id": format!("{:016x}", r.id),
                    "elapsed_s": r.elapsed.as_secs_f64(),
                    "trajectory_steps_per_s": r.steps_per_second(),
                });
                if detailed {
                    c["spec"] = json!(r.spec);
                    c["noise_bound"] = json!(r.spec.noise_bound());
                    c["summary"] = json!(r.summary);
                }
                c
            })
            .collect();
        let doc = super::provenance(json!({
            "experiment": {
                "name": exp.name,
                "description": exp.description,
                "source": exp.source,
                "seed": exp.seed,
                "log_axes": exp.log_axes,
            },
            "threads": report.threads,
            "peak_rss_mb": peak_rss_mb(),
            "stats": exp.stats,
            "elapsed_s": report.elapsed.as_secs_f64(),
            "configs": configs,
        }));
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
