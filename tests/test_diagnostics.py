"""No silent failures: a fit that went wrong says so, with the cause and the fix.

Each case is one of issues 15's and 23's, on scikit-learn's bundled diabetes
data (standardised, or as it ships where the case is unscaled data); the
healthy fits at the end must stay silent. The diagnostics read sparse rows as
they are, dask chunks where they live and arrays of other namespaces on their
device: the same messages as for numpy.
"""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from scipy import sparse
from scipy.special import expit
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import (
    SigmoidNeuronRegressor,
    TrainingWarning,
    _diagnostics,
    _kernels,
    _source,
)


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


def minmax(y):
    return (y - y.min()) / (y.max() - y.min())


def test_log_loss_on_unscaled_features_says_saturated_and_standardise(diabetes):
    X, Xs, y = diabetes
    model = SigmoidNeuronRegressor(loss="log_loss", random_state=0, store_path=True)
    (message,) = training_warnings(lambda: model.fit(X, y))
    assert "saturated" in message and "at the start of training" in message
    assert f"X has values up to {np.abs(X).max():.3g}" in message
    assert "StandardScaler" in message
    # the training loss in the last epoch (at the weights it started from),
    # and that of predicting the targets' mean (the log loss of a constant
    # prediction is least at the mean)
    t = minmax(y)
    h = X @ model.coef_path_[-2] + model.intercept_path_[-2]
    end = np.mean(np.logaddexp(0, h) - t * h)
    mean = t.mean()
    constant = -(mean * np.log(mean) + (1 - mean) * np.log(1 - mean))
    assert f"ends at {end:.3g}, above the {constant:.3g}" in message
    assert end > constant and model.score(X, y) < 0
    # standardised, the same fit beats the constant and is silent
    standardised = SigmoidNeuronRegressor(loss="log_loss", random_state=0)
    assert training_warnings(lambda: standardised.fit(Xs, y)) == []


@pytest.mark.parametrize("alpha", [10.0, 100.0])
def test_collapse_caused_by_alpha_names_alpha_and_its_scale(diabetes, alpha):
    _, Xs, y = diabetes
    model = SigmoidNeuronRegressor(alpha=alpha, random_state=0, store_path=True)
    (message,) = training_warnings(lambda: model.fit(Xs, y))
    assert "collapsed to (nearly) one value" in message
    assert f"alpha={alpha}" in message and "cross-validation" in message
    # in the last epoch (at the weights it started from): the predictions'
    # spread against the targets', and the squared error's (Gauss-Newton)
    # curvature along the weights, Σ (ŷ(1 - ŷ))² (x·w)² / n / ||w||²
    t, w = minmax(y), model.coef_path_[-2]
    y_hat = expit(Xs @ w + model.intercept_path_[-2])
    assert y_hat.std() < 0.05 * t.std()
    along = np.mean((y_hat * (1 - y_hat)) ** 2 * (Xs @ w) ** 2) / (w @ w)
    assert f"({along:.2g})" in message and f"alpha below {along:.2g}" in message
    # a penalty below that curvature shrinks without collapsing: silent
    small = SigmoidNeuronRegressor(alpha=0.1 * along, random_state=0)
    assert training_warnings(lambda: small.fit(Xs, y)) == []


