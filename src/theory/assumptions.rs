//! Checks of Theorem 1's assumptions on a landscape, each with its evidence: the one-point
//! strong convexity constant c of the smoothed gradient, the Lipschitz constant L of ∇f and
//! the condition ‖∇f(z)‖ ≤ L‖z − x*‖ on the points visited, and the noise bound r.

use crate::dynamics::NoiseEntry;
use crate::engine::{self, Problem};
use crate::experiment::{ConfigSpec, ObjectiveChoice, ProblemVisitor};
use crate::init::InitialPoints;
use crate::math::trig::sin_turns;
use crate::noise::NoiseSpec;
use crate::objective::{Objective, Spiky};
use crate::oracle::Oracle;
use crate::rng::{mix_words, trajectory_rng};
use crate::theory::certified::{CMethod, certified_c, interval_half_width, sinc_turns};
use rayon::prelude::*;
use serde::Serialize;

/// Where the points x for the c check come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// Points drawn from a box or ball given in the experiment file.
    Region(InitialPoints),
    /// Points the trajectories visited.
    Visited,
}

/// Settings of the assumption checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckSettings {
    /// Where to sample x.
    pub domain: Domain,
    /// How many points x.
    pub samples: u64,
    /// Monte Carlo draws of ω per point when no closed form exists.
    pub draws: u64,
    /// Trajectories traced for visited points, L and the hidden condition.
    pub traced: u64,
    /// Seed for the sampling.
    pub seed: u64,
}

/// The one-point strong convexity check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvexityCheck {
    /// ĉ: the infimum of ⟨E∇f(y − ηω), y − x*⟩ / ‖y − x*‖² over the domain where it is
    /// certified (see [`CMethod`]), else the smallest ratio over the sampled points.
    pub c_hat: f64,
    /// How ĉ was obtained.
    pub method: CMethod,
    /// Its error: the certification gap (the infimum lies in [ĉ, ĉ + error]) or, for Monte
    /// Carlo, the standard error at the minimising point; `None` for a plain sampled
    /// minimum, which is above the infimum by an unknown amount.
    pub c_hat_error: Option<f64>,
    /// Monte Carlo standard error of the ratio at the minimising point (0 when exact).
    pub c_hat_se: f64,
    /// y at the minimising point.
    pub argmin_y: Vec<f64>,
    /// Points checked.
    pub points: u64,
    /// Points where the ratio is ≤ 0 (the smoothed gradient does not point to x*).
    pub violations: u64,
    /// violations / points.
    pub violation_fraction: f64,
    /// Whether the smoothed gradient was computed in closed form.
    pub exact: bool,
    /// Monte Carlo draws per point (0 when exact).
    pub draws: u64,
    /// Where the points came from.
    pub domain: String,
}

/// Everything the assumption checks found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssumptionReport {
    /// One-point strong convexity after convolution.
    pub convexity: ConvexityCheck,
    /// L of the built-in objective, when known.
    pub lipschitz_known: Option<f64>,
    /// False when ∇f has jumps.
    pub smooth: bool,
    /// max ‖∇f(u) − ∇f(v)‖/‖u − v‖ over consecutive visited points.
    pub lipschitz_estimated: f64,
    /// max ‖∇f(z)‖/‖z − x*‖ over visited points: the hidden condition needs it ≤ L.
    pub gradient_growth: f64,
    /// Visited points examined.
    pub visited: u64,
    /// The noise bound r (None: unbounded): the law's almost-sure bound, or for minibatch
    /// noise the largest maxᵢ‖∇fᵢ(x) − ∇f(x)‖ over the visited points examined (a bound on
    /// the points visited, not over the domain: see `noise_bound_observed`).
    pub noise_bound: Option<f64>,
    /// Whether r was observed on visited points rather than known.
    pub noise_bound_observed: bool,
    /// Points of the traced trajectories examined for L, the hidden condition and an
    /// observed r (every step of every traced trajectory).
    pub visited_all: u64,
    /// max ‖y_0 − x*‖² over sampled starts.
    pub y0_dist2_max: f64,
    /// mean ‖y_0 − x*‖² over sampled starts.
    pub y0_dist2_mean: f64,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// E_ω ∇f(y − ηω) in closed form, where one exists:
