"""Sweeps and the cost-resilience frontier as DataFrames, solved locally by the Rust core's worker
pool or, with ``backend="ray"``, one Ray task per variant on a Ray cluster.

Both backends build the variants the same way (the core writes each value into the model file,
re-parses and validates it) and solve each with the same core call, so they give the same numbers.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _native
from ._errors import InputError, SolverError
from ._model import Model, as_model

ParameterValues = Union[str, float, int, Sequence[float]]
#: Called after each finished variant with (finished, total).
SweepCallback = Callable[[int, int], None]

#: KPI columns of a sweep or frontier frame, in order (the core's ``Kpis``).
KPI_COLUMNS = (
    "investment",
    "stockpile",
    "expected_operating",
    "expected_shortfall_penalty",
    "expected_shortfall_t",
    "cvar95_shortfall_t",
    "worst_shortfall_t",
    "shortfall_probability",
    "largest_country_share",
    "largest_country",
    "open_sites",
    "capacity_t",
    "stock_t",
)


def default_sweep_settings() -> Dict[str, Any]:
    """The sweep settings' defaults, from the Rust ``SweepSettings::default()``: ``solver``
    (the solver settings of each variant; one HiGHS thread), ``workers`` (None = one per core),
    ``warm_start`` (start each solve from the nearest solved variant's plan)."""
    out: Dict[str, Any] = json.loads(_native.default_sweep_settings())
    return out


def default_frontier_settings() -> Dict[str, Any]:
    """The frontier settings' defaults, from the Rust ``FrontierSettings::default()``."""
    out: Dict[str, Any] = json.loads(_native.default_frontier_settings())
    return out


def _parameters(parameters: Mapping[str, ParameterValues]) -> List[Dict[str, Any]]:
    if not parameters:
        raise ValueError("sweep needs at least one parameter: {path: values}")
    out = []
    for path, spec in parameters.items():
        if isinstance(spec, str):
            values = list(_native.parameter_values(path, spec))
        elif isinstance(spec, (int, float)):
            values = [float(spec)]
        else:
            values = [float(v) for v in spec]
        out.append({"path": path, "values": values})
    return out


def _settings(
    workers: Optional[int],
    warm_start: Optional[bool],
    time_limit: Optional[float],
    gap: Optional[float],
) -> Dict[str, Any]:
    settings = default_sweep_settings()
    if workers is not None:
        settings["workers"] = workers
    if warm_start is not None:
        settings["warm_start"] = warm_start
    if time_limit is not None:
        settings["solver"]["time_limit_s"] = time_limit
    if gap is not None:
        settings["solver"]["mip_gap"] = gap
    return settings


def _row(variant: Dict[str, Any], paths: Sequence[str]) -> Dict[str, Any]:
    row: Dict[str, Any] = {p: variant["values"].get(p) for p in paths}
    row.update(
        index=variant["index"],
        status=variant["status"],
        objective=variant.get("objective"),
        mip_gap=variant.get("mip_gap"),
        runtime_s=variant.get("runtime_s"),
        warm_from=variant.get("warm_from"),
    )
    kpis = variant.get("kpis") or {}
    for k in KPI_COLUMNS:
        row[k] = kpis.get(k)
    row["plan"] = variant.get("plan")
    return row


def _frame(variants: List[Dict[str, Any]], paths: Sequence[str]) -> pd.DataFrame:
    rows = [_row(v, paths) for v in sorted(variants, key=lambda v: v["index"])]
    columns = list(paths) + [
        "index", "status", "objective", "mip_gap", "runtime_s", "warm_from",
        *KPI_COLUMNS, "plan",
    ]
    df = pd.DataFrame(rows, columns=columns)
    df["warm_from"] = df["warm_from"].astype("Int64")
    return df


def sweep(
    model: Union[Model, Mapping[str, Any]],
    parameters: Mapping[str, ParameterValues],
    *,
    backend: str = "local",
    workers: Optional[int] = None,
    warm_start: Optional[bool] = None,
    time_limit: Optional[float] = None,
    gap: Optional[float] = None,
    address: Optional[str] = None,
    retries: int = 2,
    progress: Optional[SweepCallback] = None,
    on_submit: Optional[Callable[[List[Any]], None]] = None,
) -> pd.DataFrame:
    """Solves every variant of ``model`` over the Cartesian product of ``parameters``, as
    ``stockade sweep``, and returns one row per variant (in sweep order: the last parameter
    fastest).

    ``parameters`` maps a path into the model file (``"policies.country_share.cap"``,
    ``"depots[jp_jogmec].capacity"``; ``[ID]`` selects a list element by id or code, ``[3]`` by
    index) to its values: a list, one number, or ``"FROM:TO:STEP"`` / ``"V1,V2"`` as on the command
    line. A bad path or a value the model cannot take raises :class:`stockade.InputError` naming it,
    before anything is solved.

    Columns: one per parameter, ``index``, ``status``, ``objective`` (expected annual cost),
    ``mip_gap``, ``runtime_s``, ``warm_from`` (the variant whose plan was the MIP start), the KPIs
    (expected and CVaR shortfall, largest country share, sites open, ...) and ``plan`` (the
    first-stage plan as a dict). ``df.attrs`` holds ``backend``, ``runtime_s``, ``currency`` and,
    for Ray, ``retried`` and ``failed`` (variant indices).

    ``backend="local"`` runs the core's worker pool (``workers`` threads, default one per core,
    warm starts from the nearest solved neighbour) with the GIL released; ``progress(done,
    total)`` hears as variants finish, and Ctrl-C stops the sweep. ``backend="ray"`` runs each variant as a Ray
    task: ``address`` connects to an existing cluster (``"auto"`` or ``"ray://host:10001"``); without
    it a Ray session already started in this process is used, or a local one is started. The model
    goes once into Ray's object store; results come back as they finish (``progress`` hears each);
    a task that fails or whose worker dies is submitted again up to ``retries`` times, and a variant
    that still fails is reported with status ``failed`` rather than losing the sweep. Ray tasks solve
    from scratch (no neighbour to start from). ``on_submit`` receives the task references once they
    are submitted (for tests and monitoring).

    Other settings default from the Rust ``SweepSettings::default()``.
    """
    model = as_model(model)
    params = _parameters(parameters)
    paths = [p["path"] for p in params]
    settings = _settings(workers, warm_start, time_limit, gap)
    model_json = json.dumps(model.to_dict())
    started = time.perf_counter()
    if backend == "local":
        report = json.loads(
            _native.sweep(model_json, json.dumps(params), json.dumps(settings), progress)
        )
        df = _frame(report["variants"], paths)
        df.attrs.update(
            backend="local",
            workers=report["workers"],
            warm_start=report["warm_start"],
            runtime_s=report["runtime_s"],
            currency=report["currency"],
            retried=[],
            failed=[],
        )
        return df
    if backend != "ray":
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    variants = json.loads(_native.sweep_variants(model_json, json.dumps(params)))
    settings["workers"] = 1
    settings["warm_start"] = False
    outcomes, retried, failed = _ray_run(
        _solve_variant, model_json, variants, json.dumps(settings), address, retries, progress,
        on_submit,
    )
    results = [
        out if out is not None else _failed_variant(i, variants[i])
        for i, out in enumerate(outcomes)
    ]
    df = _frame(results, paths)
    df.attrs.update(
        backend="ray",
        workers=None,
        warm_start=False,
        runtime_s=time.perf_counter() - started,
        currency=model.to_dict().get("currency", ""),
        retried=retried,
        failed=failed,
    )
    return df


def _solve_variant(model_json: str, assignment: List[Tuple[str, float]], settings_json: str,
                   index: int) -> Dict[str, Any]:
    """One Ray task: the variant solved by the core, exactly as the local pool solves it."""
    from stockade import _native as native

    params = [{"path": p, "values": [v]} for p, v in assignment]
    report = json.loads(native.sweep(model_json, json.dumps(params), settings_json))
    variant: Dict[str, Any] = report["variants"][0]
    variant["index"] = index
    return variant


def _ray_run(
    function: Callable[[str, Any, str, int], Any],
    shared: str,
    items: Sequence[Any],
    extra: str,
    address: Optional[str],
    retries: int,
    progress: Optional[SweepCallback],
    on_submit: Optional[Callable[[List[Any]], None]],
) -> Tuple[List[Any], List[int], List[Dict[str, Any]]]:
    """Runs ``function(shared, item, extra, index)`` as one Ray task per item: ``shared`` (the
    model) goes once into the object store, results are collected as they finish, and a task
    that raises, is cancelled or loses its worker is submitted again up to ``retries`` times.
    Returns the outcomes in item order (None where every attempt failed), the indices retried
    and the failures."""
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("backend='ray' needs Ray: pip install ray") from e
    if address is not None or not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, include_dashboard=False,
                 log_to_driver=False)
    shared_ref = ray.put(shared)
    # Ray's own retries (max_retries) are off: this loop resubmits a task that raised, was
    # cancelled or lost its worker, so that every retry is counted and reported.
    task = ray.remote(num_cpus=1, max_retries=0)(function)
    index_of: Dict[Any, int] = {}
    attempts = [0] * len(items)

    def submit(i: int) -> Any:
        ref = task.remote(shared_ref, items[i], extra, i)
        index_of[ref] = i
        attempts[i] += 1
        return ref

    pending = [submit(i) for i in range(len(items))]
    if on_submit is not None:
        on_submit(list(pending))
    outcomes: List[Any] = [None] * len(items)
    finished = 0
    retried: List[int] = []
    failed: List[Dict[str, Any]] = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            i = index_of.pop(ref)
            try:
                outcomes[i] = ray.get(ref)
            except Exception as e:  # a task error, a dead worker or a cancellation
                if attempts[i] <= retries:
                    retried.append(i)
                    pending.append(submit(i))
                    continue
                failed.append({"index": i, "attempts": attempts[i], "error": str(e)})
            finished += 1
            if progress is not None:
                progress(finished, len(items))
    return outcomes, retried, failed


