//! Minibatch SGD through the whole tool: experiment files, the engine's oracle path, where
//! events are measured, and what the theorem check may claim.

use sgd_escape::config::parse;
use sgd_escape::engine;
use sgd_escape::events::Measure;
use sgd_escape::experiment::{ConfigSpec, Experiment, ObjectiveChoice, ProblemVisitor};
use sgd_escape::objective::{FiniteSum, Objective};
use sgd_escape::oracle::Oracle;
use sgd_escape::pipeline::execute;
use sgd_escape::theory::check::{Given, Verdict};
use sgd_escape::theory::check_experiment;
use std::path::Path;

const LEAST_SQUARES: &str = r#"
name = "ls"
seed = 5
trajectories = 300
objective = { kind = "least_squares", data = { n = 200, dim = 10, noise = 0.5, data_seed = 1 } }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.3, stay_radius = 0.6 }
dynamics = { eta = 0.01, steps = 2000 }
"#;

fn experiment(text: &str) -> Experiment {
    parse(text, Path::new("<test>"), "test").expect("valid experiment")
}

fn with_configs(base: &str, configs: &str) -> Experiment {
    experiment(&format!("{base}\n{configs}"))
}

/// Every (x_t, ‖y_t − x*‖) of trajectory `index`, by replaying it.
fn replay(spec: &ConfigSpec, seed: u64, index: u64) -> Vec<(Vec<f64>, f64)> {
    struct Trace(u64, u64, u64);
    impl ProblemVisitor for Trace {
        type Output = Vec<(Vec<f64>, f64)>;
        fn visit<O: Objective, S: Oracle<O>>(self, p: &engine::Problem<'_, O, S>) -> Self::Output {
            let target = p.objective.target();
            let mut xs = Vec::new();
            engine::trace(p, self.0, self.1, self.2, |_, x, y| {
                let d: f64 = y.iter().zip(target).map(|(y, c)| (y - c) * (y - c)).sum();
                xs.push((x.to_vec(), d.sqrt()))
            });
            xs
        }
    }
    spec.with_problem(Trace(seed, spec.id(), index))
}

/// Every x_t of trajectory 0.
fn path(spec: &ConfigSpec, seed: u64) -> Vec<Vec<f64>> {
    replay(spec, seed, 0).into_iter().map(|p| p.0).collect()
}

#[test]
fn a_batch_of_every_example_is_the_full_gradient_step() {
    let e = with_configs(
        LEAST_SQUARES,
        r#"[[config]]
label = "B = n"
noise = { law = "minibatch", batch = 200 }
dynamics = { eta = 0.05, steps = 50 }"#,
    );
    let spec = &e.configs[0];
    let ObjectiveChoice::LeastSquares { built, .. } = &spec.objective else {
        panic!("least squares")
    };
    let f = &*built.0;
    let xs = path(spec, e.seed);
    assert_eq!(xs.len(), 51);
    let mut g = vec![0.0; 10];
    let mut worst = 0.0f64;
    for w in xs.windows(2) {
        f.grad_into(&w[0], &mut g);
        for ((next, x), g) in w[1].iter().zip(&w[0]).zip(&g) {
            let full = x - 0.05 * g;
            worst = worst.max((next - full).abs() / full.abs().max(1e-300));
        }
    }
    assert!(worst <= 1e-12, "relative difference {worst:e}");
}

