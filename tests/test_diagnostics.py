"""No silent failures: a fit that went wrong says so, with the cause and the fix.

Each case is one of issue 15's, on scikit-learn's bundled diabetes data
(standardised, or as it ships where the case is unscaled data); the healthy
fits at the end must stay silent.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, TrainingWarning, _kernels


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return X, StandardScaler().fit_transform(X), y


def training_warnings(fit):
    """The TrainingWarnings that ``fit()`` issues, as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if issubclass(w.category, TrainingWarning)]


def test_training_warning_is_a_convergence_warning():
    # what scikit-learn users already filter
    assert issubclass(TrainingWarning, ConvergenceWarning)


def test_unscaled_features_saturate_the_start_and_say_standardise(diabetes):
    X, _, y = diabetes  # columns up to hundreds (blood serum, blood pressure)
    model = SigmoidNeuronRegressor(random_state=0)
    (message,) = training_warnings(lambda: model.fit(X, y))
    assert "saturated" in message
    assert f"X has values up to {np.abs(X).max():.3g}" in message
    assert "StandardScaler" in message
    # saturated records: their error term is ~0, the fit is useless
    assert model.score(X, y) < 0.1


def test_divergence_hidden_by_tol_is_the_error(diabetes):
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(random_state=0).fit(Xs, y)
    coef = model.coef_.copy()
    model.set_params(learnrate=10, alpha=1.0, epochs=500, tol=1e-9)
    with pytest.raises(ValueError, match="exploded.*learnrate=10 is too large"):
        model.fit(Xs, y)
    np.testing.assert_array_equal(model.coef_, coef)  # the previous model


def test_divergence_under_early_stopping_is_the_error(diabetes):
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(
        learnrate=10, alpha=1.0, epochs=500, early_stopping=True, random_state=0
    )
    with pytest.raises(ValueError, match="exploded"):
        model.fit(Xs, y)


def test_a_loss_that_ends_above_its_start_warns_even_with_tol(diabetes):
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(learnrate=1e6, tol=1e-4, random_state=0)
    (message,) = training_warnings(lambda: model.fit(Xs, y))
    assert "training loss rose" in message
    assert "learnrate=1000000.0 is too large" in message
    assert "learnrate='auto'" in message and "SigmoidNeuronRegressorCV" in message
    assert model.loss_curve_[-1] > model.loss_curve_[0]


def test_an_oscillating_learnrate_warns(diabetes):
    # no overflow: the loss climbs from its low and stays there
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(learnrate=50, random_state=0)
    (message,) = training_warnings(lambda: model.fit(Xs, y))
    curve = np.array(model.loss_curve_)
    lowest = curve.argmin()
    assert f"rose from {curve[lowest]:.4g} (epoch {lowest + 1})" in message
    assert curve[-1] > 1.01 * curve[lowest]


def test_early_stopping_says_the_later_epochs_diverged(diabetes):
    # the best weights come back, with the reason the later ones were worse
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(
        learnrate=50, early_stopping=True, n_iter_no_change=200, random_state=0
    )
    messages = training_warnings(lambda: model.fit(Xs, y))
    assert any("Early stopping kept the weights of epoch" in m for m in messages)


def test_collapsed_predictions_warn(diabetes):
    # a penalty so strong that the weights go to 0: one prediction for all
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(alpha=1e4, random_state=0)
    (message,) = training_warnings(lambda: model.fit(Xs, y))
    assert "collapsed to (nearly) one value" in message
    assert "alpha=10000.0" in message
    assert np.ptp(model.predict(Xs)) < 1e-3 * np.ptp(y)


def test_tol_is_relative_so_the_habitual_value_does_not_stop_early(diabetes):
    # the loss is ~0.03 on [0, 1] targets: an absolute 1e-3 stopped at epoch 11
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(tol=1e-3, random_state=0).fit(Xs, y)
    curve = np.array(model.loss_curve_)
    assert model.n_iter_ > 30
    # it stopped when n_iter_no_change epochs improved by less than 0.1%
    best = np.minimum.accumulate(curve)
    assert np.all(curve[-10:] > best[-11:-1] * (1 - 1e-3))
    assert model.score(Xs, y) > 0.45


def test_the_default_learnrate_is_auto(diabetes):
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(random_state=0)
    assert model.learnrate == "auto"
    assert 1 < model.fit(Xs, y).learnrate_ < 10  # on standardised data


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_auto_learnrate_on_tiny_float32_x_is_a_clear_error_or_finite(fit_intercept):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -1.0, 0.5]
    model = SigmoidNeuronRegressor(fit_intercept=fit_intercept, epochs=20)
    if fit_intercept:  # the intercept's column bounds the curvature below
        model.fit((X * 1e-20).astype(np.float32), y)
        assert np.isfinite(model.learnrate_) and np.isfinite(model.coef_).all()
    else:
        with pytest.raises(ValueError, match="X's values are tiny.*float64"):
            model.fit((X * 1e-20).astype(np.float32), y)
        # in float64 the same step is a number, and the fit learns
        model.fit(X * 1e-20, y)
        assert model.learnrate_ > 1e40 and model.score(X * 1e-20, y) > 0.5


def test_auto_learnrate_on_x_too_small_for_float64_is_a_clear_error():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * 1e-170  # its Gram matrix underflows to 0
    y = rng.normal(size=200)
    model = SigmoidNeuronRegressor(fit_intercept=False)
    with pytest.raises(ValueError, match=r"too small \(up to 3.9e-170\)"):
        model.fit(X, y)


def test_numpy_and_compiled_kernels_stop_at_the_same_epoch(monkeypatch):
    # tol=0: only improvements beyond the loss's rounding count, so summation
    # order (the kernels' only difference) cannot move the stop
    rng = np.random.RandomState(0)
    problems = [rng.normal(size=(300, 4)) for _ in range(8)]
    stops = {}
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(_kernels, "BACKEND", backend)
        for trial, X in enumerate(problems):
            y = X @ [1.0, -2.0, 0.5, 0.1] + 0.3 * np.sin(7 * X[:, 0])
            for dtype in (np.float64, np.float32):
                model = SigmoidNeuronRegressor(
                    learnrate=5.0, epochs=20_000, tol=0.0, random_state=0
                ).fit(X.astype(dtype), y)
                stops[backend, trial, dtype] = model.n_iter_
    for (backend, trial, dtype), n_iter in stops.items():
        if backend == "numba":
            assert n_iter == stops["numpy", trial, dtype] < 20_000


def healthy_fits():
    """Standardised real data with the default and documented learning rates."""
    X, y = load_diabetes(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    L, Y = load_linnerud(return_X_y=True)
    Ls = StandardScaler().fit_transform(L)
    # the squared error's curvature is at most 0.077, the log loss's 0.25: its
    # steps are about a third as long (both take "auto")
    for learnrate in ("auto", 1.0, 2.0, 5.0):
        yield (Xs, y, dict(learnrate=learnrate))
        yield (Ls, Y, dict(learnrate=learnrate))  # three outputs
    for learnrate in ("auto", 0.5, 1.0):
        yield (Xs, y, dict(learnrate=learnrate, loss="log_loss"))
    yield (Xs, y, dict(tol=1e-4))
    yield (Xs, y, dict(early_stopping=True, tol=1e-4))
    yield (Xs, y, dict(alpha=0.01, compute_inference=True, epochs=5000))


def test_healthy_fits_stay_silent():
    for X, y, params in healthy_fits():
        model = SigmoidNeuronRegressor(random_state=0, **params)
        assert training_warnings(lambda m=model, X=X, y=y: m.fit(X, y)) == [], params
