"""What an objective written as Python callables costs: the same landscape (Rastrigin's
ripples on a parabola, d = 2) as a formula objective and as NumPy callables
(``sgd_escape.Objective``), run side by side; prints the median wall time of each over
interleaved repeats and their ratio, on one thread and on all cores.

    .venv/bin/python scripts/python_objective_cost.py [TRAJECTORIES] [REPEATS]

TRAJECTORIES defaults to 1000 (× 300 steps: 300,000 gradients a run) and REPEATS to 3.
Both runs are timed by ``sgd_escape.run`` without reading DataFrames back, so the ratio is
the objective's cost and nothing else."""

import os
import statistics
import sys
import time

import numpy as np

import sgd_escape

trajectories = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def value(x, a, w):
    return float(np.sum(0.5 * x * x + a * (1.0 - np.cos(2 * np.pi * x / w))))


def grad(x, a, w):
    return x + a * (2 * np.pi / w) * np.sin(2 * np.pi * x / w)


callables = sgd_escape.Objective("py_rastrigin", value, grad, target=[0.0, 0.0])
common = {
    "trajectories": trajectories,
    "noise": {"law": "ball", "r": 3.0},
    "init": {"kind": "ball", "radius": 3.0},
    "dynamics": {"eta": 0.05, "steps": 300},
    "events": {"reach_radius": 0.5},
}
formula = dict(common, objective={"kind": "formula", "dim": 2, "each": "x^2/2 + 1.0*(1 - cos(2*pi*x/0.5))"})
python = dict(common, objective={"kind": "py_rastrigin", "a": 1.0, "w": 0.5})


def timed(experiment, threads):
    t0 = time.perf_counter()
    sgd_escape.run(experiment, threads=threads, progress=False, objectives=[callables])
    return time.perf_counter() - t0


gradients = trajectories * 300
print(f"d = 2, {trajectories} trajectories × 300 steps ({gradients} gradients), {repeats} interleaved repeats")
print(f"{'threads':>8} {'formula':>10} {'Python':>10} {'ratio':>8} {'µs per Python gradient':>24}")
for threads in (1, os.cpu_count() or 1):
    f_times, p_times = [], []
    for _ in range(repeats):
        f_times.append(timed(formula, threads))
        p_times.append(timed(python, threads))
    f, p = statistics.median(f_times), statistics.median(p_times)
    print(f"{threads:>8} {f:>9.3f}s {p:>9.3f}s {p / f:>8.1f} {1e6 * p / gradients:>24.2f}")
