//! Real-valued outcomes (final distance, final loss, ‖y_T − x*‖²): means with t-intervals
//! and Monte Carlo standard errors, quantiles with distribution-free intervals.

use super::special::binomial_cdf;
use serde::Serialize;

/// A mean with its t-interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanEstimate {
    /// Number of (finite) values.
    pub n: u64,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Monte Carlo standard error sd/√n.
    pub mcse: f64,
    /// Lower bound of the two-sided t-interval.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level.
    pub level: f64,
}

/// Mean, standard deviation (Welford, in index order: reproducible) and t-interval. NaN
/// fields when fewer than two values.
pub fn mean(values: &[f64], level: f64) -> MeanEstimate {
    let mut m = super::aggregate::Moments::default();
    values.iter().for_each(|&v| m.push(v));
    m.estimate(level)
}

/// A quantile with a distribution-free interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuantileEstimate {
    /// The probability q.
    pub q: f64,
    /// The sample quantile X_(⌈nq⌉).
    pub estimate: f64,
    /// X_(l): P(X_(l) ≤ ξ_q) ≥ 1 − α/2. `None` when n is too small for that.
    pub lower: Option<f64>,
    /// X_(u): P(ξ_q ≤ X_(u)) ≥ 1 − α/2. `None` when n is too small.
    pub upper: Option<f64>,
    /// Confidence level (the interval covers with at least this probability).
    pub level: f64,
}

/// The q-quantile of `values` with the order-statistic interval [X_(l), X_(u)], exact for
/// any continuous law: the number of values below ξ_q is Binomial(n, q).
pub fn quantile(values: &[f64], q: f64, level: f64) -> QuantileEstimate {
    let mut os = OrderStatistics::new(values.len() as u64, q, level);
    values.iter().for_each(|&x| os.push(x));
    os.finish()
}

/// The ranks (estimate, lower, upper) of the q-quantile's order-statistic interval for n ≥ 1
/// values at `level`.
fn ranks(n: u64, q: f64, level: f64) -> (u64, Option<u64>, Option<u64>) {
    let half_alpha = (1.0 - level) / 2.0;
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    // l: the largest rank with P(Bin(n, q) ≤ l − 1) ≤ α/2.
    let l = (1..=rank)
        .rev()
        .find(|&l| binomial_cdf(l - 1, n, q) <= half_alpha);
    // u: the smallest rank with P(Bin(n, q) ≤ u − 1) ≥ 1 − α/2.
    let u = (rank..=n).find(|&u| binomial_cdf(u - 1, n, q) >= 1.0 - half_alpha);
    (rank, l, u)
}

/// An f64 ordered by `total_cmp` (for heaps and sort keys); equal when `total_cmp` says so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Total(pub(crate) f64);
impl PartialEq for Total {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o).is_eq()
    }
}
impl Eq for Total {}
impl PartialOrd for Total {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Total {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// The exact q-quantile and its order-statistic interval of a stream of n values (n known in
/// advance), keeping only the values that can be those order statistics: the largest
/// n − l + 1 or the smallest u, whichever is fewer (about 10% of n for q = 0.9). The result
/// is bit-identical to sorting every value.
#[derive(Debug, Clone)]
pub struct OrderStatistics {
    q: f64,
    level: f64,
    n: u64,
    seen: u64,
    ranks: (u64, Option<u64>, Option<u64>),
    /// Keep the top (largest) values, else the bottom ones.
    top: bool,
    keep: usize,
    heap_top: std::collections::BinaryHeap<std::cmp::Reverse<Total>>,
    heap_bottom: std::collections::BinaryHeap<Total>,
}

impl OrderStatistics {
    /// For a stream of exactly `n` values.
    pub fn new(n: u64, q: f64, level: f64) -> Self {
        let ranks = if n == 0 {
            (0, None, None)
        } else {
            ranks(n, q, level)
        };
        let (rank, l, u) = ranks;
        let lo = l.unwrap_or(rank).min(rank);
        let hi = u.unwrap_or(rank).max(rank);
        let (top_keep, bottom_keep) = ((n + 1).saturating_sub(lo), hi);
        let top = top_keep <= bottom_keep;
        Self {
            q,
            level,
            n,
            seen: 0,
            ranks,
            top,
            keep: top_keep.min(bottom_keep) as usize,
            heap_top: Default::default(),
            heap_bottom: Default::default(),
        }
    }

