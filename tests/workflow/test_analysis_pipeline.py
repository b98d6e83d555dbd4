"""End to end: the analyses (curvature, optimizers, input attack) in the real Snakemake workflow,
on a small config of their own, with MLflow in a temp SQLite store."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PIL import Image

from conftest import fd_hessian
from sklandscape import io
from sklandscape.data.datasets import split_xy
from workflow_support import (
    SMALL_CONFIG,
    keys_sorted,
    make_workspace,
    planned_jobs,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.pipeline

CONFIG = copy.deepcopy(SMALL_CONFIG)
CONFIG["analyses"] = {
    "curv": {"kind": "curvature", "landscape": "N1_one", "plateau_threshold": 0.5},
    "opt": {"kind": "optimizers", "landscape": "N1_all", "start_offsets": [[-0.8, 0.8], [0.8, 0.5]],
            "learning_rates": [1e-3, 1e-2, 1e-1], "epsilon": 1e-3, "max_steps": 40},
    "attack": {"kind": "input_attack", "landscape": "N2_input", "top_k": 4, "arrows": 5,
               "ascent": {"step_size": 0.05, "steps": 5, "radius": 0.2}},
}
# Each analysis job draws its own figures.
ANALYSIS_JOBS = sorted([
    ("curvature", "analysis=curv"), ("optimizers", "analysis=opt"),
    ("input_attack", "analysis=attack"),
])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("analysis_pipeline"), CONFIG)
    jobs = planned_jobs(root)
    assert set(ANALYSIS_JOBS) <= set(jobs) and len(jobs) == 7 + len(ANALYSIS_JOBS)
    snakemake(root, "--cores", "4")
    return root




def test_every_analysis_output_exists(workspace):
    results = workspace / "results"
    expected = [f"analyses/curv/{n}.parquet" for n in ("hessian", "curvature_map")]
    expected += [f"analyses/opt/{n}.parquet" for n in ("optimizer_runs", "optimizer_paths")]
    expected += [f"analyses/attack/{n}.parquet"
                 for n in ("worst_inputs", "ascent", "ascent_paths", "gradient_field")]
    expected += [f"figures/{n}_curv.png" for n in ("hessian", "convexity", "plateau")]
    expected += ["figures/optimizers_opt.png", "figures/optimizers_opt.gif",
                 "figures/attack_attack.png", "logs/analysis/curv.log"]
    assert [p for p in expected if not (results / p).is_file()] == []
    with Image.open(results / "figures/optimizers_opt.gif") as gif:
        assert gif.n_frames > 10


def test_hessian_eigenvalues_match_finite_differences_of_the_trained_model(workspace, runs):
    """The logged eigenvalues against a Hessian built from the skops model's predict alone."""
    _, by_name = runs
    metrics = by_name["curvature-curv"].data.metrics
    model = io.read_model(workspace / "results/models/N1/model.skops")
    X, y = split_xy(io.read_table(workspace / "results/data/curve.parquet")[0])
    X, y = X[[10]], y[[10]]  # landscape N1_one's sample
    flat = np.concatenate([p for c, b in zip(model.coefs_, model.intercepts_)
                           for p in (c.ravel(), b.ravel())])
    shapes = [(c.shape, b.shape) for c, b in zip(model.coefs_, model.intercepts_)]

    def mse(theta):
        start, coefs, intercepts = 0, [], []
        for (cs, bs) in shapes:
            coefs.append(theta[start:start + np.prod(cs)].reshape(cs))
            start += np.prod(cs)
            intercepts.append(theta[start:start + bs[0]])
            start += bs[0]
        model.coefs_, model.intercepts_ = coefs, intercepts
        return float(np.mean((model.predict(X) - y) ** 2))

    H = fd_hessian(mse, flat)
    expected = np.linalg.eigvalsh((H + H.T) / 2)
    table, _ = io.read_table(workspace / "results/analyses/curv/hessian.parquet")
    logged = table["eigenvalue"].to_numpy()
    assert metrics["hessian_eig_max"] == logged.max() and metrics["hessian_eig_min"] == logged.min()
    np.testing.assert_allclose(logged, expected, rtol=1e-3, atol=1e-5 * np.abs(expected).max())


def test_analysis_runs_log_metrics_tags_and_link_to_their_landscape(runs):
    client, by_name = runs
    expected_names = {f"{rule}-{wc.split('=')[1]}" for rule, wc in ANALYSIS_JOBS}
    assert expected_names <= set(by_name)
    assert {by_name[n].info.status for n in expected_names} == {"FINISHED"}
    curv = by_name["curvature-curv"]
    assert {"hessian_top_1", "hessian_trace", "epsilon_sharpness", "plateau_fraction",
            "convex_fraction", "slice_min_loss"} <= set(curv.data.metrics)
    assert curv.data.tags["strictly_convex"] in ("yes", "no")
    opt = by_name["optimizers-opt"]
    assert {f"steps_to_eps_{m}" for m in ("gd", "momentum", "nesterov", "adam")} <= set(
        opt.data.metrics)
    assert opt.data.tags["verdict_momentum"]
    attack = by_name["input_attack-attack"]
    assert {"ascent_gain_mean", "ascent_error_ratio", "worst_error"} <= set(attack.data.metrics)
    assert attack.data.metrics["ascent_error_ratio"] >= 1.0
    for analysis, landscape in (("curvature-curv", "N1_one"), ("optimizers-opt", "N1_all"),
                                ("input_attack-attack", "N2_input")):
        tags = by_name[analysis].data.tags
        assert "mlflow.parentRunId" not in tags  # top-level rows: nothing hides, collapsed
        assert tags["upstream_run_id"] == by_name[f"landscape-{landscape}"].info.run_id
        assert tags["upstream_run"] == f"landscape-{landscape}"
    shown = sorted(a.path for a in client.list_artifacts(curv.info.run_id, "figures"))
    assert shown == ["figures/convexity_curv.png", "figures/cuts_curv.png",
                     "figures/hessian_curv.png", "figures/plateau_curv.png",
                     "figures/spectrum_curv.png"]
    assert sorted(a.path for a in client.list_artifacts(opt.info.run_id, "figures")) == [
        "figures/optimizers_opt.gif", "figures/optimizers_opt.html", "figures/optimizers_opt.png"]
    assert [a.path for a in client.list_artifacts(attack.info.run_id, "figures")] == [
        "figures/attack_attack.png"]


