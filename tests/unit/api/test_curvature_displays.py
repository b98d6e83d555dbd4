"""SpectrumDisplay and CutsDisplay: the curvature analysis' eigenvalue density and its cuts
along the Hessian's top eigenvectors on any Axes, from a model, a Result or a pipeline's
Parquet table."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.metrics import mean_squared_error  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

import sklandscape as sl  # noqa: E402
from conftest import fd_hessian  # noqa: E402


@pytest.fixture(scope="module")
def curvature():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=200, random_state=0).fit(X, y)
    slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5,
                        topology=False, progress=False)
    return model, X, y, sl.curvature(model, X, y, slice_, top_k=3, cut_points=9, progress=False)


def test_the_cuts_are_the_results_and_the_parquet_tables(curvature, tmp_path):
    model, X, y, result = curvature
    path = result.to_parquet(tmp_path / "eigen_cuts.parquet", "eigen_cuts")
    for display in (sl.CutsDisplay.from_result(result), sl.CutsDisplay.from_parquet(path)):
        assert display.ranks == [0, 1, 2] and display.loss_name == "MSE"
        drawn = display.plot()
        assert len(drawn.axes_) == 3 and drawn.ax_ is drawn.axes_[0]
        for rank, line in enumerate(drawn.lines_):
            cuts = result.tables["eigen_cuts"]
            cut = cuts[cuts["rank"] == rank]
            np.testing.assert_array_equal(line.get_ydata(), cut["loss"])
            # t = 0 is the trained model: scikit-learn's own predict
            assert cut.loc[cut["t"] == 0, "loss"].item() == pytest.approx(
                mean_squared_error(y, model.predict(X)), rel=1e-12)
    plt.close("all")


def test_one_eigenvector_on_the_users_axes_and_bad_requests(curvature):
    _, _, _, result = curvature
    display = sl.CutsDisplay.from_result(result)
    fig, (left, right) = plt.subplots(1, 2)
    assert display.plot(ax=right, ranks=[1]).ax_ is right
    assert display.plot(ax=[left, right], ranks=[0, 2]).axes_ == [left, right]
    with pytest.raises(ValueError, match=r"1 Axes for 2 ranks \[0, 1\]: give one Axes per rank"):
        display.plot(ax=left, ranks=[0, 1])
    with pytest.raises(ValueError, match=r"ranks=\[7\]: this table has the ranks \[0, 1, 2\]"):
        display.plot(ranks=[7])
    with pytest.raises(ValueError, match="draws a curvature result, not 'weights'"):
        sl.CutsDisplay.from_result(sl.weights(*curvature[:3], axes=("W1[0,0]", "W2[0,0]"),
                                              span=0.1, resolution=3, progress=False))
    plt.close("all")


def test_another_table_is_refused_naming_what_it_lacks(curvature, tmp_path):
    _, _, _, result = curvature
    path = result.to_parquet(tmp_path / "spectrum.parquet", "spectrum")
    with pytest.raises(ValueError, match="is not a curvature analysis' eigen_cuts table"):
        sl.CutsDisplay.from_parquet(path)


def test_the_spectrum_is_the_results_and_the_parquet_tables(curvature, tmp_path):
    model, X, y, result = curvature
    path = result.to_parquet(tmp_path / "spectrum.parquet", "spectrum")
    shown = [sl.SpectrumDisplay.from_result(result), sl.SpectrumDisplay.from_parquet(path)]
    for display in shown:
        np.testing.assert_array_equal(display.nodes["node"], result.tables["spectrum"]["node"])
    # the largest eigenvalue against finite differences of scikit-learn's loss
    net = sl.Network.from_estimator(model)
    fd = fd_hessian(lambda flat: net.with_flat(flat).loss(X, y), net.flat)
    assert shown[1].lambda_max == pytest.approx(np.linalg.eigvalsh((fd + fd.T) / 2)[-1],
                                                rel=1e-4)
    drawn = shown[1].plot()
    assert drawn.ax_.get_xscale() == "symlog" and drawn.figure_ is drawn.ax_.figure
    plt.close("all")


def test_two_spectra_share_one_axes_on_the_firsts_scale(curvature):
    model, X, y, result = curvature
    other = MLPRegressor(hidden_layer_sizes=(4,), max_iter=200, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other.fit(X, y)
    slice_ = sl.weights(other, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5,
                        topology=False, progress=False)
    fig, ax = plt.subplots()
    first = sl.SpectrumDisplay.from_result(result).plot(ax=ax, label="seed 0")
    threshold = ax.xaxis.get_transform().linthresh
    second = sl.SpectrumDisplay.from_estimator(other, X, y, slice_).plot(
        ax=ax, label="seed 1", annotate=False)
    assert first.ax_ is second.ax_ and ax.xaxis.get_transform().linthresh == threshold
    assert {"seed 0", "seed 1"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    plt.close(fig)
    with pytest.raises(ValueError, match="is not a curvature analysis' spectrum table"):
        sl.SpectrumDisplay.from_table(result.tables["eigen_cuts"], {}, "cuts.parquet")
