//! The constants of Theorem 1, Corollary 2 and Theorem 3 (`paper.md` §3–5): pure functions.

use serde::Serialize;

/// The guaranteed probabilities of Theorem 1: reach 0.9, stay given reach 5/9, both 1/2.
pub const P_REACH: f64 = crate::experiment::THEOREM_GUARANTEES[0];
/// P(stay for T2 steps | reach) ≥ 5/9.
pub const P_STAY_GIVEN_REACH: f64 = crate::experiment::THEOREM_GUARANTEES[1];
/// P(reach and stay) ≥ 1/2.
pub const P_BOTH: f64 = crate::experiment::THEOREM_GUARANTEES[2];

/// Which part of η < min{1/(2L), c/L², 1/(2c)} binds or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StepPart {
    /// η < 1/(2L).
    #[serde(rename = "1/(2L)")]
    HalfInverseL,
    /// η < c/L².
    #[serde(rename = "c/L^2")]
    COverLSquared,
    /// η < 1/(2c).
    #[serde(rename = "1/(2c)")]
    HalfInverseC,
}

impl std::fmt::Display for StepPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepPart::HalfInverseL => "1/(2L)",
            StepPart::COverLSquared => "c/L²",
            StepPart::HalfInverseC => "1/(2c)",
        })
    }
}

/// The step-size condition η < min{1/(2L), c/L², 1/(2c)}.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepCondition {
    /// The three bounds.
    pub bounds: [(StepPart, f64); 3],
    /// The smallest bound and its part.
    pub binding: (StepPart, f64),
    /// Whether η is below every bound (strictly).
    pub holds: bool,
    /// η / smallest bound: below 1 when the condition holds; "by how much" otherwise.
    pub ratio: f64,
}

/// Checks η < min{1/(2L), c/L², 1/(2c)} (c, L > 0).
pub fn step_condition(eta: f64, c: f64, l: f64) -> StepCondition {
    let bounds = [
        (StepPart::HalfInverseL, 1.0 / (2.0 * l)),
        (StepPart::COverLSquared, c / (l * l)),
        (StepPart::HalfInverseC, 1.0 / (2.0 * c)),
    ];
    let binding = bounds
        .iter()
        .copied()
        .fold(bounds[0], |a, b| if b.1 < a.1 { b } else { a });
    StepCondition {
        bounds,
        binding,
        holds: eta < binding.1,
        ratio: eta / binding.1,
    }
}

/// The inputs of Theorem 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TheoremInputs {
    /// Step size η.
    pub eta: f64,
    /// One-point strong convexity constant c (after convolution).
    pub c: f64,
    /// Lipschitz constant L of ∇f.
    pub l: f64,
    /// Almost-sure noise bound r.
    pub r: f64,
    /// ‖y_0 − x*‖² (the worst start).
    pub y0_dist2: f64,
    /// T2, the length of the stay window.
    pub t2: u64,
}

/// Everything Theorem 1 states for given inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TheoremBounds {
    /// The step-size condition.
    pub step: StepCondition,
    /// λ = 2ηc − η²L².
    pub lambda: f64,
    /// b = η² r² (1 + ηL)².
    pub b: f64,
    /// b/λ.
    pub b_over_lambda: f64,
    /// The minimal T1 = ⌈log(λ‖y_0 − x*‖²/b)/λ⌉ (0 when the log is negative).
    pub t1_min: u64,
    /// Reach radius² 20b/λ.
    pub reach_radius2: f64,
    /// μ = max{8, 42·√log(9·T2/4)}.
    pub mu: f64,
    /// Stay radius² μ²b/λ.
    pub stay_radius2: f64,
}

/// μ = max{8, 42·√(log(9·T2/4))}.
pub fn mu(t2: u64) -> f64 {
    let zeta = 9.0 * t2 as f64 / 4.0;
    let inner = zeta.ln().max(0.0);
    (42.0 * inner.sqrt()).max(8.0)
}

/// Theorem 1's constants (computed even when the step-size condition fails, so that a report
/// can show by how much).
pub fn theorem1(i: &TheoremInputs) -> TheoremBounds {
    let lambda = 2.0 * i.eta * i.c - i.eta * i.eta * i.l * i.l;
    let b = i.eta * i.eta * i.r * i.r * (1.0 + i.eta * i.l).powi(2);
    let b_over_lambda = b / lambda;
    let t1 = (lambda * i.y0_dist2 / b).ln() / lambda;
    let t1_min = if t1.is_finite() && t1 > 0.0 {
        t1.ceil() as u64
    } else {
        0
    };
    let mu = mu(i.t2);
    TheoremBounds {
        step: step_condition(i.eta, i.c, i.l),
        lambda,
        b,
        b_over_lambda,
        t1_min,
        reach_radius2: 20.0 * b_over_lambda,
        mu,
        stay_radius2: mu * mu * b_over_lambda,
    }
}

/// The drift bound E‖y_t − x*‖² ≤ (1 − λ)^t ‖y_0 − x*‖² + b/λ.
pub fn drift_bound(bounds: &TheoremBounds, y0_dist2: f64, t: u64) -> f64 {
    (1.0 - bounds.lambda).powf(t as f64) * y0_dist2 + bounds.b_over_lambda
}

/// Corollary 2 for a second stage (η', c'): with probability ≥ 1/4,
/// ‖y − x*‖² ≤ 20 b'/λ' after T2' ≥ log(λ'·(20b/λ)/b')/λ' more steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Corollary2 {
    /// λ' and b' of the second stage.
    pub lambda: f64,
    /// b'.
    pub b: f64,
    /// Minimal T2'.
    pub t2_min: u64,
    /// The final radius² 20b'/λ'.
    pub radius2: f64,
    /// The guaranteed probability, 1/4.
    pub probability: f64,
}

