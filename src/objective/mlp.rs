//! A multilayer perceptron classifier as a finite sum: softmax cross-entropy over n examples,
//! an optional L2 term, per-example gradients by hand-written backpropagation.
//!
//! Parameters x are the layers in order, each as its weight matrix (rows = units of the
//! layer, row-major) followed by its biases. Activations go through the project's own exp
//! (tanh and the softmax), so results are the same bit for bit on every platform.
//!
//! The step loop does not allocate: forward and backward passes use a per-thread scratch
//! buffer that grows once to the network's size.

use super::Objective;
use super::elementary::{exp, ln};
use super::finite_sum::{FiniteSum, full_grad};
use crate::data::DataSet;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// The hidden units' activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// tanh (smooth).
    #[default]
    Tanh,
    /// max(0, z) (∇f jumps where a unit's input crosses 0; the derivative at 0 is taken 0).
    Relu,
}

/// tanh through our own exp: sign(z)(1 − 2/(e^{2|z|} + 1)).
#[inline]
pub fn tanh(z: f64) -> f64 {
    let t = 1.0 - 2.0 / (exp(2.0 * z.abs()) + 1.0);
    if z < 0.0 { -t } else { t }
}

/// A multilayer perceptron classifier on a data set with integer labels 0 … C − 1:
/// fᵢ(x) = −log softmax(m(aᵢ; x))_{yᵢ} + (λ/2)‖x‖² (the L2 term on every parameter).
#[derive(Debug, Clone)]
pub struct Mlp {
    data: DataSet,
    /// Units per layer: inputs, hidden layers, classes.
    sizes: Vec<usize>,
    activation: Activation,
    lambda: f64,
    /// Offset of each layer's weights in x.
    offsets: Vec<usize>,
    dim: usize,
    target: Vec<f64>,
    validation: Option<DataSet>,
}

