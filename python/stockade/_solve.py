"""Solving: settings from the Rust ``Default``, the progress bar, and the call into the core."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from . import _native
from ._errors import Problem
from ._model import Model, as_model
from ._result import Result

ProgressCallback = Callable[[Dict[str, Any]], None]


def default_settings() -> Dict[str, Any]:
    """The solver settings' defaults, from the Rust ``Settings::default()`` (the one source of
    defaults): ``time_limit_s`` (s, None = no limit), ``mip_gap`` (relative), ``threads``
    (None = HiGHS's choice), ``seed``, ``presolve``, ``log`` (HiGHS log on stderr), ``method``
    (``auto``, ``extensive`` or ``benders``)."""
    settings: Dict[str, Any] = json.loads(_native.default_settings())
    return settings


def solve(
    model: Union[Model, Mapping[str, Any]],
    *,
    time_limit: Optional[float] = None,
    gap: Optional[float] = None,
    threads: Optional[int] = None,
    seed: Optional[int] = None,
    presolve: Optional[bool] = None,
    log: Optional[bool] = None,
    method: Optional[str] = None,
    progress: Union[bool, ProgressCallback] = False,
) -> Result:
    """Validates and solves the siting model over its scenarios, as ``stockade solve``.

    Every argument left as None takes its value from the Rust ``Settings::default()`` (see
    :func:`default_settings`): ``time_limit`` in seconds, ``gap`` the relative MIP gap,
    ``threads`` for HiGHS, ``seed`` HiGHS's random seed, ``presolve``, ``log`` (HiGHS log on
    stderr), ``method`` one of ``"auto"``, ``"extensive"`` or ``"benders"`` (Benders
    decomposition for large scenario sets and large capacitated facility location; ``auto``
    picks it from 100 scenarios on and for capacitated location with 50,000 flows or more; the
    result's ``method`` says which ran).

    ``progress=True`` shows a tqdm bar (incumbent, bound, gap; needs ``tqdm``); a callable
    receives ``{"elapsed_s", "incumbent", "best_bound", "gap"}`` on the calling thread.

    The GIL is released while HiGHS works. Ctrl-C (KeyboardInterrupt) stops HiGHS within about
    0.1 s and is re-raised once the solver has let go. An infeasible model is the status
    ``infeasible`` of the result, not an exception; bad input raises
    :class:`stockade.InputError` and a solver failure :class:`stockade.SolverError`.
    """
    model = as_model(model)
    settings = default_settings()
    overrides = {
        "time_limit_s": time_limit,
        "mip_gap": gap,
        "threads": threads,
        "seed": seed,
        "presolve": presolve,
        "log": log,
        "method": method,
    }
    settings.update({k: v for k, v in overrides.items() if v is not None})

    callback: Optional[ProgressCallback] = None
    bar: Any = None
    if callable(progress):
        callback = progress
    elif progress:
        bar = _progress_bar(settings.get("time_limit_s"))
        if bar is not None:
            callback = _bar_callback(bar)
    try:
        text = _native.solve(
            json.dumps(model.to_dict()), json.dumps(settings), callback
        )
    finally:
        if bar is not None:
            bar.close()
    return Result.from_json_str(text, model)


def _progress_bar(time_limit: Optional[float]) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install tqdm); solving without a bar",
                      stacklevel=3)
        return None
    return tqdm(total=time_limit, unit="s", desc="stockade", leave=False,
                bar_format="{desc}: {n:.1f}{unit} {postfix}" if time_limit is None else None)


def _bar_callback(bar: Any) -> ProgressCallback:
    def update(point: Dict[str, Any]) -> None:
        elapsed = float(point.get("elapsed_s") or 0.0)
        bar.n = min(elapsed, bar.total) if bar.total else elapsed
        post = {}
        if point.get("incumbent") is not None:
            post["incumbent"] = f"{point['incumbent']:.6g}"
        if point.get("best_bound") is not None:
            post["bound"] = f"{point['best_bound']:.6g}"
        if point.get("gap") is not None:
            post["gap"] = f"{point['gap']:.3%}"
        bar.set_postfix(post, refresh=False)
        bar.refresh()

    return update


def validate(model: Union[Model, Mapping[str, Any]]) -> List[Problem]:
    """Every problem of a model (see :meth:`Model.validate`)."""
    return as_model(model).validate()


def schema() -> Dict[str, Any]:
    """The JSON Schema of the model file (as ``stockade schema``)."""
    out: Dict[str, Any] = json.loads(_native.schema())
    return out


def _read(path: Any) -> str:
    with open(path, encoding="utf-8") as f:
        text: str = f.read()
    return text


def _stem(path: Any) -> str:
    stem: str = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return stem


def import_orlib_cap(
    path: Any,
    *,
    capacity: Optional[float] = None,
    single_source: bool = False,
    failures: Any = None,
    name: Optional[str] = None,
) -> Model:
    """An OR-Library capacitated warehouse location file (cap41 ... capc) as a model, as
    ``stockade import orlib-cap``: ``capacity`` for capa/capb/capc, ``single_source``, and
    ``failures`` a stoch-cflp failure-scenario file (path) for the two-stage model."""
    failures_text = _read(failures) if failures is not None else None
    text = _native.import_orlib_cap(
        _read(path), name or _stem(path), capacity, single_source, failures_text
    )
    return Model.from_json_str(text)


def import_holmberg(path: Any, *, name: Optional[str] = None) -> Model:
    """A Holmberg single-source capacitated facility location file as a model."""
    return Model.from_json_str(_native.import_holmberg(_read(path), name or _stem(path)))


def import_orlib_pmed(path: Any, *, name: Optional[str] = None) -> Model:
    """An OR-Library p-median file as a model."""
    return Model.from_json_str(_native.import_orlib_pmed(_read(path), name or _stem(path)))
