//! Noise laws W: the ω in x_{t+1} = x_t − η(∇f(x_t) + ω_t).
//!
//! A law is sampled like a `rand_distr` distribution: generic over the generator, so it
//! inlines into the step loop. It receives the current point x, so state-dependent noise fits
//! the same trait. Adding a built-in law is one new type implementing [`NoiseLaw`] plus one
//! variant in `NoiseSpec` (read by [`crate::config`]); a user's own law needs neither (see
//! [`crate::registry`]).

mod laws;
mod user;

pub use laws::{AnisotropicGaussian, Ball, Cube, Gaussian, NoNoise, Sphere, Stable, StudentT};
pub use user::UserLaw;

use crate::formula::{Formula, Variables};
use crate::lanes::{Real, pcg::Pcg};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The noise laws built in, as experiment files name them (`law = "…"`); a user's own law
/// (see [`crate::registry`]) takes any other name.
pub const BUILTIN_LAWS: [&str; 9] = [
    "ball",
    "cube",
    "sphere",
    "gaussian",
    "student_t",
    "stable",
    "formula",
    "none",
    "minibatch",
];

/// A noise law as written in an experiment file's `[noise]` section.
// `remote = "Self"`: the derived code is called by the impls below, which route a user's
// law (any name not built in) around it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(
    remote = "Self",
    tag = "law",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum NoiseSpec {
    /// Uniform in the ball of radius r.
    Ball {
        /// Radius.
        r: f64,
    },
    /// Each coordinate uniform on [−r, r].
    Cube {
        /// Half-width.
        r: f64,
    },
    /// Uniform on the sphere of radius r.
    Sphere {
        /// Radius.
        r: f64,
    },
    /// N(0, σ² I), or N(0, diag(σᵢ²)) with a σ per coordinate.
    Gaussian {
        /// Standard deviation: one for every coordinate, or a list.
        sigma: Sigma,
    },
    /// Student's t with ν degrees of freedom and scale s, per coordinate or spherical
    /// (multivariate t). Unbounded.
    #[serde(rename = "student_t")]
    StudentT {
        /// Degrees of freedom ν > 0.
        nu: f64,
        /// Scale s.
        s: f64,
        /// One χ² draw for the whole vector (multivariate t) instead of one per coordinate.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        spherical: bool,
    },
    /// Symmetric α-stable coordinates with characteristic function exp(−|σt|^α).
    /// Unbounded.
    Stable {
        /// Stability index α ∈ (0, 2].
        alpha: f64,
        /// Scale σ.
        sigma: f64,
    },
    /// State-dependent scale: ω = s(x)·ξ with s a formula in x1 … xd and ξ drawn from
    /// `base`. Bounded only when `bound` (on |s|) is given and the base law is bounded.
    Formula {
        /// s(x), in the formula language of [`crate::formula`].
        scale: String,
        /// The law of ξ (any law but minibatch and formula).
        base: Box<NoiseSpec>,
        /// A bound on |s(x)| over the domain, when one is known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bound: Option<f64>,
    },
    /// No noise: plain GD.
    None {},
    /// Minibatch SGD on a finite-sum objective: the stochastic gradient is the mean of B
    /// examples' gradients, so ω = g_B(x) − ∇f(x) depends on x and on the data. Drawn by the
    /// objective's oracle ([`crate::oracle`]), not by a law; an `injected` law can be added
    /// on top (ω = g_B − ∇f + ξ).
    Minibatch {
        /// B, the batch size (1 ≤ B ≤ n).
        batch: u64,
        /// How batches are drawn (default: a fresh subset at every step).
        #[serde(default)]
        sampling: Sampling,
        /// A law added on top of the minibatch noise (default none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        injected: Option<Box<NoiseSpec>>,
    },
    /// A user's own law (see [`crate::registry`]).
    #[serde(skip)]
    Custom(CustomLaw),
}

/// A user's law: as the file names it, then as built by the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomLaw {
    /// Read from a file, not yet built: its name and the other fields of its section.
    Written {
        /// The name.
        law: String,
        /// The section's other fields.
        params: toml::Table,
    },
    /// Built and checked.
    Built(UserLaw),
}

impl CustomLaw {
    /// The law's name.
    pub fn name(&self) -> &str {
        match self {
            CustomLaw::Written { law, .. } => law,
            CustomLaw::Built(l) => l.kind(),
        }
    }
}

impl Serialize for NoiseSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NoiseSpec::Custom(CustomLaw::Built(l)) => l.serialize(s),
            NoiseSpec::Custom(CustomLaw::Written { law, params }) => {
                let mut t = params.clone();
                t.insert("law".into(), toml::Value::String(law.clone()));
                t.serialize(s)
            }
            _ => NoiseSpec::serialize(self, s),
        }
    }
}

