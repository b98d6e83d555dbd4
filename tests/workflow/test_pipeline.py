"""End to end: the real Snakemake workflow on a small config, MLflow in a temp SQLite store."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from service_support import chromium_unavailable, headless_chromium
from sklandscape import io
from sklandscape.data.datasets import split_xy
from workflow_support import (
    SMALL_CONFIG,
    keys_sorted,
    make_workspace,
    planned_jobs,
    snakemake,
    tracked_runs,
    write_config,
)

pytestmark = pytest.mark.pipeline

CONFIG = SMALL_CONFIG  # what the shared `edited` and `runs` fixtures (conftest.py) read

EXPECTED_JOBS = sorted(
    [("data", "dataset=curve"), ("data", "dataset=surface"),
     ("train", "network=N1"), ("train", "network=N2"),
     ("landscape", "landscape=N2_input"), ("landscape", "landscape=N1_one"),
     ("landscape", "landscape=N1_all")]  # each job draws its own figures: no figure jobs
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("pipeline"))
    assert planned_jobs(root) == EXPECTED_JOBS
    snakemake(root, "--cores", "4")
    return root




def test_every_expected_file_exists(workspace):
    results = workspace / "results"
    expected = [f"data/{d}.parquet" for d in ("curve", "surface")]
    for network in ("N1", "N2"):
        expected += [f"models/{network}/model.skops", f"models/{network}/weights.parquet",
                     f"figures/network_{network}.png", f"figures/fit_{network}.png",
                     f"logs/train/{network}.log", f"benchmarks/train/{network}.tsv"]
    for landscape in ("N2_input", "N1_one", "N1_all"):
        expected += [f"landscapes/{landscape}.parquet", f"figures/landscape_{landscape}.png"]
    expected += ["figures/dataset_curve.png", "figures/dataset_surface.png"]
    missing = [p for p in expected if not (results / p).is_file()]
    assert not missing
    assert (results / "figures/landscape_N1_one.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_and_weights_tables(workspace):
    data, meta = io.read_table(workspace / "results/data/surface.parquet")
    assert list(data.columns) == ["x0", "x1", "y"] and len(data) == 150
    assert meta["dataset"]["function"] == "waves_with_spike"
    weights, meta = io.read_table(workspace / "results/models/N1/weights.parquet")
    assert list(weights.columns) == ["name", "layer", "kind", "i", "j", "value"]
    assert weights["name"].tolist() == ["W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]", "W2[0,0]", "W2[1,0]", "b2[0]"]
    assert meta["activation"] == "tanh" and meta["out_activation"] == "identity"
    assert meta["layer_sizes"] == [1, 2, 1]
    model = io.read_model(workspace / "results/models/N1/model.skops")
    np.testing.assert_array_equal(weights["value"][:2], model.coefs_[0][0])


def test_weights_landscape_table_and_metadata(workspace):
    path = workspace / "results/landscapes/N1_one.parquet"
    table, meta = io.read_table(path)
    assert list(table.columns) == ["W1[0,0]", "W2[0,0]", "loss"]
    assert len(table) == 49
    assert pq.ParquetFile(path).metadata.num_rows == 49
    assert meta["landscape"]["axes"] == ["W1[0,0]", "W2[0,0]"]
    assert meta["network"]["name"] == "N1" and meta["network"]["layer_sizes"] == [1, 2, 1]
    assert meta["samples"] == [10]
    assert len(meta["config_hash"]) == 16
    # the centre value is the MSE that the trained model's predict gives on the same sample
    model = io.read_model(workspace / "results/models/N1/model.skops")
    X, y = split_xy(io.read_table(workspace / "results/data/curve.parquet")[0])
    expected = float(np.mean((model.predict(X[[10]]) - y[[10]]) ** 2))
    assert meta["centre"]["loss"] == pytest.approx(expected, rel=1e-9)
    centre_row = table.iloc[len(table) // 2]
    assert centre_row["W1[0,0]"] == meta["centre"]["W1[0,0]"] == model.coefs_[0][0, 0]
    assert centre_row["loss"] == pytest.approx(expected, rel=1e-9)
    # an arbitrary grid point equals predict with both weights set
    row = table.iloc[5]
    model.coefs_[0][0, 0], model.coefs_[1][0, 0] = row["W1[0,0]"], row["W2[0,0]"]
    assert row["loss"] == pytest.approx(float(np.mean((model.predict(X[[10]]) - y[[10]]) ** 2)), rel=1e-10)


def test_tables_and_figures_carry_the_commit_and_their_inputs_hashes(workspace):
    """Provenance where readers look: pandas' attrs, pyarrow's schema metadata, the PNG's
    text chunks; the code's commit and the sha256 of each input file, as they are."""
    import pandas as pd
    from PIL import Image

    from sklandscape.provenance import sha256_file

    table = workspace / "results/landscapes/N1_all.parquet"
    attrs = pd.read_parquet(table).attrs["provenance"]
    assert json.loads(pq.read_table(table).schema.metadata[b"provenance"]) == attrs
    assert set(attrs["inputs"]) == {"data", "weights"}
    for facts in attrs["inputs"].values():
        assert facts["sha256"] == sha256_file(workspace / facts["path"])
    # the workflow copy is no checkout: the commit is the sklandscape package's
    package = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=os.path.dirname(io.__file__))
    assert attrs["code_commit"] == (package.stdout.strip() if package.returncode == 0 else "unknown")
    with Image.open(workspace / "results/figures/landscape_N1_all.png") as image:
        assert json.loads(image.text["provenance"]) == attrs


