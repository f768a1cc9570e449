//! The reference throughput workloads W1–W3 (`experiments/bench.toml`) and the side-by-side
//! comparisons with the NumPy peer (`benches/numpy_peer`) and the C kernel
//! (`benches/c_kernel`).

use crate::config;
use crate::dynamics::Schedule;
use crate::experiment::{ConfigSpec, Experiment};
use crate::output::progress::ProgressMode;
use crate::stats::{Proportion, StatsSpec, summarize};
use crate::sweep::{self, LockMode, Overrides, ResultDir, SweepOptions};
use anyhow::{Context, bail};
use std::path::Path;
use std::time::Instant;

/// The workload file, embedded so `bench` runs from any directory.
pub const BENCH_TOML: &str = include_str!("../experiments/bench.toml");

/// The three workloads as an experiment (configurations W1, W2, W3).
pub fn workloads() -> Experiment {
    config::parse(
        BENCH_TOML,
        Path::new("<embedded experiments/bench.toml>"),
        "bench",
    )
    .expect("the embedded bench experiment is valid")
}

/// One workload's measurement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    /// W1, W2 or W3.
    pub workload: String,
    /// d.
    pub dim: usize,
    /// N.
    pub trajectories: u64,
    /// T.
    pub steps: u64,
    /// Worker threads.
    pub threads: usize,
    /// Wall times of the repetitions (s).
    pub times_s: Vec<f64>,
    /// Median wall time (s).
    pub median_s: f64,
    /// N·T·d / median time.
    pub coord_updates_per_s: f64,
    /// For minibatch SGD, N·T·B / median time: examples whose gradient was computed per
    /// second (the work of the final summaries, such as each trajectory's final loss, is
    /// in the time but not in the count).
    pub examples_per_s: Option<f64>,
    /// P(reach) with its 95% Wilson interval.
    pub reach: Proportion,
    /// P(stayed) with its 95% Wilson interval, when a stay event is defined.
    pub stay: Option<Proportion>,
}

/// Runs `spec` `repeats` times on `threads` threads (0: all cores) and reports the median.
pub fn measure(
    spec: &ConfigSpec,
    seed: u64,
    threads: usize,
    repeats: usize,
) -> anyhow::Result<BenchResult> {
    measure_in(&pool(threads)?, spec, seed, repeats)
}

/// A rayon pool of `threads` threads (0: all cores).
pub fn pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?)
}

/// Runs `spec` `repeats` times on `pool` and reports the median.
pub fn measure_in(
    pool: &rayon::ThreadPool,
    spec: &ConfigSpec,
    seed: u64,
    repeats: usize,
) -> anyhow::Result<BenchResult> {
    let mut times = Vec::new();
    let mut outcomes = Vec::new();
    for _ in 0..repeats.max(1) {
        // The last repetition's outcomes are freed before the clock starts, not inside the
        // next repetition's time (one thread frees them all, which would read as poor scaling).
        drop(std::mem::take(&mut outcomes));
        let t0 = Instant::now();
        outcomes = pool.install(|| spec.run(seed, 0..spec.trajectories));
        times.push(t0.elapsed().as_secs_f64());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median_s = sorted[sorted.len() / 2];
    let summary = summarize(&outcomes, spec.steps(), &StatsSpec::default(), None);
    Ok(BenchResult {
        workload: spec.label.clone(),
        dim: spec.dim(),
        trajectories: spec.trajectories,
        steps: spec.steps(),
        threads: pool.current_num_threads(),
        times_s: times,
        median_s,
        coord_updates_per_s: (spec.trajectories * spec.steps() * spec.dim() as u64) as f64
            / median_s,
        examples_per_s: spec
            .noise
            .minibatch()
            .map(|m| (spec.trajectories * spec.steps()) as f64 * m.batch as f64 / median_s),
        reach: summary.reach.probability,
        stay: summary.stay.map(|s| s.probability),
    })
}

/// A fresh directory under the system's temporary directory, removed (with what the run
/// wrote into it) when dropped: the bench never touches a directory it did not make.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("sgd-escape-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts a new peak of this process's resident memory (Linux: `/proc/self/clear_refs`),
/// so that [`crate::config::limits::peak_rss_mb`] reads the peak from now on.
fn reset_peak_rss() -> anyhow::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
        .context("resetting the peak memory (/proc/self/clear_refs; Linux only)")
}

