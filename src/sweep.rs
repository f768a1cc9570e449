//! Running experiments at scale: every configuration (cell) is written to its own file as it
//! finishes, so an interrupted run resumes where it stopped, shards of the cells run on
//! different machines, and `merge` assembles the same bytes one machine would have written.
//!
//! A result directory holds `sweep.json` (the manifest: experiment text and overrides, its
//! hash, crate version, RNG, the cells), `cells/<id>.json` (one finished cell each, written
//! atomically), optionally `cells/<id>.trajectories.csv`, and, once every cell is there,
//! `summary.csv`, `trajectories.csv` and `run.json`.

use crate::config;
use crate::experiment::{ConfigSpec, Experiment};
use crate::output::progress::{Progress, ProgressMode};
use crate::output::{self, Exporter, atomic_write, trajectories_header, trajectory_rows};
use crate::rng::{RNG_ALGORITHM, stable_hash};
use crate::run::{ConfigResult, RunReport, simulate_cell, simulate_range};
use crate::stats::aggregate::Accumulator;
use crate::stats::{Method, StopReason, adjust_decisions};
use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Command-line changes to an experiment, kept in the manifest so that `merge` rebuilds the
/// very same experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--method`.
    pub method: Option<Method>,
    /// `--level`.
    pub level: Option<f64>,
}

impl Overrides {
    /// Applies the overrides.
    pub fn apply(&self, e: &mut Experiment) -> anyhow::Result<()> {
        if let Some(seed) = self.seed {
            e.seed = seed;
        }
        if let Some(m) = self.method {
            e.stats.method = m;
        }
        if let Some(level) = self.level {
            ensure!(
                level > 0.0 && level < 1.0,
                "--level must lie in (0, 1), got {level}"
            );
            e.stats.level = level;
        }
        Ok(())
    }
}

/// `K/N`: this process runs the cells whose index i has i mod N = K (K from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected K/N, e.g. 0/3"))?;
        let (k, n): (u64, u64) = (
            k.trim()
                .parse()
                .map_err(|_| format!("{s:?}: K is not a number"))?,
            n.trim()
                .parse()
                .map_err(|_| format!("{s:?}: N is not a number"))?,
        );
        if n == 0 || k >= n {
            return Err(format!("{s:?}: need 0 ≤ K < N"));
        }
        Ok(Shard { index: k, count: n })
    }
}

/// One cell in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellEntry {
    /// Position in the experiment.
    pub index: usize,
    /// Identity: hash of the resolved configuration, crate version and RNG.
    pub id: String,
    /// Label.
    pub label: String,
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// "sgd-escape".
    pub tool: String,
    /// Crate version.
    pub version: String,
    /// RNG algorithm.
    pub rng: String,
    /// Experiment name.
    pub experiment: String,
    /// Hash of the resolved experiment (all configurations, seed, statistics), version, RNG.
    pub experiment_hash: String,
    /// Where the experiment was read from (information only).
    pub source: String,
    /// The experiment file's text.
    pub source_text: String,
    /// Command-line overrides.
    pub overrides: Overrides,
    /// Whether per-trajectory rows are written.
    pub trajectories: bool,
    /// The cells.
    pub cells: Vec<CellEntry>,
}

/// `cells/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellFile {
    /// Identity.
    pub id: String,
    /// Position.
    pub index: usize,
    /// Label.
    pub label: String,
    /// Why an adaptive run stopped.
    pub stopped: Option<StopReason>,
    /// The aggregate.
    pub accumulator: Accumulator,
    /// Wall-clock seconds the cell took (information; the only field that varies).
    pub elapsed_s: f64,
}

pub use crate::stats::aggregate::PART;

/// A unit of work: a whole cell, or one part (a range of trajectory indices) of a large one.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The cell's position.
    pub cell: usize,
    /// The part's number and the cell's number of parts (1 for a whole cell).
    pub part: (u64, u64),
    /// Trajectory indices.
    pub range: std::ops::Range<u64>,
    /// File name stem in `cells/`: `<id>` or `<id>.part<p>`.
    pub stem: String,
}

