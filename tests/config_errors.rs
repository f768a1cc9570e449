//! A wrong experiment file is refused before anything runs, with a message that names the
//! file, the field and the reason: one test per class of mistake.

mod common;

use sgd_escape::config::{self, ConfigError};
use std::path::Path;

const GOOD: &str = r#"
seed = 1
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.1, steps = 100 }
init = { kind = "point", point = 0.0 }
events = { reach_radius = 0.5 }
"#;

fn parse(text: &str) -> Result<sgd_escape::experiment::Experiment, ConfigError> {
    config::parse(text, Path::new("experiments/broken.toml"), "broken")
}

/// Replaces `from` (which must occur) in the good file and expects a refusal that names
/// the file, `field` and a reason containing `reason`.
fn refused(from: &str, to: &str, field: &str, reason: &str) -> ConfigError {
    assert!(
        GOOD.contains(from),
        "test setup: {from:?} not in the good file"
    );
    let err = parse(&GOOD.replace(from, to)).expect_err("the file must be refused");
    let msg = err.to_string();
    assert!(
        msg.starts_with("experiments/broken.toml: "),
        "no file name in: {msg}"
    );
    assert!(msg.contains(field), "field {field:?} not named in: {msg}");
    assert!(msg.contains(reason), "reason {reason:?} not in: {msg}");
    err
}

#[test]
fn the_good_file_parses() {
    let e = parse(GOOD).unwrap();
    assert_eq!(e.configs.len(), 1);
    assert_eq!(e.configs[0].dim(), 2);
}

#[test]
fn misspelt_key() {
    let e = refused(
        "eta = 0.1",
        "etta = 0.1",
        "dynamics.etta",
        "unknown field `etta`",
    );
    assert_eq!(e.field(), "dynamics.etta");
    refused("seed = 1", "seed = 1\nsede = 2", "sede", "unknown field");
    refused("r = 1.0", "r = 1.0, sigma = 2.0", "sigma", "unknown field");
}

#[test]
fn unknown_kind() {
    refused(
        "\"quadratic\"",
        "\"quadratc\"",
        "objective.kind",
        "unknown variant `quadratc`",
    );
    refused("\"ball\"", "\"bal\"", "noise.law", "unknown variant `bal`");
}

#[test]
fn wrong_type() {
    refused(
        "eta = 0.1",
        "eta = \"fast\"",
        "dynamics.eta",
        "invalid type: string \"fast\"",
    );
    refused(
        "steps = 100",
        "steps = 1.5",
        "dynamics.steps",
        "invalid type",
    );
    refused("seed = 1", "seed = -1", "seed", "invalid value");
}

#[test]
fn non_positive_step_size() {
    refused(
        "eta = 0.1",
        "eta = -0.1",
        "dynamics.eta",
        "must be > 0, got -0.1",
    );
    refused("eta = 0.1", "eta = 0.0", "dynamics.eta", "must be > 0");
    refused("eta = 0.1", "eta = nan", "dynamics.eta", "must be > 0");
}

#[test]
fn negative_noise_radius() {
    refused("r = 1.0", "r = -1.0", "noise.r", "must be ≥ 0, got -1");
    refused(
        "law = \"ball\", r = 1.0",
        "law = \"gaussian\", sigma = -2.0",
        "noise.sigma",
        "must be ≥ 0",
    );
}

#[test]
fn dimension_mismatch() {
    refused(
        "point = 0.0",
        "point = [1.0, 2.0, 3.0]",
        "init.point",
        "has 3 coordinates but the objective's dimension is 2",
    );
    refused(
        "objective = { kind = \"quadratic\", dim = 2, k = 1.0 }",
        "objective = { kind = \"wells\", dim = 2, wells = [{ depth = 1.0, width = 0.5, centre = [1.0, 0.0, 0.0] }] }",
        "objective.wells[0].centre",
        "has 3 coordinates",
    );
    refused(
        "dim = 2, k = 1.0",
        "dim = 2, k = [1.0, 2.0, 3.0]",
        "objective.k",
        "has 3 coordinates",
    );
}

#[test]
fn empty_or_contradictory_schedule() {
    refused(
        "dynamics = { eta = 0.1, steps = 100 }",
        "dynamics = { schedule = [] }",
        "dynamics.schedule",
        "is empty",
    );
    refused(
        "dynamics = { eta = 0.1, steps = 100 }",
        "dynamics = { eta = 0.1, steps = 100, schedule = [{ eta = 0.1, steps = 5 }] }",
        "dynamics.schedule",
        "not both",
    );
    refused(
        "dynamics = { eta = 0.1, steps = 100 }",
        "dynamics = { schedule = [{ eta = 0.1, steps = 5 }, { eta = 0.1, steps = 0 }] }",
        "dynamics.schedule[1].steps",
        "must be at least 1",
    );
    refused(
        "eta = 0.1, steps = 100",
        "eta = 0.1",
        "dynamics.steps",
        "missing",
    );
}