def test_a_far_target_under_minmax_is_named_with_the_fix(diabetes):
    _, Xs, y = diabetes
    y = y.copy()
    y[0] = 1e6
    model = SigmoidNeuronRegressor(random_state=0)
    (message,) = training_warnings(lambda: model.fit(Xs, y))
    assert "a value far from the others, 1e+06" in message
    q25, q75 = np.quantile(y, [0.25, 0.75], method="inverted_cdf")
    assert f"[{q25:.6g}, {q75:.6g}]" in message
    assert "target_scaling=(low, high)" in message
    assert "TransformedTargetRegressor" in message
    # the fit it warns about: the other records are predicted far off
    rest = model.predict(Xs[1:])
    assert np.mean((rest - y[1:]) ** 2) > 100 * np.var(y[1:])
    # with the range of the others given, the far value is the user's choice
    bounds = SigmoidNeuronRegressor(target_scaling=(0.0, 1e6), random_state=0)
    assert not any(
        "far from" in m for m in training_warnings(lambda: bounds.fit(Xs, y))
    )


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("case", ["unscaled", "log_loss", "alpha", "outlier"])
def test_sparse_x_gets_the_messages_of_dense_x(diabetes, fmt, case):
    X, Xs, y = diabetes
    params = {"random_state": 0}
    if case == "log_loss":
        params["loss"] = "log_loss"
    if case in ("alpha", "outlier"):
        X = Xs
    if case == "alpha":
        params["alpha"] = 100.0
    if case == "outlier":
        y = y.copy()
        y[0] = 1e6
    dense = training_warnings(lambda: SigmoidNeuronRegressor(**params).fit(X, y))
    Xo = sparse.csr_matrix(X).asformat(fmt)
    assert len(dense) == 1
    assert (
        training_warnings(lambda: SigmoidNeuronRegressor(**params).fit(Xo, y)) == dense
    )


def test_sparse_x_is_never_densified(monkeypatch):
    # 200 x 10**6: the diagnostics' sample of the past took 1.6 GB of it
    rng = np.random.default_rng(0)
    n, d = 200, 10**6
    X = sparse.csr_matrix(
        (
            rng.standard_normal(5 * n),
            rng.integers(0, d, 5 * n),
            np.arange(0, 5 * n + 1, 5),
        ),
        shape=(n, d),
    )
    y = rng.uniform(size=n)

    def densify(self, *args, **kwargs):
        raise AssertionError("sparse X densified")

    for cls in (
        sparse.csr_matrix,
        sparse.csc_matrix,
        sparse.csr_array,
        sparse.csc_array,
    ):
        monkeypatch.setattr(cls, "toarray", densify)
        monkeypatch.setattr(cls, "todense", densify)
    for learnrate in ("auto", 0.5):
        for Xo in (X, X.tocsc()):
            SigmoidNeuronRegressor(learnrate=learnrate, epochs=3).fit(Xo, y)


def test_diagnostics_on_dask_chunks_as_in_memory(diabetes):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, _, y = diabetes
    params = {"loss": "log_loss", "random_state": 0}
    want = training_warnings(lambda: SigmoidNeuronRegressor(**params).fit(X, y))
    with dask.config.set(scheduler="threads"):
        Xd, yd = da.from_array(X, chunks=(100, 10)), da.from_array(y, chunks=100)
        got = training_warnings(lambda: SigmoidNeuronRegressor(**params).fit(Xd, yd))
    assert len(want) == 1 and got == want


def test_diagnostics_in_another_namespace_as_in_numpy(diabetes):
    xp = pytest.importorskip("array_api_strict")
    X, Xs, y = diabetes
    y = y.copy()
    y[0] = 1e6
    for features, target in ((X, diabetes[2]), (Xs, y)):
        model = SigmoidNeuronRegressor(random_state=0)
        want = training_warnings(lambda m=model, a=features, b=target: m.fit(a, b))
        with sklearn.config_context(array_api_dispatch=True):
            got = training_warnings(
                lambda m=model, a=features, b=target: m.fit(
                    xp.asarray(a), xp.asarray(b)
                )
            )
        assert len(want) == 1 and got == want


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


