//! Objectives f: value, gradient, target x* and (where known) the gradient's Lipschitz constant.
//!
//! Every objective implements [`Objective`]. The engine is generic over it, so the gradient
//! call inlines into the step loop. Adding a landscape is one new file here plus one variant
//! in [`crate::config`].

pub mod finite_sum;
mod formula;
pub mod mlp;
mod quadratic;
mod rastrigin;
mod spiky;
mod table;
mod user;
mod wells;

use crate::lanes::{MAX_LANES, Real};

pub use finite_sum::{FiniteSum, LeastSquares, Logistic, TeacherStudent};
pub use formula::FormulaObjective;
pub use mlp::{Activation, Mlp};
pub use quadratic::Quadratic;
pub use rastrigin::Rastrigin;
pub use spiky::Spiky;
pub use table::{Outside, Table, TableError};
pub use user::UserObjective;
pub use wells::{Well, Wells};

/// The objective kinds built in, as experiment files name them (`kind = "…"`); a user's own
/// type (see [`crate::registry`]) takes any other name.
pub const BUILTIN_KINDS: [&str; 10] = [
    "quadratic",
    "rastrigin",
    "wells",
    "spiky",
    "table",
    "formula",
    "least_squares",
    "logistic",
    "mlp",
    "teacher_student",
];

/// A differentiable (or piecewise-differentiable) loss f: R^d → R.
///
/// A user's own landscape implements this trait and [`crate::registry::Custom`]; see
/// [`crate::registry`] for running it from experiment files.
///
/// ```
/// use sgd_escape::objective::Objective;
///
/// /// f(x) = Σ x_i⁴/4, whose gradient is not globally Lipschitz.
/// struct Quartic {
///     origin: Vec<f64>,
/// }
///
/// impl Objective for Quartic {
///     fn dim(&self) -> usize {
///         self.origin.len()
///     }
///     fn value(&self, x: &[f64]) -> f64 {
///         x.iter().map(|v| v * v * v * v / 4.0).sum()
///     }
///     fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
///         grad.iter_mut().zip(x).for_each(|(g, v)| *g = v * v * v);
///     }
///     fn target(&self) -> &[f64] {
///         &self.origin
///     }
///     fn lipschitz(&self) -> Option<f64> {
///         None
///     }
/// }
///
/// let f = Quartic { origin: vec![0.0; 2] };
/// let mut g = [0.0; 2];
/// let value = f.value_and_grad_into(&[1.0, -2.0], &mut g);
/// assert_eq!((value, g), (4.25, [1.0, -8.0]));
/// ```
pub trait Objective: Sync {
    /// Whether the engine compiles fixed-size point paths for d = 1 and 2 (closed-form
    /// landscapes, where a step is a few operations; finite sums, whose cost is in the
    /// examples, do not need them).
    const SMALL_DIM_PATHS: bool = true;
    /// The dimension d.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&self, x: &[f64]) -> f64;
    /// Writes ∇f(x) into `grad` (both of length d). Must not allocate.
    fn grad_into(&self, x: &[f64], grad: &mut [f64]);
    /// f(x), with ∇f(x) written into `grad`: the bits of [`Objective::value`] and
    /// [`Objective::grad_into`], in one pass where the objective can share the work (a
    /// network's forward pass serves both).
    fn value_and_grad_into(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.grad_into(x, grad);
        self.value(x)
    }
    /// Whether [`Objective::grad_lanes`] is a real lane version. False by default.
    const LANES: bool = false;

    /// Whether the engine may run this objective's trajectories in SIMD lanes
    /// ([`crate::lanes`]), when the law and the events allow: with its lane gradient where
    /// [`Objective::LANES`] says it has a real one, else with [`Objective::grad_into`] taken
    /// lane by lane while the noise is drawn and the step taken in lanes. Worth it where a
    /// gradient is cheap next to drawing the noise (formulas, tables, users' closed forms);
    /// false by default, and for finite sums, whose cost is in the examples: the engine then
    /// runs them one trajectory at a time, and the lane kernels are not compiled for them.
    /// Either way the bits are the same.
    const RUNS_IN_LANES: bool = Self::LANES;

    /// ∇f at every lane's point: `x[i]` holds coordinate i of every lane. Lane k must get
    /// the bits [`Objective::grad_into`] gives at lane k's point. The default does exactly
    /// that, lane by lane ([`grad_lane_by_lane`]; it allocates, so an objective with a real
    /// lane version overrides it).
    fn grad_lanes<L: Real>(&self, x: &[L], grad: &mut [L]) {
        let n = x.len() * L::LANES;
        grad_lane_by_lane(self, x, grad, &mut vec![0.0; n], &mut vec![0.0; n]);
    }

    /// The point x* the events are measured against.
    fn target(&self) -> &[f64];
    /// A Lipschitz constant of ∇f on all of R^d, when one is known.
    fn lipschitz(&self) -> Option<f64>;
    /// False when ∇f has jumps, so that no finite Lipschitz constant exists.
    fn is_smooth(&self) -> bool {
        true
    }

    /// A bound G on ‖∇f(w)‖ for every w within distance ρ of x, when one can be computed
    /// (used as the known range of a Hoeffding bound). `None` by default.
    fn gradient_bound(&self, _x: &[f64], _rho: f64) -> Option<f64> {
        None
    }
}

/// ∇f at every lane's point through the scalar gradient, one lane at a time: the points
/// are transposed into `xs` (lane k's point at `xs[k·d..(k + 1)·d]`), each lane's gradient
/// is written into the same place in `gs`, and `gs` is transposed back (`xs` and `gs` have
/// length d·L::LANES). [`Objective::grad_lanes`]'s default, and how the lane engine takes
/// the gradient of an objective without a lane version, with scratch it keeps.
#[inline(always)]
pub fn grad_lane_by_lane<O: Objective + ?Sized, L: Real>(
    f: &O,
    x: &[L],
    grad: &mut [L],
    xs: &mut [f64],
    gs: &mut [f64],
) {
    let (d, w) = (x.len(), L::LANES);
    let mut buf = [0.0; MAX_LANES];
    for (i, v) in x.iter().enumerate() {
        v.store(&mut buf);
        for k in 0..w {
            xs[k * d + i] = buf[k];
        }
    }
    for k in 0..w {
        f.grad_into(&xs[k * d..(k + 1) * d], &mut gs[k * d..(k + 1) * d]);
    }
    for (i, g) in grad.iter_mut().enumerate() {
        for k in 0..w {
            buf[k] = gs[k * d + i];
        }
        *g = L::load(&buf);
    }
}

/// ‖∇f(w)‖ ≤ L(‖x − x*‖ + ρ) for every w within ρ of x: the gradient bound of an objective
/// whose gradient is L-Lipschitz and vanishes at its target (`None` without a known L).
pub fn stationary_target_bound<O: Objective + ?Sized>(f: &O, x: &[f64], rho: f64) -> Option<f64> {
    let d2: f64 = x
        .iter()
        .zip(f.target())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    Some(f.lipschitz()? * (d2.sqrt() + rho))
}
