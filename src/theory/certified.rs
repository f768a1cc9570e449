//! A certified ĉ: the infimum over a domain of the one-point convexity ratio
//! ⟨∇g(y), y − x*⟩ / ‖y − x*‖² of the smoothed function g, where ∇g has a closed form.
//!
//! A minimum over sampled points is above the infimum (optimistic: c enters η < c/L² and λ).
//! Here the infimum is computed so that the reported ĉ is never above it:
//! - quadratic ½Σk_i y_i²: the ratio is a weighted mean of the k_i, so the infimum is min k_i;
//! - rastrigin (separable, x* = 0): the ratio is a weighted mean of h(y_i) = g′(y_i)/y_i
//!   with weights y_i², so the infimum over a box is min_i inf h on [lo_i, hi_i] when the
//!   box contains x* in every coordinate (put one coordinate at the minimiser, the others at
//!   0), and a lower bound otherwise. h is minimised by branch and bound with a bound on |h′|;
//! - spiky (1-D, piecewise linear f): g′ is piecewise linear with breakpoints at the knots
//!   ± a, so g′(y)/y is monotone on each piece and the infimum sits at a breakpoint, an end
//!   of the domain, or is −∞ next to x* = 0 when g′(0) ≠ 0.

use crate::dynamics::NoiseEntry;
use crate::experiment::{ConfigSpec, ObjectiveChoice};
use crate::init::InitialPoints;
use crate::math::trig::sin_turns;
use crate::noise::NoiseSpec;
use crate::objective::{Objective, Spiky, Table};
use serde::Serialize;

/// How ĉ was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CMethod {
    /// The infimum over the domain, certified to within `c_hat_error` below.
    Certified,
    /// A certified lower bound of the infimum (the separable reduction where the domain
    /// does not contain x* in every coordinate, or a ball replaced by its bounding box).
    CertifiedLowerBound,
    /// A minimum over sampled points with the closed-form smoothed gradient: above the
    /// infimum by an unknown amount.
    Sampled,
    /// A minimum over sampled points of Monte Carlo estimates: `c_hat_error` is the standard
    /// error at the minimising point, and the minimum is above the infimum too.
    MonteCarlo,
}

impl std::fmt::Display for CMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CMethod::Certified => "certified",
            CMethod::CertifiedLowerBound => "certified-lower-bound",
            CMethod::Sampled => "sampled",
            CMethod::MonteCarlo => "monte-carlo",
        })
    }
}

/// A certified ĉ.
#[derive(Debug, Clone, PartialEq)]
pub struct CertifiedC {
    /// The certified value: at most the infimum.
    pub c: f64,
    /// How far above `c` the infimum may be (the certification gap).
    pub gap: f64,
    /// Where the (near-)minimising ratio was found.
    pub argmin: Vec<f64>,
    /// Whether `c` is the infimum (up to `gap`) or only a lower bound.
    pub method: CMethod,
}

/// sin(2πv)/(2πv) through the project's own sine (no libm decides ĉ).
pub fn sinc_turns(v: f64) -> f64 {
    let u = std::f64::consts::TAU * v;
    if u.abs() < 1e-6 {
        1.0 - u * u / 6.0
    } else {
        sin_turns(v) / u
    }
}

/// Half-width a of the uniform interval noise ηω in d = 1 (or per coordinate for `cube`);
/// `Some(0)` without noise; `None` when the smoothed gradient has no closed form here.
pub fn interval_half_width(spec: &ConfigSpec, eta: f64) -> Option<f64> {
    if spec.noise_entry != NoiseEntry::Step {
        return None;
    }
    match spec.noise {
        NoiseSpec::None {} => Some(0.0),
        NoiseSpec::Cube { r } => Some(eta * r),
        NoiseSpec::Ball { r } if spec.dim() == 1 => Some(eta * r),
        _ => None,
    }
}

