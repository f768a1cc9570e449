//! The paper's Figure 3 in its own layout, and our final points against the paper's.
//!
//! A result directory whose configurations are labelled after the paper's panels
//! ([`PANELS`]: `experiments/figure3.toml`, and the search `experiments/figure3_search.toml`,
//! whose labels add the candidate setting after the panel name) gets:
//!
//! - `plots/figure3.svg` when each panel is one configuration: row 1 the spiky f and its
//!   exact convolutions with U[−a, a], a = 0.15, 0.3, 0.6; row 2 the final points of GD
//!   and of noise 0.15, 0.3, 0.6 from [−3, 3]; row 3 the four restarts. Histograms on
//!   [−3, 3], each with the number of points outside it written in the panel.
//! - `plots/figure3_comparison.csv` and `.md`: for every configuration, the shares of final
//!   points with |x| ≤ 0.5, 1, 1.5 with 95% Clopper–Pearson intervals, the paper's shares
//!   (100 runs per panel, read from its figure), the differences with intervals that cover
//!   the true difference with probability ≥ 95% (ours and the paper's 97.5% Clopper–Pearson
//!   intervals combined, Bonferroni), and the exact two-sample test of the four bins
//!   |x| ≤ 0.5, ≤ 1, ≤ 1.5, > 1.5 (Freeman–Halton, [`crate::stats::contingency`]) with Holm's
//!   adjustment over all rows: "differs" is wrong with probability at most 5% for the
//!   whole table. Diverged runs and points beyond the plot limit count in the last bin.

use super::read::{Cell, FinalPoints};
use super::{PALETTE, Res, Sheet, TEXT, TITLE, err, heading, heading_height, mesh};
use crate::objective::Spiky;
use crate::stats::binomial::{Method, Side, interval};
use crate::stats::contingency::exact_two_sample;
use crate::stats::multiple::holm_adjust;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One panel of the paper's rows 2 and 3: its label and the shares of its 100 final points
/// with |x| ≤ 0.5, ≤ 1, ≤ 1.5, read from the paper's figure.
#[derive(Debug, Clone, Copy)]
pub struct Panel {
    /// The configuration label (a search adds the candidate after a space).
    pub label: &'static str,
    /// Short caption in the figure.
    pub caption: &'static str,
    /// The paper's shares.
    pub paper: [f64; 3],
}

/// Rows 2 and 3 of the paper's Figure 3, in its order.
pub const PANELS: [Panel; 8] = [
    Panel {
        label: "GD",
        caption: "GD",
        paper: [0.15, 0.34, 0.53],
    },
    Panel {
        label: "noise 0.15",
        caption: "noise 0.15",
        paper: [0.54, 0.69, 0.69],
    },
    Panel {
        label: "noise 0.3",
        caption: "noise 0.3",
        paper: [0.59, 0.90, 1.00],
    },
    Panel {
        label: "noise 0.6",
        caption: "noise 0.6",
        paper: [0.40, 0.62, 0.85],
    },
    Panel {
        label: "restart 0.3 on [-3, 3]",
        caption: "0.3 on [−3, 3]",
        paper: [0.60, 0.89, 0.98],
    },
    Panel {
        label: "restart 0.15 on [-1.5, 1.5]",
        caption: "0.15 on [−1.5, 1.5]",
        paper: [0.79, 0.98, 1.00],
    },
    Panel {
        label: "restart 0.05 on [-0.5, 0.5]",
        caption: "0.05 on [−0.5, 0.5]",
        paper: [0.94, 1.00, 1.00],
    },
    Panel {
        label: "restart 0.01 on [-0.3, 0.3]",
        caption: "0.01 on [−0.3, 0.3]",
        paper: [1.00, 1.00, 1.00],
    },
];

/// Runs per panel in the paper.
pub const PAPER_RUNS: u64 = 100;
/// The radii of the shares compared.
pub const RADII: [f64; 3] = [0.5, 1.0, 1.5];
/// The noise levels of row 1's convolutions.
pub const SMOOTHING: [f64; 3] = [0.15, 0.3, 0.6];
/// Level of every interval and of the Holm-adjusted tests.
const LEVEL: f64 = 0.95;
/// Histogram range and bins (width 0.1).
const RANGE: f64 = 3.0;
const BINS: usize = 60;

