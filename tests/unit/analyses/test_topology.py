"""Critical points, persistence and basins of a grid, against surfaces whose critical points
are known, against GUDHI on raw values (ties included), and against scipy's labelling of the
sublevel sets."""

import numpy as np
import pytest
from gudhi.cubical_complex import CubicalComplex
from scipy import ndimage

from sklandscape.analyses.topology import ranks, topology

GRID = np.linspace(-5, 5, 201)
X, Y = np.meshgrid(GRID, GRID, indexing="ij")


def counts(result, prefix=""):
    m = result.metrics
    return m[prefix + "minima"], m[prefix + "saddles"], m[prefix + "maxima"]


def test_himmelblau_has_four_minima_four_saddles_one_maximum():
    z = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
    result = topology(z)
    assert counts(result) == (4, 4, 1)
    minima = result.points[result.points["type"] == "minimum"]
    found = sorted(zip(GRID[minima["row"]], GRID[minima["col"]]))
    known = [(-3.779, -3.283), (-2.805, 3.131), (3.0, 2.0), (3.584, -1.848)]
    step = GRID[1] - GRID[0]
    assert np.abs(np.array(found) - np.array(known)).max() <= step  # within one cell
    maximum = result.points[result.points["type"] == "maximum"].iloc[0]
    assert abs(GRID[maximum["row"]] + 0.271) <= step and abs(GRID[maximum["col"]] + 0.923) <= step
    assert result.metrics["significant_minima"] == 4


def test_gaussian_wells_in_a_row():
    z = -sum(np.exp(-((X - c) ** 2 + Y**2) / 1.0) for c in (-3.0, 0.0, 3.0))
    result = topology(z)
    assert counts(result) == counts(result, "significant_") == (3, 2, 0)


def test_gaussian_wells_on_a_triangle_enclose_a_maximum():
    centres = [(0.0, 3.0), (2.6, -1.5), (-2.6, -1.5)]
    z = -sum(np.exp(-((X - a) ** 2 + (Y - b) ** 2) / 2.0) for a, b in centres)
    result = topology(z)
    assert counts(result, "significant_") == (3, 3, 1)
    # the grid's diagonal ridges, 4-connected, add pairs of ripples, which the raw counts keep
    assert result.metrics["saddles"] - 3 == result.metrics["maxima"] - 1 >= 0


@pytest.mark.parametrize("centre", [(0.0, 0.0), (7.0, 2.0)])
def test_a_convex_bowl_has_one_minimum_even_off_the_grid(centre):
    z = (X - centre[0]) ** 2 + 2 * (Y - centre[1]) ** 2
    result = topology(z)
    assert counts(result) == (1, 0, 0)
    assert (result.basins == 0).all()
    assert result.metrics["largest_persistence"] == 0.0


def test_a_flat_grid_has_one_minimum_at_its_first_cell():
    result = topology(np.zeros((4, 6)))
    assert counts(result) == (1, 0, 0)
    assert result.points.loc[0, ["row", "col"]].tolist() == [0, 0]


def test_non_finite_losses_count_as_highest():
    z = (X**2 + Y**2)[:50, :50].copy()
    z[10, 10], z[20, 30] = np.nan, np.inf
    result = topology(z)
    assert result.metrics["euler_characteristic"] == 1
    # each non-finite cell is a peak, whose ring of lower cells closes at a saddle
    assert counts(result) == (1, 2, 2)
    assert result.points["persistence"].isin([np.inf]).sum() == 5  # 1 minimum, 2 x (saddle, max)


def _random_grids():
    rng = np.random.default_rng(7)
    for shape in [(2, 2), (2, 9), (7, 5), (25, 25), (40, 13)]:
        for levels in (3, 1000):  # few levels: many ties
            yield rng.integers(0, levels, size=shape).astype(np.float64)


