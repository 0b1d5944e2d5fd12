"""Bad input raises InputError (a ValueError) naming the JSON path at fault; the problems are
the core's, so the paths match `stockade validate`."""

from __future__ import annotations

import copy
import json
import subprocess

import numpy as np
import pandas as pd
import pytest

import stockade
from support import TINY


def test_hierarchy() -> None:
    assert issubclass(stockade.InputError, stockade.StockadeError)
    assert issubclass(stockade.InputError, ValueError)
    assert issubclass(stockade.SolverError, stockade.StockadeError)
    assert not issubclass(stockade.SolverError, ValueError)


def test_validate_lists_every_problem_with_path_and_entity() -> None:
    data = copy.deepcopy(TINY)
    data["sites"][1]["module_capacity"] = -5
    data["routes"][0]["to"] = "nowhere"
    problems = stockade.Model.from_dict(data).validate()
    paths = {p.path for p in problems}
    assert "sites[1].module_capacity" in paths
    assert "routes[0].to" in paths
    cap = next(p for p in problems if p.path == "sites[1].module_capacity")
    assert cap.entity == "kalg"
    assert "-5" in cap.message
    assert str(cap).startswith("sites[1].module_capacity (kalg): ")


def test_valid_model_has_no_problems() -> None:
    assert stockade.Model.from_dict(TINY).validate() == []
    assert stockade.validate(TINY) == []


def test_solve_of_invalid_model_raises_input_error() -> None:
    data = copy.deepcopy(TINY)
    data["sites"][1]["module_capacity"] = -5
    with pytest.raises(stockade.InputError) as info:
        stockade.solve(data)
    assert "sites[1].module_capacity" in info.value.paths
    assert isinstance(info.value, ValueError)
    assert "must be" in str(info.value)


def test_unknown_field_names_its_path() -> None:
    data = copy.deepcopy(TINY)
    data["sites"][0]["modul_capacity"] = 1000
    with pytest.raises(stockade.InputError) as info:
        stockade.Model.from_dict(data)
    [problem] = info.value.problems
    assert problem.path.startswith("sites[0]")
    assert "modul_capacity" in problem.message


def test_wrong_type_names_its_path() -> None:
    data = copy.deepcopy(TINY)
    data["demand"][0]["demand"] = "lots"
    with pytest.raises(stockade.InputError) as info:
        stockade.Model.from_dict(data)
    assert info.value.paths == ["demand[0].demand"]


def test_nan_is_an_input_error() -> None:
    data = copy.deepcopy(TINY)
    data["demand"][0]["demand"] = float("nan")
    with pytest.raises(stockade.InputError):
        stockade.Model.from_dict(data)


def test_from_frames_errors_name_the_row() -> None:
    sites = pd.DataFrame(TINY["sites"])
    sites.loc[1, "max_modules"] = np.nan  # a required field left empty in row 1
    with pytest.raises(stockade.InputError) as info:
        stockade.Model.from_frames(
            sites=sites,
            demand=pd.DataFrame(TINY["demand"]),
            routes=pd.DataFrame(TINY["routes"]),
        )
    assert info.value.paths[0].startswith("sites[1]")
    assert "max_modules" in str(info.value)


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(stockade.InputError) as info:
        stockade.solve(TINY, threads=-1)
    assert info.value.paths == ["settings"]


def test_not_a_model() -> None:
    with pytest.raises(TypeError):
        stockade.solve(42)  # type: ignore[arg-type]


def test_same_problems_as_the_cli(cli: str, tmp_path) -> None:
    data = copy.deepcopy(TINY)
    data["sites"][1]["module_capacity"] = -5
    data["demand"][0]["material"] = "unobtainium"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    out = subprocess.run([cli, "validate", str(path), "--json"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 1
    theirs = json.loads(out.stdout)
    ours = stockade.Model.from_dict(data).validate()
    assert [(p["path"], p.get("entity"), p["message"]) for p in theirs] == [
        (p.path, p.entity, p.message) for p in ours
    ]
