"""stockade: plan resilient critical-mineral supply chains from Python notebooks.

A thin layer over the Rust core (``stockade._native``): the same model file, the same solver and
the same numbers as the ``stockade`` command line, with DataFrames and plots::

    import stockade
    model = stockade.Model.from_json("models/rare-earths.json")
    result = stockade.solve(model, time_limit=60)
    result.sites[result.sites.open]      # the recommended plan
    result.plot_map()                    # where it stands
"""

from ._evaluate import Evaluation, default_evaluation_settings, evaluate
from ._errors import InputError, Problem, SolverError, StockadeError
from ._model import Model
from ._native import __version__
from ._result import Result
from ._sweep import (
    default_frontier_settings,
    default_share_settings,
    default_sweep_settings,
    frontier,
    plot_frontier,
    saa,
    share,
    sweep,
)
from ._solve import (
    default_settings,
    import_holmberg,
    import_orlib_cap,
    import_orlib_pmed,
    schema,
    solve,
    validate,
)

__all__ = [
    "Evaluation",
    "InputError",
    "Model",
    "Problem",
    "Result",
    "SolverError",
    "StockadeError",
    "__version__",
    "default_evaluation_settings",
    "default_frontier_settings",
    "default_settings",
    "default_share_settings",
    "default_sweep_settings",
    "evaluate",
    "frontier",
    "import_holmberg",
    "import_orlib_cap",
    "import_orlib_pmed",
    "plot_frontier",
    "saa",
    "schema",
    "share",
    "solve",
    "sweep",
    "validate",
]
