"""Pictures render to PNG without a display (Agg) and return their Figure."""

from __future__ import annotations

import io

import pytest
from matplotlib.figure import Figure

import stockade
from support import RARE_EARTHS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result() -> stockade.Result:
    return stockade.solve(stockade.Model.from_json(RARE_EARTHS))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_plot_map(result: stockade.Result) -> None:
    fig = result.plot_map()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # Every open site with coordinates is drawn, and flows are lines.
    assert len(ax.lines) > 0
    assert "optimal" in ax.get_title()
    png = _png(fig)
    assert png.startswith(PNG) and len(png) > 10_000


def test_plot_map_of_one_scenario(result: stockade.Result) -> None:
    fig = result.plot_map(scenario="lynas_my_outage")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "disrupted (lynas_my_outage)" in labels
    assert _png(fig).startswith(PNG)
    with pytest.raises(ValueError):
        result.plot_map(scenario="no_such_scenario")


def test_plot_map_needs_the_model(result: stockade.Result) -> None:
    bare = stockade.Result.from_json_str(result.to_json())
    with pytest.raises(ValueError):
        bare.plot_map()


def test_plot_shortfall(result: stockade.Result) -> None:
    fig = result.plot_shortfall()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert _png(fig).startswith(PNG)
    # The exceedance curve ends at total probability 1.
    curve = fig.axes[1].lines[0]
    assert curve.get_ydata()[-1] == pytest.approx(1.0)


def test_plot_into_given_axes(result: stockade.Result) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert result.plot_shortfall(ax=ax) is fig
    assert result.plot_map(ax=ax) is fig
    plt.close(fig)
