"""The type stubs match the runtime module, and the package type-checks strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import stockade

PACKAGE = Path(stockade.__file__).resolve().parent


def _mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # From an empty folder, so the package is the installed one (PEP 561), not a source tree.
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)


def test_stubtest(tmp_path: Path) -> None:
    out = _mypy("mypy.stubtest", "stockade", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_is_typed(tmp_path: Path) -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_native.pyi").is_file()
    out = _mypy("mypy", "--strict", "-p", "stockade", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
