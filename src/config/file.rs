//! The experiment file as written: TOML, deserialised strictly (unknown keys are errors).

use crate::noise::NoiseSpec;
use crate::objective::Well;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;

/// A number (broadcast to every coordinate) or an array with one number per coordinate.
#[derive(Debug, Clone, PartialEq)]
pub enum Coords {
    /// One value for every coordinate.
    Scalar(f64),
    /// One value per coordinate.
    Vector(Vec<f64>),
}

impl<'de> Deserialize<'de> for Coords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Coords;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an array of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Coords, E> {
                Ok(Coords::Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Coords, E> {
                Ok(Coords::Scalar(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Coords, E> {
                Ok(Coords::Scalar(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Coords, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element::<f64>()? {
                    v.push(x);
                }
                Ok(Coords::Vector(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[objective]`.
// Read once per file: the size of the largest variant does not matter. `remote = "Self"`:
// the derived code is called by the impl below, which routes a user's kind (any name not
// built in) around it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Deserialize)]
#[serde(
    remote = "Self",
    tag = "kind",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum ObjectiveFile {
    /// ½ Σ k_i x_i².
    Quadratic {
        /// Dimension (needed when `k` is a single number).
        dim: Option<usize>,
        /// Curvatures.
        k: Coords,
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
        /// Dimension.
        dim: usize,
        /// The wells.
        wells: Vec<Well>,
        /// x* (default 0).
        target: Option<Coords>,
    },
    /// The paper's 1-D spiky function.
    Spiky {},
    /// A tabulated function: a curve (columns x, f) or a grid (x1, x2, f) in a CSV file.
    Table {
        /// The CSV file (relative paths from the experiment file's directory).
        csv: String,
        /// The continuation outside the table: "quadratic" (with `curvature`) or "linear".
        outside: String,
        /// Q of the quadratic continuation.
        curvature: Option<f64>,
        /// x* (default: the origin).
        target: Option<Coords>,
    },
    /// A formula: `f` in x1 … xd, or the separable Σᵢ h(xᵢ) from `each` = h(x).
    Formula {
        /// Dimension d.
        dim: usize,
        /// f(x1, …, xd).
        f: Option<String>,
        /// h(x), for f = Σᵢ h(xᵢ).
        each: Option<String>,
        /// x* (default: the origin).
        target: Option<Coords>,
        /// A Lipschitz constant of ∇f (estimated by the theorem check when absent).
        lipschitz: Option<f64>,
    },
    /// Least squares: fᵢ(x) = ½(aᵢᵀx − bᵢ)².
    #[serde(rename = "least_squares")]
    LeastSquares {
        /// The data.
        data: DataFile,
    },
    /// L2-regularised logistic regression, labels ±1.
    Logistic {
        /// The data.
        data: DataFile,
        /// λ > 0.
        lambda: f64,
    },
    /// A multilayer perceptron classifier (softmax cross-entropy) on a CSV data set.
    Mlp {
        /// Units per hidden layer.
        hidden: Vec<i64>,
        /// "tanh" (default) or "relu".
        activation: Option<crate::objective::Activation>,
        /// L2 weight λ ≥ 0 on every parameter (default 0).
        lambda: Option<f64>,
        /// The data: a CSV file with integer labels 0 … C − 1.
        data: DataFile,
        /// A validation set (CSV, same features), for the losses of restarts.
        validation: Option<DataFile>,
        /// x* (default: the origin).
        target: Option<TargetFile>,
    },
    /// A two-layer ReLU student and a planted teacher on Gaussian inputs.
    #[serde(rename = "teacher_student")]
    TeacherStudent {
        /// Input dimension d.
        inputs: i64,
        /// Hidden width k ≤ d.
        width: i64,
        /// Examples n.
        n: i64,
        /// Standard deviation of the teacher's weights W* (default 0.5).
        scale: Option<f64>,
        /// The data generator's seed (default 1), written as the experiment seed is.
        #[serde(default, deserialize_with = "seed")]
        data_seed: Option<u64>,
    },
    /// A user's own type (see [`crate::registry`]): its kind and the section's other fields.
    #[serde(skip)]
    Custom {
        /// The kind.
        kind: String,
        /// The section's other fields.
        params: toml::Table,
    },
}

impl<'de> Deserialize<'de> for ObjectiveFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        match table.get("kind").and_then(|k| k.as_str()) {
            Some(kind) if !crate::objective::BUILTIN_KINDS.contains(&kind) => {
                let kind = kind.to_string();
                table.remove("kind");
                Ok(ObjectiveFile::Custom {
                    kind,
                    params: table,
                })
            }
            _ => ObjectiveFile::deserialize(toml::Value::Table(table)).map_err(de::Error::custom),
        }
    }
}

/// `objective.target` of a network: the point itself, or a final point of a reference run.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TargetFile {
    /// The coordinates.
    Point(Vec<f64>),
    /// Row (`config`, `index`) of a `trajectories.csv` written by `run`.
    Trajectories {
        /// The file (relative paths from the experiment file's directory).
        trajectories: String,
        /// The configuration's label in the file.
        config: String,
        /// The trajectory index (default 0).
        index: Option<u64>,
    },
}

/// `objective.data`: a seeded Gaussian design, or a CSV file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    /// Examples n (synthetic).
    pub n: Option<i64>,
    /// Features p (synthetic).
    pub dim: Option<i64>,
    /// Label noise σ of least squares (synthetic; default 1).
    pub noise: Option<f64>,
    /// Scale of the planted vector of logistic data (synthetic; default 1).
    pub scale: Option<f64>,
    /// The data generator's seed (synthetic; default 1), written as the experiment seed is.
    #[serde(default, deserialize_with = "seed")]
    pub data_seed: Option<u64>,
    /// A CSV file with a header (relative paths from the experiment file's directory).
    pub csv: Option<String>,
    /// The label column of the CSV file.
    pub label: Option<String>,
}

/// `[dynamics]`: either `eta` and `steps`, or `schedule`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicsFile {
    /// Constant step size.
    pub eta: Option<f64>,
    /// Number of steps T for a constant step size.
    pub steps: Option<i64>,
    /// Staged schedule.
    pub schedule: Option<Vec<StageFile>>,
    /// Where the noise enters: "step" (default) or "point".
    #[serde(default)]
    pub noise_entry: crate::dynamics::NoiseEntry,
}

/// One entry of `dynamics.schedule`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// Step size.
    pub eta: f64,
    /// Number of steps.
    pub steps: i64,
}

/// `[init]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum InitFile {
    /// A fixed point.
    Point {
        /// The point.
        point: Coords,
    },
    /// Uniform in a box.
    Box {
        /// Lower corner.
        lo: Coords,
        /// Upper corner.
        hi: Coords,
    },
    /// Uniform in a ball.
    Ball {
        /// Centre (default 0).
        centre: Option<Coords>,
        /// Radius.
        radius: f64,
    },
    /// Every trajectory starts at a final point of another run (a warm start): row
    /// (`config`, `index`) of a `trajectories.csv`.
    Final {
        /// The file (relative paths from the experiment file's directory).
        trajectories: String,
        /// The configuration's label in the file.
        config: String,
        /// The trajectory index (default 0).
        index: Option<u64>,
    },
}

/// `[events]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsFile {
    /// ρ_reach.
    pub reach_radius: f64,
    /// ρ_stay (no stay event when absent).
    pub stay_radius: Option<f64>,
    /// T_a (default ⌊T/2⌋).
    pub stay_from: Option<i64>,
    /// T_b (default T).
    pub stay_to: Option<i64>,
    /// Measure reach and stay every k steps (default 1).
    pub every: Option<i64>,
    /// Measure on "x" or "y" (default y for closed-form landscapes, x for finite sums).
    pub on: Option<crate::events::Measure>,
}

/// `[stats]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsFile {
    /// Interval method.
    pub method: Option<crate::stats::Method>,
    /// Confidence level.
    pub level: Option<f64>,
    /// Thresholds to decide.
    pub thresholds: Option<ThresholdsFile>,
    /// Holm–Bonferroni across configurations.
    pub holm: Option<bool>,
    /// Adaptive stopping.
    pub adaptive: Option<AdaptiveFile>,
}

/// `[theorem]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TheoremFile {
    /// The c to check (default: the estimated ĉ).
    pub c: Option<f64>,
    /// T1 (default: the minimal T1).
    pub t1: Option<i64>,
    /// T2 (default 1000).
    pub t2: Option<i64>,
    /// Where to sample points for the c check (default: visited points).
    pub domain: Option<InitFile>,
    /// Points for the c check.
    pub samples: Option<i64>,
    /// Monte Carlo draws per point.
    pub draws: Option<i64>,
    /// Trajectories traced for visited points.
    pub traced: Option<i64>,
    /// The guarantees to test (default 0.9, 5/9, 1/2).
    pub guarantees: Option<GuaranteesFile>,
    /// Factor on the theorem's radii² (default 1).
    pub radius_scale: Option<f64>,
}

/// `[convexity]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvexityFile {
    /// Measure every k steps (default: one epoch, or T/20).
    pub every: Option<i64>,
    /// Trajectories measured (default 8).
    pub trajectories: Option<i64>,
    /// "final" (each trajectory's x_T, default) or "target".
    pub reference: Option<crate::experiment::Reference>,
    /// Points in the ball around x_t (default 20; 0: not measured).
    pub points: Option<i64>,
    /// The ball's radius ρ (default 0.5).
    pub radius: Option<f64>,
    /// 5.4 restarts.
    pub restarts: Option<RestartsFile>,
}

/// `convexity.restarts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartsFile {
    /// Epochs to restart from.
    pub epochs: Vec<f64>,
    /// Step size of the restarts.
    pub eta: f64,
    /// Steps of each restart.
    pub steps: i64,
}

/// `theorem.guarantees`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuaranteesFile {
    /// P(reach) ≥ this.
    pub reach: Option<f64>,
    /// P(stay | reach) ≥ this.
    pub stay: Option<f64>,
    /// P(both) ≥ this.
    pub both: Option<f64>,
}

/// `stats.thresholds`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsFile {
    /// p₀ for P(reach).
    pub reach: Option<f64>,
    /// p₀ for P(stay).
    pub stay: Option<f64>,
}

/// `stats.adaptive`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveFile {
    /// Target half-width.
    pub epsilon: Option<f64>,
    /// Batch size.
    pub batch: Option<i64>,
}

// serde cannot combine `flatten` with `deny_unknown_fields`, so this macro lists the section
// fields in every table that has them (`Sections`, `ConfigEntry`, `ExperimentFile`).
/// A seed: a non-negative TOML integer, or a string [`crate::rng::parse_seed`] reads.
fn seed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Seed;
    impl Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a seed: an unsigned 64-bit integer, as 42 or \"42u64\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            crate::rng::parse_seed(v).map_err(E::custom)
        }
    }
    d.deserialize_any(Seed).map(Some)
}

