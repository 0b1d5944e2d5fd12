"""Type stubs of the native module (``python/src/lib.rs``). Everything crosses as JSON text."""

from typing import Any, Callable, Dict, Optional

__all__ = [
    "__version__",
    "default_evaluation_settings",
    "default_settings",
    "evaluate",
    "import_holmberg",
    "import_orlib_cap",
    "import_orlib_pmed",
    "parse_model",
    "report",
    "schema",
    "solve",
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