/// The domain as per-coordinate intervals, and whether they describe it exactly (a ball in
/// d > 1 is replaced by its bounding box).
fn intervals(domain: &InitialPoints, d: usize) -> Option<(Vec<(f64, f64)>, bool)> {
    match domain {
        InitialPoints::Box { lo, hi } => {
            Some((lo.iter().copied().zip(hi.iter().copied()).collect(), true))
        }
        InitialPoints::Ball { centre, radius } => Some((
            centre.iter().map(|c| (c - radius, c + radius)).collect(),
            d == 1,
        )),
        InitialPoints::Point { .. } => None,
    }
}

/// The certified ĉ of `spec` at step size `eta` over `domain` (the set of y checked), where
/// the smoothed gradient has a closed form; `None` elsewhere.
pub fn certified_c(spec: &ConfigSpec, eta: f64, domain: &InitialPoints) -> Option<CertifiedC> {
    let d = spec.dim();
    let (boxes, exact_domain) = intervals(domain, d)?;
    // Every coordinate ranges over an interval containing x* (= 0 for these objectives).
    let contains_target = boxes.iter().all(|&(lo, hi)| lo <= 0.0 && 0.0 <= hi);
    let exact = exact_domain && (d == 1 || contains_target);
    let method = if exact {
        CMethod::Certified
    } else {
        CMethod::CertifiedLowerBound
    };
    let nonzero = |&(lo, hi): &(f64, f64)| lo < hi || lo != 0.0;
    match &spec.objective {
        ObjectiveChoice::Quadratic { k } => {
            // Linear gradient: smoothing changes nothing; ratio = Σ k_i y_i² / Σ y_i².
            let (i, &c) = k
                .iter()
                .enumerate()
                .filter(|(i, _)| nonzero(&boxes[*i]))
                .min_by(|a, b| a.1.total_cmp(b.1))?;
            let mut argmin = vec![0.0; d];
            argmin[i] = if boxes[i].1 != 0.0 {
                boxes[i].1
            } else {
                boxes[i].0
            };
            Some(CertifiedC {
                c,
                gap: 0.0,
                argmin,
                method,
            })
        }
        ObjectiveChoice::Rastrigin { a, w, .. } => {
            let half = interval_half_width(spec, eta)?;
            // h(t) = g′(t)/t = 1 + A k² sinc(k a) sinc(k t), k = 2π/w.
            let k = std::f64::consts::TAU / w;
            let amp = a * k * k * sinc_turns(half / w);
            let h = |t: f64| 1.0 + amp * sinc_turns(t / w);
            // |d/du sinc(u)| ≤ 0.4362 (at u ≈ 2.08), so |h′| ≤ |amp| k · 0.44.
            let lip = amp.abs() * k * 0.44;
            let mut best: Option<(f64, f64, f64, usize)> = None;
            for (i, b) in boxes.iter().enumerate() {
                if !nonzero(b) {
                    continue;
                }
                let (lower, value, arg) = certified_min(&h, lip, b.0, b.1, 1e-9);
                if best.is_none_or(|(l, ..)| lower < l) {
                    best = Some((lower, value, arg, i));
                }
            }
            let (lower, value, arg, i) = best?;
            let mut argmin = vec![0.0; d];
            argmin[i] = arg;
            Some(CertifiedC {
                c: lower,
                gap: value - lower,
                argmin,
                method,
            })
        }
        // Any curve with x* = 0 (the ratio is g′(y)/y), spiky included.
        ObjectiveChoice::Spiky | ObjectiveChoice::Table { .. }
            if spec.dim() == 1 && spec.objective.target() == [0.0] =>
        {
            let half = interval_half_width(spec, eta)?;
            let (lo, hi) = boxes[0];
            let f = match &spec.objective {
                ObjectiveChoice::Table { built, .. } => &*built.0,
                _ => Spiky::shared(),
            };
            let (c, arg) = spiky_infimum(f, half, lo, hi);
            Some(CertifiedC {
                c,
                gap: 0.0,
                argmin: vec![arg],
                method: CMethod::Certified,
            })
        }
        ObjectiveChoice::Wells { .. }
        | ObjectiveChoice::Formula { .. }
        | ObjectiveChoice::Spiky
        | ObjectiveChoice::Table { .. }
        | ObjectiveChoice::LeastSquares { .. }
        | ObjectiveChoice::Logistic { .. }
        | ObjectiveChoice::TeacherStudent { .. }
        | ObjectiveChoice::Mlp { .. }
        | ObjectiveChoice::Custom(_) => None,
    }
}