impl<'de> Deserialize<'de> for NoiseSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        match table.get("law").and_then(|l| l.as_str()) {
            Some(law) if !BUILTIN_LAWS.contains(&law) => {
                let law = law.to_string();
                table.remove("law");
                Ok(NoiseSpec::Custom(CustomLaw::Written { law, params: table }))
            }
            _ => NoiseSpec::deserialize(toml::Value::Table(table)).map_err(D::Error::custom),
        }
    }
}

/// The σ of a Gaussian law: one for every coordinate, or one per coordinate. Written as a
/// number or a list; a number serialises as before, so existing configurations keep their
/// identity.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Sigma {
    /// σ for every coordinate.
    Scalar(f64),
    /// σᵢ for coordinate i.
    PerCoordinate(Vec<f64>),
}

impl Sigma {
    /// The largest σ (the scale reported for the law).
    pub fn max(&self) -> f64 {
        match self {
            Sigma::Scalar(s) => *s,
            Sigma::PerCoordinate(v) => v.iter().copied().fold(0.0, f64::max),
        }
    }
}

/// How the batch of a minibatch step is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// A fresh uniform subset of B distinct examples at every step: the stochastic gradient
    /// is unbiased given the past, as Theorem 1 needs.
    #[default]
    Independent,
    /// Through a shuffled epoch, B at a time (what practitioners run); when fewer than B
    /// examples are left, a new epoch starts (the leftovers are skipped, as with `drop_last`).
    /// Not independent of the past: outside the theorem's assumption.
    Reshuffle,
    /// B examples drawn uniformly with replacement.
    Replacement,
}

impl Sampling {
    /// The name used in experiment files.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Independent => "independent",
            Sampling::Reshuffle => "reshuffle",
            Sampling::Replacement => "replacement",
        }
    }
}

/// The minibatch rule: batch size and sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minibatch {
    /// B, 1 ≤ B ≤ n.
    pub batch: usize,
    /// How batches are drawn.
    pub sampling: Sampling,
}

/// One of the built-in laws chosen at run time: the law injected on top of minibatch noise,
/// where one match per step costs nothing next to B example gradients, and the laws added
/// after the first four (anisotropic Gaussian, Student's t, α-stable), so that each
/// objective compiles one engine for all of them rather than one per law.
#[derive(Debug, Clone)]
pub enum AnyLaw {
    /// [`Ball`].
    Ball(Ball),
    /// [`Cube`].
    Cube(Cube),
    /// [`Sphere`].
    Sphere(Sphere),
    /// [`Gaussian`].
    Gaussian(Gaussian),
    /// [`StudentT`].
    StudentT(StudentT),
    /// [`Stable`].
    Stable(Stable),
    /// [`AnisotropicGaussian`].
    Anisotropic(AnisotropicGaussian),
    /// [`ScaledLaw`].
    Scaled(ScaledLaw),
    /// A user's law ([`UserLaw`]).
    Custom(UserLaw),
    /// [`NoNoise`].
    None,
}

impl AnyLaw {
    /// The law of a spec (`None` for a minibatch spec, which is not a law).
    pub fn of(spec: &NoiseSpec) -> Option<Self> {
        Some(match *spec {
            NoiseSpec::Ball { r } => AnyLaw::Ball(Ball { r }),
            NoiseSpec::Cube { r } => AnyLaw::Cube(Cube { r }),
            NoiseSpec::Sphere { r } => AnyLaw::Sphere(Sphere { r }),
            NoiseSpec::Gaussian {
                sigma: Sigma::Scalar(sigma),
            } => AnyLaw::Gaussian(Gaussian { sigma }),
            NoiseSpec::Gaussian {
                sigma: Sigma::PerCoordinate(ref sigma),
            } => AnyLaw::Anisotropic(AnisotropicGaussian {
                sigma: sigma.as_slice().into(),
            }),
            NoiseSpec::None {} => AnyLaw::None,
            NoiseSpec::StudentT { nu, s, spherical } => {
                AnyLaw::StudentT(StudentT { nu, s, spherical })
            }
            NoiseSpec::Stable { alpha, sigma } => AnyLaw::Stable(Stable { alpha, sigma }),
            NoiseSpec::Formula {
                ref scale,
                ref base,
                bound,
            } => {
                // Checked against the dimension when the file was read; here any xk parses.
                let scale = Formula::parse(scale, Variables::Numbered(usize::MAX)).ok()?;
                let base = AnyLaw::of(base)?;
                if matches!(base, AnyLaw::Scaled(_)) {
                    return None;
                }
                AnyLaw::Scaled(ScaledLaw {
                    scale: Arc::new(scale),
                    base: Box::new(base),
                    bound,
                })
            }
            NoiseSpec::Custom(CustomLaw::Built(ref l)) => AnyLaw::Custom(l.clone()),
            NoiseSpec::Minibatch { .. } | NoiseSpec::Custom(CustomLaw::Written { .. }) => {
                return None;
            }
        })
    }

