//! A validated experiment: configurations ready to run, and the dispatch from a
//! configuration's choices to the generic engine.

use crate::dynamics::{NoiseEntry, Schedule};
use crate::engine::{self, Problem};
use crate::events::{EventSpec, Outcome};
use crate::init::InitialPoints;
use crate::noise::{AnyLaw, Ball, Cube, Gaussian, NoNoise, NoiseSpec, Sigma, Sphere};
use crate::objective::{
    FiniteSum, FormulaObjective, LeastSquares, Logistic, Objective, Outside, Quadratic, Rastrigin,
    Spiky, Table, TeacherStudent, UserObjective, Well, Wells,
};
use crate::oracle::{Injected, Oracle, Sgd};
use crate::rng::stable_hash;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// Where a finite sum's data come from, as resolved (part of the configuration's identity).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum DataSpec {
    /// A seeded Gaussian design with a planted x (see [`crate::data`]).
    Gaussian {
        /// Examples.
        n: usize,
        /// Features.
        dim: usize,
        /// Label noise σ (least squares) or the planted vector's scale (logistic).
        scale: f64,
        /// The data generator's seed.
        data_seed: u64,
    },
    /// A CSV file: feature columns and a label column.
    Csv {
        /// The path as resolved (relative paths are taken from the experiment file's
        /// directory).
        path: String,
        /// The label column.
        label: String,
        /// A stable hash of the file's bytes, so that an edited file is a new configuration.
        content: String,
        /// Examples.
        n: usize,
        /// Features.
        dim: usize,
    },
}

impl DataSpec {
    /// n, the number of examples.
    pub fn examples(&self) -> usize {
        match self {
            DataSpec::Gaussian { n, .. } | DataSpec::Csv { n, .. } => *n,
        }
    }

    /// p, the number of features.
    pub fn features(&self) -> usize {
        match self {
            DataSpec::Gaussian { dim, .. } | DataSpec::Csv { dim, .. } => *dim,
        }
    }
}

/// Where a network's x* comes from, as resolved (part of the configuration's identity).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TargetSpec {
    /// Given coordinates.
    Point(Vec<f64>),
    /// A final point in a `trajectories.csv`, with a hash of the file's bytes.
    Trajectories {
        /// The file as resolved.
        trajectories: String,
        /// The configuration's label.
        config: String,
        /// The trajectory index.
        index: u64,
        /// A stable hash of the file's bytes.
        content: String,
    },
}

/// A finite-sum objective built once (data set, x*, L, c) and shared by every configuration
/// and thread that uses it. Compared and serialised through its spec only.
#[derive(Clone)]
pub struct Built<T>(pub Arc<T>);

impl<T> PartialEq for Built<T> {
    /// Equal specs build equal objectives: the spec beside it decides equality.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Built<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<built>")
    }
}

