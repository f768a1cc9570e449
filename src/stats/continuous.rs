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
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as u64;
    if n == 0 {
        return QuantileEstimate {
            q,
            estimate: f64::NAN,
            lower: None,
            upper: None,
            level,
        };
    }
    let half_alpha = (1.0 - level) / 2.0;
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    // l: the largest rank with P(Bin(n, q) ≤ l − 1) ≤ α/2.
    let l = (1..=rank)
        .rev()
        .find(|&l| binomial_cdf(l - 1, n, q) <= half_alpha);
    // u: the smallest rank with P(Bin(n, q) ≤ u − 1) ≥ 1 − α/2.
    let u = (rank..=n).find(|&u| binomial_cdf(u - 1, n, q) >= 1.0 - half_alpha);
    QuantileEstimate {
        q,
        estimate: v[(rank - 1) as usize],
        lower: l.map(|l| v[(l - 1) as usize]),
        upper: u.map(|u| v[(u - 1) as usize]),
        level,
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
