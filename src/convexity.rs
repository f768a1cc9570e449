//! The paper's Section 5 measurements along SGD trajectories: is the loss one-point convex
//! towards where SGD ends up?
//!
//! Each measured trajectory is run once to its final point x_T, then replayed step by step
//! (the same stream and arithmetic, see [`crate::engine::trace`]); every k steps, at x_t:
//! - 5.1: ⟨−∇f(x_t), x_T − x_t⟩ and the same divided by ‖x_T − x_t‖², an empirical one-point
//!   convexity constant along the path (x_T: the trajectory's own final point, or x*);
//! - 5.2: at m points w uniform in the ball of radius ρ around x_t, ⟨−∇f(w), x_T − x_t⟩:
//!   mean, min, max and a Hoeffding lower confidence bound on the mean. Hoeffding needs a
//!   known range: each value lies in [−G‖x_T − x_t‖, G‖x_T − x_t‖] where G bounds ‖∇f‖ on
//!   the ball ([`crate::objective::Objective::gradient_bound`]: from L for least squares and
//!   logistic regression, from the weights' norms for networks); without G there is no
//!   bound (a mean of unbounded variables has no finite-sample confidence bound);
//! - the norms of ∇f(x_t) and of one stochastic gradient at x_t (Fig. 5c);
//! - 5.3: ⟨−∇f(x_t), x_T^j − x_t⟩ towards every *other* measured trajectory's final point.
//!
//! Random draws (the ball's points, the stochastic gradient) come from streams of their own,
//! so the measurements never change a trajectory.

use crate::engine::{self, Problem};
use crate::experiment::{ConfigSpec, ConvexitySettings, ProblemVisitor, Reference};
use crate::noise::{Ball, NoiseLaw};
use crate::objective::Objective;
use crate::oracle::Oracle;
use crate::rng::{mix_words, trajectory_rng};
use rayon::prelude::*;
use serde::Serialize;

/// The 5.2 statistics at one point of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbourhood {
    /// Mean of ⟨−∇f(w), x_T − x_t⟩ over the m points.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Hoeffding lower confidence bound on the mean (`None` without a range).
    pub lower: Option<f64>,
    /// The range half-width G‖x_T − x_t‖ the bound uses.
    pub range: Option<f64>,
}

/// Everything measured at one point x_t of one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathPoint {
    /// The trajectory.
    pub trajectory: u64,
    /// The step t.
    pub t: u64,
    /// t in epochs (t·B/n for minibatch SGD, else t).
    pub epoch: f64,
    /// ‖x_T − x_t‖ (x_T the reference point).
    pub distance: f64,
    /// ⟨−∇f(x_t), x_T − x_t⟩ (5.1).
    pub inner: f64,
    /// inner / ‖x_T − x_t‖² (NaN at x_T itself).
    pub ratio: f64,
    /// ‖∇f(x_t)‖.
    pub grad_norm: f64,
    /// ‖g(x_t)‖ of one stochastic gradient drawn at x_t.
    pub stochastic_grad_norm: f64,
    /// 5.2, when asked for.
    pub neighbourhood: Option<Neighbourhood>,
    /// 5.3: the smallest ⟨−∇f(x_t), x_T^j − x_t⟩ over the other trajectories j.
    pub others_min: Option<f64>,
    /// 5.3: how many of those are not positive.
    pub others_nonpositive: u64,
}

/// One measurement time summarised over the trajectories (the curves of Fig. 5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Epoch {
    /// The step t.
    pub t: u64,
    /// t in epochs.
    pub epoch: f64,
    /// 5.1: the smallest inner product over trajectories (Fig. 5a).
    pub inner_min: f64,
    /// 5.1: the smallest ratio.
    pub ratio_min: f64,
    /// 5.1: the share of trajectories with a negative inner product.
    pub negative_share: f64,
    /// 5.2: the mean over trajectories of the neighbourhood means (Fig. 5b).
    pub neighbourhood_mean: Option<f64>,
    /// 5.2: the smallest neighbourhood minimum.
    pub neighbourhood_min: Option<f64>,
    /// 5.2: the largest neighbourhood maximum.
    pub neighbourhood_max: Option<f64>,
    /// 5.2: the smallest lower confidence bound.
    pub neighbourhood_lower_min: Option<f64>,
    /// Mean of ‖g(x_t)‖ over trajectories (Fig. 5c).
    pub stochastic_grad_norm_mean: f64,
    /// Its standard deviation over trajectories.
    pub stochastic_grad_norm_sd: f64,
}

