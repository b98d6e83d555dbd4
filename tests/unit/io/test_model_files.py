"""Security of files: model files load only with skops' trusted-types check; nothing unpickles.

The tampered files here are made the way an attacker would: a real model file whose
skops schema is edited to reference a dangerous callable, and a pickle renamed to .skops
whose loading would run code (it would create a marker file).
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape import io

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def model_file(tmp_path):
    model, _, _ = fitted_mlp((2,), "tanh", max_iter=20)
    path = tmp_path / "model.skops"
    io.write_model(model, path)
    return model, path


def tamper(path: Path, module: str, name: str) -> None:
    """Make one of the model's attributes a reference to module.name, as skops writes one."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    schema = json.loads(members["schema.json"])
    attributes = schema["content"]["content"]
    attributes["out_activation_"] = {"__class__": name, "__module__": module,
                                     "__loader__": "TypeNode", "__id__": 1}
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_a_model_file_round_trips_with_the_trusted_types(model_file):
    model, path = model_file
    loaded = io.read_model(path)
    for ours, theirs in zip(model.coefs_ + model.intercepts_, loaded.coefs_ + loaded.intercepts_):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("module,name", [("builtins", "eval"), ("os", "system"), ("posix", "system")])
def test_a_tampered_model_file_is_refused(model_file, module, name):
    _, path = model_file
    tamper(path, module, name)
    with pytest.raises(io.UntrustedModelError) as refused:
        io.read_model(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: refusing to load a model file that references untrusted "
                              f"types ['{module}.{name}']")


def test_a_pickle_disguised_as_a_model_is_never_unpickled(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return open, (str(marker), "w")  # what unpickling would execute

    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(io.UntrustedModelError, match=r"not a skops model file \(not a zip archive\); not loaded"):
        io.read_model(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the payload is real: loading it the unsafe way runs it
    assert marker.exists()


def test_a_damaged_model_file_is_refused_with_a_clear_error(model_file):
    _, path = model_file
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", "{not json")
    with pytest.raises(io.UntrustedModelError, match="unreadable skops model file"):
        io.read_model(path)


# What would load a file by unpickling it: none of these may appear in the pipeline's code.
# joblib's Parallel may run work in worker processes (n_jobs); loading a file with it may not.
UNSAFE_LOADERS = re.compile(
    r"\bimport (c?pickle|dill|cloudpickle)\b|\bfrom (c?pickle|dill|cloudpickle) import"
    r"|\bfrom joblib import .*\bload\b"
    r"|read_pickle|pickle\.loads?\(|joblib\.load|allow_pickle\s*=\s*True|torch\.load"
    r"|serialization_format\s*=\s*[\"'](cloudpickle|pickle)"
)


def test_nothing_in_the_pipeline_unpickles():
    sources = sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "workflow").rglob("*.py"))
    sources += sorted((REPO / "workflow").rglob("*.smk"))
    assert len(sources) > 10
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in sources
             for n, line in enumerate(p.read_text().splitlines(), start=1) if UNSAFE_LOADERS.search(line)]
    assert found == []
    # the MLflow model is logged in skops format, with the same trusted types
    tracking = (REPO / "src/sklandscape/pipeline/tracking/logger.py").read_text()
    assert 'serialization_format="skops"' in tracking and "skops_trusted_types=TRUSTED_MODEL_TYPES" in tracking


def test_table_metadata_is_seen_by_pandas_and_pyarrow_readers(tmp_path):
    """Not only in the footer: the readers users open a landscape with show it too."""
    import pandas as pd
    import pyarrow.parquet as pq

    import sklandscape as sl
    from conftest import fitted_mlp
    from sklandscape import io

    model, X, y = fitted_mlp((3,), "tanh", n_features=2)
    result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5)
    result.to_parquet(tmp_path / "landscape.parquet")  # streamed columns
    io.write_table(pd.DataFrame({"name": ["a", "b"], "value": [1.0, 2.0], "k": [1, 2]}),
                   tmp_path / "table.parquet", {"what": {"kind": "demo"}, "n": 2})
    for name in ("landscape.parquet", "table.parquet"):
        path = tmp_path / name
        ours = io.read_metadata(path)
        assert ours and pd.read_parquet(path).attrs == ours
        schema = pq.read_table(path).schema.metadata
        assert {key.encode() for key in ours} <= set(schema)
    assert pd.read_parquet(tmp_path / "landscape.parquet").attrs["landscape"]["kind"] == "weights"
    frame = pd.read_parquet(tmp_path / "table.parquet")
    assert frame["k"].dtype == "int64" and frame["name"].tolist() == ["a", "b"]


