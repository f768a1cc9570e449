//! `sgd_escape._native`: the engine and the statistics of the `sgd-escape` crate, called from
//! the `sgd_escape` Python package (which turns what these return into DataFrames).
//!
//! Thin on purpose: every check, number and file comes from the crate. What is here is only
//! the crossing: Python values in, validated with the crate's own messages; the GIL released
//! while the engine runs; Ctrl-C turned into a stop the crate honours.

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use sgd_escape::config::ConfigError;
use sgd_escape::output::RowsFormat;
use sgd_escape::output::progress::ProgressMode;
use sgd_escape::stats::binomial::{Method, Side};
use sgd_escape::sweep::{LockMode, Overrides, ResultDir, SweepOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

create_exception!(
    _native,
    ExperimentError,
    PyValueError,
    "An experiment (file, dict or TOML text) that does not validate; the message names the \
     source, the field and the reason, as the command line does."
);

/// A crate error as a Python exception: validation errors as [`ExperimentError`], the rest
/// (files, locks) as `RuntimeError`, each with the crate's whole message.
fn py_err(e: anyhow::Error) -> PyErr {
    let message = format!("{e:#}");
    if e.chain().any(|c| c.downcast_ref::<ConfigError>().is_some()) {
        ExperimentError::new_err(message)
    } else {
        PyRuntimeError::new_err(message)
    }
}

fn value_err(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// A seed given as an int or as text (`"42u64"`, as `summary.csv` writes it).
fn seed_of(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(text) = seed.cast::<PyString>() {
        return sgd_escape::rng::parse_seed(&text.to_cow()?).map_err(value_err);
    }
    if seed.is_instance_of::<PyBool>() {
        return Err(value_err("seed: a bool is not a seed"));
    }
    seed.extract::<u64>()
        .map_err(|_| value_err(format!("seed: {seed} is not an unsigned 64-bit integer")))
}

fn method_of(name: &str) -> PyResult<Method> {
    serde_json::from_value(serde_json::Value::String(name.into())).map_err(|_| {
        let all: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        value_err(format!("method: {name:?} is not one of {}", all.join(", ")))
    })
}

fn level_of(level: f64) -> PyResult<f64> {
    sgd_escape::stats::check_level(level).map_err(|r| value_err(format!("level: {r}")))
}

/// Python data (dict, list, str, int, float, bool) as TOML: a dict experiment becomes the text
/// an experiment file would hold, so that it is validated (and recorded in the manifest)
/// exactly as a file is. `at` is the dotted path, for the message.
fn toml_of(v: &Bound<'_, PyAny>, at: &str) -> PyResult<toml::Value> {
    let here = if at.is_empty() { "<dict>" } else { at };
    if v.is_instance_of::<PyBool>() {
        Ok(toml::Value::Boolean(v.extract()?))
    } else if v.is_instance_of::<PyInt>() {
        let i: i64 = v.extract().map_err(|_| {
            value_err(format!(
                "<dict>: field `{here}`: {v} does not fit a 64-bit TOML integer (a seed that large goes as text, \"…u64\")"
            ))
        })?;
        Ok(toml::Value::Integer(i))
    } else if v.is_instance_of::<PyFloat>() {
        Ok(toml::Value::Float(v.extract()?))
    } else if let Ok(s) = v.cast::<PyString>() {
        Ok(toml::Value::String(s.to_cow()?.into_owned()))
    } else if let Ok(d) = v.cast::<PyDict>() {
        let mut table = toml::Table::new();
        for (k, item) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(value_err(format!(
                    "<dict>: field `{here}`: the key {k} is not a string"
                )));
            };
            let key = key.to_cow()?.into_owned();
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            if item.is_none() {
                continue; // None means "not set", as a key absent from a file
            }
            table.insert(key, toml_of(&item, &path)?);
        }
        Ok(toml::Value::Table(table))
    } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<toml::Value>> = v
            .try_iter()?
            .enumerate()
            .map(|(i, item)| toml_of(&item?, &format!("{here}[{i}]")))
            .collect();
        Ok(toml::Value::Array(items?))
    } else if let Ok(x) = v.extract::<f64>() {
        // NumPy scalars and the like.
        Ok(toml::Value::Float(x))
    } else {
        Err(value_err(format!(
            "<dict>: field `{here}`: a {} is not a value an experiment file can hold",
            v.get_type().name()?
        )))
    }
}

