"""Interactive 3-D pages: a landscape's surface that a reader can turn, as one HTML file.

Drawn in the browser by plotly.js, embedded whole so that the page works offline and in
MLflow's artifact view (a sandbox that loads nothing from elsewhere). The page is the figure
as JSON in a small template, written here rather than through plotly's Python package: its
import (about 0.5 s) would be paid by every drawing job, and it would only validate the same
JSON. The package supplies plotly.min.js.
"""

from __future__ import annotations

import html
import importlib.util
import json
from functools import cache
from pathlib import Path

import numpy as np

from sklandscape.engine.landscape import figure_indices

PAGE_POINTS = 101  # points per axis of the surface on the page (the table may have thousands)
LOG_DECADES = 2.0  # a positive surface spanning more decades than this is drawn as log10
DIV_ID = "sklandscape-surface"  # fixed: the same table gives the same bytes


@cache
def plotly_js() -> str:
    """plotly.min.js from the installed plotly package, without importing it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the interactive 3-D pages need the plotly package "
                                  "(pip install plotly), which ships plotly.js")
    return (Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js").read_text(
        encoding="utf-8")


def _numbers(values) -> list:
    """JSON numbers at 6 significant digits; non-finite values as null (a gap)."""
    array = np.asarray(values, dtype=float)
    return [float(f"{v:.6g}") if np.isfinite(v) else None for v in array.ravel()]


def _scale(z: np.ndarray, label: str):
    """log10 where the finite, positive surface spans many decades (else a wall hides the rest)."""
    finite = z[np.isfinite(z)]
    if finite.size and finite.min() > 0 and np.log10(finite.max() / finite.min()) > LOG_DECADES:
        return np.log10, f"log10 {label}"
    return (lambda v: np.asarray(v, dtype=float)), label


def _levels(z: np.ndarray, count: int = 15) -> dict:
    """About `count` evenly spaced contour levels over the finite range (plotly's own default
    draws only a few)."""
    finite = z[np.isfinite(z)]
    if finite.size == 0 or finite.max() <= finite.min():
        return {}
    lo, hi = float(finite.min()), float(finite.max())
    return {"start": lo, "end": hi, "size": (hi - lo) / count}


SYMBOLS = {"minimum": ("circle", "white", "minima"), "saddle": ("x", "orange", "saddles"),
           "maximum": ("diamond-open", "black", "maxima")}


def _critical_traces(grid, transform) -> list[dict]:
    """The significant critical points as markers at their (transformed) height."""
    traces = []
    points = grid.topology.points[grid.topology.points["significant"]]
    for kind, (symbol, colour, plural) in SYMBOLS.items():
        chosen = points[points["type"] == kind]
        if chosen.empty:
            continue
        rows, cols = chosen["row"].to_numpy(), chosen["col"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            heights = transform(chosen["loss"].to_numpy())
        traces.append({"type": "scatter3d", "mode": "markers",
                       "name": f"{len(chosen)} significant {kind if len(chosen) == 1 else plural}",
                       "x": _numbers(grid.x[rows]), "y": _numbers(grid.y[cols]),
                       "z": _numbers(heights),
                       "marker": {"size": 5, "symbol": symbol, "color": colour,
                                  "line": {"color": "black", "width": 1}}})
    return traces


def _basin_buttons(basins: np.ndarray, surface: dict) -> dict:
    """Two buttons: colour the surface by the loss (as drawn) or by basin (one colour each)."""
    labels, compact = np.unique(basins, return_inverse=True)
    by_basin = [[int(v) for v in line] for line in compact.reshape(basins.shape).T]
    as_loss = {"surfacecolor": [None], "colorscale": [surface["colorscale"]],
               "showscale": [True]}
    as_basin = {"surfacecolor": [by_basin], "colorscale": ["Portland"], "showscale": [False]}
    return {"updatemenus": [{
        "type": "buttons", "direction": "right", "x": 0.0, "y": 1.0, "xanchor": "left",
        "yanchor": "top", "showactive": True,
        "buttons": [{"label": "colour: loss", "method": "restyle", "args": [as_loss, [0]]},
                    {"label": f"colour: basin ({len(labels)})", "method": "restyle",
                     "args": [as_basin, [0]]}]}]}


def surface_page(x, y, z, *, title: str, labels: tuple[str, str], z_label: str,
                 trained: tuple[float, float] | None = None,
                 paths: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = (),
                 topology_grid=None) -> str:
    """The page: the surface z[i, j] over (x[i], y[j]), its contour lines projected on the
    floor, the trained point, and paths (name, x, y, z) drawn on the surface.

    `topology_grid` (x, y: its axes, which may be finer than the page's; topology: a
    sklandscape.analyses.topology.Topology) adds the significant minima, saddles and maxima
    as markers, and a button that colours the surface by basin."""
    x, y, z = np.asarray(x, float), np.asarray(y, float), np.asarray(z, float)
    near = None if trained is None else (int(np.abs(x - trained[0]).argmin()),
                                         int(np.abs(y - trained[1]).argmin()))
    # every k-th point (the centre, the last and the trained point's kept), as the PNGs thin
    rows = figure_indices(len(x), PAGE_POINTS, [near[0]] if near else ())
    cols = figure_indices(len(y), PAGE_POINTS, [near[1]] if near else ())
    transform, z_title = _scale(z, z_label)
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = transform(z[np.ix_(rows, cols)])
    traces = [{
        "type": "surface", "name": z_title, "x": _numbers(x[rows]), "y": _numbers(y[cols]),
        # plotly's surface is z[row of y][column of x]
        "z": [_numbers(line) for line in shown.T],
        "colorscale": "Viridis", "colorbar": {"title": {"text": z_title}},
        "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True},
                           **_levels(shown)}},
        "hovertemplate": f"{labels[0]}=%{{x:.4g}}<br>{labels[1]}=%{{y:.4g}}<br>"
                         f"{z_title}=%{{z:.4g}}<extra></extra>",
    }]
    if near is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            height = transform(np.array([z[near]]))
        traces.append({"type": "scatter3d", "mode": "markers", "name": "trained weights",
                       "x": _numbers([trained[0]]), "y": _numbers([trained[1]]),
                       "z": _numbers(height),
                       "marker": {"size": 6, "color": "red", "symbol": "diamond"}})
    for name, px, py, pz in paths:
        with np.errstate(divide="ignore", invalid="ignore"):
            heights = transform(np.asarray(pz, float))
        traces.append({"type": "scatter3d", "mode": "lines+markers", "name": name,
                       "x": _numbers(px), "y": _numbers(py), "z": _numbers(heights),
                       "line": {"width": 4}, "marker": {"size": 2}})
    layout_extra = {}
    if topology_grid is not None:
        traces += _critical_traces(topology_grid, transform)
        # the page's points are grid points of the topology's (a subset where thinned)
        at_rows = np.searchsorted(topology_grid.x, x[rows])
        at_cols = np.searchsorted(topology_grid.y, y[cols])
        layout_extra = _basin_buttons(topology_grid.topology.basins[np.ix_(at_rows, at_cols)],
                                      traces[0])
    layout = {
        **layout_extra,
        "title": {"text": title, "font": {"size": 14}},
        "scene": {"xaxis": {"title": {"text": labels[0]}}, "yaxis": {"title": {"text": labels[1]}},
                  "zaxis": {"title": {"text": z_title}}},
        "legend": {"orientation": "h"}, "margin": {"l": 0, "r": 0, "t": 60, "b": 0},
        "autosize": True,
    }
    figure = json.dumps({"data": traces, "layout": layout}, separators=(",", ":"))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>html,body{margin:0;height:100%}#" + DIV_ID + "{width:100%;height:100%}</style>"
        f"<script>{plotly_js()}</script></head><body>"
        f"<div id=\"{DIV_ID}\"></div><script>"
        f"const figure={figure};"
        f"Plotly.newPlot(\"{DIV_ID}\",figure.data,figure.layout,{{responsive:true}});"
        "</script></body></html>\n"
    )