def proportions():
    """Proportions in [0, 1] around a sigmoid mean."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3)) * [1.0, 2.0, 0.5]
    mean = expit(X @ [1.0, -0.5, 0.8] + 0.2)
    return X, np.clip(mean + 0.15 * rng.normal(size=300), 0.0, 1.0)


def test_a_grid_search_over_learnrates_stays_silent():
    X, y = load_diabetes(return_X_y=True)
    L, Y = load_linnerud(return_X_y=True)
    grid = {"learnrate": [0.1, 0.3, 1.0, 3.0, 10.0]}
    for features, target in [
        (StandardScaler().fit_transform(X), y),
        (StandardScaler().fit_transform(L), Y),
        proportions(),
    ]:
        search = GridSearchCV(SigmoidNeuronRegressor(random_state=0), grid, cv=5)
        fit = search.fit
        assert training_warnings(lambda f=fit, a=features, b=target: f(a, b)) == []


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_the_last_epochs_pass_spares_the_diagnostics_one(
    diabetes, backend, monkeypatch
):
    # the diagnostics describe the weights the last epoch started from (as the
    # loss curve does): from that epoch's h where the engine kept it, else
    # from a pass of their own at those weights; the same warning either way
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(_kernels, "BACKEND", backend)
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)  # a unit that keeps h
    monkeypatch.setattr(_kernels._base, "FORWARD_SHARE", 1 / 8)  # of 10 columns
    _, Xs, y = diabetes
    passes = []
    summary = _source._part_summary
    monkeypatch.setattr(
        _source, "_part_summary", lambda *a, **k: passes.append(1) or summary(*a, **k)
    )
    far = y.copy()
    far[0] = 1e6  # squashed targets
    collapse = SigmoidNeuronRegressor(alpha=10.0, random_state=0)
    got = []
    for share in (1 / 8, 0.0):  # h kept, then not
        monkeypatch.setattr(_kernels._base, "FORWARD_SHARE", share)
        passes.clear()
        squashed = training_warnings(
            lambda: SigmoidNeuronRegressor(random_state=0).fit(Xs, far)
        )
        assert len(squashed) == 1 and "far from the others" in squashed[0]
        assert len(passes) == (0 if share else 1)
        # the collapse by alpha needs the loss's curvature along w, which h
        # alone does not give (x · w = h - b loses digits in float32): a pass
        passes.clear()
        collapsed = training_warnings(lambda: collapse.fit(Xs, y))
        assert len(collapsed) == 1 and "alpha=10.0" in collapsed[0]
        assert len(passes) == 1
        got.append((squashed, collapsed))
    assert got[0] == got[1]


@pytest.mark.parametrize("kind", ["float32", "sparse", "zero weights"])
def test_sums_from_h_equal_those_from_x(kind):
    # the kept h of an epoch's pass stands for the product of X with the
    # weights: the same sums (but the curvature, which needs x · w itself)
    rng = np.random.default_rng(0)
    X, T, s = rng.normal(size=(3000, 30)), rng.uniform(size=(3000, 1)), None
    coef, b = 0.3 * rng.normal(size=(1, 30)), np.array([0.2])
    if kind == "float32":
        X, T = X.astype(np.float32), T.astype(np.float32)
    if kind == "sparse":
        X = sparse.random(3000, 30, density=0.2, format="csr", random_state=0)
    if kind == "zero weights":  # their h overflows, and counts for nothing
        s = rng.uniform(size=3000)
        s[::5] = 0
        X[::5] = 1e300
    with np.errstate(all="ignore"):
        h = np.asarray(X @ coef.T.astype(X.dtype)) + b.astype(X.dtype)
    from_x = _diagnostics.record_sums(X, T, s, coef, b, "log_loss")
    from_h = _diagnostics.record_sums(None, T, s, coef, b, "log_loss", h=h)
    assert set(from_x) - set(from_h) == {"curvature"}
    rtol = 1e-6 if kind == "float32" else 1e-12
    for key, value in from_h.items():
        assert_allclose(value, from_x[key], rtol=rtol, err_msg=key)


def test_weights_restored_by_early_stopping_get_a_pass(diabetes, monkeypatch):
    # the last epoch's h describes the weights that epoch started from, not
    # those early stopping restored: the diagnostics make a pass at these
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)  # a unit that keeps h
    monkeypatch.setattr(_kernels._base, "FORWARD_SHARE", 1 / 8)
    _, Xs, y = diabetes
    passes = []
    summary = _source._part_summary
    monkeypatch.setattr(
        _source, "_part_summary", lambda *a, **k: passes.append(1) or summary(*a, **k)
    )
    for learnrate, restored in ((20.0, True), (0.5, False)):
        passes.clear()
        model = SigmoidNeuronRegressor(
            learnrate=learnrate, epochs=60, early_stopping=True, n_iter_no_change=3,
            tol=None, random_state=0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(Xs, y)
        last = len(model.validation_loss_curve_)
        best = int(np.argmin(model.validation_loss_curve_)) + 1
        assert (best < last) == restored
        assert len(passes) == (1 if restored else 0)
