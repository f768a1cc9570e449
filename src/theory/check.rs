//! Verdicts: Theorem 1 next to what SGD does, configuration by configuration.

use super::assumptions::{AssumptionReport, CheckSettings, Domain, check_assumptions};
use super::bounds::{self, TheoremBounds, TheoremInputs, drift_bound, theorem1};
use crate::dynamics::{NoiseEntry, Schedule};
use crate::engine::{self, Problem};
use crate::events::Measure;
use crate::events::{EventSpec, StaySpec};
use crate::experiment::{ConfigSpec, ProblemVisitor};
use crate::noise::Sampling;
use crate::objective::Objective;
use crate::oracle::Oracle;
use crate::stats::aggregate::{CHUNK, Moments};
use crate::stats::continuous::{MeanEstimate, OrderStatistics, QuantileEstimate};
use crate::stats::decision::{Decision, Verdict as Decided, decide};
use crate::stats::multiple::holm_adjust;
use crate::stats::{Proportion, StatsSpec};
use crate::theory::certified::CMethod;
use serde::Serialize;

/// The `[theorem]` settings of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TheoremSpec {
    /// The c to check; by default the estimated ĉ is used.
    pub c: Option<f64>,
    /// T1; by default the theorem's minimal T1.
    pub t1: Option<u64>,
    /// T2, the length of the stay window.
    pub t2: u64,
    /// The guarantees to test: reach, stay given reach, both (0.9, 5/9, 1/2 by the theorem).
    pub guarantees: [f64; 3],
    /// Factor on the theorem's radii² (1: the theorem's own). Below 1 it asks more than the
    /// theorem promises: a way to check that the harness does report violations.
    pub radius_scale: f64,
    /// Settings of the assumption checks.
    pub checks: CheckSettings,
}

impl TheoremSettings {
    /// The check's settings for configuration `i`.
    pub fn spec_for(&self, i: usize, seed: u64) -> TheoremSpec {
        let domain = match self.domains.get(i).cloned().flatten() {
            Some(region) => Domain::Region(region),
            None => Domain::Visited,
        };
        TheoremSpec {
            c: self.c,
            t1: self.t1,
            t2: self.t2,
            guarantees: self.guarantees,
            radius_scale: self.radius_scale,
            checks: CheckSettings {
                domain,
                samples: self.samples,
                draws: self.draws,
                traced: self.traced,
                seed,
            },
        }
    }
}

/// The verdict on one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every assumption checked and every lower confidence bound at least its guarantee.
    Holds,
    /// Every assumption checked and an upper confidence bound below its guarantee.
    Violated,
    /// Neither, at this n.
    Inconclusive,
    /// An assumption or the step-size condition fails.
    NotApplicable,
    /// The guarantee says nothing here.
    Vacuous,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not applicable",
            Verdict::Vacuous => "vacuous",
        })
    }
}

/// One of the theorem's three probabilities, estimated, with its decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guarantee {
    /// Which probability.
    pub name: &'static str,
    /// The estimate and interval.
    pub estimate: Proportion,
    /// The decision against the guarantee.
    pub decision: Decision,
}

/// How loose the theorem is where it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slack {
    /// The theorem's reach radius² 20b/λ.
    pub radius2: f64,
    /// The empirical quantile of ‖y_{T1} − x*‖² at the guaranteed level, with its interval.
    pub quantile: QuantileEstimate,
    /// radius² / quantile: how many times larger the theorem's ball is than needed.
    pub slack: f64,
    /// Interval of the slack (from the quantile's).
    pub lower: Option<f64>,
    /// Upper end.
    pub upper: Option<f64>,
}

/// A point of the drift curve E‖y_t − x*‖² against its bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftPoint {
    /// t.
    pub t: u64,
    /// The empirical mean with its t-interval.
    pub mean: MeanEstimate,
    /// The bound (1 − λ)^t E‖y_0 − x*‖² + b/λ, where the theorem applies.
    pub bound: Option<f64>,
}

/// Effective constants: the smallest contraction and noise terms the simulated one-step
/// drift supports, and the theorem's predictions recomputed with them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effective {
    /// λ_eff.
    pub lambda: f64,
    /// b_eff.
    pub b: f64,
    /// 20 b_eff/λ_eff.
    pub reach_radius2: f64,
    /// μ² b_eff/λ_eff.
    pub stay_radius2: f64,
    /// log(λ_eff E‖y_0 − x*‖²/b_eff)/λ_eff.
    pub t1: u64,
    /// P(‖y_{T1} − x*‖² ≤ 20 b_eff/λ_eff) at the T1 simulated.
    pub p_reach: Proportion,
    /// One-step pairs (‖y_t‖², ‖y_{t+1}‖²) the fit used.
    pub pairs: u64,
}

