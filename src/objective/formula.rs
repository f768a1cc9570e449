use super::Objective;
use crate::formula::{Formula, Variables};

/// A landscape written as a formula in the experiment file (see [`crate::formula`] for the
/// grammar): f(x1, …, xd) as one expression, or the separable Σᵢ h(xᵢ) from one h(x).
/// Gradients are exact (reverse mode over the expression).
#[derive(Debug, Clone)]
pub struct FormulaObjective {
    formula: Formula,
    target: Vec<f64>,
    lipschitz: Option<f64>,
}

impl FormulaObjective {
    /// f from `formula` (parsed with [`Variables::Numbered`]`(d)`, or [`Variables::Single`]
    /// for the separable form), in dimension `target.len()`, with an optional known
    /// Lipschitz constant of ∇f.
    pub fn new(formula: Formula, target: Vec<f64>, lipschitz: Option<f64>) -> Self {
        debug_assert!(match formula.variables() {
            Variables::Numbered(d) => d == target.len(),
            Variables::Single => true,
            Variables::Named(_) => false,
        });
        FormulaObjective {
            formula,
            target,
            lipschitz,
        }
    }

    fn separable(&self) -> bool {
        self.formula.variables() == Variables::Single
    }
}

impl Objective for FormulaObjective {
    // A formula's gradient is a few hundred instructions: the noise, drawn in lanes, is
    // then a real share of a step.
    const RUNS_IN_LANES: bool = true;

    fn dim(&self) -> usize {
        self.target.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        if self.separable() {
            x.iter().map(|&v| self.formula.value(&[v])).sum()
        } else {
            self.formula.value(x)
        }
    }

    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        if self.separable() {
            for (g, &v) in grad.iter_mut().zip(x) {
                let mut d = [0.0];
                self.formula.value_and_add_gradient(&[v], &mut d);
                *g = d[0];
            }
        } else {
            grad.fill(0.0);
            self.formula.value_and_add_gradient(x, grad);
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        self.lipschitz
    }

    fn is_smooth(&self) -> bool {
        !self.formula.has_kinks()
    }
}
