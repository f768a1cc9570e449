#!/usr/bin/env bash
# Sizes and load times of the per-trajectory rows as CSV and as Parquet, for the 10^6 rows
# of experiments/rows_1e6.toml: runs it both ways into a scratch directory, then times
# pandas loading each (median of 5 loads, in one Python process, alternating). Prints a
# Markdown table (the README's). Needs the release binary and pandas with pyarrow:
#   cargo build --release && bash scripts/rows_formats.sh [PYTHON]
# PYTHON defaults to $SGD_ESCAPE_PYTHON, then to .venv/bin/python (scripts/python-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-${SGD_ESCAPE_PYTHON:-.venv/bin/python}}"
bin="${SGD_ESCAPE_BIN:-target/release/sgd-escape}"
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first (or set SGD_ESCAPE_BIN)" >&2; exit 2; }
"$py" -c 'import pandas, pyarrow' || { echo "$py has no pandas and pyarrow: run bash scripts/python-env.sh" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$bin" run experiments/rows_1e6.toml -q --out "$scratch/csv"
"$bin" run experiments/rows_1e6.toml -q --out "$scratch/parquet" --format parquet
"$py" - "$scratch" <<'PY'
import os, statistics, sys, time
import pandas as pd, pyarrow
d = sys.argv[1]
csv, pq = f"{d}/csv/trajectories.csv", f"{d}/parquet/trajectories"
size_csv = os.path.getsize(csv)
size_pq = sum(os.path.getsize(os.path.join(pq, f)) for f in os.listdir(pq))
loads = {
    "csv": lambda: pd.read_csv(csv),
    "csv, exact": lambda: pd.read_csv(csv, float_precision="round_trip"),
    "parquet": lambda: pd.read_parquet(pq),
}
times = {k: [] for k in loads}
for _ in range(5):
    for k, f in loads.items():
        t0 = time.perf_counter(); frame = f(); times[k].append(time.perf_counter() - t0)
        assert len(frame) == 1_000_000, len(frame)
med = {k: statistics.median(v) for k, v in times.items()}
print(f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}; 10^6 rows, 15 columns\n")
print("| format | on disk | pandas load (median of 5) |")
print("|---|---|---|")
print(f"| trajectories.csv | {size_csv / 1e6:.1f} MB | {med['csv']:.2f} s; with `float_precision=\"round_trip\"` (exact) {med['csv, exact']:.2f} s |")
print(f"| trajectories/ (Parquet, snappy) | {size_pq / 1e6:.1f} MB ({size_csv / size_pq:.1f}× smaller) | {med['parquet']:.2f} s ({med['csv, exact'] / med['parquet']:.0f}× faster than exact CSV) |")
PY