/// Corollary 2 from the first stage's bounds and the second stage's (η', c', L, r).
pub fn corollary2(first: &TheoremBounds, eta2: f64, c2: f64, l: f64, r: f64) -> Corollary2 {
    let second = theorem1(&TheoremInputs {
        eta: eta2,
        c: c2,
        l,
        r,
        y0_dist2: first.reach_radius2,
        t2: 1,
    });
    Corollary2 {
        lambda: second.lambda,
        b: second.b,
        t2_min: second.t1_min,
        radius2: second.reach_radius2,
        probability: 0.25,
    }
}

/// Theorem 3: if ⟨∇f(x), x − x*⟩ ≤ c'‖x − x*‖² everywhere, a full GD step from x_t with
/// η > 2c'‖x_t − x*‖²/‖∇f(x_t)‖² does not move closer to x*. Returns that threshold.
pub fn theorem3_threshold(c_prime: f64, x_dist2: f64, grad_norm2: f64) -> f64 {
    2.0 * c_prime * x_dist2 / grad_norm2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worked(t2: u64) -> TheoremBounds {
        theorem1(&TheoremInputs {
            eta: 0.1,
            c: 1.0,
            l: 1.0,
            r: 1.0,
            y0_dist2: 4.0,
            t2,
        })
    }

    #[test]
    fn worked_example_of_the_paper() {
        // f = ½‖x‖², η = 0.1, r = 1, L = c = 1 (paper.md §3).
        let b = worked(1000);
        assert!((b.lambda - 0.19).abs() < 1e-15);
        assert!((b.b - 0.0121).abs() < 1e-15);
        assert!((b.b_over_lambda - 0.0121 / 0.19).abs() < 1e-15);
        assert!(
            (b.reach_radius2 - 1.274).abs() < 1e-3,
            "{}",
            b.reach_radius2
        );
        assert!((b.mu - 116.7).abs() < 0.05, "{}", b.mu);
        assert!((b.stay_radius2 - 867.0).abs() < 1.0, "{}", b.stay_radius2);
        assert!(b.step.holds);
        // T1 ≥ log(0.19·4/0.0121)/0.19 = 21.8…
        assert_eq!(b.t1_min, 22);
        // 0 < ηc < λ < 1.
        assert!(0.1 < b.lambda && b.lambda < 1.0);
        // μ is at least 8 for tiny T2 (log(9/4) < 1/... ) and grows like √log T2.
        assert!(mu(1) >= 8.0 && mu(1_000_000) > mu(1000));
        // The drift bound starts at ‖y_0‖² + b/λ and decays to b/λ.
        assert!((drift_bound(&b, 4.0, 0) - (4.0 + b.b_over_lambda)).abs() < 1e-15);
        assert!((drift_bound(&b, 4.0, 10_000) - b.b_over_lambda).abs() < 1e-12);
    }

    #[test]
    fn step_size_condition_edges() {
        // c = L = 1: bounds 1/2, 1, 1/2; η = 0.5 is not strictly below.
        let s = step_condition(0.5, 1.0, 1.0);
        assert!(!s.holds);
        assert_eq!(s.binding.1, 0.5);
        assert!(step_condition(0.4999, 1.0, 1.0).holds);
        // 1/(2L) binds when L/2 < c < L …
        let s = step_condition(0.01, 30.0, 40.0);
        assert_eq!(s.binding.0, StepPart::HalfInverseL);
        // … c/L² binds when c is small against L …
        let s = step_condition(0.01, 1.0, 40.0);
        assert_eq!(s.binding.0, StepPart::COverLSquared);
        assert!(
            !s.holds && (s.ratio - 16.0).abs() < 1e-12,
            "fails by a factor 16: {s:?}"
        );
        // … and 1/(2c) when c > L.
        let s = step_condition(0.01, 200.0, 100.0);
        assert_eq!(s.binding.0, StepPart::HalfInverseC);
        // Under the condition 0 < ηc < λ < 1.
        for (eta, c, l) in [(0.05, 1.0, 3.0), (0.001, 0.5, 20.0), (0.2, 2.0, 2.0)] {
            let b = theorem1(&TheoremInputs {
                eta,
                c,
                l,
                r: 1.0,
                y0_dist2: 1.0,
                t2: 10,
            });
            if b.step.holds {
                assert!(eta * c < b.lambda && b.lambda < 1.0, "{eta} {c} {l}");
            }
        }
    }

    #[test]
    fn t1_is_zero_when_already_close() {
        let b = theorem1(&TheoremInputs {
            eta: 0.1,
            c: 1.0,
            l: 1.0,
            r: 1.0,
            y0_dist2: 0.01,
            t2: 10,
        });
        assert_eq!(b.t1_min, 0);
    }

    #[test]
    fn corollary2_and_theorem3() {
        let first = worked(1000);
        let c2 = corollary2(&first, 0.01, 1.0, 1.0, 1.0);
        // Second stage: λ' = 0.0199, b' = 1e-4·1.0201; radius² 20b'/λ' ≈ 0.1025.
        assert!((c2.lambda - 0.0199).abs() < 1e-15);
        assert!((c2.radius2 - 20.0 * 1.0201e-4 / 0.0199).abs() < 1e-12);
        assert!(c2.radius2 < first.reach_radius2);
        // T2' ≥ log(λ'·(20b/λ)/b')/λ'.
        let want = ((0.0199 * first.reach_radius2 / 1.0201e-4).ln() / 0.0199).ceil() as u64;
        assert_eq!(c2.t2_min, want);
        // Theorem 3 on ½‖x‖² (c' = 1): GD with η > 2‖x‖²/‖x‖² = 2 overshoots.
        assert_eq!(theorem3_threshold(1.0, 4.0, 4.0), 2.0);
    }
}
