#!/usr/bin/env python3
"""Peer comparison: model-build time and peak memory of the stoch-cflp model.

Builds the two-stage stochastic CFLP of shared/benchmarks/stoch-cflp/README.md (OR-Library cap71
with S facility-failure scenarios) in stockade, linopy, Pyomo and raw highspy, each in a fresh
process, up to the point where the model is inside HiGHS (no solve), and prints one table with the
ratios measured in this run.  See README.md beside this file.

    python compare.py --scenarios 1000 --repeat 3 --json out.json
    python compare.py --check              # solve S=50 in every tool, compare to 950296.60375

The same file is the per-tool worker (`--worker TOOL`, internal): the parent spawns one fresh
interpreter per tool and repetition so that each peak RSS belongs to one tool only.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_DATA = Path(os.environ.get("STOCKADE_BENCH_DATA", REPO.parent / "shared" / "benchmarks"))
DEFAULT_STOCKADE = Path(os.environ.get("STOCKADE_BIN", REPO / "target" / "release" / "stockade"))

TOOLS = ("stockade", "linopy", "pyomo", "highspy")
SCENARIO_CHOICES = (10, 50, 200, 1000)
CHECK_S = 50
CHECK_OPTIMUM = 950296.60375  # shared/benchmarks/stoch-cflp/README.md
CHECK_RTOL = 1e-6
MIP_GAP = 1e-6  # the README's reference settings: HiGHS, one thread, relative gap 1e-6
THREADS = 1

# Targets of the project (reported, never enforced by changing the measurement).
TARGET_LINOPY_RATIO = 2.0   # stockade build <= 1/2 of linopy's
TARGET_PYOMO_RATIO = 40.0   # stockade build <= 1/40 of Pyomo's
TARGET_MEM_RATIO = 1.10     # stockade peak RSS <= raw highspy's + 10%


# --------------------------------------------------------------------------------------------
# data


def read_cap(path: Path):
    """OR-Library cap file as a whitespace-token stream: m n, m x (cap f), n x (d c_1j..c_mj)."""
    tok = path.read_text().split()
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    cap, fixed = [], []
    for _ in range(m):
        cap.append(float(tok[pos]))
        fixed.append(float(tok[pos + 1]))
        pos += 2
    demand = []
    cost = [[0.0] * n for _ in range(m)]  # cost[i][j]: cost of serving ALL of j's demand from i
    for j in range(n):
        demand.append(float(tok[pos]))
        pos += 1
        for i in range(m):
            cost[i][j] = float(tok[pos])
            pos += 1
    if pos != len(tok):
        raise ValueError(f"{path}: {len(tok) - pos} trailing tokens")
    return m, n, cap, fixed, demand, cost


def read_scenarios(path: Path, S: int, m: int):
    """One line per scenario with the 0-based failed facilities (an empty line: none failed).

    Returns avail[w][i] in {0, 1}."""
    lines = path.read_text().splitlines()
    if len(lines) < S:
        raise ValueError(f"{path}: {len(lines)} scenario lines, need {S}")
    avail = []
    for line in lines[:S]:
        row = [1] * m
        for t in line.split():
            row[int(t)] = 0
        avail.append(row)
    return avail


def load(data_dir: Path, S: int):
    m, n, cap, fixed, demand, cost = read_cap(data_dir / "orlib-cap" / "cap71.txt")
    avail = read_scenarios(data_dir / "stoch-cflp" / f"scenarios-cap71-S{S}.txt", S, m)
    penalty = 10.0 * max(cost[i][j] / demand[j] for i in range(m) for j in range(n))
    return dict(m=m, n=n, S=S, cap=cap, fixed=fixed, demand=demand, cost=cost,
                avail=avail, penalty=penalty)


def stockade_site_delta(exp):
    """stockade's siting MIP has, per facility, an integer module count next to the open binary
    and a row tying them: m more rows, columns and integer columns, 2m more nonzeros."""
    m = exp["integer_columns"]
    return dict(rows=m, columns=m, nonzeros=2 * m, integer_columns=m)


def expected_size(D):
    """Size of the textbook formulation (the peers); stockade's may differ, see README.md."""
    m, n, S = D["m"], D["n"], D["S"]
    up = sum(sum(row) for row in D["avail"])
    return dict(rows=S * (n + m + m * n), columns=m + S * (m * n + n),
                nonzeros=S * ((m + 1) * n + m * n + 2 * m * n) + up, integer_columns=m)


