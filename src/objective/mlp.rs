//! A multilayer perceptron classifier as a finite sum: softmax cross-entropy over n examples,
//! an optional L2 term, per-example gradients by hand-written backpropagation.
//!
//! Parameters x are the layers in order, each as its weight matrix (rows = units of the
//! layer, row-major) followed by its biases. Activations go through the project's own exp
//! (tanh and the softmax), so results are the same bit for bit on every platform.
//!
//! The step loop does not allocate: forward and backward passes use a per-thread scratch
//! buffer that grows once to the network's size. A minibatch is processed in blocks of 32
//! examples, each gradient entry held in a register while every example of the block adds
//! its term, on the widest vector instruction set the CPU has ([`crate::isa`]); every entry
//! still receives its terms in example order, so the bits are those of one example at a
//! time, on every instruction set.

use super::Objective;
use super::finite_sum::FiniteSum;
use crate::data::DataSet;
use crate::isa::{Isa, Kernel};
use crate::math::elementary::{exp, exp_in_place, exp_in_range, ln};
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

/// [`tanh`] of every entry in place, the same bits, in a loop that vectorises: 2|z| is capped
/// at 40 so [`exp_in_range`] serves (from 2|z| ≈ 38.1 on, 2/(e^{2|z|} + 1) is below half an
/// ulp of 1 and tanh rounds to ±1 either way; NaN stays NaN).
#[inline(always)]
pub fn tanh_in_place(v: &mut [f64]) {
    for z in v {
        let a = 2.0 * z.abs();
        let a = if a > 40.0 { 40.0 } else { a };
        let t = 1.0 - 2.0 / (exp_in_range(a) + 1.0);
        *z = if *z < 0.0 { -t } else { t };
    }
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
    /// The instruction set of the forward and backward passes (same bits on each).
    isa: Isa,
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
            isa: Isa::detect(),
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

    /// The same network on another instruction set the CPU has: the gradients and losses
    /// are the same bits on each (tests check it); only the speed differs.
    pub fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = isa;
        self
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
        let (loss, wrong) = self.with_scratch(x, |s| {
            self.isa.run(Losses {
                net: self,
                data,
                x,
                s,
            })
        });
        (loss / data.n as f64, wrong as f64 / data.n as f64)
    }

    /// Runs `pass` on this thread's scratch: the transposed weights of every layer, and the
    /// layer outputs h and deltas of a block of up to [`BLOCK`] examples. The buffer grows
    /// once to the network's size; the weights are transposed once per call (see
    /// [`Scratch::wt`]).
    fn with_scratch<R>(&self, x: &[f64], pass: impl FnOnce(&mut Scratch) -> R) -> R {
        let total: usize = self.sizes.iter().sum();
        let weights: usize = self.sizes.windows(2).map(|w| w[0] * w[1]).sum();
        let len = weights + 2 * BLOCK * total;
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < len {
                s.resize(len, 0.0);
            }
            let (wt, rest) = s[..len].split_at_mut(weights);
            let mut at = 0;
            for (l, w) in self.sizes.windows(2).enumerate() {
                let (n_in, n_out) = (w[0], w[1]);
                let src = &x[self.offsets[l]..self.offsets[l] + n_out * n_in];
                let dst = &mut wt[at..at + n_out * n_in];
                for (j, row) in src.chunks_exact(n_in).enumerate() {
                    for (p, &v) in row.iter().enumerate() {
                        dst[p * n_out + j] = v;
                    }
                }
                at += n_out * n_in;
            }
            let (h, delta) = rest.split_at_mut(BLOCK * total);
            pass(&mut Scratch {
                wt,
                h,
                delta,
                total,
            })
        })
    }

    /// Forward pass of example a into `h` (length: the units of all layers): each layer's
    /// outputs in order (inputs copied first, hidden layers after the activation, logits
    /// last).
    #[inline(always)]
    fn forward<const N: usize>(&self, a: &[f64], x: &[f64], wt: &[f64], h: &mut [f64]) {
        let last = self.sizes.len() - 1;
        h[..a.len()].copy_from_slice(a);
        let (mut start, mut at) = (0, 0);
        for l in 0..last {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (before, after) = h.split_at_mut(start + n_in);
            let out = &mut after[..n_out];
            let off = self.offsets[l] + n_out * n_in;
            out.copy_from_slice(&x[off..off + n_out]);
            add_rows::<N>(&wt[at..at + n_out * n_in], &before[start..], out);
            if l + 1 < last {
                match self.activation {
                    Activation::Tanh => tanh_in_place(out),
                    Activation::Relu => out.iter_mut().for_each(|o| *o = o.max(0.0)),
                }
            }
            start += n_in;
            at += n_out * n_in;
        }
    }

    /// Adds w·Σᵢ ∇ℓᵢ(x), the gradients of the cross-entropy of the examples i of `block` (at
    /// most [`BLOCK`]) without the L2 term, to `out`, and with `loss` their cross-entropies
    /// ℓᵢ(x) to it. Every entry of `out` receives its terms in the order of `block`, so the
    /// bits are those of adding one example at a time.
    #[inline(always)]
    fn add_grads<const N: usize>(
        &self,
        block: &[usize],
        x: &[f64],
        w: f64,
        s: &mut Scratch,
        out: &mut [f64],
        mut loss: Option<&mut f64>,
    ) {
        let total = s.total;
        let last = self.sizes.len() - 1;
        let classes = self.sizes[last];
        for (e, &i) in block.iter().enumerate() {
            let h = &mut s.h[e * total..][..total];
            let delta = &mut s.delta[e * total..][..total];
            self.forward::<N>(self.data.row(i), x, s.wt, h);
            // δ at the logits: w (softmax(z) − e_y).
            let y = self.data.labels[i] as usize;
            let z = &h[total - classes..];
            let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let e_z = &mut delta[total - classes..];
            for (d, &v) in e_z.iter_mut().zip(z) {
                *d = v - m;
            }
            exp_in_place(e_z);
            let sum = e_z.iter().fold(0.0, |s, d| s + d);
            if let Some(loss) = loss.as_deref_mut() {
                // The bits of `cross_entropy`: the same maximum, exponentials and sum.
                *loss += m + ln(sum) - z[y];
            }
            for (c, d) in delta[total - classes..].iter_mut().enumerate() {
                *d = w * (*d / sum - if c == y { 1.0 } else { 0.0 });
            }
        }
        let count = block.len();
        // Back through the layers: layer l maps h[in_start .. out_start] to the next block.
        let mut end = total;
        for l in (0..last).rev() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let out_start = end - n_out;
            let in_start = out_start - n_in;
            let (off, nw) = (self.offsets[l], n_out * n_in);
            let (g_w, g_b) = out[off..off + nw + n_out].split_at_mut(nw);
            let x_w = &x[off..off + nw];
            let (h, delta) = (&s.h[..count * total], &s.delta[..count * total]);
            for (j, row) in g_w.chunks_exact_mut(n_in).enumerate() {
                let (d, v) = (&delta[out_start + j..], &h[in_start..]);
                add_outer::<N>(row, d, total, v, total, count);
            }
            // The biases: the same update with inputs 1 (1·δ = δ exactly), across units.
            add_outer::<N>(g_b, &[1.0], 0, &delta[out_start..], total, count);
            if l > 0 {
                // δ of the hidden layer below: (Wᵀ δ) ⊙ act′, act′ from its output.
                for e in 0..count {
                    let (lower, upper) = s.delta[e * total..][..total].split_at_mut(out_start);
                    let d_in = &mut lower[in_start..];
                    d_in.fill(0.0);
                    add_rows::<N>(x_w, &upper[..n_out], d_in);
                    for (d, &v) in d_in.iter_mut().zip(&s.h[e * total + in_start..]) {
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
            }
            end = out_start;
        }
    }

    /// The mean cross-entropy `loss` plus the L2 term λ‖x‖²/2: f(x).
    fn with_l2(&self, x: &[f64], loss: f64) -> f64 {
        let l2: f64 = x.iter().map(|v| v * v).sum();
        loss + 0.5 * self.lambda * l2
    }

    /// out += r·x, the L2 term of r/λ examples' gradients (nothing when λ = 0).
    fn add_l2(&self, x: &[f64], r: f64, out: &mut [f64]) {
        if self.lambda != 0.0 {
            for (o, &v) in out.iter_mut().zip(x) {
                *o += r * v;
            }
        }
    }

    /// (1/|I|) Σ_{i ∈ I} ∇fᵢ(x) into `out`: the mean of the cross-entropy gradients, their
    /// terms added in the order of `examples`, then the L2 term λx once (as a hand-written
    /// training loop does; fᵢ = ℓᵢ + λ‖x‖²/2, so the mean is the same function).
    fn mean_grad_into(
        &self,
        examples: impl ExactSizeIterator<Item = usize>,
        x: &[f64],
        out: &mut [f64],
        loss: Option<&mut f64>,
    ) {
        out.fill(0.0);
        let count = examples.len();
        self.add_grads_on_isa(examples, x, 1.0, out, loss);
        let (count, exact_inverse) = (count as f64, count.is_power_of_two());
        if exact_inverse {
            // Dividing by a power of two is multiplying by its exact reciprocal: same bits.
            let inv = 1.0 / count;
            out.iter_mut().for_each(|g| *g *= inv);
        } else {
            out.iter_mut().for_each(|g| *g /= count);
        }
        self.add_l2(x, self.lambda, out);
    }

    /// Adds w·Σ_{i ∈ I} ∇ℓᵢ(x) (cross-entropy only) to `out` in blocks of [`BLOCK`]
    /// examples, on this network's instruction set, and with `loss` Σ_{i ∈ I} ℓᵢ(x) to it.
    fn add_grads_on_isa(
        &self,
        examples: impl Iterator<Item = usize>,
        x: &[f64],
        w: f64,
        out: &mut [f64],
        loss: Option<&mut f64>,
    ) {
        self.with_scratch(x, |s| {
            self.isa.run(Grads {
                net: self,
                examples,
                x,
                w,
                s,
                out,
                loss,
            })
        })
    }
}

