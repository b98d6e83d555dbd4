"""The MLflow UI in a real browser: `mlflow server` over a pipeline run's SQLite store,
browsed with headless Chromium driven by Selenium.

This module's pipeline run also shows a landscape job's progress in its log file, so CI
runs one small pipeline for both.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from service_support import (
    chromium_unavailable,
    console_errors,
    headless_chromium,
    mlflow_server,
    screenshot,
)
from sklandscape import io
from workflow_support import REPO, make_workspace, planned_jobs, snakemake

pytestmark = pytest.mark.pipeline

EXPERIMENT = "sklandscape-ui"
UI_CONFIG = {
    "experiment": EXPERIMENT,
    "datasets": {
        "curve": {"function": "sine", "n_samples": 200, "domain": [[-3.14159, 3.14159]],
                  "sampling": "grid"},
    },
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 300}},
    "landscapes": {
        # 601 x 601 points: more than one band of the engine (sklandscape.engine.slicing.BAND_CELLS),
        # so the log shows progress chunk by chunk; computed and drawn in about 2 s
        "N1_one": {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                   "span": 2.0, "resolution": 601, "samples": "all"},
    },
}
LANDSCAPE_RUN = "landscape-N1_one"
TIMEOUT = 60  # seconds the UI may take to show something


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A finished pipeline run in a local SQLite store; the jobs it ran, from its dry run."""
    root = make_workspace(tmp_path_factory.mktemp("ui"), UI_CONFIG)
    jobs = planned_jobs(root)
    snakemake(root, "--cores", "2", env={"SKLANDSCAPE_PROGRESS_EVERY": "0"})
    return root, jobs


@pytest.fixture(scope="module")
def store(pipeline):
    root, _ = pipeline
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    found = client.search_runs([experiment.experiment_id], max_results=1000)
    return client, {run.info.run_name: run for run in found}


