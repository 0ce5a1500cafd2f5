"""Determinism: the same bits whatever the threads or the block size.

The epoch kernel sums over records per leaf of ``LEAF_ROWS`` consecutive rows
and adds the leaves in a fixed order (see ``_kernels``), so neither the number of
threads nor the number of leaves per cache block may change a bit of the
result. The numpy and compiled (numba) paths sum in different orders (BLAS
blocking against fused per-row SIMD loops), so they agree to rounding only:
each sum is exact to about ``n_samples * eps`` relative, which after a few
well-conditioned epochs leaves the coefficients within 1e-12 of each other.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from threadpoolctl import threadpool_limits

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV, _kernels
from sk_sigmoid_neuron._kernels import LEAF_ROWS, PARALLEL_ELEMENTS

# above SMALL_ELEMENTS (n * d > 2**16): the numpy array engine and the leaf
# path of numba; n is not a multiple of LEAF_ROWS, so the last leaf is short
N_SAMPLES, N_FEATURES, N_NEURONS = 16 * LEAF_ROWS + 77, 24, 3


def kernel_data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(dtype)
    T = rng.random((N_SAMPLES, N_NEURONS)).astype(dtype)
    sw = rng.random(N_SAMPLES).astype(dtype)
    coef = rng.normal(0, 1 / np.sqrt(N_FEATURES), (N_NEURONS, N_FEATURES))
    return X, T, sw, coef.astype(dtype), np.zeros(N_NEURONS, dtype=dtype)


def run_kernel(X, T, sw, coef, intercept, *, loss, path, epochs=5, **kwargs):
    """coef, intercept and losses after ``epochs`` epochs, with checks that
    the kernel took the intended path and thread count."""
    learnrate = np.array([0.5, 2.0, 8.0])
    with _kernels.make_kernel(
        X, T, sw, learnrate, fit_intercept=True, loss=loss, alpha=1e-3, **kwargs
    ) as kernel:
        assert kernel.path == path
        if kwargs.get("n_threads") is not None:
            assert kernel.n_threads == kwargs["n_threads"]
        kernel.set_params(coef, intercept)
        losses = kernel.run(epochs)
        return (*kernel.get_params(), losses)


def assert_identical(a, b):
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        assert_array_equal(x, y, strict=True)


@pytest.fixture
def backend(monkeypatch):
    """Set ``_kernels.BACKEND`` for one test."""

    def set_backend(name):
        monkeypatch.setattr(_kernels, "BACKEND", name)

    return set_backend


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_numpy_path_same_bits_for_any_threads_and_block_size(backend, dtype, loss):
    backend("numpy")
    data = kernel_data(dtype)
    first = run_kernel(*data, loss=loss, path="array", n_threads=1, block_rows=256)
    for n_threads, block_rows in [(2, 256), (1, 1024), (2, 768), (2, None), (1, None)]:
        again = run_kernel(
            *data,
            loss=loss,
            path="array",
            n_threads=n_threads,
            block_rows=block_rows,
        )
        assert_identical(again, first)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_numba_path_same_bits_for_any_threads(backend, dtype, loss, order):
    """Both formulations: by rows (C-ordered X) and by columns (F-ordered)."""
    backend("numba")
    X, *rest = kernel_data(dtype)
    X = np.asarray(X, order=order)
    first = run_kernel(X, *rest, loss=loss, path="numba", n_threads=1)
    for n_threads in (2, 3, None):
        again = run_kernel(X, *rest, loss=loss, path="numba", n_threads=n_threads)
        assert_identical(again, first)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t_cols", [1, 11])
def test_compiled_bank_same_bits_for_any_threads_and_order(backend, dtype, t_cols):
    """11 neurons in groups of 5 and 6 (a bank of learning rates, or of
    outputs), on 1, 2 and 3 threads, for C- and F-ordered X."""
    backend("numba")
    X, T, sw, coef, _ = kernel_data(dtype)
    k = 11
    T = np.random.default_rng(3).random((len(X), t_cols)).astype(dtype)
    coef = np.tile(coef[:1], (k, 1))
    learnrate = np.geomspace(0.1, 20, k)
    runs = []
    for order in ("C", "F"):
        for n_threads in (1, 2, 3, None):
            Xo = np.asarray(X, order=order)
            with _kernels.make_kernel(
                Xo, T, sw, learnrate, n_threads=n_threads
            ) as kernel:
                assert kernel.path == "bank"
                assert np.diff(kernel._bounds).tolist() == [5, 6]
                if n_threads is not None:
                    assert kernel.n_threads == min(n_threads, 2)
                kernel.set_params(coef, np.zeros(k, dtype))
                losses = kernel.run(5)
                runs.append((*kernel.get_params(), losses))
    for again in runs[1:]:
        assert_identical(again, runs[0])


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_numpy_and_numba_agree_to_rounding(backend, loss):
    data = kernel_data(np.float64)
    backend("numpy")
    numpy_result = run_kernel(*data, loss=loss, path="array", epochs=20)
    backend("numba")
    numba_result = run_kernel(*data, loss=loss, path="numba", epochs=20)
    # different summation orders: equal to 1e-12 (see the module docstring)
    for x, y in zip(numpy_result, numba_result, strict=True):
        assert_allclose(x, y, rtol=1e-12, atol=1e-12 * np.abs(y).max())


def _recording_make_kernel(threads):
    """``make_kernel``, recording the path and threads of each kernel it makes."""
    make_kernel = _kernels.make_kernel

    def make_and_record(*args, **kwargs):
        kernel = make_kernel(*args, **kwargs)
        threads.append((kernel.path, kernel.n_threads))
        return kernel

    return make_and_record


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_fit_same_bits_with_one_or_two_blas_threads(backend, monkeypatch, name):
    """A fit large enough for threads gives the same coefficients under a
    threadpoolctl limit of 1 and of 2 threads."""
    backend(name)
    threads = []
    monkeypatch.setattr(_kernels, "make_kernel", _recording_make_kernel(threads))
    rng = np.random.default_rng(1)
    # n * d above the size at which the kernel starts threads
    n_features = 16
    n_samples = PARALLEL_ELEMENTS // n_features + 77
    X = rng.standard_normal((n_samples, n_features))
    y = np.tanh(X[:, :3].sum(axis=1)) + 0.1 * rng.standard_normal(n_samples)
    fits = []
    for limit in (1, 2):
        with threadpool_limits(limits=limit, user_api="blas"):
            model = SigmoidNeuronRegressor(epochs=3, random_state=0).fit(X, y)
        fits.append((model.coef_, np.atleast_1d(model.intercept_)))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    path = "numba" if name == "numba" else "array"
    assert threads == [(path, 1), (path, min(2, cpus))]
    assert_identical(fits[0], fits[1])


def test_fit_is_reproducible_with_a_fixed_random_state():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 4))
    y = X[:, 0] - X[:, 1]
    params = {
        "learnrate": 2.0,
        "epochs": 500,
        "random_state": 3,  # the start and the validation split
        "early_stopping": True,
        "tol": 1e-4,
        "n_iter_no_change": 3,
    }
    a = SigmoidNeuronRegressor(**params).fit(X, y)
    b = SigmoidNeuronRegressor(**params).fit(X, y)
    assert_identical(
        (a.coef_, np.array(a.loss_curve_), np.array(a.validation_loss_curve_)),
        (b.coef_, np.array(b.loss_curve_), np.array(b.validation_loss_curve_)),
    )


@pytest.mark.parametrize("kind", ["dense", "float32", "sparse", "multi output", "CV"])
def test_predict_from_several_threads_at_once(kind):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 8))
    y = np.tanh(X[:, 0]) + 0.1 * rng.standard_normal(2000)
    if kind == "multi output":
        y = np.column_stack([y, -y])
    if kind == "CV":
        model = SigmoidNeuronRegressorCV(learnrates=[1.0], epochs=[20], cv=2)
    else:
        model = SigmoidNeuronRegressor(epochs=20, random_state=0)
    model.fit(X, y)
    if kind == "float32":
        X = X.astype(np.float32)
    if kind == "sparse":
        X[np.abs(X) < 1] = 0
        X = sparse.csr_matrix(X)
    chunks = [X[i : i + 250] for i in range(0, 2000, 250)] * 4
    serial = [model.predict(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(model.predict, chunks))
    for a, b in zip(parallel, serial, strict=True):
        assert_identical((a,), (b,))
