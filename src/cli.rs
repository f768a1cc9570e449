//! The command line: `sgd-escape`, or a user's own program with the kinds its
//! [`Registry`] adds (the same commands, files and checks).
//!
//! ```no_run
//! // The whole of src/main.rs.
//! fn main() -> std::process::ExitCode {
//!     sgd_escape::cli::main(&sgd_escape::Registry::new())
//! }
//! ```

use crate::config::{self, ConfigError};
use crate::experiment::Experiment;
use crate::output::progress::ProgressMode;
use crate::output::{Exporter, RowsFormat, render_table};
use crate::registry::Registry;
use crate::stats::{Method, planning};
use crate::sweep::{self, LockMode, Overrides, ResultDir, Shard, SweepOptions};
use crate::{bench, calibrate, output, rng};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The experiment `run` uses without a file, unless the registry sets another: the paper's
/// spiky-function figure.
const DEFAULT_EXPERIMENT: &str = include_str!("../experiments/spiky.toml");

#[derive(Parser)]
#[command(
    name = "sgd-escape",
    version = crate::LONG_VERSION,
    about = "Monte Carlo checks of when SGD escapes local minima (Kleinberg, Li & Yuan 2018)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment file (default: the paper's spiky-function experiment).
    Run {
        /// Experiment file (TOML). Without it, the embedded experiments/spiky.toml runs (or
        /// the program's own default experiment).
        file: Option<PathBuf>,
        #[command(flatten)]
        common: ExperimentArgs,
        /// Do not write per-trajectory rows (trajectories.csv or trajectories/), whatever
        /// the format.
        #[arg(long)]
        no_trajectories: bool,
        /// The per-trajectory rows: `csv` (trajectories.csv) or `parquet` (trajectories/, a
        /// Parquet dataset of typed, compressed files, kept once on disk). From the
        /// environment too, so that every task of a Slurm array gets it.
        #[arg(long, value_enum, value_name = "FORMAT", env = "SGD_ESCAPE_FORMAT")]
        format: Option<RowsFormat>,
        /// Run only the cells with index i mod N = K (K from 0), e.g. on one node of a
        /// cluster; `sgd-escape merge` assembles the shards.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
        /// Print nothing but errors (no progress bars).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Plot a result directory (SVG) and write an index.html with the plots and the summary.
    Report {
        /// A result directory written by `run` (or `merge`).
        dir: PathBuf,
    },
    /// Merge the result directories of shards into the outputs one machine would have written.
    Merge {
        /// Result directories (from `run --shard K/N`).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged outputs (default: the first directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check Theorem 1 on every configuration of an experiment: bounds, assumption checks,
    /// verdicts, slack and effective constants (uses the file's `[theorem]` section).
    Theorem {
        /// Experiment file (TOML).
        file: PathBuf,
        #[command(flatten)]
        common: ExperimentArgs,
    },
    /// The paper's Section 5 measurements along SGD trajectories (uses the file's
    /// `[convexity]` section, or its defaults): convexity.csv, convexity_epochs.csv,
    /// convexity.json.
    Convexity {
        /// Experiment file (TOML).
        file: PathBuf,
        #[command(flatten)]
        common: ExperimentArgs,
    },
    /// How many trajectories each interval method needs for a target half-width.
    Plan {
        /// Target half-width ε of the two-sided interval.
        #[arg(long, short)]
        epsilon: f64,
        /// Confidence level.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// A guess of the probability (0.5 is the worst case).
        #[arg(long, default_value_t = 0.5)]
        p: f64,
    },
    /// Check the tool's own statistics: empirical coverage of every interval method and of
    /// the adaptive rule on cases whose probability is known exactly.
    Calibrate {
        /// Replicates per case.
        #[arg(long, default_value_t = 2000)]
        replicates: u64,
        /// Seed of the replicates (`42` or `42u64`).
        #[arg(long, default_value_t = 1, value_parser = crate::rng::parse_seed)]
        seed: u64,
        /// Worker threads (default: all cores).
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        /// Output directory for coverage.csv (default: results/calibrate).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure throughput on the reference workloads (experiments/bench.toml).
    Bench(BenchArgs),
    /// Print a completion script for a shell, e.g.
    /// `sgd-escape completions bash > ~/.local/share/bash-completion/completions/sgd-escape`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `bench`'s options.
#[derive(clap::Args)]
struct BenchArgs {
    /// W1 (d = 1), W2 (d = 10) or W3 (d = 100); all three when absent.
    workload: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    threads: Option<usize>,
    /// Timed repetitions; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Also run this NumPy peer (numpy_sgd.py) on the same workload and print the ratio.
    #[arg(long, value_name = "SCRIPT")]
    numpy: Option<PathBuf>,
    /// Time the configurations of this experiment file instead (minibatch SGD also in
    /// examples per second); WORKLOAD then picks one configuration by label.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["numpy", "c_kernel"])]
    experiment: Option<PathBuf>,
    /// Also run this built C kernel (benches/c_kernel/sgd_c, which needs AVX-512) and
    /// sgd-escape alternately, one run each per round (--repeats rounds, at least 3),
    /// and print the ratio of their medians; skipped with a message on a CPU without
    /// AVX-512.
    #[arg(long, value_name = "BINARY", conflicts_with = "numpy")]
    c_kernel: Option<PathBuf>,
    /// Time one thread against --threads (default all cores), alternately, one run each
    /// per round (--repeats rounds, at least 3), and print the ratio of their medians;
    /// each side in its own thread pool, warmed by one untimed run, as in a sweep. With
    /// --c-kernel, the C kernel's own ratio beside it (medians of as many in-process
    /// repetitions).
    #[arg(long, conflicts_with_all = ["numpy", "memory", "baseline"])]
    scaling: bool,
    /// Peak memory of each workload run as `run --no-trajectories` does, at its N and T,
    /// at 4N and at 4T (Linux).
    #[arg(long, conflicts_with_all = ["numpy", "c_kernel", "baseline"])]
    memory: bool,
    /// With --experiment: time this other build of sgd-escape (e.g. an older version)
    /// and this one alternately, each as `run --no-trajectories` on the whole file
    /// (--repeats rounds, at least 3), and print the ratio of their medians.
    #[arg(long, value_name = "BINARY", requires = "experiment", conflicts_with_all = ["numpy", "c_kernel"])]
    baseline: Option<PathBuf>,
    /// Internal to --memory: one measurement at N trajectories of T steps, in a process
    /// of its own (so that no earlier run's memory counts).
    #[arg(long, hide = true, value_name = "N,T", requires = "workload")]
    memory_at: Option<String>,
}

/// Runs the command line on the process's arguments with the kinds of `registry`; returns
/// the exit code (0 success, 1 a failure while running, 2 refused input).
pub fn main(registry: &Registry) -> ExitCode {
    main_from(std::env::args_os(), registry)
}

/// [`main`] on given arguments (the first is the program's name).
pub fn main_from<I, T>(args: I, registry: &Registry) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<T> = args.into_iter().collect();
    // The program's own name, for completions (a user's program is not `sgd-escape`).
    let program = args
        .first()
        .map(|a| a.clone().into())
        .and_then(|a: OsString| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "sgd-escape".to_string());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let r = registry;
    let result = match cli.command {
        Command::Run {
            file,
            common,
            no_trajectories,
            format,
            shard,
            quiet,
        } => {
            let rows = (!no_trajectories).then_some(format.unwrap_or_default());
            cmd_run(r, file.as_deref(), &common, rows, quiet, shard)
        }
        Command::Merge { dirs, out } => cmd_merge(r, &dirs, out),
        Command::Report { dir } => crate::report::report(&dir)
            .map(|files| files.iter().for_each(|f| println!("wrote {}", f.display()))),
        Command::Plan { epsilon, level, p } => cmd_plan(epsilon, level, p),
        Command::Theorem { file, common } => cmd_theorem(r, &file, &common),
        Command::Convexity { file, common } => cmd_convexity(r, &file, &common),
        Command::Calibrate {
            replicates,
            seed,
            threads,
            out,
        } => cmd_calibrate(replicates, seed, threads.unwrap_or(0), out),
        Command::Bench(args) => cmd_bench(r, &args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), program, &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // 2: the input was refused before anything ran; 1: a failure while running.
            if e.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A refused command-line value (exit code 2, like a refused experiment file).
fn argument(flag: &str, reason: String) -> ConfigError {
    ConfigError::Argument {
        flag: flag.into(),
        reason,
    }
}

/// Options that `run` and `theorem` share.
#[derive(clap::Args)]
struct ExperimentArgs {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, short = 'j')]
    threads: Option<usize>,
    /// Output directory (default: results/<experiment name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the experiment seed (`42`, or `42u64` as summary.csv writes it).
    #[arg(long, value_parser = crate::rng::parse_seed)]
    seed: Option<u64>,
    /// Interval method (overrides the file's `stats.method`).
    #[arg(long, value_enum)]
    method: Option<Method>,
    /// Confidence level of every interval and verdict, e.g. 0.95 (overrides `stats.level`).
    #[arg(long)]
    level: Option<f64>,
    /// Print every column of the tables. By default they fit 80 columns: the columns that
    /// do not fit are named under the table (the CSV files always have every column).
    #[arg(long)]
    wide: bool,
}

impl ExperimentArgs {
    /// The width the printed tables fit (`None` with --wide).
    fn width(&self) -> Option<usize> {
        (!self.wide).then_some(output::table::DEFAULT_WIDTH)
    }

    /// Worker threads, 0 meaning all cores.
    fn threads(&self) -> usize {
        self.threads.unwrap_or(0)
    }

    /// The result directory: `--out`, or `results/<experiment name>`.
    fn out_dir(&self, experiment: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("results").join(experiment))
    }
}

/// The experiment's text and where it came from (a file, or the embedded default).
fn source(
    registry: &Registry,
    file: Option<&Path>,
) -> Result<(String, PathBuf, String), ConfigError> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                file: path.to_path_buf(),
                source,
            })?;
            let stem = path
                .file_stem()
                .map_or("experiment".into(), |s| s.to_string_lossy().into_owned());
            Ok((text, path.to_path_buf(), stem))
        }
        None => Ok(match registry.default_experiment_text() {
            Some((name, text)) => (
                text.to_string(),
                PathBuf::from(format!("<embedded {name}>")),
                name.to_string(),
            ),
            None => (
                DEFAULT_EXPERIMENT.to_string(),
                PathBuf::from("<embedded experiments/spiky.toml>"),
                "spiky".into(),
            ),
        }),
    }
}