/// The sum of the gradients of some examples (and optionally of their losses), as a
/// [`Kernel`] compiled per instruction set.
struct Grads<'a, 'b, I> {
    net: &'a Mlp,
    examples: I,
    x: &'a [f64],
    w: f64,
    s: &'a mut Scratch<'b>,
    out: &'a mut [f64],
    loss: Option<&'a mut f64>,
}

impl<I: Iterator<Item = usize>> Kernel for Grads<'_, '_, I> {
    type Output = ();

    #[inline(always)]
    fn call<const N: usize>(mut self) {
        let (mut block, mut k) = ([0usize; BLOCK], 0);
        for i in self.examples {
            block[k] = i;
            k += 1;
            if k == BLOCK {
                let loss = self.loss.as_deref_mut();
                self.net
                    .add_grads::<N>(&block, self.x, self.w, self.s, self.out, loss);
                k = 0;
            }
        }
        if k > 0 {
            let loss = self.loss.as_deref_mut();
            self.net
                .add_grads::<N>(&block[..k], self.x, self.w, self.s, self.out, loss);
        }
    }
}

/// The summed cross-entropy and the count of misclassified examples of a data set, as a
/// [`Kernel`] compiled per instruction set.
struct Losses<'a, 'b> {
    net: &'a Mlp,
    data: &'a DataSet,
    x: &'a [f64],
    s: &'a mut Scratch<'b>,
}

