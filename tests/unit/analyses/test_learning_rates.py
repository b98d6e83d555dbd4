"""The stable learning rate from λ_max, against the full Hessian, scikit-learn's own loss and
scikit-learn's own sgd solver."""

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklandscape as sl
from sklandscape.analyses.learning_rates import (
    measured_limit,
    outcome,
    predicted_limit,
    sgd_run,
)
from sklandscape.model.gradients import hessian
from sklandscape.model.network import Network


@pytest.fixture(scope="module")
def sine():
    X = np.linspace(-np.pi, np.pi, 120)[:, None]
    y = np.sin(X).ravel()
    model = MLPRegressor(hidden_layer_sizes=(2,), activation="tanh", solver="lbfgs",
                         max_iter=5000, tol=1e-9, random_state=0).fit(X, y)
    return model, X, y


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(5,), activation="tanh", solver="lbfgs", alpha=0.01, max_iter=3000,
        tol=1e-9, random_state=0)).fit(X, y)
    return model, X, y


def test_the_limit_is_two_one_plus_beta_over_lambda():
    assert predicted_limit(4.0, 0.0) == 0.5
    assert predicted_limit(4.0, 0.9) == pytest.approx(0.95)
    with pytest.raises(ValueError, match="largest eigenvalue is -1.0"):
        predicted_limit(-1.0, 0.0)


@pytest.mark.parametrize("case", ["sine", "wine"])
def test_lambda_max_and_the_loss_are_scikit_learns_objective(case, request):
    model, X, y = request.getfixturevalue(case)
    result = sl.learning_rates(model, X, y, momenta=[0.0], factors=[0.5, 2.0], max_iter=5)
    net = Network.from_estimator(model)
    mlp = model.steps[-1][1] if hasattr(model, "steps") else model
    objective = net.with_objective("sklearn", mlp.alpha)
    targets = np.searchsorted(mlp.classes_, y).astype(float) if net.is_classifier else y
    full = np.linalg.eigvalsh(hessian(objective, X, targets))
    assert result.metrics["lambda_max"] == pytest.approx(full[-1], rel=1e-9)
    # scikit-learn's first recorded loss, from the trained weights at a vanishing rate, is
    # the loss whose Hessian that is
    curve, stopped = sgd_run(model, X, y, [*mlp.coefs_, *mlp.intercepts_], 1e-300, 0.0, 2)
    assert stopped is None
    assert curve[0] == pytest.approx(result.metadata["trained_loss"], rel=1e-12)


@pytest.mark.parametrize("case", ["sine", "wine"])
def test_scikit_learns_sgd_leaves_the_minimum_just_above_the_prediction(case, request):
    model, X, y = request.getfixturevalue(case)
    result = sl.learning_rates(model, X, y, momenta=[0.0, 0.9],
                               factors=[0.5, 0.8, 0.9, 1.1, 1.25, 2.0], max_iter=300)
    limits = result.tables["limits"]
    assert limits["ratio"].between(1 / 1.25, 1.25).all(), limits
    rates = result.tables["rates"]
    assert set(rates.loc[rates["factor"] <= 0.8, "outcome"]) == {"settled"}
    assert set(rates.loc[rates["factor"] >= 2.0, "outcome"]) <= {"escaped", "diverged"}
    assert result.plot().axes


def test_outcomes_and_the_bracket():
    assert outcome(np.array([1.1, 1.05, 1.0]), 1.0, None) == "settled"
    assert outcome(np.array([1.1, 3.0, 1.0]), 1.0, None) == "escaped"  # left, came back
    # still descending from weights that are not a minimum: a hair's overshoot is no escape
    assert outcome(np.array([1.01, 1.05, 0.9]), 1.0, None) == "settled"
    assert outcome(np.array([1.1, np.inf]), 1.0, None) == "diverged"
    assert outcome(np.array([1.1]), 1.0, "Solver produced non-finite parameter weights") \
        == "diverged"
    below, above, middle = measured_limit(np.array([1.0, 2.0, 4.0]),
                                          ["settled", "settled", "escaped"])
    assert (below, above, middle) == (2.0, 4.0, pytest.approx(np.sqrt(8.0)))
    assert np.isnan(measured_limit(np.array([1.0, 2.0]), ["settled", "settled"])[2])


@pytest.mark.parametrize("options, message", [  # the pipeline's words for the same keys
    ({"momenta": [1.0]}, r"momenta: 1.0 is greater than or equal to the maximum of 1"),
    ({"momenta": []}, r"momenta: \[\] has 0 items; at least 1 is needed"),
    ({"factors": [1.0]}, r"factors: \[1.0\] has 1 item; at least 2 are needed"),
    ({"factors": [1.0, -2.0]}, "factors: -2.0 is less than the minimum of 1e-06"),
    ({"factors": [1.0, 1.0]}, "factors: .* has non-unique elements"),
    ({"max_iter": 1}, "max_iter: 1 is less than the minimum of 2"),
    ({"perturbation": float("nan")}, "perturbation: nan is not a finite number"),
    ({"random_state": -1}, "random_state: -1 is less than the minimum of 0"),
])
def test_bad_options_are_refused_before_any_work(sine, options, message):
    model, X, y = sine
    with pytest.raises(ValueError, match=message):
        sl.learning_rates(model, X, y, **options)


def test_a_network_object_is_refused_it_has_no_sgd_of_its_own(sine):
    model, X, y = sine
    with pytest.raises(ValueError, match="needs the fitted scikit-learn estimator"):
        sl.learning_rates(Network.from_estimator(model), X, y)
