//! Throughput of minibatch SGD on finite sums, in example-gradients per second (criterion's
//! "elements"), one thread, next to the bare arithmetic: the same number of example gradients
//! summed by `batch_grad_into` at a fixed point with fixed batches, no sampling, no events.
//! The ratio of the two, measured side by side, is the engine's overhead on this path.
//!
//! Run: `cargo bench --bench minibatch`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sgd_escape::config::parse;
use sgd_escape::experiment::ObjectiveChoice;
use sgd_escape::objective::FiniteSum;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const CASES: &str = r#"
name = "minibatch-bench"
seed = 7
trajectories = 64
objective = { kind = "least_squares", data = { n = 200, dim = 10, noise = 0.5, data_seed = 1 } }
init = { kind = "ball", radius = 1.0 }
events = { reach_radius = 0.3 }
dynamics = { eta = 0.01, steps = 2000 }

[[config]]
label = "least_squares d=10 B=1"
noise = { law = "minibatch", batch = 1 }

[[config]]
label = "least_squares d=10 B=50"
noise = { law = "minibatch", batch = 50 }

[[config]]
label = "teacher_student d=10 k=5 B=10"
objective = { kind = "teacher_student", inputs = 10, width = 5, n = 1000 }
noise = { law = "minibatch", batch = 10 }
dynamics = { eta = 0.05, steps = 2000 }
"#;

/// The bare arithmetic of `steps` minibatch gradients of size `b` of `f` at `x`.
fn bare<F: FiniteSum>(f: &F, b: usize, steps: u64, x: &[f64]) -> f64 {
    let n = f.examples();
    let mut g = vec![0.0; x.len()];
    let mut batch: Vec<usize> = (0..b).collect();
    let mut acc = 0.0;
    for t in 0..steps as usize {
        for (j, i) in batch.iter_mut().enumerate() {
            *i = (t * 7 + j * 13) % n;
        }
        batch.sort_unstable();
        f.batch_grad_into(black_box(&batch), black_box(x), &mut g);
        acc += g[0];
    }
    acc
}

fn bench_minibatch(c: &mut Criterion) {
    let exp = parse(CASES, Path::new("<bench>"), "bench").expect("valid");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("minibatch");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for spec in &exp.configs {
        let b = spec.noise.minibatch().expect("minibatch").batch as u64;
        let grads = spec.trajectories * spec.steps() * b;
        group.throughput(Throughput::Elements(grads));
        group.bench_function(format!("engine {}", spec.label), |bench| {
            bench.iter(|| pool.install(|| spec.run(exp.seed, 0..spec.trajectories)))
        });
        let x = vec![0.1; spec.dim()];
        let steps = spec.trajectories * spec.steps();
        group.bench_function(format!("bare {}", spec.label), |bench| {
            bench.iter(|| match &spec.objective {
                ObjectiveChoice::LeastSquares { built, .. } => {
                    bare(&*built.0, b as usize, steps, &x)
                }
                ObjectiveChoice::TeacherStudent { built, .. } => {
                    bare(&*built.0, b as usize, steps, &x)
                }
                _ => unreachable!("least squares or teacher-student"),
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_minibatch);
criterion_main!(benches);
