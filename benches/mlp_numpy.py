"""The NumPy peer of minibatch SGD on the digits MLP: what a researcher would write.

64 trajectories advanced together (batched matrix products over the trajectory axis),
batch 32 drawn independently per trajectory and step, float64, tanh hidden layer, softmax
cross-entropy with an L2 term, the same sizes as experiments/digits.toml (64 -> 32 -> 10).
Prints examples processed per second (trajectories x batch x steps / seconds).

Usage: python3 benches/mlp_numpy.py [--steps 300] [--trajectories 64] [--batch 32]
"""

import argparse
import csv
import os
import time

import numpy as np


def load(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    a = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(r[-1]) for r in rows])
    return a, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--trajectories", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--lam", type=float, default=1e-4)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    a, y = load(os.path.join(here, "..", "data", "digits_train.csv"))
    n, p = a.shape
    k, h, b, c = args.trajectories, args.hidden, args.batch, 10
    rng = np.random.default_rng(1)
    w1 = rng.uniform(-0.1, 0.1, (k, h, p))
    b1 = rng.uniform(-0.1, 0.1, (k, h))
    w2 = rng.uniform(-0.1, 0.1, (k, c, h))
    b2 = rng.uniform(-0.1, 0.1, (k, c))
    eye = np.eye(c)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        idx = np.stack([rng.choice(n, b, replace=False) for _ in range(k)])  # (k, b)
        x = a[idx]  # (k, b, p)
        z1 = np.einsum("kbp,khp->kbh", x, w1) + b1[:, None, :]
        h1 = np.tanh(z1)
        z2 = np.einsum("kbh,kch->kbc", h1, w2) + b2[:, None, :]
        z2 -= z2.max(axis=2, keepdims=True)
        e = np.exp(z2)
        d2 = (e / e.sum(axis=2, keepdims=True) - eye[y[idx]]) / b  # (k, b, c)
        g_w2 = np.einsum("kbc,kbh->kch", d2, h1) + args.lam * w2
        g_b2 = d2.sum(axis=1) + args.lam * b2
        d1 = np.einsum("kbc,kch->kbh", d2, w2) * (1 - h1 * h1)
        g_w1 = np.einsum("kbh,kbp->khp", d1, x) + args.lam * w1
        g_b1 = d1.sum(axis=1) + args.lam * b1
        w1 -= args.eta * g_w1
        b1 -= args.eta * g_b1
        w2 -= args.eta * g_w2
        b2 -= args.eta * g_b2
    dt = time.perf_counter() - t0
    print(f"numpy {np.__version__}: {k * b * args.steps / dt:.4g} examples/s "
          f"({k} trajectories, batch {b}, {args.steps} steps, {dt:.2f} s)")


if __name__ == "__main__":
    main()
