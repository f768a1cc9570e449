//! The Section 5 measurements, checked where they can be computed by hand.

use sgd_escape::config::parse;
use sgd_escape::convexity::{hoeffding_lower, measure};
use sgd_escape::experiment::{ConvexitySettings, Reference};
use std::path::Path;

fn settings(points: u64, radius: f64) -> ConvexitySettings {
    ConvexitySettings {
        every: Some(1),
        trajectories: 8,
        reference: Reference::Final,
        points,
        radius,
        restarts: None,
    }
}

#[test]
fn gd_on_a_bowl_by_hand() {
    // f = ½‖x‖², x_0 = (1, 0), η = 0.5, T = 2: x_t = (2^-t, 0), x_T = (0.25, 0).
    let e = parse(
        r#"
trajectories = 1
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "none" }
dynamics = { eta = 0.5, steps = 2 }
init = { kind = "point", point = [1.0, 0.0] }
events = { reach_radius = 0.1 }
"#,
        Path::new("t.toml"),
        "t",
    )
    .unwrap();
    let r = measure(&e.configs[0], &settings(16, 0.1), 1, 0.95);
    assert_eq!(r.points.len(), 3);
    for (t, p) in r.points.iter().enumerate() {
        let x = 0.5f64.powi(t as i32);
        let v = 0.25 - x; // x_T − x_t along the first axis
        assert_eq!(p.t, t as u64);
        assert_eq!(p.inner, -(x * v)); // ⟨−∇f(x_t), x_T − x_t⟩ with ∇f = x
        assert_eq!(p.distance, v.abs());
        if v != 0.0 {
            assert!((p.ratio - (-(x * v)) / (v * v)).abs() < 1e-15);
        } else {
            assert!(p.ratio.is_nan());
        }
        assert_eq!(p.grad_norm, x);
        assert_eq!(
            p.stochastic_grad_norm, x,
            "no noise: the stochastic gradient is ∇f"
        );
        // 5.2: −⟨w, v⟩ = −w₁v for w in the ball of radius 0.1 around x_t.
        let h = p.neighbourhood.as_ref().unwrap();
        let (lo, hi) = ((x - 0.1) * -v, (x + 0.1) * -v);
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        assert!(h.min >= lo - 1e-15 && h.max <= hi + 1e-15 && h.min <= h.mean && h.mean <= h.max);
        // Hoeffding with G = L(‖x_t‖ + ρ), L = 1, range ±G‖x_T − x_t‖.
        let range = (x + 0.1) * v.abs();
        assert_eq!(h.range, Some(range));
        let lower = h.mean - 2.0 * range * ((1.0f64 / 0.05).ln() / 32.0).sqrt();
        assert!((h.lower.unwrap() - lower).abs() < 1e-15);
    }
    assert_eq!(r.negative_share, 0.0);
    // One trajectory: nothing to compare with.
    assert_eq!(r.final_min_distance, None);
    assert_eq!(r.points[0].others_min, None);
}

#[test]
fn other_trajectories_final_points_by_formula() {
    // f = ½x², GD with η = 0.25 for T = 4 from x_0 uniform on [1, 2]: x_t = x_0 (3/4)^t.
    let e = parse(
        r#"
trajectories = 3
objective = { kind = "quadratic", dim = 1, k = 1.0 }
noise = { law = "none" }
dynamics = { eta = 0.25, steps = 4 }
init = { kind = "box", lo = 1.0, hi = 2.0 }
events = { reach_radius = 0.1 }
"#,
        Path::new("t.toml"),
        "t",
    )
    .unwrap();
    let spec = &e.configs[0];
    let r = measure(spec, &settings(0, 0.0), 1, 0.95);
    let finals: Vec<f64> = spec.run(1, 0..3).iter().map(|o| o.final_x[0]).collect();
    for p in &r.points {
        let x_t = finals[p.trajectory as usize] / 0.75f64.powi(4 - p.t as i32);
        let others: Vec<f64> = (0..3)
            .filter(|&j| j != p.trajectory as usize)
            .map(|j| -x_t * (finals[j] - x_t))
            .collect();
        let min = others.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!((p.others_min.unwrap() - min).abs() < 1e-12);
        assert_eq!(
            p.others_nonpositive,
            others.iter().filter(|&&v| v <= 1e-15).count() as u64
        );
        assert!(p.neighbourhood.is_none());
    }
    let mut d = f64::INFINITY;
    for a in 0..3 {
        for b in a + 1..3 {
            d = d.min((finals[a] - finals[b]).abs());
        }
    }
    assert_eq!(r.final_min_distance, Some(d));
    assert_eq!(r.epochs.len(), 5);
    assert_eq!(r.epochs[4].negative_share, 0.0);
}

