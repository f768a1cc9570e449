//! Experiment files: TOML in, a validated [`Experiment`] out.
//!
//! Parsing is strict (unknown keys are errors) and every value is range-checked before
//! anything runs. Errors name the file, the field (as a dotted path such as
//! `config[2].noise.r`) and the reason.
//!
//! Layout of a file: top-level `name`, `description`, `seed`, and the sections
//! `trajectories`, `[objective]`, `[noise]`, `[dynamics]`, `[init]`, `[events]`, which are the
//! defaults of every `[[config]]` entry. An entry has a `label` and replaces whole sections
//! (not single keys) of the defaults. Without entries the file is one configuration.

mod error;
mod file;
pub mod limits;
pub mod sweep;

pub use crate::noise::NoiseSpec;
use crate::noise::{CustomLaw, Sigma};
pub use error::ConfigError;

use crate::dynamics::{Schedule, Stage};
use crate::events::Measure;
use crate::events::{EventSpec, StaySpec};
use crate::experiment::{
    Built, ConfigSpec, ConvexitySettings, DataSpec, Experiment, ObjectiveChoice,
    THEOREM_GUARANTEES, TargetSpec, TheoremSettings,
};
use crate::formula::{Formula, Variables};
use crate::init::InitialPoints;
use crate::objective::{
    FormulaObjective, LeastSquares, Logistic, Mlp, Objective as _, Outside, Table, TeacherStudent,
};
use crate::registry::{Refusal, Registry};
use crate::stats::{Adaptive, StatsSpec, Thresholds};
use std::sync::Arc;

use file::{
    ConvexityFile, Coords, DataFile, DynamicsFile, EventsFile, ExperimentFile, InitFile,
    ObjectiveFile, Sections, StatsFile, TargetFile, TheoremFile,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Default number of trajectories when a file gives none.
pub const DEFAULT_TRAJECTORIES: u64 = 1000;
/// Default experiment seed when a file gives none.
pub const DEFAULT_SEED: u64 = 1;

/// The theorem check's default sample sizes: c-check points, Monte Carlo draws per point,
/// traced trajectories.
pub const CHECK_DEFAULTS: [u64; 3] = [1000, 400, 20];

/// The defaults where a configuration's full gradient costs more than [`HEAVY_GRADIENT`]
/// example-coordinates (n·d): each c-check point costs `draws` full gradients and each traced
/// step n example gradients, so the usual defaults would take hours on a network.
pub const HEAVY_CHECK_DEFAULTS: [u64; 3] = [100, 20, 2];

/// n·d above which [`HEAVY_CHECK_DEFAULTS`] apply.
pub const HEAVY_GRADIENT: usize = 1_000_000;

/// Reads and validates an experiment file (built-in kinds only; see [`Registry::load`]).
pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
    Registry::new().load(path)
}

/// Parses and validates experiment text (built-in kinds only; see [`Registry::parse`]);
/// `file` is used in messages, `default_name` when the file sets no `name`.
pub fn parse(text: &str, file: &Path, default_name: &str) -> Result<Experiment, ConfigError> {
    Registry::new().parse(text, file, default_name)
}

impl Registry {
    /// Reads and validates an experiment file that may name the registered kinds.
    pub fn load(&self, path: &Path) -> Result<Experiment, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        self.parse(&text, path, stem.as_deref().unwrap_or("experiment"))
    }

    /// Parses and validates experiment text that may name the registered kinds; `file` is
    /// used in messages, `default_name` when the file sets no `name`.
    pub fn parse(
        &self,
        text: &str,
        file: &Path,
        default_name: &str,
    ) -> Result<Experiment, ConfigError> {
        parse_with(text, file, default_name, self)
    }
}

fn parse_with(
    text: &str,
    file: &Path,
    default_name: &str,
    registry: &Registry,
) -> Result<Experiment, ConfigError> {
    let parse_err = |field: String, message: String| ConfigError::Parse {
        file: file.to_path_buf(),
        field,
        message,
    };
    let de = toml::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
        file: file.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let raw: ExperimentFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        parse_err(field, e.into_inner().to_string().trim_end().to_string())
    })?;
    let doc: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        file: file.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    Resolver {
        file: file.to_path_buf(),
        registry,
        built: Default::default(),
        csv: Default::default(),
    }
    .experiment(raw, &doc, default_name)
}

/// Turns the file's sections into validated configurations.
struct Resolver<'r> {
    file: PathBuf,
    /// The kinds beyond the built-ins.
    registry: &'r Registry,
    /// Finite sums already built, by their spec: a sweep over η builds its data set once.
    built: std::cell::RefCell<std::collections::HashMap<String, ObjectiveChoice>>,
    /// CSV data sets already read, by (path, label column): each file is read and parsed
    /// once per experiment file, however many configurations or sweep cells use it.
    csv: std::cell::RefCell<std::collections::HashMap<(PathBuf, String), CsvData>>,
}

/// A CSV data set as read, with its spec.
#[derive(Clone)]
struct CsvData {
    spec: DataSpec,
    data: Arc<crate::data::DataSet>,
}

type Res<T> = Result<T, ConfigError>;

