"""Progress a person sees: a long call in a real Jupyter kernel (nbclient runs a notebook as
Jupyter does) shows a tqdm progress widget that ends at every cell done; the same call with
progress=False shows none, and a short call shows none either (the bar's delay)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"
SETUP = """
import time, warnings
import sklandscape as sl
from sklandscape import progress as progress_module
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
warnings.filterwarnings("ignore")
X, y = load_digits(return_X_y=True)
model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0).fit(X / 16, y)
"""
# Long enough to pass the bar's delay (BAR_DELAY, 1 s) on any machine: 81 x 81 cells of a
# digits classifier take about 2 s here.
LONG = """
started = time.perf_counter()
plane = sl.random_plane(model, X / 16, y, resolution=81, topology=False{extra})
print("seconds", time.perf_counter() - started)
"""
SHORT = "sl.random_plane(model, X / 16, y, resolution=5, topology=False);"


@pytest.fixture(scope="module")
def outputs():
    cells = [SETUP, LONG.format(extra=""), LONG.format(extra=", progress=False"), SHORT]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    # python3: jupyter_client's native kernel, this interpreter (sys.executable) with ipykernel
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            store_widget_state=True)
    client.execute()
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    return [cell.outputs for cell in notebook.cells], state["state"]


def _widgets(cell_outputs) -> list[dict]:
    return [o for o in cell_outputs if o.get("output_type") == "display_data"
            and WIDGET in o.get("data", {})]


def _seconds(cell_outputs) -> float:
    text = "".join(o.get("text", "") for o in cell_outputs if o.get("output_type") == "stream")
    return float(text.split("seconds")[1].split()[0])


def test_a_long_call_shows_a_progress_widget_that_ends_full(outputs):
    outputs, state = outputs
    assert _seconds(outputs[1]) > 1.0, "the call must outlast the bar's delay to test it"
    widgets = _widgets(outputs[1])
    assert len(widgets) == 1, outputs[1]
    # the bar's last state, as the kernel left it: a full bar and its text at every cell
    bar = state[widgets[0]["data"][WIDGET]["model_id"]]["state"]
    parts = [state[ref.removeprefix("IPY_MODEL_")]["state"] for ref in bar["children"]]
    progress = next(p for p in parts if p.get("_model_name") == "FloatProgressModel")
    assert progress["value"] == progress["max"] == 81 * 81
    text = " ".join(str(p.get("value", "")) for p in parts if p.get("_model_name") == "HTMLModel")
    assert "random_plane" in text and "6561/6561" in text and "cells/s" in text
    streams = "".join(o.get("text", "") for o in outputs[1] if o.get("output_type") == "stream")
    assert "Traceback" not in streams and "IProgress not found" not in streams


def test_progress_false_and_a_short_call_show_nothing(outputs):
    outputs, _ = outputs
    assert _widgets(outputs[2]) == []
    assert _widgets(outputs[3]) == []
    assert all(o.get("output_type") != "stream" or "cells" not in o.get("text", "")
               for o in outputs[2] + outputs[3])
