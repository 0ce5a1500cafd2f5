"""Beyond the documented rule: log loss, learnrate="auto", L2, staged_predict, SEs."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from sk_sigmoid_neuron import (
    SigmoidNeuronRegressor,
    TrainingWarning,
    _kernels,
    _stepsize,
)

LOSSES = ["squared_error", "log_loss"]


@pytest.fixture
def proportions():
    """Proportions in [0, 1] around a sigmoid mean, and positive weights."""
    rng = np.random.RandomState(0)
    n = 300
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5]
    mean = expit(X @ [1.0, -0.5, 0.8] + 0.2)
    y = np.clip(mean + 0.15 * rng.normal(size=n), 0.0, 1.0)
    return X, y, rng.exponential(size=n)


def objective(theta, X, t, s, loss, alpha):
    """The weighted mean loss + alpha/2 ||w||², and its gradient, written plainly."""
    w, b = theta[:-1], theta[-1]
    y_hat = expit(X @ w + b)
    if loss == "log_loss":
        # the Bernoulli quasi-log-likelihood of a proportion t, negated
        ell = -(t * np.log(y_hat) + (1 - t) * np.log(1 - y_hat))
        dell = y_hat - t
    else:
        ell = 0.5 * (t - y_hat) ** 2
        dell = -(t - y_hat) * y_hat * (1 - y_hat)
    S = s.sum()
    f = s @ ell / S + 0.5 * alpha * w @ w
    g = np.r_[X.T @ (s * dell) / S + alpha * w, s @ dell / S]
    return f, g


def curvature_sup(loss):
    """sup over h and t in [0, 1] of |d²ℓ/dh²|, by a numerical search."""
    if loss == "log_loss":
        return 0.25  # σ(1 - σ), largest at h = 0

    def second(h, t):
        y = expit(h)
        return (y * (1 - y)) ** 2 - (t - y) * y * (1 - y) * (1 - 2 * y)

    # affine in t, so the extremes are at t = 0 or t = 1
    best = 0.0
    for t in (0.0, 1.0):
        for sign in (1, -1):
            r = minimize_scalar(
                lambda h, t=t, sign=sign: -sign * second(h, t),
                bounds=(-20, 20),
                method="bounded",
                options={"xatol": 1e-12},
            )
            best = max(best, -r.fun)
    return best


def step_bound(X, s, loss, alpha, fit_intercept):
    """1 / (c λmax(X̃ᵀ diag(s) X̃ / Σs) + alpha), with a dense eigensolver."""
    Xt = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    G = Xt.T @ (Xt * s[:, None]) / s.sum()
    return 1.0 / (curvature_sup(loss) * np.linalg.eigvalsh(G)[-1] + alpha)


# -- 1. loss="log_loss" and 3. alpha --------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_converged_fit_is_the_minimiser_of_the_weighted_objective(
    proportions, loss, alpha
):
    X, y, s = proportions
    model = SigmoidNeuronRegressor(
        learnrate=2.0,
        epochs=4000,
        loss=loss,
        alpha=alpha,
        target_scaling=None,
        random_state=0,
    ).fit(X, y, sample_weight=s)
    ref = minimize(
        objective,
        np.zeros(4),
        args=(X, y, s, loss, alpha),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-11},
    )
    assert_allclose(np.r_[model.coef_, model.intercept_], ref.x, rtol=0, atol=1e-6)


def test_log_loss_error_term_has_no_sigmoid_slope():
    # one epoch by hand: δ = t - ŷ, w += η Σ s δ x / Σ s
    X = np.array([[0.1, 0.3], [-0.4, 0.2], [1.5, -0.7]])
    t = np.array([0.2, 0.9, 0.5])
    s = np.array([1.0, 2.0, 0.5])
    w, b, lr = np.array([-0.8, 0.5]), 0.1, 0.7
    delta = t - expit(X @ w + b)
    model = SigmoidNeuronRegressor(
        learnrate=lr, epochs=1, loss="log_loss", target_scaling=None
    ).fit(X, t, sample_weight=s, coef_init=w, intercept_init=b)
    assert_allclose(model.coef_, w + lr * (s * delta) @ X / s.sum(), rtol=1e-14)
    assert_allclose(model.intercept_, b + lr * s @ delta / s.sum(), rtol=1e-14)
    f, _ = objective(np.r_[w, b], X, t, s, "log_loss", 0.0)
    assert_allclose(model.loss_curve_, [f], rtol=1e-14)


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_curve_includes_the_penalty(proportions, loss):
    X, y, s = proportions
    w0, b0, alpha = np.array([0.3, -0.2, 1.0]), 0.4, 0.3
    model = SigmoidNeuronRegressor(
        learnrate=0.5, epochs=2, loss=loss, alpha=alpha, target_scaling=None
    ).fit(X, y, sample_weight=s, coef_init=w0, intercept_init=b0)
    f0, g0 = objective(np.r_[w0, b0], X, y, s, loss, alpha)
    f1, _ = objective(np.r_[w0, b0] - 0.5 * g0, X, y, s, loss, alpha)
    assert_allclose(model.loss_curve_, [f0, f1], rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("form", ["dense", "sparse", "partial_fit"])
def test_alpha_zero_changes_nothing(monkeypatch, proportions, backend, form):
    monkeypatch.setattr(_kernels, "BACKEND", backend)
    X, y, s = proportions
    X = sparse.csr_matrix(X) if form == "sparse" else X

    def run(**params):
        model = SigmoidNeuronRegressor(epochs=30, random_state=0, **params)
        if form == "partial_fit":
            for _ in range(5):
                model.partial_fit(X, y, sample_weight=s)
            return model
        return model.fit(X, y, sample_weight=s)

    default = run()
    # alpha=0 in any spelling, and a penalty too small to change any bit
    for alpha in (0, 0.0, 1e-300):
        model = run(alpha=alpha)
        assert_array_equal(model.coef_, default.coef_)
        assert model.intercept_ == default.intercept_
        assert model.loss_curve_ == default.loss_curve_


# -- 2. learnrate="auto" ------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_auto_learnrate_is_one_over_the_curvature_bound(
    proportions, loss, fit_intercept
):
    X, y, s = proportions
    model = SigmoidNeuronRegressor(
        learnrate="auto",
        epochs=3,
        loss=loss,
        alpha=0.2,
        fit_intercept=fit_intercept,
        target_scaling=None,
        random_state=0,
    ).fit(X, y, sample_weight=s)
    expected = step_bound(X, s, loss, 0.2, fit_intercept)
    assert_allclose(model.learnrate_, expected, rtol=1e-9)
    # and the step is that of a fit with learnrate=learnrate_, to the bit
    fixed = SigmoidNeuronRegressor(
        learnrate=model.learnrate_,
        epochs=3,
        loss=loss,
        alpha=0.2,
        fit_intercept=fit_intercept,
        target_scaling=None,
        random_state=0,
    ).fit(X, y, sample_weight=s)
    assert_array_equal(fixed.coef_, model.coef_)
    assert fixed.loss_curve_ == model.loss_curve_


def test_float_learnrate_is_learnrate_(proportions):
    X, y, _ = proportions
    model = SigmoidNeuronRegressor(learnrate=0.3, epochs=2).fit(X, y)
    assert model.learnrate_ == 0.3


@pytest.mark.parametrize("shape", [(40, 6), (5, 30)], ids=["tall", "wide"])
def test_auto_learnrate_without_the_full_gram_matrix(monkeypatch, shape):
    # past EXACT_MAX, Lanczos stops with an estimate between the largest
    # eigenvalue of the explicit Gram matrix and (1 + LANCZOS_TOL) times it,
    # and gives the eigenvalue itself when run to convergence
    monkeypatch.setattr(_stepsize, "EXACT_MAX", 3)
    rng = np.random.RandomState(1)
    X = rng.normal(size=shape) * rng.uniform(0.1, 10, size=shape[1])
    y = rng.uniform(size=shape[0])
    s = rng.uniform(0.5, 2, size=shape[0])

    def step():
        model = SigmoidNeuronRegressor(learnrate="auto", epochs=1)
        return model.fit(X, y, sample_weight=s).learnrate_

    expected = step_bound(X, s, "squared_error", 0.0, True)
    tol = _stepsize.LANCZOS_TOL
    assert expected / (1 + tol) * (1 - 1e-9) <= step() <= expected * (1 + 1e-9)
    monkeypatch.setattr(_stepsize, "LANCZOS_TOL", 1e-12)
    assert_allclose(step(), expected, rtol=1e-8)


def test_auto_learnrate_of_large_dense_x_past_gram_max_is_lanczos(monkeypatch):
    # dense X large enough (past a lowered PARALLEL_ELEMENTS) and of more
    # than GRAM_MAX parameters: Lanczos, whose estimate lies within its
    # tolerance above λmax; the same X sparse, and small dense X: the Gram
    # matrix, exact
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)  # 64 unscaled pixels
    y = y / 9.0
    s = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    assert X.shape[1] + 1 > _stepsize.GRAM_MAX
    calls = []
    lanczos = _stepsize._lanczos

    def spy(*args):
        calls.append(1)
        return lanczos(*args)

    monkeypatch.setattr(_stepsize, "_lanczos", spy)

    def step(Xo):
        model = SigmoidNeuronRegressor(learnrate="auto", epochs=1)
        return model.fit(Xo, y, sample_weight=s).learnrate_

    expected = step_bound(X, s, "squared_error", 0.0, True)
    assert_allclose(step(X), expected, rtol=1e-9)  # small: the Gram matrix
    assert_allclose(step(sparse.csr_matrix(X)), expected, rtol=1e-9)
    assert not calls
    monkeypatch.setattr(_stepsize, "PARALLEL_ELEMENTS", 0)
    tol = _stepsize.LANCZOS_TOL
    assert expected / (1 + tol) * (1 - 1e-9) <= step(X) <= expected * (1 + 1e-9)
    assert calls
    calls.clear()
    assert_allclose(step(sparse.csr_matrix(X)), expected, rtol=1e-9)
    assert not calls


@pytest.mark.parametrize("loss", LOSSES)
def test_auto_learnrate_sparse_and_float32_equal_dense(proportions, loss):
    X, y, s = proportions
    params = dict(learnrate="auto", epochs=1, loss=loss)
    dense = SigmoidNeuronRegressor(**params).fit(X, y, sample_weight=s)
    for Xo in (sparse.csr_matrix(X), sparse.csc_matrix(X), X.astype(np.float32)):
        other = SigmoidNeuronRegressor(**params).fit(Xo, y, sample_weight=s)
        assert_allclose(other.learnrate_, dense.learnrate_, rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_float32_gram_blocks_keep_the_step_within_their_rounding(monkeypatch, weighted):
    # the Gram matrix of float32 X by blocks of float32 products (small
    # blocks here, so that there are many) added in float64: the step of
    # the float64 computation on the same values, to float32's rounding
    monkeypatch.setattr(_stepsize, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(_stepsize, "BLOCK_BYTES", 4 * 8 * 64)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((5000, 8)) * rng.uniform(0.1, 10, 8) + 3).astype(
        np.float32
    )
    y = rng.uniform(size=5000)
    s = rng.uniform(0.5, 2, size=5000) if weighted else np.ones(5000)
    model = SigmoidNeuronRegressor(epochs=1).fit(X, y, sample_weight=s)
    expected = step_bound(X.astype(np.float64), s, "squared_error", 0.0, True)
    assert_allclose(model.learnrate_, expected, rtol=1e-5)


def test_gram_of_chunks_gives_the_same_step(proportions):
    # for data in chunks (the dask path): Gram matrices of chunks add up
    X, _, s = proportions
    G = sum(
        _stepsize.weighted_gram(X[rows], s[rows], True)
        for rows in np.array_split(np.arange(len(s)), 3)
    )
    # the step 1 / (c λmax(G / S) + alpha), c = 1/4 for the log loss
    lam = np.linalg.eigvalsh(G / s.sum())[-1]
    step = 1.0 / (0.25 * lam + 0.1)
    assert_allclose(step, step_bound(X, s, "log_loss", 0.1, True), rtol=1e-9)


def adversarial_cases():
    """Data and starts on which a hand-picked learnrate goes wrong."""
    rng = np.random.RandomState(0)
    n = 200
    z = rng.normal(size=(n, 3))
    y = rng.uniform(size=n) + (z[:, 1] > 0)  # not the badly scaled column
    s = rng.exponential(size=n)
    badly_scaled = z * [1e3, 1.0, 1e-3]
    near_constant = np.column_stack([z[:, :2], 1 + 1e-7 * z[:, 2]])
    heavy_tailed = np.column_stack([z[:, :2], rng.standard_cauchy(size=n)])
    small = [1e-4, 0.1, 0.1]
    saturated = [0.05, 30.0, 40.0]  # |h| in the tens: σ' ~ 1e-13
    return [
        ("badly scaled", badly_scaled, y, s, small),
        ("badly scaled, saturated", badly_scaled, y, s, saturated),
        ("near-constant column", near_constant, y, s, None),
        ("near-constant, saturated", near_constant, y, s, saturated),
        ("heavy tails", heavy_tailed, y, s, None),
    ]


@pytest.mark.parametrize("case", adversarial_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("path", ["gram", "gram-float32", "lanczos", "sparse"])
def test_auto_learnrate_never_increases_the_loss(monkeypatch, case, loss, alpha, path):
    # every way of estimating λmax: the Gram matrix in float64 and in
    # float32 (its rounding bounded), and Lanczos stopped early, on dense and
    # on sparse X (past a lowered EXACT_MAX)
    _, X, y, s, coef_init = case
    dtype = np.float32 if path == "gram-float32" else np.float64
    if path == "gram-float32":  # its products in float32, whatever X's size
        monkeypatch.setattr(_stepsize, "PARALLEL_ELEMENTS", 0)
    if path in ("lanczos", "sparse"):
        monkeypatch.setattr(_stepsize, "EXACT_MAX", 2)
    X = sparse.csr_matrix(X) if path == "sparse" else X.astype(dtype)
    params = dict(epochs=300, loss=loss, alpha=alpha, random_state=0)
    model = SigmoidNeuronRegressor(learnrate="auto", **params).fit(
        X, y, sample_weight=s, coef_init=coef_init
    )
    curve = np.array(model.loss_curve_)
    # the descent lemma holds in exact arithmetic; the mean of n losses is
    # evaluated with a rounding error of at most n ulps of X's dtype
    rounding = len(y) * np.finfo(dtype).eps * curve[:-1]
    assert np.all(np.diff(curve) <= rounding)
    assert curve[-1] <= curve[0]


@pytest.mark.parametrize("case", adversarial_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("loss", LOSSES)
def test_a_fixed_large_learnrate_increases_the_loss_on_the_same_data(case, loss):
    # and says so: a TrainingWarning, or the error when the loss exploded
    _, X, y, s, coef_init = case
    model = SigmoidNeuronRegressor(
        learnrate=500.0, epochs=300, loss=loss, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y, sample_weight=s, coef_init=coef_init)
        except ValueError as exc:
            assert "training loss exploded" in str(exc)
            return
    assert any(issubclass(w.category, TrainingWarning) for w in caught)
    curve = np.array(model.loss_curve_)
    rounding = len(y) * np.finfo(np.float64).eps * curve[:-1]
    assert np.any(np.diff(curve) > rounding)


@pytest.mark.parametrize("loss", LOSSES)
def test_partial_fit_auto_takes_each_batchs_own_step(proportions, loss):
    X, y, s = proportions
    model = SigmoidNeuronRegressor(
        learnrate="auto", loss=loss, target_scaling=None, random_state=0
    )
    for batch in np.array_split(np.arange(len(y)), 4):
        Xb = X[batch] * (1 + batch[0] / 50)  # batches of different curvature
        before = np.r_[model.coef_, model.intercept_] if batch[0] else None
        model.partial_fit(Xb, y[batch], sample_weight=s[batch])
        assert_allclose(
            model.learnrate_, step_bound(Xb, s[batch], loss, 0.0, True), rtol=1e-9
        )
        if before is not None:  # the step descends on its batch
            f0, _ = objective(before, Xb, y[batch], s[batch], loss, 0.0)
            f1, _ = objective(
                np.r_[model.coef_, model.intercept_], Xb, y[batch], s[batch], loss, 0
            )
            assert f1 <= f0


def test_learnrate_must_be_positive_or_auto(proportions):
    X, y, _ = proportions
    for bad in ("fast", -1.0, 0):
        with pytest.raises(ValueError, match="'learnrate' parameter"):
            SigmoidNeuronRegressor(learnrate=bad).fit(X, y)


def test_auto_learnrate_on_overflowing_data_is_a_clear_error(proportions):
    X, y, _ = proportions
    model = SigmoidNeuronRegressor(epochs=2).fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="too large.*learnrate"):
        model.set_params(learnrate="auto").fit(X * 1e200, y)
    assert_array_equal(model.coef_, coef)


# -- 4. staged_predict ----------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
def test_staged_predict_equals_refits_with_that_many_epochs(
    proportions, fmt, multi, loss
):
    X, y, s = proportions
    X = sparse.csr_matrix(X) if fmt == "csr" else X
    Y = np.column_stack([y, y**2]) if multi else y
    params = dict(loss=loss, alpha=0.01, learnrate=1.5, random_state=0)
    model = SigmoidNeuronRegressor(epochs=15, store_path=True, **params).fit(
        X, Y, sample_weight=s
    )
    staged = list(model.staged_predict(X[:50]))
    assert len(staged) == model.n_iter_ == 15
    for epochs in (1, 7, 15):
        refit = SigmoidNeuronRegressor(epochs=epochs, **params).fit(
            X, Y, sample_weight=s
        )
        assert_array_equal(staged[epochs - 1], refit.predict(X[:50]))
    assert_array_equal(staged[-1], model.predict(X[:50]))


def test_store_path_changes_nothing_else(proportions):
    X, y, s = proportions
    plain = SigmoidNeuronRegressor(epochs=25, random_state=0).fit(X, y)
    model = SigmoidNeuronRegressor(epochs=25, random_state=0, store_path=True).fit(X, y)
    assert_array_equal(model.coef_, plain.coef_)
    assert model.loss_curve_ == plain.loss_curve_
    assert model.coef_path_.shape == (25, 3)
    assert model.intercept_path_.shape == (25,)
    assert plain.coef_path_ is None
    with pytest.raises(ValueError, match="store_path=True"):
        next(plain.staged_predict(X))


def test_staged_predict_continues_with_warm_start_and_partial_fit(proportions):
    X, y, _ = proportions
    params = dict(random_state=0, store_path=True)
    whole = SigmoidNeuronRegressor(epochs=12, **params).fit(X, y)
    model = SigmoidNeuronRegressor(epochs=5, warm_start=True, **params).fit(X, y)
    model.set_params(epochs=4).fit(X, y)
    for _ in range(3):
        model.partial_fit(X, y)
    assert model.n_iter_ == 12
    for a, b in zip(model.staged_predict(X), whole.staged_predict(X), strict=True):
        assert_array_equal(a, b)
    # a new fit starts a new path
    model.set_params(warm_start=False, epochs=3).fit(X, y)
    assert len(list(model.staged_predict(X))) == 3


def test_staged_predict_stops_with_tol(proportions):
    X, y, _ = proportions
    model = SigmoidNeuronRegressor(
        epochs=5000, tol=1e-4, random_state=0, store_path=True
    ).fit(X, y)
    assert model.n_iter_ < 5000
    assert len(model.coef_path_) == model.n_iter_


# -- 5. standard errors -----------------------------------------------------------
def converged(X, y, s=None, **params):
    """A fit at the optimum (no ConvergenceWarning from compute_inference)."""
    model = SigmoidNeuronRegressor(
        learnrate="auto", epochs=5000, compute_inference=True, random_state=0
    ).set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return model.fit(X, y, sample_weight=s)


def glm(X, y, **kwargs):
    exog = sm.add_constant(X, prepend=False, has_constant="add")
    model = sm.GLM(y, exog, family=sm.families.Binomial(), **kwargs)
    return model.fit(cov_type="HC0", tol=1e-14, maxiter=100)


def test_log_loss_standard_errors_equal_statsmodels_glm_hc0(proportions):
    X, y, _ = proportions
    model = converged(X, y, loss="log_loss", target_scaling=None)
    ref = glm(X, y)
    assert_allclose(np.r_[model.coef_, model.intercept_], ref.params, rtol=1e-7)
    assert_allclose(np.r_[model.coef_se_, model.intercept_se_], ref.bse, rtol=1e-5)
    assert_allclose(model.coef_cov_, ref.cov_params(), rtol=1e-5, atol=1e-12)
    y_pred, y_std = model.predict(X[:20], return_std=True)
    pred = ref.get_prediction(sm.add_constant(X[:20], prepend=False))
    assert_allclose(y_pred, pred.predicted_mean, rtol=1e-7)
    assert_allclose(y_std, pred.se_mean, rtol=1e-5)


def test_weighted_standard_errors_are_frequency_weighted(proportions):
    # a weight k counts the record k times, in the fit and in the SEs
    X, y, s = proportions
    k = np.random.RandomState(3).randint(0, 4, size=len(y))
    model = converged(X, y, k.astype(float), loss="log_loss", target_scaling=None)
    rows = np.repeat(np.arange(len(y)), k)
    repeated = glm(X[rows], y[rows])
    assert_allclose(np.r_[model.coef_se_, model.intercept_se_], repeated.bse, rtol=1e-5)
    # and non-integer weights as statsmodels' freq_weights
    model = converged(X, y, s, loss="log_loss", target_scaling=None)
    ref = glm(X, y, freq_weights=s)
    assert_allclose(np.r_[model.coef_se_, model.intercept_se_], ref.bse, rtol=1e-5)


def test_standard_errors_without_intercept_equal_statsmodels(proportions):
    X, y, _ = proportions
    model = converged(X, y, loss="log_loss", target_scaling=None, fit_intercept=False)
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="HC0", tol=1e-14)
    assert_allclose(model.coef_se_, ref.bse, rtol=1e-5)
    assert model.intercept_se_ == 0.0
    _, y_std = model.predict(X[:5], return_std=True)
    assert_allclose(y_std, ref.get_prediction(X[:5]).se_mean, rtol=1e-5)


def nls_sandwich(X, t, s, theta, alpha):
    """HC0 sandwich of penalised weighted least squares on σ, by hand.

    Bread: the Hessian Σ s (J Jᵀ - e ∇²σ) + S alpha P of Σ s ½ e² + S alpha/2
    ||w||², with J = σ'(h) x̃ and e = t - σ(h); meat: Σ s e² J Jᵀ.
    """
    Xt = np.column_stack([X, np.ones(len(X))])
    y_hat = expit(Xt @ theta)
    slope = y_hat * (1 - y_hat)
    e = t - y_hat
    J = slope[:, None] * Xt
    hess_sigma = (slope * (1 - 2 * y_hat))[:, None, None] * np.einsum(
        "ij,ik->ijk", Xt, Xt
    )
    bread = np.einsum("i,ij,ik->jk", s, J, J) - np.einsum(
        "i,ijk->jk", s * e, hess_sigma
    )
    bread += s.sum() * alpha * np.diag(np.r_[np.ones(X.shape[1]), 0.0])
    meat = np.einsum("i,ij,ik->jk", s * e**2, J, J)
    inv = np.linalg.inv(bread)
    return inv @ meat @ inv


@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_squared_error_standard_errors_equal_the_nls_sandwich(proportions, alpha):
    X, y, s = proportions
    y_user = 3.0 + 40.0 * y  # minmax maps it back onto [0, 1]
    model = converged(X, y_user, s, alpha=alpha)
    lo, hi = model.target_range_
    t = (y_user - lo) / (hi - lo)
    cov = nls_sandwich(X, t, s, np.r_[model.coef_, model.intercept_], alpha)
    assert_allclose(model.coef_cov_, cov, rtol=1e-6, atol=1e-14)
    se = np.sqrt(np.diag(cov))
    assert_allclose(np.r_[model.coef_se_, model.intercept_se_], se, rtol=1e-6)


def test_predicted_std_is_the_delta_method_in_y_units(proportions):
    X, y, s = proportions
    y_user = 3.0 + 40.0 * y
    model = converged(X, y_user, s)
    theta = np.r_[model.coef_, model.intercept_]
    lo, hi = model.target_range_

    def mean(theta, x):
        return lo + (hi - lo) * expit(x @ theta[:-1] + theta[-1])

    Xn = X[:8]
    eps = 1e-6
    grad = np.column_stack(
        [
            (mean(theta + eps * e, Xn) - mean(theta - eps * e, Xn)) / (2 * eps)
            for e in np.eye(4)
        ]
    )
    expected = np.sqrt(np.einsum("ij,jk,ik->i", grad, model.coef_cov_, grad))
    y_pred, y_std = model.predict(Xn, return_std=True)
    assert_allclose(y_pred, mean(theta, Xn), rtol=1e-12)
    assert_allclose(y_std, expected, rtol=1e-6)


def test_target_scaling_leaves_coefficient_errors_unchanged(proportions):
    X, y, _ = proportions
    unit = converged(X, y, loss="log_loss", target_scaling=None)
    wide = converged(X, -5 + 20 * y, loss="log_loss", target_scaling=(-5, 15))
    assert_allclose(wide.coef_se_, unit.coef_se_, rtol=1e-6)
    assert_allclose(wide.intercept_se_, unit.intercept_se_, rtol=1e-6)
    assert_allclose(
        wide.predict(X[:5], return_std=True)[1],
        20 * unit.predict(X[:5], return_std=True)[1],
        rtol=1e-6,
    )


def test_multi_output_standard_errors_equal_separate_fits(proportions):
    X, y, _ = proportions
    Y = np.column_stack([y, 1 - y**2])
    both = converged(X, Y, loss="log_loss", target_scaling=None)
    assert both.coef_se_.shape == (2, 3)
    assert both.coef_cov_.shape == (2, 4, 4)
    _, std = both.predict(X[:5], return_std=True)
    for j in range(2):
        one = converged(X, Y[:, j], loss="log_loss", target_scaling=None)
        assert_allclose(both.coef_se_[j], one.coef_se_, rtol=1e-6)
        assert_allclose(both.intercept_se_[j], one.intercept_se_, rtol=1e-6)
        assert_allclose(std[:, j], one.predict(X[:5], return_std=True)[1], rtol=1e-6)


def test_sparse_and_float32_standard_errors(proportions):
    X, y, s = proportions
    dense = converged(X, y, s, loss="log_loss", target_scaling=None)
    csr = converged(sparse.csr_matrix(X), y, s, loss="log_loss", target_scaling=None)
    assert_allclose(csr.coef_cov_, dense.coef_cov_, rtol=1e-9)
    _, std = csr.predict(sparse.csr_matrix(X[:5]), return_std=True)
    assert_allclose(std, dense.predict(X[:5], return_std=True)[1], rtol=1e-9)
    f32 = SigmoidNeuronRegressor(
        learnrate="auto", epochs=3000, compute_inference=True, loss="log_loss"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # float32 weights
        f32.fit(X.astype(np.float32), y, sample_weight=s)
    assert_allclose(f32.coef_se_, dense.coef_se_, rtol=1e-3)
    y_pred, y_std = f32.predict(X[:5].astype(np.float32), return_std=True)
    assert y_pred.dtype == y_std.dtype == np.float32


def test_compute_inference_changes_no_weight(proportions):
    X, y, s = proportions
    plain = SigmoidNeuronRegressor(epochs=30, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Newton step"):
        model = SigmoidNeuronRegressor(
            epochs=30, random_state=0, compute_inference=True
        ).fit(X, y)
    assert_array_equal(model.coef_, plain.coef_)
    assert model.loss_curve_ == plain.loss_curve_
    assert plain.coef_se_ is None and plain.coef_cov_ is None


def test_singular_hessian_gives_nan_and_a_warning(proportions):
    X, y, _ = proportions
    Xd = np.column_stack([X, 2 * X[:, 0]])  # collinear columns
    with pytest.warns(UserWarning, match="singular"):
        model = SigmoidNeuronRegressor(
            learnrate="auto", epochs=200, compute_inference=True
        ).fit(Xd, y)
    assert np.all(np.isnan(model.coef_se_))
    assert np.all(np.isnan(model.predict(Xd[:3], return_std=True)[1]))


def test_return_std_needs_compute_inference(proportions):
    X, y, _ = proportions
    model = SigmoidNeuronRegressor(epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="compute_inference=True"):
        model.predict(X, return_std=True)
    model = converged(X, y, loss="log_loss")
    model.partial_fit(X, y)  # the SEs belonged to the weights before the step
    assert model.coef_se_ is None
    with pytest.raises(ValueError, match="compute_inference=True"):
        model.predict(X, return_std=True)


def test_the_convergence_check_measures_steps_in_the_weights_own_standard_errors():
    # weights count as frequencies: weights 4 are each record four times, and
    # the check's "standard errors" are those of the weights as given
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = expit(X @ [1.0, -0.5, 0.2]) + 0.1 * rng.standard_normal(200)
    model = SigmoidNeuronRegressor(epochs=3, compute_inference=True, random_state=0)
    messages = {}
    for name, fit_args in {
        "weights 4": (X, y, np.full(200, 4.0)),
        "repeated": (np.repeat(X, 4, axis=0), np.repeat(y, 4)),
    }.items():
        with pytest.warns(ConvergenceWarning) as caught:
            model.fit(*fit_args)
        messages[name] = [str(w.message) for w in caught]
    assert messages["weights 4"] == messages["repeated"]
