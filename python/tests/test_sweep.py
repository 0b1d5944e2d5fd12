"""Sweeps and frontiers from Python: every variant equals solving it alone, the frontier is
monotone, bad paths name themselves, and the Ray backend on a real local Ray cluster gives the
local answers and survives a worker killed mid-sweep."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any, List

import pytest

import stockade
from support import RARE_EARTHS, REPO

CAPS = [0.42, 0.38, 0.34, 0.30, 0.28]


def _model() -> stockade.Model:
    return stockade.Model.from_json(RARE_EARTHS)


def _alone(cap: float) -> stockade.Result:
    data = _model().to_dict()
    data["policies"]["country_share"]["cap"] = cap
    return stockade.solve(data)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def test_local_sweep_equals_each_variant_alone() -> None:
    df = stockade.sweep(_model(), {"policies.country_share.cap": CAPS}, workers=2)
    assert list(df["policies.country_share.cap"]) == CAPS
    assert df.attrs["backend"] == "local"
    for _, row in df.iterrows():
        alone = _alone(row["policies.country_share.cap"])
        assert row.status == alone.status
        if alone.objective is None:
            assert row.objective is None or row.objective != row.objective  # None or NaN
        else:
            assert _close(row.objective, alone.objective)
            assert row.largest_country_share <= row["policies.country_share.cap"] + 1e-6
    # 28 % cannot hold in this model; the sweep says so rather than failing.
    assert df.status.iloc[-1] == "infeasible"


def test_progress_counts_finished_variants() -> None:
    seen: List[tuple] = []
    df = stockade.sweep(_model(), {"policies.country_share.cap": CAPS}, workers=1,
                        progress=lambda done, total: seen.append((done, total)))
    assert len(df) == len(CAPS)
    assert seen and seen[-1] == (len(CAPS), len(CAPS))
    assert all(t == len(CAPS) for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_ranges_read_like_the_command_line() -> None:
    df = stockade.sweep(_model(), {"policies.country_share.cap": "0.42:0.34:0.04",
                                   "depots[jp_jogmec].capacity": [0, 500]}, warm_start=False)
    assert len(df) == 6
    assert list(df["policies.country_share.cap"]) == [0.42, 0.42, 0.38, 0.38, 0.34, 0.34]
    assert df.warm_from.isna().all()


def test_bad_path_raises_input_error_naming_it() -> None:
    with pytest.raises(stockade.InputError) as err:
        stockade.sweep(_model(), {"depots[nowhere].capacity": [1.0]})
    assert "depots[nowhere].capacity" in str(err.value)
    with pytest.raises(stockade.InputError):
        stockade.sweep(_model(), {"policies.country_share.cap": "1:0"})


def test_frontier_is_monotone_and_plots() -> None:
    df = stockade.frontier(_model(), "expected_shortfall", points=5)
    assert (df.status == "optimal").all()
    costs = list(df.cost)
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(costs, costs[1:])), costs
    levels = list(df.level)
    assert levels[0] == pytest.approx(df.attrs["cost_optimal_level"])
    assert levels[-1] == pytest.approx(df.attrs["best_level"])
    assert df.knee.sum() <= 1
    fig = stockade.plot_frontier(df)
    assert fig.axes[0].get_xlabel().startswith("expected_shortfall")


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real local Ray cluster of two CPUs for this module. Started from an empty folder: Ray
    puts the driver's working directory on its workers' import path, and python/ holds the
    package's sources without the native module (the installed wheel is under test)."""
    ray = pytest.importorskip("ray")
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray"))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 ignore_reinit_error=True)
        yield ray
        ray.shutdown()
    finally:
        os.chdir(here)


def test_readme_sweep_example(ray_cluster: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's sweep, frontier and Ray example (its third Python block) runs as written."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    block = next(b for b in blocks if "stockade.sweep" in b)
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(block, "README.md sweep example", "exec"), namespace)
    finally:
        os.chdir(here)
    assert "optimal" in capsys.readouterr().out
    assert list(namespace["caps"].status) == ["optimal"] * 4
    assert namespace["front"].attrs["resilience"] == "cvar_shortfall"
    assert list(namespace["on_ray"].status) == ["optimal", "optimal"]
    assert namespace["on_ray"].attrs["backend"] == "ray"


