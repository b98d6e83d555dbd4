"""Tiles and streamed tables without Snakemake: the stage functions and the Parquet writer."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import fitted_mlp
from sklandscape import io
from sklandscape.data.datasets import generate
from sklandscape.engine.landscape import tile_rows
from sklandscape.model.network import Network
from sklandscape.pipeline.stages import landscapes


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiles")
    spec = {"function": "waves_with_spike", "n_samples": 80, "domain": [[-3, 3], [-3, 3]], "seed": 2}
    io.write_table(generate(**spec), root / "data.parquet", {"dataset": spec})
    model, _, _ = fitted_mlp((4, 3), "tanh", n_features=2, n=80)
    io.write_weights(Network.from_estimator(model), root / "weights.parquet")
    return root


WEIGHTS = {"network": "N", "kind": "weights", "axes": ["W2[1,2]", "b1[0]"], "span": 1.0,
           "resolution": 23, "samples": "all"}
INPUT = {"network": "N", "kind": "input_space", "resolution": 21, "margin": 0.5}


def run_stage(inputs, spec, out, tile=None):
    if spec["kind"] == "input_space":
        return landscapes.input_space_landscape(inputs / "weights.parquet", inputs / "data.parquet", out,
                                            spec, "waves_with_spike", "hash", tile)
    return landscapes.weights_landscape(inputs / "weights.parquet", inputs / "data.parquet", out, spec,
                                    "hash", tile)


@pytest.mark.parametrize("spec", [WEIGHTS, INPUT], ids=["weights", "input_space"])
def test_gathered_tiles_are_the_one_job_file_byte_for_byte(inputs, tmp_path, spec):
    whole = run_stage(inputs, spec, tmp_path / "whole.parquet")
    tiles = [tmp_path / f"tile{t}.parquet" for t in range(4)]
    parts = [run_stage(inputs, spec, path, (t, 4)) for t, path in enumerate(tiles)]
    assert sum(p["n_points"] for p in parts) == whole["n_points"]
    table, meta = io.read_table(tiles[1])
    G = spec["resolution"]
    assert meta["tile"] == {"index": 1, "count": 4, "rows": [G // 4, G // 2], "grid_rows": G}
    assert len(table) == (G // 2 - G // 4) * G
    gathered = landscapes.gather_landscape(tiles, tmp_path / "gathered.parquet")
    assert (tmp_path / "gathered.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert gathered == whole


def test_streamed_summary_equals_the_summary_of_the_written_table(inputs, tmp_path):
    from sklandscape.engine.landscape import summarize

    stats = run_stage(inputs, WEIGHTS, tmp_path / "w.parquet")
    table, meta = io.read_table(tmp_path / "w.parquet")
    assert stats == summarize(table, tuple(WEIGHTS["axes"])) | {"loss_centre": meta["centre"]["loss"]}


def test_gather_refuses_missing_or_foreign_tiles(inputs, tmp_path):
    tiles = [tmp_path / f"tile{t}.parquet" for t in range(3)]
    for t, path in enumerate(tiles):
        run_stage(inputs, WEIGHTS, path, (t, 3))
    with pytest.raises(ValueError, match="tile0.parquet: tile 0 of 3, but 2 tiles were given"):
        landscapes.gather_landscape([tiles[0], tiles[1]], tmp_path / "out.parquet")
    with pytest.raises(ValueError, match=r"tile2.parquet: starts at grid row 15, expected 7"):
        landscapes.gather_landscape([tiles[0], tiles[2], tiles[1]], tmp_path / "out.parquet")
    other = tmp_path / "other.parquet"
    landscapes.weights_landscape(inputs / "weights.parquet", inputs / "data.parquet", other, WEIGHTS,
                             "another hash", (1, 3))
    with pytest.raises(ValueError, match="other.parquet: tile of another landscape than"):
        landscapes.gather_landscape([tiles[0], other, tiles[2]], tmp_path / "out.parquet")
    run_stage(inputs, WEIGHTS, tmp_path / "whole.parquet")
    with pytest.raises(ValueError, match="whole.parquet: not a landscape tile"):
        landscapes.gather_landscape([tmp_path / "whole.parquet"], tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_tile_rows_cover_the_grid_in_order():
    for n_rows, tiles in [(9, 3), (10, 3), (2001, 7), (5, 5)]:
        rows = [r for t in range(tiles) for r in tile_rows(n_rows, t, tiles)]
        assert rows == list(range(n_rows))
    with pytest.raises(ValueError, match="6 tiles for a grid of 5 rows"):
        tile_rows(5, 0, 6)


def test_row_groups_are_fixed_whatever_the_chunks(tmp_path):
    rng = np.random.default_rng(0)
    data = {"a": rng.standard_normal(1000), "b": rng.standard_normal(1000)}
    files = []
    for cuts in ([0, 1000], [0, 3, 400, 401, 999, 1000], list(range(0, 1001, 7)) + [1000]):
        chunks = ({k: v[lo:hi] for k, v in data.items()} for lo, hi in zip(cuts[:-1], cuts[1:]))
        path = tmp_path / f"{len(cuts)}.parquet"
        assert io.write_columns(chunks, path, ["a", "b"], {"z": 1, "y": [2]}, row_group=128) == 1000
        files.append(path.read_bytes())
    assert files[0] == files[1] == files[2]
    meta = pq.read_metadata(path)
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [128] * 7 + [104]
    table, extra = io.read_table(path)
    np.testing.assert_array_equal(table["b"], data["b"])
    assert extra == {"y": [2], "z": 1}


def test_a_landscape_job_imports_neither_scikit_learn_nor_scipy_nor_skops(inputs, tmp_path):
    """A job pays for what it uses: its table, figure and 3-D page need numpy, pandas, pyarrow
    and matplotlib only (checked in a fresh interpreter, which the job's own process is)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sklandscape.pipeline.stages import figures, landscapes, pages\n"
        f"spec = {WEIGHTS!r}\n"
        f"root, out = {str(inputs)!r}, {str(tmp_path)!r}\n"
        "landscapes.weights_landscape(root + '/weights.parquet', root + '/data.parquet',\n"
        "                             out + '/l.parquet', spec, 'hash')\n"
        "figures.landscape_figure(out + '/l.parquet', root + '/data.parquet', out + '/l.png')\n"
        "pages.landscape_page(out + '/l.parquet', out + '/l.html')\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'skops', 'mlflow', 'jsonschema')\n"
        "             if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "l.png").is_file() and (tmp_path / "l.html").is_file()
    assert done.stdout.strip() == "[]"
