//! Formula objectives: exact gradients, agreement with the built-in landscape they write
//! out, a clear error for every class of mistake, and no input that panics or hangs.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sgd_escape::config::{self, ConfigError};
use sgd_escape::experiment::ObjectiveVisitor;
use sgd_escape::formula::{Formula, MAX_DEPTH, MAX_LEN, Variables};
use sgd_escape::objective::{FormulaObjective, Objective, Rastrigin};
use sgd_escape::pipeline::execute;
use std::path::Path;

const A: f64 = 0.3;
const W: f64 = 0.5;

fn rastrigin_f(dim: usize) -> String {
    (1..=dim)
        .map(|i| format!("x{i}^2/2 + {A}*(1 - cos(2*pi*x{i}/{W}))"))
        .collect::<Vec<_>>()
        .join(" + ")
}

const RASTRIGIN_EACH: &str = "x^2/2 + 0.3*(1 - cos(2*pi*x/0.5))";

/// Points from a fixed LCG, spread over [−s, s].
fn points(count: usize, dim: usize, s: f64) -> Vec<Vec<f64>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| (0..dim).map(|_| (2.0 * next() - 1.0) * s).collect())
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn rastrigin_as_a_formula_has_the_built_in_values_and_gradients() {
    let dim = 5;
    let builtin = Rastrigin::new(dim, A, W);
    let full = FormulaObjective::new(
        Formula::parse(&rastrigin_f(dim), Variables::Numbered(dim)).unwrap(),
        vec![0.0; dim],
        None,
    );
    let each = FormulaObjective::new(
        Formula::parse(RASTRIGIN_EACH, Variables::Single).unwrap(),
        vec![0.0; dim],
        None,
    );
    for x in points(500, dim, 6.0) {
        let mut g0 = vec![0.0; dim];
        builtin.grad_into(&x, &mut g0);
        for f in [&full, &each] {
            let mut g = vec![f64::NAN; dim];
            f.grad_into(&x, &mut g);
            for (a, b) in g.iter().zip(&g0) {
                assert!(close(*a, *b, 1e-12), "{x:?}: {g:?} vs {g0:?}");
            }
            assert!(close(f.value(&x), builtin.value(&x), 1e-12));
            let mut g2 = vec![0.0; dim];
            assert_eq!(
                f.value_and_grad_into(&x, &mut g2).to_bits(),
                f.value(&x).to_bits()
            );
        }
    }
}

/// Every function's derivative against its closed form (the standard library's, here only
/// as a reference), and the rules of sums, products, quotients and powers.
#[test]
fn gradients_are_exact() {
    type Real = fn(f64) -> f64;
    let cases: [(&str, Real, Real); 12] = [
        ("sin(x)", f64::sin, f64::cos),
        ("cos(x)", f64::cos, |x| -x.sin()),
        ("tan(x)", f64::tan, |x| 1.0 / (x.cos() * x.cos())),
        ("exp(x)", f64::exp, f64::exp),
        ("ln(x)", f64::ln, |x| 1.0 / x),
        ("log(x)", f64::ln, |x| 1.0 / x),
        ("sqrt(x)", f64::sqrt, |x| 0.5 / x.sqrt()),
        ("abs(x - 1)", |x| (x - 1.0).abs(), |x| (x - 1.0).signum()),
        ("tanh(x)", f64::tanh, |x| 1.0 - x.tanh() * x.tanh()),
        (
            "x^3 - 2*x^-2",
            |x| x.powi(3) - 2.0 / (x * x),
            |x| 3.0 * x * x + 4.0 / x.powi(3),
        ),
        ("x^x", |x| x.powf(x), |x| x.powf(x) * (x.ln() + 1.0)),
        (
            "(x + 1)/(x*x + 2) * e^x",
            |x| (x + 1.0) / (x * x + 2.0) * x.exp(),
            |x| {
                let (u, v) = (x + 1.0, x * x + 2.0);
                ((v - u * 2.0 * x) / (v * v) + u / v) * x.exp()
            },
        ),
    ];
    for (text, f, df) in cases {
        let formula = Formula::parse(text, Variables::Single).unwrap();
        for x in [0.3, 0.7, 1.3, 2.9, 4.1] {
            let mut g = [0.0];
            let v = formula.value_and_add_gradient(&[x], &mut g);
            assert!(close(v, f(x), 1e-13), "{text} at {x}: {v} vs {}", f(x));
            assert!(
                close(g[0], df(x), 1e-12),
                "{text}' at {x}: {} vs {}",
                g[0],
                df(x)
            );
        }
    }
    // Several variables: f = x1·x2² + sin(x1 x3) − x3 / x2.
    let f = Formula::parse("x1*x2^2 + sin(x1*x3) - x3/x2", Variables::Numbered(3)).unwrap();
    for x in points(50, 3, 2.0) {
        let (a, b, c) = (x[0], x[1], x[2]);
        let mut g = [0.0; 3];
        f.value_and_add_gradient(&x, &mut g);
        let want = [
            b * b + c * (a * c).cos(),
            2.0 * a * b + c / (b * b),
            a * (a * c).cos() - 1.0 / b,
        ];
        for (g, w) in g.iter().zip(want) {
            assert!(close(*g, w, 1e-12), "{x:?}: {g} vs {w}");
        }
    }
}

