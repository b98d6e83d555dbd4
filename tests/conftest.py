import subprocess
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from workflow_support import config_edit, tracked_runs


def fitted_mlp(hidden, activation, n_features=1, n=60, seed=0, max_iter=50):
    """A small MLPRegressor fitted briefly on random data: real coefs_, not hand-made."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, n_features))
    y = np.sin(X).sum(axis=1) + 0.1 * rng.standard_normal(n)
    model = MLPRegressor(
        hidden_layer_sizes=hidden, activation=activation, solver="lbfgs", max_iter=max_iter,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, X, y


def fd_hessian(f, flat, h=1e-4):
    """Central finite-difference Hessian of f at flat: the independent reference for ours."""
    size = len(flat)
    H = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            ei, ej = np.eye(size)[i] * h, np.eye(size)[j] * h
            H[i, j] = (f(flat + ei + ej) - f(flat + ei - ej) - f(flat - ei + ej)
                       + f(flat - ei - ej)) / (4 * h * h)
    return H


@pytest.fixture
def n1_model():
    return fitted_mlp((2,), "tanh", n_features=1, n=200, max_iter=500)


# --- shared by the end-to-end modules: each defines CONFIG and a module-scoped `workspace`


@pytest.fixture
def edited(request, workspace):
    """The module's CONFIG to edit and write for one test; the original is restored after."""
    with config_edit(workspace, request.module.CONFIG) as config:
        yield config


@pytest.fixture(scope="module")
def runs(request, workspace):
    """A client of the workspace's MLflow store and its runs, by run name."""
    client, found = tracked_runs(workspace, request.module.CONFIG["experiment"])
    return client, {r.info.run_name: r for r in found}


@pytest.fixture(scope="session")
def slurm_python(tmp_path_factory):
    """A Python with snakemake-executor-plugin-slurm (tests/slurm_support.py says why it is not
    in the project's environment); made once per session."""
    from slurm_support import plugin_python

    try:
        return plugin_python(tmp_path_factory.mktemp("slurm-python") / "venv")
    except subprocess.CalledProcessError as error:
        pytest.skip(f"cannot install snakemake-executor-plugin-slurm here: {error}")
