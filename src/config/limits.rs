//! Sizes a user types, bounded before anything is allocated.
//!
//! Every product of sizes is computed with checked arithmetic. A size whose product
//! overflows, or whose estimated memory exceeds this machine's, is refused before anything
//! runs, naming the field. Memory never depends on a typed number without such a bound.
//! A run estimated to take more than an hour gets a warning with its estimate.
//!
//! The estimates count what the pipeline actually holds at once: the outcomes of one chunk
//! (or adaptive batch) with their final points, every worker's lanes, the resolved
//! configurations, the units of very large cells, the theorem check's points and, for the
//! theorem check, every outcome of a configuration.

use crate::engine::LANES;
use crate::stats::aggregate::{CHUNK, PART};

/// Bytes of an outcome besides its final point (indices, times, distances, vector headers).
const OUTCOME_BYTES: u64 = 160;
/// Bytes of a resolved configuration besides its vectors (label, sections, hashes).
const CONFIG_BYTES: u64 = 2048;
/// Bytes of one unit (a part of a very large cell) in the list of units.
const UNIT_BYTES: u64 = 512;
/// Coordinate-updates per second this machine sustains on all cores (measured: about
/// 2·10⁸ on two cores; see the README's Performance section), for the time estimate.
pub const UPDATES_PER_SECOND: f64 = 2e8;
/// Values one sweep axis may hold (a `lin`/`log` range is expanded into a list).
pub const MAX_AXIS_VALUES: u64 = 10_000_000;
/// Replicates `calibrate` accepts.
pub const MAX_REPLICATES: u64 = 10_000_000;

/// Physical memory of this machine (Linux `MemTotal`; 4 GiB where it cannot be read), read
/// once: every size check of a sweep of many cells asks for it.
pub fn machine_memory() -> u64 {
    static MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(read_machine_memory)
}

fn read_machine_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(4 << 30, |kb| kb.saturating_mul(1024))
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), when the platform tells.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Memory that one run may plan to use: the machine's, less a margin for the system.
pub fn memory_budget() -> u64 {
    machine_memory() / 10 * 9
}

/// "12.3 GiB".
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        b if b >= (1u64 << 30) as f64 => format!("{:.1} GiB", b / (1u64 << 30) as f64),
        b if b >= (1u64 << 20) as f64 => format!("{:.1} MiB", b / (1u64 << 20) as f64),
        b => format!("{:.0} KiB", b / 1024.0),
    }
}

/// Checked product of sizes; `None` on overflow.
pub fn product(sizes: &[u64]) -> Option<u64> {
    sizes.iter().try_fold(1u64, |a, &b| a.checked_mul(b))
}

/// `Err(reason)` when `need` (None: overflowed) exceeds the memory budget.
pub fn fits(need: Option<u64>, what: &str) -> Result<u64, String> {
    let budget = memory_budget();
    match need {
        None => Err(format!(
            "{what} needs more memory than can be counted (the sizes overflow 64 bits)"
        )),
        Some(n) if n > budget => Err(format!(
            "{what} needs an estimated {} of memory, more than this machine's {} (of {})",
            bytes(n),
            bytes(budget),
            bytes(machine_memory())
        )),
        Some(n) => Ok(n),
    }
}

/// Memory of `count` outcomes of dimension `dim` held at once.
pub fn outcomes_memory(count: u64, dim: u64) -> Option<u64> {
    let each = dim.checked_mul(8)?.checked_add(OUTCOME_BYTES)?;
    count.checked_mul(each)
}

/// What simulating one configuration of dimension `dim` holds: a chunk of outcomes (twice:
/// the per-batch vectors and the flattened chunk), the lanes of every worker.
pub fn dimension_memory(dim: u64) -> Option<u64> {
    let chunk = outcomes_memory(CHUNK, dim)?.checked_mul(2)?;
    let lanes = product(&[threads(), LANES as u64, 8, dim, 8])?;
    chunk.checked_add(lanes)
}

