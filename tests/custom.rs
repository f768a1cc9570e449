//! A user's own objective and noise law (the types of `examples/custom_landscape`) through
//! everything the built-ins get: a sweep, a SIGKILL and resume, shards and merge, the
//! report, the theorem check, identity and versions, and clear refusals.
//!
//! This test has its own `main` (`harness = false`): started with `CUSTOM_TEST_CLI` set,
//! the binary is the user's program, the command line with the example's registry, so the
//! tests can run it as a separate process and kill it.

#[path = "../examples/custom_landscape/landscape.rs"]
mod landscape;

use landscape::{Triangular, Washboard};
use serde::{Deserialize, Serialize};
use sgd_escape::Registry;
use sgd_escape::noise::NoiseLaw;
use sgd_escape::objective::Objective;
use sgd_escape::registry::Custom;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant};

/// Set (to a registry's name) in the child process that plays the user's program.
const CHILD: &str = "CUSTOM_TEST_CLI";

/// 12 cells of the user's types, each a fraction of a second on two cores.
const SWEEP: &str = r#"
name = "custom_sweep"
seed = 5
trajectories = 6000
objective = { kind = "washboard", dim = 2, height = 0.5, period = 0.5, centre = [0.25, -0.25] }
noise = { law = "triangular", r = 4.0 }
dynamics = { eta = 0.05, steps = 600 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.4, stay_radius = 1.5 }
stats = { thresholds = { reach = 0.5 }, holm = true }

[[sweep.axis]]
path = "noise.r"
values = [0.0, 2.0, 4.0, 10.0]

[[sweep.axis]]
path = "dynamics.eta"
values = [0.02, 0.05, 0.1]
"#;

/// The washboard under version "2": same kind and parameters, another identity.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct WashboardV2(Washboard);

impl Custom for WashboardV2 {
    const KIND: &'static str = "washboard";
    const VERSION: &'static str = "2";
    fn checked(self) -> Result<Self, String> {
        self.0.checked().map(WashboardV2)
    }
}

impl Objective for WashboardV2 {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.0.value(x)
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        self.0.grad_into(x, grad)
    }
    fn target(&self) -> &[f64] {
        self.0.target()
    }
    fn lipschitz(&self) -> Option<f64> {
        self.0.lipschitz()
    }
}

/// Laplace coordinates with scale b, by inversion through the crate's own logarithm:
/// unbounded, so outside the theorem's assumptions.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Laplace {
    b: f64,
}

impl Custom for Laplace {
    const KIND: &'static str = "laplace";
    const VERSION: &'static str = "1";
}

impl NoiseLaw for Laplace {
    fn sample_into<R: rand::Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        use rand::RngExt;
        for o in out.iter_mut() {
            let u: f64 = rng.random::<f64>() - 0.5;
            let tail = sgd_escape::math::elementary::ln(1.0 - 2.0 * u.abs());
            *o = -self.b * u.signum() * tail;
        }
    }
    fn bound(&self, _dim: usize) -> Option<f64> {
        None
    }
}

/// The registries the child can play: the example's, and one with version 2 of the
/// washboard and the Laplace law.
fn registry(name: &str) -> Registry {
    match name {
        "v2" => Registry::new()
            .objective::<WashboardV2>()
            .noise_law::<Triangular>()
            .noise_law::<Laplace>(),
        _ => landscape::registry(),
    }
}

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(CHILD) {
        let args: Vec<OsString> = std::env::args_os().collect();
        return sgd_escape::cli::main_from(args, &registry(&name));
    }
    let tests: [(&str, fn()); 9] = [
        (
            "the_example_writes_what_a_builtin_run_writes",
            the_example_writes_what_a_builtin_run_writes,
        ),
        (
            "a_killed_sweep_resumes_to_the_same_bytes",
            a_killed_sweep_resumes_to_the_same_bytes,
        ),
        (
            "shards_merge_into_the_single_process_bytes",
            shards_merge_into_the_single_process_bytes,
        ),
        (
            "the_theorem_check_uses_the_types_constants",
            the_theorem_check_uses_the_types_constants,
        ),
        (
            "the_version_is_part_of_the_identity",
            the_version_is_part_of_the_identity,
        ),
        (
            "bad_sections_are_refused_with_field_and_reason",
            bad_sections_are_refused_with_field_and_reason,
        ),
        ("names_must_be_new", names_must_be_new),
        (
            "the_erased_law_draws_the_same_bits",
            the_erased_law_draws_the_same_bits,
        ),
        (
            "a_users_objective_runs_in_lanes_with_the_replays_bits",
            a_users_objective_runs_in_lanes_with_the_replays_bits,
        ),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failed = 0;
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let t0 = Instant::now();
        let ok = std::panic::catch_unwind(test).is_ok();
        println!(
            "test {name} ... {} ({:.1} s)",
            if ok { "ok" } else { "FAILED" },
            t0.elapsed().as_secs_f64()
        );
        failed += usize::from(!ok);
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{failed} test(s) failed");
        ExitCode::FAILURE
    }
}