/// A ĉ certified on all of R^d, whatever the domain, for a linear gradient H(y − x*)
/// (quadratic: H = diag(k); least squares: H = AᵀA/n): zero-mean noise (minibatch noise
/// included) leaves it unchanged, so the ratio ⟨H dy, dy⟩/‖dy‖² is at least λ_min(H). It is
/// a lower bound on the infimum over a smaller domain. The noise must enter the step.
pub fn global_c(spec: &ConfigSpec) -> Option<CertifiedC> {
    if spec.noise_entry != NoiseEntry::Step {
        return None;
    }
    match &spec.objective {
        ObjectiveChoice::Quadratic { k } => Some(CertifiedC {
            c: k.iter().copied().fold(f64::INFINITY, f64::min),
            gap: 0.0,
            argmin: spec.objective.target(),
            method: CMethod::CertifiedLowerBound,
        }),
        ObjectiveChoice::LeastSquares { built, .. } => Some(CertifiedC {
            c: built.0.c(),
            gap: 0.0,
            argmin: spec.objective.target(),
            method: CMethod::CertifiedLowerBound,
        }),
        _ => None,
    }
}

/// Branch and bound for min f on [a, b] with |f′| ≤ `lip`: returns (certified lower bound,
/// the smallest value found, where), with value − lower ≤ `tol` unless the evaluation budget
/// ran out (the bound stays certified, only looser).
pub fn certified_min(
    f: &impl Fn(f64) -> f64,
    lip: f64,
    a: f64,
    b: f64,
    tol: f64,
) -> (f64, f64, f64) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // On [l, r] with ends fl, fr: f ≥ (fl + fr)/2 − lip (r − l)/2.
    let bound = |l: f64, r: f64, fl: f64, fr: f64| 0.5 * (fl + fr) - 0.5 * lip * (r - l);
    #[derive(PartialEq)]
    struct Cell(f64, f64, f64, f64, f64); // bound, l, r, fl, fr
    impl Eq for Cell {}
    impl PartialOrd for Cell {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Cell {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0)
        }
    }
    let (fa, fb) = (f(a), f(b));
    let (mut best, mut arg) = if fa <= fb { (fa, a) } else { (fb, b) };
    if a >= b {
        return (best, best, arg);
    }
    let mut heap = BinaryHeap::new();
    heap.push(Reverse(Cell(bound(a, b, fa, fb), a, b, fa, fb)));
    let mut evaluations = 0u64;
    while let Some(Reverse(Cell(lb, l, r, fl, fr))) = heap.pop() {
        if best - lb <= tol
            || evaluations > 2_000_000
            || r - l <= f64::EPSILON * (l.abs() + r.abs())
        {
            // The smallest bound left certifies everything (the heap is ordered by bound).
            let lower = lb.min(best);
            return (lower - 1e-12 * (1.0 + lower.abs()), best, arg);
        }
        let m = 0.5 * (l + r);
        let fm = f(m);
        evaluations += 1;
        if fm < best {
            (best, arg) = (fm, m);
        }
        heap.push(Reverse(Cell(bound(l, m, fl, fm), l, m, fl, fm)));
        heap.push(Reverse(Cell(bound(m, r, fm, fr), m, r, fm, fr)));
    }
    (best, best, arg)
}