    /// Whether the law is identically zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, AnyLaw::None)
    }
}

impl NoiseLaw for AnyLaw {
    #[inline]
    fn sample_into<R: Rng + ?Sized>(&self, x: &[f64], rng: &mut R, out: &mut [f64]) {
        match self {
            AnyLaw::Ball(l) => l.sample_into(x, rng, out),
            AnyLaw::Cube(l) => l.sample_into(x, rng, out),
            AnyLaw::Sphere(l) => l.sample_into(x, rng, out),
            AnyLaw::Gaussian(l) => l.sample_into(x, rng, out),
            AnyLaw::StudentT(l) => l.sample_into(x, rng, out),
            AnyLaw::Stable(l) => l.sample_into(x, rng, out),
            AnyLaw::Anisotropic(l) => l.sample_into(x, rng, out),
            AnyLaw::Scaled(l) => l.sample_into(x, rng, out),
            AnyLaw::Custom(l) => l.sample_into(x, rng, out),
            AnyLaw::None => NoNoise.sample_into(x, rng, out),
        }
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        match self {
            AnyLaw::Ball(l) => l.bound(dim),
            AnyLaw::Cube(l) => l.bound(dim),
            AnyLaw::Sphere(l) => l.bound(dim),
            AnyLaw::Gaussian(l) => l.bound(dim),
            AnyLaw::StudentT(l) => l.bound(dim),
            AnyLaw::Stable(l) => l.bound(dim),
            AnyLaw::Anisotropic(l) => l.bound(dim),
            AnyLaw::Scaled(l) => l.bound(dim),
            AnyLaw::Custom(l) => l.bound(dim),
            AnyLaw::None => NoNoise.bound(dim),
        }
    }

    const LANES: bool = true;

