//! Outputs: the terminal table and the result files.
//!
//! Each file format is an [`Exporter`]; [`write_all`] writes every one atomically (to a
//! temporary name in the same directory, synced, then renamed), so an interrupted run never
//! leaves a half-written file. Adding a format is one new exporter.

pub mod atomic;
pub mod convexity;
pub(crate) mod files;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod progress;
pub mod rows;
pub mod table;
mod theorem;

pub use atomic::{AtomicFile, atomic_write};
pub use files::{
    RNG_SHORT, RUN_JSON_DETAIL_LIMIT, RunJson, SUMMARY_COLUMNS, SummaryCsv, TrajectoriesCsv,
    param_columns, peak_rss_mb, trajectories_header, trajectory_rows,
};
pub use rows::RowsFormat;
pub use table::render_table;
pub use theorem::{THEOREM_COLUMNS, render_theorem_table, theorem_csv};

use crate::run::RunReport;
use std::path::{Path, PathBuf};

/// What every JSON result file starts with: the tool, its version and build (commit and
/// profile), the generator, the numerics version, when it was written (UTC) and the
/// command line that wrote it. `extra` adds the file's own keys. The build, date and
/// command line vary between runs of the same experiment; the numbers do not.
pub fn provenance(extra: serde_json::Value) -> serde_json::Value {
    let mut doc = serde_json::json!({
        "tool": "sgd-escape",
        "version": env!("CARGO_PKG_VERSION"),
        "build": { "commit": crate::BUILD_COMMIT, "profile": crate::BUILD_PROFILE },
        "rng": crate::rng::RNG_ALGORITHM,
        "numerics": crate::NUMERICS_VERSION,
        "date": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "command": std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
    });
    if let (Some(doc), serde_json::Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
    doc
}

/// One result file.
pub trait Exporter {
    /// The file name inside the result directory.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, report: &RunReport) -> anyhow::Result<Vec<u8>>;
}

/// Writes every exporter's file into `dir` (created if needed); returns the paths.
pub fn write_all(
    report: &RunReport,
    dir: &Path,
    exporters: &[&dyn Exporter],
) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for e in exporters {
        let path = dir.join(e.file_name());
        let bytes = e.render(report)?;
        atomic_write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The standard set: `summary.csv`, `trajectories.csv` (unless `with_trajectories` is
/// false) and `run.json`.
pub fn standard_exporters(with_trajectories: bool) -> Vec<&'static dyn Exporter> {
    let mut v: Vec<&'static dyn Exporter> = vec![&SummaryCsv];
    if with_trajectories {
        v.push(&TrajectoriesCsv);
    }
    v.push(&RunJson);
    v
}
