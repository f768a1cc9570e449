//! Running experiments at scale: every configuration (cell) is written to its own file as it
//! finishes, so an interrupted run resumes where it stopped, shards of the cells run on
//! different machines, and `merge` assembles the same bytes one machine would have written.
//!
//! A result directory holds `sweep.json` (the manifest: experiment text and overrides, its
//! hash, numerics version, RNG, the cells), `cells/<stem>.json` (one finished unit each,
//! written atomically; see [`crate::pipeline`]), optionally its rows file
//! `cells/<stem>.trajectories.csv` (or `.parquet`), and, once every cell is there,
//! `summary.csv`, `trajectories.csv` (or the Parquet dataset `trajectories/`) and `run.json`.
//!
//! The directory is locked while a process writes it; it must be ours (see
//! [`ResultDir::open`]); every file read back is validated.

use crate::config::ConfigError;
use crate::experiment::{ConfigSpec, Experiment};
use crate::output::atomic::{AtomicFile, remove_stale_temporaries};
use crate::output::progress::{Progress, ProgressMode};
use crate::output::rows::{RowsFormat, RowsWriter};
use crate::output::{self, Exporter, atomic_write, trajectories_header};
use crate::pipeline::{
    self, CellBody, CellStore, Loaded, MAX_CELL_FILE_BYTES, RowSink, RowsDigest, TOOL, Unit,
    read_cell,
};
use crate::registry::Registry;
use crate::rng::{RNG_ALGORITHM, StableHasher, stable_hash};
use crate::run::RunReport;
use crate::stats::Method;
use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

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
            e.stats.level =
                crate::stats::check_level(level).map_err(|reason| ConfigError::Argument {
                    flag: "--level".into(),
                    reason,
                })?;
        }
        Ok(())
    }
}

/// `K/N`: this process runs the cells whose id hashes to K modulo N (K from 0), and the
/// parts of large cells that [`Shard::holds`] gives it. By id, not by position, so adding
/// cells to a sweep never moves an existing cell to another shard: rerunning the extended
/// sweep's shards into their old directories computes only the new cells. Shards get about
/// N⁻¹ of the cells each, not exactly (a binomial spread), which matters little once cells
/// outnumber shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// Whether `unit` belongs to this shard: the hash of its cell's id modulo N, plus the
    /// part's number for a large cell, so its consecutive parts go to consecutive shards.
    pub fn holds(&self, unit: &Unit) -> bool {
        let cell = stable_hash(unit.key.id.as_bytes()) % self.count;
        (cell + unit.part.0 % self.count) % self.count == self.index
    }
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
    /// The cell's id (see [`pipeline::cell_id`]).
    pub id: String,
    /// Label.
    pub label: String,
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// "sgd-escape".
    pub tool: String,
    /// Crate version (information).
    pub version: String,
    /// [`crate::NUMERICS_VERSION`].
    pub numerics: u32,
    /// RNG algorithm.
    pub rng: String,
    /// Experiment name.
    pub experiment: String,
    /// Hash of the resolved experiment (all configurations, seed, statistics), numerics
    /// version and RNG.
    pub experiment_hash: String,
    /// Where the experiment was read from (information only).
    pub source: String,
    /// The experiment file's text.
    pub source_text: String,
    /// Command-line overrides.
    pub overrides: Overrides,
    /// Whether per-trajectory rows are written.
    pub trajectories: bool,
    /// Their format (left out when CSV, as before formats could be chosen).
    #[serde(default, skip_serializing_if = "RowsFormat::is_csv")]
    pub rows_format: RowsFormat,
    /// The cells.
    pub cells: Vec<CellEntry>,
    /// Hash of what the experiment is apart from its cells ([`frame_hash`]): two manifests
    /// with the same frame, the second holding every cell of the first, are an extension
    /// of a sweep. Empty in manifests written before extensions existed.
    #[serde(default)]
    pub frame_hash: String,
}