def _failed_variant(i: int, assignment: List[Tuple[str, float]]) -> Dict[str, Any]:
    return {
        "index": i,
        "values": dict(assignment),
        "status": "failed",
        "objective": None,
        "mip_gap": None,
        "runtime_s": None,
        "warm_from": None,
        "kpis": None,
        "plan": None,
    }


def _saa_replication(model_json: str, r: int, payload_json: str, index: int) -> Dict[str, Any]:
    """One Ray task: SAA replication r, solved by the core."""
    from stockade import _native as native

    payload = json.loads(payload_json)
    out: Dict[str, Any] = json.loads(native.saa_replication(
        model_json, json.dumps(payload["design"]), r, json.dumps(payload["settings"])))
    return out


def saa(
    model: Union[Model, Mapping[str, Any]],
    *,
    replications: int,
    sample: int,
    evaluation_sample: int,
    seed: int = 1,
    backend: str = "local",
    time_limit: Optional[float] = None,
    gap: Optional[float] = None,
    address: Optional[str] = None,
    retries: int = 2,
    progress: Optional[SweepCallback] = None,
) -> Dict[str, Any]:
    """Mak-Morton-Wood statistical bounds of a model with hazards, as
    ``stockade solve --saa M:N:N'``: ``replications`` sample average approximations of ``sample``
    scenarios each (seeds ``seed``, ``seed + 1``, ...) give the lower bound; the best of their
    plans evaluated on ``evaluation_sample`` independent scenarios gives the upper bound; the
    report (a dict) has ``lower_bound``, ``upper_bound`` and ``gap`` with 95 % intervals.

    ``backend="ray"`` solves each replication as a Ray task (the model sent once through the
    object store, failed tasks resubmitted up to ``retries`` times) and combines them in the core;
    the same seeds give the same report as ``"local"``. The report then also lists ``retried``;
    a replication that never succeeds raises :class:`stockade.SolverError`.
    """
    model = as_model(model)
    design = {"replications": replications, "sample": sample,
              "evaluation_sample": evaluation_sample, "seed": seed}
    settings = json.loads(_native.default_settings())
    if time_limit is not None:
        settings["time_limit_s"] = time_limit
    if gap is not None:
        settings["mip_gap"] = gap
    model_json = json.dumps(model.to_dict())
    if backend == "local":
        report: Dict[str, Any] = json.loads(
            _native.saa(model_json, json.dumps(design), json.dumps(settings)))
        return report
    if backend != "ray":
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    # Bad input (the design, a model without hazards) fails here, before any task is sent: the
    # core checks it before it looks at the (here empty) list of replications.
    try:
        _native.saa_combine(model_json, json.dumps(design), "[]")
    except InputError as err:
        if any(p.path != "replications" for p in err.problems):
            raise
    settings["threads"] = 1
    payload = json.dumps({"design": design, "settings": settings})
    outcomes, retried, failed = _ray_run(
        _saa_replication, model_json, list(range(replications)), payload, address, retries,
        progress, None,
    )
    if failed:
        raise SolverError(f"{len(failed)} SAA replication(s) failed after retries: {failed}")
    report = json.loads(_native.saa_combine(model_json, json.dumps(design), json.dumps(outcomes)))
    report["retried"] = retried
    return report