@pytest.fixture(scope="module")
def server(pipeline, tmp_path_factory):
    root, _ = pipeline
    log = tmp_path_factory.mktemp("server") / "mlflow-server.log"
    with mlflow_server(f"sqlite:///{root / 'mlflow.db'}", log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    reason = chromium_unavailable()
    if reason:
        pytest.skip(f"no browser for the MLflow UI test: {reason}")
    with headless_chromium() as driver:
        yield driver


def wait(driver, condition, message: str):
    """Until `condition` holds. The UI re-renders its tables while it loads: an element read
    in the moment it is replaced is stale, and the condition is simply asked again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, TIMEOUT, ignored_exceptions=(
        StaleElementReferenceException,)).until(condition, message)


def page_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def by_text(driver, text: str):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.XPATH, f"//*[normalize-space(text())='{text}']")
    # the first one shown (the same name may also be in a hidden panel)
    return next((element for element in found if element.is_displayed()), found[0])


def click_text(driver, text: str) -> None:
    """Click the element showing `text` once it takes clicks (a tree row is shown before
    its expanding animation ends, and refuses them until then)."""
    from selenium.common.exceptions import (
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )

    def clicked(d) -> bool:
        try:
            by_text(d, text).click()
            return True
        except (ElementNotInteractableException, StaleElementReferenceException,
                NoSuchElementException, IndexError):
            return False

    wait(driver, clicked, f"a clickable {text!r}")


def close_assistant(driver) -> None:
    """Close the 'MLflow Assistant' side panel, so screenshots show the page."""
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Close']"):
        if button.is_displayed():
            button.click()


def open_experiment(driver, server: str) -> None:
    """From the experiment list, in 'Model training' mode, to the experiment's runs."""
    from selenium.webdriver.common.by import By

    driver.get("about:blank")  # a full page load, not a hash change within the app
    driver.get(f"{server}/#/experiments")
    wait(driver, lambda d: d.find_elements(By.LINK_TEXT, EXPERIMENT), "experiment list")
    click_text(driver, "Model training")
    driver.find_element(By.LINK_TEXT, EXPERIMENT).click()
    wait(driver, lambda d: re.search(r"\d+ matching runs", page_text(d)) and run_names(d),
         "the runs table")
    close_assistant(driver)


def expand_all_runs(driver) -> list[str]:
    """Expand every parent run (the table collapses children); the run names shown."""
    from selenium.webdriver.common.by import By

    expander = "button[data-component-id*='runnamecellrenderer']"
    plus = "V4.5"  # the vertical bar of the '+' icon; a '-' icon has none
    for _ in range(100):
        collapsed = [
            b for b in driver.find_elements(By.CSS_SELECTOR, expander)
            if plus in b.find_element(By.CSS_SELECTOR, "path").get_attribute("d")
        ]
        if not collapsed:
            break
        shown = len(run_names(driver))
        collapsed[0].click()
        wait(driver, lambda d, n=shown: len(run_names(d)) > n, "child runs after expanding")
    return run_names(driver)


def run_names(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    links = driver.find_elements(By.CSS_SELECTOR, ".ag-row a[href*='/runs/']")
    return [link.text for link in links if link.text]


def table_rows(driver, header: str) -> dict[str, str]:
    """The name -> value rows of the run page's table whose first column is `header`."""
    from selenium.webdriver.common.by import By

    for table in driver.find_elements(By.CSS_SELECTOR, "[role=table]"):
        rows = [
            [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "[role=cell]")]
            for row in table.find_elements(By.CSS_SELECTOR, "[role=row]")
        ]
        if table.text.split("\n", 1)[0] == header:
            return {cells[0]: cells[1] for cells in rows if len(cells) == 2}
    raise AssertionError(f"no table headed {header!r} on {driver.current_url}")


def test_the_experiment_shows_one_run_per_job(browser, pipeline, server):
    _, jobs = pipeline
    open_experiment(browser, server)
    expected = sorted(f"{rule}-{wildcards.split('=', 1)[1]}" for rule, wildcards in jobs)
    count = re.search(r"(\d+) matching runs", page_text(browser))
    assert int(count[1]) == len(expected)
    shown = expand_all_runs(browser)
    screenshot(browser, "mlflow_ui_runs")
    assert sorted(shown) == expected


def test_a_landscape_run_shows_its_params_metrics_and_figure(browser, pipeline, store, server):
    from selenium.webdriver.common.by import By

    root, _ = pipeline
    _, runs = store
    run = runs[LANDSCAPE_RUN]
    open_experiment(browser, server)
    expand_all_runs(browser)
    browser.find_element(By.LINK_TEXT, LANDSCAPE_RUN).click()
    wait(browser, lambda d: "Parameters (" in page_text(d), "the run page")
    close_assistant(browser)

    params = table_rows(browser, "Parameter")
    assert params == run.data.params
    spec = UI_CONFIG["landscapes"]["N1_one"]
    assert params["spec.resolution"] == str(spec["resolution"])
    assert params["spec.axes"] == '["W1[0,0]","W2[0,0]"]'

    metrics = {name: float(value) for name, value in table_rows(browser, "Metric").items()}
    assert metrics == pytest.approx(run.data.metrics, rel=1e-12)
    table, _ = io.read_table(root / "results/landscapes/N1_one.parquet")
    assert metrics["loss_min"] == pytest.approx(float(table["loss"].min()), rel=1e-12)
    assert metrics["n_points"] == len(table) == spec["resolution"] ** 2
    screenshot(browser, "mlflow_ui_landscape_run")

    click_text(browser, "Artifacts")
    wait(browser, lambda d: d.find_elements(By.XPATH, "//*[normalize-space(text())='figures']"),
         "the artifact tree")
    click_text(browser, "figures")
    figure = "landscape_N1_one.png"
    wait(browser, lambda d: d.find_elements(By.XPATH, f"//*[normalize-space(text())='{figure}']"),
         "the figure in the artifact tree")
    click_text(browser, figure)
    image = wait(
        browser,
        lambda d: next((i for i in d.find_elements(By.CSS_SELECTOR, "img[src^='blob:']")
                        if d.execute_script("return arguments[0].naturalWidth", i) > 0), None),
        "the figure's preview",
    )
    shown = browser.execute_async_script(
        """const [image, done] = arguments;
        fetch(image.src).then(r => r.arrayBuffer()).then(buffer => done(
            Array.from(new Uint8Array(buffer), b => b.toString(16).padStart(2, "0")).join("")));""",
        image,
    )
    screenshot(browser, "mlflow_ui_landscape_figure")
    local = (root / "results/figures" / figure).read_bytes()
    assert hashlib.sha256(bytes.fromhex(shown)).hexdigest() == hashlib.sha256(local).hexdigest()


LOG_LINE = re.compile(
    r"chunk (\d+)/(\d+) done \((\d+)/(\d+) grid points, \d+%\), [\d.]+s elapsed, ~([\d.]+)s left"
)


def test_the_landscape_log_shows_chunks_done_and_time_left(pipeline):
    root, _ = pipeline
    log = (root / "results/logs/landscape/N1_one.log").read_text()
    lines = [tuple(map(float, m.groups())) for m in LOG_LINE.finditer(log)]
    table, _ = io.read_table(root / "results/landscapes/N1_one.parquet")
    assert len(lines) >= 2, log
    chunks = int(lines[-1][1])
    assert [int(line[0]) for line in lines] == list(range(1, chunks + 1))
    assert {int(line[1]) for line in lines} == {chunks}
    done = [int(line[2]) for line in lines]
    assert done == sorted(done) and done[-1] == len(table)
    assert {int(line[3]) for line in lines} == {len(table)}
    assert lines[-1][4] == 0.0


SURFACE_READY = ("const g = document.getElementById('sklandscape-surface');"
                 "return !!(g && g._fullLayout && g.querySelector('canvas'));")


def test_the_landscapes_3d_page_renders_the_tables_numbers_without_console_errors(
        browser, pipeline, store):
    """The interactive page, opened from disk in Chromium: plotly draws it (a WebGL canvas),
    with no error in the console, and the surface's numbers are the table's."""
    root, _ = pipeline
    console_errors(browser)  # only this page's
    browser.get((root / "results/figures/landscape_N1_one.html").as_uri())
    wait(browser, lambda d: d.execute_script(SURFACE_READY), "the 3-D surface")
    traces = browser.execute_script(
        "return document.getElementById('sklandscape-surface').data.map("
        "t => ({type: t.type, name: t.name, x: t.x, y: t.y, z: t.z}))")
    screenshot(browser, "landscape_3d_page")
    assert console_errors(browser) == []
    # the surface, the trained point, and the slice's one significant minimum (its topology)
    assert [(t["type"], t["name"]) for t in traces] == [("surface", "log10 MSE"),
                                                       ("scatter3d", "trained weights"),
                                                       ("scatter3d", "1 significant minimum")]
    table, metadata = io.read_table(root / "results/landscapes/N1_one.parquet")
    grid = table.pivot(index="W1[0,0]", columns="W2[0,0]", values="loss")
    surface = traces[0]
    rows = [grid.index[abs(grid.index - value).argmin()] for value in surface["x"]]
    columns = [grid.columns[abs(grid.columns - value).argmin()] for value in surface["y"]]
    expected = np.log10(grid.loc[rows, columns].to_numpy()).T
    np.testing.assert_allclose(np.array(surface["z"], dtype=float), expected, rtol=1e-5, atol=1e-6)
    centre = metadata["centre"]
    assert traces[1]["x"] == [pytest.approx(centre["W1[0,0]"], rel=1e-5)]

    client, runs = store
    logged = {a.path for a in client.list_artifacts(runs[LANDSCAPE_RUN].info.run_id, "figures")}
    assert "figures/landscape_N1_one.html" in logged


def test_mlflow_shows_the_3d_page_among_the_runs_artifacts(browser, pipeline, store, server):
    """The run's artifact view renders the HTML page (in a frame), plot and all."""
    from selenium.webdriver.common.by import By

    open_experiment(browser, server)
    expand_all_runs(browser)
    browser.find_element(By.LINK_TEXT, LANDSCAPE_RUN).click()
    wait(browser, lambda d: "Parameters (" in page_text(d), "the run page")
    close_assistant(browser)
    click_text(browser, "Artifacts")
    wait(browser, lambda d: d.find_elements(By.XPATH, "//*[normalize-space(text())='figures']"),
         "the artifact tree")
    click_text(browser, "figures")
    page = "landscape_N1_one.html"
    wait(browser, lambda d: d.find_elements(By.XPATH, f"//*[normalize-space(text())='{page}']"),
         "the page in the artifact tree")
    console_errors(browser)
    click_text(browser, page)
    frame = wait(browser, lambda d: next(iter(d.find_elements(By.TAG_NAME, "iframe")), None),
                 "the page's frame")
    browser.switch_to.frame(frame)
    try:
        wait(browser, lambda d: d.execute_script(SURFACE_READY), "the 3-D surface in MLflow")
    finally:
        browser.switch_to.default_content()
    screenshot(browser, "mlflow_ui_3d_page")


SEARCHES = {  # the README's search expressions (docs/mlflow.md), and the runs each must find
    "tags.stage = 'landscape'": [LANDSCAPE_RUN],
    "tags.landscape = 'N1_one'": [LANDSCAPE_RUN],
    "attributes.run_name LIKE 'train-%'": ["train-N1"],
    "metrics.loss_min < 0.001": [LANDSCAPE_RUN],
}


def test_the_documented_search_expressions_find_their_runs_in_the_ui(browser, pipeline, store,
                                                                     server):
    """Typed into the runs page's search box, each expression shows its runs, nested ones
    included, with no request error."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    client, runs = store
    documented = (REPO / "docs/mlflow.md").read_text()
    open_experiment(browser, server)
    for expression, expected in SEARCHES.items():
        assert f"`{expression}`" in documented, expression
        found = client.search_runs([runs[LANDSCAPE_RUN].info.experiment_id], expression)
        assert sorted(r.info.run_name for r in found) == expected, expression
        def typed(d, text=expression) -> bool:
            # the box may re-render while the table loads: type until it holds the text
            from selenium.common.exceptions import StaleElementReferenceException

            try:
                box = d.find_element(By.CSS_SELECTOR, "input[data-testid='search-box']")
                box.send_keys(Keys.CONTROL, "a")
                box.send_keys(Keys.BACKSPACE)
                box.send_keys(text)
                if box.get_attribute("value") != text:
                    return False
                box.send_keys(Keys.ENTER)
            except StaleElementReferenceException:
                return False
            return True

        wait(browser, typed, f"the search box to hold {expression}")
        wait(browser, lambda d, names=expected: sorted(run_names(d)) == names,
             f"the runs of {expression}")
        text = page_text(browser)
        assert "Request error" not in text
        assert re.search(rf"\b{len(expected)} matching runs?", text), expression
    screenshot(browser, "mlflow_ui_search")
