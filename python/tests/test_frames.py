"""DataFrames in and out: from_frames, to_frames and to_dict round-trip the model file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import stockade
from support import RARE_EARTHS


def _rare_earths() -> stockade.Model:
    return stockade.Model.from_json(RARE_EARTHS)


def test_to_dict_is_the_file() -> None:
    model = _rare_earths()
    with open(RARE_EARTHS, encoding="utf-8") as f:
        raw = json.load(f)
    # The canonical form keeps every field the file gives (defaults may be added).
    data = model.to_dict()
    for section in ("sites", "suppliers", "demand", "routes", "scenarios"):
        assert [e.get("id") for e in data[section]] == [e.get("id") for e in raw[section]]
    assert data["policies"] == raw.get("policies", {})
    assert stockade.Model.from_dict(data) == model
    assert stockade.Model.from_json_str(model.to_json()) == model


def test_frames_round_trip() -> None:
    model = _rare_earths()
    data = model.to_dict()
    frames = model.to_frames()
    assert set(frames) >= {"materials", "countries", "suppliers", "sites", "depots", "demand",
                           "routes", "scenarios"}
    assert set(frames) == {k for k, v in data.items() if isinstance(v, list)}
    assert list(frames["sites"]["id"]) == [s["id"] for s in data["sites"]]
    again = stockade.Model.from_frames(
        **frames,
        policies=data["policies"],
        name=data["name"],
        description=data.get("description", ""),
        currency=data["currency"],
        shortfall_penalty_by_priority=data.get("shortfall_penalty_by_priority"),
    )
    assert again.to_dict() == data


def test_to_dict_is_a_copy() -> None:
    model = _rare_earths()
    data = model.to_dict()
    data["sites"].clear()
    assert model.to_dict()["sites"]


def test_long_scenarios_equal_wide() -> None:
    model = _rare_earths()
    base = model.to_dict()
    wide = [{"id": "cn_down", "probability": 0.1, "availability": {"cn_sep": 0.0,
                                                                   "cn_mines": 0.5}}]
    long = pd.DataFrame([
        {"id": "cn_down", "probability": 0.1, "target": "cn_sep", "availability": 0.0},
        {"id": "cn_down", "probability": 0.1, "target": "cn_mines", "availability": 0.5},
    ])
    frames = model.to_frames()
    frames["scenarios"] = long
    from_long = stockade.Model.from_frames(
        **frames, policies=base["policies"], name=base["name"], currency=base["currency"],
        description=base.get("description", ""),
        shortfall_penalty_by_priority=base.get("shortfall_penalty_by_priority"),
    )
    assert from_long.to_dict() == model.replace(scenarios=wide).to_dict()


def test_materials_and_countries_inferred() -> None:
    sites = pd.DataFrame([{"id": "a", "country": "US", "output": "ox", "module_capacity": 10,
                           "max_modules": 1}])
    demand = pd.DataFrame([{"id": "d", "country": "CA", "material": "ox", "demand": 5}])
    routes = pd.DataFrame([{"from": "a", "to": "d"}])
    model = stockade.Model.from_frames(sites=sites, demand=demand, routes=routes)
    data = model.to_dict()
    assert [m["id"] for m in data["materials"]] == ["ox"]
    assert [c["code"] for c in data["countries"]] == ["US", "CA"]
    assert model.validate() == []
    # Integer-valued float columns (what pandas makes of ints next to NaN) are accepted.
    sites2 = sites.astype({"max_modules": float})
    assert stockade.Model.from_frames(sites=sites2, demand=demand, routes=routes) == model


def test_frames_must_be_frames() -> None:
    with pytest.raises(TypeError):
        stockade.Model.from_frames(sites=[{"id": "a"}])  # type: ignore[arg-type]


def test_result_frames_have_their_columns_when_empty() -> None:
    from support import TINY

    result = stockade.solve(TINY)
    assert list(result.shortfall.columns) == ["demand", "priority", "scenario", "shortfall_t"]
    assert result.shortfall.empty
    assert list(result.depots.columns) == ["id", "country", "open", "stock_t"]
    assert list(result.stock.columns) == ["depot", "country", "material", "stock_t"]
