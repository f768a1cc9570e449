//! `sgd_escape._native`: the engine and the statistics of the `sgd-escape` crate, called from
//! the `sgd_escape` Python package (which turns what these return into DataFrames).
//!
//! Thin on purpose: every check, number and file comes from the crate. What is here is only
//! the crossing: Python values in, validated with the crate's own messages; the GIL released
//! while the engine runs; Ctrl-C turned into a stop the crate honours.

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use sgd_escape::config::ConfigError;
use sgd_escape::experiment::Experiment;
use sgd_escape::output::RowsFormat;
use sgd_escape::output::progress::ProgressMode;
use sgd_escape::registry::{Refusal, Registry};
use sgd_escape::stats::binomial::{Method, Side};
use sgd_escape::sweep::{LockMode, Overrides, ResultDir, SweepOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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

/// What a run's Python objectives share with the call that started it. The engine cannot
/// carry a Python exception through a gradient, so an objective records the first one,
/// sets the run's stop flag (the cell in flight is dropped, finished ones are kept) and
/// returns NaN; the call then raises it. `parked` counts the engine threads holding a kept
/// Python thread state ([`Parked`]), which the call waits for before it returns.
struct RunState {
    stop: Arc<AtomicBool>,
    error: Mutex<Option<PyErr>>,
    parked: AtomicUsize,
}

impl RunState {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            stop: Arc::new(AtomicBool::new(false)),
            error: Mutex::new(None),
            parked: AtomicUsize::new(0),
        })
    }

    fn record(&self, e: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The exception a Python objective raised, if any (the run stopped because of it),
    /// else the run's own result; once the engine's threads have given their thread states
    /// back. Their pools are gone by then, so they are ending: waiting (without the GIL,
    /// which they need) means none is still ending when Python shuts down after this call.
    fn finish<T>(&self, py: Python<'_>, result: PyResult<T>) -> PyResult<T> {
        py.detach(|| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while self.parked.load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let raised = self.error.lock().unwrap_or_else(|p| p.into_inner()).take();
        match raised {
            Some(e) => Err(e),
            None => result,
        }
    }
}

/// A landscape given as Python callables `value(x, **fields)` and `grad(x, **fields)` on
/// NumPy arrays, `fields` being the other fields of the experiment's objective section. The
/// slow path: every call takes the GIL, so the threads take turns.
///
/// Arrays cross through bytes and NumPy's own `frombuffer` / `asarray` rather than the
/// `numpy` crate: that crate's ndarray turns on features of crates the engine shares
/// (matrixmultiply, num-complex), so the wheel would compile the engine a second time
/// (minutes in CI) for a saving of well under a microsecond a call.
struct PyObjective {
    value: Py<PyAny>,
    grad: Py<PyAny>,
    fields: Py<PyDict>,
    /// `numpy.frombuffer` and `numpy.asarray`.
    frombuffer: Py<PyAny>,
    asarray: Py<PyAny>,
    target: Vec<f64>,
    lipschitz: Option<f64>,
    run: Arc<RunState>,
}

impl PyObjective {
    /// x as a writable float64 NumPy array of its own.
    fn array<'py>(&self, py: Python<'py>, x: &[f64]) -> PyResult<Bound<'py, PyAny>> {
        let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let buffer = PyByteArray::new(py, &bytes);
        self.frombuffer.bind(py).call1((buffer, "float64"))
    }

    fn call_value(&self, py: Python<'_>, x: &[f64]) -> PyResult<f64> {
        let v = self
            .value
            .bind(py)
            .call((self.array(py, x)?,), Some(self.fields.bind(py)))?;
        v.extract::<f64>()
            .map_err(|_| PyTypeError::new_err(format!("value(x) returned {v}, not a float")))
    }

    fn call_grad(&self, py: Python<'_>, x: &[f64], g: &mut [f64]) -> PyResult<()> {
        let out = self
            .grad
            .bind(py)
            .call((self.array(py, x)?,), Some(self.fields.bind(py)))?;
        let not_floats = |_| {
            PyTypeError::new_err(format!(
                "grad(x) returned {out}, not a one-dimensional array of floats"
            ))
        };
        let array = self
            .asarray
            .bind(py)
            .call1((&out, "float64"))
            .map_err(not_floats)?;
        let shape: Vec<usize> = array.getattr("shape")?.extract()?;
        if shape != [g.len()] {
            return Err(PyValueError::new_err(format!(
                "grad(x) returned an array of shape {shape:?}; in dimension {} it must be [{}]",
                g.len(),
                g.len()
            )));
        }
        let bytes = array.call_method0("tobytes")?;
        let bytes = bytes.cast::<PyBytes>()?.as_bytes();
        for (g, b) in g.iter_mut().zip(bytes.chunks_exact(8)) {
            *g = f64::from_ne_bytes(b.try_into().expect("chunks of 8 bytes"));
        }
        Ok(())
    }

    fn stopped(&self) -> bool {
        self.run.stop.load(Ordering::Relaxed)
    }
}

