"""The README's Python examples run as written (STYLE 12)."""

from __future__ import annotations

import os
import re

import pytest

from support import REPO


def _python_blocks() -> list:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(_python_blocks()) >= 2


@pytest.mark.parametrize("index", range(2))
def test_readme_python_example(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _python_blocks()
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(REPO)  # the README's paths are relative to the repository
    try:
        for block in blocks[: index + 1]:  # later blocks build on earlier ones
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    if index == 0:
        assert out.startswith("optimal ")
        assert len(namespace["plan"]) > 0
        from matplotlib.figure import Figure

        assert isinstance(namespace["fig"], Figure)
    else:
        assert out.splitlines()[-1].startswith("sites[0].modul_capacity unknown field")
