//! Minibatch sampling: which examples a stochastic-gradient step of a finite sum uses.
//!
//! The stochastic gradient of minibatch SGD is g_B(x) = (1/B) Σ_{i∈B} ∇fᵢ(x): its noise is
//! the batch's deviation from the full gradient, which depends on x and on the data, so it is
//! drawn by an oracle that knows the examples, not by a noise law. This module draws the
//! batches; each trajectory keeps its own [`BatchState`] and draws from its own stream.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// How a batch of B examples is drawn at each step.
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

/// The minibatch rule: batch size and sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minibatch {
    /// B, 1 ≤ B ≤ n.
    pub batch: usize,
    /// How batches are drawn.
    pub sampling: Sampling,
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