impl sgd_escape::objective::Objective for PyObjective {
    fn dim(&self) -> usize {
        self.target.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        if self.stopped() {
            return f64::NAN; // the work in flight is dropped
        }
        attach(&self.run, |py| {
            self.call_value(py, x).unwrap_or_else(|e| {
                self.run.record(e);
                f64::NAN
            })
        })
    }

    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        if self.stopped() {
            grad.fill(f64::NAN);
            return;
        }
        attach(&self.run, |py| {
            if let Err(e) = self.call_grad(py, x, grad) {
                self.run.record(e);
                grad.fill(f64::NAN);
            }
        })
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        self.lipschitz
    }
}

/// A Python thread state kept for the life of an engine thread, so that each call of a
/// Python objective only takes the GIL. Without it, every `Python::attach` on a thread
/// Python does not know creates a thread state and deletes it again (an allocation of its
/// frame stack each time): measured 10.3 µs a gradient against 2.75 µs with it, of which
/// the NumPy work is about 2 µs (`scripts/python_objective_cost.py`).
struct Parked {
    state: pyo3::ffi::PyGILState_STATE,
    thread: *mut pyo3::ffi::PyThreadState,
    run: Arc<RunState>,
}

impl Parked {
    /// Gives this thread a thread state of its own, without holding the GIL, unless it has
    /// one (Python's own threads, and the thread that parsed the experiment).
    fn here(run: &Arc<RunState>) {
        PARKED.with(|parked| {
            let mut parked = parked.borrow_mut();
            // SAFETY: the interpreter is initialised (a Python call started the run). A
            // thread without a thread state does not hold the GIL, so Ensure creates one and
            // takes the GIL, and SaveThread gives the GIL back, keeping the state current
            // for this thread (PyGILState_GetThisThreadState finds it from then on).
            if parked.is_none() && unsafe { pyo3::ffi::PyGILState_GetThisThreadState() }.is_null() {
                let state = unsafe { pyo3::ffi::PyGILState_Ensure() };
                let thread = unsafe { pyo3::ffi::PyEval_SaveThread() };
                run.parked.fetch_add(1, Ordering::AcqRel);
                *parked = Some(Parked {
                    state,
                    thread,
                    run: run.clone(),
                });
            }
        })
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        // SAFETY: runs when the engine thread ends, without the GIL (it only holds it
        // inside `Python::attach`): takes the GIL on the kept state and lets Python delete
        // it. The call that started the run waits for this without the GIL
        // ([`RunState::finish`]), so the interpreter is running and there is no deadlock.
        unsafe {
            pyo3::ffi::PyEval_RestoreThread(self.thread);
            pyo3::ffi::PyGILState_Release(self.state);
        }
        self.run.parked.fetch_sub(1, Ordering::AcqRel);
    }
}

thread_local! {
    static PARKED: std::cell::RefCell<Option<Parked>> = const { std::cell::RefCell::new(None) };
}

