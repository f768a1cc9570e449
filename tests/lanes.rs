//! Trajectories in SIMD lanes give the bits of one trajectory at a time: every path the
//! engine dispatches to (forced through `SGD_ESCAPE_ISA`: `scalar`, the one-lane
//! reference; `baseline`, portable lanes; `avx2`; `avx512`) writes the same `summary.csv`
//! and `trajectories.csv`, byte for byte, on 1 and 2 threads, for every built-in objective
//! × noise law, with and without a lane version; and the lane engine's final points equal
//! those of the one-trajectory engine's replay (`engine::trace`, through
//! `ConfigSpec::replay_check`).

mod common;

use sgd_escape::isa::Isa;
use std::path::Path;

/// Objectives (with a lane gradient: quadratic, rastrigin, wells; through their scalar
/// gradient lane by lane: formula, spiky's table) × laws (every built-in law has a lane sampler, the rejection samplers' included:
/// ball in d = 2, sphere, student_t with shapes above and below 1, stable with α = 1 and
/// α < 1; without: the formula law), and events every k steps, a staged schedule, a
/// diverging configuration, wells whose bumps underflow (the lane exp's slow path), the
/// noise entering the gradient's point, and events on x. 37 trajectories: partial vectors
/// at the end.
const MIX: &str = r#"
name = "lanes"
seed = 5
trajectories = 37
objective = { kind = "rastrigin", dim = 1, a = 0.5, w = 0.5 }
dynamics = { eta = 0.05, steps = 200 }
init = { kind = "box", lo = -3.0, hi = 3.0 }
events = { reach_radius = 0.3, stay_radius = 1.0, stay_from = 100, stay_to = 200 }

[[config]]
label = "rastrigin d1 ball"
noise = { law = "ball", r = 8.0 }

[[config]]
label = "rastrigin d2 ball (rejection)"
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
noise = { law = "ball", r = 8.0 }

[[config]]
label = "rastrigin d10 ball, events every 7"
objective = { kind = "rastrigin", dim = 10, a = 0.5, w = 0.5 }
noise = { law = "ball", r = 20.0 }
events = { reach_radius = 1.4, stay_radius = 5.7, stay_from = 100, stay_to = 200, every = 7 }

[[config]]
label = "rastrigin d5 cube, staged"
objective = { kind = "rastrigin", dim = 5, a = 0.5, w = 0.5 }
noise = { law = "cube", r = 6.0 }
dynamics = { schedule = [{ eta = 0.05, steps = 120 }, { eta = 0.01, steps = 80 }] }

[[config]]
label = "quadratic d3 gaussian"
objective = { kind = "quadratic", dim = 3, k = [1.0, 2.0, 0.5] }
noise = { law = "gaussian", sigma = 2.0 }

[[config]]
label = "quadratic d4 GD"
objective = { kind = "quadratic", dim = 4, k = 1.0 }
noise = { law = "none" }

[[config]]
label = "quadratic d1 diverging"
objective = { kind = "quadratic", dim = 1, k = 50.0 }
dynamics = { eta = 0.1, steps = 200 }
noise = { law = "cube", r = 1.0 }

[[config]]
label = "quadratic d3 sphere"
objective = { kind = "quadratic", dim = 3, k = 1.0 }
noise = { law = "sphere", r = 1.0 }

[[config]]
label = "rastrigin d1 sphere"
noise = { law = "sphere", r = 6.0 }

[[config]]
label = "quadratic d2 student_t"
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "student_t", nu = 3.0, s = 0.5 }

[[config]]
label = "rastrigin d3 student_t spherical, shape below 1"
objective = { kind = "rastrigin", dim = 3, a = 0.5, w = 0.5 }
noise = { law = "student_t", nu = 1.2, s = 0.3, spherical = true }

[[config]]
label = "rastrigin d3 stable"
objective = { kind = "rastrigin", dim = 3, a = 0.5, w = 0.5 }
noise = { law = "stable", alpha = 1.5, sigma = 0.2 }

[[config]]
label = "quadratic d2 stable, Cauchy"
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "stable", alpha = 1.0, sigma = 0.1 }

[[config]]
label = "quadratic d1 stable, alpha 0.5"
objective = { kind = "quadratic", dim = 1, k = 1.0 }
noise = { law = "stable", alpha = 0.5, sigma = 0.01 }

[[config]]
label = "quadratic d3 anisotropic gaussian"
objective = { kind = "quadratic", dim = 3, k = 1.0 }
noise = { law = "gaussian", sigma = [1.0, 0.5, 2.0] }

[[config]]
label = "wells d3 ball"
objective = { kind = "wells", dim = 3, wells = [{ centre = [1.0, 0.0, 0.0], depth = 1.0, width = 0.3 }] }
noise = { law = "ball", r = 2.0 }

[[config]]
label = "wells d2 narrow, bumps underflow"
objective = { kind = "wells", dim = 2, wells = [{ centre = [0.5, 0.0], depth = 0.01, width = 0.02 }, { centre = [-1.0, 1.0], depth = -0.5, width = 0.5 }] }
noise = { law = "cube", r = 1.0 }

[[config]]
label = "quadratic d2 formula law (no lanes)"
objective = { kind = "quadratic", dim = 2, k = 1.0 }
noise = { law = "formula", scale = "1 + tanh(x1)", base = { law = "ball", r = 0.5 }, bound = 2.0 }

[[config]]
label = "formula gaussian (scalar gradient)"
objective = { kind = "formula", dim = 2, f = "x1^2 + x2^2 + 0.3*sin(8*x1)" }
noise = { law = "gaussian", sigma = 1.0 }

