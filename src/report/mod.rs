//! `sgd-escape report DIR`: plots of a result directory and an `index.html` showing them
//! with the summary table. Every plot is drawn (through plotters) on two [`Sheet`]s, `X.svg`
//! at 175 mm and `X-85mm.svg` at 85 mm, and with the feature `figures` each SVG gets a PDF
//! and a 300 dpi PNG beside it ([`export`]).
//!
//! - `probabilities.svg`: P(reach) and P(stay) with interval bands against the first swept
//!   parameter (one line per value of the others), the thresholds drawn in, verdicts marked;
//!   for experiments without a sweep, one row per configuration with its interval as a bar
//!   (nothing joins configurations that are not ordered). Every legend sits in a strip
//!   below the data.
//! - `hitting_times.svg`: Kaplan–Meier curves of the hitting time.
//! - `final_points.svg`: histograms of the final x (first coordinate), one panel per
//!   configuration, as in the paper's Figure 3 (needs `trajectories.csv`).
//! - `figure3.svg` and `figure3_comparison.csv`/`.md`: the paper's Figure 3 in its layout
//!   and our final points against the paper's, for configurations labelled after its panels
//!   (see [`figure3`]).
//! - `drift.svg`: E‖y_t − x*‖² with its band against Theorem 1's bound (needs `theorem.json`).
//! - `convexity.svg`: the paper's Fig. 5 layout, one row per configuration: (a) the 5.1
//!   minimum inner product per epoch, (b) the 5.2 mean with its min–max band, (c) the
//!   stochastic-gradient norm's mean ± sd (needs `convexity.json`). A directory with only
//!   the convexity outputs gets this plot alone.
//! - `restarts.svg`: the paper's Fig. 6 layout from the 5.4 restarts: training loss,
//!   validation loss and distance from the initial point against the restart epoch.
//!
//! Every result directory can be reported: one written by `run` (complete) or `merge` (which
//! copies the cells), one written by `theorem` alone (the drift plot), one with only the
//! convexity outputs.

#[cfg(feature = "figures")]
pub mod export;
pub mod figure3;
mod html;
pub mod read;

use crate::stats::continuous::Total;
use crate::stats::decision::Verdict;
use crate::sweep::{LockMode, ResultDir};
use anyhow::bail;
use plotters::prelude::*;
use read::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use read::PLOT_LIMIT;

/// A figure's size on the page. plotters writes a font of size s as s / 1.24 px, so
/// the label text (`TEXT`) is 15.3 px and titles (`TITLE`) 17.7 px: at 900 px for 175 mm (1 pt = 1.81 px) that is
/// 8.5 pt and 9.8 pt, at 450 px for 85 mm (1 pt = 1.87 px) 8.2 pt and 9.5 pt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    /// The declared width, mm.
    pub width_mm: f64,
    /// The drawing's width, px.
    pub px: u32,
    /// What the file name carries before `.svg` (`.pdf`, `.png`).
    pub suffix: &'static str,
}

impl Sheet {
    /// Two journal columns, 175 mm: `X.svg`, the plots `index.html` shows.
    pub const TWO_COLUMNS: Sheet = Sheet {
        width_mm: 175.0,
        px: 900,
        suffix: "",
    };
    /// One journal column, 85 mm: `X-85mm.svg`, panels stacked where two columns put them
    /// side by side, titles wrapped.
    pub const ONE_COLUMN: Sheet = Sheet {
        width_mm: 85.0,
        px: 450,
        suffix: "-85mm",
    };
    /// Every size `report` draws.
    pub const ALL: [Sheet; 2] = [Sheet::TWO_COLUMNS, Sheet::ONE_COLUMN];

    /// The smallest text on the sheet, pt.
    pub fn text_pt(self) -> f64 {
        f64::from(TEXT) / 1.24 * (self.width_mm / 25.4 * 72.0) / f64::from(self.px)
    }

    fn narrow(self) -> bool {
        self.px < Sheet::TWO_COLUMNS.px
    }

    /// Most configurations a figure of three panels a configuration shows (spread over
    /// them; the title says how many): four rows of three, or two configurations stacked
    /// six panels high on one column, so that the figure fits a page.
    fn three_panel_rows(self) -> usize {
        if self.narrow() { 2 } else { 4 }
    }

    fn file(self, plots: &Path, stem: &str) -> PathBuf {
        plots.join(format!("{stem}{}.svg", self.suffix))
    }
}

/// Height of a plot's data area at full width, px.
const H: u32 = 560;
/// Axis labels, tick labels, legends and panel captions.
const TEXT: u32 = 19;
/// Figure and panel titles.
const TITLE: u32 = 22;
/// Okabe & Ito's colour-blind-safe palette (2008), in the order lines take it: blue,
/// vermillion, bluish green, reddish purple, orange, sky blue, black, yellow.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];
/// Lines of a plot with verdict markers take the Okabe–Ito colours the verdicts do not.
const SERIES: [RGBColor; 4] = [PALETTE[0], PALETTE[3], PALETTE[5], PALETTE[6]];

/// `c` at opacity `alpha` over white, as an opaque colour: a shape drawn with opacity
/// becomes a transparency group of its own in a PDF, which for hundreds of bars is slow to
/// write and to view.
fn tint(c: RGBColor, alpha: f64) -> RGBColor {
    let over = |v: u8| (f64::from(v) * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    RGBColor(over(c.0), over(c.1), over(c.2))
}

/// A chart's mesh as every figure draws it: text at [`TEXT`], grid lines in opaque greys
/// (plotters' translucent black would make each line a transparency group in a PDF).
fn mesh<'a, 'b, X, Y, XT, YT, DB>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + plotters::coord::ranged1d::ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + plotters::coord::ranged1d::ValueFormatter<YT>,
    DB: DrawingBackend,
{
    let mut mesh = chart.configure_mesh();
    mesh.label_style(("sans-serif", TEXT))
        .axis_desc_style(("sans-serif", TEXT))
        .bold_line_style(tint(BLACK, 0.2))
        .light_line_style(tint(BLACK, 0.1));
    mesh
}

/// A verdict's colour (Okabe–Ito) and marker shape: holds ▲ bluish green, violated ▼
/// vermillion, inconclusive ◆ orange; readable without colour.
fn verdict_style(v: Verdict) -> (RGBColor, [(i32, i32); 4]) {
    match v {
        Verdict::Holds => (PALETTE[2], [(0, -7), (7, 5), (-7, 5), (0, -7)]),
        Verdict::Violated => (PALETTE[1], [(0, 7), (7, -5), (-7, -5), (0, 7)]),
        Verdict::Inconclusive => (PALETTE[4], [(0, -7), (7, 0), (0, 7), (-7, 0)]),
    }
}

type Res<T> = anyhow::Result<T>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting: {e:?}")
}