/// Loads the experiment and applies the command-line overrides.
fn prepare(
    registry: &Registry,
    file: Option<&Path>,
    o: &ExperimentArgs,
) -> anyhow::Result<(Experiment, String, Overrides)> {
    let (text, path, stem) = source(registry, file)?;
    let mut experiment = registry.parse(&text, &path, &stem)?;
    let overrides = Overrides {
        seed: o.seed,
        method: o.method,
        level: o.level,
    };
    overrides.apply(&mut experiment)?;
    if let Some(w) = config::limits::estimate(&experiment).warning() {
        eprintln!("{w}");
    }
    for (a, b) in experiment.shared_streams() {
        eprintln!(
            "note: configurations {a:?} and {b:?} draw the same trajectories; give one another `stream` for an independent sample"
        );
    }
    Ok((experiment, text, overrides))
}

fn cmd_theorem(registry: &Registry, file: &Path, o: &ExperimentArgs) -> anyhow::Result<()> {
    let (experiment, _, _) = prepare(registry, Some(file), o)?;
    let dir = o.out_dir(&experiment.name);
    let locked = ResultDir::open(&dir, LockMode::Exclusive)?;
    theorem_report(&experiment, o.threads(), &locked.path, false, o.width())
}

fn cmd_convexity(registry: &Registry, file: &Path, o: &ExperimentArgs) -> anyhow::Result<()> {
    let (experiment, _, _) = prepare(registry, Some(file), o)?;
    let dir = o.out_dir(&experiment.name);
    let locked = ResultDir::open(&dir, LockMode::Exclusive)?;
    let settings = experiment.convexity.clone().unwrap_or_default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads())
        .build()?;
    let reports: Vec<_> = pool.install(|| {
        experiment
            .configs
            .iter()
            .map(|spec| {
                crate::convexity::measure(spec, &settings, experiment.seed, experiment.stats.level)
            })
            .collect()
    });
    println!("{}", output::convexity::render(&reports, o.width()));
    // convexity.json first: it marks the directory as ours.
    for (name, bytes) in [
        (
            "convexity.json",
            output::convexity::json(&experiment, &settings, &reports)?,
        ),
        ("convexity.csv", output::convexity::points_csv(&reports)?),
        (
            "convexity_epochs.csv",
            output::convexity::epochs_csv(&reports)?,
        ),
        (
            "convexity_restarts.csv",
            output::convexity::restarts_csv(&reports)?,
        ),
    ] {
        let path = locked.path.join(name);
        output::atomic_write(&path, &bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs the theorem check ([`sweep::theorem_to_dir`]) and prints its table.
fn theorem_report(
    experiment: &Experiment,
    threads: usize,
    dir: &Path,
    quiet: bool,
    width: Option<usize>,
) -> anyhow::Result<()> {
    let done = sweep::theorem_to_dir(experiment, threads, dir, None)?;
    if !quiet {
        println!(
            "Theorem 1 ({}% {} intervals):",
            experiment.stats.level * 100.0,
            experiment.stats.method
        );
        println!("{}", output::render_theorem_table(&done.reports, width));
        for f in &done.written {
            println!("wrote {}", f.display());
        }
    }
    Ok(())
}

fn cmd_run(
    registry: &Registry,
    file: Option<&Path>,
    o: &ExperimentArgs,
    rows: Option<RowsFormat>,
    quiet: bool,
    shard: Option<Shard>,
) -> anyhow::Result<()> {
    let (experiment, text, overrides) = prepare(registry, file, o)?;
    let dir = o.out_dir(&experiment.name);
    if !quiet {
        eprintln!(
            "{}: {} configuration(s), seed {}, RNG {}",
            experiment.name,
            experiment.configs.len(),
            experiment.seed,
            rng::RNG_ALGORITHM
        );
    }
    let locked = ResultDir::open(&dir, LockMode::Exclusive)?;
    let opts = SweepOptions {
        threads: o.threads(),
        shard,
        rows,
        progress: if quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        },
        stop: None,
    };
    let run = sweep::run_to_dir(&experiment, &text, &overrides, &opts, &locked)?;
    let Some(report) = &run.report else {
        let s = shard.expect("only shards end without a report");
        if !quiet {
            println!(
                "shard {}/{}: {} cells computed, {} already done, in {}; assemble with: sgd-escape merge DIR…",
                s.index,
                s.count,
                run.computed,
                run.reused,
                dir.display()
            );
        }
        return Ok(());
    };
    if !quiet {
        if report.results.len() <= 60 {
            println!(
                "{}",
                render_table(&report.results, &report.experiment.stats, o.width())
            );
        } else {
            println!(
                "{} cells: see {}",
                report.results.len(),
                dir.join("summary.csv").display()
            );
        }
        println!(
            "threads: {}, wall time {:.2} s ({} cells computed, {} resumed)",
            report.threads,
            report.elapsed.as_secs_f64(),
            run.computed,
            run.reused
        );
        for f in &run.written {
            println!("wrote {}", f.display());
        }
    }
    if experiment.theorem.is_some() {
        theorem_report(&experiment, o.threads(), &dir, quiet, o.width())?;
    }
    Ok(())
}

fn cmd_merge(registry: &Registry, dirs: &[PathBuf], out: Option<PathBuf>) -> anyhow::Result<()> {
    let out = out.unwrap_or_else(|| dirs[0].clone());
    let (report, mut written) = sweep::merge(dirs, &out, registry)?;
    // Its own run.json, as after a run: the merge's threads and time, the full summaries.
    let run_json = out.join("run.json");
    output::atomic_write(&run_json, &output::RunJson.render(&report)?)?;
    written.push(run_json);
    println!(
        "merged {} cells from {} directories",
        report.results.len(),
        dirs.len()
    );
    for f in written {
        println!("wrote {}", f.display());
    }
    Ok(())
}

fn cmd_plan(epsilon: f64, level: f64, p: f64) -> anyhow::Result<()> {
    planning::check_request(epsilon, p).map_err(|(name, r)| argument(&format!("--{name}"), r))?;
    crate::stats::check_level(level).map_err(|r| argument("--level", r))?;
    let alpha = 1.0 - level;
    let okamoto = planning::okamoto(epsilon, alpha);
    println!(
        "trajectories for a two-sided {}% interval of half-width ≤ {epsilon} when P = {p}:",
        level * 100.0
    );
    println!("{:<40} {:>12} {:>14}", "method", "n", "vs Okamoto");
    let line = |name: &str, n: u64| {
        println!(
            "{name:<40} {n:>12} {:>13.0}%",
            100.0 * n as f64 / okamoto as f64
        )
    };
    for m in Method::ALL {
        line(
            m.name(),
            planning::trajectories_needed(Some(m), epsilon, alpha, p),
        );
    }
    line(
        "adaptive: beta-binomial-cs (anytime)",
        planning::trajectories_needed(None, epsilon, alpha, p),
    );
    line("Chernoff-Hoeffding / Okamoto (any p)", okamoto);
    Ok(())
}

fn cmd_calibrate(
    replicates: u64,
    seed: u64,
    threads: usize,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    if !(10..=config::limits::MAX_REPLICATES).contains(&replicates) {
        return Err(argument(
            "--replicates",
            format!(
                "must lie in [10, {}], got {replicates}",
                config::limits::MAX_REPLICATES
            ),
        )
        .into());
    }
    let dir = out.unwrap_or_else(|| Path::new("results").join("calibrate"));
    let path = dir.join("coverage.csv");
    // Never write over a file we did not write: ours starts with our header.
    if path.exists() {
        anyhow::ensure!(
            crate::sweep::written_by_calibrate(&path),
            "{} was not written by sgd-escape calibrate: refusing to overwrite it; choose another --out",
            path.display()
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let rows = pool.install(|| calibrate::default_suite(replicates, seed));
    println!(
        "{:<52} {:<40} {:>8} {:>24} {:>8} {:>9}",
        "case", "rule", "nominal", "coverage [95% CP]", "exact", "mean n"
    );
    for r in &rows {
        println!(
            "{:<52} {:<40} {:>8} {:>24} {:>8} {:>9.0}",
            r.case,
            r.rule,
            r.nominal,
            format!(
                "{:.4} [{:.4}, {:.4}]",
                r.coverage, r.coverage_lower, r.coverage_upper
            ),
            r.exact.map_or("-".into(), |e| format!("{e:.4}")),
            r.mean_n
        );
    }
    std::fs::create_dir_all(&dir)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.serialize(r)?;
    }
    crate::output::atomic_write(&path, &w.into_inner()?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn cmd_bench(registry: &Registry, args: &BenchArgs) -> anyhow::Result<()> {
    let (workload, threads, repeats) = (
        args.workload.as_deref(),
        args.threads.unwrap_or(0),
        args.repeats,
    );
    let (numpy, experiment, c_kernel) = (
        args.numpy.as_deref(),
        args.experiment.as_deref(),
        args.c_kernel.as_deref(),
    );
    let exp = match experiment {
        Some(file) => registry.load(file)?,
        None => bench::workloads(),
    };
    let specs: Vec<_> = match workload {
        None => exp.configs.iter().collect(),
        Some(w) => vec![
            exp.configs
                .iter()
                .find(|c| c.label.eq_ignore_ascii_case(w))
                .with_context(|| match experiment {
                    Some(file) => format!("no configuration {w:?} in {}", file.display()),
                    None => format!("unknown workload {w:?}: choose W1, W2 or W3"),
                })?,
        ],
    };
    if let (Some(baseline), Some(file)) = (args.baseline.as_deref(), experiment) {
        return bench_against_build(file, baseline, threads, repeats);
    }
    if let Some(at) = &args.memory_at {
        let parse = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok());
        let mut parts = at.split(',');
        let (Some(n), Some(t)) = (parse(parts.next()), parse(parts.next())) else {
            anyhow::bail!("--memory-at takes N,T");
        };
        let peak = bench::peak_memory_mb(&exp, specs[0], n, t, threads)?;
        println!("{peak}");
        return Ok(());
    }
    if args.memory {
        return bench_memory(&specs, experiment, threads);
    }
    let c_kernel = match c_kernel.map(|path| (path, bench::c_kernel_runs_here())) {
        Some((_, Err(why))) => {
            eprintln!("C kernel comparison skipped: {why}");
            None
        }
        Some((path, Ok(()))) => Some(path),
        None => None,
    };
    if args.scaling {
        return bench_scaling(&exp, &specs, threads, repeats, c_kernel);
    }
    if experiment.is_some() {
        println!(
            "{:<24} {:>6} {:>7} {:>7} {:>10} {:>14} {:>14}",
            "configuration", "d", "N", "T", "median s", "coord-upd/s", "examples/s"
        );
        let mut used_threads = 0;
        for spec in specs {
            let r = bench::measure(spec, exp.seed, threads, repeats)?;
            used_threads = r.threads;
            println!(
                "{:<24} {:>6} {:>7} {:>7} {:>10.3} {:>12.1} M {:>14}",
                r.workload,
                r.dim,
                r.trajectories,
                r.steps,
                r.median_s,
                r.coord_updates_per_s / 1e6,
                r.examples_per_s
                    .map_or("-".into(), |e| format!("{:.4} M", e / 1e6)),
            );
        }
        println!(
            "threads: {used_threads}; vector instruction set of the MLP kernels: {}",
            crate::isa::Isa::detect().name()
        );
        return Ok(());
    }
    if let Some(path) = c_kernel {
        return bench_against_c(&exp, &specs, path, threads, repeats);
    }
    println!(
        "{:<4} {:>4} {:>7} {:>10} {:>16} {:>24} {:>24} {:>9}",
        "", "d", "N", "median s", "coord-upd/s", "P(reach) [95%]", "P(stay) [95%]", "vs NumPy"
    );
    let mut used_threads = 0;
    for spec in specs {
        let r = bench::measure(spec, exp.seed, threads, repeats)?;
        used_threads = r.threads;
        let stay = r
            .stay
            .as_ref()
            .context("bench workloads define a stay event")?;
        let ratio = match numpy {
            Some(script) => {
                let peer = bench::numpy_peer(script, &spec.label, repeats)?;
                let theirs = peer["coord_updates_per_s"]
                    .as_f64()
                    .context("NumPy JSON lacks coord_updates_per_s")?;
                let field = |k: &str| peer[k].as_f64().unwrap_or(f64::NAN);
                // Chaotic dynamics: the two agree in distribution only, so compare the
                // estimates with a two-sample z statistic (|z| < 2 is agreement at ~95%).
                let z = |ours: &crate::stats::Proportion, p: f64| {
                    let n2 = field("N");
                    (ours.estimate - p)
                        / (ours.estimate * (1.0 - ours.estimate) / ours.n as f64
                            + p * (1.0 - p) / n2)
                            .sqrt()
                };
                eprintln!(
                    "  numpy {}: {:.1} M coord-upd/s, P(reach) {:.3} (z = {:+.2}), P(stay) {:.3} (z = {:+.2})",
                    spec.label,
                    theirs / 1e6,
                    field("reach_frac"),
                    z(&r.reach, field("reach_frac")),
                    field("stayed_frac"),
                    z(stay, field("stayed_frac")),
                );
                format!("{:.1}x", r.coord_updates_per_s / theirs)
            }
            None => "-".into(),
        };
        println!(
            "{:<4} {:>4} {:>7} {:>10.3} {:>14.1} M {:>24} {:>24} {:>9}",
            r.workload,
            r.dim,
            r.trajectories,
            r.median_s,
            r.coord_updates_per_s / 1e6,
            format!(
                "{:.3} [{:.3}, {:.3}]",
                r.reach.estimate, r.reach.lower, r.reach.upper
            ),
            format!(
                "{:.3} [{:.3}, {:.3}]",
                stay.estimate, stay.lower, stay.upper
            ),
            ratio
        );
    }
    println!(
        "threads: {used_threads}; NumPy runs on one core; lanes: {}",
        crate::isa::Isa::detect().name()
    );
    Ok(())
}

/// One thread against `threads`, alternately, one run of each per round.
fn bench_scaling(
    exp: &crate::experiment::Experiment,
    specs: &[&crate::experiment::ConfigSpec],
    threads: usize,
    rounds: usize,
    c_kernel: Option<&Path>,
) -> anyhow::Result<()> {
    let rounds = rounds.max(3);
    // Both pools live through every round and each runs once untimed first: a sweep runs
    // its cells in one warm pool, and the C kernel times in-process repetitions too. A
    // pool's first run also pays for starting its threads and their allocator arenas.
    let (one_pool, many_pool) = (bench::pool(1)?, bench::pool(threads)?);
    let many_threads = many_pool.current_num_threads();
    let mut rows = Vec::new();
    for spec in specs {
        bench::measure_in(&one_pool, spec, exp.seed, 1)?;
        bench::measure_in(&many_pool, spec, exp.seed, 1)?;
        let (mut one, mut many) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            one.push(bench::measure_in(&one_pool, spec, exp.seed, 1)?.coord_updates_per_s);
            many.push(bench::measure_in(&many_pool, spec, exp.seed, 1)?.coord_updates_per_s);
        }
        let c_ratio = match c_kernel {
            Some(path) => Some(
                bench::c_kernel(path, &spec.label, many_threads, rounds)?
                    / bench::c_kernel(path, &spec.label, 1, rounds)?,
            ),
            None => None,
        };
        rows.push((
            spec,
            bench::median(&mut one),
            bench::median(&mut many),
            c_ratio,
        ));
    }
    println!(
        "{:<24} {:>4} {:>16} {:>16} {:>9} {:>9}   ({rounds} rounds, medians)",
        "",
        "d",
        "1 thread",
        format!("{many_threads} threads"),
        "ratio",
        "C kernel"
    );
    for (spec, a, b, c) in rows {
        println!(
            "{:<24} {:>4} {:>14.1} M {:>14.1} M {:>8.2}x {:>9}",
            spec.label,
            spec.dim(),
            a / 1e6,
            b / 1e6,
            b / a,
            c.map_or("-".into(), |c| format!("{c:.2}x"))
        );
    }
    Ok(())
}

/// Peak memory at N·T, 4N·T and N·4T, each measured in a process of its own.
fn bench_memory(
    specs: &[&crate::experiment::ConfigSpec],
    experiment: Option<&Path>,
    threads: usize,
) -> anyhow::Result<()> {
    let this = std::env::current_exe().context("locating this sgd-escape")?;
    let measure = |label: &str, n: u64, t: u64| -> anyhow::Result<f64> {
        let mut cmd = std::process::Command::new(&this);
        cmd.args(["bench", label, "-j", &threads.to_string()])
            .arg(format!("--memory-at={n},{t}"));
        if let Some(file) = experiment {
            cmd.arg("--experiment").arg(file);
        }
        let out = cmd.output().context("starting a measurement")?;
        let text = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(
            out.status.success(),
            "measuring {label} at N = {n}, T = {t}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        text.trim()
            .parse()
            .with_context(|| format!("measuring {label}: unexpected output {text:?}"))
    };
    println!(
        "{:<24} {:>4} {:>8} {:>6} {:>12} {:>12} {:>12}",
        "", "d", "N", "T", "peak at N,T", "at 4N,T", "at N,4T"
    );
    for spec in specs {
        let (n, t) = (spec.trajectories, spec.steps());
        let mut peaks = Vec::new();
        for (n, t) in [(n, t), (4 * n, t), (n, 4 * t)] {
            peaks.push(measure(&spec.label, n, t)?);
        }
        println!(
            "{:<24} {:>4} {:>8} {:>6} {:>8.1} MiB {:>8.1} MiB {:>8.1} MiB",
            spec.label,
            spec.dim(),
            n,
            t,
            peaks[0],
            peaks[1],
            peaks[2]
        );
    }
    Ok(())
}

/// Another build of sgd-escape against this one on an experiment file, alternately.
fn bench_against_build(
    file: &Path,
    baseline: &Path,
    threads: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let rounds = rounds.max(3);
    let this = std::env::current_exe().context("locating this sgd-escape")?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        ours.push(bench::time_run(&this, file, threads)?);
        theirs.push(bench::time_run(baseline, file, threads)?);
        eprintln!(
            "  round {}: this build {:.3} s, {} {:.3} s",
            round + 1,
            ours[round],
            baseline.display(),
            theirs[round]
        );
    }
    let (a, b) = (bench::median(&mut ours), bench::median(&mut theirs));
    println!(
        "{}: this build {a:.3} s, the other {b:.3} s (medians of {rounds} alternating runs, `run --no-trajectories`): {:.2}x its speed",
        file.display(),
        b / a
    );
    Ok(())
}

/// The workloads against the C kernel, alternately, one run of each per round.
fn bench_against_c(
    exp: &crate::experiment::Experiment,
    specs: &[&crate::experiment::ConfigSpec],
    c_kernel: &Path,
    threads: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let rounds = rounds.max(3);
    println!(
        "{:<4} {:>4} {:>16} {:>16} {:>9}   ({rounds} rounds, medians)",
        "", "d", "sgd-escape", "C kernel", "ratio"
    );
    let mut used_threads = 0;
    for spec in specs {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let r = bench::measure(spec, exp.seed, threads, 1)?;
            used_threads = r.threads;
            let c = bench::c_kernel(c_kernel, &spec.label, r.threads, 1)?;
            eprintln!(
                "  {} round {}: sgd-escape {:.1} M, C kernel {:.1} M coord-upd/s",
                spec.label,
                round + 1,
                r.coord_updates_per_s / 1e6,
                c / 1e6
            );
            ours.push(r.coord_updates_per_s);
            theirs.push(c);
        }
        let (a, b) = (bench::median(&mut ours), bench::median(&mut theirs));
        println!(
            "{:<4} {:>4} {:>14.1} M {:>14.1} M {:>8.2}x",
            spec.label,
            spec.dim(),
            a / 1e6,
            b / 1e6,
            a / b
        );
    }
    println!(
        "threads: {used_threads} on both sides; lanes: {}",
        crate::isa::Isa::detect().name()
    );
    Ok(())
}