#[test]
fn least_squares_with_b_1_and_b_50_and_a_qualified_theorem_verdict() {
    let e = with_configs(
        LEAST_SQUARES,
        r#"
[theorem]
t2 = 200
traced = 4
samples = 200

[[config]]
label = "B = 1"
noise = { law = "minibatch", batch = 1 }

[[config]]
label = "B = 50"
noise = { law = "minibatch", batch = 50 }

[[config]]
label = "theorem regime"
trajectories = 200
noise = { law = "minibatch", batch = 1 }
dynamics = { eta = 5e-5, steps = 20000 }
"#,
    );
    let run = execute(&e, 2).unwrap();
    for r in &run.results[..2] {
        let reach = &r.summary.reach.probability;
        assert!(reach.lower > 0.95, "{}: P(reach) = {reach:?}", r.spec.label);
        assert!(r.summary.stay.is_some());
        assert_eq!(r.spec.events.on, Measure::X, "finite sums measure on x");
    }
    // The larger batch is less noisy: it ends closer to x*.
    assert!(run.results[1].summary.final_dist.mean < run.results[0].summary.final_dist.mean / 3.0);
    assert_eq!(run.results[0].spec.steps_per_epoch(), Some(200.0));
    assert_eq!(run.results[1].spec.steps_per_epoch(), Some(4.0));

    let reports = check_experiment(&e, 2).unwrap();
    let regime = &reports[2];
    let b = regime.bounds.expect("constants");
    assert!(b.step.holds, "the step-size condition holds at eta = 5e-5");
    assert!(regime.assumptions.noise_bound_observed);
    // L and c are exact for least squares: only r and the events are qualified.
    assert!(
        regime
            .given
            .iter()
            .any(|g| matches!(g, Given::NoiseObserved { .. }))
    );
    assert!(regime.given.iter().any(|g| matches!(g, Given::EventsOnX)));
    assert!(
        !regime
            .given
            .iter()
            .any(|g| matches!(g, Given::LipschitzEstimated { .. })
                || matches!(g, Given::ConvexityEstimated { .. }))
    );
    assert_eq!(regime.verdict, Verdict::Holds, "{:?}", regime.reasons);
    assert_eq!(
        regime.verdict_label(),
        "holds, given r observed on visited points; events on x"
    );
    // At eta = 0.01 the same r makes the reach ball contain every start.
    assert_eq!(reports[0].verdict, Verdict::Vacuous);
}

#[test]
fn an_observed_r_bounds_every_minibatch_deviation_on_the_path() {
    let e = with_configs(
        LEAST_SQUARES,
        r#"[[config]]
label = "B = 3"
noise = { law = "minibatch", batch = 3 }
dynamics = { eta = 0.01, steps = 300 }"#,
    );
    let spec = &e.configs[0];
    let ObjectiveChoice::LeastSquares { built, .. } = &spec.objective else {
        panic!("least squares")
    };
    let f = &*built.0;
    let (mut g, mut gi, mut scratch) = (vec![0.0; 10], vec![0.0; 10], vec![0.0; 10]);
    for x in path(spec, e.seed).iter().step_by(37) {
        f.grad_into(x, &mut g);
        let r = sgd_escape::oracle::max_example_deviation(f, x, &g, &mut scratch);
        // Every batch gradient lies within r of ∇f: check a few batches of 3.
        for start in [0usize, 57, 120, 197] {
            let batch = [start, (start + 1) % 200, (start + 2) % 200];
            let mut sorted = batch;
            sorted.sort_unstable();
            f.batch_grad_into(&sorted, x, &mut gi);
            let d: f64 = gi.iter().zip(&g).map(|(a, b)| (a - b) * (a - b)).sum();
            assert!(d.sqrt() <= r * (1.0 + 1e-12));
        }
    }
}

#[test]
fn events_on_x_and_on_y_see_the_same_trajectories() {
    let config = |on: &str, every: u64| {
        with_configs(
            LEAST_SQUARES,
            &format!(
                r#"[[config]]
label = "B = 5"
noise = {{ law = "minibatch", batch = 5 }}
events = {{ reach_radius = 0.3, on = "{on}", every = {every} }}"#
            ),
        )
    };
    let run = |on: &str, every: u64| execute(&config(on, every), 1).unwrap().results.remove(0);
    let (x, y, y5) = (run("x", 1), run("y", 1), run("y", 5));
    let e5 = config("y", 5);
    for (i, ((a, b), c)) in x
        .outcomes
        .iter()
        .zip(&y.outcomes)
        .zip(&y5.outcomes)
        .enumerate()
    {
        // Where events are measured never changes the path.
        assert_eq!(a.final_x, b.final_x);
        assert_eq!(a.final_x, c.final_x);
        assert_eq!(a.final_y_dist.to_bits(), b.final_y_dist.to_bits());
        let (h, h5) = (b.first_hit.unwrap(), c.first_hit.unwrap());
        assert!(h5 >= h && (h5 % 5 == 0 || h5 == 2000), "{h} {h5}");
        if i < 8 {
            // Measured every 5 steps: the first multiple of 5 (or T) where y_t is inside.
            let d = replay(&e5.configs[0], e5.seed, i as u64);
            let expected = (0..=2000u64)
                .find(|&t| (t % 5 == 0 || t == 2000) && d[t as usize].1 <= 0.3)
                .unwrap();
            assert_eq!(h5, expected);
            let exact = (0..=2000u64).find(|&t| d[t as usize].1 <= 0.3).unwrap();
            assert_eq!(h, exact);
        }
    }
    assert_eq!(y.spec.events.on, Measure::Y);
}

