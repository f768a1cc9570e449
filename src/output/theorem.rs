//! The theorem check's table, `theorem.csv` and `theorem.json`.

use crate::theory::certified::CMethod;
use crate::theory::check::{TheoremReport, Verdict};

use super::files::{num, opt_num as opt};

fn short(x: f64) -> String {
    if x == 0.0 || (1e-3..1e4).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

/// The verdict's label; within a width, without what it is given ("holds, given"): the
/// lines under the table say what.
fn verdict(r: &TheoremReport, width: Option<usize>) -> String {
    let label = r.verdict_label();
    if width.is_some() && label != r.verdict.to_string() {
        format!("{}, given", r.verdict)
    } else {
        label
    }
}

/// The verdict table printed by `theorem` and `run`, with the reasons under it. Within
/// `width` characters when given ([`super::table::fitted`]): the verdict without what it
/// is given (the lines under the table say it), then the three probabilities, ĉ, T1 and
/// the rest while they fit; the lines under the table wrapped.
pub fn render_theorem_table(reports: &[TheoremReport], width: Option<usize>) -> String {
    let header = [
        "config",
        "verdict",
        "ĉ (viol.)",
        "L",
        "η/bound",
        "T1",
        "20b/λ",
        "P(reach)",
        "P(stay|reach)",
        "P(both)",
        "slack",
        "λ_eff",
        "20b_eff/λ_eff",
        "P_eff(reach)",
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let conv = &r.assumptions.convexity;
            let g = |i: usize| {
                r.guarantees.get(i).map_or("-".to_string(), |g| {
                    format!(
                        "{:.3} [{:.3}, {:.3}]",
                        g.estimate.estimate, g.estimate.lower, g.estimate.upper
                    )
                })
            };
            vec![
                r.label.clone(),
                match (r.verdict, r.settle_at) {
                    (Verdict::Inconclusive, Some(n)) => format!("{} (n≈{n})", verdict(r, width)),
                    _ => verdict(r, width),
                },
                format!(
                    "{}{} ({:.1}%)",
                    short(conv.c_hat),
                    match conv.method {
                        CMethod::Certified => "",
                        CMethod::CertifiedLowerBound => " (≥)",
                        CMethod::Sampled => " (sampled)",
                        CMethod::MonteCarlo => " (MC)",
                    },
                    100.0 * conv.violation_fraction
                ),
                r.l.map_or("∞".into(), short),
                r.bounds
                    .map_or("-".into(), |b| format!("{:.3}", b.step.ratio)),
                r.t1_theorem().map_or("-".into(), |t| t.to_string()),
                r.bounds
                    .filter(|b| b.lambda > 0.0)
                    .map_or("-".into(), |b| short(b.reach_radius2)),
                g(0),
                g(1),
                g(2),
                r.slack
                    .as_ref()
                    .map_or("-".into(), |s| format!("{:.1}", s.slack)),
                r.effective.as_ref().map_or("-".into(), |e| short(e.lambda)),
                r.effective
                    .as_ref()
                    .map_or("-".into(), |e| short(e.reach_radius2)),
                r.effective
                    .as_ref()
                    .map_or("-".into(), |e| format!("{:.3}", e.p_reach.estimate)),
            ]
        })
        .collect();
    let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let priority = [0, 1, 9, 7, 8, 2, 5, 4, 10, 3, 6, 11, 12, 13];
    let mut out = super::table::fitted(&header, &rows, 2, &priority, width);
    let limit = width.unwrap_or(usize::MAX);
    let mut line = |text: String| out.push_str(&super::table::wrap(&text, limit, "  ", "    "));
    for r in reports {
        for reason in &r.reasons {
            line(format!("{}: {reason}", r.label));
        }
        // What a decided verdict rests on (the CSV has it for every configuration).
        if matches!(
            r.verdict,
            Verdict::Holds | Verdict::Violated | Verdict::Inconclusive
        ) {
            for given in &r.given {
                line(format!("{}: given {given}", r.label));
            }
        }
    }
    out
}

