#!/usr/bin/env bash
# Minibatch SGD on the digits MLP (experiments/bench_mlp.toml: 64 -> 32 -> 10, tanh,
# 64 trajectories, batch 32, float64, 1000 steps) on 2 threads: examples per second of
# sgd-escape (`sgd-escape bench --experiment`) and of the same loop in NumPy and, where it
# is installed, PyTorch (benches/mlp_peer.py), measured one after the other in one run, each
# the median of 3 timed loops (the loop alone: no start-up, no data loading), and the ratios.
# Needs python3 with NumPy. Usage: bash scripts/mlp_throughput.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
bin=${SGD_ESCAPE:-target/release/sgd-escape}
[ -x "$bin" ] || cargo build --release -q
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
rate() { sed -nE 's/.*: ([0-9.e+]+) examples\/s.*/\1/p'; }
line=$("$bin" bench --experiment experiments/bench_mlp.toml -j 2 --repeats 3 | grep "digits MLP")
ours=$(echo "$line" | awk '{print $(NF-1) * 1e6}')
echo "sgd-escape $("$bin" --version | awk '{print $2}'): $ours examples/s (2 threads)"
for backend in numpy torch; do
    if [ "$backend" = torch ] && ! "$python" -c "import torch" 2>/dev/null; then
        echo "torch: not installed, skipped"
        continue
    fi
    out=$("$python" benches/mlp_peer.py --backend "$backend" --threads 2)
    echo "$out"
    "$python" -c "print(f'ratio sgd-escape / $backend: {$ours / $(echo "$out" | rate):.2f}')"
done