/// Peak resident memory (MiB) of `spec` run as `run --no-trajectories` does (streaming,
/// into a temporary directory) with `n` trajectories of `t` steps at its final step size.
pub fn peak_memory_mb(
    exp: &Experiment,
    spec: &ConfigSpec,
    n: u64,
    t: u64,
    threads: usize,
) -> anyhow::Result<f64> {
    let mut spec = spec.clone();
    spec.trajectories = n;
    spec.schedule = Schedule::constant(spec.schedule.final_eta(), t);
    let mut exp = exp.clone();
    exp.configs = vec![spec];
    let scratch = Scratch::new()?;
    let dir = ResultDir::open(&scratch.0.join("run"), LockMode::Exclusive)?;
    let opts = SweepOptions {
        threads,
        shard: None,
        rows: None,
        progress: ProgressMode::Quiet,
        stop: None,
    };
    reset_peak_rss()?;
    sweep::run(&exp, "", &Overrides::default(), &opts, &dir)?;
    crate::config::limits::peak_rss_mb().context("no peak memory reading on this platform")
}

/// Wall time (s) of `binary run -q --no-trajectories -j THREADS` on `file`, into a
/// temporary directory: how the bench times another build of sgd-escape against this one.
pub fn time_run(binary: &Path, file: &Path, threads: usize) -> anyhow::Result<f64> {
    let scratch = Scratch::new()?;
    let t0 = Instant::now();
    let out = std::process::Command::new(binary)
        .args([
            "run",
            "-q",
            "--no-trajectories",
            "-j",
            &threads.to_string(),
            "--out",
        ])
        .arg(scratch.0.join("run"))
        .arg(file)
        .output()
        .with_context(|| format!("starting {}", binary.display()))?;
    let elapsed = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(elapsed)
}

/// Runs the NumPy peer (`numpy_sgd.py WORKLOAD --rho alt`) and returns its JSON line.
pub fn numpy_peer(
    script: &Path,
    workload: &str,
    repeats: usize,
) -> anyhow::Result<serde_json::Value> {
    let dir = script.parent().unwrap_or(Path::new("."));
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(
        script
            .file_name()
            .context("the NumPy script path has no file name")?,
    )
    .args([
        workload,
        "--rho",
        "alt",
        "--repeats",
        &repeats.max(1).to_string(),
    ])
    .current_dir(dir);
    peer_json(&mut cmd, &format!("python3 {}", script.display()))
}

/// Runs a peer program and returns the last JSON line it prints; a failure to start, a
/// failing exit (with its standard error) or no JSON line is an error naming `what`.
fn peer_json(cmd: &mut std::process::Command, what: &str) -> anyhow::Result<serde_json::Value> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("no JSON line from {what}"))?;
    Ok(serde_json::from_str(line)?)
}

/// The median of `v` (sorted in place; NaN for none).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Whether the C kernel of `benches/c_kernel` can run here: it is built with
/// `-march=native` for AVX-512 and takes eight trajectories per register.
pub fn c_kernel_runs_here() -> Result<(), String> {
    let isas: Vec<&str> = crate::isa::Isa::available()
        .iter()
        .map(|i| i.name())
        .collect();
    if isas.contains(&"avx512") {
        Ok(())
    } else {
        Err(format!(
            "the C kernel needs AVX-512, which this CPU lacks (it has: {})",
            isas.join(", ")
        ))
    }
}

/// Runs the built C kernel on `workload` with `threads` OpenMP threads
/// (`BINARY WORKLOAD --rho alt --repeats R`) and returns its coordinate-updates per second
/// (over the median of its `repeats` in-process repetitions).
pub fn c_kernel(
    binary: &Path,
    workload: &str,
    threads: usize,
    repeats: usize,
) -> anyhow::Result<f64> {
    let mut cmd = std::process::Command::new(binary);
    cmd.args([
        workload,
        "--rho",
        "alt",
        "--repeats",
        &repeats.max(1).to_string(),
    ])
    .env("OMP_NUM_THREADS", threads.to_string());
    let json = peer_json(&mut cmd, &format!("the C kernel {}", binary.display()))?;
    json["coord_updates_per_s"]
        .as_f64()
        .context("the C kernel's JSON lacks coord_updates_per_s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_kernel_runner_reads_the_json_line_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sgd_c");
        // A stand-in printing what the C kernel prints: a JSON line after other output,
        // with the thread count it was given.
        std::fs::write(
            &fake,
            "#!/bin/sh\necho starting\necho \"{\\\"workload\\\": \\\"$1\\\", \\\"coord_updates_per_s\\\": $OMP_NUM_THREADS.5e8}\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(c_kernel(&fake, "W2", 2, 1).unwrap(), 2.5e8);
        std::fs::write(&fake, "#!/bin/sh\necho broken >&2\nexit 3\n").unwrap();
        let err = c_kernel(&fake, "W2", 2, 1).unwrap_err().to_string();
        assert!(err.contains("broken"), "{err}");
        assert!(c_kernel(&dir.path().join("missing"), "W1", 1, 1).is_err());
        let mut v = [3.0, 1.0, 2.0];
        assert_eq!(median(&mut v), 2.0);
    }
}