def test_nothing_to_do_after_a_full_run(workspace):
    assert planned_jobs(workspace) == []


def test_writing_out_defaults_reruns_nothing(workspace, edited):
    edited["analyses"]["attack"]["ascent"] = {"step_size": 0.05, "steps": 5, "radius": 0.2}
    edited["analyses"]["opt"]["animation"] = True
    edited["analyses"]["opt"]["methods"] = {"gd": {}, "momentum": {"beta": 0.9},
                                            "nesterov": {}, "adam": {"beta2": 0.999}}
    write_config(workspace, edited)
    assert planned_jobs(workspace) == []


def test_keys_sorted_at_every_depth_rerun_nothing(workspace, edited):
    """Analyses and their nested settings (ascent, methods) included."""
    write_config(workspace, keys_sorted(edited, reverse=True))
    assert planned_jobs(workspace) == []


def test_editing_an_analysis_reruns_only_it_and_its_figures(workspace, edited):
    edited["analyses"]["curv"]["plateau_threshold"] = 2.0
    write_config(workspace, edited)
    assert planned_jobs(workspace) == [("curvature", "analysis=curv")]


def test_editing_the_landscape_reruns_its_analyses(workspace, edited):
    edited["landscapes"]["N1_all"]["resolution"] = 11
    write_config(workspace, edited)
    assert planned_jobs(workspace) == sorted([
        ("landscape", "landscape=N1_all"),
        ("optimizers", "analysis=opt")])


# --- bad config: every problem named by its key, before any job (one dry run per check layer)

SCHEMA_CASES = {
    "top_k below 1": (lambda c: c["analyses"].update(
        bad_topk={"kind": "input_attack", "landscape": "N2_input", "top_k": 0}),
        "analyses.bad_topk.top_k: 0 is less than the minimum of 1"),
    "unknown optimizer": (lambda c: c["analyses"].update(
        bad_method={"kind": "optimizers", "landscape": "N1_all", "start_offsets": [[0, 0]],
                    "methods": {"rmsprop": {}}}),
        "analyses.bad_method.methods: unknown key 'rmsprop'"),
    "unknown analysis kind": (lambda c: c["analyses"].update(
        bad_kind_name={"kind": "hessian", "landscape": "N1_all"}),
        "analyses.bad_kind_name.kind: 'hessian' is not one of 'curvature', 'optimizers', "
        "'input_attack'"),
}

REFERENCE_CASES = {
    "undefined landscape": (lambda c: c["analyses"].update(
        bad_ref={"kind": "curvature", "landscape": "N1_ones"}),
        "analyses.bad_ref.landscape: 'N1_ones' is not defined under landscapes (did you mean "
        "'N1_one'?)"),
    "landscape of the wrong kind": (lambda c: c["analyses"].update(
        bad_kind={"kind": "curvature", "landscape": "N2_input"}),
        "analyses.bad_kind: a curvature analysis needs a landscape of kind 'weights'; "
        "landscapes.N2_input is of kind 'input_space'"),
    "start outside the window": (lambda c: c["analyses"].update(
        bad_start={"kind": "optimizers", "landscape": "N1_all",
                   "start_offsets": [[0.5, 0.5], [0.0, 3.0]]}),
        "analyses.bad_start.start_offsets[1]: [0.0, 3.0] starts outside landscape 'N1_all''s "
        "window: each offset from the trained value must be within its span, 1"),
}


def _dry_run(root, cases):
    config = copy.deepcopy(CONFIG)
    for edit, _ in cases.values():
        edit(config)
    make_workspace(root, config)
    (root / "data").mkdir(exist_ok=True)
    rows = "\n".join(f"{a},{b},{a * b}" for a, b in [(0.1, 1), (0.5, 2), (0.9, 0), (0.3, 3)])
    (root / "data" / "mine.csv").write_text("a,b,y\n" + rows + "\n")
    result = snakemake(root, "-n", "--cores", "1", check=False)
    assert result.returncode != 0
    return [line[4:] for line in (result.stderr + result.stdout).splitlines()
            if line.startswith("  - ")]


@pytest.fixture(scope="module")
def schema_problems(tmp_path_factory):
    return _dry_run(tmp_path_factory.mktemp("analysis_schema"), SCHEMA_CASES)


@pytest.fixture(scope="module")
def reference_problems(tmp_path_factory):
    return _dry_run(tmp_path_factory.mktemp("analysis_references"), REFERENCE_CASES)


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_bad_analysis_values_are_named_by_key(schema_problems, case):
    expected = SCHEMA_CASES[case][1]
    assert any(line.startswith(expected) for line in schema_problems), schema_problems


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_bad_analysis_references_are_named_by_key(reference_problems, case):
    expected = REFERENCE_CASES[case][1]
    assert any(line.startswith(expected) for line in reference_problems), reference_problems
    assert len(reference_problems) == len(REFERENCE_CASES)
