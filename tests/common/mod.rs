//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sgd_escape::config;
use sgd_escape::experiment::Experiment;
use std::path::Path;

/// Kolmogorov–Smirnov statistic of `samples` against the continuous CDF `cdf`.
pub fn ks_statistic(samples: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    samples
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// The asymptotic KS critical value at level 0.001: the test rejects a correct sampler with
/// probability 0.1% (and the seeds are fixed, so a pass is a pass every time).
pub fn ks_critical_001(n: usize) -> f64 {
    1.9495 / (n as f64).sqrt()
}

/// Parses an experiment from text, panicking with the error on failure.
pub fn experiment(text: &str) -> Experiment {
    config::parse(text, Path::new("test.toml"), "test").unwrap_or_else(|e| panic!("{e}"))
}

/// The repository's own experiment file.
pub fn shipped(name: &str) -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(name);
    config::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `bin args` with a time limit (killing it and panicking past `limit`); returns the exit
/// code and standard error.
pub fn run_within(bin: &str, args: &[&str], limit: std::time::Duration) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            child.kill().unwrap();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the sgd-escape binary with `args`; its output.
pub fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sgd-escape"))
        .args(args)
        .output()
        .unwrap()
}

/// [`cli`], failing the test with the arguments and standard error unless the command
/// succeeds.
pub fn cli_ok(args: &[&str]) -> std::process::Output {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A Python with pandas and pyarrow: `SGD_ESCAPE_PYTHON` (then it must have both: CI sets it
/// to the environment `scripts/python-env.sh` makes), else `python3` if it has both.
pub fn python() -> Option<String> {
    let has = |py: &str| {
        std::process::Command::new(py)
            .args(["-c", "import pandas, pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    match std::env::var("SGD_ESCAPE_PYTHON") {
        Ok(py) => {
            assert!(
                has(&py),
                "SGD_ESCAPE_PYTHON={py} cannot import pandas and pyarrow"
            );
            Some(py)
        }
        Err(_) => has("python3").then(|| "python3".to_string()),
    }
}

/// `Rscript`, where R is installed (CI does not install it: tests that need it say they were
/// skipped).
pub fn rscript() -> Option<&'static str> {
    std::process::Command::new("Rscript")
        .args(["-e", "1"])
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some("Rscript")
}

/// Runs `program args`, failing the test with its output unless it succeeds; its standard
/// output, trimmed.
pub fn script_ok(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
