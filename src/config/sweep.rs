//! Sweep axes: any numeric parameter as a list or a linear or logarithmic range, axes
//! combined as a product or zipped. Expansion works on the TOML document itself, so a swept
//! value is validated exactly like a written one.

use crate::math::elementary::{exp, ln};
use serde::Deserialize;

/// `[sweep]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// "product" (default: every combination) or "zip" (the i-th values together).
    pub combine: Option<Combine>,
    /// The axes, in order (the first varies slowest in a product).
    pub axis: Vec<AxisFile>,
}

/// How axes combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Every combination.
    Product,
    /// The i-th value of every axis together (equal lengths).
    Zip,
}

/// One `[[sweep.axis]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisFile {
    /// Dotted path of the parameter in a configuration, e.g. `dynamics.eta`, `noise.r`,
    /// `objective.wells[0].depth`. An axis without a path (it then needs a `name`) sets
    /// nothing itself: it is a value that derived axes compute from, with its own column.
    pub path: Option<String>,
    /// A derived axis: its value at each sweep point computed from the other axes' values
    /// with the formula grammar of [`crate::formula`], the axes named by their `name` or
    /// their `path` (`"a / dynamics.eta"`), instead of `values`, `lin` or `log`.
    pub formula: Option<String>,
    /// Column name in the outputs (default: the path's last key).
    pub name: Option<String>,
    /// Explicit values.
    pub values: Option<Vec<f64>>,
    /// `[from, to, count]`, evenly spaced, both ends included.
    pub lin: Option<(f64, f64, i64)>,
    /// `[from, to, count]`, geometrically spaced, both ends included (from, to > 0).
    pub log: Option<(f64, f64, i64)>,
}

impl AxisFile {
    /// The axis's name in the outputs: `name`, else the path's last key.
    pub fn column_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let path = self.path.as_deref().unwrap_or_default();
            path.rsplit('.').next().unwrap_or(path).to_string()
        })
    }
}

/// A resolved axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Path in the configuration (empty for an axis that only names a value).
    pub path: Vec<PathPart>,
    /// Output column name.
    pub name: String,
    /// Values.
    pub values: Vec<f64>,
}

/// A step of a parameter path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathPart {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// The sections of a configuration (the keys an axis may reach into).
pub const SECTIONS: [&str; 7] = [
    "trajectories",
    "stream",
    "objective",
    "noise",
    "dynamics",
    "init",
    "events",
];

/// Parses `a.b[2].c` into parts; the first key must be a configuration section.
pub fn parse_path(path: &str) -> Result<Vec<PathPart>, String> {
    let mut parts = Vec::new();
    for seg in path.split('.') {
        let (key, rest) = seg.split_once('[').map_or((seg, ""), |(k, r)| (k, r));
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "{path:?} is not a parameter path (keys joined by '.', indices as [i])"
            ));
        }
        parts.push(PathPart::Key(key.to_string()));
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i = idx.strip_suffix(']').and_then(|i| i.parse().ok());
            match i {
                Some(i) => parts.push(PathPart::Index(i)),
                None => return Err(format!("{path:?}: bad index [{idx}")),
            }
        }
    }
    match parts.first() {
        Some(PathPart::Key(k)) if SECTIONS.contains(&k.as_str()) => Ok(parts),
        _ => Err(format!(
            "{path:?} must start with one of {}",
            SECTIONS.join(", ")
        )),
    }
}

