use super::Objective;
use crate::lanes::Real;
use crate::math::elementary::exp_lanes;

/// One Gaussian well: depth h, width s, centre m.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Well {
    /// Depth h (negative values make a bump).
    pub depth: f64,
    /// Width s > 0: small s gives a sharp minimum, large s a flat one.
    pub width: f64,
    /// Centre m, of dimension d.
    pub centre: Vec<f64>,
}

/// f(x) = ½‖x‖² − Σ_j h_j exp(−‖x − m_j‖² / (2 s_j²)).
#[derive(Debug, Clone)]
pub struct Wells {
    wells: Vec<Well>,
    target: Vec<f64>,
}

impl Wells {
    /// Wells in dimension `target.len()`; every centre must have that dimension (checked by the
    /// configuration layer).
    pub fn new(wells: Vec<Well>, target: Vec<f64>) -> Self {
        Self { wells, target }
    }

    /// exp(−‖x − m‖² / (2 s²)) and the squared distance.
    #[inline]
    fn bump(well: &Well, x: &[f64]) -> f64 {
        let d2: f64 = x
            .iter()
            .zip(&well.centre)
            .map(|(x, m)| (x - m) * (x - m))
            .sum();
        crate::math::elementary::exp(-d2 / (2.0 * well.width * well.width))
    }
}

impl Objective for Wells {
    fn dim(&self) -> usize {
        self.target.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        let bowl = 0.5 * x.iter().map(|x| x * x).sum::<f64>();
        bowl - self
            .wells
            .iter()
            .map(|w| w.depth * Self::bump(w, x))
            .sum::<f64>()
    }

    #[inline]
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        grad.copy_from_slice(x);
        for w in &self.wells {
            // ∇[−h e^{−‖x−m‖²/2s²}] = (h/s²) e^{…} (x − m)
            let coef = w.depth * Self::bump(w, x) / (w.width * w.width);
            for ((g, x), m) in grad.iter_mut().zip(x).zip(&w.centre) {
                *g += coef * (x - m);
            }
        }
    }

    const LANES: bool = true;

    /// [`Objective::grad_into`]'s operations, in its order, in every lane.
    #[inline(always)]
    fn grad_lanes<L: Real>(&self, x: &[L], grad: &mut [L]) {
        grad.copy_from_slice(x);
        for w in &self.wells {
            let d2 = x.iter().zip(&w.centre).fold(L::splat(0.0), |s, (&x, &m)| {
                let t = x - L::splat(m);
                s + t * t
            });
            let bump = exp_lanes(d2.neg() / L::splat(2.0 * w.width * w.width));
            let coef = L::splat(w.depth) * bump / L::splat(w.width * w.width);
            for ((g, &x), &m) in grad.iter_mut().zip(x).zip(&w.centre) {
                *g = *g + coef * (x - L::splat(m));
            }
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        // Each well's Hessian has eigenvalues in [−0.45 h/s², h/s²] (times sign h), so
        // |eig(∇²f)| ≤ 1 + Σ |h_j| / s_j².
        Some(
            1.0 + self
                .wells
                .iter()
                .map(|w| w.depth.abs() / (w.width * w.width))
                .sum::<f64>(),
        )
    }
}