/// The user's program (this binary as the child) with registry `name`.
fn user_program(name: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.env(CHILD, name);
    c
}

fn run_user(args: &[&str]) -> Output {
    user_program("example").args(args).output().unwrap()
}

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

fn cells_done(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cells")).map_or(0, |r| {
        r.flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(".json") && !n.starts_with('.')
            })
            .count()
    })
}

fn same_outputs(a: &Path, b: &Path) {
    for f in sgd_escape::sweep::FINAL_OUTPUTS {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x.len() > 100, "{f} is nearly empty");
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The files of a result directory, with the cells counted rather than named (their names
/// are the configurations' ids).
fn file_set(dir: &Path) -> (Vec<String>, usize) {
    let mut top: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    (top, cells_done(dir))
}

fn the_example_writes_what_a_builtin_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let text = include_str!("../examples/custom_landscape/experiment.toml");
    let mine = dir.path().join("mine");
    ok(
        run_user(&["run", "-q", "--out", s(&mine)]),
        "the example's default run",
    );
    // The same experiment with built-in kinds of the same shape (sweep, theorem section).
    let builtin_text = text
        .replace(
            r#"{ kind = "washboard", dim = 2, height = 0.5, period = 0.5, centre = [0.25, -0.25] }"#,
            r#"{ kind = "rastrigin", dim = 2, a = 0.25, w = 0.5 }"#,
        )
        .replace(r#"law = "triangular""#, r#"law = "cube""#);
    assert_ne!(builtin_text, text, "test setup: the kinds were replaced");
    let f = write(dir.path(), "builtin.toml", &builtin_text);
    let theirs = dir.path().join("theirs");
    let out = Command::new(env!("CARGO_BIN_EXE_sgd-escape"))
        .args(["run", s(&f), "-q", "--out", s(&theirs)])
        .output()
        .unwrap();
    ok(out, "the built-in run");
    assert_eq!(file_set(&mine), file_set(&theirs));
    let (top, cells) = file_set(&mine);
    for f in [
        "summary.csv",
        "trajectories.csv",
        "run.json",
        "theorem.csv",
        "theorem.json",
    ] {
        assert!(top.contains(&f.to_string()), "{f} missing: {top:?}");
    }
    assert_eq!(cells, 3);
    // The summary names the user's kinds, and run.json their identity.
    let summary = std::fs::read_to_string(mine.join("summary.csv")).unwrap();
    let row = summary.lines().nth(1).unwrap();
    assert!(row.contains(",washboard,2,triangular,0,"), "{row}");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(mine.join("run.json")).unwrap()).unwrap();
    let objective = &run["configs"][0]["spec"]["objective"];
    assert_eq!(objective["kind"], "washboard", "{objective}");
    assert_eq!(objective["version"], "1");
    assert_eq!(objective["params"]["height"], 0.5);
    // The report draws it like any result directory.
    let out = ok(run_user(&["report", s(&mine)]), "report");
    assert!(String::from_utf8_lossy(&out.stdout).contains("index.html"));
}

fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "custom_sweep.toml", SWEEP);
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    ok(
        run_user(&["run", s(&exp), "-q", "--out", s(&whole)]),
        "the whole sweep",
    );
    let spawn = || -> Child {
        user_program("example")
            .args(["run", s(&exp), "-q", "--threads", "2", "--out", s(&killed)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    for target in [0usize, 3, 7] {
        let mut child = spawn();
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
    }
    assert!(
        kills >= 2,
        "the sweep finished too fast to be interrupted ({kills} kills)"
    );
    let before = cells_done(&killed);
    let out = ok(
        run_user(&["run", s(&exp), "--out", s(&killed)]),
        "the resumed sweep",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{} cells computed, {before} resumed", 12 - before)),
        "{stdout}"
    );
    same_outputs(&whole, &killed);
}

fn shards_merge_into_the_single_process_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "custom_sweep.toml", SWEEP);
    let whole = dir.path().join("whole");
    ok(
        run_user(&["run", s(&exp), "-q", "--out", s(&whole)]),
        "the whole sweep",
    );
    let shards: Vec<PathBuf> = (0..3)
        .map(|k| dir.path().join(format!("shard{k}")))
        .collect();
    for (k, shard) in shards.iter().enumerate() {
        let spec = format!("{k}/3");
        let args = [
            "run",
            s(&exp),
            "-q",
            "--threads",
            "1",
            "--shard",
            &spec,
            "--out",
            s(shard),
        ];
        ok(run_user(&args), "a shard");
    }
    // Each cell in exactly one shard.
    assert_eq!(shards.iter().map(|s| cells_done(s)).sum::<usize>(), 12);
    // The built-in binary does not know the kinds: it refuses, saying why.
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|p| s(p).to_string()));
    args.extend(["--out".into(), s(&merged).into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_sgd-escape"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown variant `washboard`") && stderr.contains("this one adds none"),
        "{stderr}"
    );
    // The user's program merges them into the single-process bytes.
    let out = run_user(&args.iter().map(String::as_str).collect::<Vec<_>>());
    ok(out, "merge");
    same_outputs(&whole, &merged);
}