def _share_coalition(model_json: str, mask: int, settings_json: str, index: int) -> Any:
    """One Ray task: one coalition's stand-alone value, solved by the core."""
    from stockade import _native as native

    return [mask, json.loads(native.share_coalition(model_json, mask, settings_json))]


def default_share_settings() -> Dict[str, Any]:
    """The cost-sharing settings' defaults, from the Rust ``ShareSettings::default()``."""
    out: Dict[str, Any] = json.loads(_native.default_share_settings())
    return out


def share(
    model: Union[Model, Mapping[str, Any]],
    *,
    rule: Optional[str] = None,
    backend: str = "local",
    time_limit: Optional[float] = None,
    gap: Optional[float] = None,
    orders: Optional[int] = None,
    seed: Optional[int] = None,
    address: Optional[str] = None,
    retries: int = 2,
    progress: Optional[SweepCallback] = None,
) -> Dict[str, Any]:
    """Joint stockpiles and fair cost sharing across the model's parties, as
    ``stockade share --json`` (a dict): the joint plan, every coalition's stand-alone cost, the
    Shapley value, the nucleolus, the core check and the cooperation gain.

    ``backend="ray"`` solves each coalition (2^n - 1 of them up to 12 parties, the sampled
    orders' prefixes beyond) as a Ray task, the model sent once through the object store and
    failed tasks resubmitted up to ``retries`` times; the core combines the values, giving the
    same report as ``"local"`` (``retried`` added). A coalition that never solves raises
    :class:`stockade.SolverError`. Other settings default from the Rust ``ShareSettings``.
    """
    model = as_model(model)
    settings = default_share_settings()
    for key, value in (("rule", rule), ("shapley_orders", orders), ("seed", seed)):
        if value is not None:
            settings[key] = value
    if time_limit is not None:
        settings["solver"]["time_limit_s"] = time_limit
    if gap is not None:
        settings["solver"]["mip_gap"] = gap
    # As `stockade share`: coalitions are solved side by side, each HiGHS solve on one thread.
    settings["solver"]["threads"] = 1
    model_json = json.dumps(model.to_dict())
    settings_json = json.dumps(settings)
    if backend == "local":
        out: Dict[str, Any] = json.loads(_native.share(model_json, settings_json))
        return out
    if backend != "ray":
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    masks = json.loads(_native.share_coalitions(model_json, settings_json))
    outcomes, retried, failed = _ray_run(
        _share_coalition, model_json, masks, settings_json, address, retries,
        progress, None,
    )
    if failed:
        raise SolverError(f"{len(failed)} coalition solve(s) failed after retries: {failed}")
    report: Dict[str, Any] = json.loads(
        _native.share_combine(model_json, settings_json, json.dumps(outcomes)))
    report["retried"] = retried
    return report


