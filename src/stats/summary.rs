//! Per-configuration summary of trajectory outcomes, and the statistics settings.

use super::aggregate::{Accumulator, CHUNK, PART};
use super::binomial::{Method, Proportion};
use super::continuous::{MeanEstimate, QuantileEstimate};
use super::decision::{Decision, decide, decide_sequential};
use super::multiple::holm_adjust;
use super::sequential::{BetaBinomialCs, CS_METHOD};
use super::survival::{KaplanMeier, TimeQuantile};
use crate::events::Outcome;
use serde::Serialize;

/// Guarantees to test: decide whether P(reach) ≥ `reach`, P(stay) ≥ `stay`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Thresholds {
    /// p₀ for P(reach).
    pub reach: Option<f64>,
    /// p₀ for P(stay).
    pub stay: Option<f64>,
}

/// Adaptive stopping: run in batches until every tracked probability is settled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adaptive {
    /// Stop once the confidence sequence's half-width is at most ε.
    pub epsilon: Option<f64>,
    /// Trajectories per batch; the stop is checked after each.
    pub batch: u64,
}

/// How probabilities are reported and decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSpec {
    /// Interval method for fixed-n runs.
    pub method: Method,
    /// Confidence level of every interval; decisions have error 1 − level in each direction.
    pub level: f64,
    /// Thresholds to decide.
    pub thresholds: Thresholds,
    /// Adjust the decisions of all configurations together (Holm–Bonferroni).
    pub holm: bool,
    /// Adaptive stopping (the configuration's `trajectories` is then the cap).
    pub adaptive: Option<Adaptive>,
}

impl Default for StatsSpec {
    /// Wilson 95%, no thresholds, no adjustment, fixed n.
    fn default() -> Self {
        Self {
            method: Method::Wilson,
            level: 0.95,
            thresholds: Thresholds::default(),
            holm: false,
            adaptive: None,
        }
    }
}

/// When an adaptive cell stops. It decides how many trajectories the cell holds, so it is
/// part of the cell's identity: a cell stopped under another rule is recomputed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StopRule {
    /// Stop once the sequence's half-width (at level 1 − `alpha`) is at most ε.
    pub epsilon: Option<f64>,
    /// Trajectories per batch.
    pub batch: u64,
    /// α of the reported sequence (its width criterion).
    pub alpha: f64,
    /// α at which a threshold counts as decided: α, or α/m under Holm with m threshold
    /// decisions in the experiment, so a cell stopped as decided is still decided after the
    /// adjustment (Holm's first step rejects at α/m).
    pub decision_alpha: f64,
    /// m, the number of threshold decisions in the experiment, under Holm (1 otherwise:
    /// without Holm the rule does not depend on the other cells, so adding cells to a sweep
    /// leaves it, and the cell's identity, unchanged).
    pub decisions: u64,
    /// p₀ of P(reach), if decided.
    pub reach: Option<f64>,
    /// p₀ of P(stay), if decided (and the configuration has a stay event).
    pub stay: Option<f64>,
}

impl StatsSpec {
    /// The stopping rule of an adaptive configuration (`has_stay`: it has a stay event) in an
    /// experiment with `decisions` threshold decisions; `None` for fixed n.
    pub fn stop_rule(&self, has_stay: bool, decisions: u64) -> Option<StopRule> {
        let a = self.adaptive.as_ref()?;
        let alpha = 1.0 - self.level;
        let decision_alpha = if self.holm && decisions > 1 {
            alpha / decisions as f64
        } else {
            alpha
        };
        Some(StopRule {
            epsilon: a.epsilon,
            batch: a.batch,
            alpha,
            decision_alpha,
            decisions: if self.holm { decisions } else { 1 },
            reach: self.thresholds.reach,
            stay: self.thresholds.stay.filter(|_| has_stay),
        })
    }
}

/// Why an adaptive run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Every tracked probability met its target (half-width ≤ ε, or a decision).
    Settled,
    /// The cap n_max was reached first.
    Cap,
}

/// A probability with its decision against a threshold, when one was asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSummary {
    /// The estimate and interval.
    pub probability: Proportion,
    /// The decision P ≥ p₀.
    pub decision: Option<Decision>,
}

/// What is reported for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSummary {
    /// Trajectories used (the stopping point of an adaptive run).
    pub n: u64,
    /// P(reach): y_t entered the reach ball at some t ≤ T.
    pub reach: EventSummary,
    /// P(stay), when a stay event was asked for.
    pub stay: Option<EventSummary>,
    /// Median hitting time (Kaplan–Meier; misses censored at T or at divergence).
    pub hit_median: TimeQuantile,
    /// The last time any trajectory was followed (a hit or a censoring: T, or the latest
    /// divergence when every trajectory diverged): a quantile the curve never reaches is only
    /// known to exceed this.
    pub hit_followup: u64,
    /// The 0.1, 0.25, 0.75 and 0.9 quantiles of the hitting time, with intervals.
    pub hit_quantiles: Vec<TimeQuantile>,
    /// Restricted mean hitting time E[min(τ, T)] and its standard error.
    pub hit_restricted_mean: (f64, f64),
    /// The Kaplan–Meier curve of the hitting time.
    pub hit_curve: KaplanMeier,
    /// ‖x_T − x*‖ over trajectories that did not diverge.
    pub final_dist: MeanEstimate,
    /// ‖y_T − x*‖.
    pub final_y_dist: MeanEstimate,
    /// f(x_T).
    pub final_value: MeanEstimate,
    /// The 0.9-quantile of ‖y_T − x*‖² with its distribution-free interval.
    pub final_y_dist2_q90: QuantileEstimate,
    /// Trajectories that diverged (a non-finite iterate): not reached after divergence,
    /// not stayed, left out of the means.
    pub diverged: u64,
    /// For adaptive runs, why the run stopped.
    pub stopped: Option<StopReason>,
}

