//! The example's own types: a landscape and a noise law that sgd-escape does not ship,
//! written outside the crate against its public traits.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use sgd_escape::math::trig::{cos_of_turns, sin_of_turns};
use sgd_escape::noise::NoiseLaw;
use sgd_escape::objective::Objective;
use sgd_escape::registry::Custom;

/// A washboard around a centre c: f(x) = Σᵢ (xᵢ − cᵢ)²/2 + h sin²(π(xᵢ − cᵢ)/w).
///
/// Ridges of height h every w along each axis trap plain GD; noise of the right size lets
/// SGD see the bowl underneath. x* = c, and ∇f is Lipschitz with L = 1 + 2π²h/w².
/// The sines come from sgd-escape's own trigonometry (in turns, exact reduction), so the
/// numbers do not depend on the platform's libm.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Washboard {
    /// The dimension d.
    pub dim: usize,
    /// Ridge height h ≥ 0.
    pub height: f64,
    /// Ridge period w > 0.
    pub period: f64,
    /// The centre c = x* (default: the origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<Vec<f64>>,
    /// c at full length (derived by `checked`).
    #[serde(skip)]
    target: Vec<f64>,
}

/// The largest dimension the example accepts (its own bound, checked before allocating).
const MAX_DIM: usize = 1 << 20;

impl Custom for Washboard {
    const KIND: &'static str = "washboard";
    const VERSION: &'static str = "1";

    fn checked(mut self) -> Result<Self, String> {
        if !(1..=MAX_DIM).contains(&self.dim) {
            return Err(format!("dim must lie in [1, {MAX_DIM}], got {}", self.dim));
        }
        if !(self.height.is_finite() && self.height >= 0.0) {
            return Err(format!(
                "height must be finite and ≥ 0, got {}",
                self.height
            ));
        }
        if !(self.period.is_finite() && self.period > 0.0) {
            return Err(format!(
                "period must be finite and > 0, got {}",
                self.period
            ));
        }
        self.target = match &self.centre {
            None => vec![0.0; self.dim],
            Some(c) if c.len() == self.dim && c.iter().all(|v| v.is_finite()) => c.clone(),
            Some(c) => {
                return Err(format!(
                    "centre must have {} finite coordinates, got {}",
                    self.dim,
                    c.len()
                ));
            }
        };
        Ok(self)
    }
}

impl Objective for Washboard {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(&self.target)
            .map(|(x, c)| {
                let t = x - c;
                // sin²(πt/w) = (1 − cos(2πt/w))/2.
                0.5 * t * t + 0.5 * self.height * (1.0 - cos_of_turns(t / self.period))
            })
            .sum()
    }

    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        let amplitude = std::f64::consts::PI * self.height / self.period;
        for ((g, x), c) in grad.iter_mut().zip(x).zip(&self.target) {
            let t = x - c;
            *g = t + amplitude * sin_of_turns(t / self.period);
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        let pi = std::f64::consts::PI;
        Some(1.0 + 2.0 * pi * pi * self.height / (self.period * self.period))
    }
}

/// Each coordinate r(U₁ + U₂ − 1) with U₁, U₂ independent uniforms on [0, 1): the
/// triangular law on [−r, r], zero-mean, bounded by r√d.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triangular {
    /// Half-width r ≥ 0.
    pub r: f64,
}

impl Custom for Triangular {
    const KIND: &'static str = "triangular";
    const VERSION: &'static str = "1";

    fn checked(self) -> Result<Self, String> {
        if self.r.is_finite() && self.r >= 0.0 {
            Ok(self)
        } else {
            Err(format!("r must be finite and ≥ 0, got {}", self.r))
        }
    }

    fn scale(&self) -> Option<f64> {
        Some(self.r)
    }
}

impl NoiseLaw for Triangular {
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        for o in out.iter_mut() {
            *o = self.r * (rng.random::<f64>() + rng.random::<f64>() - 1.0);
        }
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        Some(self.r * (dim as f64).sqrt())
    }
}

/// The registry of the example: the built-ins, the washboard and the triangular law, and
/// the example's experiment as the default of `run`.
pub fn registry() -> sgd_escape::Registry {
    sgd_escape::Registry::new()
        .objective::<Washboard>()
        .noise_law::<Triangular>()
        .default_experiment("custom_landscape", include_str!("experiment.toml"))
}