# --------------------------------------------------------------------------------------------
# the three Python builders: each returns a highspy.Highs holding the model (not solved)


def build_highspy(D):
    """Raw highspy: numpy row-wise CSR arrays, one Highs.passModel call."""
    import highspy
    import numpy as np

    m, n, S = D["m"], D["n"], D["S"]
    d = np.asarray(D["demand"])
    c = np.asarray(D["cost"])                    # (m, n)
    s = np.asarray(D["cap"])
    a = np.asarray(D["avail"], dtype=np.int64)   # (S, m)
    P = D["penalty"]

    # columns: y_i | x_ijw at m + (w*m + i)*n + j | u_jw at m + S*m*n + w*n + j
    X0 = m
    U0 = m + S * m * n
    ncol = U0 + S * n
    xcol = (X0 + np.arange(S * m * n, dtype=np.int32)).reshape(S, m, n)
    ucol = (U0 + np.arange(S * n, dtype=np.int32)).reshape(S, n)
    ycol = np.arange(m, dtype=np.int32)

    cost = np.empty(ncol)
    cost[:m] = D["fixed"]
    cost[X0:U0] = np.broadcast_to(c / S, (S, m, n)).ravel()
    cost[U0:] = np.broadcast_to(P * d / S, (S, n)).ravel()
    lower = np.zeros(ncol)
    upper = np.full(ncol, highspy.kHighsInf)
    upper[:U0] = 1.0
    integrality = np.zeros(ncol, dtype=np.int32)
    integrality[:m] = 1  # HighsVarType.kInteger, with bounds [0, 1]: binary

    # demand rows (w, j): sum_i x_ijw + u_jw = 1               -> m + 1 entries each
    dem_idx = np.concatenate([xcol.transpose(0, 2, 1), ucol[:, :, None]], axis=2).reshape(-1)
    dem_val = np.ones(dem_idx.size)
    dem_len = np.full(S * n, m + 1)
    # capacity rows (w, i): sum_j d_j x_ijw - s_i a_iw y_i <= 0 -> n + a_iw entries
    cap_idx = np.concatenate([xcol, np.broadcast_to(ycol[None, :, None], (S, m, 1))], axis=2)
    cap_val = np.concatenate([np.broadcast_to(d, (S, m, n)),
                              (-s[None, :] * a)[:, :, None]], axis=2)
    keep = np.ones((S, m, n + 1), dtype=bool)
    keep[:, :, n] = a.astype(bool)
    cap_idx = cap_idx[keep]
    cap_val = cap_val[keep]
    cap_len = (n + a).reshape(-1)
    # linking rows (w, i, j): x_ijw - y_i <= 0                   -> 2 entries
    lnk_idx = np.stack([xcol, np.broadcast_to(ycol[None, :, None], (S, m, n))], axis=3).reshape(-1)
    lnk_val = np.tile(np.array([1.0, -1.0]), S * m * n)
    lnk_len = np.full(S * m * n, 2)

    a_index = np.concatenate([dem_idx, cap_idx, lnk_idx]).astype(np.int32)
    a_value = np.concatenate([dem_val, cap_val, lnk_val])
    lengths = np.concatenate([dem_len, cap_len, lnk_len])
    a_start = np.zeros(lengths.size, dtype=np.int32)
    np.cumsum(lengths[:-1], out=a_start[1:])
    nrow = lengths.size
    row_lower = np.concatenate([np.ones(S * n), np.full(nrow - S * n, -highspy.kHighsInf)])
    row_upper = np.concatenate([np.ones(S * n), np.zeros(nrow - S * n)])

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    status = h.passModel(ncol, nrow, a_index.size, int(highspy.MatrixFormat.kRowwise),
                         int(highspy.ObjSense.kMinimize), 0.0, cost, lower, upper,
                         row_lower, row_upper, a_start, a_index, a_value, integrality)
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"passModel: {status}")
    return h