/// A fully resolved objective (every vector at full dimension).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ObjectiveChoice {
    /// ½ Σ k_i x_i².
    Quadratic {
        /// Curvatures, one per coordinate.
        k: Vec<f64>,
    },
    /// Σ x_i²/2 + A (1 − cos(2π x_i / w)).
    Rastrigin {
        /// Dimension.
        dim: usize,
        /// Ripple height A.
        a: f64,
        /// Ripple period w.
        w: f64,
    },
    /// ½‖x‖² − Σ h_j exp(−‖x − m_j‖² / (2 s_j²)).
    Wells {
        /// The wells.
        wells: Vec<Well>,
        /// x*.
        target: Vec<f64>,
    },
    /// The paper's spiky function (d = 1).
    Spiky,
    /// A tabulated function (a curve in d = 1, a grid in d = 2), continued outside.
    Table {
        /// The CSV file as resolved.
        csv: String,
        /// A stable hash of the file's bytes, so that an edited file is a new configuration.
        content: String,
        /// Rows of the file.
        points: usize,
        /// The continuation outside the table.
        outside: Outside,
        /// x*.
        target: Vec<f64>,
        /// The table.
        #[serde(skip)]
        built: Built<Table>,
    },
    /// A formula: `f` in x1 … xd, or the separable Σᵢ h(xᵢ) from `each` = h(x).
    Formula {
        /// f(x1, …, xd), as written.
        #[serde(skip_serializing_if = "Option::is_none")]
        f: Option<String>,
        /// h(x), as written.
        #[serde(skip_serializing_if = "Option::is_none")]
        each: Option<String>,
        /// x*.
        target: Vec<f64>,
        /// A Lipschitz constant of ∇f, when given.
        #[serde(skip_serializing_if = "Option::is_none")]
        lipschitz: Option<f64>,
        /// The parsed formula.
        #[serde(skip)]
        built: Built<FormulaObjective>,
    },
    /// Least squares on a data set: fᵢ(x) = ½(aᵢᵀx − bᵢ)².
    #[serde(rename = "least_squares")]
    LeastSquares {
        /// The data.
        data: DataSpec,
        /// The built objective.
        #[serde(skip)]
        built: Built<LeastSquares>,
    },
    /// L2-regularised logistic regression on a data set with labels ±1.
    Logistic {
        /// The data.
        data: DataSpec,
        /// λ > 0.
        lambda: f64,
        /// The built objective.
        #[serde(skip)]
        built: Built<Logistic>,
    },
    /// A multilayer perceptron classifier on a data set with integer labels.
    Mlp {
        /// The data.
        data: DataSpec,
        /// Units per hidden layer.
        hidden: Vec<usize>,
        /// The hidden units' activation.
        activation: crate::objective::Activation,
        /// λ ≥ 0.
        lambda: f64,
        /// The validation set.
        #[serde(skip_serializing_if = "Option::is_none")]
        validation: Option<DataSpec>,
        /// Where x* comes from (`None`: the origin).
        #[serde(skip_serializing_if = "Option::is_none")]
        target: Option<TargetSpec>,
        /// The built objective.
        #[serde(skip)]
        built: Built<crate::objective::Mlp>,
    },
    /// A two-layer ReLU student fitted to a planted teacher on Gaussian inputs.
    #[serde(rename = "teacher_student")]
    TeacherStudent {
        /// Input dimension.
        inputs: usize,
        /// Hidden width k ≤ inputs.
        width: usize,
        /// Examples.
        n: usize,
        /// The teacher's weight scale.
        scale: f64,
        /// The data generator's seed.
        data_seed: u64,
        /// The built objective.
        #[serde(skip)]
        built: Built<TeacherStudent>,
    },
    /// A user's own type (see [`crate::registry`]); serialised as its identity
    /// `{kind, version, params}`.
    #[serde(untagged)]
    Custom(UserObjective),
}

impl ObjectiveChoice {
    /// The dimension d.
    pub fn dim(&self) -> usize {
        match self {
            ObjectiveChoice::Quadratic { k } => k.len(),
            ObjectiveChoice::Rastrigin { dim, .. } => *dim,
            ObjectiveChoice::Wells { target, .. } => target.len(),
            ObjectiveChoice::Spiky => 1,
            ObjectiveChoice::Formula { target, .. } | ObjectiveChoice::Table { target, .. } => {
                target.len()
            }
            ObjectiveChoice::LeastSquares { built, .. } => built.0.dim(),
            ObjectiveChoice::Logistic { built, .. } => built.0.dim(),
            ObjectiveChoice::TeacherStudent { built, .. } => built.0.dim(),
            ObjectiveChoice::Mlp { built, .. } => built.0.dim(),
            ObjectiveChoice::Custom(u) => u.dim(),
        }
    }

    /// The target x*.
    pub fn target(&self) -> Vec<f64> {
        match self {
            ObjectiveChoice::Wells { target, .. }
            | ObjectiveChoice::Formula { target, .. }
            | ObjectiveChoice::Table { target, .. } => target.clone(),
            ObjectiveChoice::LeastSquares { built, .. } => built.0.target().to_vec(),
            ObjectiveChoice::Logistic { built, .. } => built.0.target().to_vec(),
            ObjectiveChoice::TeacherStudent { built, .. } => built.0.target().to_vec(),
            ObjectiveChoice::Mlp { built, .. } => built.0.target().to_vec(),
            ObjectiveChoice::Custom(u) => u.target().to_vec(),
            _ => vec![0.0; self.dim()],
        }
    }

