"""InterpolationDisplay: the curve of sl.interpolation on any Axes, from a model, a Result or a
pipeline's Parquet table; two networks' curves on one Axes."""

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


@pytest.fixture(scope="module")
def fits():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 40 epochs of adam, on purpose short
        return X, y, [sl.fit(MLPRegressor(hidden_layer_sizes=(6,), max_iter=40,
                                          random_state=seed), X, y, progress=False)
                      for seed in (0, 1)]


def test_the_curve_is_the_results_and_the_parquet_tables(fits, tmp_path):
    X, y, (first, _) = fits
    result = sl.interpolation(first.model, X, y, first, alpha_range=(-0.25, 1.25),
                              resolution=13, progress=False)
    path = result.to_parquet(tmp_path / "line.parquet")
    from_result = sl.InterpolationDisplay.from_result(result)
    from_file = sl.InterpolationDisplay.from_parquet(path)
    for display in (from_result, from_file):
        np.testing.assert_array_equal(display.alpha, result.frame["alpha"])
        np.testing.assert_array_equal(display.loss, result.frame["loss"])
    # alpha = 1 is the trained model: scikit-learn's own predict (the objective is the MSE)
    assert from_file.loss_trained == pytest.approx(
        mean_squared_error(y, first.model.predict(X)), rel=1e-12)
    assert from_file.loss_initial == pytest.approx(result.metrics["loss_initial"], rel=1e-12)
    drawn = from_file.plot()
    np.testing.assert_array_equal(drawn.line_.get_ydata(), result.frame["loss"])
    assert drawn.ax_.figure is drawn.figure_
    plt.close("all")


def test_two_networks_share_one_axes(fits):
    X, y, fitted = fits
    fig, ax = plt.subplots()
    shown = [sl.InterpolationDisplay.from_estimator(fit.model, X, y, fit, resolution=9)
             .plot(ax=ax, label=f"seed {seed}", annotate=seed == 0)
             for seed, fit in enumerate(fitted)]
    assert shown[0].ax_ is shown[1].ax_ is ax
    assert {"seed 0", "seed 1"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    assert not np.array_equal(shown[0].line_.get_ydata(), shown[1].line_.get_ydata())
    plt.close(fig)


def test_a_table_of_another_kind_is_refused(fits, tmp_path):
    X, y, (first, _) = fits
    plane = sl.random_plane(first.model, X, y, resolution=3, topology=False, progress=False)
    path = plane.to_parquet(tmp_path / "plane.parquet")
    with pytest.raises(ValueError, match="not an interpolation table"):
        sl.InterpolationDisplay.from_parquet(path)
    with pytest.raises(ValueError, match="draws an interpolation result, not 'random_plane'"):
        sl.InterpolationDisplay.from_result(plane)


def test_the_start_is_known_where_alpha_zero_is_off_the_grid(fits, tmp_path):
    X, y, (first, _) = fits
    result = sl.interpolation(first.model, X, y, first, alpha_range=(-0.3, 1.2), resolution=12,
                              progress=False)
    assert not (result.frame["alpha"] == 0.0).any()
    display = sl.InterpolationDisplay.from_parquet(result.to_parquet(tmp_path / "l.parquet"))
    assert display.loss_initial == result.metrics["loss_initial"]
    assert np.isfinite(display.loss_initial)
