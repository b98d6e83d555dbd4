"""The direction figures: labelled, markers where the tables say, shared scales, no warnings."""

from __future__ import annotations

import io as bytes_io
import os
import subprocess
import sys
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm

from sklandscape.figures import directions as directions_plots
from sklandscape.figures import planes as planes_plots
from sklandscape.figures.drawing import DPI

NAMES = ["W1[0,0]", "b1[0]", "W2[0,0]", "b2[0]"]
CENTRE = {"W1[0,0]": 0.5, "b1[0]": -1.0, "W2[0,0]": 2.0, "b2[0]": 0.0}


@pytest.fixture
def strict_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def render(fig) -> bytes:
    buf = bytes_io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


def colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def marker(ax, gid):
    (line,) = [line for line in ax.lines if line.get_gid() == gid]
    return float(line.get_xdata()[0]), float(line.get_ydata()[0])


def pairs_table(pairs, scale=1.0, n=9):
    """A quadratic bowl per pair, minimum at (centre + 0.25, centre - 0.5), values ~1e-4..1e2."""
    frames = []
    for x_name, y_name in pairs:
        x = CENTRE[x_name] + np.linspace(-1, 1, n)
        y = CENTRE[y_name] + np.linspace(-1, 1, n)
        X, Y = np.meshgrid(x, y, indexing="ij")
        loss = scale * (40 * (X - CENTRE[x_name] - 0.25) ** 2 + (Y - CENTRE[y_name] + 0.5) ** 2)
        frames.append(pd.DataFrame({"x_name": x_name, "y_name": y_name, "x": X.ravel(),
                                    "y": Y.ravel(), "loss": loss.ravel() + 1e-4}))
    return pd.concat(frames, ignore_index=True)


