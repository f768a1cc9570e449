//! sgd-escape: Monte Carlo checks of when SGD escapes local minima (Kleinberg, Li & Yuan,
//! ICML 2018).
//!
//! Module map, in the order data flows:
//!
//! - [`custom`]: the identity (kind, version, parameters) a user's own type declares;
//!   [`registry`]: the kinds a program adds to experiment files (typed, or stated at run time
//!   as the Python package does for callables), the entry point for users'
//!   own objectives and noise laws.
//! - [`math`]: exp, ln, sine and cosine of our own, the same bits everywhere.
//! - [`config`]: TOML experiment files → a validated [`experiment::Experiment`].
//! - [`experiment`]: resolved configurations and the dispatch to the generic engine.
//! - [`data`]: data sets of finite-sum objectives (synthetic and seeded, or CSV).
//! - [`objective`]: landscapes f (quadratic, rastrigin, wells, tables (spiky is one),
//!   formulas; finite sums: least squares, logistic, teacher–student, MLP) behind
//!   [`objective::Objective`] and [`objective::FiniteSum`].
//! - [`formula`]: the expression language of formula objectives: parsing, evaluation with
//!   the project's own elementary functions, exact gradients.
//! - [`noise`]: noise laws W (ball, cube, sphere, gaussian, none) behind [`noise::NoiseLaw`],
//!   and the minibatch spec.
//! - [`oracle`]: how x_t moves to x_{t+1}, behind [`oracle::Oracle`]: a noise law on the
//!   exact gradient, or minibatch SGD on a finite sum (with its batch sampling).
//! - [`dynamics`]: the step-size schedule; [`init`]: the law of x_0.
//! - [`rng`]: one seeded PCG stream per trajectory.
//! - [`engine`]: runs trajectories in parallel, in index order.
//! - [`isa`]: the instruction sets hot kernels run on, chosen at run time, same bits on each;
//!   [`lanes`]: trajectories in SIMD lanes (vector types per instruction set, the lane PCG,
//!   the draws written once for one lane or many).
//! - [`events`]: reach / stay / final point / divergence, recorded in O(1) memory.
//! - [`stats`]: binomial intervals, tests and per-configuration summaries.
//! - [`output`]: terminal table, CSV, JSON and Parquet files, written atomically.
//! - [`bench`](mod@bench): the reference throughput workloads.
//! - [`run`]: one cell simulated and folded; the results of a run.
//! - [`convexity`]: the paper's Section 5 measurements along trajectories (one-point
//!   convexity towards where SGD ends, in a ball around the path, between trajectories).
//! - [`pipeline`]: the one pipeline, units → stored cells → summaries (memory or disk).
//! - [`sweep`]: result directories: manifest, cells on disk, locks, resume, shards, merge.
//! - [`report`]: plots (SVG at 175 and 85 mm, PDF and PNG beside them) and `index.html`
//!   from a result directory's documented outputs, the paper's Figure 3 and the comparison
//!   with it.
//! - [`cli`]: the command line (`sgd-escape`, or a user's program with its own
//!   [`registry::Registry`]).

/// The numerics version: bumped by any change that alters a simulated number (an objective,
/// a noise sampler, the engine's arithmetic, the RNG's seeding, the folding of outcomes).
/// Written into every result and cell file; cells of another numerics version are never
/// reused. The crate version alone does not say whether numbers changed.
///
/// 2: an MLP's mean gradient over a batch adds the L2 term λx once, after the mean of the
/// cross-entropy gradients, instead of with every example.
///
/// 3: normals by Box–Muller on the project's own ln and sine (before: rand_distr's
/// ziggurat, whose slow path calls libm); a fair sign from the top bit of an output; the
/// d ≥ 3 ball's normals drawn in pairs, coordinates first; libm gone from the Rastrigin
/// value and far-point gradient, the wells' bumps and log-spaced sweep axes.
///
/// 4: ln on a minimax polynomial (7 terms instead of 15); Box–Muller's direction from the
/// cosine and sine of a 53-bit angle on a quarter-turn reduction
/// ([`math::trig::cos_sin_of_bits`]) instead of two sines.
pub const NUMERICS_VERSION: u32 = 4;

/// The git commit this binary was built from (12 hex digits), or a fallback when it was
/// built outside a git checkout. Recorded in result files; never part of a cell's identity.
pub const BUILD_COMMIT: &str = env!("SGD_ESCAPE_COMMIT");

/// The cargo profile this binary was built with (`release`, `debug`).
pub const BUILD_PROFILE: &str = env!("SGD_ESCAPE_PROFILE");

/// `--version`'s text: the crate version, the commit and the profile.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SGD_ESCAPE_COMMIT"),
    ", ",
    env!("SGD_ESCAPE_PROFILE"),
    " build)"
);

pub mod bench;
pub mod calibrate;
pub mod cli;
pub mod config;
pub mod convexity;
pub mod custom;
pub mod data;
pub mod dynamics;
pub mod engine;
pub mod events;
pub mod experiment;
pub mod formula;
pub mod init;
pub mod isa;
pub mod lanes;
pub mod math;
pub mod noise;
pub mod objective;
pub mod oracle;
pub mod output;
pub mod pipeline;
pub mod registry;
pub mod report;
pub mod rng;
pub mod run;
pub mod stats;
pub mod sweep;
pub mod theory;

pub use registry::Registry;
