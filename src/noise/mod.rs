//! Noise laws W: the ω in x_{t+1} = x_t − η(∇f(x_t) + ω_t).
//!
//! A law is sampled like a `rand_distr` distribution: generic over the generator, so it
//! inlines into the step loop. It receives the current point x, so state-dependent noise fits
//! the same trait. Adding a law is one new type implementing [`NoiseLaw`] plus one variant in
//! `NoiseSpec` (read by [`crate::config`]).

mod laws;

pub use laws::{Ball, Cube, Gaussian, NoNoise, Sphere};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A noise law as written in an experiment file's `[noise]` section.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "law", rename_all = "lowercase", deny_unknown_fields)]
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
    /// N(0, σ² I).
    Gaussian {
        /// Standard deviation.
        sigma: f64,
    },
    /// No noise: plain GD.
    None {},
}

impl NoiseSpec {
    /// The law's name and scale (r, or σ for `gaussian`, 0 for `none`).
    pub fn parts(&self) -> (&'static str, f64) {
        match *self {
            NoiseSpec::Ball { r } => ("ball", r),
            NoiseSpec::Cube { r } => ("cube", r),
            NoiseSpec::Sphere { r } => ("sphere", r),
            NoiseSpec::Gaussian { sigma } => ("gaussian", sigma),
            NoiseSpec::None {} => ("none", 0.0),
        }
    }
}

/// A zero-mean noise law on R^d.
pub trait NoiseLaw: Sync {
    /// True only for the law that is identically zero (plain GD): the engine then skips the
    /// draw and the update's noise term at compile time.
    const IS_ZERO: bool = false;

    /// Draws ω ~ W(x) into `out` (length d). Must not allocate.
    fn sample_into<R: Rng + ?Sized>(&self, x: &[f64], rng: &mut R, out: &mut [f64]);

    /// The almost-sure bound r with ‖ω‖ ≤ r in dimension `dim`, or `None` for unbounded
    /// noise (outside the theorem's assumptions).
    fn bound(&self, dim: usize) -> Option<f64>;
}
