//! Finite-sum objectives f(x) = (1/n) Σᵢ fᵢ(x) over a data set, with per-example gradients:
//! what minibatch SGD samples from.
//!
//! Sums over examples are taken in the order given (index order for the full gradient), so a
//! minibatch of every example in index order gives the full gradient bit for bit.

use super::Objective;
use crate::data::DataSet;
use crate::math::elementary::{sigmoid, softplus};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// A loss that is a mean over n examples.
pub trait FiniteSum: Objective {
    /// n, the number of examples.
    fn examples(&self) -> usize;

    /// Adds w·∇fᵢ(x) to `out` (length d). Must not allocate.
    fn add_example_grad(&self, i: usize, x: &[f64], w: f64, out: &mut [f64]);

    /// ∇fᵢ(x) into `out`.
    fn example_grad_into(&self, i: usize, x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        self.add_example_grad(i, x, 1.0, out);
    }

    /// The minibatch gradient (1/B) Σ_{i ∈ batch} ∇fᵢ(x), summed in the order of `batch`.
    fn batch_grad_into(&self, batch: &[usize], x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for &i in batch {
            self.add_example_grad(i, x, 1.0, out);
        }
        let b = batch.len() as f64;
        out.iter_mut().for_each(|g| *g /= b);
    }

    /// maxᵢ‖∇fᵢ(x) − ∇f(x)‖ given `grad_x` = ∇f(x), each squared norm summed in coordinate
    /// order from −0 (as `Iterator::sum` does); `scratch` has length d.
    fn max_example_deviation(&self, x: &[f64], grad_x: &[f64], scratch: &mut [f64]) -> f64 {
        let mut worst = 0.0f64;
        for i in 0..self.examples() {
            self.example_grad_into(i, x, scratch);
            let d2: f64 = scratch
                .iter()
                .zip(grad_x)
                .map(|(g, m)| (g - m) * (g - m))
                .sum();
            worst = worst.max(d2);
        }
        worst.sqrt()
    }
}

/// ∇f = (1/n) Σᵢ ∇fᵢ in index order.
pub(crate) fn full_grad<F: FiniteSum + ?Sized>(f: &F, x: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for i in 0..f.examples() {
        f.add_example_grad(i, x, 1.0, out);
    }
    let n = f.examples() as f64;
    out.iter_mut().for_each(|g| *g /= n);
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// AᵀA/n of a data set's features.
fn gram(data: &DataSet) -> DMatrix<f64> {
    let a = DMatrix::from_row_slice(data.n, data.p, &data.features);
    (a.transpose() * &a) / data.n as f64
}

/// (λ_min, λ_max) of a symmetric matrix.
fn extreme_eigenvalues(m: DMatrix<f64>) -> (f64, f64) {
    let e = SymmetricEigen::new(m).eigenvalues;
    (e.min(), e.max())
}

/// Least squares: fᵢ(x) = ½(aᵢᵀx − bᵢ)², f = (1/n) Σᵢ fᵢ. x* is the exact least-squares
/// solution, L and c the largest and smallest eigenvalues of AᵀA/n (∇f(x) = AᵀA/n (x − x*)).
#[derive(Debug, Clone)]
pub struct LeastSquares {
    data: DataSet,
    x_star: Vec<f64>,
    l: f64,
    c: f64,
}

impl LeastSquares {
    /// The least-squares problem of `data` (labels are the bᵢ). `None` when AᵀA is singular
    /// (fewer independent examples than features: x* is not unique).
    pub fn new(data: DataSet) -> Option<Self> {
        let h = gram(&data);
        let a = DMatrix::from_row_slice(data.n, data.p, &data.features);
        let rhs = a.transpose() * DVector::from_column_slice(&data.labels) / data.n as f64;
        // The normal equations by Cholesky (square roots and the four operations only), then
        // one step of iterative refinement with the residual computed in index order.
        let chol = h.clone().cholesky()?;
        let mut x = chol.solve(&rhs);
        let residual = &rhs - &h * &x;
        x += chol.solve(&residual);
        let (c, l) = extreme_eigenvalues(h);
        (c > 0.0).then(|| Self {
            x_star: x.iter().copied().collect(),
            data,
            l,
            c,
        })
    }

    /// The one-point strong convexity constant: λ_min(AᵀA/n) (smoothing leaves a quadratic
    /// unchanged, so this is c after convolution too).
    pub fn c(&self) -> f64 {
        self.c
    }

    /// The data.
    pub fn data(&self) -> &DataSet {
        &self.data
    }
}

impl Objective for LeastSquares {
    const SMALL_DIM_PATHS: bool = false;
    fn dim(&self) -> usize {
        self.data.p
    }
    fn value(&self, x: &[f64]) -> f64 {
        let s: f64 = (0..self.data.n)
            .map(|i| {
                let r = dot(self.data.row(i), x) - self.data.labels[i];
                0.5 * r * r
            })
            .sum();
        s / self.data.n as f64
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        full_grad(self, x, grad)
    }
    fn target(&self) -> &[f64] {
        &self.x_star
    }
    fn lipschitz(&self) -> Option<f64> {
        Some(self.l)
    }
    /// ∇f(x*) = 0 and ∇f is L-Lipschitz: ‖∇f(w)‖ ≤ L(‖x − x*‖ + ρ).
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        super::stationary_target_bound(self, x, rho)
    }
}

