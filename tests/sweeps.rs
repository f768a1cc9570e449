//! Sweeps at scale: expansion of axes, resume after SIGKILL, shards merged into the same
//! bytes, refusal to mix experiments, the Slurm scripts, and memory independent of the
//! number of cells.

mod common;

use sgd_escape::output::Exporter;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

/// 12 cells of ~0.1–0.2 s each on two cores.
const SWEEP: &str = r#"
name = "sweep_test"
seed = 4
trajectories = 6000
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 600 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.5, stay_radius = 2.0 }
noise = { law = "ball", r = 10.0 }
stats = { thresholds = { reach = 0.5 }, holm = true }

[[sweep.axis]]
path = "noise.r"
values = [2.0, 8.0, 20.0]

[[sweep.axis]]
path = "dynamics.eta"
log = [0.005, 0.1, 4]
"#;

fn write_experiment(dir: &Path, text: &str) -> PathBuf {
    let f = dir.join("sweep_test.toml");
    std::fs::write(&f, text).unwrap();
    f
}

use common::cli_ok as run;

fn same_outputs(a: &Path, b: &Path) {
    for f in ["summary.csv", "trajectories.csv"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x.len() > 100);
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn cells_done(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cells"))
        .map(|r| {
            r.flatten()
                .filter(|e| {
                    e.file_name().to_string_lossy().ends_with(".json")
                        && !e.file_name().to_string_lossy().starts_with('.')
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn expansion_product_zip_and_labels() {
    let exp = common::experiment(SWEEP);
    assert_eq!(exp.configs.len(), 12);
    let c = &exp.configs[5];
    assert_eq!(
        c.params.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        ["r", "eta"]
    );
    assert_eq!(
        c.label,
        format!(
            "sweep_test [r=8, eta={}]",
            sgd_escape::config::sweep::show(c.params[1].1)
        )
    );
    // The log range hits both ends exactly.
    assert_eq!(exp.configs[0].schedule.stages()[0].eta, 0.005);
    assert_eq!(exp.configs[3].schedule.stages()[0].eta, 0.1);
    let zip = SWEEP
        .replace(
            "[[sweep.axis]]\npath = \"noise.r\"",
            "[sweep]\ncombine = \"zip\"\n\n[[sweep.axis]]\npath = \"noise.r\"",
        )
        .replace("[2.0, 8.0, 20.0]", "[2.0, 8.0, 20.0, 30.0]");
    assert_eq!(common::experiment(&zip).configs.len(), 4);
    // Integer parameters take integral values.
    let dims = SWEEP.replace(
        "path = \"noise.r\"\nvalues = [2.0, 8.0, 20.0]",
        "path = \"objective.dim\"\nvalues = [1, 3]",
    );
    let e = common::experiment(&dims);
    assert_eq!(
        e.configs.iter().map(|c| c.dim()).collect::<Vec<_>>(),
        [1, 1, 1, 1, 3, 3, 3, 3]
    );
    // Errors name the axis and the cell.
    let bad = |from: &str, to: &str, want: &str| {
        let text = SWEEP.replace(from, to);
        let err = sgd_escape::config::parse(&text, Path::new("s.toml"), "s")
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    };
    bad(
        "path = \"noise.r\"",
        "path = \"nose.r\"",
        "sweep.axis[0].path",
    );
    bad(
        "values = [2.0, 8.0, 20.0]",
        "values = [2.0, -8.0]",
        "noise.r`: must be ≥ 0, got -8 (in sweep cell",
    );
    bad(
        "log = [0.005, 0.1, 4]",
        "log = [0.0, 0.1, 4]",
        "sweep.axis[1].log",
    );
    bad(
        "log = [0.005, 0.1, 4]",
        "lin = [0.005, 0.1, 4]\nvalues = [1.0]",
        "exactly one of",
    );
    let zip_bad = zip.replace("[2.0, 8.0, 20.0, 30.0]", "[2.0, 8.0]");
    let err = sgd_escape::config::parse(&zip_bad, Path::new("s.toml"), "s")
        .unwrap_err()
        .to_string();
    assert!(err.contains("equal lengths"), "{err}");
}

#[test]
fn adding_an_axis_value_leaves_existing_cells_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // (Without Holm, whose adjustment depends on the whole family by design.)
    let small = SWEEP
        .replace("[2.0, 8.0, 20.0]", "[2.0, 20.0]")
        .replace("trajectories = 6000", "trajectories = 500")
        .replace(", holm = true", "");
    let big = small.replace("[2.0, 20.0]", "[2.0, 5.0, 20.0]");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (text, out) in [(&small, &a), (&big, &b)] {
        let f = write_experiment(dir.path(), text);
        run(&[
            "run",
            f.to_str().unwrap(),
            "-q",
            "--no-trajectories",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    let rows = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("summary.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(String::from)
            .collect()
    };
    let (ra, rb) = (rows(&a), rows(&b));
    assert_eq!((ra.len(), rb.len()), (8, 12));
    for r in &ra {
        assert!(rb.contains(r), "cell changed: {r}");
    }
}

fn spawn(exp: &Path, out: &Path) -> Child {
    Command::new(BIN)
        .args([
            "run",
            exp.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
            "--threads",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn killed_sweeps_resume_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), SWEEP);
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--out",
        whole.to_str().unwrap(),
    ]);
    // SIGKILL after 0 (right at start), 2, 5 and 9 finished cells, resuming each time.
    let mut kills = 0;
    for target in [0usize, 2, 5, 9] {
        let mut child = spawn(&exp, &killed);
        let t0 = Instant::now();
        while cells_done(&killed) < target && t0.elapsed() < Duration::from_secs(60) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        assert!(
            !killed.join("summary.csv").exists() || cells_done(&killed) == 12,
            "final outputs written before every cell was done"
        );
    }
    assert!(
        kills >= 3,
        "the sweep finished too fast to be interrupted ({kills} kills)"
    );
    // The resumed run computes only what is missing.
    let before = cells_done(&killed);
    let out = run(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        killed.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{} cells computed, {before} resumed", 12 - before)),
        "{stdout}"
    );
    same_outputs(&whole, &killed);
}

#[test]
fn three_shards_merge_into_the_single_process_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), SWEEP);
    let whole = dir.path().join("whole");
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--out",
        whole.to_str().unwrap(),
    ]);
    let shards: Vec<PathBuf> = (0..3)
        .map(|k| dir.path().join(format!("shard{k}")))
        .collect();
    let children: Vec<Child> = (0..3)
        .map(|k| {
            Command::new(BIN)
                .args([
                    "run",
                    exp.to_str().unwrap(),
                    "-q",
                    "--threads",
                    "1",
                    "--shard",
                    &format!("{k}/3"),
                    "--out",
                    shards[k].to_str().unwrap(),
                ])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    for s in &shards {
        assert_eq!(cells_done(s), 4);
        assert!(
            !s.join("summary.csv").exists(),
            "a shard alone writes no final outputs"
        );
    }
    // A missing shard is named.
    let merged = dir.path().join("merged");
    let out = Command::new(BIN)
        .args([
            "merge",
            shards[0].to_str().unwrap(),
            shards[1].to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("4 of 12 cells or cell parts are missing") && err.contains("shard"),
        "{err}"
    );
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.to_str().unwrap().to_string()));
    args.extend(["--out".into(), merged.to_str().unwrap().into()]);
    run(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    same_outputs(&whole, &merged);
    // Shards of another experiment (another seed) are refused.
    let other = dir.path().join("other");
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--seed",
        "5",
        "--shard",
        "1/3",
        "--out",
        other.to_str().unwrap(),
    ]);
    let out = Command::new(BIN)
        .args([
            "merge",
            shards[0].to_str().unwrap(),
            other.to_str().unwrap(),
            "--out",
            dir.path().join("m2").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("different experiment"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // … and so is resuming into a directory of another experiment.
    let out = Command::new(BIN)
        .args([
            "run",
            exp.to_str().unwrap(),
            "-q",
            "--seed",
            "5",
            "--out",
            whole.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("refusing to mix")
    );
}

#[test]
fn slurm_scripts_check_and_run_through_a_stand_in() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm");
    for s in ["sweep.sbatch", "merge.sbatch", "submit.sh"] {
        let ok = Command::new("bash")
            .arg("-n")
            .arg(scripts.join(s))
            .status()
            .unwrap();
        assert!(ok.success(), "bash -n {s}");
    }
    // The stand-in plays Slurm: one task per SLURM_ARRAY_TASK_ID, then the merge.
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(
        dir.path(),
        &SWEEP.replace("trajectories = 6000", "trajectories = 300"),
    );
    let root = dir.path().join("shards");
    for k in 0..4 {
        let st = Command::new("bash")
            .arg(scripts.join("sweep.sbatch"))
            .args([exp.to_str().unwrap(), root.to_str().unwrap()])
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("SGD_ESCAPE_BIN", BIN)
            .status()
            .unwrap();
        assert!(st.success(), "task {k}");
    }
    let st = Command::new("bash")
        .arg(scripts.join("merge.sbatch"))
        .args([exp.to_str().unwrap(), root.to_str().unwrap()])
        .env("SGD_ESCAPE_BIN", BIN)
        .status()
        .unwrap();
    assert!(st.success());
    let whole = dir.path().join("whole");
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--out",
        whole.to_str().unwrap(),
    ]);
    same_outputs(&whole, &root.join("sweep_test/merged"));
    // Outside an array the task refuses to start.
    let out = Command::new("bash")
        .arg(scripts.join("sweep.sbatch"))
        .arg(exp.to_str().unwrap())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(!out.status.success());
    // Without SGD_ESCAPE_BIN a task finds the binary on the PATH or in target/release/ of
    // the directory the job was submitted from (here task 0 again: it resumes its finished
    // shard), and otherwise stops with a message saying how to provide it.
    let task = |path: &str, submit_dir: &Path| {
        Command::new("bash")
            .arg(scripts.join("sweep.sbatch"))
            .args([exp.to_str().unwrap(), root.to_str().unwrap()])
            .env("SLURM_ARRAY_TASK_ID", "0")
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SLURM_CPUS_PER_TASK", "1")
            .env_remove("SGD_ESCAPE_BIN")
            .env("PATH", path)
            .env("SLURM_SUBMIT_DIR", submit_dir)
            .output()
            .unwrap()
    };
    let nowhere = tempfile::tempdir().unwrap();
    let out = task("/usr/bin:/bin", nowhere.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for hint in [
        "sgd-escape not found",
        "cargo install --path .",
        "SGD_ESCAPE_BIN",
    ] {
        assert!(err.contains(hint), "{err}");
    }
    let submit_dir = tempfile::tempdir().unwrap();
    let release = submit_dir.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::os::unix::fs::symlink(BIN, release.join("sgd-escape")).unwrap();
    let out = task("/usr/bin:/bin", submit_dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_path = format!("{}:/usr/bin:/bin", release.display());
    let out = task(&on_path, nowhere.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn peak_mb(cells: usize, dir: &Path) -> f64 {
    // `cells` cells of 2000 trajectories: one axis with `cells` values.
    let text = format!(
        r#"
        name = "mem"
        trajectories = 2000
        objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
        noise = {{ law = "ball", r = 1.0 }}
        dynamics = {{ eta = 0.1, steps = 20 }}
        init = {{ kind = "ball", radius = 3.0 }}
        events = {{ reach_radius = 0.5, stay_radius = 1.0 }}
        [[sweep.axis]]
        path = "noise.r"
        lin = [0.5, 2.0, {cells}]
        "#
    );
    let f = dir.join(format!("mem{cells}.toml"));
    std::fs::write(&f, text).unwrap();
    let out = dir.join(format!("mem{cells}"));
    run(&[
        "run",
        f.to_str().unwrap(),
        "-q",
        "--no-trajectories",
        "--out",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    v["peak_rss_mb"]
        .as_f64()
        .expect("peak memory is reported on Linux")
}

#[test]
fn memory_does_not_grow_with_the_number_of_cells() {
    let dir = tempfile::tempdir().unwrap();
    let small = peak_mb(20, dir.path());
    let large = peak_mb(2000, dir.path());
    eprintln!(
        "peak memory: 20 cells × 2000 trajectories {small:.1} MiB, 2000 cells × 2000 trajectories {large:.1} MiB"
    );
    assert!(
        large < small * 1.5 + 16.0,
        "20 cells: {small:.1} MiB, 2000 cells: {large:.1} MiB"
    );
}

#[test]
fn report_writes_plots_and_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(
        dir.path(),
        &SWEEP.replace("trajectories = 6000", "trajectories = 300"),
    );
    let out = dir.path().join("out");
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    let printed =
        String::from_utf8_lossy(&run(&["report", out.to_str().unwrap()]).stdout).to_string();
    for plot in ["probabilities.svg", "hitting_times.svg", "final_points.svg"] {
        let svg = std::fs::read_to_string(out.join("plots").join(plot)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{plot} is not a whole SVG"
        );
        assert!(printed.contains(plot));
    }
    let p = std::fs::read_to_string(out.join("plots/probabilities.svg")).unwrap();
    assert!(p.contains("eta") && p.contains("r=8") && p.contains(">\nthreshold\n<"));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("<img src=\"plots/probabilities.svg\"")
            && html.contains("<table class=\"sortable\">")
    );
    let summary = &html[html.find("<h2>Summary").unwrap()..];
    assert_eq!(
        summary.matches("<tr>").count(),
        13,
        "a header and a row per cell"
    );
    // A directory that was never run is refused with a clear message.
    let out = Command::new(BIN)
        .args(["report", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no summary.csv")
    );
}

/// A real job array on a local Slurm cluster (`scripts/slurm/local-cluster.sh`; `.ci/run`
/// starts one and sets SGD_ESCAPE_SLURM=1 when it comes up).
#[test]
fn real_slurm_array_job_on_localhost() {
    if std::env::var("SGD_ESCAPE_SLURM").as_deref() != Ok("1") {
        eprintln!(
            "skipped: no local Slurm cluster (run scripts/slurm/local-cluster.sh and set SGD_ESCAPE_SLURM=1)"
        );
        return;
    }
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm");
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(
        dir.path(),
        &SWEEP.replace("trajectories = 6000", "trajectories = 300"),
    );
    let root = dir.path().join("shards");
    let out = Command::new("bash")
        .arg(scripts.join("submit.sh"))
        .args([
            exp.to_str().unwrap(),
            "3",
            root.to_str().unwrap(),
            "--",
            "--cpus-per-task=1",
        ])
        .current_dir(dir.path())
        .env("SGD_ESCAPE_BIN", BIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sbatch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merge_job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // Wait for the array and the merge to leave the queue.
    let t0 = Instant::now();
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-o", "%i"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "jobs still queued: {}",
            String::from_utf8_lossy(&q.stdout)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let merged = root.join("sweep_test/merged");
    assert!(
        merged.join("summary.csv").exists(),
        "merge job {merge_job} wrote nothing; logs in {}",
        dir.path().display()
    );
    let whole = dir.path().join("whole");
    run(&[
        "run",
        exp.to_str().unwrap(),
        "-q",
        "--out",
        whole.to_str().unwrap(),
    ]);
    same_outputs(&whole, &merged);
}

#[test]
fn a_very_large_cell_is_shared_by_shards_in_trajectory_ranges() {
    // One cell of 600,000 trajectories: three parts of 262,144 trajectory indices at most.
    let text = r#"
        name = "big"
        seed = 8
        trajectories = 600_000
        objective = { kind = "quadratic", dim = 1, k = 1.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 0.1, steps = 5 }
        init = { kind = "ball", radius = 3.0 }
        events = { reach_radius = 1.0, stay_radius = 2.0 }
    "#;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.toml");
    std::fs::write(&f, text).unwrap();
    let whole = dir.path().join("whole");
    run(&[
        "run",
        f.to_str().unwrap(),
        "-q",
        "--no-trajectories",
        "--out",
        whole.to_str().unwrap(),
    ]);
    let shards: Vec<PathBuf> = (0..3).map(|k| dir.path().join(format!("s{k}"))).collect();
    for (k, s) in shards.iter().enumerate() {
        let out = run(&[
            "run",
            f.to_str().unwrap(),
            "--no-trajectories",
            "--shard",
            &format!("{k}/3"),
            "--out",
            s.to_str().unwrap(),
        ]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 cells computed"),
            "each shard runs one part"
        );
        let parts: Vec<String> = std::fs::read_dir(s.join("cells"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            parts.len() == 1 && parts[0].ends_with(&format!(".part{k}.json")),
            "{parts:?}"
        );
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.to_str().unwrap().to_string()));
    args.extend(["--out".into(), merged.to_str().unwrap().into()]);
    run(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let (a, b) = (
        std::fs::read(whole.join("summary.csv")).unwrap(),
        std::fs::read(merged.join("summary.csv")).unwrap(),
    );
    assert!(a == b, "summary.csv differs");
    // The in-memory library path is the same pipeline, so the same bytes.
    let exp = sgd_escape::config::load(&f).unwrap();
    let report = sgd_escape::pipeline::execute(&exp, 2).unwrap();
    let direct = sgd_escape::output::SummaryCsv.render(&report).unwrap();
    assert!(direct == a, "execute() and the sweep runner disagree");
}
