"""Tests for sklandscape.figures.landscapes: figures carry the right labels/markers and survive bad data."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sklandscape.figures import landscapes as landscapes_plots

N1_NAMES = ["W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]", "W2[0,0]", "W2[1,0]", "b2[0]"]


# ----------------------------------------------------------------------------- builders
def weights_table(sizes: list[int], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for layer in range(1, len(sizes)):
        for i in range(sizes[layer - 1]):
            for j in range(sizes[layer]):
                rows.append(dict(name=f"W{layer}[{i},{j}]", layer=layer, kind="weight", i=i,
                                 j=j, value=rng.normal()))
        for j in range(sizes[layer]):
            rows.append(dict(name=f"b{layer}[{j}]", layer=layer, kind="bias", i=pd.NA, j=j,
                             value=rng.normal()))
    table = pd.DataFrame(rows)
    table["i"] = table["i"].astype("Int64")
    return table


def quadratic_weights_table(a_min=0.5, b_min=-1.0):
    """MSE = (a - a_min)^2 + 3 (b - b_min)^2 + 0.2 on a grid that contains the minimum."""
    a = np.linspace(-2.0, 2.0, 41)  # step 0.1: 0.5 is a grid point
    b = np.linspace(-3.0, 1.0, 21)  # step 0.2: -1.0 is a grid point
    A, B = np.meshgrid(a, b, indexing="ij")
    loss = (A - a_min) ** 2 + 3 * (B - b_min) ** 2 + 0.2
    return pd.DataFrame({"W1[0,0]": A.ravel(), "W2[0,0]": B.ravel(), "loss": loss.ravel()})


def data_2d(n=60, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(n, 2))
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": np.sin(x[:, 0]) * x[:, 1]})


def data_1d(n=30, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    return pd.DataFrame({"x0": x, "y": np.sin(2 * x)})


def dense_grid(g0=31, g1=21):
    x0, x1 = np.linspace(-3, 3, g0), np.linspace(-3, 3, g1)
    X0, X1 = np.meshgrid(x0, x1, indexing="ij")
    return x0, x1, X0, X1


def input_table(peak=(-2.0, 0.0)) -> pd.DataFrame:
    x0, x1, X0, X1 = dense_grid()
    target = np.sin(X0) * X1
    prediction = target + np.exp(-((X0 - peak[0]) ** 2 + (X1 - peak[1]) ** 2))
    return pd.DataFrame({"x0": X0.ravel(), "x1": X1.ravel(), "target": target.ravel(),
                         "prediction": prediction.ravel(),
                         "loss": ((prediction - target) ** 2).ravel()})


# ----------------------------------------------------------------------------- inspection
def colorbars(fig: Figure):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def plain_axes(fig: Figure):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.name != "3d"]


def axes_3d(fig: Figure):
    return [ax for ax in fig.axes if ax.name == "3d"]


def all_texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def marker(ax, gid: str):
    (line,) = [line for line in ax.lines if line.get_gid() == gid]
    return float(line.get_xdata()[0]), float(line.get_ydata()[0])


def render(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


@pytest.fixture
def strict_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ----------------------------------------------------------------------------- tests
def test_import_does_not_load_pyplot():
    src = str(Path(landscapes_plots.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = "import sys, sklandscape.figures.landscapes; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_n1_diagram_labels_every_parameter_with_its_value(strict_warnings):
    weights = weights_table([1, 2, 1])
    fig = landscapes_plots.network_diagram([1, 2, 1], weights, title="N1")
    texts = all_texts(fig)
    for row in weights.itertuples():
        labelled = [t for t in texts if t.startswith(f"{row.name}=")]
        assert len(labelled) == 1, row.name
        shown = float(labelled[0].split("=")[1].replace("\u2212", "-"))
        assert shown == pytest.approx(row.value, abs=0.006)
    assert set(N1_NAMES) <= {t.split("=")[0] for t in texts}
    assert len(colorbars(fig)) == 1
    render(fig)


def test_n2_diagram_names_blocks_instead_of_every_edge(strict_warnings):
    sizes = [2, 10, 10, 1]
    fig = landscapes_plots.network_diagram(sizes, weights_table(sizes), title="N2")
    texts = "\n".join(all_texts(fig))
    for block in ("W1[i,j]: 2\u00d710", "W2[i,j]: 10\u00d710", "W3[i,j]: 10\u00d71"):
        assert block in texts
    assert "W2[3,4]" not in texts  # no per-edge clutter
    assert "b2[j]" in texts
    assert len(colorbars(fig)) == 1
    render(fig)


def test_dataset_figure_2d_has_surface_and_contour(strict_warnings):
    x0, x1, X0, X1 = dense_grid()
    fig = landscapes_plots.dataset_figure(data_2d(), title="target", grid=(x0, x1, np.sin(X0) * X1))
    (ax,) = plain_axes(fig)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")
    assert len(axes_3d(fig)) == 1 and len(colorbars(fig)) == 1
    assert any(c.get_offsets().shape[0] == 60 for c in ax.collections)  # data overlaid
    render(fig)


def test_dataset_figure_1d_is_a_scatter(strict_warnings):
    fig = landscapes_plots.dataset_figure(data_1d(), title="data")
    (ax,) = plain_axes(fig)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "y")
    assert ax.collections[0].get_offsets().shape == (30, 2)


def test_fit_figure_1d_shows_prediction_and_truth(strict_warnings):
    x = np.linspace(-2, 2, 100)
    fig = landscapes_plots.fit_figure(data_1d(), title="fit", x_dense=x, prediction=np.tanh(x),
                           target=np.sin(2 * x))
    (ax,) = plain_axes(fig)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training data", "true function", "network prediction"]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), np.tanh(x))


@pytest.mark.parametrize("with_target", [True, False])
def test_fit_figure_2d_panels(strict_warnings, with_target):
    x0, x1, X0, X1 = dense_grid()
    target = np.sin(X0) * X1 if with_target else None
    fig = landscapes_plots.fit_figure(data_2d(), title="fit 2d", x_dense=(x0, x1),
                           prediction=np.sin(X0) * X1 + 0.1 * X0, target=target)
    n = 3 if with_target else 1
    assert len(plain_axes(fig)) == n and len(colorbars(fig)) == n
    assert all(ax.get_xlabel() == "x0" for ax in plain_axes(fig))
    render(fig)


def test_input_landscape_marks_the_maximum_error(strict_warnings):
    fig = landscapes_plots.input_landscape_figure(input_table(peak=(-2.0, 0.0)), data_2d(), title="err")
    (ax,) = plain_axes(fig)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")
    assert marker(ax, "argmax") == pytest.approx((-2.0, 0.0))
    (cbar,) = colorbars(fig)
    assert cbar.get_ylabel() == "squared error"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("top 5% error") for t in legend)
    assert any("x0=-2.00, x1=0.00" in t for t in legend)
    assert len(axes_3d(fig)) == 1
    render(fig)


def test_weights_landscape_marks_true_minimum_and_trained_point(strict_warnings):
    table = quadratic_weights_table(a_min=0.5, b_min=-1.0)
    centre = {"W1[0,0]": 0.3, "W2[0,0]": -0.8}
    fig = landscapes_plots.weights_landscape_figure(table, axes=("W1[0,0]", "W2[0,0]"), centre=centre,
                                         title="fig 5")
    (ax,) = plain_axes(fig)
    assert ax.get_xlabel() == "W1[0,0] (weight value)"
    assert ax.get_ylabel() == "W2[0,0] (weight value)"
    assert marker(ax, "grid-minimum") == pytest.approx((0.5, -1.0))
    assert marker(ax, "trained") == pytest.approx((0.3, -0.8))
    (cbar,) = colorbars(fig)
    assert cbar.get_ylabel() == "MSE"
    (ax3,) = axes_3d(fig)
    assert ax3.get_xlabel().startswith("W1[0,0]") and ax3.get_ylabel().startswith("W2[0,0]")
    render(fig)


def test_weights_landscape_ignores_row_order_and_column_order(strict_warnings):
    table = quadratic_weights_table(a_min=-1.2, b_min=0.6)
    shuffled = table[["loss", "W2[0,0]", "W1[0,0]"]].sample(frac=1.0, random_state=3)
    fig = landscapes_plots.weights_landscape_figure(shuffled, axes=("W1[0,0]", "W2[0,0]"),
                                         centre={"W1[0,0]": 0.0, "W2[0,0]": 0.0}, title="t")
    assert marker(plain_axes(fig)[0], "grid-minimum") == pytest.approx((-1.2, 0.6))


def test_irregular_grid_is_rejected():
    table = quadratic_weights_table().iloc[:-1]
    with pytest.raises(ValueError, match="grid"):
        landscapes_plots.weights_landscape_figure(table, axes=("W1[0,0]", "W2[0,0]"),
                                       centre={"W1[0,0]": 0.0, "W2[0,0]": 0.0}, title="t")


def _corrupt(loss: np.ndarray, case: str) -> np.ndarray:
    loss = loss.copy()
    if case == "nan-inf-huge":
        loss[:7], loss[10], loss[20], loss[30] = np.nan, np.inf, 1e300, np.finfo(float).max
    elif case == "constant":
        loss[:] = 2.5
    elif case == "all-nan":
        loss[:] = np.nan
    elif case == "zero":
        loss[:] = 0.0
    elif case == "mostly-inf":
        loss[5:] = np.inf
    return loss


CASES = ["nan-inf-huge", "constant", "all-nan", "zero", "mostly-inf"]


@pytest.mark.parametrize("case", CASES)
def test_weights_landscape_renders_bad_values_without_warnings(strict_warnings, case):
    table = quadratic_weights_table()
    table["loss"] = _corrupt(table["loss"].to_numpy(), case)
    fig = landscapes_plots.weights_landscape_figure(table, axes=("W1[0,0]", "W2[0,0]"),
                                         centre={"W1[0,0]": 0.0, "W2[0,0]": 0.0}, title=case)
    (cbar,) = colorbars(fig)
    assert cbar.get_ylabel().startswith("MSE")
    render(fig)
    if case == "nan-inf-huge":
        assert "colour scale clipped at" in cbar.get_ylabel()
        legend = [t.get_text() for t in plain_axes(fig)[0].get_legend().get_texts()]
        assert "non-finite loss (8 cells)" in legend
        assert marker(plain_axes(fig)[0], "grid-minimum") == pytest.approx((0.5, -1.0))


@pytest.mark.parametrize("case", CASES)
def test_input_landscape_renders_bad_values_without_warnings(strict_warnings, case):
    table = input_table()
    table["loss"] = _corrupt(table["loss"].to_numpy(), case)
    fig = landscapes_plots.input_landscape_figure(table, data_2d(), title=case)
    assert len(colorbars(fig)) == 1
    render(fig)


def test_save_figure_is_byte_reproducible(tmp_path, strict_warnings):
    def build():
        return landscapes_plots.weights_landscape_figure(
            quadratic_weights_table(), axes=("W1[0,0]", "W2[0,0]"),
            centre={"W1[0,0]": 0.3, "W2[0,0]": -0.8}, title="reproducible")

    first, second = tmp_path / "a" / "fig.png", tmp_path / "b" / "nested" / "fig.png"
    landscapes_plots.save_figure(build(), first)
    landscapes_plots.save_figure(build(), second)
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data == second.read_bytes()
    assert b"Software" not in data and b"matplotlib" not in data.lower()


def _texts(figure) -> str:
    """Every word a figure shows: titles, axis and colour-bar labels, legend entries."""
    from matplotlib.text import Text

    found = [text.get_text() for text in figure.findobj(Text)]
    found += [text.get_text() for ax in figure.axes for text in (ax.get_legend().get_texts()
                                                                  if ax.get_legend() else [])]
    return "\n".join(found)


def test_a_classifiers_figures_name_its_loss_whoever_draws_them(tmp_path):
    """The loss's name is an argument of every figure, not a setting around drawing: the
    optimizers' figure, a plane and the curvature maps of a classifier say log-loss, and
    saving a figure writes the provenance it is given."""
    import warnings

    from PIL import Image
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier

    import sklandscape as sl

    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=200, random_state=0).fit(X, y)
    slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), resolution=7, progress=False)
    figures = [sl.random_plane(model, X, y, resolution=5, progress=False).plot("plane"),
               slice_.plot(),
               sl.optimizers(model, X, y, slice_, start_offsets=[[0.5, 0.5]],
                             learning_rates=[0.1], max_steps=5, progress=False).plot()]
    curvature = sl.curvature(model, X, y, slice_, progress=False)
    figures += [curvature.plot(which) for which in ("plateau", "cuts", "spectrum")]
    for figure in figures:
        words = _texts(figure)
        assert "log-loss" in words and "MSE" not in words, words[:500]
    written = curvature.save_figure(tmp_path / "plateau.png", "plateau")
    chunks = Image.open(written).text
    assert json.loads(chunks["sklandscape:kind"]) == "curvature"
    assert json.loads(chunks["sklandscape:network"])["loss"] == "log-loss"
