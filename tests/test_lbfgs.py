"""solver="lbfgs": the rule's objective at its optimum, checked against
statistics packages on real data that ships with them."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.optimize import least_squares
from scipy.special import expit
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels

sm = pytest.importorskip("statsmodels.api")

try:
    import sklearn.callback  # noqa: F401

    has_callbacks = True
except ImportError:  # scikit-learn < 1.9
    has_callbacks = False


def lbfgs(**params):
    return SigmoidNeuronRegressor(solver="lbfgs", random_state=0, **params)


@pytest.fixture(scope="module")
def star98():
    """statsmodels' star98: the share of students above the national median
    in 303 California school districts, 20 covariates with interactions
    (standardised; the condition number of [1, X] is 360)."""
    data = sm.datasets.star98.load_pandas()
    above, below = data.endog["NABOVE"], data.endog["NBELOW"]
    y = (above / (above + below)).to_numpy()
    X = StandardScaler().fit_transform(data.exog.to_numpy(dtype=float))
    return X, y


@pytest.fixture(scope="module")
def diabetes():
    """scikit-learn's diabetes data, standardised; the target as the estimator
    scales it (min-max onto [0, 1])."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, y, (y - y.min()) / (y.max() - y.min())


def glm_fit(X, y, weights=None):
    """statsmodels' fractional logit (Binomial GLM on proportions), HC0."""
    Xc = sm.add_constant(X)
    model = sm.GLM(y, Xc, family=sm.families.Binomial(), freq_weights=weights)
    return model.fit(tol=1e-14, cov_type="HC0")


def sigmoid_least_squares(X, t):
    """scipy's least_squares on the residuals σ(x·w + b) - t."""
    Xc = np.column_stack([X, np.ones(len(X))])

    def residuals(theta):
        return expit(Xc @ theta) - t

    def jacobian(theta):
        p = expit(Xc @ theta)
        return Xc * (p * (1 - p))[:, None]

    fit = least_squares(
        residuals, np.zeros(Xc.shape[1]), jac=jacobian, xtol=1e-15, ftol=1e-15,
        gtol=1e-15,
    )  # fmt: skip
    return fit.x[:-1], fit.x[-1]


def no_warnings():
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("error")
    return context


# -- against independent references, on real data ------------------------------
def test_log_loss_equals_statsmodels_fractional_logit_and_its_hc0_errors(star98):
    X, y = star98
    reference = glm_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at the optimum: no inference warning
        model = lbfgs(loss="log_loss", target_scaling=None, compute_inference=True)
        model.fit(X, y)
    assert_allclose(model.coef_, reference.params[1:], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.params[0], rtol=0, atol=1e-6)
    assert_allclose(model.coef_se_, reference.bse[1:], rtol=1e-4)
    assert_allclose(model.intercept_se_, reference.bse[0], rtol=1e-4)


def test_log_loss_with_integer_weights_equals_statsmodels_on_repeated_rows(star98):
    X, y = star98
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    reference = glm_fit(X[rows], y[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = lbfgs(loss="log_loss", target_scaling=None, compute_inference=True)
        model.fit(X, y, sample_weight=weights)
    assert_allclose(model.coef_, reference.params[1:], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.params[0], rtol=0, atol=1e-6)
    assert_allclose(model.coef_se_, reference.bse[1:], rtol=1e-4)


def test_penalised_log_loss_equals_logistic_regression():
    # scikit-learn's LogisticRegression minimises sum(ℓ) + ||w||² / (2 C): our
    # mean loss + alpha / 2 ||w||² with alpha = 1 / (C n)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C = 0.5
    reference = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12)
    reference.fit(X, y)
    model = lbfgs(loss="log_loss", target_scaling=None, alpha=1 / (C * len(y)))
    model.fit(X, y)
    assert_allclose(model.coef_, reference.coef_[0], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.intercept_[0], rtol=0, atol=1e-6)


def test_squared_error_equals_scipy_least_squares(diabetes):
    X, y, t = diabetes
    w, b = sigmoid_least_squares(X, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = lbfgs(compute_inference=True).fit(X, y)
    assert_allclose(model.coef_, w, rtol=0, atol=1e-5)
    assert_allclose(model.intercept_, b, rtol=0, atol=1e-5)


def test_squared_error_with_integer_weights_equals_least_squares_on_repeats(
    diabetes,
):
    X, y, _ = diabetes
    weights = np.random.default_rng(1).integers(0, 4, len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    yr = y[rows]
    w, b = sigmoid_least_squares(X[rows], (yr - yr.min()) / (yr.max() - yr.min()))
    model = lbfgs().fit(X, y, sample_weight=weights)
    assert_allclose(model.coef_, w, rtol=0, atol=1e-5)
    assert_allclose(model.intercept_, b, rtol=0, atol=1e-5)


# -- every data source, every path -----------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    """Independent features, so that the optimum is determined to 1e-10 (on
    the diabetes data, whose columns are nearly collinear, to about 1e-7:
    there the loss stops changing in float64 first)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2000, 8))
    y = expit(X @ rng.standard_normal(8) / 2) + 0.1 * rng.standard_normal(2000)
    weights = rng.integers(0, 3, 2000).astype(float)
    return X, y, weights


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(synthetic, diabetes, loss, fmt):
    for X, y, weights in [synthetic, diabetes[:2] + (None,)]:
        dense = lbfgs(loss=loss).fit(X, y, sample_weight=weights)
        Xs = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
        model = lbfgs(loss=loss).fit(Xs, y, sample_weight=weights)
        atol = 1e-8 if weights is not None else 1e-7
        assert_allclose(model.coef_, dense.coef_, rtol=0, atol=atol)
        assert_allclose(model.intercept_, dense.intercept_, rtol=0, atol=atol)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_dask_equals_dense(synthetic, diabetes, loss):
    da = pytest.importorskip("dask.array")
    for X, y, weights in [synthetic, diabetes[:2] + (None,)]:
        dense = lbfgs(loss=loss).fit(X, y, sample_weight=weights)
        chunks = len(y) // 4
        model = lbfgs(loss=loss).fit(
            da.from_array(X, chunks=(chunks, -1)),
            da.from_array(y, chunks=chunks),
            sample_weight=None if weights is None else da.from_array(weights, chunks),
        )
        atol = 1e-8 if weights is not None else 1e-7
        assert_allclose(model.coef_, dense.coef_, rtol=0, atol=atol)
        assert_allclose(model.intercept_, dense.intercept_, rtol=0, atol=atol)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("n_samples", [300, 20_000])
