//! Outputs of the Section 5 measurements: a summary table, `convexity.csv` (every measured
//! point), `convexity_epochs.csv` (per measurement time) and `convexity.json`.

use super::files::{RNG_SHORT, num, opt_num as opt};
use crate::convexity::ConvexityReport;
use crate::experiment::{ConvexitySettings, Experiment};

/// One line per configuration; within `width` characters when given
/// ([`super::table::fitted`]): the columns of 5.1, then 5.3, then 5.2 while they fit.
pub fn render(reports: &[ConvexityReport], width: Option<usize>) -> String {
    let header: Vec<String> = [
        "config",
        "every",
        "points",
        "5.1 negative",
        "5.1 min ratio (last half)",
        "5.2 min mean (before T)",
        "5.2 min lower bound",
        "5.3 not positive",
        "5.3 min ‖x_T^i − x_T^j‖",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let half = r.epochs.len() / 2;
            let late = &r.epochs[half..];
            let ratio = late
                .iter()
                .map(|e| e.ratio_min)
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min);
            // Before the last time, where x_t is x_T itself for the final-point reference.
            let before = &r.epochs[..r.epochs.len().saturating_sub(1)];
            vec![
                r.label.clone(),
                r.every.to_string(),
                r.points.len().to_string(),
                format!("{:.1}%", 100.0 * r.negative_share),
                if ratio.is_finite() {
                    format!("{ratio:.4}")
                } else {
                    "-".into()
                },
                before
                    .iter()
                    .filter_map(|e| e.neighbourhood_mean)
                    .reduce(f64::min)
                    .map_or("-".into(), |v| format!("{v:.4e}")),
                before
                    .iter()
                    .filter_map(|e| e.neighbourhood_lower_min)
                    .reduce(f64::min)
                    .map_or("-".into(), |v| format!("{v:.4e}")),
                r.others_nonpositive_share
                    .map_or("-".into(), |v| format!("{:.1}%", 100.0 * v)),
                r.final_min_distance
                    .map_or("-".into(), |v| format!("{v:.4}")),
            ]
        })
        .collect();
    super::table::fitted(&header, &rows, 1, &[0, 3, 4, 7, 8, 5, 6, 1, 2], width)
}

/// `convexity.csv`: one row per trajectory and measurement time.
pub fn points_csv(reports: &[ConvexityReport]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "config",
        "trajectory",
        "t",
        "epoch",
        "distance",
        "inner",
        "ratio",
        "grad_norm",
        "stochastic_grad_norm",
        "ball_mean",
        "ball_min",
        "ball_max",
        "ball_lower",
        "ball_range",
        "others_min",
        "others_nonpositive",
        "rng",
        "numerics",
    ])?;
    for r in reports {
        for p in &r.points {
            let h = p.neighbourhood.as_ref();
            w.write_record([
                r.label.clone(),
                p.trajectory.to_string(),
                p.t.to_string(),
                num(p.epoch),
                num(p.distance),
                num(p.inner),
                num(p.ratio),
                num(p.grad_norm),
                num(p.stochastic_grad_norm),
                opt(h.map(|h| h.mean)),
                opt(h.map(|h| h.min)),
                opt(h.map(|h| h.max)),
                opt(h.and_then(|h| h.lower)),
                opt(h.and_then(|h| h.range)),
                opt(p.others_min),
                p.others_nonpositive.to_string(),
                RNG_SHORT.to_string(),
                crate::NUMERICS_VERSION.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// `convexity_epochs.csv`: one row per configuration and measurement time.
pub fn epochs_csv(reports: &[ConvexityReport]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "config",
        "t",
        "epoch",
        "inner_min",
        "ratio_min",
        "negative_share",
        "ball_mean",
        "ball_min",
        "ball_lower_min",
        "stochastic_grad_norm_mean",
        "stochastic_grad_norm_sd",
        "rng",
        "numerics",
    ])?;
    for r in reports {
        for e in &r.epochs {
            w.write_record([
                r.label.clone(),
                e.t.to_string(),
                num(e.epoch),
                num(e.inner_min),
                num(e.ratio_min),
                num(e.negative_share),
                opt(e.neighbourhood_mean),
                opt(e.neighbourhood_min),
                opt(e.neighbourhood_lower_min),
                num(e.stochastic_grad_norm_mean),
                num(e.stochastic_grad_norm_sd),
                RNG_SHORT.to_string(),
                crate::NUMERICS_VERSION.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// `convexity_restarts.csv`: one row per restart (5.4).
pub fn restarts_csv(reports: &[ConvexityReport]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "config",
        "trajectory",
        "epoch",
        "t",
        "train_loss",
        "train_error",
        "validation_loss",
        "validation_error",
        "distance_from_start",
        "rng",
        "numerics",
    ])?;
    for r in reports {
        for x in &r.restarts {
            w.write_record([
                r.label.clone(),
                x.trajectory.to_string(),
                num(x.epoch),
                x.t.to_string(),
                num(x.train_loss),
                opt(x.train_error),
                opt(x.validation_loss),
                opt(x.validation_error),
                num(x.distance_from_start),
                RNG_SHORT.to_string(),
                crate::NUMERICS_VERSION.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// `convexity.json`: settings and per-configuration summaries (the per-point rows are in
/// the CSV files).
pub fn json(
    experiment: &Experiment,
    settings: &ConvexitySettings,
    reports: &[ConvexityReport],
) -> anyhow::Result<Vec<u8>> {
    let configs: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "label": r.label,
                "every": r.every,
                "steps_per_epoch": r.steps_per_epoch,
                "level": r.level,
                "measured_points": r.points.len(),
                "negative_share": r.negative_share,
                "others_nonpositive_share": r.others_nonpositive_share,
                "final_min_distance": r.final_min_distance,
                "epochs": r.epochs,
                "restarts": r.restarts,
                "restarts_skipped": r.restarts_skipped,
            })
        })
        .collect();
    let doc = super::provenance(serde_json::json!({
        "experiment": { "name": experiment.name, "source": experiment.source, "seed": experiment.seed },
        "settings": settings,
        "configs": configs,
    }));
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    Ok(bytes)
}
