//! Per-trajectory rows as they are written, unit by unit: CSV (the rows of
//! `trajectories.csv`) or Parquet (one file per unit, read together as a dataset).
//!
//! Each unit's rows go to one file, hashed and counted as they are written, so that the cell
//! file can name its rows file's digest and a reader can check it before trusting it.

use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use crate::rng::StableHasher;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// How per-trajectory rows are kept.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum RowsFormat {
    /// `trajectories.csv`: one file, with a header (the units' rows files concatenated).
    #[default]
    Csv,
    /// `trajectories/`: a Parquet dataset, one typed, snappy-compressed file per unit (hard
    /// links to the cells' own files: one copy on disk).
    Parquet,
}

impl RowsFormat {
    /// Whether this is CSV (the default, left out of manifests).
    pub fn is_csv(&self) -> bool {
        *self == RowsFormat::Csv
    }

    /// The extension of a unit's rows file, after `<stem>.trajectories.`.
    pub fn extension(&self) -> &'static str {
        match self {
            RowsFormat::Csv => "csv",
            RowsFormat::Parquet => "parquet",
        }
    }

    /// An error when this build cannot write the format.
    pub fn check_available(&self) -> anyhow::Result<()> {
        if *self == RowsFormat::Parquet && !cfg!(feature = "parquet") {
            return Err(parquet_unavailable());
        }
        Ok(())
    }
}

fn parquet_unavailable() -> anyhow::Error {
    anyhow::anyhow!(
        "--format parquet: this sgd-escape was built without Parquet support; build it with the default features (or `--features parquet`)"
    )
}

/// A writer that hashes ([`StableHasher`]) and counts the bytes going through it.
pub struct Hashing<W> {
    inner: W,
    hasher: StableHasher,
    bytes: u64,
}

impl<W> Hashing<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: StableHasher::default(),
            bytes: 0,
        }
    }

    /// The writer, the bytes written and their hash.
    pub fn into_parts(self) -> (W, u64, u64) {
        (self.inner, self.bytes, self.hasher.finish())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.hasher.update(&buf[..k]);
        self.bytes += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One unit's rows file being written.
pub enum RowsWriter<W: Write + Send> {
    /// CSV rows, no header.
    Csv {
        /// The file.
        out: Hashing<W>,
        /// Columns of final coordinates.
        max_dim: usize,
    },
    /// A Parquet file.
    #[cfg(feature = "parquet")]
    Parquet(Box<super::parquet::ParquetRows<Hashing<W>>>),
}

impl<W: Write + Send> RowsWriter<W> {
    /// Starts a rows file of `experiment` in `format` on `out`.
    pub fn new(format: RowsFormat, experiment: &Experiment, out: W) -> anyhow::Result<Self> {
        Ok(match format {
            RowsFormat::Csv => RowsWriter::Csv {
                out: Hashing::new(out),
                max_dim: experiment.max_dim(),
            },
            #[cfg(feature = "parquet")]
            RowsFormat::Parquet => RowsWriter::Parquet(Box::new(super::parquet::ParquetRows::new(
                Hashing::new(out),
                experiment,
            )?)),
            #[cfg(not(feature = "parquet"))]
            RowsFormat::Parquet => return Err(parquet_unavailable()),
        })
    }

    /// Appends the outcomes of `spec` (in index order).
    pub fn write(&mut self, spec: &ConfigSpec, chunk: &[Outcome]) -> anyhow::Result<()> {
        match self {
            RowsWriter::Csv { out, max_dim } => {
                out.write_all(&super::trajectory_rows(spec, chunk, *max_dim)?)?;
            }
            #[cfg(feature = "parquet")]
            RowsWriter::Parquet(p) => p.write(spec, chunk)?,
        }
        Ok(())
    }

    /// Ends the file: the writer, the bytes written and their hash.
    pub fn finish(self) -> anyhow::Result<(W, u64, u64)> {
        let out = match self {
            RowsWriter::Csv { out, .. } => out,
            #[cfg(feature = "parquet")]
            RowsWriter::Parquet(p) => p.finish()?,
        };
        Ok(out.into_parts())
    }
}