impl FiniteSum for LeastSquares {
    fn examples(&self) -> usize {
        self.data.n
    }
    #[inline]
    fn add_example_grad(&self, i: usize, x: &[f64], w: f64, out: &mut [f64]) {
        let a = self.data.row(i);
        let r = w * (dot(a, x) - self.data.labels[i]);
        for (o, a) in out.iter_mut().zip(a) {
            *o += r * a;
        }
    }
}

/// L2-regularised logistic regression: fᵢ(x) = ln(1 + exp(−yᵢ aᵢᵀx)) + (λ/2)‖x‖², yᵢ = ±1,
/// λ > 0 so that x* is unique. x* by Newton's method to machine precision;
/// L = λ_max(AᵀA)/(4n) + λ; c ≥ λ (the regulariser's strong convexity).
#[derive(Debug, Clone)]
pub struct Logistic {
    data: DataSet,
    lambda: f64,
    x_star: Vec<f64>,
    l: f64,
}

impl Logistic {
    /// The problem of `data` (labels ±1) with regularisation λ > 0; `None` when a label is
    /// not ±1, λ ≤ 0, or Newton's method does not converge.
    pub fn new(data: DataSet, lambda: f64) -> Option<Self> {
        if !(lambda > 0.0 && lambda.is_finite())
            || data.labels.iter().any(|&y| y != 1.0 && y != -1.0)
        {
            return None;
        }
        let l = extreme_eigenvalues(gram(&data)).1 / 4.0 + lambda;
        let mut f = Self {
            x_star: vec![0.0; data.p],
            data,
            lambda,
            l,
        };
        f.x_star = f.newton()?;
        Some(f)
    }

    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The data.
    pub fn data(&self) -> &DataSet {
        &self.data
    }

    /// Newton's method from 0 with a backtracking line search on f; stops when a step no
    /// longer shrinks ‖∇f‖ (machine precision).
    fn newton(&self) -> Option<Vec<f64>> {
        let (n, p) = (self.data.n, self.data.p);
        let mut x = vec![0.0; p];
        let mut g = vec![0.0; p];
        self.grad_into(&x, &mut g);
        let mut gnorm = dot(&g, &g).sqrt();
        for _ in 0..200 {
            let mut h = DMatrix::<f64>::identity(p, p) * self.lambda;
            for i in 0..n {
                let a = self.data.row(i);
                let s = sigmoid(self.data.labels[i] * dot(a, &x));
                let w = s * (1.0 - s) / n as f64;
                for j in 0..p {
                    for k in 0..p {
                        h[(j, k)] += w * a[j] * a[k];
                    }
                }
            }
            let step = h.cholesky()?.solve(&DVector::from_column_slice(&g));
            let (mut t, f0) = (1.0, self.value(&x));
            let mut next = vec![0.0; p];
            loop {
                for j in 0..p {
                    next[j] = x[j] - t * step[j];
                }
                if self.value(&next) <= f0 || t < 1e-12 {
                    break;
                }
                t *= 0.5;
            }
            let mut g_next = vec![0.0; p];
            self.grad_into(&next, &mut g_next);
            let norm_next = dot(&g_next, &g_next).sqrt();
            if norm_next >= gnorm {
                break;
            }
            (x, g, gnorm) = (next, g_next, norm_next);
        }
        gnorm.is_finite().then_some(x)
    }
}

impl Objective for Logistic {
    const SMALL_DIM_PATHS: bool = false;
    fn dim(&self) -> usize {
        self.data.p
    }
    fn value(&self, x: &[f64]) -> f64 {
        let s: f64 = (0..self.data.n)
            .map(|i| softplus(-self.data.labels[i] * dot(self.data.row(i), x)))
            .sum();
        s / self.data.n as f64 + 0.5 * self.lambda * dot(x, x)
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        full_grad(self, x, grad)
    }
    fn target(&self) -> &[f64] {
        &self.x_star
    }
    fn lipschitz(&self) -> Option<f64> {
        Some(self.l)
    }
    /// ∇f(x*) = 0 and ∇f is L-Lipschitz: ‖∇f(w)‖ ≤ L(‖x − x*‖ + ρ).
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        super::stationary_target_bound(self, x, rho)
    }
}

