"""The example notebook runs top to bottom (its last cell asserts its own results)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "rare-earths.ipynb"


def test_rare_earths_notebook_runs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # The map and the shortfall plot came out as pictures.
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3
    # The result rendered as HTML in the notebook.
    assert any("text/html" in o.get("data", {}) and "stockade" in o["data"]["text/html"]
               for o in outputs)
