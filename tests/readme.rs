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

/// The README's command lines: lines of its `sh` code blocks (commands; output is in `text`
/// blocks) and inline code spans that start with one of `starts`.
fn commands(readme: &str, starts: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_block = false;
    let mut shell = false;
    for line in readme.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            in_block = !in_block;
            assert!(
                !in_block || !lang.trim().is_empty(),
                "a README code block without a language: commands go in `sh` blocks, output in `text`"
            );
            shell = in_block && lang.trim() == "sh";
            continue;
        }
        if in_block {
            if shell && starts.iter().any(|s| line.trim_start().starts_with(s)) {
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

/// Commands (or names of commands in the text) the README shows that are not run, with the
/// reason: `(text, exact)`, matched exactly or as the start of a command.
const NOT_RUN: &[(&str, bool, &str)] = &[
    (
        "cargo test",
        false,
        "the tests themselves: .ci/run runs `cargo test --release` before this",
    ),
    ("cargo doc --open", true, "opens a browser"),
    (
        ".venv/bin/python -m pytest python/tests",
        false,
        "the Python package's tests: .ci/run runs them before this",
    ),
    (
        "cargo build --release --no-default-features",
        true,
        "a second full build without the default features (about 7 min on 2 cores)",
    ),
    (
        "cargo bench --bench",
        false,
        "criterion benchmarks, about 10 minutes: .ci/run compiles them (cargo bench --no-run)",
    ),
    (
        "cargo fuzz",
        true,
        "named as what the stable toolchain lacks",
    ),
    ("bash -n", true, "named in the text"),
    (
        "scripts/slurm/submit.sh",
        false,
        "needs a Slurm cluster: tests/sweeps.rs submits through it to the local one .ci/run starts",
    ),
    (
        "scripts/slurm/local-cluster.sh",
        true,
        "run by .ci/run before the tests (it needs root)",
    ),
    (
        "sgd-escape convexity",
        true,
        "the command named in the text; `sgd-escape convexity experiments/digits.toml` runs",
    ),
    (
        "sgd-escape bench --experiment",
        true,
        "the option named in the text; `sgd-escape bench --experiment experiments/bench_mlp.toml -j 2` runs",
    ),
    (
        "cargo run --release --example custom_landscape -- bench --experiment",
        true,
        "the option named in the text",
    ),
];

/// Whether a command is a synopsis (a usage line with placeholders), not a command to run:
/// it has `[`, `…` or `...`, or an upper-case placeholder such as FILE, DIR, K/N or PATH/.
fn is_synopsis(command: &str) -> bool {
    let command = command.split(" #").next().unwrap_or(command);
    command.contains(['[', '…'])
        || command.contains("...")
        || command.split_whitespace().any(|w| {
            w.split(['/', '=']).any(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    && part.as_bytes()[0].is_ascii_uppercase()
            })
        })
}

/// The files of the repository as a fresh clone has them, with uncommitted changes (tracked
/// and untracked files that git does not ignore), copied into `to`.
fn copy_repository(to: &Path) {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(repo("."))
        .output()
        .expect("git");
    assert!(out.status.success(), "git ls-files");
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let from = repo(name);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
}

/// Every command the README shows, run as written, in order, after its set-up commands:
/// `cargo run --release -- run`, then `cargo install --path .` (into a scratch install root
/// put first on the PATH, so every later `sgd-escape …` runs the installed binary). They run
/// in a copy of the repository (in the repository itself with
/// `SGD_ESCAPE_README_IN_PLACE=1`, as .ci/run does on its fresh clone), with HOME in a scratch
/// directory, the build shared through CARGO_TARGET_DIR (a copy's in `target/readme-copy`:
/// built outside git, it records no commit), and SGD_ESCAPE_PYTHON's directory
/// (a Python with NumPy, pandas and pyarrow) on the PATH. Synopses and the commands of
/// [`NOT_RUN`] are listed with the reason and not run.
#[test]
#[ignore = "runs every README command (a few minutes, and a build): .ci/run runs it"]
fn every_command_in_the_readme_runs_as_written() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let shown = commands(
        &readme,
        &[
            "sgd-escape ",
            "cargo ",
            "bash ",
            "make ",
            "mkdir ",
            "python3 ",
            "scripts/",
            ".venv/",
        ],
    );
    let scratch = tempfile::tempdir().unwrap();
    let root = if std::env::var_os("SGD_ESCAPE_README_IN_PLACE").is_some_and(|v| v == "1") {
        repo(".")
    } else {
        let root = scratch.path().join("repo");
        copy_repository(&root);
        root
    };
    let home = scratch.path().join("home");
    let install = scratch.path().join("install");
    std::fs::create_dir_all(&home).unwrap();
    let real_home = std::env::var("HOME").unwrap_or_default();
    let var_or = |v: &str, d: String| std::env::var(v).unwrap_or(d);
    let mut path = vec![install.join("bin")];
    if let Ok(py) = std::env::var("SGD_ESCAPE_PYTHON") {
        path.push(Path::new(&py).parent().unwrap().to_path_buf());
    }
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();
    // A copy is not a git checkout: its build records no commit, so it gets a target
    // directory of its own rather than leave that build where the checkout's would be reused.
    let target = if root == repo(".") {
        var_or(
            "CARGO_TARGET_DIR",
            repo("target").to_string_lossy().into_owned(),
        )
    } else {
        repo("target/readme-copy").to_string_lossy().into_owned()
    };

    let mut seen = BTreeSet::new();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for command in shown {
        if !seen.insert(command.clone()) {
            continue;
        }
        let skip = NOT_RUN
            .iter()
            .find(|(text, exact, _)| {
                if *exact {
                    command == *text
                } else {
                    command.starts_with(text)
                }
            })
            .map(|(_, _, why)| why.to_string())
            .or_else(|| is_synopsis(&command).then(|| "a synopsis (placeholders)".to_string()))
            .or_else(|| {
                (command.starts_with("scripts/") && !command.contains(' '))
                    .then(|| "a file named in the text".to_string())
            });
        if let Some(why) = skip {
            report.push(format!("not run   {command}   ({why})"));
            continue;
        }
        let log = scratch.path().join("log");
        let t0 = std::time::Instant::now();
        let mut child = Command::new("bash")
            .args(["-c", &command])
            .current_dir(&root)
            .env("HOME", &home)
            .env(
                "CARGO_HOME",
                var_or("CARGO_HOME", format!("{real_home}/.cargo")),
            )
            .env(
                "RUSTUP_HOME",
                var_or("RUSTUP_HOME", format!("{real_home}/.rustup")),
            )
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_INSTALL_ROOT", &install)
            .env("PATH", &path)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
            .spawn()
            .unwrap();
        let limit = std::time::Duration::from_secs(1200);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if t0.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let secs = t0.elapsed().as_secs_f64();
        match status {
            Some(s) if s.success() => report.push(format!("ok {secs:6.1} s  {command}")),
            _ => {
                let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
                let tail: Vec<&str> = err.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                report.push(format!("FAILED {secs:6.1} s  {command}"));
                failures.push(format!(
                    "{command}: {}\n{}",
                    status.map_or("timed out".to_string(), |s| s.to_string()),
                    tail.join("\n")
                ));
            }
        }
    }
    println!("{}", report.join("\n"));
    let ran = report.iter().filter(|r| r.starts_with("ok")).count();
    assert!(
        failures.is_empty(),
        "README commands failed:\n{}",
        failures.join("\n\n")
    );
    assert!(ran > 25, "only {ran} commands ran");
}
