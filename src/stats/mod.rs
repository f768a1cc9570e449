//! Estimators: binomial intervals, confidence sequences, threshold decisions, survival
//! curves of hitting times, means and quantiles, and per-configuration summaries.

pub mod aggregate;
pub mod binomial;
pub mod contingency;
pub mod continuous;
pub mod decision;
pub mod multiple;
pub mod planning;
pub mod sequential;
pub mod special;
pub mod summary;
pub mod survival;

pub use binomial::{Interval, Method, Proportion, Side, interval, wilson};
pub use summary::{
    Adaptive, ConfigSummary, EventSummary, StatsSpec, StopReason, StopRule, Thresholds,
    adjust_decisions, event_counts, summarize,
};

/// Checks a confidence level: 0 < level < 1 with α = 1 − level also strictly inside (0, 1)
/// in floating point (a level below ~1e-16 rounds α to 1). Returns the level.
pub fn check_level(level: f64) -> Result<f64, String> {
    let alpha = 1.0 - level;
    if level > 0.0 && level < 1.0 && alpha > 0.0 && alpha < 1.0 {
        Ok(level)
    } else {
        Err(format!(
            "must lie in (0, 1) with 1 − level representable in (0, 1), got {level}"
        ))
    }
}
