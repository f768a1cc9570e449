//! What `report` reads: only the documented outputs of a result directory (`summary.csv`,
//! `run.json`, `trajectories.csv`), never the resume files (`sweep.json`, `cells/`) nor the
//! experiment's kinds. So every result directory reports alike: one written by `run`, by
//! `merge`, a shipped one that keeps only those files, or one of kinds only a user's program
//! knows.
//!
//! Every file is validated as it is read: required columns, numbers that parse, probabilities
//! in [0, 1] with lower ≤ estimate ≤ upper, and `run.json` and `summary.csv` from the same run
//! (the same configurations in the same order). A file that fails says which and why.

use crate::output::SUMMARY_COLUMNS;
use crate::stats::decision::Verdict;
use crate::stats::survival::KaplanMeier;
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::Path;

type Res<T> = anyhow::Result<T>;

/// Largest `run.json` or `summary.csv` read (bytes): far above what any run writes (run.json
/// keeps its details for at most 100 configurations), so that a damaged or foreign file
/// cannot make `report` allocate without bound.
const MAX_READ: u64 = 1 << 30;

/// A probability as `summary.csv` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probability {
    /// The estimate k/n.
    pub estimate: f64,
    /// The interval's lower bound.
    pub lower: f64,
    /// The interval's upper bound.
    pub upper: f64,
    /// The decision against the threshold, when one was asked for.
    pub verdict: Option<Verdict>,
}

/// One configuration of a result directory, as its files record it.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The label (`config` column).
    pub label: String,
    /// The configuration's identity (`config_id` column).
    pub config_id: String,
    /// The swept parameters and their values, in the file's order.
    pub params: Vec<(String, f64)>,
    /// T, the steps of every trajectory.
    pub steps: u64,
    /// Trajectories summarised.
    pub n: u64,
    /// Of them, those that reached the ball.
    pub reach_k: u64,
    /// P(reach).
    pub reach: Probability,
    /// P(stay), when a stay event was asked for.
    pub stay: Option<Probability>,
    /// The Kaplan–Meier curve of the hitting time (from `run.json`, which keeps it for runs
    /// of at most 100 configurations).
    pub hit_curve: Option<KaplanMeier>,
}

/// A run's configurations and what the plots need besides.
#[derive(Debug, Clone)]
pub struct Run {
    /// The experiment's name.
    pub name: String,
    /// Its description (from `run.json`; empty without one).
    pub description: String,
    /// The reach and stay thresholds, when decisions were asked for.
    pub thresholds: (Option<f64>, Option<f64>),
    /// The configurations, in the files' order.
    pub cells: Vec<Cell>,
    /// The swept parameters spaced geometrically (from `run.json`): drawn on a log axis.
    pub log_axes: Vec<String>,
}

/// Values beyond this magnitude are not drawn (their axis range would not be finite).
pub const PLOT_LIMIT: f64 = 1e150;

/// The final points of a run's trajectories (first coordinate), by configuration label.
#[derive(Debug, Clone, Default)]
pub struct FinalPoints {
    /// The points that can be drawn: finite, of magnitude at most [`PLOT_LIMIT`].
    pub by: BTreeMap<String, Vec<f64>>,
    /// Per configuration, the trajectories whose point cannot be drawn: beyond
    /// ±[`PLOT_LIMIT`] (runs on their way to divergence), not finite or empty (diverged).
    /// Plots count them; they are never dropped silently.
    pub undrawn: BTreeMap<String, u64>,
}

impl FinalPoints {
    /// A configuration's drawable points and its number of undrawn ones.
    pub fn of(&self, label: &str) -> (&[f64], u64) {
        (
            self.by.get(label).map_or(&[][..], |v| &v[..]),
            self.undrawn.get(label).copied().unwrap_or(0),
        )
    }

    /// Counts of a configuration's points in `bins` equal bins on [lo, hi], and the number
    /// not counted there (outside the range, or undrawn): nothing is dropped silently.
    pub fn histogram(&self, label: &str, lo: f64, hi: f64, bins: usize) -> (Vec<u64>, u64) {
        let (xs, mut outside) = self.of(label);
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0u64; bins];
        for &x in xs {
            if x >= lo && x <= hi {
                // Clamped: rounding can put a point at hi (or just below) into bin `bins`.
                counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
            } else {
                outside += 1;
            }
        }
        (counts, outside)
    }
}