/// - no noise, or a quadratic (linear gradient, zero-mean noise): ∇f(y);
/// - `rastrigin` under `cube` noise (or `ball` in d = 1, the same interval):
///   y_i + A k sinc(k a) sin(k y_i), k = 2π/w, a = ηr;
/// - any 1-D objective under interval noise: (f(y + a) − f(y − a)) / (2a).
pub fn exact_smoothed_gradient(spec: &ConfigSpec, eta: f64, y: &[f64]) -> Option<Vec<f64>> {
    if spec.noise_entry != NoiseEntry::Step {
        return None;
    }
    let d = y.len();
    let interval = interval_half_width(spec, eta);
    let grad = |o: &dyn Fn(&[f64], &mut [f64])| {
        let mut g = vec![0.0; d];
        o(y, &mut g);
        g
    };
    match (&spec.objective, &spec.noise) {
        // A linear gradient (quadratic, least squares) under zero-mean noise, minibatch noise
        // included, is unchanged by smoothing.
        (_, NoiseSpec::None {})
        | (ObjectiveChoice::Quadratic { .. }, _)
        | (ObjectiveChoice::LeastSquares { .. }, _) => Some(spec.objective.with(GradAt(y))),
        (ObjectiveChoice::Rastrigin { dim, a, w }, _) => {
            // Through the project's own sine: no libm call decides ĉ.
            let k = std::f64::consts::TAU / w;
            let damp = sinc_turns(interval? / w);
            debug_assert_eq!(*dim, d);
            Some(grad(&|y, g| {
                for (g, &y) in g.iter_mut().zip(y) {
                    *g = y + a * k * damp * sin_turns(y / w);
                }
            }))
        }
        // A piecewise-linear curve (continuous, so absolutely continuous): the smoothed
        // gradient is a difference quotient over the noise interval.
        (ObjectiveChoice::Spiky, _) | (ObjectiveChoice::Table { .. }, _) if d == 1 => {
            let a = interval?;
            if a == 0.0 {
                return Some(spec.objective.with(GradAt(y)));
            }
            let f = match &spec.objective {
                ObjectiveChoice::Table { built, .. } => &*built.0,
                _ => Spiky::shared(),
            };
            Some(vec![
                (f.value(&[y[0] + a]) - f.value(&[y[0] - a])) / (2.0 * a),
            ])
        }
        _ => None,
    }
}

/// ∇f(y) of whatever objective.
struct GradAt<'a>(&'a [f64]);

impl crate::experiment::ObjectiveVisitor for GradAt<'_> {
    type Output = Vec<f64>;
    fn visit<O: Objective>(self, objective: &O) -> Vec<f64> {
        let mut g = vec![0.0; self.0.len()];
        objective.grad_into(self.0, &mut g);
        g
    }
}

/// The assumption checks as a visitor of the concrete problem.
struct Check<'a> {
    spec: &'a ConfigSpec,
    settings: &'a CheckSettings,
    eta: f64,
}

/// What one traced trajectory found.
#[derive(Default)]
struct Traced {
    visited: Vec<Vec<f64>>,
    l_est: f64,
    growth: f64,
    observed: Option<f64>,
    all: u64,
}