/// Everything the check found for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TheoremReport {
    /// The configuration.
    pub label: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why (every failed assumption, or what settled it).
    pub reasons: Vec<String>,
    /// What the verdict rests on that was observed or estimated rather than proven (r from
    /// visited points, an estimated L or ĉ, events measured on x or only every k steps).
    /// A verdict with any is reported as "holds, given …"; a bare "holds" has none.
    pub given: Vec<Given>,
    /// The assumption checks.
    pub assumptions: AssumptionReport,
    /// c used (given, or ĉ).
    pub c: Option<f64>,
    /// L used (known, or estimated).
    pub l: Option<f64>,
    /// The theorem's constants, when c > 0 and L, r are finite.
    pub bounds: Option<TheoremBounds>,
    /// T1 as given in `[theorem]`.
    pub t1_given: Option<u64>,
    /// T1 simulated (the theorem's, or T/2 where it has none).
    pub t1: u64,
    /// T2 simulated.
    pub t2: u64,
    /// Trajectories.
    pub n: u64,
    /// P(reach), P(stay | reach), P(both), where the theorem's radii exist.
    pub guarantees: Vec<Guarantee>,
    /// For an inconclusive verdict, the trajectories that would likely settle it.
    pub settle_at: Option<u64>,
    /// Slack where the theorem holds.
    pub slack: Option<Slack>,
    /// The drift curve.
    pub drift: Vec<DriftPoint>,
    /// Effective constants.
    pub effective: Option<Effective>,
}

/// Something a verdict rests on that was observed or estimated rather than proven.
/// Serialized as its full sentence ([`std::fmt::Display`]); [`Given::short`] is the part
/// before the colon, as in "holds, given r observed on visited points".
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// The noise bound r is the largest maxᵢ‖∇fᵢ(x) − ∇f(x)‖ seen along traced trajectories.
    NoiseObserved {
        /// r.
        r: f64,
        /// Points examined.
        points: u64,
        /// Trajectories traced.
        traced: u64,
    },
    /// L is the largest ‖Δ∇f‖/‖Δx‖ between consecutive visited points.
    LipschitzEstimated {
        /// L.
        l: f64,
    },
    /// ĉ is the smallest ratio over sampled points, not a certified infimum.
    ConvexityEstimated {
        /// Points sampled.
        points: u64,
        /// Whether each ratio is a Monte Carlo mean.
        monte_carlo: bool,
    },
    /// Reach and stay are measured on x_t, not y_t.
    EventsOnX,
    /// Events are checked only every k steps.
    EventsEvery {
        /// k.
        k: u64,
    },
}

impl Given {
    /// The qualification alone, e.g. "r observed on visited points".
    pub fn short(&self) -> String {
        match self {
            Given::NoiseObserved { .. } => "r observed on visited points".into(),
            Given::LipschitzEstimated { .. } => "L estimated".into(),
            Given::ConvexityEstimated { .. } => "ĉ estimated".into(),
            Given::EventsOnX => "events on x".into(),
            Given::EventsEvery { k } => format!("events every {k} steps"),
        }
    }
}

impl std::fmt::Display for Given {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = self.short();
        match *self {
            Given::NoiseObserved { r, points, traced } => write!(
                f,
                "{short}: r = {r:.4e} is the largest maxᵢ‖∇fᵢ(x) − ∇f(x)‖ over {points} points of {traced} traced trajectories, a bound on the points visited, not proven over the domain"
            ),
            Given::LipschitzEstimated { l } => write!(
                f,
                "{short}: L = {l:.4e} is the largest ‖Δ∇f‖/‖Δx‖ between consecutive visited points, a lower bound on the true L"
            ),
            Given::ConvexityEstimated {
                points,
                monte_carlo,
            } => write!(
                f,
                "{short}: the smallest ratio over {points} sampled points{}, not a certified infimum",
                if monte_carlo {
                    " (each a Monte Carlo mean)"
                } else {
                    ""
                }
            ),
            Given::EventsOnX => write!(
                f,
                "{short}: reach and stay are measured on x_t, not on y_t = x_t − η∇f(x_t) as in Theorem 1"
            ),
            Given::EventsEvery { k } => write!(
                f,
                "{short}: stay is checked only at multiples of {k}, which can only overstate P(stay)"
            ),
        }
    }
}