/// The final points of `trajectories.csv`, or of the Parquet dataset `trajectories/`
/// (`None` without either), checked against the summary: every configuration has exactly
/// its n rows and its number of hits, and no row belongs to another, or the file is another
/// run's and is refused.
pub fn final_points(dir: &Path, cells: &[Cell]) -> Res<Option<FinalPoints>> {
    let mut hits: BTreeMap<String, u64> = BTreeMap::new();
    let mut points = FinalPoints::default();
    let mut add = |config: &str, hit: bool, x: Option<f64>| {
        if hit {
            *hits.entry(config.to_string()).or_default() += 1;
        }
        match x {
            Some(x) if x.abs() <= PLOT_LIMIT => {
                points.by.entry(config.to_string()).or_default().push(x)
            }
            _ => *points.undrawn.entry(config.to_string()).or_default() += 1,
        }
    };
    let csv_file = dir.join("trajectories.csv");
    let dataset = dir.join("trajectories");
    let file = if csv_file.is_file() {
        read_csv_points(&csv_file, &mut add)?;
        csv_file
    } else if dataset.is_dir() {
        if !read_parquet_points(&dataset, &mut add)? {
            return Ok(None);
        }
        dataset
    } else {
        return Ok(None);
    };
    for c in cells {
        let rows = points.by.get(&c.label).map_or(0, |v| v.len() as u64)
            + points.undrawn.get(&c.label).copied().unwrap_or(0);
        let reached = hits.get(&c.label).copied().unwrap_or(0);
        if rows != c.n || reached != c.reach_k {
            bail!(
                "{}: {rows} rows for {:?}, {reached} of them reached, where summary.csv counts {} and {}: the file is not from the run summary.csv describes",
                file.display(),
                c.label,
                c.n,
                c.reach_k
            );
        }
    }
    let rows: u64 = points.by.values().map(|v| v.len() as u64).sum::<u64>()
        + points.undrawn.values().sum::<u64>();
    if rows != cells.iter().map(|c| c.n).sum::<u64>() {
        bail!(
            "{}: rows of configurations that summary.csv does not have: the file is not from the run it describes",
            file.display()
        );
    }
    Ok(Some(points))
}

/// Feeds `add` (configuration, reached, first coordinate) from a `trajectories.csv`.
fn read_csv_points(file: &Path, add: &mut impl FnMut(&str, bool, Option<f64>)) -> Res<()> {
    let mut rd =
        csv::Reader::from_path(file).with_context(|| format!("reading {}", file.display()))?;
    let header = rd.headers()?.clone();
    let (Some(ci), Some(xi), Some(hi)) = (
        header.iter().position(|h| h == "config"),
        header.iter().position(|h| h == "x_1"),
        header.iter().position(|h| h == "first_hit"),
    ) else {
        bail!(
            "{}: no `config`, `x_1` or `first_hit` column: not a trajectories.csv written by sgd-escape",
            file.display()
        );
    };
    for rec in rd.records() {
        let rec = rec.with_context(|| format!("reading {}", file.display()))?;
        add(&rec[ci], !rec[hi].is_empty(), rec[xi].parse::<f64>().ok());
    }
    Ok(())
}

