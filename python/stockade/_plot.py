"""matplotlib pictures of a result. Imported lazily: matplotlib is only needed for plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ._result import Result


def _axes(ax: Optional["Axes"], size: Tuple[float, float]) -> Tuple["Figure", "Axes"]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig, new_ax = plt.subplots(figsize=size)
    # Notebooks show a returned Figure themselves; keep pyplot from holding every one of them.
    plt.close(fig)
    return fig, new_ax


def plot_map(
    result: "Result", *, scenario: Optional[str] = None, ax: Optional["Axes"] = None
) -> "Figure":
    """See :meth:`stockade.Result.plot_map`."""
    model = result.model
    if model is None:
        raise ValueError("plot_map needs the model: use stockade.solve(model), which keeps it")
    if scenario is not None and scenario not in result.scenario_ids():
        raise ValueError(f"no scenario {scenario!r}; the result has {result.scenario_ids()}")
    coords = model.node_coordinates()
    countries = model.node_countries()
    data = model.to_dict()
    fig, ax = _axes(ax, (10, 6))

    palette = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]
    codes = sorted({c for c in countries.values()})
    colour = {code: palette[i % len(palette)] for i, code in enumerate(codes)}

    plan = result.to_dict()
    # Flows first, under the markers; width by expected flow.
    flows = plan["flows"]
    if flows:
        top = max(abs(float(f["expected"])) for f in flows) or 1.0
        for f in flows:
            a, b = coords.get(f["from"]), coords.get(f["to"])
            if a is None or b is None:
                continue
            width = 0.4 + 3.6 * abs(float(f["expected"])) / top
            ax.plot([a[1], b[1]], [a[0], b[0]], color="0.45", lw=width, alpha=0.6, zorder=1)

    sites = plan["sites"]
    cap_max = max((float(s["capacity"]) for s in sites), default=0.0) or 1.0
    for site in sites:
        at = coords.get(site["id"])
        if at is None:
            continue
        c = colour.get(site["country"], "k")
        if site["open"]:
            size = 60 + 540 * float(site["capacity"]) / cap_max
            ax.scatter(at[1], at[0], s=size, color=c, edgecolors="k", zorder=3)
            ax.annotate(str(site["id"]), (at[1], at[0]), xytext=(4, 4),
                        textcoords="offset points", fontsize=7, zorder=5)
        else:
            ax.scatter(at[1], at[0], s=40, facecolors="none", edgecolors=c, zorder=3)

    kinds = (("suppliers", "^"), ("depots", "s"), ("demand", "D"))
    for section, marker in kinds:
        for node in data.get(section, []):
            at = coords.get(node["id"])
            if at is None:
                continue
            ax.scatter(at[1], at[0], s=45, marker=marker, color=colour.get(node["country"], "k"),
                       edgecolors="k", linewidths=0.5, zorder=3)

    disrupted = result.disrupted_nodes(scenario)
    hit = [(coords[n], left) for n, left in disrupted.items() if n in coords and left < 1.0]
    # Disrupted routes (embargoes, closed chokepoints, route outages): red dashes.
    cut = 0
    for route in data.get("routes", []):
        key = route.get("id") or f"{route['from']}->{route['to']}"
        a, b = coords.get(route["from"]), coords.get(route["to"])
        if disrupted.get(key, 1.0) < 1.0 and a is not None and b is not None:
            ax.plot([a[1], b[1]], [a[0], b[0]], color="red", lw=1.0, ls="--", alpha=0.7,
                    zorder=2)
            cut += 1
    if hit:
        ax.scatter([p[0][1] for p in hit], [p[0][0] for p in hit], s=260, facecolors="none",
                   edgecolors="red", linewidths=2.0, zorder=4)

    # Legend: one entry per country present, then the node kinds.
    handles: List[Any] = []
    present = sorted({countries[n] for n in coords if n in countries})
    for code in present:
        handles.append(ax.scatter([], [], color=colour[code], label=code))
    handles.append(ax.scatter([], [], s=60, color="0.6", edgecolors="k", label="open site"))
    handles.append(ax.scatter([], [], s=40, facecolors="none", edgecolors="0.4",
                              label="closed candidate"))
    for section, marker in kinds:
        handles.append(ax.scatter([], [], marker=marker, color="0.6", label=section))
    which = f"({scenario})" if scenario else "(any scenario)"
    if hit:
        handles.append(ax.scatter([], [], s=120, facecolors="none", edgecolors="red",
                                  label=f"disrupted {which}"))
    if cut:
        handles.append(ax.plot([], [], color="red", ls="--", label=f"route cut {which}")[0])
    ax.legend(handles=handles, fontsize=7, loc="best", ncol=2)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    title = f"{model.name or 'plan'}: {result.status}"
    if result.objective is not None:
        title += f", {result.objective:,.4g} {result.currency}/yr"
    if not coords:
        title += " (no node has coordinates)"
    ax.set_title(title)
    ax.grid(True, lw=0.3)
    return fig


def plot_shortfall(result: "Result", *, ax: Optional["Axes"] = None) -> "Figure":
    """See :meth:`stockade.Result.plot_shortfall`."""
    scen = result.scenarios
    if ax is None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        plt.close(fig)
    else:
        fig, right = ax.figure, ax  # type: ignore[assignment]
        left = None
    probs = np.asarray(scen["probability"], dtype=float) if len(scen) else np.zeros(0)
    share = np.asarray(scen["shortfall_share"], dtype=float) if len(scen) else np.zeros(0)
    tonnes = np.asarray(scen["shortfall_t"], dtype=float) if len(scen) else np.zeros(0)

    # Exceedance: P(unmet share >= x), weighted by scenario probability.
    order = np.argsort(-share, kind="stable")
    xs: List[float] = []
    ps: List[float] = []
    cum = 0.0
    for i in order:
        cum += probs[i]
        xs.append(share[i])
        ps.append(cum)
    if xs:
        right.step(np.asarray(xs) * 100.0, ps, where="post", color="C3")
        right.scatter(np.asarray(xs) * 100.0, ps, s=10, color="C3")
    right.set_xlabel("unmet share of demand (%)")
    right.set_ylabel("probability of at least this shortfall")
    right.set_ylim(0, 1.02)
    right.set_title("shortfall exceedance over scenarios")
    right.grid(True, lw=0.3)

    if left is not None:
        ids = list(scen["id"]) if len(scen) else []
        if len(ids) <= 40:
            left.bar(range(len(ids)), tonnes, color="C0")
            left.set_xticks(range(len(ids)))
            left.set_xticklabels(ids, rotation=60, ha="right", fontsize=7)
            left.set_ylabel("shortfall (t/yr)")
            left.set_title("shortfall by scenario")
        else:
            left.hist(tonnes, bins=30, weights=probs, color="C0")
            left.set_xlabel("shortfall (t/yr)")
            left.set_ylabel("probability")
            left.set_title(f"shortfall over {len(ids)} scenarios")
        left.grid(True, axis="y", lw=0.3)
        fig.tight_layout()
    return fig
