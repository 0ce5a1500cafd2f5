"""solver="newton": Newton's method on the rule's objective, with the Hessian
that the standard errors use; what it shares with L-BFGS is tested in
test_lbfgs.py, over both solvers."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import least_squares
from scipy.special import expit
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _inference


def newton(**params):
    return SigmoidNeuronRegressor(solver="newton", random_state=0, **params)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, y, (y - y.min()) / (y.max() - y.min())


def test_a_start_where_the_hessian_is_indefinite_still_reaches_least_squares(
    diabetes,
):
    # far on the wrong side of the sigmoid, the squared error's Hessian has
    # negative eigenvalues: the step takes them in absolute value
    X, y, t = diabetes
    fit = least_squares(
        lambda theta: expit(X @ theta[:-1] + theta[-1]) - t,
        np.zeros(X.shape[1] + 1), xtol=1e-15, ftol=1e-15, gtol=1e-15,
    )  # fmt: skip
    w, b = fit.x[:-1], fit.x[-1]
    start = -3 * w
    h = X @ start + 0.5
    y_hat = expit(h)
    curvature = y_hat**2 * (1 - y_hat) ** 2 - (t - y_hat) * y_hat * (1 - y_hat) * (
        1 - 2 * y_hat
    )
    Xc = np.column_stack([X, np.ones(len(X))])
    assert np.linalg.eigvalsh(Xc.T @ (Xc * curvature[:, None]))[0] < 0
    model = newton().fit(X, y, coef_init=start, intercept_init=0.5)
    assert_allclose(model.coef_, w, rtol=0, atol=1e-7)
    assert_allclose(model.intercept_, b, rtol=0, atol=1e-7)


def test_newtons_steps_converge_quadratically(diabetes):
    X, y, _ = diabetes
    model = newton(loss="log_loss", store_path=True).fit(X, y)
    path = np.c_[model.coef_path_, model.intercept_path_]
    gaps = np.abs(path[:-1] - path[-1]).max(axis=1)
    # near the optimum each gap is at most the square of the one before
    assert gaps[-1] < 1e-3
    assert gaps[-1] <= gaps[-2] ** 2 and gaps[-2] <= gaps[-3] ** 2


def test_more_features_than_it_supports_is_a_clear_error():
    d = _inference.MAX_PARAMS
    X = np.random.default_rng(0).standard_normal((5, d))
    with pytest.raises(ValueError, match=re.escape("use solver='lbfgs'")):
        newton().fit(X, np.arange(5.0))


def test_early_stopping_is_a_clear_error(diabetes):
    X, y, _ = diabetes
    with pytest.raises(ValueError, match="solver='newton' minimises the training"):
        newton(early_stopping=True).fit(X, y)


def test_verbose_prints_iterations_and_passes(diabetes, capsys):
    X, y, _ = diabetes
    newton(verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out
    assert re.search(r"Newton's method stopped after \d+ iterations \(\d+ passes", out)
