use super::Objective;
use crate::lanes::Real;
use crate::math::trig::{FAST_LIMIT, cos_of_turns, sin_of_turns, sin_turns};

/// f(x) = Σ [x_i²/2 + A (1 − cos(2π x_i / w))], x* = 0: a parabola with regular ripples of
/// height 2A and period w, so local minima near every multiple of w when A (2π/w)² > 1.
#[derive(Debug, Clone)]
pub struct Rastrigin {
    a: f64,
    inv_w: f64,
    /// A · 2π/w, the ripple's gradient amplitude.
    amp: f64,
    target: Vec<f64>,
}

impl Rastrigin {
    /// Dimension `dim`, ripple height `a` (≥ 0) and period `w` (> 0).
    pub fn new(dim: usize, a: f64, w: f64) -> Self {
        Self {
            a,
            inv_w: 1.0 / w,
            amp: a * std::f64::consts::TAU / w,
            target: vec![0.0; dim],
        }
    }
}

impl Objective for Rastrigin {
    fn dim(&self) -> usize {
        self.target.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.iter()
            .map(|&x| 0.5 * x * x + self.a * (1.0 - cos_of_turns(x * self.inv_w)))
            .sum()
    }

    #[inline]
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        // Branch-free so the loop vectorises; far-out points (where the fast reduction would
        // lose the phase) are recomputed afterwards with the exact reduction.
        let mut far = false;
        for (g, &x) in grad.iter_mut().zip(x) {
            let turns = x * self.inv_w;
            far |= turns.abs() >= FAST_LIMIT;
            *g = x + self.amp * sin_turns(turns);
        }
        if far {
            for (g, &x) in grad.iter_mut().zip(x) {
                let turns = x * self.inv_w;
                if turns.abs() >= FAST_LIMIT {
                    *g = x + self.amp * sin_of_turns(turns);
                }
            }
        }
    }

    const LANES: bool = true;

    /// The arithmetic of [`Objective::grad_into`] in lanes (far-out lanes, as there,
    /// recomputed with the exact reduction).
    #[inline(always)]
    fn grad_lanes<L: Real>(&self, x: &[L], grad: &mut [L]) {
        let (inv_w, amp, limit) = (
            L::splat(self.inv_w),
            L::splat(self.amp),
            L::splat(FAST_LIMIT),
        );
        for (g, &x) in grad.iter_mut().zip(x) {
            let turns = x * inv_w;
            *g = x + amp * sin_turns(turns);
            if turns.abs().any_ge(limit) {
                for k in 0..L::LANES {
                    let (xk, turns) = (x.lane(k), turns.lane(k));
                    if turns.abs() >= FAST_LIMIT {
                        *g = g.with_lane(k, xk + self.amp * sin_of_turns(turns));
                    }
                }
            }
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        // |f''| ≤ 1 + A (2π/w)² per coordinate, and the Hessian is diagonal.
        Some(1.0 + self.amp * std::f64::consts::TAU * self.inv_w)
    }
}
