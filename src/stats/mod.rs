//! Estimators: binomial intervals and per-configuration summaries of outcomes.

pub mod binomial;
pub mod special;
pub mod summary;

pub use binomial::{Interval, Method, Proportion, Side, interval, wilson};
pub use summary::{ConfigSummary, summarize};
