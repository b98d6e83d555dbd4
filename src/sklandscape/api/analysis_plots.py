"""The analyses' figures from their tables in memory: titles and notes in words, then the
drawing of sklandscape.figures (curvature, paths, attack). Nothing is evaluated here, and
nothing is read from files: the pipeline reads, the public API already holds the tables.
"""

from __future__ import annotations

import numpy as np

from sklandscape.analyses.optimizers import LABELS
from sklandscape.api.analysis_displays import CutsDisplay, SpectrumDisplay
from sklandscape.figures import attack as attack_plots
from sklandscape.figures import curvature as curvature_plots
from sklandscape.figures import paths as paths_plots
from sklandscape.figures.drawing import (
    display_figure,
    grid_of,
    loss_of,
    new_figure,
    samples_description,
)


def _held_fixed(metadata: dict) -> str:
    n_other = sum(metadata["network"]["layer_sizes"][k] * metadata["network"]["layer_sizes"][k + 1]
                  + metadata["network"]["layer_sizes"][k + 1]
                  for k in range(len(metadata["network"]["layer_sizes"]) - 1)) - 2
    return f"the other {n_other} weights held at their trained values"


CURVATURE_FIGURES = ("hessian", "spectrum", "cuts", "convexity", "plateau")


def curvature_figure(which: str, tables: dict, metas: dict, name: str):
    """One of CURVATURE_FIGURES: the Hessian's eigenpairs, its eigenvalue density, the cuts
    along its top eigenvectors, the slice's convexity or plateau map."""
    meta, map_meta = metas["hessian"], metas["curvature_map"]
    network = map_meta["network"]["name"]
    samples = samples_description(map_meta)
    whole = f"{network}'s {loss_of(meta)} on {samples} at the trained weights"
    if which == "hessian":
        return _hessian_figure(tables["hessian"], meta, network, samples, name)
    if which == "spectrum":
        display = SpectrumDisplay.from_table(tables["spectrum"], metas["spectrum"], name)
        display.note += (f"\n~{meta['negative_share']:.1%} of the eigenvalues negative"
                         f"\nepsilon-sharpness {meta['sharpness']['value']:.3g} "
                         f"(epsilon {meta['sharpness']['epsilon']:g})")
        return display_figure(display, f"{name}: eigenvalue density of the Hessian of {whole}",
                              (10, 5.6))
    if which == "cuts":
        display = CutsDisplay.from_table(tables["eigen_cuts"], metas["eigen_cuts"], name)
        columns = min(len(display.ranks), 3)
        rows = -(-len(display.ranks) // columns)
        fig = new_figure(f"{name}: {whole}, along the Hessian's top eigenvectors v (unit "
                         "length), against the second-order model; each cut reaches where "
                         "½λt² equals the loss", (4.3 * columns, 3.4 * rows + 0.9))
        display.plot(ax=[fig.add_subplot(rows, columns, k + 1)
                         for k in range(len(display.ranks))])
        display.ax_.get_legend().remove()  # one legend for all panels, below them
        fig.legend(handles=display.ax_.get_legend_handles_labels()[0],
                   loc="outside lower center", ncols=3, fontsize=9, frameon=False)
        return fig
    cmap = tables["curvature_map"]
    axes = tuple(map_meta["axes"])
    window = (f"{network}, {loss_of(map_meta)} on {samples}, over {axes[0]} and {axes[1]} "
              f"(landscape {map_meta['analysis']['landscape']}); {_held_fixed(map_meta)}")
    minimum = map_meta["slice_minimum"]
    if which == "convexity":
        smallest = cmap["eig_min"].to_numpy(float)
        convex_share = float(np.mean(smallest[np.isfinite(smallest)] > 0))
        note = (f"convex (2x2 Hessian positive definite) on {convex_share:.1%} of the grid\n"
                f"at the slice minimum: eigenvalues {minimum['eig_min']:.3g}, "
                f"{minimum['eig_max']:.3g}")
        return curvature_plots.convexity_figure(
            cmap, axes=axes, centre=map_meta["centre"], minimum=minimum,
            title=f"{name}: convexity map - {window}", note=note, loss_name=loss_of(map_meta))
    if which != "plateau":
        raise ValueError(f"no curvature figure {which!r}; expected one of {CURVATURE_FIGURES}")
    threshold = float(map_meta["plateau_threshold"])
    norm = cmap["grad_norm"].to_numpy(float)
    flat = [float(np.nanmean(np.abs(cmap[f"grad_{k}"].to_numpy(float)) < threshold))
            for k in range(2)]
    note = (f"|gradient| on the slice: median {np.nanmedian(norm):.3g}, "
            f"5th percentile {np.nanpercentile(norm, 5):.3g}\n"
            f"flat along one axis only (|partial derivative| < {threshold:g}):\n"
            f"  along {axes[0]} on {flat[0]:.1%} of the grid, along {axes[1]} on {flat[1]:.1%}")
    return curvature_plots.plateau_figure(
        cmap, axes=axes, centre=map_meta["centre"], minimum=minimum, threshold=threshold,
        title=f"{name}: plateau map - {window}", note=note, loss_name=loss_of(map_meta))


def _hessian_figure(table, meta: dict, network: str, samples: str, name: str):
    values = table["eigenvalue"].to_numpy(float)
    verdict = {True: "strictly convex", False: "NOT strictly convex",
               None: "convexity undecided"}[meta["is_strictly_convex"]]
    partial = meta["method"] != "exact"
    title = (f"{name}: Hessian of {network}'s {loss_of(meta)} on {samples} at the trained weights - "
             f"{verdict} there"
             + (f" ({meta['size']} weights, matrix-free: the smallest and largest eigenpairs)"
                if partial else ""))
    note = (f"loss {meta['loss']:.3g}, |gradient| {meta['gradient_norm']:.2g}\n"
            + (f"trace {meta['trace']:.4g}"
               + (f" ± {meta['trace_error']:.2g}" if meta["trace_error"] else " (exact)")
               if partial else
               f"{int(np.sum(values > meta['tolerance']))} of {len(values)} eigenvalues > "
               f"{meta['tolerance']:.2g}"))
    if meta["is_strictly_convex"]:
        note += f"\ncondition number {meta['lambda_max'] / meta['lambda_min']:.3g}"
    return curvature_plots.hessian_figure(table, tolerance=meta["tolerance"], title=title,
                                          note=note)


def _optimizer_inputs(runs, paths, meta: dict, landscape):
    """Everything both optimizer figures need; the landscape table is the background."""
    axes = tuple(meta["axes"])
    background = grid_of(landscape, axes[0], axes[1], "loss")
    chosen = runs[runs["chosen"]]
    summary = {}
    for method, rows in chosen.groupby("method", sort=False):
        steps = rows["steps_to_eps"].to_numpy(float)
        summary[method] = {"learning_rate": float(rows["learning_rate"].iloc[0]),
                           "steps": float(steps.max()) if np.all(np.isfinite(steps)) else np.nan}
    return {"paths": paths, "background": background, "starts": np.asarray(meta["starts"], float),
            "minimum": meta["slice_minimum"], "axes": axes, "summary": summary,
            "epsilon": float(meta["epsilon"])}, meta


def optimizer_figure(runs, paths, meta: dict, landscape, name: str):
    inputs, meta = _optimizer_inputs(runs, paths, meta, landscape)
    axes = inputs["axes"]
    title = (f"{name}: optimizers on {meta['network']['name']}'s {loss_of(meta)} on "
             f"{samples_description(meta)} over {axes[0]} and {axes[1]}, {_held_fixed(meta)}; each "
             f"method at its best learning rate, kept inside the landscape's window")
    return paths_plots.optimizer_paths_figure(title=title, verdict=meta["verdict"],
                                              loss_name=loss_of(meta), **inputs)


def optimizer_animation(runs, paths, meta: dict, landscape, name: str, out_path) -> None:
    """The optimizers' paths step by step, as a GIF at `out_path` (written by the caller
    atomically: the GIF writer picks its format from the name)."""
    inputs, meta = _optimizer_inputs(runs, paths, meta, landscape)
    methods = ", ".join(LABELS[m] for m in inputs["summary"])
    title = (f"{name}: {methods} on {meta['network']['name']}'s {loss_of(meta)} "
             f"({samples_description(meta)}), {_held_fixed(meta)}")
    paths_plots.optimizer_animation(out_path=out_path, title=title, loss_name=loss_of(meta),
                                    **inputs)


def attack_figure(landscape, worst, meta: dict, found, paths, field, name: str,
                  n_paths: int = 10):
    ascent = meta["analysis"]["ascent"]
    plane = meta.get("plane") or {"columns": ["x0", "x1"], "names": ["x0", "x1"]}
    # The drawing speaks of x0 and x1: the map's two features, whichever they are.
    (a, b), labels = plane["columns"], plane["names"]
    to_xy = {a: "x0", b: "x1", f"{a}_start": "x0_start", f"{b}_start": "x1_start",
             f"grad_{a}": "grad_x0", f"grad_{b}": "grad_x1"}
    landscape, worst, found, paths, field = (frame.rename(columns=to_xy) for frame in
                                             (landscape, worst, found, paths, field))
    shown = _spread_out(found, n_paths, 2 * float(ascent["radius"]))
    target = meta.get("target") or f"the generating function {meta['target_function']}"
    what = "log-loss" if meta["network"].get("loss") == "log-loss" else "error"
    title = (f"{name}: the input-space {what} of {meta['network']['name']} as an "
             f"adversary sees it (weights fixed at their trained values; against {target}); "
             f"ascent: {ascent['steps']} steps of {ascent['step_size']:g} within "
             f"{ascent['radius']:g} of each data point")
    return attack_plots.attack_figure(landscape, field, worst, found, paths, shown_paths=shown,
                                      title=title, radius=float(ascent["radius"]),
                                      labels=tuple(labels), loss_name=loss_of(meta))


def _spread_out(found, n: int, distance: float) -> np.ndarray:
    """Rows of the n ascents that raised the error most, at least `distance` apart.

    Without the spacing all of them start on the same spike and hide each other.
    """
    chosen, starts = [], []
    for row in found.sort_values("gain", ascending=False, kind="stable").itertuples():
        point = np.array([row.x0_start, row.x1_start])
        if all(np.linalg.norm(point - other) >= distance for other in starts):
            chosen.append(row.row)
            starts.append(point)
        if len(chosen) == n:
            break
    return np.array(chosen, dtype=np.int64)
