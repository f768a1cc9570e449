//! Tabulated objectives: the shipped spiky curve served through the table path with the
//! results it always had, a 2-D grid against the function it tabulates, the continuations
//! outside, and a clear error for every malformed table.

mod common;

use sgd_escape::config;
use sgd_escape::experiment::ObjectiveVisitor;
use sgd_escape::objective::{Objective, Outside, Spiky, Table};
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Values and gradients of a configuration's objective at `points`.
struct Probe<'a>(&'a [Vec<f64>]);
impl ObjectiveVisitor for Probe<'_> {
    type Output = Vec<(u64, Vec<u64>)>;
    fn visit<O: Objective>(self, f: &O) -> Self::Output {
        self.0
            .iter()
            .map(|x| {
                let mut g = vec![0.0; x.len()];
                f.grad_into(x, &mut g);
                (
                    f.value(x).to_bits(),
                    g.iter().map(|v| v.to_bits()).collect(),
                )
            })
            .collect()
    }
}

/// `kind = "spiky"` runs the shipped data file through the table path and gives, byte for
/// byte, the results shipped in results/spiky (the same cell ids, counts and estimates).
#[test]
fn spiky_through_the_table_path_keeps_its_results() {
    let exp = config::load(&repo("experiments/spiky.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (out, file) = (dir.path().to_str().unwrap(), repo("experiments/spiky.toml"));
    common::cli_ok(&[
        "run",
        "-q",
        "--no-trajectories",
        "--out",
        out,
        file.to_str().unwrap(),
    ]);
    let ours = std::fs::read(dir.path().join("summary.csv")).unwrap();
    let shipped = std::fs::read(repo("results/spiky/summary.csv")).unwrap();
    assert!(ours == shipped, "summary.csv differs from results/spiky");
    // And a `table` objective over the same file and continuation is the same function.
    let table = common::experiment(&format!(
        r#"
        objective = {{ kind = "table", csv = "{}", outside = "quadratic", curvature = 1.5 }}
        noise = {{ law = "none" }}
        dynamics = {{ eta = 0.01, steps = 1 }}
        init = {{ kind = "point", point = 0.0 }}
        events = {{ reach_radius = 0.1 }}
        "#,
        repo("data/spiky_f.csv").display()
    ));
    let points: Vec<Vec<f64>> = (-4000..=4000)
        .map(|i| vec![i as f64 * 0.001 + 0.0003])
        .chain([vec![-3.0], vec![3.0], vec![f64::NAN], vec![1e200]])
        .collect();
    assert_eq!(
        table.configs[0].objective.with(Probe(&points)),
        exp.configs[0].objective.with(Probe(&points))
    );
}

/// A bilinear function is reproduced exactly (to rounding) by its grid, and a smooth one
/// within the interpolation bound h²/8 · max|∂²f|; gradients likewise.
#[test]
fn a_grid_reproduces_the_function_it_tabulates() {
    let grid = |f: &dyn Fn(f64, f64) -> f64, h: f64| {
        let mut rows = Vec::new();
        // Rows in a scrambled order: the grid is assembled from pairs, not positions.
        for i in (0..=20).rev() {
            for j in 0..=10 {
                let (x1, x2) = (-2.0 + i as f64 * h, -1.0 + j as f64 * h * 2.0);
                rows.push([x1, x2, f(x1, x2)]);
            }
        }
        Table::grid(&rows, Outside::Linear, [0.0, 0.0]).unwrap()
    };
    let bilinear = |x1: f64, x2: f64| 1.0 + 2.0 * x1 - 3.0 * x2 + 0.5 * x1 * x2;
    let t = grid(&bilinear, 0.2);
    for i in 0..97 {
        for j in 0..89 {
            let x = [-2.0 + i as f64 * 0.04123, -1.0 + j as f64 * 0.04471];
            let want = bilinear(x[0], x[1]);
            assert!((t.value(&x) - want).abs() < 1e-12, "{x:?}");
            let mut g = [0.0; 2];
            t.grad_into(&x, &mut g);
            assert!((g[0] - (2.0 + 0.5 * x[1])).abs() < 1e-11, "{x:?}: {g:?}");
            assert!((g[1] - (-3.0 + 0.5 * x[0])).abs() < 1e-11, "{x:?}: {g:?}");
        }
    }
    // Smooth: f = sin(x1) + x2², |∂²f| ≤ 2, cells 0.2 × 0.4: error ≤ (0.2² + 0.4²)/8 · 2.
    let smooth = |x1: f64, x2: f64| x1.sin() + x2 * x2;
    let t = grid(&smooth, 0.2);
    let bound = (0.04 + 0.16) / 8.0 * 2.0;
    for i in 0..97 {
        for j in 0..89 {
            let x = [-2.0 + i as f64 * 0.04123, -1.0 + j as f64 * 0.04471];
            assert!((t.value(&x) - smooth(x[0], x[1])).abs() <= bound, "{x:?}");
        }
    }
}

/// Outside the table: continuous at the border, and the gradient is the derivative of the
/// continuation (checked against central differences well away from knots).
#[test]
fn continuations_are_continuous_and_their_gradients_right() {
    let rows: Vec<[f64; 3]> = (0..4)
        .flat_map(|i| (0..3).map(move |j| (i as f64, j as f64)))
        .map(|(a, b)| [a, b, (a * 1.7 - b * 0.6).sin() + 0.3 * a * b])
        .collect();
    for outside in [Outside::Linear, Outside::Quadratic { curvature: 0.8 }] {
        let t = Table::grid(&rows, outside, [0.0, 0.0]).unwrap();
        // Continuity across each side of the rectangle [0, 3] × [0, 2].
        for s in [0.3, 1.1, 1.9] {
            for (inside, beyond) in [
                ([0.0, s], [-1e-9, s]),
                ([3.0, s], [3.0 + 1e-9, s]),
                ([s, 0.0], [s, -1e-9]),
                ([s, 2.0], [s, 2.0 + 1e-9]),
            ] {
                assert!(
                    (t.value(&inside) - t.value(&beyond)).abs() < 1e-7,
                    "{outside:?}"
                );
            }
        }
        for x in [
            [-1.3, 0.7],
            [4.2, 1.3],
            [1.4, -0.9],
            [2.6, 3.1],
            [-0.8, -1.7],
            [5.1, 2.9],
        ] {
            let mut g = [0.0; 2];
            t.grad_into(&x, &mut g);
            for k in 0..2 {
                let (mut up, mut down) = (x, x);
                up[k] += 1e-6;
                down[k] -= 1e-6;
                let fd = (t.value(&up) - t.value(&down)) / 2e-6;
                assert!(
                    (g[k] - fd).abs() < 1e-6,
                    "{outside:?} at {x:?}: {g:?} vs {fd}"
                );
            }
        }
    }
    // A curve: the linear continuation carries the end slopes, the quadratic one 2Qx.
    let c = Table::curve(
        vec![-1.0, 0.0, 2.0],
        vec![1.0, 0.0, 4.0],
        Outside::Linear,
        0.0,
    )
    .unwrap();
    assert_eq!(c.value(&[-3.0]), 3.0);
    assert_eq!(c.value(&[5.0]), 10.0);
    let q = Table::curve(
        vec![-1.0, 0.0, 2.0],
        vec![1.0, 0.0, 4.0],
        Outside::Quadratic { curvature: 2.0 },
        0.0,
    )
    .unwrap();
    let mut g = [0.0];
    q.grad_into(&[3.0], &mut g);
    assert_eq!((q.value(&[3.0]), g[0]), (4.0 + 2.0 * (9.0 - 4.0), 12.0));
    assert_eq!(Spiky::shared().knots().len(), 375);
}

/// Writes `csv` beside an experiment using it with `objective` fields `extra`; the refusal
/// names the experiment file, `field` and `reason`.
fn refused(csv: &str, extra: &str, field: &str, reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let file = dir.path().join("exp.toml");
    let text = format!(
        r#"
        objective = {{ kind = "table", csv = "t.csv"{extra} }}
        noise = {{ law = "none" }}
        dynamics = {{ eta = 0.01, steps = 1 }}
        init = {{ kind = "point", point = 0.0 }}
        events = {{ reach_radius = 0.1 }}
        "#
    );
    std::fs::write(&file, &text).unwrap();
    let err = config::load(&file).expect_err("must be refused");
    let msg = err.to_string();
    assert!(msg.starts_with(&file.display().to_string()), "{msg}");
    assert_eq!(err.field(), field, "{msg}");
    assert!(msg.contains(reason), "{reason:?} not in {msg}");
}

#[test]
fn malformed_tables_are_refused() {
    let q = r#", outside = "quadratic", curvature = 1.0"#;
    let curve = "x,f\n-1,1\n0,0\n1,1\n";
    refused(
        "x,f\n0,0\n0,1\n",
        q,
        "objective.csv",
        "x must increase strictly: point 2",
    );
    refused("x,f\n0,0\n", q, "objective.csv", "at least 2 points");
    refused("x,f\n0,0\n1,zero\n", q, "objective.csv", "is not a number");
    refused(
        "x,y\n0,0\n1,1\n",
        q,
        "objective.csv",
        "no column named \"f\"",
    );
    refused(
        "x1,x2,x3,f\n0,0,0,0\n",
        q,
        "objective.csv",
        "a table is a curve (x, f) or a grid",
    );
    refused(
        "x1,x2,f\n0,0,0\n0,1,0\n1,0,0\n",
        q,
        "objective.csv",
        "3 rows for 2 values of x1 and 2 of x2",
    );
    refused(
        "x1,x2,f\n0,0,0\n0,1,0\n1,0,0\n0,0,1\n",
        q,
        "objective.csv",
        "repeats the point (0, 0)",
    );
    refused(
        curve,
        r#", outside = "quadratic""#,
        "objective.curvature",
        "missing",
    );
    refused(
        curve,
        r#", outside = "linear", curvature = 1.0"#,
        "objective.curvature",
        "only for",
    );
    refused(
        curve,
        r#", outside = "cubic""#,
        "objective.outside",
        "must be",
    );
    refused(
        curve,
        r#", outside = "quadratic", curvature = -1.0"#,
        "objective.curvature",
        "",
    );
    refused(
        curve,
        &format!("{q}, target = [0.0, 1.0]"),
        "objective.target",
        "",
    );
    // And a good one parses, in the file's dimension.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("g.csv"),
        "x1,x2,f\n0,0,0\n0,1,1\n1,0,1\n1,1,2\n",
    )
    .unwrap();
    let file = dir.path().join("ok.toml");
    std::fs::write(
        &file,
        r#"
        objective = { kind = "table", csv = "g.csv", outside = "linear" }
        noise = { law = "none" }
        dynamics = { eta = 0.01, steps = 1 }
        init = { kind = "point", point = [0.5, 0.5] }
        events = { reach_radius = 0.1 }
        "#,
    )
    .unwrap();
    let e = config::load(&file).unwrap();
    assert_eq!(e.configs[0].dim(), 2);
}

/// A 1-D table with x* = 0 gets spiky's exact treatment in the theorem check: the same
/// certified ĉ (at the breakpoints) as `spiky` itself when it holds the same curve.
#[test]
fn a_curve_gets_the_exact_smoothing_of_spiky() {
    let text = |objective: &str| {
        format!(
            r#"
            seed = 7
            trajectories = 200
            objective = {objective}
            init = {{ kind = "box", lo = -3.0, hi = 3.0 }}
            noise = {{ law = "cube", r = 30.0 }}
            dynamics = {{ eta = 0.01, steps = 500 }}
            events = {{ reach_radius = 0.5 }}
            [theorem]
            domain = {{ kind = "box", lo = -1.5, hi = 1.5 }}
            "#
        )
    };
    let spiky = common::experiment(&text(r#"{ kind = "spiky" }"#));
    let table = common::experiment(&text(&format!(
        r#"{{ kind = "table", csv = "{}", outside = "quadratic", curvature = 1.5 }}"#,
        repo("data/spiky_f.csv").display()
    )));
    let check = |e| {
        sgd_escape::theory::check_experiment(e, 2)
            .unwrap()
            .remove(0)
    };
    let (a, b) = (check(&spiky), check(&table));
    assert_eq!(
        format!("{:?}", a.assumptions.convexity.method),
        format!("{:?}", b.assumptions.convexity.method)
    );
    assert!(
        format!("{:?}", b.assumptions.convexity.method).contains("Certified"),
        "{:?}",
        b.assumptions.convexity.method
    );
    assert_eq!(a.c.map(f64::to_bits), b.c.map(f64::to_bits));
}

/// The convolution of a curve with U[−a, a] (Figure 3's first row) is exact: it leaves a
/// line alone, integrates the quadratic continuation in closed form, agrees with a fine
/// Riemann sum on the spiky curve, and its derivative is the difference quotient
/// (f(x + a) − f(x − a)) / 2a the theorem check uses.
#[test]
fn convolution_with_a_uniform_law_is_exact() {
    // A line (two knots, continued linearly) is its own smoothing.
    let line = Table::curve(vec![-1.0, 2.0], vec![3.0, 9.0], Outside::Linear, 0.0).unwrap();
    for (x, a) in [(0.0, 0.5), (1.9, 0.3), (-4.0, 1.0), (5.0, 2.5)] {
        let want = 5.0 + 2.0 * x;
        assert!(
            (line.smoothed(x, a).unwrap() - want).abs() < 1e-12,
            "{x} {a}"
        );
    }
    // A constant 2 on [−1, 1], continued by 2 + Q (t² − 1): the mean over [4, 6] is
    // 2 + Q ((6³ − 4³)/6 − 1).
    let q = 1.5;
    let flat = Table::curve(
        vec![-1.0, 0.0, 1.0],
        vec![2.0; 3],
        Outside::Quadratic { curvature: q },
        0.0,
    )
    .unwrap();
    let want = 2.0 + q * ((216.0 - 64.0) / 6.0 - 1.0);
    assert!((flat.smoothed(5.0, 1.0).unwrap() - want).abs() < 1e-12);
    // Straddling the border: [0.5, 1.5] is 0.5 of the constant and ∫₁^1.5 (2 + Q(t² − 1)).
    let want = (0.5 * 2.0 + 0.5 * 2.0 + q * ((1.5f64.powi(3) - 1.0) / 3.0 - 0.5)) / 1.0;
    assert!((flat.smoothed(1.0, 0.5).unwrap() - want).abs() < 1e-12);

    let f = Spiky::new();
    let riemann = |x: f64, a: f64| {
        let m = 200_000;
        let h = 2.0 * a / m as f64;
        (0..m)
            .map(|i| f.value(&[x - a + (i as f64 + 0.5) * h]))
            .sum::<f64>()
            / m as f64
    };
    for (x, a) in [
        (0.0, 0.15),
        (-1.234, 0.3),
        (2.8, 0.6),
        (-2.95, 0.6),
        (0.7, 0.05),
    ] {
        let exact = f.smoothed(x, a).unwrap();
        assert!(
            (exact - riemann(x, a)).abs() < 1e-5,
            "x = {x}, a = {a}: {exact} vs {}",
            riemann(x, a)
        );
        let h = 1e-6;
        let slope = (f.smoothed(x + h, a).unwrap() - f.smoothed(x - h, a).unwrap()) / (2.0 * h);
        let quotient = (f.value(&[x + a]) - f.value(&[x - a])) / (2.0 * a);
        assert!(
            (slope - quotient).abs() < 1e-4,
            "x = {x}, a = {a}: {slope} vs {quotient}"
        );
    }
    assert_eq!(f.smoothed(0.3, 0.0), Some(f.value(&[0.3])));
    assert_eq!(f.smoothed(0.3, -0.1), None);
    assert_eq!(f.smoothed(f64::NAN, 0.1), None);
}
