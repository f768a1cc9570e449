//! `run --format parquet`: the rows of `trajectories.csv`, typed, in a Parquet dataset
//! (`trajectories/`) whose files are the cells' own rows files (one copy on disk), with the
//! same bytes however the work was split, resumed or extended. Read back with the Rust
//! reader, and with pandas and pyarrow where a Python with both is found.
#![cfg(feature = "parquet")]

use arrow_array::{Array, BooleanArray, Float64Array, StringArray, UInt32Array, UInt64Array};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use common::{cli as sgd, cli_ok as ok};

/// 6 small cells with a stay event (nullable columns of every kind), two dimensions.
const SMALL: &str = r#"
name = "small"
seed = 11
trajectories = 700
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 150 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.5, stay_radius = 2.0 }
noise = { law = "ball", r = 10.0 }

[[sweep.axis]]
path = "noise.r"
values = [2.0, 8.0, 20.0]

[[sweep.axis]]
path = "dynamics.eta"
values = [0.02, 0.05]
"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("small.toml");
    std::fs::write(&f, text).unwrap();
    (dir, f)
}

/// [`SMALL`] run twice, rows as CSV and as Parquet: the scratch directory (kept while it
/// lives) and the two result directories.
fn both_formats() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, f) = setup(SMALL);
    let csv_dir = tmp.path().join("csv");
    let pq_dir = tmp.path().join("pq");
    ok(&["run", s(&f), "--out", s(&csv_dir), "-q"]);
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&pq_dir),
        "-q",
        "--format",
        "parquet",
    ]);
    (tmp, csv_dir, pq_dir)
}

/// The dataset's files, in name order, with their bytes.
fn dataset(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("trajectories"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Every value of the dataset as the text `trajectories.csv` holds for it (empty for null),
/// row by row.
fn dataset_as_text(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = Vec::new();
    let mut rows = Vec::new();
    for name in dataset(dir).keys() {
        for b in
            sgd_escape::output::parquet::read_file(&dir.join("trajectories").join(name)).unwrap()
        {
            header = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let cols: Vec<Vec<String>> = b
                .columns()
                .iter()
                .map(|c| {
                    let any = c.as_any();
                    (0..c.len())
                        .map(|i| {
                            if c.is_null(i) {
                                String::new()
                            } else if let Some(a) = any.downcast_ref::<StringArray>() {
                                a.value(i).to_string()
                            } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
                                a.value(i).to_string()
                            } else if let Some(a) = any.downcast_ref::<UInt32Array>() {
                                a.value(i).to_string()
                            } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
                                (if a.value(i) { "TRUE" } else { "FALSE" }).to_string()
                            } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                                // Compared by bits below; the text is the CSV's parse target.
                                format!("{:x}", a.value(i).to_bits())
                            } else {
                                panic!("unexpected column type {:?}", c.data_type())
                            }
                        })
                        .collect()
                })
                .collect();
            for i in 0..b.num_rows() {
                rows.push(cols.iter().map(|c| c[i].clone()).collect());
            }
        }
    }
    (header, rows)
}