/// 5.4: one restart of one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restart {
    /// The trajectory.
    pub trajectory: u64,
    /// The epoch restarted from.
    pub epoch: f64,
    /// The step restarted from.
    pub t: u64,
    /// The training loss at the restart's end (the data term; f(x) for non-networks).
    pub train_loss: f64,
    /// The training error rate (networks).
    pub train_error: Option<f64>,
    /// The validation loss (networks with a validation set).
    pub validation_loss: Option<f64>,
    /// The validation error rate.
    pub validation_error: Option<f64>,
    /// ‖x_end − x_0‖, x_0 the trajectory's initial point.
    pub distance_from_start: f64,
}

/// The measurements of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvexityReport {
    /// The configuration.
    pub label: String,
    /// k, steps between measurements.
    pub every: u64,
    /// Steps per epoch (n/B), for minibatch SGD.
    pub steps_per_epoch: Option<f64>,
    /// Confidence level of the 5.2 bounds.
    pub level: f64,
    /// Every measured point, by trajectory then t.
    pub points: Vec<PathPoint>,
    /// Per measurement time.
    pub epochs: Vec<Epoch>,
    /// 5.1: the share of all measured inner products that are negative.
    pub negative_share: f64,
    /// 5.3: the share of inner products towards other trajectories' final points that are
    /// not positive.
    pub others_nonpositive_share: Option<f64>,
    /// 5.3: the smallest distance between two final points.
    pub final_min_distance: Option<f64>,
    /// 5.4: the restarts, by epoch then trajectory.
    pub restarts: Vec<Restart>,
    /// Restart epochs past T, not run.
    pub restarts_skipped: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Hoeffding's lower confidence bound on the mean of m variables in [−h, h] at level
/// 1 − α: mean − 2h √(ln(1/α)/(2m)).
pub fn hoeffding_lower(mean: f64, half_range: f64, m: u64, alpha: f64) -> f64 {
    mean - 2.0 * half_range * ((1.0 / alpha).ln() / (2.0 * m as f64)).sqrt()
}

/// The steps between measurements: the setting, or one epoch (n/B rounded) for minibatch
/// SGD, or T/20.
pub fn every(spec: &ConfigSpec, settings: &ConvexitySettings) -> u64 {
    settings
        .every
        .or_else(|| spec.steps_per_epoch().map(|e| e.round() as u64))
        .unwrap_or(spec.steps() / 20)
        .max(1)
}

struct Measure<'a> {
    spec: &'a ConfigSpec,
    settings: &'a ConvexitySettings,
    seed: u64,
    finals: &'a [Vec<f64>],
    every: u64,
    alpha: f64,
}

impl ProblemVisitor for Measure<'_> {
    type Output = Vec<PathPoint>;

    fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> Vec<PathPoint> {
        let f = p.objective;
        let d = f.dim();
        let id = self.spec.id();
        let last = self.spec.steps();
        let per_epoch = self.spec.steps_per_epoch().unwrap_or(1.0);
        let key = mix_words(&[id, 0x636f_6e76]);
        (0..self.finals.len() as u64)
            .into_par_iter()
            .map(|i| {
                let reference = match self.settings.reference {
                    Reference::Final => self.finals[i as usize].clone(),
                    Reference::Target => f.target().to_vec(),
                };
                let mut rng = trajectory_rng(self.seed, key, i);
                let mut state = p.oracle.state(f);
                let (mut g, mut gw, mut omega, mut w, mut v) = (
                    vec![0.0; d],
                    vec![0.0; d],
                    vec![0.0; d],
                    vec![0.0; d],
                    vec![0.0; d],
                );
                let mut out = Vec::new();
                engine::trace(p, self.seed, id, i, |t, x, _| {
                    if !(t % self.every == 0 || t == last) {
                        return;
                    }
                    f.grad_into(x, &mut g);
                    for ((v, r), x) in v.iter_mut().zip(&reference).zip(x) {
                        *v = r - x;
                    }
                    let dist = norm(&v);
                    let inner = 0.0 - dot(&g, &v); // +0 at x_T itself
                    p.oracle
                        .noise_into(f, &mut state, &mut rng, x, &g, &mut omega);
                    let stochastic: f64 = g
                        .iter()
                        .zip(&omega)
                        .map(|(g, o)| (g + o) * (g + o))
                        .sum::<f64>()
                        .sqrt();
                    let neighbourhood = (self.settings.points > 0).then(|| {
                        let m = self.settings.points;
                        let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
                        for _ in 0..m {
                            Ball {
                                r: self.settings.radius,
                            }
                            .sample_into(x, &mut rng, &mut w);
                            for (w, x) in w.iter_mut().zip(x) {
                                *w += x;
                            }
                            f.grad_into(&w, &mut gw);
                            let value = -dot(&gw, &v);
                            sum += value;
                            min = min.min(value);
                            max = max.max(value);
                        }
                        let mean = sum / m as f64;
                        let range = f
                            .gradient_bound(x, self.settings.radius)
                            .map(|gb| gb * dist);
                        Neighbourhood {
                            mean,
                            min,
                            max,
                            lower: range.map(|h| hoeffding_lower(mean, h, m, self.alpha)),
                            range,
                        }
                    });
                    // 5.3: towards every other trajectory's final point.
                    let mut others_min: Option<f64> = None;
                    let mut nonpositive = 0;
                    for (j, other) in self.finals.iter().enumerate() {
                        if j as u64 == i {
                            continue;
                        }
                        let value: f64 = -g
                            .iter()
                            .zip(other)
                            .zip(x)
                            .map(|((g, o), x)| g * (o - x))
                            .sum::<f64>();
                        others_min = Some(others_min.map_or(value, |m| m.min(value)));
                        nonpositive += u64::from(value <= 0.0);
                    }
                    out.push(PathPoint {
                        trajectory: i,
                        t,
                        epoch: t as f64 / per_epoch,
                        distance: dist,
                        inner,
                        ratio: if dist > 0.0 {
                            inner / (dist * dist)
                        } else {
                            f64::NAN
                        },
                        grad_norm: norm(&g),
                        stochastic_grad_norm: stochastic,
                        neighbourhood,
                        others_min,
                        others_nonpositive: nonpositive,
                    });
                });
                out
            })
            .flatten()
            .collect()
    }
}

