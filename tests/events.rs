//! Event semantics on deterministic GD where every time is known exactly, and divergence
//! reported rather than crashing.

mod common;

use sgd_escape::pipeline::execute;

/// GD on ½x² with η = 0.1 from x_0 = 1: x_t = 0.9^t, y_t = 0.9^{t+1}.
fn gd(events: &str, steps: u64) -> sgd_escape::events::Outcome {
    let exp = common::experiment(&format!(
        r#"
        trajectories = 1
        objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
        noise = {{ law = "none" }}
        dynamics = {{ eta = 0.1, steps = {steps} }}
        init = {{ kind = "point", point = 1.0 }}
        events = {events}
        "#
    ));
    exp.configs[0].run(exp.seed, 0..1).pop().unwrap()
}

#[test]
fn first_hit_is_the_first_time_y_enters_the_ball() {
    // 0.9^{t+1} ≤ 0.5 first at t = 6 (0.9^7 = 0.478; 0.9^6 = 0.531).
    assert_eq!(gd("{ reach_radius = 0.5 }", 20).first_hit, Some(6));
    // Reached exactly at the last time T.
    assert_eq!(gd("{ reach_radius = 0.5 }", 6).first_hit, Some(6));
    // Censored when it never happens by T.
    assert_eq!(gd("{ reach_radius = 0.5 }", 5).first_hit, None);
    // y_0 = 0.9 already inside.
    assert_eq!(gd("{ reach_radius = 0.95 }", 5).first_hit, Some(0));
}

#[test]
fn stay_window_is_inclusive_and_exit_time_is_recorded() {
    // y_10 = 0.9^11 = 0.314 > 0.3, y_11 = 0.282 ≤ 0.3: leaving at t = 10 breaks a window
    // starting at 10 ...
    let o = gd(
        "{ reach_radius = 0.5, stay_radius = 0.3, stay_from = 10, stay_to = 20 }",
        20,
    );
    assert_eq!(o.stayed, Some(false));
    assert_eq!(o.first_exit, Some(10));
    // ... but not one starting at 11.
    let o = gd(
        "{ reach_radius = 0.5, stay_radius = 0.3, stay_from = 11, stay_to = 20 }",
        20,
    );
    assert_eq!(o.stayed, Some(true));
    assert_eq!(o.first_exit, None);
    // No stay event asked: None.
    assert_eq!(gd("{ reach_radius = 0.5 }", 20).stayed, None);
}

#[test]
fn final_values_are_recorded() {
    let o = gd("{ reach_radius = 0.5 }", 20);
    let x = 0.9f64.powi(20);
    assert!((o.final_x[0] - x).abs() < 1e-15);
    assert!((o.final_dist - x).abs() < 1e-15);
    assert!((o.final_y_dist - 0.9 * x).abs() < 1e-15);
    assert!((o.final_value - 0.5 * x * x).abs() < 1e-15);
    assert_eq!(o.diverged_at, None);
}

#[test]
fn diverging_trajectories_are_counted_not_fatal() {
    // η k = 3 > 2: x_{t+1} = −2 x_t (plus noise) grows like 2^t; ‖y_t‖² overflows after about 512 steps.
    let exp = common::experiment(
        r#"
        trajectories = 50
        objective = { kind = "quadratic", dim = 3, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 3.0, steps = 3000 }
        init = { kind = "ball", radius = 1.0 }
        events = { reach_radius = 0.5, stay_radius = 1.0 }
        "#,
    );
    let report = execute(&exp, 2).unwrap();
    let r = &report.results[0];
    assert_eq!(r.summary.diverged, 50);
    assert!(
        r.outcomes
            .iter()
            .all(|o| matches!(o.diverged_at, Some(t) if (500..560).contains(&t)))
    );
    assert!(
        r.outcomes
            .iter()
            .all(|o| o.stayed == Some(false) && o.final_dist.is_nan())
    );
    assert!(r.summary.final_dist.mean.is_nan() && r.summary.final_dist.n == 0);
    // The files still get written, with the divergence visible.
    let dir = tempfile::tempdir().unwrap();
    sgd_escape::output::write_all(
        &report,
        dir.path(),
        &sgd_escape::output::standard_exporters(true),
    )
    .unwrap();
    let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "diverged").unwrap();
    assert_eq!(row[col], "50");
}

