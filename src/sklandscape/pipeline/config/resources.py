"""What a config's jobs will need, estimated before any job starts: memory for the largest
arrays each job holds at once. A config that would need more than this machine has gets an
error naming the key to change, instead of a job that dies (or swaps) after minutes of work.

The estimates are upper bounds of the big arrays only (measured peaks were within them);
they are compared with the machine's total memory, or $SKLANDSCAPE_MEMORY_GB where jobs run on
other machines (a SLURM partition's nodes).
"""

from __future__ import annotations

import os

from sklandscape.engine.landscape import FIGURE_POINTS
from sklandscape.kinds import KINDS
from sklandscape.model.network import n_parameters

MEMORY_ENV = "SKLANDSCAPE_MEMORY_GB"
GB = 1024**3
SHARE = 0.8  # of the memory a single job may plan to use
# Bytes per grid point a landscape job holds when it draws: the table's columns (float64),
# the figure's grid copies, masked arrays and contour paths (measured: 4.5 GB at 5001^2).
FIGURE_BYTES_PER_POINT = 180


def machine_memory() -> float:
    """Bytes a job may use: $SKLANDSCAPE_MEMORY_GB, else this machine's total memory."""
    text = os.environ.get(MEMORY_ENV, "")
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise ValueError(f"{MEMORY_ENV}={text!r}: expected a positive number of GiB")
        return value * GB
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / GB:.1f} GiB"


def pair_count(spec: dict, sizes: list[int] | None) -> int:
    axes = spec.get("axes", "all")
    k = len(axes) if isinstance(axes, list) else (n_parameters(sizes) if sizes else 2)
    return k * (k - 1) // 2


def landscape_memory(spec: dict, sizes: list[int] | None = None) -> float:
    """Bytes the landscape job holds at its peak: the figure, drawn from the whole grid, or
    for kinds weights and input (streamed to their table, their figure drawn from at most
    FIGURE_POINTS per axis) from the thinned grid."""
    if KINDS[spec["kind"]].grid:
        return min(spec["resolution"], FIGURE_POINTS) ** 2 * FIGURE_BYTES_PER_POINT
    points = spec["resolution"] ** 2
    if spec["kind"] == "random_plane":
        points *= len(spec.get("seeds", [0]))
    elif spec["kind"] == "weight_pairs":
        points *= pair_count(spec, sizes)
    elif spec["kind"] == "interpolation":
        points = spec["resolution"]
    return points * FIGURE_BYTES_PER_POINT


def full_hessian_memory(n_weights: int) -> float:
    """Bytes of the exact path: the Hessian as computed, symmetrised, its eigenvectors, and the
    two tables (matrix and eigenvectors) built from them."""
    return 5 * 8.0 * n_weights**2


def resource_problems(where: str, kind: str, spec: dict, sizes: list[int] | None,
                      memory: float) -> list[str]:
    """Problems of one landscape (kind in landscapes) or curvature analysis (kind curvature)."""
    budget = SHARE * memory
    problems = []
    if kind == "curvature" and sizes is not None:
        weights = n_parameters(sizes)
        limit = spec.get("full_hessian_max_weights", 1500)
        need = full_hessian_memory(weights)
        if weights <= limit and need > budget:
            problems.append(
                f"{where}.full_hessian_max_weights: {limit} makes the {weights}-weight network's "
                f"Hessian exact, which needs ~{_gb(need)}; this machine has {_gb(memory)} "
                f"({MEMORY_ENV} to say otherwise). Set it below {weights} for the matrix-free "
                f"path (Lanczos, Hutchinson, stochastic Lanczos quadrature)")
    elif kind != "curvature":
        need = landscape_memory(spec, sizes)
        if need > budget:
            times = {"random_plane": f" x {len(spec.get('seeds', [0]))} seeds",
                     "weight_pairs": f" x {pair_count(spec, sizes)} pairs"}
            problems.append(
                f"{where}.resolution: a {spec['resolution']}^2 grid"
                + times.get(spec["kind"], "")
                + f" needs ~{_gb(need)} to draw; this machine has {_gb(memory)} "
                f"({MEMORY_ENV} to say otherwise): lower the resolution")
    return problems


def dataset_memory(n_rows: int, n_features: int) -> float:
    """Bytes the data job holds: the inputs and target (float64) as generated or read, the
    table's copy and its Parquet buffer."""
    return 4 * 8.0 * n_rows * (n_features + 1)


def network_memory(sizes: list[int], n_rows: int, max_iter: int) -> float:
    """Bytes the training job holds: the data, each layer's activations and errors for every
    row (scoring uses them all), the weights with their gradients and the solver's moments,
    and the recorded path (the weights after every iteration)."""
    weights = n_parameters(sizes)
    return 8.0 * (n_rows * (sizes[0] + 1) * 2 + 3 * n_rows * sum(sizes[1:])
                  + 6 * weights + (max_iter + 1) * weights)


def data_problems(where: str, n_rows: int, n_features: int, key: str, memory: float) -> list[str]:
    need = dataset_memory(n_rows, n_features)
    if need <= SHARE * memory:
        return []
    return [f"{where}.{key}: {n_rows} rows of {n_features} features need ~{_gb(need)}; this "
            f"machine has {_gb(memory)} ({MEMORY_ENV} to say otherwise): use fewer rows"]


def network_problems(where: str, sizes: list[int], n_rows: int, max_iter: int,
                     memory: float) -> list[str]:
    need = network_memory(sizes, n_rows, max_iter)
    if need <= SHARE * memory:
        return []
    return [f"{where}.hidden_layer_sizes: layer sizes {sizes} ({n_parameters(sizes)} weights) "
            f"trained on {n_rows} rows for up to {max_iter} iterations need ~{_gb(need)}; this "
            f"machine has {_gb(memory)} ({MEMORY_ENV} to say otherwise): use smaller layers, "
            f"fewer rows or fewer iterations (max_iter)"]
