#!/usr/bin/env bash
# Minibatch SGD on the digits MLP (experiments/bench_mlp.toml: 64 -> 32 -> 10, tanh,
# 64 trajectories, batch 32, float64, 1000 steps) on 2 threads: examples per second of
# sgd-escape (`sgd-escape bench --experiment`) and of the same loop in NumPy and, where it
# is installed, PyTorch (benches/mlp_peer.py). Each side times its loop alone (no start-up,
# no data loading). The machine may be shared, so the sides alternate: ROUNDS rounds of one
# timed loop each, a ratio per round, and the median and range of the ratios.
# Needs python3 with NumPy. Usage: bash scripts/mlp_throughput.sh [PYTHON] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
rounds=${2:-5}
bin=${SGD_ESCAPE:-target/release/sgd-escape}
[ -x "$bin" ] || cargo build --release -q
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
backends=numpy
if "$python" -c "import torch" 2>/dev/null; then backends="numpy torch"; else echo "torch: not installed, skipped"; fi
rate() { sed -nE 's/.*: ([0-9.e+]+) examples\/s.*/\1/p'; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
    ours=$("$bin" bench --experiment experiments/bench_mlp.toml -j 2 --repeats 1 |
        awk '/digits MLP/ {print $(NF-1) * 1e6}')
    line="round $round: sgd-escape $ours"
    for b in $backends; do
        theirs=$("$python" benches/mlp_peer.py --backend "$b" --threads 2 --repeats 1 | rate)
        line="$line, $b $theirs"
        echo "$b $(python3 -c "print($ours / $theirs)")" >> "$log"
    done
    echo "$line examples/s"
done
"$python" -c "import numpy, sys; print('numpy', numpy.__version__)" 2>/dev/null || true
"$python" -c "import torch; print('torch', torch.__version__)" 2>/dev/null || true
python3 - "$log" <<'PY'
import statistics, sys
ratios = {}
for line in open(sys.argv[1]):
    b, r = line.split()
    ratios.setdefault(b, []).append(float(r))
for b, r in ratios.items():
    print(f"sgd-escape / {b}: median {statistics.median(r):.2f} (range {min(r):.2f}-{max(r):.2f}, {len(r)} rounds)")
PY