#[test]
fn staged_schedule_uses_each_step_size_in_turn() {
    // GD on ½x² from 1: 10 steps at η = 0.1 then 5 at η = 0.5 give x = 0.9^10 · 0.5^5, and
    // y_T uses the last stage's η.
    let exp = common::experiment(
        r#"
        trajectories = 1
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "none" }
        dynamics = { schedule = [{ eta = 0.1, steps = 10 }, { eta = 0.5, steps = 5 }] }
        init = { kind = "point", point = 1.0 }
        events = { reach_radius = 0.0 }
        "#,
    );
    let o = exp.configs[0].run(1, 0..1).pop().unwrap();
    let x = 0.9f64.powi(10) * 0.5f64.powi(5);
    assert!((o.final_x[0] - x).abs() < 1e-15);
    assert!((o.final_y_dist - 0.5 * x).abs() < 1e-15);
}

#[test]
fn an_all_diverged_cell_claims_no_more_than_its_follow_up() {
    let exp = common::experiment(
        r#"
        trajectories = 20
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 3.0, steps = 3000 }
        init = { kind = "point", point = 1.0 }
        events = { reach_radius = 0.01 }
        "#,
    );
    let report = execute(&exp, 2).unwrap();
    let s = &report.results[0].summary;
    let last = report.results[0]
        .outcomes
        .iter()
        .filter_map(|o| o.diverged_at)
        .max()
        .unwrap();
    assert!(last < 3000);
    assert_eq!(s.hit_followup, last);
    let table = sgd_escape::output::render_table(&report.results, &exp.stats, None);
    assert!(
        table.contains(&format!(">{last} [>{last}, >{last}]")),
        "{table}"
    );
    assert!(!table.contains(">3000"), "{table}");
}

#[test]
fn events_every_k_steps_report_the_first_multiple_of_k_at_or_after_the_true_time() {
    // GD on ½x² from 1: ‖y_t‖ = 0.9^{t+1} decreases, so once inside a ball it stays.
    for radius in [0.5, 0.3, 0.1, 0.02] {
        let truth = gd(&format!("{{ reach_radius = {radius} }}"), 60).first_hit;
        for k in [1u64, 2, 3, 7, 10, 60] {
            let got = gd(&format!("{{ reach_radius = {radius}, every = {k} }}"), 60).first_hit;
            let want = truth.map(|t| (t.div_ceil(k) * k).min(60));
            assert_eq!(got, want, "radius {radius}, every {k} (true {truth:?})");
        }
    }
    // Stay, checked only every k steps, can only look better: an exit at t = 10 (y_10 =
    // 0.314 > 0.3) is missed when 10 is not a multiple of k.
    let window = "reach_radius = 0.5, stay_radius = 0.3, stay_from = 10, stay_to = 20";
    assert_eq!(gd(&format!("{{ {window} }}"), 20).stayed, Some(false));
    assert_eq!(
        gd(&format!("{{ {window}, every = 5 }}"), 20).stayed,
        Some(false)
    );
    assert_eq!(
        gd(&format!("{{ {window}, every = 3 }}"), 20).stayed,
        Some(true)
    );
    // Refused outside [1, T].
    let bad = sgd_escape::config::parse(
        r#"
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "none" }
        dynamics = { eta = 0.1, steps = 10 }
        init = { kind = "point", point = 1.0 }
        events = { reach_radius = 0.5, every = 11 }
        "#,
        std::path::Path::new("e.toml"),
        "e",
    )
    .unwrap_err();
    assert_eq!(bad.field(), "events.every");
}