/// Feeds `add` from the Parquet dataset `dir` (its files in name order); `false`, with a
/// note, when this build reads no Parquet.
#[cfg(feature = "parquet")]
fn read_parquet_points(dir: &Path, add: &mut impl FnMut(&str, bool, Option<f64>)) -> Res<bool> {
    use arrow_array::{Array, Float64Array, StringArray, UInt64Array};
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    for file in files {
        for batch in crate::output::parquet::read_file(&file)? {
            let column = |name: &str| {
                batch.column_by_name(name).with_context(|| {
                    format!(
                        "{}: no `{name}` column: not a rows file written by sgd-escape",
                        file.display()
                    )
                })
            };
            let wrong = || format!("{}: a column of the wrong type", file.display());
            let config = column("config")?;
            let config = config
                .as_any()
                .downcast_ref::<StringArray>()
                .with_context(wrong)?;
            let hit = column("first_hit")?;
            let hit = hit
                .as_any()
                .downcast_ref::<UInt64Array>()
                .with_context(wrong)?;
            let x = column("x_1")?;
            let x = x
                .as_any()
                .downcast_ref::<Float64Array>()
                .with_context(wrong)?;
            for i in 0..batch.num_rows() {
                add(
                    config.value(i),
                    hit.is_valid(i),
                    x.is_valid(i).then(|| x.value(i)),
                );
            }
        }
    }
    Ok(true)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet_points(dir: &Path, _: &mut impl FnMut(&str, bool, Option<f64>)) -> Res<bool> {
    eprintln!(
        "note: {} is a Parquet dataset and this sgd-escape was built without Parquet: no final-point plots",
        dir.display()
    );
    Ok(false)
}

/// Reads a result file, refusing one larger than [`MAX_READ`].
pub(super) fn read_bounded(path: &Path) -> Res<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_READ {
        bail!(
            "{}: {len} bytes, more than any run writes ({MAX_READ}): not read",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The column name a swept parameter is written under, undone: `summary.csv` prefixes
/// `swept_` to a parameter named like one of its own columns or starting with `swept_`.
fn parameter_name(column: &str) -> String {
    column
        .strip_prefix("swept_")
        .filter(|rest| SUMMARY_COLUMNS.contains(rest) || rest.starts_with("swept_"))
        .unwrap_or(column)
        .to_string()
}

fn verdict(s: &str) -> Option<Option<Verdict>> {
    match s {
        "" => Some(None),
        "holds" => Some(Some(Verdict::Holds)),
        "violated" => Some(Some(Verdict::Violated)),
        "inconclusive" => Some(Some(Verdict::Inconclusive)),
        _ => None,
    }
}

/// Reads `dir`'s `summary.csv` and, where it has one, `run.json` (the description and the
/// hitting-time curves); `None` when there is no `summary.csv`.
pub fn run(dir: &Path) -> Res<Option<Run>> {
    let path = dir.join("summary.csv");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = read_bounded(&path)?;
    let mut run = summary_csv(&bytes).with_context(|| format!("{}", path.display()))?;
    let json = dir.join("run.json");
    if json.exists() {
        run_json(&read_bounded(&json)?, &mut run).with_context(|| format!("{}", json.display()))?;
    }
    Ok(Some(run))
}

/// Parses `summary.csv`: the configurations, their parameters and probabilities.
fn summary_csv(bytes: &[u8]) -> Res<Run> {
    let mut rd = csv::Reader::from_reader(bytes);
    let header = rd.headers().context("no header")?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no `{name}` column: not a summary.csv written by sgd-escape"))
    };
    let (config, id) = (col("config")?, col("config_id")?);
    if config >= id {
        bail!("`config` must come before `config_id`");
    }
    let names: Vec<String> = header
        .iter()
        .skip(config + 1)
        .take(id - config - 1)
        .map(parameter_name)
        .collect();
    let experiment = col("experiment")?;
    let steps = col("steps")?;
    let n = col("n")?;
    let reach_k = col("reach_k")?;
    let event = |prefix: &str| -> Res<[usize; 5]> {
        Ok([
            col(prefix)?,
            col(&format!("{prefix}_lower"))?,
            col(&format!("{prefix}_upper"))?,
            col(&format!("{prefix}_verdict"))?,
            col(&format!("{prefix}_threshold"))?,
        ])
    };
    let (reach, stay) = (event("reach")?, event("stay")?);
    let mut run = Run {
        name: String::new(),
        description: String::new(),
        thresholds: (None, None),
        cells: vec![],
        log_axes: vec![],
    };
    let mut thresholds: [BTreeMap<u64, f64>; 2] = Default::default();
    for (i, rec) in rd.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("line {line}"))?;
        let field = |at: usize| rec.get(at).unwrap_or_default();
        let number = |at: usize| -> Res<f64> {
            field(at).parse::<f64>().with_context(|| {
                format!(
                    "line {line}, `{}`: {:?} is not a number",
                    &header[at],
                    field(at)
                )
            })
        };
        let probability = |cols: [usize; 5]| -> Res<Option<(Probability, Option<f64>)>> {
            if field(cols[0]).is_empty() {
                return Ok(None);
            }
            let p = Probability {
                estimate: number(cols[0])?,
                lower: number(cols[1])?,
                upper: number(cols[2])?,
                verdict: verdict(field(cols[3])).with_context(|| {
                    format!(
                        "line {line}: verdict {:?} is not one of holds, violated, inconclusive",
                        field(cols[3])
                    )
                })?,
            };
            if !(0.0 <= p.lower && p.lower <= p.estimate && p.estimate <= p.upper && p.upper <= 1.0)
            {
                bail!(
                    "line {line}, `{}`: {} with interval [{}, {}] is not a probability inside its interval",
                    &header[cols[0]],
                    p.estimate,
                    p.lower,
                    p.upper
                );
            }
            let threshold = match field(cols[4]) {
                "" => None,
                _ => Some(number(cols[4])?),
            };
            Ok(Some((p, threshold)))
        };
        let (reach_p, reach_t) =
            probability(reach)?.with_context(|| format!("line {line}: no `reach` estimate"))?;
        let stay = probability(stay)?;
        for (k, t) in [reach_t, stay.as_ref().and_then(|s| s.1)]
            .into_iter()
            .enumerate()
        {
            if let Some(t) = t {
                thresholds[k].insert(t.to_bits(), t);
            }
        }
        if i == 0 {
            run.name = field(experiment).to_string();
        }
        let params = names
            .iter()
            .enumerate()
            .map(|(k, n)| Ok((n.clone(), number(config + 1 + k)?)))
            .collect::<Res<Vec<_>>>()?;
        run.cells.push(Cell {
            label: field(config).to_string(),
            config_id: field(id).to_string(),
            params,
            steps: field(steps).parse().with_context(|| {
                format!("line {line}, `steps`: {:?} is not a count", field(steps))
            })?,
            n: field(n)
                .parse()
                .with_context(|| format!("line {line}, `n`: {:?} is not a count", field(n)))?,
            reach_k: field(reach_k).parse().with_context(|| {
                format!(
                    "line {line}, `reach_k`: {:?} is not a count",
                    field(reach_k)
                )
            })?,
            reach: reach_p,
            stay: stay.map(|s| s.0),
            hit_curve: None,
        });
    }
    if run.cells.is_empty() {
        bail!("no configurations");
    }
    let mut labels = std::collections::BTreeSet::new();
    if let Some(c) = run.cells.iter().find(|c| !labels.insert(c.label.as_str())) {
        bail!("the label {:?} names two configurations", c.label);
    }
    let one = |m: &BTreeMap<u64, f64>, name: &str| -> Res<Option<f64>> {
        match m.len() {
            0 | 1 => Ok(m.values().next().copied()),
            _ => bail!("the configurations have different {name} thresholds"),
        }
    };
    run.thresholds = (one(&thresholds[0], "reach")?, one(&thresholds[1], "stay")?);
    Ok(run)
}

