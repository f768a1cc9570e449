//! Estimators: binomial intervals, confidence sequences, threshold decisions, survival
//! curves of hitting times, means and quantiles, and per-configuration summaries.

pub mod aggregate;
pub mod binomial;
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