def test_ray_equals_local(ray_cluster: Any) -> None:
    params = {"policies.country_share.cap": CAPS}
    local = stockade.sweep(_model(), params)
    remote = stockade.sweep(_model(), params, backend="ray")
    assert remote.attrs["backend"] == "ray"
    assert remote.attrs["failed"] == []
    assert list(remote.status) == list(local.status)
    for a, b in zip(local.objective, remote.objective):
        assert (a != a and b != b) or _close(a, b)


def _ray_task_pids() -> List[int]:
    """Worker processes running a sweep task right now (Ray titles them `ray::<task>`)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ray::_solve_variant" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_ray_sweep_survives_a_worker_killed_mid_task(ray_cluster: Any) -> None:
    # Each variant must N-3 survive site and supplier losses: about a second per solve, so the
    # killer finds a task running.
    data = _model().to_dict()
    data["policies"]["survivability"] = {"k": 3, "targets": ["sites", "suppliers"]}
    killed: List[int] = []

    def kill_one(refs: List[Any]) -> None:
        def hunt() -> None:
            deadline = time.time() + 30
            while time.time() < deadline and not killed:
                pids = _ray_task_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return
                time.sleep(0.005)

        threading.Thread(target=hunt, daemon=True).start()

    caps = [0.42, 0.38, 0.34]
    df = stockade.sweep(data, {"policies.country_share.cap": caps}, backend="ray",
                        on_submit=kill_one)
    assert killed, "no running sweep task was found to kill"
    assert len(df.attrs["retried"]) >= 1
    assert df.attrs["failed"] == []
    assert (df.status == "optimal").all()
    for _, row in df.iterrows():
        alone = stockade.solve({**data, "policies": {**data["policies"],
                                "country_share": {"cap": row["policies.country_share.cap"]}}})
        assert _close(row.objective, alone.objective)


def test_ray_saa_equals_local(ray_cluster: Any) -> None:
    # The same seeds give the same replications, so the same bounds, wherever they are solved.
    kwargs = dict(replications=3, sample=10, evaluation_sample=100, seed=3)
    local = stockade.saa(_model(), **kwargs)
    remote = stockade.saa(_model(), backend="ray", **kwargs)
    assert remote.pop("retried") == []
    assert remote == local
    with pytest.raises(stockade.InputError):
        stockade.saa(_model(), replications=1, sample=10, evaluation_sample=100, backend="ray")


def _without_clocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_clocks(v) for k, v in value.items()
                if k not in ("runtime_s", "build_s")}
    if isinstance(value, list):
        return [_without_clocks(v) for v in value]
    return value


def test_ray_share_equals_local(ray_cluster: Any) -> None:
    # Coalition values solved as Ray tasks and combined by the core: the same report as the local
    # analysis, including the hand-computed Shapley value of core/tests/share.rs.
    import json

    model = json.loads((REPO / "core" / "tests" / "fixtures" / "three-allies.json").read_text())
    local = stockade.share(model)
    remote = stockade.share(model, backend="ray")
    assert remote.pop("retried") == []
    assert _without_clocks(remote) == _without_clocks(local)
    shapley = next(a for a in remote["allocations"] if a["rule"] == "shapley")
    for got, want in zip(shapley["cost"], [725.0, 1650.0, 1825.0]):
        assert _close(got, want)


def test_ray_frontier_equals_local(ray_cluster: Any) -> None:
    local = stockade.frontier(_model(), "cvar_shortfall", points=4, warm_start=False)
    remote = stockade.frontier(_model(), "cvar_shortfall", points=4, backend="ray")
    assert remote.attrs["backend"] == "ray" and remote.attrs["retried"] == []
    assert list(remote.status) == list(local.status)
    assert list(remote.level) == pytest.approx(list(local.level))
    for a, b in zip(local.cost, remote.cost):
        assert _close(a, b)
    assert list(remote.dominated) == list(local.dominated)
    assert remote.attrs["knee"] == local.attrs["knee"]
