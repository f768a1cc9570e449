//! The one pipeline from an experiment to its results, whoever calls it.
//!
//! An experiment is cut into units (a cell, or a part of a very large cell). Each unit is
//! simulated into an [`Accumulator`] and kept in a [`CellStore`]: the result directory's
//! `cells/` for the command line ([`crate::sweep`]), memory for library callers
//! ([`execute`]). [`assemble`] is the only place where finished units become summaries:
//! parts merged in order, each cell summarised, Holm applied across the experiment. `run`,
//! `merge`, `report` and [`execute`] all go through it, so a fix lands once.
//!
//! A unit is identified by a [`CellKey`]: everything that determines its numbers. Every
//! stored unit is read back through [`read_cell`], which checks its checksum, its key and
//! that its counts are possible, so nothing computed under other settings, edited by hand or
//! damaged is ever mixed in.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::output::progress::{Progress, ProgressMode};
use crate::rng::{RNG_ALGORITHM, stable_hash};
use crate::run::{ConfigResult, RunReport, simulate_cell_until, simulate_range_until};
use crate::stats::aggregate::{Accumulator, PART};
use crate::stats::{StopReason, StopRule, adjust_decisions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The `tool` field of every file we write: how a result directory is recognised as ours.
pub const TOOL: &str = "sgd-escape";

/// Everything that determines a unit's numbers. Stored in its cell file and compared on
/// every read: a cell of another seed, configuration, numerics version, RNG, trajectory
/// range or stopping rule is never reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellKey {
    /// The cell's id: a hash of its resolved configuration (label, n, swept values, and
    /// every section).
    pub id: String,
    /// The experiment seed.
    pub seed: u64,
    /// [`crate::NUMERICS_VERSION`].
    pub numerics: u32,
    /// [`RNG_ALGORITHM`].
    pub rng: String,
    /// First trajectory index of the unit.
    pub start: u64,
    /// One past the last index (the cap of an adaptive cell).
    pub end: u64,
    /// The stopping rule of an adaptive cell (its level α/m under Holm included).
    pub stop: Option<StopRule>,
}

impl CellKey {
    /// The first field that differs from `want`, said in words.
    pub fn mismatch(&self, want: &CellKey) -> Option<String> {
        let differs = |what: &str, found: String, wanted: String| {
            Some(format!(
                "it was computed for {what} {found}, this run needs {wanted}"
            ))
        };
        if self.id != want.id {
            return differs("configuration", self.id.clone(), want.id.clone());
        }
        if self.seed != want.seed {
            return differs("seed", self.seed.to_string(), want.seed.to_string());
        }
        if self.numerics != want.numerics {
            return differs(
                "numerics version",
                self.numerics.to_string(),
                want.numerics.to_string(),
            );
        }
        if self.rng != want.rng {
            return differs("RNG", self.rng.clone(), want.rng.clone());
        }
        if (self.start, self.end) != (want.start, want.end) {
            return differs(
                "trajectories",
                format!("{}..{}", self.start, self.end),
                format!("{}..{}", want.start, want.end),
            );
        }
        if self.stop != want.stop {
            return differs(
                "stopping rule",
                format!("{:?}", self.stop),
                format!("{:?}", want.stop),
            );
        }
        None
    }
}

/// A unit of work: a whole cell, or one part (a range of trajectory indices) of a large one.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The cell's position in the experiment (derived from the current experiment, never
    /// read from a file).
    pub cell: usize,
    /// The part's number and the cell's number of parts (1 for a whole cell).
    pub part: (u64, u64),
    /// What the unit's stored file must match.
    pub key: CellKey,
    /// File name stem in `cells/`: `<id>` or `<id>.part<p>`.
    pub stem: String,
}

impl Unit {
    /// The unit's trajectory indices.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.key.start..self.key.end
    }

    /// "3 (\"label\")" or "3 (\"label\") part 1/4", for messages.
    pub fn describe(&self, experiment: &Experiment) -> String {
        let label = &experiment.configs[self.cell].label;
        if self.part.1 == 1 {
            format!("cell {} ({label:?})", self.cell)
        } else {
            format!(
                "cell {} ({label:?}) part {}/{}",
                self.cell, self.part.0, self.part.1
            )
        }
    }
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// A cell's id: a hash of its whole resolved configuration (label, n and swept values
/// included: they are in the outputs).
pub fn cell_id(spec: &ConfigSpec) -> String {
    hex(stable_hash(
        &serde_json::to_vec(spec).expect("configurations serialise"),
    ))
}

