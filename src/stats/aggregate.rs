//! Streaming aggregation: what a summary needs, folded chunk by chunk as trajectories
//! finish, in memory independent of the number of trajectories (up to the exact-quantile
//! buffer) and mergeable across shards.
//!
//! Trajectories are folded in fixed chunks of [`CHUNK`] indices (or an adaptive run's
//! batches): within a chunk in index order, chunks in chunk order. A cell split across
//! machines at chunk boundaries therefore merges into the very same bytes.

use super::continuous::{MeanEstimate, quantile};
use super::special::student_t_quantile;
use super::summary::{ConfigSummary, StatsSpec, StopReason, finish_summary};
use super::survival::KaplanMeier;
use crate::events::Outcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Trajectories per chunk.
pub const CHUNK: u64 = 4096;

/// Cells with more trajectories than this are folded (and may be sharded) in parts of this
/// many, each folded chunk by chunk, the parts then merged in order: the same arithmetic on
/// one machine or split across many. Adaptive runs, which decide sequentially when to stop,
/// are never split.
pub const PART: u64 = 64 * CHUNK;

/// Values kept for the exact order-statistic quantile of ‖y_T − x*‖²; beyond this many
/// trajectories that quantile is not reported.
pub const QUANTILE_BUFFER: usize = 1 << 20;

/// Count, mean and sum of squared deviations (Welford; chunks combined by Chan's formula).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Values.
    pub n: u64,
    /// Mean.
    #[serde(with = "nonfinite")]
    pub mean: f64,
    /// Σ (x − mean)² (infinite when finite values far apart overflow it).
    #[serde(with = "nonfinite")]
    pub m2: f64,
}

/// f64 fields of cell files that may hold ±∞ or NaN (finite trajectories can still
/// overflow a sum of squares): JSON numbers have no such values, so those are written as
/// the strings "inf", "-inf" and "NaN". Finite values are written as before.
mod nonfinite {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        match *v {
            v if v.is_finite() => s.serialize_f64(v),
            v if v.is_nan() => s.serialize_str("NaN"),
            v if v > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Value {
            Number(f64),
            Text(String),
        }
        match Value::deserialize(d)? {
            Value::Number(v) => Ok(v),
            Value::Text(t) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"inf\", \"-inf\" or \"NaN\", found \"{other}\""
                ))),
            },
        }
    }

    /// The same for every entry of a list.
    pub mod vec {
        use serde::ser::SerializeSeq;
        use serde::{Deserialize, Deserializer, Serializer};

        #[derive(serde::Serialize, Deserialize)]
        struct Entry(#[serde(with = "super")] f64);

        pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for &x in v {
                seq.serialize_element(&Entry(x))?;
            }
            seq.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Ok(Vec::<Entry>::deserialize(d)?
                .into_iter()
                .map(|e| e.0)
                .collect())
        }
    }
}

impl Moments {
    /// Adds one value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Appends another set of values (in order).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64) / n as f64;
        self.n = n;
    }

    /// The mean with its t-interval and Monte Carlo standard error.
    pub fn estimate(&self, level: f64) -> MeanEstimate {
        let nan = f64::NAN;
        if self.n < 2 {
            let m = if self.n == 1 { self.mean } else { nan };
            return MeanEstimate {
                n: self.n,
                mean: m,
                sd: nan,
                mcse: nan,
                lower: nan,
                upper: nan,
                level,
            };
        }
        let sd = (self.m2 / (self.n - 1) as f64).sqrt();
        let mcse = sd / (self.n as f64).sqrt();
        let t = student_t_quantile(0.5 + level / 2.0, (self.n - 1) as f64);
        MeanEstimate {
            n: self.n,
            mean: self.mean,
            sd,
            mcse,
            lower: self.mean - t * mcse,
            upper: self.mean + t * mcse,
            level,
        }
    }
}

