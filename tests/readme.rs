//! The README's commands against the tool as built: every `sgd-escape …` command the README
//! shows (in code blocks and inline, `cargo run --release -- …` included) names a command
//! that exists and only options that command takes, and every repository path a command
//! names exists (scripts parse with `bash -n`). This checks what is written, not what each
//! command computes: the commands themselves run in the other tests.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sgd-escape");

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The README's command lines: lines of its plain code blocks and inline code spans that
/// start with one of `starts`.
fn commands(readme: &str, starts: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_block = false;
    let mut plain = false;
    for line in readme.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            in_block = !in_block;
            plain = in_block && lang.trim().is_empty();
            continue;
        }
        if in_block {
            if plain && starts.iter().any(|s| line.trim_start().starts_with(s)) {
                found.push(line.trim().to_string());
            }
            continue;
        }
        // Inline spans: text between pairs of backticks.
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && starts.iter().any(|s| span.starts_with(s)) {
                found.push(span.to_string());
            }
        }
    }
    found
}

/// A command's words, without a trailing comment, an `&& …` continuation or redirections.
fn words(command: &str) -> Vec<String> {
    let command = command.split(" #").next().unwrap_or(command);
    command
        .split_whitespace()
        .take_while(|w| !matches!(*w, "&&" | "|" | ">" | ">>" | ";"))
        .map(|w| {
            w.trim_matches(|c| c == '[' || c == ']' || c == '…')
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The options `sgd-escape SUBCOMMAND --help` lists (long and short forms).
fn options_of(sub: &str) -> BTreeSet<String> {
    let out = Command::new(BIN).args([sub, "--help"]).output().unwrap();
    assert!(out.status.success(), "sgd-escape {sub} --help");
    let mut options = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        for w in line.split([' ', ',', '=', '<']) {
            if w.starts_with('-') && w.len() > 1 {
                options.insert(w.to_string());
            }
        }
    }
    options
}

#[test]
fn every_command_in_the_readme_names_what_exists() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let shown = commands(
        &readme,
        &[
            "sgd-escape ",
            "cargo run --release -- ",
            "scripts/",
            "bash scripts/",
        ],
    );
    assert!(shown.len() > 40, "{} commands found", shown.len());
    let mut known: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut checked = 0;
    for command in &shown {
        let w = words(command);
        // The sgd-escape arguments: after `sgd-escape` or `cargo run --release --`.
        let args: &[String] = match w.iter().position(|x| x == "sgd-escape" || x == "--") {
            Some(p) if w[0] != "scripts/slurm/submit.sh" => &w[p + 1..],
            _ => &[],
        };
        if let Some(sub) = args.first().filter(|s| !s.starts_with('-')) {
            let options = known.entry(sub.clone()).or_insert_with(|| options_of(sub));
            assert!(!options.is_empty(), "{command:?}: no command {sub:?}");
            for a in &args[1..] {
                if a.starts_with('-') && !a.starts_with("--=") {
                    let name = a.split('=').next().unwrap();
                    assert!(
                        options.contains(name),
                        "{command:?}: `sgd-escape {sub}` has no option {name} ({options:?})"
                    );
                }
            }
            checked += 1;
        }
        // Paths into the repository that a command reads.
        for a in &w {
            let a = a.split('=').next_back().unwrap();
            let reads = ["experiments/", "scripts/", "benches/", "examples/", "docs/"];
            if reads.iter().any(|r| a.starts_with(r)) && !a.contains(['*', '<', '…']) {
                let path = repo(a.trim_end_matches(['.', ',', ')', ':']));
                assert!(path.exists(), "{command:?}: {a} does not exist");
                if a.ends_with(".sh") || a.ends_with(".sbatch") {
                    let ok = Command::new("bash").arg("-n").arg(&path).status().unwrap();
                    assert!(ok.success(), "bash -n {a}");
                }
            }
        }
    }
    assert!(checked > 30, "{checked} sgd-escape commands checked");
}
