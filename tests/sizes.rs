//! Sizes a user types are bounded before anything is allocated: an overflowing product or an
//! estimate beyond this machine's memory is an exit-2 error naming the field, never a panic,
//! an abort or a process that grows until killed; a run estimated at more than an hour says
//! so before it starts.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

const BASE: &str = r#"
trajectories = 100
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.05, steps = 100 }
init = { kind = "box", lo = -1.0, hi = 1.0 }
events = { reach_radius = 0.5 }
"#;

/// Runs the binary with a time limit; returns (exit code, stderr).
fn sgd(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    common::run_within(BIN, args, limit)
}

fn refused(text: &str, field: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.toml");
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("out");
    let (code, err) = sgd(
        &[
            "run",
            f.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(2), "{field}: {err}");
    assert!(err.contains(&format!("field `{field}`")), "{field}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "nothing may be written for a refused file");
}

#[test]
fn sizes_that_overflow_or_exceed_memory_are_refused_naming_the_field() {
    let max = "9223372036854775807";
    refused(
        &BASE.replace("dim = 2", &format!("dim = {max}")),
        "objective.dim",
    );
    refused(
        &BASE.replace("dim = 2", "dim = 1000000000"),
        "objective.dim",
    );
    refused(
        &BASE.replace("trajectories = 100", &format!("trajectories = {max}")),
        "trajectories",
    );
    refused(
        &BASE.replace(
            "dynamics = { eta = 0.05, steps = 100 }",
            &format!("dynamics = {{ schedule = [{{ eta = 0.1, steps = {max} }}, {{ eta = 0.1, steps = {max} }}, {{ eta = 0.1, steps = 2 }}] }}"),
        ),
        "dynamics.schedule",
    );
    // 10^12 cells: four axes of 1000 values.
    let mut sweep = BASE.to_string();
    for path in ["noise.r", "dynamics.eta", "objective.a", "objective.w"] {
        sweep.push_str(&format!(
            "\n[[sweep.axis]]\npath = \"{path}\"\nlin = [0.1, 1.0, 1000]\n"
        ));
    }
    refused(&sweep, "sweep.axis");
    refused(
        &format!("{BASE}\n[[sweep.axis]]\npath = \"noise.r\"\nlin = [0.1, 1.0, {max}]\n"),
        "sweep.axis[0].lin",
    );
    refused(
        &format!("{BASE}\n[theorem]\nsamples = {max}\n"),
        "theorem.samples",
    );
    refused(
        &format!("{BASE}\n[theorem]\nt1 = 10\nt2 = {max}\n"),
        "theorem.t2",
    );
    refused(
        &format!(
            "{BASE}\n[stats]\nthresholds = {{ reach = 0.5 }}\nadaptive = {{ batch = {max} }}\n"
        ),
        "stats.adaptive.batch",
    );
    refused(&format!("{BASE}\n[stats]\nlevel = 1e-17\n"), "stats.level");
}

#[test]
fn command_line_sizes_are_refused_with_exit_2() {
    for (args, flag) in [
        (
            vec!["plan", "--epsilon", "0.01", "--level", "1e-17"],
            "--level",
        ),
        (
            vec!["calibrate", "--replicates", "18446744073709551615"],
            "--replicates",
        ),
        (vec!["plan", "--epsilon", "0"], "--epsilon"),
    ] {
        let (code, err) = sgd(&args, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(flag) && !err.contains("panicked"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.toml");
    std::fs::write(&f, BASE).unwrap();
    let (code, err) = sgd(
        &[
            "run",
            f.to_str().unwrap(),
            "--level",
            "1e-17",
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--level"), "{err}");
}

#[test]
fn a_run_of_more_than_an_hour_starts_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("long.toml");
    std::fs::write(
        &f,
        BASE.replace("trajectories = 100", "trajectories = 1000000000")
            .replace("steps = 100", "steps = 100000"),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "run",
            f.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        line.contains("estimated to take") && line.contains("hours") && line.contains("memory"),
        "{line}"
    );
}