@pytest.mark.parametrize("n_outputs", [1, 3, 8])
def test_every_kernel_path_reaches_the_same_optimum(
    monkeypatch, backend, n_samples, n_outputs
):
    # small and blocked (numpy), numba small and large, and the bank (8
    # outputs with numba on the larger data)
    monkeypatch.setattr(_kernels, "BACKEND", backend)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n_samples, 5))
    Y = expit(X @ rng.standard_normal((5, n_outputs)) + rng.normal(size=(1, n_outputs)))
    Y += 0.05 * rng.standard_normal(Y.shape)
    model = lbfgs(target_scaling=(-1.0, 2.0)).fit(X, Y)
    for q in range(n_outputs):
        t = (Y[:, q] + 1.0) / 3.0
        w, b = sigmoid_least_squares(X, t)
        assert_allclose(model.coef_[q], w, rtol=0, atol=1e-6)
        assert_allclose(model.intercept_[q], b, rtol=0, atol=1e-6)


def test_float32_keeps_float32_and_reaches_float32_precision(diabetes):
    X, y, _ = diabetes
    model64 = lbfgs().fit(X, y)
    model = lbfgs().fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert_allclose(model.coef_, model64.coef_, rtol=0, atol=1e-3)


# -- the solver's parameters and attributes ---------------------------------------
def test_the_default_solver_is_the_rule_to_the_last_bit(diabetes):
    X, y, t = diabetes
    default = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y)
    gd = SigmoidNeuronRegressor(epochs=20, random_state=0, solver="gd").fit(X, y)
    assert_array_equal(default.coef_, gd.coef_)
    assert default.loss_curve_ == gd.loss_curve_
    # the rule written out per record, at the step learnrate="auto" chose
    w = np.random.RandomState(0).normal(0, 1 / np.sqrt(X.shape[1]), X.shape[1])
    b, lr = 0.0, default.learnrate_
    for _ in range(20):
        dw, db = np.zeros_like(w), 0.0
        for x, target in zip(X, t, strict=True):
            out = expit(x @ w + b)
            delta = (target - out) * out * (1 - out)
            dw, db = dw + delta * x, db + delta
        w, b = w + lr * dw / len(X), b + lr * db / len(X)
    assert_allclose(default.coef_, w, rtol=1e-12)


def test_learnrate_is_ignored_and_learnrate_is_none(diabetes):
    X, y, _ = diabetes
    a = lbfgs(learnrate=0.01).fit(X, y)
    b = lbfgs(learnrate=50.0).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert a.learnrate_ is None