/// The units of an experiment, in order: the cells, each split into parts of [`PART`]
/// trajectories if large (adaptive cells, which decide sequentially, never are).
pub fn units(experiment: &Experiment) -> Vec<Unit> {
    let mut v = Vec::new();
    for (cell, spec) in experiment.configs.iter().enumerate() {
        let id = cell_id(spec);
        let stop = experiment.stop_rule(spec);
        let parts = if stop.is_some() {
            1
        } else {
            spec.trajectories.div_ceil(PART).max(1)
        };
        for p in 0..parts {
            let (start, end) = if parts == 1 {
                (0, spec.trajectories)
            } else {
                (p * PART, ((p + 1) * PART).min(spec.trajectories))
            };
            v.push(Unit {
                cell,
                part: (p, parts),
                key: CellKey {
                    id: id.clone(),
                    seed: experiment.seed,
                    numerics: crate::NUMERICS_VERSION,
                    rng: RNG_ALGORITHM.into(),
                    start,
                    end,
                    stop: stop.clone(),
                },
                stem: if parts == 1 {
                    id.clone()
                } else {
                    format!("{id}.part{p}")
                },
            });
        }
    }
    v
}

/// The layout of the per-trajectory rows files ([`crate::output::trajectory_rows`]):
/// 2 since the swept parameters have columns, 3 since booleans are written `TRUE`/`FALSE`.
/// Rows files of another layout are not reused.
pub const ROWS_LAYOUT: u32 = 3;

/// Size, row count and hash of a unit's per-trajectory rows file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowsDigest {
    /// [`ROWS_LAYOUT`] when written (absent, read as 1, before layouts were numbered).
    #[serde(default = "first_layout")]
    pub layout: u32,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// [`stable_hash`] of the bytes, hex.
    pub hash: String,
}

fn first_layout() -> u32 {
    1
}

/// A finished unit: its key, aggregate and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellBody {
    /// [`TOOL`].
    pub tool: String,
    /// What determined its numbers.
    pub key: CellKey,
    /// The configuration's label (information).
    pub label: String,
    /// Why an adaptive cell stopped.
    pub stopped: Option<StopReason>,
    /// The aggregate.
    pub accumulator: Accumulator,
    /// The per-trajectory rows file, when written.
    pub rows: Option<RowsDigest>,
    /// Wall-clock seconds the unit took (information; the only field that varies).
    pub elapsed_s: f64,
}

/// `cells/<stem>.json`: the body and a checksum of it, so that hand edits are detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellFile {
    /// [`stable_hash`] of the body's JSON, hex.
    pub checksum: String,
    /// The body.
    pub cell: CellBody,
}

impl CellBody {
    fn checksum(&self) -> String {
        hex(stable_hash(
            &serde_json::to_vec(self).expect("cells serialise"),
        ))
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&CellFile {
            checksum: self.checksum(),
            cell: self.clone(),
        })
        .expect("cells serialise")
    }
}

/// Cell files larger than this are refused unread (a cell holds at most the quantile
/// buffer: 2^20 numbers, about 25 MB of JSON).
pub const MAX_CELL_FILE_BYTES: u64 = 64 << 20;

/// Parses a cell file and checks it against the unit it should hold: its checksum, its key,
/// and counts that `spec` could have produced. The reason is returned on any failure.
pub fn read_cell(bytes: &[u8], unit: &Unit, spec: &ConfigSpec) -> Result<CellBody, String> {
    let file: CellFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not a cell file ({e})"))?;
    if file.cell.tool != TOOL {
        return Err(format!("written by {:?}, not {TOOL}", file.cell.tool));
    }
    if file.cell.checksum() != file.checksum {
        return Err("its checksum does not match its content (edited or damaged)".into());
    }
    let body = file.cell;
    if let Some(why) = body.key.mismatch(&unit.key) {
        return Err(why);
    }
    let len = unit.key.end - unit.key.start;
    let exact_n = unit.key.stop.is_none().then_some(len);
    body.accumulator
        .validate(exact_n, len, spec.events.stay.is_some(), spec.steps())?;
    if unit.key.stop.is_some() != body.stopped.is_some() {
        return Err("its stopping reason does not match the run's kind (fixed or adaptive)".into());
    }
    if let Some(r) = &body.rows
        && r.rows != body.accumulator.n
    {
        return Err(format!(
            "its rows file has {} rows for {} trajectories",
            r.rows, body.accumulator.n
        ));
    }
    Ok(body)
}