    /// n for a finite sum (`None` for a closed-form landscape).
    pub fn examples(&self) -> Option<usize> {
        match self {
            ObjectiveChoice::LeastSquares { built, .. } => Some(built.0.examples()),
            ObjectiveChoice::Logistic { built, .. } => Some(built.0.examples()),
            ObjectiveChoice::TeacherStudent { built, .. } => Some(built.0.examples()),
            ObjectiveChoice::Mlp { built, .. } => Some(built.0.examples()),
            _ => None,
        }
    }

    /// The name used in experiment files.
    pub fn kind(&self) -> &str {
        match self {
            ObjectiveChoice::Quadratic { .. } => "quadratic",
            ObjectiveChoice::Rastrigin { .. } => "rastrigin",
            ObjectiveChoice::Wells { .. } => "wells",
            ObjectiveChoice::Spiky => "spiky",
            ObjectiveChoice::Formula { .. } => "formula",
            ObjectiveChoice::Table { .. } => "table",
            ObjectiveChoice::LeastSquares { .. } => "least_squares",
            ObjectiveChoice::Logistic { .. } => "logistic",
            ObjectiveChoice::TeacherStudent { .. } => "teacher_student",
            ObjectiveChoice::Mlp { .. } => "mlp",
            ObjectiveChoice::Custom(u) => u.kind(),
        }
    }

    /// Calls `f` with the concrete objective (one monomorphised engine per kind).
    pub fn with<R>(&self, f: impl ObjectiveVisitor<Output = R>) -> R {
        match self {
            ObjectiveChoice::Quadratic { k } => f.visit(&Quadratic::new(k.clone())),
            ObjectiveChoice::Rastrigin { dim, a, w } => f.visit(&Rastrigin::new(*dim, *a, *w)),
            ObjectiveChoice::Wells { wells, target } => {
                f.visit(&Wells::new(wells.clone(), target.clone()))
            }
            ObjectiveChoice::Spiky => f.visit(Spiky::shared()),
            ObjectiveChoice::Formula { built, .. } => f.visit(&*built.0),
            ObjectiveChoice::Table { built, .. } => f.visit(&*built.0),
            ObjectiveChoice::LeastSquares { built, .. } => f.visit_finite_sum(&*built.0),
            ObjectiveChoice::Logistic { built, .. } => f.visit_finite_sum(&*built.0),
            ObjectiveChoice::TeacherStudent { built, .. } => f.visit_finite_sum(&*built.0),
            ObjectiveChoice::Mlp { built, .. } => f.visit_finite_sum(&*built.0),
            ObjectiveChoice::Custom(u) => f.visit(u),
        }
    }
}

/// Something generic over the objective type (a closure cannot be generic in Rust).
pub trait ObjectiveVisitor: Sized {
    /// The result.
    type Output;
    /// Runs with the concrete objective.
    fn visit<O: Objective>(self, objective: &O) -> Self::Output;
    /// Runs with a finite-sum objective (which minibatch SGD needs); by default as any
    /// objective.
    fn visit_finite_sum<O: FiniteSum>(self, objective: &O) -> Self::Output {
        self.visit(objective)
    }
}