thread_local! {
    /// Pre-activations and deltas of one forward and backward pass.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Mlp {
    /// The network with `hidden` units per hidden layer on `data` (labels 0 … C − 1, C ≥ 2
    /// the largest label + 1), activation and λ ≥ 0. The target starts at 0 (see
    /// [`Self::with_target`]). `None` when a label is not an integer in 0 … 1000, fewer
    /// than two classes appear, a width is 0, or λ is negative.
    pub fn new(
        data: DataSet,
        hidden: &[usize],
        activation: Activation,
        lambda: f64,
    ) -> Option<Self> {
        let valid = |y: f64| (0.0..=1000.0).contains(&y) && y.fract() == 0.0;
        if !(data.labels.iter().all(|&y| valid(y)) && lambda >= 0.0 && lambda.is_finite()) {
            return None;
        }
        let classes = data.labels.iter().fold(0.0f64, |m, &y| m.max(y)) as usize + 1;
        if classes < 2 || hidden.contains(&0) {
            return None;
        }
        let mut sizes = vec![data.p];
        sizes.extend_from_slice(hidden);
        sizes.push(classes);
        let mut offsets = Vec::with_capacity(sizes.len());
        let mut dim = 0usize;
        for w in sizes.windows(2) {
            offsets.push(dim);
            dim = dim.checked_add(w[1].checked_mul(w[0] + 1)?)?;
        }
        Some(Self {
            data,
            sizes,
            activation,
            lambda,
            offsets,
            dim,
            target: vec![0.0; dim],
            validation: None,
        })
    }

    /// The parameter count of a network with these layer sizes (inputs, hidden…, classes),
    /// `None` on overflow: for bounding sizes before anything is built.
    pub fn parameter_count(sizes: &[usize]) -> Option<usize> {
        sizes
            .windows(2)
            .try_fold(0usize, |d, w| d.checked_add(w[1].checked_mul(w[0] + 1)?))
    }

    /// The same network with target x* = `target` (length d).
    pub fn with_target(mut self, target: Vec<f64>) -> Self {
        assert_eq!(
            target.len(),
            self.dim,
            "a target of the network's dimension"
        );
        self.target = target;
        self
    }

    /// The same network with a validation set (same features; labels below C). `None` when
    /// the features or labels do not fit.
    pub fn with_validation(mut self, data: DataSet) -> Option<Self> {
        let classes = *self.sizes.last().expect("layers") as f64;
        let fits = data.p == self.data.p
            && data
                .labels
                .iter()
                .all(|&y| (0.0..classes).contains(&y) && y.fract() == 0.0);
        fits.then(|| {
            self.validation = Some(data);
            self
        })
    }

    /// The validation set, when one was given.
    pub fn validation(&self) -> Option<&DataSet> {
        self.validation.as_ref()
    }

    /// Units per layer: inputs, hidden layers, classes.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The data.
    pub fn data(&self) -> &DataSet {
        &self.data
    }

    /// The mean cross-entropy (without the L2 term) and the share of misclassified examples
    /// of the network x on `data` (same features as the training data).
    pub fn loss_and_error(&self, x: &[f64], data: &DataSet) -> (f64, f64) {
        let mut logits = vec![0.0; *self.sizes.last().expect("layers")];
        let (mut loss, mut wrong) = (0.0, 0usize);
        for i in 0..data.n {
            let y = data.labels[i] as usize;
            loss += self.forward_loss(data.row(i), y, x, &mut logits);
            let best = (0..logits.len())
                .max_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)))
                .expect("classes");
            wrong += usize::from(best != y);
        }
        (loss / data.n as f64, wrong as f64 / data.n as f64)
    }

    /// Runs `pass` on this thread's scratch, split into the layer outputs h and the deltas
    /// (one value per unit each); the buffer grows once to the network's size.
    fn with_scratch<R>(&self, pass: impl FnOnce(&mut [f64], &mut [f64]) -> R) -> R {
        let total: usize = self.sizes.iter().sum();
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < 2 * total {
                s.resize(2 * total, 0.0);
            }
            let (h, delta) = s[..2 * total].split_at_mut(total);
            pass(h, delta)
        })
    }

    /// Cross-entropy of one example (logits left in `logits`).
    fn forward_loss(&self, a: &[f64], y: usize, x: &[f64], logits: &mut [f64]) -> f64 {
        self.with_scratch(|h, _| {
            self.forward(a, x, h);
            let out = &h[h.len() - logits.len()..];
            logits.copy_from_slice(out);
            cross_entropy(out, y)
        })
    }

    /// Forward pass: fills `h` with each layer's outputs in order (inputs copied first,
    /// hidden layers after the activation, logits last).
    #[inline]
    fn forward(&self, a: &[f64], x: &[f64], h: &mut [f64]) {
        let last = self.sizes.len() - 1;
        h[..a.len()].copy_from_slice(a);
        let mut start = 0;
        for l in 0..last {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (before, after) = h.split_at_mut(start + n_in);
            let input = &before[start..];
            let out = &mut after[..n_out];
            let w = &x[self.offsets[l]..self.offsets[l] + n_out * n_in];
            let b = &x[self.offsets[l] + n_out * n_in..self.offsets[l] + n_out * (n_in + 1)];
            for (j, o) in out.iter_mut().enumerate() {
                let row = &w[j * n_in..(j + 1) * n_in];
                let z = row.iter().zip(input).fold(b[j], |s, (w, v)| s + w * v);
                *o = if l + 1 == last {
                    z
                } else {
                    match self.activation {
                        Activation::Tanh => tanh(z),
                        Activation::Relu => z.max(0.0),
                    }
                };
            }
            start += n_in;
        }
    }
}

/// −log softmax(z)_y, as logsumexp(z) − z_y with the maximum taken out.
fn cross_entropy(z: &[f64], y: usize) -> f64 {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let s: f64 = z.iter().map(|&v| exp(v - m)).sum();
    m + ln(s) - z[y]
}

