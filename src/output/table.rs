//! The terminal table `run` prints.

use crate::run::ConfigResult;
use crate::stats::Proportion;

fn prop(p: Option<&Proportion>) -> String {
    match p {
        Some(p) => format!("{:.3} [{:.3}, {:.3}]", p.estimate, p.lower, p.upper),
        None => "-".into(),
    }
}

/// Human-readable throughput: 12.3 M.
fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.1} M", x / 1e6),
        x if x >= 1e3 => format!("{:.1} k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// One row per configuration: n, P(reach) and P(stay) with intervals, median hitting time,
/// mean final distance, diverged count and throughput.
pub fn render_table(results: &[ConfigResult], level: f64) -> String {
    let pct = level * 100.0;
    let header = [
        "config".to_string(),
        "n".into(),
        format!("P(reach) [{pct}% Wilson]"),
        format!("P(stay) [{pct}% Wilson]"),
        "median hit".into(),
        "mean ‖x_T−x*‖".into(),
        "diverged".into(),
        "steps/s".into(),
    ];
    let rows: Vec<[String; 8]> = results
        .iter()
        .map(|r| {
            let s = &r.summary;
            [
                r.spec.label.clone(),
                s.n.to_string(),
                prop(Some(&s.reach)),
                prop(s.stay.as_ref()),
                s.median_hit
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| format!(">{}", r.spec.steps())),
                format!("{:.4}", s.mean_final_dist),
                s.diverged.to_string(),
                si(r.steps_per_second()),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = w - c.chars().count();
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(&header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}
