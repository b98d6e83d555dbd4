"""The API's options obey the config schema's rules, in the pipeline's words, before any work;
the models the API cannot map are refused in a scikit-learn user's terms."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor

import sklandscape as sl
from sklandscape.errors import OptionError
from sklandscape.options import METHOD_SETTINGS, OPTIONS
from workflow_support import REPO

AXES = ("W1[0,0]", "W2[0,0]")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, y / 100)
    return model, X, y / 100


def _schema_rule(schema: dict, kind: str, option: str) -> dict:
    defs = schema["$defs"]
    section = defs.get(f"{kind}_landscape") or defs[f"{kind}_analysis"]
    properties = section["properties"]
    if option not in properties and kind == "input_attack":  # the API flattens `ascent:`
        properties = properties["ascent"]["properties"]
    rule = properties[option]
    if not rule:  # `{}`: the rule every landscape kind shares
        rule = defs["landscape"]["properties"][option]
    return _rule_keys(rule)


def _rule_keys(rule: dict) -> dict:
    keys = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum",
            "minItems", "maxItems", "uniqueItems")
    found = {key: rule[key] for key in keys if key in rule}
    if "items" in rule:
        found["items"] = _rule_keys(rule["items"])
    return found


def test_every_optimizer_setting_rule_is_the_schemas():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    defs = schema["$defs"]
    assert set(METHOD_SETTINGS) == set(defs["optimizers_analysis"]["properties"]["methods"]
                                       ["properties"])
    for method, rules in METHOD_SETTINGS.items():
        section = defs["momentum_settings" if method == "nesterov" else f"{method}_settings"]
        assert set(rules) == set(section["properties"]), method
        for name, rule in rules.items():
            expected = section["properties"][name]
            expected = defs["learning_rates"] if "$ref" in expected else expected
            assert rule == _rule_keys(expected), (method, name)


KINDS = ["weights", "input_space", "weight_pairs", "random_plane", "hessian_plane", "interpolation",
         "trajectory_pca", "curvature", "optimizers", "input_attack", "learning_rates",
         "connectivity"]


def test_every_api_default_is_the_schemas_default_for_that_key():
    """One contract per option: where a function's keyword is a config key of its kind with
    a default, the two defaults are equal (a list and a tuple alike)."""
    import inspect

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    defs, compared, mismatched = schema["$defs"], [], []
    for kind in KINDS:
        section = defs.get(f"{kind}_landscape") or defs[f"{kind}_analysis"]
        shared = defs["landscape"] if f"{kind}_landscape" in defs else defs["analysis"]
        for name, parameter in inspect.signature(getattr(sl, kind)).parameters.items():
            rule = section["properties"].get(name)
            if rule == {} or (rule is None and name in shared["properties"]):
                rule = shared["properties"][name]
            if rule is None or "default" not in rule or parameter.default is inspect._empty:
                continue
            api = parameter.default
            api = list(api) if isinstance(api, tuple) else api
            if api is None and isinstance(rule["default"], dict):
                continue  # a mapping default is None in a signature, as scikit-learn writes it
            if api == rule["default"]:
                compared.append((kind, name))
            else:
                mismatched.append((kind, name, api, rule["default"]))
    assert mismatched == []
    # every curvature setting is a keyword help() lists, and has the schema's default
    assert {n for k, n in compared if k == "curvature"} >= {
        "plateau_threshold", "full_hessian_max_weights", "top_k", "trace_probes",
        "density_probes", "lanczos_steps", "bottom_max_products", "random_state", "sharpness_epsilon",
        "sharpness_steps", "cut_points"}
    assert len(compared) >= 30, compared


def test_every_api_rule_is_the_schemas_rule_for_that_key():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    checked = 0
    for kind, options in OPTIONS.items():
        for option, rule in options.items():
            expected = _schema_rule(schema, kind, option)
            if option == "axes" and kind == "weights":  # the names' pattern is the network's
                expected.pop("items", None)
            assert rule == expected, (kind, option)
            checked += 1
    assert checked >= 30


# The cases found by trying the API as a new user (issue 21), each with the words the
# pipeline's config error gives for the same key.
CASES = [
    (sl.weights, dict(axes=AXES, resolution=0), "resolution: 0 is less than the minimum of 2"),
    (sl.weights, dict(axes=AXES, resolution=1), "resolution: 1 is less than the minimum of 2"),
    (sl.weights, dict(axes=AXES, resolution=5.5), "resolution: 5.5 is not an integer"),
    (sl.weights, dict(axes=AXES, span=-1),
     "span: -1 is less than or equal to the minimum of 0"),
    (sl.weights, dict(axes=AXES, span=0), "span: 0 is less than or equal to the minimum of 0"),
    (sl.weights, dict(axes=AXES, span=float("nan")), "span: nan is not a finite number"),
    (sl.weights, dict(axes=AXES, span=1e101),
     "span: 1e+101 is greater than the maximum of 1e+100"),
    (sl.weights, dict(axes=("W1[0,0]", "W2[0,0]", "b2[0]")),
     "axes: ['W1[0,0]', 'W2[0,0]', 'b2[0]'] has 3 items; at most 2 are allowed"),
    (sl.random_plane, dict(seeds=[]), "seeds: [] has 0 items; at least 1 is needed"),
    (sl.random_plane, dict(seeds=[1, 1]), "seeds: [1, 1] has non-unique elements"),
    (sl.random_plane, dict(seeds=[-1]), "seeds: -1 is less than the minimum of 0"),
    (sl.weight_pairs, dict(span=0), "span: 0 is less than or equal to the minimum of 0"),
    (sl.hessian_plane, dict(directions="bottom"),
     "directions: 'bottom' is not one of 'top_two', 'top_bottom'"),
    (sl.input_space, dict(resolution=1, margin=-1),
     "resolution: 1 is less than the minimum of 2; margin: -1 is less than the minimum of 0"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0.1]]),
     "start_offsets: [0.1] has 1 item; at least 2 are needed"),
    (sl.optimizers, dict(landscape=None, start_offsets=[], epsilon=0),
     "start_offsets: [] has 0 items; at least 1 is needed; epsilon: 0 is less than or equal to "
     "the minimum of 0"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0, 0]], learning_rates=[0.1, -1]),
     "learning_rates: -1 is less than or equal to the minimum of 0"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0, 0]], max_steps=0.5),
     "max_steps: 0.5 is not an integer"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0, 0]], methods={"sgd": {}}),
     "methods: 'sgd' is not one of 'gd', 'momentum', 'nesterov', 'adam'"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0, 0]],
                         methods={"momentum": {"beta": 1.0}, "adam": {"lr": 0.1}}),
     "methods.momentum.beta: 1.0 is greater than or equal to the maximum of 1; "
     "methods.adam.lr: not an option here; expected one of learning_rates, beta1, beta2, eps"),
    (sl.optimizers, dict(landscape=None, start_offsets=[[0, 0]], methods={}),
     "methods: {} is not a non-empty mapping of method to settings (some of gd, momentum, "
     "nesterov, adam)"),
    (sl.input_attack, dict(landscape=None, top_k=0), "top_k: 0 is less than the minimum of 1"),
    (sl.input_attack, dict(landscape=None, arrows=500, radius=float("nan")),
     "arrows: 500 is greater than the maximum of 200; radius: nan is not a finite number"),
    (sl.input_attack, dict(landscape=None, step_size=-0.1, steps=0),
     "step_size: -0.1 is less than or equal to the minimum of 0; steps: 0 is less than the "
     "minimum of 1"),
]


@pytest.mark.parametrize(("function", "options", "message"), CASES,
                         ids=[f"{f.__name__}-{m.split(':')[0]}" for f, _, m in CASES])
def test_a_bad_option_is_named_before_any_work(diabetes, function, options, message):
    model, X, y = diabetes
    if function is sl.input_space:
        X = X[:, :2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=20, random_state=0).fit(X, y)
    with pytest.raises(OptionError, match=f"^{re.escape(message)}$"):
        function(model, X, y, **options)


def test_interpolation_and_trajectory_options_are_checked(diabetes):
    model, X, y = diabetes
    with pytest.raises(OptionError, match=re.escape("alpha_range: [0.0] has 1 item; at least 2 are")):
        sl.interpolation(model, X, y, model, alpha_range=[0.0])
    with pytest.raises(OptionError, match=re.escape("margin: inf is not a finite number")):
        sl.trajectory_pca(model, X, y, np.zeros((3, 49)), margin=float("inf"))


def test_curvature_settings_are_checked(diabetes):
    model, X, y = diabetes
    slice_ = sl.weights(model, X, y, axes=AXES, resolution=3)
    with pytest.raises(OptionError, match=re.escape(
            "top_k: 0 is less than the minimum of 1; sharpness_epsilon: 2 is greater than the "
            "maximum of 1")):
        sl.curvature(model, X, y, slice_, top_k=0, sharpness_epsilon=2)
    with pytest.raises(OptionError, match=re.escape("eigenvalue_rtol: -1e-09 is less than or")):
        sl.curvature(model, X, y, slice_, eigenvalue_rtol=-1e-9)


def test_models_the_api_cannot_map_are_refused_in_scikit_learns_terms(diabetes):
    _, X, y = diabetes
    with pytest.raises(NotFittedError):
        sl.weights(MLPRegressor(hidden_layer_sizes=(4,)), X, y, axes=AXES)
    search = GridSearchCV(MLPRegressor(hidden_layer_sizes=(4,), max_iter=20), {"alpha": [0.1, 1]},
                          cv=2)
    with pytest.raises(TypeError, match=re.escape("pass the one it chose, "
                                                  "GridSearchCV.best_estimator_")):
        sl.weights(search, X, y, axes=AXES)  # unfitted, too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
        poisson = MLPRegressor(hidden_layer_sizes=(4,), loss="poisson", max_iter=20).fit(X, y)
    with pytest.raises(TypeError, match="best_estimator_"):
        sl.weights(search, X, y, axes=AXES)
    assert sl.weights(search.best_estimator_, X, y, axes=AXES, resolution=3).frame.shape[0] == 9
    with pytest.raises(ValueError, match=re.escape("MLPRegressor(loss='poisson') is not supported")):
        sl.weights(poisson, X, y, axes=AXES)
    with pytest.raises(TypeError, match="got LinearRegression"):
        from sklearn.linear_model import LinearRegression

        sl.weights(LinearRegression().fit(X, y), X, y, axes=AXES)


def test_random_plane_tables_are_the_same_bits_for_every_n_jobs(diabetes):
    model, X, y = diabetes
    one = sl.random_plane(model, X, y, seeds=[0, 1], resolution=9, heldout=(X[:50], y[:50]),
                          topology=False)
    two = sl.random_plane(model, X, y, seeds=[0, 1], resolution=9, heldout=(X[:50], y[:50]),
                          topology=False, n_jobs=2)
    for key, table in one.tables.items():
        assert table.equals(two.tables[key]), key
    assert one.metadata == two.metadata
    for bad in (0, 1.5, "2"):
        with pytest.raises(OptionError, match=re.escape(f"n_jobs: {bad!r} is not None or a")):
            sl.random_plane(model, X, y, n_jobs=bad)
    for function, extra in ((sl.hessian_plane, {}), (sl.trajectory_pca, {"path": None})):
        with pytest.raises(OptionError, match="n_jobs: 0 is not None"):
            function(model, X, y, n_jobs=0, **extra)


def test_hessian_and_trajectory_planes_are_the_same_bits_for_every_n_jobs():
    X, y = load_diabetes(return_X_y=True)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = sl.fit(model, X, y / 100)
    for function, extra in ((sl.hessian_plane, {}), (sl.trajectory_pca, {"path": path})):
        one = function(model, X, y / 100, resolution=7, topology=False, **extra)
        two = function(model, X, y / 100, resolution=7, topology=False, n_jobs=2, **extra)
        for key, table in one.tables.items():
            assert table.equals(two.tables[key]), (function.__name__, key)


def test_grid_kinds_are_the_same_bits_for_every_n_jobs():
    """weights, weight_pairs and input split their rows over workers, interpolation its
    points; a classifier (the output update) and a regressor (its structured paths),
    held-out columns included."""
    from sklearn.datasets import load_wine
    from sklearn.neural_network import MLPClassifier

    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(
            X / X.max(axis=0), y)
        regressor = MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(
            X / X.max(axis=0), X[:, 0])
    for model, target in ((classifier, y), (regressor, X[:, 0])):
        data = (X / X.max(axis=0), target)
        def weights(n_jobs, model=model, data=data):
            return sl.weights(model, *data, axes=("W1[0,1]", "W2[2,0]"), resolution=21,
                              heldout=(data[0][:30], data[1][:30]), n_jobs=n_jobs)

        def weight_pairs(n_jobs, model=model, data=data):
            return sl.weight_pairs(model, *data, axes=["W1[0,1]", "b1[2]", "W2[1,0]"],
                                   resolution=9, n_jobs=n_jobs)

        def input_map(n_jobs, model=model, data=data):
            return sl.input_space(model, *data, features=[0, 5], resolution=19, n_jobs=n_jobs)

        def line(n_jobs, model=model, data=data):
            start = 0.5 * sl.Network.from_estimator(model).flat  # a flat weight vector
            return sl.interpolation(model, *data, start, alpha_range=(-1.0, 2.0), resolution=41,
                                    heldout=(data[0][:30], data[1][:30]), n_jobs=n_jobs)

        calls = [weights, weight_pairs, input_map, line]
        for call in calls:
            one, two = call(None), call(2)
            for key, table in one.tables.items():
                assert table.equals(two.tables[key]), (type(model).__name__, one.kind, key)
    for function, extra in ((sl.weights, {"axes": AXES}), (sl.weight_pairs, {}),
                            (sl.input_space, {}), (sl.interpolation, {"initial": regressor})):
        with pytest.raises(OptionError, match="n_jobs: -0.5 is not None"):
            function(regressor, X / X.max(axis=0), X[:, 0], n_jobs=-0.5, **extra)


def test_connectivity_pairs_over_workers_are_the_same_bits():
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier

    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [MLPClassifier(hidden_layer_sizes=(4,), max_iter=80, random_state=s).fit(X, y)
                  for s in range(3)]
    options = {"resolution": 9, "curve_max_iter": 5, "plane_resolution": 5,
               "heldout": (X[:20], y[:20])}
    one = sl.connectivity(models, X, y, **options)
    two = sl.connectivity(models, X, y, n_jobs=2, **options)
    assert len(one.tables["pairs"]) == 3
    for key, table in one.tables.items():
        assert table.equals(two.tables[key]), key
    assert one.metrics == two.metrics
    with pytest.raises(OptionError, match="n_jobs: 0 is not None"):
        sl.connectivity(models, X, y, n_jobs=0)


def test_learning_rate_runs_over_workers_are_the_same_bits():
    from sklearn.datasets import load_wine
    from sklearn.neural_network import MLPClassifier

    X, y = load_wine(return_X_y=True)
    X = X / X.max(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, y)
    options = {"momenta": [0.0, 0.9], "factors": [0.5, 1.5, 3.0], "max_iter": 30}
    one = sl.learning_rates(model, X, y, **options)
    two = sl.learning_rates(model, X, y, n_jobs=2, **options)
    assert len(one.tables["rates"]) == 6
    for key, table in one.tables.items():
        assert table.equals(two.tables[key]), key
    assert one.metrics == two.metrics
    with pytest.raises(OptionError, match="n_jobs: 0 is not None"):
        sl.learning_rates(model, X, y, n_jobs=0)


def test_the_schema_and_configs_give_no_key_twice():
    """YAML keeps only the last of two equal keys: `required: [landscape]` then
    `required: [start_offsets]` once let an optimizers analysis without a landscape pass."""
    from sklandscape.pipeline.config.files import duplicate_key_problems

    files = [REPO / "workflow/schemas/config.schema.yaml", *sorted((REPO / "config").glob("*.yaml"))]
    assert len(files) > 2
    assert duplicate_key_problems([str(f) for f in files]) == []


def test_curvature_products_over_threads_are_the_same_bits():
    """More than 512 rows: each Hessian-vector product is summed from shares of rows, the same
    shares whatever n_jobs; the matrix-free spectrum is the exact one's to its tolerance."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=60, random_state=0).fit(X, y)
    slice_ = sl.weights(model, X, y, axes=("W1[20,0]", "W2[0,0]"), resolution=3)
    options = {"full_hessian_max_weights": 100, "density_probes": 2, "lanczos_steps": 20,
               "trace_probes": 4, "top_k": 3}
    one = sl.curvature(model, X, y, slice_, **options)
    two = sl.curvature(model, X, y, slice_, n_jobs=2, **options)
    assert one.metadata["method"] == "matrix-free"
    for key, table in one.tables.items():
        assert table.equals(two.tables[key]), key
    assert one.metrics == two.metrics
    exact = sl.curvature(model, X, y, slice_, top_k=3)
    assert exact.metadata["method"] == "exact"
    top = np.sort(one.tables["hessian"].query("which == 'top'")["eigenvalue"].to_numpy())
    expected = np.sort(exact.tables["hessian"]["eigenvalue"].to_numpy())[-3:]
    np.testing.assert_allclose(top, expected, rtol=1e-8)
    with pytest.raises(OptionError, match="n_jobs: 0 is not None"):
        sl.curvature(model, X, y, slice_, n_jobs=0)


def test_optimizer_methods_over_workers_are_the_same_bits(diabetes):
    model, X, y = diabetes
    slice_ = sl.weights(model, X, y, axes=AXES, span=0.5, resolution=7)
    options = {"start_offsets": [[0.2, 0.2], [-0.3, 0.1]], "learning_rates": [0.01, 0.1],
               "max_steps": 30}
    one = sl.optimizers(model, X, y, slice_, **options)
    two = sl.optimizers(model, X, y, slice_, n_jobs=2, **options)
    assert sorted(one.tables["optimizer_runs"]["method"].unique()) == [
        "adam", "gd", "momentum", "nesterov"]
    for key, table in one.tables.items():
        assert table.equals(two.tables[key]), key
    assert one.metrics == two.metrics and one.tags == two.tags
    with pytest.raises(OptionError, match="n_jobs: 0 is not None"):
        sl.optimizers(model, X, y, slice_, start_offsets=[[0, 0]], n_jobs=0)