/// The panel a configuration label belongs to: the label itself, or the label followed by
/// a space and the candidate's description.
pub fn panel_of(label: &str) -> Option<&'static Panel> {
    PANELS.iter().find(|p| {
        label == p.label
            || label
                .strip_prefix(p.label)
                .is_some_and(|rest| rest.starts_with(' '))
    })
}

/// The paper's counts in the four bins |x| ≤ 0.5, (0.5, 1], (1, 1.5], > 1.5.
pub fn paper_counts(p: &Panel) -> [u64; 4] {
    let n = PAPER_RUNS as f64;
    let cum = [p.paper[0], p.paper[1], p.paper[2], 1.0].map(|s| (s * n).round() as u64);
    [cum[0], cum[1] - cum[0], cum[2] - cum[1], cum[3] - cum[2]]
}

/// Counts of the final points in the four bins; points not drawn (diverged, or beyond the
/// plot limit) are in the last.
fn counts(xs: &[f64], undrawn: u64) -> [u64; 4] {
    let mut c = [0, 0, 0, undrawn];
    for x in xs {
        let bin = RADII.iter().position(|&r| x.abs() <= r).unwrap_or(3);
        c[bin] += 1;
    }
    c
}

/// One row of the comparison.
#[derive(Debug, Clone)]
pub struct Row {
    /// The configuration.
    pub config: String,
    /// Its panel.
    pub panel: &'static Panel,
    /// Our runs.
    pub n: u64,
    /// Our counts in the four bins.
    pub counts: [u64; 4],
    /// Our shares within each radius: estimate, lower, upper.
    pub ours: [(f64, f64, f64); 3],
    /// Ours minus the paper's, with its interval.
    pub difference: [(f64, f64, f64); 3],
    /// The exact two-sample p-value.
    pub p_value: f64,
    /// Holm-adjusted over the table.
    pub p_holm: f64,
}

/// The comparison of every configuration with its panel; `None` unless every label names a
/// panel.
pub fn compare(cells: &[Cell], points: &FinalPoints) -> Res<Option<Vec<Row>>> {
    let Some(panels) = cells
        .iter()
        .map(|c| panel_of(&c.label))
        .collect::<Option<Vec<_>>>()
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let alpha = 1.0 - LEVEL;
    let mut rows = Vec::with_capacity(cells.len());
    for (c, panel) in cells.iter().zip(panels) {
        let (xs, undrawn) = points.of(&c.label);
        let counts = counts(xs, undrawn);
        let paper = paper_counts(panel);
        let mut ours = [(0.0, 0.0, 0.0); 3];
        let mut difference = [(0.0, 0.0, 0.0); 3];
        for i in 0..3 {
            let k: u64 = counts[..=i].iter().sum();
            let kp: u64 = paper[..=i].iter().sum();
            let ci = interval(Method::ClopperPearson, k, c.n, alpha, Side::Two);
            let est = k as f64 / c.n as f64;
            ours[i] = (est, ci.lower, ci.upper);
            // Each at 1 − α/2: both cover together with probability ≥ 1 − α.
            let a = interval(Method::ClopperPearson, k, c.n, alpha / 2.0, Side::Two);
            let b = interval(
                Method::ClopperPearson,
                kp,
                PAPER_RUNS,
                alpha / 2.0,
                Side::Two,
            );
            let theirs = kp as f64 / PAPER_RUNS as f64;
            difference[i] = (est - theirs, a.lower - b.upper, a.upper - b.lower);
        }
        let p_value = exact_two_sample(&counts, &paper)
            .map_err(|e| anyhow::anyhow!("comparing {:?} with the paper: {e}", c.label))?;
        rows.push(Row {
            config: c.label.clone(),
            panel,
            n: c.n,
            counts,
            ours,
            difference,
            p_value,
            p_holm: f64::NAN,
        });
    }
    let adjusted = holm_adjust(&rows.iter().map(|r| r.p_value).collect::<Vec<_>>());
    for (r, p) in rows.iter_mut().zip(adjusted) {
        r.p_holm = p;
    }
    Ok(Some(rows))
}