/// Pixels a line of text of plotters size `size` takes in a [`heading`] (its estimate of
/// the text's height, 10 px of padding, 1 px to spare).
fn line_height(size: u32) -> u32 {
    size * 100 / 124 + 11
}

/// `text` at plotters size `size` broken at spaces into lines at most `width` px wide, by
/// 0.58 em a character (DejaVu Sans's average over letters, digits and spaces is about
/// 0.55 em; a test renders every figure and checks that no text leaves the page). A word longer than a line
/// keeps a line to itself.
fn wrap(text: &str, size: u32, width: u32) -> Vec<String> {
    let per_line = ((f64::from(width) / (f64::from(size) / 1.24 * 0.58)) as usize).max(8);
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Height of `text` as [`heading`] draws it on an area `width` px wide.
fn heading_height(text: &str, size: u32, width: u32) -> u32 {
    wrap(text, size, width.saturating_sub(16)).len() as u32 * line_height(size)
}

/// Writes `text` centred at the top of `area`, wrapped to its width; returns the area below.
fn heading<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    size: u32,
) -> Res<DrawingArea<DB, plotters::coord::Shift>> {
    let width = area.dim_in_pixel().0;
    let mut rest = area.clone();
    for line in wrap(text, size, width.saturating_sub(16)) {
        rest = rest.titled(&line, ("sans-serif", size)).map_err(err)?;
    }
    Ok(rest)
}

/// Writes every plot that the directory's data allow, and `index.html`; returns the files.
/// Reads only the documented outputs (see [`read`]), so any result directory reports.
pub fn report(dir: &Path) -> Res<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    // Plots and index.html are written here: hold the directory as a writer does.
    let _locked = ResultDir::open(dir, LockMode::Exclusive)?;
    let plots = dir.join("plots");
    let run = read::run(dir)?;
    let inputs = ["theorem.json", "convexity.json", "coverage.csv"];
    if run.is_none() && !inputs.iter().any(|f| dir.join(f).exists()) {
        bail!(
            "{} holds no summary.csv, theorem.json, convexity.json or coverage.csv: nothing to report (is the run complete?)",
            dir.display()
        );
    }
    std::fs::create_dir_all(&plots)?;
    let mut tables = vec![];
    let (name, description) = match &run {
        Some(run) => (run.name.clone(), run.description.clone()),
        None => match theorem_experiment_name(dir)? {
            Some(name) => (name, "Theorem 1 check".to_string()),
            None if dir.join("convexity.json").exists() => ("convexity".to_string(), String::new()),
            None => (
                "calibrate".to_string(),
                "Coverage of the tool's own intervals".to_string(),
            ),
        },
    };
    // What every sheet draws from: read once.
    let points = match &run {
        Some(run) => read::final_points(dir, &run.cells)?,
        None => None,
    };
    if let (Some(run), Some(points)) = (&run, &points)
        && let Some(rows) = figure3::compare(&run.cells, points)?
    {
        tables.extend(figure3::write_comparison(&rows, &plots)?);
    }
    let theorem = read_json(&dir.join("theorem.json"))?;
    if run.is_none()
        && theorem
            .as_ref()
            .is_some_and(|doc| doc["reports"].as_array().is_none())
    {
        bail!(
            "{}: theorem.json holds no reports",
            dir.join("theorem.json").display()
        );
    }
    let convexity = convexity_configs(dir)?;
    // Every SVG, and the two-column ones index.html shows.
    let (mut svgs, mut shown) = (vec![], vec![]);
    for sheet in Sheet::ALL {
        let file = |stem: &str| sheet.file(&plots, stem);
        let mut written = vec![];
        if let Some(run) = &run {
            let cells = &run.cells;
            written.push(probabilities(
                cells,
                run.thresholds,
                &run.log_axes,
                sheet,
                &file("probabilities"),
            )?);
            written.extend(hitting_times(cells, sheet, &file("hitting_times"))?);
            if let Some(points) = &points {
                written.extend(final_points(cells, points, sheet, &file("final_points"))?);
                written.extend(figure3::figure(cells, points, sheet, &file("figure3"))?);
            }
        }
        if let Some(doc) = &theorem {
            written.extend(drift(doc, sheet, &file("drift"))?);
        }
        if let Some(configs) = &convexity {
            written.extend(convexity_plot(configs, sheet, &file("convexity"))?);
            written.extend(restarts(configs, sheet, &file("restarts"))?);
        }
        if run.is_none() {
            written.extend(coverage(dir, sheet, &file("coverage"))?);
        }
        for p in &written {
            declare_size(p, sheet)?;
        }
        if !sheet.narrow() {
            shown.extend(written.iter().cloned());
        }
        svgs.extend(written);
    }
    let mut written = svgs.clone();
    #[cfg(feature = "figures")]
    for svg in &svgs {
        written.extend(export::pdf_and_png(svg)?);
    }
    written.push(html::index_html(dir, &name, &description, &shown)?);
    written.extend(tables);
    Ok(written)
}

/// Gives an SVG plotters wrote its physical size on `sheet`: its width in mm, the height in
/// proportion (the drawing keeps its pixel `viewBox`).
fn declare_size(path: &Path, sheet: Sheet) -> Res<()> {
    let svg = std::fs::read_to_string(path)?;
    let dims = svg.strip_prefix("<svg width=\"").and_then(|rest| {
        let (w, rest) = rest.split_once("\" height=\"")?;
        let (h, rest) = rest.split_once('"')?;
        Some((w.parse::<f64>().ok()?, h.parse::<f64>().ok()?, rest))
    });
    let Some((w, h, rest)) = dims else {
        bail!("{}: not an SVG as plotters writes it", path.display());
    };
    let sized = format!(
        "<svg width=\"{}mm\" height=\"{:.2}mm\"{rest}",
        sheet.width_mm,
        h * sheet.width_mm / w
    );
    crate::output::atomic_write(path, sized.as_bytes())?;
    Ok(())
}

/// A JSON file of the directory, read within [`read::read_bounded`]'s limit; `None` when
/// there is none.
fn read_json(path: &Path) -> Res<Option<serde_json::Value>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = read::read_bounded(path)?;
    let doc =
        serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(doc))
}

