//! Data sets for finite-sum objectives f(x) = (1/n) Σᵢ fᵢ(x): synthetic and seeded, or read
//! from a CSV file.
//!
//! Synthetic data come from a generator of their own, keyed by a `data_seed` and the kind of
//! data set, never from the trajectories' streams: changing how trajectories draw their noise
//! never changes a data set. A CSV file is validated like every input: a missing value, a
//! non-number or a ragged row is an error naming the file, the line and the column.

use crate::rng::{TrajectoryRng, mix_words, trajectory_rng};
use rand::RngExt as _;
use std::path::{Path, PathBuf};

/// n examples of p features each, with a label per example.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    /// Examples.
    pub n: usize,
    /// Features per example.
    pub p: usize,
    /// Features, row-major: example i is `features[i * p .. (i + 1) * p]`.
    pub features: Vec<f64>,
    /// One label (a target value, or ±1 for classification) per example.
    pub labels: Vec<f64>,
    /// The feature names (`x1 … xp` for synthetic data).
    pub names: Vec<String>,
}

impl DataSet {
    /// The features of example `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * self.p..(i + 1) * self.p]
    }

    /// Writes the data set as CSV (the features, then `label`), shortest round-trip numbers.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = self.names.join(",");
        out.push_str(",label\n");
        for i in 0..self.n {
            for v in self.row(i) {
                out.push_str(&format!("{v:?},"));
            }
            out.push_str(&format!("{:?}\n", self.labels[i]));
        }
        out.into_bytes()
    }
}

/// The generator of a synthetic data set: its own stream, keyed by the data seed and a tag
/// naming the kind of data (so two kinds with one seed are independent).
fn data_rng(data_seed: u64, tag: &str) -> TrajectoryRng {
    let key = mix_words(&tag.bytes().map(u64::from).collect::<Vec<_>>());
    trajectory_rng(data_seed, key, 0)
}

fn normal(rng: &mut TrajectoryRng) -> f64 {
    crate::rng::normal(rng)
}

/// n rows aᵢ ~ N(0, I_p), each labelled by `label(aᵢ, rng)` right after it is drawn.
fn gaussian_design(
    rng: &mut TrajectoryRng,
    n: usize,
    p: usize,
    mut label: impl FnMut(&[f64], &mut TrajectoryRng) -> f64,
) -> DataSet {
    let mut features = Vec::with_capacity(n * p);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let start = features.len();
        features.extend((0..p).map(|_| normal(rng)));
        labels.push(label(&features[start..], rng));
    }
    DataSet {
        n,
        p,
        features,
        labels,
        names: (1..=p).map(|j| format!("x{j}")).collect(),
    }
}

/// A Gaussian design for least squares: aᵢ ~ N(0, I_p), bᵢ = aᵢᵀx_plant + σεᵢ with
/// x_plant ~ N(0, I_p) (drawn first) and εᵢ ~ N(0, 1). Returns the data and x_plant.
pub fn gaussian_linear(n: usize, p: usize, sigma: f64, data_seed: u64) -> (DataSet, Vec<f64>) {
    let mut rng = data_rng(data_seed, "gaussian-linear");
    let plant: Vec<f64> = (0..p).map(|_| normal(&mut rng)).collect();
    let data = gaussian_design(&mut rng, n, p, |a, rng| {
        let dot: f64 = a.iter().zip(&plant).map(|(a, x)| a * x).sum();
        dot + sigma * normal(rng)
    });
    (data, plant)
}

/// A Gaussian design for classification: aᵢ ~ N(0, I_p), yᵢ = +1 with probability
/// σ(aᵢᵀx_plant) (logistic model), else −1, with x_plant ~ N(0, I_p) scaled by `scale`.
pub fn gaussian_logistic(n: usize, p: usize, scale: f64, data_seed: u64) -> (DataSet, Vec<f64>) {
    let mut rng = data_rng(data_seed, "gaussian-logistic");
    let plant: Vec<f64> = (0..p).map(|_| scale * normal(&mut rng)).collect();
    let data = gaussian_design(&mut rng, n, p, |a, rng| {
        let m: f64 = a.iter().zip(&plant).map(|(a, x)| a * x).sum();
        let u: f64 = rng.random();
        // P(y = 1) = σ(m); the project's own exp decides it.
        if u < crate::math::elementary::sigmoid(m) {
            1.0
        } else {
            -1.0
        }
    });
    (data, plant)
}

