"""Type stubs of the native module (``python/src/lib.rs``). Everything crosses as JSON text."""

from typing import Any, Callable, Dict, List, Optional

__all__ = [
    "__version__",
    "default_evaluation_settings",
    "default_frontier_settings",
    "default_settings",
    "default_share_settings",
    "default_sweep_settings",
    "evaluate",
    "frontier",
    "import_holmberg",
    "import_orlib_cap",
    "import_orlib_pmed",
    "parameter_values",
    "parse_model",
    "report",
    "saa",
    "saa_combine",
    "saa_replication",
    "schema",
    "share",
    "share_coalition",
    "share_coalitions",
    "share_combine",
    "solve",
    "sweep",
    "sweep_variants",
    "validate",
]
__version__: str

def default_settings() -> str: ...
def schema() -> str: ...
def parse_model(text: str) -> str: ...
def validate(text: str) -> str: ...
def solve(
    model_json: str,
    settings_json: str,
    progress: Optional[Callable[[Dict[str, Any]], Any]] = None,
) -> str: ...
def report(result_json: str) -> str: ...
def default_evaluation_settings() -> str: ...
def evaluate(
    model_json: str,
    plan_json: str,
    settings_json: str,
    scenarios: Optional[int] = None,
    seed: int = 1,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> str: ...
def import_orlib_cap(
    text: str,
    name: str,
    capacity: Optional[float] = None,
    single_source: bool = False,
    failures: Optional[str] = None,
) -> str: ...
def import_holmberg(text: str, name: str) -> str: ...
def import_orlib_pmed(text: str, name: str) -> str: ...
def default_sweep_settings() -> str: ...
def default_frontier_settings() -> str: ...
def parameter_values(path: str, spec: str) -> List[float]: ...
def sweep_variants(model_json: str, parameters_json: str) -> str: ...
def sweep(
    model_json: str,
    parameters_json: str,
    settings_json: str,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> str: ...
def frontier(
    model_json: str,
    settings_json: str,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> str: ...
def saa(model_json: str, design_json: str, settings_json: str) -> str: ...
def saa_replication(model_json: str, design_json: str, r: int, settings_json: str) -> str: ...
def saa_combine(model_json: str, design_json: str, replications_json: str) -> str: ...
def default_share_settings() -> str: ...
def share(model_json: str, settings_json: str) -> str: ...
def share_coalitions(model_json: str, settings_json: str) -> str: ...
def share_coalition(model_json: str, mask: int, settings_json: str) -> str: ...
def share_combine(model_json: str, settings_json: str, solved_json: str) -> str: ...