/// The experiment's name recorded in `theorem.json`, when there is one.
fn theorem_experiment_name(dir: &Path) -> Res<Option<String>> {
    Ok(read_json(&dir.join("theorem.json"))?
        .and_then(|doc| doc["experiment"]["name"].as_str().map(str::to_string)))
}

/// P(reach) and P(stay) against the swept parameter with the most values (on a log axis
/// when the sweep spaced it geometrically), one line per value of the others.
fn probabilities(
    cells: &[Cell],
    thresholds: (Option<f64>, Option<f64>),
    log_axes: &[String],
    sheet: Sheet,
    path: &Path,
) -> Res<PathBuf> {
    let swept = !cells[0].params.is_empty();
    if !swept {
        return by_configuration(cells, thresholds, sheet, path);
    }
    // x: the swept parameter with the most values; one line per value of the others.
    let distinct = |k: usize| {
        let mut v: Vec<f64> = cells.iter().map(|c| c.params[k].1).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v.len()
    };
    let xk = (0..cells[0].params.len())
        .max_by_key(|&k| (distinct(k), std::cmp::Reverse(k)))
        .unwrap_or(0);
    // One line per value of the other parameters, in numeric order (the legend's order).
    let mut lines: BTreeMap<LegendKey, Vec<(f64, &Cell)>> = BTreeMap::new();
    for c in cells {
        let rest: Vec<&(String, f64)> = c
            .params
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != xk)
            .map(|(_, p)| p)
            .collect();
        let shown: Vec<String> = rest
            .iter()
            .map(|(n, v)| format!("{n}={}", crate::config::sweep::show(*v)))
            .collect();
        let order = rest.iter().map(|(_, v)| Total(*v)).collect();
        lines
            .entry((order, shown.join(", ")))
            .or_default()
            .push((c.params[xk].1, c));
    }
    let xs: Vec<f64> = lines.values().flatten().map(|p| p.0).collect();
    let (lo, hi) = (
        xs.iter().cloned().fold(f64::INFINITY, f64::min),
        xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    let x_name = cells[0].params[xk].0.clone();
    let log = lo > 0.0 && log_axes.contains(&x_name);
    // The legend, in a strip below the panels: the lines, the threshold, the verdicts shown.
    let mut items: Vec<(LegendGlyph, String)> = lines
        .keys()
        .enumerate()
        .filter(|(_, (_, key))| !key.is_empty())
        .map(|(j, (_, key))| (LegendGlyph::Line(SERIES[j % SERIES.len()], 2), key.clone()))
        .collect();
    if thresholds.0.is_some() || thresholds.1.is_some() {
        items.push((LegendGlyph::Line(BLACK, 1), "threshold".into()));
    }
    items.extend(verdict_items(cells.iter()));
    let legend = legend_height(&items, sheet.px);
    // Side by side on two columns, one above the other on one.
    let (body_h, layout) = if sheet.narrow() {
        (2 * 340, (2, 1))
    } else {
        (H, (1, 2))
    };
    let root = SVGBackend::new(path, (sheet.px, body_h + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (body, strip) = root.split_vertically(body_h);
    legend_strip(&strip, &items)?;
    let areas = body.split_evenly(layout);
    for (panel, (name, threshold)) in areas
        .iter()
        .zip([("P(reach)", thresholds.0), ("P(stay)", thresholds.1)])
    {
        let pad = if log { 1.0 } else { 0.05 * (hi - lo).max(1.0) };
        let mut builder = ChartBuilder::on(panel);
        builder
            .caption(name, ("sans-serif", TITLE))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                let mut mesh = mesh(&mut chart);
                mesh.x_desc(x_name.as_str()).y_desc("probability");
                mesh.draw().map_err(err)?;
                if let Some(p0) = threshold {
                    chart
                        .draw_series(LineSeries::new(
                            [
                                (
                                    lo.min(hi) / if log { 1.5 } else { 1.0 }
                                        - if log { 0.0 } else { pad },
                                    p0,
                                ),
                                (
                                    hi * if log { 1.5 } else { 1.0 } + if log { 0.0 } else { pad },
                                    p0,
                                ),
                            ],
                            BLACK.stroke_width(1),
                        ))
                        .map_err(err)?;
                }
                let get = |c: &Cell| event(c, name).cloned();
                for (j, pts) in lines.values().enumerate() {
                    let color = SERIES[j % SERIES.len()];
                    let data: Vec<(f64, f64, f64, f64, Option<Verdict>)> = pts
                        .iter()
                        .filter_map(|(x, c)| {
                            get(c).map(|e| (*x, e.estimate, e.lower, e.upper, e.verdict))
                        })
                        .collect();
                    if data.is_empty() {
                        continue;
                    }
                    let band: Vec<(f64, f64)> = data
                        .iter()
                        .map(|d| (d.0, d.3))
                        .chain(data.iter().rev().map(|d| (d.0, d.2)))
                        .collect();
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2))))
                        .map_err(err)?;
                    // Joined along the swept parameter (experiments without a sweep, whose
                    // configurations are not ordered, are drawn by `by_configuration`).
                    chart
                        .draw_series(LineSeries::new(
                            data.iter().map(|d| (d.0, d.1)),
                            color.stroke_width(2),
                        ))
                        .map_err(err)?;
                    for d in &data {
                        match d.4 {
                            Some(v) => {
                                let (c, shape) = verdict_style(v);
                                chart
                                    .draw_series(std::iter::once(
                                        EmptyElement::at((d.0, d.1))
                                            + Polygon::new(shape.to_vec(), c.filled()),
                                    ))
                                    .map_err(err)?;
                            }
                            None => {
                                chart
                                    .draw_series(std::iter::once(Circle::new(
                                        (d.0, d.1),
                                        4,
                                        color.filled(),
                                    )))
                                    .map_err(err)?;
                            }
                        }
                    }
                }
            }};
        }
        if log {
            draw!(
                builder
                    .build_cartesian_2d((lo / 1.5..hi * 1.5).log_scale(), 0.0..1.0)
                    .map_err(err)?
            );
        } else {
            draw!(
                builder
                    .build_cartesian_2d(lo - pad..hi + pad, 0.0..1.0)
                    .map_err(err)?
            );
        }
    }
    root.present().map_err(err)?;
    Ok(path.to_path_buf())
}

