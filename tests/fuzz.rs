//! Fuzzing on the stable toolchain: mutated experiment files and cell files go through
//! parsing, validation and size checks (and, for files that pass, the cell bookkeeping and a
//! short simulation), and mutated or forged cell files through `read_cell` and the summary.
//! Nothing may panic, abort or hang: each input runs on its own thread with a time limit.
//!
//! `SGD_ESCAPE_FUZZ_CASES` sets the number of inputs per target (default 1500, the CI run;
//! the README gives the count run by hand).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sgd_escape::pipeline::{CellBody, read_cell, units};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Per-input time limit.
const LIMIT: Duration = Duration::from_secs(10);

fn cases() -> u32 {
    std::env::var("SGD_ESCAPE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// A deterministic runner of `cases()` inputs.
fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// Runs `f` on a fresh thread (2 MiB stack, smaller than the main thread's); a panic or a
/// time-out fails the test with the input.
fn guarded(input: String, f: fn(&str)) {
    let (tx, rx) = mpsc::channel();
    let text = input.clone();
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            f(&text);
            let _ = tx.send(());
        })
        .unwrap();
    match rx.recv_timeout(LIMIT) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = handle.join();
            panic!("panicked on input:\n{input}");
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no answer within {LIMIT:?} on:\n{input}"),
    }
}

/// Seed files: every shipped experiment and a few edge cases.
fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    v.sort();
    v.push(
        r#"trajectories = 10
objective = { kind = "wells", dim = 2, wells = [{ depth = 1.0, width = 0.3, centre = [1.0, 1.0] }] }
noise = { law = "gaussian", sigma = 0.5 }
dynamics = { schedule = [{ eta = 0.1, steps = 5 }, { eta = 0.01, steps = 5 }], noise_entry = "point" }
init = { kind = "ball", centre = [0.5, 0.5], radius = 1.0 }
events = { reach_radius = 0.5, stay_radius = 1.0, stay_from = 2, stay_to = 10 }
stats = { method = "jeffreys", level = 0.99, thresholds = { reach = 0.5, stay = 0.1 }, holm = true, adaptive = { epsilon = 0.1, batch = 5 } }
"#
        .into(),
    );
    v
}

/// Tokens the mutator splices in: extremes, structure, and deep nesting.
const TOKENS: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "0",
    "-1",
    "0.0",
    "\"\"",
    "[]",
    "{}",
    "[[config]]\nlabel = \"z\"\n",
    "[[sweep.axis]]\npath = \"noise.r\"\nlin = [0.0, 1.0, 3]\n",
    "[[sweep.axis]]\npath = \"dynamics.eta\"\nlog = [1e-3, 1.0, 1000000]\n",
    "[theorem]\nsamples = 5\n",
    "[stats]\nlevel = 1e-17\n",
    "dim = 1000000",
    "trajectories = 4000000000",
    "steps = 9223372036854775807",
    "objective = { kind = \"spiky\" }",
    "noise = { law = \"none\" }",
    "label = \"a\"",
    "=",
    "\n",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
];

/// One edit of a text.
#[derive(Debug, Clone)]
enum Edit {
    /// Insert a token at a relative position.
    Insert(f64, usize),
    /// Delete a span.
    Delete(f64, usize),
    /// Replace the n-th number with a token.
    Number(usize, usize),
    /// Overwrite a byte (kept valid UTF-8 by mapping to ASCII).
    Byte(f64, u8),
    /// Nest brackets deeply at a position.
    Nest(f64, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0, 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        (0.0..1.0, 1usize..40).prop_map(|(p, n)| Edit::Delete(p, n)),
        (0usize..60, 0..TOKENS.len()).prop_map(|(i, t)| Edit::Number(i, t)),
        (0.0..1.0, 32u8..127).prop_map(|(p, b)| Edit::Byte(p, b)),
        (0.0..1.0, 1usize..100_000).prop_map(|(p, d)| Edit::Nest(p, d)),
    ]
}

