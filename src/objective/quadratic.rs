use super::Objective;
use crate::lanes::Real;

/// f(x) = ½ Σ k_i x_i², x* = 0: the reference case with closed-form answers.
#[derive(Debug, Clone)]
pub struct Quadratic {
    k: Vec<f64>,
    target: Vec<f64>,
}

impl Quadratic {
    /// Curvatures k_i (all > 0; checked by the configuration layer).
    pub fn new(k: Vec<f64>) -> Self {
        let target = vec![0.0; k.len()];
        Self { k, target }
    }
}

impl Objective for Quadratic {
    fn dim(&self) -> usize {
        self.k.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        0.5 * x.iter().zip(&self.k).map(|(x, k)| k * x * x).sum::<f64>()
    }

    #[inline]
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        for ((g, x), k) in grad.iter_mut().zip(x).zip(&self.k) {
            *g = k * x;
        }
    }

    const LANES: bool = true;

    #[inline(always)]
    fn grad_lanes<L: Real>(&self, x: &[L], grad: &mut [L]) {
        for ((g, &x), &k) in grad.iter_mut().zip(x).zip(&self.k) {
            *g = L::splat(k) * x;
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        Some(self.k.iter().cloned().fold(0.0, f64::max))
    }

    /// ∇f(0) = 0 and ∇f is L-Lipschitz: ‖∇f(w)‖ ≤ L(‖x‖ + ρ).
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        super::stationary_target_bound(self, x, rho)
    }
}