def test_import_does_not_load_pyplot():
    src = str(Path(directions_plots.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = "import sys, sklandscape.figures.directions; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_loss_scale_is_logarithmic_only_for_wide_ranges():
    norm, levels, label = directions_plots.loss_scale([1e-5, 1.0, 300.0, np.nan])
    assert isinstance(norm, LogNorm) and (norm.vmin, norm.vmax) == (1e-5, 300.0)
    assert label == "MSE (log colour scale)" and levels[0] == 1e-5
    norm, _, label = directions_plots.loss_scale([0.5, 2.0, 3.0])
    assert not isinstance(norm, LogNorm) and (norm.vmin, norm.vmax) == (0.5, 3.0)
    assert label == "MSE"
    norm, _, label = directions_plots.loss_scale(np.append(np.linspace(1, 2, 200), 1e300))
    assert norm.vmax < 3 and "clipped" in label


def test_corner_plot_lower_triangle_with_names_on_the_margins(strict_warnings):
    pairs = list(combinations(NAMES, 2))
    fig = directions_plots.corner_plot(pairs_table(pairs), NAMES, CENTRE, title="corner")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 6 and len(colorbars(fig)) == 1
    assert "shared by all panels" in colorbars(fig)[0].get_ylabel()
    by_cell = {(ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start): ax
               for ax in panels}
    assert sorted(by_cell) == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
    assert [by_cell[2, c].get_xlabel() for c in range(3)] == NAMES[:3]
    assert [by_cell[r, 0].get_ylabel() for r in range(3)] == NAMES[1:]
    assert by_cell[1, 1].get_xlabel() == by_cell[1, 1].get_ylabel() == ""  # inner panel
    # panel (row 1, col 0) is the pair (W1[0,0], W2[0,0])
    pair = ("W1[0,0]", "W2[0,0]")
    assert marker(by_cell[1, 0], f"trained {pair}") == (0.5, 2.0)
    assert marker(by_cell[1, 0], f"minimum {pair}") == pytest.approx((0.75, 1.5))
    # one colour scale: every panel's contour set uses the same limits
    limits = {(c.norm.vmin, c.norm.vmax) for ax in panels for c in ax.collections
              if hasattr(c, "levels")}
    assert len(limits) == 1
    render(fig)


@pytest.mark.parametrize("low,high", [(9.1e-7, 860.0), (0.0106, 2.3), (0.5, 3.0)])
def test_colorbar_ticks_stay_inside_the_colour_scale(strict_warnings, low, high):
    """A tick outside the norm stretches the bar with an uncoloured band."""
    a, b, loss = plane()
    loss = low + (loss - loss.min()) / (loss.max() - loss.min()) * (high - low)
    fig = planes_plots.random_plane_figure(a, b, loss, low, title="ticks")
    (cbar,) = colorbars(fig)
    ticks = cbar.get_yticks()
    assert len(ticks) >= 2 and low * (1 - 1e-9) <= ticks.min() and ticks.max() <= high * (1 + 1e-9)


def test_corner_plot_of_listed_pairs_leaves_the_others_empty(strict_warnings):
    table = pairs_table([("W1[0,0]", "b2[0]"), ("b1[0]", "W2[0,0]")])
    fig = directions_plots.corner_plot(table, NAMES, CENTRE, title="subset")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    # each panel is the lowest of its column and the first of its row: both names shown
    assert {(ax.get_xlabel(), ax.get_ylabel()) for ax in panels} == {
        ("W1[0,0]", "b2[0]"), ("b1[0]", "W2[0,0]")}
    render(fig)


@pytest.mark.parametrize("bad", ["nan", "inf", "constant"])
def test_corner_plot_survives_bad_values(strict_warnings, bad):
    table = pairs_table(list(combinations(NAMES[:3], 2)))
    if bad == "constant":
        table["loss"] = 2.0
    else:
        table.loc[::7, "loss"] = np.nan if bad == "nan" else np.inf
    render(directions_plots.corner_plot(table, NAMES[:3], CENTRE, title=bad))


def plane(n=21):
    a = b = np.linspace(-1, 1, n)
    A, B = np.meshgrid(a, b, indexing="ij")
    return a, b, 1e-3 + 50 * (A - 0.3) ** 2 + 5 * (B + 0.2) ** 2


def test_random_plane_figure_marks_centre_and_minimum(strict_warnings):
    a, b, loss = plane()
    fig = planes_plots.random_plane_figure(a, b, loss, float(loss[10, 10]), title="plane")
    ax = [x for x in fig.axes if x.name != "3d" and x.get_label() != "<colorbar>"][0]
    assert marker(ax, "trained") == (0.0, 0.0)
    assert marker(ax, "grid-minimum") == pytest.approx((0.3, -0.2))
    assert ax.get_xlabel() == "a (step along direction d1)"
    assert len([x for x in fig.axes if x.name == "3d"]) == 1
    assert colorbars(fig)[0].get_ylabel() == "MSE (log colour scale)"
    render(fig)


def test_seed_spread_figure_has_one_map_per_seed_and_the_spread_table(strict_warnings):
    a, b, loss = plane()
    planes = {0: loss, 1: loss.T.copy(), 5: 2 * loss}
    stats = pd.DataFrame({"seed": [0, 1, 5], "loss_max": [loss.max(), loss.max(), 2 * loss.max()],
                          "cosine_d1_d2": [0.1, -0.2, 0.05]})
    fig = planes_plots.seed_spread_figure(a, b, planes, stats, ["loss_max", "cosine_d1_d2"], title="s")
    titles = [ax.get_title() for ax in fig.axes]
    assert [t for t in titles if t.startswith("seed")] == ["seed 0", "seed 1", "seed 5"]
    assert len(colorbars(fig)) == 1
    (table_ax,) = [ax for ax in fig.axes if ax.tables]
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in table_ax.tables[0].get_celld().items()}
    assert cells[(1, 0)] == "loss_max" and cells[(1, 1)] == f"{stats['loss_max'].mean():.3g}"
    assert cells[(2, 3)] == "-"  # no relative spread for a signed quantity
    render(fig)


@pytest.mark.parametrize("wide", [True, False])
def test_interpolation_figure(strict_warnings, wide):
    alphas = np.linspace(-0.5, 1.5, 81)
    loss = (alphas - 1) ** 2 + (1e-5 if wide else 0.5)
    shape = {"monotone_between": 1.0, "max_rise_between": 0.0, "barrier": 0.0}
    fig = directions_plots.interpolation_figure(alphas, loss, float(loss[20]), float(loss[60]), shape,
                                   title="line")
    (ax,) = fig.axes
    assert ax.get_yscale() == ("log" if wide else "linear")
    assert marker(ax, "initial") == (0.0, float(loss[20]))
    assert marker(ax, "trained") == (1.0, float(loss[60]))
    assert ax.get_title() == "monotone decrease from initial to trained"
    render(fig)


def test_trajectory_figure_colours_the_path_by_distance(strict_warnings):
    a, b, loss = plane()
    t = np.linspace(1, 0, 30)
    path = pd.DataFrame({"iteration": np.arange(30), "a": 0.8 * t, "b": 0.5 * t * (1 - t),
                         "distance": 0.1 * t, "offset": t, "loss": 1 + t, "loss_projected": 1 + t**2})
    fig = directions_plots.trajectory_pca_figure(a, b, loss, path, np.array([0.9, 0.08]), title="path")
    main = fig.axes[0]
    (points,) = [c for c in main.collections if c.get_gid() == "path"]
    np.testing.assert_array_equal(points.get_array(), path["distance"])
    np.testing.assert_allclose(points.get_offsets(), path[["a", "b"]].to_numpy())
    assert main.get_xlabel().startswith("a: first principal direction (90.0%")
    labels = [c.get_ylabel() for c in colorbars(fig)]
    assert any(label.startswith("path point's distance from the plane") for label in labels)
    assert marker(main, "trained") == (0.0, 0.0) and marker(main, "initial") == (0.8, 0.0)
    render(fig)


@pytest.mark.parametrize("figure", ["corner", "seed_spread"])
def test_hand_laid_out_figures_keep_everything_inside_and_apart(figure):
    """The figures placed without constrained layout: every axes (with its tick labels and
    axis labels) lies inside the figure, below the title, and no two overlap."""
    if figure == "corner":
        fig = directions_plots.corner_plot(pairs_table(list(combinations(NAMES, 2))), NAMES, CENTRE,
                              title="a long title " * 20)
    else:
        a, b, loss = plane()
        planes = {s: loss * (s + 1) for s in range(5)}
        stats = pd.DataFrame({"seed": range(5), "loss_max": [loss.max()] * 5})
        fig = planes_plots.seed_spread_figure(a, b, planes, stats, ["loss_max"],
                                              title="a long title " * 20)
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = fig.bbox
    (title,) = [t.get_window_extent(renderer) for t in fig.texts
                if t.get_text() == fig.get_suptitle()]
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible() and ax.axison]
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 + 1
        assert frame.y0 <= box.y0 and box.y1 <= title.y0
    for i, first in enumerate(boxes):
        for second in boxes[i + 1:]:
            overlap_x = min(first.x1, second.x1) - max(first.x0, second.x0)
            overlap_y = min(first.y1, second.y1) - max(first.y0, second.y0)
            assert min(overlap_x, overlap_y) <= 1, (first, second)
