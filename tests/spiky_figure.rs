//! The paper's Figure 3 on the spiky function, as shipped in experiments/spiky.toml: GD with
//! η = 0.001 from starts uniform on [−3, 3] stops in local minima all over [−3, 3], about
//! half of them outside [−1.5, 1.5]; with noise the share near 0 grows.

mod common;

use sgd_escape::objective::{Objective, Spiky};

fn finals(exp: &sgd_escape::experiment::Experiment, label: &str) -> Vec<f64> {
    let spec = exp.configs.iter().find(|c| c.label == label).unwrap();
    let out = spec.run(exp.seed, 0..spec.trajectories);
    assert!(out.iter().all(|o| o.diverged_at.is_none()));
    out.iter().map(|o| o.final_x[0]).collect()
}

/// The local minima of the piecewise-linear curve: knots where the slope turns from − to +.
fn local_minima() -> Vec<f64> {
    let f = Spiky::new();
    let k = f.knots();
    (1..k.len() - 1)
        .filter(|&i| {
            f.value(&[k[i]]) < f.value(&[k[i - 1]]) && f.value(&[k[i]]) < f.value(&[k[i + 1]])
        })
        .map(|i| k[i])
        .collect()
}

#[test]
fn gd_stops_in_local_minima_all_over_and_noise_moves_runs_to_zero() {
    let exp = common::shipped("spiky.toml");
    let gd = finals(&exp, "GD");
    let n = gd.len() as f64;
    assert_eq!(gd.len(), 1000);

    // About half outside [−1.5, 1.5], as the starts are.
    let outside = gd.iter().filter(|x| x.abs() > 1.5).count() as f64 / n;
    assert!(
        (0.4..=0.6).contains(&outside),
        "share outside [−1.5, 1.5]: {outside}"
    );

    // Every GD run ends at a local minimum of f (GD oscillates around the kink by at most
    // η·max|f'| ≈ 0.13) ...
    let minima = local_minima();
    assert!(minima.len() > 25);
    let nearest = |x: f64| {
        minima
            .iter()
            .map(|m| (x - m).abs())
            .fold(f64::INFINITY, f64::min)
    };
    assert!(
        gd.iter().all(|&x| nearest(x) < 0.15),
        "a GD run ended away from every local minimum"
    );
    // ... and the minima used are spread over all of [−3, 3]: at least 20 distinct ones,
    // and runs in every unit interval.
    let mut used: Vec<usize> = gd
        .iter()
        .map(|&x| {
            minima
                .iter()
                .enumerate()
                .min_by(|a, b| (x - a.1).abs().total_cmp(&(x - b.1).abs()))
                .unwrap()
                .0
        })
        .collect();
    used.sort();
    used.dedup();
    assert!(used.len() >= 20, "only {} distinct minima used", used.len());
    for lo in -3..3 {
        let lo = lo as f64;
        assert!(
            gd.iter().any(|&x| x >= lo && x < lo + 1.0),
            "no GD run ends in [{lo}, {})",
            lo + 1.0
        );
    }

    // With noise the share near 0 grows.
    let near = |xs: &[f64]| xs.iter().filter(|x| x.abs() <= 0.5).count();
    let gd_near = near(&gd);
    let n03 = near(&finals(&exp, "noise 0.3"));
    let n015 = near(&finals(&exp, "noise 0.15"));
    assert!(n03 > gd_near, "noise 0.3: {n03} near 0 vs GD {gd_near}");
    assert!(n015 > gd_near, "noise 0.15: {n015} near 0 vs GD {gd_near}");
    // And noise 0.3 keeps (nearly) every run inside [−1.5, 1.5] where GD keeps half.
    let inside03 = finals(&exp, "noise 0.3")
        .iter()
        .filter(|x| x.abs() <= 1.5)
        .count();
    assert!(
        inside03 >= 900,
        "noise 0.3: {inside03} of 1000 within [−1.5, 1.5]"
    );
}
