//! Stochastic-gradient oracles: how the engine moves x_t to x_{t+1}.
//!
//! Two kinds of problem share the engine through the [`Oracle`] trait:
//! - [`Injected`]: a noise law W added to the exact gradient, x_{t+1} = y_t − ηω_t with
//!   y_t = x_t − η∇f(x_t) (the paper's process on a closed-form landscape);
//! - [`Sgd`]: minibatch SGD on a finite sum, x_{t+1} = x_t − η(g_B(x_t) + ξ_t) with
//!   g_B = (1/B) Σ_{i∈B} ∇fᵢ. Its noise g_B − ∇f is the batch's deviation from the full
//!   gradient, which depends on x and on the data: it needs the examples, so it is drawn by
//!   the objective's oracle, not by a law. It never computes ∇f(x_t) (n/B times a step's
//!   cost) unless events are measured on y.
//!
//! Each trajectory keeps its own oracle state ([`BatchState`]) and draws from its own stream.

use crate::dynamics::NoiseEntry;
use crate::lanes::{Real, pcg::Pcg};
use crate::noise::{AnyLaw, NoiseLaw};
pub use crate::noise::{Minibatch, Sampling};
use crate::objective::{FiniteSum, Objective};
use rand::{Rng, RngExt};

/// A stochastic-gradient oracle of objectives `O`: moves x_t to x_{t+1}.
pub trait Oracle<O: Objective>: Sync {
    /// Per-trajectory state (the batch sampler's permutation; nothing for a law).
    type State: Send;

    /// True when x_{t+1} is computed from y_t = x_t − η∇f(x_t), which the engine then
    /// computes at every step (it is free for events measured on y).
    const USES_Y: bool;

    /// True only for plain GD (no noise at all): x_{t+1} = y_t.
    const IS_ZERO: bool = false;

    /// A fresh state for one trajectory.
    fn state(&self, objective: &O) -> Self::State;

    /// Moves `x` from x_t to x_{t+1} with step η. `y` holds y_t when [`Self::USES_Y`]; `grad`
    /// and `omega` are scratch of length d. Must not allocate.
    #[allow(clippy::too_many_arguments)]
    fn advance<R: Rng + ?Sized>(
        &self,
        objective: &O,
        entry: NoiseEntry,
        state: &mut Self::State,
        rng: &mut R,
        eta: f64,
        x: &mut [f64],
        y: &mut [f64],
        grad: &mut [f64],
        omega: &mut [f64],
    );

    /// One draw of the step's noise ω = g(x) − ∇f(x) at x, given `grad_x` = ∇f(x): what the
    /// assumption checks average over.
    fn noise_into<R: Rng + ?Sized>(
        &self,
        objective: &O,
        state: &mut Self::State,
        rng: &mut R,
        x: &[f64],
        grad_x: &[f64],
        omega: &mut [f64],
    );

    /// An almost-sure bound r on ‖ω‖ known before running, in dimension `dim` (`None`:
    /// unbounded, or, for minibatch noise, only observable on the points visited).
    fn bound(&self, dim: usize) -> Option<f64>;

    /// The minibatch rule, when the noise is a minibatch's.
    fn minibatch(&self) -> Option<Minibatch> {
        None
    }

    /// Whether the oracle can draw in lanes in some dimension (see [`NoiseLaw::LANES`]).
    const LANES: bool = false;

    /// Whether [`Oracle::sample_lanes`] draws the step's noise in SIMD lanes in dimension
    /// `dim` (a law with a lane sampler); the engine then runs this oracle's trajectories in
    /// lanes when the objective has a lane gradient too.
    fn has_lanes(&self, _dim: usize) -> bool {
        false
    }

    /// The noise ω of x_{t+1} = y_t − ηω_t for every lane, the bits [`Oracle::advance`]
    /// draws lane by lane. Only called when [`Oracle::has_lanes`] is true; the default
    /// (for oracles that never are) draws nothing.
    fn sample_lanes<L: Real>(&self, _x: &[L], _rng: &mut Pcg<L::Bits>, _out: &mut [L]) {
        debug_assert!(false, "sample_lanes of an oracle without lanes");
    }

    /// For noise whose bound is not known in advance but can be computed at a point: a
    /// bound on ‖ω‖ for every draw at x, given `grad_x` = ∇f(x) (`scratch` has length d).
    /// `None` when the oracle has no such bound (a law: see [`Self::bound`]).
    fn bound_at(
        &self,
        _objective: &O,
        _x: &[f64],
        _grad_x: &[f64],
        _scratch: &mut [f64],
    ) -> Option<f64> {
        None
    }
}

