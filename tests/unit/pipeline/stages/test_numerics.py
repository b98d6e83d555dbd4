"""Numerical edges: huge spans, saturated activations, overflow; finite or a documented inf.

Each landscape is made by the real stage function from real files, with every warning
turned into an error (no wall of warnings), and checked against MLPRegressor.predict with
the same weights set: the reference overflows the same way, so inf must match inf.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape import io
from sklandscape.data.datasets import generate, split_xy
from sklandscape.engine.landscape import summarize
from sklandscape.figures import landscapes as landscapes_plots
from sklandscape.model.network import Network
from sklandscape.pipeline.stages import figures, landscapes

HUGE = 1e100  # the schema's largest span and margin


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def write_inputs(tmp_path, activation, hidden=(2,)):
    data = generate(function="sine", n_samples=25, domain=[[-3.0, 3.0]], sampling="grid")
    X, y = split_xy(data)
    model, _, _ = fitted_mlp(hidden, activation, n=60)
    io.write_table(data, tmp_path / "data.parquet", {"dataset": {"domain": [[-3.0, 3.0]]}})
    io.write_weights(Network.from_estimator(model), tmp_path / "weights.parquet")
    return model, X, y


def reference_mse(model, net, X, y, updates) -> float:
    """MLPRegressor.predict with the two weights set; overflow allowed, as in the engine."""
    model.coefs_, model.intercepts_ = net.with_values(updates).to_estimator_arrays()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(np.mean((model.predict(X) - y) ** 2))


def huge_landscape(tmp_path, activation, axes, hidden=(2,)):
    model, X, y = write_inputs(tmp_path, activation, hidden)
    spec = {"network": "N", "kind": "weights", "axes": list(axes), "span": HUGE, "resolution": 9,
            "samples": "all"}
    out = tmp_path / "landscape.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = landscapes.weights_landscape(tmp_path / "weights.parquet", tmp_path / "data.parquet",
                                           out, spec, "hash")
    table, metadata = io.read_table(out)
    net = io.read_weights(tmp_path / "weights.parquet")
    for row in table.sample(n=20, random_state=0).itertuples(index=False):
        expected = reference_mse(model, net, X, y, {axes[0]: row[0], axes[1]: row[1]})
        if np.isfinite(expected):
            assert row[2] == pytest.approx(expected, rel=1e-9), row
        else:
            assert row[2] == expected, row  # the same inf
    return table, metadata, metrics


@pytest.mark.parametrize("activation,axes", [
    ("tanh", ("W1[0,0]", "b1[0]")),      # saturates at +-1
    ("logistic", ("W1[0,0]", "b1[1]")),  # exp(-z) overflows inside; saturates at 0 or 1
])
def test_saturating_units_give_finite_loss_at_huge_spans(tmp_path, activation, axes):
    table, metadata, metrics = huge_landscape(tmp_path, activation, axes)
    assert np.isfinite(table["loss"]).all()
    assert table[axes[0]].abs().max() == pytest.approx(HUGE, rel=1e-12)
    assert metadata["n_nonfinite"] == metrics["n_nonfinite"] == 0


@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_overflow_is_stored_as_inf_and_counted(tmp_path, activation):
    # weights of 1e100 in both layers: outputs near 1e200, squared errors beyond float64
    table, metadata, metrics = huge_landscape(tmp_path, activation, ("W1[0,0]", "W2[0,0]"))
    loss = table["loss"].to_numpy()
    n_inf = int(np.isposinf(loss).sum())
    assert n_inf > 0 and not np.isnan(loss).any()
    assert metadata["n_nonfinite"] == metrics["n_nonfinite"] == n_inf
    assert summarize(table, ("W1[0,0]", "W2[0,0]"))["n_nonfinite"] == n_inf
    # the summary's minimum is a finite cell, where one exists
    assert np.isfinite(metrics["loss_min"]) and metrics["loss_min"] == loss[np.isfinite(loss)].min()


def test_huge_margin_input_landscape_has_no_warnings(tmp_path, no_warnings):
    model, _, _ = fitted_mlp((3,), "relu", n_features=2, n=60)
    data = generate(function="waves_with_spike", n_samples=30, domain=[[-3, 3], [-3, 3]])
    io.write_table(data, tmp_path / "data.parquet", {"dataset": {"domain": [[-3, 3], [-3, 3]]}})
    io.write_weights(Network.from_estimator(model), tmp_path / "weights.parquet")
    spec = {"network": "N", "kind": "input_space", "resolution": 7, "margin": HUGE}
    out = tmp_path / "input.parquet"
    landscapes.input_space_landscape(tmp_path / "weights.parquet", tmp_path / "data.parquet", out,
                                 spec, "waves_with_spike", "hash")
    table, metadata = io.read_table(out)
    assert table["x0"].min() == pytest.approx(-HUGE, rel=1e-12)
    with np.errstate(all="ignore"):
        expected = (model.predict(table[["x0", "x1"]].to_numpy()) - table["target"]) ** 2
    np.testing.assert_array_equal(np.isfinite(table["loss"]), np.isfinite(expected))
    assert metadata["n_nonfinite"] == int((~np.isfinite(table["loss"])).sum())


def test_figure_of_an_overflowing_landscape_renders_with_a_finite_scale(tmp_path, no_warnings):
    table, metadata, _ = huge_landscape(tmp_path, "identity", ("W1[0,0]", "W2[0,0]"))
    figures.landscape_figure(tmp_path / "landscape.parquet", tmp_path / "data.parquet",
                             tmp_path / "landscape.png")
    assert (tmp_path / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same drawing, inspected: the colour scale spans the finite cells only (inf
    # cannot stretch it), and the non-finite cells are counted in the legend.
    fig = landscapes_plots.weights_landscape_figure(table, axes=("W1[0,0]", "W2[0,0]"),
                                         centre=metadata["centre"], title="t")
    (colorbar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    finite = table["loss"][np.isfinite(table["loss"])]
    low, high = colorbar.get_ylim()
    assert np.isfinite([low, high]).all()
    # (contour levels are rounded outward to nice numbers)
    assert low <= finite.min() and finite.max() <= high < 1.2 * finite.max()
    contour = next(ax for ax in fig.axes if ax.get_legend() is not None)
    legend = [t.get_text() for t in contour.get_legend().get_texts()]
    assert f"non-finite loss ({metadata['n_nonfinite']} cells)" in legend


def test_one_huge_cell_clips_the_colour_scale(tmp_path, no_warnings):
    # A landscape whose loss is moderate except near one edge, where it explodes: the
    # scale is clipped so the rest stays readable, and the colour bar says so.
    model, X, y = write_inputs(tmp_path, "identity")
    spec = {"network": "N", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.0,
            "resolution": 41, "samples": "all"}
    out = tmp_path / "landscape.parquet"
    landscapes.weights_landscape(tmp_path / "weights.parquet", tmp_path / "data.parquet", out, spec, "h")
    table, metadata = io.read_table(out)
    table.loc[0, "loss"] = 1e300  # one cell far beyond the bulk, as overflow near it would give
    fig = landscapes_plots.weights_landscape_figure(table, axes=("W1[0,0]", "W2[0,0]"),
                                         centre=metadata["centre"], title="t")
    (colorbar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert "colour scale clipped at" in colorbar.get_ylabel()
    assert colorbar.get_ylim()[1] < 1e300