#[test]
fn out_of_range_values() {
    refused(
        "k = 1.0",
        "k = [1.0, -2.0]",
        "objective.k[1]",
        "must be > 0",
    );
    refused(
        "reach_radius = 0.5",
        "reach_radius = -0.5",
        "events.reach_radius",
        "must be ≥ 0",
    );
    refused(
        "reach_radius = 0.5",
        "reach_radius = 0.5, stay_radius = 1.0, stay_to = 101",
        "events.stay_to",
        "[0, T = 100]",
    );
    refused(
        "reach_radius = 0.5",
        "reach_radius = 0.5, stay_radius = 1.0, stay_from = 60, stay_to = 50",
        "events.stay_to",
        "before stay_from",
    );
    refused(
        "seed = 1",
        "seed = 1\ntrajectories = 0",
        "trajectories",
        "at least 1",
    );
    refused(
        "point = 0.0",
        "point = inf",
        "init.point[0]",
        "must be finite",
    );
}

#[test]
fn missing_section() {
    refused(
        "noise = { law = \"ball\", r = 1.0 }\n",
        "",
        "noise",
        "missing",
    );
    let text = GOOD.replace("noise = { law = \"ball\", r = 1.0 }\n", "")
        + "\n[[config]]\nlabel = \"a\"\nnoise = { law = \"none\" }\n[[config]]\nlabel = \"b\"\n";
    let msg = parse(&text).unwrap_err().to_string();
    assert!(
        msg.contains("config[1].noise") && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn errors_inside_a_config_entry_name_the_entry() {
    let text = GOOD.to_string()
        + "\n[[config]]\nlabel = \"a\"\n[[config]]\nlabel = \"b\"\nnoise = { law = \"cube\", r = -3.0 }\n";
    let msg = parse(&text).unwrap_err().to_string();
    assert!(
        msg.contains("config[1].noise.r") && msg.contains("must be ≥ 0"),
        "{msg}"
    );
    let text = GOOD.to_string() + "\n[[config]]\nlabel = \"a\"\n[[config]]\nlabel = \"a\"\n";
    let msg = parse(&text).unwrap_err().to_string();
    assert!(
        msg.contains("config[1].label") && msg.contains("unique"),
        "{msg}"
    );
    let text = GOOD.to_string() + "\n[[config]]\nlabel = \"a\"\nnoize = 1\n";
    let msg = parse(&text).unwrap_err().to_string();
    assert!(
        msg.contains("config[0].noize") && msg.contains("unknown field"),
        "{msg}"
    );
}

#[test]
fn toml_syntax_error() {
    let e = refused("eta = 0.1,", "eta = 0.1 x", "", "not valid TOML");
    assert!(e.to_string().contains("line 5"), "{e}");
}

#[test]
fn unreadable_file() {
    let err = config::load(Path::new("/nonexistent/dir/exp.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/exp.toml"));
}

#[test]
fn the_cli_reports_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, GOOD.replace("r = 1.0", "r = -1.0")).unwrap();
    let out_dir = dir.path().join("out");
    let out = common::cli(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml") && stderr.contains("noise.r") && stderr.contains("must be ≥ 0"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing runs or is written for a refused file"
    );
}

#[test]
fn every_shipped_experiment_is_valid() {
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn statistics_settings() {
    refused(
        "seed = 1",
        "seed = 1\nstats = { method = \"wald\" }",
        "stats.method",
        "unknown variant `wald`",
    );
    refused(
        "seed = 1",
        "seed = 1\nstats = { level = 1.5 }",
        "stats.level",
        "must lie in (0, 1)",
    );
    refused(
        "seed = 1",
        "seed = 1\nstats = { thresholds = { reach = 1.2 } }",
        "stats.thresholds.reach",
        "[0, 1]",
    );
    refused(
        "seed = 1",
        "seed = 1\nstats = { adaptive = { batch = 10 } }",
        "stats.adaptive.epsilon",
        "missing",
    );
    refused(
        "seed = 1",
        "seed = 1\nstats = { adaptive = { epsilon = 0.01, batch = 0 } }",
        "stats.adaptive.batch",
        "at least 1",
    );
    refused(
        "seed = 1",
        "seed = 1\nstats = { levle = 0.9 }",
        "levle",
        "unknown field",
    );
    let e = parse(&GOOD.replace(
        "seed = 1",
        "seed = 1\nstats = { method = \"jeffreys\", level = 0.99, holm = true }",
    ))
    .unwrap();
    assert_eq!(e.stats.method, sgd_escape::stats::Method::Jeffreys);
    assert_eq!(e.stats.level, 0.99);
    assert!(e.stats.holm);
}