def frontier(
    model: Union[Model, Mapping[str, Any]],
    resilience: str = "expected_shortfall",
    *,
    points: Optional[int] = None,
    beta: Optional[float] = None,
    workers: Optional[int] = None,
    warm_start: Optional[bool] = None,
    time_limit: Optional[float] = None,
    gap: Optional[float] = None,
    progress: Optional[SweepCallback] = None,
    backend: str = "local",
    address: Optional[str] = None,
    retries: int = 2,
) -> pd.DataFrame:
    """The cost-resilience Pareto frontier by the epsilon-constraint method, as
    ``stockade frontier``: the least expected annual cost at each resilience level, from the
    cost-optimal plan's level to the best any plan achieves.

    ``resilience`` is ``"expected_shortfall"`` (t/yr), ``"cvar_shortfall"`` (CVaR at ``beta`` of
    unmet demand, t/yr) or ``"nk"`` (simultaneous site losses survived; levels k = 0 ..
    points - 1). One row per level: ``level``, ``status``, ``cost``, ``resilience`` (achieved),
    ``dominated``, ``knee``, ``mip_gap``, ``runtime_s``, ``warm_from``, the KPIs and ``plan``.
    ``df.attrs`` holds ``resilience``, ``unit``, ``beta``, ``cost_optimal_level``, ``best_level``,
    ``knee`` (row label or None) and ``currency``. The model must not set its own ``risk``.
    Defaults from the Rust ``FrontierSettings::default()``. ``progress(done, total)`` hears as
    levels finish; the GIL is released and Ctrl-C stops the solves. ``backend="ray"`` solves the
    two ends here and every level as a Ray task (as :func:`sweep` does: model once in the object
    store, failed tasks resubmitted up to ``retries`` times, cold starts), then the core marks
    dominated points and the knee; ``attrs["retried"]`` lists resubmitted levels. Plot it with
    :func:`plot_frontier`.
    """
    model = as_model(model)
    settings = default_frontier_settings()
    settings["resilience"] = resilience
    if points is not None:
        settings["points"] = points
    if beta is not None:
        settings["beta"] = beta
    settings["sweep"] = _settings(workers, warm_start, time_limit, gap)
    model_json = json.dumps(model.to_dict())
    retried: List[int] = []
    if backend == "local":
        report = json.loads(_native.frontier(model_json, json.dumps(settings), progress))
    elif backend == "ray":
        report, retried = _ray_frontier(model_json, settings, address, retries, progress)
    else:
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    rows = []
    for i, p in enumerate(report["points"]):
        row = {
            "level": p["level"],
            "status": p["status"],
            "cost": p.get("cost"),
            "resilience": p.get("resilience"),
            "dominated": p["dominated"],
            "knee": report.get("knee") == i,
            "mip_gap": p.get("mip_gap"),
            "runtime_s": p.get("runtime_s"),
            "warm_from": p.get("warm_from"),
        }
        kpis = p.get("kpis") or {}
        for k in KPI_COLUMNS:
            row[k] = kpis.get(k)
        row["plan"] = p.get("plan")
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update(
        resilience=report["resilience"],
        unit=report["unit"],
        beta=report["beta"],
        cost_optimal_level=report.get("cost_optimal_level"),
        best_level=report.get("best_level"),
        knee=report.get("knee"),
        currency=report["currency"],
        runtime_s=report["runtime_s"],
        backend=backend,
        retried=retried,
    )
    return df


