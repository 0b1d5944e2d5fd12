"""Plan evaluation over scenarios (``stockade evaluate``): a fixed plan, many scenario LPs."""

from __future__ import annotations

import copy
import html
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import pandas as pd

from . import _native
from ._frames import frame
from ._model import Model, as_model
from ._result import Result

KPI_COLUMNS = [
    "key",
    "demand_t",
    "expected_shortfall_t",
    "expected_shortfall_share",
    "cvar95_shortfall_t",
    "probability_of_shortfall",
    "availability",
]
OUTCOME_COLUMNS = ["id", "probability", "cost", "shortfall_t"]
WORST_COLUMNS = ["id", "shortfall_t", "cost", "hazards", "disrupted"]


def default_evaluation_settings() -> Dict[str, Any]:
    """The evaluation settings' defaults, from the Rust ``EvaluationSettings::default()``:
    ``threads`` (None = one per core) and ``warm_start``."""
    settings: Dict[str, Any] = json.loads(_native.default_evaluation_settings())
    return settings


class Evaluation:
    """The KPIs of a fixed plan over a scenario set, as ``stockade evaluate --json``: expected
    cost, shortfall (expected, CVaR 95 %, probability), availability, concentration, the worst
    scenarios and every scenario's outcome."""

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        self._data = data

    @property
    def scenarios(self) -> int:
        """Scenarios evaluated."""
        return int(self._data["scenarios"])

    @property
    def expected_cost(self) -> float:
        """First stage plus expected second stage, currency/yr."""
        return float(self._data["expected_cost"])

    @property
    def first_stage_cost(self) -> float:
        """Annual cost of the plan's first stage, currency/yr."""
        return float(self._data["first_stage_cost"])

    @property
    def failed(self) -> List[str]:
        """Scenario LPs that did not solve to optimality."""
        return list(self._data["failed"])

    @property
    def total(self) -> Dict[str, Any]:
        """Shortfall KPIs over all demand."""
        return dict(self._data["total"])

    @property
    def concentration_hhi(self) -> Dict[str, float]:
        """Herfindahl-Hirschman index (0..10000) of the plan's capacity by country, per
        material."""
        return dict(self._data["concentration_hhi"])

    @property
    def runtime_s(self) -> float:
        """Wall-clock seconds."""
        return float(self._data["runtime_s"])

    @property
    def by_material(self) -> pd.DataFrame:
        """Shortfall KPIs by material."""
        return frame(list(self._data["by_material"]), KPI_COLUMNS)

    @property
    def by_priority(self) -> pd.DataFrame:
        """Shortfall KPIs by demand priority."""
        return frame(list(self._data["by_priority"]), KPI_COLUMNS)

    @property
    def by_country(self) -> pd.DataFrame:
        """Shortfall KPIs by country of the demand node."""
        return frame(list(self._data["by_country"]), KPI_COLUMNS)

    @property
    def worst(self) -> pd.DataFrame:
        """The worst scenarios by shortfall, then cost."""
        rows = []
        for w in self._data["worst"]:
            row = dict(w)
            row["disrupted"] = {str(k): float(v) for k, v in w.get("disrupted", [])}
            rows.append(row)
        return frame(rows, WORST_COLUMNS)

    @property
    def outcomes(self) -> pd.DataFrame:
        """Every scenario's outcome: probability, second-stage cost, shortfall (t/yr)."""
        rows = [
            {k: o[k] for k in OUTCOME_COLUMNS if k in o} for o in self._data["outcomes"]
        ]
        return frame(rows, OUTCOME_COLUMNS)

    def to_dict(self) -> Dict[str, Any]:
        """The evaluation as a dict, as ``stockade evaluate --json`` (a deep copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, *, indent: Optional[int] = None) -> str:
        """The evaluation as JSON."""
        return json.dumps(self._data, indent=indent)

    def __repr__(self) -> str:
        return (
            f"<stockade.Evaluation scenarios={self.scenarios} "
            f"expected_cost={self.expected_cost:,.6g} "
            f"expected_shortfall_t={self.total.get('expected_shortfall_t', 0.0):.6g}>"
        )

    def _repr_html_(self) -> str:
        total = self.total
        head = (
            f"<p><b>stockade evaluation</b> over {self.scenarios} scenarios: expected cost "
            f"{self.expected_cost:,.2f}/yr (first stage {self.first_stage_cost:,.2f}), "
            f"expected shortfall {float(total.get('expected_shortfall_t', 0.0)):,.1f} t/yr, "
            f"availability {float(total.get('availability', 1.0)):.4%}</p>"
        )
        failed = (
            f"<p>{len(self.failed)} scenario LPs failed: {html.escape(', '.join(self.failed))}</p>"
            if self.failed
            else ""
        )
        return (
            "<div>" + head + failed + self.by_material.to_html(index=False)
            + "<p>Worst scenarios</p>" + self.worst.head(10).to_html(index=False) + "</div>"
        )


def evaluate(
    model: Union[Model, Mapping[str, Any]],
    plan: Union[Result, Mapping[str, Any]],
    *,
    scenarios: Optional[int] = None,
    seed: int = 1,
    threads: Optional[int] = None,
    cold: bool = False,
    progress: Union[bool, Callable[[int, int], None]] = False,
) -> Evaluation:
    """Evaluates a fixed ``plan`` (a :class:`Result` of :func:`stockade.solve`, or a plan dict
    as ``stockade solve --plan-out`` writes it) on the model's explicit scenarios, or on
    ``scenarios`` sampled from the model's hazards with ``seed``; as ``stockade evaluate``.

    ``threads`` (None: one per core) and ``cold`` (build and solve every scenario LP from
    scratch, the reference path) default from the Rust ``EvaluationSettings::default()``.
    ``progress=True`` shows a tqdm bar; a callable gets ``(done, total)``.
    """
    model = as_model(model)
    if isinstance(plan, Result):
        plan_data = plan.plan
        if plan_data is None:
            raise ValueError(f"the result ({plan.status}) carries no plan to evaluate")
    else:
        plan_data = dict(plan)
    settings = default_evaluation_settings()
    if threads is not None:
        settings["threads"] = threads
    if cold:
        settings["warm_start"] = False

    callback: Optional[Callable[[int, int], None]] = None
    bar: Any = None
    if callable(progress):
        callback = progress
    elif progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(unit="scenario", desc="evaluate", leave=False)

            def update(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            callback = update
        except ImportError:
            callback = None
    try:
        text = _native.evaluate(
            json.dumps(model.to_dict()), json.dumps(plan_data), json.dumps(settings),
            scenarios, seed, callback,
        )
    finally:
        if bar is not None:
            bar.close()
    return Evaluation(json.loads(text))