def build_linopy(D):
    """linopy: labelled arrays, then Model.to_highspy() (linopy's direct HiGHS hand-over)."""
    import linopy
    import numpy as np
    import pandas as pd
    import xarray as xr

    m, n, S = D["m"], D["n"], D["S"]
    I = pd.RangeIndex(m, name="i")
    J = pd.RangeIndex(n, name="j")
    W = pd.RangeIndex(S, name="w")
    d = xr.DataArray(np.asarray(D["demand"]), coords=[J])
    c = xr.DataArray(np.asarray(D["cost"]), coords=[I, J])
    f = xr.DataArray(np.asarray(D["fixed"]), coords=[I])
    s = xr.DataArray(np.asarray(D["cap"]), coords=[I])
    a = xr.DataArray(np.asarray(D["avail"], dtype=float).T, coords=[I, W])
    P = D["penalty"]

    mdl = linopy.Model()
    y = mdl.add_variables(binary=True, coords=[I], name="y")
    x = mdl.add_variables(lower=0, upper=1, coords=[I, J, W], name="x")
    u = mdl.add_variables(lower=0, coords=[J, W], name="u")
    mdl.add_constraints(x.sum("i") + u == 1, name="demand")
    mdl.add_constraints((d * x).sum("j") - (s * a) * y <= 0, name="capacity")
    mdl.add_constraints(x - y <= 0, name="link")
    mdl.add_objective((f * y).sum() + (c / S * x).sum() + (P * d / S * u).sum())
    h = mdl.to_highspy()
    h.setOptionValue("output_flag", False)
    return h, mdl


def build_pyomo(D):
    """Pyomo: ConcreteModel, handed to the persistent HiGHS interface (set_instance, no solve)."""
    import pyomo.environ as pyo

    m, n, S = D["m"], D["n"], D["S"]
    d, c, f, s, av, P = D["demand"], D["cost"], D["fixed"], D["cap"], D["avail"], D["penalty"]

    mdl = pyo.ConcreteModel()
    mdl.I = pyo.Set(initialize=range(m))
    mdl.J = pyo.Set(initialize=range(n))
    mdl.W = pyo.Set(initialize=range(S))
    mdl.y = pyo.Var(mdl.I, domain=pyo.Binary)
    mdl.x = pyo.Var(mdl.I, mdl.J, mdl.W, bounds=(0, 1))
    mdl.u = pyo.Var(mdl.J, mdl.W, domain=pyo.NonNegativeReals)

    mdl.obj = pyo.Objective(
        expr=sum(f[i] * mdl.y[i] for i in mdl.I)
        + sum(c[i][j] / S * mdl.x[i, j, w] for i in mdl.I for j in mdl.J for w in mdl.W)
        + sum(P * d[j] / S * mdl.u[j, w] for j in mdl.J for w in mdl.W),
        sense=pyo.minimize)

    @mdl.Constraint(mdl.J, mdl.W)
    def demand(b, j, w):
        return sum(b.x[i, j, w] for i in b.I) + b.u[j, w] == 1

    @mdl.Constraint(mdl.I, mdl.W)
    def capacity(b, i, w):
        return sum(d[j] * b.x[i, j, w] for j in b.J) <= s[i] * av[w][i] * b.y[i]

    @mdl.Constraint(mdl.I, mdl.J, mdl.W)
    def link(b, i, j, w):
        return b.x[i, j, w] <= b.y[i]

    try:  # the newer pyomo.contrib.solver interface (Pyomo >= 6.7.1)
        from pyomo.contrib.solver.solvers.highs import Highs
        opt = Highs()
        opt.set_instance(mdl)
    except ImportError:  # older Pyomo: the appsi interface
        from pyomo.contrib.appsi.solvers.highs import Highs
        opt = Highs()
        opt.set_instance(mdl)
    h = opt._solver_model  # the highspy.Highs the interface filled
    h.setOptionValue("output_flag", False)
    return h, (mdl, opt)


# --------------------------------------------------------------------------------------------
# worker (one fresh process per tool and repetition)