impl ProblemVisitor for Check<'_> {
    type Output = AssumptionReport;

    fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> AssumptionReport {
        let f = p.objective;
        let (d, target) = (f.dim(), f.target().to_vec());
        let (eta, s) = (self.eta, self.settings);
        let key = mix_words(&[self.spec.id(), 0x7468_656f]);
        let grad = |x: &[f64]| {
            let mut g = vec![0.0; d];
            f.grad_into(x, &mut g);
            g
        };
        let dist2 = |x: &[f64]| {
            x.iter()
                .zip(&target)
                .map(|(x, c)| (x - c) * (x - c))
                .sum::<f64>()
        };

        // Visited points: every k-th x_t of a few traced trajectories.
        let steps = p.schedule.total_steps() + 1;
        let traced = s.traced.max(1);
        let every = (steps * traced / s.samples.max(1)).max(1);
        // Each traced trajectory on its own thread; maxima and counts combine in any order,
        // the visited points in trajectory order.
        let per_trajectory: Vec<Traced> = (0..traced)
            .into_par_iter()
            .map(|i| {
                let mut out = Traced::default();
                let mut scratch = vec![0.0; d];
                let mut prev: Option<(Vec<f64>, Vec<f64>)> = None;
                engine::trace(p, s.seed, self.spec.id(), i, |t, x, _y| {
                    out.all += 1;
                    let g = grad(x);
                    if let Some(b) = p.oracle.bound_at(f, x, &g, &mut scratch) {
                        out.observed = Some(out.observed.map_or(b, |o: f64| o.max(b)));
                    }
                    let r = dist2(x).sqrt();
                    if r > 0.0 {
                        out.growth = out.growth.max(dot(&g, &g).sqrt() / r);
                    }
                    if let Some((px, pg)) = &prev {
                        let apart = |u: &[f64], v: &[f64]| {
                            u.iter()
                                .zip(v)
                                .map(|(a, b)| (a - b) * (a - b))
                                .sum::<f64>()
                                .sqrt()
                        };
                        let (dx, dg) = (apart(x, px), apart(&g, pg));
                        if dx > 0.0 {
                            out.l_est = out.l_est.max(dg / dx);
                        }
                    }
                    prev = Some((x.to_vec(), g));
                    if t % every == 0 {
                        out.visited.push(x.to_vec());
                    }
                });
                out
            })
            .collect();
        let mut visited: Vec<Vec<f64>> = Vec::new();
        let (mut l_est, mut growth) = (0.0f64, 0.0f64);
        // The noise bound observed along the traced paths, at every step.
        let mut observed: Option<f64> = None;
        let mut visited_all = 0u64;
        for t in per_trajectory {
            visited.extend(t.visited);
            l_est = l_est.max(t.l_est);
            growth = growth.max(t.growth);
            observed = match (observed, t.observed) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            visited_all += t.all;
        }

        // The points for the c check, as (x, y = x − η∇f(x)): x visited, or drawn from the
        // domain. A law's noise does not depend on x, so for a law the domain is the set of
        // y checked (x is then y itself and unused); minibatch noise depends on x, so there
        // the domain is the set of x.
        let from_x = |x: Vec<f64>| {
            let g = grad(&x);
            let y = x.iter().zip(&g).map(|(x, g)| x - eta * g).collect();
            (x, y)
        };
        let noise_at_x = p.oracle.minibatch().is_some();
        let points: Vec<(Vec<f64>, Vec<f64>)> = match &s.domain {
            Domain::Visited => visited.iter().cloned().map(from_x).collect(),
            Domain::Region(region) => (0..s.samples)
                .map(|i| {
                    let mut rng = trajectory_rng(s.seed, key, i);
                    let mut v = vec![0.0; d];
                    region.sample_into(&mut rng, &mut v);
                    if noise_at_x {
                        from_x(v)
                    } else {
                        (v.clone(), v)
                    }
                })
                .collect(),
        };
        let exact = exact_smoothed_gradient(self.spec, eta, &target).is_some();
        let (mut c_hat, mut c_se, mut argmin) = (f64::INFINITY, 0.0, vec![]);
        let (mut checked, mut violations) = (0u64, 0u64);
        let mut omega = vec![0.0; d];
        let mut z = vec![0.0; d];
        let mut state = p.oracle.state(f);
        for (i, (x, y)) in points.iter().enumerate() {
            let dy: Vec<f64> = y.iter().zip(&target).map(|(y, c)| y - c).collect();
            let n2 = dot(&dy, &dy);
            if n2 < 1e-24 {
                continue;
            }
            let (ratio, se) = if exact {
                let sg = exact_smoothed_gradient(self.spec, eta, y).expect("closed form");
                (dot(&sg, &dy) / n2, 0.0)
            } else {
                // Mean and standard error of ⟨∇f(y − ηω), y − x*⟩/‖y − x*‖² over m draws.
                let mut rng = trajectory_rng(s.seed, key ^ 1, i as u64);
                let (mut sum, mut sum2) = (0.0, 0.0);
                let m = s.draws.max(2);
                let gx = if noise_at_x { grad(x) } else { Vec::new() };
                for _ in 0..m {
                    p.oracle
                        .noise_into(f, &mut state, &mut rng, x, &gx, &mut omega);
                    for ((z, y), w) in z.iter_mut().zip(y.iter()).zip(&omega) {
                        *z = y - eta * w;
                    }
                    let v = dot(&grad(&z), &dy) / n2;
                    sum += v;
                    sum2 += v * v;
                }
                let mean = sum / m as f64;
                let var = ((sum2 - m as f64 * mean * mean) / (m - 1) as f64).max(0.0);
                (mean, (var / m as f64).sqrt())
            };
            checked += 1;
            if ratio <= 0.0 {
                violations += 1;
            }
            if ratio < c_hat {
                (c_hat, c_se, argmin) = (ratio, se, y.clone());
            }
        }

        // Starts: max and mean ‖y_0 − x*‖².
        let starts = 1000u64;
        let (mut y0_max, mut y0_sum) = (0.0f64, 0.0);
        for i in 0..starts {
            let mut rng = trajectory_rng(s.seed, key ^ 2, i);
            let mut x = vec![0.0; d];
            p.init.sample_into(&mut rng, &mut x);
            let g = grad(&x);
            let y: Vec<f64> = x.iter().zip(&g).map(|(x, g)| x - eta * g).collect();
            let v = dist2(&y);
            y0_max = y0_max.max(v);
            y0_sum += v;
        }

        let certified = match &s.domain {
            Domain::Region(region) => certified_c(self.spec, eta, region),
            Domain::Visited => None,
        }
        .or_else(|| crate::theory::certified::global_c(self.spec));
        let (method, c_hat_error) = match &certified {
            Some(c) => (c.method, Some(c.gap)),
            None if exact => (CMethod::Sampled, None),
            None => (CMethod::MonteCarlo, Some(c_se)),
        };
        if let Some(c) = certified {
            (c_hat, c_se, argmin) = (c.c, 0.0, c.argmin);
        }
        AssumptionReport {
            convexity: ConvexityCheck {
                c_hat,
                method,
                c_hat_error,
                c_hat_se: c_se,
                argmin_y: argmin,
                points: checked,
                violations,
                violation_fraction: violations as f64 / checked.max(1) as f64,
                exact,
                draws: if exact { 0 } else { s.draws },
                domain: match &s.domain {
                    Domain::Visited => "visited".into(),
                    Domain::Region(InitialPoints::Ball { .. }) => "ball".into(),
                    Domain::Region(_) => "box".into(),
                },
            },
            lipschitz_known: f.lipschitz(),
            smooth: f.is_smooth(),
            lipschitz_estimated: l_est,
            gradient_growth: growth,
            visited: visited.len() as u64,
            noise_bound: p.oracle.bound(d).or(observed),
            noise_bound_observed: p.oracle.bound(d).is_none() && observed.is_some(),
            visited_all,
            y0_dist2_max: y0_max,
            y0_dist2_mean: y0_sum / starts as f64,
        }
    }
}