    /// The next value.
    pub fn push(&mut self, x: f64) {
        self.seen += 1;
        if self.top {
            self.heap_top.push(std::cmp::Reverse(Total(x)));
            if self.heap_top.len() > self.keep {
                self.heap_top.pop();
            }
        } else {
            self.heap_bottom.push(Total(x));
            if self.heap_bottom.len() > self.keep {
                self.heap_bottom.pop();
            }
        }
    }

    /// The estimate and interval.
    ///
    /// # Panics
    /// If the number of values pushed is not the n given.
    pub fn finish(self) -> QuantileEstimate {
        assert_eq!(
            self.seen, self.n,
            "order statistics of a stream of known length"
        );
        let (q, level) = (self.q, self.level);
        if self.n == 0 {
            return QuantileEstimate {
                q,
                estimate: f64::NAN,
                lower: None,
                upper: None,
                level,
            };
        }
        let (rank, l, u) = self.ranks;
        // kept[i] is the value of rank offset + i (ranks from 1).
        let (kept, offset): (Vec<f64>, u64) = if self.top {
            let mut v: Vec<f64> = self.heap_top.into_iter().map(|r| r.0.0).collect();
            v.sort_by(f64::total_cmp);
            let offset = self.n + 1 - v.len() as u64;
            (v, offset)
        } else {
            let mut v: Vec<f64> = self.heap_bottom.into_iter().map(|t| t.0).collect();
            v.sort_by(f64::total_cmp);
            (v, 1)
        };
        let at = |r: u64| kept[(r - offset) as usize];
        QuantileEstimate {
            q,
            estimate: at(rank),
            lower: l.map(at),
            upper: u.map(at),
            level,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval() {
        // x = 1..=10: mean 5.5, sd 3.02765, t_{0.975, 9} = 2.262157 → 5.5 ± 2.16585.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let m = mean(&v, 0.95);
        assert!((m.sd - 3.027_650_354).abs() < 1e-8);
        assert!(
            (m.lower - 3.334_149_3).abs() < 1e-6 && (m.upper - 7.665_850_7).abs() < 1e-6,
            "{m:?}"
        );
    }

    #[test]
    fn streaming_order_statistics_equal_the_full_sort() {
        // A scrambled sequence with ties, against sorting everything.
        let v: Vec<f64> = (0..5000u64)
            .map(|i| ((i * 7919) % 1013) as f64 / 7.0)
            .collect();
        for q in [0.01, 0.1, 0.5, 0.9, 0.99] {
            for level in [0.5, 0.95, 0.999] {
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                let n = sorted.len() as u64;
                let (rank, l, u) = ranks(n, q, level);
                let got = quantile(&v, q, level);
                assert_eq!(got.estimate, sorted[rank as usize - 1]);
                assert_eq!(got.lower, l.map(|l| sorted[l as usize - 1]));
                assert_eq!(got.upper, u.map(|u| sorted[u as usize - 1]));
            }
        }
    }

    #[test]
    fn order_statistic_interval() {
        // n = 100, median, 95%: the classic ranks 40 and 61 (e.g. Conover, Practical
        // Nonparametric Statistics, Table A3 / R: qbinom(c(.025,.975), 100, .5) + c(0, 1)).
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let q = quantile(&v, 0.5, 0.95);
        assert_eq!(q.estimate, 50.0);
        assert_eq!(q.lower, Some(40.0));
        assert_eq!(q.upper, Some(61.0));
        // Too few points for a 95% interval of the 0.99 quantile.
        assert_eq!(quantile(&v[..10], 0.99, 0.95).upper, None);
    }
}
