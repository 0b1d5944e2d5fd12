"""A two-site model small enough to solve by hand, and one-change variants of it.

Every expected number is worked out in the comments from the data, not read off the solver.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import stockade
from support import SHARED_OPTIMUM, TINY, TINY_OPTIMUM

def test_tiny_optimum_by_hand() -> None:
    result = stockade.solve(stockade.Model.from_dict(TINY))
    assert result.status == "optimal"
    assert result.has_solution
    assert result.objective == pytest.approx(TINY_OPTIMUM, rel=1e-9)
    sites = result.sites.set_index("id")
    assert bool(sites.loc["kalg", "open"]) and not bool(sites.loc["texas", "open"])
    assert sites.loc["kalg", "modules"] == 2
    assert sites.loc["kalg", "capacity"] == pytest.approx(2000)
    # Demand met: everything that reaches dod adds up to 1500 t/yr.
    flows = result.flows
    assert flows[flows["to"] == "dod"]["base"].sum() == pytest.approx(1500)
    assert result.shortfall.empty
    costs = result.costs
    assert costs is not None
    assert costs["investment"] == pytest.approx(25e6)
    assert costs["expected_operating"] == pytest.approx(1500 * 400)


def test_country_share_forces_two_sites() -> None:
    model = stockade.Model.from_dict({**TINY, "policies": {"country_share": {"cap": 0.6}}})
    result = stockade.solve(model)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(SHARED_OPTIMUM, rel=1e-9)
    policy = result.policy
    shares = policy[policy["family"] == "country_share"].set_index("subject")
    assert shares.loc["US", "value"] == pytest.approx(0.5)
    assert shares.loc["AU", "value"] == pytest.approx(0.5)
    assert (policy["slack"] >= -1e-9).all()


def test_infeasible_is_a_status_with_a_diagnosis() -> None:
    # Hard demand (no shortfall penalty), at most one open site, yet no country may hold
    # more than 60 % of the capacity: one open site holds 100 %, so these cannot all hold.
    hard = [{k: v for k, v in d.items() if k != "shortfall_penalty"} for d in TINY["demand"]]
    model = stockade.Model.from_dict({
        **TINY,
        "demand": hard,
        "policies": {"country_share": {"cap": 0.6}, "open_sites": {"max": 1}},
    })
    result = stockade.solve(model)
    assert result.status == "infeasible"
    assert not result.has_solution
    assert result.objective is None
    diagnosis = result.diagnosis
    assert diagnosis is not None and diagnosis["violations"]
    assert "infeasible" in result._repr_html_()


def test_scenario_outage_of_the_cheap_site() -> None:
    # kalg is lost with probability 0.1. Keeping the no-policy plan (kalg, 2 modules) would
    # leave 1500 t unmet in that scenario: 0.1 x 1500 x 1e6 = 150e6 expected, far above the
    # cost of a second site. Cheapest robust plans:
    #   texas 2 modules alone: 30,075,000 (no exposure to the outage)
    #   both sites, texas 2 + kalg 1: 40e6 + ... dearer than texas alone.
    # so the plan moves to texas: 20e6 + 10e6 + 1500 x 50 = 30,075,000.
    data = {**TINY, "scenarios": [{"id": "kalg_down", "probability": 0.1,
                                   "availability": {"kalg": 0.0}}]}
    result = stockade.solve(stockade.Model.from_dict(data))
    assert result.status == "optimal"
    assert result.objective == pytest.approx(30_075_000.0, rel=1e-9)
    scen = result.scenarios.set_index("id")
    assert scen.loc["kalg_down", "probability"] == pytest.approx(0.1)
    assert scen.loc["base", "probability"] == pytest.approx(0.9)
    assert scen.loc["kalg_down", "disrupted"] == {"kalg": 0.0}
    assert scen["shortfall_t"].sum() == pytest.approx(0.0)


def test_time_limit_is_passed_and_reported() -> None:
    result = stockade.solve(stockade.Model.from_dict(TINY), time_limit=30, gap=1e-4, threads=1)
    assert result.settings["time_limit_s"] == 30
    assert result.settings["mip_gap"] == 1e-4
    assert result.settings["threads"] == 1
    assert result.objective == pytest.approx(TINY_OPTIMUM, rel=1e-4)


def test_defaults_come_from_rust() -> None:
    # The defaults are read from Settings::default(); an un-overridden solve runs with them.
    defaults = stockade.default_settings()
    assert set(defaults) == {"time_limit_s", "mip_gap", "threads", "seed", "presolve", "log",
                            "method"}
    result = stockade.solve(stockade.Model.from_dict(TINY))
    assert result.settings == defaults


def test_tiny_from_frames_equals_from_dict() -> None:
    sites = pd.DataFrame(TINY["sites"])
    demand = pd.DataFrame(TINY["demand"])
    routes = pd.DataFrame(TINY["routes"])
    countries = pd.DataFrame(TINY["countries"])
    model = stockade.Model.from_frames(
        sites=sites, demand=demand, routes=routes, countries=countries, name="tiny"
    )
    assert model == stockade.Model.from_dict(TINY)
    assert stockade.solve(model).objective == pytest.approx(TINY_OPTIMUM, rel=1e-9)


def test_result_exports() -> None:
    result = stockade.solve(stockade.Model.from_dict(TINY))
    data = result.to_dict()
    assert data["status"] == "optimal"
    assert math.isclose(data["objective"], TINY_OPTIMUM, rel_tol=1e-9)
    assert stockade.Result.from_json_str(result.to_json()).to_dict() == data
    html = result._repr_html_()
    assert "optimal" in html and "kalg" in html
    assert "kalg" in result.report()
    assert "status=optimal" in repr(result)