def _frontier_point(model_json: str, i: int, payload_json: str, index: int) -> Dict[str, Any]:
    """One Ray task: level i of a frontier, solved by the core."""
    from stockade import _native as native

    payload = json.loads(payload_json)
    out: Dict[str, Any] = json.loads(native.frontier_point(
        model_json, json.dumps(payload["settings"]), json.dumps(payload["levels"]), i))
    return out


def _ray_frontier(
    model_json: str,
    settings: Dict[str, Any],
    address: Optional[str],
    retries: int,
    progress: Optional[SweepCallback],
) -> Tuple[Dict[str, Any], List[int]]:
    started = time.perf_counter()
    settings["sweep"]["solver"]["threads"] = 1
    settings_json = json.dumps(settings)
    # The ends (two solves) here; every level then as a Ray task; the core assembles.
    levels = json.loads(_native.frontier_levels(model_json, settings_json))
    payload = json.dumps({"settings": settings, "levels": levels})
    outcomes, retried, failed = _ray_run(
        _frontier_point, model_json, list(range(len(levels["levels"]))), payload, address,
        retries, progress, None,
    )
    if failed:
        raise SolverError(f"{len(failed)} frontier level(s) failed after retries: {failed}")
    report: Dict[str, Any] = json.loads(_native.frontier_report(
        model_json, settings_json, json.dumps(levels), json.dumps(outcomes),
        time.perf_counter() - started))
    return report, retried


def plot_frontier(frame: pd.DataFrame, *, ax: Any = None) -> Any:
    """The frontier of :func:`frontier` as a matplotlib Figure: cost against resilience, the
    dominated levels in grey, the knee marked."""
    from ._plot import _axes

    if "cost" not in frame or "resilience" not in frame:
        raise ValueError("plot_frontier takes the DataFrame of stockade.frontier()")
    fig, ax = _axes(ax, (7, 4.5))
    solved = frame[frame.cost.notna() & frame.resilience.notna()]
    front = solved[~solved.dominated.astype(bool)].sort_values("resilience")
    ax.plot(front.resilience, front.cost, marker="o", label="frontier")
    dominated = solved[solved.dominated.astype(bool)]
    if len(dominated):
        ax.scatter(dominated.resilience, dominated.cost, color="0.6", label="dominated", zorder=3)
    knee = solved[solved.knee.astype(bool)]
    if len(knee):
        ax.scatter(knee.resilience, knee.cost, s=160, facecolors="none", edgecolors="C3",
                   linewidths=2, label="knee", zorder=4)
    unit = frame.attrs.get("unit", "")
    name = frame.attrs.get("resilience", "resilience")
    currency = frame.attrs.get("currency", "")
    ax.set_xlabel(f"{name} ({unit})")
    ax.set_ylabel(f"expected annual cost ({currency})")
    if frame.attrs.get("resilience") != "nk":
        ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.legend()
    return fig

