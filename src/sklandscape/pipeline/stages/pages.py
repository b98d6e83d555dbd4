"""Interactive 3-D pages of the pipeline's 2-D landscapes (sklandscape.figures.interactive), from
the tables as written: a landscape's surface, its trained point, and the paths its kind has
(the training path of trajectory_pca, the optimizers' paths)."""

from __future__ import annotations

from pathlib import Path

from sklandscape import io
from sklandscape.api.topology import landscape_grids, largest_grid, threshold_of, too_large
from sklandscape.figures.drawing import grid_of, loss_of
from sklandscape.figures.interactive import surface_page
from sklandscape.kinds import KINDS
from sklandscape.pipeline.stages.figures import figure_table

TURN = "drag to turn, scroll to zoom"


def _surface(landscape_path):
    """(x, y, z, labels, trained, metadata) of a 2-D landscape's table. A grid kind's table is
    read as its PNG reads it (streamed, thinned: it may be 5001²); a plane's table, which its
    job held whole, is read whole (several seeds' planes one after another); the page thins
    either to PAGE_POINTS per axis."""
    kind = io.read_metadata(landscape_path)["landscape"]["kind"]
    reader = figure_table if KINDS[kind].grid else io.read_table
    table, metadata = reader(landscape_path)
    spec = metadata["landscape"]
    if kind == "weights":
        columns = labels = tuple(spec["axes"])
        trained = (metadata["centre"][columns[0]], metadata["centre"][columns[1]])
    elif kind == "input_space":
        plane = metadata.get("plane", {"columns": ["x0", "x1"], "names": ["x0", "x1"]})
        columns, labels, trained = tuple(plane["columns"]), tuple(plane["names"]), None
    else:  # planes through the trained weights, in their own coordinates
        if "seed" in table.columns:  # random_plane: the first seed's plane
            table = table[table["seed"] == table["seed"].iloc[0]]
        columns, trained = ("a", "b"), (0.0, 0.0)
        labels = ("a (first direction)", "b (second direction)")
    x, y, z = grid_of(table, columns[0], columns[1], "loss")
    return x, y, z, labels, trained, metadata


def landscape_page(landscape_path, out_path, path_table=None, grids=None) -> None:
    """The page of a landscape; `path_table` (trajectory_pca's .path.parquet) adds the
    training path, as projected on the plane, at the loss of each recorded state. The
    topology of the grid shown is marked on it: `grids` (sklandscape.api.topology) where the
    job has them, else found here from the table."""
    x, y, z, labels, trained, metadata = _surface(landscape_path)
    if grids is None:
        table, _ = io.read_table(landscape_path)
        grids = [] if too_large(largest_grid(table, metadata)) else landscape_grids(
            table, metadata, threshold_of(metadata["landscape"]))
    paths = []
    if path_table is not None:
        path, _ = io.read_table(path_table)
        paths.append(("training path (projected)", path["a"], path["b"], path["loss"]))
    name = Path(landscape_path).stem
    kind = metadata["landscape"]["kind"]
    title = (f"{name}: {loss_of(metadata)} of {metadata['network']['name']} ({kind}) over "
             f"{labels[0]} and {labels[1]}; {TURN}")
    io.write_text_file(out_path, surface_page(x, y, z, title=title, labels=labels,
                                              z_label=loss_of(metadata), trained=trained,
                                              paths=paths,
                                              topology_grid=grids[0] if grids else None))


def optimizers_page(landscape_path, paths_path, out_path, name: str) -> None:
    """The slice's surface with each optimizer's path from the first start, at each learning
    rate (every start at once would hide the surface)."""
    x, y, z, labels, trained, metadata = _surface(landscape_path)
    paths_frame, _ = io.read_table(paths_path)
    first = paths_frame[paths_frame["start"] == paths_frame["start"].min()]
    paths = []
    for (method, rate), steps in first.groupby(["method", "learning_rate"], sort=True):
        steps = steps.sort_values("step")
        paths.append((f"{method}, learning rate {rate:g}", steps["u0"].to_numpy(),
                      steps["u1"].to_numpy(), steps["loss"].to_numpy()))
    title = (f"{name}: optimizer paths on {Path(landscape_path).stem} "
             f"({loss_of(metadata)} over {labels[0]} and {labels[1]}); {TURN}")
    io.write_text_file(out_path, surface_page(x, y, z, title=title, labels=labels,
                                              z_label=loss_of(metadata), trained=trained,
                                              paths=paths))


def connectivity_page(plane, paths, landmarks, out_path, name: str, loss: str) -> None:
    """The first pair's plane through its ends and control point, with the aligned line and
    the trained curve on the surface, and the unaligned line at its projection (tables of
    sklandscape.api.connectivity)."""
    first, second = plane["first"].iloc[0], plane["second"].iloc[0]
    mine = (plane["first"] == first) & (plane["second"] == second)
    x, y, z = grid_of(plane[mine], "x", "y", "loss")
    marks = landmarks[(landmarks["first"] == first)
                      & (landmarks["second"] == second)].set_index("point")
    end = marks.loc["second_aligned", ["x", "y"]].to_numpy(float)
    control = marks.loc["control", ["x", "y"]].to_numpy(float)
    raw = marks.loc["second", ["x", "y"]].to_numpy(float)
    drawn = []
    for path, label in (("aligned", "linear path, after alignment"),
                        ("curve", "trained Bézier curve"),
                        ("linear", f"linear path before alignment (projected; {second} as "
                                   f"trained lies {marks.loc['second', 'off_plane']:.3g} off "
                                   "the plane)")):
        rows = paths[(paths["first"] == first) & (paths["second"] == second)
                     & (paths["path"] == path)]
        t = rows["t"].to_numpy(float)[:, None]
        if path == "curve":
            xy = 2 * t * (1 - t) * control + t**2 * end
        else:
            xy = t * (raw if path == "linear" else end)
        drawn.append((label, xy[:, 0], xy[:, 1], rows["loss"].to_numpy(float)))
    title = (f"{name}: {loss} on the plane through {first}, {second} (aligned) and the curve's "
             f"control point; {TURN}")
    io.write_text_file(out_path, surface_page(
        x, y, z, title=title, labels=(f"along {second} aligned - {first}",
                                      "along the control point's offset"),
        z_label=loss, trained=(0.0, 0.0), paths=drawn))