/// `Python::attach` from an engine thread of `run`, on its kept thread state.
fn attach<R>(run: &Arc<RunState>, f: impl FnOnce(Python<'_>) -> R) -> R {
    Parked::here(run);
    Python::attach(f)
}

/// A Python objective as `sgd_escape.Objective` hands it over: kind, version, value, grad,
/// target and Lipschitz constant.
type ObjectiveSpec = (String, String, Py<PyAny>, Py<PyAny>, Vec<f64>, Option<f64>);

/// The registry that reads experiments naming the Python objectives: each built from its
/// section's other fields (passed to the callables as keyword arguments), called once at
/// its target so that a callable that fails or returns the wrong shape is refused before
/// anything runs.
fn registry_of(objectives: Vec<ObjectiveSpec>, run: &Arc<RunState>) -> PyResult<Registry> {
    let mut registry = Registry::new();
    for (kind, version, value, grad, target, lipschitz) in objectives {
        let run = run.clone();
        registry = registry
            .objective_fn(&kind, &version, move |fields: toml::Table| {
                let refusal = |reason: String| Refusal {
                    field: None,
                    reason,
                };
                let fields = serde_json::to_value(&fields).map_err(|e| refusal(e.to_string()))?;
                let identity = serde_json::json!({
                    "fields": fields,
                    "target": target,
                    "lipschitz": lipschitz,
                });
                Python::attach(|py| {
                    let kwargs = py
                        .import("json")
                        .and_then(|json| json.call_method1("loads", (fields.to_string(),)))
                        .and_then(|d| Ok(d.cast_into::<PyDict>()?.unbind()))
                        .map_err(|e| refusal(e.to_string()))?;
                    let numpy = py
                        .import("numpy")
                        .map_err(|e| refusal(format!("cannot import numpy: {e}")))?;
                    let function = |name: &str| -> Result<Py<PyAny>, Refusal> {
                        Ok(numpy
                            .getattr(name)
                            .map_err(|e| refusal(e.to_string()))?
                            .unbind())
                    };
                    let objective = PyObjective {
                        value: value.clone_ref(py),
                        grad: grad.clone_ref(py),
                        fields: kwargs,
                        frombuffer: function("frombuffer")?,
                        asarray: function("asarray")?,
                        target: target.clone(),
                        lipschitz,
                        run: run.clone(),
                    };
                    let mut g = vec![0.0; target.len()];
                    objective
                        .call_value(py, &target)
                        .and_then(|_| objective.call_grad(py, &target, &mut g))
                        .map_err(|e| refusal(format!("at the target: {e}")))?;
                    Ok((objective, identity))
                })
            })
            .map_err(value_err)?;
    }
    Ok(registry)
}

/// The experiment of `text` (`source` names it in messages, `stem` is its default name),
/// with the overrides applied.
fn experiment_of(
    registry: &Registry,
    text: &str,
    source: &str,
    stem: &str,
    overrides: &Overrides,
) -> PyResult<Experiment> {
    let mut experiment = registry
        .parse(text, Path::new(source), stem)
        .map_err(|e| py_err(e.into()))?;
    overrides.apply(&mut experiment).map_err(py_err)?;
    Ok(experiment)
}

fn overrides_of(
    seed: Option<&Bound<'_, PyAny>>,
    method: Option<&str>,
    level: Option<f64>,
) -> PyResult<Overrides> {
    Ok(Overrides {
        seed: seed.map(seed_of).transpose()?,
        method: method.map(method_of).transpose()?,
        level: level.map(level_of).transpose()?,
    })
}

/// Runs `job` on a thread of its own and waits for it without the GIL, taking the GIL back
/// every 50 ms to let Python's signal handlers run (Ctrl-C arrives as a pending
/// `KeyboardInterrupt` on the main thread). On one, sets `stop`, waits for `job` to honour
/// it (the crate keeps what finished) and raises it.
fn on_worker<T: Send + 'static>(
    py: Python<'_>,
    stop: Arc<AtomicBool>,
    job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(job());
    });
    let mut rx = rx;
    loop {
        // The receiver moves in and out: it may not be shared between threads.
        let (received, back) = py.detach(move || {
            let r = rx.recv_timeout(Duration::from_millis(50));
            (r, rx)
        });
        rx = back;
        match received {
            Ok(result) => {
                // Without the GIL: the engine's threads may still be ending, and an
                // ending thread gives back its kept thread state under the GIL.
                let _ = py.detach(|| worker.join());
                return result.map_err(py_err);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    let _ = py.detach(|| worker.join());
                    return Err(interrupt);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let _ = py.detach(|| worker.join());
                return Err(PyRuntimeError::new_err("the run stopped without a result"));
            }
        }
    }
}

