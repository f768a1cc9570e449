//! sgd-escape: Monte Carlo checks of when SGD escapes local minima (Kleinberg, Li & Yuan,
//! ICML 2018).
//!
//! Module map, in the order data flows:
//!
//! - [`config`]: TOML experiment files → a validated [`experiment::Experiment`].
//! - [`experiment`]: resolved configurations and the dispatch to the generic engine.
//! - [`objective`]: landscapes f (quadratic, rastrigin, wells, spiky) behind [`objective::Objective`].
//! - [`noise`]: noise laws W (ball, cube, sphere, gaussian, none) behind [`noise::NoiseLaw`].
//! - [`dynamics`]: the step-size schedule; [`init`]: the law of x_0.
//! - [`rng`]: one seeded PCG stream per trajectory.
//! - [`engine`]: runs trajectories in parallel, in index order.
//! - [`events`]: reach / stay / final point / divergence, recorded in O(1) memory.
//! - [`stats`]: binomial intervals and per-configuration summaries.
//! - [`output`]: terminal table, CSV and JSON files, written atomically.
//! - [`bench`]: the reference throughput workloads.
//! - [`run`]: the `run` command's pipeline, from experiment to files.

pub mod bench;
pub mod calibrate;
pub mod config;
pub mod dynamics;
pub mod engine;
pub mod events;
pub mod experiment;
pub mod init;
pub mod noise;
pub mod objective;
pub mod output;
pub mod report;
pub mod rng;
pub mod run;
pub mod stats;
pub mod sweep;
pub mod theory;