/// The units of an experiment, in order: the cells, each split into parts if large.
pub fn units(experiment: &Experiment, m: &Manifest) -> Vec<Unit> {
    let mut v = Vec::new();
    for (c, spec) in m.cells.iter().zip(&experiment.configs) {
        let parts = if experiment.stats.adaptive.is_some() {
            1
        } else {
            spec.trajectories.div_ceil(PART).max(1)
        };
        for p in 0..parts {
            let range = if parts == 1 {
                0..spec.trajectories
            } else {
                p * PART..((p + 1) * PART).min(spec.trajectories)
            };
            let stem = if parts == 1 {
                c.id.clone()
            } else {
                format!("{}.part{p}", c.id)
            };
            v.push(Unit {
                cell: c.index,
                part: (p, parts),
                range,
                stem,
            });
        }
    }
    v
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// A cell's identity: its resolved configuration (label included: it is in the outputs),
/// the crate version and the RNG algorithm.
pub fn cell_id(spec: &ConfigSpec) -> String {
    let key = serde_json::to_vec(&(spec, env!("CARGO_PKG_VERSION"), RNG_ALGORITHM))
        .expect("serialisable");
    hex(stable_hash(&key))
}

/// The experiment's identity (its source path left out, so copies on other machines match).
pub fn experiment_hash(e: &Experiment) -> String {
    let mut e = e.clone();
    e.source = String::new();
    let key =
        serde_json::to_vec(&(&e, env!("CARGO_PKG_VERSION"), RNG_ALGORITHM)).expect("serialisable");
    hex(stable_hash(&key))
}

/// Builds the manifest of `experiment` (parsed from `source_text` with `overrides`).
pub fn manifest(
    experiment: &Experiment,
    source_text: &str,
    overrides: &Overrides,
    trajectories: bool,
) -> Manifest {
    Manifest {
        tool: "sgd-escape".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        rng: RNG_ALGORITHM.into(),
        experiment: experiment.name.clone(),
        experiment_hash: experiment_hash(experiment),
        source: experiment.source.clone(),
        source_text: source_text.to_string(),
        overrides: overrides.clone(),
        trajectories,
        cells: experiment
            .configs
            .iter()
            .enumerate()
            .map(|(index, c)| CellEntry {
                index,
                id: cell_id(c),
                label: c.label.clone(),
            })
            .collect(),
    }
}

fn read_manifest(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let path = dir.join("sweep.json");
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("{} is not a sweep manifest", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Refuses to mix results of another experiment or version.
fn check_compatible(dir: &Path, found: &Manifest, want: &Manifest) -> anyhow::Result<()> {
    if found.version != want.version || found.rng != want.rng {
        bail!(
            "{} was written by sgd-escape {} ({}), this is {} ({}): refusing to mix results; use another --out or remove it",
            dir.display(),
            found.version,
            found.rng,
            want.version,
            want.rng
        );
    }
    if found.trajectories != want.trajectories {
        bail!(
            "{} was started {} per-trajectory rows: rerun {} --no-trajectories, or use another --out",
            dir.display(),
            if found.trajectories {
                "with"
            } else {
                "without"
            },
            if found.trajectories {
                "without"
            } else {
                "with"
            }
        );
    }
    if found.experiment_hash != want.experiment_hash {
        bail!(
            "{} holds results of a different experiment or configuration ({:?}, hash {}; this one is {:?}, hash {}): refusing to mix; use another --out or remove it",
            dir.display(),
            found.experiment,
            found.experiment_hash,
            want.experiment,
            want.experiment_hash
        );
    }
    Ok(())
}

/// Options of a sweep run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Result directory.
    pub out: PathBuf,
    /// Run only this share of the cells (no final outputs then: see [`merge`]).
    pub shard: Option<Shard>,
    /// Write per-trajectory rows.
    pub trajectories: bool,
    /// Progress display.
    pub progress: ProgressMode,
}

/// What a sweep run did.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// Cells computed by this process.
    pub computed: usize,
    /// Cells found already done (resumed).
    pub reused: usize,
    /// The final report, when every cell is done and this process is not a shard.
    pub report: Option<RunReport>,
    /// Files written at the end.
    pub written: Vec<PathBuf>,
}

/// Runs (or resumes) the cells of `experiment` assigned to this process and, when not a
/// shard, writes the final outputs.
pub fn run(
    experiment: &Experiment,
    source_text: &str,
    overrides: &Overrides,
    opts: &SweepOptions,
) -> anyhow::Result<SweepRun> {
    let want = manifest(experiment, source_text, overrides, opts.trajectories);
    let cells_dir = opts.out.join("cells");
    std::fs::create_dir_all(&cells_dir)
        .with_context(|| format!("cannot create {}", cells_dir.display()))?;
    match read_manifest(&opts.out)? {
        Some(found) => check_compatible(&opts.out, &found, &want)?,
        None => atomic_write(
            &opts.out.join("sweep.json"),
            &serde_json::to_vec_pretty(&want)?,
        )?,
    }
    remove_stale_temporaries(&cells_dir);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()?;
    let all = units(experiment, &want);
    let mine: Vec<&Unit> = all
        .iter()
        .enumerate()
        .filter(|(u, _)| opts.shard.is_none_or(|s| *u as u64 % s.count == s.index))
        .map(|(_, unit)| unit)
        .collect();
    let mut progress = Progress::new(&experiment.name, mine.len() as u64, opts.progress);
    let (mut computed, mut reused) = (0, 0);
    let max_dim = experiment.max_dim();
    for unit in mine {
        let cell = &want.cells[unit.cell];
        let spec = &experiment.configs[unit.cell];
        let path = cells_dir.join(format!("{}.json", unit.stem));
        if read_cell(&path)?.is_some_and(|f| f.id == cell.id) {
            reused += 1;
            progress.cell_done();
            continue;
        }
        progress.start_cell(&spec.label, unit.range.end - unit.range.start);
        let t0 = Instant::now();
        let mut rows = match opts.trajectories {
            true => Some(AtomicFile::create(
                &cells_dir.join(format!("{}.trajectories.csv", unit.stem)),
            )?),
            false => None,
        };
        let mut failed = None;
        let mut on_chunk = |chunk: &[crate::events::Outcome]| {
            if let Some(w) = rows.as_mut()
                && let Err(e) =
                    trajectory_rows(&spec.label, chunk, max_dim).and_then(|b| Ok(w.write_all(&b)?))
            {
                failed.get_or_insert(e);
            }
            progress.trajectories(chunk.len() as u64);
        };
        let (acc, stopped) = pool.install(|| {
            if unit.part.1 == 1 {
                simulate_cell(spec, experiment.seed, &experiment.stats, &mut on_chunk)
            } else {
                (
                    simulate_range(spec, experiment.seed, unit.range.clone(), &mut on_chunk),
                    None,
                )
            }
        });
        if let Some(e) = failed {
            return Err(e.context(format!("cannot write the trajectories of {:?}", spec.label)));
        }
        if let Some(w) = rows {
            w.commit()?;
        }
        // The cell file last: its presence means the unit (and its rows) are complete.
        let file = CellFile {
            id: cell.id.clone(),
            index: cell.index,
            label: spec.label.clone(),
            stopped,
            accumulator: acc,
            elapsed_s: t0.elapsed().as_secs_f64(),
        };
        atomic_write(&path, &serde_json::to_vec(&file)?)?;
        computed += 1;
        progress.cell_done();
    }
    progress.finish();
    if opts.shard.is_some() {
        return Ok(SweepRun {
            computed,
            reused,
            report: None,
            written: vec![],
        });
    }
    let (report, written) = finalize(
        experiment,
        &want,
        std::slice::from_ref(&opts.out),
        &opts.out,
    )?;
    Ok(SweepRun {
        computed,
        reused,
        report: Some(report),
        written,
    })
}

/// Temporary files of a killed run (`.<name>.tmp-<pid>`): never complete, safe to delete.
fn remove_stale_temporaries(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn read_cell(path: &Path) -> anyhow::Result<Option<CellFile>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is not a cell file", path.display())
            })?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Assembles the final outputs in `out` from the cell files found in `dirs`, cell by cell