impl Kernel for Losses<'_, '_> {
    type Output = (f64, usize);

    #[inline(always)]
    fn call<const N: usize>(self) -> (f64, usize) {
        let classes = *self.net.sizes.last().expect("layers");
        let (mut loss, mut wrong) = (0.0, 0usize);
        let h = &mut self.s.h[..self.s.total];
        for i in 0..self.data.n {
            let y = self.data.labels[i] as usize;
            self.net
                .forward::<N>(self.data.row(i), self.x, self.s.wt, h);
            let logits = &h[h.len() - classes..];
            loss += cross_entropy(logits, y);
            let best = (0..classes)
                .max_by(|&a, &b| logits[a].total_cmp(&logits[b]).then(b.cmp(&a)))
                .expect("classes");
            wrong += usize::from(best != y);
        }
        (loss, wrong)
    }
}

/// Examples per forward and backward block: their δs and layer outputs stay in the scratch
/// while each gradient entry takes all their terms in a register.
const BLOCK: usize = 32;

/// A kernel on a row of entries, applied W consecutive entries at a time by
/// [`by_chunks`]: the W entries are held in registers while the kernel adds all their terms.
trait Chunked {
    /// The entries from k0 to k0 + W.
    fn chunk<const W: usize>(&mut self, k0: usize);
}

