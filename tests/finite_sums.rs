//! Finite-sum objectives: exact constants against a direct solve, gradients against finite
//! differences, the minibatch gradient's law by enumeration, and the CSV loader.

use nalgebra::{DMatrix, DVector};
use sgd_escape::data::{self, DataSet};
use sgd_escape::objective::{FiniteSum, LeastSquares, Logistic, Objective};

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn least_squares_constants_equal_a_direct_solve() {
    let (d, _) = data::gaussian_linear(200, 10, 0.5, 11);
    let f = LeastSquares::new(d.clone()).unwrap();
    // Independently: the SVD of A (not the normal equations).
    let a = DMatrix::from_row_slice(d.n, d.p, &d.features);
    let b = DVector::from_column_slice(&d.labels);
    let svd = a.clone().svd(true, true);
    let x = svd.solve(&b, 1e-14).unwrap();
    for (got, want) in f.target().iter().zip(x.iter()) {
        assert!(rel(*got, *want) < 1e-10, "x*: {got} vs {want}");
    }
    let s2: Vec<f64> = svd
        .singular_values
        .iter()
        .map(|s| s * s / d.n as f64)
        .collect();
    let (lmax, lmin) = (
        s2.iter().cloned().fold(0.0, f64::max),
        s2.iter().cloned().fold(f64::INFINITY, f64::min),
    );
    assert!(rel(f.lipschitz().unwrap(), lmax) < 1e-10);
    assert!(rel(f.c(), lmin) < 1e-10);
    // ∇f(x*) = 0.
    let mut g = vec![0.0; 10];
    f.grad_into(f.target(), &mut g);
    assert!(g.iter().all(|v| v.abs() < 1e-12), "{g:?}");
    // Too few examples for the features: refused (x* not unique).
    let (small, _) = data::gaussian_linear(5, 10, 0.5, 11);
    assert!(LeastSquares::new(small).is_none());
}

fn check_gradients<F: FiniteSum>(f: &F, x: &[f64]) {
    let d = x.len();
    let h = 1e-6;
    let mut g = vec![0.0; d];
    f.grad_into(x, &mut g);
    for j in 0..d {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[j] += h;
        xm[j] -= h;
        let fd = (f.value(&xp) - f.value(&xm)) / (2.0 * h);
        assert!(
            (g[j] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "∂{j}: {} vs {fd}",
            g[j]
        );
    }
    // The full gradient is the mean of the per-example ones, and a batch of every example
    // in index order gives it bit for bit.
    let all: Vec<usize> = (0..f.examples()).collect();
    let mut gb = vec![0.0; d];
    f.batch_grad_into(&all, x, &mut gb);
    assert_eq!(g, gb);
    let mut gi = vec![0.0; d];
    let mut mean = vec![0.0; d];
    for i in 0..f.examples() {
        f.example_grad_into(i, x, &mut gi);
        for (m, v) in mean.iter_mut().zip(&gi) {
            *m += v / f.examples() as f64;
        }
    }
    for (m, v) in mean.iter().zip(&g) {
        assert!((m - v).abs() < 1e-12 * (1.0 + v.abs()));
    }
}

#[test]
fn gradients_agree_with_finite_differences() {
    let (d, _) = data::gaussian_linear(60, 4, 0.3, 2);
    let x = [0.3, -1.2, 0.7, 2.0];
    check_gradients(&LeastSquares::new(d).unwrap(), &x);
    let (d, _) = data::gaussian_logistic(80, 4, 1.5, 3);
    check_gradients(&Logistic::new(d, 0.1).unwrap(), &x);
}

#[test]
fn logistic_minimiser_to_machine_precision() {
    let (d, _) = data::gaussian_logistic(300, 5, 2.0, 4);
    let f = Logistic::new(d.clone(), 0.01).unwrap();
    let mut g = vec![0.0; 5];
    f.grad_into(f.target(), &mut g);
    let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(norm < 1e-12, "‖∇f(x*)‖ = {norm:e}");
    assert!(Logistic::new(d.clone(), 0.0).is_none());
    let mut bad = d;
    bad.labels[0] = 0.0;
    assert!(Logistic::new(bad, 0.1).is_none());
}

/// All k-subsets of 0..n, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    (0..n)
        .flat_map(|first| {
            subsets(n, k - 1)
                .into_iter()
                .filter(move |rest| rest.first().is_none_or(|&r| r > first))
                .map(move |mut rest| {
                    rest.insert(0, first);
                    rest
                })
        })
        .collect()
}