/// `trajectories.csv` in the same text form (floats as their bits).
fn csv_as_text(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rd = csv::Reader::from_path(dir.join("trajectories.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let floats: Vec<bool> = header
        .iter()
        .map(|h| {
            ![
                "config",
                "index",
                "first_hit",
                "stayed",
                "first_exit",
                "diverged_at",
                "rng",
                "numerics",
            ]
            .contains(&h.as_str())
        })
        .collect();
    let rows = rd
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .zip(&floats)
                .map(|(v, &float)| {
                    if float && !v.is_empty() {
                        format!("{:x}", v.parse::<f64>().unwrap().to_bits())
                    } else {
                        v.to_string()
                    }
                })
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn parquet_rows_equal_the_csv_rows_typed_and_are_kept_once() {
    let (_tmp, csv_dir, pq_dir) = both_formats();
    // The summary does not depend on the rows' format.
    assert_eq!(
        std::fs::read(csv_dir.join("summary.csv")).unwrap(),
        std::fs::read(pq_dir.join("summary.csv")).unwrap()
    );
    assert!(!pq_dir.join("trajectories.csv").exists());
    let (h_csv, r_csv) = csv_as_text(&csv_dir);
    let (h_pq, r_pq) = dataset_as_text(&pq_dir);
    assert_eq!(h_csv, h_pq, "the same columns in the same order");
    assert_eq!(r_csv.len(), 6 * 700);
    assert_eq!(r_csv, r_pq, "the same values, row by row");
    // Every kind of empty cell occurs, and is a null in Parquet.
    for col in ["first_hit", "first_exit"] {
        let i = h_csv.iter().position(|h| h == col).unwrap();
        assert!(r_pq.iter().any(|r| r[i].is_empty()), "{col} has no null");
        assert!(r_pq.iter().any(|r| !r[i].is_empty()), "{col} is all null");
    }
    // One copy: each dataset file is a hard link to its cell's rows file.
    use std::os::unix::fs::MetadataExt;
    let cells: Vec<PathBuf> = std::fs::read_dir(pq_dir.join("cells"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".trajectories.parquet"))
        .collect();
    assert_eq!(cells.len(), 6);
    let cell_inodes: Vec<u64> = cells
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().ino())
        .collect();
    for name in dataset(&pq_dir).keys() {
        let m = std::fs::metadata(pq_dir.join("trajectories").join(name)).unwrap();
        assert_eq!(m.nlink(), 2, "{name}");
        assert!(
            cell_inodes.contains(&m.ino()),
            "{name} is not a cell's file"
        );
    }
}

#[test]
fn parquet_bytes_do_not_depend_on_threads_shards_resume_or_extension() {
    // One cell large enough to be split into parts (more than 2^18 trajectories), so that
    // the dataset has several files for it and batches cross chunk boundaries.
    let big = SMALL
        .replace("trajectories = 700", "trajectories = 300000")
        .replace("steps = 150", "steps = 4")
        .replace("values = [2.0, 8.0, 20.0]", "values = [8.0]")
        .replace("values = [0.02, 0.05]", "values = [0.05]");
    let (tmp, f) = setup(&big);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&one),
        "-q",
        "-j",
        "1",
        "--format",
        "parquet",
    ]);
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&two),
        "-q",
        "-j",
        "2",
        "--format",
        "parquet",
    ]);
    let reference = dataset(&one);
    assert_eq!(reference.len(), 2, "two parts, two files");
    assert_eq!(reference, dataset(&two), "1 and 2 threads");

    // Shards merged.
    let (tmp, f) = setup(SMALL);
    let whole = tmp.path().join("whole");
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&whole),
        "-q",
        "--format",
        "parquet",
    ]);
    let reference = dataset(&whole);
    let shards: Vec<PathBuf> = (0..3).map(|k| tmp.path().join(format!("s{k}"))).collect();
    for (k, d) in shards.iter().enumerate() {
        let shard = format!("{k}/3");
        ok(&[
            "run",
            s(&f),
            "--out",
            s(d),
            "-q",
            "--shard",
            &shard,
            "--format",
            "parquet",
        ]);
    }
    let merged = tmp.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| s(d)));
    args.extend(["--out", s(&merged)]);
    ok(&args);
    assert_eq!(reference, dataset(&merged), "3 shards merged");

    // Resumed: a rerun computes nothing and rebuilds the same dataset.
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&whole),
        "-q",
        "--format",
        "parquet",
    ]);
    assert_eq!(reference, dataset(&whole), "rerun");

    // Extended in place: the dataset is replaced by the extended sweep's, as from scratch.
    let wider = SMALL.replace("values = [0.02, 0.05]", "values = [0.02, 0.05, 0.08]");
    std::fs::write(&f, &wider).unwrap();
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&whole),
        "-q",
        "--format",
        "parquet",
    ]);
    let fresh = tmp.path().join("fresh");
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&fresh),
        "-q",
        "--format",
        "parquet",
    ]);
    assert_eq!(dataset(&fresh).len(), 9);
    assert_eq!(dataset(&fresh), dataset(&whole), "extended = from scratch");
    let leftovers: Vec<String> = std::fs::read_dir(&whole)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
}

