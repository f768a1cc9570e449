//! Every built-in gradient against central finite differences at random points.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use sgd_escape::objective::{Objective, Quadratic, Rastrigin, Spiky, Well, Wells};

/// Checks ∇f at `points` random points of [−span, span]^d against central differences.
fn check<O: Objective>(f: &O, span: f64, points: usize, tol: f64, skip: impl Fn(&[f64]) -> bool) {
    let d = f.dim();
    let mut rng = Pcg64Mcg::seed_from_u64(17);
    let mut grad = vec![0.0; d];
    let mut checked = 0;
    while checked < points {
        let x: Vec<f64> = (0..d)
            .map(|_| span * (2.0 * rng.random::<f64>() - 1.0))
            .collect();
        if skip(&x) {
            continue;
        }
        f.grad_into(&x, &mut grad);
        for i in 0..d {
            let h = 1e-6 * (1.0 + x[i].abs());
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let fd = (f.value(&xp) - f.value(&xm)) / (2.0 * h);
            let err = (fd - grad[i]).abs() / (1.0 + fd.abs());
            assert!(
                err < tol,
                "coordinate {i} at {x:?}: analytic {} vs finite difference {fd}",
                grad[i]
            );
        }
        checked += 1;
    }
}

#[test]
fn quadratic_gradient() {
    check(
        &Quadratic::new(vec![0.5, 1.0, 3.0, 10.0]),
        5.0,
        200,
        1e-6,
        |_| false,
    );
}

#[test]
fn rastrigin_gradient_including_far_points() {
    check(&Rastrigin::new(5, 0.5, 0.5), 4.0, 200, 1e-6, |_| false);
    check(&Rastrigin::new(3, 2.0, 1.3), 50.0, 200, 1e-5, |_| false);
    // Beyond the fast sine's range the exact reduction takes over: the phase of x/w is
    // that of the double x/w, not lost in the rounding of 2πx/w.
    for (w, x) in [(0.5, 1e16), (0.3, 3.7e15), (0.7, -9.1e17)] {
        let f = Rastrigin::new(1, 0.5, w);
        let mut g = [0.0];
        f.grad_into(&[x], &mut g);
        let turns: f64 = x * (1.0 / w);
        let fraction = turns - turns.round();
        let amp = 0.5 * std::f64::consts::TAU / w;
        let exact = x + amp * (std::f64::consts::TAU * fraction).sin();
        assert!((g[0] - exact).abs() <= 2.0 * x.abs() * f64::EPSILON, "{x}");
    }
}

#[test]
fn wells_gradient() {
    let wells = vec![
        Well {
            depth: 1.0,
            width: 0.3,
            centre: vec![1.0, 0.0, -0.5],
        },
        Well {
            depth: 2.5,
            width: 1.2,
            centre: vec![-1.0, 1.0, 0.0],
        },
        Well {
            depth: -0.7,
            width: 0.5,
            centre: vec![0.0, 0.0, 1.0],
        },
    ];
    check(&Wells::new(wells, vec![0.0; 3]), 2.5, 300, 1e-6, |_| false);
}

#[test]
fn spiky_gradient_away_from_knots() {
    let f = Spiky::new();
    let knots = f.knots().to_vec();
    let near_knot = |x: &[f64]| knots.iter().any(|k| (x[0] - k).abs() < 1e-4);
    check(&f, 4.0, 500, 1e-6, near_knot);
}

#[test]
fn spiky_matches_the_digitised_curve() {
    let f = Spiky::new();
    // Points straight from the data file, and the documented minimum 0.265 at x = −0.03.
    assert_eq!(f.value(&[-3.0]), 13.679);
    assert!((f.value(&[-0.03]) - 0.265).abs() < 1e-12);
    assert_eq!(f.knots().len(), 375);
    // Continuous at ±3 and continued by a bowl that pulls back to 0.
    assert!((f.value(&[3.0 + 1e-9]) - f.value(&[3.0])).abs() < 1e-6);
    let mut g = [0.0];
    f.grad_into(&[5.0], &mut g);
    assert_eq!(g[0], 15.0);
    f.grad_into(&[-5.0], &mut g);
    assert_eq!(g[0], -15.0);
    assert!(f.lipschitz().is_none());
}
