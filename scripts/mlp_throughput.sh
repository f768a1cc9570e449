#!/usr/bin/env bash
# Minibatch SGD on the digits MLP (64 -> 32 -> 10, tanh), 64 trajectories, batch 32,
# float64, 2 threads: examples processed per second by sgd-escape and by the NumPy peer
# (benches/mlp_numpy.py), measured one after the other in one run, and their ratio.
# Needs python3 with NumPy. Usage: bash scripts/mlp_throughput.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-300}
bin=${SGD_ESCAPE:-target/release/sgd-escape}
[ -x "$bin" ] || cargo build --release -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/mlp.toml" <<TOML
name = "mlp-throughput"
seed = 1
trajectories = 64
objective = { kind = "mlp", hidden = [32], lambda = 1e-4, data = { csv = "$PWD/data/digits_train.csv", label = "digit" } }
init = { kind = "box", lo = -0.1, hi = 0.1 }
noise = { law = "minibatch", batch = 32 }
dynamics = { eta = 0.1, steps = $steps }
events = { reach_radius = 0.0 }
TOML
start=$(date +%s.%N)
"$bin" run -q --threads 2 --no-trajectories --out "$tmp/out" "$tmp/mlp.toml"
end=$(date +%s.%N)
ours=$(python3 -c "print(64 * 32 * $steps / ($end - $start))")
echo "sgd-escape: $ours examples/s (64 trajectories, batch 32, $steps steps, wall time incl. start-up)"
peer=$(python3 benches/mlp_numpy.py --steps "$steps" | tee /dev/stderr | sed -E 's/.*: ([0-9.e+]+) examples.*/\1/')
python3 -c "print(f'ratio sgd-escape / NumPy: {$ours / $peer:.2f}')"