impl Manifest {
    /// The per-trajectory rows written, if any, and their format.
    pub fn rows(&self) -> Option<RowsFormat> {
        self.trajectories.then_some(self.rows_format)
    }
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// The experiment's identity (its source path left out, so copies on other machines match).
pub fn experiment_hash(e: &Experiment) -> String {
    let mut e = e.clone();
    e.source = String::new();
    let key =
        serde_json::to_vec(&(&e, crate::NUMERICS_VERSION, RNG_ALGORITHM)).expect("serialisable");
    hex(stable_hash(&key))
}

/// The identity of what an experiment is apart from its cells: name, seed, statistics,
/// theorem and convexity settings (without the theorem's per-configuration domains),
/// log axes and the widest configuration (which sets the final-point columns of every
/// rows file), with the numerics version and RNG.
pub fn frame_hash(e: &Experiment) -> String {
    let mut e = e.clone();
    let max_dim = e.max_dim();
    e.source = String::new();
    e.description = String::new();
    e.configs = Vec::new();
    if let Some(t) = e.theorem.as_mut() {
        t.domains = Vec::new();
    }
    let key = serde_json::to_vec(&(&e, max_dim, crate::NUMERICS_VERSION, RNG_ALGORITHM))
        .expect("serialisable");
    hex(stable_hash(&key))
}

/// Builds the manifest of `experiment` (parsed from `source_text` with `overrides`).
pub fn manifest(
    experiment: &Experiment,
    source_text: &str,
    overrides: &Overrides,
    rows: Option<RowsFormat>,
) -> Manifest {
    Manifest {
        tool: TOOL.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        numerics: crate::NUMERICS_VERSION,
        rng: RNG_ALGORITHM.into(),
        experiment: experiment.name.clone(),
        experiment_hash: experiment_hash(experiment),
        source: experiment.source.clone(),
        source_text: source_text.to_string(),
        overrides: overrides.clone(),
        trajectories: rows.is_some(),
        rows_format: rows.unwrap_or_default(),
        cells: experiment
            .configs
            .iter()
            .enumerate()
            .map(|(index, c)| CellEntry {
                index,
                id: pipeline::cell_id(c),
                label: c.label.clone(),
            })
            .collect(),
        frame_hash: frame_hash(experiment),
    }
}

/// Manifests larger than this are refused unread.
const MAX_MANIFEST_BYTES: u64 = 1 << 30;

/// Reads at most `limit` bytes of `path`; `None` when it does not exist.
fn read_bounded(path: &Path, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    ensure!(
        bytes.len() as u64 <= limit,
        "{} is larger than {limit} bytes: not a file sgd-escape wrote",
        path.display()
    );
    Ok(Some(bytes))
}

fn read_manifest(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let path = dir.join("sweep.json");
    let Some(bytes) = read_bounded(&path, MAX_MANIFEST_BYTES)? else {
        return Ok(None);
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a sweep manifest", path.display()))?;
    ensure!(
        m.tool == TOOL,
        "{} was not written by sgd-escape",
        path.display()
    );
    Ok(Some(m))
}

/// How much of another manifest [`check_compatible`] accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// The same experiment only (merge: every input, and its output, must be one run).
    Same,
    /// The same experiment, or one that [`extends`] it (a rerun into the directory).
    Extension,
}

/// Refuses to mix results of another experiment, numerics version or RNG; `Ok(true)` when
/// `want` extends `found` (and `accept` allows it).
fn check_compatible(
    dir: &Path,
    found: &Manifest,
    want: &Manifest,
    accept: Accept,
) -> anyhow::Result<bool> {
    if found.numerics != want.numerics || found.rng != want.rng {
        bail!(
            "{} was written with numerics version {} ({}), this is {} ({}): refusing to mix results; use another --out or remove it",
            dir.display(),
            found.numerics,
            found.rng,
            want.numerics,
            want.rng
        );
    }
    if found.trajectories && want.trajectories && found.rows_format != want.rows_format {
        // Worded for both `run` (a rerun into the directory) and `merge` (shards that
        // disagree), which share this check.
        bail!(
            "{} holds per-trajectory rows as {}, not {}: the parts of one experiment keep one rows format (run with --format {} to continue it, or use another --out)",
            dir.display(),
            found.rows_format.extension(),
            want.rows_format.extension(),
            found.rows_format.extension()
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
    if found.experiment_hash == want.experiment_hash {
        return Ok(false);
    }
    if accept == Accept::Extension && extends(found, want) {
        return Ok(true);
    }
    bail!(
        "{} holds results of a different experiment or configuration ({:?}, hash {}; this one is {:?}, hash {}): refusing to mix; use another --out or remove it",
        dir.display(),
        found.experiment,
        found.experiment_hash,
        want.experiment,
        want.experiment_hash
    );
}

/// Whether `want` extends the sweep `found`: the same frame ([`frame_hash`]) and every
/// cell of `found` among `want`'s (so values were added to axes, none removed or changed).
/// Its cells are then reused by id; only the new ones (and adaptive cells whose stopping
/// rule changed with the number of decisions, see [`Experiment::stop_rule`]) are computed.
fn extends(found: &Manifest, want: &Manifest) -> bool {
    let ids: std::collections::HashSet<&str> = want.cells.iter().map(|c| c.id.as_str()).collect();
    !found.frame_hash.is_empty()
        && found.frame_hash == want.frame_hash
        && found.cells.iter().all(|c| ids.contains(c.id.as_str()))
}

/// The names sgd-escape writes in a result directory.
pub const OUR_NAMES: [&str; 15] = [
    "sweep.json",
    "run.json",
    "summary.csv",
    "trajectories.csv",
    "trajectories",
    "theorem.csv",
    "theorem.json",
    "convexity.csv",
    "convexity_epochs.csv",
    "convexity_restarts.csv",
    "convexity.json",
    "coverage.csv",
    "cells",
    "plots",
    "index.html",
];

/// Whether `path` is a JSON file whose `tool` is sgd-escape.
fn written_by_us(path: &Path) -> bool {
    read_bounded(path, MAX_MANIFEST_BYTES)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["tool"] == TOOL)
}

/// Whether `path` starts with the header `calibrate` writes.
pub fn written_by_calibrate(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 10];
    let n = std::io::Read::read(&mut std::io::Read::take(f, 10), &mut head).unwrap_or(0);
    &head[..n] == b"case,rule,"
}

/// A result directory opened for writing (or reading): checked to be ours and locked until
/// dropped.
#[derive(Debug)]
pub struct ResultDir {
    /// The directory.
    pub path: PathBuf,
    /// How it is locked.
    pub mode: LockMode,
    _lock: Option<File>,
}

/// How a result directory is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// One writer, no readers (run, merge output).
    Exclusive,
    /// Readers only (merge inputs).
    Shared,
}

