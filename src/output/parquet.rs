//! Per-trajectory rows as Parquet: the columns of `trajectories.csv`, typed (unsigned
//! integers for steps, nullable where the CSV leaves a cell empty, booleans, 64-bit floats),
//! snappy-compressed.
//!
//! The bytes depend only on the rows: outcomes are buffered and handed to the writer in
//! batches of a fixed number of rows counted from the unit's first row (page boundaries
//! follow the batches), row groups hold a fixed number of rows, both set by the number of
//! columns alone ([`sizes`]), and the writer stamps no time.

use super::param_columns;
use crate::events::Outcome;
use crate::experiment::{ConfigSpec, Experiment};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::sync::Arc;

/// Rows per batch handed to the writer, and per row group, for a schema of `columns`
/// columns: batches of at most 2^16 rows and 2^23 values (64 MiB of floats), row groups of
/// at most 2^20 rows and about 2^24 values (what the writer holds in memory before it
/// writes a group out), a whole number of batches. A function of the column count alone,
/// so the same rows give the same bytes.
pub fn sizes(columns: usize) -> (usize, usize) {
    let columns = columns.max(1);
    let batch = ((1 << 23) / columns).clamp(1, 1 << 16);
    let group = ((1 << 24) / columns).clamp(batch, 1 << 20) / batch * batch;
    (batch, group)
}

/// The schema of every rows file of `experiment` (the same for all its units, so that the
/// files read as one dataset).
pub fn schema(experiment: &Experiment) -> SchemaRef {
    let mut fields = vec![Field::new("config", DataType::Utf8, false)];
    fields.extend(
        param_columns(experiment)
            .into_iter()
            .map(|name| Field::new(name, DataType::Float64, false)),
    );
    fields.extend([
        Field::new("index", DataType::UInt64, false),
        Field::new("first_hit", DataType::UInt64, true),
        Field::new("stayed", DataType::Boolean, true),
        Field::new("first_exit", DataType::UInt64, true),
        Field::new("diverged_at", DataType::UInt64, true),
        Field::new("final_dist", DataType::Float64, false),
        Field::new("final_y_dist", DataType::Float64, false),
        Field::new("final_value", DataType::Float64, false),
    ]);
    fields.extend(
        (1..=experiment.max_dim()).map(|i| Field::new(format!("x_{i}"), DataType::Float64, true)),
    );
    fields.push(Field::new("rng", DataType::Utf8, false));
    fields.push(Field::new("numerics", DataType::UInt32, false));
    Arc::new(Schema::new(fields))
}

/// The record batch of `outcomes` of `spec`.
pub fn batch(
    schema: &SchemaRef,
    spec: &ConfigSpec,
    outcomes: &[Outcome],
) -> anyhow::Result<RecordBatch> {
    let n = outcomes.len();
    let max_dim = schema
        .fields()
        .iter()
        .filter(|f| f.name().starts_with("x_"))
        .count();
    let u64s = |f: fn(&Outcome) -> Option<u64>| -> ArrayRef {
        Arc::new(outcomes.iter().map(f).collect::<UInt64Array>())
    };
    let f64s = |f: fn(&Outcome) -> f64| -> ArrayRef {
        Arc::new(outcomes.iter().map(f).collect::<Float64Array>())
    };
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(StringArray::from(vec![spec.label.as_str(); n]))];
    columns.extend(
        spec.params
            .iter()
            .map(|p| Arc::new(Float64Array::from(vec![p.1; n])) as ArrayRef),
    );
    columns.extend([
        u64s(|o| Some(o.index)),
        u64s(|o| o.first_hit),
        Arc::new(outcomes.iter().map(|o| o.stayed).collect::<BooleanArray>()),
        u64s(|o| o.first_exit),
        u64s(|o| o.diverged_at),
        f64s(|o| o.final_dist),
        f64s(|o| o.final_y_dist),
        f64s(|o| o.final_value),
    ]);
    columns.extend((0..max_dim).map(|i| {
        Arc::new(
            outcomes
                .iter()
                .map(|o| o.final_x.get(i).copied())
                .collect::<Float64Array>(),
        ) as ArrayRef
    }));
    columns.push(Arc::new(StringArray::from(vec![
        crate::output::RNG_SHORT;
        n
    ])));
    columns.push(Arc::new(UInt32Array::from(vec![
        crate::NUMERICS_VERSION;
        n
    ])));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// One unit's Parquet rows file being written.
pub struct ParquetRows<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    /// Outcomes not yet handed to the writer (fewer than `batch`), with their spec.
    pending: Vec<Outcome>,
    batch: usize,
    spec: Option<ConfigSpec>,
}

impl<W: Write + Send> ParquetRows<W> {
    /// Starts a rows file of `experiment` on `out`.
    pub fn new(out: W, experiment: &Experiment) -> anyhow::Result<Self> {
        let schema = schema(experiment);
        let (batch, group) = sizes(schema.fields().len());
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(group))
            .build();
        Ok(Self {
            writer: ArrowWriter::try_new(out, schema.clone(), Some(props))?,
            schema,
            pending: Vec::with_capacity(batch),
            batch,
            spec: None,
        })
    }

    /// Appends outcomes of `spec` (one configuration per file, in index order).
    pub fn write(&mut self, spec: &ConfigSpec, chunk: &[Outcome]) -> anyhow::Result<()> {
        if self.spec.is_none() {
            self.spec = Some(spec.clone());
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            let take = (self.batch - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.batch {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(spec) = &self.spec
            && !self.pending.is_empty()
        {
            self.writer
                .write(&batch(&self.schema, spec, &self.pending)?)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes what is pending and the footer; returns the underlying writer.
    pub fn finish(mut self) -> anyhow::Result<W> {
        self.flush()?;
        Ok(self.writer.into_inner()?)
    }
}

/// Reads the rows files of a Parquet dataset: every record batch of `path` (a file).
pub fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<RecordBatch>> {
    use anyhow::Context;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .build()?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::sizes;

    #[test]
    fn batches_and_row_groups_stay_bounded_and_aligned() {
        assert_eq!(sizes(15), (1 << 16, 1 << 20));
        for columns in [1, 15, 100, 1000, 12_345, 1 << 20, 1 << 24] {
            let (batch, group) = sizes(columns);
            assert!(
                batch >= 1 && group >= batch && group % batch == 0,
                "{columns}"
            );
            assert!(batch <= 1 << 16 && group <= 1 << 20, "{columns}");
            // Values held: a batch ≤ 2^23 and a group ≤ 2^24 (or one row, whatever its width).
            assert!(batch == 1 || batch * columns <= 1 << 23, "{columns}");
            assert!(group == batch || group * columns <= 1 << 24, "{columns}");
        }
    }
}