#[test]
fn minibatch_gradient_law_by_enumeration() {
    // n = 8, B = 3: over every subset, g_B is unbiased with covariance
    // (n − B)/(B(n − 1)) · S; over every ordered draw with replacement, S/B.
    let (d, _) = data::gaussian_linear(8, 2, 1.0, 5);
    let f = LeastSquares::new(d).unwrap();
    let x = [0.4, -0.9];
    let (n, b) = (8usize, 3usize);
    let mut full = vec![0.0; 2];
    f.grad_into(&x, &mut full);
    let mut s = [[0.0; 2]; 2];
    let mut gi = vec![0.0; 2];
    for i in 0..n {
        f.example_grad_into(i, &x, &mut gi);
        for j in 0..2 {
            for k in 0..2 {
                s[j][k] += (gi[j] - full[j]) * (gi[k] - full[k]) / n as f64;
            }
        }
    }
    let moments = |batches: &[Vec<usize>]| {
        let mut mean = [0.0; 2];
        let mut cov = [[0.0; 2]; 2];
        let mut g = vec![0.0; 2];
        for batch in batches {
            f.batch_grad_into(batch, &x, &mut g);
            for j in 0..2 {
                mean[j] += g[j] / batches.len() as f64;
                for k in 0..2 {
                    cov[j][k] += (g[j] - full[j]) * (g[k] - full[k]) / batches.len() as f64;
                }
            }
        }
        (mean, cov)
    };
    let without = subsets(n, b);
    assert_eq!(without.len(), 56);
    let (mean, cov) = moments(&without);
    let factor = (n - b) as f64 / (b as f64 * (n - 1) as f64);
    for j in 0..2 {
        assert!((mean[j] - full[j]).abs() < 1e-12);
        for k in 0..2 {
            assert!((cov[j][k] - factor * s[j][k]).abs() < 1e-12 * (1.0 + s[j][k].abs()));
        }
    }
    let with: Vec<Vec<usize>> = (0..n * n * n)
        .map(|c| vec![c / (n * n), (c / n) % n, c % n])
        .collect();
    let (mean, cov) = moments(&with);
    for j in 0..2 {
        assert!((mean[j] - full[j]).abs() < 1e-12);
        for k in 0..2 {
            assert!((cov[j][k] - s[j][k] / b as f64).abs() < 1e-12 * (1.0 + s[j][k].abs()));
        }
    }
}

#[test]
fn csv_round_trips_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = data::gaussian_linear(30, 3, 0.2, 9);
    let path = dir.path().join("d.csv");
    std::fs::write(&path, d.to_csv()).unwrap();
    let back = data::load_csv(&path, "label").unwrap();
    assert_eq!(back, d);
    let bad = |name: &str, text: &str, want: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let e = data::load_csv(&p, "label").unwrap_err().to_string();
        assert!(
            e.contains(name) && e.contains(want),
            "{name}: expected {want:?} in {e}"
        );
    };
    bad(
        "missing.csv",
        "a,b,label\n1,,0\n",
        ":2:2: column \"b\": missing value",
    );
    bad(
        "text.csv",
        "a,b,label\n1,2,0\n1,x,1\n",
        ":3:2: column \"b\": \"x\" is not a number",
    );
    bad(
        "ragged.csv",
        "a,b,label\n1,2,0\n1,2\n",
        ":3: 2 fields, the header has 3",
    );
    bad("nolabel.csv", "a,b,y\n1,2,0\n", "no column named \"label\"");
    bad("empty.csv", "a,b,label\n", "no data rows");
    bad("inf.csv", "a,b,label\n1,inf,0\n", "is not finite");
    let e = data::load_csv(&dir.path().join("absent.csv"), "label").unwrap_err();
    assert!(e.to_string().contains("absent.csv"));
    let _: DataSet = back;
}