impl ResultDir {
    /// Opens `path` as a result directory: created if absent; otherwise it must be ours
    /// (it holds a `sweep.json`, `run.json`, `theorem.json` or `convexity.json` written by
    /// sgd-escape, or `calibrate`'s `coverage.csv`) or hold
    /// none of the names we write; a `cells` that is a symbolic link is refused. Then locks it: a second
    /// writer gets a clear error; where the file system cannot lock, a warning is printed
    /// and the run goes on. With the exclusive lock held, our stale temporaries are removed.
    pub fn open(path: &Path, mode: LockMode) -> anyhow::Result<Self> {
        if mode == LockMode::Exclusive {
            std::fs::create_dir_all(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
        ensure!(meta.is_dir(), "{} is not a directory", path.display());
        // Locked first, so that another writer's half-made directory is never judged.
        let lock = lock(path, mode)?;
        let present: Vec<&str> = OUR_NAMES
            .iter()
            .copied()
            .filter(|n| std::fs::symlink_metadata(path.join(n)).is_ok())
            .collect();
        let ours = ["sweep.json", "run.json", "theorem.json", "convexity.json"]
            .iter()
            .any(|m| written_by_us(&path.join(m)))
            || written_by_calibrate(&path.join("coverage.csv"));
        if !present.is_empty() && !ours {
            bail!(
                "{} holds {} but no sweep.json, run.json, theorem.json, convexity.json or coverage.csv written by sgd-escape: refusing to write over files that are not ours; choose another --out",
                path.display(),
                present.join(", ")
            );
        }
        let cells = path.join("cells");
        if let Ok(m) = std::fs::symlink_metadata(&cells) {
            ensure!(
                !m.file_type().is_symlink() && m.is_dir(),
                "{} is a symbolic link or not a directory: refusing to follow it out of the result directory",
                cells.display()
            );
        }
        if mode == LockMode::Exclusive {
            remove_stale_temporaries(path);
            remove_stale_temporaries(&cells);
        }
        Ok(Self {
            path: path.to_path_buf(),
            mode,
            _lock: lock,
        })
    }
}

/// Takes an advisory lock on the directory itself (no lock file is left behind).
fn lock(path: &Path, mode: LockMode) -> anyhow::Result<Option<File>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "warning: cannot lock {} ({e}); going on without a lock",
                path.display()
            );
            return Ok(None);
        }
    };
    let result = match mode {
        LockMode::Exclusive => file.try_lock(),
        LockMode::Shared => file.try_lock_shared(),
    };
    match result {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "{} is in use by another sgd-escape process ({}): wait for it to finish, or use another --out",
            path.display(),
            match mode {
                LockMode::Exclusive => "it is being read or written",
                LockMode::Shared => "it is being written",
            }
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            eprintln!(
                "warning: cannot lock {} ({e}): the file system may not support locks; going on without one",
                path.display()
            );
            Ok(None)
        }
    }
}

/// Options of a sweep run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Run only this share of the cells (no final outputs then: see [`merge`]).
    pub shard: Option<Shard>,
    /// Write per-trajectory rows, in this format.
    pub rows: Option<RowsFormat>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Set by another thread to stop the run: it returns [`pipeline::Interrupted`] after
    /// keeping every cell finished (how the Python package turns Ctrl-C into a clean stop).
    pub stop: Option<Arc<AtomicBool>>,
}