/// One configuration: everything that defines its trajectories, and how many to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSpec {
    /// Unique label within the experiment.
    pub label: String,
    /// Number of trajectories n.
    pub trajectories: u64,
    /// Which independent sample of this configuration's trajectories (the file's `stream`,
    /// default 0): configurations equal in everything else but the stream draw independent
    /// trajectories, equal streams the same ones. Left out of the serialised form when 0, so
    /// cell ids of earlier runs stay valid.
    #[serde(skip_serializing_if = "is_zero")]
    pub stream: u64,
    /// The swept parameters' values (name, value), in axis order; empty outside sweeps.
    pub params: Vec<(String, f64)>,
    /// f.
    pub objective: ObjectiveChoice,
    /// W.
    pub noise: NoiseSpec,
    /// η schedule.
    pub schedule: Schedule,
    /// Where the noise enters the step.
    pub noise_entry: NoiseEntry,
    /// Law of x_0.
    pub init: InitialPoints,
    /// Events.
    pub events: EventSpec,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl ConfigSpec {
    /// The configuration's identity: a stable hash of what determines its paths (objective,
    /// noise, schedule, noise entry, initial law, stream). The label, n and the event radii are left out, so
    /// renaming a configuration, running more trajectories or changing ρ leaves every existing
    /// trajectory unchanged.
    pub fn id(&self) -> u64 {
        let paths = (
            &self.objective,
            &self.noise,
            &self.schedule,
            self.noise_entry,
            &self.init,
        );
        // Stream 0 hashes as before streams existed, so earlier results keep their bits.
        let key = if self.stream == 0 {
            serde_json::to_vec(&paths)
        } else {
            serde_json::to_vec(&(paths, self.stream))
        };
        stable_hash(&key.expect("configurations serialise"))
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.objective.dim()
    }

    /// T.
    pub fn steps(&self) -> u64 {
        self.schedule.total_steps()
    }

    /// The almost-sure noise bound r known before running (None: unbounded, or minibatch
    /// noise, whose bound is only observed on visited points).
    pub fn noise_bound(&self) -> Option<f64> {
        use crate::noise::NoiseLaw;
        AnyLaw::of(&self.noise).and_then(|law| law.bound(self.dim()))
    }

    /// Steps per epoch n/B of minibatch SGD (`None` otherwise).
    pub fn steps_per_epoch(&self) -> Option<f64> {
        let n = self.objective.examples()?;
        let b = self.noise.minibatch()?.batch;
        Some(n as f64 / b as f64)
    }

    fn assemble<'a, O, S>(&'a self, objective: &'a O, oracle: &'a S) -> Problem<'a, O, S> {
        Problem {
            objective,
            oracle,
            schedule: &self.schedule,
            entry: self.noise_entry,
            init: &self.init,
            events: &self.events,
        }
    }

    /// Builds the concrete objective and noise law and hands the assembled [`Problem`] to
    /// `visitor`: the one place where configuration choices become generic types.
    pub fn with_problem<V: ProblemVisitor>(&self, visitor: V) -> V::Output {
        struct WithObjective<'a, V> {
            spec: &'a ConfigSpec,
            visitor: V,
        }
        impl<V: ProblemVisitor> ObjectiveVisitor for WithObjective<'_, V> {
            type Output = V::Output;
            fn visit<O: Objective>(self, objective: &O) -> V::Output {
                let (s, v) = (self.spec, self.visitor);
                match s.noise {
                    NoiseSpec::Ball { r } => v.visit(&s.assemble(objective, &Injected(Ball { r }))),
                    NoiseSpec::Cube { r } => v.visit(&s.assemble(objective, &Injected(Cube { r }))),
                    NoiseSpec::Sphere { r } => {
                        v.visit(&s.assemble(objective, &Injected(Sphere { r })))
                    }
                    NoiseSpec::Gaussian {
                        sigma: Sigma::Scalar(sigma),
                    } => v.visit(&s.assemble(objective, &Injected(Gaussian { sigma }))),
                    // The laws added since: one engine per objective for all of them.
                    NoiseSpec::Gaussian { .. }
                    | NoiseSpec::StudentT { .. }
                    | NoiseSpec::Stable { .. }
                    | NoiseSpec::Formula { .. }
                    | NoiseSpec::Custom(_) => {
                        let law = AnyLaw::of(&s.noise).expect("a law");
                        v.visit(&s.assemble(objective, &Injected(law)))
                    }
                    NoiseSpec::None {} => v.visit(&s.assemble(objective, &Injected(NoNoise))),
                    NoiseSpec::Minibatch { .. } => {
                        unreachable!("validated: minibatch noise needs a finite-sum objective")
                    }
                }
            }
            fn visit_finite_sum<O: FiniteSum>(self, objective: &O) -> V::Output {
                let Some(minibatch) = self.spec.noise.minibatch() else {
                    return self.visit(objective);
                };
                let injected = match &self.spec.noise {
                    NoiseSpec::Minibatch {
                        injected: Some(l), ..
                    } => AnyLaw::of(l).expect("validated: the injected law is a law"),
                    _ => AnyLaw::None,
                };
                let oracle = Sgd {
                    minibatch,
                    injected,
                };
                self.visitor.visit(&self.spec.assemble(objective, &oracle))
            }
        }
        self.objective.with(WithObjective {
            spec: self,
            visitor,
        })
    }

    /// Runs trajectories `indices` on the current rayon pool; outcomes in index order.
    pub fn run(&self, seed: u64, indices: Range<u64>) -> Vec<Outcome> {
        struct Run {
            seed: u64,
            id: u64,
            indices: Range<u64>,
        }
        impl ProblemVisitor for Run {
            type Output = Vec<Outcome>;
            fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> Vec<Outcome> {
                engine::run(p, self.seed, self.id, self.indices)
            }
        }
        self.with_problem(Run {
            seed,
            id: self.id(),
            indices,
        })
    }

    /// Runs trajectories `indices` and replays each one step by step ([`engine::trace`]):
    /// the final points must be the same bits. The check that the lane engine computes what
    /// one trajectory at a time computes (`tests/lanes.rs`); here, in the library, so the
    /// engine's kernels are compiled once, not again in each test.
    pub fn replay_check(&self, seed: u64, indices: Range<u64>) -> ReplayCheck {
        struct Check {
            seed: u64,
            id: u64,
            indices: Range<u64>,
        }
        impl ProblemVisitor for Check {
            type Output = ReplayCheck;
            fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> ReplayCheck {
                let mut check = ReplayCheck {
                    compared: 0,
                    mismatch: None,
                    in_lanes: engine::in_lanes(p),
                };
                for o in engine::run(p, self.seed, self.id, self.indices) {
                    if o.diverged_at.is_some() {
                        continue;
                    }
                    let mut last = Vec::new();
                    engine::trace(p, self.seed, self.id, o.index, |_, x, _| last = x.to_vec());
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    if bits(&o.final_x) != bits(&last) {
                        check.mismatch.get_or_insert(o.index);
                    }
                    check.compared += 1;
                }
                check
            }
        }
        self.with_problem(Check {
            seed,
            id: self.id(),
            indices,
        })
    }
}