fn the_theorem_check_uses_the_types_constants() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[theorem]\nt2 = 200\nsamples = 60\ndraws = 200\ntraced = 4\n",
        SWEEP
            .replace("values = [0.0, 2.0, 4.0, 10.0]", "values = [10.0]")
            .replace("values = [0.02, 0.05, 0.1]", "values = [0.05]")
            .replace("trajectories = 6000", "trajectories = 500")
    );
    let exp = write(dir.path(), "theorem.toml", &text);
    let out = dir.path().join("t");
    ok(
        user_program("example")
            .args(["theorem", s(&exp), "--out", s(&out)])
            .output()
            .unwrap(),
        "theorem",
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("theorem.json")).unwrap()).unwrap();
    let text = json.to_string();
    // L from the type: 1 + 2π²h/w² with h = 0.5, w = 0.5.
    let l = 1.0 + 2.0 * std::f64::consts::PI.powi(2) * 0.5 / 0.25;
    assert!(
        text.contains(&format!("{l}")),
        "L = {l} not reported: {text}"
    );
    // r from the law's bound: 10·√2; bounded, so not refused as unbounded.
    assert!(
        text.contains(&format!("{}", 10.0 * 2f64.sqrt())),
        "r not reported: {text}"
    );
    assert!(!text.contains("unbounded"), "{text}");
    // An unbounded law of the user's own is reported outside the assumptions, by name.
    let laplace = text_with_law(
        &std::fs::read_to_string(&exp).unwrap(),
        r#"law = "laplace", b = 0.5"#,
    );
    let exp2 = write(dir.path(), "laplace.toml", &laplace);
    let out2 = dir.path().join("l");
    ok(
        user_program("v2")
            .args(["theorem", s(&exp2), "--out", s(&out2)])
            .output()
            .unwrap(),
        "theorem, laplace",
    );
    let csv = std::fs::read_to_string(out2.join("theorem.csv")).unwrap();
    assert!(csv.contains("the noise is unbounded (laplace)"), "{csv}");
}