def maxrss_kib(who=resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss  # KiB on Linux


def highs_size(h):
    integ = h.getLp().integrality_  # a list of HighsVarType (empty for a pure LP)
    return dict(rows=h.getNumRow(), columns=h.getNumCol(), nonzeros=h.getNumNz(),
                integer_columns=sum(1 for v in integ if int(v) != 0))


def highs_solve(h):
    import highspy
    h.setOptionValue("threads", THREADS)
    h.setOptionValue("mip_rel_gap", MIP_GAP)
    t = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t
    status = h.modelStatusToString(h.getModelStatus())
    obj = h.getInfo().objective_function_value
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return dict(solve_s=solve_s, status=status, objective=obj if ok else None)


def worker_python(tool, args):
    t_start = time.monotonic()
    t = time.perf_counter()
    if tool == "highspy":
        import highspy  # noqa: F401
        import numpy  # noqa: F401
    elif tool == "linopy":
        import highspy  # noqa: F401
        import linopy  # noqa: F401
    elif tool == "pyomo":
        import highspy  # noqa: F401
        import pyomo.environ  # noqa: F401
        import pyomo.contrib.solver.solvers.highs  # noqa: F401
    import_s = time.perf_counter() - t

    t = time.perf_counter()
    D = load(Path(args.data_dir), args.scenarios)
    read_s = time.perf_counter() - t
    base_kib = maxrss_kib()

    t = time.perf_counter()
    built = {"highspy": build_highspy, "linopy": build_linopy, "pyomo": build_pyomo}[tool](D)
    build_s = time.perf_counter() - t
    ready_s = time.monotonic() - args.spawned_at  # process start (spawn) -> model in HiGHS
    peak_kib = maxrss_kib()  # snapshot before anything else allocates
    h = built[0] if isinstance(built, tuple) else built

    out = dict(tool=tool, scenarios=args.scenarios, build_s=build_s, read_s=read_s,
               import_s=import_s, ready_s=ready_s, peak_kib=peak_kib, base_kib=base_kib,
               size=highs_size(h), expected_size=expected_size(D))
    if args.solve:
        out.update(highs_solve(h))
        out["peak_after_solve_kib"] = maxrss_kib()
    out["worker_s"] = time.monotonic() - t_start
    return out


def worker_stockade(args):
    """Run the stockade binary as a child of this fresh process and take its rusage."""
    binary = args.stockade
    t = time.monotonic()
    proc = subprocess.run([binary, "solve", args.model_json, "--build-only"],
                          capture_output=True, text=True)
    wall = time.monotonic() - t
    peak_kib = maxrss_kib(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"stockade --build-only failed ({proc.returncode}): {proc.stderr}")
    rep = json.loads(proc.stdout)
    out = dict(tool="stockade", scenarios=args.scenarios, build_s=rep["build_s"], ready_s=wall,
               peak_kib=peak_kib, base_kib=None, size=rep["model_size"],
               scenarios_built=rep.get("scenarios"),
               expected_size=expected_size(load(Path(args.data_dir), args.scenarios)),
               binary=str(binary))
    if args.solve:
        t = time.perf_counter()
        proc = subprocess.run([binary, "solve", args.model_json, "--json",
                               "--threads", str(THREADS), "--gap", repr(MIP_GAP)],
                              capture_output=True, text=True)
        total = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"stockade solve failed ({proc.returncode}): {proc.stderr}")
        sol = json.loads(proc.stdout)
        ok = sol.get("status") == "optimal"
        out.update(solve_s=sol.get("runtime_s", total), status=sol.get("status"),
                   objective=sol.get("objective") if ok else None,
                   peak_after_solve_kib=maxrss_kib(resource.RUSAGE_CHILDREN))
    return out


def worker_main(args):
    try:
        if args.worker == "stockade":
            out = worker_stockade(args)
        else:
            out = worker_python(args.worker, args)
    except Exception as e:  # report, the parent prints it
        out = dict(tool=args.worker, error=f"{type(e).__name__}: {e}")
    Path(args.result).write_text(json.dumps(out))
    return 0 if "error" not in out else 1


