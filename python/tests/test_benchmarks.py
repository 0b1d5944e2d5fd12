"""Published optima (OR-Library, Holmberg) and agreement with the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import stockade
from support import RARE_EARTHS

# ../shared/benchmarks/DEV-OPTIMA.md (OR-Library capopt; Guastaroba & Speranza for Holmberg).
CAP41 = 1040444.375
CAP51 = 1025208.225
HOLMBERG_P1 = 8848.0


def read_orlib_cap(path: Path) -> dict:
    """Parses an OR-Library `cap` file on its own (not through the importer): m warehouses with
    capacity and fixed cost, then per customer its demand and the cost of serving ALL of its
    demand from each warehouse."""
    tokens = path.read_text().split()
    pos = 0

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    m, n = int(take()), int(take())
    warehouses = [(float(take()), float(take())) for _ in range(m)]
    customers = []
    for _ in range(n):
        d = float(take())
        customers.append((d, [float(take()) for _ in range(m)]))
    assert pos == len(tokens)
    return {"warehouses": warehouses, "customers": customers}


def cap_frames(path: Path) -> stockade.Model:
    """The capacitated facility-location problem written as DataFrames by hand: a warehouse
    is a site with one module of its capacity and its fixed cost as opening cost; a customer a
    hard demand; serving costs c_ij in all, so c_ij / d_j per unit."""
    inst = read_orlib_cap(path)
    sites = pd.DataFrame([
        {"id": f"w{i}", "country": "XX", "output": "goods", "module_capacity": cap,
         "max_modules": 1, "open_cost": fixed}
        for i, (cap, fixed) in enumerate(inst["warehouses"])
    ])
    demand = pd.DataFrame([
        {"id": f"c{j}", "country": "XX", "material": "goods", "demand": d}
        for j, (d, _) in enumerate(inst["customers"])
    ])
    routes = pd.DataFrame([
        {"from": f"w{i}", "to": f"c{j}", "unit_cost": cost / d}
        for j, (d, costs) in enumerate(inst["customers"])
        for i, cost in enumerate(costs)
    ])
    return stockade.Model.from_frames(sites=sites, demand=demand, routes=routes,
                                      name=path.stem)


def test_cap41_from_frames_matches_published_optimum(benchmarks: Path) -> None:
    model = cap_frames(benchmarks / "orlib-cap" / "cap41.txt")
    result = stockade.solve(model)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(CAP41, rel=1e-6)
    # Invariants: every customer fully served, no warehouse over capacity.
    inst = read_orlib_cap(benchmarks / "orlib-cap" / "cap41.txt")
    served = result.flows.groupby("to")["base"].sum()
    for j, (d, _) in enumerate(inst["customers"]):
        assert served.get(f"c{j}", 0.0) == pytest.approx(d, rel=1e-6, abs=1e-6)
    sent = result.flows.groupby("from")["base"].sum()
    for i, (cap, _) in enumerate(inst["warehouses"]):
        assert sent.get(f"w{i}", 0.0) <= cap * (1 + 1e-9)


@pytest.mark.parametrize("name, optimum", [("cap41", CAP41), ("cap51", CAP51)])
def test_orlib_cap_importer(benchmarks: Path, name: str, optimum: float) -> None:
    model = stockade.import_orlib_cap(benchmarks / "orlib-cap" / f"{name}.txt")
    assert model.name == name
    result = stockade.solve(model)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum, rel=1e-6)


def test_holmberg_p1(benchmarks: Path) -> None:
    model = stockade.import_holmberg(benchmarks / "holmberg-sscflp" / "p1")
    result = stockade.solve(model)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(HOLMBERG_P1, rel=1e-6)
    # Single source: every customer assigned to exactly one open site.
    assignments = result.assignments
    assert len(assignments) == len(model.to_dict()["demand"])
    open_ids = set(result.sites[result.sites["open"] == True]["id"])  # noqa: E712
    assert set(assignments.values()) <= open_ids


def test_same_answer_as_the_cli(cli: str) -> None:
    out = subprocess.run([cli, "solve", str(RARE_EARTHS), "--json"], capture_output=True,
                         text=True, check=True)
    theirs = json.loads(out.stdout)
    ours = stockade.solve(stockade.Model.from_json(RARE_EARTHS)).to_dict()
    assert ours["status"] == theirs["status"] == "optimal"
    assert ours["objective"] == pytest.approx(theirs["objective"], rel=1e-9)
    assert ours["settings"] == theirs["settings"]
    # Alternative optima aside, the same solver on the same input is deterministic.
    for key in ("sites", "policies", "scenarios", "costs"):
        assert ours[key] == theirs[key], key


def test_same_import_as_the_cli(cli: str, benchmarks: Path) -> None:
    path = benchmarks / "orlib-cap" / "cap41.txt"
    out = subprocess.run([cli, "import", "orlib-cap", str(path)], capture_output=True,
                         text=True, check=True)
    assert stockade.import_orlib_cap(path).to_dict() == json.loads(out.stdout)


# ../shared/benchmarks/stoch-cflp/README.md: HiGHS on the extensive form, five tools agreeing.
STOCH_CFLP_S200 = 946449.4611875


def test_benders_from_python_reaches_the_stoch_cflp_reference(benchmarks: Path) -> None:
    model = stockade.import_orlib_cap(
        benchmarks / "orlib-cap" / "cap71.txt",
        failures=benchmarks / "stoch-cflp" / "scenarios-cap71-S200.txt",
    )
    seen = []
    result = stockade.solve(model, method="benders", progress=seen.append)
    assert result.status == "optimal"
    assert result.method == "benders"
    assert result.objective == pytest.approx(STOCH_CFLP_S200, rel=1e-6)
    assert result.decomposition is not None and result.decomposition["cuts"] > 0
    # Progress on every iteration, with the decomposition's own fields.
    assert seen and all("iteration" in p and "cuts" in p for p in seen)
    small = stockade.import_orlib_cap(benchmarks / "orlib-cap" / "cap41.txt")
    assert stockade.solve(small).method == "extensive"  # auto: one scenario
