//! Throughput on the reference workloads W1–W3 (experiments/bench.toml), in
//! coordinate-updates per second (criterion's "elements"), on all cores.
//!
//! Run: `cargo bench --bench workloads`. The side-by-side ratio against the NumPy peer is
//! printed by `sgd-escape bench --numpy benches/numpy_peer/numpy_sgd.py`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sgd_escape::bench::workloads;
use std::time::Duration;

fn bench_workloads(c: &mut Criterion) {
    let exp = workloads();
    let mut group = c.benchmark_group("workloads");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for spec in &exp.configs {
        let updates = spec.trajectories * spec.steps() * spec.dim() as u64;
        group.throughput(Throughput::Elements(updates));
        group.bench_function(&spec.label, |b| {
            b.iter(|| spec.run(exp.seed, 0..spec.trajectories))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_workloads);
criterion_main!(benches);
