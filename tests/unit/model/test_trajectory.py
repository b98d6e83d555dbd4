"""The recorded training path is sklearn's own: checked against fresh fits, not against itself."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklandscape as sl
from sklandscape import io
from sklandscape.data.datasets import generate
from sklandscape.model.network import Network
from sklandscape.model.training import fit_mlp
from sklandscape.model.trajectory import estimator_flat, record_fit
from sklandscape.pipeline.stages import training

SOLVERS = {
    "lbfgs": dict(solver="lbfgs", max_iter=400, tol=1e-7),
    "adam": dict(solver="adam", max_iter=150, tol=1e-6, batch_size=32, learning_rate_init=0.01),
    "sgd": dict(solver="sgd", max_iter=60, tol=1e-6, batch_size=16, learning_rate_init=0.01),
}


def data(n_features=1, n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, n_features))
    return X, np.sin(X).sum(axis=1)


def fitted(kwargs, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPRegressor(random_state=3, **kwargs).fit(X, y)


def recorded(kwargs, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPRegressor(random_state=3, **kwargs)
        return model, record_fit(model, X, y)


@pytest.mark.parametrize("hidden,n_features", [((2,), 1), ((4, 3), 2)])
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_state_is_what_a_fit_stopped_there_gives(solver, hidden, n_features):
    X, y = data(n_features)
    kwargs = dict(hidden_layer_sizes=hidden, **SOLVERS[solver])
    model, path = recorded(kwargs, X, y)
    assert len(path.states) == model.n_iter_ + 1 > 10
    # A fresh fit stopped after k iterations is the independent reference for state k.
    for k in sorted({1, 2, 5, model.n_iter_ // 2, model.n_iter_ - 1}):
        np.testing.assert_array_equal(path.states[k],
                                      estimator_flat(fitted({**kwargs, "max_iter": k}, X, y)))
    # ...and the last state is the fitted model, bit for bit, as an unrecorded fit gives it.
    assert path.ends_at_fitted_weights
    np.testing.assert_array_equal(path.final, estimator_flat(fitted(kwargs, X, y)))
    np.testing.assert_array_equal(path.final, estimator_flat(model))


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_initial_weights_are_glorot_draws_of_the_seed(activation):
    """Closed form of sklearn's documented init: U(-b, b), b = sqrt(f / (fan_in + fan_out))."""
    X, y = data(2)
    kwargs = dict(hidden_layer_sizes=(3, 2), activation=activation, **SOLVERS["lbfgs"])
    _, path = recorded(kwargs, X, y)
    rng = np.random.RandomState(3)
    factor = 2.0 if activation == "logistic" else 6.0
    expected = []
    for fan_in, fan_out in [(2, 3), (3, 2), (2, 1)]:
        bound = np.sqrt(factor / (fan_in + fan_out))
        expected += [rng.uniform(-bound, bound, (fan_in, fan_out)).ravel(),
                     rng.uniform(-bound, bound, fan_out)]
    np.testing.assert_array_equal(path.initial, np.concatenate(expected))


def test_lbfgs_warm_started_from_the_initial_weights_reproduces_the_fit():
    X, y = data(1)
    kwargs = dict(hidden_layer_sizes=(2,), **SOLVERS["lbfgs"])
    model, path = recorded(kwargs, X, y)
    # a model with every fitted attribute, then its weights replaced by the recorded start
    restart = fitted({**kwargs, "max_iter": 1}, X, y)
    start = restart.coefs_[0].size + restart.intercepts_[0].size
    restart.coefs_ = [path.initial[:2].reshape(1, 2), path.initial[start:start + 2].reshape(2, 1)]
    restart.intercepts_ = [path.initial[2:4].copy(), path.initial[6:7].copy()]
    restart.set_params(warm_start=True, max_iter=kwargs["max_iter"])
    restart.fit(X, y)
    np.testing.assert_array_equal(estimator_flat(restart), estimator_flat(model))


def test_recorded_model_keeps_no_hooks_and_serialises(tmp_path):
    X, y = data(1)
    for kwargs in SOLVERS.values():
        model, _ = recorded(dict(hidden_layer_sizes=(2,), **kwargs), X, y)
        assert not {"_initialize", "_update_no_improvement_count"} & set(vars(model))
        io.write_model(model, tmp_path / "m.skops")
        np.testing.assert_array_equal(io.read_model(tmp_path / "m.skops").predict(X),
                                      model.predict(X))


