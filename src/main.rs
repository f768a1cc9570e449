//! The `sgd-escape` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sgd_escape::config::{self, ConfigError};
use sgd_escape::experiment::Experiment;
use sgd_escape::output::{render_table, standard_exporters, write_all};
use sgd_escape::run::{DEFAULT_LEVEL, execute};
use sgd_escape::{bench, rng};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The experiment `run` uses without a file: the paper's spiky-function figure.
const DEFAULT_EXPERIMENT: &str = include_str!("../experiments/spiky.toml");

#[derive(Parser)]
#[command(
    name = "sgd-escape",
    version,
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
        /// Experiment file (TOML). Without it, the embedded experiments/spiky.toml runs.
        file: Option<PathBuf>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        /// Output directory (default: results/<experiment name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the experiment seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Do not write trajectories.csv (one row per trajectory).
        #[arg(long)]
        no_trajectories: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Measure throughput on the reference workloads (shared/perf/README.md).
    Bench {
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            file,
            threads,
            out,
            seed,
            no_trajectories,
            quiet,
        } => cmd_run(
            file.as_deref(),
            threads.unwrap_or(0),
            out,
            seed,
            !no_trajectories,
            quiet,
        ),
        Command::Bench {
            workload,
            threads,
            repeats,
            numpy,
        } => cmd_bench(
            workload.as_deref(),
            threads.unwrap_or(0),
            repeats,
            numpy.as_deref(),
        ),
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

fn load(file: Option<&Path>) -> Result<Experiment, ConfigError> {
    match file {
        Some(path) => config::load(path),
        None => config::parse(
            DEFAULT_EXPERIMENT,
            Path::new("<embedded experiments/spiky.toml>"),
            "spiky",
        ),
    }
}

fn cmd_run(
    file: Option<&Path>,
    threads: usize,
    out: Option<PathBuf>,
    seed: Option<u64>,
    with_trajectories: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let mut experiment = load(file)?;
    if let Some(seed) = seed {
        experiment.seed = seed;
    }
    let dir = out.unwrap_or_else(|| Path::new("results").join(&experiment.name));
    if !quiet {
        eprintln!(
            "{}: {} configuration(s), seed {}, RNG {}",
            experiment.name,
            experiment.configs.len(),
            experiment.seed,
            rng::RNG_ALGORITHM
        );
    }
    let report = execute(&experiment, threads, DEFAULT_LEVEL, |r| {
        if !quiet {
            eprintln!(
                "  done: {} ({} trajectories, {:.2} s)",
                r.spec.label,
                r.spec.trajectories,
                r.elapsed.as_secs_f64()
            );
        }
    })?;
    let files = write_all(&report, &dir, &standard_exporters(with_trajectories))?;
    if !quiet {
        println!("{}", render_table(&report.results, report.level));
        println!(
            "threads: {}, wall time {:.2} s",
            report.threads,
            report.elapsed.as_secs_f64()
        );
        for f in files {
            println!("wrote {}", f.display());
        }
    }
    Ok(())
}

fn cmd_bench(
    workload: Option<&str>,
    threads: usize,
    repeats: usize,
    numpy: Option<&Path>,
) -> anyhow::Result<()> {
    let exp = bench::workloads();
    let specs: Vec<_> = match workload {
        None => exp.configs.iter().collect(),
        Some(w) => vec![
            exp.configs
                .iter()
                .find(|c| c.label.eq_ignore_ascii_case(w))
                .with_context(|| format!("unknown workload {w:?}: choose W1, W2 or W3"))?,
        ],
    };
    println!(
        "{:<4} {:>4} {:>7} {:>10} {:>16} {:>24} {:>24} {:>9}",
        "", "d", "N", "median s", "coord-upd/s", "P(reach) [95%]", "P(stay) [95%]", "vs NumPy"
    );
    let mut used_threads = 0;
    for spec in specs {
        let r = bench::measure(spec, exp.seed, threads, repeats)?;
        used_threads = r.threads;
        let ratio = match numpy {
            Some(script) => {
                let peer = bench::numpy_peer(script, &spec.label, repeats)?;
                let theirs = peer["coord_updates_per_s"]
                    .as_f64()
                    .context("NumPy JSON lacks coord_updates_per_s")?;
                let field = |k: &str| peer[k].as_f64().unwrap_or(f64::NAN);
                // Chaotic dynamics: the two agree in distribution only, so compare the
                // estimates with a two-sample z statistic (|z| < 2 is agreement at ~95%).
                let z = |ours: &sgd_escape::stats::Proportion, p: f64| {
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
                    z(&r.stay, field("stayed_frac")),
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
                r.stay.estimate, r.stay.lower, r.stay.upper
            ),
            ratio
        );
    }
    println!("threads: {used_threads}; NumPy runs on one core");
    Ok(())
}