/// Runs an experiment (its TOML `text`; `source` names it in messages and in the manifest,
/// `stem` is its default name) into the result directory `out`, as `sgd-escape run` does
/// (with the theorem check when the experiment has a `[theorem]` section), resuming what a
/// stopped run there finished. The GIL is released while the engine runs; Ctrl-C (any
/// pending Python signal) stops it after the work in flight, keeps what finished and raises
/// `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (text, source, stem, out, seed=None, threads=None, method=None, level=None, progress=true, objectives=vec![]))]
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
    objectives: Vec<ObjectiveSpec>,
) -> PyResult<String> {
    let overrides = overrides_of(seed.as_ref(), method.as_deref(), level)?;
    let (experiment, state, threads) =
        prepare(&text, &source, &stem, &overrides, objectives, threads)?;
    let stop = state.stop.clone();
    let opts = SweepOptions {
        threads,
        shard: None,
        rows: Some(RowsFormat::Csv),
        progress: if progress {
            ProgressMode::Auto
        } else {
            ProgressMode::Quiet
        },
        stop: Some(stop.clone()),
    };
    let result = on_worker(py, stop.clone(), move || {
        let dir = ResultDir::open(&out, LockMode::Exclusive)?;
        sgd_escape::sweep::run_to_dir(&experiment, &text, &overrides, &opts, &dir)?;
        if experiment.theorem.is_some() {
            sgd_escape::sweep::theorem_to_dir(&experiment, opts.threads, &dir.path, Some(&stop))?;
        }
        Ok(experiment.name)
    });
    state.finish(py, result)
}

/// The experiment read with the Python objectives registered, the state they share with
/// this call, and the thread count (`threads`, else [`default_threads`]).
fn prepare(
    text: &str,
    source: &str,
    stem: &str,
    overrides: &Overrides,
    objectives: Vec<ObjectiveSpec>,
    threads: Option<usize>,
) -> PyResult<(Experiment, Arc<RunState>, usize)> {
    let state = RunState::new();
    let registry = registry_of(objectives, &state)?;
    let experiment = experiment_of(&registry, text, source, stem, overrides)?;
    let threads = threads.unwrap_or_else(|| default_threads(&registry, &experiment));
    Ok((experiment, state, threads))
}

/// All cores (0), or one thread when a configuration runs a Python objective: its calls
/// take turns on the GIL, and handing the GIL between threads made two threads 1.3× slower
/// than one (`scripts/python_objective_cost.py`). Results do not depend on it.
fn default_threads(registry: &Registry, experiment: &Experiment) -> usize {
    let python = registry.objective_kinds();
    let runs_python = experiment
        .configs
        .iter()
        .any(|c| python.contains(&c.objective.kind()));
    if runs_python { 1 } else { 0 }
}

/// The theorem check of an experiment (arguments as [`run`]), as `sgd-escape theorem` does:
/// writes `theorem.json` and `theorem.csv` into `out`. Ctrl-C stops it before the next
/// configuration, writing nothing, and raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (text, source, stem, out, seed=None, threads=None, method=None, level=None, objectives=vec![]))]
#[allow(clippy::too_many_arguments)]
fn theorem(
    py: Python<'_>,
    text: String,
    source: String,
    stem: String,
    out: PathBuf,
    seed: Option<Bound<'_, PyAny>>,
    threads: Option<usize>,
    method: Option<String>,
    level: Option<f64>,
    objectives: Vec<ObjectiveSpec>,
) -> PyResult<String> {
    let overrides = overrides_of(seed.as_ref(), method.as_deref(), level)?;
    let (experiment, state, threads) =
        prepare(&text, &source, &stem, &overrides, objectives, threads)?;
    let stop = state.stop.clone();
    let result = on_worker(py, stop.clone(), move || {
        let dir = ResultDir::open(&out, LockMode::Exclusive)?;
        sgd_escape::sweep::theorem_to_dir(&experiment, threads, &dir.path, Some(&stop))?;
        Ok(experiment.name)
    });
    state.finish(py, result)
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
    sgd_escape::stats::planning::check_request(epsilon, p)
        .map_err(|(name, reason)| value_err(format!("{name}: {reason}")))?;
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
    m.add_function(wrap_pyfunction!(theorem, m)?)?;
    m.add_function(wrap_pyfunction!(interval, m)?)?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(kaplan_meier, m)?)?;
    m.add_function(wrap_pyfunction!(methods, m)?)?;
    Ok(())
}