/// What [`ConfigSpec::replay_check`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayCheck {
    /// Trajectories compared (the diverged ones are not).
    pub compared: usize,
    /// The first trajectory whose final point differs from its replay's.
    pub mismatch: Option<u64>,
    /// Whether the run took the lane engine ([`engine::in_lanes`]).
    pub in_lanes: bool,
}

/// Something generic over the whole problem (objective and noise types).
pub trait ProblemVisitor {
    /// The result.
    type Output;
    /// Runs with the concrete problem.
    fn visit<O: Objective, S: Oracle<O>>(self, problem: &Problem<'_, O, S>) -> Self::Output;
}

/// A validated experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    /// Name; results go to `results/<name>/`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Where it was read from (a path, or `<embedded: …>`).
    pub source: String,
    /// The experiment seed.
    pub seed: u64,
    /// How probabilities are reported and decided.
    pub stats: crate::stats::StatsSpec,
    /// The theorem check, when the file has a `[theorem]` section.
    pub theorem: Option<TheoremSettings>,
    /// The Section 5 measurements, when the file has a `[convexity]` section.
    pub convexity: Option<ConvexitySettings>,
    /// The configurations, in file order.
    pub configs: Vec<ConfigSpec>,
    /// The sweep axes spaced geometrically (`log = [from, to, count]`), by name: plots draw
    /// them on a log scale.
    pub log_axes: Vec<String>,
}

impl Experiment {
    /// m: the number of threshold decisions the experiment asks for (each configuration's
    /// P(reach) threshold, and its P(stay) threshold where it has a stay event).
    pub fn decisions(&self) -> u64 {
        let t = &self.stats.thresholds;
        self.configs
            .iter()
            .map(|c| {
                u64::from(t.reach.is_some())
                    + u64::from(t.stay.is_some() && c.events.stay.is_some())
            })
            .sum()
    }