#[test]
fn hoeffding_bound_formula() {
    // m = 200 values in [−1, 1] at α = 0.05: half-width 2·√(ln 20 / 400).
    let b = hoeffding_lower(0.3, 1.0, 200, 0.05);
    assert!((b - (0.3 - 2.0 * (20f64.ln() / 400.0).sqrt())).abs() < 1e-15);
}

#[test]
fn measurements_do_not_depend_on_threads_and_near_the_teacher_every_inner_product_is_positive() {
    // Teacher–student near the teacher (where one-point convexity is proven locally): start
    // within 0.05 of W*, measure towards W* itself.
    let base = r#"
seed = 3
trajectories = 6
objective = { kind = "teacher_student", inputs = 6, width = 2, n = 400 }
noise = { law = "minibatch", batch = 10 }
dynamics = { eta = 0.02, steps = 400 }
events = { reach_radius = 0.05 }
"#;
    let probe = parse(
        &format!("{base}init = {{ kind = \"point\", point = 0.0 }}\n"),
        Path::new("t.toml"),
        "t",
    )
    .unwrap();
    let teacher = probe.configs[0].objective.target();
    let centre: Vec<String> = teacher.iter().map(|v| format!("{v:?}")).collect();
    let e = parse(
        &format!(
            "{base}init = {{ kind = \"ball\", centre = [{}], radius = 0.05 }}\n",
            centre.join(", ")
        ),
        Path::new("t.toml"),
        "t",
    )
    .unwrap();
    let s = ConvexitySettings {
        every: Some(10),
        trajectories: 6,
        reference: Reference::Target,
        points: 5,
        radius: 0.01,
        restarts: None,
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| measure(&e.configs[0], &s, e.seed, 0.95));
    let b = two.install(|| measure(&e.configs[0], &s, e.seed, 0.95));
    assert_eq!(a, b);
    let measured = a.points.iter().filter(|p| p.distance > 0.0).count();
    assert!(measured > 100);
    assert!(
        a.points.iter().all(|p| p.distance == 0.0 || p.inner > 0.0),
        "share negative {}",
        a.negative_share
    );
    assert_eq!(a.negative_share, 0.0);
}

#[test]
fn convexity_never_writes_over_files_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("e.toml");
    std::fs::write(
        &exp,
        r#"
trajectories = 2
objective = { kind = "quadratic", dim = 1, k = 1.0 }
noise = { law = "ball", r = 0.1 }
dynamics = { eta = 0.1, steps = 20 }
init = { kind = "box", lo = 1.0, hi = 2.0 }
events = { reach_radius = 0.1 }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("convexity.csv"), "someone else's\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_sgd-escape");
    let o = std::process::Command::new(bin)
        .args(["convexity", "--out"])
        .arg(&out)
        .arg(&exp)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not ours"));
    assert_eq!(
        std::fs::read_to_string(out.join("convexity.csv")).unwrap(),
        "someone else's\n"
    );
    // Into a fresh directory it writes, and a second run may write again.
    let fresh = dir.path().join("fresh");
    for _ in 0..2 {
        let o = std::process::Command::new(bin)
            .args(["convexity", "--out"])
            .arg(&fresh)
            .arg(&exp)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(fresh.join("convexity_epochs.csv").exists());
}

#[test]
fn restarts_by_formula_on_a_bowl() {
    // f = ½x², GD η = 0.5 for T = 4 from x_0 = 1: x_t = 2^-t. Restart from t = 1 and 3
    // with η' = 0.25 for 2 steps: x_end = x_t (3/4)², f = ½x_end², ‖x_end − x_0‖.
    let e = parse(
        r#"
trajectories = 1
objective = { kind = "quadratic", dim = 1, k = 1.0 }
noise = { law = "none" }
dynamics = { eta = 0.5, steps = 4 }
init = { kind = "point", point = 1.0 }
events = { reach_radius = 0.1 }
"#,
        Path::new("t.toml"),
        "t",
    )
    .unwrap();
    let mut s = settings(0, 0.0);
    s.restarts = Some(sgd_escape::experiment::Restarts {
        epochs: vec![1.0, 3.0, 9.0],
        eta: 0.25,
        steps: 2,
    });
    let r = measure(&e.configs[0], &s, 1, 0.95);
    assert_eq!(r.restarts.len(), 2);
    assert_eq!(r.restarts_skipped, vec![9.0]);
    for (x, t) in r.restarts.iter().zip([1, 3]) {
        let end = 0.5f64.powi(t) * 0.75 * 0.75;
        assert_eq!(x.t, t as u64);
        assert!((x.train_loss - 0.5 * end * end).abs() < 1e-15);
        assert!((x.distance_from_start - (1.0 - end)).abs() < 1e-15);
        assert_eq!(x.validation_loss, None);
    }
}