fn char_floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, e: &Edit) -> String {
    let at = |s: &str, p: f64| char_floor(s, (p * s.len() as f64) as usize);
    match *e {
        Edit::Insert(p, t) => {
            let i = at(&s, p);
            s.insert_str(i, TOKENS[t]);
        }
        Edit::Delete(p, n) => {
            let i = at(&s, p);
            let j = char_floor(&s, i + n);
            s.replace_range(i..j, "");
        }
        Edit::Number(k, t) => {
            let bytes = s.as_bytes();
            let mut starts = (0..bytes.len()).filter(|&i| {
                bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            });
            if let Some(i) = starts.nth(k) {
                let j = (i..bytes.len())
                    .find(|&j| !(bytes[j].is_ascii_alphanumeric() || b".+-_".contains(&bytes[j])))
                    .unwrap_or(bytes.len());
                s.replace_range(i..j, TOKENS[t]);
            }
        }
        Edit::Byte(p, b) => {
            let i = at(&s, p);
            if i < s.len() {
                let j = char_floor(&s, i + 1)
                    .max(i + s[i..].chars().next().map_or(1, |c| c.len_utf8()));
                s.replace_range(i..j.min(s.len()), &(b as char).to_string());
            }
        }
        Edit::Nest(p, d) => {
            let i = at(&s, p);
            let nest = format!("x = {}1{}\n", "[".repeat(d), "]".repeat(d));
            s.insert_str(i, &nest);
        }
    }
    s
}

/// What the tool does with an experiment file before (and, for tiny ones, while) running.
fn experiment_target(text: &str) {
    let Ok(exp) = sgd_escape::config::parse(text, Path::new("fuzz.toml"), "fuzz") else {
        return;
    };
    let all = units(&exp);
    let _ = sgd_escape::sweep::manifest(&exp, text, &Default::default(), Some(Default::default()));
    let _ = sgd_escape::config::limits::estimate(&exp);
    // A short simulation of the first trajectories where it is cheap.
    for spec in exp.configs.iter().take(3) {
        let cost = spec.steps().saturating_mul(spec.dim() as u64);
        if cost <= 20_000 {
            let _ = spec.run(exp.seed, 0..spec.trajectories.min(4));
        }
    }
    assert!(!all.is_empty());
}

#[test]
fn mutated_experiment_files_never_panic_or_hang() {
    let seeds = corpus();
    let mut runner = runner();
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..6));
    runner
        .run(&strategy, |(i, edits)| {
            let text = edits.iter().fold(seeds[i].clone(), apply);
            guarded(text, experiment_target);
            Ok(())
        })
        .unwrap();
}

/// A valid cell file of a small experiment, to mutate.
fn cell_seed() -> (String, Vec<u8>) {
    let text = r#"
trajectories = 50
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.1, steps = 20 }
init = { kind = "ball", radius = 2.0 }
events = { reach_radius = 0.5, stay_radius = 1.0 }
"#;
    let exp = sgd_escape::config::parse(text, Path::new("c.toml"), "c").unwrap();
    let unit = units(&exp).remove(0);
    let spec = &exp.configs[0];
    let (accumulator, stopped) = sgd_escape::run::simulate_cell(spec, exp.seed, None, |_| {});
    let body = CellBody {
        tool: "sgd-escape".into(),
        key: unit.key.clone(),
        label: spec.label.clone(),
        stopped,
        accumulator,
        rows: None,
        elapsed_s: 0.5,
    };
    (text.to_string(), body.to_bytes())
}

/// Reads a (possibly forged) cell file and, if it validates, summarises it.
fn cell_target(input: &str) {
    let (text, bytes) = input.split_once('\u{1}').expect("experiment, cell");
    let exp = sgd_escape::config::parse(text, Path::new("c.toml"), "c").unwrap();
    let unit = units(&exp).remove(0);
    let spec = &exp.configs[0];
    if let Ok(body) = read_cell(bytes.as_bytes(), &unit, spec) {
        let s = body
            .accumulator
            .summarize(spec.steps(), &exp.stats, body.stopped);
        assert!(s.n == body.accumulator.n);
    }
}

#[test]
fn mutated_and_forged_cell_files_never_panic() {
    let (text, seed) = cell_seed();
    let seed = String::from_utf8(seed).unwrap();
    let mut runner = runner();
    // Half the inputs are re-checksummed after the edit (a forgery the checksum cannot
    // catch), so the content checks and the summary see hostile numbers too.
    let strategy = (prop::collection::vec(edit(), 1..6), any::<bool>());
    runner
        .run(&strategy, |(edits, forge)| {
            let mut cell = edits.iter().fold(seed.clone(), apply);
            if forge && let Ok(file) = serde_json::from_str::<sgd_escape::pipeline::CellFile>(&cell)
            {
                cell = String::from_utf8(file.cell.to_bytes()).unwrap();
            }
            guarded(format!("{text}\u{1}{cell}"), cell_target);
            Ok(())
        })
        .unwrap();
}