    /// Pairs of configurations (by label) that draw the same trajectories: equal in
    /// everything that determines a path, stream included. Intended for common random
    /// numbers (the same paths under other event radii), a surprise otherwise; `stream`
    /// separates them.
    pub fn shared_streams(&self) -> Vec<(String, String)> {
        let mut first: HashMap<u64, &str> = HashMap::new();
        let mut pairs = Vec::new();
        for c in &self.configs {
            match first.entry(c.id()) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    pairs.push((e.get().to_string(), c.label.clone()))
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(&c.label);
                }
            }
        }
        pairs
    }

    /// The stopping rule of an adaptive configuration (`None` for fixed n).
    pub fn stop_rule(&self, spec: &ConfigSpec) -> Option<crate::stats::StopRule> {
        self.stats
            .stop_rule(spec.events.stay.is_some(), self.decisions())
    }

    /// The largest dimension among the configurations (the final-point columns of
    /// `trajectories.csv`).
    pub fn max_dim(&self) -> usize {
        self.configs.iter().map(|c| c.dim()).max().unwrap_or(0)
    }
}

/// The guarantees of Theorem 1, in the order reach, stay given reach, both: 0.9, 5/9, 1/2
/// (the defaults of `[theorem] guarantees`).
pub const THEOREM_GUARANTEES: [f64; 3] = [0.9, 5.0 / 9.0, 0.5];

/// The `[theorem]` section as resolved for an experiment (per-configuration domains).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TheoremSettings {
    /// The c to check (default: ĉ).
    pub c: Option<f64>,
    /// T1 (default: minimal).
    pub t1: Option<u64>,
    /// T2.
    pub t2: u64,
    /// Guarantees to test.
    pub guarantees: [f64; 3],
    /// Factor on the theorem's radii².
    pub radius_scale: f64,
    /// Points for the c check.
    pub samples: u64,
    /// Monte Carlo draws per point.
    pub draws: u64,
    /// Trajectories traced.
    pub traced: u64,
    /// Domain of the c check for each configuration (None: visited points).
    pub domains: Vec<Option<InitialPoints>>,
}

impl Default for TheoremSettings {
    /// T2 = 1000, ĉ and the minimal T1, visited points, 1000 points, 400 draws, 20 traces.
    fn default() -> Self {
        Self {
            c: None,
            t1: None,
            t2: 1000,
            guarantees: THEOREM_GUARANTEES,
            radius_scale: 1.0,
            samples: 1000,
            draws: 400,
            traced: 20,
            domains: Vec::new(),
        }
    }
}

/// What the inner products of the convexity measurements point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// Each trajectory's own final point x_T (the paper's Section 5.1).
    #[default]
    Final,
    /// The objective's target x*.
    Target,
}

/// The `[convexity]` section as resolved: the paper's Section 5 measurements along SGD
/// trajectories (see [`crate::convexity`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvexitySettings {
    /// Measure every k steps (`None`: one epoch, n/B rounded, for minibatch SGD, else T/20).
    pub every: Option<u64>,
    /// Trajectories measured (the first ones of each configuration).
    pub trajectories: u64,
    /// What the inner products point to.
    pub reference: Reference,
    /// m, the points drawn in the ball around x_t (5.2; 0: not measured).
    pub points: u64,
    /// ρ, the ball's radius.
    pub radius: f64,
    /// 5.4: restarts with a smaller step, when asked for.
    pub restarts: Option<Restarts>,
}

/// 5.4: restart each measured trajectory from its point at chosen epochs with step η for a
/// number of steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restarts {
    /// The epochs (steps, without minibatches) to restart from, increasing.
    pub epochs: Vec<f64>,
    /// The restarts' step size.
    pub eta: f64,
    /// The restarts' number of steps.
    pub steps: u64,
}

impl Default for ConvexitySettings {
    /// Every epoch, 8 trajectories, their own final points, m = 20 points in a ball of
    /// radius 0.5 (the paper: m = 100; fewer keep a CPU run to minutes).
    fn default() -> Self {
        Self {
            every: None,
            trajectories: 8,
            reference: Reference::Final,
            points: 20,
            radius: 0.5,
            restarts: None,
        }
    }
}