/// inf over y ∈ [lo, hi], y ≠ 0, of g′(y)/y for a curve f (spiky, or any 1-D table with
/// x* = 0) smoothed over U[−a, a] (a = 0: f itself), with its location.
pub fn spiky_infimum(f: &Table, a: f64, lo: f64, hi: f64) -> (f64, f64) {
    let gp = |y: f64| {
        if a == 0.0 {
            let mut g = [0.0];
            f.grad_into(&[y], &mut g);
            g[0]
        } else {
            (f.value(&[y + a]) - f.value(&[y - a])) / (2.0 * a)
        }
    };
    // Pieces of g′: between consecutive points of {knots ± a, ±3 ± a, lo, hi, 0}.
    let mut cuts: Vec<f64> = f
        .knots()
        .iter()
        .flat_map(|&k| [k - a, k + a])
        .chain([lo, hi, 0.0])
        .filter(|&y| y >= lo && y <= hi)
        .collect();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let (mut best, mut arg) = (f64::INFINITY, f64::NAN);
    let mut consider = |v: f64, y: f64| {
        if v < best {
            (best, arg) = (v, y);
        }
    };
    for w in cuts.windows(2) {
        let (p, q) = (w[0], w[1]);
        // Pieces narrower than this are slivers between two nearly equal breakpoints: their
        // ends are those of the neighbouring pieces, and a fit on them would be all rounding.
        if q - p <= 1e-9 * (1.0 + p.abs()) {
            continue;
        }
        // Inside a piece g′ is a polynomial of degree ≤ 2 (linear where f(y ± a) are both
        // in the table, quadratic where one end is on the continuation x² − 9): recover it
        // from three interior points (exact for such a polynomial, and giving the one-sided
        // values at the ends where a = 0 makes g′ jump). Then g′(y)/y = α/y + β + γy, whose
        // minimum on the piece is at an end or at y² = α/γ.
        let ts = [
            p + (q - p) / 4.0,
            p + (q - p) / 2.0,
            p + 3.0 * (q - p) / 4.0,
        ];
        let gs = ts.map(gp);
        let in_table = p - a >= f.knots()[0] && q + a <= f.knots()[f.knots().len() - 1];
        let (alpha, beta, gamma) = if in_table {
            // Linear: fitted from the outer two points, γ exactly 0.
            let beta = (gs[2] - gs[0]) / (ts[2] - ts[0]);
            (gs[0] - beta * ts[0], beta, 0.0)
        } else {
            quadratic_through(ts, gs)
        };
        let at = |y: f64| alpha + beta * y + gamma * y * y;
        let mut points = vec![p, q];
        if gamma != 0.0 && alpha / gamma > 0.0 {
            let r = (alpha / gamma).sqrt();
            points.extend([r, -r].into_iter().filter(|&y| y > p && y < q));
        }
        for y in points {
            if y != 0.0 {
                consider(at(y) / y, y);
            } else {
                // Next to x* = 0 inside this piece: g′(y)/y → −∞ where g′(0) and y differ in
                // sign; with g′(0) = 0 the ratio tends to β.
                let other = if p == 0.0 { q } else { p };
                let scale = gs.iter().fold(1e-300f64, |m, g| m.max(g.abs()));
                if alpha.abs() <= 1e-12 * scale {
                    consider(beta, 0.0);
                } else if alpha * other < 0.0 {
                    consider(f64::NEG_INFINITY, 0.0);
                }
            }
        }
    }
    (best, arg)
}

/// (α, β, γ) with α + βt + γt² through the three points (t_i, g_i).
fn quadratic_through(t: [f64; 3], g: [f64; 3]) -> (f64, f64, f64) {
    // Newton's divided differences.
    let d01 = (g[1] - g[0]) / (t[1] - t[0]);
    let d12 = (g[2] - g[1]) / (t[2] - t[1]);
    let gamma = (d12 - d01) / (t[2] - t[0]);
    let beta = d01 - gamma * (t[0] + t[1]);
    let alpha = g[0] - beta * t[0] - gamma * t[0] * t[0];
    (alpha, beta, gamma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_and_bound_brackets_the_minimum() {
        // min of cos(3t) + t/10 on [−2, 2]: near t = −π/3·… checked on a fine grid.
        let f = |t: f64| (3.0 * t).cos() + t / 10.0;
        let (lower, value, arg) = certified_min(&f, 3.1, -2.0, 2.0, 1e-9);
        let grid = (0..=2_000_000)
            .map(|i| f(-2.0 + 4.0 * i as f64 / 2e6))
            .fold(f64::INFINITY, f64::min);
        assert!(
            lower <= value && value <= grid + 1e-12,
            "{lower} {grid} {value}"
        );
        assert!(value - lower < 1e-8);
        assert!((f(arg) - value).abs() < 1e-15);
    }
}
