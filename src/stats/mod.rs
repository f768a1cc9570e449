//! Estimators: binomial intervals and per-configuration summaries of outcomes.

pub mod binomial;
pub mod summary;

pub use binomial::{Interval, Proportion, wilson};
pub use summary::{ConfigSummary, summarize};
