"""Shared fixtures: where the repository, the benchmarks and the CLI are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display in CI; plots render to PNG

import pytest  # noqa: E402

from support import BENCHMARKS, REPO  # noqa: E402


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.fail(f"{BENCHMARKS} is missing: the published optima are kept there")
    return BENCHMARKS


@pytest.fixture(scope="session")
def cli() -> str:
    """The `stockade` binary built from the same sources (STOCKADE_CLI, else target/)."""
    explicit = os.environ.get("STOCKADE_CLI")
    if explicit:
        return explicit
    built = [REPO / "target" / p / "stockade" for p in ("release", "debug")]
    built = [b for b in built if os.access(b, os.X_OK)]
    if built:
        return str(max(built, key=lambda b: b.stat().st_mtime))
    found = shutil.which("stockade")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("no stockade binary: build it with `cargo build --bin stockade`")
    pytest.skip("no stockade binary: build it with `cargo build --bin stockade`")