impl Resolver<'_> {
    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn experiment(
        &self,
        raw: ExperimentFile,
        doc: &toml::Table,
        default_name: &str,
    ) -> Res<Experiment> {
        let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(self.invalid(
                "name",
                format!("{name:?} is not usable as a directory name (letters, digits, - _ .)"),
            ));
        }
        let defaults = raw.sections();
        let entries: Vec<(String, String, Sections)> = if raw.config.is_empty() {
            vec![(name.clone(), String::new(), Sections::default())]
        } else {
            raw.config
                .iter()
                .enumerate()
                .map(|(i, e)| (e.label.clone(), format!("config[{i}]."), e.sections()))
                .collect()
        };
        let mut seen = HashSet::new();
        for (label, prefix, _) in &entries {
            if label.trim().is_empty() || label.contains(['\n', '\r']) {
                return Err(
                    self.invalid(format!("{prefix}label"), "must be a non-empty single line")
                );
            }
            if !seen.insert(label.clone()) {
                return Err(self.invalid(
                    format!("{prefix}label"),
                    format!("{label:?} is used by two configurations; labels must be unique"),
                ));
            }
        }
        let configs = match &raw.sweep {
            None => entries
                .into_iter()
                .map(|(label, prefix, own)| self.config(label, &prefix, own, &defaults))
                .collect::<Res<Vec<_>>>()?,
            Some(sw) => self.sweep(sw, doc, &entries)?,
        };
        let stats = self.stats(&raw.stats.clone().unwrap_or_default())?;
        let max_dim = configs.iter().map(|c| c.dim() as u64).max().unwrap_or(1);
        if let Some(a) = &stats.adaptive {
            limits::fits(
                limits::outcomes_memory(a.batch, max_dim),
                &format!("a batch of {} trajectories", a.batch),
            )
            .map_err(|r| self.invalid("stats.adaptive.batch", r))?;
        }
        let theorem = raw
            .theorem
            .as_ref()
            .map(|t| self.theorem(t, &configs))
            .transpose()?;
        let convexity = raw
            .convexity
            .as_ref()
            .map(|c| self.convexity(c))
            .transpose()?;
        let log_axes = raw.sweep.as_ref().map_or(vec![], |sw| {
            sw.axis
                .iter()
                .filter(|a| a.log.is_some())
                .map(|a| a.column_name())
                .collect()
        });
        Ok(Experiment {
            name,
            log_axes,
            description: raw.description.unwrap_or_default(),
            source: self.file.display().to_string(),
            seed: raw.seed.unwrap_or(DEFAULT_SEED),
            stats,
            theorem,
            convexity,
            configs,
        })
    }

    /// Picks a section from the entry or the defaults; returns it with the field prefix of
    /// where it was written.
    fn pick<'a, T>(
        &self,
        own: &'a Option<T>,
        default: &'a Option<T>,
        prefix: &str,
        name: &str,
    ) -> Res<(&'a T, String)> {
        match (own, default) {
            (Some(v), _) => Ok((v, format!("{prefix}{name}"))),
            (None, Some(v)) => Ok((v, name.to_string())),
            (None, None) => Err(self.invalid(
                format!("{prefix}{name}"),
                "missing: set it at the top level or in this configuration",
            )),
        }
    }

    fn config(
        &self,
        label: String,
        prefix: &str,
        own: Sections,
        defaults: &Sections,
    ) -> Res<ConfigSpec> {
        let trajectories_field = if own.trajectories.is_some() {
            format!("{prefix}trajectories")
        } else {
            "trajectories".into()
        };
        let trajectories = match own.trajectories.or(defaults.trajectories) {
            None => DEFAULT_TRAJECTORIES,
            Some(n) if n >= 1 => n as u64,
            Some(n) => {
                return Err(
                    self.invalid(trajectories_field, format!("must be at least 1, got {n}"))
                );
            }
        };
        limits::fits(
            limits::units_memory(trajectories),
            &format!("{trajectories} trajectories (their list of parts)"),
        )
        .map_err(|r| self.invalid(&trajectories_field, r))?;
        let stream = match own.stream.or(defaults.stream) {
            None => 0,
            Some(s) if s >= 0 => s as u64,
            Some(s) => {
                let field = if own.stream.is_some() {
                    format!("{prefix}stream")
                } else {
                    "stream".into()
                };
                return Err(self.invalid(field, format!("must be at least 0, got {s}")));
            }
        };
        let (o, f) = self.pick(&own.objective, &defaults.objective, prefix, "objective")?;
        let objective = self.objective(o, &f)?;
        let dim = objective.dim();
        let (n, f) = self.pick(&own.noise, &defaults.noise, prefix, "noise")?;
        let noise = self.noise(n, &f, objective.examples(), objective.dim())?;
        let (d, f) = self.pick(&own.dynamics, &defaults.dynamics, prefix, "dynamics")?;
        let schedule = self.dynamics(d, &f)?;
        let noise_entry = d.noise_entry;
        if noise.minibatch().is_some() && noise_entry != crate::dynamics::NoiseEntry::Step {
            return Err(self.invalid(
                format!("{f}.noise_entry"),
                "minibatch noise enters the step: noise_entry = \"point\" is for noise laws",
            ));
        }
        let (i, f) = self.pick(&own.init, &defaults.init, prefix, "init")?;
        let init = self.init(i, &f, dim)?;
        let (e, f) = self.pick(&own.events, &defaults.events, prefix, "events")?;
        let finite_sum = objective.examples().is_some();
        let events = self.events(e, &f, schedule.total_steps(), finite_sum)?;
        Ok(ConfigSpec {
            params: Vec::new(),
            label,
            trajectories,
            stream,
            objective,
            noise,
            schedule,
            noise_entry,
            init,
            events,
        })
    }

    fn finite(&self, field: &str, v: f64) -> Res<f64> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.invalid(field, format!("must be finite, got {v}")))
        }
    }

    fn positive(&self, field: &str, v: f64) -> Res<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(field, format!("must be > 0, got {v}")))
        }
    }

    fn non_negative(&self, field: &str, v: f64) -> Res<f64> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(field, format!("must be ≥ 0, got {v}")))
        }
    }

    /// A dimension: at least 1, and small enough that a chunk of trajectories' final points
    /// fits in memory (checked before any vector of that size exists).
    fn dim(&self, field: &str, dim: usize) -> Res<usize> {
        if dim < 1 {
            return Err(self.invalid(field, "must be at least 1"));
        }
        limits::fits(
            limits::dimension_memory(dim as u64),
            &format!("dimension {dim}"),
        )
        .map_err(|r| self.invalid(field, r))?;
        Ok(dim)
    }

    /// Broadcasts or checks a coordinate list against dimension `dim`.
    /// [`Self::coords`] when given, the origin otherwise.
    fn coords_or_origin(&self, field: &str, c: Option<&Coords>, dim: usize) -> Res<Vec<f64>> {
        match c {
            Some(c) => self.coords(field, c, dim),
            None => Ok(vec![0.0; dim]),
        }
    }

    /// A formula of the file, refused with its field and the position of the error.
    fn formula(&self, field: String, text: &str, variables: Variables) -> Res<Formula> {
        Formula::parse(text, variables).map_err(|e| self.invalid(field, format!("{e} in `{text}`")))
    }

    fn coords(&self, field: &str, c: &Coords, dim: usize) -> Res<Vec<f64>> {
        let v = match c {
            Coords::Scalar(x) => vec![*x; dim],
            Coords::Vector(v) if v.len() == dim => v.clone(),
            Coords::Vector(v) => {
                return Err(self.invalid(
                    field,
                    format!(
                        "has {} coordinates but the objective's dimension is {dim}",
                        v.len()
                    ),
                ));
            }
        };
        for (i, x) in v.iter().enumerate() {
            if !x.is_finite() {
                return Err(
                    self.invalid(format!("{field}[{i}]"), format!("must be finite, got {x}"))
                );
            }
        }
        Ok(v)
    }

    fn objective(&self, o: &ObjectiveFile, f: &str) -> Res<ObjectiveChoice> {
        Ok(match o {
            ObjectiveFile::Quadratic { dim, k } => {
                let dim = match (dim, k) {
                    (Some(d), _) => self.dim(&format!("{f}.dim"), *d)?,
                    (None, Coords::Vector(v)) => self.dim(&format!("{f}.k"), v.len())?,
                    (None, Coords::Scalar(_)) => {
                        return Err(self.invalid(
                            format!("{f}.dim"),
                            "missing: needed when k is a single number",
                        ));
                    }
                };
                let k = self.coords(&format!("{f}.k"), k, dim)?;
                for (i, &ki) in k.iter().enumerate() {
                    self.positive(&format!("{f}.k[{i}]"), ki)?;
                }
                ObjectiveChoice::Quadratic { k }
            }
            ObjectiveFile::Rastrigin { dim, a, w } => ObjectiveChoice::Rastrigin {
                dim: self.dim(&format!("{f}.dim"), *dim)?,
                a: self.non_negative(&format!("{f}.a"), *a)?,
                w: self.positive(&format!("{f}.w"), *w)?,
            },
            ObjectiveFile::Wells { dim, wells, target } => {
                let dim = self.dim(&format!("{f}.dim"), *dim)?;
                for (j, w) in wells.iter().enumerate() {
                    let wf = format!("{f}.wells[{j}]");
                    self.finite(&format!("{wf}.depth"), w.depth)?;
                    self.positive(&format!("{wf}.width"), w.width)?;
                    self.coords(
                        &format!("{wf}.centre"),
                        &Coords::Vector(w.centre.clone()),
                        dim,
                    )?;
                }
                let target = self.coords_or_origin(&format!("{f}.target"), target.as_ref(), dim)?;
                ObjectiveChoice::Wells {
                    wells: wells.clone(),
                    target,
                }
            }
            ObjectiveFile::Spiky {} => ObjectiveChoice::Spiky,
            ObjectiveFile::Table {
                csv,
                outside,
                curvature,
                target,
            } => self.table(csv, outside, *curvature, target.as_ref(), f)?,
            ObjectiveFile::Formula {
                dim,
                f: formula,
                each,
                target,
                lipschitz,
            } => {
                let dim = self.dim(&format!("{f}.dim"), *dim)?;
                let (field, text, variables) = match (formula, each) {
                    (Some(text), None) => ("f", text, Variables::Numbered(dim)),
                    (None, Some(text)) => ("each", text, Variables::Single),
                    _ => {
                        return Err(self.invalid(
                            format!("{f}.f"),
                            "give exactly one of `f` (a formula in x1 … xd) and `each` (h(x), for f = Σᵢ h(xᵢ))",
                        ));
                    }
                };
                let parsed = self.formula(format!("{f}.{field}"), text, variables)?;
                let target = self.coords_or_origin(&format!("{f}.target"), target.as_ref(), dim)?;
                if let Some(l) = lipschitz {
                    self.positive(&format!("{f}.lipschitz"), *l)?;
                }
                let built = FormulaObjective::new(parsed, target.clone(), *lipschitz);
                ObjectiveChoice::Formula {
                    f: formula.clone(),
                    each: each.clone(),
                    target,
                    lipschitz: *lipschitz,
                    built: Built(Arc::new(built)),
                }
            }
            ObjectiveFile::LeastSquares { data } => {
                let data = self.data(data, &format!("{f}.data"), "least_squares")?;
                self.cached(("least_squares", &data), || {
                    let set = self.data_set(&data, "least_squares", f)?;
                    let ls = LeastSquares::new(set).ok_or_else(|| {
                        self.invalid(format!("{f}.data"), "AᵀA is singular (fewer independent examples than features): x* is not unique")
                    })?;
                    Ok(ObjectiveChoice::LeastSquares {
                        data: data.clone(),
                        built: Built(Arc::new(ls)),
                    })
                })?
            }
            ObjectiveFile::Logistic { data, lambda } => {
                let lambda = self.positive(&format!("{f}.lambda"), *lambda)?;
                let data = self.data(data, &format!("{f}.data"), "logistic")?;
                self.cached(("logistic", &data, lambda), || {
                    let set = self.data_set(&data, "logistic", f)?;
                    let lg = Logistic::new(set, lambda).ok_or_else(|| {
                        self.invalid(
                            format!("{f}.lambda"),
                            "Newton's method did not reach x* to machine precision",
                        )
                    })?;
                    Ok(ObjectiveChoice::Logistic {
                        data: data.clone(),
                        lambda,
                        built: Built(Arc::new(lg)),
                    })
                })?
            }
            ObjectiveFile::Mlp {
                hidden,
                activation,
                lambda,
                data,
                validation,
                target,
            } => {
                if data.csv.is_none() {
                    return Err(self.invalid(
                        format!("{f}.data.csv"),
                        "missing: a network's data come from a CSV file (`csv` and `label`)",
                    ));
                }
                let data_spec = self.data(data, &format!("{f}.data"), "mlp")?;
                if hidden.len() > 16 {
                    return Err(self.invalid(format!("{f}.hidden"), "at most 16 hidden layers"));
                }
                let mut widths = Vec::with_capacity(hidden.len());
                for (j, &w) in hidden.iter().enumerate() {
                    if !(1..=1 << 20).contains(&w) {
                        return Err(self.invalid(
                            format!("{f}.hidden[{j}]"),
                            format!("must lie in [1, 2^20], got {w}"),
                        ));
                    }
                    widths.push(w as usize);
                }
                // Classes are at most 1001 (labels 0 … 1000): bound with that before building.
                let mut sizes = vec![data_spec.features()];
                sizes.extend(&widths);
                sizes.push(1001);
                let count = Mlp::parameter_count(&sizes).unwrap_or(usize::MAX);
                self.dim(&format!("{f}.hidden"), count)?;
                let lambda = self.non_negative(&format!("{f}.lambda"), lambda.unwrap_or(0.0))?;
                let activation = activation.unwrap_or_default();
                let validation = match validation {
                    Some(v) if v.csv.is_some() => {
                        Some(self.data(v, &format!("{f}.validation"), "mlp")?)
                    }
                    Some(_) => {
                        return Err(self.invalid(
                            format!("{f}.validation.csv"),
                            "missing: a validation set is a CSV file (`csv` and `label`)",
                        ));
                    }
                    None => None,
                };
                let target = target
                    .as_ref()
                    .map(|t| self.target(t, &format!("{f}.target")))
                    .transpose()?;
                self.cached(
                    (
                        "mlp",
                        &data_spec,
                        &widths,
                        activation,
                        lambda,
                        &target,
                        &validation,
                    ),
                    || {
                        let set = self.data_set(&data_spec, "mlp", f)?;
                        let net = Mlp::new(set, &widths, activation, lambda).ok_or_else(|| {
                            self.invalid(
                                format!("{f}.data.label"),
                                "labels must be integers 0 … 1000, with at least two classes",
                            )
                        })?;
                        let net = match &validation {
                            None => net,
                            Some(v) => {
                                let set = self.data_set(v, "mlp", f)?;
                                net.with_validation(set).ok_or_else(|| {
                                    self.invalid(
                                        format!("{f}.validation"),
                                        "needs the training data's features and labels among its classes",
                                    )
                                })?
                            }
                        };
                        let net = match &target {
                            None => net,
                            Some(t) => {
                                let point =
                                    self.target_point(t, net.dim(), &format!("{f}.target"))?;
                                net.with_target(point)
                            }
                        };
                        Ok(ObjectiveChoice::Mlp {
                            data: data_spec.clone(),
                            hidden: widths.clone(),
                            activation,
                            lambda,
                            validation: validation.clone(),
                            target: target.clone(),
                            built: Built(Arc::new(net)),
                        })
                    },
                )?
            }
            ObjectiveFile::TeacherStudent {
                inputs,
                width,
                n,
                scale,
                data_seed,
            } => {
                let count = |name: &str, v: i64| -> Res<usize> {
                    if v >= 1 {
                        Ok(v as usize)
                    } else {
                        Err(self.invalid(
                            format!("{f}.{name}"),
                            format!("must be at least 1, got {v}"),
                        ))
                    }
                };
                let (inputs, width, n) = (
                    count("inputs", *inputs)?,
                    count("width", *width)?,
                    count("n", *n)?,
                );
                if width > inputs {
                    return Err(self.invalid(
                        format!("{f}.width"),
                        format!("must be at most inputs = {inputs} (the identity-plus-W form ties unit j to input j), got {width}"),
                    ));
                }
                self.dim(&format!("{f}.width"), width.saturating_mul(inputs))?;
                limits::fits(
                    limits::examples_memory(n as u64, inputs as u64),
                    &format!("{n} examples of {inputs} inputs"),
                )
                .map_err(|r| self.invalid(format!("{f}.n"), r))?;
                let scale = self.positive(&format!("{f}.scale"), scale.unwrap_or(0.5))?;
                let data_seed = data_seed.unwrap_or(1);
                self.cached(
                    ("teacher_student", inputs, width, n, scale, data_seed),
                    || {
                        let ts = TeacherStudent::new(inputs, width, n, scale, data_seed)
                            .ok_or_else(|| {
                                self.invalid(format!("{f}.width"), "must lie in [1, inputs]")
                            })?;
                        Ok(ObjectiveChoice::TeacherStudent {
                            inputs,
                            width,
                            n,
                            scale,
                            data_seed,
                            built: Built(Arc::new(ts)),
                        })
                    },
                )?
            }
            ObjectiveFile::Custom { kind, params } => {
                let built = self
                    .registry
                    .build_objective(kind, params.clone())
                    .ok_or_else(|| {
                        let known = crate::objective::BUILTIN_KINDS.iter().copied();
                        self.unknown(
                            &format!("{f}.kind"),
                            kind,
                            known,
                            self.registry.objective_kinds(),
                        )
                    })?
                    .map_err(|r| self.refusal(f, r))?;
                let dim = self.dim(f, built.dim())?;
                let target = built.target();
                if target.len() != dim || target.iter().any(|t| !t.is_finite()) {
                    return Err(self.invalid(
                        f,
                        format!(
                            "the `{kind}` type's target has {} coordinates (all must be finite) for dimension {dim}",
                            target.len()
                        ),
                    ));
                }
                ObjectiveChoice::Custom(built)
            }
        })
    }

    /// An unknown `kind` or `law`, refused with the built-in and registered names.
    fn unknown(
        &self,
        field: &str,
        name: &str,
        builtin: impl Iterator<Item = &'static str>,
        registered: Vec<&str>,
    ) -> ConfigError {
        let quoted = |v: Vec<&str>| {
            v.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut message = format!(
            "unknown variant `{name}`, expected one of {}",
            quoted(builtin.collect())
        );
        if registered.is_empty() {
            message.push_str(
                " (programs built on sgd_escape::Registry can add their own; this one adds none)",
            );
        } else {
            message.push_str(&format!(
                ", or one this program adds: {}",
                quoted(registered)
            ));
        }
        ConfigError::Parse {
            file: self.file.clone(),
            field: field.to_string(),
            message,
        }
    }

    /// A user type's refusal of its section `f`.
    fn refusal(&self, f: &str, r: Refusal) -> ConfigError {
        match r.field {
            Some(field) => ConfigError::Parse {
                file: self.file.clone(),
                field: format!("{f}.{field}"),
                message: r.reason,
            },
            None => self.invalid(f, r.reason),
        }
    }

    /// Validates a finite sum's data spec (sizes bounded before anything is drawn or read).
    fn data(&self, d: &DataFile, f: &str, kind: &str) -> Res<DataSpec> {
        match (&d.csv, &d.label) {
            (Some(csv), Some(label)) => {
                for (name, set) in [
                    ("n", d.n.is_some()),
                    ("dim", d.dim.is_some()),
                    ("noise", d.noise.is_some()),
                    ("scale", d.scale.is_some()),
                    ("data_seed", d.data_seed.is_some()),
                ] {
                    if set {
                        return Err(self.invalid(
                            format!("{f}.{name}"),
                            "is for synthetic data: a CSV file gives its own examples",
                        ));
                    }
                }
                let read = self.read_csv(&self.relative(csv), label, f)?;
                let data = &read.data;
                if kind == "logistic"
                    && let Some(i) = data.labels.iter().position(|&y| y != 1.0 && y != -1.0)
                {
                    return Err(self.invalid(
                        format!("{f}.label"),
                        format!(
                            "{}:{}: logistic labels must be -1 or 1, got {}",
                            self.relative(csv).display(),
                            i + 2,
                            data.labels[i]
                        ),
                    ));
                }
                self.features(f, data.p as u64, data.n as u64)?;
                Ok(read.spec)
            }
            (Some(_), None) => {
                Err(self.invalid(format!("{f}.label"), "missing: the CSV file's label column"))
            }
            (None, Some(_)) => Err(self.invalid(
                format!("{f}.csv"),
                "missing: `label` names a column of a CSV file",
            )),
            (None, None) => {
                let n = match d.n {
                    Some(n) if n >= 1 => n as u64,
                    Some(n) => {
                        return Err(
                            self.invalid(format!("{f}.n"), format!("must be at least 1, got {n}"))
                        );
                    }
                    None => {
                        return Err(self.invalid(
                            format!("{f}.n"),
                            "missing: give `n` and `dim` (synthetic data) or `csv` and `label`",
                        ));
                    }
                };
                let p = match d.dim {
                    Some(p) if p >= 1 => p as u64,
                    Some(p) => {
                        return Err(self
                            .invalid(format!("{f}.dim"), format!("must be at least 1, got {p}")));
                    }
                    None => {
                        return Err(
                            self.invalid(format!("{f}.dim"), "missing: the number of features")
                        );
                    }
                };
                self.features(f, p, n)?;
                let (field, value) = match kind {
                    "least_squares" => {
                        if d.scale.is_some() {
                            return Err(self.invalid(
                                format!("{f}.scale"),
                                "is for logistic data; least squares has `noise`",
                            ));
                        }
                        ("noise", d.noise.unwrap_or(1.0))
                    }
                    _ => {
                        if d.noise.is_some() {
                            return Err(self.invalid(
                                format!("{f}.noise"),
                                "is for least-squares data; logistic data have `scale`",
                            ));
                        }
                        ("scale", d.scale.unwrap_or(1.0))
                    }
                };
                Ok(DataSpec::Gaussian {
                    n: n as usize,
                    dim: p as usize,
                    scale: self.non_negative(&format!("{f}.{field}"), value)?,
                    data_seed: d.data_seed.unwrap_or(1),
                })
            }
        }
    }

    /// Bounds the features p and examples n of a data set before it is built.
    fn features(&self, f: &str, p: u64, n: u64) -> Res<()> {
        if p > limits::MAX_FEATURES {
            return Err(self.invalid(
                format!("{f}.dim"),
                format!(
                    "{p} features is more than {} (building x*, L and c takes O(p³))",
                    limits::MAX_FEATURES
                ),
            ));
        }
        self.dim(&format!("{f}.dim"), p as usize)?;
        limits::fits(
            limits::examples_memory(n, p),
            &format!("{n} examples of {p} features"),
        )
        .map_err(|r| self.invalid(format!("{f}.n"), r))?;
        Ok(())
    }

    /// Resolves a network's target: a point, or a row of a `trajectories.csv` (its bytes
    /// hashed into the configuration's identity).
    fn target(&self, t: &TargetFile, f: &str) -> Res<TargetSpec> {
        Ok(match t {
            TargetFile::Point(v) => {
                self.coords(f, &Coords::Vector(v.clone()), v.len())?;
                TargetSpec::Point(v.clone())
            }
            TargetFile::Trajectories {
                trajectories,
                config,
                index,
            } => {
                let path = self.relative(trajectories);
                let bytes = std::fs::read(&path).map_err(|e| {
                    self.invalid(
                        format!("{f}.trajectories"),
                        format!("{}: {e}", path.display()),
                    )
                })?;
                TargetSpec::Trajectories {
                    trajectories: path.display().to_string(),
                    config: config.clone(),
                    index: index.unwrap_or(0),
                    content: format!("{:016x}", crate::rng::stable_hash(&bytes)),
                }
            }
        })
    }

    /// The target's coordinates, checked against the network's dimension.
    fn target_point(&self, t: &TargetSpec, dim: usize, f: &str) -> Res<Vec<f64>> {
        match t {
            TargetSpec::Point(v) => self.coords(f, &Coords::Vector(v.clone()), dim),
            TargetSpec::Trajectories {
                trajectories,
                config,
                index,
                ..
            } => {
                let field = format!("{f}.trajectories");
                let bad =
                    |reason: String| self.invalid(&field, format!("{trajectories}: {reason}"));
                let mut reader =
                    csv::Reader::from_path(trajectories).map_err(|e| bad(e.to_string()))?;
                let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
                let col = |name: &str| header.iter().position(|h| h == name);
                let (Some(c_config), Some(c_index)) = (col("config"), col("index")) else {
                    return Err(bad(
                        "not a trajectories.csv: no `config` and `index` columns".into(),
                    ));
                };
                let coords: Vec<usize> = (1..=dim)
                    .map(|j| col(&format!("x_{j}")))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        bad(format!(
                            "has fewer than the network's {dim} coordinates x_1 … x_{dim}"
                        ))
                    })?;
                for (line, row) in reader.records().enumerate() {
                    let row = row.map_err(|e| bad(e.to_string()))?;
                    if row.get(c_config) != Some(config.as_str())
                        || row.get(c_index) != Some(index.to_string().as_str())
                    {
                        continue;
                    }
                    return coords
                        .iter()
                        .enumerate()
                        .map(|(j, &c)| {
                            row.get(c)
                                .and_then(|v| v.parse::<f64>().ok())
                                .filter(|v| v.is_finite())
                                .ok_or_else(|| {
                                    bad(format!(
                                        "line {}: x_{} is not a finite number",
                                        line + 2,
                                        j + 1
                                    ))
                                })
                        })
                        .collect();
                }
                Err(bad(format!(
                    "no row of configuration {config:?} with index {index}"
                )))
            }
        }
    }

    /// A path from the experiment file's directory (as given when absolute).
    fn relative(&self, p: &str) -> PathBuf {
        match self.file.parent() {
            Some(dir) if Path::new(p).is_relative() => dir.join(p),
            _ => PathBuf::from(p),
        }
    }

    /// A tabulated function from its CSV file: columns x, f (a curve) or x1, x2, f (a grid).
    fn table(
        &self,
        csv: &str,
        outside: &str,
        curvature: Option<f64>,
        target: Option<&Coords>,
        f: &str,
    ) -> Res<ObjectiveChoice> {
        let outside = match (outside, curvature) {
            ("quadratic", Some(q)) => Outside::Quadratic {
                curvature: self.positive(&format!("{f}.curvature"), q)?,
            },
            ("quadratic", None) => {
                return Err(self.invalid(
                    format!("{f}.curvature"),
                    "missing: the quadratic continuation f(c) + Q (‖x‖² − ‖c‖²) needs Q",
                ));
            }
            ("linear", None) => Outside::Linear,
            ("linear", Some(_)) => {
                return Err(
                    self.invalid(format!("{f}.curvature"), "only for outside = \"quadratic\"")
                );
            }
            (other, _) => {
                return Err(self.invalid(
                    format!("{f}.outside"),
                    format!("{other:?}: must be \"quadratic\" (with curvature) or \"linear\""),
                ));
            }
        };
        let path = self.relative(csv);
        let read = self.read_csv(&path, "f", f)?;
        let data = &read.data;
        let dim = data.p;
        if dim > 2 {
            return Err(self.invalid(
                format!("{f}.csv"),
                format!(
                    "{}: {dim} columns besides f; a table is a curve (x, f) or a grid (x1, x2, f)",
                    path.display()
                ),
            ));
        }
        let target = self.coords_or_origin(&format!("{f}.target"), target, dim)?;
        let built = if dim == 1 {
            Table::curve(
                data.features.clone(),
                data.labels.clone(),
                outside,
                target[0],
            )
        } else {
            let rows: Vec<[f64; 3]> = (0..data.n)
                .map(|i| [data.row(i)[0], data.row(i)[1], data.labels[i]])
                .collect();
            Table::grid(&rows, outside, [target[0], target[1]])
        }
        .map_err(|e| self.invalid(format!("{f}.csv"), format!("{}: {e}", path.display())))?;
        let content = match &read.spec {
            DataSpec::Csv { content, .. } => content.clone(),
            DataSpec::Gaussian { .. } => String::new(),
        };
        Ok(ObjectiveChoice::Table {
            csv: path.display().to_string(),
            content,
            points: data.n,
            outside,
            target,
            built: Built(Arc::new(built)),
        })
    }

    /// A finite sum built once per distinct spec (data, x*, L, c): a sweep over η builds
    /// its data set once.
    fn cached(
        &self,
        key: impl serde::Serialize,
        build: impl FnOnce() -> Res<ObjectiveChoice>,
    ) -> Res<ObjectiveChoice> {
        let key = serde_json::to_string(&key).expect("specs serialise");
        if let Some(done) = self.built.borrow().get(&key) {
            return Ok(done.clone());
        }
        let built = build()?;
        self.built.borrow_mut().insert(key, built.clone());
        Ok(built)
    }

    /// The data set of a validated spec.
    /// Reads a CSV data set (its size bounded first), or returns the one already read.
    fn read_csv(&self, path: &Path, label: &str, f: &str) -> Res<CsvData> {
        let key = (path.to_path_buf(), label.to_string());
        if let Some(done) = self.csv.borrow().get(&key) {
            return Ok(done.clone());
        }
        let bytes = std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| self.invalid(format!("{f}.csv"), format!("{}: {e}", path.display())))?;
        // A CSV number takes at least 2 bytes, so the file bounds the data's size.
        limits::fits(
            bytes.checked_mul(12),
            &format!(
                "the data file {} ({})",
                path.display(),
                limits::bytes(bytes)
            ),
        )
        .map_err(|r| self.invalid(format!("{f}.csv"), r))?;
        let (data, content) = crate::data::read_csv(path, label)
            .map_err(|e| self.invalid(format!("{f}.csv"), e.to_string()))?;
        let read = CsvData {
            spec: DataSpec::Csv {
                path: path.display().to_string(),
                label: label.to_string(),
                content: format!("{:016x}", crate::rng::stable_hash(&content)),
                n: data.n,
                dim: data.p,
            },
            data: Arc::new(data),
        };
        self.csv.borrow_mut().insert(key, read.clone());
        Ok(read)
    }

    fn data_set(&self, d: &DataSpec, kind: &str, f: &str) -> Res<crate::data::DataSet> {
        Ok(match d {
            DataSpec::Gaussian {
                n,
                dim,
                scale,
                data_seed,
            } => match kind {
                "least_squares" => crate::data::gaussian_linear(*n, *dim, *scale, *data_seed).0,
                _ => crate::data::gaussian_logistic(*n, *dim, *scale, *data_seed).0,
            },
            // Read by `data` when the spec was resolved.
            DataSpec::Csv { path, label, .. } => {
                let read = self.read_csv(Path::new(path), label, &format!("{f}.data"))?;
                read.data.as_ref().clone()
            }
        })
    }

    fn noise(&self, n: &NoiseSpec, f: &str, examples: Option<usize>, dim: usize) -> Res<NoiseSpec> {
        match n {
            NoiseSpec::Ball { r } | NoiseSpec::Cube { r } | NoiseSpec::Sphere { r } => {
                self.non_negative(&format!("{f}.r"), *r)?;
            }
            NoiseSpec::Gaussian { sigma } => match sigma {
                Sigma::Scalar(s) => {
                    self.non_negative(&format!("{f}.sigma"), *s)?;
                }
                Sigma::PerCoordinate(v) => {
                    if v.len() != dim {
                        return Err(self.invalid(
                            format!("{f}.sigma"),
                            format!(
                                "{} values for dimension {dim} (one σ per coordinate)",
                                v.len()
                            ),
                        ));
                    }
                    for (i, s) in v.iter().enumerate() {
                        self.non_negative(&format!("{f}.sigma[{i}]"), *s)?;
                    }
                }
            },
            NoiseSpec::StudentT { nu, s, .. } => {
                self.positive(&format!("{f}.nu"), *nu)?;
                self.non_negative(&format!("{f}.s"), *s)?;
            }
            NoiseSpec::Stable { alpha, sigma } => {
                if !(*alpha > 0.0 && *alpha <= 2.0) {
                    return Err(self.invalid(
                        format!("{f}.alpha"),
                        format!("must lie in (0, 2], got {alpha}"),
                    ));
                }
                self.non_negative(&format!("{f}.sigma"), *sigma)?;
            }
            NoiseSpec::Formula { scale, base, bound } => {
                self.formula(format!("{f}.scale"), scale, Variables::Numbered(dim))?;
                if matches!(
                    **base,
                    NoiseSpec::Minibatch { .. } | NoiseSpec::Formula { .. }
                ) {
                    return Err(self.invalid(
                        format!("{f}.base.law"),
                        "must be a plain law (ball, cube, sphere, gaussian, student_t, stable, none)",
                    ));
                }
                let base = self.noise(base, &format!("{f}.base"), None, dim)?;
                if let Some(b) = bound {
                    self.non_negative(&format!("{f}.bound"), *b)?;
                }
                return Ok(NoiseSpec::Formula {
                    scale: scale.clone(),
                    base: Box::new(base),
                    bound: *bound,
                });
            }
            NoiseSpec::None {} => {}
            NoiseSpec::Minibatch {
                batch,
                sampling,
                injected,
            } => {
                let Some(n) = examples else {
                    return Err(self.invalid(
                        format!("{f}.law"),
                        "minibatch noise needs a finite-sum objective (least_squares, logistic, teacher_student)",
                    ));
                };
                if *batch < 1 || *batch > n as u64 {
                    return Err(self.invalid(
                        format!("{f}.batch"),
                        format!("must lie in [1, n = {n}], got {batch}"),
                    ));
                }
                if let Some(law) = injected {
                    if law.minibatch().is_some() {
                        return Err(self.invalid(
                            format!("{f}.injected.law"),
                            "must be a noise law (ball, cube, sphere, gaussian, student_t, stable, none)",
                        ));
                    }
                    let law = self.noise(law, &format!("{f}.injected"), None, dim)?;
                    return Ok(NoiseSpec::Minibatch {
                        batch: *batch,
                        sampling: *sampling,
                        injected: Some(Box::new(law)),
                    });
                }
            }
            NoiseSpec::Custom(CustomLaw::Written { law, params }) => {
                let built = self
                    .registry
                    .build_law(law, params.clone())
                    .ok_or_else(|| {
                        let known = crate::noise::BUILTIN_LAWS.iter().copied();
                        self.unknown(&format!("{f}.law"), law, known, self.registry.law_names())
                    })?
                    .map_err(|r| self.refusal(f, r))?;
                return Ok(NoiseSpec::Custom(CustomLaw::Built(built)));
            }
            // Already built (a spec resolved before): nothing left to check.
            NoiseSpec::Custom(CustomLaw::Built(_)) => {}
        }
        Ok(n.clone())
    }

    fn stage(&self, f: &str, eta: f64, steps: i64) -> Res<Stage> {
        let eta = self.positive(&format!("{f}.eta"), eta)?;
        if steps < 1 {
            return Err(self.invalid(
                format!("{f}.steps"),
                format!("must be at least 1, got {steps}"),
            ));
        }
        Ok(Stage {
            eta,
            steps: steps as u64,
        })
    }

    fn dynamics(&self, d: &DynamicsFile, f: &str) -> Res<Schedule> {
        match (&d.schedule, d.eta, d.steps) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(self.invalid(
                format!("{f}.schedule"),
                "give either `eta` and `steps` or `schedule`, not both",
            )),
            (Some(stages), None, None) => {
                if stages.is_empty() {
                    return Err(
                        self.invalid(format!("{f}.schedule"), "is empty: give at least one stage")
                    );
                }
                let stages = stages
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.stage(&format!("{f}.schedule[{i}]"), s.eta, s.steps))
                    .collect::<Res<Vec<_>>>()?;
                if stages
                    .iter()
                    .try_fold(0u64, |t, s| t.checked_add(s.steps))
                    .is_none()
                {
                    return Err(self.invalid(
                        format!("{f}.schedule"),
                        "the total number of steps overflows 64 bits",
                    ));
                }
                Ok(Schedule::new(stages))
            }
            (None, Some(eta), Some(steps)) => Ok(Schedule::new(vec![self.stage(f, eta, steps)?])),
            (None, None, _) => Err(self.invalid(
                format!("{f}.eta"),
                "missing: give `eta` and `steps`, or `schedule`",
            )),
            (None, Some(_), None) => {
                Err(self.invalid(format!("{f}.steps"), "missing: the number of steps T"))
            }
        }
    }

    fn init(&self, i: &InitFile, f: &str, dim: usize) -> Res<InitialPoints> {
        Ok(match i {
            InitFile::Point { point } => InitialPoints::Point {
                point: self.coords(&format!("{f}.point"), point, dim)?,
            },
            InitFile::Box { lo, hi } => {
                let lo = self.coords(&format!("{f}.lo"), lo, dim)?;
                let hi = self.coords(&format!("{f}.hi"), hi, dim)?;
                if let Some(j) = (0..dim).find(|&j| lo[j] > hi[j]) {
                    return Err(self.invalid(
                        format!("{f}.hi"),
                        format!("coordinate {j}: hi = {} is below lo = {}", hi[j], lo[j]),
                    ));
                }
                InitialPoints::Box { lo, hi }
            }
            InitFile::Ball { centre, radius } => InitialPoints::Ball {
                centre: self.coords_or_origin(&format!("{f}.centre"), centre.as_ref(), dim)?,
                radius: self.non_negative(&format!("{f}.radius"), *radius)?,
            },
            InitFile::Final {
                trajectories,
                config,
                index,
            } => {
                let spec = self.target(
                    &TargetFile::Trajectories {
                        trajectories: trajectories.clone(),
                        config: config.clone(),
                        index: *index,
                    },
                    f,
                )?;
                InitialPoints::Point {
                    point: self.target_point(&spec, dim, f)?,
                }
            }
        })
    }

    /// Expands the sweep: every entry (merged with the defaults) at every sweep point.
    fn sweep(
        &self,
        sw: &sweep::SweepFile,
        doc: &toml::Table,
        entries: &[(String, String, Sections)],
    ) -> Res<Vec<ConfigSpec>> {
        if sw.axis.is_empty() {
            return Err(self.invalid("sweep.axis", "is empty: give at least one [[sweep.axis]]"));
        }
        // Axes with values first (their points), then the derived ones, computed at each
        // point from the others (`sweep.axis[i]` keeps the file's numbering in errors).
        let mut axes = Vec::new();
        let mut file_index = Vec::new();
        let mut derived_files = Vec::new();
        for (i, a) in sw.axis.iter().enumerate() {
            let path = match (&a.path, &a.name, &a.formula) {
                (Some(p), _, _) => sweep::parse_path(p)
                    .map_err(|r| self.invalid(format!("sweep.axis[{i}].path"), r))?,
                (None, Some(_), None) => Vec::new(),
                (None, _, Some(_)) => {
                    return Err(self.invalid(
                        format!("sweep.axis[{i}].path"),
                        "a derived axis (`formula`) needs the `path` of the parameter it sets",
                    ));
                }
                (None, None, None) => {
                    return Err(self.invalid(
                        format!("sweep.axis[{i}].path"),
                        "give the `path` of the parameter the axis sets, or a `name` for a value that derived axes use",
                    ));
                }
            };
            let name = a.column_name();
            // One source of values each; a derived axis (`formula`) gets none here.
            let values = sweep::axis_values(a)
                .map_err(|(f, r)| self.invalid(format!("sweep.axis[{i}].{f}"), r))?;
            if a.formula.is_some() {
                derived_files.push((i, a, path, name));
                continue;
            }
            axes.push(sweep::Axis { path, name, values });
            file_index.push(i);
        }
        if axes.is_empty() {
            return Err(self.invalid(
                "sweep.axis",
                "every axis is derived: at least one needs `values`, `lin` or `log`",
            ));
        }
        let mut names = HashSet::new();
        let all_names = axes
            .iter()
            .map(|a| &a.name)
            .chain(derived_files.iter().map(|d| &d.3));
        if let Some(n) = all_names.into_iter().find(|n| !names.insert((*n).clone())) {
            return Err(self.invalid(
                "sweep.axis",
                format!("two axes are named {n:?}: set `name` on one"),
            ));
        }
        // A derived axis's variables: every axis with values, by name and by path.
        let mut variables: Vec<String> = axes.iter().map(|a| a.name.clone()).collect();
        let mut slots: Vec<usize> = (0..axes.len()).collect();
        for (k, a) in sw.axis.iter().filter(|a| a.formula.is_none()).enumerate() {
            if let Some(p) = &a.path
                && !variables.contains(p)
            {
                variables.push(p.clone());
                slots.push(k);
            }
        }
        let mut derived = Vec::new();
        for (i, a, path, name) in derived_files {
            let text = a.formula.as_deref().unwrap_or_default();
            let f = crate::formula::Formula::parse_named(text, &variables).map_err(|e| {
                self.invalid(format!("sweep.axis[{i}].formula"), format!("{text:?}: {e}"))
            })?;
            derived.push((
                i,
                f,
                sweep::Axis {
                    path,
                    name,
                    values: Vec::new(),
                },
            ));
        }
        // The number of cells, counted before any is made.
        let combine = sw.combine.unwrap_or(sweep::Combine::Product);
        let per_entry = match combine {
            sweep::Combine::Zip => Some(axes[0].values.len() as u64),
            sweep::Combine::Product => limits::product(
                &axes
                    .iter()
                    .map(|a| a.values.len() as u64)
                    .collect::<Vec<_>>(),
            ),
        };
        let cells = per_entry.and_then(|c| c.checked_mul(entries.len() as u64));
        let axes_count = axes.len() as u64;
        limits::fits(
            cells.and_then(|c| {
                limits::configs_memory(c, 1)?.checked_add(c.checked_mul(8 * axes_count)?)
            }),
            &format!(
                "a sweep of {} cells",
                cells.map_or("more than 2^64".to_string(), |c| c.to_string())
            ),
        )
        .map_err(|r| self.invalid("sweep.axis", r))?;
        let points = sweep::points(&axes, combine).map_err(|r| self.invalid("sweep.combine", r))?;
        let entry_tables: Vec<Option<&toml::Table>> =
            match doc.get("config").and_then(|c| c.as_array()) {
                Some(arr) => arr.iter().map(|v| v.as_table()).collect(),
                None => vec![None],
            };
        let mut configs = Vec::with_capacity(entries.len() * points.len());
        for ((label, prefix, _), entry) in entries.iter().zip(entry_tables) {
            let mut merged = toml::Table::new();
            for key in sweep::SECTIONS {
                if let Some(v) = entry.and_then(|e| e.get(key)).or_else(|| doc.get(key)) {
                    merged.insert(key.to_string(), v.clone());
                }
            }
            for base in &points {
                let mut point = base.clone();
                let inputs: Vec<f64> = slots.iter().map(|&k| base[k]).collect();
                for (i, f, axis) in &derived {
                    let v = f.value(&inputs);
                    if !v.is_finite() {
                        let at: Vec<String> = axes
                            .iter()
                            .zip(base)
                            .map(|(a, v)| format!("{}={}", a.name, sweep::show(*v)))
                            .collect();
                        return Err(self.invalid(
                            format!("sweep.axis[{i}].formula"),
                            format!(
                                "{} is {v} at {}: it must be finite",
                                axis.name,
                                at.join(", ")
                            ),
                        ));
                    }
                    point.push(v);
                }
                let all_axes = axes.iter().chain(derived.iter().map(|d| &d.2));
                let params: Vec<(String, f64)> = all_axes
                    .clone()
                    .zip(&point)
                    .map(|(a, v)| (a.name.clone(), *v))
                    .collect();
                let shown: Vec<String> = params
                    .iter()
                    .map(|(n, v)| format!("{n}={}", sweep::show(*v)))
                    .collect();
                let cell = format!("{label} [{}]", shown.join(", "));
                let mut table = merged.clone();
                let numbers = file_index
                    .iter()
                    .copied()
                    .chain(derived.iter().map(|d| d.0));
                for ((i, axis), v) in numbers.zip(all_axes).zip(&point) {
                    if axis.path.is_empty() {
                        continue;
                    }
                    sweep::set_path(&mut table, &axis.path, *v).map_err(|r| {
                        self.invalid(
                            format!("sweep.axis[{i}].path"),
                            format!("{r} (in {prefix}{label:?})"),
                        )
                    })?;
                }
                let in_cell = |e: ConfigError| match e {
                    ConfigError::Invalid {
                        file,
                        field,
                        reason,
                    } => ConfigError::Invalid {
                        file,
                        field,
                        reason: format!("{reason} (in sweep cell {cell:?})"),
                    },
                    ConfigError::Parse {
                        file,
                        field,
                        message,
                    } => ConfigError::Parse {
                        file,
                        field,
                        message: format!("{message} (in sweep cell {cell:?})"),
                    },
                    other => other,
                };
                let own: Sections = serde_path_to_error::deserialize(toml::Value::Table(table))
                    .map_err(|e| {
                        in_cell(ConfigError::Parse {
                            file: self.file.clone(),
                            field: e.path().to_string(),
                            message: e.into_inner().to_string(),
                        })
                    })?;
                let mut spec = self
                    .config(cell.clone(), "", own, &Sections::default())
                    .map_err(in_cell)?;
                spec.params = params;
                configs.push(spec);
            }
        }
        Ok(configs)
    }

    fn convexity(&self, c: &ConvexityFile) -> Res<ConvexitySettings> {
        let d = ConvexitySettings::default();
        let count = |name: &str, v: Option<i64>, default: u64, min: i64, max: i64| -> Res<u64> {
            match v {
                None => Ok(default),
                Some(v) if (min..=max).contains(&v) => Ok(v as u64),
                Some(v) => Err(self.invalid(
                    format!("convexity.{name}"),
                    format!("must lie in [{min}, {max}], got {v}"),
                )),
            }
        };
        Ok(ConvexitySettings {
            every: c
                .every
                .map(|_| count("every", c.every, 1, 1, i64::MAX))
                .transpose()?,
            trajectories: count("trajectories", c.trajectories, d.trajectories, 1, 10_000)?,
            reference: c.reference.unwrap_or_default(),
            points: count("points", c.points, d.points, 0, 100_000)?,
            radius: self.non_negative("convexity.radius", c.radius.unwrap_or(d.radius))?,
            restarts: c
                .restarts
                .as_ref()
                .map(|r| -> Res<crate::experiment::Restarts> {
                    if r.epochs.is_empty() || r.epochs.len() > 1000 {
                        return Err(self.invalid(
                            "convexity.restarts.epochs",
                            "give between 1 and 1000 epochs",
                        ));
                    }
                    for (j, &e) in r.epochs.iter().enumerate() {
                        self.non_negative(&format!("convexity.restarts.epochs[{j}]"), e)?;
                    }
                    if r.epochs.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(self.invalid("convexity.restarts.epochs", "must be increasing"));
                    }
                    let steps = count("restarts.steps", Some(r.steps), 1, 1, i64::MAX)?;
                    Ok(crate::experiment::Restarts {
                        epochs: r.epochs.clone(),
                        eta: self.positive("convexity.restarts.eta", r.eta)?,
                        steps,
                    })
                })
                .transpose()?,
        })
    }

    fn theorem(&self, t: &TheoremFile, configs: &[ConfigSpec]) -> Res<TheoremSettings> {
        let count = |name: &str, v: Option<i64>, default: u64, min: i64| -> Res<u64> {
            match v {
                None => Ok(default),
                Some(v) if v >= min => Ok(v as u64),
                Some(v) => Err(self.invalid(
                    format!("theorem.{name}"),
                    format!("must be at least {min}, got {v}"),
                )),
            }
        };
        let c = match t.c {
            Some(c) if !(c.is_finite() && c > 0.0) => {
                return Err(self.invalid("theorem.c", format!("must be > 0, got {c}")));
            }
            c => c,
        };
        let g = t.guarantees.clone().unwrap_or_default();
        let prob = |name: &str, v: Option<f64>, default: f64| -> Res<f64> {
            match v {
                None => Ok(default),
                Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
                Some(p) => Err(self.invalid(
                    format!("theorem.guarantees.{name}"),
                    format!("must lie in [0, 1], got {p}"),
                )),
            }
        };
        let domains = configs
            .iter()
            .map(|c| {
                t.domain
                    .as_ref()
                    .map(|d| self.init(d, "theorem.domain", c.dim()))
                    .transpose()
            })
            .collect::<Res<Vec<_>>>()?;
        let t1 = t.t1.map(|_| count("t1", t.t1, 0, 0)).transpose()?;
        let t2 = count("t2", t.t2, 1000, 1)?;
        // Where one full gradient is expensive (n·d above HEAVY_GRADIENT: the digits MLP's is
        // 3.5e6), smaller defaults keep the check to about a minute per configuration.
        let heavy = configs.iter().any(|c| {
            c.objective
                .examples()
                .is_some_and(|n| n.saturating_mul(c.dim()) > HEAVY_GRADIENT)
        });
        let [d_samples, d_draws, d_traced] = if heavy {
            HEAVY_CHECK_DEFAULTS
        } else {
            CHECK_DEFAULTS
        };
        let samples = count("samples", t.samples, d_samples, 1)?;
        let max_dim = configs.iter().map(|c| c.dim() as u64).max().unwrap_or(1);
        // The check keeps its sample points, and the drift fit one pair per traced step.
        limits::fits(
            limits::product(&[samples, 2]).and_then(|s| limits::outcomes_memory(s, max_dim)),
            &format!("{samples} sample points"),
        )
        .map_err(|r| self.invalid("theorem.samples", r))?;
        for (name, v) in [("t1", t1), ("t2", Some(t2))] {
            if let Some(v) = v {
                limits::fits(
                    v.checked_add(1).and_then(|v| v.checked_mul(64)),
                    &format!("{name} = {v} steps of drift pairs"),
                )
                .map_err(|r| self.invalid(format!("theorem.{name}"), r))?;
            }
        }
        if t1.and_then(|t1| t1.checked_add(t2)).is_none() && t1.is_some() {
            return Err(self.invalid("theorem.t2", "T1 + T2 overflows 64 bits"));
        }
        Ok(TheoremSettings {
            c,
            t1,
            t2,
            guarantees: [
                prob("reach", g.reach, THEOREM_GUARANTEES[0])?,
                prob("stay", g.stay, THEOREM_GUARANTEES[1])?,
                prob("both", g.both, THEOREM_GUARANTEES[2])?,
            ],
            radius_scale: match t.radius_scale {
                None => 1.0,
                Some(v) if v.is_finite() && v > 0.0 => v,
                Some(v) => {
                    return Err(
                        self.invalid("theorem.radius_scale", format!("must be > 0, got {v}"))
                    );
                }
            },
            samples,
            draws: count("draws", t.draws, d_draws, 2)?,
            traced: count("traced", t.traced, d_traced, 1)?,
            domains,
        })
    }

    fn stats(&self, s: &StatsFile) -> Res<StatsSpec> {
        let default = StatsSpec::default();
        let level = match s.level {
            Some(l) => crate::stats::check_level(l).map_err(|r| self.invalid("stats.level", r))?,
            None => default.level,
        };
        let t = s.thresholds.clone().unwrap_or_default();
        let threshold = |name: &str, v: Option<f64>| -> Res<Option<f64>> {
            match v {
                Some(p) if !(0.0..=1.0).contains(&p) => Err(self.invalid(
                    format!("stats.thresholds.{name}"),
                    format!("must lie in [0, 1], got {p}"),
                )),
                v => Ok(v),
            }
        };
        let thresholds = Thresholds {
            reach: threshold("reach", t.reach)?,
            stay: threshold("stay", t.stay)?,
        };
        let adaptive = match &s.adaptive {
            None => None,
            Some(a) => {
                let epsilon = match a.epsilon {
                    Some(e) if e > 0.0 && e < 0.5 => Some(e),
                    Some(e) => {
                        return Err(self.invalid(
                            "stats.adaptive.epsilon",
                            format!("must lie in (0, 0.5), got {e}"),
                        ));
                    }
                    None => None,
                };
                if epsilon.is_none() && thresholds.reach.is_none() && thresholds.stay.is_none() {
                    return Err(self.invalid(
                        "stats.adaptive.epsilon",
                        "missing: an adaptive run stops on a half-width ε or on decided thresholds; give one",
                    ));
                }
                let batch = match a.batch {
                    None => 1000,
                    Some(b) if b >= 1 => b as u64,
                    Some(b) => {
                        return Err(self.invalid(
                            "stats.adaptive.batch",
                            format!("must be at least 1, got {b}"),
                        ));
                    }
                };
                Some(Adaptive { epsilon, batch })
            }
        };
        Ok(StatsSpec {
            method: s.method.unwrap_or(default.method),
            level,
            thresholds,
            holm: s.holm.unwrap_or(false),
            adaptive,
        })
    }

    fn events(&self, e: &EventsFile, f: &str, total: u64, finite_sum: bool) -> Res<EventSpec> {
        let reach_radius = self.non_negative(&format!("{f}.reach_radius"), e.reach_radius)?;
        let window_field = |name: &str, v: Option<i64>, default: u64| -> Res<u64> {
            match v {
                None => Ok(default),
                Some(v) if v >= 0 && v as u64 <= total => Ok(v as u64),
                Some(v) => Err(self.invalid(
                    format!("{f}.{name}"),
                    format!("must lie in [0, T = {total}], got {v}"),
                )),
            }
        };
        let stay = match e.stay_radius {
            None => {
                if e.stay_from.is_some() || e.stay_to.is_some() {
                    return Err(self.invalid(
                        format!("{f}.stay_radius"),
                        "missing: stay_from/stay_to need a stay_radius",
                    ));
                }
                None
            }
            Some(radius) => {
                let radius = self.non_negative(&format!("{f}.stay_radius"), radius)?;
                let from = window_field("stay_from", e.stay_from, total / 2)?;
                let to = window_field("stay_to", e.stay_to, total)?;
                if from > to {
                    return Err(self.invalid(
                        format!("{f}.stay_to"),
                        format!("{to} is before stay_from = {from}"),
                    ));
                }
                Some(StaySpec { radius, from, to })
            }
        };
        let every = match e.every {
            None => 1,
            Some(k) if k >= 1 && k as u64 <= total.max(1) => k as u64,
            Some(k) => {
                return Err(self.invalid(
                    format!("{f}.every"),
                    format!("must lie in [1, T = {total}], got {k}"),
                ));
            }
        };
        // On x for finite sums, where y_t costs a full gradient; on y (the theorem's) else.
        let on =
            e.on.unwrap_or(if finite_sum { Measure::X } else { Measure::Y });
        Ok(EventSpec {
            reach_radius,
            stay,
            snapshots: Vec::new(),
            every,
            on,
        })
    }
}