/// A cell's estimate of the panel's event: "P(reach)" or, otherwise, P(stay).
fn event<'c>(c: &'c Cell, panel: &str) -> Option<&'c read::Probability> {
    if panel == "P(reach)" {
        Some(&c.reach)
    } else {
        c.stay.as_ref()
    }
}

/// Legend entries for the verdicts the cells carry, in a fixed order.
fn verdict_items<'c>(cells: impl Iterator<Item = &'c Cell> + Clone) -> Vec<(LegendGlyph, String)> {
    [Verdict::Holds, Verdict::Violated, Verdict::Inconclusive]
        .into_iter()
        .filter(|&v| {
            cells.clone().any(|c| {
                c.reach.verdict == Some(v) || c.stay.as_ref().is_some_and(|e| e.verdict == Some(v))
            })
        })
        .map(|v| (LegendGlyph::Verdict(v), v.to_string()))
        .collect()
}

/// Most configurations one per-configuration plot shows (evenly spread; it says how many).
const ROWS: usize = 40;

/// P(reach) and P(stay) of an experiment without a sweep: one row per configuration, its
/// estimate with the interval as a horizontal bar (the configurations are not ordered, so
/// nothing joins them), labels on the left where long ones fit, the threshold as a vertical
/// line, verdicts by shape, and the legend in a strip below the data.
fn by_configuration(
    cells: &[Cell],
    thresholds: (Option<f64>, Option<f64>),
    sheet: Sheet,
    path: &Path,
) -> Res<PathBuf> {
    let shown: Vec<&Cell> = spread(cells.len(), ROWS)
        .into_iter()
        .map(|i| &cells[i])
        .collect();
    let n = shown.len();
    // The legend, outside the data: what the marks mean, then the verdicts shown.
    let mut items: Vec<(LegendGlyph, String)> = vec![(
        LegendGlyph::Whisker(SERIES[0]),
        "estimate and interval".into(),
    )];
    if thresholds.0.is_some() || thresholds.1.is_some() {
        items.push((LegendGlyph::Line(BLACK, 1), "threshold".into()));
    }
    items.extend(verdict_items(shown.iter().copied()));
    let legend = legend_height(&items, sheet.px);
    let title = format!(
        "P(reach) and P(stay) with their intervals{}",
        shown_of(n, cells.len())
    );
    let title_h = heading_height(&title, TITLE, sheet.px);
    // Side by side on two columns (labels once, on the left); one above the other on one
    // column, each with its labels.
    let stacked = sheet.narrow();
    let panel_h = 34 * n as u32 + 90;
    let body_h = if stacked { 2 * panel_h } else { panel_h };
    let root = SVGBackend::new(path, (sheet.px, title_h + body_h + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (title_area, rest) = root.split_vertically(title_h);
    heading(&title_area, &title, TITLE)?;
    let (body, strip) = rest.split_vertically(body_h);
    // Room for the longest label at 15.3 px text (about 9 px a character), within reason;
    // longer ones are shortened with "…" (summary.csv and index.html have them whole).
    let longest = shown
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(1);
    let max_label = if stacked { sheet.px / 2 } else { 360 };
    let label_w = (longest as u32 * 9 + 16).clamp(80, max_label);
    let fit = ((label_w - 16) / 9) as usize;
    let labels: Vec<String> = shown.iter().map(|c| shorten(&c.label, fit)).collect();
    let (first, second) = if stacked {
        body.split_vertically(panel_h)
    } else {
        let plot_w = (sheet.px - label_w - 40) / 2;
        body.split_horizontally(label_w + plot_w)
    };
    for (area, (name, threshold), with_labels) in [
        (&first, ("P(reach)", thresholds.0), true),
        (&second, ("P(stay)", thresholds.1), stacked),
    ] {
        let get = |c: &Cell| event(c, name).cloned();
        let names = labels.clone();
        let row_name = move |y: &f64| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                names.get(n - 1 - i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(area)
            .caption(name, ("sans-serif", TITLE))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(if with_labels { label_w } else { 10 })
            .build_cartesian_2d(0.0..1.0, -0.5..n as f64 - 0.5)
            .map_err(err)?;
        mesh(&mut chart)
            .x_desc("probability")
            .x_labels(6)
            .y_labels(if with_labels { n } else { 0 })
            .y_label_formatter(&row_name)
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        if let Some(p0) = threshold {
            chart
                .draw_series(LineSeries::new(
                    [(p0, -0.5), (p0, n as f64 - 0.5)],
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?;
        }
        for (i, c) in shown.iter().enumerate() {
            let Some(e) = get(c) else { continue };
            let y = (n - 1 - i) as f64;
            let color = SERIES[0];
            chart
                .draw_series([
                    PathElement::new(vec![(e.lower, y), (e.upper, y)], color.stroke_width(2)),
                    PathElement::new(
                        vec![(e.lower, y - 0.2), (e.lower, y + 0.2)],
                        color.stroke_width(2),
                    ),
                    PathElement::new(
                        vec![(e.upper, y - 0.2), (e.upper, y + 0.2)],
                        color.stroke_width(2),
                    ),
                ])
                .map_err(err)?;
            match e.verdict {
                Some(v) => {
                    let (c, shape) = verdict_style(v);
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at((e.estimate, y))
                                + Polygon::new(shape.to_vec(), c.filled()),
                        ))
                        .map_err(err)?;
                }
                None => {
                    chart
                        .draw_series(std::iter::once(Circle::new(
                            (e.estimate, y),
                            4,
                            color.filled(),
                        )))
                        .map_err(err)?;
                }
            }
        }
    }
    legend_strip(&strip, &items)?;
    root.present().map_err(err)?;
    Ok(path.to_path_buf())
}

/// A tick label on a log axis: up to three significant digits, powers of ten beyond
/// [1e-3, 1e5) ("1e-6", "2.5e7"), so that labels stay short.
fn tick(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// `text` cut to at most `max` characters, the last of them "…" when it was longer.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// How an entry of a [`legend_strip`] is drawn.
#[derive(Debug, Clone, Copy)]
enum LegendGlyph {
    /// A point with a horizontal interval bar.
    Whisker(RGBColor),
    /// A line of a colour and width (a series; black and 1 px: a threshold).
    Line(RGBColor, u32),
    /// A verdict's marker.
    Verdict(Verdict),
}

/// Height of one row of a legend strip, px.
const LEGEND_ROW: u32 = 26;

/// Where each entry of a legend strip of width `width` goes: (x, row).
fn legend_layout(items: &[(LegendGlyph, String)], width: u32) -> Vec<(i32, u32)> {
    let (mut x, mut row) = (16i32, 0u32);
    items
        .iter()
        .map(|(_, text)| {
            // 32 px of glyph, about 9 px a character at 15.3 px, 24 px between entries.
            let w = 32 + text.chars().count() as i32 * 9 + 24;
            if x > 16 && x + w > width as i32 {
                (x, row) = (16, row + 1);
            }
            let at = (x, row);
            x += w;
            at
        })
        .collect()
}

/// Height of the strip [`legend_strip`] draws `items` in, at width `width`.
fn legend_height(items: &[(LegendGlyph, String)], width: u32) -> u32 {
    legend_layout(items, width)
        .last()
        .map_or(0, |&(_, row)| (row + 1) * LEGEND_ROW + 8)
}

/// A legend in its own strip below the data (wrapping into rows), so it never covers any.
fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    items: &[(LegendGlyph, String)],
) -> Res<()> {
    let style = ("sans-serif", TEXT).into_font().color(&BLACK);
    for ((glyph, text), (x, row)) in items
        .iter()
        .zip(legend_layout(items, area.dim_in_pixel().0))
    {
        let y = (row * LEGEND_ROW + LEGEND_ROW / 2 + 4) as i32;
        match *glyph {
            LegendGlyph::Whisker(c) => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 24, y)],
                    c.stroke_width(2),
                ))
                .map_err(err)?;
                area.draw(&Circle::new((x + 12, y), 4, c.filled()))
                    .map_err(err)?;
            }
            LegendGlyph::Line(c, w) => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 24, y)],
                    c.stroke_width(w),
                ))
                .map_err(err)?;
            }
            LegendGlyph::Verdict(v) => {
                let (c, shape) = verdict_style(v);
                let at: Vec<(i32, i32)> =
                    shape.iter().map(|(dx, dy)| (x + 12 + dx, y + dy)).collect();
                // Outlined: the filled shapes in a plot are its verdicts, and only those.
                area.draw(&PathElement::new(at, c.stroke_width(2)))
                    .map_err(err)?;
            }
        }
        area.draw(&Text::new(text.clone(), (x + 32, y - 8), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// A line's legend entry: the values of the other parameters (the order) and their text.
type LegendKey = (Vec<Total>, String);

/// What a plot that shows `shown` of `all` configurations says about the others (nothing
/// when it shows them all).
fn shown_of(shown: usize, all: usize) -> String {
    if shown < all {
        format!(" ({shown} of {all} configurations shown)")
    } else {
        String::new()
    }
}

/// At most `k` of `n` indices, evenly spread.
fn spread(n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        (0..n).collect()
    } else {
        (0..k).map(|i| i * (n - 1) / (k - 1)).collect()
    }
}

/// The Kaplan–Meier curves of up to 8 configurations spread over the run; `None` when
/// `run.json` keeps no curves (runs of more than 100 configurations).
fn hitting_times(all: &[Cell], sheet: Sheet, path: &Path) -> Res<Option<PathBuf>> {
    let cells: Vec<&Cell> = all.iter().filter(|c| c.hit_curve.is_some()).collect();
    if cells.is_empty() {
        return Ok(None);
    }
    let picked = spread(cells.len(), 8);
    let items: Vec<(LegendGlyph, String)> = picked
        .iter()
        .enumerate()
        .map(|(j, &i)| {
            (
                LegendGlyph::Line(PALETTE[j % PALETTE.len()], 2),
                cells[i].label.clone(),
            )
        })
        .collect();
    let legend = legend_height(&items, sheet.px);
    let title = format!(
        "Hitting time of the reach ball: Kaplan–Meier P(not yet reached by t){}",
        shown_of(picked.len(), all.len())
    );
    let title_h = heading_height(&title, TITLE, sheet.px);
    let chart_h = if sheet.narrow() { 380 } else { H - 40 };
    let root = SVGBackend::new(path, (sheet.px, title_h + chart_h + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (title_area, rest) = root.split_vertically(title_h);
    heading(&title_area, &title, TITLE)?;
    let (body, strip) = rest.split_vertically(chart_h);
    legend_strip(&strip, &items)?;
    let t_max = cells.iter().map(|c| c.steps).max().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((1.0..t_max + 1.0).log_scale(), 0.0..1.0)
        .map_err(err)?;
    mesh(&mut chart)
        .x_label_formatter(&|x| tick(*x))
        .x_desc("t + 1")
        .y_desc("survival")
        .draw()
        .map_err(err)?;
    for (j, i) in picked.into_iter().enumerate() {
        let c = cells[i];
        let color = PALETTE[j % PALETTE.len()];
        let Some(curve) = &c.hit_curve else {
            continue;
        };
        let mut step = vec![(1.0, 1.0)];
        let mut band_hi = vec![(1.0, 1.0)];
        let mut band_lo = vec![(1.0, 1.0)];
        let mut prev = (1.0, 1.0, 1.0);
        for r in &curve.rows {
            let x = r.time as f64 + 1.0;
            step.push((x, prev.0));
            step.push((x, r.survival));
            band_hi.extend([(x, prev.2), (x, r.upper)]);
            band_lo.extend([(x, prev.1), (x, r.lower)]);
            prev = (r.survival, r.lower, r.upper);
        }
        step.push((t_max + 1.0, prev.0));
        band_hi.push((t_max + 1.0, prev.2));
        band_lo.push((t_max + 1.0, prev.1));
        let band: Vec<(f64, f64)> = band_hi
            .into_iter()
            .chain(band_lo.into_iter().rev())
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(step, color.stroke_width(2)))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

fn final_points(
    cells: &[Cell],
    points: &read::FinalPoints,
    sheet: Sheet,
    path: &Path,
) -> Res<Option<PathBuf>> {
    let by = &points.by;
    let with_points = cells.iter().filter(|c| by.contains_key(&c.label)).count();
    let shown: Vec<&Cell> = spread(cells.len(), 6)
        .into_iter()
        .map(|i| &cells[i])
        .filter(|c| by.contains_key(&c.label))
        .collect();
    if shown.is_empty() {
        return Ok(None);
    }
    let all: Vec<f64> = shown
        .iter()
        .flat_map(|c| by[&c.label].iter().cloned())
        .collect();
    let q = |p: f64| {
        let mut v = all.clone();
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p) as usize]
    };
    let (lo, hi) = (q(0.005).min(-0.5), q(0.995).max(0.5));
    let bins = 60;
    let width = (hi - lo) / bins as f64;
    // Each panel: its caption (wrapped), then 140 px of histogram.
    let panels: Vec<(String, Vec<u64>, usize)> = shown
        .iter()
        .map(|&c| {
            let (xs, undrawn) = points.of(&c.label);
            let (counts, outside) = points.histogram(&c.label, lo, hi, bins);
            let caption = if outside > 0 {
                format!(
                    "{} ({outside} of {} points outside [{}, {}], not drawn)",
                    c.label,
                    xs.len() as u64 + undrawn,
                    crate::config::sweep::show(lo),
                    crate::config::sweep::show(hi)
                )
            } else {
                c.label.clone()
            };
            (caption, counts, xs.len())
        })
        .collect();
    let title = format!(
        "Final points x_T (first coordinate), one panel per configuration{}",
        shown_of(shown.len(), with_points)
    );
    let title_h = heading_height(&title, TITLE, sheet.px);
    let heights: Vec<u32> = panels
        .iter()
        .map(|p| heading_height(&p.0, TEXT, sheet.px) + 140)
        .collect();
    let root = SVGBackend::new(path, (sheet.px, title_h + heights.iter().sum::<u32>()))
        .into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (title_area, mut rest) = root.split_vertically(title_h);
    heading(&title_area, &title, TITLE)?;
    for ((caption, counts, n), h) in panels.iter().zip(&heights) {
        let (panel, below) = rest.split_vertically(*h);
        rest = below;
        let panel = heading(&panel, caption, TEXT)?;
        let n = *n as f64;
        let top = (*counts.iter().max().unwrap_or(&1) as f64 / n).max(0.01);
        let mut chart = ChartBuilder::on(&panel)
            .margin(6)
            .margin_right(24)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0.0..top * 1.1)
            .map_err(err)?;
        mesh(&mut chart)
            .y_desc("share")
            .y_labels(3)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &k)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new(
                    [(x0, 0.0), (x0 + width, k as f64 / n)],
                    tint(PALETTE[0], 0.8).filled(),
                )
            }))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

