//! The terminal table `run` prints.

use crate::run::ConfigResult;
use crate::stats::decision::{Decision, Verdict};
use crate::stats::{Proportion, StatsSpec, StopReason};

/// "0.175 [0.153, 0.200]"; at k = 0 or k = n also the one-sided bound the data support.
fn prop(p: Option<&Proportion>) -> String {
    match p {
        Some(p) => {
            let mut s = format!("{:.3} [{:.3}, {:.3}]", p.estimate, p.lower, p.upper);
            match p.one_sided {
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
/// diverged count and throughput.
pub fn render_table(results: &[ConfigResult], stats: &StatsSpec) -> String {
    let method = results
        .first()
        .map_or(stats.method.name().to_string(), |r| {
            r.summary.reach.probability.method.clone()
        });
    let pct = stats.level * 100.0;
    let mut header = vec![
        "config".to_string(),
        "n".into(),
        format!("P(reach) [{pct}% {method}]"),
        format!("P(stay) [{pct}% {method}]"),
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
                prop(Some(&s.reach.probability)),
                prop(s.stay.as_ref().map(|e| &e.probability)),
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
    let mut out = aligned(&header, &rows, 1);
    if let Some(k) = results
        .iter()
        .map(|r| r.spec.events.every)
        .filter(|&k| k > 1)
        .max()
    {
        out.push_str(&format!(
            "reach and stay measured every {k} steps (events.every): hitting times are known to within {k} steps, and P(stay) may be overstated\n"
        ));
    }
    // Minibatch SGD: times are in steps; an epoch is n/B steps.
    for r in results {
        if let Some(per) = r.spec.steps_per_epoch() {
            out.push_str(&format!(
                "{}: times in steps; an epoch is n/B = {} steps, so T = {} steps = {} epochs; events on {}\n",
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
        out.push_str("events measured on x_t (events.on = \"x\"), not on y_t\n");
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

/// Columns padded to a common width, separated by two spaces, the first `left` of them
/// left-aligned and the rest right-aligned, with a rule under the header.
pub fn aligned(header: &[String], rows: &[Vec<String>], left: usize) -> String {
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
                let pad = " ".repeat(w - c.chars().count());
                if i < left {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
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
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
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