/// The TOML text of a dict experiment.
#[pyfunction]
fn toml_from_dict(experiment: &Bound<'_, PyDict>) -> PyResult<String> {
    let value = toml_of(experiment.as_any(), "")?;
    toml::to_string(&value).map_err(|e| value_err(format!("<dict>: {e}")))
}

/// Runs an experiment (its TOML `text`; `source` names it in messages and in the manifest,
/// `stem` is its default name) into the result directory `out`, as `sgd-escape run` does,
/// resuming what a stopped run there finished. The GIL is released while the engine runs;
/// Ctrl-C (any pending Python signal) stops it after the work in flight, keeps what finished
/// and raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (text, source, stem, out, seed=None, threads=None, method=None, level=None, progress=true))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    text: String,
    source: String,
    stem: String,
    out: PathBuf,
    seed: Option<Bound<'_, PyAny>>,
    threads: Option<usize>,
    method: Option<String>,
    level: Option<f64>,
    progress: bool,
) -> PyResult<String> {
    let overrides = Overrides {
        seed: seed.as_ref().map(seed_of).transpose()?,
        method: method.as_deref().map(method_of).transpose()?,
        level: level.map(level_of).transpose()?,
    };
    let mut experiment = sgd_escape::config::parse(&text, Path::new(&source), &stem)
        .map_err(|e| py_err(e.into()))?;
    overrides.apply(&mut experiment).map_err(py_err)?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = SweepOptions {
        threads: threads.unwrap_or(0),
        shard: None,
        rows: Some(RowsFormat::Csv),
        progress: if progress {
            ProgressMode::Auto
        } else {
            ProgressMode::Quiet
        },
        stop: Some(stop.clone()),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = ResultDir::open(&out, LockMode::Exclusive).and_then(|dir| {
            sgd_escape::sweep::run_to_dir(&experiment, &text, &overrides, &opts, &dir)
        });
        let _ = tx.send(result.map(|_| experiment.name));
    });
    let mut rx = rx;
    loop {
        // Waits without the GIL; every 50 ms takes it back to let Python's signal handlers
        // run (Ctrl-C arrives as a pending KeyboardInterrupt on the main thread). The
        // receiver moves in and out: it may not be shared between threads.
        let (received, back) = py.detach(move || {
            let r = rx.recv_timeout(Duration::from_millis(50));
            (r, rx)
        });
        rx = back;
        match received {
            Ok(result) => {
                let _ = worker.join();
                return result.map_err(py_err);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    // The engine finishes the work in flight and keeps it; then the error.
                    let _ = py.detach(|| worker.join());
                    return Err(interrupt);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let _ = worker.join();
                return Err(PyRuntimeError::new_err("the run stopped without a result"));
            }
        }
    }
}

fn side_of(side: &str) -> PyResult<Side> {
    match side {
        "two" => Ok(Side::Two),
        "lower" => Ok(Side::Lower),
        "upper" => Ok(Side::Upper),
        _ => Err(value_err(format!(
            "side: {side:?} is not one of two, lower, upper"
        ))),
    }
}

fn counts(k: u64, n: u64) -> PyResult<()> {
    if n == 0 || k > n {
        return Err(value_err(format!(
            "k and n: an interval needs 0 ≤ k ≤ n and n ≥ 1 (got k = {k}, n = {n})"
        )));
    }
    Ok(())
}

/// The confidence interval of a binomial proportion from k successes in n trials: `(lower,
/// upper)`, as `summary.csv` reports it.
#[pyfunction]
#[pyo3(signature = (k, n, method="clopper-pearson", level=0.95, side="two"))]
fn interval(k: u64, n: u64, method: &str, level: f64, side: &str) -> PyResult<(f64, f64)> {
    counts(k, n)?;
    let ci = sgd_escape::stats::binomial::interval(
        method_of(method)?,
        k,
        n,
        1.0 - level_of(level)?,
        side_of(side)?,
    );
    Ok((ci.lower, ci.upper))
}

