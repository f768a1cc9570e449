"""sgd-escape from Python: the Rust engine of the ``sgd-escape`` crate, results as pandas
DataFrames.

Monte Carlo checks of when SGD escapes local minima (Kleinberg, Li & Yuan, ICML 2018). An
experiment is what an experiment file holds (see the repository's README): a path to one, a
dict with the same keys, or TOML text. Every check, number and file comes from the crate; this
package only reads the result files back with the right types.

>>> import sgd_escape
>>> r = sgd_escape.run({"trajectories": 200,
...                     "objective": {"kind": "quadratic", "dim": 2, "k": 1.0},
...                     "noise": {"law": "ball", "r": 1.0},
...                     "init": {"kind": "ball", "radius": 3.0},
...                     "dynamics": {"eta": 0.1, "steps": 100},
...                     "events": {"reach_radius": 1.0}}, progress=False)
>>> r.summary["reach"].iloc[0]
1.0
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _native
from ._native import ENGINE_VERSION, NUMERICS_VERSION, RNG_ALGORITHM, ExperimentError

__all__ = [
    "ExperimentError",
    "Objective",
    "Result",
    "run",
    "run_toml",
    "Theorem",
    "theorem",
    "interval",
    "decide",
    "plan",
    "kaplan_meier",
    "methods",
    "ENGINE_VERSION",
    "NUMERICS_VERSION",
    "RNG_ALGORITHM",
]
__version__ = _native.__version__

class Objective:
    """A landscape f given as Python callables, for experiments to name by ``kind``: the
    slow path (see the README for its measured cost); formula and table objectives run at
    the engine's speed.

    ``value(x, **fields)`` returns f(x) as a float and ``grad(x, **fields)`` the gradient as
    a one-dimensional array of ``len(target)`` floats, ``x`` being a NumPy array of float64.
    ``fields`` are the other fields of the experiment's objective section, so sweeps may vary
    them: ``{"kind": "bowl", "k": 2.0}`` calls ``value(x, k=2.0)``. ``target`` is x*, the
    point whose neighbourhood the events watch (its length is the dimension), and
    ``lipschitz`` the gradient's Lipschitz constant when known (the theorem check estimates
    it otherwise).

    The callables must be deterministic functions of ``x`` and ``fields``: results are
    reproducible only then. A cell is reused (on resume) only for the same ``kind``,
    ``version``, fields, target and Lipschitz constant, so change ``version`` whenever the
    callables change. Each call takes the GIL, so threads take turns in Python, and runs
    default to one thread (two were slower than one, measured). An exception
    raised by a callable stops the run (finished cells are kept) and is raised by
    :func:`run`. Both are called once at ``target`` before anything runs, so that one that
    fails is refused with an :class:`ExperimentError`."""

    def __init__(
        self,
        kind: str,
        value: Callable[..., float],
        grad: Callable[..., Any],
        *,
        target: Sequence[float],
        version: str = "1",
        lipschitz: Optional[float] = None,
    ):
        if not (callable(value) and callable(grad)):
            raise TypeError("value and grad must be callables")
        self.kind = str(kind)
        self.value = value
        self.grad = grad
        self.target = [float(t) for t in target]
        self.version = str(version)
        if lipschitz is not None and not (float(lipschitz) > 0 and float(lipschitz) < float("inf")):
            raise ValueError(f"lipschitz: must be a finite number > 0, got {lipschitz}")
        self.lipschitz = None if lipschitz is None else float(lipschitz)

    def _spec(self):
        return (self.kind, self.version, self.value, self.grad, self.target, self.lipschitz)

    def __repr__(self) -> str:
        return f"sgd_escape.Objective(kind={self.kind!r}, version={self.version!r}, dim={len(self.target)})"


def _specs(objectives) -> list:
    specs = []
    for o in objectives or ():
        if not isinstance(o, Objective):
            raise TypeError(f"objectives: sgd_escape.Objective values, not {type(o).__name__}")
        specs.append(o._spec())
    return specs


#: How each per-trajectory column loads: booleans as (nullable) booleans, times that may be
#: censored (empty) as nullable integers, labels as text.
TRAJECTORY_DTYPES = {
    "config": str,
    "index": "Int64",
    "first_hit": "Int64",
    "stayed": "boolean",
    "first_exit": "Int64",
    "diverged_at": "Int64",
    "rng": str,
    "numerics": "Int64",
}

#: How the text columns of summary.csv load (seeds are written as text, ``42u64``, so that
#: no reader rounds a 64-bit seed to a double).
SUMMARY_DTYPES = {
    "experiment": str,
    "config": str,
    "config_id": str,
    "seed": str,
    "rng": str,
}


#: How the text, boolean and integer columns of theorem.csv load (the rest are floats; a
#: verdict or bound that does not apply is empty, hence NaN or <NA>).
THEOREM_DTYPES = {
    "config": str,
    "verdict": str,
    "reasons": str,
    "given": str,
    "c_method": str,
    "c_points": "Int64",
    "c_violations": "Int64",
    "c_exact": "boolean",
    "step_binding": str,
    "t1_theorem": "Int64",
    "t1": "Int64",
    "t2": "Int64",
    "n": "Int64",
    "p_reach_verdict": str,
    "p_stay_given_reach_verdict": str,
    "p_both_verdict": str,
    "interval": str,
    "settle_at": "Int64",
    "rng": str,
    "numerics": "Int64",
}


class Result:
    """A finished run: ``summary`` (one row per configuration, the columns of
    ``summary.csv``), ``trajectories`` (one row per trajectory, the columns of
    ``trajectories.csv``), ``run`` (``run.json`` as a dict) and ``dir`` (the result
    directory). With ``out=None`` the directory is temporary and removed when the result is
    dropped: DataFrames already read stay valid."""

    def __init__(self, directory: Path, keep: Optional[tempfile.TemporaryDirectory] = None):
        self.dir = directory
        self._keep = keep
        self._summary: Optional[pd.DataFrame] = None
        self._trajectories: Optional[pd.DataFrame] = None
        self._run: Optional[Dict[str, Any]] = None

    @property
    def summary(self) -> pd.DataFrame:
        if self._summary is None:
            self._summary = _read_csv(self.dir / "summary.csv", SUMMARY_DTYPES)
        return self._summary

    @property
    def trajectories(self) -> pd.DataFrame:
        if self._trajectories is None:
            self._trajectories = _read_csv(self.dir / "trajectories.csv", TRAJECTORY_DTYPES)
        return self._trajectories

    @property
    def run(self) -> Dict[str, Any]:
        if self._run is None:
            with open(self.dir / "run.json", encoding="utf-8") as f:
                self._run = json.load(f)
        return self._run

    @property
    def theorem(self) -> Optional[pd.DataFrame]:
        """The theorem check's verdict table (``theorem.csv``) when the experiment has a
        ``[theorem]`` section, else None."""
        path = self.dir / "theorem.csv"
        return _read_csv(path, THEOREM_DTYPES) if path.exists() else None

    def __repr__(self) -> str:
        return f"sgd_escape.Result(dir={str(self.dir)!r})"


class Theorem:
    """A finished theorem check: ``table`` (``theorem.csv``: one row per configuration with
    the verdict, its reasons, the constants, the bounds and the three probabilities with
    their intervals and verdicts), ``json`` (``theorem.json`` as a dict: the full reports)
    and ``dir``. With ``out=None`` the directory is temporary, as for :class:`Result`."""

    def __init__(self, directory: Path, keep: Optional[tempfile.TemporaryDirectory] = None):
        self.dir = directory
        self._keep = keep
        self.table: pd.DataFrame = _read_csv(directory / "theorem.csv", THEOREM_DTYPES)
        with open(directory / "theorem.json", encoding="utf-8") as f:
            self.json: Dict[str, Any] = json.load(f)

    def __repr__(self) -> str:
        return f"sgd_escape.Theorem(dir={str(self.dir)!r})"


#: Exact decimal-to-double parsing: pandas 3 parses exactly by default (and deprecates the
#: option); pandas 2 needs ``float_precision="round_trip"``.
EXACT_FLOATS: Dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)


def _read_csv(path: Path, dtypes: Dict[str, Any]) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(
        path,
        dtype={c: t for c, t in dtypes.items() if c in header},
        keep_default_na=False,
        na_values=[""],
        **EXACT_FLOATS,
    )


def run(
    experiment: Union[str, "os.PathLike[str]", Dict[str, Any]],
    *,
    seed: Union[int, str, None] = None,
    threads: Optional[int] = None,
    out: Union[str, "os.PathLike[str]", None] = None,
    method: Optional[str] = None,
    level: Optional[float] = None,
    progress: bool = True,
    objectives: Sequence[Objective] = (),
) -> Result:
    """Runs an experiment, as ``sgd-escape run`` does, and returns its results.

    ``experiment`` is a path to an experiment file (relative paths inside it are taken from
    the file's directory) or a dict with the experiment file's keys (relative paths from the
    working directory). ``seed`` (an int, or text as ``"42u64"``), ``method`` and ``level``
    override the experiment's; ``threads`` defaults to all cores (to one when the experiment
    runs an :class:`Objective`: its calls take turns on the GIL). ``out`` is the result
    directory: a run stopped there (Ctrl-C raises ``KeyboardInterrupt`` after keeping what
    finished) is resumed by the same call. A bad experiment raises :class:`ExperimentError`
    (a ``ValueError``) naming the source, the field and the reason. ``objectives`` are the
    :class:`Objective` kinds the experiment may name. With a ``[theorem]`` section the
    theorem check runs too (``.theorem``)."""
    text, source, stem = _source(experiment)
    return _run(text, source, stem, seed, threads, out, method, level, progress, objectives)


def _source(experiment) -> Tuple[str, str, str]:
    """An experiment as (TOML text, source named in messages, default name)."""
    if isinstance(experiment, dict):
        return _native.toml_from_dict(experiment), "<dict>", "experiment"
    if isinstance(experiment, (str, os.PathLike)):
        path = Path(experiment)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ExperimentError(f"{path}: cannot read the experiment file: {e}") from e
        return text, str(path), path.stem
    raise TypeError(f"experiment: a path or a dict, not {type(experiment).__name__}")


def run_toml(
    text: str,
    *,
    seed: Union[int, str, None] = None,
    threads: Optional[int] = None,
    out: Union[str, "os.PathLike[str]", None] = None,
    method: Optional[str] = None,
    level: Optional[float] = None,
    progress: bool = True,
    objectives: Sequence[Objective] = (),
) -> Result:
    """:func:`run` on the text of an experiment file (named ``<toml>`` in messages)."""
    return _run(text, "<toml>", "experiment", seed, threads, out, method, level, progress, objectives)


def _directory(out) -> Tuple[Path, Optional[tempfile.TemporaryDirectory]]:
    if out is None:
        keep = tempfile.TemporaryDirectory(prefix="sgd-escape-")
        return Path(keep.name), keep
    return Path(out), None


def _call(native, text, source, stem, out, objectives, **options):
    """``native`` (``_native.run`` or ``_native.theorem``) into ``out`` (a temporary
    directory when None); returns the directory and what keeps a temporary one alive."""
    specs = _specs(objectives)
    directory, keep = _directory(out)
    native(text, source, stem, str(directory), objectives=specs, **options)
    return directory, keep


def _run(text, source, stem, seed, threads, out, method, level, progress, objectives) -> Result:
    directory, keep = _call(
        _native.run, text, source, stem, out, objectives,
        seed=seed, threads=threads, method=method, level=level, progress=progress,
    )
    return Result(directory, keep)


def theorem(
    experiment: Union[str, "os.PathLike[str]", Dict[str, Any]],
    *,
    seed: Union[int, str, None] = None,
    threads: Optional[int] = None,
    out: Union[str, "os.PathLike[str]", None] = None,
    method: Optional[str] = None,
    level: Optional[float] = None,
    objectives: Sequence[Objective] = (),
) -> Theorem:
    """Checks Theorem 1 on an experiment, as ``sgd-escape theorem`` does: its assumptions
    on the landscape, its bounds, and what SGD does next to them, with a verdict per
    configuration (settings from the experiment's ``[theorem]`` section, or the defaults).
    Arguments as :func:`run`; the verdict table is ``.table``. Ctrl-C stops the check
    before its next configuration, writing nothing, and raises ``KeyboardInterrupt``."""
    text, source, stem = _source(experiment)
    directory, keep = _call(
        _native.theorem, text, source, stem, out, objectives,
        seed=seed, threads=threads, method=method, level=level,
    )
    return Theorem(directory, keep)


def interval(
    k: int, n: int, *, method: str = "clopper-pearson", level: float = 0.95, side: str = "two"
) -> Tuple[float, float]:
    """The confidence interval ``(lower, upper)`` of a binomial proportion from ``k``
    successes in ``n`` trials, as ``summary.csv`` reports it. ``method`` is one of
    :func:`methods`; ``side`` is ``"two"``, ``"lower"`` (a lower bound: upper = 1) or
    ``"upper"``."""
    return _native.interval(k, n, method=method, level=level, side=side)


def decide(
    k: int, n: int, p0: float, *, level: float = 0.95, sequential: bool = False
) -> Dict[str, Any]:
    """The verdict on P ≥ ``p0`` from ``k`` of ``n``: ``holds``, ``violated`` or
    ``inconclusive``, each wrong with probability at most 1 − ``level``; with the p-value,
    the bounds and the trajectories that would settle it. ``sequential=True`` uses the
    confidence sequence of adaptive runs, valid at any stopping time."""
    return json.loads(_native.decide(k, n, p0, level=level, sequential=sequential))


def plan(
    epsilon: float, *, level: float = 0.95, p: float = 0.5, method: Optional[str] = "clopper-pearson"
) -> int:
    """Trajectories needed for a two-sided interval of half-width ≤ ``epsilon`` when the
    probability is ``p`` (0.5 is the worst case), for ``method``, or for the anytime-valid
    confidence sequence with ``method=None``."""
    return _native.plan(epsilon, level=level, p=p, method=method)


def kaplan_meier(times, observed, *, level: float = 0.95) -> pd.DataFrame:
    """The Kaplan–Meier estimate of a time to event: one row per distinct event time with
    ``time``, ``at_risk``, ``events``, the survival ``survival`` = P̂(T > time), Greenwood's
    ``se`` and the pointwise interval ``lower``, ``upper`` at ``level``. ``observed`` is False where the time is censored (the event was not seen by
    then). The median and its interval are in ``.attrs["median"]``."""
    km = json.loads(
        _native.kaplan_meier(
            [int(t) for t in times], [bool(o) for o in observed], level=level
        )
    )
    columns = ["time", "at_risk", "events", "survival", "se", "lower", "upper"]
    table = pd.DataFrame(km.pop("rows"), columns=columns)
    table.attrs.update(km)
    return table


def methods() -> list:
    """The interval methods, in the order tables list them."""
    return list(_native.methods())
