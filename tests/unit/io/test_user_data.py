"""Users' own data: CSV/Parquet in, x0…/y Parquet out with its sha256; the input landscape's
target without a generating function. References: the values as written, hashlib, a
brute-force nearest neighbour, MLPRegressor.predict."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from sklandscape import io
from sklandscape.api.grids import TARGET_NEAREST
from sklandscape.data.datasets import nearest_neighbour_target
from sklandscape.pipeline.stages import data as data_stage
from sklandscape.pipeline.stages import landscapes, training


def user_frame(n=40, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.uniform([0.0, 100.0], [5.0, 300.0], size=(n, 2))
    return pd.DataFrame({"id": np.arange(n), "height": X[:, 0], "area": X[:, 1],
                         "price": np.sin(X[:, 0]) + X[:, 1] / 100})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_import_keeps_values_names_and_hash(tmp_path, suffix):
    raw = user_frame()
    source = tmp_path / f"houses{suffix}"
    raw.to_csv(source, index=False) if suffix == ".csv" else raw.to_parquet(source)
    spec = {"path": str(source), "features": ["area", "height"], "target": "price"}
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "data.parquet"
    metrics = data_stage.import_dataset(source, spec, digest, out)
    frame, metadata = io.read_table(out)
    assert list(frame.columns) == ["x0", "x1", "y"]
    assert (frame.dtypes == np.float64).all()
    # CSV floats round-trip exactly (pandas writes the shortest repr)
    np.testing.assert_array_equal(frame["x0"], raw["area"])
    np.testing.assert_array_equal(frame["x1"], raw["height"])
    np.testing.assert_array_equal(frame["y"], raw["price"])
    assert metadata["source"] == {"path": str(source), "sha256": digest,
                                  "columns": {"x0": "area", "x1": "height", "y": "price"}}
    assert metadata["dataset"] == spec
    assert metrics["n_samples"] == 40 and metrics["y_mean"] == pytest.approx(raw["price"].mean())


def test_import_refuses_a_file_changed_since_planning(tmp_path):
    source = tmp_path / "houses.csv"
    user_frame().to_csv(source, index=False)
    spec = {"path": str(source), "features": ["area", "height"], "target": "price"}
    with pytest.raises(io.DataFileError, match="changed after snakemake planned this run"):
        data_stage.import_dataset(source, spec, "0" * 64, tmp_path / "data.parquet")
    assert not (tmp_path / "data.parquet").exists()


def test_nearest_neighbour_target_equals_brute_force():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 2)), rng.normal(size=300)
    points = rng.uniform(-3, 3, size=(500, 2))
    distances = ((points[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(nearest_neighbour_target(X, y)(points), y[distances.argmin(axis=1)])
    np.testing.assert_array_equal(nearest_neighbour_target(X, y)(X), y)  # exact at the data


def test_input_landscape_of_user_data(tmp_path):
    raw = user_frame()
    source = tmp_path / "houses.csv"
    raw.to_csv(source, index=False)
    spec = {"path": str(source), "features": ["height", "area"], "target": "price"}
    data = tmp_path / "data.parquet"
    data_stage.import_dataset(source, spec, None, data)
    settings = {"hidden_layer_sizes": [4], "activation": "tanh", "solver": "lbfgs",
                "max_iter": 200, "random_state": 0}
    model = training.train(data, settings, model=tmp_path / "model.skops",
                           weights=tmp_path / "weights.parquet").model
    out = tmp_path / "input.parquet"
    landscape = {"network": "U", "kind": "input_space", "resolution": 11, "margin": 0.25}
    landscapes.input_space_landscape(tmp_path / "weights.parquet", data, out, landscape, None, "h")
    table, metadata = io.read_table(out)
    # no domain for a user's file: the grid covers the data's bounding box plus the margin
    assert table["x0"].min() == raw["height"].min() - 0.25
    assert table["x1"].max() == raw["area"].max() + 0.25
    assert metadata["bounds"] == [[raw["height"].min() - 0.25, raw["height"].max() + 0.25],
                                  [raw["area"].min() - 0.25, raw["area"].max() + 0.25]]
    assert metadata["target"] == TARGET_NEAREST == "y of the nearest data point"
    points = table[["x0", "x1"]].to_numpy()
    X = raw[["height", "area"]].to_numpy()
    nearest = ((points[:, None, :] - X[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(table["target"], raw["price"].to_numpy()[nearest])
    np.testing.assert_allclose(table["prediction"], model.predict(points), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(table["loss"], (model.predict(points) - table["target"]) ** 2,
                               rtol=1e-10, atol=1e-14)
    assert metadata["n_nonfinite"] == 0


@pytest.mark.parametrize("ending", ["\n\n", "\n\n\n", "\r\n\r\n"], ids=["one", "two", "crlf"])
def test_a_csv_that_ends_in_blank_lines_is_read_with_its_rows(tmp_path, ending):
    raw = user_frame(n=6)
    source = tmp_path / "houses.csv"
    text = raw.to_csv(index=False, lineterminator="\r\n" if "\r" in ending else "\n")
    source.write_bytes((text.rstrip("\r\n") + ending).encode())
    frame = io.read_user_table(source)
    assert len(frame) == 6
    np.testing.assert_allclose(frame["price"].to_numpy(), raw["price"].to_numpy(), rtol=1e-15)
    # a blank line in the middle is still a row with missing values, reported by its line
    middle = tmp_path / "middle.csv"
    lines = text.splitlines()
    middle.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n")
    assert io.read_user_table(middle).iloc[2].isna().all()
