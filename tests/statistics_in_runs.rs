//! The statistics as a run uses them: adaptive stopping that does not depend on the thread
//! count, threshold decisions, Holm adjustment, and the columns of summary.csv.

mod common;

use sgd_escape::output::{standard_exporters, write_all};
use sgd_escape::pipeline::execute;
use sgd_escape::stats::decision::Verdict;
use sgd_escape::stats::{StopReason, adjust_decisions};

const ADAPTIVE: &str = r#"
seed = 5
trajectories = 200_000
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 300 }
init = { kind = "box", lo = -2.0, hi = 2.0 }
events = { reach_radius = 0.3, stay_radius = 2.0 }
stats = { level = 0.95, adaptive = { epsilon = 0.02, batch = 777 } }

[[config]]
label = "r = 4"
noise = { law = "ball", r = 4.0 }

[[config]]
label = "r = 8"
noise = { law = "ball", r = 8.0 }
"#;

#[test]
fn adaptive_runs_stop_at_the_same_point_on_1_and_2_threads() {
    let exp = common::experiment(ADAPTIVE);
    let one = execute(&exp, 1).unwrap();
    let two = execute(&exp, 2).unwrap();
    for (a, b) in one.results.iter().zip(&two.results) {
        assert_eq!(a.summary.stopped, Some(StopReason::Settled));
        assert_eq!(
            a.summary.n, b.summary.n,
            "{}: stopping points differ",
            a.spec.label
        );
        assert_eq!(a.summary, b.summary);
        // Stopped at a batch boundary, with the sequence's interval narrow enough.
        assert_eq!(a.summary.n % 777, 0);
        let p = &a.summary.reach.probability;
        assert_eq!(p.method, "beta-binomial-cs");
        assert!(p.upper - p.lower <= 0.04 + 1e-12);
        assert!(a.summary.n < 200_000);
    }
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_all(&one, da.path(), &standard_exporters(true)).unwrap();
    write_all(&two, db.path(), &standard_exporters(true)).unwrap();
    for f in ["summary.csv", "trajectories.csv"] {
        assert!(
            std::fs::read(da.path().join(f)).unwrap() == std::fs::read(db.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn adaptive_run_stops_on_a_decided_threshold_or_the_cap() {
    // P(reach) is about 1 here: "≥ 0.9" is settled after the first batches.
    let text = ADAPTIVE
        .replace(
            "stats = { level = 0.95, adaptive = { epsilon = 0.02, batch = 777 } }",
            "stats = { thresholds = { reach = 0.5 }, adaptive = { batch = 100 } }",
        )
        .replace("stay_radius = 2.0", "stay_radius = 20.0");
    let exp = common::experiment(&text);
    let r = execute(&exp, 2).unwrap();
    let s = &r.results[1].summary;
    let d = s.reach.decision.as_ref().unwrap();
    assert_ne!(d.verdict, Verdict::Inconclusive);
    assert!(s.n <= 1000, "stopped late: {}", s.n);
    // An unreachable half-width ends at the cap.
    let text = ADAPTIVE
        .replace("epsilon = 0.02", "epsilon = 0.0001")
        .replace("200_000", "3000");
    let r = execute(&common::experiment(&text), 2).unwrap();
    assert_eq!(r.results[0].summary.stopped, Some(StopReason::Cap));
    assert_eq!(r.results[0].summary.n, 3000);
}

/// GD on ½x² from x_0 ∈ [−1, 1]: reaching |y| ≤ 0.45 within 0 steps happens with probability
/// exactly 0.5 (y_0 = 0.9 x_0), so every threshold decision has a known right answer.
fn known_half(thresholds: &str, n: u64, extra: &str) -> sgd_escape::run::RunReport {
    let text = format!(
        r#"
        seed = 11
        trajectories = {n}
        objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
        noise = {{ law = "none" }}
        dynamics = {{ eta = 0.1, steps = 1 }}
        init = {{ kind = "box", lo = -1.0, hi = 1.0 }}
        events = {{ reach_radius = 0.405 }}
        stats = {{ method = "clopper-pearson", thresholds = {{ {thresholds} }} {extra} }}
        "#
    );
    execute(&common::experiment(&text), 2).unwrap()
}

#[test]
fn threshold_verdicts() {
    // y_1 = 0.81 x_0: |y_1| ≤ 0.405 iff |x_0| ≤ 0.5; y_0 = 0.9 x_0 reaches first for
    // |x_0| ≤ 0.45. So P(reach by T = 1) = 0.5 exactly.
    let r = known_half("reach = 0.4", 20_000, "");
    let s = &r.results[0].summary;
    assert!((s.reach.probability.estimate - 0.5).abs() < 0.02);
    assert_eq!(s.reach.decision.as_ref().unwrap().verdict, Verdict::Holds);
    let r = known_half("reach = 0.6", 20_000, "");
    assert_eq!(
        r.results[0]
            .summary
            .reach
            .decision
            .as_ref()
            .unwrap()
            .verdict,
        Verdict::Violated
    );
    let r = known_half("reach = 0.5", 200, "");
    let d = r.results[0].summary.reach.decision.clone().unwrap();
    assert_eq!(d.verdict, Verdict::Inconclusive);
    let r = known_half("reach = 0.53", 200, "");
    let d = r.results[0].summary.reach.decision.clone().unwrap();
    if d.verdict == Verdict::Inconclusive {
        assert!(d.settle_at.is_some_and(|n| n > 200), "{d:?}");
    }
}

#[test]
fn holm_keeps_a_sweep_from_reporting_false_violations() {
    // 40 configurations whose true P is exactly the threshold 0.5: every "violated" or
    // "holds" is a false claim. Unadjusted 95% one-sided bounds make a few; Holm none.
    let mut text = String::from(
        r#"
        seed = 3
        trajectories = 400
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "none" }
        init = { kind = "box", lo = -1.0, hi = 1.0 }
        events = { reach_radius = 0.405 }
        stats = { method = "clopper-pearson", thresholds = { reach = 0.5 }, holm = HOLM }
        "#,
    );
    for i in 0..40 {
        // A box wider by a negligible 1e-9·i gives each configuration its own identity, hence
        // independent trajectories, with P(reach) still 0.5.
        text.push_str(&format!("[[config]]\nlabel = \"c{i}\"\ndynamics = {{ eta = 0.1, steps = 1 }}\ninit = {{ kind = \"box\", lo = {}, hi = {} }}\n", -1.0 - 1e-9 * i as f64, 1.0 + 1e-9 * i as f64));
    }
    let false_claims = |holm: bool| {
        let exp = common::experiment(&text.replace("HOLM", if holm { "true" } else { "false" }));
        let r = execute(&exp, 2).unwrap();
        r.results
            .iter()
            .filter(|c| c.summary.reach.decision.as_ref().unwrap().verdict != Verdict::Inconclusive)
            .count()
    };
    let (raw, adjusted) = (false_claims(false), false_claims(true));
    assert!(
        raw >= 1,
        "with 40 tests at 5% per side some false claims are expected, got {raw}"
    );
    assert_eq!(adjusted, 0);
}

#[test]
fn holm_adjustment_follows_the_p_values() {
    let r = known_half("reach = 0.4", 20_000, "");
    let mut summaries = [r.results[0].summary.clone()];
    adjust_decisions(summaries.iter_mut());
    let d = summaries[0].reach.decision.as_ref().unwrap();
    // One test: the adjusted p-value is the p-value itself, and the verdict stands.
    assert_eq!(d.adjusted_p, Some(d.p_value));
    assert_eq!(d.verdict, Verdict::Holds);
}

#[test]
fn summary_csv_carries_estimate_interval_method_level_n_and_k() {
    let r = known_half("reach = 0.4", 1000, "");
    let dir = tempfile::tempdir().unwrap();
    write_all(&r, dir.path(), &standard_exporters(false)).unwrap();
    let mut rd = csv::Reader::from_path(dir.path().join("summary.csv")).unwrap();
    let header = rd.headers().unwrap().clone();
    let row = rd.records().next().unwrap().unwrap();
    let get = |c: &str| {
        row.get(
            header
                .iter()
                .position(|h| h == c)
                .unwrap_or_else(|| panic!("no column {c}")),
        )
        .unwrap()
        .to_string()
    };
    assert_eq!(get("n"), "1000");
    let k: u64 = get("reach_k").parse().unwrap();
    assert_eq!(get("reach").parse::<f64>().unwrap(), k as f64 / 1000.0);
    assert!(
        get("reach_lower").parse::<f64>().unwrap() < get("reach_upper").parse::<f64>().unwrap()
    );
    assert_eq!(get("interval"), "clopper-pearson");
    assert_eq!(get("level"), "0.95");
    assert_eq!(get("reach_verdict"), "holds");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    let p = &json["configs"][0]["summary"]["reach"]["probability"];
    for key in ["k", "n", "estimate", "lower", "upper", "method", "level"] {
        assert!(!p[key].is_null(), "run.json lacks {key}");
    }
}

#[test]
fn adaptive_throughput_counts_the_trajectories_simulated_not_the_cap() {
    let text = ADAPTIVE
        .replace(
            "stats = { level = 0.95, adaptive = { epsilon = 0.02, batch = 777 } }",
            "stats = { thresholds = { reach = 0.5 }, adaptive = { batch = 100 } }",
        )
        .replace("stay_radius = 2.0", "stay_radius = 20.0");
    let r = execute(&common::experiment(&text), 2).unwrap();
    let c = &r.results[1];
    assert!(c.summary.n < c.spec.trajectories);
    let want = c.summary.n as f64 * c.spec.steps() as f64 / c.elapsed.as_secs_f64();
    assert!((c.steps_per_second() - want).abs() <= 1e-9 * want);
}

#[test]
fn tiny_p_values_load_with_pandas_default_parser_and_run_json_has_the_curve() {
    // 1000 of 1000 against 0.5: p = 2^-1000 ≈ 9.3e-302.
    let bin = env!("CARGO_BIN_EXE_sgd-escape");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tiny.toml");
    std::fs::write(
        &f,
        r#"
        trajectories = 1000
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "none" }
        dynamics = { eta = 0.1, steps = 30 }
        init = { kind = "box", lo = -1.0, hi = 1.0 }
        events = { reach_radius = 0.5 }
        stats = { thresholds = { reach = 0.5 } }
        "#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let st = std::process::Command::new(bin)
        .args([
            "run",
            f.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let mut rd = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header = rd.headers().unwrap().clone();
    let row = rd.records().next().unwrap().unwrap();
    let col = |c: &str| header.iter().position(|h| h == c).unwrap();
    let p = &row[col("reach_p_value")];
    // Exponent form, as short as round-trips: pandas' default (non-round-trip) parser is
    // within 1e-15 relative of such a string; positional digits loaded as 0.0.
    assert!(p.contains('e'), "{p}");
    let v: f64 = p.parse().unwrap();
    assert!((v - 0.5f64.powi(1000)).abs() <= 1e-12 * v, "{v}");
    assert_eq!(&row[col("reach_verdict")], "holds");
    assert!(row[col("reach_verdict_bound")].parse::<f64>().unwrap() > 0.99);
    // run.json carries the Kaplan–Meier table the README promises.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let rows = json["configs"][0]["summary"]["hit_curve"]["rows"]
        .as_array()
        .unwrap();
    assert!(!rows.is_empty());
    assert_eq!(json["numerics"], sgd_escape::NUMERICS_VERSION);
}