/// The columns of `theorem.csv`.
pub const THEOREM_COLUMNS: &[&str] = &[
    "config",
    "verdict",
    "reasons",
    "given",
    "c_hat",
    "c_method",
    "c_hat_error",
    "c_hat_se",
    "c_points",
    "c_violations",
    "c_exact",
    "c_used",
    "L_known",
    "L_estimated",
    "L_used",
    "gradient_growth",
    "noise_bound",
    "y0_dist2_max",
    "eta",
    "step_bound",
    "step_binding",
    "step_ratio",
    "lambda",
    "b",
    "t1_theorem",
    "t1",
    "t2",
    "reach_radius2",
    "stay_radius2",
    "mu",
    "n",
    "p_reach",
    "p_reach_lower",
    "p_reach_upper",
    "p_reach_verdict",
    "p_reach_bound",
    "p_reach_p_value",
    "p_reach_adjusted_p",
    "p_stay_given_reach",
    "p_stay_given_reach_lower",
    "p_stay_given_reach_upper",
    "p_stay_given_reach_verdict",
    "p_stay_given_reach_bound",
    "p_stay_given_reach_p_value",
    "p_stay_given_reach_adjusted_p",
    "p_both",
    "p_both_lower",
    "p_both_upper",
    "p_both_verdict",
    "p_both_bound",
    "p_both_p_value",
    "p_both_adjusted_p",
    "interval",
    "level",
    "settle_at",
    "slack",
    "slack_lower",
    "slack_upper",
    "lambda_eff",
    "b_eff",
    "reach_radius2_eff",
    "p_reach_eff",
    "p_reach_eff_lower",
    "p_reach_eff_upper",
    "rng",
    "numerics",
];

/// `theorem.csv`: one row per configuration.
pub fn theorem_csv(reports: &[TheoremReport], etas: &[f64]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(THEOREM_COLUMNS)?;
    for (r, eta) in reports.iter().zip(etas) {
        let a = &r.assumptions;
        let c = &a.convexity;
        let b = r.bounds;
        let mut row = vec![
            r.label.clone(),
            r.verdict_label(),
            r.reasons.join(" | "),
            r.given
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
                .join(" | "),
            num(c.c_hat),
            c.method.to_string(),
            opt(c.c_hat_error),
            num(c.c_hat_se),
            c.points.to_string(),
            c.violations.to_string(),
            super::files::bool_text(c.exact).into(),
            opt(r.c),
            opt(a.lipschitz_known),
            num(a.lipschitz_estimated),
            opt(r.l),
            num(a.gradient_growth),
            opt(a.noise_bound),
            num(a.y0_dist2_max),
            num(*eta),
            opt(b.map(|b| b.step.binding.1)),
            b.map_or(String::new(), |b| b.step.binding.0.to_string()),
            opt(b.map(|b| b.step.ratio)),
            opt(b.map(|b| b.lambda)),
            opt(b.map(|b| b.b)),
            r.t1_theorem().map_or(String::new(), |t| t.to_string()),
            r.t1.to_string(),
            r.t2.to_string(),
            opt(b.map(|b| b.reach_radius2)),
            opt(b.map(|b| b.stay_radius2)),
            opt(b.map(|b| b.mu)),
            r.n.to_string(),
        ];
        for i in 0..3 {
            match r.guarantees.get(i) {
                Some(g) => row.extend([
                    num(g.estimate.estimate),
                    num(g.estimate.lower),
                    num(g.estimate.upper),
                    g.decision.verdict.to_string(),
                    num(g.decision.bound),
                    num(g.decision.p_value),
                    opt(g.decision.adjusted_p),
                ]),
                None => row.extend(std::iter::repeat_n(String::new(), 7)),
            }
        }
        let first = r.guarantees.first();
        row.extend([
            first.map_or(String::new(), |g| g.estimate.method.clone()),
            opt(first.map(|g| g.estimate.level)),
            r.settle_at.map_or(String::new(), |n| n.to_string()),
        ]);
        match &r.slack {
            Some(s) => row.extend([num(s.slack), opt(s.lower), opt(s.upper)]),
            None => row.extend(std::iter::repeat_n(String::new(), 3)),
        }
        match &r.effective {
            Some(e) => row.extend([
                num(e.lambda),
                num(e.b),
                num(e.reach_radius2),
                num(e.p_reach.estimate),
                num(e.p_reach.lower),
                num(e.p_reach.upper),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 6)),
        }
        row.extend([
            super::files::RNG_SHORT.to_string(),
            crate::NUMERICS_VERSION.to_string(),
        ]);
        debug_assert_eq!(row.len(), THEOREM_COLUMNS.len());
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}
