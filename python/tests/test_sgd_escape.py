"""The Python package against the crate: the same numbers as the command line, its
statistics equal to the crate's, the stated dtypes, the GIL released, Ctrl-C kept clean.

The command line is ``SGD_ESCAPE_BIN``, else the repository's ``target/release/sgd-escape``
(``cargo build --release`` makes it)."""

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sgd_escape

REPO = Path(__file__).resolve().parents[2]

SMALL = {
    "name": "small",
    "seed": 5,
    "trajectories": 3000,
    "objective": {"kind": "rastrigin", "dim": 2, "a": 1.0, "w": 0.5},
    "noise": {"law": "ball", "r": 3.0},
    "init": {"kind": "ball", "radius": 3.0},
    "dynamics": {"eta": 0.05, "steps": 300},
    "events": {"reach_radius": 0.5, "stay_radius": 1.0, "stay_from": 150},
    "stats": {"thresholds": {"reach": 0.5}, "holm": False},
    "sweep": {"axis": [{"path": "dynamics.eta", "values": [0.02, 0.05, 0.1]}]},
}


def cli():
    path = os.environ.get("SGD_ESCAPE_BIN") or str(REPO / "target" / "release" / "sgd-escape")
    if not Path(path).exists():
        pytest.fail(f"no sgd-escape binary at {path}: run cargo build --release, or set SGD_ESCAPE_BIN")
    return path


def read_csv(path, **kw):
    return pd.read_csv(path, **sgd_escape.EXACT_FLOATS, **kw)


