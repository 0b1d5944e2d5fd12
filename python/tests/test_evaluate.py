"""stockade.evaluate: a fixed plan on each scenario's LP, checked against the solve's extensive
form and against a hand computation."""

from __future__ import annotations

import pytest

import stockade
from support import RARE_EARTHS, TINY


@pytest.fixture(scope="module")
def solved() -> stockade.Result:
    return stockade.solve(stockade.Model.from_json(RARE_EARTHS))


def test_evaluation_of_the_optimal_plan_matches_the_solve(solved: stockade.Result) -> None:
    # The MIP priced every scenario's recourse inside one extensive form; evaluate re-solves each
    # scenario's LP with the plan fixed. Both must price the plan the same.
    model = solved.model
    assert model is not None
    evaluation = stockade.evaluate(model, solved)
    assert evaluation.scenarios == len(solved.scenarios)
    assert evaluation.failed == []
    assert evaluation.expected_cost == pytest.approx(solved.objective, rel=1e-6)
    ours = evaluation.outcomes.set_index("id")
    theirs = solved.scenarios.set_index("id")
    for sid, row in theirs.iterrows():
        cost = row["operating_cost"] + row["shortfall_penalty"]
        assert ours.loc[sid, "cost"] == pytest.approx(cost, rel=1e-6)
        assert ours.loc[sid, "shortfall_t"] == pytest.approx(row["shortfall_t"], abs=1e-6)
    # Shortfall KPIs from the scenario outcomes: E[shortfall] = sum p_s x shortfall_s, and the
    # 5 % tail is exactly the one scenario of probability 0.05 with the largest shortfall.
    expected = float((theirs["probability"] * theirs["shortfall_t"]).sum())
    assert evaluation.total["expected_shortfall_t"] == pytest.approx(expected, rel=1e-9)
    worst = theirs.sort_values("shortfall_t").iloc[-1]
    if worst["probability"] == pytest.approx(0.05):
        assert evaluation.total["cvar95_shortfall_t"] == pytest.approx(worst["shortfall_t"])
    assert "expected cost" in evaluation._repr_html_()


def test_cold_path_equals_warm(solved: stockade.Result) -> None:
    model = solved.model
    assert model is not None
    warm = stockade.evaluate(model, solved)
    cold = stockade.evaluate(model, solved, cold=True, threads=1)
    assert cold.expected_cost == pytest.approx(warm.expected_cost, rel=1e-9)


def test_tiny_plan_under_an_outage_by_hand() -> None:
    # The plan that is optimal without scenarios (kalg with 2 modules, see support.TINY) judged
    # under a 10 % chance that kalg is lost:
    #   investment 15e6 + 2 x 5e6                         = 25,000,000
    #   base (p 0.9): 1500 t x 400 transport              =    600,000 -> x 0.9 =     540,000
    #   outage (p 0.1): all 1500 t unmet x 1e6 penalty    = 1.5e9     -> x 0.1 = 150,000,000
    #   expected                                                                175,540,000
    plan = stockade.solve(TINY)
    stressed = {**TINY, "scenarios": [{"id": "kalg_down", "probability": 0.1,
                                       "availability": {"kalg": 0.0}}]}
    calls = []
    evaluation = stockade.evaluate(stressed, plan, progress=lambda d, t: calls.append((d, t)))
    assert evaluation.first_stage_cost == pytest.approx(25_000_000.0)
    assert evaluation.expected_cost == pytest.approx(175_540_000.0, rel=1e-9)
    outcomes = evaluation.outcomes.set_index("id")
    assert outcomes.loc["kalg_down", "shortfall_t"] == pytest.approx(1500.0)
    assert evaluation.total["probability_of_shortfall"] == pytest.approx(0.1)


def test_sampling_needs_hazards() -> None:
    plan = stockade.solve(TINY)
    with pytest.raises(stockade.InputError) as info:
        stockade.evaluate(TINY, plan, scenarios=100)
    assert info.value.paths == ["hazards"]


def test_a_plan_is_needed() -> None:
    hard = [{k: v for k, v in d.items() if k != "shortfall_penalty"} for d in TINY["demand"]]
    infeasible = stockade.solve({**TINY, "demand": hard,
                                 "policies": {"country_share": {"cap": 0.6},
                                              "open_sites": {"max": 1}}})
    with pytest.raises(ValueError):
        stockade.evaluate(TINY, infeasible)
    with pytest.raises(stockade.InputError):
        stockade.evaluate(TINY, {"sites": {"texas": {"open": True, "modules": 1,
                                                     "colour": "red"}}})


def test_sampled_scenarios_equal_the_cli(cli: str, solved: stockade.Result, tmp_path) -> None:
    # Same model, same plan, same seed: the CLI's `evaluate --scenarios N --seed S` and
    # stockade.evaluate sample the same hazards and report the same KPIs.
    import json
    import subprocess

    model = solved.model
    assert model is not None
    if not model.to_dict().get("hazards"):
        pytest.skip("the default model has no hazards to sample from")
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(solved.plan))
    out = subprocess.run([cli, "evaluate", str(RARE_EARTHS), str(plan_path), "--scenarios",
                          "200", "--seed", "7", "--json"], capture_output=True, text=True,
                         check=True)
    theirs = json.loads(out.stdout)
    ours = stockade.evaluate(model, solved, scenarios=200, seed=7)
    assert ours.scenarios == theirs["scenarios"] == 200
    assert ours.expected_cost == pytest.approx(theirs["expected_cost"], rel=1e-9)
    for key, value in theirs["total"].items():
        if isinstance(value, float):
            assert ours.total[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
    # The sample's KPIs follow from its outcomes: E[shortfall] = sum p_s shortfall_s.
    outcomes = ours.outcomes
    expected = float((outcomes["probability"] * outcomes["shortfall_t"]).sum())
    assert ours.total["expected_shortfall_t"] == pytest.approx(expected, rel=1e-9)
    # Same seed, same scenarios. (Warm-started LPs shared by worker threads may differ in the
    # last bits, so values are compared to 1e-9, not bit for bit.)
    again = stockade.evaluate(model, solved, scenarios=200, seed=7).outcomes
    assert list(again["id"]) == list(outcomes["id"])
    assert list(again["probability"]) == list(outcomes["probability"])
    for column in ("cost", "shortfall_t"):
        assert list(again[column]) == pytest.approx(list(outcomes[column]), rel=1e-9, abs=1e-6)
