//! The MLP objective in experiment files: CSV data, the target from a reference run, and
//! refused settings.

mod common;

use sgd_escape::config::{load, parse};
use sgd_escape::experiment::ObjectiveChoice;
use sgd_escape::objective::FiniteSum;
use sgd_escape::pipeline::execute;
use std::path::Path;

fn digits() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/digits_train.csv")
        .display()
        .to_string()
}

fn reference(_dir: &Path) -> String {
    format!(
        r#"
name = "reference"
seed = 1
trajectories = 2
objective = {{ kind = "mlp", hidden = [4], lambda = 1e-3, data = {{ csv = "{}", label = "digit" }} }}
init = {{ kind = "box", lo = -0.1, hi = 0.1 }}
noise = {{ law = "minibatch", batch = 16 }}
dynamics = {{ eta = 0.2, steps = 300 }}
events = {{ reach_radius = 0.0 }}
"#,
        digits()
    )
}

#[test]
fn a_network_trains_and_takes_its_target_from_a_reference_run() {
    let dir = tempfile::tempdir().unwrap();
    let e = parse(&reference(dir.path()), Path::new("ref.toml"), "ref").unwrap();
    let ObjectiveChoice::Mlp { built, .. } = &e.configs[0].objective else {
        panic!("mlp")
    };
    // 64 inputs, 4 tanh units, 10 classes.
    assert_eq!(built.0.sizes(), &[64, 4, 10]);
    assert_eq!(e.configs[0].dim(), 4 * 65 + 10 * 5);
    assert_eq!(built.0.examples(), 1442);
    let run = execute(&e, 2).unwrap();
    let r = &run.results[0];
    // Training lowers the loss from log 10 ≈ 2.30 at the origin.
    assert!(
        r.summary.final_value.mean < 1.0,
        "{:?}",
        r.summary.final_value
    );
    // Its final points, written by `run`, become another file's target.
    let ref_file = dir.path().join("ref.toml");
    std::fs::write(&ref_file, reference(dir.path())).unwrap();
    let out = dir.path().join("ref");
    common::cli_ok(&[
        "run",
        "-q",
        "--out",
        out.to_str().unwrap(),
        ref_file.to_str().unwrap(),
    ]);
    std::fs::copy(
        out.join("trajectories.csv"),
        dir.path().join("trajectories.csv"),
    )
    .unwrap();
    let text = reference(dir.path()).replace(
        "data = {",
        r#"target = { trajectories = "trajectories.csv", config = "reference", index = 1 }, data = {"#,
    );
    let file = dir.path().join("main.toml");
    std::fs::write(&file, &text).unwrap();
    let main = load(&file).unwrap();
    assert_eq!(main.configs[0].objective.target(), r.outcomes[1].final_x);
    // A warm start from the same row: every trajectory starts there.
    let warm = reference(dir.path()).replace(
        "init = { kind = \"box\", lo = -0.1, hi = 0.1 }",
        r#"init = { kind = "final", trajectories = "trajectories.csv", config = "reference", index = 1 }"#,
    );
    std::fs::write(&file, &warm).unwrap();
    let w = load(&file).unwrap();
    assert_eq!(
        w.configs[0].init,
        sgd_escape::init::InitialPoints::Point {
            point: r.outcomes[1].final_x.clone()
        }
    );
    // The target is part of the configuration's identity.
    assert_ne!(main.configs[0].id(), e.configs[0].id());

    // Refused: a row that is not there, a file that is not a trajectories.csv, synthetic
    // data, a zero width.
    for (edit, needle) in [
        (text.replace("index = 1", "index = 7"), "no row"),
        (
            text.replace("trajectories.csv\"", "main.toml\""),
            "not a trajectories.csv",
        ),
        (
            reference(dir.path()).replace(
                &format!(r#"csv = "{}", label = "digit""#, digits()),
                "n = 10, dim = 2",
            ),
            "objective.data.csv",
        ),
        (
            reference(dir.path()).replace("hidden = [4]", "hidden = [0]"),
            "objective.hidden[0]",
        ),
    ] {
        std::fs::write(&file, &edit).unwrap();
        let err = load(&file).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// The theorem check's sample sizes default to smaller values where a full gradient is
/// expensive (the digits MLP), and stay as written when given.
#[test]
fn expensive_gradients_get_smaller_check_defaults() {
    use sgd_escape::config::{CHECK_DEFAULTS, HEAVY_CHECK_DEFAULTS};
    let sizes = |text: &str| {
        let e = parse(text, Path::new("t.toml"), "t").unwrap();
        let t = e.theorem.expect("a [theorem] section");
        [t.samples, t.draws, t.traced]
    };
    let mlp = reference(Path::new(".")).replace("hidden = [4]", "hidden = [32]") + "\n[theorem]\n";
    assert_eq!(sizes(&mlp), HEAVY_CHECK_DEFAULTS);
    // 1442 examples × 330 parameters: below the threshold.
    assert_eq!(
        sizes(&(reference(Path::new(".")) + "\n[theorem]\n")),
        CHECK_DEFAULTS
    );
    let given = mlp.replace(
        "[theorem]\n",
        "[theorem]\nsamples = 7\ndraws = 3\ntraced = 5\n",
    );
    assert_eq!(sizes(&given), [7, 3, 5]);
}

/// `bench --experiment` times an experiment's configurations and, for minibatch SGD, reports
/// examples per second consistent with its own median time; a configuration label it does
/// not have is refused by name.
#[test]
fn bench_times_an_experiment_file_in_examples_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ref.toml");
    std::fs::write(&file, reference(dir.path())).unwrap();
    let file = file.to_str().unwrap();
    let out = common::cli_ok(&["bench", "--repeats", "1", "-j", "1", "--experiment", file]);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("reference"))
        .expect(&text);
    let f: Vec<&str> = row.split_whitespace().collect();
    // reference  d  N  T  median  coord M  examples M
    let (n, t, median) = (
        f[2].parse::<f64>().unwrap(),
        f[3].parse::<f64>().unwrap(),
        f[4].parse::<f64>().unwrap(),
    );
    let examples = f[7].parse::<f64>().unwrap() * 1e6;
    assert_eq!((n, t), (2.0, 300.0));
    // The median is printed to 1 ms and the rate to 4 decimals of a million: allow both.
    let work = n * t * 16.0;
    let (lo, hi) = (
        work / (median + 5e-4) - 50.0,
        work / (median - 5e-4).max(1e-9) + 50.0,
    );
    assert!(median > 0.0 && (lo..=hi).contains(&examples), "{row}");
    let out = common::cli(&["bench", "nope", "--experiment", file]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no configuration \"nope\""));
}