def test_a_big_landscape_is_drawn_from_a_thinned_grid_that_keeps_its_minimum(tmp_path):
    import pandas as pd

    import sklandscape as sl
    from conftest import fitted_mlp
    from sklandscape.engine.landscape import FIGURE_POINTS
    from sklandscape.pipeline.stages.figures import figure_table, landscape_figure

    model, X, y = fitted_mlp((2,), "tanh", n=40, max_iter=300)
    result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=2.0, resolution=1001)
    path = tmp_path / "big.parquet"
    result.to_parquet(path)
    full = pd.read_parquet(path)
    thinned, metadata = figure_table(path)
    firsts, seconds = thinned["W1[0,0]"].unique(), thinned["W2[0,0]"].unique()
    assert FIGURE_POINTS / 2 < len(firsts) <= FIGURE_POINTS + 3 and len(thinned) == (
        len(firsts) * len(seconds))
    # every kept row is the full table's row, and the minimum and the centre are among them
    merged = thinned.merge(full, on=["W1[0,0]", "W2[0,0]"], suffixes=("", "_full"))
    assert len(merged) == len(thinned) and (merged["loss"] == merged["loss_full"]).all()
    assert thinned["loss"].min() == full["loss"].min()
    centre = metadata["centre"]
    assert ((thinned["W1[0,0]"] == centre["W1[0,0]"])
            & (thinned["W2[0,0]"] == centre["W2[0,0]"])).any()
    landscape_figure(path, None, tmp_path / "big.png")
    assert (tmp_path / "big.png").stat().st_size > 10_000


@pytest.mark.parametrize("damage", ["cut short", "middle overwritten"])
def test_a_damaged_table_is_named_with_what_to_do(tmp_path, damage):
    import pandas as pd

    from sklandscape import io
    from sklandscape.errors import DataFileError

    path = tmp_path / "landscape.parquet"
    io.write_table(pd.DataFrame({"a": range(1000), "b": [0.5] * 1000}), path, {"k": [1] * 50})
    data = bytearray(path.read_bytes())
    if damage == "cut short":
        data = data[: len(data) // 2]
    else:  # the footer's thrift structure
        end = len(data) - 8
        data[end - 200 : end - 100] = b"\xff" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=f"{path}: not a readable Parquet file .*Delete it"):
        io.read_table(path)


def test_damage_inside_a_table_fails_its_page_checksum_and_a_cut_shows_at_its_ends(tmp_path):
    """Bytes flipped in a data page (the footer intact) would read as other numbers: the page
    checksums our writers store catch them. A file cut short is seen from its first and last
    bytes alone (what the pipeline checks on every table at every start)."""
    import numpy as np
    import pandas as pd

    from sklandscape import io
    from sklandscape.errors import DataFileError

    path = tmp_path / "weights.parquet"
    io.write_table(pd.DataFrame({"value": np.linspace(0, 1, 5000)}), path)
    assert io.damaged_parquet(path) is None
    data = bytearray(path.read_bytes())
    data[200:216] = bytes(16)  # inside the first data page
    path.write_bytes(bytes(data))
    assert io.damaged_parquet(path) is None  # the ends are intact
    with pytest.raises(DataFileError, match=f"{path}: not a readable Parquet file .*"):
        io.read_table(path)
    # the streamed readers (a big landscape's figure and page) name it the same way
    for streamed in (lambda: list(io.iter_columns(path)),
                     lambda: io.column_argmins(path, ["value"]),
                     lambda: io.read_grid_subset(path, (50, 100), [0, 1], [0, 1])):
        with pytest.raises(DataFileError, match=f"{path}: not a readable Parquet file .*"):
            streamed()
    path.write_bytes(bytes(data[: len(data) // 2]))
    assert "cut short" in io.damaged_parquet(path)
    path.write_bytes(b"PAR1")
    assert "too short" in io.damaged_parquet(path)


def test_a_figure_png_carries_its_provenance_in_text_chunks(tmp_path):
    from PIL import Image

    import sklandscape as sl
    from conftest import fitted_mlp
    from sklandscape.figures.drawing import save_figure

    model, X, y = fitted_mlp((3,), "tanh", n_features=2)
    result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5,
                        name="mine")
    result.save_figure(tmp_path / "a.png")
    result.save_figure(tmp_path / "b.png")
    # the provenance is what saving is given: a figure alone carries none
    save_figure(result.plot(), tmp_path / "bare.png")
    with Image.open(tmp_path / "bare.png") as image:
        assert not any(key.startswith("sklandscape:") for key in image.text)
    with Image.open(tmp_path / "a.png") as image:
        text = image.text
    assert json.loads(text["sklandscape:landscape"])["axes"] == ["W1[0,0]", "W2[0,0]"]
    assert json.loads(text["sklandscape:name"]) == "mine"
    assert json.loads(text["sklandscape:network"])["layer_sizes"] == [2, 3, 1]
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