impl Serialize for Given {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl TheoremReport {
    /// The verdict as reported: qualified by what it is given ("holds, given r observed on
    /// visited points") when it rests on anything not proven.
    pub fn verdict_label(&self) -> String {
        let decided = matches!(
            self.verdict,
            Verdict::Holds | Verdict::Violated | Verdict::Inconclusive
        );
        if decided && !self.given.is_empty() {
            let short: Vec<String> = self.given.iter().map(Given::short).collect();
            format!("{}, given {}", self.verdict, short.join("; "))
        } else {
            self.verdict.to_string()
        }
    }

    /// The theorem's T1: the one given in `[theorem]`, or the minimal T1 of Theorem 1 where
    /// the step-size condition holds (`None` otherwise; the simulation then falls back to
    /// T/2, which is not the theorem's).
    pub fn t1_theorem(&self) -> Option<u64> {
        self.t1_given
            .or(self.bounds.filter(|b| b.step.holds).map(|b| b.t1_min))
    }
}

/// The times at which ‖y_t − x*‖² is kept: a grid on [0, T1] and on [T1, T1 + T2].
fn snapshot_times(t1: u64, t2: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..=40)
        .map(|i| t1 * i / 40)
        .chain((0..=24).map(|i| t1 + t2 * i / 24))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The configuration as the theorem sees it: constant η for T1 + T2 steps, events at the
/// theorem's radii (or none), snapshots for the drift curve.
fn theorem_spec(
    spec: &ConfigSpec,
    eta: f64,
    t1: u64,
    t2: u64,
    b: Option<&TheoremBounds>,
) -> ConfigSpec {
    let mut s = spec.clone();
    s.schedule = Schedule::constant(eta, (t1 + t2).max(1));
    s.events = EventSpec {
        reach_radius: b.map_or(0.0, |b| b.reach_radius2.sqrt()),
        stay: b.map(|b| StaySpec {
            radius: b.stay_radius2.sqrt(),
            from: t1,
            to: t1 + t2,
        }),
        snapshots: snapshot_times(t1, t2),
        every: spec.events.every,
        on: spec.events.on,
    };
    s
}

/// Fits λ_eff, b_eff to one-step pairs: bins by ‖y_t‖² (equal counts), takes the bin means
/// (the conditional expectation of ‖y_{t+1}‖²), and among the lines (1 − λ)s + b lying above
/// every bin mean picks the one with the smallest stationary level b/λ.
pub fn fit_drift(pairs: &mut [(f64, f64)]) -> Option<(f64, f64)> {
    if pairs.len() < 100 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bins = 20;
    let per = pairs.len() / bins;
    let means: Vec<(f64, f64)> = pairs
        .chunks(per)
        .map(|c| {
            (
                c.iter().map(|p| p.0).sum::<f64>() / c.len() as f64,
                c.iter().map(|p| p.1).sum::<f64>() / c.len() as f64,
            )
        })
        .collect();
    let mut best: Option<(f64, f64)> = None;
    for i in 1..=2000 {
        let lambda = 10f64.powf(-5.0 + 5.0 * i as f64 / 2000.0);
        if lambda >= 1.0 {
            break;
        }
        let b = means
            .iter()
            .map(|&(s, m)| m - (1.0 - lambda) * s)
            .fold(0.0f64, f64::max);
        if best.is_none_or(|(bl, bb)| b / lambda < bb / bl) {
            best = Some((lambda, b));
        }
    }
    best.filter(|&(_, b)| b > 0.0)
}

/// Traces a few trajectories and collects their one-step pairs (‖y_t‖², ‖y_{t+1}‖²).
struct Pairs {
    seed: u64,
    id: u64,
    count: u64,
}

impl ProblemVisitor for Pairs {
    type Output = Vec<(f64, f64)>;
    fn visit<O: Objective, S: Oracle<O>>(self, p: &Problem<'_, O, S>) -> Vec<(f64, f64)> {
        let target = p.objective.target().to_vec();
        let mut pairs = Vec::new();
        for i in 0..self.count {
            let mut prev: Option<f64> = None;
            engine::trace(p, self.seed, self.id, i, |_, _, y| {
                let s: f64 = y.iter().zip(&target).map(|(y, c)| (y - c) * (y - c)).sum();
                if let Some(p) = prev {
                    pairs.push((p, s));
                }
                prev = Some(s);
            });
        }
        pairs
    }
}

fn guarantee(name: &'static str, k: u64, n: u64, p0: f64, stats: &StatsSpec) -> Option<Guarantee> {
    (n > 0).then(|| Guarantee {
        name,
        estimate: Proportion::new(stats.method, k, n, stats.level),
        decision: decide(k, n, p0, 1.0 - stats.level),
    })
}

/// The verdict on the three guarantees as one family, each decided at level α: "holds" needs
/// all three lower bounds at or above their guarantees (an intersection: wrong only if some
/// guarantee is wrongly said to hold, which has probability at most α, so no adjustment is
/// needed); "violated" needs a Holm-adjusted p-value at most α in the violated direction
/// (family-wise error at most α over the three). The adjusted p-values are recorded.
pub fn family_verdict(guarantees: &mut [Guarantee]) -> Verdict {
    let p: Vec<f64> = guarantees.iter().map(|g| g.decision.p_value).collect();
    let adjusted = holm_adjust(&p);
    let mut violated = false;
    for (g, adj) in guarantees.iter_mut().zip(adjusted) {
        g.decision.adjusted_p = Some(adj);
        violated |= !g.decision.toward_holds && adj <= g.decision.alpha;
    }
    if violated {
        Verdict::Violated
    } else if guarantees.len() == 3
        && guarantees
            .iter()
            .all(|g| g.decision.verdict == Decided::Holds)
    {
        Verdict::Holds
    } else {
        Verdict::Inconclusive
    }
}

/// Runs the theorem check on one configuration.
pub fn check(
    spec: &ConfigSpec,
    theorem: &TheoremSpec,
    seed: u64,
    stats: &StatsSpec,
) -> TheoremReport {
    let eta = spec.schedule.stages()[0].eta;
    let mut reasons = Vec::new();
    if spec.schedule.stages().len() > 1 {
        reasons.push("staged schedule: Theorem 1 is for a constant step (Corollary 2 covers stages); the first stage's η is checked".to_string());
    }
    let a = check_assumptions(spec, eta, &theorem.checks);
    let conv = &a.convexity;

    // Every assumption, with its evidence.
    if a.noise_bound.is_none() {
        let law = spec.noise.parts().0;
        reasons.push(format!(
            "the noise is unbounded ({law}): Theorem 1 needs ‖ω‖ ≤ r almost surely"
        ));
    }
    if spec.noise.minibatch().map(|m| m.sampling) == Some(Sampling::Reshuffle) {
        reasons.push("reshuffled batches (sampling = \"reshuffle\") are not independent of the past: Theorem 1 needs noise with mean zero given the past".into());
    }
    if spec.noise_entry == NoiseEntry::Point {
        reasons.push("the noise perturbs the gradient point (noise_entry = \"point\"): Theorem 1 is about noise added to the step".into());
    }
    let l = if !a.smooth {
        reasons.push(format!(
            "∇f is not Lipschitz: it jumps (the largest ratio ‖Δ∇f‖/‖Δx‖ between visited points is {:.3e})",
            a.lipschitz_estimated
        ));
        None
    } else {
        Some(a.lipschitz_known.unwrap_or(a.lipschitz_estimated))
    };
    if conv.violations > 0 || conv.c_hat <= 0.0 {
        reasons.push(format!(
            "one-point strong convexity after convolution fails: the smoothed gradient does not point to x* at {} of {} sampled points ({:.1}%); ĉ = {:.4}{}",
            conv.violations,
            conv.points,
            100.0 * conv.violation_fraction,
            conv.c_hat,
            match (conv.method, conv.c_hat_error) {
                (CMethod::MonteCarlo, Some(se)) => format!(" ± {se:.2e} (Monte Carlo)"),
                (CMethod::Sampled, _) => " (a minimum over sampled points)".to_string(),
                (CMethod::CertifiedLowerBound, _) => " (a certified lower bound)".to_string(),
                _ => String::new(),
            }
        ));
    }
    let c = match theorem.c {
        Some(c) if c > conv.c_hat => {
            reasons.push(format!(
                "the claimed c = {c} exceeds the estimated ĉ = {:.4} (at y = {:?})",
                conv.c_hat, conv.argmin_y
            ));
            Some(c)
        }
        Some(c) => Some(c),
        None => (conv.c_hat > 0.0).then_some(conv.c_hat),
    };
    if let Some(l) = l
        && a.gradient_growth > l * (1.0 + 1e-9)
    {
        reasons.push(format!("the hidden condition ‖∇f(z)‖ ≤ L‖z − x*‖ fails on visited points: max ratio {:.4} > L = {l:.4}", a.gradient_growth));
    }
    let bounds = match (c, l, a.noise_bound) {
        (Some(c), Some(l), Some(r)) if c > 0.0 => Some(theorem1(&TheoremInputs {
            eta,
            c,
            l,
            r,
            y0_dist2: a.y0_dist2_max,
            t2: theorem.t2,
        })),
        _ => None,
    };
    if let Some(b) = &bounds
        && !b.step.holds
    {
        reasons.push(format!(
            "the step-size condition fails: η = {eta} ≥ {} = {:.4e} (by a factor {:.3})",
            b.step.binding.0, b.step.binding.1, b.step.ratio
        ));
    }
    if let (Some(t1), Some(b)) = (theorem.t1, bounds.filter(|b| b.step.holds))
        && t1 < b.t1_min
    {
        reasons.push(format!(
            "T1 = {t1} is below the theorem's minimal T1 = {}",
            b.t1_min
        ));
    }
    let applicable = reasons.is_empty();
    let mut given = Vec::new();
    if a.noise_bound_observed {
        given.push(Given::NoiseObserved {
            r: a.noise_bound.unwrap_or(f64::NAN),
            points: a.visited_all,
            traced: theorem.checks.traced.max(1),
        });
    }
    if a.smooth && a.lipschitz_known.is_none() {
        given.push(Given::LipschitzEstimated {
            l: a.lipschitz_estimated,
        });
    }
    if matches!(conv.method, CMethod::Sampled | CMethod::MonteCarlo) {
        given.push(Given::ConvexityEstimated {
            points: conv.points,
            monte_carlo: conv.method == CMethod::MonteCarlo,
        });
    }
    if spec.events.on == Measure::X {
        given.push(Given::EventsOnX);
    }
    if spec.events.every > 1 {
        given.push(Given::EventsEvery {
            k: spec.events.every,
        });
    }
    // The radii the events use (the theorem's, unless scaled on purpose).
    let bounds = bounds.map(|mut b| {
        b.reach_radius2 *= theorem.radius_scale;
        b.stay_radius2 *= theorem.radius_scale;
        b
    });

    let t1 = theorem
        .t1
        .or(bounds.filter(|b| b.step.holds).map(|b| b.t1_min))
        .unwrap_or(spec.steps() / 2);
    let t2 = theorem.t2;
    let sim = theorem_spec(spec, eta, t1, t2, bounds.as_ref().filter(|_| applicable));
    // Effective constants from the one-step drift along traced trajectories (fitted first,
    // so that the simulation below can count against their radius as it streams).
    // About 10⁶ gradient evaluations: a traced step computes ∇f(x_t), which for a finite
    // sum is n example gradients.
    let per_step = spec.objective.examples().unwrap_or(1).max(1) as u64;
    let trace_count = (1_000_000 / (t1 + t2 + 1).saturating_mul(per_step).max(1)).clamp(1, 50);
    let mut pairs = sim.with_problem(Pairs {
        seed,
        id: sim.id(),
        count: trace_count,
    });
    let fit = fit_drift(&mut pairs);
    let effective_radius2 = fit.map_or(f64::NEG_INFINITY, |(lambda, b)| 20.0 * b / lambda);

    // Streamed in chunks, like `run`: nothing per trajectory is kept but the values that can
    // be the slack's order statistics.
    let times = &sim.events.snapshots;
    let j1 = times
        .iter()
        .position(|&s| s == t1)
        .expect("snapshot grid holds T1");
    let reach_radius2 = bounds
        .filter(|_| applicable)
        .map_or(f64::NEG_INFINITY, |b| b.reach_radius2);
    let g_reach = theorem.guarantees[0];
    let mut drift_moments = vec![Moments::default(); times.len()];
    let mut y_t1_quantile = OrderStatistics::new(sim.trajectories, g_reach, stats.level);
    let (mut k_reach, mut both, mut k_effective) = (0u64, 0u64, 0u64);
    let mut start = 0;
    while start < sim.trajectories {
        let end = (start + CHUNK).min(sim.trajectories);
        for o in sim.run(seed, start..end) {
            for (m, &v) in drift_moments.iter_mut().zip(&o.snapshots) {
                if v.is_finite() {
                    m.push(v);
                }
            }
            let y = o.snapshots[j1];
            if y <= reach_radius2 {
                k_reach += 1;
                both += u64::from(o.stayed == Some(true));
            }
            k_effective += u64::from(y <= effective_radius2);
            y_t1_quantile.push(y);
        }
        start = end;
    }
    let n = sim.trajectories;

    // The drift curve.
    let drift: Vec<DriftPoint> = times
        .iter()
        .zip(&drift_moments)
        .map(|(&t, m)| DriftPoint {
            t,
            mean: m.estimate(stats.level),
            bound: None,
        })
        .collect();
    let y0_mean = drift.first().map_or(f64::NAN, |d| d.mean.mean);
    let drift: Vec<DriftPoint> = drift
        .into_iter()
        .map(|mut d| {
            d.bound = bounds
                .filter(|b| b.step.holds)
                .map(|b| drift_bound(&b, y0_mean, d.t));
            d
        })
        .collect();

    let effective = fit.map(|(lambda, b)| {
        let mu = bounds::mu(t2);
        Effective {
            lambda,
            b,
            reach_radius2: effective_radius2,
            stay_radius2: mu * mu * b / lambda,
            t1: ((lambda * y0_mean / b).ln() / lambda).max(0.0).ceil() as u64,
            p_reach: Proportion::new(stats.method, k_effective, n.max(1), stats.level),
            pairs: pairs.len() as u64,
        }
    });

    let mut report = TheoremReport {
        label: spec.label.clone(),
        verdict: Verdict::NotApplicable,
        reasons,
        given,
        assumptions: a.clone(),
        c,
        l,
        bounds,
        t1_given: theorem.t1,
        t1,
        t2,
        n,
        guarantees: Vec::new(),
        settle_at: None,
        slack: None,
        drift,
        effective,
    };
    if !applicable {
        return report;
    }
    let b = bounds.expect("applicable implies bounds");
    if theorem.radius_scale != 1.0 {
        report.reasons.push(format!(
            "radii² scaled by {}: this asks more (or less) than Theorem 1 promises",
            theorem.radius_scale
        ));
    }

    // Vacuous: without noise (b = 0) the reach ball is the point x* and T1 is infinite; with
    // a ball containing every start, "reach" holds at t = 0 and says nothing.
    if b.b == 0.0 {
        report.verdict = Verdict::Vacuous;
        report.reasons.push("r = 0 (plain GD): the reach radius is 0 and T1 infinite, so the guarantee says nothing at finite T".into());
        return report;
    }
    if b.reach_radius2 >= a.y0_dist2_max {
        report.verdict = Verdict::Vacuous;
        report.reasons.push(format!(
            "the reach ball (radius² 20b/λ = {:.4}) contains every start (max ‖y_0 − x*‖² = {:.4}): the guarantee says nothing here",
            b.reach_radius2, a.y0_dist2_max
        ));
        return report;
    }

    let [g_reach, g_stay, g_both] = theorem.guarantees;
    report.guarantees = [
        guarantee("reach", k_reach, n, g_reach, stats),
        guarantee("stay | reach", both, k_reach, g_stay, stats),
        guarantee("reach and stay", both, n, g_both, stats),
    ]
    .into_iter()
    .flatten()
    .collect();
    report.verdict = family_verdict(&mut report.guarantees);
    report.settle_at = (report.verdict == Verdict::Inconclusive)
        .then(|| {
            report
                .guarantees
                .iter()
                .filter_map(|g| g.decision.settle_at)
                .max()
        })
        .flatten();
    if report.verdict == Verdict::Violated {
        report.reasons.push(format!(
            "a guarantee fails: reproduce with seed {seed}, configuration id {:016x}, T1 = {t1}, T2 = {t2}, n = {n}",
            sim.id()
        ));
    }
    let q = y_t1_quantile.finish();
    report.slack = Some(Slack {
        radius2: b.reach_radius2,
        slack: b.reach_radius2 / q.estimate,
        lower: q.upper.map(|u| b.reach_radius2 / u),
        upper: q.lower.map(|l| b.reach_radius2 / l),
        quantile: q,
    });
    report
}

pub use crate::experiment::{THEOREM_GUARANTEES, TheoremSettings};