[[config]]
label = "formula d10 ball, separable (scalar gradient)"
objective = { kind = "formula", dim = 10, each = "x^2/2 + 0.5*(1 - cos(2*pi*x/0.5))" }
noise = { law = "ball", r = 10.0 }
events = { reach_radius = 1.4, stay_radius = 5.7, stay_from = 100, stay_to = 200 }

[[config]]
label = "spiky table cube (scalar gradient)"
objective = { kind = "spiky" }
noise = { law = "cube", r = 0.3 }
events = { reach_radius = 0.5 }

[[config]]
label = "rastrigin d2 point entry"
objective = { kind = "rastrigin", dim = 2, a = 0.5, w = 0.5 }
noise = { law = "cube", r = 4.0 }
dynamics = { eta = 0.05, steps = 200, noise_entry = "point" }

[[config]]
label = "rastrigin d3 events on x"
objective = { kind = "rastrigin", dim = 3, a = 0.5, w = 0.5 }
noise = { law = "ball", r = 8.0 }
events = { reach_radius = 0.3, stay_radius = 1.0, stay_from = 100, stay_to = 200, on = "x" }
"#;

fn run(dir: &Path, file: &Path, isa: &str, threads: &str) -> (Vec<u8>, Vec<u8>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sgd-escape"))
        .args(["run", "-q", "-j", threads, "--out"])
        .arg(dir)
        .arg(file)
        .env("SGD_ESCAPE_ISA", isa)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{isa}, {threads} threads: {stderr}");
    assert!(!stderr.contains("warning"), "{isa}: {stderr}");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    (read("summary.csv"), read("trajectories.csv"))
}

#[test]
fn every_path_writes_the_one_lane_bytes_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("lanes.toml");
    std::fs::write(&file, MIX).unwrap();
    let reference = run(&tmp.path().join("scalar-1"), &file, "scalar", "1");
    // The reference itself is the one-trajectory engine's (below); here every path and
    // thread count must equal it.
    let mut paths = vec!["scalar".to_string()];
    paths.extend(Isa::available().iter().map(|i| i.name().to_string()));
    for isa in &paths {
        for threads in ["1", "2"] {
            let got = run(
                &tmp.path().join(format!("{isa}-{threads}")),
                &file,
                isa,
                threads,
            );
            assert!(
                got.0 == reference.0,
                "{isa}, {threads} threads: summary.csv differs"
            );
            assert!(
                got.1 == reference.1,
                "{isa}, {threads} threads: trajectories.csv differs"
            );
        }
    }
    eprintln!("compared paths: {paths:?}");
}

#[test]
fn lane_engine_final_points_equal_the_one_trajectory_replay() {
    let e = common::experiment(MIX);
    let (mut compared, mut in_lanes) = (0, Vec::new());
    for spec in &e.configs {
        let check = spec.replay_check(e.seed, 0..37);
        assert_eq!(check.mismatch, None, "{}", spec.label);
        compared += check.compared;
        if check.in_lanes {
            in_lanes.push(spec.label.as_str());
        }
    }
    assert!(compared > 600, "only {compared} trajectories compared");
    // The configurations with an objective the engine runs in lanes and a lane sampler,
    // events on y and the noise in the step, and only those, ran in lanes.
    assert_eq!(
        in_lanes,
        [
            "rastrigin d1 ball",
            "rastrigin d2 ball (rejection)",
            "rastrigin d10 ball, events every 7",
            "rastrigin d5 cube, staged",
            "quadratic d3 gaussian",
            "quadratic d4 GD",
            "quadratic d1 diverging",
            "quadratic d3 sphere",
            "rastrigin d1 sphere",
            "quadratic d2 student_t",
            "rastrigin d3 student_t spherical, shape below 1",
            "rastrigin d3 stable",
            "quadratic d2 stable, Cauchy",
            "quadratic d1 stable, alpha 0.5",
            "quadratic d3 anisotropic gaussian",
            "wells d3 ball",
            "wells d2 narrow, bumps underflow",
            "formula gaussian (scalar gradient)",
            "formula d10 ball, separable (scalar gradient)",
            "spiky table cube (scalar gradient)",
        ]
    );
}

/// Lane code compiled outside an instruction set's kernel (a closure, a recursive or
/// non-inlined function) calls the vector intrinsics as functions, one call per operation:
/// the same bits, several times slower. Such calls leave the intrinsics in the binary's
/// symbol table; only the slow paths' loads, stores and splats (setting up and reading out
/// lanes) may be there.
#[test]
fn vector_arithmetic_is_inlined_into_the_kernels() {
    if cfg!(debug_assertions) {
        eprintln!("skipped: an unoptimised build inlines nothing");
        return;
    }
    let Ok(out) = std::process::Command::new("nm")
        .args(["-C", env!("CARGO_BIN_EXE_sgd-escape")])
        .output()
    else {
        eprintln!("skipped: no `nm` (binutils) on this machine");
        return;
    };
    assert!(out.status.success(), "nm failed");
    let symbols = String::from_utf8_lossy(&out.stdout);
    let allowed = ["load", "store", "set1", "xgetbv"];
    let outlined: Vec<&str> = symbols
        .lines()
        .filter_map(|l| l.split_once("core_arch::").map(|(_, s)| s))
        .filter(|s| !allowed.iter().any(|a| s.contains(a)))
        .collect();
    assert!(
        outlined.is_empty(),
        "intrinsics called as functions: {outlined:?}"
    );
}