/// Everything a [`ConfigSummary`] is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    /// Trajectories folded.
    pub n: u64,
    /// Reached.
    pub reach_k: u64,
    /// Stayed (None without a stay event).
    pub stay_k: Option<u64>,
    /// Diverged.
    pub diverged: u64,
    /// Hitting times: time → count.
    pub hits: BTreeMap<u64, u64>,
    /// Censoring times (T, or the divergence step): time → count.
    pub censored: BTreeMap<u64, u64>,
    /// ‖x_T − x*‖ of finite trajectories.
    pub final_dist: Moments,
    /// ‖y_T − x*‖.
    pub final_y_dist: Moments,
    /// f(x_T).
    pub final_value: Moments,
    /// ‖y_T − x*‖² in index order, for the exact quantile (emptied past the buffer size).
    #[serde(with = "nonfinite::vec")]
    pub y_dist2: Vec<f64>,
    /// True once more values came than the buffer holds.
    pub y_dist2_overflow: bool,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new(has_stay: bool) -> Self {
        Self {
            n: 0,
            reach_k: 0,
            stay_k: has_stay.then_some(0),
            diverged: 0,
            hits: BTreeMap::new(),
            censored: BTreeMap::new(),
            final_dist: Moments::default(),
            final_y_dist: Moments::default(),
            final_value: Moments::default(),
            y_dist2: Vec::new(),
            y_dist2_overflow: false,
        }
    }

    /// Folds one chunk of outcomes (consecutive indices, in order) of a run with T = `steps`.
    pub fn add_chunk(&mut self, outcomes: &[Outcome], steps: u64) {
        let mut chunk = Accumulator::new(self.stay_k.is_some());
        for o in outcomes {
            chunk.n += 1;
            chunk.reach_k += u64::from(o.reached());
            if let Some(k) = chunk.stay_k.as_mut() {
                *k += u64::from(o.stayed == Some(true));
            }
            match o.first_hit {
                Some(t) => *chunk.hits.entry(t).or_default() += 1,
                None => {
                    *chunk
                        .censored
                        .entry(o.diverged_at.unwrap_or(steps))
                        .or_default() += 1
                }
            }
            if o.diverged_at.is_some() {
                chunk.diverged += 1;
            } else {
                chunk.final_dist.push(o.final_dist);
                chunk.final_y_dist.push(o.final_y_dist);
                chunk.final_value.push(o.final_value);
                chunk.y_dist2.push(o.final_y_dist * o.final_y_dist);
            }
        }
        self.merge(&chunk);
    }

    /// Appends the trajectories of `o`, which follow these in index order.
    pub fn merge(&mut self, o: &Accumulator) {
        self.n += o.n;
        self.reach_k += o.reach_k;
        self.stay_k = match (self.stay_k, o.stay_k) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.diverged += o.diverged;
        for (t, c) in &o.hits {
            *self.hits.entry(*t).or_default() += c;
        }
        for (t, c) in &o.censored {
            *self.censored.entry(*t).or_default() += c;
        }
        self.final_dist.merge(&o.final_dist);
        self.final_y_dist.merge(&o.final_y_dist);
        self.final_value.merge(&o.final_value);
        if self.y_dist2_overflow
            || o.y_dist2_overflow
            || self.y_dist2.len() + o.y_dist2.len() > QUANTILE_BUFFER
        {
            self.y_dist2 = Vec::new();
            self.y_dist2_overflow = true;
        } else {
            self.y_dist2.extend_from_slice(&o.y_dist2);
        }
    }

    /// Checks that the aggregate could have come from `n` trajectories (`None`: any n in
    /// 1..=`cap`) of a run with T = `steps`, with or without a stay event: every count
    /// within bounds and consistent with the others. A file read back is never trusted.
    pub fn validate(
        &self,
        n: Option<u64>,
        cap: u64,
        has_stay: bool,
        steps: u64,
    ) -> Result<(), String> {
        let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
        match n {
            Some(n) => check(
                self.n == n,
                format!("holds {} trajectories, not {n}", self.n),
            )?,
            None => check(
                (1..=cap).contains(&self.n),
                format!("holds {} trajectories, outside 1..={cap}", self.n),
            )?,
        }
        let n = self.n;
        check(
            self.reach_k <= n,
            format!("reach_k = {} > n = {n}", self.reach_k),
        )?;
        check(
            self.stay_k.is_some() == has_stay,
            "stay count does not match the configuration's stay event".into(),
        )?;
        if let Some(k) = self.stay_k {
            check(k <= n, format!("stay_k = {k} > n = {n}"))?;
        }
        check(
            self.diverged <= n,
            format!("diverged = {} > n = {n}", self.diverged),
        )?;
        let total = |m: &BTreeMap<u64, u64>| {
            m.values()
                .try_fold(0u64, |a, &c| a.checked_add(c))
                .unwrap_or(u64::MAX)
        };
        check(
            total(&self.hits) == self.reach_k,
            "hitting times do not add up to reach_k".into(),
        )?;
        check(
            total(&self.hits).checked_add(total(&self.censored)) == Some(n),
            "hitting and censoring times do not add up to n".into(),
        )?;
        check(
            self.hits
                .keys()
                .chain(self.censored.keys())
                .all(|&t| t <= steps),
            format!("a time exceeds T = {steps}"),
        )?;
        let finite = n - self.diverged;
        for (name, m) in [
            ("final_dist", &self.final_dist),
            ("final_y_dist", &self.final_y_dist),
            ("final_value", &self.final_value),
        ] {
            check(
                m.n == finite,
                format!("{name} has {} values, not {finite}", m.n),
            )?;
            check(
                m.m2 >= 0.0 || m.m2.is_nan(),
                format!("{name} has a negative sum of squares"),
            )?;
        }
        check(
            self.y_dist2_overflow || self.y_dist2.len() as u64 == finite,
            "the quantile buffer does not hold every finite trajectory".into(),
        )?;
        check(
            !self.y_dist2_overflow || self.y_dist2.is_empty(),
            "an overflowed quantile buffer is not empty".into(),
        )?;
        Ok(())
    }

    /// The summary (with `stopped` set for adaptive runs).
    pub fn summarize(
        &self,
        steps: u64,
        stats: &StatsSpec,
        stopped: Option<StopReason>,
    ) -> ConfigSummary {
        let curve = KaplanMeier::from_counts(&self.hits, &self.censored, stats.level);
        let q90 = if self.y_dist2_overflow {
            super::continuous::QuantileEstimate {
                q: 0.9,
                estimate: f64::NAN,
                lower: None,
                upper: None,
                level: stats.level,
            }
        } else {
            quantile(&self.y_dist2, 0.9, stats.level)
        };
        finish_summary(self, curve, q90, steps, stats, stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_statistics_survive_a_cell_file() {
        // Finite values 1e200 apart: Σ (x − mean)² overflows, as for trajectories that do
        // not diverge but end very far out.
        let mut acc = Accumulator::new(true);
        acc.final_value.push(1e200);
        acc.final_value.push(-1e200);
        acc.y_dist2
            .extend([f64::INFINITY, 1.5, f64::NAN, f64::NEG_INFINITY]);
        assert_eq!(acc.final_value.m2, f64::INFINITY);
        let text = serde_json::to_string(&acc).unwrap();
        let back: Accumulator = serde_json::from_str(&text).unwrap();
        assert_eq!(back.final_value.m2, f64::INFINITY);
        assert_eq!(
            back.final_value.mean.to_bits(),
            acc.final_value.mean.to_bits()
        );
        assert_eq!(back.y_dist2[..2], [f64::INFINITY, 1.5]);
        assert!(back.y_dist2[2].is_nan() && back.y_dist2[3] == f64::NEG_INFINITY);
        // Finite values are written as plain numbers, as before.
        assert!(
            text.contains("\"y_dist2\":[\"inf\",1.5,\"NaN\",\"-inf\"]"),
            "{text}"
        );
        let bad = text.replace("\"inf\",1.5", "\"big\",1.5");
        assert!(serde_json::from_str::<Accumulator>(&bad).is_err());
    }
}