def test_warm_start_and_non_mlps_are_refused_in_a_users_words():
    X, y = data(1)
    with pytest.raises(ValueError, match="warm_start=True continues from the weights"):
        record_fit(MLPRegressor(hidden_layer_sizes=(2,), warm_start=True), X, y)
    search = GridSearchCV(MLPRegressor(hidden_layer_sizes=(2,)), {"alpha": [0.1, 1.0]})
    with pytest.raises(TypeError, match="or a Pipeline ending in one, got GridSearchCV"):
        record_fit(search, X, y)
    with pytest.raises(TypeError, match="got Pipeline ending in StandardScaler"):
        record_fit(make_pipeline(MinMaxScaler(), StandardScaler()), X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_pipeline_is_fitted_as_its_own_fit_fits_it(solver):
    """The scaler first, then the MLP on its output: every state is what the Pipeline with
    max_iter=k gives, and the end is the Pipeline's own fit, bit for bit."""
    X, y = data(2)
    X = X * [1.0, 100.0] + [0.0, 50.0]  # a scale the scaler matters for
    kwargs = dict(hidden_layer_sizes=(4,), random_state=3, **SOLVERS[solver])

    def pipeline(**changes):
        return make_pipeline(StandardScaler(), MLPRegressor(**{**kwargs, **changes}))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = pipeline()
        path = sl.fit(model, X, y).trajectory
        plain = pipeline().fit(X, y)
        for k in (1, 3, model[-1].n_iter_ // 2):
            np.testing.assert_array_equal(path.states[k],
                                          estimator_flat(pipeline(max_iter=k).fit(X, y)[-1]))
    assert path.ends_at_fitted_weights and path.validation_rows is None
    np.testing.assert_array_equal(path.final, estimator_flat(plain[-1]))
    np.testing.assert_array_equal(model.predict(X), plain.predict(X))


@pytest.mark.parametrize("estimator", [MLPRegressor, MLPClassifier])
def test_early_stopping_records_the_validation_rows_and_ends_at_the_best_epoch(estimator):
    """sklearn's own validation score of each epoch (validation_scores_) is the score of the
    recorded state on the recorded rows: the independent check that both are sklearn's."""
    if estimator is MLPClassifier:
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = load_diabetes(return_X_y=True)
        y = (y - y.mean()) / y.std()
    model = make_pipeline(StandardScaler(), estimator(
        hidden_layer_sizes=(6,), early_stopping=True, validation_fraction=0.2, max_iter=200,
        n_iter_no_change=5, learning_rate_init=0.01, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        found = sl.fit(model, X, y)
        plain = clone(model).fit(X, y)
    path, mlp = found.trajectory, model[-1]
    np.testing.assert_array_equal(estimator_flat(mlp), estimator_flat(plain[-1]))
    assert path.epochs_run == mlp.n_iter_ > len(path.states) - 1  # stopped after the best
    best = int(np.argmax(mlp.validation_scores_)) + 1
    assert len(path.states) == best + 1 and path.ends_at_fitted_weights
    X_val, y_val = found.validation
    assert len(y_val) == int(np.ceil(0.2 * len(y))) == len(set(path.validation_rows))  # sklearn rounds up
    probe = clone(model).fit(X, y)  # a fitted pipeline whose MLP weights are replaced
    for k in range(1, best + 1):
        layers = Network.from_estimator(probe[-1]).with_flat(path.states[k])
        probe[-1].coefs_, probe[-1].intercepts_ = layers.to_estimator_arrays()
        assert probe.score(X_val, y_val) == pytest.approx(mlp.validation_scores_[k - 1],
                                                          rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_recording_leaves_the_weights_file_bit_identical(tmp_path, solver):
    frame = generate(function="sine", n_samples=60, domain=[[-3.0, 3.0]], sampling="grid")
    io.write_table(frame, tmp_path / "data.parquet")
    settings = dict(hidden_layer_sizes=[2], activation="tanh", solver=solver, alpha=0.0,
                    max_iter=80, tol=1e-6, random_state=0)
    plain = training.train(tmp_path / "data.parquet", settings, model=tmp_path / "a.skops",
                           weights=tmp_path / "a.parquet")
    recorded_run = training.train(tmp_path / "data.parquet", settings, model=tmp_path / "b.skops",
                                  weights=tmp_path / "b.parquet",
                                  initial_weights=tmp_path / "initial.parquet",
                                  trajectory=tmp_path / "trajectory.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert plain.trajectory is None and plain.n_iter == recorded_run.n_iter
    # the files: initial weights in the weights format, the path ending at the weights
    initial = io.read_weights(tmp_path / "initial.parquet")
    iterations, states, meta = io.read_trajectory(tmp_path / "trajectory.parquet")
    np.testing.assert_array_equal(initial.flat, states[0])
    np.testing.assert_array_equal(states[-1], io.read_weights(tmp_path / "a.parquet").flat)
    np.testing.assert_array_equal(iterations, np.arange(plain.n_iter + 1))
    assert meta["solver"] == solver and meta["ends_at_fitted_weights"] is True


def test_fit_mlp_record_flag_gives_the_same_fit():
    X, y = data(1)
    settings = dict(hidden_layer_sizes=[2], solver="adam", max_iter=30, random_state=1)
    a, b = fit_mlp(X, y, settings), fit_mlp(X, y, settings, record=True)
    np.testing.assert_array_equal(estimator_flat(a.model), estimator_flat(b.model))
    assert a.warnings == b.warnings and len(b.warnings) == 1  # the ConvergenceWarning is kept
    assert b.trajectory.states.shape == (31, 7)
