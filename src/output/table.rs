//! The terminal table `run` prints.

use crate::run::ConfigResult;
use crate::stats::decision::{Decision, Verdict};
use crate::stats::{Proportion, StatsSpec, StopReason};

/// "0.175 [0.153, 0.200]"; at k = 0 or k = n also the one-sided bound the data support
/// (unless `narrow`).
fn prop(p: Option<&Proportion>, narrow: bool) -> String {
    match p {
        Some(p) => {
            let mut s = format!("{:.3} [{:.3}, {:.3}]", p.estimate, p.lower, p.upper);
            match p.one_sided {
                _ if narrow => {}
                Some(b) if p.k == 0 => s.push_str(&format!(" (≤ {b:.2e})")),
                Some(b) => s.push_str(&format!(" (≥ {:.4})", b)),
                None => {}
            }
            s
        }
        None => "-".into(),
    }
}

/// A bound with four significant digits (exponent form below 10⁻³).
fn short(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
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

/// One row per configuration: n, P(reach) and P(stay) with intervals (and verdicts when
/// thresholds were asked for), median hitting time with its interval, mean final distance,
/// diverged count and throughput. Within `width` characters when given (see [`fitted`]):
/// the probabilities come first, without the one-sided bounds at k = 0 and k = n, and
/// the interval's level and method go under the table.
pub fn render_table(results: &[ConfigResult], stats: &StatsSpec, width: Option<usize>) -> String {
    let method = results
        .first()
        .map_or(stats.method.name().to_string(), |r| {
            r.summary.reach.probability.method.clone()
        });
    let pct = stats.level * 100.0;
    let narrow = width.is_some();
    let interval = |what: &str| {
        if narrow {
            what.to_string()
        } else {
            format!("{what} [{pct}% {method}]")
        }
    };
    let mut header = vec![
        "config".to_string(),
        "n".into(),
        interval("P(reach)"),
        interval("P(stay)"),
    ];
    if let Some(p0) = stats.thresholds.reach {
        header.push(format!("P(reach) ≥ {p0}?"));
    }
    if let Some(p0) = stats.thresholds.stay {
        header.push(format!("P(stay) ≥ {p0}?"));
    }
    header.extend([
        "median hit [CI]".into(),
        "mean ‖x_T−x*‖".into(),
        "diverged".into(),
        "steps/s".into(),
    ]);
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let s = &r.summary;
            // A time the curve never reaches is only known to exceed the follow-up.
            let t = s.hit_followup;
            let mut row = vec![
                r.spec.label.clone(),
                match s.stopped {
                    Some(StopReason::Cap) => format!("{} (cap)", s.n),
                    _ => s.n.to_string(),
                },
                prop(Some(&s.reach.probability), narrow),
                prop(s.stay.as_ref().map(|e| &e.probability), narrow),
            ];
            if stats.thresholds.reach.is_some() {
                row.push(verdict(s.reach.decision.as_ref()));
            }
            if stats.thresholds.stay.is_some() {
                row.push(verdict(s.stay.as_ref().and_then(|e| e.decision.as_ref())));
            }
            let time = |v: Option<u64>| v.map_or_else(|| format!(">{t}"), |v| v.to_string());
            row.extend([
                format!(
                    "{} [{}, {}]",
                    time(s.hit_median.estimate),
                    time(s.hit_median.lower),
                    time(s.hit_median.upper)
                ),
                format!("{:.4}", s.final_dist.mean),
                s.diverged.to_string(),
                si(r.steps_per_second()),
            ]);
            row
        })
        .collect();
    // config, n, the probabilities and their verdicts, then diverged, the hitting time,
    // the distance and the speed.
    let verdicts = header.len() - 8;
    let mut priority: Vec<usize> = (0..4 + verdicts).collect();
    priority.extend([6, 4, 5, 7].map(|c| c + verdicts));
    let mut out = fitted(&header, &rows, 1, &priority, width);
    let limit = width.unwrap_or(usize::MAX);
    let mut note = |text: String| out.push_str(&wrap(&text, limit, "", "  "));
    if narrow {
        note(format!(
            "P: estimate [{pct}% {method} interval]; --wide adds the one-sided bounds at k = 0 and k = n"
        ));
    }
    if let Some(k) = results
        .iter()
        .map(|r| r.spec.events.every)
        .filter(|&k| k > 1)
        .max()
    {
        note(format!(
            "reach and stay measured every {k} steps (events.every): hitting times are known to within {k} steps, and P(stay) may be overstated"
        ));
    }
    // Minibatch SGD: times are in steps; an epoch is n/B steps.
    for r in results {
        if let Some(per) = r.spec.steps_per_epoch() {
            note(format!(
                "{}: times in steps; an epoch is n/B = {} steps, so T = {} steps = {} epochs; events on {}",
                r.spec.label,
                two_decimals(per),
                r.spec.steps(),
                two_decimals(r.spec.steps() as f64 / per),
                r.spec.events.on.name()
            ));
        }
    }
    if results
        .iter()
        .any(|r| r.spec.events.on == crate::events::Measure::X)
        && results.iter().all(|r| r.spec.steps_per_epoch().is_none())
    {
        note("events measured on x_t (events.on = \"x\"), not on y_t".into());
    }
    out
}