impl FiniteSum for Logistic {
    fn examples(&self) -> usize {
        self.data.n
    }
    #[inline]
    fn add_example_grad(&self, i: usize, x: &[f64], w: f64, out: &mut [f64]) {
        let a = self.data.row(i);
        let y = self.data.labels[i];
        // ∇fᵢ = −y σ(−y aᵀx) a + λx.
        let coef = -w * y * sigmoid(-y * dot(a, x));
        let reg = w * self.lambda;
        for ((o, a), x) in out.iter_mut().zip(a).zip(x) {
            *o += coef * a + reg * x;
        }
    }
}

/// A two-layer ReLU network fitted to a planted teacher on Gaussian inputs (Li & Yuan 2017,
/// the setting where one-point strong convexity is proven locally): with inputs a ∈ R^d and
/// width k ≤ d, the model is m(a; W) = Σⱼ ReLU(((I + W) a)ⱼ), W ∈ R^{k×d} (the first k rows
/// of I), and fᵢ(W) = ½(m(aᵢ; W) − yᵢ)² with yᵢ = m(aᵢ; W*). x = vec(W) row by row (unit j's
/// weights at j·d … j·d + d − 1), x* = W*, the teacher.
///
/// The identity part ties unit j to input coordinate j, so permuting hidden units changes the
/// function: the parameterisation, not a distance up to permutation, makes x* unique (as a
/// zero of the loss near the teacher). ∇f jumps where a unit's input crosses 0, so there is
/// no Lipschitz constant; the gradient takes ReLU′(0) = 0.
#[derive(Debug, Clone)]
pub struct TeacherStudent {
    data: DataSet,
    width: usize,
    teacher: Vec<f64>,
}

impl TeacherStudent {
    /// n Gaussian inputs in dimension d, width k (1 ≤ k ≤ d), a teacher with N(0, s²) weights,
    /// all drawn from the data generator keyed by `data_seed`. `None` when k is 0 or above d.
    pub fn new(d: usize, k: usize, n: usize, teacher_scale: f64, data_seed: u64) -> Option<Self> {
        if k == 0 || k > d || n == 0 {
            return None;
        }
        let (inputs, teacher) = crate::data::gaussian_inputs(n, d, k * d, teacher_scale, data_seed);
        let mut f = Self {
            data: inputs,
            width: k,
            teacher,
        };
        for i in 0..n {
            f.data.labels[i] = f.model(i, &f.teacher.clone());
        }
        Some(f)
    }

    /// The width k.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The data (inputs and the teacher's outputs).
    pub fn data(&self) -> &DataSet {
        &self.data
    }

    /// Pre-activation of unit j on example i: ((I + W) aᵢ)ⱼ.
    #[inline]
    fn pre(&self, i: usize, j: usize, x: &[f64]) -> f64 {
        let (a, d) = (self.data.row(i), self.data.p);
        a[j] + dot(&x[j * d..(j + 1) * d], a)
    }

    /// m(aᵢ; W).
    fn model(&self, i: usize, x: &[f64]) -> f64 {
        (0..self.width).map(|j| self.pre(i, j, x).max(0.0)).sum()
    }
}

impl Objective for TeacherStudent {
    const SMALL_DIM_PATHS: bool = false;
    fn dim(&self) -> usize {
        self.width * self.data.p
    }
    fn value(&self, x: &[f64]) -> f64 {
        let s: f64 = (0..self.data.n)
            .map(|i| {
                let r = self.model(i, x) - self.data.labels[i];
                0.5 * r * r
            })
            .sum();
        s / self.data.n as f64
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        full_grad(self, x, grad)
    }
    fn target(&self) -> &[f64] {
        &self.teacher
    }
    fn lipschitz(&self) -> Option<f64> {
        None
    }
    fn is_smooth(&self) -> bool {
        false
    }
}

impl FiniteSum for TeacherStudent {
    fn examples(&self) -> usize {
        self.data.n
    }
    fn add_example_grad(&self, i: usize, x: &[f64], w: f64, out: &mut [f64]) {
        let (a, d) = (self.data.row(i), self.data.p);
        let r = w * (self.model(i, x) - self.data.labels[i]);
        for j in 0..self.width {
            if self.pre(i, j, x) > 0.0 {
                for (o, a) in out[j * d..(j + 1) * d].iter_mut().zip(a) {
                    *o += r * a;
                }
            }
        }
    }
}