#[test]
fn sampled_batches_have_the_minibatch_law_within_monte_carlo_error() {
    use sgd_escape::oracle::{BatchState, Minibatch, Sampling};
    let (d, _) = data::gaussian_linear(50, 3, 1.0, 12);
    let f = LeastSquares::new(d).unwrap();
    let x = [0.5, -0.2, 1.1];
    let (n, b, draws) = (50usize, 10usize, 40_000usize);
    let mut full = vec![0.0; 3];
    f.grad_into(&x, &mut full);
    let mut gi = vec![0.0; 3];
    let mut trace_s = 0.0;
    for i in 0..n {
        f.example_grad_into(i, &x, &mut gi);
        trace_s += gi
            .iter()
            .zip(&full)
            .map(|(g, m)| (g - m) * (g - m))
            .sum::<f64>()
            / n as f64;
    }
    for (sampling, factor) in [
        (
            Sampling::Independent,
            (n - b) as f64 / (b as f64 * (n - 1) as f64),
        ),
        (
            Sampling::Reshuffle,
            (n - b) as f64 / (b as f64 * (n - 1) as f64),
        ),
        (Sampling::Replacement, 1.0 / b as f64),
    ] {
        let m = Minibatch { batch: b, sampling };
        let mut state = BatchState::new(n, b);
        let mut rng = sgd_escape::rng::trajectory_rng(7, 8, 9);
        let (mut mean, mut trace) = (vec![0.0; 3], 0.0);
        let mut g = vec![0.0; 3];
        for _ in 0..draws {
            let batch = m.draw(&mut state, &mut rng);
            f.batch_grad_into(batch, &x, &mut g);
            for j in 0..3 {
                mean[j] += g[j] / draws as f64;
            }
            trace += g
                .iter()
                .zip(&full)
                .map(|(g, m)| (g - m) * (g - m))
                .sum::<f64>()
                / draws as f64;
        }
        let want = factor * trace_s;
        // The mean within 5 standard errors (per coordinate, bounded by the trace), the
        // variance within 5% (its relative standard error here is about 1%).
        let se = (want / draws as f64).sqrt();
        for j in 0..3 {
            assert!(
                (mean[j] - full[j]).abs() < 5.0 * se,
                "{sampling:?}: mean {j}"
            );
        }
        assert!(
            (trace - want).abs() < 0.05 * want,
            "{sampling:?}: {trace} vs {want}"
        );
    }
}

#[test]
fn teacher_student_has_the_teacher_as_its_unique_zero() {
    use sgd_escape::objective::TeacherStudent;
    let f = TeacherStudent::new(4, 3, 200, 0.3, 21).unwrap();
    assert_eq!(f.dim(), 12);
    let teacher = f.target().to_vec();
    assert_eq!(f.value(&teacher), 0.0);
    let mut g = vec![0.0; 12];
    f.grad_into(&teacher, &mut g);
    assert!(g.iter().all(|v| *v == 0.0));
    // Swapping two hidden units' weights changes the function (identity-plus-W form).
    let mut swapped = teacher.clone();
    for l in 0..4 {
        swapped.swap(l, 4 + l);
    }
    assert!(f.value(&swapped) > 1e-3, "{}", f.value(&swapped));
    // Gradients against finite differences at a point away from the teacher.
    let x: Vec<f64> = teacher
        .iter()
        .enumerate()
        .map(|(i, t)| t + 0.05 * ((i % 5) as f64 - 2.0))
        .collect();
    check_gradients(&f, &x);
    assert!(
        TeacherStudent::new(3, 4, 10, 0.3, 1).is_none(),
        "width above d"
    );
    assert!(TeacherStudent::new(3, 0, 10, 0.3, 1).is_none());
}

/// A small classification set: Gaussian inputs, labels 0 … 2 from the largest of three
/// fixed projections.
fn three_classes(n: usize, p: usize) -> DataSet {
    let (mut d, _) = data::gaussian_linear(n, p, 0.0, 21);
    for i in 0..n {
        let a = d.row(i).to_vec();
        let s = [a[0] - a[1], a[1] + 0.5 * a[2], -a[0] + a[p - 1]];
        let best = (0..3).max_by(|&x, &y| s[x].total_cmp(&s[y])).unwrap();
        d.labels[i] = best as f64;
    }
    d
}

#[test]
fn mlp_gradients_agree_with_finite_differences() {
    use sgd_escape::objective::{Activation, Mlp};
    let d = three_classes(40, 4);
    for (hidden, act, lambda) in [
        (vec![5], Activation::Tanh, 0.0),
        (vec![6, 3], Activation::Tanh, 0.01),
        (vec![5], Activation::Relu, 0.001),
    ] {
        let f = Mlp::new(d.clone(), &hidden, act, lambda).unwrap();
        let x: Vec<f64> = (0..f.dim())
            .map(|j| ((j * 37 % 17) as f64 / 17.0 - 0.5) * 0.9)
            .collect();
        check_gradients(&f, &x);
    }
}

