"""The answer to a solve: the core's JSON result, with DataFrame views, a report and plots."""

from __future__ import annotations

import copy
import html
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import pandas as pd

from . import _native
from ._frames import frame

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ._model import Model

SITE_COLUMNS = [
    "id",
    "name",
    "country",
    "output",
    "open",
    "modules",
    "new_modules",
    "capacity",
    "base_output",
]
DEPOT_COLUMNS = ["id", "country", "open", "stock_t"]
STOCK_COLUMNS = ["depot", "country", "material", "stock_t"]
FLOW_COLUMNS = ["route", "from", "to", "material", "base", "expected"]
SHORTFALL_COLUMNS = ["demand", "priority", "scenario", "shortfall_t"]
POLICY_COLUMNS = [
    "family",
    "subject",
    "material",
    "sense",
    "limit",
    "value",
    "slack",
    "binding",
]
SCENARIO_COLUMNS = [
    "id",
    "probability",
    "operating_cost",
    "shortfall_t",
    "shortfall_share",
    "shortfall_penalty",
    "disrupted",
]


class Result:
    """The answer to :func:`stockade.solve`: the same data as ``stockade solve --json``.

    ``status`` is one of ``optimal``, ``time_limit``, ``infeasible``, ``unbounded``,
    ``interrupted``, ``unknown``: an infeasible model is a status here, not an exception (see
    ``diagnosis``). Tables are pandas DataFrames: :attr:`sites`, :attr:`depots`, :attr:`stock`,
    :attr:`flows`, :attr:`shortfall`, :attr:`policy`, :attr:`scenarios`.
    """

    __slots__ = ("_data", "_model")

    def __init__(self, data: Dict[str, Any], model: Optional["Model"] = None) -> None:
        self._data = data
        self._model = model

    @classmethod
    def from_json_str(cls, text: str, model: Optional["Model"] = None) -> "Result":
        """A result from the JSON that ``stockade solve --json`` prints."""
        return cls(json.loads(text), model)

    # ---- scalars --------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """How the solve ended (``optimal``, ``time_limit``, ``infeasible``, ...)."""
        return str(self._data["status"])

    @property
    def has_solution(self) -> bool:
        """Whether a plan is available (optimal or an incumbent)."""
        return bool(self._data["has_solution"])

    @property
    def objective(self) -> Optional[float]:
        """Expected annual cost of the plan (currency/yr); None without a plan."""
        return self._data.get("objective")

    @property
    def best_bound(self) -> Optional[float]:
        """Best proven lower bound on the objective."""
        return self._data.get("best_bound")

    @property
    def gap(self) -> Optional[float]:
        """Relative MIP gap between objective and bound."""
        return self._data.get("mip_gap")

    @property
    def method(self) -> str:
        """The method that ran: ``extensive`` (one MIP) or ``benders`` (decomposition)."""
        return str(self._data.get("method", "extensive"))

    @property
    def decomposition(self) -> Optional[Dict[str, Any]]:
        """What Benders did (iterations, cuts, seconds in the master and the scenario LPs), or
        None when the extensive form ran."""
        return self._data.get("decomposition")

    @property
    def runtime_s(self) -> float:
        """Seconds in HiGHS."""
        return float(self._data["runtime_s"])

    @property
    def build_s(self) -> float:
        """Seconds spent building the MIP."""
        return float(self._data["build_s"])

    @property
    def currency(self) -> str:
        """Currency of every money figure."""
        return str(self._data.get("currency", ""))

    @property
    def costs(self) -> Optional[Dict[str, float]]:
        """Annual cost by kind: investment, stockpile, expected_operating,
        expected_shortfall_penalty."""
        costs = self._data.get("costs")
        return dict(costs) if costs is not None else None

    @property
    def model_size(self) -> Dict[str, int]:
        """rows, columns, nonzeros, integer_columns of the MIP."""
        return dict(self._data["model_size"])

    @property
    def rows_by_family(self) -> Dict[str, int]:
        """Constraint rows per family."""
        return dict(self._data.get("rows_by_family", {}))

    @property
    def assignments(self) -> Dict[str, str]:
        """Single-source assignments, demand id -> site id."""
        return dict(self._data.get("assignments", {}))

    @property
    def diagnosis(self) -> Optional[Dict[str, Any]]:
        """Why an infeasible model is infeasible (the violated policies, least achievable)."""
        return copy.deepcopy(self._data.get("diagnosis"))

    @property
    def settings(self) -> Dict[str, Any]:
        """The settings the solve ran with."""
        return dict(self._data["settings"])

    @property
    def plan(self) -> Optional[Dict[str, Any]]:
        """The first-stage decisions (as ``stockade solve --plan-out`` writes them), for
        :func:`stockade.evaluate`; None without a plan."""
        return copy.deepcopy(self._data.get("plan"))

    @property
    def model(self) -> Optional["Model"]:
        """The model solved, when known."""
        return self._model

    # ---- tables ---------------------------------------------------------------------------

    @property
    def sites(self) -> pd.DataFrame:
        """Every site: open, modules, new_modules, capacity (t/yr), base_output (t/yr)."""
        return frame(list(self._data["sites"]), SITE_COLUMNS)

    @property
    def depots(self) -> pd.DataFrame:
        """Every depot: open and total stock (t)."""
        rows = [
            {
                "id": d["id"],
                "country": d["country"],
                "open": d["open"],
                "stock_t": float(sum(d.get("stock", {}).values())),
            }
            for d in self._data["depots"]
        ]
        return frame(rows, DEPOT_COLUMNS)

    @property
    def stock(self) -> pd.DataFrame:
        """Planned stock by depot and material (t), one row each."""
        rows = [
            {"depot": d["id"], "country": d["country"], "material": m, "stock_t": t}
            for d in self._data["depots"]
            for m, t in sorted(d.get("stock", {}).items())
        ]
        return frame(rows, STOCK_COLUMNS)

    @property
    def flows(self) -> pd.DataFrame:
        """Route flows (t/yr): base scenario and probability-weighted expectation (non-zero)."""
        return frame(list(self._data["flows"]), FLOW_COLUMNS)

    @property
    def shortfall(self) -> pd.DataFrame:
        """Unmet demand (t/yr) by demand node and scenario (non-zero only)."""
        return frame(list(self._data["shortfall"]), SHORTFALL_COLUMNS)

    @property
    def policy(self) -> pd.DataFrame:
        """Each policy constraint: limit, the plan's value, slack (>= 0 when it holds), binding."""
        return frame(list(self._data["policies"]), POLICY_COLUMNS)

    @property
    def scenarios(self) -> pd.DataFrame:
        """Each scenario: probability, operating cost, shortfall (t/yr and share), penalty, and
        ``disrupted`` (dict id -> availability left)."""
        rows = []
        for s in self._data["scenarios"]:
            row = dict(s)
            row["disrupted"] = {str(k): float(v) for k, v in s.get("disrupted", [])}
            rows.append(row)
        return frame(rows, SCENARIO_COLUMNS)

    # ---- export ---------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The result as a dict, exactly as ``stockade solve --json`` (a deep copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, *, indent: Optional[int] = None) -> str:
        """The result as ``stockade solve --json`` prints it."""
        return json.dumps(self._data, indent=indent)

    def report(self) -> str:
        """The human report, as ``stockade solve`` prints it."""
        return _native.report(json.dumps(self._data))

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        obj = "-" if self.objective is None else f"{self.objective:,.6g}"
        gap = "-" if self.gap is None else f"{self.gap:.3%}"
        return (
            f"<stockade.Result status={self.status} objective={obj} gap={gap} "
            f"runtime_s={self.runtime_s:.3f}>"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        obj = "-" if self.objective is None else f"{self.objective:,.2f} {esc(self.currency)}/yr"
        gap = "-" if self.gap is None else f"{self.gap:.4%}"
        head = (
            f"<p><b>stockade</b> status <b>{esc(self.status)}</b>, objective {obj}, gap {gap}, "
            f"{self.runtime_s:.2f} s in HiGHS</p>"
        )
        parts = [head]
        sites = self.sites
        open_sites = sites[sites["open"] == True]  # noqa: E712 (object column)
        if len(open_sites):
            parts.append("<p>Open sites</p>")
            parts.append(
                open_sites[["id", "country", "output", "modules", "capacity", "base_output"]]
                .to_html(index=False)
            )
        policy = self.policy
        if len(policy):
            parts.append("<p>Policies</p>")
            parts.append(policy.to_html(index=False))
        scen = self.scenarios
        if len(scen):
            parts.append("<p>Scenarios</p>")
            parts.append(
                scen[["id", "probability", "shortfall_t", "shortfall_share"]]
                .head(20)
                .to_html(index=False)
            )
        diag = self._data.get("diagnosis")
        if diag:
            items = "".join(f"<li>{esc(v['message'])}</li>" for v in diag.get("violations", []))
            parts.append(f"<p>Diagnosis</p><ul>{items}</ul>")
        return "<div>" + "".join(parts) + "</div>"

    # ---- pictures -------------------------------------------------------------------------

    def plot_map(self, *, scenario: Optional[str] = None, ax: Optional["Axes"] = None) -> "Figure":
        """Map of the plan: sites at their lat/lon sized by capacity and coloured by country
        (closed candidates hollow), suppliers, depots and demand nodes, flows as lines (width by
        expected flow), disrupted nodes ringed in red (those of ``scenario``, or of any scenario).
        Needs the model (``stockade.solve`` keeps it). Returns the matplotlib Figure."""
        from ._plot import plot_map

        return plot_map(self, scenario=scenario, ax=ax)

    def plot_shortfall(self, *, ax: Optional["Axes"] = None) -> "Figure":
        """Distribution of shortfall over scenarios: probability-weighted exceedance curve of
        the unmet share of demand, and the shortfall of each scenario. Returns the Figure."""
        from ._plot import plot_shortfall

        return plot_shortfall(self, ax=ax)

    def disrupted_nodes(self, scenario: Optional[str] = None) -> Dict[str, float]:
        """Ids disrupted in ``scenario`` (or in any scenario: the least availability left)."""
        out: Dict[str, float] = {}
        for s in self._data["scenarios"]:
            if scenario is not None and s["id"] != scenario:
                continue
            for target, left in s.get("disrupted", []):
                out[str(target)] = min(float(left), out.get(str(target), 1.0))
        return out

    def scenario_ids(self) -> List[str]:
        """Ids of the scenarios, in order."""
        return [str(s["id"]) for s in self._data["scenarios"]]
