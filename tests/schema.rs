//! `run.json` against its JSON Schema (`docs/run.schema.json`): every shipped one, and fresh
//! ones of each shape (thresholds under Holm, an adaptive cell, more than 100 cells, a
//! diverging run); and the schema is strict enough to refuse a broken file.

mod common;

use serde_json::Value;
use std::path::Path;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo("docs/run.schema.json")).unwrap()).unwrap();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "not a valid JSON Schema"
    );
    jsonschema::draft202012::new(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_run_json_validates_against_the_schema() {
    let v = validator();
    let mut shipped = 0;
    for entry in std::fs::read_dir(repo("results")).unwrap().flatten() {
        let path = entry.path().join("run.json");
        if path.exists() {
            let e = errors(&v, &read(&path));
            assert!(e.is_empty(), "{}: {e:#?}", path.display());
            shipped += 1;
        }
    }
    assert!(shipped >= 10, "{shipped} shipped run.json files");

    let dir = tempfile::tempdir().unwrap();
    let base = r#"
name = "shape"
seed = 9223372036854775807
trajectories = 300
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
init = { kind = "ball", radius = 3.0 }
dynamics = { eta = 0.1, steps = 100 }
events = { reach_radius = 1.0, stay_radius = 2.0 }
"#;
    let shapes = [
        (
            "holm",
            format!(
                "{base}stats = {{ thresholds = {{ reach = 0.5, stay = 0.9 }}, holm = true }}\n\
                 [[sweep.axis]]\npath = \"noise.r\"\nvalues = [0.5, 1.0, 4.0]\n"
            ),
        ),
        (
            "adaptive",
            format!(
                "{base}stats = {{ thresholds = {{ reach = 0.5 }}, adaptive = {{ batch = 100 }} }}\n"
            ),
        ),
        (
            "many",
            format!(
                "{}[[sweep.axis]]\npath = \"noise.r\"\nlin = [0.1, 2.0, 101]\n",
                base.replace("trajectories = 300", "trajectories = 20")
            ),
        ),
        (
            "diverging",
            base.replace("eta = 0.1", "eta = 100.0")
                .replace("law = \"ball\", r = 1.0", "law = \"none\""),
        ),
    ];
    for (name, text) in &shapes {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = dir.path().join(name);
        common::cli_ok(&[
            "run",
            file.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]);
        let doc = read(&out.join("run.json"));
        let e = errors(&v, &doc);
        assert!(e.is_empty(), "{name}: {e:#?}");
        // Each shape is what it claims to be.
        let configs = doc["configs"].as_array().unwrap();
        match *name {
            "holm" => assert!(configs[0]["summary"]["stay"]["decision"]["adjusted_p"].is_number()),
            "adaptive" => assert!(configs[0]["summary"]["stopped"].is_string()),
            "many" => assert!(configs.len() == 101 && configs[0].get("summary").is_none()),
            _ => assert!(configs[0]["summary"]["diverged"].as_u64().unwrap() > 0),
        }
    }

    // Strict enough to fail: a missing field, a wrong type, an unknown verdict, an
    // unexpected field.
    let good = read(&dir.path().join("holm/run.json"));
    type Edit = fn(&mut Value);
    let broken: [(&str, Edit); 4] = [
        ("no configs", |d| {
            d.as_object_mut().unwrap().remove("configs");
        }),
        ("seed as text", |d| d["experiment"]["seed"] = "1".into()),
        ("a verdict that does not exist", |d| {
            d["configs"][0]["summary"]["reach"]["decision"]["verdict"] = "maybe".into()
        }),
        ("an unknown field", |d| {
            d["configs"][0]["summary"]["extra"] = 1.into()
        }),
    ];
    for (what, edit) in broken {
        let mut doc = good.clone();
        edit(&mut doc);
        assert!(!v.is_valid(&doc), "{what} passed");
    }
}

/// A seed is written as text (`42u64`) that pandas and R load as text by default, however
/// large; written back into the experiment file or `--seed` it runs the same experiment as
/// the integer; booleans load as booleans.
#[test]
fn seeds_load_as_text_and_run_again_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str, extra: &[&str]| {
        let f = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &f,
            format!(
                r#"
name = "seeds"
seed = {seed}
trajectories = 50
objective = {{ kind = "quadratic", dim = 2, k = 1.0 }}
noise = {{ law = "ball", r = 1.0 }}
init = {{ kind = "ball", radius = 3.0 }}
dynamics = {{ eta = 0.1, steps = 100 }}
events = {{ reach_radius = 1.0, stay_radius = 2.0 }}
"#
            ),
        )
        .unwrap();
        let out = dir.path().join(name);
        let mut args = vec![
            "run",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend(extra);
        let o = common::cli(&args);
        (out, o)
    };
    let summary = |out: &Path| std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let ok = |name: &str, seed: &str, extra: &[&str]| {
        let (out, o) = run(name, seed, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };

    let small = summary(&ok("int", "42", &[]));
    assert!(small.lines().nth(1).unwrap().contains(",42u64,"), "{small}");
    assert_eq!(summary(&ok("text", "\"42u64\"", &[])), small);
    assert_eq!(summary(&ok("flag", "7", &["--seed", "42u64"])), small);
    // Above 2^63 only the text form fits in TOML; the flag takes either form.
    let max = ok("max", "\"18446744073709551615u64\"", &[]);
    let large = summary(&max);
    assert_ne!(large, small);
    assert!(large.contains(",18446744073709551615u64,"), "{large}");
    assert_eq!(
        summary(&ok("maxflag", "1", &["--seed", "18446744073709551615"])),
        large
    );
    for (bad, says) in [
        ("-1", "invalid value: integer `-1`, expected a seed"),
        ("\"0x2a\"", "`0x2a` is not a seed"),
        (
            "\"18446744073709551616u64\"",
            "the largest is 18446744073709551615u64",
        ),
    ] {
        let (_, o) = run("bad", bad, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("seed") && err.contains(says),
            "{bad}: {err}"
        );
    }
    let o = common::cli(&["run", "--seed", "2e3", "--help"]);
    assert!(!o.status.success(), "--seed 2e3 was taken");

    let (csv, rows) = (max.join("summary.csv"), max.join("trajectories.csv"));
    if let Some(py) = common::python() {
        let script = r#"
import sys, pandas as pd
s, t = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
assert pd.api.types.is_string_dtype(s["seed"]), s["seed"].dtype
assert s["seed"].tolist() == ["18446744073709551615u64"], s["seed"].tolist()
assert str(t["stayed"].dtype) == "bool", t["stayed"].dtype
print("ok")
"#;
        assert_eq!(
            common::script_ok(&py, &["-c", script, s(&csv), s(&rows)]),
            "ok"
        );
    } else {
        eprintln!("pandas part skipped: no Python with pandas and pyarrow (set SGD_ESCAPE_PYTHON)");
    }
    if let Some(r) = common::rscript() {
        let script = r#"
a <- commandArgs(TRUE); s <- read.csv(a[1]); t <- read.csv(a[2])
stopifnot(is.character(s$seed), identical(s$seed, "18446744073709551615u64"), is.logical(t$stayed))
cat("ok")
"#;
        assert_eq!(
            common::script_ok(r, &["-e", script, s(&csv), s(&rows)]),
            "ok"
        );
    } else {
        eprintln!("R part skipped: no Rscript");
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