# --------------------------------------------------------------------------------------------
# parent


def binary_kind(path: Path) -> str:
    parts = Path(path).resolve().parts
    return "release" if "release" in parts else ("debug" if "debug" in parts else "custom")


def make_model_json(args, S, tmpdir) -> str:
    out = Path(tmpdir) / f"cap71-S{S}.json"
    with open(out, "w") as fh:
        subprocess.run([str(args.stockade), "import", "orlib-cap",
                        str(Path(args.data_dir) / "orlib-cap" / "cap71.txt"), "--failures",
                        str(Path(args.data_dir) / "stoch-cflp" / f"scenarios-cap71-S{S}.txt")],
                       stdout=fh, check=True)
    return str(out)


def run_worker(args, tool, S, model_json, tmpdir, solve):
    res = Path(tmpdir) / f"res-{tool}.json"
    if res.exists():
        res.unlink()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool,
           "--scenarios", str(S), "--data-dir", str(args.data_dir), "--stockade",
           str(args.stockade), "--result", str(res), "--spawned-at", repr(time.monotonic())]
    if model_json:
        cmd += ["--model-json", model_json]
    if solve:
        cmd.append("--solve")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if res.exists():
        out = json.loads(res.read_text())
    else:
        out = dict(tool=tool, error=f"worker exited {proc.returncode}: {proc.stderr[-2000:]}")
    if "error" in out and proc.stderr.strip():
        out["stderr"] = proc.stderr[-2000:]
    return out


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(runs_by_tool):
    summary = {}
    for tool, runs in runs_by_tool.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            summary[tool] = dict(tool=tool, error=runs[0].get("error") if runs else "no run")
            continue
        s = dict(tool=tool, runs=len(ok), size=ok[0]["size"],
                 expected_size=ok[0]["expected_size"])
        for k in ("build_s", "ready_s", "read_s", "import_s", "peak_kib", "base_kib",
                  "solve_s", "peak_after_solve_kib"):
            s[k] = median_of(ok, k)
        s["build_s_all"] = [r["build_s"] for r in ok]
        objs = [r.get("objective") for r in ok if "objective" in r]
        if objs:
            s["objective"] = objs[0]
            s["status"] = ok[0].get("status")
        if ok[0].get("scenarios_built") is not None:
            s["scenarios_built"] = ok[0]["scenarios_built"]
        if "binary" in ok[0]:
            s["binary"] = ok[0]["binary"]
        summary[tool] = s
    return summary


