//! Kaplan–Meier estimation of the hitting-time distribution, with Greenwood's variance,
//! log-log pointwise intervals, quantiles with intervals, and the restricted mean.
//!
//! A trajectory that never reaches the ball is censored at T (or at the step it diverged):
//! it is known only that its hitting time exceeds that time.

use super::binomial::normal_upper_quantile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One row of the Kaplan–Meier table, at a time where at least one trajectory hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmRow {
    /// The time t_j.
    pub time: u64,
    /// n_j: trajectories not yet hit nor censored before t_j.
    pub at_risk: u64,
    /// d_j: trajectories that hit at t_j.
    pub events: u64,
    /// Ŝ(t_j) = P̂(hitting time > t_j).
    pub survival: f64,
    /// Greenwood's standard error of Ŝ(t_j).
    pub se: f64,
    /// Lower pointwise bound (log-log transform).
    pub lower: f64,
    /// Upper pointwise bound (log-log transform).
    pub upper: f64,
}

/// A quantile of the hitting time with its interval; `None` means "beyond the last
/// observed time" (the curve never falls that low).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeQuantile {
    /// The probability q: the quantile is the first t with Ŝ(t) ≤ 1 − q.
    pub q: f64,
    /// Point estimate.
    pub estimate: Option<u64>,
    /// Lower bound (Brookmeyer–Crowley, from the pointwise band).
    pub lower: Option<u64>,
    /// Upper bound.
    pub upper: Option<u64>,
}

/// The Kaplan–Meier estimate of one configuration's hitting times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeier {
    /// Trajectories.
    pub n: u64,
    /// Confidence level of the pointwise intervals.
    pub level: f64,
    /// One row per distinct hitting time, increasing.
    pub rows: Vec<KmRow>,
}

impl KaplanMeier {
    /// Fits from (time, hit) pairs: `hit = false` means censored at `time`. A trajectory
    /// censored at t is at risk at t (it was seen not to hit there).
    pub fn fit(observations: &[(u64, bool)], level: f64) -> Self {
        let (mut events, mut censored) = (BTreeMap::new(), BTreeMap::new());
        for &(t, hit) in observations {
            *if hit { &mut events } else { &mut censored }
                .entry(t)
                .or_insert(0u64) += 1;
        }
        Self::from_counts(&events, &censored, level)
    }

    /// Fits from counts: hits per time and censorings per time.
    pub fn from_counts(
        events: &BTreeMap<u64, u64>,
        censored: &BTreeMap<u64, u64>,
        level: f64,
    ) -> Self {
        let z = normal_upper_quantile((1.0 - level) / 2.0);
        let n: u64 = events.values().sum::<u64>() + censored.values().sum::<u64>();
        let mut rows = Vec::new();
        let (mut s, mut greenwood) = (1.0f64, 0.0f64);
        let mut removed = 0u64; // hit or censored before the current time
        let mut cens = censored.iter().peekable();
        for (&t, &d) in events {
            while let Some((_, c)) = cens.next_if(|(ct, _)| **ct < t) {
                removed += c;
            }
            let at_risk = n - removed;
            if d > 0 {
                s *= 1.0 - d as f64 / at_risk as f64;
                greenwood += if d < at_risk {
                    d as f64 / (at_risk as f64 * (at_risk - d) as f64)
                } else {
                    f64::INFINITY
                };
                let (se, lower, upper) = if s > 0.0 && s < 1.0 {
                    // log(−log S) has standard error √greenwood / |log S|.
                    let w = z * greenwood.sqrt() / s.ln().abs();
                    (s * greenwood.sqrt(), s.powf(w.exp()), s.powf((-w).exp()))
                } else {
                    (0.0, s, s)
                };
                rows.push(KmRow {
                    time: t,
                    at_risk,
                    events: d,
                    survival: s,
                    se,
                    lower,
                    upper,
                });
            }
            removed += d;
        }
        Self { n, level, rows }
    }

    /// Ŝ(t).
    pub fn survival_at(&self, t: u64) -> f64 {
        self.rows
            .iter()
            .take_while(|r| r.time <= t)
            .last()
            .map_or(1.0, |r| r.survival)
    }

    /// The q-quantile of the hitting time (q = ½: the median) with its interval.
    pub fn quantile(&self, q: f64) -> TimeQuantile {
        let first =
            |f: fn(&KmRow) -> f64| self.rows.iter().find(|r| f(r) <= 1.0 - q).map(|r| r.time);
        TimeQuantile {
            q,
            estimate: first(|r| r.survival),
            lower: first(|r| r.lower),
            upper: first(|r| r.upper),
        }
    }

    /// The restricted mean E[min(τ, horizon)] = ∫₀^horizon Ŝ(t) dt with its standard error
    /// (Klein & Moeschberger 2003, §4.5).
    pub fn restricted_mean(&self, horizon: u64) -> (f64, f64) {
        let rows: Vec<&KmRow> = self.rows.iter().filter(|r| r.time < horizon).collect();
        // Area under the step function, and the area from each event time to the horizon.
        let mut area = 0.0;
        let (mut prev_t, mut prev_s) = (0u64, 1.0);
        for r in &rows {
            area += prev_s * (r.time - prev_t) as f64;
            prev_t = r.time;
            prev_s = r.survival;
        }
        area += prev_s * (horizon - prev_t) as f64;
        let mut var = 0.0;
        let mut tail = 0.0; // ∫_{t_j}^{horizon} Ŝ
        let mut next_t = horizon;
        for r in rows.iter().rev() {
            tail += r.survival * (next_t - r.time) as f64;
            next_t = r.time;
            if r.events < r.at_risk {
                var += tail * tail * r.events as f64
                    / (r.at_risk as f64 * (r.at_risk - r.events) as f64);
            }
        }
        (area, var.sqrt())
    }
}