/// What a store found for a unit.
#[derive(Debug)]
pub enum Loaded {
    /// A valid unit.
    Valid(Box<CellBody>),
    /// Nothing stored.
    Absent,
    /// Something stored that does not pass [`read_cell`] (the reason): recompute it.
    Damaged(String),
}

/// Receives a unit's outcomes, chunk by chunk in index order, while it is simulated.
pub trait RowSink {
    /// One chunk of the configuration `spec`.
    fn write(&mut self, spec: &ConfigSpec, chunk: &[Outcome]) -> anyhow::Result<()>;
}

/// Where finished units are kept.
pub trait CellStore {
    /// The sink for the per-trajectory outcomes of a unit being computed.
    type Rows: RowSink + Send;
    /// The stored unit, validated.
    fn load(&mut self, unit: &Unit, spec: &ConfigSpec) -> anyhow::Result<Loaded>;
    /// A sink for the outcomes of `unit`, about to be computed.
    fn rows(&mut self, unit: &Unit, spec: &ConfigSpec) -> anyhow::Result<Self::Rows>;
    /// Keeps a computed unit (after all its outcomes went to `rows`).
    fn save(&mut self, unit: &Unit, cell: CellBody, rows: Self::Rows) -> anyhow::Result<()>;
}

/// What [`compute`] did.
#[derive(Debug, Clone, Default)]
pub struct Computed {
    /// Units computed now.
    pub computed: usize,
    /// Units found done and valid.
    pub reused: usize,
    /// Units found damaged or stale and computed again, with the reason.
    pub recomputed: Vec<String>,
}

/// A run stopped on request ([`compute`]'s `stop`): the units finished before are kept.
#[derive(Debug, thiserror::Error)]
#[error(
    "stopped on request: {computed} cells or cell parts computed and kept, {left} left; run again to resume"
)]
pub struct Interrupted {
    /// Units computed and kept by this run before it stopped.
    pub computed: usize,
    /// Units not done.
    pub left: usize,
}

