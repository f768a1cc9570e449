//! `report` returns on every valid result directory: diverging runs (a drift curve near
//! 1e308) and final points that are all the same number.

use std::path::Path;
use std::time::Duration;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

/// Runs `sgd-escape args`, killing it after `limit`; panics on failure or a hang.
fn within(args: &[&str], limit: Duration) {
    let (code, err) = common::run_within(BIN, args, limit);
    assert_eq!(code, Some(0), "{args:?}: {err}");
}

fn run_and_report(dir: &Path, name: &str, text: &str) {
    let f = dir.join(format!("{name}.toml"));
    std::fs::write(&f, text).unwrap();
    let out = dir.join(name);
    let (f, o) = (f.to_str().unwrap(), out.to_str().unwrap());
    within(&["run", f, "-q", "--out", o], Duration::from_secs(120));
    within(&["report", o], Duration::from_secs(60));
    assert!(out.join("index.html").exists());
}

#[test]
fn report_returns_on_a_diverging_run_with_a_theorem_check() {
    let dir = tempfile::tempdir().unwrap();
    // η k = 2.9: |1 − ηk| = 1.9, ‖y_t‖² overflows after about 550 steps; the drift curve's
    // last finite points are near the top of the floating-point range.
    run_and_report(
        dir.path(),
        "diverging",
        r#"
        trajectories = 200
        objective = { kind = "quadratic", dim = 2, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 2.9, steps = 1200 }
        init = { kind = "ball", radius = 3.0 }
        events = { reach_radius = 0.5 }
        [theorem]
        t1 = 1100
        t2 = 100
        samples = 50
        "#,
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("diverging/theorem.json")).unwrap())
            .unwrap();
    assert!(json["reports"][0]["drift"].as_array().unwrap().len() > 10);
    // The last finite point of such a curve can sit just below f64::MAX, where the axis
    // range (× 1.3) used to overflow to infinity and the plot never returned.
    let mut json = json;
    let last = json["reports"][0]["drift"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    last["mean"]["mean"] = 1.2e308.into();
    last["mean"]["lower"] = 1.0e308.into();
    last["mean"]["upper"] = 1.5e308.into();
    std::fs::write(
        dir.path().join("diverging/theorem.json"),
        serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    within(
        &["report", dir.path().join("diverging").to_str().unwrap()],
        Duration::from_secs(60),
    );
}

#[test]
fn report_returns_when_every_final_point_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // 0.49999999999999994 lands in bin 60 of 60 by rounding (the old panic).
    for (i, x) in [
        "0.49999999999999994",
        "0.0",
        "0.5",
        "0.7",
        "-2.0",
        "3.0",
        "1e200",
    ]
    .iter()
    .enumerate()
    {
        run_and_report(
            dir.path(),
            &format!("same{i}"),
            &format!(
                r#"
                trajectories = 100
                objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
                noise = {{ law = "none" }}
                dynamics = {{ eta = 1e-300, steps = 1 }}
                init = {{ kind = "point", point = {x} }}
                events = {{ reach_radius = 0.5 }}
                "#
            ),
        );
    }
}