def test_all_points_landscape_centre(workspace):
    table, meta = io.read_table(workspace / "results/landscapes/N1_all.parquet")
    assert list(table.columns) == ["b1[0]", "W2[1,0]", "loss"] and meta["n_samples"] == 40
    model = io.read_model(workspace / "results/models/N1/model.skops")
    X, y = split_xy(io.read_table(workspace / "results/data/curve.parquet")[0])
    expected = float(np.mean((model.predict(X) - y) ** 2))
    assert table["loss"].iloc[len(table) // 2] == pytest.approx(expected, rel=1e-9)


def test_input_landscape_table(workspace):
    table, meta = io.read_table(workspace / "results/landscapes/N2_input.parquet")
    assert list(table.columns) == ["x0", "x1", "target", "prediction", "loss"]
    assert len(table) == 121
    assert table["x0"].min() == pytest.approx(-3.5) and table["x1"].max() == pytest.approx(3.5)
    model = io.read_model(workspace / "results/models/N2/model.skops")
    np.testing.assert_allclose(table["prediction"], model.predict(table[["x0", "x1"]].to_numpy()),
                               rtol=1e-12, atol=1e-12)
    assert meta["landscape"]["kind"] == "input_space"


def test_one_finished_run_per_job(workspace):
    _, found = tracked_runs(workspace, CONFIG["experiment"])  # a list: duplicates would show
    names = sorted(r.info.run_name for r in found)
    expected = sorted(f"{rule}-{wc.split('=')[1]}" for rule, wc in EXPECTED_JOBS)
    assert names == expected
    assert {r.info.status for r in found} == {"FINISHED"}


def test_training_runs_record_metrics_model_and_dataset(runs, workspace):
    client, by_name = runs
    train = {r.data.tags["network"]: r for r in by_name.values() if r.data.tags.get("stage") == "train"}
    for run in train.values():
        assert {"final_loss", "r2", "n_iter", "converged"} <= set(run.data.metrics)
        assert run.data.params["settings.hidden_layer_sizes"] in ("[2]", "[4,3]")
        assert run.data.tags["params_hash"]
        assert run.inputs.dataset_inputs, "the training dataset is logged with log_input"
        assert client.search_logged_models(experiment_ids=[run.info.experiment_id],
                                           filter_string=f"source_run_id = '{run.info.run_id}'")
    assert train["N2"].data.metrics["converged"] == 0.0
    assert "Maximum iterations (20) reached" in train["N2"].data.tags["convergence_warning"]
    # no empty tags, no tag that repeats a metric, no param the solver does not read
    assert "converged" not in train["N2"].data.tags
    assert "convergence_warning" not in train["N1"].data.tags  # lbfgs converged
    assert "settings.learning_rate_init" not in train["N1"].data.params  # lbfgs
    assert "settings.learning_rate_init" in train["N2"].data.params  # adam
    # each logged model is named after its network; each run says what it is
    for network, run in train.items():
        (model,) = client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'")
        assert model.name == network
        assert f"Trains network **{network}**" in run.data.tags["mlflow.note.content"]
        # its signature names the data's own columns, not an unnamed tensor
        from mlflow.models import Model

        data = CONFIG["networks"][network]["dataset"]
        columns = [c for c in io.read_table(workspace / f"results/data/{data}.parquet")[0].columns
                   if c != "y"]
        local = model.artifact_location.removeprefix("file://")
        assert Model.load(f"{local}/MLmodel").signature.inputs.input_names() == columns
    landscape = by_name["landscape-N1_all"].data.tags["mlflow.note.content"]
    assert "Loss landscape **N1_all** of network N1, kind weights" in landscape


def test_landscape_runs_link_to_their_training_run(runs):
    """A tag and a link in the description; not nesting, which hides runs in MLflow's list."""
    _, by_name = runs
    for landscape, network in (("N2_input", "N2"), ("N1_one", "N1"), ("N1_all", "N1")):
        run = by_name[f"landscape-{landscape}"]
        train = by_name[f"train-{network}"]
        assert "mlflow.parentRunId" not in run.data.tags
        assert run.data.tags["upstream_run_id"] == train.info.run_id
        link = f"[train-{network}](#/experiments/{train.info.experiment_id}/runs/{train.info.run_id})"
        assert run.data.tags["mlflow.note.content"].endswith(f"Made from the output of {link}.")
        assert {"loss_min", "loss_max", "loss_centre"} <= set(run.data.metrics)


def test_landscape_run_shows_its_figure(runs):
    client, by_name = runs
    run = by_name["landscape-N1_one"]
    paths = [a.path for a in client.list_artifacts(run.info.run_id, "figures")]
    assert paths == ["figures/landscape_N1_one.html", "figures/landscape_N1_one.png"]
    # ... and as an MLflow image (with its thumbnail), for the run page's image views
    images = [a.path for a in client.list_artifacts(run.info.run_id, "images")]
    assert any(p.startswith("images/landscape_N1_one+step+0") and p.endswith(".png")
               for p in images), images


def test_nothing_to_do_after_a_full_run(workspace):
    assert planned_jobs(workspace) == []


def test_moving_the_store_reruns_nothing(workspace, tmp_path):
    assert planned_jobs(workspace, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/other.db"}) == []


def test_edit_that_changes_nothing_reruns_nothing(workspace, edited):
    edited["datasets"]["surface"]["noise"] = 0.0  # the schema default, now explicit
    edited["networks"] = dict(reversed(list(edited["networks"].items())))
    write_config(workspace, edited)
    assert planned_jobs(workspace) == []


@pytest.mark.parametrize("reverse", [False, True])
def test_keys_in_another_order_at_every_depth_rerun_nothing(workspace, edited, reverse):
    """The README's promise: reorder keys (here: sort them, at every depth), nothing reruns."""
    write_config(workspace, keys_sorted(edited, reverse))
    assert planned_jobs(workspace) == []


def test_changing_n2_architecture_reruns_only_n2(workspace, edited):
    edited["networks"]["N2"]["hidden_layer_sizes"] = [5]
    write_config(workspace, edited)
    assert planned_jobs(workspace) == sorted(
        [("train", "network=N2"), ("landscape", "landscape=N2_input")]
    )


def test_changing_one_resolution_reruns_that_landscape_and_figure(workspace, edited):
    edited["landscapes"]["N1_one"]["resolution"] = 9
    write_config(workspace, edited)
    assert planned_jobs(workspace) == [("landscape", "landscape=N1_one")]


def report_variable(html: str, name: str):
    """The JSON the Snakemake HTML report embeds as `<script id="name"> var name = ...`."""
    script = html.index(f'<script id="{name}">')
    start = html.index(f"var {name} = ", script) + len(f"var {name} = ")
    return json.JSONDecoder().raw_decode(html, start)[0]


@pytest.fixture(scope="module")
def report(workspace, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(workspace, "--report", str(path))
    html = path.read_text()
    return path, report_variable(html, "results"), report_variable(html, "categories")


def test_report_holds_every_figure_with_its_category_and_caption(workspace, report):
    _, results, categories = report
    figures = sorted((workspace / "results/figures").glob("*.png"))
    assert [f.name for f in figures] == sorted(
        ["dataset_curve.png", "dataset_surface.png", "fit_N1.png", "fit_N2.png",
         "network_N1.png", "network_N2.png", "landscape_N1_all.png", "landscape_N1_one.png",
         "landscape_N2_input.png"])
    pages = sorted((workspace / "results/figures").glob("*.html"))
    assert [p.name for p in pages] == ["landscape_N1_all.html", "landscape_N1_one.html",
                                       "landscape_N2_input.html"]
    assert sorted(results) == sorted([f"results/figures/{f.name}" for f in figures + pages]
                                     + ["results/software_versions.html"])
    for page in pages:  # each landscape's interactive 3-D page beside its PNG
        entry = results[f"results/figures/{page.name}"]
        assert "Interactive 3-D view" in entry["caption"], page.name
        assert entry["labels"]["figure"].endswith(", interactive 3-D")
    versions_page = results["results/software_versions.html"]
    shown = base64.b64decode(versions_page["data_uri"].split("base64,", 1)[1]).decode()
    for package in ("numpy", "scikit-learn", "pandas", "pyarrow", "matplotlib", "mlflow",
                    "sklandscape"):
        assert f"<td>{package}</td>" in shown, package
    for figure in figures:
        entry = results[f"results/figures/{figure.name}"]
        encoded = entry["data_uri"].split("base64,", 1)[1]
        assert base64.b64decode(encoded) == figure.read_bytes(), figure.name
        assert "Held fixed" in entry["caption"], figure.name
    placed = {
        path: (category, sub)
        for category, subs in categories.items()
        for sub, paths in subs.items()
        for path in paths
    }
    assert placed["results/figures/dataset_surface.png"][0] == "1. Data"
    assert placed["results/figures/fit_N2.png"] == ("2. Networks", "N2")
    assert placed["results/figures/network_N1.png"] == ("2. Networks", "N1")
    assert placed["results/figures/landscape_N1_all.png"] == ("3. Loss landscapes", "N1")
    assert placed["results/figures/landscape_N2_input.png"] == ("3. Loss landscapes", "N2")
    # In the pipeline's order, whatever order the report sorts them in; the versions last.
    assert sorted(categories) == ["1. Data", "2. Networks", "3. Loss landscapes",
                                  "5. Software versions"]
    versions = placed["results/software_versions.html"]
    assert versions[0] == "5. Software versions"
    assert sorted(placed) == sorted(results)
    weights = results["results/figures/landscape_N1_all.png"]
    assert weights["labels"] == {"figure": "N1_all: weights over b1[0] × W2[1,0], samples all"}
    assert "b1[0]" in weights["caption"] and "W2[1,0]" in weights["caption"]
    assert "every other weight and bias" in weights["caption"]
    assert "all data points as two weights move" in weights["caption"]
    one = results["results/figures/landscape_N1_one.png"]["caption"]
    assert "the data rows [10] as two weights move" in one and "± 2.0" in one
    assert "input plane" in results["results/figures/landscape_N2_input.png"]["caption"]
    assert "150 samples of the generating function" in (
        results["results/figures/dataset_surface.png"]["caption"]
    )


def test_report_shows_every_figure_in_a_browser(report):
    """Click through every category in headless Chromium: each figure opens, nothing throws."""
    from selenium.webdriver.common.by import By

    reason = chromium_unavailable()
    if reason:
        pytest.skip(f"no browser to open the report: {reason}")
    path, results, categories = report

    def click(text):
        browser.find_element(By.XPATH, f"//*[normalize-space(text())='{text}']").click()

    with headless_chromium() as browser:
        for category, subcategories in categories.items():
            for subcategory, paths in subcategories.items():
                browser.get("about:blank")
                browser.get(path.as_uri())
                click(category)
                if len(subcategories) > 1:
                    click(subcategory)
                shown = set()
                for number in range(len(paths)):
                    views = browser.find_elements(By.CSS_SELECTOR, "a[iconname=eye]")
                    assert len(views) == len(paths), (category, subcategory, severe(browser))
                    click_when_free(browser, views[number])
                    shown |= {
                        image.get_attribute("src")
                        for image in browser.find_elements(By.CSS_SELECTOR, "img[src^='data:image/png']")
                        if browser.execute_script("return arguments[0].naturalWidth", image) > 0
                    }
                    # the versions page is HTML: the report opens it in a frame
                    shown |= {frame.get_attribute("src") for frame in browser.find_elements(
                        By.CSS_SELECTOR, "iframe[src^='data:text/html']")}
                assert shown == {results[p]["data_uri"] for p in paths}, (category, subcategory)
        assert not severe(browser)


def click_when_free(browser, element, seconds: float = 10.0) -> None:
    """Click `element` once the report's layout settles: its panels animate (`transition-all`),
    and a click during the animation lands on the neighbouring cell."""
    from selenium.common.exceptions import ElementClickInterceptedException

    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    deadline = time.monotonic() + seconds
    while True:
        try:
            return element.click()
        except ElementClickInterceptedException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def severe(browser) -> list[str]:
    """The browser's console errors since the last call."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
