"""The Python path against the command line on the same experiment, measured side by side:
prints the median wall time of each over interleaved repeats and their ratio.

    .venv/bin/python scripts/python_overhead.py [EXPERIMENT] [REPEATS]

EXPERIMENT defaults to experiments/quickstart.toml (2 configurations × 10⁴ trajectories ×
1000 steps, rows written); the binary is SGD_ESCAPE_BIN, else target/release/sgd-escape,
else sgd-escape on the PATH. Each
Python run reads the summary and the trajectories back as DataFrames, since that is what a
notebook does with it."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sgd_escape

repo = Path(__file__).resolve().parents[1]
experiment = Path(sys.argv[1]) if len(sys.argv) > 1 else repo / "experiments" / "quickstart.toml"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
built = repo / "target" / "release" / "sgd-escape"
binary = os.environ.get("SGD_ESCAPE_BIN") or (str(built) if built.exists() else shutil.which("sgd-escape"))
if binary is None:
    sys.exit("no sgd-escape binary: cargo build --release, cargo install --path ., or SGD_ESCAPE_BIN")

cli_times, py_times = [], []
for _ in range(repeats):
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([binary, "run", str(experiment), "--out", out, "-q"], check=True)
        cli_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    r = sgd_escape.run(experiment, progress=False)
    rows = len(r.summary) + len(r.trajectories)
    py_times.append(time.perf_counter() - t0)
    del r

cli, py = statistics.median(cli_times), statistics.median(py_times)
print(f"{experiment.name}: {repeats} interleaved repeats, {rows} rows read back per Python run")
print(f"command line (sgd-escape run -q)        {cli:8.3f} s")
print(f"Python (sgd_escape.run + DataFrames)    {py:8.3f} s")
print(f"ratio Python / command line             {py / cli:8.3f}")
