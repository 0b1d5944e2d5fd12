"""The model: one planning problem, held in the core's canonical JSON form."""

from __future__ import annotations

import copy
import html
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import pandas as pd

from . import _native
from ._errors import InputError, Problem, _problems_from_json
from ._frames import frame, records, scenario_records

PathLike = Union[str, "os.PathLike[str]"]

#: The list sections of a model file, in file order; each is one DataFrame in ``to_frames``.
SECTIONS = (
    "materials",
    "countries",
    "suppliers",
    "sites",
    "depots",
    "demand",
    "routes",
    "scenarios",
)

_KEY_COLUMNS = {
    "materials": ["id"],
    "countries": ["code", "trusted"],
    "suppliers": ["id", "country", "material", "capacity"],
    "sites": ["id", "country", "output", "module_capacity", "max_modules"],
    "depots": ["id", "country", "capacity"],
    "demand": ["id", "country", "material", "demand"],
    "routes": ["from", "to", "unit_cost"],
    "scenarios": ["id", "probability"],
}

_NODE_SECTIONS = ("suppliers", "sites", "depots", "demand")


class Model:
    """A planning model: the network, the scenarios it must survive and the policies it must obey.

    Build one with :meth:`from_json`, :meth:`from_dict`, :meth:`from_frames` or an importer
    (:func:`stockade.import_orlib_cap`, ...). The model is parsed by the Rust core when it is
    built, so a misspelt key raises :class:`stockade.InputError` at once, naming its JSON path;
    :meth:`validate` lists every remaining problem (unknown references, bad values). A model is
    a value: :meth:`to_dict` returns a copy and :meth:`replace` a new model.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        try:
            text = json.dumps(data, allow_nan=False)
        except ValueError as e:  # NaN or infinity: not JSON, so not a model file either
            raise InputError(str(e), [Problem(path="$", message=str(e))]) from None
        self._data: Dict[str, Any] = json.loads(_native.parse_model(text))

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Model":
        """A model from a dict with the layout of the model file (``stockade.schema()``)."""
        return cls(data)

    @classmethod
    def from_json(cls, path: PathLike) -> "Model":
        """A model from a JSON model file (``models/rare-earths.json``)."""
        with open(path, encoding="utf-8") as f:
            return cls.from_json_str(f.read())

    @classmethod
    def from_json_str(cls, text: str) -> "Model":
        """A model from JSON text."""
        model = cls.__new__(cls)
        model._data = json.loads(_native.parse_model(text))
        return model

    @classmethod
    def from_frames(
        cls,
        *,
        sites: Optional[pd.DataFrame] = None,
        suppliers: Optional[pd.DataFrame] = None,
        demand: Optional[pd.DataFrame] = None,
        routes: Optional[pd.DataFrame] = None,
        countries: Optional[pd.DataFrame] = None,
        scenarios: Optional[pd.DataFrame] = None,
        depots: Optional[pd.DataFrame] = None,
        materials: Optional[pd.DataFrame] = None,
        policies: Optional[Mapping[str, Any]] = None,
        name: str = "",
        description: str = "",
        currency: Optional[str] = None,
        shortfall_penalty_by_priority: Optional[Mapping[str, float]] = None,
        **sections: Any,
    ) -> "Model":
        """A model from pandas DataFrames, one row per entity, one column per field of the model
        file. An empty or missing (NaN/None) cell leaves the field at its default.

        Columns (required in bold in ``stockade.schema()``; units as in the model file):

        - ``sites``: id, country, output, module_capacity (t/yr), max_modules; optional name,
          region, lat, lon, input, yield, existing_modules, open_cost, module_cost (currency/yr),
          unit_cost (currency/t), hardening (list of dicts).
        - ``suppliers``: id, country, material, capacity (t/yr); optional name, region, lat,
          lon, unit_cost.
        - ``demand``: id, country, material, demand (t/yr); optional name, region, lat, lon,
          priority (1 = defense), shortfall_penalty (currency/t), single_source, party.
        - ``routes``: from, to; optional id, unit_cost (currency/t), capacity (t/yr),
          distance_km, chokepoints (list).
        - ``countries``: code; optional name, trusted, party. When omitted, every country the
          nodes name is listed as not trusted.
        - ``scenarios``: wide (one row per scenario: id, probability, description,
          availability as a dict id -> share left, closed_chokepoints, embargoes as lists) or
          long (one row per disrupted node or route: id, probability, target, availability).
        - ``depots``: id, country, capacity (t); optional name, lat, lon, open_cost,
          holding_cost, existing_stock (dict material -> t), party.
        - ``materials``: id; optional name, unit_price, critical. When omitted, every material
          the nodes name is listed.

        ``policies`` is a dict as in the model file (``{"country_share": {"cap": 0.5}}``).
        Any other list section of the model file (``hazards``, ...) may be passed by its name,
        as a DataFrame or a list of dicts; :meth:`to_frames` returns every list section.
        """
        data: Dict[str, Any] = {
            "name": name,
            "suppliers": records(suppliers, "suppliers"),
            "sites": records(sites, "sites"),
            "depots": records(depots, "depots"),
            "demand": records(demand, "demand"),
            "routes": records(routes, "routes"),
            "scenarios": scenario_records(scenarios),
        }
        if description:
            data["description"] = description
        if currency is not None:
            data["currency"] = currency
        if shortfall_penalty_by_priority:
            data["shortfall_penalty_by_priority"] = {
                str(k): float(v) for k, v in shortfall_penalty_by_priority.items()
            }
        if policies:
            data["policies"] = dict(policies)
        for key, value in sections.items():
            if isinstance(value, pd.DataFrame):
                data[key] = records(value, key)
            elif value is not None:
                data[key] = value
        if materials is not None:
            data["materials"] = records(materials, "materials")
        else:
            data["materials"] = [{"id": m} for m in _named_materials(data)]
        if countries is not None:
            data["countries"] = records(countries, "countries")
        else:
            data["countries"] = [{"code": c} for c in _named_countries(data)]
        return cls(data)

    # ---- views ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model's name."""
        return str(self._data.get("name", ""))

    def to_dict(self) -> Dict[str, Any]:
        """The model as a dict in the model file's layout (a deep copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, path: Optional[PathLike] = None, *, indent: Optional[int] = 2) -> str:
        """The model file's JSON text; also written to ``path`` when given."""
        text = json.dumps(self._data, indent=indent)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def to_frames(self) -> Dict[str, pd.DataFrame]:
        """Each list section (materials, countries, suppliers, sites, depots, demand, routes,
        scenarios, and any other such as hazards) as a DataFrame in the layout
        :meth:`from_frames` reads (wide scenarios)."""
        frames = {
            section: frame(list(self._data.get(section, [])), list(_KEY_COLUMNS[section]))
            for section in SECTIONS
        }
        for key, value in self._data.items():
            if key not in frames and isinstance(value, list):
                frames[key] = frame(list(value), [])
        return frames

    def replace(self, **fields: Any) -> "Model":
        """A new model with top-level fields replaced, e.g.
        ``model.replace(scenarios=[...], policies={...})``."""
        data = self.to_dict()
        data.update(fields)
        return Model(data)

    def validate(self) -> List[Problem]:
        """Every problem of the model, each with its JSON path and entity id; ``[]`` when valid."""
        return _problems_from_json(_native.validate(json.dumps(self._data)))

    def node_coordinates(self) -> Dict[str, Tuple[float, float]]:
        """(lat, lon) of every node that has both."""
        coords = {}
        for section in _NODE_SECTIONS:
            for node in self._data.get(section, []):
                if node.get("lat") is not None and node.get("lon") is not None:
                    coords[node["id"]] = (float(node["lat"]), float(node["lon"]))
        return coords

    def node_countries(self) -> Dict[str, str]:
        """Country code of every node."""
        return {
            node["id"]: node.get("country", "")
            for section in _NODE_SECTIONS
            for node in self._data.get(section, [])
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{len(self._data.get(s, []))} {s}"
            for s in ("sites", "suppliers", "depots", "demand", "routes", "scenarios")
        )
        return f"<stockade.Model {self.name!r}: {counts}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{s}</td><td>{len(self._data.get(s, []))}</td></tr>" for s in SECTIONS
        )
        pol = html.escape(json.dumps(self._data.get("policies", {})))
        return (
            f"<div><b>stockade.Model</b> {html.escape(self.name)}"
            f"<table>{rows}</table><div>policies: <code>{pol}</code></div></div>"
        )


def _named_materials(data: Mapping[str, Any]) -> List[str]:
    seen: Dict[str, None] = {}
    for s in data["suppliers"]:
        if "material" in s:
            seen[str(s["material"])] = None
    for s in data["sites"]:
        for key in ("input", "output"):
            if key in s:
                seen[str(s[key])] = None
    for d in data["demand"]:
        if "material" in d:
            seen[str(d["material"])] = None
    for d in data["depots"]:
        for m in d.get("existing_stock", {}):
            seen[str(m)] = None
    return list(seen)


def _named_countries(data: Mapping[str, Any]) -> List[str]:
    seen: Dict[str, None] = {}
    for section in _NODE_SECTIONS:
        for node in data[section]:
            if "country" in node:
                seen[str(node["country"])] = None
    return list(seen)


def as_model(model: Union[Model, Mapping[str, Any]]) -> Model:
    """A :class:`Model` from a model or a dict."""
    if isinstance(model, Model):
        return model
    if isinstance(model, Mapping):
        return Model.from_dict(model)
    raise TypeError(f"expected a stockade.Model or a dict, got {type(model).__name__}")