/// The reach and stay successes among outcomes (stay: `None` without a stay event).
pub fn event_counts(outcomes: &[Outcome]) -> (u64, Option<u64>) {
    let reach = outcomes.iter().filter(|o| o.reached()).count() as u64;
    let stay = outcomes
        .first()
        .and_then(|o| o.stayed)
        .map(|_| outcomes.iter().filter(|o| o.stayed == Some(true)).count() as u64);
    (reach, stay)
}

impl EventSummary {
    /// k of n summarised under `stats`: the interval of `stats.method` (or of the confidence
    /// sequence when `sequential`), and the decision against `threshold`, which comes from
    /// the exact binomial test (fixed n) or the sequence, never from the display method.
    pub fn new(
        k: u64,
        n: u64,
        threshold: Option<f64>,
        stats: &StatsSpec,
        sequential: bool,
    ) -> Self {
        event(k, n, threshold, stats, sequential)
    }
}

fn event(
    k: u64,
    n: u64,
    threshold: Option<f64>,
    stats: &StatsSpec,
    sequential: bool,
) -> EventSummary {
    let alpha = 1.0 - stats.level;
    if sequential {
        let cs = BetaBinomialCs::default();
        let ci = cs.interval(k, n, alpha);
        EventSummary {
            probability: Proportion {
                k,
                n,
                estimate: k as f64 / n as f64,
                lower: ci.lower,
                upper: ci.upper,
                method: CS_METHOD.to_string(),
                level: stats.level,
                one_sided: None,
            },
            decision: threshold.map(|p0| decide_sequential(&cs, k, n, p0, alpha)),
        }
    } else {
        EventSummary {
            probability: Proportion::new(stats.method, k, n, stats.level),
            decision: threshold.map(|p0| decide(k, n, p0, alpha)),
        }
    }
}

/// Summarises outcomes (in index order) of a run with T = `steps`, folded in parts of
/// [`PART`] and chunks of [`CHUNK`] exactly as a streaming run folds them. `stopped` is set for adaptive runs, whose
/// intervals and decisions then come from the confidence sequence.
pub fn summarize(
    outcomes: &[Outcome],
    steps: u64,
    stats: &StatsSpec,
    stopped: Option<StopReason>,
) -> ConfigSummary {
    let has_stay = outcomes.first().is_some_and(|o| o.stayed.is_some());
    let mut acc = Accumulator::new(has_stay);
    for part in outcomes.chunks(PART as usize) {
        let mut p = Accumulator::new(has_stay);
        for chunk in part.chunks(CHUNK as usize) {
            p.add_chunk(chunk, steps);
        }
        acc.merge(&p);
    }
    acc.summarize(steps, stats, stopped)
}

/// Builds the summary from an accumulator's parts.
pub(crate) fn finish_summary(
    acc: &Accumulator,
    hit_curve: KaplanMeier,
    q90: QuantileEstimate,
    steps: u64,
    stats: &StatsSpec,
    stopped: Option<StopReason>,
) -> ConfigSummary {
    let n = acc.n;
    let sequential = stopped.is_some();
    ConfigSummary {
        n,
        reach: event(acc.reach_k, n, stats.thresholds.reach, stats, sequential),
        stay: acc
            .stay_k
            .map(|k| event(k, n, stats.thresholds.stay, stats, sequential)),
        hit_median: hit_curve.quantile(0.5),
        hit_followup: acc
            .hits
            .keys()
            .chain(acc.censored.keys())
            .copied()
            .max()
            .unwrap_or(0),
        hit_quantiles: [0.1, 0.25, 0.75, 0.9]
            .iter()
            .map(|&q| hit_curve.quantile(q))
            .collect(),
        hit_restricted_mean: hit_curve.restricted_mean(steps),
        hit_curve,
        final_dist: acc.final_dist.estimate(stats.level),
        final_y_dist: acc.final_y_dist.estimate(stats.level),
        final_value: acc.final_value.estimate(stats.level),
        final_y_dist2_q90: q90,
        diverged: acc.diverged,
        stopped,
    }
}

/// Holm–Bonferroni across every decision of a run, so that a sweep of many configurations
/// does not report false violations (or false passes) by chance: the family-wise error of
/// all verdicts together is at most α.
pub fn adjust_decisions<'a>(summaries: impl IntoIterator<Item = &'a mut ConfigSummary>) {
    let mut slots: Vec<&mut EventSummary> = Vec::new();
    for s in summaries {
        slots.push(&mut s.reach);
        if let Some(stay) = s.stay.as_mut() {
            slots.push(stay);
        }
    }
    let mut slots: Vec<&mut EventSummary> =
        slots.into_iter().filter(|e| e.decision.is_some()).collect();
    let p: Vec<f64> = slots
        .iter()
        .map(|e| e.decision.as_ref().map_or(1.0, |d| d.p_value))
        .collect();
    for (slot, adj) in slots.iter_mut().zip(holm_adjust(&p)) {
        if let Some(d) = slot.decision.as_mut() {
            d.adjust(adj);
        }
    }
}