/// Gaussian inputs aᵢ ~ N(0, I_p) (labels 0, to be filled by a model) and `planted`
/// parameters ~ N(0, s²), drawn first: the data of a teacher–student problem.
pub fn gaussian_inputs(
    n: usize,
    p: usize,
    planted: usize,
    scale: f64,
    data_seed: u64,
) -> (DataSet, Vec<f64>) {
    let mut rng = data_rng(data_seed, "teacher-student");
    let plant: Vec<f64> = (0..planted).map(|_| scale * normal(&mut rng)).collect();
    let features: Vec<f64> = (0..n * p).map(|_| normal(&mut rng)).collect();
    let data = DataSet {
        n,
        p,
        features,
        labels: vec![0.0; n],
        names: (1..=p).map(|j| format!("x{j}")).collect(),
    };
    (data, plant)
}

/// A refused data file: names the file, and the line and column where they apply.
#[derive(Debug, thiserror::Error)]
#[error("{file}{at}: {reason}", file = .file.display())]
pub struct DataError {
    /// The file.
    pub file: PathBuf,
    /// ":line:column" (1-based), or empty.
    pub at: String,
    /// Why it is refused.
    pub reason: String,
}

/// Files larger than this are refused unread.
pub const MAX_DATA_BYTES: u64 = 1 << 30;

/// Reads a data set from a CSV file with a header row: every column but `label` is a feature.
/// Refuses an unreadable or oversized file, a missing `label` column, an empty file, a
/// ragged row, an empty cell and a cell that is not a finite number, naming line and column.
pub fn load_csv(path: &Path, label: &str) -> Result<DataSet, DataError> {
    read_csv(path, label).map(|(data, _)| data)
}

/// [`load_csv`], also returning the file's bytes as read (once: the data and, say, a hash of
/// the bytes describe the same file).
pub fn read_csv(path: &Path, label: &str) -> Result<(DataSet, Vec<u8>), DataError> {
    let err = |at: String, reason: String| DataError {
        file: path.to_path_buf(),
        at,
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(String::new(), e.to_string()))?;
    if meta.len() > MAX_DATA_BYTES {
        return Err(err(
            String::new(),
            format!("{} bytes: larger than {MAX_DATA_BYTES}", meta.len()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| err(String::new(), e.to_string()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| err(":1".into(), e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let label_col = header.iter().position(|h| h == label).ok_or_else(|| {
        err(
            ":1".into(),
            format!(
                "no column named {label:?} (the label); columns: {}",
                header.join(", ")
            ),
        )
    })?;
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != label_col)
        .map(|(_, h)| h.clone())
        .collect();
    if names.is_empty() {
        return Err(err(
            ":1".into(),
            "no feature columns besides the label".into(),
        ));
    }
    let p = names.len();
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for (r, rec) in rdr.records().enumerate() {
        let line = r + 2;
        let rec = rec.map_err(|e| err(format!(":{line}"), e.to_string()))?;
        if rec.len() != header.len() {
            return Err(err(
                format!(":{line}"),
                format!(
                    "{} fields, the header has {} (a ragged row)",
                    rec.len(),
                    header.len()
                ),
            ));
        }
        for (j, cell) in rec.iter().enumerate() {
            let at = format!(":{line}:{}", j + 1);
            let cell = cell.trim();
            if cell.is_empty() {
                return Err(err(at, format!("column {:?}: missing value", header[j])));
            }
            let v: f64 = cell.parse().map_err(|_| {
                err(
                    at.clone(),
                    format!("column {:?}: {cell:?} is not a number", header[j]),
                )
            })?;
            if !v.is_finite() {
                return Err(err(
                    at,
                    format!("column {:?}: {cell} is not finite", header[j]),
                ));
            }
            if j == label_col {
                labels.push(v);
            } else {
                features.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(err(String::new(), "no data rows".into()));
    }
    drop(rdr);
    let data = DataSet {
        n: labels.len(),
        p,
        features,
        labels,
        names,
    };
    Ok((data, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_data_depend_only_on_their_seed() {
        let (a, pa) = gaussian_linear(50, 3, 0.1, 7);
        let (b, pb) = gaussian_linear(50, 3, 0.1, 7);
        let (c, _) = gaussian_linear(50, 3, 0.1, 8);
        assert_eq!((a.clone(), pa), (b, pb));
        assert_ne!(a.features, c.features);
        assert_eq!(a.row(2), &a.features[6..9]);
    }
}