def exact_floats(frame: pd.DataFrame, path: Path):
    """Every float of `frame` is the double the decimal text in `path` denotes (Python's
    float(), which is correctly rounded): the CSV reading loses no bit."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    checked = 0
    for j, col in enumerate(header):
        if frame[col].dtype == "float64":
            for i, row in enumerate(body):
                want = float(row[j]) if row[j] != "" else math.nan
                got = frame[col].iloc[i]
                assert got == want or (math.isnan(got) and math.isnan(want)), (col, i, got, row[j])
                checked += 1
    assert checked > 0


def same_values(a: pd.DataFrame, b: pd.DataFrame):
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col], b[col]
        assert (x.isna().to_numpy() == y.isna().to_numpy()).all(), col
        x, y = x[x.notna()], y[y.notna()]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            assert (x.astype("float64").to_numpy() == y.astype("float64").to_numpy()).all(), col
        else:
            assert (x.astype(str).to_numpy() == y.astype(str).to_numpy()).all(), col


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """SMALL run through Python (from the dict) and through the command line (from the same
    experiment as a file)."""
    tmp = tmp_path_factory.mktemp("both")
    file = tmp / "small.toml"
    file.write_text(sgd_escape._native.toml_from_dict(SMALL))
    subprocess.run([cli(), "run", str(file), "--out", str(tmp / "cli"), "-q"], check=True)
    return sgd_escape.run(SMALL, progress=False), tmp / "cli"


def test_python_and_the_command_line_give_identical_values(both):
    r, cli_dir = both
    same_values(r.summary, read_csv(cli_dir / "summary.csv"))
    same_values(r.trajectories, read_csv(cli_dir / "trajectories.csv"))
    exact_floats(r.summary, cli_dir / "summary.csv")
    exact_floats(r.trajectories, cli_dir / "trajectories.csv")
    assert len(r.summary) == 3 and len(r.trajectories) == 9000
    cli_run = json.loads((cli_dir / "run.json").read_text())
    for mine, theirs in zip(r.run["configs"], cli_run["configs"], strict=True):
        assert mine["summary"] == theirs["summary"] and mine["spec"] == theirs["spec"]
    assert r.run["experiment"]["seed"] == 5
    # A path and TOML text run the same experiment as the dict.
    for again in (
        sgd_escape.run(cli_dir.parent / "small.toml", progress=False),
        sgd_escape.run_toml((cli_dir.parent / "small.toml").read_text(), progress=False),
    ):
        same_values(again.summary, r.summary)


def test_dtypes_are_as_stated(both):
    r, _ = both
    t, s = r.trajectories, r.summary
    assert str(t["stayed"].dtype) == "boolean"
    for col in ("first_hit", "first_exit", "diverged_at", "index"):
        assert str(t[col].dtype) == "Int64", col
    assert t["first_hit"].isna().any() and t["first_hit"].notna().any()
    assert t["final_dist"].dtype == "float64"
    assert pd.api.types.is_string_dtype(s["seed"]) and (s["seed"] == "5u64").all()
    assert pd.api.types.is_string_dtype(s["config_id"])
    assert s["reach"].dtype == "float64"
    assert list(s["eta"]) == [0.02, 0.05, 0.1]


def test_a_bad_dict_raises_a_value_error_naming_the_field():
    bad = dict(SMALL, dynamics={"eta": "fast", "steps": 300})
    with pytest.raises(sgd_escape.ExperimentError) as e:
        sgd_escape.run(bad, progress=False)
    assert isinstance(e.value, ValueError)
    assert "<dict>" in str(e.value) and "dynamics.eta" in str(e.value), str(e.value)
    with pytest.raises(ValueError, match="trajectoriez"):
        sgd_escape.run(dict(SMALL, trajectoriez=3), progress=False)
    with pytest.raises(ValueError, match="<toml>"):
        sgd_escape.run_toml("trajectories = -1", progress=False)
    with pytest.raises(ValueError, match="not a seed"):
        sgd_escape.run(SMALL, seed="0x2a", progress=False)
    with pytest.raises(ValueError, match="level"):
        sgd_escape.run(SMALL, level=1.5, progress=False)
    with pytest.raises(ValueError, match="method"):
        sgd_escape.run(SMALL, method="wald", progress=False)


def test_a_seed_as_summary_csv_writes_it_runs_the_same_experiment(both):
    r, _ = both
    again = sgd_escape.run(dict(SMALL, seed=1), seed="5u64", progress=False)
    same_values(again.summary, r.summary)
    big = sgd_escape.run(dict(SMALL, seed="18446744073709551615u64"), progress=False)
    assert (big.summary["seed"] == "18446744073709551615u64").all()
    assert big.run["experiment"]["seed"] == 2**64 - 1


def test_the_statistics_equal_the_crates(both):
    r, _ = both
    s, t = r.summary, r.trajectories
    for _, row in s.iterrows():
        n, k = int(row["n"]), int(row["reach_k"])
        lo, hi = sgd_escape.interval(k, n, method=row["interval"], level=row["level"])
        assert (lo, hi) == (row["reach_lower"], row["reach_upper"])
        d = sgd_escape.decide(k, n, 0.5, level=row["level"])
        assert d["verdict"] == row["reach_verdict"]
        assert d["p_value"] == row["reach_p_value"]
        # The hitting time's median from the trajectories, censored at T or at divergence.
        mine = t[t["config"] == row["config"]]
        observed = mine["first_hit"].notna()
        times = mine["first_hit"].fillna(mine["diverged_at"]).fillna(int(row["steps"]))
        km = sgd_escape.kaplan_meier(times, observed, level=row["level"])
        median = km.attrs["median"]
        for key, col in (("estimate", "hit_median"), ("lower", "hit_median_lower"), ("upper", "hit_median_upper")):
            want = row[col]
            assert (median[key] is None and pd.isna(want)) or median[key] == want, (key, median, want)
    # plan: the command line's table, method by method.
    out = subprocess.run([cli(), "plan", "--epsilon", "0.01", "--level", "0.9", "--p", "0.3"],
                         check=True, capture_output=True, text=True).stdout
    rows = 0
    for m in sgd_escape.methods():
        line = next(l for l in out.splitlines() if l.startswith(m + " "))
        assert int(line.split()[1]) == sgd_escape.plan(0.01, level=0.9, p=0.3, method=m), line
        rows += 1
    line = next(l for l in out.splitlines() if l.startswith("adaptive"))
    assert int(line.split()[-2]) == sgd_escape.plan(0.01, level=0.9, p=0.3, method=None), line
    assert rows == 6


THEOREM = dict(
    SMALL,
    name="bowl",
    trajectories=1000,
    objective={"kind": "quadratic", "dim": 2, "k": 1.0},
    noise={"law": "ball", "r": 1.0},
    events={"reach_radius": 1.1287},
    dynamics={"eta": 0.1, "steps": 300},
    theorem={"t2": 300, "samples": 100},
    sweep={"axis": [{"path": "dynamics.eta", "values": [0.1, 0.6]}]},
)


def test_the_theorem_check_gives_the_command_lines_table(tmp_path):
    file = tmp_path / "bowl.toml"
    file.write_text(sgd_escape._native.toml_from_dict(THEOREM))
    subprocess.run([cli(), "theorem", str(file), "--out", str(tmp_path / "cli")],
                   check=True, capture_output=True)
    t = sgd_escape.theorem(THEOREM, threads=1)
    # The same bytes as the command line's theorem.csv, and the same reports.
    assert (t.dir / "theorem.csv").read_bytes() == (tmp_path / "cli" / "theorem.csv").read_bytes()
    cli_json = json.loads((tmp_path / "cli" / "theorem.json").read_text())
    assert t.json["reports"] == cli_json["reports"]
    table = t.table
    same_values(table, read_csv(tmp_path / "cli" / "theorem.csv"))
    exact_floats(table, tmp_path / "cli" / "theorem.csv")
    # η = 0.1 holds on the bowl (c = L = 1); η = 0.6 breaks the step-size condition.
    assert list(table["verdict"]) == ["holds", "not applicable"], list(table["verdict"])
    assert str(table["c_exact"].dtype) == "boolean" and table["c_exact"].all()
    assert str(table["t1"].dtype) == "Int64" and table["p_reach_verdict"].iloc[0] == "holds"
    assert table["p_reach"].dtype == "float64"
    # run() of an experiment with a [theorem] section writes the table too, as `run` does.
    r = sgd_escape.run(THEOREM, progress=False)
    same_values(r.theorem, table)
    assert sgd_escape.run(SMALL, progress=False).theorem is None
    with pytest.raises(sgd_escape.ExperimentError, match="theorem"):
        sgd_escape.theorem(dict(THEOREM, theorem={"t2": -3}))


def rastrigin_value(x, a, w):
    return float(np.sum(0.5 * x * x + a * (1.0 - np.cos(2 * np.pi * x / w))))


def rastrigin_grad(x, a, w):
    return x + a * (2 * np.pi / w) * np.sin(2 * np.pi * x / w)


PY_RASTRIGIN = sgd_escape.Objective("py_rastrigin", rastrigin_value, rastrigin_grad, target=[0.0, 0.0])

#: SMALL's built-in Rastrigin landscape, and the same through NumPy callables.
BUILT_IN = dict(SMALL, trajectories=1500, sweep=None)
THROUGH_PYTHON = dict(BUILT_IN, objective={"kind": "py_rastrigin", "a": 1.0, "w": 0.5})


def two_proportions_z(k1, n1, k2, n2):
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 0.0 if se == 0 else (k1 / n1 - k2 / n2) / se


def ks_statistic(a, b):
    """The two-sample Kolmogorov–Smirnov distance between the empirical laws of a and b."""
    a, b = np.sort(a), np.sort(b)
    grid = np.union1d(a, b)
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def agree_in_distribution(x: sgd_escape.Result, y: sgd_escape.Result) -> bool:
    """Whether two independent samples pass three tests, each at level 0.001/3 (Bonferroni):
    P(reach) (two-proportion z, |z| ≤ 3.59), and the laws of the first hitting time (censored
    at T) and of the final distance to x* (two-sample KS, D ≤ 2.0·√((n+m)/(nm)), the
    asymptotic critical value at 0.00033; conservative for discrete times)."""
    s, t = x.summary.iloc[0], y.summary.iloc[0]
    if abs(two_proportions_z(int(s["reach_k"]), int(s["n"]), int(t["reach_k"]), int(t["n"]))) > 3.59:
        return False
    steps = BUILT_IN["dynamics"]["steps"]
    a, b = x.trajectories, y.trajectories
    critical = 2.0 * math.sqrt((len(a) + len(b)) / (len(a) * len(b)))
    for column, censored in (("first_hit", steps + 1), ("final_dist", None)):
        ca, cb = a[column], b[column]
        if censored is not None:
            ca, cb = ca.fillna(censored), cb.fillna(censored)
        if ks_statistic(ca.to_numpy(dtype=float), cb.to_numpy(dtype=float)) > critical:
            return False
    return True


def test_a_python_objective_agrees_in_distribution_with_the_built_in_it_imitates():
    # Independent samples: NumPy's sine is not the crate's, so the bits differ, and each
    # configuration's streams derive from its identity (the objective's kind is part of it),
    # so even one seed would draw other noise; the laws must agree.
    built_in = sgd_escape.run(BUILT_IN, seed=11, progress=False)
    through_python = sgd_escape.run(THROUGH_PYTHON, seed=12, progress=False, objectives=[PY_RASTRIGIN])
    assert agree_in_distribution(built_in, through_python)
    # The tests have power: ripples 10% too low are told apart at the same sizes.
    wrong = dict(THROUGH_PYTHON, objective={"kind": "py_rastrigin", "a": 0.9, "w": 0.5})
    off = sgd_escape.run(wrong, seed=12, progress=False, objectives=[PY_RASTRIGIN])
    assert not agree_in_distribution(built_in, off)


def test_a_python_objective_gives_the_same_bits_on_any_thread_count_and_takes_its_fields():
    small = dict(THROUGH_PYTHON, trajectories=200)
    one = sgd_escape.run(small, threads=1, progress=False, objectives=[PY_RASTRIGIN])
    two = sgd_escape.run(small, threads=2, progress=False, objectives=[PY_RASTRIGIN])
    assert (one.dir / "trajectories.csv").read_bytes() == (two.dir / "trajectories.csv").read_bytes()
    # A sweep over a field of the section reaches the callables as a keyword argument, and
    # the identity (kind, version, fields, target) is in run.json.
    swept = dict(small, sweep={"axis": [{"path": "objective.a", "values": [0.0, 1.0]}]})
    r = sgd_escape.run(swept, progress=False, objectives=[PY_RASTRIGIN])
    assert len(r.summary) == 2 and r.summary["reach"].iloc[0] != r.summary["reach"].iloc[1]
    spec = r.run["configs"][1]["spec"]["objective"]
    assert spec["kind"] == "py_rastrigin" and spec["version"] == "1", spec
    assert spec["params"]["fields"] == {"a": 1.0, "w": 0.5} and spec["params"]["target"] == [0.0, 0.0]


def test_a_python_objective_that_fails_is_refused_or_stops_the_run(tmp_path):
    def bad_shape(x, a, w):
        return np.zeros(3)

    wrong = sgd_escape.Objective("py_rastrigin", rastrigin_value, bad_shape, target=[0.0, 0.0])
    with pytest.raises(sgd_escape.ExperimentError, match=r"shape \[3\]; in dimension 2"):
        sgd_escape.run(THROUGH_PYTHON, progress=False, objectives=[wrong])
    with pytest.raises(sgd_escape.ExperimentError, match="py_rastrigin"):
        sgd_escape.run(THROUGH_PYTHON, progress=False)  # not given: an unknown kind
    with pytest.raises(sgd_escape.ExperimentError, match="unexpected keyword argument 'w'"):
        sgd_escape.run(
            THROUGH_PYTHON, progress=False,
            objectives=[sgd_escape.Objective("py_rastrigin", lambda x, a: 0.0, lambda x, a: x, target=[0, 0])],
        )
    with pytest.raises(ValueError, match="taken"):
        sgd_escape.run(BUILT_IN, progress=False,
                       objectives=[sgd_escape.Objective("quadratic", rastrigin_value, rastrigin_grad, target=[0, 0])])

    class Boom(Exception):
        pass

    calls = [0]

    def grad_that_fails_later(x, a, w):
        calls[0] += 1
        if calls[0] > 50_000:
            raise Boom("the objective failed")
        return rastrigin_grad(x, a, w)

    late = sgd_escape.Objective("py_rastrigin", rastrigin_value, grad_that_fails_later, target=[0.0, 0.0])
    experiment = dict(THROUGH_PYTHON, trajectories=100,
                      sweep={"axis": [{"path": "dynamics.eta", "values": [0.01, 0.02, 0.03, 0.04]}]})
    out = tmp_path / "out"
    with pytest.raises(Boom):
        sgd_escape.run(experiment, out=out, threads=1, progress=False, objectives=[late])
    # 30 000 gradients a cell: the first cell finished and is kept, the second was dropped.
    assert len(list((out / "cells").glob("*.json"))) == 1
    assert not (out / "summary.csv").exists()
    r = sgd_escape.run(experiment, out=out, progress=False, objectives=[PY_RASTRIGIN])
    fresh = sgd_escape.run(experiment, progress=False, objectives=[PY_RASTRIGIN])
    same_values(r.summary, fresh.summary)


def test_python_exits_cleanly_right_after_a_run_of_a_python_objective():
    # The engine's threads give their kept Python thread states back before run() returns,
    # so none is still doing so while the interpreter shuts down.
    script = textwrap.dedent(
        """
        import sys, sgd_escape
        bowl = sgd_escape.Objective("py_bowl", lambda x: 0.5 * float(x @ x), lambda x: x, target=[0.0, 0.0])
        experiment = eval(sys.argv[1])
        sgd_escape.run(experiment, threads=2, progress=False, objectives=[bowl])
        sgd_escape.theorem(experiment, threads=2, objectives=[bowl])
        print("done")
        """
    )
    experiment = dict(THEOREM, objective={"kind": "py_bowl"}, trajectories=200,
                      sweep={"axis": [{"path": "dynamics.eta", "values": [0.1]}]})
    for _ in range(5):
        p = subprocess.run([sys.executable, "-c", script, repr(experiment)],
                           capture_output=True, text=True, timeout=120)
        assert (p.returncode, p.stdout, p.stderr) == (0, "done\n", ""), p


def test_the_theorem_check_runs_on_a_python_objective():
    bowl = sgd_escape.Objective(
        "py_bowl", lambda x: 0.5 * float(x @ x), lambda x: x, target=[0.0, 0.0], lipschitz=1.0
    )
    experiment = dict(THEOREM, objective={"kind": "py_bowl"}, trajectories=300,
                      sweep={"axis": [{"path": "dynamics.eta", "values": [0.1]}]})
    t = sgd_escape.theorem(experiment, objectives=[bowl])
    builtin = sgd_escape.theorem(dict(experiment, objective=THEOREM["objective"]))
    # The same verdict, given that ĉ is now estimated (the built-in bowl's is exact).
    assert builtin.table["verdict"].iloc[0] == "holds"
    assert t.table["verdict"].iloc[0] == "holds, given ĉ estimated"
    assert not t.table["c_exact"].iloc[0] and builtin.table["c_exact"].iloc[0]
    assert t.table["L_used"].iloc[0] == 1.0


def test_the_statistics_refuse_bad_input():
    assert sgd_escape.interval(0, 1) == (0.0, 0.975)
    for call in (
        lambda: sgd_escape.interval(3, 2),
        lambda: sgd_escape.interval(0, 0),
        lambda: sgd_escape.interval(1, 2, level=1.0),
        lambda: sgd_escape.interval(1, 2, side="both"),
        lambda: sgd_escape.decide(1, 2, 1.5),
        lambda: sgd_escape.plan(0.0),
        lambda: sgd_escape.kaplan_meier([1, 2], [True]),
        lambda: sgd_escape.kaplan_meier([], []),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises((ValueError, OverflowError, TypeError)):
        sgd_escape.interval(-1, 2)


def test_the_gil_is_released_while_simulating():
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    t0 = time.perf_counter()
    try:
        sgd_escape.run(dict(SMALL, trajectories=60000), progress=False, threads=1)
    finally:
        done.set()
        counter.join()
    elapsed = time.perf_counter() - t0
    during = [t for t in ticks if t0 < t < t0 + elapsed]
    assert elapsed > 0.3, f"the run took only {elapsed:.2f} s: too short to tell"
    # With the GIL held for the whole run the counter would not tick at all.
    assert len(during) > 0.2 * elapsed / 0.002, (len(during), elapsed)


INTERRUPTED = textwrap.dedent(
    """
    import os, signal, sys, threading, sgd_escape
    experiment, out = eval(sys.argv[1]), sys.argv[2]
    threading.Timer(float(sys.argv[3]), lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        sgd_escape.run(experiment, out=out, progress=False, threads=1)
        print("finished")
    except KeyboardInterrupt:
        print("interrupted")
    """
)


def test_ctrl_c_stops_cleanly_and_the_same_call_resumes(tmp_path):
    experiment = dict(SMALL, trajectories=20000, dynamics={"eta": 0.05, "steps": 3000})
    experiment["sweep"] = {"axis": [{"path": "dynamics.eta", "values": [0.01 * i for i in range(1, 13)]}]}
    out = tmp_path / "out"
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", INTERRUPTED, repr(experiment), str(out), "1.0"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.strip() == "interrupted", (p.stdout, p.stderr)
    cells = sorted((out / "cells").glob("*.json"))
    assert 0 < len(cells) < 12, len(cells)
    kept = {c.name: c.read_bytes() for c in cells}
    assert not (out / "summary.csv").exists()
    # The same call again: the kept cells are reused, the rest computed.
    r = sgd_escape.run(experiment, out=out, progress=False)
    assert len(r.summary) == 12
    for name, body in kept.items():
        assert (out / "cells" / name).read_bytes() == body, name
    fresh = sgd_escape.run(experiment, progress=False)
    same_values(r.summary, fresh.summary)
    same_values(r.trajectories, fresh.trajectories)


INTERRUPTED_PYTHON_OBJECTIVE = textwrap.dedent(
    """
    import os, signal, sys, threading, time, sgd_escape
    experiment, out = eval(sys.argv[1]), sys.argv[2]
    bowl = sgd_escape.Objective("py_bowl", lambda x: 0.5 * float(x @ x), lambda x: x, target=[0.0, 0.0])
    threading.Timer(float(sys.argv[3]), lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    t0 = time.perf_counter()
    try:
        sgd_escape.run(experiment, out=out, progress=False, objectives=[bowl])
        print("finished")
    except KeyboardInterrupt:
        print("interrupted after", time.perf_counter() - t0)
    """
)


def test_ctrl_c_stops_a_run_of_a_python_objective(tmp_path):
    # Each call of the objective takes the GIL: the signal must still get through, and soon.
    experiment = dict(THROUGH_PYTHON, objective={"kind": "py_bowl"}, trajectories=1000,
                      dynamics={"eta": 0.05, "steps": 1000},
                      sweep={"axis": [{"path": "dynamics.eta", "values": [0.01 * i for i in range(1, 9)]}]})
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-c", INTERRUPTED_PYTHON_OBJECTIVE, repr(experiment), str(out), "1.5"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.startswith("interrupted after"), (p.stdout, p.stderr)
    assert float(p.stdout.split()[-1]) < 1.5 + 2.0, p.stdout
    cells = sorted((out / "cells").glob("*.json"))
    assert 0 < len(cells) < 8, len(cells)
    assert not (out / "summary.csv").exists()


def test_a_temporary_directory_goes_with_its_result():
    r = sgd_escape.run(dict(SMALL, trajectories=100), progress=False)
    d = r.dir
    assert (d / "summary.csv").exists()
    summary = r.summary
    del r
    import gc

    gc.collect()
    assert not d.exists()
    assert len(summary) == 3


def test_the_wheel_is_abi3():
    wheel = metadata.distribution("sgd-escape").read_text("WHEEL")
    tags = [l.split(":", 1)[1].strip() for l in wheel.splitlines() if l.startswith("Tag:")]
    assert tags and all(re.fullmatch(r"cp39-abi3-.+", t) for t in tags), tags


def test_versions_name_the_engine():
    assert sgd_escape.NUMERICS_VERSION >= 4
    assert "Pcg64Mcg" in sgd_escape.RNG_ALGORITHM
    assert sgd_escape.ENGINE_VERSION.startswith(sgd_escape.__version__)


def test_the_readme_example_draws_its_plot(tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## From Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) == 5, code
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    exec(compile(code, "README.md", "exec"), {})
    png = tmp_path / "p_reach.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