/// The values of an axis; none for a derived one (`formula`), which is only checked for
/// having that single source of values.
pub fn axis_values(a: &AxisFile) -> Result<Vec<f64>, (&'static str, String)> {
    let given = [
        a.values.is_some(),
        a.lin.is_some(),
        a.log.is_some(),
        a.formula.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err((
            "values",
            "give exactly one of `values`, `lin = [from, to, count]`, `log = [from, to, count]`, `formula`"
                .into(),
        ));
    }
    let range = |(from, to, count): (f64, f64, i64),
                 log: bool|
     -> Result<Vec<f64>, (&'static str, String)> {
        let field = if log { "log" } else { "lin" };
        if count as u64 > super::limits::MAX_AXIS_VALUES {
            return Err((
                field,
                format!(
                    "count {count} exceeds {} values per axis",
                    super::limits::MAX_AXIS_VALUES
                ),
            ));
        }
        if count < 1 || !from.is_finite() || !to.is_finite() {
            return Err((
                field,
                format!("needs finite ends and a count ≥ 1, got [{from}, {to}, {count}]"),
            ));
        }
        if log && (from <= 0.0 || to <= 0.0) {
            return Err((
                field,
                format!("needs positive ends, got [{from}, {to}, {count}]"),
            ));
        }
        Ok((0..count)
            .map(|i| {
                let u = if count == 1 {
                    0.0
                } else {
                    i as f64 / (count - 1) as f64
                };
                if i == 0 {
                    from
                } else if i == count - 1 {
                    to
                } else if log {
                    // Our own ln and exp: the values decide cells' parameters and identities.
                    let (lo, hi) = (ln(from), ln(to));
                    exp(lo + u * (hi - lo))
                } else {
                    from + u * (to - from)
                }
            })
            .collect())
    };
    let v = match (&a.values, a.lin, a.log) {
        (Some(v), _, _) => v.clone(),
        (_, Some(l), _) => range(l, false)?,
        (_, _, Some(l)) => range(l, true)?,
        // A derived axis: its values come from its formula, point by point.
        _ => return Ok(Vec::new()),
    };
    if v.is_empty() {
        return Err(("values", "is empty".into()));
    }
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(("values", format!("must be finite, got {x}")));
    }
    Ok(v)
}

/// The sweep points: for each, one value per axis.
pub fn points(axes: &[Axis], combine: Combine) -> Result<Vec<Vec<f64>>, String> {
    match combine {
        Combine::Zip => {
            let n = axes[0].values.len();
            if let Some(a) = axes.iter().find(|a| a.values.len() != n) {
                return Err(format!(
                    "zipped axes need equal lengths: {} has {}, {} has {n}",
                    a.name,
                    a.values.len(),
                    axes[0].name
                ));
            }
            Ok((0..n)
                .map(|i| axes.iter().map(|a| a.values[i]).collect())
                .collect())
        }
        Combine::Product => Ok(axes.iter().fold(vec![vec![]], |acc, a| {
            acc.iter()
                .flat_map(|p| {
                    a.values.iter().map(move |v| {
                        let mut p = p.clone();
                        p.push(*v);
                        p
                    })
                })
                .collect()
        })),
    }
}

/// Writes `value` at `path` in a configuration table: integral values as integers (integer
/// fields refuse floats; float fields accept integers). Intermediate tables and arrays must
/// exist; the last key may be new.
pub fn set_path(table: &mut toml::Table, path: &[PathPart], value: f64) -> Result<(), String> {
    let v = if value.fract() == 0.0 && value.abs() < 9.0e15 {
        toml::Value::Integer(value as i64)
    } else {
        toml::Value::Float(value)
    };
    let mut cur: &mut toml::Value = match &path[0] {
        PathPart::Key(k) if path.len() == 1 => {
            table.insert(k.clone(), v);
            return Ok(());
        }
        PathPart::Key(k) => table
            .get_mut(k)
            .ok_or_else(|| format!("the configuration has no `{k}` to sweep in"))?,
        PathPart::Index(_) => unreachable!("paths start with a key"),
    };
    for (i, part) in path.iter().enumerate().skip(1) {
        let last = i == path.len() - 1;
        cur = match (part, cur) {
            (PathPart::Key(k), toml::Value::Table(t)) if last => {
                t.insert(k.clone(), v);
                return Ok(());
            }
            (PathPart::Key(k), toml::Value::Table(t)) => t
                .get_mut(k)
                .ok_or_else(|| format!("no `{k}` to sweep in"))?,
            (PathPart::Index(j), toml::Value::Array(a)) => {
                let len = a.len();
                let slot = a
                    .get_mut(*j)
                    .ok_or_else(|| format!("index [{j}] is past the {len} elements"))?;
                if last {
                    *slot = v;
                    return Ok(());
                }
                slot
            }
            (part, _) => {
                return Err(format!(
                    "{part:?} does not fit the configuration's structure"
                ));
            }
        };
    }
    Ok(())
}

/// A value as written in labels: at most 6 significant digits (the outputs keep every digit).
pub fn show(v: f64) -> String {
    if v == 0.0 || (1e-4..1e6).contains(&v.abs()) {
        let digits = (5 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.5e}")
    }
}
