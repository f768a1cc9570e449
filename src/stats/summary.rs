//! Per-configuration summary of trajectory outcomes.

use super::Proportion;
use crate::events::Outcome;
use serde::Serialize;

/// What the `run` command reports for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSummary {
    /// Trajectories run.
    pub n: u64,
    /// P(reach): trajectories whose y_t entered the reach ball at some t ≤ T.
    pub reach: Proportion,
    /// P(stay), when a stay event was asked for.
    pub stay: Option<Proportion>,
    /// Median first hitting time, treating misses as censored at T (the Kaplan–Meier median
    /// for this censoring): the ⌈n/2⌉-th smallest hitting time, `None` when fewer than half
    /// the trajectories reached.
    pub median_hit: Option<u64>,
    /// Mean ‖x_T − x*‖ over trajectories that did not diverge (NaN when all diverged).
    pub mean_final_dist: f64,
    /// Mean ‖y_T − x*‖ over trajectories that did not diverge.
    pub mean_final_y_dist: f64,
    /// Mean f(x_T) over trajectories that did not diverge.
    pub mean_final_value: f64,
    /// Trajectories that diverged (a non-finite iterate); they count as not reached after
    /// their divergence and as not stayed.
    pub diverged: u64,
}

/// Mean of the finite-run values, summed in index order so the result is reproducible.
fn mean_over(outcomes: &[Outcome], field: impl Fn(&Outcome) -> f64) -> f64 {
    let (sum, count) = outcomes
        .iter()
        .filter(|o| o.diverged_at.is_none())
        .fold((0.0, 0u64), |(s, c), o| (s + field(o), c + 1));
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Summarises outcomes (in index order) with intervals at two-sided `level`.
pub fn summarize(outcomes: &[Outcome], level: f64) -> ConfigSummary {
    let n = outcomes.len() as u64;
    let reached = outcomes.iter().filter(|o| o.reached()).count() as u64;
    let stay = outcomes.first().and_then(|o| o.stayed).map(|_| {
        let k = outcomes.iter().filter(|o| o.stayed == Some(true)).count() as u64;
        Proportion::wilson(k, n, level)
    });
    let mut hits: Vec<u64> = outcomes.iter().filter_map(|o| o.first_hit).collect();
    let half = n.div_ceil(2) as usize;
    let median_hit = if hits.len() >= half && half > 0 {
        hits.select_nth_unstable(half - 1);
        Some(hits[half - 1])
    } else {
        None
    };
    ConfigSummary {
        n,
        reach: Proportion::wilson(reached, n, level),
        stay,
        median_hit,
        mean_final_dist: mean_over(outcomes, |o| o.final_dist),
        mean_final_y_dist: mean_over(outcomes, |o| o.final_y_dist),
        mean_final_value: mean_over(outcomes, |o| o.final_value),
        diverged: outcomes.iter().filter(|o| o.diverged_at.is_some()).count() as u64,
    }
}
