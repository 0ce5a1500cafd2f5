"""Array API: PyTorch, CuPy and array-api-strict arrays train where they live.

Every namespace and device that scikit-learn tests (``yield_namespace_device_
dtype_combinations``) runs here where it works: torch, CuPy and array-api-strict
skip when they are not installed, and a device skips unless it runs a tensor
on this machine (``skip_unless_device_works`` in ``conftest.py``; a CUDA build
of torch without a GPU driver skips its CUDA cases), then scikit-learn's own
``_array_api_for_tests`` skips what it does not support. The numpy path is the
reference: the same fit on numpy copies of the arrays.

Tolerances: float64 to 1e-10 (the namespaces sum X wᵀ and Dᵀ X in another
order than the numpy kernels, a few ulps per epoch, which hundreds of epochs
of a contracting descent keep at that level); float32 to about 1e-4 (the same
reordering at float32's 6e-8, over hundreds of epochs, and the auto step's
Gram matrix summed in another order).
"""

import re
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import (
    device as array_device,
)
from sklearn.utils._array_api import (
    get_namespace,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils._testing import _array_api_for_tests

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV
from sk_sigmoid_neuron._fit import make_source
from sk_sigmoid_neuron._kernels._array import ArrayKernel
from sk_sigmoid_neuron._namespace import to_numpy
from sk_sigmoid_neuron._source import InMemory

COMBINATIONS = list(yield_namespace_device_dtype_combinations())
IDS = [f"{ns}-{dev}-{dt}" for ns, dev, dt in COMBINATIONS]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """torch on one thread: these arrays are tiny, and torch's thread pool
    stalls for milliseconds per operation when another process holds a core."""
    try:
        import torch
    except ImportError:
        yield
        return
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def tolerance(dtype_name):
    return 1e-10 if dtype_name == "float64" else 1e-4


@pytest.fixture(params=COMBINATIONS, ids=IDS)
def space(request, skip_unless_device_works):
    """``(xp, device, dtype_name)`` of one namespace and device, or a skip."""
    namespace, device_name, dtype_name = request.param
    skip_unless_device_works(namespace, device_name)
    xp, device = _array_api_for_tests(namespace, device_name, dtype_name)
    if dtype_name is None:  # numpy, cupy: float64
        dtype_name = "float64"
    return xp, device, dtype_name


def data(n=300, d=6, n_outputs=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal((d, n_outputs or 1))
    Y = 3 * np.tanh(X @ w / np.sqrt(d)) + 0.1 * rng.standard_normal((n, n_outputs or 1))
    return X, Y[:, 0] if n_outputs is None else Y


def to_xp(a, xp, device, dtype_name=None):
    if a is None:
        return None
    a = np.asarray(a)
    if dtype_name is not None and a.dtype.kind == "f":
        a = a.astype(dtype_name)
    return xp.asarray(a, device=device)


def fit_both(space, params, X, y, sample_weight=None, **fit_kw):
    """The estimator fitted on numpy and on ``space``'s arrays."""
    xp, device, dtype_name = space
    X = X.astype(dtype_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SigmoidNeuronRegressor(random_state=0, **params).fit(
            X, y, sample_weight=sample_weight, **fit_kw
        )
        with sklearn.config_context(array_api_dispatch=True):
            model = SigmoidNeuronRegressor(random_state=0, **params).fit(
                to_xp(X, xp, device),
                to_xp(y, xp, device, dtype_name),
                sample_weight=to_xp(sample_weight, xp, device, dtype_name),
                **fit_kw,
            )
    return ref, model


def assert_lives_with(a, X):
    """``a`` is an array of X's namespace, on X's device."""
    with sklearn.config_context(array_api_dispatch=True):
        assert get_namespace(a)[0] is get_namespace(X)[0]
        assert array_device(a) == array_device(X)


def assert_same_fit(ref, model, dtype_name):
    tol = tolerance(dtype_name)
    assert model.n_iter_ == ref.n_iter_
    assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=tol, atol=tol)
    for name in ("coef_", "intercept_", "target_range_"):
        assert_allclose(
            to_numpy(getattr(model, name)), getattr(ref, name), rtol=tol, atol=tol
        )
    if ref.learnrate_ is None:  # solver="lbfgs" takes no step size
        assert model.learnrate_ is None
    else:
        assert model.learnrate_ == pytest.approx(ref.learnrate_, rel=tol)


CASES = {
    "default": ({}, {}),
    "log_loss": ({"loss": "log_loss"}, {}),
    "alpha": ({"alpha": 0.05, "learnrate": 1.0}, {}),
    "no_intercept": ({"fit_intercept": False}, {}),
    "tol": ({"tol": 1e-4, "n_iter_no_change": 5}, {}),
    "early_stopping": ({"early_stopping": True, "tol": 1e-5}, {}),
    "target_scaling": ({"target_scaling": (-5.0, 5.0), "learnrate": 2.0}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_predict_score_equal_the_numpy_path(space, case):
    params, _ = CASES[case]
    params = {"epochs": 300, **params}
    X, y = data()
    ref, model = fit_both(space, params, X, y)
    xp, device, dtype_name = space
    assert_same_fit(ref, model, dtype_name)
    X_xp = to_xp(X.astype(dtype_name), xp, device)
    with sklearn.config_context(array_api_dispatch=True):
        y_pred = model.predict(X_xp)
        score = model.score(X_xp, to_xp(y, xp, device, dtype_name))
    assert_lives_with(model.coef_, X_xp)
    assert_lives_with(y_pred, X_xp)
    tol = tolerance(dtype_name)
    assert_allclose(to_numpy(y_pred), ref.predict(X.astype(dtype_name)), atol=tol)
    assert isinstance(score, float)
    assert score == pytest.approx(ref.score(X.astype(dtype_name), y), abs=tol)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_lbfgs_computes_the_objective_in_the_namespace(space, loss):
    """solver="lbfgs": the objective and its gradient from the kernel's sums
    in the namespace; only the parameter vector goes through scipy."""
    if "solver" not in SigmoidNeuronRegressor().get_params():
        pytest.skip("no solver parameter")
    X, y = data()
    params = {"solver": "lbfgs", "loss": loss, "alpha": 1e-3, "tol": 1e-6}
    ref, model = fit_both(space, params, X, y)
    if space[2] == "float64":
        assert_same_fit(ref, model, space[2])
    else:
        # a gradient tolerance near float32's rounding: the two may stop an
        # iteration apart, at the same minimum
        assert_allclose(to_numpy(model.coef_), ref.coef_, atol=1e-3)
        assert_allclose(to_numpy(model.intercept_), ref.intercept_, atol=1e-3)


def test_multi_output_and_weights_with_zeros_equal_the_numpy_path(space):
    X, Y = data(n_outputs=3)
    rng = np.random.RandomState(1)
    s = rng.randint(0, 4, size=len(X)).astype(float)
    # x · w overflows where s = 0
    X[np.flatnonzero(s == 0)[:3]] = np.finfo(space[2]).max / 2
    ref, model = fit_both(space, {"epochs": 200, "learnrate": 1.0}, X, Y, s)
    assert_same_fit(ref, model, space[2])
    assert to_numpy(model.coef_).shape == (3, X.shape[1])
    # a record of weight 0 has no influence, even where x · w overflows
    keep = s > 0
    _, alone = fit_both(
        space, {"epochs": 200, "learnrate": 1.0}, X[keep], Y[keep], s[keep]
    )
    tol = tolerance(space[2])
    assert_allclose(to_numpy(alone.coef_), to_numpy(model.coef_), rtol=tol, atol=tol)


def test_inference_and_path_live_in_the_namespace(space):
    xp, device, dtype_name = space
    X, y = data()
    params = {"epochs": 100, "compute_inference": True, "store_path": True}
    ref, model = fit_both(space, params, X, y)
    X_xp = to_xp(X.astype(dtype_name), xp, device)
    tol = tolerance(dtype_name)
    for name in ("coef_se_", "intercept_se_", "coef_cov_", "coef_path_"):
        assert_lives_with(getattr(model, name), X_xp)
        # the standard errors divide by a Hessian: float32 weights move them more
        rel = tol if dtype_name == "float64" else 1e-2
        assert_allclose(
            to_numpy(getattr(model, name)), getattr(ref, name), rtol=rel, atol=rel
        )
    with sklearn.config_context(array_api_dispatch=True):
        staged = list(model.staged_predict(X_xp))
        y_pred, y_std = model.predict(X_xp, return_std=True)
    assert len(staged) == 100
    assert_lives_with(staged[-1], X_xp)
    assert_lives_with(y_std, X_xp)
    assert y_std.dtype == y_pred.dtype == X_xp.dtype
    for got, want in zip(staged, ref.staged_predict(X.astype(dtype_name)), strict=True):
        assert_allclose(to_numpy(got), want, atol=tol)
    assert_allclose(
        to_numpy(y_std),
        ref.predict(X.astype(dtype_name), return_std=True)[1],
        rtol=1e-2 if dtype_name == "float32" else tol,
        atol=tol,
    )


def test_warm_start_and_partial_fit_continue_from_the_namespace(space):
    xp, device, dtype_name = space
    X, y = data()
    Xd = X.astype(dtype_name)
    X_xp, y_xp = to_xp(Xd, xp, device), to_xp(y, xp, device, dtype_name)
    params = dict(epochs=50, learnrate=1.0, warm_start=True, random_state=0)
    ref = SigmoidNeuronRegressor(**params).fit(Xd, y).fit(Xd, y)
    with sklearn.config_context(array_api_dispatch=True):
        model = SigmoidNeuronRegressor(**params).fit(X_xp, y_xp).fit(X_xp, y_xp)
    assert_same_fit(ref, model, dtype_name)

    batches = np.array_split(np.arange(len(X)), 4)
    params = dict(learnrate="auto", target_scaling=(-4.0, 4.0), random_state=0)
    ref, model = SigmoidNeuronRegressor(**params), SigmoidNeuronRegressor(**params)
    for rows in batches:
        ref.partial_fit(Xd[rows], y[rows])
        with sklearn.config_context(array_api_dispatch=True):
            model.partial_fit(to_xp(Xd[rows], xp, device), to_xp(y[rows], xp, device))
    assert_lives_with(model.coef_, X_xp)
    assert_same_fit(ref, model, dtype_name)


@pytest.mark.filterwarnings("ignore:The sigmoid is saturated")
def test_float32_stays_float32_and_ints_take_the_widest_float(space):
    xp, device, dtype_name = space
    X, y = data(n=50)
    X_xp = to_xp(X.astype(dtype_name), xp, device)
    with sklearn.config_context(array_api_dispatch=True):
        model = SigmoidNeuronRegressor(epochs=5).fit(X_xp, to_xp(y, xp, device))
        assert model.coef_.dtype == X_xp.dtype
        assert model.predict(X_xp).dtype == X_xp.dtype
        X_int = xp.asarray(np.round(X * 10).astype(np.int32), device=device)
        model = SigmoidNeuronRegressor(epochs=5).fit(X_int, to_xp(y, xp, device))
        widest = xp.float32 if not _has_float64(xp, device) else xp.float64
        assert model.coef_.dtype == widest


def _has_float64(xp, device):
    from sklearn.utils._array_api import _max_precision_float_dtype

    return _max_precision_float_dtype(xp, device) == xp.float64


def test_arrays_stay_in_their_namespace_and_numpy_keeps_its_engines(space):
    xp, device, dtype_name = space
    if xp.__name__.endswith("numpy"):
        pytest.skip("numpy arrays train on the numpy paths")
    X, y = data(n=50)
    X_xp, y_xp = to_xp(X.astype(dtype_name), xp, device), to_xp(y, xp, device)
    est = SigmoidNeuronRegressor()
    with sklearn.config_context(array_api_dispatch=True):
        with make_source(est, X_xp, y_xp, None, reset=True) as source:
            assert isinstance(source, InMemory)
            assert source.namespace[0].__name__ == get_namespace(X_xp)[0].__name__
            source.set_targets(*np.array([[y.min()], [y.max()]]))
            source.split(None, None)
            with source.trainer(
                np.zeros((1, 6)),
                np.zeros(1),
                np.array([0.5]),
                loss="squared_error",
                alpha=0.0,
                fit_intercept=True,
            ) as kernel:
                assert isinstance(kernel, ArrayKernel)
                assert kernel.path == "array"
                assert_lives_with(kernel._coef, X_xp)
        # numpy and sparse X keep the numpy engines under dispatch
        for X_np in (X, sparse.csr_matrix(X)):
            with make_source(est, X_np, y, None, reset=True) as source:
                assert source.namespace is None


def test_the_kernel_sums_are_the_epoch_sums_written_plainly(space):
    """``sums()`` (the L-BFGS objective and gradient) at the current weights,
    against the rule written out in numpy; records of weight 0 count for
    nothing, even where their h overflows."""
    xp, device, dtype_name = space
    X, y = data(n=40, d=3)
    X[0] = 1e300 if dtype_name == "float64" else 1e30
    T = (np.tanh(y)[:, None] + 1) / 2
    s = np.linspace(0, 2, len(X))  # s[0] = 0
    W = np.array([[0.3, -0.2, 0.1], [1.0, 0.5, -0.5]])
    b = np.array([0.1, -0.3])
    with sklearn.config_context(array_api_dispatch=True):
        kernels = {
            loss: ArrayKernel(
                to_xp(X.astype(dtype_name), xp, device),
                to_xp(T, xp, device, dtype_name),
                to_xp(s, xp, device, dtype_name),
                np.array([0.5, 0.5]),
                loss=loss,
            )
            for loss in ("squared_error", "log_loss")
        }
    for loss, kernel in kernels.items():
        kernel.set_params(W, b)
        G, gb, lsum = kernel.sums()
        keep = s > 0
        H = X[keep] @ W.T + b
        Yh = 1 / (1 + np.exp(-H))
        t = T[keep]
        if loss == "squared_error":
            delta, ell = (t - Yh) * Yh * (1 - Yh), 0.5 * (t - Yh) ** 2
        else:
            delta, ell = t - Yh, np.logaddexp(0, H) - t * H
        sk = s[keep][:, None]
        tol = tolerance(dtype_name)
        assert_allclose(G, (sk * delta).T @ X[keep], rtol=tol * 10, atol=tol)
        assert_allclose(gb, (sk * delta).sum(axis=0), rtol=tol * 10, atol=tol)
        assert_allclose(lsum, (sk * ell).sum(axis=0), rtol=tol * 10, atol=tol)
        assert G.dtype == gb.dtype == lsum.dtype == np.float64
        # sums() does not step
        assert_array_equal(kernel.get_params()[0], W.astype(dtype_name))


def test_a_pipeline_with_a_scaler_runs_on_torch_tensors():
    torch = pytest.importorskip("torch")
    X, y = data()
    X_t, y_t = torch.asarray(X * 50 + 3), torch.asarray(y)
    with sklearn.config_context(array_api_dispatch=True):
        pipe = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(random_state=0))
        pipe.fit(X_t, y_t)
        y_pred = pipe.predict(X_t)
        score = pipe.score(X_t, y_t)
    assert isinstance(y_pred, torch.Tensor)
    assert isinstance(pipe[-1].coef_, torch.Tensor)
    ref = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(random_state=0))
    ref.fit(X * 50 + 3, y)
    assert_allclose(y_pred.numpy(), ref.predict(X * 50 + 3), atol=1e-10)
    assert score == pytest.approx(ref.score(X * 50 + 3, y), abs=1e-10)
    assert score > 0.9


def _error(fn):
    """The error's type and message, but for what names the library: the
    dtype (scikit-learn writes ``torch.float32`` where numpy has
    ``dtype('float32')``, and y keeps float32 there) and an array's repr."""
    with pytest.raises((ValueError, TypeError)) as info:
        fn()
    message = re.sub(r"array=.*?\.\n", "array=...\n", str(info.value), flags=re.S)
    message = re.sub(r"(dtype\('|\w+\.)(float)(32|64)('\))?", r"\2", message)
    return info.type, message


def test_bad_input_gets_the_numpy_errors(space):
    xp, device, dtype_name = space
    X, y = data(n=30, d=4)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    y_nan = y.copy()
    y_nan[2] = np.inf
    cases = [
        ("nan in X", X_nan, y, None),
        ("inf in y", X, y_nan, None),
        ("1-D X", X[:, 0], y, None),
        ("short y", X, y[:-1], None),
        ("negative weight", X, y, -np.ones(len(y))),
    ]
    for what, Xc, yc, sc in cases:

        def numpy_fit(Xc=Xc, yc=yc, sc=sc):
            SigmoidNeuronRegressor().fit(Xc.astype(dtype_name), yc, sample_weight=sc)

        def xp_fit(Xc=Xc, yc=yc, sc=sc):
            with sklearn.config_context(array_api_dispatch=True):
                SigmoidNeuronRegressor().fit(
                    to_xp(Xc, xp, device, dtype_name),
                    to_xp(yc, xp, device, dtype_name),
                    sample_weight=to_xp(sc, xp, device, dtype_name),
                )

        assert _error(xp_fit) == _error(numpy_fit), what

    with sklearn.config_context(array_api_dispatch=True):
        model = SigmoidNeuronRegressor(epochs=3).fit(
            to_xp(X, xp, device, dtype_name), to_xp(y, xp, device)
        )
        got = _error(lambda: model.predict(to_xp(X[:, :3], xp, device, dtype_name)))
        nan = _error(lambda: model.predict(to_xp(X_nan, xp, device, dtype_name)))
    ref = SigmoidNeuronRegressor(epochs=3).fit(X.astype(dtype_name), y)
    assert got == _error(lambda: ref.predict(X[:, :3].astype(dtype_name)))
    assert nan == _error(lambda: ref.predict(X_nan.astype(dtype_name)))


def test_predict_needs_the_namespace_of_fit():
    xp, device = _array_api_for_tests("array_api_strict", "CPU_DEVICE", "float64")
    X, y = data(n=30, d=4)
    with sklearn.config_context(array_api_dispatch=True):
        model = SigmoidNeuronRegressor(epochs=3).fit(xp.asarray(X), xp.asarray(y))
        with pytest.raises(ValueError, match="must use the same namespace"):
            model.predict(X)
    # without dispatch the attributes convert: numpy in, numpy out
    assert isinstance(model.predict(X), np.ndarray)


def test_without_dispatch_tensors_train_as_numpy_as_before():
    torch = pytest.importorskip("torch")
    X, y = data()
    model = SigmoidNeuronRegressor(random_state=0, epochs=50).fit(
        torch.asarray(X), torch.asarray(y)
    )
    ref = SigmoidNeuronRegressor(random_state=0, epochs=50).fit(X, y)
    assert isinstance(model.coef_, np.ndarray)
    assert_array_equal(model.coef_, ref.coef_)
    assert isinstance(model.predict(torch.asarray(X)), np.ndarray)


def test_the_cv_bank_trains_in_the_namespace_and_equals_the_numpy_search(space):
    xp, device, dtype_name = space
    X, y = data(n=200, d=4)
    s = np.random.RandomState(2).randint(0, 3, size=len(X)).astype(float)
    Xd = X.astype(dtype_name)
    params = dict(learnrates=[0.3, 1.0, 3.0], epochs=[5, 40, 100], cv=3, random_state=0)
    for scoring, weights in ((None, None), ("neg_mean_squared_error", s)):
        ref = SigmoidNeuronRegressorCV(scoring=scoring, **params).fit(
            Xd, y, sample_weight=weights
        )
        with sklearn.config_context(array_api_dispatch=True):
            X_xp = to_xp(Xd, xp, device)
            model = SigmoidNeuronRegressorCV(scoring=scoring, **params).fit(
                X_xp,
                to_xp(y, xp, device, dtype_name),
                sample_weight=to_xp(weights, xp, device, dtype_name),
            )
            y_pred = model.predict(X_xp)
        tol = tolerance(dtype_name)
        assert model.best_params_ == ref.best_params_
        assert_allclose(
            model.cv_results_["mean_test_score"],
            ref.cv_results_["mean_test_score"],
            rtol=tol,
            atol=tol,
        )
        assert_lives_with(model.coef_, X_xp)
        assert_lives_with(y_pred, X_xp)
        assert_allclose(to_numpy(y_pred), ref.predict(Xd), atol=tol)


def test_intercept_of_one_output_is_a_scalar_or_a_0d_array(space):
    # as Ridge: a numpy scalar for numpy, a 0-d array of X's namespace else
    xp, device, dtype_name = space
    X, y = data(n=40, d=3)
    with sklearn.config_context(array_api_dispatch=True):
        X_xp = to_xp(X.astype(dtype_name), xp, device)
        model = SigmoidNeuronRegressor(epochs=5, random_state=0)
        model.fit(X_xp, to_xp(y, xp, device, dtype_name))
    assert model.intercept_.shape == ()
    assert model.target_range_.shape == (2,)
    ref = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X.astype(dtype_name), y)
    assert float(model.intercept_) == pytest.approx(
        float(ref.intercept_), rel=tolerance(dtype_name)
    )


def _mixed_inputs():
    torch = pytest.importorskip("torch")
    xps = _array_api_for_tests("array_api_strict", "CPU_DEVICE", "float64")[0]
    X, y = data(n=60, d=3)
    s = np.linspace(0.5, 2.0, len(y))
    return [
        ("X strict, y torch", xps.asarray(X), torch.asarray(y), None),
        ("X torch, y strict", torch.asarray(X), xps.asarray(y), None),
        ("X torch, weights strict", torch.asarray(X), y, xps.asarray(s)),
        ("X strict, y and weights numpy", xps.asarray(X), y, s),
    ], (X, y, s)


def test_mixed_namespaces_follow_x_as_ridge_does():
    # y and the weights follow X into its namespace (scikit-learn's rule):
    # wherever Ridge fits, this estimator fits, in X's namespace, and gives
    # the numpy fit of the same numbers
    from sklearn.linear_model import Ridge

    cases, (X, y, s) = _mixed_inputs()
    for name, Xc, yc, sc in cases:
        with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Ridge's solver notice
            Ridge(solver="svd").fit(Xc, yc, sample_weight=sc)
            model = SigmoidNeuronRegressor(epochs=20, random_state=0)
            model.fit(Xc, yc, sample_weight=sc)
        assert_lives_with(model.coef_, Xc)
        weights = None if sc is None else s
        ref = SigmoidNeuronRegressor(epochs=20, random_state=0)
        ref.fit(X, y, sample_weight=weights)
        assert_allclose(to_numpy(model.coef_), ref.coef_, rtol=1e-10, err_msg=name)


def test_tensors_that_require_grad_train_as_ridge_does():
    # Ridge fits tensors that require grad; so does this estimator (training
    # is not differentiated through: the fitted weights are plain tensors)
    torch = pytest.importorskip("torch")
    from sklearn.linear_model import Ridge

    X, y = data(n=60, d=3)
    s = np.linspace(0.5, 2.0, len(y))
    grad = {"requires_grad": True}
    X_t = torch.tensor(X, **grad)
    y_t, s_t = torch.tensor(y, **grad), torch.tensor(s, **grad)
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Ridge(solver="svd").fit(X_t, y_t, sample_weight=s_t)
        model = SigmoidNeuronRegressor(epochs=20, random_state=0)
        model.fit(X_t, y_t, sample_weight=s_t)
        y_pred = model.predict(X_t)
    ref = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y, sample_weight=s)
    assert isinstance(model.coef_, torch.Tensor) and not model.coef_.requires_grad
    assert_allclose(model.coef_.numpy(), ref.coef_, rtol=1e-10)
    assert_allclose(y_pred.detach().numpy(), ref.predict(X), rtol=1e-10)