#[test]
fn minibatch_runs_are_identical_on_one_and_two_threads_for_every_sampling() {
    for sampling in ["independent", "reshuffle", "replacement"] {
        let e = with_configs(
            LEAST_SQUARES,
            &format!(
                r#"[[config]]
label = "B = 7"
trajectories = 40
noise = {{ law = "minibatch", batch = 7, sampling = "{sampling}", injected = {{ law = "ball", r = 0.1 }} }}"#
            ),
        );
        let a = execute(&e, 1).unwrap();
        let b = execute(&e, 2).unwrap();
        assert_eq!(a.results[0].outcomes, b.results[0].outcomes, "{sampling}");
    }
}

#[test]
fn reshuffled_batches_are_outside_the_theorem() {
    let e = with_configs(
        LEAST_SQUARES,
        r#"
[theorem]
t2 = 100
traced = 2
samples = 50

[[config]]
label = "reshuffle"
trajectories = 50
noise = { law = "minibatch", batch = 10, sampling = "reshuffle" }
dynamics = { eta = 0.01, steps = 200 }"#,
    );
    let r = &check_experiment(&e, 1).unwrap()[0];
    assert_eq!(r.verdict, Verdict::NotApplicable);
    assert!(
        r.reasons.iter().any(|s| s.contains("reshuffle")),
        "{:?}",
        r.reasons
    );
}

#[test]
fn bad_minibatch_and_data_settings_are_refused_with_the_field() {
    let cases: &[(&str, &str)] = &[
        (
            r#"objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "minibatch", batch = 1 }"#,
            "needs a finite-sum objective",
        ),
        (
            r#"objective = { kind = "least_squares", data = { n = 20, dim = 3 } }
noise = { law = "minibatch", batch = 21 }"#,
            "noise.batch",
        ),
        (
            r#"objective = { kind = "least_squares", data = { n = 20, dim = 3 } }
noise = { law = "minibatch", batch = 2, injected = { law = "minibatch", batch = 1 } }"#,
            "noise.injected.law",
        ),
        (
            r#"objective = { kind = "least_squares", data = { n = 2, dim = 3 } }
noise = { law = "none" }"#,
            "singular",
        ),
        (
            r#"objective = { kind = "least_squares", data = { n = 20, dim = 100000 } }
noise = { law = "none" }"#,
            "objective.data.dim",
        ),
        (
            r#"objective = { kind = "logistic", lambda = 0.0, data = { n = 20, dim = 3 } }
noise = { law = "none" }"#,
            "objective.lambda",
        ),
        (
            r#"objective = { kind = "least_squares", data = { csv = "no/such/file.csv", label = "y" } }
noise = { law = "none" }"#,
            "no/such/file.csv",
        ),
        (
            r#"objective = { kind = "teacher_student", inputs = 3, width = 4, n = 10 }
noise = { law = "none" }"#,
            "objective.width",
        ),
    ];
    for (body, needle) in cases {
        let text = format!(
            "{body}\ndynamics = {{ eta = 0.1, steps = 10 }}\ninit = {{ kind = \"ball\", radius = 1.0 }}\nevents = {{ reach_radius = 0.1 }}\n"
        );
        let err = parse(&text, Path::new("t.toml"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // Minibatch noise enters the step.
    let text = r#"objective = { kind = "least_squares", data = { n = 20, dim = 3 } }
noise = { law = "minibatch", batch = 2 }
dynamics = { eta = 0.1, steps = 10, noise_entry = "point" }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.1 }"#;
    let err = parse(text, Path::new("t.toml"), "t")
        .unwrap_err()
        .to_string();
    assert!(err.contains("noise_entry"), "{err}");
}

#[test]
fn csv_data_are_read_relative_to_the_experiment_file() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = sgd_escape::data::gaussian_linear(50, 3, 0.1, 4);
    std::fs::write(dir.path().join("d.csv"), data.to_csv()).unwrap();
    let text = r#"objective = { kind = "least_squares", data = { csv = "d.csv", label = "label" } }
noise = { law = "minibatch", batch = 5 }
dynamics = { eta = 0.1, steps = 10 }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.1 }"#;
    let file = dir.path().join("e.toml");
    std::fs::write(&file, text).unwrap();
    let e = sgd_escape::config::load(&file).unwrap();
    let spec = &e.configs[0];
    assert_eq!(spec.objective.examples(), Some(50));
    // The same data drawn directly: the same x*.
    let direct = sgd_escape::objective::LeastSquares::new(data).unwrap();
    assert_eq!(spec.objective.target(), direct.target());
    // An edited file is a new configuration.
    let id = spec.id();
    let (other, _) = sgd_escape::data::gaussian_linear(50, 3, 0.1, 5);
    std::fs::write(dir.path().join("d.csv"), other.to_csv()).unwrap();
    assert_ne!(sgd_escape::config::load(&file).unwrap().configs[0].id(), id);
}