/// What a sweep run did.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// Cells computed by this process.
    pub computed: usize,
    /// Cells found already done (resumed).
    pub reused: usize,
    /// Cells found damaged or stale and computed again, with the reason.
    pub recomputed: Vec<String>,
    /// The final report, when every cell is done and this process is not a shard.
    pub report: Option<RunReport>,
    /// Files written at the end.
    pub written: Vec<PathBuf>,
}

/// The `cells/` directory of a result directory as a [`CellStore`].
struct DirStore<'a> {
    cells: PathBuf,
    rows: Option<RowsFormat>,
    experiment: &'a Experiment,
}

/// Streams a unit's rows to `cells/<stem>.trajectories.<csv|parquet>`, hashing as it goes.
struct RowsFile {
    writer: Option<RowsWriter<AtomicFile>>,
    rows: u64,
}

impl RowSink for RowsFile {
    fn write(&mut self, spec: &ConfigSpec, chunk: &[crate::events::Outcome]) -> anyhow::Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.write(spec, chunk)?;
            self.rows += chunk.len() as u64;
        }
        Ok(())
    }
}

/// `<cells>/<stem>.json`, the unit's cell file.
fn cell_path(cells: &Path, unit: &Unit) -> PathBuf {
    cells.join(format!("{}.json", unit.stem))
}

/// `<cells>/<stem>.trajectories.<csv|parquet>`, the unit's per-trajectory rows.
fn rows_path(cells: &Path, unit: &Unit, format: RowsFormat) -> PathBuf {
    cells.join(format!("{}.trajectories.{}", unit.stem, format.extension()))
}

/// The unit's cell file in `cells`, validated (see [`read_cell`]); with `rows`, its rows file
/// in that format must be there and match its digest. The reason when it does not pass.
fn read_unit(
    cells: &Path,
    unit: &Unit,
    spec: &ConfigSpec,
    rows: Option<RowsFormat>,
) -> Result<CellBody, String> {
    let bytes = match read_bounded(&cell_path(cells, unit), MAX_CELL_FILE_BYTES) {
        Ok(Some(b)) => b,
        Ok(None) => return Err("absent".into()),
        Err(e) => return Err(format!("{e:#}")),
    };
    let body = read_cell(&bytes, unit, spec)?;
    if let Some(format) = rows {
        let d = body.rows.as_ref().ok_or("it has no per-trajectory rows")?;
        check_rows(&rows_path(cells, unit, format), d, None)?;
    }
    Ok(body)
}

/// [`read_unit`] where a unit that does not pass is an error naming its file.
fn read_unit_or_fail(cells: &Path, unit: &Unit, spec: &ConfigSpec) -> anyhow::Result<CellBody> {
    read_unit(cells, unit, spec, None)
        .map_err(|why| anyhow::anyhow!("{}: {why}", cell_path(cells, unit).display()))
}