impl Objective for Mlp {
    const SMALL_DIM_PATHS: bool = false;

    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &[f64]) -> f64 {
        let l2: f64 = x.iter().map(|v| v * v).sum();
        self.loss_and_error(x, &self.data).0 + 0.5 * self.lambda * l2
    }

    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        full_grad(self, x, grad)
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        None
    }

    fn is_smooth(&self) -> bool {
        self.activation == Activation::Tanh
    }

    /// Backpropagation's norms bounded over the ball: with W̄ₗ = ‖Wₗ(x)‖_F + ρ and
    /// b̄ₗ = ‖bₗ(x)‖ + ρ (no parameter moves by more than ρ), the output's δ has norm at most
    /// √2 (softmax minus a unit vector), a hidden layer's δ at most W̄ₗ times the next one's
    /// (|act′| ≤ 1), a layer's input h at most maxᵢ‖aᵢ‖ (inputs), √width (tanh) or
    /// W̄ h + b̄ (ReLU); layer l's gradient (δ hᵀ and δ) has norm ‖δ‖√(‖h‖² + 1). Every
    /// example's gradient, hence their mean, is within the root of the sum of squares, plus
    /// λ(‖x‖ + ρ) for the L2 term.
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        let layers = self.sizes.len() - 1;
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let (mut w_bar, mut b_bar) = (Vec::new(), Vec::new());
        for l in 0..layers {
            let (n_in, n_out, off) = (self.sizes[l], self.sizes[l + 1], self.offsets[l]);
            w_bar.push(norm(&x[off..off + n_out * n_in]) + rho);
            b_bar.push(norm(&x[off + n_out * n_in..off + n_out * (n_in + 1)]) + rho);
        }
        let a_max = (0..self.data.n)
            .map(|i| norm(self.data.row(i)))
            .fold(0.0f64, f64::max);
        // ‖h_l‖ for l = 0 … layers − 1.
        let mut h = vec![a_max];
        for l in 1..layers {
            h.push(match self.activation {
                Activation::Tanh => (self.sizes[l] as f64).sqrt(),
                Activation::Relu => w_bar[l - 1] * h[l - 1] + b_bar[l - 1],
            });
        }
        // ‖δ_{l+1}‖, the delta at layer l's output, from the top.
        let mut delta = vec![0.0; layers];
        delta[layers - 1] = std::f64::consts::SQRT_2;
        for l in (0..layers - 1).rev() {
            delta[l] = w_bar[l + 1] * delta[l + 1];
        }
        let sum: f64 = (0..layers)
            .map(|l| delta[l] * delta[l] * (h[l] * h[l] + 1.0))
            .sum();
        let bound = sum.sqrt() + self.lambda * (norm(x) + rho);
        bound.is_finite().then_some(bound)
    }
}

impl FiniteSum for Mlp {
    fn examples(&self) -> usize {
        self.data.n
    }

    fn add_example_grad(&self, i: usize, x: &[f64], w: f64, out: &mut [f64]) {
        let total: usize = self.sizes.iter().sum();
        let last = self.sizes.len() - 1;
        let a = self.data.row(i);
        let y = self.data.labels[i] as usize;
        self.with_scratch(|h, delta| {
            self.forward(a, x, h);
            // δ at the logits: w (softmax(z) − e_y).
            let classes = self.sizes[last];
            let z = &h[total - classes..];
            let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let mut sum = 0.0;
            for (d, &v) in delta[total - classes..total].iter_mut().zip(z) {
                *d = exp(v - m);
                sum += *d;
            }
            for (c, d) in delta[total - classes..total].iter_mut().enumerate() {
                *d = w * (*d / sum - if c == y { 1.0 } else { 0.0 });
            }
            // Back through the layers: layer l maps h[start_l .. +n_in] to the next block.
            let mut end = total;
            for l in (0..last).rev() {
                let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
                let out_start = end - n_out;
                let in_start = out_start - n_in;
                let (off, nw) = (self.offsets[l], n_out * n_in);
                let (d_in, d_out) = delta.split_at_mut(out_start);
                let d_out = &d_out[..n_out];
                let input = &h[in_start..out_start];
                for j in 0..n_out {
                    let dj = d_out[j];
                    let row = &mut out[off + j * n_in..off + (j + 1) * n_in];
                    for (g, v) in row.iter_mut().zip(input) {
                        *g += dj * v;
                    }
                    out[off + nw + j] += dj;
                }
                if l > 0 {
                    // δ of the hidden layer below: (Wᵀ δ) ⊙ act′, act′ from its output.
                    let w_l = &x[off..off + nw];
                    let d_in = &mut d_in[in_start..out_start];
                    d_in.fill(0.0);
                    for j in 0..n_out {
                        let dj = d_out[j];
                        for (d, wv) in d_in.iter_mut().zip(&w_l[j * n_in..(j + 1) * n_in]) {
                            *d += wv * dj;
                        }
                    }
                    for (d, &v) in d_in.iter_mut().zip(input) {
                        *d *= match self.activation {
                            Activation::Tanh => 1.0 - v * v,
                            Activation::Relu => {
                                if v > 0.0 {
                                    1.0
                                } else {
                                    0.0
                                }
                            }
                        };
                    }
                }
                end = out_start;
            }
        });
        if self.lambda != 0.0 {
            let reg = w * self.lambda;
            for (g, v) in out.iter_mut().zip(x) {
                *g += reg * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_close_to_the_standard_library() {
        for i in -2000..=2000 {
            let z = i as f64 * 0.01;
            assert!((tanh(z) - z.tanh()).abs() <= 4.0 * f64::EPSILON, "{z}");
        }
        assert_eq!(tanh(1e3), 1.0);
        assert_eq!(tanh(-1e3), -1.0);
    }
}