fn text_with_law(text: &str, law: &str) -> String {
    let out = text.replace(r#"law = "triangular", r = 4.0"#, law);
    assert_ne!(out, text, "test setup: the law was replaced");
    out.replace(
        "path = \"noise.r\"\nvalues = [10.0]",
        "path = \"noise.b\"\nvalues = [0.5]",
    )
}

fn the_version_is_part_of_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let text = SWEEP
        .replace("values = [0.02, 0.05, 0.1]", "values = [0.05]")
        .replace("trajectories = 6000", "trajectories = 300");
    let exp = write(dir.path(), "v.toml", &text);
    let out = dir.path().join("v");
    ok(
        run_user(&["run", s(&exp), "-q", "--out", s(&out)]),
        "version 1",
    );
    // Same program again: everything is reused.
    let again = ok(
        run_user(&["run", s(&exp), "--out", s(&out)]),
        "version 1 again",
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 cells computed, 4 resumed"));
    // Version 2 of the type: nothing of version 1 is reused or mixed in.
    let v2 = user_program("v2")
        .args(["run", s(&exp), "--out", s(&out)])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&v2.stdout),
        String::from_utf8_lossy(&v2.stderr)
    );
    assert!(
        !said.contains("resumed") || said.contains("0 resumed"),
        "{said}"
    );
    assert!(
        !v2.status.success(),
        "a directory of version 1 must not be taken over: {said}"
    );
    let fresh = dir.path().join("v2");
    let v2 = user_program("v2")
        .args(["run", s(&exp), "-q", "--out", s(&fresh)])
        .output()
        .unwrap();
    ok(v2, "version 2 in its own directory");
    // Same numbers (the code is the same), another identity.
    let ids = |d: &Path| -> Vec<String> {
        let mut r = csv::Reader::from_path(d.join("summary.csv")).unwrap();
        let at = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "config_id")
            .unwrap();
        r.records()
            .map(|row| row.unwrap()[at].to_string())
            .collect()
    };
    assert_eq!(ids(&out).len(), 4);
    for (a, b) in ids(&out).iter().zip(ids(&fresh)) {
        assert_ne!(*a, b, "version 2 kept version 1's configuration id");
    }
}

