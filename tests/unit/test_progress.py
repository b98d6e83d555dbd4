"""A long landscape job logs chunks done and the time left (sklandscape.progress)."""

from __future__ import annotations

import itertools
import logging
import re

import pytest

from conftest import fitted_mlp
from sklandscape.engine.landscape import plain_rows, weights_grid
from sklandscape.engine.structured import weights_slice_rows
from sklandscape.model.network import Network
from sklandscape.progress import PROGRESS_EVERY_ENV, ProgressLog, progress_interval

LINE = re.compile(
    r"(?P<label>.+): chunk (?P<chunk>\d+)/(?P<chunks>\d+) done "
    r"\((?P<done>\d+)/(?P<total>\d+) grid points, (?P<percent>\d+)%\), "
    r"(?P<elapsed>[\d.]+)s elapsed, ~(?P<left>[\d.]+)s left"
)


def progress_lines(records) -> list[dict]:
    found = [LINE.fullmatch(r.getMessage()) for r in records if r.name == "sklandscape"]
    return [{k: m[k] for k in LINE.groupindex} for m in found if m]


@pytest.fixture
def slice_in_chunks():
    """A real network and a weights grid that the plain pass evaluates in several chunks."""
    model, X, y = fitted_mlp((2,), "tanh", n=200, max_iter=200)
    net = Network.from_estimator(model)
    grid = weights_grid(net, ("W1[0,0]", "W2[0,0]"), 1.0, 101)
    return net, X, y, grid


def test_every_chunk_is_logged_with_time_left(slice_in_chunks, caplog):
    net, X, y, grid = slice_in_chunks
    caplog.set_level(logging.INFO, logger="sklandscape")
    progress = ProgressLog("N1 slice", every=0)
    sizes = [loss.size for _, loss in plain_rows(net, X, y, grid, progress=progress)]
    assert len(sizes) >= 3, "the grid should need several chunks"
    lines = progress_lines(caplog.records)
    assert len(lines) == len(sizes)
    done = 0
    for number, (line, size) in enumerate(zip(lines, sizes, strict=True), start=1):
        done += size
        assert line["label"] == "N1 slice"
        assert int(line["chunk"]) == number
        assert int(line["chunks"]) == len(sizes)
        assert (int(line["done"]), int(line["total"])) == (done, grid.size)
        assert int(line["percent"]) == round(100 * done / grid.size)
    assert float(lines[-1]["left"]) == 0.0


def test_a_long_interval_logs_only_the_end(slice_in_chunks, caplog):
    net, X, y, grid = slice_in_chunks
    caplog.set_level(logging.INFO, logger="sklandscape")
    chunks = list(plain_rows(net, X, y, grid, progress=ProgressLog("slice", every=3600)))
    lines = progress_lines(caplog.records)
    assert len(chunks) >= 3 and len(lines) == 1
    assert lines[0]["chunk"] == lines[0]["chunks"] == str(len(chunks))
    assert lines[0]["done"] == lines[0]["total"] == str(grid.size)


def test_interval_from_the_environment(monkeypatch):
    monkeypatch.delenv(PROGRESS_EVERY_ENV, raising=False)
    assert progress_interval() == 5.0
    monkeypatch.setenv(PROGRESS_EVERY_ENV, "0.5")
    assert progress_interval() == 0.5 and ProgressLog("x").every == 0.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(PROGRESS_EVERY_ENV, bad)
        with pytest.raises(ValueError, match=PROGRESS_EVERY_ENV):
            progress_interval()


def test_the_structured_engine_reports_its_bands(caplog):
    """The path the landscape stage takes logs one line per band of rows."""
    model, X, y = fitted_mlp((2,), "tanh", n=200, max_iter=200)
    net = Network.from_estimator(model)
    grid = weights_grid(net, ("W1[0,0]", "W2[0,0]"), 1.0, 601)
    caplog.set_level(logging.INFO, logger="sklandscape")
    bands = [loss.size for _, loss in weights_slice_rows(net, X, y, grid, None,
                                                          ProgressLog("bands", every=0))]
    lines = progress_lines(caplog.records)
    assert len(bands) >= 2 and len(lines) == len(bands)
    assert [int(line["done"]) for line in lines] == list(itertools.accumulate(bands))
    assert {int(line["chunks"]) for line in lines} == {len(bands)}


# --- bars: what a person sees in a terminal (the notebook's widget: tests/project) ---------


def _bar_text(capsys) -> str:
    return capsys.readouterr().err.replace("\r", "\n")


def test_a_public_call_draws_a_bar_to_its_last_cell(monkeypatch, capsys):
    import sklandscape as sl
    from sklandscape import progress as progress_module

    monkeypatch.setattr(progress_module, "BAR_DELAY", 0.0)  # this call is short
    model, X, y = fitted_mlp((3,), "tanh", n_features=2, n=60, max_iter=50)
    sl.random_plane(model, X, y, seeds=[0, 1], resolution=9, topology=False,
                    heldout=(X[:10], y[:10]))
    text = _bar_text(capsys)
    # two seeds, each its training and held-out pass: 4 x 81 cells on one bar
    assert re.search(r"random_plane: 100%\|[^|]*\| 324/324 ", text), text
    sl.weight_pairs(model, X, y, axes=["W1[0,0]", "b1[1]", "W2[2,0]"], resolution=5)
    assert re.search(r"weight_pairs: 100%\|[^|]*\| 75/75 ", _bar_text(capsys))


def test_no_bar_with_progress_false_in_the_pipeline_or_before_the_delay(monkeypatch, capsys):
    import sklandscape as sl
    from sklandscape import progress as progress_module

    model, X, y = fitted_mlp((3,), "tanh", n_features=2, n=60, max_iter=50)
    sl.random_plane(model, X, y, resolution=9, topology=False)  # well under BAR_DELAY
    assert _bar_text(capsys) == ""
    monkeypatch.setattr(progress_module, "BAR_DELAY", 0.0)
    sl.random_plane(model, X, y, resolution=9, topology=False, progress=False)
    assert _bar_text(capsys) == ""
    log = ProgressLog("a pipeline job", every=0.0)  # outside a public call: its log only
    log(5, 10)
    log(10, 10)
    assert _bar_text(capsys) == ""


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_progress_must_be_true_or_false(bad):
    import sklandscape as sl
    from sklandscape.errors import OptionError

    model, X, y = fitted_mlp((3,), "tanh", n_features=2, n=60, max_iter=50)
    with pytest.raises(OptionError, match=f"progress: {re.escape(repr(bad))} is not True or"):
        sl.random_plane(model, X, y, resolution=5, progress=bad)


def test_bar_units_are_short():
    from sklandscape.progress import _bar_unit

    assert _bar_unit("grid points") == "cells"
    assert _bar_unit("Hessian-vector products (estimate)") == "products"
    assert _bar_unit("steps (curve iterations, then paths)") == "steps"
    assert _bar_unit("iterations of max_iter (it may converge sooner)") == "iterations"