macro_rules! with_sections {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// Number of trajectories.
            pub trajectories: Option<i64>,
            /// Which independent sample of the configuration's trajectories (default 0).
            pub stream: Option<i64>,
            /// The landscape.
            pub objective: Option<ObjectiveFile>,
            /// The noise law.
            pub noise: Option<NoiseSpec>,
            /// Step sizes.
            pub dynamics: Option<DynamicsFile>,
            /// Initial points.
            pub init: Option<InitFile>,
            /// Events.
            pub events: Option<EventsFile>,
        }

        #[allow(dead_code)] // `Sections::sections` itself is never needed
        impl $name {
            /// The sections set in this table.
            pub fn sections(&self) -> Sections {
                Sections {
                    trajectories: self.trajectories,
                    stream: self.stream,
                    objective: self.objective.clone(),
                    noise: self.noise.clone(),
                    dynamics: self.dynamics.clone(),
                    init: self.init.clone(),
                    events: self.events.clone(),
                }
            }
        }
    };
}

with_sections! {
    /// Sections a configuration can set; missing ones are taken from the top level.
    pub struct Sections {}
}

with_sections! {
    /// One `[[config]]` entry.
    pub struct ConfigEntry {
        /// Unique label, used in tables and file rows.
        pub label: String,
    }
}