/// Runs the measurements on one configuration: its first `settings.trajectories`
/// trajectories (at most n), at level `level` for the 5.2 bounds.
pub fn measure(
    spec: &ConfigSpec,
    settings: &ConvexitySettings,
    seed: u64,
    level: f64,
) -> ConvexityReport {
    let count = settings.trajectories.min(spec.trajectories);
    let outcomes = spec.run(seed, 0..count);
    let finals: Vec<Vec<f64>> = outcomes.iter().map(|o| o.final_x.clone()).collect();
    let every = every(spec, settings);
    let points = spec.with_problem(Measure {
        spec,
        settings,
        seed,
        finals: &finals,
        every,
        alpha: 1.0 - level,
    });
    let mut report = summarise(spec, every, level, points, &finals);
    if let Some(r) = &settings.restarts {
        (report.restarts, report.restarts_skipped) = restarts(spec, r, seed, count);
    }
    report
}

/// x_t of trajectories 0 … count − 1 at the given (increasing) steps, and x_0.
struct PointsAt<'a> {
    seed: u64,
    id: u64,
    count: u64,
    times: &'a [u64],
}

impl ProblemVisitor for PointsAt<'_> {
    type Output = Vec<(Vec<f64>, Vec<Vec<f64>>)>;
    fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> Self::Output {
        (0..self.count)
            .into_par_iter()
            .map(|i| {
                let (mut start, mut at) = (Vec::new(), Vec::new());
                engine::trace(p, self.seed, self.id, i, |t, x, _| {
                    if t == 0 {
                        start = x.to_vec();
                    }
                    if self.times.contains(&t) {
                        at.push(x.to_vec());
                    }
                });
                (start, at)
            })
            .collect()
    }
}

/// f(x) through the concrete objective.
struct ValueAt<'a>(&'a [f64]);

impl crate::experiment::ObjectiveVisitor for ValueAt<'_> {
    type Output = f64;
    fn visit<O: Objective>(self, objective: &O) -> f64 {
        objective.value(self.0)
    }
}