@pytest.mark.parametrize("z", list(_random_grids()))
def test_counts_and_persistence_equal_gudhis_on_raw_values(z):
    result = topology(z, threshold=0.0)
    assert result.metrics["euler_characteristic"] == 1
    complex_ = CubicalComplex(top_dimensional_cells=z)
    diagram = complex_.persistence(homology_coeff_field=2, min_persistence=0.0)
    finite0 = sorted((b, d) for dim, (b, d) in diagram if dim == 0 and np.isfinite(d))
    ours = result.points[(result.points["type"] == "minimum") & np.isfinite(result.points["persistence"])]
    ours_pairs = sorted((b, b + p) for b, p in zip(ours["loss"], ours["persistence"]) if p > 0)
    assert np.array(ours_pairs).reshape(-1, 2).tolist() == np.array(finite0).reshape(-1, 2).tolist()
    finite1 = sorted(d - b for dim, (b, d) in diagram if dim == 1)
    maxima = result.points[result.points["type"] == "maximum"]
    assert sorted(p for p in maxima["persistence"] if p > 0) == finite1
    # with ties broken by index there are no zero-length pairs: every saddle and maximum
    # pairs with a class that GUDHI on the ranks reports
    by_rank = CubicalComplex(top_dimensional_cells=ranks(z).astype(float))
    pairs = by_rank.persistence(homology_coeff_field=2, min_persistence=0.0)
    dim0 = sum(1 for dim, (b, d) in pairs if dim == 0 and np.isfinite(d))
    dim1 = sum(1 for dim, _ in pairs if dim == 1)
    assert result.metrics["maxima"] == dim1
    assert result.metrics["saddles"] == dim0 + dim1
    assert result.metrics["minima"] == dim0 + 1


def _descend(rank, r, c):
    """Steepest descent by hand, one cell at a time."""
    n, m = rank.shape
    while True:
        best = (rank[r, c], r, c)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < m and rank[rr, cc] < best[0]:
                    best = (rank[rr, cc], rr, cc)
        if (best[1], best[2]) == (r, c):
            return r, c
        r, c = best[1], best[2]


@pytest.mark.parametrize("z", list(_random_grids())[2:8])
def test_basins_and_merges_against_sublevel_components(z):
    result = topology(z, threshold=0.0)
    rank = ranks(z)
    points = result.points
    minima = points[points["type"] == "minimum"].reset_index(drop=True)
    where = {(r, c): k for k, (r, c) in enumerate(zip(minima["row"], minima["col"]))}
    ancestor = list(range(len(minima)))
    for k in range(len(minima)):  # zero-persistence minima (on ties) join their elder
        if not minima.loc[k, "significant"]:
            ancestor[k] = ancestor[minima.loc[k, "merges_into"]]
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            assert result.basins[r, c] == ancestor[where[_descend(rank, r, c)]]
    assert minima["basin_cells"].sum() == z.size
    eight = np.ones((3, 3))
    for _, row in minima.iterrows():
        if row["merges_into"] < 0:
            continue
        death = rank[row["partner_row"], row["partner_col"]]
        parent = minima.loc[row["merges_into"]]
        before, _ = ndimage.label(rank < death, structure=eight)
        after, _ = ndimage.label(rank <= death, structure=eight)
        a, b = (row["row"], row["col"]), (parent["row"], parent["col"])
        assert before[a] != before[b] and after[a] == after[b]
        assert rank[b] < rank[a]  # the elder survives
        assert row["persistence"] == z[row["partner_row"], row["partner_col"]] - row["loss"]


def test_ripples_join_the_basin_they_merge_into():
    z = (X**2 + Y**2) + 0.2 * np.sin(8 * X)  # a bowl (range 50) with shallow ripples
    result = topology(z, threshold=0.01)
    assert result.metrics["minima"] > 1
    assert result.metrics["significant_minima"] == 1
    assert (result.basins == 0).all()


@pytest.mark.parametrize("values, threshold, message", [
    (np.zeros(5), 0.01, "2-D grid"),
    (np.zeros((1, 5)), 0.01, "2-D grid"),
    (np.zeros((3, 3)), -0.1, "threshold"),
    (np.zeros((3, 3)), float("nan"), "threshold"),
])
def test_bad_input_is_refused(values, threshold, message):
    with pytest.raises(ValueError, match=message):
        topology(values, threshold=threshold)


def test_the_configs_default_threshold_is_the_apis():
    import inspect
    from pathlib import Path

    import yaml

    import sklandscape as sl
    from sklandscape.analyses.topology import DEFAULT_THRESHOLD
    from sklandscape.api.topology import TOPOLOGY_KINDS

    schema = yaml.safe_load((Path(__file__).parents[3] / "workflow/schemas/config.schema.yaml")
                            .read_text())["$defs"]
    for kind in TOPOLOGY_KINDS:
        assert schema[f"{kind}_landscape"]["properties"]["topology_threshold"]["default"] \
            == DEFAULT_THRESHOLD, kind
        assert inspect.signature(getattr(sl, kind)).parameters["topology_threshold"].default \
            == DEFAULT_THRESHOLD, kind