fn bad_sections_are_refused_with_field_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to, field, reason) in [
        (
            "height = 0.5",
            "height = -0.5",
            "field `objective`",
            "height must be finite and ≥ 0",
        ),
        (
            "height = 0.5",
            "height = \"tall\"",
            "field `objective.height`",
            "invalid type: string",
        ),
        (
            "height = 0.5",
            "height = 0.5, depth = 1",
            "field `objective",
            "unknown field `depth`",
        ),
        (
            "centre = [0.25, -0.25]",
            "centre = [0.25]",
            "field `objective`",
            "centre must have 2",
        ),
        (
            "[0.0, 2.0, 4.0, 10.0]",
            "[0.0, -2.0]",
            "field `noise`",
            "r must be finite and ≥ 0, got -2",
        ),
        (
            "law = \"triangular\"",
            "law = \"triangle\"",
            "field `noise.law`",
            "or one this program adds: `triangular`",
        ),
        (
            "kind = \"washboard\"",
            "kind = \"washbord\"",
            "field `objective.kind`",
            "or one this program adds: `washboard`",
        ),
        (
            "dim = 2,",
            "dim = 0,",
            "field `objective`",
            "dim must lie in [1,",
        ),
    ] {
        assert!(SWEEP.contains(from), "test setup: {from}");
        let f = write(dir.path(), "bad.toml", &SWEEP.replacen(from, to, 1));
        let out = run_user(&["run", s(&f), "-q", "--out", s(&dir.path().join("never"))]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {stderr}");
        assert!(
            stderr.contains("bad.toml") && stderr.contains(field) && stderr.contains(reason),
            "{to}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!dir.path().join("never").exists());
    }
}

fn names_must_be_new() {
    #[derive(Serialize, Deserialize)]
    struct Ball;
    impl Custom for Ball {
        const KIND: &'static str = "ball";
        const VERSION: &'static str = "1";
    }
    impl NoiseLaw for Ball {
        fn sample_into<R: rand::Rng + ?Sized>(&self, _: &[f64], _: &mut R, out: &mut [f64]) {
            out.fill(0.0);
        }
        fn bound(&self, _: usize) -> Option<f64> {
            Some(0.0)
        }
    }
    // The expected panics, without their messages on the terminal.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let builtin = std::panic::catch_unwind(|| Registry::new().noise_law::<Ball>());
    let twice = std::panic::catch_unwind(|| {
        Registry::new()
            .noise_law::<Triangular>()
            .noise_law::<Triangular>()
    });
    std::panic::set_hook(hook);
    assert!(builtin.is_err(), "a built-in name was taken");
    assert!(twice.is_err(), "a name was registered twice");
    let reg = Registry::new()
        .objective::<Washboard>()
        .noise_law::<Triangular>();
    assert_eq!(
        (reg.objective_kinds(), reg.law_names()),
        (vec!["washboard"], vec!["triangular"])
    );
}

/// Draws through the registry's run-time interface equal the type's own generic draws, and
/// the wrapped objective's gradient equals the type's.
fn the_erased_law_draws_the_same_bits() {
    use rand::SeedableRng;
    let reg = landscape::registry();
    let table: toml::Table = toml::from_str("r = 1.5").unwrap();
    let erased = reg.build_law("triangular", table).unwrap().unwrap();
    let direct = Triangular { r: 1.5 };
    let (mut a, mut b) = (
        rand_pcg::Pcg64Mcg::seed_from_u64(9),
        rand_pcg::Pcg64Mcg::seed_from_u64(9),
    );
    let (mut x, mut y) = ([0.0; 5], [0.0; 5]);
    for _ in 0..1000 {
        erased.sample_into(&[0.0; 5], &mut a, &mut x);
        direct.sample_into(&[0.0; 5], &mut b, &mut y);
        assert_eq!(x.map(f64::to_bits), y.map(f64::to_bits));
    }
    assert_eq!(erased.bound(4), Some(3.0));
    let table: toml::Table = toml::from_str("dim = 3\nheight = 0.5\nperiod = 0.5").unwrap();
    let objective = reg
        .build_objective("washboard", table.clone())
        .unwrap()
        .unwrap();
    let own: Washboard = table.try_into().unwrap();
    let own = own.checked().unwrap();
    let p = [0.3, -1.7, 12.25];
    let (mut g, mut h) = ([0.0; 3], [0.0; 3]);
    objective.grad_into(&p, &mut g);
    own.grad_into(&p, &mut h);
    assert_eq!(g, h);
    assert_eq!(objective.value(&p).to_bits(), own.value(&p).to_bits());
}

/// A user's objective with a built-in law runs in SIMD lanes (its gradient lane by lane, the
/// noise in lanes) and ends each trajectory on the bits of the one-trajectory replay; with
/// the user's own law it runs one trajectory at a time. Every instruction set the CPU has
/// is covered by the lanes test's byte comparison; here the library's path on this CPU.
fn a_users_objective_runs_in_lanes_with_the_replays_bits() {
    let text = r#"
seed = 11
trajectories = 21
objective = { kind = "washboard", dim = 3, height = 0.5, period = 0.5 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
dynamics = { eta = 0.05, steps = 300 }
events = { reach_radius = 0.4, stay_radius = 1.0, stay_from = 150 }

[[config]]
label = "ball"
noise = { law = "ball", r = 6.0 }

[[config]]
label = "triangular"
noise = { law = "triangular", r = 3.0 }
"#;
    let e = landscape::registry()
        .parse(text, Path::new("lanes.toml"), "lanes")
        .unwrap_or_else(|e| panic!("{e}"));
    let checks: Vec<_> = e
        .configs
        .iter()
        .map(|c| c.replay_check(e.seed, 0..21))
        .collect();
    for (c, check) in e.configs.iter().zip(&checks) {
        assert_eq!(check.mismatch, None, "{}", c.label);
        assert_eq!(check.compared, 21, "{}", c.label);
    }
    assert_eq!(
        checks.iter().map(|c| c.in_lanes).collect::<Vec<_>>(),
        [true, false]
    );
}