/// "differs" where the Holm-adjusted p-value is at most 5%.
fn verdict(r: &Row) -> &'static str {
    if r.p_holm <= 1.0 - LEVEL {
        "differs"
    } else {
        "no evidence of a difference"
    }
}

/// Writes `figure3_comparison.csv` (every number) and `figure3_comparison.md` (the table
/// for a README) into `plots`.
pub fn write_comparison(rows: &[Row], plots: &Path) -> Res<Vec<PathBuf>> {
    let csv_path = plots.join("figure3_comparison.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["panel".to_string(), "config".into(), "n".into()];
    for b in ["le_0.5", "0.5_1", "1_1.5", "gt_1.5"] {
        header.push(format!("count_{b}"));
    }
    for r in ["0.5", "1", "1.5"] {
        for part in ["", "_lower", "_upper"] {
            header.push(format!("share_le_{r}{part}"));
        }
        header.push(format!("paper_share_le_{r}"));
        for part in ["", "_lower", "_upper"] {
            header.push(format!("difference_le_{r}{part}"));
        }
    }
    header.extend([
        "paper_n".into(),
        "p_value".into(),
        "p_holm".into(),
        "verdict".into(),
    ]);
    w.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.panel.label.to_string(), r.config.clone(), r.n.to_string()];
        rec.extend(r.counts.iter().map(u64::to_string));
        for i in 0..3 {
            let (e, l, u) = r.ours[i];
            rec.extend([e, l, u].map(|v| v.to_string()));
            rec.push(r.panel.paper[i].to_string());
            let (d, l, u) = r.difference[i];
            rec.extend([d, l, u].map(|v| v.to_string()));
        }
        rec.extend([
            PAPER_RUNS.to_string(),
            r.p_value.to_string(),
            r.p_holm.to_string(),
            verdict(r).to_string(),
        ]);
        w.write_record(&rec)?;
    }
    crate::output::atomic_write(
        &csv_path,
        &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?,
    )?;

    let md_path = plots.join("figure3_comparison.md");
    let mut md = String::from(
        "| panel | P(\\|x\\| ≤ 0.5): ours · paper · difference | P(\\|x\\| ≤ 1) | P(\\|x\\| ≤ 1.5) | p (Holm) | verdict |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let cells: Vec<String> = (0..3)
            .map(|i| {
                let (d, l, u) = r.difference[i];
                format!(
                    "{:.3} · {:.2} · {:+.2} [{:+.2}, {:+.2}]",
                    r.ours[i].0, r.panel.paper[i], d, l, u
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.config.replace('|', "\\|"),
            cells[0],
            cells[1],
            cells[2],
            p_text(r.p_holm),
            verdict(r)
        );
    }
    crate::output::atomic_write(&md_path, md.as_bytes())?;
    Ok(vec![csv_path, md_path])
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// One of the figure's twelve panels: [−3, 3] by [0, top], its caption, sparse ticks.
fn small_panel<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    top: f64,
) -> Res<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", TEXT))
        .margin(5)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(-RANGE..RANGE, 0.0..top)
        .map_err(err)?;
    mesh(&mut chart)
        .x_labels(4)
        .y_labels(3)
        .disable_mesh()
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Draws `figure3.svg` when each panel is exactly one configuration (`None` otherwise).
/// On one column (85 mm) the twelve panels go two a row, in the same order.
pub fn figure(
    cells: &[Cell],
    points: &FinalPoints,
    sheet: Sheet,
    path: &Path,
) -> Res<Option<PathBuf>> {
    let mut of_panel = Vec::with_capacity(PANELS.len());
    for p in &PANELS {
        match cells.iter().find(|c| c.label == p.label) {
            Some(c) => of_panel.push(c),
            None => return Ok(None),
        }
    }
    let n_runs = of_panel.iter().map(|c| c.n).max().unwrap_or(0);
    let title = format!(
        "Figure 3 (Kleinberg, Li & Yuan 2018), {n_runs} runs per panel: share of final points per 0.1"
    );
    let title_h = heading_height(&title, TITLE, sheet.px);
    let layout = if sheet.narrow() { (6, 2) } else { (3, 4) };
    // Panels 240 px high on two columns; 185 px on one, so that six rows fit a page.
    let row_h = if sheet.narrow() { 185 } else { 240 };
    let height = title_h + row_h * layout.0 as u32;
    let root = SVGBackend::new(path, (sheet.px, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let body = heading(&root, &title, TITLE)?;
    let panels = body.split_evenly(layout);
    // Row 1: f and its convolutions, on a common scale.
    let f = Spiky::shared();
    let xs: Vec<f64> = (0..=1200)
        .map(|i| -RANGE + i as f64 * (2.0 * RANGE) / 1200.0)
        .collect();
    let curves: Vec<Vec<(f64, f64)>> = std::iter::once(0.0)
        .chain(SMOOTHING)
        .map(|a| {
            xs.iter()
                .map(|&x| {
                    let y = f.smoothed(x, a).ok_or_else(|| {
                        anyhow::anyhow!("the spiky curve has no smoothing at x = {x}, a = {a}")
                    })?;
                    Ok((x, y))
                })
                .collect::<Res<Vec<_>>>()
        })
        .collect::<Res<_>>()?;
    let top = curves.iter().flatten().map(|p| p.1).fold(0.0, f64::max) * 1.05;
    for (i, (area, curve)) in panels[..4].iter().zip(&curves).enumerate() {
        let caption = if i == 0 {
            "f".to_string()
        } else {
            format!("f * U[−a, a], a = {}", SMOOTHING[i - 1])
        };
        small_panel(area, &caption, top)?
            .draw_series(LineSeries::new(
                curve.iter().copied(),
                PALETTE[0].stroke_width(1),
            ))
            .map_err(err)?;
    }
    // Rows 2 and 3: histograms of the final points on [−3, 3].
    let width = 2.0 * RANGE / BINS as f64;
    for (area, (panel, cell)) in panels[4..].iter().zip(PANELS.iter().zip(&of_panel)) {
        let (bins, outside) = points.histogram(&cell.label, -RANGE, RANGE, BINS);
        let n = cell.n.max(1) as f64;
        let high = (*bins.iter().max().unwrap_or(&0) as f64 / n).max(0.01) * 1.25;
        let mut chart = small_panel(area, panel.caption, high)?;
        chart
            .draw_series(bins.iter().enumerate().map(|(i, &k)| {
                let x0 = -RANGE + i as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, k as f64 / n)], PALETTE[0].filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{outside} outside"),
                (-RANGE + 0.15, high * 0.97),
                ("sans-serif", TEXT).into_font(),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_are_found_by_label_and_the_papers_counts_add_up() {
        for p in &PANELS {
            assert_eq!(
                paper_counts(p).iter().sum::<u64>(),
                PAPER_RUNS,
                "{}",
                p.label
            );
            assert_eq!(panel_of(p.label).unwrap().label, p.label);
            assert_eq!(
                panel_of(&format!("{} step r=15 [steps=300]", p.label))
                    .unwrap()
                    .label,
                p.label
            );
        }
        assert_eq!(paper_counts(&PANELS[1]), [54, 15, 0, 31]);
        // A label that only begins like a panel's is not that panel.
        assert!(panel_of("noise 0.30").is_none());
        assert!(panel_of("GDX").is_none());
        assert!(panel_of("spiky").is_none());
    }

    #[test]
    fn bins_count_every_point_once_and_undrawn_ones_last() {
        let c = counts(&[0.0, -0.5, 0.5000001, 1.0, -1.2, 1.5, 1.6, -40.0], 2);
        assert_eq!(c, [2, 2, 2, 4]);
    }
}
