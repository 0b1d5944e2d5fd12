"""DataFrame <-> model-record conversion (no solver logic here)."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional

import pandas as pd


def is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA and NaT: a cell the row leaves unset."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, integral floats made ints (serde reads
    an int for a float field, but not a float for an integer field such as ``max_modules``)."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)):
        try:
            value = value.item()
        except (AttributeError, ValueError, TypeError):
            pass
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if not is_missing(v)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist())
    return value


def records(frame: Optional[pd.DataFrame], section: str) -> List[Dict[str, Any]]:
    """The rows of ``frame`` as model records; missing cells are left out of their record."""
    if frame is None:
        return []
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{section}: expected a pandas DataFrame, got {type(frame).__name__}")
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({str(k): plain(v) for k, v in row.items() if not is_missing(v)})
    return out


def scenario_records(frame: Optional[pd.DataFrame]) -> List[Dict[str, Any]]:
    """Scenarios from either layout.

    Wide: one row per scenario with ``id``, ``probability`` and optional ``description``,
    ``availability`` (dict node-or-route id -> availability left), ``closed_chokepoints`` and
    ``embargoes`` (lists).

    Long: one row per disrupted node or route with ``id``, ``probability``, ``target`` (node or
    route id) and ``availability`` (0..1 left; default 0); rows of one ``id`` make one scenario.
    """
    if frame is None:
        return []
    if "target" not in frame.columns:
        return records(frame, "scenarios")
    by_id: Dict[str, Dict[str, Any]] = {}
    for row in records(frame, "scenarios"):
        sid = row.get("id")
        if sid is None:
            # Leave the missing id for the core to report with its path.
            sid = f"<row {len(by_id)}>"
        scenario = by_id.setdefault(str(sid), {"id": row.get("id"), "availability": {}})
        if scenario["id"] is None:
            del scenario["id"]
        for key in ("probability", "description"):
            if key in row:
                scenario[key] = row[key]
        for key in ("closed_chokepoints", "embargoes"):
            if key in row:
                scenario.setdefault(key, []).extend(
                    row[key] if isinstance(row[key], list) else [row[key]]
                )
        if "target" in row:
            scenario["availability"][str(row["target"])] = row.get("availability", 0)
    return list(by_id.values())


def frame(rows: List[Dict[str, Any]], columns: List[str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` that has ``columns`` even when there are no rows."""
    df = pd.DataFrame(rows)
    for column in columns:
        if column not in df.columns:
            df[column] = pd.Series(dtype="object")
    ordered = columns + [c for c in df.columns if c not in columns]
    return df[ordered]