def test_loss_curve_has_the_loss_each_iteration_started_from(diabetes):
    X, y, t = diabetes
    w0 = np.random.default_rng(0).normal(size=X.shape[1])
    model = lbfgs(store_path=True).fit(X, y, coef_init=w0, intercept_init=0.3)
    assert model.n_iter_ == len(model.loss_curve_) == len(model.coef_path_)
    assert model.loss_curve_[0] == pytest.approx(
        np.mean(0.5 * (t - expit(X @ w0 + 0.3)) ** 2), rel=1e-12
    )
    # each later entry: the loss at the weights the previous iteration ended at
    for k in range(1, model.n_iter_):
        w, b = model.coef_path_[k - 1], model.intercept_path_[k - 1]
        expected = np.mean(0.5 * (t - expit(X @ w + b)) ** 2)
        assert model.loss_curve_[k] == pytest.approx(expected, rel=1e-12)
    assert np.all(np.diff(model.loss_curve_) <= 0)
    assert_array_equal(model.coef_path_[-1], model.coef_)
    stages = list(model.staged_predict(X[:5]))
    assert len(stages) == model.n_iter_
    assert_allclose(stages[-1], model.predict(X[:5]), rtol=1e-12)


def test_the_cap_on_iterations_warns(diabetes):
    X, y, _ = diabetes
    with pytest.warns(ConvergenceWarning, match="epochs=3 iterations"):
        model = lbfgs(epochs=3).fit(X, y)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_tol_is_the_largest_gradient_component(diabetes):
    X, y, t = diabetes
    model = lbfgs(tol=1e-4).fit(X, y)
    y_hat = expit(X @ model.coef_ + model.intercept_)
    delta = (t - y_hat) * y_hat * (1 - y_hat)
    gradient = -np.r_[X.T @ delta, delta.sum()] / len(X)
    assert np.abs(gradient).max() <= 1e-4
    assert model.n_iter_ < lbfgs().fit(X, y).n_iter_


def test_warm_start_and_coef_init_continue_to_the_same_optimum(diabetes):
    X, y, _ = diabetes
    once = lbfgs().fit(X, y)
    model = lbfgs(epochs=4, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    model.set_params(epochs=1000).fit(X, y)
    assert model.n_iter_ == 4 + len(model.loss_curve_[4:])
    assert_allclose(model.coef_, once.coef_, rtol=0, atol=1e-8)
    at_optimum = lbfgs().fit(X, y, coef_init=once.coef_, intercept_init=once.intercept_)
    assert at_optimum.n_iter_ <= 2
    assert_allclose(at_optimum.coef_, once.coef_, rtol=0, atol=1e-9)


def test_without_intercept_the_bias_stays_at_intercept_init(diabetes):
    X, y, t = diabetes
    model = lbfgs(fit_intercept=False).fit(X, y, intercept_init=-0.2)
    assert model.intercept_ == -0.2
    y_hat = expit(X @ model.coef_ - 0.2)
    gradient = X.T @ ((t - y_hat) * y_hat * (1 - y_hat)) / len(X)
    assert np.abs(gradient).max() < 1e-9


def test_multi_output_equals_separate_fits(synthetic):
    X, y, _ = synthetic
    Y = np.column_stack([y, y[::-1], np.sqrt(np.abs(y))])
    model = lbfgs(loss="log_loss").fit(X, Y)
    for q in range(3):
        single = lbfgs(loss="log_loss").fit(X, Y[:, q])
        assert_allclose(model.coef_[q], single.coef_, rtol=0, atol=1e-8)


def test_early_stopping_is_a_clear_error(diabetes):
    X, y, _ = diabetes
    with pytest.raises(
        ValueError, match=re.escape("early_stopping=True needs solver='gd'")
    ):
        lbfgs(early_stopping=True).fit(X, y)


def test_partial_fit_is_one_step_of_the_rule(diabetes):
    X, y, _ = diabetes
    model = lbfgs(learnrate=0.5).partial_fit(X, y).partial_fit(X, y)
    rule = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)
    rule.partial_fit(X, y).partial_fit(X, y)
    assert_array_equal(model.coef_, rule.coef_)
    assert model.loss_curve_ == rule.loss_curve_


def test_verbose_prints_iterations_and_passes(diabetes, capsys):
    X, y, _ = diabetes
    lbfgs(verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out
    assert re.search(r"L-BFGS stopped after \d+ iterations \(\d+ passes", out)


@pytest.mark.skipif(not has_callbacks, reason="sklearn.callback is new in 1.9")
def test_each_iteration_is_an_epoch_task_and_a_callback_can_stop(diabetes):
    X, y, _ = diabetes

    class StopAfter:
        def __init__(self, n):
            self.n, self.hooks = n, []

        def setup(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            self.hooks.append(("begin", context.task_name))

        def on_fit_task_end(self, estimator, context, **kwargs):
            self.hooks.append(("end", context.task_name))
            return context.task_name == "epoch" and context.task_id + 1 == self.n

        def teardown(self, estimator, context):
            pass

    callback = StopAfter(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stop asked for is not a warning
        model = lbfgs().set_callbacks(callback).fit(X, y)
    assert model.n_iter_ == 3
    epochs = [h for h in callback.hooks if h[1] == "epoch"]
    assert epochs == [("begin", "epoch"), ("end", "epoch")] * 3
    with pytest.warns(ConvergenceWarning):
        reference = lbfgs(epochs=3).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