with_sections! {
    /// A whole experiment file; its sections are the defaults of every configuration.
    pub struct ExperimentFile {
        /// Experiment name (default: the file stem); names the result directory.
        pub name: Option<String>,
        /// Free text, copied into run.json.
        pub description: Option<String>,
        /// Experiment seed: an integer, or text as `summary.csv` writes it (`"42u64"`), the
        /// only way to write one of 2⁶³ or more, which TOML integers cannot hold.
        #[serde(default, deserialize_with = "seed")]
        pub seed: Option<u64>,
        /// How probabilities are reported and decided.
        pub stats: Option<StatsFile>,
        /// The theorem check.
        pub theorem: Option<TheoremFile>,
        /// The Section 5 measurements.
        pub convexity: Option<ConvexityFile>,
        /// Sweep axes.
        pub sweep: Option<super::sweep::SweepFile>,
        /// The configurations (one, named after the experiment, when absent).
        #[serde(default)]
        pub config: Vec<ConfigEntry>,
    }
}

#[cfg(test)]
mod tests {
    use super::ObjectiveFile;
    use crate::noise::{BUILTIN_LAWS, NoiseSpec};
    use crate::objective::BUILTIN_KINDS;

    /// The name lists that route user kinds around the derived code match the enums: every
    /// listed name is a variant (refused for its fields, not as unknown), and a name not
    /// listed is a user's.
    #[test]
    fn the_builtin_name_lists_are_the_variants() {
        for kind in BUILTIN_KINDS {
            let table: toml::Table = toml::from_str(&format!("kind = \"{kind}\"")).unwrap();
            let r = toml::Value::Table(table).try_into::<ObjectiveFile>();
            if let Err(e) = &r {
                assert!(!e.to_string().contains("unknown variant"), "{kind}: {e}");
            }
            assert!(!matches!(r, Ok(ObjectiveFile::Custom { .. })), "{kind}");
        }
        for law in BUILTIN_LAWS {
            let table: toml::Table = toml::from_str(&format!("law = \"{law}\"")).unwrap();
            let r = toml::Value::Table(table).try_into::<NoiseSpec>();
            if let Err(e) = &r {
                assert!(!e.to_string().contains("unknown variant"), "{law}: {e}");
            }
            assert!(!matches!(r, Ok(NoiseSpec::Custom(_))), "{law}");
        }
        let mine: toml::Table = toml::from_str("kind = \"mine\"\na = 1").unwrap();
        assert!(matches!(
            toml::Value::Table(mine).try_into::<ObjectiveFile>(),
            Ok(ObjectiveFile::Custom { kind, params }) if kind == "mine" && params.len() == 1
        ));
    }
}
