//! Nothing mixed, nothing lost: cells carry everything that determines their numbers and are
//! validated on every read (resume, merge, report); result directories are locked, ours
//! alone, and free of stale temporaries.

use sgd_escape::pipeline::{CellFile, units};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

/// 6 small cells, with per-trajectory rows.
const SMALL: &str = r#"
name = "small"
seed = 7
trajectories = 300
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 200 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.5, stay_radius = 2.0 }
noise = { law = "ball", r = 10.0 }
stats = { thresholds = { reach = 0.5 } }

[[sweep.axis]]
path = "noise.r"
values = [2.0, 8.0, 20.0]

[[sweep.axis]]
path = "dynamics.eta"
values = [0.02, 0.05]
"#;

use common::{cli as sgd, cli_ok as ok};

fn fails(args: &[&str], want: &str) -> String {
    let out = sgd(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(err.contains(want), "{args:?}: expected {want:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("small.toml");
    std::fs::write(&f, text).unwrap();
    (dir, f)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn cell_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

fn read_cell(path: &Path) -> CellFile {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Rewrites a cell file with a valid checksum after `edit` (a forgery the checksum cannot
/// catch, so the content checks must).
fn forge(path: &Path, edit: impl FnOnce(&mut CellFile)) {
    let mut f = read_cell(path);
    edit(&mut f);
    std::fs::write(path, f.cell.to_bytes()).unwrap();
}

#[test]
fn a_cell_of_another_seed_is_never_reused_or_merged() {
    let (dir, f) = setup(SMALL);
    let a = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--out", s(&a)]);
    // Without the manifest, another seed used to resume every cell under the new seed's name.
    std::fs::remove_file(a.join("sweep.json")).unwrap();
    let out = ok(&["run", s(&f), "--seed", "8", "--out", s(&a)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("6 cells computed, 0 resumed"), "{stdout}");
    let b = dir.path().join("b");
    ok(&["run", s(&f), "-q", "--seed", "8", "--out", s(&b)]);
    for name in ["summary.csv", "trajectories.csv"] {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
    // A shard's cell replaced by the same cell computed under another seed: merge refuses.
    let (s0, s1, s1_other) = (
        dir.path().join("s0"),
        dir.path().join("s1"),
        dir.path().join("s1_other"),
    );
    ok(&["run", s(&f), "-q", "--shard", "0/2", "--out", s(&s0)]);
    ok(&["run", s(&f), "-q", "--shard", "1/2", "--out", s(&s1)]);
    ok(&[
        "run",
        s(&f),
        "-q",
        "--shard",
        "1/2",
        "--seed",
        "9",
        "--out",
        s(&s1_other),
    ]);
    let victim = cell_files(&s1)[0].clone();
    let name = victim.file_name().unwrap();
    std::fs::copy(s1_other.join("cells").join(name), &victim).unwrap();
    let merged = dir.path().join("merged");
    let err = fails(
        &["merge", s(&s0), s(&s1), "--out", s(&merged)],
        "computed for seed 9",
    );
    assert!(err.contains(&name.to_string_lossy().into_owned()), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn damaged_or_foreign_cells_are_recomputed_on_resume_and_refused_by_merge() {
    let (dir, f) = setup(SMALL);
    let good = dir.path().join("good");
    ok(&["run", s(&f), "-q", "--out", s(&good)]);
    // A hand edit (checksum), a copy under another cell's name (identity), impossible counts
    // with a forged checksum (k > n, diverged > n), a truncated rows file.
    type Damage = fn(&[PathBuf]);
    let damages: [(&str, Damage); 5] = [
        ("checksum", |c| {
            let text = std::fs::read_to_string(&c[0]).unwrap();
            std::fs::write(&c[0], text.replacen("\"reach_k\":", "\"reach_k\":1", 1)).unwrap();
        }),
        ("computed for configuration", |c| {
            std::fs::copy(&c[2], &c[1]).unwrap();
        }),
        ("reach_k", |c| {
            forge(&c[2], |c| {
                c.cell.accumulator.reach_k = c.cell.accumulator.n + 1
            })
        }),
        ("diverged", |c| {
            forge(&c[3], |c| {
                c.cell.accumulator.diverged = c.cell.accumulator.n + 5
            })
        }),
        ("truncated", |c| {
            let rows = c[4].with_extension("trajectories.csv");
            let bytes = std::fs::read(&rows).unwrap();
            std::fs::write(&rows, &bytes[..bytes.len() / 2]).unwrap();
        }),
    ];
    for (i, (want, damage)) in damages.iter().enumerate() {
        let a = dir.path().join(format!("a{i}"));
        copy_dir(&good, &a);
        damage(&cell_files(&a));
        // Merge refuses it, naming the file.
        let err = fails(
            &[
                "merge",
                s(&a),
                "--out",
                s(&dir.path().join(format!("m{i}"))),
            ],
            want,
        );
        assert!(err.contains(".json") || err.contains(".csv"), "{err}");
        // Resume says so, recomputes exactly that cell, to the same bytes as a clean run.
        let out = ok(&["run", s(&f), "--out", s(&a)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stdout.contains("1 cells computed, 5 resumed"),
            "{want}: {stdout}"
        );
        assert_eq!(stderr.matches("computing it again").count(), 1, "{stderr}");
        for name in ["summary.csv", "trajectories.csv"] {
            assert_eq!(
                std::fs::read(a.join(name)).unwrap(),
                std::fs::read(good.join(name)).unwrap()
            );
        }
    }
    // The same cell in two merge inputs is refused.
    let (s0, s1) = (dir.path().join("s0"), dir.path().join("s1"));
    ok(&["run", s(&f), "-q", "--shard", "0/2", "--out", s(&s0)]);
    ok(&["run", s(&f), "-q", "--shard", "1/2", "--out", s(&s1)]);
    let c = cell_files(&s0)[0].clone();
    std::fs::copy(&c, s1.join("cells").join(c.file_name().unwrap())).unwrap();
    let rows = c.with_extension("trajectories.csv");
    std::fs::copy(&rows, s1.join("cells").join(rows.file_name().unwrap())).unwrap();
    fails(
        &["merge", s(&s0), s(&s1), "--out", s(&dir.path().join("m"))],
        "refusing to merge the same cell twice",
    );
    fails(&["merge", s(&s0), s(&s0)], "given twice");
}

#[test]
fn the_parts_of_a_split_cell_must_tile_it() {
    // 600,000 trajectories of one step: three parts.
    let text = r#"
name = "big"
trajectories = 600000
objective = { kind = "quadratic", dim = 1, k = 1.0 }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.1, steps = 1 }
init = { kind = "point", point = 1.0 }
events = { reach_radius = 0.5 }
"#;
    let (dir, f) = setup(text);
    let a = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--no-trajectories", "--out", s(&a)]);
    let parts = cell_files(&a);
    assert_eq!(parts.len(), 3);
    // Part 1 replaced by part 0 (overlap and gap): refused, and recomputed on resume.
    std::fs::copy(&parts[0], &parts[1]).unwrap();
    fails(
        &["merge", s(&a), "--out", s(&dir.path().join("m"))],
        "computed for trajectories 0..262144, this run needs 262144..524288",
    );
    let out = ok(&["run", s(&f), "--no-trajectories", "--out", s(&a)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 cells computed, 2 resumed"));
}

#[test]
fn adaptive_cells_under_holm_stay_settled_and_record_their_level() {
    let text = r#"
name = "adaptive_holm"
seed = 3
trajectories = 20000
objective = { kind = "quadratic", dim = 1, k = 1.0 }
dynamics = { eta = 0.1, steps = 50 }
init = { kind = "point", point = 2.0 }
events = { reach_radius = 0.3 }
stats = { thresholds = { reach = 0.5 }, holm = true, adaptive = { batch = 200 } }
noise = { law = "ball", r = 1.0 }

[[sweep.axis]]
path = "noise.r"
lin = [1.0, 10.0, 10]
"#;
    let exp = common::experiment(text);
    assert_eq!(exp.decisions(), 10);
    let report = sgd_escape::pipeline::execute(&exp, 2).unwrap();
    let mut settled = 0;
    for r in &report.results {
        let d = r.summary.reach.decision.as_ref().unwrap();
        if r.summary.stopped == Some(sgd_escape::stats::StopReason::Settled) {
            settled += 1;
            assert_ne!(
                d.verdict,
                sgd_escape::stats::decision::Verdict::Inconclusive,
                "{}: stopped as settled, inconclusive after Holm ({d:?})",
                r.spec.label
            );
            assert!(d.adjusted_p.unwrap() <= 0.05);
        }
    }
    assert!(settled >= 8, "{settled} of 10 settled");
    // The level is part of each cell's identity: α/m with m = 10.
    let all = units(&exp);
    let rule = all[0].key.stop.as_ref().unwrap();
    assert_eq!(rule.decisions, 10);
    assert!((rule.decision_alpha - 0.005).abs() < 1e-15);
    // A directory computed with m = 10 is not reused when m changes: the cells are
    // recomputed (here through a new manifest: the experiment changed too).
    let (dir, f) = setup(text);
    let out = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--no-trajectories", "--out", s(&out)]);
    let first = read_cell(&cell_files(&out)[0]);
    assert_eq!(first.cell.key.stop.as_ref().unwrap().decisions, 10);
    std::fs::remove_file(out.join("sweep.json")).unwrap();
    let no_holm = text.replace("holm = true", "holm = false");
    std::fs::write(&f, no_holm).unwrap();
    let run = ok(&["run", s(&f), "--no-trajectories", "--out", s(&out)]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("10 cells computed, 0 resumed"), "{stdout}");
}

#[test]
fn report_draws_exactly_the_verdicts_of_summary_csv() {
    let text = SMALL.replace(
        "stats = { thresholds = { reach = 0.5 } }",
        "stats = { thresholds = { reach = 0.6, stay = 0.9 }, holm = true }",
    );
    let (dir, f) = setup(&text);
    let a = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--no-trajectories", "--out", s(&a)]);
    ok(&["report", s(&a)]);
    let summary = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(summary.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (rv, sv) = (col("reach_verdict"), col("stay_verdict"));
    let mut want = std::collections::BTreeMap::<String, usize>::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for c in [rv, sv] {
            *want.entry(rec[c].to_string()).or_default() += 1;
        }
    }
    let svg = std::fs::read_to_string(a.join("plots/probabilities.svg")).unwrap();
    let count = |fill: &str| svg.matches(&format!("fill=\"{fill}\"")).count();
    // Verdict markers are filled shapes in Okabe–Ito colours (legend samples are outlines).
    let got = [
        ("holds", count("#009E73")),
        ("violated", count("#D55E00")),
        ("inconclusive", count("#E69F00")),
    ];
    for (verdict, n) in got {
        assert_eq!(
            n,
            want.get(verdict).copied().unwrap_or(0),
            "{verdict}: plot vs summary.csv {want:?}"
        );
    }
    // And the report's data are the summary's bytes.
    let locked =
        sgd_escape::sweep::ResultDir::open(&a, sgd_escape::sweep::LockMode::Exclusive).unwrap();
    let (_, run) = sgd_escape::sweep::load(&locked, &sgd_escape::Registry::new()).unwrap();
    use sgd_escape::output::Exporter;
    assert_eq!(
        sgd_escape::output::SummaryCsv.render(&run).unwrap(),
        summary.as_bytes()
    );
}

#[test]
fn a_result_directory_has_one_writer() {
    let (dir, f) = setup(SMALL);
    let a = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--out", s(&a)]);
    // Held by another process (here: this one), a second writer is refused.
    let held =
        sgd_escape::sweep::ResultDir::open(&a, sgd_escape::sweep::LockMode::Exclusive).unwrap();
    fails(
        &["run", s(&f), "-q", "--out", s(&a)],
        "in use by another sgd-escape process",
    );
    fails(&["report", s(&a)], "in use by another");
    drop(held);
    // Two experiments started together into one directory: exactly one succeeds, and the
    // directory is consistent with it.
    let g = dir.path().join("other.toml");
    std::fs::write(&g, SMALL.replace("seed = 7", "seed = 70")).unwrap();
    let b = dir.path().join("b");
    let spawn = |file: &Path| {
        Command::new(BIN)
            .args(["run", s(file), "-q", "--out", s(&b)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (p, q) = (spawn(&f), spawn(&g));
    let (p, q) = (p.wait_with_output().unwrap(), q.wait_with_output().unwrap());
    let wins = [&p, &q].iter().filter(|o| o.status.success()).count();
    assert!(wins >= 1, "neither ran");
    if wins == 1 {
        let loser = if p.status.success() { &q } else { &p };
        let err = String::from_utf8_lossy(&loser.stderr);
        assert!(
            err.contains("in use by another") || err.contains("different experiment"),
            "{err}"
        );
    }
    // Whatever the interleaving, sweep.json and summary.csv describe the same experiment.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("sweep.json")).unwrap()).unwrap();
    let seed = if manifest["source_text"]
        .as_str()
        .unwrap()
        .contains("seed = 70")
    {
        "70"
    } else {
        "7"
    };
    let summary = std::fs::read_to_string(b.join("summary.csv")).unwrap();
    for line in summary.lines().skip(1) {
        assert!(line.contains(&format!(",{seed}u64,")), "{line}");
    }
}

#[test]
fn files_that_are_not_ours_are_never_touched() {
    let (dir, f) = setup(SMALL);
    // A user's directory holding a summary.csv of their own.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("summary.csv"), "my,data\n1,2\n").unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    fails(&["run", s(&f), "-q", "--out", s(&mine)], "not ours");
    let (s0, s1) = (dir.path().join("s0"), dir.path().join("s1"));
    ok(&["run", s(&f), "-q", "--shard", "0/2", "--out", s(&s0)]);
    ok(&["run", s(&f), "-q", "--shard", "1/2", "--out", s(&s1)]);
    fails(&["merge", s(&s0), s(&s1), "--out", s(&mine)], "not ours");
    fails(&["theorem", s(&f), "--out", s(&mine)], "not ours");
    assert_eq!(
        std::fs::read_to_string(mine.join("summary.csv")).unwrap(),
        "my,data\n1,2\n"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 2);
    // A directory with unrelated files only is usable, and they stay.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("notes.txt"), "keep me").unwrap();
    ok(&["run", s(&f), "-q", "--out", s(&shared)]);
    assert_eq!(
        std::fs::read_to_string(shared.join("notes.txt")).unwrap(),
        "keep me"
    );
    // A `cells` symlink leading out of the directory is not followed.
    #[cfg(unix)]
    {
        let out = dir.path().join("linked");
        let elsewhere = dir.path().join("elsewhere");
        ok(&["run", s(&f), "-q", "--out", s(&out)]);
        std::fs::remove_dir_all(out.join("cells")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("cells")).unwrap();
        fails(&["run", s(&f), "-q", "--out", s(&out)], "symbolic link");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
    // The shipped result directories (run.json, no sweep.json) are ours.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/quickstart/run.json");
    let copy = dir.path().join("shipped");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(&shipped, copy.join("run.json")).unwrap();
    std::fs::write(copy.join("summary.csv"), "old").unwrap();
    ok(&["run", s(&f), "-q", "--out", s(&copy)]);
}

#[test]
fn stale_temporaries_of_a_killed_run_are_removed() {
    let (dir, f) = setup(SMALL);
    let a = dir.path().join("a");
    ok(&["run", s(&f), "-q", "--out", s(&a)]);
    // What a kill during final assembly leaves: temporaries of our names with a dead pid.
    for p in [
        a.join(".summary.csv.tmp-4000001"),
        a.join(".trajectories.csv.tmp-4000001"),
        a.join("cells/.abc.json.tmp-4000001"),
    ] {
        std::fs::write(&p, "partial").unwrap();
    }
    std::fs::write(a.join(".my-own.tmp-file"), "user's").unwrap();
    ok(&["run", s(&f), "-q", "--out", s(&a)]);
    let left: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .chain(std::fs::read_dir(a.join("cells")).unwrap())
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert_eq!(left, vec![".my-own.tmp-file".to_string()]);
}

#[test]
fn calibrate_never_writes_over_a_coverage_csv_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("coverage.csv"), "mine\n").unwrap();
    fails(
        &["calibrate", "--replicates", "10", "--out", s(dir.path())],
        "not written by sgd-escape calibrate",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("coverage.csv")).unwrap(),
        "mine\n"
    );
}

/// Rows written before the swept parameters had columns (rows layout 1) are never mixed
/// with today's: resume computes their cell again, merge refuses it naming the file.
#[test]
fn rows_of_an_older_layout_are_recomputed_on_resume_and_refused_by_merge() {
    let (dir, f) = setup(SMALL);
    let (a, merged) = (dir.path().join("a"), dir.path().join("merged"));
    ok(&["run", s(&f), "-q", "--out", s(&a)]);
    let header = |d: &Path| {
        std::fs::read_to_string(d.join("trajectories.csv"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        header(&a).starts_with("config,r,swept_eta,index,"),
        "{}",
        header(&a)
    );
    let victim = cell_files(&a)[0].clone();
    forge(&victim, |c| c.cell.rows.as_mut().unwrap().layout = 1);
    let err = fails(&["merge", s(&a), "--out", s(&merged)], "rows layout 1");
    assert!(
        err.contains(&*victim.file_stem().unwrap().to_string_lossy()),
        "{err}"
    );
    let out = ok(&["run", s(&f), "--out", s(&a)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 cells computed, 5 resumed"), "{stdout}");
    assert_eq!(
        read_cell(&victim).cell.rows.unwrap().layout,
        sgd_escape::pipeline::ROWS_LAYOUT
    );
}
