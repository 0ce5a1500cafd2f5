"""solver="lbfgs" and "newton": the rule's objective at its optimum, checked
against statistics packages and published tables on real data that ships with
them, whatever the columns' scales, in float32, with weights and on every
data source."""

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
from sk_sigmoid_neuron._diagnostics import TrainingWarning

sm = pytest.importorskip("statsmodels.api")

try:
    import sklearn.callback  # noqa: F401

    has_callbacks = True
except ImportError:  # scikit-learn < 1.9
    has_callbacks = False


SOLVERS = ["lbfgs", "newton"]
LOGIT = dict(loss="log_loss", target_scaling=None)


def fit(solver, **params):
    return SigmoidNeuronRegressor(solver=solver, random_state=0, **params)


def lbfgs(**params):
    return fit("lbfgs", **params)


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
@pytest.mark.parametrize("solver", SOLVERS)
def test_log_loss_equals_statsmodels_fractional_logit_and_its_hc0_errors(
    star98, solver
):
    X, y = star98
    reference = glm_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at the optimum: no inference warning
        model = fit(
            solver, loss="log_loss", target_scaling=None, compute_inference=True
        )
        model.fit(X, y)
    assert_allclose(model.coef_, reference.params[1:], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.params[0], rtol=0, atol=1e-6)
    assert_allclose(model.coef_se_, reference.bse[1:], rtol=1e-4)
    assert_allclose(model.intercept_se_, reference.bse[0], rtol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_log_loss_with_integer_weights_equals_statsmodels_on_repeated_rows(
    star98, solver
):
    X, y = star98
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    reference = glm_fit(X[rows], y[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit(
            solver, loss="log_loss", target_scaling=None, compute_inference=True
        )
        model.fit(X, y, sample_weight=weights)
    assert_allclose(model.coef_, reference.params[1:], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.params[0], rtol=0, atol=1e-6)
    assert_allclose(model.coef_se_, reference.bse[1:], rtol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_penalised_log_loss_equals_logistic_regression(solver):
    # scikit-learn's LogisticRegression minimises sum(ℓ) + ||w||² / (2 C): our
    # mean loss + alpha / 2 ||w||² with alpha = 1 / (C n)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C = 0.5
    reference = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12)
    reference.fit(X, y)
    model = fit(solver, loss="log_loss", target_scaling=None, alpha=1 / (C * len(y)))
    model.fit(X, y)
    assert_allclose(model.coef_, reference.coef_[0], rtol=0, atol=1e-6)
    assert_allclose(model.intercept_, reference.intercept_[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_squared_error_equals_scipy_least_squares(diabetes, solver):
    X, y, t = diabetes
    w, b = sigmoid_least_squares(X, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit(solver, compute_inference=True).fit(X, y)
    assert_allclose(model.coef_, w, rtol=0, atol=1e-5)
    assert_allclose(model.intercept_, b, rtol=0, atol=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
def test_squared_error_with_integer_weights_equals_least_squares_on_repeats(
    diabetes, solver
):
    X, y, _ = diabetes
    weights = np.random.default_rng(1).integers(0, 4, len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    yr = y[rows]
    w, b = sigmoid_least_squares(X[rows], (yr - yr.min()) / (yr.max() - yr.min()))
    model = fit(solver).fit(X, y, sample_weight=weights)
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
@pytest.mark.parametrize("solver", SOLVERS)
def test_sparse_equals_dense(synthetic, diabetes, loss, fmt, solver):
    for X, y, weights in [synthetic, diabetes[:2] + (None,)]:
        dense = fit(solver, loss=loss).fit(X, y, sample_weight=weights)
        Xs = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
        model = fit(solver, loss=loss).fit(Xs, y, sample_weight=weights)
        atol = 1e-8 if weights is not None else 1e-7
        assert_allclose(model.coef_, dense.coef_, rtol=0, atol=atol)
        assert_allclose(model.intercept_, dense.intercept_, rtol=0, atol=atol)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_dask_equals_dense(synthetic, diabetes, loss, solver):
    da = pytest.importorskip("dask.array")
    for X, y, weights in [synthetic, diabetes[:2] + (None,)]:
        dense = fit(solver, loss=loss).fit(X, y, sample_weight=weights)
        chunks = len(y) // 4
        model = fit(solver, loss=loss).fit(
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


@pytest.mark.parametrize("solver", SOLVERS)
def test_learnrate_is_ignored_and_learnrate_is_none(diabetes, solver):
    X, y, _ = diabetes
    a = fit(solver, learnrate=0.01).fit(X, y)
    b = fit(solver, learnrate=50.0).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert a.learnrate_ is None


@pytest.mark.parametrize("solver", SOLVERS)
def test_loss_curve_has_the_loss_each_iteration_started_from(diabetes, solver):
    X, y, t = diabetes
    w0 = np.random.default_rng(0).normal(size=X.shape[1])
    model = fit(solver, store_path=True).fit(X, y, coef_init=w0, intercept_init=0.3)
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


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_and_coef_init_continue_to_the_same_optimum(diabetes, solver):
    X, y, _ = diabetes
    once = fit(solver).fit(X, y)
    model = fit(solver, epochs=4, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    model.set_params(epochs=1000).fit(X, y)
    assert model.n_iter_ == 4 + len(model.loss_curve_[4:])
    assert_allclose(model.coef_, once.coef_, rtol=0, atol=1e-8)
    at_optimum = fit(solver).fit(
        X, y, coef_init=once.coef_, intercept_init=once.intercept_
    )
    assert at_optimum.n_iter_ <= 2
    assert_allclose(at_optimum.coef_, once.coef_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_without_intercept_the_bias_stays_at_intercept_init(diabetes, solver):
    X, y, t = diabetes
    model = fit(solver, fit_intercept=False).fit(X, y, intercept_init=-0.2)
    assert model.intercept_ == -0.2
    y_hat = expit(X @ model.coef_ - 0.2)
    gradient = X.T @ ((t - y_hat) * y_hat * (1 - y_hat)) / len(X)
    assert np.abs(gradient).max() < 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_output_equals_separate_fits(synthetic, solver):
    X, y, _ = synthetic
    Y = np.column_stack([y, y[::-1], np.sqrt(np.abs(y))])
    model = fit(solver, loss="log_loss").fit(X, Y)
    for q in range(3):
        single = fit(solver, loss="log_loss").fit(X, Y[:, q])
        assert_allclose(model.coef_[q], single.coef_, rtol=0, atol=1e-8)


def test_early_stopping_is_a_clear_error(diabetes):
    X, y, _ = diabetes
    with pytest.raises(
        ValueError, match=re.escape("early_stopping=True needs solver='gd'")
    ):
        lbfgs(early_stopping=True).fit(X, y)


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_is_one_step_of_the_rule(diabetes, solver):
    X, y, _ = diabetes
    model = fit(solver, learnrate=0.5).partial_fit(X, y).partial_fit(X, y)
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


# -- the optimum whatever the columns' scales ----------------------------------
def linear_predictor(X, model):
    coef = np.asarray(model.coef_, dtype=np.float64)
    return np.asarray(X, dtype=np.float64) @ coef + float(model.intercept_)


@pytest.fixture(scope="module")
def star98_raw():
    """star98 as shipped: columns in the tens to the tens of thousands, with
    interactions (the condition number of [1, X] is 3.4e6)."""
    data = sm.datasets.star98.load_pandas()
    above, below = data.endog["NABOVE"], data.endog["NBELOW"]
    return data.exog.to_numpy(dtype=float), (above / (above + below)).to_numpy()


@pytest.mark.parametrize("solver", SOLVERS)
def test_unscaled_star98_equals_the_glm_and_its_hc0_errors(star98_raw, solver):
    X, y = star98_raw
    Xc = sm.add_constant(X)
    model = sm.GLM(y, Xc, family=sm.families.Binomial())
    reference = model.fit(tol=1e-13, cov_type="HC0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at the optimum, and says nothing
        fitted = fit(solver, compute_inference=True, **LOGIT).fit(X, y)
    assert_allclose(linear_predictor(X, fitted), Xc @ reference.params, atol=1e-6)
    assert_allclose(fitted.coef_se_, reference.bse[1:], rtol=1e-3)
    assert_allclose(fitted.intercept_se_, reference.bse[0], rtol=1e-3)


# Greene, Econometric Analysis (5th ed., 2003), Table 21.1: the logit of the
# Spector and Mazzeo (1980) data (statsmodels' spector), as printed
GREENE_LOGIT = {"const": -13.021, "GPA": 2.826, "TUCE": 0.095, "PSI": 2.379}


@pytest.mark.parametrize("solver", SOLVERS)
def test_unscaled_spector_equals_logit_and_greenes_table(solver):
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog.to_numpy(dtype=float), data.endog.to_numpy(dtype=float)
    Xc = sm.add_constant(X)
    reference = sm.Logit(y, Xc).fit(method="newton", tol=1e-14, disp=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit(solver, **LOGIT).fit(X, y)
    assert_allclose(linear_predictor(X, model), Xc @ reference.params, atol=1e-6)
    printed = [GREENE_LOGIT[name] for name in data.exog.columns]
    assert_array_equal(np.round(model.coef_, 3), printed)
    assert round(model.intercept_, 3) == GREENE_LOGIT["const"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_rescaled_columns_reach_the_same_optimum(star98_raw, solver):
    X, y = star98_raw
    factors = 10.0 ** np.arange(-4, X.shape[1] - 4) / 7
    model = fit(solver, **LOGIT).fit(X, y)
    scaled = fit(solver, **LOGIT).fit(X * factors, y)
    # the iterations, from the weights 0, are those of standardised columns
    standardised = StandardScaler().fit_transform(X)
    assert model.n_iter_ == fit(solver, **LOGIT).fit(standardised, y).n_iter_
    assert scaled.n_iter_ == model.n_iter_
    assert_allclose(scaled.coef_ * factors, model.coef_, rtol=1e-7)
    assert_allclose(linear_predictor(X * factors, scaled), linear_predictor(X, model),
                    atol=1e-8)  # fmt: skip


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_reaches_the_optimum_of_the_rounded_data(star98, solver):
    # the optimum that float32 X defines: statsmodels' on X rounded to float32
    X, y = star98
    X32 = X.astype(np.float32)
    rounded = X32.astype(np.float64)
    reference = glm_fit(rounded, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit(solver, **LOGIT).fit(X32, y)
    assert model.coef_.dtype == np.float32
    expected = sm.add_constant(rounded) @ reference.params
    assert_allclose(linear_predictor(rounded, model), expected, atol=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_squared_error_reaches_the_optimum_of_the_rounded_data(
    diabetes, solver
):
    X, y, t = diabetes
    rounded = X.astype(np.float32).astype(np.float64)
    w, b = sigmoid_least_squares(rounded, t)
    model = fit(solver).fit(X.astype(np.float32), y)
    assert_allclose(linear_predictor(rounded, model), rounded @ w + b, atol=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_integer_weights_equal_repeated_rows(star98_raw, solver, loss):
    # tol=1e-12: at the default, the squared error's flatter curvature leaves
    # L-BFGS's linear predictor about 1e-7 from the optimum
    X, y = star98_raw
    weights = np.random.default_rng(0).integers(0, 4, len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    params = dict(loss=loss, target_scaling=None, tol=1e-12)
    weighted = fit(solver, **params).fit(X, y, sample_weight=weights)
    repeated = fit(solver, **params).fit(X[rows], y[rows])
    assert_allclose(
        linear_predictor(X, weighted), linear_predictor(X, repeated), atol=1e-8
    )


def in_source(name, X, y):
    """``(X, y)`` as the source ``name`` holds them, and the config to fit in."""
    import sklearn

    if name == "dask":
        da = pytest.importorskip("dask.array")
        chunks = 100
        return da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks), {}
    if name == "torch":
        from sklearn.utils._testing import _array_api_for_tests

        xp, device = _array_api_for_tests("torch", "cpu")
        config = sklearn.config_context(array_api_dispatch=True)
        tensors = (xp.asarray(np.array(a), device=device) for a in (X, y))
        return *tensors, config
    return X, y, {}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_source_reaches_the_same_optimum(star98_raw, star98, solver, dtype):
    # float64: unscaled star98; float32: standardised (float32 rounds the
    # unscaled columns' interactions to 1e-3 of their spread)
    X, y = star98_raw if dtype == "float64" else star98
    X = X.astype(dtype)
    params = dict(compute_inference=True, **LOGIT)
    memory = fit(solver, **params).fit(X, y)
    atol = 1e-9 if dtype == "float64" else 1e-5
    for name in ("dask", "torch"):
        Xs, ys, config = in_source(name, X, y.astype(dtype))
        with warnings.catch_warnings(), config or warnings.catch_warnings():
            warnings.simplefilter("error")  # the inference agrees it converged
            model = fit(solver, **params).fit(Xs, ys)
        from sk_sigmoid_neuron._namespace import to_numpy

        model.coef_, model.intercept_ = (
            to_numpy(model.coef_),
            to_numpy(model.intercept_),
        )
        assert_allclose(
            linear_predictor(X, model), linear_predictor(X, memory), atol=atol,
            err_msg=name,
        )  # fmt: skip


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("source", ["memory", "dask", "torch"])
def test_a_fit_at_the_optimum_takes_no_iteration_and_has_an_empty_path(
    star98, solver, source
):
    X, y = star98
    optimum = fit(solver, **LOGIT).fit(X, y)
    Xs, ys, config = in_source(source, X, y)
    with config or warnings.catch_warnings():
        model = fit(solver, store_path=True, **LOGIT)
        model.fit(Xs, ys, coef_init=optimum.coef_, intercept_init=optimum.intercept_)
        assert model.n_iter_ == 0 and model.loss_curve_ == []
        assert tuple(model.coef_path_.shape) == (0, X.shape[1])
        assert tuple(model.intercept_path_.shape) == (0,)
        assert list(model.staged_predict(Xs)) == []
        # a warm refit at the optimum continues with no iteration either
        model.set_params(warm_start=True).fit(Xs, ys)
        assert model.n_iter_ == 0 and tuple(model.coef_path_.shape) == (0, X.shape[1])


# -- where there is no finite optimum, and where the fit stops short -----------------
@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    return X, (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_separable_targets_say_there_is_no_finite_optimum(separable, solver, loss):
    X, y = separable
    params = dict(loss=loss, target_scaling=None)
    with pytest.warns(TrainingWarning) as record:
        model = fit(solver, **params).fit(X, y)
    (message,) = [
        str(w.message) for w in record if "no finite minimum" in str(w.message)
    ]
    assert "alpha=0.0001" in message
    if loss == "log_loss":
        assert "separable" in message
    assert np.abs(model.coef_).max() > 100  # the weights ran off
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a penalty gives a finite optimum
        penalised = fit(solver, alpha=1e-3, **params).fit(X, y)
    assert np.abs(penalised.coef_).max() < 100


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_cap_warns_with_the_gradient_and_the_fix(star98_raw, solver):
    X, y = star98_raw
    with pytest.warns(ConvergenceWarning) as record:
        model = fit(solver, epochs=2, **LOGIT).fit(X, y)
    (message,) = [str(w.message) for w in record if "cap" in str(w.message)]
    assert model.n_iter_ == 2
    assert re.search(r"standardised gradient is \d", message)
    assert "epochs=20" in message


def test_a_stop_at_the_losss_rounding_warns_with_the_gradient_and_the_fix():
    # too many features (GRAM_MAX) for Newton's steps to finish L-BFGS
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 600))
    y = expit(X[:, :5].sum(axis=1))
    with pytest.warns(ConvergenceWarning) as record:
        fit("lbfgs", tol=1e-15).fit(X, y)
    (message,) = [str(w.message) for w in record if "rounding" in str(w.message)]
    gradient = float(re.search(r"gradient is ([0-9.e+-]+)", message).group(1))
    assert gradient > 1e-15
    assert "solver='newton' (which reaches it)" in message
    assert f"tol={float(f'{2 * gradient:.1g}'):g} to accept them" in message


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "dtype, alpha, start",
    [("float64", 1e155, None), ("float32", 1e100, None), ("float64", 1e307, 30.0)],
)
def test_a_huge_alpha_gives_weights_of_zero(diabetes, solver, dtype, alpha, start):
    # a penalty so large that it overflows float64 at a start of 30s: that
    # start is left for the weights 0, where it does not
    X, y, t = diabetes
    coef_init = None if start is None else np.full(X.shape[1], start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)  # collapsed predictions
        model = fit(solver, alpha=alpha).fit(X.astype(dtype), y, coef_init=coef_init)
    assert np.abs(model.coef_).max() <= 1e-90
    # the intercept alone: σ(b) is the mean target
    assert expit(float(model.intercept_)) == pytest.approx(t.mean(), rel=1e-6)


def test_tol_bounds_the_gradient_of_standardised_columns(star98_raw):
    X, y = star98_raw
    weights = np.random.default_rng(2).integers(1, 4, len(y))
    model = fit("lbfgs", tol=1e-6, **LOGIT).fit(X, y, sample_weight=weights)
    # the gradient of the mean loss in w, b, then in the coefficients of the
    # columns standardised with the weights
    e = expit(linear_predictor(X, model)) - y
    g_w = X.T @ (weights * e) / weights.sum()
    g_b = (weights * e).sum() / weights.sum()
    mean = np.average(X, axis=0, weights=weights)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weights))
    standardised = np.r_[(g_w - mean * g_b) / std, g_b]
    assert np.abs(standardised).max() <= 1e-6
    assert (
        model.n_iter_ < fit("lbfgs", **LOGIT).fit(X, y, sample_weight=weights).n_iter_
    )
