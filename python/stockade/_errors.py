"""The exception hierarchy of stockade, and the one place native errors become it.

Solver outcomes (infeasible, time limit, interrupted) are not errors: they are the ``status`` of
a :class:`stockade.Result`. Errors are for bad input and for solver failures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Optional

__all__ = ["Problem", "StockadeError", "InputError", "SolverError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located by its JSON path.

    ``path`` is the JSON path of the field at fault (``sites[3].module_capacity``), ``entity``
    the id of the entity it belongs to when it has one, ``message`` what is wrong.
    """

    path: str
    message: str
    entity: Optional[str] = None

    def __str__(self) -> str:
        where = f"{self.path} ({self.entity})" if self.entity else self.path
        return f"{where}: {self.message}"


class StockadeError(Exception):
    """Base class of every error stockade raises."""


class InputError(StockadeError, ValueError):
    """The input cannot be used. ``problems`` lists every problem found, each with its JSON path."""

    problems: List[Problem]

    def __init__(self, message: str, problems: Optional[List[Problem]] = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])

    @property
    def paths(self) -> List[str]:
        """The JSON paths at fault, in input order."""
        return [p.path for p in self.problems]


class SolverError(StockadeError):
    """HiGHS failed (a real failure, not an infeasible or limited outcome)."""


def _problems_from_json(text: str) -> List[Problem]:
    return [
        Problem(path=p["path"], message=p["message"], entity=p.get("entity"))
        for p in json.loads(text)
    ]


def _from_native(kind: str, message: str, problems_json: str) -> StockadeError:
    """Called by ``stockade._native`` to build the exception for a core error."""
    if kind == "input":
        return InputError(message, _problems_from_json(problems_json))
    if kind == "solver":
        return SolverError(message)
    return StockadeError(message)