def mib(kib):
    return None if kib is None else kib / 1024.0


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(summary, S, tools, kind, repeat):
    st = summary.get("stockade")
    hs = summary.get("highspy")
    st_ok = st is not None and "error" not in st
    print(f"\nstoch-cflp cap71, S = {S}, model build up to 'inside HiGHS' (no solve); "
          f"median of {repeat} fresh process(es) per tool")
    if "stockade" in tools:
        print(f"stockade binary: {st.get('binary', '?') if st_ok else '?'} ({kind})"
              + ("  ** debug build: stockade timings NOT representative **" if kind == "debug" else ""))
    hdr = (f"{'tool':<9} {'build_s':>9} {'peer/stk':>9} {'ready_s':>8} {'peak_MiB':>9} "
           f"{'base_MiB':>9} {'rows x cols':>20} {'nnz':>10} {'int':>4}")
    print(hdr)
    print("-" * len(hdr))
    for tool in tools:
        s = summary.get(tool)
        if s is None:
            continue
        if "error" in s:
            print(f"{tool:<9} ERROR: {s['error']}")
            continue
        ratio = (s["build_s"] / st["build_s"]) if st_ok and tool != "stockade" else None
        z = s["size"]
        print(f"{tool:<9} {s['build_s']:>9.4f} {fmt(ratio, '>9.1f')} {fmt(s['ready_s'], '>8.2f')} "
              f"{fmt(mib(s['peak_kib']), '>9.1f')} {fmt(mib(s['base_kib']), '>9.1f')} "
              f"{z['rows']:>9,} x {z['columns']:>8,} {z['nonzeros']:>10,} "
              f"{z.get('integer_columns', '-'):>4}")
    print("build_s: data in memory -> model inside HiGHS (stockade: its own build_s, which excludes "
          "JSON parse/validation)\nready_s: process start -> model inside HiGHS (Python: interpreter "
          "start + imports + read + build; stockade: whole `solve --build-only` process)\n"
          "peak_MiB: peak RSS of the process at that point; base_MiB: Python process after imports "
          "and data read, before the build")

    # sizes
    if st_ok and st.get("scenarios_built") not in (None, S):
        print(f"WARNING: stockade built {st['scenarios_built']} scenarios, the scenario file has "
              f"{S} lines: its model is not the one the peers build (importer bug?)")
    exp = next((s["expected_size"] for s in summary.values() if "expected_size" in s), None)
    if exp:
        print(f"textbook size: {exp['rows']:,} rows x {exp['columns']:,} cols, "
              f"{exp['nonzeros']:,} nnz, {exp['integer_columns']} integer")
        for tool in tools:
            s = summary.get(tool)
            if s and "size" in s:
                diff = {k: s["size"].get(k, 0) - exp[k] for k in exp if s["size"].get(k) != exp[k]}
                if diff:
                    print(f"WARNING: {tool} model size differs from the textbook formulation: "
                          + ", ".join(f"{k} {v:+,}" for k, v in diff.items()))
                    if tool == "stockade" and diff == stockade_site_delta(exp):
                        print("         (= stockade's site model: per facility an integer module "
                              "count and a row `modules <= max_modules * open`; see README.md)")
                    elif tool != "stockade":
                        print("         (a peer that differs from the textbook size: a bug in "
                              "compare.py)")

    # ratios and targets
    if st_ok:
        print("\nratios (same run):")
        lin = summary.get("linopy")
        pyo = summary.get("pyomo")
        checks = []
        if lin and "error" not in lin:
            r = lin["build_s"] / st["build_s"]
            checks.append(("build  linopy/stockade", r, f">= {TARGET_LINOPY_RATIO:g}",
                           r >= TARGET_LINOPY_RATIO))
            rr = lin["ready_s"] / st["ready_s"]
            checks.append(("ready  linopy/stockade (whole process)", rr, "(info)", None))
        if pyo and "error" not in pyo:
            r = pyo["build_s"] / st["build_s"]
            checks.append(("build  pyomo/stockade", r, f">= {TARGET_PYOMO_RATIO:g}",
                           r >= TARGET_PYOMO_RATIO))
            rr = pyo["ready_s"] / st["ready_s"]
            checks.append(("ready  pyomo/stockade (whole process)", rr, "(info)", None))
        if hs and "error" not in hs:
            r = hs["build_s"] / st["build_s"]
            checks.append(("build  highspy/stockade", r, "(info)", None))
            m = st["peak_kib"] / hs["peak_kib"]
            checks.append(("memory stockade/highspy peak RSS", m, f"<= {TARGET_MEM_RATIO:g}",
                           m <= TARGET_MEM_RATIO))
            if hs.get("base_kib") and hs["peak_kib"] > hs["base_kib"]:
                # Without the ~40 MiB of interpreter + numpy + highspy that the Python process
                # holds before it builds anything: a harsher comparison, for information.
                m2 = st["peak_kib"] / (hs["peak_kib"] - hs["base_kib"])
                checks.append(("memory stockade peak/highspy (peak-base)", m2, "(info)", None))
        for name, val, target, ok in checks:
            verdict = "" if ok is None else ("  target met" if ok else "  TARGET MISSED")
            print(f"  {name:<40} {val:>9.3f}  {target:<8}{verdict}")
        if kind == "debug":
            print("  (debug stockade binary: these ratios say nothing about the release build)")