/// Runs `op` over entries 0 … len − 1 in chunks of up to N entries (eight vectors of the
/// instruction set: eight independent sums hide the latency of an addition), then 32, 16,
/// 8, 4, 2, 1 for the rest. How entries are chunked never changes a result: every entry is
/// computed on its own.
#[inline(always)]
fn by_chunks<const N: usize>(len: usize, op: &mut impl Chunked) {
    let k = chunks_of::<64, N>(len, op, 0);
    let k = chunks_of::<32, N>(len, op, k);
    let k = chunks_of::<16, N>(len, op, k);
    let k = chunks_of::<8, N>(len, op, k);
    let k = chunks_of::<4, N>(len, op, k);
    let k = chunks_of::<2, N>(len, op, k);
    chunks_of::<1, N>(len, op, k);
}

/// [`by_chunks`] with chunks of W entries from k0 on while they fit (when W ≤ N); returns
/// where it stopped.
#[inline(always)]
fn chunks_of<const W: usize, const N: usize>(
    len: usize,
    op: &mut impl Chunked,
    mut k0: usize,
) -> usize {
    while W <= N && len - k0 >= W {
        op.chunk::<W>(k0);
        k0 += W;
    }
    k0
}

/// out[k] += Σ_r m[r·n + k] · v[r], r in order, for the row-major matrix m (rows of length
/// n = out.len()): a matrix–vector product along contiguous rows. Each out[k] adds its
/// terms in the order of r, exactly as a plain dot product of column k with v would, on
/// every instruction set and for every N.
#[inline(always)]
fn add_rows<const N: usize>(m: &[f64], v: &[f64], out: &mut [f64]) {
    by_chunks::<N>(out.len(), &mut Rows { m, v, out });
}

/// The operands of [`add_rows`].
struct Rows<'a> {
    m: &'a [f64],
    v: &'a [f64],
    out: &'a mut [f64],
}

impl Chunked for Rows<'_> {
    #[inline(always)]
    fn chunk<const W: usize>(&mut self, k0: usize) {
        let n = self.out.len();
        let rows = self.v.len();
        // The hot loop of the forward pass: bounds are checked once here, not per row.
        assert!(k0 + W <= n && rows * n <= self.m.len());
        let mut acc: [f64; W] = self.out[k0..k0 + W].try_into().expect("a chunk");
        for (r, &vr) in self.v.iter().enumerate() {
            // SAFETY: r·n + k0 + W ≤ (rows − 1)·n + n ≤ m.len() (asserted above).
            let col = unsafe { &*self.m.as_ptr().add(r * n + k0).cast::<[f64; W]>() };
            for k in 0..W {
                acc[k] += col[k] * vr;
            }
        }
        self.out[k0..k0 + W].copy_from_slice(&acc);
    }
}

/// For e = 0 … count − 1 in order: g[k] += d[e·d_stride] · v[e·v_stride + k]. The
/// rank-`count` update of one row of a weight gradient by the examples of a block, every
/// example adding its terms in the order one example at a time would add them.
#[inline(always)]
fn add_outer<const N: usize>(
    g: &mut [f64],
    d: &[f64],
    d_stride: usize,
    v: &[f64],
    v_stride: usize,
    count: usize,
) {
    let len = g.len();
    let mut op = Outer {
        g,
        d,
        d_stride,
        v,
        v_stride,
        count,
    };
    by_chunks::<N>(len, &mut op);
}

/// The operands of [`add_outer`].
struct Outer<'a> {
    g: &'a mut [f64],
    d: &'a [f64],
    d_stride: usize,
    v: &'a [f64],
    v_stride: usize,
    count: usize,
}