/// The verdict on P ≥ p0 from k of n, as JSON (the fields of `sgd_escape::stats::Decision`):
/// the exact binomial test (fixed n), or with `sequential` the beta-binomial confidence
/// sequence the adaptive runs use (valid at any stopping time).
#[pyfunction]
#[pyo3(signature = (k, n, p0, level=0.95, sequential=false))]
fn decide(k: u64, n: u64, p0: f64, level: f64, sequential: bool) -> PyResult<String> {
    counts(k, n)?;
    if !(0.0..=1.0).contains(&p0) {
        return Err(value_err(format!("p0: must lie in [0, 1], got {p0}")));
    }
    let alpha = 1.0 - level_of(level)?;
    let d = if sequential {
        let cs = sgd_escape::stats::sequential::BetaBinomialCs::default();
        sgd_escape::stats::decision::decide_sequential(&cs, k, n, p0, alpha)
    } else {
        sgd_escape::stats::decision::decide(k, n, p0, alpha)
    };
    serde_json::to_string(&d).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Trajectories needed for a two-sided interval of half-width ≤ `epsilon` when the
/// probability is `p`: for one method, or (`method=None`) for the anytime-valid confidence
/// sequence.
#[pyfunction]
#[pyo3(signature = (epsilon, level=0.95, p=0.5, method=None))]
fn plan(epsilon: f64, level: f64, p: f64, method: Option<&str>) -> PyResult<u64> {
    if !(epsilon > 0.0 && epsilon < 0.5) {
        return Err(value_err(format!(
            "epsilon: must lie in (0, 0.5), got {epsilon}"
        )));
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(value_err(format!("p: must lie in [0, 1], got {p}")));
    }
    let alpha = 1.0 - level_of(level)?;
    let method = method.map(method_of).transpose()?;
    Ok(sgd_escape::stats::planning::trajectories_needed(
        method, epsilon, alpha, p,
    ))
}

/// The Kaplan–Meier estimate of a time to event from `times` and `observed` (false where the
/// time is censored), with pointwise intervals at `level`, as JSON: `n`, `level`, `rows` (the
/// table of `sgd_escape::stats::survival::KaplanMeier`) and `median` (with its interval).
#[pyfunction]
#[pyo3(signature = (times, observed, level=0.95))]
fn kaplan_meier(times: Vec<u64>, observed: Vec<bool>, level: f64) -> PyResult<String> {
    if times.len() != observed.len() {
        return Err(value_err(format!(
            "times and observed: {} times but {} flags",
            times.len(),
            observed.len()
        )));
    }
    if times.is_empty() {
        return Err(value_err("times: at least one time is needed"));
    }
    let level = level_of(level)?;
    let pairs: Vec<(u64, bool)> = times.into_iter().zip(observed).collect();
    let km = sgd_escape::stats::survival::KaplanMeier::fit(&pairs, level);
    let out = serde_json::json!({
        "n": km.n,
        "level": km.level,
        "rows": km.rows,
        "median": km.quantile(0.5),
    });
    Ok(out.to_string())
}

/// The interval methods, in the order tables list them.
#[pyfunction]
fn methods() -> Vec<&'static str> {
    Method::ALL.iter().map(|m| m.name()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ExperimentError", m.py().get_type::<ExperimentError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ENGINE_VERSION", sgd_escape::LONG_VERSION)?;
    m.add("NUMERICS_VERSION", sgd_escape::NUMERICS_VERSION)?;
    m.add("RNG_ALGORITHM", sgd_escape::rng::RNG_ALGORITHM)?;
    m.add_function(wrap_pyfunction!(toml_from_dict, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(interval, m)?)?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(kaplan_meier, m)?)?;
    m.add_function(wrap_pyfunction!(methods, m)?)?;
    Ok(())
}