#[test]
fn precedence_and_constants() {
    let v = |text: &str| {
        Formula::parse(text, Variables::Numbered(2))
            .unwrap()
            .value(&[2.0, 3.0])
    };
    assert_eq!(v("-x1^2"), -4.0);
    assert_eq!(v("2^3^2"), 512.0);
    assert_eq!(v("x1 - x2 - 1"), -2.0);
    assert_eq!(v("x2 / x1 / 2"), 0.75);
    assert_eq!(v("2*x1 + 3*x2^2"), 31.0);
    assert_eq!(v("--x1 + +x2"), 5.0);
    assert_eq!(v("1.5e1 + .5 + 2E-1"), 15.7);
    assert_eq!(v("2*e"), 2.0 * std::f64::consts::E);
    assert_eq!(v("pi"), std::f64::consts::PI);
    assert_eq!(v("x1^-1"), 0.5);
    // Variables by number: x10 is the tenth, not x1 followed by 0.
    let f = Formula::parse("x10 - x1", Variables::Numbered(10)).unwrap();
    let x: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(f.value(&x), 9.0);
}

const GOOD: &str = r#"
seed = 1
objective = { kind = "formula", dim = 2, f = "x1^2/2 + x2^2/2" }
noise = { law = "ball", r = 1.0 }
dynamics = { eta = 0.1, steps = 100 }
init = { kind = "point", point = 0.0 }
events = { reach_radius = 0.5 }
"#;

/// The good file with `from` replaced by `to`: refused, naming the file, `field`, the
/// position (when given) and `reason`.
fn refused(from: &str, to: &str, field: &str, position: Option<usize>, reason: &str) {
    assert!(GOOD.contains(from), "test setup: {from:?}");
    let text = GOOD.replace(from, to);
    let err = config::parse(&text, Path::new("experiments/mine.toml"), "mine")
        .expect_err("must be refused");
    let msg = err.to_string();
    assert!(msg.starts_with("experiments/mine.toml: "), "{msg}");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{msg}");
    assert_eq!(err.field(), field, "{msg}");
    if let Some(p) = position {
        assert!(msg.contains(&format!("at character {p}:")), "{msg}");
    }
    assert!(msg.contains(reason), "{reason:?} not in {msg}");
}

#[test]
fn the_good_formula_file_parses() {
    let e = common::experiment(GOOD);
    assert_eq!(e.configs[0].dim(), 2);
    assert_eq!(e.configs[0].objective.kind(), "formula");
}

