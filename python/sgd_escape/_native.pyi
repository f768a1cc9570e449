"""Types of the extension module ``sgd_escape._native`` (the crate's engine and statistics);
use the ``sgd_escape`` package, which wraps it."""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

#: An objective as ``sgd_escape.Objective`` hands it over: kind, version, value, grad,
#: target and Lipschitz constant.
ObjectiveSpec = Tuple[str, str, Callable[..., Any], Callable[..., Any], List[float], Optional[float]]

__version__: str
ENGINE_VERSION: str
NUMERICS_VERSION: int
RNG_ALGORITHM: str

class ExperimentError(ValueError):
    """An experiment that does not validate: the message names the source, field and reason."""

def toml_from_dict(experiment: Dict[str, object]) -> str: ...
def run(
    text: str,
    source: str,
    stem: str,
    out: str,
    seed: Union[int, str, None] = None,
    threads: Optional[int] = None,
    method: Optional[str] = None,
    level: Optional[float] = None,
    progress: bool = True,
    objectives: List[ObjectiveSpec] = [],
) -> str: ...
def theorem(
    text: str,
    source: str,
    stem: str,
    out: str,
    seed: Union[int, str, None] = None,
    threads: Optional[int] = None,
    method: Optional[str] = None,
    level: Optional[float] = None,
    objectives: List[ObjectiveSpec] = [],
) -> str: ...
def interval(
    k: int, n: int, method: str = "clopper-pearson", level: float = 0.95, side: str = "two"
) -> Tuple[float, float]: ...
def decide(k: int, n: int, p0: float, level: float = 0.95, sequential: bool = False) -> str: ...
def plan(
    epsilon: float, level: float = 0.95, p: float = 0.5, method: Optional[str] = None
) -> int: ...
def kaplan_meier(times: List[int], observed: List[bool], level: float = 0.95) -> str: ...
def methods() -> List[str]: ...