#[test]
fn a_directory_keeps_one_rows_format_and_foreign_files_are_never_removed() {
    let (tmp, f) = setup(SMALL);
    let d = tmp.path().join("pq");
    ok(&["run", s(&f), "--out", s(&d), "-q", "--format", "parquet"]);
    let out = sgd(&["run", s(&f), "--out", s(&d), "-q"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("run with --format parquet"), "{err}");
    // Shards run in different formats are refused by merge, each directory kept as it was.
    let (a, b, m) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("m"),
    );
    ok(&[
        "run",
        s(&f),
        "--out",
        s(&a),
        "-q",
        "--shard",
        "0/2",
        "--format",
        "parquet",
    ]);
    ok(&["run", s(&f), "--out", s(&b), "-q", "--shard", "1/2"]);
    let out = sgd(&["merge", s(&a), s(&b), "--out", s(&m)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot merge") && err.contains("rows as csv, not parquet"),
        "{err}"
    );
    assert!(!m.join("summary.csv").exists() && !m.join("trajectories").exists());
    // The format also comes from SGD_ESCAPE_FORMAT (how Slurm tasks get it): a rerun with it
    // resumes, and a fresh run with it writes the same dataset.
    let with_env = |dir: &Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sgd-escape"))
            .args(["run", s(&f), "--out", s(dir), "-q"])
            .env("SGD_ESCAPE_FORMAT", "parquet")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    with_env(&d);
    let fresh = tmp.path().join("env");
    with_env(&fresh);
    assert_eq!(dataset(&fresh), dataset(&d));
    // --no-trajectories means no rows in any format: refused in a directory that has them.
    let out = sgd(&[
        "run",
        s(&f),
        "--out",
        s(&d),
        "-q",
        "--format",
        "parquet",
        "--no-trajectories",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("was started with per-trajectory rows"),
        "{err}"
    );

    // A file of the user's in trajectories/: the dataset is not replaced, the file is kept.
    let mine = d.join("trajectories").join("notes.txt");
    std::fs::write(&mine, "mine").unwrap();
    let out = sgd(&["run", s(&f), "--out", s(&d), "-q", "--format", "parquet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("notes.txt, which sgd-escape did not write"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
    std::fs::remove_file(&mine).unwrap();
    ok(&["run", s(&f), "--out", s(&d), "-q", "--format", "parquet"]);
}

#[test]
fn pandas_reads_the_dataset_as_the_csv_with_typed_columns() {
    let Some(py) = common::python() else {
        eprintln!("skipped: no Python with pandas and pyarrow (set SGD_ESCAPE_PYTHON)");
        return;
    };
    let (_tmp, csv_dir, pq_dir) = both_formats();
    let script = r#"
import sys, pandas as pd
c = pd.read_csv(sys.argv[1] + "/trajectories.csv", float_precision="round_trip",
                dtype_backend="numpy_nullable")
p = pd.read_parquet(sys.argv[2] + "/trajectories", dtype_backend="numpy_nullable")
assert list(c.columns) == list(p.columns), (list(c.columns), list(p.columns))
assert len(c) == len(p) == 4200, (len(c), len(p))
assert str(p["index"].dtype) == "UInt64", p["index"].dtype
assert str(p["first_hit"].dtype) == "UInt64", p["first_hit"].dtype
assert str(p["stayed"].dtype) == "boolean", p["stayed"].dtype
assert str(p["numerics"].dtype) == "UInt32", p["numerics"].dtype
for col in c.columns:
    a, b = c[col], p[col]
    if col in ("config", "rng"):
        assert (a.astype(str) == b.astype(str)).all(), col
    else:
        assert (a.isna() == b.isna()).all(), col
        assert (a[a.notna()].astype("float64") == b[b.notna()].astype("float64")).all(), col
# Plain pd.read_parquet (no options) reads it too, in the same row order.
q = pd.read_parquet(sys.argv[2] + "/trajectories")
assert (q["index"].to_numpy() == c["index"].to_numpy()).all()
assert (q["config"].astype(str).to_numpy() == c["config"].astype(str).to_numpy()).all()
print("ok", len(p))
"#;
    assert_eq!(
        common::script_ok(&py, &["-c", script, s(&csv_dir), s(&pq_dir)]),
        "ok 4200"
    );
}

#[test]
fn report_draws_the_final_points_from_the_dataset_as_from_the_csv() {
    let (_tmp, csv_dir, pq_dir) = both_formats();
    ok(&["report", s(&csv_dir)]);
    ok(&["report", s(&pq_dir)]);
    let svg = |d: &Path| std::fs::read(d.join("plots").join("final_points.svg")).unwrap();
    assert_eq!(svg(&csv_dir), svg(&pq_dir));
    let html = std::fs::read_to_string(pq_dir.join("index.html")).unwrap();
    assert!(
        html.contains("href=\"trajectories/\""),
        "the dataset is not linked"
    );
    // A dataset whose rows are not the summary's is refused, naming it.
    let first = dataset(&pq_dir).into_keys().next().unwrap();
    std::fs::remove_file(pq_dir.join("trajectories").join(&first)).unwrap();
    let out = sgd(&["report", s(&pq_dir)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("trajectories: ") && err.contains("not from the run"),
        "{err}"
    );
}