#[test]
fn syntax_errors_name_the_position() {
    let f = r#"f = "x1^2/2 + x2^2/2""#;
    refused(
        f,
        r#"f = "x1 + * x2""#,
        "objective.f",
        Some(6),
        "expected a number, a name or `(`, found `*`",
    );
    refused(
        f,
        r#"f = "x1 x2""#,
        "objective.f",
        Some(4),
        "expected an operator, found `x`",
    );
    refused(
        f,
        r#"f = "(x1 + x2""#,
        "objective.f",
        Some(1),
        "this `(` is never closed",
    );
    refused(
        f,
        r#"f = "x1 + x2)""#,
        "objective.f",
        Some(8),
        "unbalanced `)`",
    );
    refused(
        f,
        r#"f = "x1 +""#,
        "objective.f",
        Some(5),
        "the formula ends where",
    );
    refused(f, r#"f = """#, "objective.f", Some(1), "empty formula");
    refused(f, r#"f = "x1 # 2""#, "objective.f", Some(4), "found `#`");
    refused(
        f,
        r#"f = "1e999 * x1""#,
        "objective.f",
        Some(1),
        "out of range",
    );
}

#[test]
fn unknown_names_are_refused() {
    let f = r#"f = "x1^2/2 + x2^2/2""#;
    refused(
        f,
        r#"f = "x1 + y""#,
        "objective.f",
        Some(6),
        "unknown name `y`",
    );
    refused(
        f,
        r#"f = "x1 + sinh(x2)""#,
        "objective.f",
        Some(6),
        "unknown name `sinh`",
    );
    refused(
        f,
        r#"f = "x0 + x1""#,
        "objective.f",
        Some(1),
        "unknown name `x0`",
    );
    refused(
        f,
        r#"f = "sin x1""#,
        "objective.f",
        Some(1),
        "`sin` needs an argument",
    );
    refused(
        f,
        r#"f = "pi(x1)""#,
        "objective.f",
        Some(1),
        "`pi` is not a function",
    );
    // The separable form has the one variable x.
    refused(
        f,
        r#"each = "x1^2""#,
        "objective.each",
        Some(1),
        "the separable form has the one variable x",
    );
}

#[test]
fn dimension_mismatches_are_refused() {
    let f = r#"f = "x1^2/2 + x2^2/2""#;
    refused(
        f,
        r#"f = "x1 + x3""#,
        "objective.f",
        Some(6),
        "unknown name `x3` (the dimension is 2)",
    );
    refused(
        f,
        r#"f = "x1^2 + x2^2", target = [1.0, 2.0, 3.0]"#,
        "objective.target",
        None,
        "3",
    );
    refused(
        f,
        r#"each = "x^2", f = "x1""#,
        "objective.f",
        None,
        "exactly one of `f`",
    );
    let no_dim = config::parse(&GOOD.replace("dim = 2, ", ""), Path::new("m.toml"), "m");
    let msg = no_dim.expect_err("dim is required").to_string();
    assert!(msg.contains("missing field `dim`"), "{msg}");
}

#[test]
fn sizes_and_nesting_are_bounded_before_parsing() {
    let f = r#"f = "x1^2/2 + x2^2/2""#;
    let long = format!("x1{}", " + x2".repeat(MAX_LEN / 5 + 1));
    refused(
        f,
        &format!(r#"f = "{long}""#),
        "objective.f",
        Some(1),
        "longer than",
    );
    let deep = format!(
        "{}x1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    refused(
        f,
        &format!(r#"f = "{deep}""#),
        "objective.f",
        Some(MAX_DEPTH + 1),
        "nested more than",
    );
    let calls = format!("{}x1{}", "sin(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    refused(
        f,
        &format!(r#"f = "{calls}""#),
        "objective.f",
        None,
        "nested more than",
    );
    let powers = format!("x1{}", "^x2".repeat(MAX_DEPTH + 1));
    refused(
        f,
        &format!(r#"f = "{powers}""#),
        "objective.f",
        None,
        "nested more than",
    );
    // A long run of signs is not nesting.
    let signs = format!("{}x1", "-".repeat(MAX_LEN - 10));
    assert_eq!(
        Formula::parse(&signs, Variables::Numbered(1))
            .unwrap()
            .value(&[3.0]),
        3.0
    );
}

#[test]
fn the_cli_refuses_a_bad_formula_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, GOOD.replace("x2^2/2", "x2^2/")).unwrap();
    let out_dir = dir.path().join("out");
    let out = common::cli(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml") && stderr.contains("objective.f"),
        "{stderr}"
    );
    assert!(stderr.contains("at character 15"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

/// Random token soup, random well-formed expressions and deep nests: parsing never panics
/// or hangs, and neither does evaluating what parses (value and gradient, at awkward points).
#[test]
fn no_formula_panics_or_hangs() {
    let token = prop_oneof![
        Just("x1".to_string()),
        Just("x2".to_string()),
        Just("x".to_string()),
        Just("x99".to_string()),
        Just("pi".to_string()),
        Just("e".to_string()),
        "[0-9]{1,3}(\\.[0-9]{0,3})?(e-?[0-9]{1,3})?",
        Just("+".to_string()),
        Just("-".to_string()),
        Just("*".to_string()),
        Just("/".to_string()),
        Just("^".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("sin(".to_string()),
        Just("ln(".to_string()),
        Just("sqrt(".to_string()),
        Just("abs(".to_string()),
        Just("tanh(".to_string()),
        Just("exp(".to_string()),
        Just(" ".to_string()),
        "[^a-z0-9]",
    ];
    let soup = proptest::collection::vec(token, 0..60).prop_map(|t| t.concat());
    let leaf = prop_oneof![
        Just("x1".to_string()),
        Just("x2".to_string()),
        Just("0".to_string()),
        Just("1e300".to_string()),
        "[0-9]{1,2}\\.[0-9]",
    ];
    let expr = leaf.prop_recursive(12, 200, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), "[-+*/^]")
                .prop_map(|(a, b, op)| format!("({a}){op}({b})")),
            (inner.clone(), "(sin|cos|tan|exp|ln|sqrt|abs|tanh)")
                .prop_map(|(a, f)| format!("{f}({a})")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    });
    let deep = (1usize..400, "[(^-]|sin\\(").prop_map(|(n, open)| format!("{}x1", open.repeat(n)));
    let input = prop_oneof![soup, expr, deep];
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 3000,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    runner
        .run(&input, |text| {
            // Each input on a small stack: deep nesting must be refused, not overflow.
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    for vars in [Variables::Numbered(2), Variables::Single] {
                        if let Ok(f) = Formula::parse(&text, vars) {
                            for x in [
                                [0.0, -0.0],
                                [1e308, -1e308],
                                [f64::NAN, 2.5],
                                [-3.0, 1e-320],
                            ] {
                                let x = &x[..if vars == Variables::Single { 1 } else { 2 }];
                                let mut g = [0.0; 2];
                                let _ = f.value(x);
                                let _ = f.value_and_add_gradient(x, &mut g[..x.len()]);
                            }
                        }
                    }
                })
                .unwrap()
                .join()
                .map_err(|_| TestCaseError::fail("panicked"))
        })
        .unwrap();
}

/// The same experiment with the built-in Rastrigin and with both formula forms: the
/// estimates agree in distribution (other streams, since the objective is part of the
/// streams' key).
#[test]
fn rastrigin_as_a_formula_gives_the_same_estimates() {
    let text = format!(
        r#"
        seed = 5
        trajectories = 4000
        objective = {{ kind = "rastrigin", dim = 2, a = {A}, w = {W} }}
        init = {{ kind = "box", lo = -3.0, hi = 3.0 }}
        noise = {{ law = "ball", r = 3.0 }}
        dynamics = {{ eta = 0.05, steps = 60 }}
        events = {{ reach_radius = 0.5 }}

        [[config]]
        label = "built-in"

        [[config]]
        label = "f"
        objective = {{ kind = "formula", dim = 2, f = "{}" }}

        [[config]]
        label = "each"
        objective = {{ kind = "formula", dim = 2, each = "{RASTRIGIN_EACH}" }}
        "#,
        rastrigin_f(2)
    );
    let r = execute(&common::experiment(&text), 2).unwrap();
    let s: Vec<_> = r.results.iter().map(|c| &c.summary).collect();
    let p0 = &s[0].reach.probability;
    assert!(p0.estimate > 0.1 && p0.estimate < 0.9, "{}", p0.estimate);
    for other in &s[1..] {
        let p1 = &other.reach.probability;
        let pooled = (p0.k + p1.k) as f64 / (p0.n + p1.n) as f64;
        let se = (pooled * (1.0 - pooled) * (1.0 / p0.n as f64 + 1.0 / p1.n as f64)).sqrt();
        let z = (p1.estimate - p0.estimate) / se;
        assert!(z.abs() < 3.0, "P(reach): z = {z}");
        let (m0, m1) = (&s[0].final_dist, &other.final_dist);
        let z = (m1.mean - m0.mean) / (m0.mcse * m0.mcse + m1.mcse * m1.mcse).sqrt();
        assert!(z.abs() < 3.0, "mean final distance: z = {z}");
    }
}

/// Without `lipschitz` the theorem check estimates L, which is only a lower bound: the
/// verdict says so and is never a bare "holds".
#[test]
fn an_estimated_lipschitz_constant_qualifies_the_verdict() {
    let text = r#"
        seed = 2
        trajectories = 400
        objective = { kind = "formula", dim = 1, f = "x1^2/2" }
        init = { kind = "box", lo = -1.0, hi = 1.0 }
        noise = { law = "ball", r = 0.5 }
        dynamics = { eta = 0.05, steps = 400 }
        events = { reach_radius = 0.3, stay_radius = 0.6 }
        [theorem]
    "#;
    let exp = common::experiment(text);
    let reports = sgd_escape::theory::check_experiment(&exp, 2).unwrap();
    let r = &reports[0];
    let given: Vec<String> = r.given.iter().map(|g| g.to_string()).collect();
    assert!(
        given.iter().any(|g| g.starts_with("L estimated")),
        "{:?}: {given:?}",
        r.verdict
    );
    // The landscape is a bowl with L = 1: the estimate finds it.
    assert!(given.iter().any(|g| g.contains("L = 1")), "{given:?}");
}

struct Dim;
impl ObjectiveVisitor for Dim {
    type Output = usize;
    fn visit<O: Objective>(self, o: &O) -> usize {
        o.dim()
    }
}

#[test]
fn the_separable_form_has_the_file_s_dimension() {
    let e = common::experiment(&GOOD.replace(
        r#"dim = 2, f = "x1^2/2 + x2^2/2""#,
        r#"dim = 7, each = "x^2/2""#,
    ));
    assert_eq!(e.configs[0].objective.with(Dim), 7);
}