/// A noise law added to the exact gradient.
#[derive(Debug, Clone, Copy)]
pub struct Injected<W>(pub W);

impl<O: Objective, W: NoiseLaw> Oracle<O> for Injected<W> {
    type State = ();
    const USES_Y: bool = true;
    const IS_ZERO: bool = W::IS_ZERO;

    fn state(&self, _: &O) {}

    #[inline(always)]
    fn advance<R: Rng + ?Sized>(
        &self,
        objective: &O,
        entry: NoiseEntry,
        _: &mut (),
        rng: &mut R,
        eta: f64,
        x: &mut [f64],
        y: &mut [f64],
        grad: &mut [f64],
        omega: &mut [f64],
    ) {
        self.0.sample_into(x, rng, omega);
        match entry {
            NoiseEntry::Step => {
                for ((x, y), w) in x.iter_mut().zip(y.iter()).zip(omega.iter()) {
                    *x = y - eta * w;
                }
            }
            NoiseEntry::Point => {
                // Reuse y as the perturbed point x − ηω, then step from x with ∇f there.
                for ((z, x), w) in y.iter_mut().zip(x.iter()).zip(omega.iter()) {
                    *z = x - eta * w;
                }
                objective.grad_into(y, grad);
                for (x, g) in x.iter_mut().zip(grad.iter()) {
                    *x -= eta * g;
                }
            }
        }
    }

    fn noise_into<R: Rng + ?Sized>(
        &self,
        _: &O,
        _: &mut (),
        rng: &mut R,
        x: &[f64],
        _: &[f64],
        omega: &mut [f64],
    ) {
        self.0.sample_into(x, rng, omega);
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        self.0.bound(dim)
    }

    const LANES: bool = W::LANES;

    fn has_lanes(&self, dim: usize) -> bool {
        self.0.has_lanes(dim)
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        self.0.sample_lanes(x, rng, out)
    }
}

/// Minibatch SGD on a finite sum, with an optional law ξ injected on top:
/// x_{t+1} = x_t − η(g_B(x_t) + ξ_t). The noise always enters the step.
#[derive(Debug, Clone)]
pub struct Sgd {
    /// Batch size and sampling.
    pub minibatch: Minibatch,
    /// The law added on top (`AnyLaw::None` for none).
    pub injected: AnyLaw,
}

impl<O: FiniteSum> Oracle<O> for Sgd {
    type State = BatchState;
    const USES_Y: bool = false;

    fn state(&self, objective: &O) -> BatchState {
        BatchState::new(objective.examples(), self.minibatch.batch)
    }

    #[inline]
    fn advance<R: Rng + ?Sized>(
        &self,
        objective: &O,
        _: NoiseEntry,
        state: &mut BatchState,
        rng: &mut R,
        eta: f64,
        x: &mut [f64],
        _: &mut [f64],
        grad: &mut [f64],
        omega: &mut [f64],
    ) {
        let batch = self.minibatch.draw(state, rng);
        objective.batch_grad_into(batch, x, grad);
        if self.injected.is_zero() {
            for (x, g) in x.iter_mut().zip(grad.iter()) {
                *x -= eta * g;
            }
        } else {
            self.injected.sample_into(x, rng, omega);
            for ((x, g), w) in x.iter_mut().zip(grad.iter()).zip(omega.iter()) {
                *x -= eta * (g + w);
            }
        }
    }