#[test]
fn teacher_student_reaches_the_teacher_from_random_starts() {
    let e = experiment(
        r#"
seed = 3
trajectories = 40
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.25, every = 10 }
noise = { law = "minibatch", batch = 10 }
dynamics = { eta = 0.05, steps = 8000 }
objective = { kind = "teacher_student", inputs = 6, width = 2, n = 300 }
"#,
    );
    let r = execute(&e, 2).unwrap().results.remove(0);
    assert!(
        r.summary.reach.probability.estimate > 0.8,
        "{:?}",
        r.summary.reach
    );
    for o in &r.outcomes {
        if let Some(t) = o.first_hit {
            assert!(t % 10 == 0 || t == 8000);
        }
    }
    // The minibatch oracle was used: the objective is a finite sum.
    let ObjectiveChoice::TeacherStudent { built, .. } = &e.configs[0].objective else {
        panic!()
    };
    assert_eq!(built.0.examples(), 300);
}

#[test]
fn logistic_minibatch_runs_and_its_verdict_names_every_estimate() {
    let e = experiment(
        r#"
seed = 4
trajectories = 200
objective = { kind = "logistic", lambda = 0.1, data = { n = 100, dim = 3, data_seed = 2 } }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.2 }
noise = { law = "minibatch", batch = 5, injected = { law = "gaussian", sigma = 0.1 } }
dynamics = { eta = 0.05, steps = 2000 }

[theorem]
t2 = 100
traced = 2
samples = 40
draws = 20
"#,
    );
    let r = execute(&e, 2).unwrap().results.remove(0);
    assert!(
        r.summary.reach.probability.estimate > 0.9,
        "{:?}",
        r.summary.reach
    );
    // Gaussian noise injected on top: unbounded, outside the theorem, said so.
    let t = &check_experiment(&e, 1).unwrap()[0];
    assert_eq!(t.verdict, Verdict::NotApplicable);
    assert!(
        t.reasons.iter().any(|s| s.contains("unbounded")),
        "{:?}",
        t.reasons
    );
    // Without it, L is known (λ_max/(4n) + λ) and ĉ a Monte Carlo estimate.
    let e = experiment(
        r#"
seed = 4
trajectories = 200
objective = { kind = "logistic", lambda = 0.1, data = { n = 100, dim = 3, data_seed = 2 } }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.2 }
noise = { law = "minibatch", batch = 5 }
dynamics = { eta = 0.05, steps = 2000 }

[theorem]
t2 = 100
traced = 2
samples = 40
draws = 20
"#,
    );
    let t = &check_experiment(&e, 1).unwrap()[0];
    assert!(t.l.is_some() && t.assumptions.lipschitz_known.is_some());
    assert!(
        t.given
            .iter()
            .any(|g| matches!(g, Given::ConvexityEstimated { .. })),
        "{:?}",
        t.given
    );
    assert!(
        t.given
            .iter()
            .any(|g| matches!(g, Given::NoiseObserved { .. })),
        "{:?}",
        t.given
    );
    assert!(!t.verdict_label().eq("holds"));
}