/// E‖y_t − x*‖² against Theorem 1's bound, one panel per configuration (up to 6), from
/// `theorem.json`.
fn drift(doc: &serde_json::Value, sheet: Sheet, path: &Path) -> Res<Option<PathBuf>> {
    let Some(reports) = doc["reports"].as_array() else {
        return Ok(None);
    };
    let shown: Vec<&serde_json::Value> = spread(reports.len(), 6)
        .into_iter()
        .map(|i| &reports[i])
        .collect();
    let items = [
        (
            LegendGlyph::Line(PALETTE[0], 2),
            "simulated, with its band".to_string(),
        ),
        (
            LegendGlyph::Line(PALETTE[3], 2),
            "bound (1 − λ)^t E‖y₀‖² + b/λ".to_string(),
        ),
    ];
    let legend = legend_height(&items, sheet.px);
    let label = |r: &serde_json::Value| {
        format!(
            "{} — {}",
            r["label"].as_str().unwrap_or(""),
            r["verdict_label"]
                .as_str()
                .or(r["verdict"].as_str())
                .unwrap_or("")
        )
    };
    // Each panel: its caption (wrapped), then 190 px of plot.
    let heights: Vec<u32> = shown
        .iter()
        .map(|r| heading_height(&label(r), TEXT, sheet.px) + 190)
        .collect();
    let panels_h: u32 = heights.iter().sum();
    // Configurations with events on x record ‖x_t − x*‖² (their `given` says so).
    let on_x = shown.iter().any(|r| {
        r["given"].as_array().is_some_and(|g| {
            g.iter()
                .any(|g| g.as_str().is_some_and(|g| g.starts_with("events on x")))
        })
    });
    let title = if on_x {
        "Drift: E‖y_t − x*‖², or E‖x_t − x*‖² with events on x (band: 95% t-interval) against Theorem 1's bound"
    } else {
        "Drift: E‖y_t − x*‖² (band: 95% t-interval) against Theorem 1's bound"
    };
    let title_h = heading_height(title, TITLE, sheet.px);
    let root = SVGBackend::new(path, (sheet.px, title_h + panels_h + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (title_area, rest) = root.split_vertically(title_h);
    heading(&title_area, title, TITLE)?;
    let (mut body, strip) = rest.split_vertically(panels_h);
    legend_strip(&strip, &items)?;
    for (r, h) in shown.into_iter().zip(heights) {
        let (panel, below) = body.split_vertically(h);
        body = below;
        let panel = heading(&panel, &label(r), TEXT)?;
        let pts: Vec<(f64, f64, f64, f64, Option<f64>)> = r["drift"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| {
                        Some((
                            d["t"].as_f64()? + 1.0,
                            d["mean"]["mean"].as_f64()?,
                            d["mean"]["lower"].as_f64()?,
                            d["mean"]["upper"].as_f64()?,
                            d["bound"].as_f64(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A diverging run's curve climbs to ~1e308, where the axis range would overflow to
        // infinity: keep what is plottable.
        let pts: Vec<_> = pts
            .into_iter()
            .filter(|p| {
                [p.1, p.2, p.3].iter().all(|v| v.abs() <= PLOT_LIMIT)
                    && p.4.is_none_or(|b| b.abs() <= PLOT_LIMIT)
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let ymax = pts
            .iter()
            .map(|p| p.3.max(p.4.unwrap_or(0.0)))
            .fold(0.0f64, f64::max)
            .max(1e-11)
            * 1.3;
        let ymin = pts
            .iter()
            .map(|p| p.2.max(1e-12))
            .fold(f64::INFINITY, f64::min)
            / 1.3;
        let tmax = pts.last().unwrap().0.max(2.0);
        let mut chart = ChartBuilder::on(&panel)
            .margin(6)
            .margin_right(30)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d((1.0..tmax).log_scale(), (ymin..ymax).log_scale())
            .map_err(err)?;
        mesh(&mut chart)
            .x_label_formatter(&|x| tick(*x))
            .x_desc("t + 1")
            .y_label_formatter(&|y| tick(*y))
            .y_labels(4)
            .draw()
            .map_err(err)?;
        let band: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (p.0, p.3))
            .chain(pts.iter().rev().map(|p| (p.0, p.2.max(ymin))))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, PALETTE[0].mix(0.2))))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                PALETTE[0].stroke_width(2),
            ))
            .map_err(err)?;
        let bound: Vec<(f64, f64)> = pts.iter().filter_map(|p| p.4.map(|b| (p.0, b))).collect();
        if !bound.is_empty() {
            chart
                .draw_series(LineSeries::new(bound, PALETTE[3].stroke_width(2)))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

/// One row of `coverage.csv` (written by `calibrate`).
struct Coverage {
    case: String,
    rule: String,
    nominal: f64,
    coverage: (f64, f64, f64),
    exact: Option<f64>,
}

/// `coverage.csv`, validated: every share in [0, 1], the estimate inside its interval.
fn coverage_rows(path: &Path) -> Res<Vec<Coverage>> {
    let bytes = read::read_bounded(path)?;
    let mut rd = csv::Reader::from_reader(bytes.as_slice());
    let header = rd.headers()?.clone();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .ok_or_else(|| anyhow::anyhow!("{}: no `{n}` column", path.display()))
    };
    let at = [
        col("case")?,
        col("rule")?,
        col("nominal")?,
        col("coverage")?,
        col("coverage_lower")?,
        col("coverage_upper")?,
        col("exact")?,
    ];
    let mut rows = vec![];
    for (i, rec) in rd.records().enumerate() {
        let rec = rec?;
        let share = |k: usize| -> Res<Option<f64>> {
            let v = rec.get(at[k]).unwrap_or_default();
            if v.is_empty() {
                return Ok(None);
            }
            match v.parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => Ok(Some(x)),
                _ => bail!(
                    "{}, line {}: `{}` is {v:?}, not a share in [0, 1]",
                    path.display(),
                    i + 2,
                    &header[at[k]]
                ),
            }
        };
        let need = |k: usize| {
            share(k)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}, line {}: `{}` is empty",
                    path.display(),
                    i + 2,
                    &header[at[k]]
                )
            })
        };
        let (c, lo, hi) = (need(3)?, need(4)?, need(5)?);
        if !(lo <= c && c <= hi) {
            bail!(
                "{}, line {}: coverage {c} outside [{lo}, {hi}]",
                path.display(),
                i + 2
            );
        }
        rows.push(Coverage {
            case: rec[at[0]].to_string(),
            rule: rec[at[1]].to_string(),
            nominal: need(2)?,
            coverage: (c, lo, hi),
            exact: share(6)?,
        });
    }
    Ok(rows)
}