    /// The built-in laws' lane samplers; not the formula law's (its scale is a formula of
    /// the point) nor a user's.
    fn has_lanes(&self, dim: usize) -> bool {
        match self {
            AnyLaw::Ball(l) => l.has_lanes(dim),
            AnyLaw::Cube(l) => l.has_lanes(dim),
            AnyLaw::Sphere(l) => l.has_lanes(dim),
            AnyLaw::Gaussian(l) => l.has_lanes(dim),
            AnyLaw::StudentT(l) => l.has_lanes(dim),
            AnyLaw::Stable(l) => l.has_lanes(dim),
            AnyLaw::Anisotropic(l) => l.has_lanes(dim),
            AnyLaw::Scaled(_) | AnyLaw::Custom(_) => false,
            AnyLaw::None => NoNoise.has_lanes(dim),
        }
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        match self {
            AnyLaw::Ball(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Cube(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Sphere(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Gaussian(l) => l.sample_lanes(x, rng, out),
            AnyLaw::StudentT(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Stable(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Anisotropic(l) => l.sample_lanes(x, rng, out),
            AnyLaw::Scaled(l) => lane_by_lane(l, x, rng, out),
            AnyLaw::Custom(l) => lane_by_lane(l, x, rng, out),
            AnyLaw::None => NoNoise.sample_lanes(x, rng, out),
        }
    }
}

impl NoiseSpec {
    /// The law's name and scale (r, or σ for `gaussian`, 0 for `none`; for `minibatch`, the
    /// injected law's scale; for a user's law, the scale it declares, if any).
    pub fn parts(&self) -> (&str, Option<f64>) {
        match *self {
            NoiseSpec::Ball { r } => ("ball", Some(r)),
            NoiseSpec::Cube { r } => ("cube", Some(r)),
            NoiseSpec::Sphere { r } => ("sphere", Some(r)),
            NoiseSpec::Gaussian { ref sigma } => ("gaussian", Some(sigma.max())),
            NoiseSpec::None {} => ("none", Some(0.0)),
            NoiseSpec::StudentT { s, .. } => ("student_t", Some(s)),
            // The scale of a formula law is its base law's (times s(x)).
            NoiseSpec::Formula { ref base, .. } => ("formula", base.parts().1),
            NoiseSpec::Stable { sigma, .. } => ("stable", Some(sigma)),
            // The scale of a minibatch spec is that of its injected law.
            NoiseSpec::Minibatch { ref injected, .. } => (
                "minibatch",
                injected.as_deref().map_or(Some(0.0), |l| l.parts().1),
            ),
            NoiseSpec::Custom(ref c) => (
                c.name(),
                match c {
                    CustomLaw::Built(l) => l.scale(),
                    CustomLaw::Written { .. } => None,
                },
            ),
        }
    }

    /// The minibatch rule, when the noise is a minibatch's.
    pub fn minibatch(&self) -> Option<Minibatch> {
        match *self {
            NoiseSpec::Minibatch {
                batch, sampling, ..
            } => Some(Minibatch {
                batch: batch as usize,
                sampling,
            }),
            _ => None,
        }
    }
}

/// ω = s(x)·ξ: a base law scaled by a formula of the current point (state-dependent noise).
/// Zero-mean when the base law is; bounded by `bound` times the base law's bound when both
/// are known.
#[derive(Debug, Clone)]
pub struct ScaledLaw {
    /// s(x).
    pub scale: Arc<Formula>,
    /// The law of ξ.
    pub base: Box<AnyLaw>,
    /// A bound on |s(x)|, when known.
    pub bound: Option<f64>,
}

impl NoiseLaw for ScaledLaw {
    fn sample_into<R: Rng + ?Sized>(&self, x: &[f64], rng: &mut R, out: &mut [f64]) {
        self.base.sample_into(x, rng, out);
        let s = self.scale.value(x);
        out.iter_mut().for_each(|o| *o *= s);
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        Some(self.bound? * self.base.bound(dim)?)
    }
}

/// A zero-mean noise law on R^d.
///
/// A user's own law implements this trait and [`crate::registry::Custom`]; see
/// [`crate::registry`] for running it from experiment files.
///
/// ```
/// use rand::{Rng, RngExt, SeedableRng};
/// use sgd_escape::noise::NoiseLaw;
///
/// /// ±s on every coordinate, signs independent and fair (Rademacher).
/// struct Signs {
///     s: f64,
/// }
///
/// impl NoiseLaw for Signs {
///     fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
///         for o in out.iter_mut() {
///             *o = if rng.random::<bool>() { self.s } else { -self.s };
///         }
///     }
///     fn bound(&self, dim: usize) -> Option<f64> {
///         Some(self.s * (dim as f64).sqrt())
///     }
/// }
///
/// let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
/// let mut omega = [0.0; 4];
/// Signs { s: 0.5 }.sample_into(&[0.0; 4], &mut rng, &mut omega);
/// assert!(omega.iter().all(|w| w.abs() == 0.5));
/// assert_eq!(Signs { s: 0.5 }.bound(4), Some(1.0));
/// ```
pub trait NoiseLaw: Sync {
    /// True only for the law that is identically zero (plain GD): the engine then skips the
    /// draw and the update's noise term at compile time.
    const IS_ZERO: bool = false;

    /// Draws ω ~ W(x) into `out` (length d). Must not allocate.
    fn sample_into<R: Rng + ?Sized>(&self, x: &[f64], rng: &mut R, out: &mut [f64]);

    /// The almost-sure bound r with ‖ω‖ ≤ r in dimension `dim`, or `None` for unbounded
    /// noise (outside the theorem's assumptions).
    fn bound(&self, dim: usize) -> Option<f64>;

    /// Whether the law has a real lane sampler in some dimension: lets the compiler leave
    /// out the lane engine for the laws that never run in it ([`NoiseLaw::has_lanes`]
    /// decides per dimension).
    const LANES: bool = false;

    /// Whether [`NoiseLaw::sample_lanes`] is a real lane sampler in dimension `dim`, so the
    /// engine may run trajectories in SIMD lanes ([`crate::lanes`]). False by default: the
    /// engine then runs the law one trajectory at a time, exactly as before lanes existed.
    fn has_lanes(&self, _dim: usize) -> bool {
        false
    }

    /// Draws ω for every lane: `out[i]` holds coordinate i of every lane, `x` the lanes'
    /// points, `rng` their streams. Lane k must get the bits [`NoiseLaw::sample_into`]
    /// gives from lane k's stream. The default does exactly that, lane by lane (slowly,
    /// through memory; it allocates, so a law that the engine runs in lanes overrides it).
    fn sample_lanes<L: Real>(&self, x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        lane_by_lane(self, x, rng, out)
    }
}

/// Draws for every lane one lane at a time, through the law's scalar sampler on that lane's
/// stream: [`NoiseLaw::sample_lanes`]'s default, and what a lane sampler calls for the cases
/// it leaves out (slow, through memory; it allocates).
pub(crate) fn lane_by_lane<W: NoiseLaw + ?Sized, L: Real>(
    law: &W,
    x: &[L],
    rng: &mut Pcg<L::Bits>,
    out: &mut [L],
) {
    let (mut xk, mut wk) = (vec![0.0; x.len()], vec![0.0; out.len()]);
    for k in 0..L::LANES {
        x.iter()
            .zip(xk.iter_mut())
            .for_each(|(v, o)| *o = v.lane(k));
        let mut stream = rng.lane(k);
        law.sample_into(&xk, &mut stream, &mut wk);
        rng.set_lane(k, &stream);
        out.iter_mut()
            .zip(&wk)
            .for_each(|(o, &w)| *o = o.with_lane(k, w));
    }
}