/// Runs every assumption check for `spec` at step size `eta`.
pub fn check_assumptions(
    spec: &ConfigSpec,
    eta: f64,
    settings: &CheckSettings,
) -> AssumptionReport {
    spec.with_problem(Check {
        spec,
        settings,
        eta,
    })
}

/// The Monte Carlo estimate of the ratio at one y, and its standard error, for tests and
/// for comparing with the closed forms.
pub fn mc_ratio_at(spec: &ConfigSpec, eta: f64, y: &[f64], draws: u64, seed: u64) -> (f64, f64) {
    struct One<'a> {
        y: &'a [f64],
        eta: f64,
        draws: u64,
        seed: u64,
    }
    impl ProblemVisitor for One<'_> {
        type Output = (f64, f64);
        fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> (f64, f64) {
            let d = self.y.len();
            let target = p.objective.target();
            let dy: Vec<f64> = self.y.iter().zip(target).map(|(y, c)| y - c).collect();
            let n2 = dot(&dy, &dy);
            let mut rng = trajectory_rng(self.seed, 0x6d63, 0);
            let (mut omega, mut z, mut g) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
            let (mut sum, mut sum2) = (0.0, 0.0);
            // A law's noise does not depend on the point; minibatch noise is drawn at y.
            let mut state = p.oracle.state(p.objective);
            p.objective.grad_into(self.y, &mut g);
            let gy = g.clone();
            for _ in 0..self.draws {
                p.oracle
                    .noise_into(p.objective, &mut state, &mut rng, self.y, &gy, &mut omega);
                for ((z, y), w) in z.iter_mut().zip(self.y).zip(&omega) {
                    *z = y - self.eta * w;
                }
                p.objective.grad_into(&z, &mut g);
                let v = dot(&g, &dy) / n2;
                sum += v;
                sum2 += v * v;
            }
            let m = self.draws as f64;
            let mean = sum / m;
            (
                mean,
                ((sum2 - m * mean * mean) / (m - 1.0)).max(0.0).sqrt() / m.sqrt(),
            )
        }
    }
    spec.with_problem(One {
        y,
        eta,
        draws,
        seed,
    })
}

/// The closed-form ratio at one y (None without a closed form).
pub fn exact_ratio_at(spec: &ConfigSpec, eta: f64, y: &[f64]) -> Option<f64> {
    let target = spec.objective.target();
    let sg = exact_smoothed_gradient(spec, eta, y)?;
    let dy: Vec<f64> = y.iter().zip(&target).map(|(y, c)| y - c).collect();
    Some(dot(&sg, &dy) / dot(&dy, &dy))
}