    fn noise_into<R: Rng + ?Sized>(
        &self,
        objective: &O,
        state: &mut BatchState,
        rng: &mut R,
        x: &[f64],
        grad_x: &[f64],
        omega: &mut [f64],
    ) {
        let batch = self.minibatch.draw(state, rng);
        objective.batch_grad_into(batch, x, omega);
        for (w, g) in omega.iter_mut().zip(grad_x) {
            *w -= g;
        }
        if !self.injected.is_zero() {
            // Allocates: the checks call this, never the step loop.
            let mut xi = vec![0.0; omega.len()];
            self.injected.sample_into(x, rng, &mut xi);
            omega.iter_mut().zip(&xi).for_each(|(w, e)| *w += e);
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        None
    }

    fn minibatch(&self) -> Option<Minibatch> {
        Some(self.minibatch)
    }

    /// maxᵢ‖∇fᵢ(x) − ∇f(x)‖ plus the injected law's bound (`None` when that is unbounded).
    fn bound_at(
        &self,
        objective: &O,
        x: &[f64],
        grad_x: &[f64],
        scratch: &mut [f64],
    ) -> Option<f64> {
        let injected = self.injected.bound(x.len())?;
        Some(max_example_deviation(objective, x, grad_x, scratch) + injected)
    }
}

/// max over examples i of ‖∇fᵢ(x) − ∇f(x)‖ given `grad_x` = ∇f(x): the largest deviation of
/// any minibatch gradient from ∇f at x (a mean of B deviations is no longer than the longest),
/// so a bound on the minibatch noise at this point. `scratch` has length d. (The objective
/// computes it: see [`FiniteSum::max_example_deviation`].)
pub fn max_example_deviation<O: FiniteSum>(
    objective: &O,
    x: &[f64],
    grad_x: &[f64],
    scratch: &mut [f64],
) -> f64 {
    objective.max_example_deviation(x, grad_x, scratch)
}

/// One trajectory's sampling state: a permutation of the examples and, for `reshuffle`, the
/// position in the current epoch; the batch drawn last, sorted.
#[derive(Debug, Clone)]
pub struct BatchState {
    perm: Vec<usize>,
    pos: usize,
    batch: Vec<usize>,
}

impl BatchState {
    /// The state for n examples and batches of B (a new epoch starts at the first draw).
    pub fn new(n: usize, b: usize) -> Self {
        Self {
            perm: (0..n).collect(),
            pos: n,
            batch: Vec::with_capacity(b),
        }
    }
}

impl Minibatch {
    /// Draws the next batch for `state`, sorted in index order (so that the gradient is
    /// summed in index order, and B = n gives the full gradient bit for bit). Does not
    /// allocate after the first draw.
    pub fn draw<'s, R: Rng + ?Sized>(&self, state: &'s mut BatchState, rng: &mut R) -> &'s [usize] {
        let n = state.perm.len();
        let b = self.batch.min(n);
        state.batch.clear();
        match self.sampling {
            Sampling::Independent => {
                // A partial Fisher–Yates shuffle of the (reused) permutation: its first B
                // entries are a uniform B-subset whatever the permutation was before.
                for j in 0..b {
                    let k = rng.random_range(j..n);
                    state.perm.swap(j, k);
                }
                state.batch.extend_from_slice(&state.perm[..b]);
            }
            Sampling::Reshuffle => {
                if state.pos + b > n {
                    for j in 0..n.saturating_sub(1) {
                        let k = rng.random_range(j..n);
                        state.perm.swap(j, k);
                    }
                    state.pos = 0;
                }
                state
                    .batch
                    .extend_from_slice(&state.perm[state.pos..state.pos + b]);
                state.pos += b;
            }
            Sampling::Replacement => {
                state.batch.extend((0..b).map(|_| rng.random_range(0..n)));
            }
        }
        state.batch.sort_unstable();
        &state.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_valid_and_reproducible() {
        let mut rng = crate::rng::trajectory_rng(1, 2, 3);
        for sampling in [
            Sampling::Independent,
            Sampling::Reshuffle,
            Sampling::Replacement,
        ] {
            let m = Minibatch { batch: 7, sampling };
            let mut s = BatchState::new(20, 7);
            for _ in 0..6 {
                let b = m.draw(&mut s, &mut rng).to_vec();
                assert_eq!(b.len(), 7);
                assert!(b.windows(2).all(|w| w[0] <= w[1]));
                if sampling != Sampling::Replacement {
                    assert!(b.windows(2).all(|w| w[0] < w[1]), "distinct: {b:?}");
                }
            }
            if sampling == Sampling::Reshuffle {
                // Two batches of 7 per epoch of 20: within an epoch no example repeats.
                let mut s = BatchState::new(20, 7);
                let a = m.draw(&mut s, &mut rng).to_vec();
                let b = m.draw(&mut s, &mut rng).to_vec();
                assert!(a.iter().all(|i| !b.contains(i)));
            }
        }
        let m = Minibatch {
            batch: 20,
            sampling: Sampling::Independent,
        };
        let mut s = BatchState::new(20, 20);
        assert_eq!(
            m.draw(&mut s, &mut rng),
            (0..20).collect::<Vec<_>>().as_slice()
        );
    }
}
