"""LandscapeDisplay: a landscape's map on any matplotlib Axes, from an estimator, a Result or
a Parquet table (the pipeline's format), two on one figure, each value where the table has it."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import sklandscape as sl  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=60, random_state=0).fit(X, y)
    return model, X, y


def test_two_landscapes_share_one_figure_with_their_values(iris, tmp_path):
    model, X, y = iris
    weights = sl.weights(model, X, y, axes=("W1[0,1]", "W2[2,0]"), resolution=9,
                         heldout=(X[:20], y[:20]), progress=False)
    plane = sl.random_plane(model, X, y, seeds=[3, 4], resolution=7, progress=False)
    path = plane.to_parquet(tmp_path / "plane.parquet")  # the pipeline's file, byte for byte
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    first = sl.LandscapeDisplay.from_result(weights, value="loss_heldout").plot(ax=left)
    second = sl.LandscapeDisplay.from_parquet(path, seed=4).plot(ax=right, cmap="viridis")
    assert first.ax_ is left and second.ax_ is right and first.figure_ is second.figure_ is fig
    assert len(fig.axes) == 4  # two maps and their colour bars
    # a cell: the table's value at those coordinates
    row = weights.frame.iloc[13]
    i = np.searchsorted(first.x, row["W1[0,1]"])
    j = np.searchsorted(first.y, row["W2[2,0]"])
    assert first.values[i, j] == row["loss_heldout"]
    assert first.centre == (weights.metadata["centre"]["W1[0,1]"],
                            weights.metadata["centre"]["W2[2,0]"])
    mine = plane.frame[plane.frame["seed"] == 4]
    assert np.nanmin(second.values) == mine["loss"].min() and second.values.shape == (7, 7)
    assert "seed 4" in right.get_title() and right.get_xlabel() == "a (along d1)"
    plt.close(fig)


def test_from_estimator_and_the_other_kinds(iris):
    model, X, y = iris
    display = sl.LandscapeDisplay.from_estimator(model, X, y, "input_space", features=[2, 3],
                                                 resolution=11, progress=False).plot()
    assert display.values.shape == (11, 11) and display.x_label == "x2"
    pairs = sl.weight_pairs(model, X, y, axes=["W1[0,0]", "b1[1]", "W2[3,1]"], resolution=5,
                            progress=False)
    chosen = sl.LandscapeDisplay.from_result(pairs, pair=("b1[1]", "W2[3,1]"))
    assert (chosen.x_label, chosen.y_label) == ("b1[1]", "W2[3,1]")
    plt.close("all")


def test_bad_requests_are_named(iris, tmp_path):
    model, X, y = iris
    plane = sl.random_plane(model, X, y, seeds=[3], resolution=5, progress=False)
    with pytest.raises(ValueError, match=r"no seed 9; its seeds are \[3\]"):
        sl.LandscapeDisplay.from_result(plane, seed=9)
    with pytest.raises(ValueError, match="no column 'loss_heldout'; its columns are"):
        sl.LandscapeDisplay.from_result(plane, value="loss_heldout")
    line = sl.interpolation(model, X, y, model, resolution=5, progress=False)
    with pytest.raises(ValueError, match="'interpolation' landscape is not a 2-D map"):
        sl.LandscapeDisplay.from_result(line)
    stats = plane.to_parquet(tmp_path / "stats.parquet", "stats")
    with pytest.raises(ValueError, match="is not a landscape table"):
        sl.LandscapeDisplay.from_parquet(stats)
