//! The step-size schedule of x_{t+1} = x_t − η_t (∇f(x_t) + ω_t).

use serde::Serialize;

/// One stage of a schedule: `steps` steps with step size `eta`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stage {
    /// Step size η > 0.
    pub eta: f64,
    /// Number of steps ≥ 1.
    pub steps: u64,
}

/// Where the noise enters a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseEntry {
    /// x_{t+1} = x_t − η(∇f(x_t) + ω_t): the paper's process and Theorem 1's setting.
    #[default]
    Step,
    /// x_{t+1} = x_t − η∇f(x_t − ηω_t): the gradient is taken at a perturbed point, so the
    /// iterates do GD on f smoothed at scale ηr with no added random walk. One of the two
    /// readings of the paper's Figure 3; ηω has the same law in both.
    Point,
}

/// A constant step (one stage) or a staged schedule η_1 for T_1 steps, then η_2 for T_2 steps,
/// … (the paper's Corollary 2). Never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Schedule {
    stages: Vec<Stage>,
}

impl Schedule {
    /// A schedule from non-empty, validated stages.
    pub fn new(stages: Vec<Stage>) -> Self {
        assert!(!stages.is_empty(), "a schedule has at least one stage");
        Self { stages }
    }

    /// A constant step size for `steps` steps.
    pub fn constant(eta: f64, steps: u64) -> Self {
        Self::new(vec![Stage { eta, steps }])
    }

    /// The stages in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// T = Σ T_k, the number of steps; the process has points x_0 … x_T.
    pub fn total_steps(&self) -> u64 {
        self.stages.iter().map(|s| s.steps).sum()
    }

    /// The step size in force at the end, used for y_T = x_T − η ∇f(x_T).
    pub fn final_eta(&self) -> f64 {
        self.stages[self.stages.len() - 1].eta
    }
}
