//! Noise laws W: the ω in x_{t+1} = x_t − η(∇f(x_t) + ω_t).
//!
//! A law is sampled like a `rand_distr` distribution: generic over the generator, so it
//! inlines into the step loop. It receives the current point x, so state-dependent noise fits
//! the same trait. Adding a law is one new type implementing [`NoiseLaw`] plus one variant in
//! [`crate::config`].

mod laws;

pub use laws::{Ball, Cube, Gaussian, NoNoise, Sphere};

use rand::Rng;

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