/// `coverage.svg`: each case and rule's simulated coverage with its interval (a dot and a
/// whisker), the exact coverage where it is known (a hollow diamond), the nominal level (a
/// dashed line).
fn coverage(dir: &Path, sheet: Sheet, path: &Path) -> Res<Option<PathBuf>> {
    let file = dir.join("coverage.csv");
    if !file.exists() {
        return Ok(None);
    }
    let rows = coverage_rows(&file)?;
    if rows.is_empty() {
        bail!("{}: no rows", file.display());
    }
    let lo = rows
        .iter()
        .map(|r| r.coverage.1.min(r.nominal))
        .fold(1.0, f64::min);
    let x0 = (lo - 0.01).max(0.0);
    let n = rows.len();
    let title = "Coverage of the intervals (dot: simulated, with its 95% interval; ◇: exact)";
    let title_h = heading_height(title, TEXT, sheet.px);
    let root = SVGBackend::new(path, (sheet.px, title_h + 30 + 22 * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let body = heading(&root, title, TEXT)?;
    // Labels take what they need up to 58% of the width, shortened with "…" beyond it
    // (coverage.csv has them whole).
    let longest = rows
        .iter()
        .map(|r| r.case.chars().count() + r.rule.chars().count() + 3)
        .max()
        .unwrap_or(1);
    let label_w = (longest as u32 * 9 + 16).min(sheet.px * 58 / 100);
    let fit = ((label_w - 16) / 9) as usize;
    let labels: Vec<String> = rows
        .iter()
        .map(|r| shorten(&format!("{} · {}", r.case, r.rule), fit))
        .collect();
    let mut chart = ChartBuilder::on(&body)
        .margin(10)
        .margin_right(24)
        .x_label_area_size(52)
        .y_label_area_size(label_w)
        .build_cartesian_2d(x0..1.0, -0.5..n as f64 - 0.5)
        .map_err(err)?;
    mesh(&mut chart)
        .x_desc("coverage")
        .x_labels(((sheet.px - label_w) / 70).max(2) as usize)
        .y_labels(n)
        .y_label_formatter(&|y: &f64| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[labels.len() - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .draw()
        .map_err(err)?;
    let y = |i: usize| (n - 1 - i) as f64;
    for (i, r) in rows.iter().enumerate() {
        chart
            .draw_series(DashedLineSeries::new(
                [(r.nominal, y(i) - 0.45), (r.nominal, y(i) + 0.45)],
                3,
                3,
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(r.coverage.1, y(i)), (r.coverage.2, y(i))],
                PALETTE[0].stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (r.coverage.0, y(i)),
                4,
                PALETTE[0].filled(),
            )))
            .map_err(err)?;
        if let Some(e) = r.exact {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((e, y(i)))
                        + PathElement::new(
                            vec![(0, -6), (6, 0), (0, 6), (-6, 0), (0, -6)],
                            PALETTE[1].stroke_width(2),
                        ),
                ))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

/// The configurations of `convexity.json`, when the directory has one.
fn convexity_configs(dir: &Path) -> Res<Option<Vec<serde_json::Value>>> {
    let Some(mut doc) = read_json(&dir.join("convexity.json"))? else {
        return Ok(None);
    };
    Ok(match doc["configs"].take() {
        serde_json::Value::Array(configs) => Some(configs),
        _ => None,
    })
}

/// A drawing area of an SVG figure.
type Panel<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// A figure of `rows` rows of three panels under a title (on one column, one panel a row:
/// the three of a row one after another); returns the root (to present) and the panels, row
/// by row.
fn three_columns<'a>(
    path: &'a Path,
    rows: usize,
    title: &str,
    sheet: Sheet,
) -> Res<(Panel<'a>, Vec<Panel<'a>>)> {
    let title_h = heading_height(title, TEXT, sheet.px);
    let (layout, row_h) = if sheet.narrow() {
        ((3 * rows, 1), 200)
    } else {
        ((rows, 3), 260)
    };
    let height = title_h + row_h * layout.0 as u32;
    let root = SVGBackend::new(path, (sheet.px, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let body = heading(&root, title, TEXT)?;
    let panels = body.split_evenly(layout);
    Ok((root, panels))
}

/// The paper's Fig. 5 layout from `convexity.json`.
fn convexity_plot(
    configs: &[serde_json::Value],
    sheet: Sheet,
    path: &Path,
) -> Res<Option<PathBuf>> {
    let shown: Vec<&serde_json::Value> = spread(configs.len(), sheet.three_panel_rows())
        .into_iter()
        .map(|i| &configs[i])
        .collect();
    if shown.is_empty() {
        return Ok(None);
    }
    let (root, rows) = three_columns(
        path,
        shown.len(),
        &format!(
            "One-point convexity along SGD (the paper's Fig. 5): (a) min over trajectories of ⟨−∇f(x_t), x_T − x_t⟩, (b) in a ball around x_t, (c) stochastic-gradient norms{}",
            shown_of(shown.len(), configs.len())
        ),
        sheet,
    )?;
    for (r, c) in shown.iter().enumerate() {
        let label = c["label"].as_str().unwrap_or("");
        let Some(epochs) = c["epochs"].as_array() else {
            continue;
        };
        let get = |e: &serde_json::Value, k: &str| e[k].as_f64().filter(|v| v.abs() <= PLOT_LIMIT);
        // (x, mean, low, high) per panel; the last time (x_t = x_T) is left out.
        let series = |mean: &str, low: Option<&str>, high: Option<&str>, sd: Option<&str>| {
            epochs[..epochs.len().saturating_sub(1)]
                .iter()
                .filter_map(|e| {
                    let x = get(e, "epoch")?;
                    let m = get(e, mean)?;
                    let (lo, hi) = match (low, high, sd) {
                        (Some(l), Some(h), _) => (get(e, l)?, get(e, h)?),
                        (_, _, Some(s)) => (m - get(e, s)?, m + get(e, s)?),
                        _ => (m, m),
                    };
                    Some((x, m, lo, hi))
                })
                .collect::<Vec<_>>()
        };
        let panels = [
            ("(a) 5.1 minimum", series("inner_min", None, None, None)),
            (
                "(b) 5.2 mean, band min–max",
                series(
                    "neighbourhood_mean",
                    Some("neighbourhood_min"),
                    Some("neighbourhood_max"),
                    None,
                ),
            ),
            (
                "(c) ‖stochastic gradient‖, mean ± sd",
                series(
                    "stochastic_grad_norm_mean",
                    None,
                    None,
                    Some("stochastic_grad_norm_sd"),
                ),
            ),
        ];
        for (k, (name, pts)) in panels.into_iter().enumerate() {
            band_panel(&rows[3 * r + k], &format!("{label}: {name}"), "epoch", &pts)?;
        }
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}

/// One panel: a mean line over a band, against x, with the zero line.
fn band_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    x_desc: &str,
    pts: &[(f64, f64, f64, f64)],
) -> Res<()> {
    if pts.is_empty() {
        return Ok(());
    }
    let xmin = pts
        .iter()
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let xmax = pts.iter().map(|p| p.0).fold(1e-9, f64::max);
    let ymin = pts.iter().map(|p| p.2).fold(0.0f64, f64::min);
    let ymax = pts.iter().map(|p| p.3).fold(0.0f64, f64::max);
    let pad = (ymax - ymin).max(1e-12) * 0.08;
    let area = heading(area, caption, TEXT)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(xmin..xmax, (ymin - pad)..(ymax + pad))
        .map_err(err)?;
    mesh(&mut chart)
        .x_desc(x_desc)
        .x_labels(5)
        .y_labels(5)
        .draw()
        .map_err(err)?;
    let band: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (p.0, p.3))
        .chain(pts.iter().rev().map(|p| (p.0, p.2)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, PALETTE[0].mix(0.2))))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|p| (p.0, p.1)),
            PALETTE[0].stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_series(PointSeries::of_element(
            pts.iter().map(|p| (p.0, p.1)),
            3,
            PALETTE[0].filled(),
            &|c, s, st| EmptyElement::at(c) + Circle::new((0, 0), s, st),
        ))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(xmin, 0.0), (xmax, 0.0)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(err)?;
    Ok(())
}

/// The paper's Fig. 6 layout from the restarts in `convexity.json`: training loss,
/// validation loss and distance from the initial point against the restart epoch (mean over
/// trajectories, band min–max).
fn restarts(configs: &[serde_json::Value], sheet: Sheet, path: &Path) -> Res<Option<PathBuf>> {
    // (label, restarts) of the configurations that have any.
    let all: Vec<(&str, &Vec<serde_json::Value>)> = configs
        .iter()
        .filter_map(|c| {
            let list = c["restarts"].as_array().filter(|r| !r.is_empty())?;
            Some((c["label"].as_str().unwrap_or(""), list))
        })
        .collect();
    let with: Vec<(&str, &Vec<serde_json::Value>)> = spread(all.len(), sheet.three_panel_rows())
        .into_iter()
        .map(|i| all[i])
        .collect();
    if with.is_empty() {
        return Ok(None);
    }
    let (root, rows) = three_columns(
        path,
        with.len(),
        &format!(
            "Restarts with a smaller step (the paper's Fig. 6): mean over trajectories, band min–max{}",
            shown_of(with.len(), all.len())
        ),
        sheet,
    )?;
    for (r, &(label, list)) in with.iter().enumerate() {
        let stat = |key: &str| -> Vec<(f64, f64, f64, f64)> {
            let mut by: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
            for x in list {
                if let (Some(e), Some(v)) = (x["epoch"].as_f64(), x[key].as_f64()) {
                    by.entry(e.to_bits()).or_default().push(v);
                }
            }
            let mut pts: Vec<_> = by
                .into_iter()
                .map(|(e, v)| {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    (f64::from_bits(e), mean, lo, hi)
                })
                .filter(|p| p.3.abs() <= PLOT_LIMIT && p.2.abs() <= PLOT_LIMIT)
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            pts
        };
        for (k, (key, name)) in [
            ("train_loss", "training loss"),
            ("validation_loss", "validation loss"),
            ("distance_from_start", "distance from the initial point"),
        ]
        .into_iter()
        .enumerate()
        {
            band_panel(
                &rows[3 * r + k],
                &format!("{label}: {name}"),
                "restart epoch",
                &stat(key),
            )?;
        }
    }
    root.present().map_err(err)?;
    Ok(Some(path.to_path_buf()))
}
