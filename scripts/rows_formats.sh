#!/usr/bin/env bash
# Sizes and load times of the per-trajectory rows as CSV and as Parquet, for the 10^6 rows
# of experiments/rows_1e6.toml: runs it both ways into a scratch directory, then times
# pandas loading each (median of 5 loads, in one Python process, alternating; both CSV
# parsers). Prints a
# Markdown table (the README's). Needs sgd-escape and pandas with pyarrow:
#   bash scripts/python-env.sh && bash scripts/rows_formats.sh [PYTHON]
# PYTHON defaults to $SGD_ESCAPE_PYTHON, then to .venv/bin/python (scripts/python-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-${SGD_ESCAPE_PYTHON:-.venv/bin/python}}"
# The binary: SGD_ESCAPE_BIN, else sgd-escape on the PATH, else target/release/.
bin="${SGD_ESCAPE_BIN:-$(command -v sgd-escape || echo target/release/sgd-escape)}"
[ -x "$bin" ] || { echo "no sgd-escape: cargo install --path . (or cargo build --release, or set SGD_ESCAPE_BIN)" >&2; exit 2; }
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
    "csv, pyarrow": lambda: pd.read_csv(csv, engine="pyarrow"),
    "parquet": lambda: pd.read_parquet(pq),
}
times = {k: [] for k in loads}
for _ in range(5):
    for k, f in loads.items():
        t0 = time.perf_counter(); frame = f(); times[k].append(time.perf_counter() - t0)
        assert len(frame) == 1_000_000, len(frame)
med = {k: statistics.median(v) for k, v in times.items()}
print(f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}; 10^6 rows, 15 columns\n")
print("| rows as | on disk | `pd.read_csv` | `pd.read_csv(engine=\"pyarrow\")` | `pd.read_parquet` |")
print("|---|---|---|---|---|")
print(f"| `trajectories.csv` | {size_csv / 1e6:.1f} MB | {med['csv']:.2f} s | {med['csv, pyarrow']:.2f} s | |")
print(f"| `trajectories/` (Parquet, snappy) | {size_pq / 1e6:.1f} MB | | | {med['parquet']:.2f} s |")
print(f"| ratio CSV / Parquet | {size_csv / size_pq:.1f}× | {med['csv'] / med['parquet']:.1f}× | {med['csv, pyarrow'] / med['parquet']:.1f}× | |")
PY