#[test]
fn mlp_by_hand_on_a_tiny_network() {
    use sgd_escape::objective::mlp::tanh;
    use sgd_escape::objective::{Activation, Mlp};
    // One input, one tanh unit, two classes; x = (w1, b1, w2₀, w2₁, b2₀, b2₁).
    let data = DataSet {
        n: 1,
        p: 1,
        features: vec![2.0],
        labels: vec![1.0],
        names: vec!["a".into()],
    };
    let f = Mlp::new(data, &[1], Activation::Tanh, 0.0).unwrap();
    assert_eq!(f.dim(), 6);
    let x = [0.5, -0.25, 1.5, -2.0, 0.1, 0.3];
    let h = tanh(0.5 * 2.0 - 0.25);
    let (z0, z1) = (1.5 * h + 0.1, -2.0 * h + 0.3);
    let loss = (z0.exp() + z1.exp()).ln() - z1;
    assert!((f.value(&x) - loss).abs() < 1e-15);
    // δ = softmax(z) − e_y with y = 1: (p0, p1 − 1) = (p0, −p0).
    let p0 = z0.exp() / (z0.exp() + z1.exp());
    let (d0, d1) = (p0, -p0);
    let dh = (1.5 * d0 - 2.0 * d1) * (1.0 - h * h);
    let expected = [dh * 2.0, dh, d0 * h, d1 * h, d0, d1];
    let mut g = [0.0; 6];
    f.grad_into(&x, &mut g);
    for (a, b) in g.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-14, "{g:?} vs {expected:?}");
    }
}

/// The blocked forward and backward passes of the MLP give, on every instruction set the CPU
/// has, the bits of adding one example's cross-entropy gradient at a time, taking the mean,
/// then adding the L2 term λx once: batches below, at and above the block of 32 examples,
/// widths that leave every remainder of the register chunks, both activations, with and
/// without the L2 term. One example's gradient is its cross-entropy gradient plus λx.
#[test]
fn mlp_gradients_are_the_same_bits_on_every_instruction_set() {
    use sgd_escape::isa::Isa;
    use sgd_escape::objective::{Activation, Mlp};
    let d = three_classes(150, 7);
    let isas = Isa::available();
    assert_eq!(isas[0], Isa::baseline());
    for (hidden, act, lambda) in [
        (vec![71], Activation::Tanh, 1e-3),
        (vec![37, 13], Activation::Relu, 0.0),
        (vec![3, 129], Activation::Tanh, 0.0),
    ] {
        let f = Mlp::new(d.clone(), &hidden, act, lambda).unwrap();
        let cross_entropy = Mlp::new(d.clone(), &hidden, act, 0.0).unwrap();
        let x: Vec<f64> = (0..f.dim())
            .map(|j| ((j * 37 % 101) as f64 / 101.0 - 0.5) * 1.3)
            .collect();
        for i in [0, 77] {
            let (mut with_l2, mut without) = (vec![0.0; f.dim()], vec![0.0; f.dim()]);
            f.add_example_grad(i, &x, 0.5, &mut with_l2);
            cross_entropy.add_example_grad(i, &x, 0.5, &mut without);
            let l2 = without.iter().zip(&x).map(|(g, v)| g + 0.5 * lambda * v);
            assert!(
                with_l2
                    .iter()
                    .zip(l2)
                    .all(|(a, c)| a.to_bits() == c.to_bits())
            );
        }
        for b in [1, 31, 32, 33, 70, 150] {
            let batch: Vec<usize> = (0..b).map(|i| (i * 53 + 7) % 150).collect();
            // One example at a time, in batch order, then the mean, then λx.
            let mut one_by_one = vec![0.0; f.dim()];
            for &i in &batch {
                cross_entropy.add_example_grad(i, &x, 1.0, &mut one_by_one);
            }
            for (g, v) in one_by_one.iter_mut().zip(&x) {
                *g /= b as f64;
                if lambda != 0.0 {
                    *g += lambda * v;
                }
            }
            for &isa in &isas {
                let g_isa = f.clone().with_isa(isa);
                let mut g = vec![0.0; f.dim()];
                g_isa.batch_grad_into(&batch, &x, &mut g);
                let same = g
                    .iter()
                    .zip(&one_by_one)
                    .all(|(a, c)| a.to_bits() == c.to_bits());
                assert!(same, "{hidden:?}, batch {b}, {}", isa.name());
                let (l, e) = g_isa.loss_and_error(&x, &d);
                let (l0, e0) = f.clone().with_isa(Isa::baseline()).loss_and_error(&x, &d);
                assert_eq!((l.to_bits(), e.to_bits()), (l0.to_bits(), e0.to_bits()));
            }
        }
        // The full gradient is the mean over all examples in index order, and the value and
        // gradient computed in one pass have the bits of the two computed apart.
        let mut full = vec![0.0; f.dim()];
        f.grad_into(&x, &mut full);
        let mut together = vec![0.0; f.dim()];
        let value = f.value_and_grad_into(&x, &mut together);
        assert_eq!(value.to_bits(), f.value(&x).to_bits());
        let bits = |v: &[f64]| v.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&full), bits(&together));
        let mut batch_all = vec![0.0; f.dim()];
        f.batch_grad_into(&(0..150).collect::<Vec<_>>(), &x, &mut batch_all);
        assert_eq!(full, batch_all);
    }
}