/// Checks a rows file against its digest, copying it into `into` on the way if given.
fn check_rows(
    path: &Path,
    d: &RowsDigest,
    mut into: Option<&mut AtomicFile>,
) -> Result<(), String> {
    let name = path.display();
    // Rows of another layout (before the swept parameters had columns) would mix two
    // column sets in one trajectories.csv.
    if d.layout != pipeline::ROWS_LAYOUT {
        return Err(format!(
            "{name} is in the rows layout {}, this version writes {} (its cell is computed again on resume; merge needs shards of one version)",
            d.layout,
            pipeline::ROWS_LAYOUT
        ));
    }
    let mut f = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let len = f.metadata().map_err(|e| format!("{name}: {e}"))?.len();
    if len != d.bytes {
        return Err(format!(
            "{name} has {len} bytes, its cell file says {} (truncated or edited)",
            d.bytes
        ));
    }
    let mut hasher = StableHasher::default();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = f.read(&mut buf).map_err(|e| format!("{name}: {e}"))?;
        if k == 0 {
            break;
        }
        hasher.update(&buf[..k]);
        if let Some(w) = into.as_mut() {
            w.write_all(&buf[..k]).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    if hex(hasher.finish()) != d.hash {
        return Err(format!(
            "{name} does not match its cell file's hash (edited)"
        ));
    }
    Ok(())
}

impl CellStore for DirStore<'_> {
    type Rows = RowsFile;

    fn load(&mut self, unit: &Unit, spec: &ConfigSpec) -> anyhow::Result<Loaded> {
        if std::fs::symlink_metadata(cell_path(&self.cells, unit)).is_err() {
            return Ok(Loaded::Absent);
        }
        Ok(match read_unit(&self.cells, unit, spec, self.rows) {
            Ok(body) => Loaded::Valid(Box::new(body)),
            Err(why) => Loaded::Damaged(why),
        })
    }

    fn rows(&mut self, unit: &Unit, _: &ConfigSpec) -> anyhow::Result<RowsFile> {
        let writer = match self.rows {
            Some(format) => {
                let p = rows_path(&self.cells, unit, format);
                let file = AtomicFile::create(&p)
                    .with_context(|| format!("cannot create {}", p.display()))?;
                Some(RowsWriter::new(format, self.experiment, file)?)
            }
            None => None,
        };
        Ok(RowsFile { writer, rows: 0 })
    }

    fn save(&mut self, unit: &Unit, mut cell: CellBody, rows: RowsFile) -> anyhow::Result<()> {
        if let Some(w) = rows.writer {
            let (file, bytes, hash) = w.finish()?;
            file.commit()?;
            cell.rows = Some(RowsDigest {
                layout: pipeline::ROWS_LAYOUT,
                rows: rows.rows,
                bytes,
                hash: hex(hash),
            });
        }
        // The cell file last: its presence means the unit (and its rows) are complete.
        let path = cell_path(&self.cells, unit);
        atomic_write(&path, &cell.to_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Runs (or resumes) the cells of `experiment` assigned to this process into `dir` (opened
/// with [`LockMode::Exclusive`]) and, when not a shard, writes the final outputs.
pub fn run(
    experiment: &Experiment,
    source_text: &str,
    overrides: &Overrides,
    opts: &SweepOptions,
    dir: &ResultDir,
) -> anyhow::Result<SweepRun> {
    ensure!(
        dir.mode == LockMode::Exclusive,
        "{} must be opened for writing",
        dir.path.display()
    );
    if let Some(format) = opts.rows {
        format.check_available()?;
    }
    let want = manifest(experiment, source_text, overrides, opts.rows);
    match read_manifest(&dir.path)? {
        Some(found) => {
            // An extension: the manifest now describes the extended sweep (as one run from
            // scratch would have written it); the cells already there are reused by id.
            if check_compatible(&dir.path, &found, &want, Accept::Extension)? {
                if opts.progress != ProgressMode::Quiet {
                    eprintln!(
                        "note: extending {} from {} to {} cells: only the new ones are computed",
                        dir.path.display(),
                        found.cells.len(),
                        want.cells.len()
                    );
                }
                atomic_write(
                    &dir.path.join("sweep.json"),
                    &serde_json::to_vec_pretty(&want)?,
                )?;
            }
        }
        None => atomic_write(
            &dir.path.join("sweep.json"),
            &serde_json::to_vec_pretty(&want)?,
        )?,
    }
    // After the manifest: a run killed in between must not leave a `cells` without the
    // sweep.json that marks the directory as ours (the next run would refuse it).
    let cells_dir = dir.path.join("cells");
    std::fs::create_dir_all(&cells_dir)
        .with_context(|| format!("cannot create {}", cells_dir.display()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()?;
    let all = pipeline::units(experiment);
    let mine: Vec<&Unit> = all
        .iter()
        .enumerate()
        .filter(|(_, u)| opts.shard.is_none_or(|s| s.holds(u)))
        .map(|(_, unit)| unit)
        .collect();
    let mut progress = Progress::new(&experiment.name, mine.len() as u64, opts.progress);
    let mut store = DirStore {
        cells: cells_dir,
        rows: opts.rows,
        experiment,
    };
    let done = pipeline::compute(
        experiment,
        &mine,
        &mut store,
        &pool,
        &mut progress,
        opts.stop.as_deref(),
    )?;
    let (report, written) = if opts.shard.is_some() {
        (None, vec![])
    } else {
        let (mut r, w) = finalize(
            experiment,
            &want,
            std::slice::from_ref(&dir.path),
            &dir.path,
        )?;
        r.threads = pool.current_num_threads();
        (Some(r), w)
    };
    Ok(SweepRun {
        computed: done.computed,
        reused: done.reused,
        recomputed: done.recomputed,
        report,
        written,
    })
}

/// [`run`], then `run.json` with the thread count and the wall time: the whole of
/// `sgd-escape run` but the printing and the theorem check, and what the Python package runs.
/// A shard has no report and no `run.json`.
pub fn run_to_dir(
    experiment: &Experiment,
    source_text: &str,
    overrides: &Overrides,
    opts: &SweepOptions,
    dir: &ResultDir,
) -> anyhow::Result<SweepRun> {
    let t0 = Instant::now();
    let mut run = run(experiment, source_text, overrides, opts, dir)?;
    if let Some(report) = run.report.as_mut() {
        report.elapsed = t0.elapsed();
        let run_json = dir.path.join("run.json");
        atomic_write(&run_json, &output::RunJson.render(report)?)?;
        run.written.push(run_json);
    }
    Ok(run)
}

/// What [`theorem_to_dir`] found and wrote.
#[derive(Debug)]
pub struct TheoremRun {
    /// One report per configuration, in order.
    pub reports: Vec<crate::theory::check::TheoremReport>,
    /// `theorem.json` and `theorem.csv`.
    pub written: Vec<PathBuf>,
}

/// Runs the theorem check of `experiment` on `threads` threads (0: all cores) and writes
/// `theorem.json` and `theorem.csv` into `dir` (created if need be; the caller holds its
/// lock): what `sgd-escape theorem`, and `run` of an experiment with a `[theorem]` section,
/// do. Stopped through `stop`, it writes nothing.
pub fn theorem_to_dir(
    experiment: &Experiment,
    threads: usize,
    dir: &Path,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<TheoremRun> {
    let reports = crate::theory::check_experiment_until(experiment, threads, stop)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let etas: Vec<f64> = experiment
        .configs
        .iter()
        .map(|c| c.schedule.stages()[0].eta)
        .collect();
    // theorem.json first: it marks the directory as ours, so a kill between the two never
    // leaves a theorem.csv that a later run would refuse to write over.
    let json_path = dir.join("theorem.json");
    atomic_write(
        &json_path,
        &crate::theory::theorem_json(experiment, &reports)?,
    )?;
    let csv_path = dir.join("theorem.csv");
    atomic_write(&csv_path, &output::theorem_csv(&reports, &etas)?)?;
    Ok(TheoremRun {
        reports,
        written: vec![csv_path, json_path],
    })
}

/// Finds each unit's cell file among `dirs`: exactly one copy, validated. Refuses a unit
/// held twice (unless the copies are `out`'s own and the same bytes: a merge into one of
/// its inputs, run again) and names the missing ones.
fn locate(
    experiment: &Experiment,
    all: &[Unit],
    dirs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::with_capacity(all.len());
    let mut missing = Vec::new();
    for u in all {
        let holders: Vec<&PathBuf> = dirs
            .iter()
            .filter(|d| {
                std::fs::symlink_metadata(d.join("cells").join(format!("{}.json", u.stem))).is_ok()
            })
            .collect();
        match holders.as_slice() {
            [] => missing.push(u.describe(experiment)),
            [one] => found.push(one.join("cells")),
            // The output directory's copy from an earlier merge into one of its inputs, the
            // same bytes as the input's: merging again reads the output's own.
            [..] if holders.iter().any(|d| same_dir(d, out))
                && holders.iter().all(|d| same_cell_file(d, out, u)) =>
            {
                found.push(out.join("cells"))
            }
            [a, b, ..] => bail!(
                "{} is in both {} and {}: refusing to merge the same cell twice",
                u.describe(experiment),
                a.display(),
                b.display()
            ),
        }
    }
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
    Ok(found)
}

/// Assembles the final outputs in `out` from the cell files found in `dirs`, through
/// [`pipeline::assemble`]: every cell file validated (a bad one is an error naming it), the
/// rows files checked against their digests as they are copied.
fn finalize(
    experiment: &Experiment,
    m: &Manifest,
    dirs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<(RunReport, Vec<PathBuf>)> {
    let started = Instant::now();
    let all = pipeline::units(experiment);
    let cells_of = locate(experiment, &all, dirs, out)?;
    let mut written = Vec::new();
    let mut rows = match m.rows() {
        Some(RowsFormat::Csv) => {
            let mut w = AtomicFile::create(&out.join("trajectories.csv"))?;
            w.write_all(&trajectories_header(experiment)?)?;
            Some(FinalRows::Csv(w))
        }
        Some(RowsFormat::Parquet) => Some(FinalRows::Parquet(Dataset::start(out, all.len())?)),
        None => None,
    };
    let format = m.rows_format;
    let keep_curves = experiment.configs.len() <= output::RUN_JSON_DETAIL_LIMIT;
    // A merged directory holds the cells too, as one machine's run would: `report`,
    // a resumed run and a later merge work from it as from any result directory.
    let out_cells = out.join("cells");
    if cells_of.iter().any(|c| !same_dir(c, &out_cells)) {
        std::fs::create_dir_all(&out_cells)
            .with_context(|| format!("creating {}", out_cells.display()))?;
    }
    let results = pipeline::assemble(
        experiment,
        &all,
        |position, u| {
            let cells = &cells_of[position];
            let body = read_unit_or_fail(cells, u, &experiment.configs[u.cell])?;
            if !same_dir(cells, &out_cells) {
                link_or_copy(&cell_path(cells, u), &cell_path(&out_cells, u))?;
                if body.rows.is_some() {
                    link_or_copy(
                        &rows_path(cells, u, format),
                        &rows_path(&out_cells, u, format),
                    )?;
                }
            }
            if let Some(r) = rows.as_mut() {
                let d = body.rows.as_ref().with_context(|| {
                    format!(
                        "{}: it has no per-trajectory rows",
                        cell_path(cells, u).display()
                    )
                })?;
                let path = rows_path(&out_cells, u, format);
                match r {
                    FinalRows::Csv(w) => check_rows(&path, d, Some(w)),
                    FinalRows::Parquet(set) => check_rows(&path, d, None)
                        .and_then(|()| set.add(position, &path).map_err(|e| format!("{e:#}"))),
                }
                .map_err(anyhow::Error::msg)?;
            }
            Ok(body)
        },
        keep_curves,
    )?;
    match rows {
        Some(FinalRows::Csv(w)) => written.push(w.commit()?),
        Some(FinalRows::Parquet(set)) => written.push(set.commit()?),
        None => {}
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

/// The final per-trajectory output being assembled.
enum FinalRows {
    /// `trajectories.csv`, the units' rows files concatenated after the header.
    Csv(AtomicFile),
    /// `trajectories/`, hard links to the units' rows files.
    Parquet(Dataset),
}

/// `trajectories/`, a Parquet dataset: one file per unit, named by the unit's position with
/// leading zeros (`000000.parquet`, …) so that readers, which take a dataset's files in
/// name order, read the rows in the order of `trajectories.csv`. Each file is a hard link
/// to the unit's own rows file in `cells/` (a copy where the file system has no hard links),
/// so the rows are kept once. It is built under a temporary name and swapped in whole.
struct Dataset {
    tmp: PathBuf,
    path: PathBuf,
    width: usize,
}

impl Dataset {
    /// Starts the dataset of `units` units in `out` (removing temporaries of killed runs).
    fn start(out: &Path, units: usize) -> anyhow::Result<Self> {
        let path = out.join("trajectories");
        for e in std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".trajectories.")
                && output::atomic::is_temporary_name(&name)
                && e.file_type().is_ok_and(|t| t.is_dir())
            {
                remove_dataset(&e.path())?;
            }
        }
        let tmp = output::atomic::temporary_name(&path);
        std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(Self {
            tmp,
            path,
            width: units.to_string().len().max(6),
        })
    }

    /// Adds the unit at `position`, whose (checked) rows file is `rows`.
    fn add(&mut self, position: usize, rows: &Path) -> anyhow::Result<()> {
        let name = format!("{position:0w$}.parquet", w = self.width);
        link_or_copy(rows, &self.tmp.join(name))
    }

    /// Puts the dataset in place of the old one (removed: it held only our links).
    fn commit(self) -> anyhow::Result<PathBuf> {
        output::atomic::sync_dir(&self.tmp)?;
        let old = self
            .path
            .with_file_name(format!(".trajectories.old.tmp-{}", std::process::id()));
        let had_old = match std::fs::symlink_metadata(&self.path) {
            Ok(_) => {
                check_dataset(&self.path)?;
                std::fs::rename(&self.path, &old)
                    .with_context(|| format!("cannot replace {}", self.path.display()))?;
                true
            }
            Err(_) => false,
        };
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        if let Some(parent) = self.path.parent() {
            output::atomic::sync_dir(parent)?;
        }
        if had_old {
            remove_dataset(&old)?;
        }
        Ok(self.path)
    }
}

/// Whether a file name is one [`Dataset`] writes.
fn is_dataset_file(name: &str) -> bool {
    name.strip_suffix(".parquet")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Refuses a `trajectories` that is not a directory of our dataset files only.
fn check_dataset(dir: &Path) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    ensure!(
        meta.is_dir() && !meta.file_type().is_symlink(),
        "{} is not a directory sgd-escape wrote: refusing to replace it; move it away",
        dir.display()
    );
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        ensure!(
            is_dataset_file(&name) && e.file_type().is_ok_and(|t| t.is_file()),
            "{} holds {name}, which sgd-escape did not write: refusing to replace it; move it away",
            dir.display()
        );
    }
    Ok(())
}

/// Removes a dataset directory of ours: our files, then the directory (which fails, and
/// keeps it, if anything else is in it).
fn remove_dataset(dir: &Path) -> anyhow::Result<()> {
    check_dataset(dir)?;
    for e in std::fs::read_dir(dir)?.flatten() {
        std::fs::remove_file(e.path())
            .with_context(|| format!("cannot remove {}", e.path().display()))?;
    }
    std::fs::remove_dir(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

/// Whether two paths name the same directory (an absent one is only itself).
fn same_dir(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canonical(a) == canonical(b)
}

/// Whether `dir` holds the same bytes as `out` for the unit's cell file (a cell file names
/// its rows file's digest, so equal cell files mean equal cells).
fn same_cell_file(dir: &Path, out: &Path, u: &Unit) -> bool {
    let read = |d: &Path| read_bounded(&cell_path(&d.join("cells"), u), MAX_CELL_FILE_BYTES);
    match (read(dir), read(out)) {
        (Ok(Some(a)), Ok(Some(b))) => a == b,
        _ => false,
    }
}

/// Puts a (validated) file at `to`: a hard link where both are on one file system (no
/// second copy on disk: our files are never changed in place, only replaced by a rename),
/// else a copy. Either is made under a temporary name and renamed into place, so that `to`
/// is never seen half written.
fn link_or_copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let context = || format!("copying {} to {}", from.display(), to.display());
    let tmp = crate::output::atomic::temporary_name(to);
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_ok() {
        std::fs::rename(&tmp, to).with_context(context)?;
        return Ok(());
    }
    let mut src = File::open(from).with_context(context)?;
    let mut dst = AtomicFile::create(to).with_context(context)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = src.read(&mut buf).with_context(context)?;
        if k == 0 {
            break;
        }
        dst.write_all(&buf[..k]).with_context(context)?;
    }
    dst.commit().with_context(context)?;
    Ok(())
}

/// The experiment a manifest describes, rebuilt and checked to hash the same.
/// `registry` must know the kinds the experiment names (as the program that ran it did).
fn rebuild(dir: &Path, m: &Manifest, registry: &Registry) -> anyhow::Result<Experiment> {
    let mut experiment = registry.parse(&m.source_text, Path::new(&m.source), &m.experiment)?;
    m.overrides.apply(&mut experiment)?;
    ensure!(
        experiment_hash(&experiment) == m.experiment_hash,
        "the experiment in {} does not rebuild to the same configuration with this version",
        dir.display()
    );
    Ok(experiment)
}

/// Merges the result directories of shards (from any machines) into `out`: the same bytes one
/// machine would have written, and every cell file (hard-linked where it can be, else
/// copied), so that `out` is a complete result directory (`report`, resume and a later merge
/// read it like any other). Refuses directories of different experiments or versions, a
/// cell held twice, and any cell file that does not validate; names the cells no directory
/// holds. `registry` must know the kinds the experiment names.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    registry: &Registry,
) -> anyhow::Result<(RunReport, Vec<PathBuf>)> {
    ensure!(
        !dirs.is_empty(),
        "give at least one result directory to merge"
    );
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut seen = std::collections::HashSet::new();
    for d in dirs {
        ensure!(
            seen.insert(canonical(d)),
            "{} is given twice: refusing to merge it with itself",
            d.display()
        );
    }
    let out_dir = ResultDir::open(out, LockMode::Exclusive)?;
    let out_c = canonical(&out_dir.path);
    let mut locks = Vec::new();
    let mut manifests = Vec::new();
    for d in dirs {
        if canonical(d) != out_c {
            locks.push(ResultDir::open(d, LockMode::Shared)?);
        }
        let m = read_manifest(d)?.with_context(|| {
            format!("{} has no sweep.json: not a result directory", d.display())
        })?;
        manifests.push(m);
    }
    let first = &manifests[0];
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        check_compatible(d, m, first, Accept::Same)
            .with_context(|| format!("cannot merge {} with {}", d.display(), dirs[0].display()))?;
    }
    let experiment = rebuild(&dirs[0], first, registry)?;
    if let Some(found) = read_manifest(out)? {
        check_compatible(out, &found, first, Accept::Same)?;
    }
    finalize(&experiment, first, dirs, out)
}

/// The experiment and results of a finished result directory (opened, so locked), read
/// through the same validation and [`pipeline::assemble`] as `run` and `merge`: what `report`
/// draws is exactly what `summary.csv` says. `registry` must know the kinds the experiment
/// names.
pub fn load(dir: &ResultDir, registry: &Registry) -> anyhow::Result<(Experiment, RunReport)> {
    let dir = &dir.path;
    let m = read_manifest(dir)?.with_context(|| {
        format!(
            "{} has no sweep.json: run `sgd-escape run` into it first",
            dir.display()
        )
    })?;
    let experiment = rebuild(dir, &m, registry)?;
    let all = pipeline::units(&experiment);
    let cells = dir.join("cells");
    locate(&experiment, &all, std::slice::from_ref(dir), dir)?;
    let results = pipeline::assemble(
        &experiment,
        &all,
        |_, u| read_unit_or_fail(&cells, u, &experiment.configs[u.cell]),
        true,
    )?;
    let report = RunReport {
        experiment: experiment.clone(),
        results,
        threads: 0,
        elapsed: std::time::Duration::ZERO,
    };
    Ok((experiment, report))
}

/// Files the CI and the tests compare: the final outputs that must not depend on how the
/// work was split or interrupted.
pub const FINAL_OUTPUTS: [&str; 2] = ["summary.csv", "trajectories.csv"];
