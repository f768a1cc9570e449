"""The peers of minibatch SGD on the digits MLP: the loop a researcher would write in NumPy
or PyTorch, for experiments/bench_mlp.toml.

64 trajectories advanced together (batched matrix products over the trajectory axis), a
batch of 32 drawn without replacement per trajectory and step, float64, tanh hidden layer,
softmax cross-entropy with an L2 term on every parameter, 64 -> 32 -> 10. Prints examples
processed per second (trajectories x batch x steps / seconds of the loop alone, the median
of the repeats), and nothing is timed before the loop (data loading, set-up).

NumPy uses `@` (batched BLAS matrix products; faster here than `einsum`); PyTorch uses
`torch.bmm` on the CPU with as many threads as asked.

Usage: python3 benches/mlp_peer.py [--backend numpy|torch] [--steps 1000] [--repeats 3]
                                   [--threads 2]
"""

import argparse
import csv
import os
import statistics
import time


def load(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    return [[float(v) for v in r[:-1]] for r in rows], [int(r[-1]) for r in rows]


def numpy_loop(a, y, args):
    import numpy as np

    a, y = np.array(a), np.array(y)
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
        h1 = np.tanh(x @ w1.transpose(0, 2, 1) + b1[:, None, :])
        z2 = h1 @ w2.transpose(0, 2, 1) + b2[:, None, :]
        z2 -= z2.max(axis=2, keepdims=True)
        e = np.exp(z2)
        d2 = (e / e.sum(axis=2, keepdims=True) - eye[y[idx]]) / b  # (k, b, c)
        g_w2 = d2.transpose(0, 2, 1) @ h1 + args.lam * w2
        g_b2 = d2.sum(axis=1) + args.lam * b2
        d1 = (d2 @ w2) * (1 - h1 * h1)
        g_w1 = d1.transpose(0, 2, 1) @ x + args.lam * w1
        g_b1 = d1.sum(axis=1) + args.lam * b1
        w1 -= args.eta * g_w1
        b1 -= args.eta * g_b1
        w2 -= args.eta * g_w2
        b2 -= args.eta * g_b2
    return time.perf_counter() - t0, f"numpy {np.__version__}"


def torch_loop(a, y, args):
    import torch

    torch.set_num_threads(args.threads)
    dt = torch.float64
    a, y = torch.tensor(a, dtype=dt), torch.tensor(y)
    n, p = a.shape
    k, h, b, c = args.trajectories, args.hidden, args.batch, 10
    g = torch.Generator().manual_seed(1)
    u = lambda *s: (torch.rand(*s, generator=g, dtype=dt) - 0.5) * 0.2
    w1, b1, w2, b2 = u(k, h, p), u(k, h), u(k, c, h), u(k, c)
    eye = torch.eye(c, dtype=dt)
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(args.steps):
            # b of n without replacement per trajectory: the first b of a random order.
            idx = torch.rand(k, n, generator=g).argsort(dim=1)[:, :b]
            x = a[idx]
            h1 = torch.tanh(torch.bmm(x, w1.transpose(1, 2)) + b1[:, None, :])
            z2 = torch.bmm(h1, w2.transpose(1, 2)) + b2[:, None, :]
            d2 = (torch.softmax(z2, dim=2) - eye[y[idx]]) / b
            g_w2 = torch.bmm(d2.transpose(1, 2), h1) + args.lam * w2
            g_b2 = d2.sum(dim=1) + args.lam * b2
            d1 = torch.bmm(d2, w2) * (1 - h1 * h1)
            g_w1 = torch.bmm(d1.transpose(1, 2), x) + args.lam * w1
            g_b1 = d1.sum(dim=1) + args.lam * b1
            w1 -= args.eta * g_w1
            b1 -= args.eta * g_b1
            w2 -= args.eta * g_w2
            b2 -= args.eta * g_b2
    return time.perf_counter() - t0, f"torch {torch.__version__} ({args.threads} threads)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["numpy", "torch"], default="numpy")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--trajectories", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--lam", type=float, default=1e-4)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    a, y = load(os.path.join(here, "..", "data", "digits_train.csv"))
    loop = numpy_loop if args.backend == "numpy" else torch_loop
    times = []
    for _ in range(max(args.repeats, 1)):
        dt, name = loop(a, y, args)
        times.append(dt)
    dt = statistics.median(times)
    rate = args.trajectories * args.batch * args.steps / dt
    print(f"{name}: {rate:.4g} examples/s ({args.trajectories} trajectories, batch "
          f"{args.batch}, {args.steps} steps, median {dt:.2f} s of {len(times)})")


if __name__ == "__main__":
    main()
