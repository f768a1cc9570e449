//! `bench`'s side-by-side measurements: one thread against several, peak memory at N·T,
//! 4N·T and N·4T, and another build against this one. Their numbers are timings, so the
//! tests check what they print and the one property that is not a timing: memory does not
//! grow with T.

mod common;

const SMALL: &str = r#"
name = "small"
seed = 1
trajectories = 2000
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.05, steps = 2000 }
init = { kind = "box", lo = -1.0, hi = 1.0 }
events = { reach_radius = 0.3 }

[[config]]
label = "q"
"#;

fn small() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let file = file.to_str().unwrap().to_string();
    (dir, file)
}

/// The numbers of the row that starts with `label`.
fn numbers(text: &str, label: &str) -> Vec<f64> {
    let row = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no row {label:?} in {text}"));
    row.split_whitespace()
        .filter_map(|w| w.trim_end_matches('x').parse().ok())
        .collect()
}

#[test]
fn memory_does_not_grow_with_the_number_of_steps() {
    let (_dir, file) = small();
    let out = common::cli_ok(&["bench", "--memory", "-j", "2", "--experiment", &file]);
    let text = String::from_utf8_lossy(&out.stdout);
    // q  d  N  T  peak  MiB  at-4N  MiB  at-4T  MiB
    let v = numbers(&text, "q");
    let (n, t, peaks) = (v[1], v[2], [v[3], v[4], v[5]]);
    assert_eq!((n, t), (2000.0, 2000.0), "{text}");
    assert!(peaks.iter().all(|&p| p > 1.0), "{text}");
    // Storing N·T doubles would take 31 MiB at N·T and 122 MiB at 4 times either.
    assert!(
        peaks[1] < peaks[0] + 16.0 && peaks[2] < peaks[0] + 16.0,
        "{text}"
    );
}

#[test]
fn scaling_and_baseline_print_ratios_of_medians() {
    let (_dir, file) = small();
    let out = common::cli_ok(&["bench", "--scaling", "-j", "2", "--experiment", &file]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(3 rounds, medians)"), "{text}");
    let v = numbers(&text, "q");
    // q  d  one  two  ratio
    assert!(v[1] > 0.0 && v[2] > 0.0 && v[3] > 0.0, "{text}");
    assert!((v[3] - v[2] / v[1]).abs() < 0.01 * v[3] + 0.01, "{text}");

    // This build against itself.
    let me = env!("CARGO_BIN_EXE_sgd-escape");
    let out = common::cli_ok(&["bench", "--experiment", &file, "--baseline", me, "-j", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("medians of 3 alternating runs"), "{text}");
    assert!(text.trim_end().ends_with("x its speed"), "{text}");

    // A baseline needs an experiment file; a failing baseline is reported.
    let out = common::cli(&["bench", "--baseline", me]);
    assert_eq!(out.status.code(), Some(2));
    let out = common::cli(&[
        "bench",
        "--experiment",
        &file,
        "--baseline",
        "/nonexistent/sgd",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/sgd"));
}