/// Computes the `todo` units of `experiment` that `store` does not already hold (valid),
/// on `pool`, in order. When `stop` is set (by another thread), the unit in flight is
/// dropped at its next chunk (it has no result yet; a later run computes it), and
/// [`Interrupted`] is returned: every unit finished before is kept.
pub fn compute<S: CellStore>(
    experiment: &Experiment,
    todo: &[&Unit],
    store: &mut S,
    pool: &rayon::ThreadPool,
    progress: &mut Progress,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<Computed> {
    let mut done = Computed::default();
    let asked_to_stop = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let interrupted = |done: &Computed, i: usize| Interrupted {
        computed: done.computed,
        left: todo.len() - i,
    };
    for (i, &unit) in todo.iter().enumerate() {
        if asked_to_stop() {
            progress.finish();
            return Err(interrupted(&done, i).into());
        }
        let spec = &experiment.configs[unit.cell];
        match store.load(unit, spec)? {
            Loaded::Valid(_) => {
                done.reused += 1;
                progress.cell_done();
                continue;
            }
            Loaded::Damaged(why) => {
                let msg = format!(
                    "note: the stored {} is not reusable ({why}): computing it again",
                    unit.describe(experiment)
                );
                progress.note(&msg);
                done.recomputed.push(msg);
            }
            Loaded::Absent => {}
        }
        progress.start_cell(&spec.label, unit.key.end - unit.key.start);
        let t0 = Instant::now();
        let mut rows = store.rows(unit, spec)?;
        let mut failed = None;
        let mut on_chunk = |chunk: &[Outcome]| {
            if failed.is_none()
                && let Err(e) = rows.write(spec, chunk)
            {
                failed = Some(e);
            }
            progress.trajectories(chunk.len() as u64);
            if asked_to_stop() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let rule = unit.key.stop.as_ref();
        let simulated = pool.install(|| {
            if unit.part.1 == 1 {
                simulate_cell_until(spec, experiment.seed, rule, &mut on_chunk)
            } else {
                simulate_range_until(spec, experiment.seed, unit.range(), &mut on_chunk)
                    .map(|acc| (acc, None))
            }
        });
        if let Some(e) = failed {
            return Err(e.context(format!("cannot keep the trajectories of {:?}", spec.label)));
        }
        let Some((accumulator, stopped)) = simulated else {
            progress.finish();
            return Err(interrupted(&done, i).into());
        };
        let body = CellBody {
            tool: TOOL.into(),
            key: unit.key.clone(),
            label: spec.label.clone(),
            stopped,
            accumulator,
            rows: None,
            elapsed_s: t0.elapsed().as_secs_f64(),
        };
        store.save(unit, body, rows)?;
        done.computed += 1;
        progress.cell_done();
    }
    progress.finish();
    Ok(done)
}

/// The one fold from finished units to results: the parts of each cell merged in order,
/// summarised with the experiment's statistics, and, with `holm`, every decision of the
/// experiment adjusted together. `load` hands over each unit (validated), given its position
/// in `units`. Only summaries are
/// kept, and the Kaplan–Meier tables only with `keep_curves`, so memory does not grow with
/// the number of trajectories.
pub fn assemble(
    experiment: &Experiment,
    units: &[Unit],
    mut load: impl FnMut(usize, &Unit) -> anyhow::Result<CellBody>,
    keep_curves: bool,
) -> anyhow::Result<Vec<ConfigResult>> {
    let mut results: Vec<ConfigResult> = Vec::with_capacity(experiment.configs.len());
    let mut position = 0;
    for cell_units in units.chunk_by(|a, b| a.cell == b.cell) {
        let mut merged: Option<CellBody> = None;
        let mut elapsed = 0.0;
        for u in cell_units {
            let body = load(position, u)?;
            position += 1;
            elapsed += body.elapsed_s;
            match merged.as_mut() {
                None => merged = Some(body),
                Some(m) => m.accumulator.merge(&body.accumulator),
            }
        }
        let body = merged.expect("a cell has at least one unit");
        let spec = experiment.configs[cell_units[0].cell].clone();
        let mut summary = body
            .accumulator
            .summarize(spec.steps(), &experiment.stats, body.stopped);
        if !keep_curves {
            summary.hit_curve.rows = Vec::new();
        }
        results.push(ConfigResult {
            id: spec.id(),
            spec,
            outcomes: Vec::new(),
            summary,
            elapsed: Duration::from_secs_f64(elapsed.max(1e-9)),
        });
    }
    if experiment.stats.holm {
        adjust_decisions(results.iter_mut().map(|r| &mut r.summary));
    }
    Ok(results)
}

/// Units kept in memory, with every outcome (for library callers and tests).
#[derive(Debug, Default)]
pub struct MemoryStore {
    cells: HashMap<String, CellBody>,
    outcomes: HashMap<String, Vec<Outcome>>,
}

impl RowSink for Vec<Outcome> {
    fn write(&mut self, _: &ConfigSpec, chunk: &[Outcome]) -> anyhow::Result<()> {
        self.extend_from_slice(chunk);
        Ok(())
    }
}

impl CellStore for MemoryStore {
    type Rows = Vec<Outcome>;
    fn load(&mut self, unit: &Unit, _: &ConfigSpec) -> anyhow::Result<Loaded> {
        Ok(match self.cells.get(&unit.stem) {
            Some(c) if c.key == unit.key => Loaded::Valid(Box::new(c.clone())),
            Some(_) => Loaded::Damaged("computed under other settings".into()),
            None => Loaded::Absent,
        })
    }
    fn rows(&mut self, _: &Unit, _: &ConfigSpec) -> anyhow::Result<Vec<Outcome>> {
        Ok(Vec::new())
    }
    fn save(&mut self, unit: &Unit, cell: CellBody, rows: Vec<Outcome>) -> anyhow::Result<()> {
        self.cells.insert(unit.stem.clone(), cell);
        self.outcomes.insert(unit.stem.clone(), rows);
        Ok(())
    }
}

/// Runs every configuration of `experiment` in memory on `threads` worker threads (0: all
/// cores) through the same pipeline as the command line, keeping every outcome.
pub fn execute(experiment: &Experiment, threads: usize) -> anyhow::Result<RunReport> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let start = Instant::now();
    let all = units(experiment);
    let mut store = MemoryStore::default();
    let todo: Vec<&Unit> = all.iter().collect();
    let mut progress = Progress::new(&experiment.name, all.len() as u64, ProgressMode::Quiet);
    compute(experiment, &todo, &mut store, &pool, &mut progress, None)?;
    let mut results = assemble(
        experiment,
        &all,
        |_, u| {
            store
                .cells
                .remove(&u.stem)
                .ok_or_else(|| anyhow::anyhow!("{} was not computed", u.describe(experiment)))
        },
        true,
    )?;
    for u in &all {
        if let Some(o) = store.outcomes.remove(&u.stem) {
            results[u.cell].outcomes.extend(o);
        }
    }
    Ok(RunReport {
        experiment: experiment.clone(),
        results,
        threads: pool.current_num_threads(),
        elapsed: start.elapsed(),
    })
}