/// A number with at most two decimals (exact when it has no more).
fn two_decimals(v: f64) -> String {
    if (v * 100.0).fract() == 0.0 {
        crate::output::files::num(v)
    } else {
        format!("{v:.2}")
    }
}

/// The width tables fit by default (`--wide` lifts it).
pub const DEFAULT_WIDTH: usize = 80;

/// Columns padded to a common width, separated by two spaces, the first `left` of them
/// left-aligned and the rest right-aligned, with a rule under the header.
pub fn aligned(header: &[String], rows: &[Vec<String>], left: usize) -> String {
    fitted(header, rows, left, &[], None)
}

/// A label longer than this is shortened with "…" in a table fitted to a width.
pub const LABEL_MAX: usize = 28;

/// [`aligned`] within `width` characters when given: the columns are taken in the order
/// `priority` names them (then the others, left to right) while they fit, and shown in
/// their own order; the first column (the configuration's label) is always shown,
/// shortened with "…" to [`LABEL_MAX`] characters. A line under the table names the
/// columns left out and how to see them.
pub fn fitted(
    header: &[String],
    rows: &[Vec<String>],
    left: usize,
    priority: &[usize],
    width: Option<usize>,
) -> String {
    let chars = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| chars(&r[c]))
                .chain([chars(&header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut shown = vec![true; header.len()];
    if let Some(width) = width {
        widths[0] = widths[0].min(LABEL_MAX);
        let order: Vec<usize> = priority
            .iter()
            .copied()
            .chain((0..header.len()).filter(|c| !priority.contains(c)))
            .collect();
        shown = vec![false; header.len()];
        let mut used = 0;
        for c in order {
            let need = widths[c] + if used == 0 { 0 } else { 2 };
            if c == 0 || used + need <= width {
                shown[c] = true;
                used += need;
            }
        }
    }
    let cut = |c: usize, cell: &str| -> String {
        if chars(cell) <= widths[c] {
            cell.to_string()
        } else {
            let mut s: String = cell.chars().take(widths[c] - 1).collect();
            s.push('…');
            s
        }
    };
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .filter(|(c, _)| shown[*c])
            .map(|(c, cell)| {
                let cell = cut(c, cell);
                let pad = " ".repeat(widths[c] - chars(&cell));
                if c < left {
                    format!("{cell}{pad}")
                } else {
                    format!("{pad}{cell}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(w, _)| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    let hidden: Vec<&str> = (0..header.len())
        .filter(|c| !shown[*c])
        .map(|c| header[c].as_str())
        .collect();
    if !hidden.is_empty() {
        out.push_str(&wrap(
            &format!(
                "not shown, to fit {} columns (--wide shows them; the CSV has every column): {}",
                width.unwrap_or(0),
                hidden.join(", ")
            ),
            width.unwrap_or(usize::MAX),
            "",
            "  ",
        ));
    }
    out
}

/// `text` broken at spaces into lines of at most `width` characters (a word longer than
/// that stands alone), the first line prefixed with `first`, the others with `rest`; each
/// line ends with a newline.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn verdict(d: Option<&Decision>) -> String {
    match d {
        None => "-".into(),
        // The exact one-sided bound the verdict rests on, so the row explains itself.
        Some(d) => {
            let bound = if d.toward_holds {
                format!("≥ {}", short(d.bound))
            } else {
                format!("≤ {}", short(d.bound))
            };
            match (d.verdict, d.settle_at) {
                (Verdict::Inconclusive, Some(n)) => format!("inconclusive ({bound}; n≈{n})"),
                (v, _) => format!("{v} ({bound})"),
            }
        }
    }
}