/// This machine's threads, read once.
fn threads() -> u64 {
    static THREADS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64))
}

/// Largest number of features of a least-squares or logistic data set: building the
/// objective takes eigenvalues of a p × p matrix, O(p³).
pub const MAX_FEATURES: u64 = 4096;

/// Memory of a finite sum over `n` examples of `p` features: the data set, the copies its
/// construction makes (the design matrix and p × p matrices), and the batch sampler's
/// permutation of n held by every lane of every worker.
pub fn examples_memory(n: u64, p: u64) -> Option<u64> {
    let data = product(&[n, p.checked_add(1)?, 8, 3])?;
    let square = product(&[p, p, 8, 4])?;
    let samplers = product(&[threads(), LANES as u64, n, 8])?;
    data.checked_add(square)?.checked_add(samplers)
}

/// Memory of the resolved configurations of a sweep of `cells` cells of dimension `dim`.
pub fn configs_memory(cells: u64, dim: u64) -> Option<u64> {
    let each = dim.checked_mul(8 * 4)?.checked_add(CONFIG_BYTES)?;
    cells.checked_mul(each)
}

/// Memory of the units of a cell of `n` trajectories (split in parts of [`PART`]).
pub fn units_memory(n: u64) -> Option<u64> {
    n.div_ceil(PART).checked_mul(UNIT_BYTES)
}

/// Time and memory a run is estimated to take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Coordinate-updates of the simulation (n · T · d summed over configurations).
    pub coordinate_updates: f64,
    /// Seconds at [`UPDATES_PER_SECOND`].
    pub seconds: f64,
    /// Peak memory in bytes.
    pub memory: u64,
}

impl Estimate {
    /// A warning when the run is estimated to take more than an hour.
    pub fn warning(&self) -> Option<String> {
        (self.seconds > 3600.0).then(|| {
            format!(
                "warning: this run is estimated to take {:.1} hours on this machine ({:.2e} coordinate-updates at ~{:.0e}/s) and about {} of memory",
                self.seconds / 3600.0,
                self.coordinate_updates,
                UPDATES_PER_SECOND,
                bytes(self.memory)
            )
        })
    }
}

/// The estimate of a validated experiment (its sizes already bounded).
pub fn estimate(e: &crate::experiment::Experiment) -> Estimate {
    let mut updates = 0.0;
    let mut peak = 0u64;
    for c in &e.configs {
        let n = c.trajectories as f64;
        // A minibatch step costs B example gradients, each about d updates, and events on y
        // a full gradient (n examples) at every measured step.
        let per_step = match (c.noise.minibatch(), c.objective.examples()) {
            (Some(m), Some(n)) => {
                let y = if c.events.on == crate::events::Measure::Y {
                    n as f64 / c.events.every as f64
                } else {
                    0.0
                };
                m.batch as f64 + y
            }
            _ => 1.0,
        };
        updates += n * c.steps() as f64 * c.dim() as f64 * per_step;
        let held = dimension_memory(c.dim() as u64).unwrap_or(u64::MAX);
        peak = peak.max(held);
    }
    let configs: u64 = e
        .configs
        .iter()
        .map(|c| configs_memory(1, c.dim() as u64).unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add);
    let units: u64 = e
        .configs
        .iter()
        .map(|c| units_memory(c.trajectories).unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add);
    Estimate {
        coordinate_updates: updates,
        seconds: updates / UPDATES_PER_SECOND,
        memory: peak.saturating_add(configs).saturating_add(units),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_checked() {
        assert_eq!(product(&[3, 4]), Some(12));
        assert_eq!(product(&[u64::MAX, 2]), None);
        assert!(fits(None, "x").unwrap_err().contains("overflow"));
        assert!(
            fits(Some(u64::MAX / 2), "x")
                .unwrap_err()
                .contains("more than")
        );
        assert!(dimension_memory(i64::MAX as u64).is_none());
        assert!(fits(dimension_memory(1_000_000_000), "d").is_err());
        assert!(fits(dimension_memory(100), "d").is_ok());
    }
}