/// in cell order, keeping only each cell's summary (not its aggregate) in memory.
fn finalize(
    experiment: &Experiment,
    m: &Manifest,
    dirs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<(RunReport, Vec<PathBuf>)> {
    let started = Instant::now();
    let all = units(experiment, m);
    let locate = |u: &Unit| {
        dirs.iter()
            .map(|d| d.join("cells"))
            .find(|cells| cells.join(format!("{}.json", u.stem)).exists())
    };
    let missing: Vec<String> = all
        .iter()
        .filter(|u| locate(u).is_none())
        .map(|u| {
            let c = &m.cells[u.cell];
            if u.part.1 == 1 {
                format!("{} ({:?})", c.index, c.label)
            } else {
                format!("{} ({:?}) part {}/{}", c.index, c.label, u.part.0, u.part.1)
            }
        })
        .collect();
    if !missing.is_empty() {
        let shown = missing
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        bail!(
            "{} of {} cells or cell parts are missing: {shown}{} (a shard that did not finish?)",
            missing.len(),
            all.len(),
            if missing.len() > 10 { ", …" } else { "" }
        );
    }
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    let mut rows = if m.trajectories {
        let mut w = AtomicFile::create(&out.join("trajectories.csv"))?;
        w.write_all(&trajectories_header(experiment.max_dim())?)?;
        Some(w)
    } else {
        None
    };
    let mut results: Vec<ConfigResult> = Vec::with_capacity(m.cells.len());
    for cell_units in all.chunk_by(|a, b| a.cell == b.cell) {
        // The parts of a cell, merged in order (a whole cell is its only part).
        let mut merged: Option<CellFile> = None;
        let mut elapsed = 0.0;
        for u in cell_units {
            let cells = locate(u).expect("checked above");
            let f = read_cell(&cells.join(format!("{}.json", u.stem)))?.expect("checked above");
            elapsed += f.elapsed_s;
            match merged.as_mut() {
                None => merged = Some(f),
                Some(m) => m.accumulator.merge(&f.accumulator),
            }
            if let Some(w) = rows.as_mut() {
                let p = cells.join(format!("{}.trajectories.csv", u.stem));
                let mut r = std::fs::File::open(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                std::io::copy(&mut r, &mut w.file)?;
            }
        }
        let f = merged.expect("a cell has at least one unit");
        let spec = experiment.configs[f.index].clone();
        let mut summary = f
            .accumulator
            .summarize(spec.steps(), &experiment.stats, f.stopped);
        // The curve is in the cell's file; the table of a large sweep need not hold them all.
        summary.hit_curve.rows = Vec::new();
        let elapsed = Duration::from_secs_f64(elapsed.max(1e-9));
        results.push(ConfigResult {
            id: spec.id(),
            spec,
            outcomes: vec![],
            summary,
            elapsed,
        });
    }
    if let Some(w) = rows {
        written.push(w.commit()?);
    }
    if experiment.stats.holm {
        adjust_decisions(results.iter_mut().map(|r| &mut r.summary));
    }
    let report = RunReport {
        experiment: experiment.clone(),
        results,
        threads: rayon::current_num_threads(),
        elapsed: started.elapsed(),
    };
    let summary = out.join("summary.csv");
    atomic_write(&summary, &output::SummaryCsv.render(&report)?)?;
    written.insert(0, summary);
    // The merged directory is a result directory too (compatible, if it already was one).
    if read_manifest(out)?.is_none() {
        atomic_write(&out.join("sweep.json"), &serde_json::to_vec_pretty(m)?)?;
    }
    Ok((report, written))
}

/// A file written under a temporary name and renamed into place once complete.
struct AtomicFile {
    file: std::io::BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(Self {
            file: std::io::BufWriter::new(file),
            tmp,
            path: path.to_path_buf(),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self.file, bytes)
    }

    fn commit(self) -> anyhow::Result<PathBuf> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(self.path)
    }
}

/// Merges the result directories of shards (from any machines) into `out`: the same bytes one
/// machine would have written. Refuses directories of different experiments or versions and
/// names the cells no directory holds.
pub fn merge(dirs: &[PathBuf], out: &Path) -> anyhow::Result<(RunReport, Vec<PathBuf>)> {
    ensure!(
        !dirs.is_empty(),
        "give at least one result directory to merge"
    );
    let mut manifests = Vec::new();
    for d in dirs {
        let m = read_manifest(d)?.with_context(|| {
            format!("{} has no sweep.json: not a result directory", d.display())
        })?;
        manifests.push(m);
    }
    let first = &manifests[0];
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        check_compatible(d, m, first)
            .with_context(|| format!("cannot merge {} with {}", d.display(), dirs[0].display()))?;
    }
    let mut experiment = config::parse(
        &first.source_text,
        Path::new(&first.source),
        &first.experiment,
    )?;
    first.overrides.apply(&mut experiment)?;
    let rebuilt = manifest(
        &experiment,
        &first.source_text,
        &first.overrides,
        first.trajectories,
    );
    ensure!(
        rebuilt.experiment_hash == first.experiment_hash,
        "the experiment in {} does not rebuild to the same configuration with this version",
        dirs[0].display()
    );
    if let Some(found) = read_manifest(out)? {
        check_compatible(out, &found, first)?;
    }
    finalize(&experiment, first, dirs, out)
}

/// Files the CI and the tests compare: the final outputs that must not depend on how the
/// work was split or interrupted.
pub const FINAL_OUTPUTS: [&str; 2] = ["summary.csv", "trajectories.csv"];