impl Chunked for Outer<'_> {
    #[inline(always)]
    fn chunk<const W: usize>(&mut self, k0: usize) {
        let (count, ds, vs) = (self.count, self.d_stride, self.v_stride);
        // The hot loop of the backward pass: bounds are checked once here, not per example.
        assert!(
            count == 0
                || ((count - 1) * ds < self.d.len() && (count - 1) * vs + k0 + W <= self.v.len())
        );
        let mut acc: [f64; W] = self.g[k0..k0 + W].try_into().expect("a chunk");
        for e in 0..count {
            // SAFETY: e·ds ≤ (count − 1)·ds < d.len() and e·vs + k0 + W ≤ v.len() (asserted
            // above).
            let (de, ve) = unsafe {
                let ve = &*self.v.as_ptr().add(e * vs + k0).cast::<[f64; W]>();
                (*self.d.get_unchecked(e * ds), ve)
            };
            for k in 0..W {
                acc[k] += de * ve[k];
            }
        }
        self.g[k0..k0 + W].copy_from_slice(&acc);
    }
}

/// One thread's working memory for forward and backward passes.
struct Scratch<'a> {
    /// Each layer's weights transposed (inputs × units, row-major), so the forward pass runs
    /// along contiguous rows like the backward one.
    wt: &'a mut [f64],
    /// Every layer's outputs, inputs first, for each example of a block (`total` apart).
    h: &'a mut [f64],
    /// Every layer's δ, likewise.
    delta: &'a mut [f64],
    /// Units of all layers together.
    total: usize,
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
        self.with_l2(x, self.loss_and_error(x, &self.data).0)
    }

    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        self.mean_grad_into(0..self.data.n, x, grad, None)
    }

    /// One forward pass per example serves the loss and the gradient.
    fn value_and_grad_into(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut loss = 0.0;
        self.mean_grad_into(0..self.data.n, x, grad, Some(&mut loss));
        self.with_l2(x, loss / self.data.n as f64)
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
        self.add_grads_on_isa(std::iter::once(i), x, w, out, None);
        self.add_l2(x, w * self.lambda, out);
    }

    /// The same numbers as the default, faster: the weights are transposed once, and eight
    /// examples' squared deviations are summed side by side (each in coordinate order), so
    /// the additions of one do not wait for the previous one's.
    fn max_example_deviation(&self, x: &[f64], grad_x: &[f64], _: &mut [f64]) -> f64 {
        const K: usize = 8;
        let d = self.dim;
        let mut grads = vec![0.0; K * d];
        let mut worst = 0.0f64;
        self.with_scratch(x, |s| {
            for start in (0..self.data.n).step_by(K) {
                let count = K.min(self.data.n - start);
                for (e, out) in grads.chunks_exact_mut(d).take(count).enumerate() {
                    out.fill(0.0);
                    self.isa.run(Grads {
                        net: self,
                        examples: std::iter::once(start + e),
                        x,
                        w: 1.0,
                        s,
                        out,
                        loss: None,
                    });
                    self.add_l2(x, self.lambda, out);
                }
                let mut sums = [-0.0f64; K];
                for (k, &m) in grad_x.iter().enumerate() {
                    for (e, sum) in sums.iter_mut().enumerate().take(count) {
                        let v = grads[e * d + k] - m;
                        *sum += v * v;
                    }
                }
                worst = sums[..count].iter().fold(worst, |w, &s| w.max(s));
            }
        });
        worst.sqrt()
    }

    /// The weights are transposed once for the whole batch.
    fn batch_grad_into(&self, batch: &[usize], x: &[f64], out: &mut [f64]) {
        self.mean_grad_into(batch.iter().copied(), x, out, None)
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

    #[test]
    fn tanh_in_place_gives_the_bits_of_tanh() {
        let mut z: Vec<f64> = (-50_000..=50_000).map(|i| i as f64 * 1e-3).collect();
        z.extend([
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            19.0,
            19.1,
            1e3,
            -1e3,
            f64::INFINITY,
            f64::MAX,
        ]);
        z.extend([f64::NEG_INFINITY, f64::MIN_POSITIVE, 5e-324]);
        let mut v = z.clone();
        tanh_in_place(&mut v);
        for (a, t) in z.iter().zip(&v) {
            assert_eq!(tanh(*a).to_bits(), t.to_bits(), "{a}");
        }
        let mut nan = [f64::NAN];
        tanh_in_place(&mut nan);
        assert!(nan[0].is_nan());
    }
}
