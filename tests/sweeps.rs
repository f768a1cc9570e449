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
    // Each cell in exactly one shard (assigned by its id, so about a third each).
    let held: Vec<usize> = shards.iter().map(|s| cells_done(s)).collect();
    assert_eq!(held.iter().sum::<usize>(), 12, "{held:?}");
    for s in &shards {
        assert!(
            !s.join("summary.csv").exists(),
            "a shard alone writes no final outputs"
        );
    }
    // A missing shard is named: leave out the largest.
    let largest = (0..3).max_by_key(|&k| held[k]).unwrap();
    let merged = dir.path().join("merged");
    let out = Command::new(BIN)
        .arg("merge")
        .args((0..3).filter(|&k| k != largest).map(|k| &shards[k]))
        .args(["--out", merged.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{} of 12 cells or cell parts are missing",
            held[largest]
        )) && err.contains("shard"),
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
    // The stand-in plays Slurm: one task per SLURM_ARRAY_TASK_ID, then the merge. Tasks 1
    // and 3 run as a rerun array (--array=1,3) does: SLURM_ARRAY_TASK_COUNT is 2 there, but
    // each computes its own shard of the 4 it is told about.
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(
        dir.path(),
        &SWEEP.replace("trajectories = 6000", "trajectories = 300"),
    );
    let root = dir.path().join("shards");
    for (k, count) in [(0, 4), (2, 4), (1, 2), (3, 2)] {
        let out = Command::new("bash")
            .arg(scripts.join("sweep.sbatch"))
            .args([exp.to_str().unwrap(), root.to_str().unwrap(), "4"])
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", count.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("SGD_ESCAPE_BIN", BIN)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "task {k}: {log}");
        assert!(
            log.contains(&format!("shard {k}/4 of"))
                && log.contains(&format!("shard {k}/4 finished with exit code 0")),
            "{log}"
        );
    }
    // A task told no shard count, or one at or below its id, refuses to start.
    for n in [None, Some("3")] {
        let out = Command::new("bash")
            .arg(scripts.join("sweep.sbatch"))
            .args([exp.to_str().unwrap(), root.to_str().unwrap()])
            .args(n)
            .env("SLURM_ARRAY_TASK_ID", "3")
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .env("SGD_ESCAPE_BIN", BIN)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{n:?}");
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
        .args([exp.to_str().unwrap(), root.to_str().unwrap(), "4"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env("SGD_ESCAPE_BIN", BIN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running inside a Slurm job array"));
    // Without SGD_ESCAPE_BIN a task finds the binary on the PATH or in target/release/ of
    // the directory the job was submitted from (here task 0 again: it resumes its finished
    // shard), and otherwise stops with a message saying how to provide it.
    let task = |path: &str, submit_dir: &Path| {
        Command::new("bash")
            .arg(scripts.join("sweep.sbatch"))
            .args([exp.to_str().unwrap(), root.to_str().unwrap(), "4"])
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

/// What `submit.sh` hands to sbatch, through a stand-in `sbatch` on the PATH that records
/// each call (its arguments, one per line, and the SGD_ESCAPE_BIN it inherits).
#[test]
fn submit_passes_shard_count_throttle_limits_and_cancellation_to_sbatch() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm/submit.sh");
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), SWEEP);
    let fake = dir.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    let calls = dir.path().join("calls");
    std::fs::write(
        fake.join("sbatch"),
        format!(
            "#!/bin/sh\nn=$(ls {c} 2>/dev/null | wc -l)\nmkdir -p {c}\n\
             {{ printf '%s\\n' \"$@\"; echo \"BIN=$SGD_ESCAPE_BIN\"; }} > {c}/$n\necho $((101 + n))\n",
            c = calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fake.join("sbatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let submit = |args: &[&str], bin: Option<&str>| {
        let _ = std::fs::remove_dir_all(&calls);
        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .arg(&exp)
            .args(args)
            .current_dir(dir.path())
            .env("PATH", format!("{}:/usr/bin:/bin", fake.display()));
        match bin {
            Some(b) => cmd.env("SGD_ESCAPE_BIN", b),
            None => cmd.env_remove("SGD_ESCAPE_BIN"),
        };
        let out = cmd.output().unwrap();
        let call = |n: usize| {
            std::fs::read_to_string(calls.join(n.to_string()))
                .map(|t| t.lines().map(String::from).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        (out, call(0), call(1))
    };
    let has = |call: &[String], arg: &str| call.iter().any(|a| a == arg);

    // N with a throttle; memory and time reach both jobs; the merge waits on the array
    // and is cancelled if a task fails; every task is told N; the logs directory exists.
    let (out, array, merge) = submit(
        &["16%4", "res", "--", "--mem=8G", "--time=1:00:00"],
        Some(BIN),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "102");
    assert!(has(&array, "--array=0-15%4"), "{array:?}");
    assert!(
        array.ends_with(&["res".into(), "16".into(), format!("BIN={BIN}"),]),
        "{array:?}"
    );
    assert!(
        has(&array, "--output=res/sweep_test/logs/%x-%A_%a.log"),
        "{array:?}"
    );
    assert!(dir.path().join("res/sweep_test/logs").is_dir());
    for call in [&array, &merge] {
        assert!(
            has(call, "--mem=8G") && has(call, "--time=1:00:00"),
            "{call:?}"
        );
    }
    assert!(has(&merge, "--dependency=afterok:101"), "{merge:?}");
    assert!(has(&merge, "--kill-on-invalid-dep=yes"), "{merge:?}");
    assert!(!merge.iter().any(|a| a.starts_with("--array")), "{merge:?}");

    // A rerun of tasks 1 and 3 with the user's own throttle: their --array stands, and
    // the tasks are still told N = 4; the merge gets no --array.
    for opts in [["--array=1,3%1"], ["-a1,3%1"]] {
        let args = [&["4", "res", "--"][..], &opts[..]].concat();
        let (out, array, merge) = submit(&args, Some(BIN));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(has(&array, "--array=1,3%1"), "{array:?}");
        assert_eq!(array.iter().filter(|a| a.starts_with("--array")).count(), 1);
        assert_eq!(array[array.len() - 2], "4");
        assert!(
            !merge
                .iter()
                .any(|a| a.starts_with("--array") || a.starts_with("-a"))
        );
    }

    // Refused before anything is queued: a task id beyond N, a malformed N, no binary.
    for (args, bin, why) in [
        (&["4", "--", "--array=2-4"][..], Some(BIN), "names task '4'"),
        (&["0"][..], Some(BIN), "positive integer"),
        (&["4%x"][..], Some(BIN), "positive integer"),
        (&["4"][..], None, "sgd-escape not found"),
    ] {
        let (out, array, _) = submit(args, bin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(array.is_empty(), "{args:?} queued {array:?}");
    }
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
/// starts one and sets SGD_ESCAPE_SLURM=1 when it comes up): a task fails, the merge is
/// cancelled rather than left pending; the failed task alone is rerun (`--array=1`),
/// computes its own shard, and the merge then writes the bytes of a single-process run.
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
    // Shard 1 fails while the marker file exists.
    let marker = dir.path().join("fail-shard-1");
    std::fs::write(&marker, "").unwrap();
    let wrapper = dir.path().join("sgd-escape-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncase \"$*\" in *'--shard 1/3'*) [ -e {m} ] && {{ echo injected failure >&2; exit 1; }};; esac\nexec {BIN} \"$@\"\n",
            m = marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let submit = |extra: &[&str]| {
        let out = Command::new("bash")
            .arg(scripts.join("submit.sh"))
            .args([exp.to_str().unwrap(), "3", root.to_str().unwrap(), "--"])
            .arg("--cpus-per-task=1")
            .args(extra)
            .current_dir(dir.path())
            .env("SGD_ESCAPE_BIN", &wrapper)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sbatch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let wait_for_empty_queue = || {
        let t0 = Instant::now();
        loop {
            let q = Command::new("squeue")
                .args(["-h", "-o", "%i %T %r"])
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
    };
    let merge_job = submit(&[]);
    wait_for_empty_queue();
    let job = Command::new("scontrol")
        .args(["show", "job", &merge_job])
        .output()
        .unwrap();
    let job = String::from_utf8_lossy(&job.stdout);
    assert!(job.contains("JobState=CANCELLED"), "merge job: {job}");
    let merged = root.join("sweep_test/merged");
    assert!(!merged.join("summary.csv").exists());
    // One log per task in the logs directory, the failed one saying so.
    let logs: Vec<String> = std::fs::read_dir(root.join("sweep_test/logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(logs.len(), 3, "{logs:?}");
    for k in 0..3 {
        let code = if k == 1 { 1 } else { 0 };
        let end = format!("shard {k}/3 finished with exit code {code}");
        assert!(logs.iter().any(|l| l.contains(&end)), "{end}: {logs:?}");
    }

    // The rerun of task 1 alone: an array of one task, which must compute shard 1 of 3.
    std::fs::remove_file(&marker).unwrap();
    let merge_job = submit(&["--array=1"]);
    wait_for_empty_queue();
    assert!(
        merged.join("summary.csv").exists(),
        "merge job {merge_job} wrote nothing; logs in {}",
        root.join("sweep_test/logs").display()
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
    let mut held = Vec::new();
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
        assert!(parts.len() == 1 && parts[0].contains(".part"), "{parts:?}");
        held.extend(parts);
    }
    // Consecutive parts on consecutive shards: all three, each once.
    held.sort();
    for (p, name) in held.iter().enumerate() {
        assert!(name.ends_with(&format!(".part{p}.json")), "{held:?}");
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

/// Values added to an axis, rerun into the same directory: only the new cells are computed,
/// and the result is the bytes of the extended sweep run from scratch; shards keep their
/// cells (assignment by cell id); adaptive cells under Holm are recomputed when the number
/// of decisions changes; anything but an extension is still refused.
#[test]
fn extending_a_sweep_in_place_computes_only_the_new_cells() {
    let base = r#"
name = "grow"
seed = 11
trajectories = 400
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 200 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.5, stay_radius = 2.0 }
noise = { law = "ball", r = 10.0 }
stats = { thresholds = { reach = 0.5 }, holm = true }

[[sweep.axis]]
path = "noise.r"
values = [2.0, 20.0]

[[sweep.axis]]
path = "dynamics.eta"
log = [0.005, 0.1, 2]
"#;
    // A value inserted in the middle of the first axis: the cells after it move in the
    // order, but keep their ids.
    let extended = base.replace("values = [2.0, 20.0]", "values = [2.0, 8.0, 20.0]");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("grow.toml");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let stdout = |o: std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let (ext, scratch) = (dir.path().join("ext"), dir.path().join("scratch"));

    std::fs::write(&f, base).unwrap();
    run(&["run", &s(&f), "--out", &s(&ext)]);
    std::fs::write(&f, &extended).unwrap();
    let out = stdout(run(&["run", &s(&f), "--out", &s(&ext)]));
    assert!(out.contains("2 cells computed, 4 resumed"), "{out}");
    run(&["run", &s(&f), "-q", "--out", &s(&scratch)]);
    same_outputs(&scratch, &ext);
    assert_eq!(
        std::fs::read(scratch.join("sweep.json")).unwrap(),
        std::fs::read(ext.join("sweep.json")).unwrap()
    );

    // Shards: extending the sharded sweep into the same shard directories moves no cell.
    let shards: Vec<PathBuf> = (0..2).map(|k| dir.path().join(format!("s{k}"))).collect();
    let names = |d: &Path| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(d.join("cells"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect()
    };
    let mut before = Vec::new();
    for text in [base, extended.as_str()] {
        std::fs::write(&f, text).unwrap();
        for (k, shard) in shards.iter().enumerate() {
            let spec = format!("{k}/2");
            run(&["run", &s(&f), "-q", "--shard", &spec, "--out", &s(shard)]);
        }
        if before.is_empty() {
            before = shards.iter().map(|d| names(d)).collect();
        }
    }
    let after: Vec<_> = shards.iter().map(|d| names(d)).collect();
    assert_eq!(before[0].len() + before[1].len(), 4);
    assert_eq!(after[0].len() + after[1].len(), 6);
    for k in 0..2 {
        assert!(before[k].is_subset(&after[k]), "shard {k} lost cells");
        assert!(after[k].is_disjoint(&after[1 - k]));
    }
    let merged = dir.path().join("merged");
    run(&[
        "merge",
        &s(&shards[0]),
        &s(&shards[1]),
        "--out",
        &s(&merged),
    ]);
    same_outputs(&scratch, &merged);
    // Merge is never an extension: a shard of the old sweep beside one of the extended
    // sweep is refused (in either order), and so is merging into the old sweep's directory.
    let (old_shard, old_whole) = (dir.path().join("old_shard"), dir.path().join("old_whole"));
    std::fs::write(&f, base).unwrap();
    run(&[
        "run",
        &s(&f),
        "-q",
        "--shard",
        "0/2",
        "--out",
        &s(&old_shard),
    ]);
    run(&["run", &s(&f), "-q", "--out", &s(&old_whole)]);
    let refused = |args: &[&str]| {
        let out = Command::new(BIN).arg("merge").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("refusing to mix"),
            "{args:?}: {err}"
        );
    };
    let mixed = dir.path().join("mixed");
    refused(&[&s(&old_shard), &s(&shards[1]), "--out", &s(&mixed)]);
    refused(&[&s(&shards[1]), &s(&old_shard), "--out", &s(&mixed)]);
    refused(&[&s(&shards[0]), &s(&shards[1]), "--out", &s(&old_whole)]);

    // Adaptive cells under Holm decide at α/m: a new cell changes m, so every one of them
    // is computed again; without Holm the old ones are kept.
    for (holm, computed) in [
        (true, "3 cells computed, 0 resumed"),
        (false, "1 cells computed, 2 resumed"),
    ] {
        let adaptive = format!(
            r#"
name = "grow_adaptive"
seed = 3
trajectories = 4000
objective = {{ kind = "quadratic", dim = 1, k = 1.0 }}
dynamics = {{ eta = 0.1, steps = 50 }}
init = {{ kind = "point", point = 2.0 }}
events = {{ reach_radius = 0.3 }}
stats = {{ thresholds = {{ reach = 0.5 }}, holm = {holm}, adaptive = {{ batch = 200 }} }}
noise = {{ law = "ball", r = 1.0 }}

[[sweep.axis]]
path = "noise.r"
values = [1.0, 4.0]
"#
        );
        let out_dir = dir.path().join(format!("adaptive_{holm}"));
        let fresh = dir.path().join(format!("adaptive_fresh_{holm}"));
        std::fs::write(&f, &adaptive).unwrap();
        run(&["run", &s(&f), "-q", "--out", &s(&out_dir)]);
        std::fs::write(&f, adaptive.replace("[1.0, 4.0]", "[1.0, 4.0, 9.0]")).unwrap();
        let out = stdout(run(&["run", &s(&f), "--out", &s(&out_dir)]));
        assert!(out.contains(computed), "holm = {holm}: {out}");
        run(&["run", &s(&f), "-q", "--out", &s(&fresh)]);
        same_outputs(&fresh, &out_dir);
    }

    // Not extensions: a value removed, another seed. Both refused, nothing touched.
    for text in [
        extended.replace("values = [2.0, 8.0, 20.0]", "values = [2.0, 8.0]"),
        extended.replace("seed = 11", "seed = 12"),
    ] {
        std::fs::write(&f, text).unwrap();
        let out = Command::new(BIN)
            .args(["run", &s(&f), "-q", "--out", &s(&ext)])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to mix"));
    }
    same_outputs(&scratch, &ext);
}

/// A derived axis: `noise.r = a / η` holds the noise level a = ηr fixed while η varies; its
/// values are columns of summary.csv and trajectories.csv like any axis's.
#[test]
fn a_derived_axis_is_computed_from_the_others() {
    let text = r#"
name = "derived"
seed = 2
trajectories = 50
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
init = { kind = "ball", radius = 3.0 }
dynamics = { eta = 0.1, steps = 20 }
events = { reach_radius = 1.0 }

[[sweep.axis]]
path = "dynamics.eta"
values = [0.01, 0.02, 0.04]

[[sweep.axis]]
name = "a"
values = [0.5, 2.0]

[[sweep.axis]]
path = "noise.r"
formula = "a / dynamics.eta"
"#;
    let exp = common::experiment(text);
    assert_eq!(exp.configs.len(), 6);
    for c in &exp.configs {
        let p: Vec<(&str, f64)> = c.params.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let (eta, a, r) = (p[0].1, p[1].1, p[2].1);
        assert_eq!((p[0].0, p[1].0, p[2].0), ("eta", "a", "r"));
        assert_eq!(r, a / eta, "{p:?}");
        assert_eq!(c.noise.parts().1, Some(r));
        assert_eq!(c.schedule.stages()[0].eta, eta);
    }
    // By name or by path, the same cells.
    let by_name = common::experiment(&text.replace("a / dynamics.eta", "a / eta"));
    let ids = |e: &sgd_escape::experiment::Experiment| -> Vec<String> {
        e.configs
            .iter()
            .map(sgd_escape::pipeline::cell_id)
            .collect()
    };
    assert_eq!(ids(&exp), ids(&by_name));
    // Columns in both CSV files.
    let dir = tempfile::tempdir().unwrap();
    let f = write_experiment(dir.path(), text);
    let out = dir.path().join("out");
    run(&[
        "run",
        f.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    for file in ["summary.csv", "trajectories.csv"] {
        let mut rdr = csv::Reader::from_path(out.join(file)).unwrap();
        let h = rdr.headers().unwrap().clone();
        let col = |n: &str| {
            h.iter()
                .position(|c| c == n)
                .unwrap_or_else(|| panic!("{file}: {h:?}"))
        };
        // `eta` is also a column of summary.csv: the swept one is `swept_eta` in both.
        let (eta, a, r) = (col("swept_eta"), col("a"), col("r"));
        assert_eq!(
            (eta, a, r),
            (col("config") + 1, col("config") + 2, col("config") + 3)
        );
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let v = |c: usize| rec[c].parse::<f64>().unwrap();
            assert_eq!(v(r), v(a) / v(eta), "{file}: {rec:?}");
            rows += 1;
        }
        assert_eq!(rows, if file == "summary.csv" { 6 } else { 300 });
    }
    // Errors name the axis's field and say why.
    let bad = |from: &str, to: &str, field: &str, why: &str| {
        let err = sgd_escape::config::parse(&text.replace(from, to), Path::new("d.toml"), "d")
            .unwrap_err()
            .to_string();
        assert!(err.contains(field) && err.contains(why), "{err}");
    };
    bad(
        "a / dynamics.eta",
        "b / eta",
        "sweep.axis[2].formula",
        "unknown name `b`",
    );
    bad(
        "a / dynamics.eta",
        "a / (eta - 0.01)",
        "sweep.axis[2].formula",
        "must be finite",
    );
    bad(
        "path = \"noise.r\"\n",
        "",
        "sweep.axis[2].path",
        "needs the `path`",
    );
    bad("name = \"a\"\n", "", "sweep.axis[1].path", "or a `name`");
    bad(
        "formula = \"a / dynamics.eta\"",
        "formula = \"a / eta\"\nvalues = [1.0]",
        "sweep.axis[2].values",
        "exactly one of",
    );
}