def compare_objectives(summary, tools, reference=None):
    objs = {t: summary[t].get("objective") for t in tools
            if t in summary and "error" not in summary[t]}
    print("\nobjectives (HiGHS, one thread, relative gap 1e-6):")
    ok = True
    base = reference
    if base is None:
        vals = [v for v in objs.values() if v is not None]
        base = vals[0] if vals else None
    for t in tools:
        s = summary.get(t, {})
        if "error" in s:
            print(f"  {t:<9} ERROR: {s['error']}")
            ok = False
            continue
        v = objs.get(t)
        if v is None:
            print(f"  {t:<9} no optimal solution (status {s.get('status')})")
            ok = False
            continue
        rel = abs(v - base) / max(1.0, abs(base)) if base is not None else 0.0
        good = rel <= CHECK_RTOL
        ok &= good
        print(f"  {t:<9} {v:>18.6f}  solve {s.get('solve_s', float('nan')):7.2f} s  "
              f"rel.diff {rel:.2e}  {'ok' if good else 'MISMATCH'}")
    what = f"reference {reference}" if reference is not None else "each other"
    print(f"  => {'all agree with ' + what if ok else 'DISAGREEMENT with ' + what} "
          f"(rel. tol. {CHECK_RTOL:g})")
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", type=int, default=1000, choices=SCENARIO_CHOICES)
    p.add_argument("--tools", default=",".join(TOOLS),
                   help="comma-separated subset of " + ",".join(TOOLS))
    p.add_argument("--repeat", type=int, default=1, help="fresh runs per tool; medians reported")
    p.add_argument("--json", dest="json_out", help="write the raw runs and the summary here")
    p.add_argument("--solve", action="store_true",
                   help="also solve (one thread, gap 1e-6) and compare objectives")
    p.add_argument("--check", action="store_true",
                   help=f"solve S={CHECK_S} in every tool, compare to {CHECK_OPTIMUM} "
                        f"(rel. {CHECK_RTOL:g}); exit 1 on a mismatch")
    p.add_argument("--stockade", type=Path, default=DEFAULT_STOCKADE,
                   help="stockade binary (default: target/release/stockade, or $STOCKADE_BIN)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                   help="shared/benchmarks folder (default: ../shared/benchmarks, or "
                        "$STOCKADE_BENCH_DATA)")
    # internal: worker mode
    p.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--model-json", dest="model_json", help=argparse.SUPPRESS)
    p.add_argument("--spawned-at", dest="spawned_at", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        return worker_main(args)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        p.error(f"unknown tool(s) {bad}; choose from {TOOLS}")
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    S = CHECK_S if args.check else args.scenarios
    solve = args.solve or args.check
    kind = binary_kind(args.stockade)
    if "stockade" in tools:
        if not Path(args.stockade).is_file():
            print(f"error: no stockade binary at {args.stockade}.\n"
                  "  Build it with `cargo build --release -p stockade-server`, or pass "
                  "--stockade target/debug/stockade (development only: debug timings are not "
                  "representative).", file=sys.stderr)
            return 2
        if kind != "release":
            print(f"WARNING: stockade binary {args.stockade} is not a release build; its "
                  "timings and memory are not representative.", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="stockade-peer-") as tmpdir:
        model_json = make_model_json(args, S, tmpdir) if "stockade" in tools else None
        runs = {t: [] for t in tools}
        for r in range(args.repeat):
            for tool in tools:  # round-robin, so drifting machine load spreads over all tools
                out = run_worker(args, tool, S, model_json, tmpdir, solve)
                runs[tool].append(out)
                msg = out.get("error") or (f"build {out['build_s']:.4f} s, peak "
                                           f"{mib(out['peak_kib']):.1f} MiB")
                print(f"[run {r + 1}/{args.repeat}] {tool:<9} {msg}", file=sys.stderr, flush=True)

    summary = summarize(runs)
    print_table(summary, S, tools, kind, args.repeat)
    status = 0
    if solve:
        ok = compare_objectives(summary, tools, CHECK_OPTIMUM if S == CHECK_S else None)
        if args.check and not ok:
            status = 1
    if any("error" in s for s in summary.values()):
        status = status or 1

    if args.json_out:
        Path(args.json_out).write_text(json.dumps(dict(
            scenarios=S, tools=tools, repeat=args.repeat, solve=solve,
            stockade_binary=str(args.stockade), stockade_binary_kind=kind,
            python=sys.version.split()[0], runs=runs, summary=summary), indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
