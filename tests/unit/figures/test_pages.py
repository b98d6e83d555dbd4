"""Interactive 3-D pages: the numbers on the page are the table's, the page is deterministic,
and scale and thinning are what the caption says. (In a real browser: tests/workflow/test_mlflow_ui.py.)"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from sklandscape.figures.interactive import PAGE_POINTS, surface_page


def figure_of(page: str) -> dict:
    return json.loads(re.search(r"const figure=(\{.*?\});Plotly\.newPlot", page, re.S)[1])


def test_the_surface_holds_the_grids_values_thinned_with_the_trained_point_kept():
    x = np.linspace(-2, 2, 301)
    y = np.linspace(-1, 3, 251)
    z = (x[:, None] - 0.3) ** 2 + (y[None, :] - 1.1) ** 2 + 1.0
    page = surface_page(x, y, z, title="t", labels=("W1[0,0]", "b1[0]"), z_label="MSE",
                        trained=(0.3, 1.1),
                        paths=[("path", np.array([0.0, 0.3]), np.array([1.0, 1.1]),
                                np.array([1.1, 1.0]))])
    surface, marker, path = figure_of(page)["data"]
    xs, ys, zs = np.array(surface["x"]), np.array(surface["y"]), np.array(surface["z"], float)
    assert len(xs) <= PAGE_POINTS + 2 and len(ys) <= PAGE_POINTS + 2
    assert zs.shape == (len(ys), len(xs))  # plotly: a row per y
    i = np.abs(x[None, :] - xs[:, None]).argmin(axis=1)  # the page rounds to 6 digits
    j = np.abs(y[None, :] - ys[:, None]).argmin(axis=1)
    np.testing.assert_allclose(xs, x[i], rtol=6e-6)
    np.testing.assert_allclose(zs, z[np.ix_(i, j)].T, rtol=6e-6)
    near = (int(np.abs(x - 0.3).argmin()), int(np.abs(y - 1.1).argmin()))
    assert near[0] in i and near[1] in j  # the trained point's cell is on the page
    assert marker["name"] == "trained weights"
    assert marker["z"] == [pytest.approx(z[near], rel=6e-6)]
    assert path["z"] == [1.1, 1.0] and surface["colorbar"]["title"]["text"] == "MSE"
    assert surface["contours"]["z"]["project"]["z"] is True


def test_many_decades_are_drawn_as_log10_and_non_finite_cells_as_gaps():
    x = y = np.linspace(0, 1, 11)
    z = 10.0 ** (6 * x[:, None] + 0 * y[None, :] - 3)
    z[2, 3] = np.inf
    surface = figure_of(surface_page(x, y, z, title="t", labels=("a", "b"), z_label="MSE"))["data"][0]
    zs = np.array(surface["z"], dtype=float)
    assert surface["name"] == "log10 MSE"
    np.testing.assert_allclose(zs[0, :2], np.log10(z[:2, 0]), rtol=6e-6)
    assert surface["z"][3][2] is None


def test_the_same_table_gives_the_same_bytes():
    x = y = np.linspace(-1, 1, 41)
    z = np.cos(x[:, None]) * np.sin(y[None, :]) + 2
    first = surface_page(x, y, z, title="t", labels=("a", "b"), z_label="loss", trained=(0, 0))
    again = surface_page(x, y, z, title="t", labels=("a", "b"), z_label="loss", trained=(0, 0))
    assert first == again
    assert "<script src=" not in first and "Plotly.newPlot" in first  # self-contained


def test_a_plane_of_several_seeds_beyond_the_figures_thinning_gets_its_first_seeds_page(tmp_path):
    """A random plane over 251² points and two seeds: the page shows the first seed's plane,
    whole (thinned on the page itself), not rows of the grid's thinning of one plane."""
    import pandas as pd

    from sklandscape import io
    from sklandscape.pipeline.stages.pages import landscape_page

    a = np.linspace(-1, 1, 251)
    frames = [pd.DataFrame({"seed": seed, "a": np.repeat(a, 251), "b": np.tile(a, 251),
                            "loss": np.repeat(a, 251) ** 2 + (seed + 1) * np.tile(a, 251) ** 2 + 1})
              for seed in (3, 4)]
    table = tmp_path / "plane.parquet"
    io.write_table(pd.concat(frames, ignore_index=True), table,
                   {"landscape": {"kind": "random_plane", "resolution": 251, "seeds": [3, 4]},
                    "network": {"name": "N1"}})
    landscape_page(table, tmp_path / "plane.html")
    figure = figure_of((tmp_path / "plane.html").read_text())
    surface, marker, minimum = figure["data"]
    # the topology of the plane shown: one basin, its minimum at the centre
    assert minimum["name"] == "1 significant minimum"
    assert (minimum["x"], minimum["y"], minimum["z"]) == ([0.0], [0.0], [1.0])
    basin_button = figure["layout"]["updatemenus"][0]["buttons"][1]
    assert basin_button["label"] == "colour: basin (1)"
    xs, ys = np.array(surface["x"]), np.array(surface["y"])
    expected = xs[:, None] ** 2 + 4 * ys[None, :] ** 2 + 1  # seed 3: (3 + 1) on b²
    np.testing.assert_allclose(np.array(surface["z"], float), expected.T, rtol=6e-6)
    assert marker["z"] == [pytest.approx(1.0)]