/// 5.4: each of the first `count` trajectories restarted from its point at every restart
/// epoch, with step η for the given steps (one trajectory each, on a stream of its own: the
/// restart is a configuration of its own, with that point as its start).
fn restarts(
    spec: &ConfigSpec,
    r: &crate::experiment::Restarts,
    seed: u64,
    count: u64,
) -> (Vec<Restart>, Vec<f64>) {
    let per_epoch = spec.steps_per_epoch().unwrap_or(1.0);
    let (mut kept, mut skipped) = (Vec::new(), Vec::new());
    for &e in &r.epochs {
        let t = (e * per_epoch).round() as u64;
        if t <= spec.steps() {
            kept.push((e, t));
        } else {
            skipped.push(e);
        }
    }
    // Sorted and distinct, so each kept step is found below (the file's epochs are
    // increasing already; a hand-built spec need not be).
    let mut times: Vec<u64> = kept.iter().map(|k| k.1).collect();
    times.sort_unstable();
    times.dedup();
    let paths = spec.with_problem(PointsAt {
        seed,
        id: spec.id(),
        count,
        times: &times,
    });
    let jobs: Vec<(u64, usize)> = (0..count)
        .flat_map(|i| (0..kept.len()).map(move |k| (i, k)))
        .collect();
    let mut out: Vec<Restart> = jobs
        .par_iter()
        .map(|&(i, k)| {
            let (start, at) = &paths[i as usize];
            // Two epochs may round to one step: `at` holds each step once.
            let pos = times.binary_search(&kept[k].1).expect("kept time");
            let mut s = spec.clone();
            s.init = crate::init::InitialPoints::Point {
                point: at[pos].clone(),
            };
            s.schedule = crate::dynamics::Schedule::constant(r.eta, r.steps);
            s.events.stay = None;
            s.events.snapshots.clear();
            let o = s.run(seed, i..i + 1).remove(0);
            let x = &o.final_x;
            let (train_loss, train_error, validation_loss, validation_error) = match &spec.objective
            {
                crate::experiment::ObjectiveChoice::Mlp { built, .. } => {
                    let net = &built.0;
                    let (l, e) = net.loss_and_error(x, net.data());
                    let v = net.validation().map(|v| net.loss_and_error(x, v));
                    (l, Some(e), v.map(|v| v.0), v.map(|v| v.1))
                }
                other => (other.with(ValueAt(x)), None, None, None),
            };
            Restart {
                trajectory: i,
                epoch: kept[k].0,
                t: kept[k].1,
                train_loss,
                train_error,
                validation_loss,
                validation_error,
                distance_from_start: norm(
                    &x.iter().zip(start).map(|(a, b)| a - b).collect::<Vec<_>>(),
                ),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.epoch
            .total_cmp(&b.epoch)
            .then(a.trajectory.cmp(&b.trajectory))
    });
    (out, skipped)
}

fn summarise(
    spec: &ConfigSpec,
    every: u64,
    level: f64,
    points: Vec<PathPoint>,
    finals: &[Vec<f64>],
) -> ConvexityReport {
    let mut times: Vec<u64> = points.iter().map(|p| p.t).collect();
    times.sort_unstable();
    times.dedup();
    let epochs = times
        .iter()
        .map(|&t| {
            let at: Vec<&PathPoint> = points.iter().filter(|p| p.t == t).collect();
            let k = at.len() as f64;
            let hood: Vec<&Neighbourhood> =
                at.iter().filter_map(|p| p.neighbourhood.as_ref()).collect();
            let sg_mean = at.iter().map(|p| p.stochastic_grad_norm).sum::<f64>() / k;
            let sg_var = at
                .iter()
                .map(|p| (p.stochastic_grad_norm - sg_mean).powi(2))
                .sum::<f64>()
                / (k - 1.0).max(1.0);
            Epoch {
                t,
                epoch: at[0].epoch,
                inner_min: at.iter().map(|p| p.inner).fold(f64::INFINITY, f64::min),
                // NaN when every point is its own reference (at T).
                ratio_min: at
                    .iter()
                    .map(|p| p.ratio)
                    .filter(|r| !r.is_nan())
                    .reduce(f64::min)
                    .unwrap_or(f64::NAN),
                negative_share: at.iter().filter(|p| p.inner < 0.0).count() as f64 / k,
                neighbourhood_mean: (!hood.is_empty())
                    .then(|| hood.iter().map(|h| h.mean).sum::<f64>() / hood.len() as f64),
                neighbourhood_min: hood.iter().map(|h| h.min).reduce(f64::min),
                neighbourhood_max: hood.iter().map(|h| h.max).reduce(f64::max),
                neighbourhood_lower_min: hood.iter().filter_map(|h| h.lower).reduce(f64::min),
                stochastic_grad_norm_mean: sg_mean,
                stochastic_grad_norm_sd: sg_var.sqrt(),
            }
        })
        .collect();
    let others: u64 = points.iter().map(|p| p.others_nonpositive).sum();
    let pairs = (finals.len().saturating_sub(1) * points.len()) as f64;
    let mut final_min: Option<f64> = None;
    for a in 0..finals.len() {
        for b in a + 1..finals.len() {
            let dist: f64 = finals[a]
                .iter()
                .zip(&finals[b])
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt();
            final_min = Some(final_min.map_or(dist, |m| m.min(dist)));
        }
    }
    ConvexityReport {
        label: spec.label.clone(),
        every,
        steps_per_epoch: spec.steps_per_epoch(),
        level,
        negative_share: points.iter().filter(|p| p.inner < 0.0).count() as f64
            / points.len().max(1) as f64,
        others_nonpositive_share: (pairs > 0.0).then(|| others as f64 / pairs),
        final_min_distance: final_min,
        points,
        epochs,
        restarts: Vec::new(),
        restarts_skipped: Vec::new(),
    }
}