/// Takes the description and the hitting-time curves from `run.json`, after checking that
/// it records the same configurations as `summary.csv` (`run`'s, in order).
fn run_json(bytes: &[u8], run: &mut Run) -> Res<()> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).context("not JSON")?;
    if doc["tool"] != "sgd-escape" {
        bail!("not written by sgd-escape");
    }
    let configs = doc["configs"].as_array().context("no `configs` list")?;
    let theirs: Vec<&str> = configs
        .iter()
        .map(|c| c["config_id"].as_str().unwrap_or_default())
        .collect();
    if !theirs
        .iter()
        .copied()
        .eq(run.cells.iter().map(|c| c.config_id.as_str()))
    {
        bail!(
            "its configurations are not summary.csv's ({} against {}): the two files are from different runs",
            theirs.len(),
            run.cells.len()
        );
    }
    run.log_axes = doc["experiment"]["log_axes"]
        .as_array()
        .map_or(vec![], |a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        });
    run.description = doc["experiment"]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (i, (c, cell)) in configs.iter().zip(&mut run.cells).enumerate() {
        let curve = &c["summary"]["hit_curve"];
        if curve.is_null() {
            continue;
        }
        let km: KaplanMeier = serde_json::from_value(curve.clone())
            .with_context(|| format!("configs[{i}].summary.hit_curve"))?;
        let ordered = km.rows.windows(2).all(|w| w[0].time < w[1].time);
        let valid = km.rows.iter().all(|r| {
            0.0 <= r.lower && r.lower <= r.survival && r.survival <= r.upper && r.upper <= 1.0
        });
        if !ordered || !valid || km.rows.last().is_some_and(|r| r.time > cell.steps) {
            bail!(
                "configs[{i}].summary.hit_curve: times not increasing within [0, T], or survival outside its band"
            );
        }
        cell.hit_curve = Some(km);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_are_read_back_as_written() {
        assert_eq!(parameter_name("swept_eta"), "eta");
        assert_eq!(parameter_name("swept_swept_x"), "swept_x");
        assert_eq!(parameter_name("r"), "r");
        assert_eq!(parameter_name("swept_radius"), "swept_radius");
    }
}
