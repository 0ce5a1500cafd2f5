"""The epoch kernel: every path against the rule written one record at a time.

Paths (the unit's ``path``, which ``make_kernel`` picks): numpy "small" (X
copied with the bias folded in), the array engine on numpy ("array": cache
blocks of leaves, threads), "sparse" (scipy), the compiled "numba" path
(small data: epochs in compiled calls of bounded work; large data: leaves on
threads) and the compiled "bank" (groups of neurons). Thresholds are patched
so that small data takes every path.
"""

import math
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import expit

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels
from sk_sigmoid_neuron._kernels import (
    _array,
    _base,
    _compiled,
    _small,
    apply_step,
    make_kernel,
)


def reference(X, T, s, learnrate, W, b, epochs, loss, alpha, fit_intercept):
    """The rule of SPEC.md for k neurons, one record and one neuron at a time.

    ``T`` has one column (shared by the neurons) or one per neuron. Returns
    the weights, the biases and the loss at the start of each epoch.
    """
    X = np.asarray(X.toarray() if sparse.issparse(X) else X, dtype=np.float64)
    n, d = X.shape
    k = len(learnrate)
    s = np.ones(n) if s is None else np.asarray(s, dtype=np.float64)
    total = math.fsum(s)
    W = np.array(W, dtype=np.float64)
    b = np.array(b, dtype=np.float64)
    curve = []
    for _ in range(epochs):
        step_w, step_b, ell = np.zeros((k, d)), np.zeros(k), np.zeros(k)
        for i in range(n):
            for q in range(k):
                t = float(T[i, 0 if T.shape[1] == 1 else q])
                h = float(np.dot(X[i], W[q])) + b[q]
                y = float(expit(h))
                if loss == "squared_error":
                    delta = (t - y) * y * (1.0 - y)
                    loss_i = 0.5 * (t - y) ** 2
                else:
                    delta = t - y
                    loss_i = float(np.logaddexp(0.0, h)) - t * h
                step_w[q] += s[i] * delta * X[i]
                step_b[q] += s[i] * delta
                ell[q] += s[i] * loss_i
        curve.append(ell / total + 0.5 * alpha * (W**2).sum(axis=1))
        lr = np.asarray(learnrate, dtype=np.float64)
        W = W * (1.0 - lr * alpha)[:, None] + (lr / total)[:, None] * step_w
        if fit_intercept:
            b = b + lr / total * step_b
    return W, b, np.array(curve)


SETTINGS = {
    "rule": dict(
        loss="squared_error", weighted=False, k=1, t_cols=1, intercept=True, alpha=0.0
    ),
    "bank": dict(
        loss="squared_error", weighted=True, k=3, t_cols=1, intercept=False, alpha=0.01
    ),
    "outputs-log": dict(
        loss="log_loss", weighted=True, k=3, t_cols=3, intercept=True, alpha=0.1
    ),
}


def problem(n=700, d=5, k=1, t_cols=1, weighted=False, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    T = rng.uniform(size=(n, t_cols)).astype(dtype)
    s = None
    if weighted:
        s = rng.uniform(0.1, 3.0, size=n).astype(dtype)
        s[3] = 0.0
    learnrate = np.array([0.5, 2.0, 7.0][:k])
    W = (0.5 * rng.normal(size=(k, d))).astype(dtype)
    b = (0.2 * rng.normal(size=k)).astype(dtype)
    return X, T, s, learnrate, W, b


def run_kernel(X, T, s, learnrate, W, b, epochs, loss, alpha, intercept, **kw):
    with make_kernel(
        X, T, s, learnrate, fit_intercept=intercept, loss=loss, alpha=alpha,
        epochs=epochs, **kw,
    ) as kernel:  # fmt: skip
        kernel.set_params(W, b)
        losses = kernel.run(epochs)
        coef, intercept_ = kernel.get_params()
        return coef, intercept_, losses, kernel.path


# the module that owns each threshold the paths below patch
OWNER = {
    "SMALL_ELEMENTS": _kernels,
    "NUMBA_MAX_NEURONS": _kernels,
    "NUMBA_COPY_ELEMENTS": _compiled,
    "COPY_ELEMENTS": _array,
    "BANK_GROUP_NEURONS": _compiled,
}
# every path, how to reach it on small data and the path the kernel reports:
# name: (backend, X format, kernel options, thresholds to patch, path)
ONE_THREAD = {"n_threads": 1, "block_rows": 256}
TWO_THREADS = {"n_threads": 2, "block_rows": 512}
TWO_THREADS_256 = {"n_threads": 2, "block_rows": 256}
# no copy of X at all
LARGE = {"SMALL_ELEMENTS": 0, "NUMBA_COPY_ELEMENTS": 0, "COPY_ELEMENTS": 0}
MEDIUM = {"SMALL_ELEMENTS": 0}  # numba: C-ordered X by columns of a copy
# numba: any k is a bank, each neuron a group (so that two threads run groups)
BANK = {"SMALL_ELEMENTS": 0, "NUMBA_MAX_NEURONS": 0, "BANK_GROUP_NEURONS": 1}
PATHS = {
    "numpy-small": ("numpy", "C", {}, {}, "small"),
    "numpy-small-F": ("numpy", "F", {}, {}, "small"),
    "numpy-array-1": ("numpy", "C", ONE_THREAD, LARGE, "array"),
    "numpy-array-2": ("numpy", "C", TWO_THREADS, LARGE, "array"),
    "numpy-array-F": ("numpy", "F", TWO_THREADS_256, LARGE, "array"),
    "numpy-array-copy": ("numpy", "C", TWO_THREADS, MEDIUM, "array"),
    "sparse-csr": ("auto", "csr", {}, {}, "sparse"),
    "sparse-csc": ("auto", "csc", {}, {}, "sparse"),
    "sparse-csr-numpy": ("numpy", "csr", {}, {}, "sparse"),
    "numba-small": ("numba", "C", {}, {}, "numba"),
    "numba-medium-1": ("numba", "C", dict(n_threads=1), MEDIUM, "numba"),
    "numba-medium-2": ("numba", "C", dict(n_threads=2), MEDIUM, "numba"),
    "numba-large-1": ("numba", "C", dict(n_threads=1), LARGE, "numba"),
    "numba-large-2": ("numba", "C", dict(n_threads=2), LARGE, "numba"),
    "numba-large-F": ("numba", "F", dict(n_threads=2), LARGE, "numba"),
    "numba-bank-1": ("numba", "C", ONE_THREAD, BANK, "bank"),
    "numba-bank-2": ("numba", "C", TWO_THREADS, BANK, "bank"),
    "numba-bank-F": ("numba", "F", TWO_THREADS_256, BANK, "bank"),
}  # fmt: skip


def expected_path(name, loss="squared_error"):
    """The path PATHS[name] takes (for either loss)."""
    return PATHS[name][4]


def as_format(X, fmt):
    if fmt == "F":
        return np.asfortranarray(X)
    if fmt in ("csr", "csc"):
        return sparse.csr_matrix(X).asformat(fmt)
    return np.ascontiguousarray(X)


def enter_path(mp, name):
    """Set the backend (and thresholds) for a path of PATHS on monkeypatch ``mp``;
    return (X format, kernel options)."""
    backend, fmt, options, thresholds, _ = PATHS[name]
    mp.setattr(_kernels, "BACKEND", backend)
    for threshold, value in thresholds.items():  # small data, larger paths
        mp.setattr(OWNER[threshold], threshold, value)
    return fmt, options


@pytest.fixture
def take_path(monkeypatch):
    return lambda name: enter_path(monkeypatch, name)


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_matches_the_per_record_reference(path, setting, take_path):
    cfg = SETTINGS[setting]
    X, T, s, lr, W, b = problem(
        k=cfg["k"], t_cols=cfg["t_cols"], weighted=cfg["weighted"]
    )
    fmt, options = take_path(path)
    args = (lr, W, b, 4, cfg["loss"], cfg["alpha"], cfg["intercept"])
    coef, intercept, losses, taken = run_kernel(
        as_format(X, fmt), T, s, *args, **options
    )
    assert taken == expected_path(path, cfg["loss"])
    W_ref, b_ref, curve_ref = reference(X, T, s, *args)
    assert_allclose(coef, W_ref, rtol=1e-10, atol=1e-14)
    assert_allclose(intercept, b_ref, rtol=1e-10, atol=1e-14)
    assert_allclose(losses, curve_ref, rtol=1e-10)
    if not cfg["intercept"]:
        assert_array_equal(intercept, b)


@pytest.mark.parametrize("path", list(PATHS))
def test_the_last_epoch_keeps_its_pass(path, take_path, monkeypatch):
    # kept for the diagnostics: the weights the last epoch started from and
    # each record's h = x · w + b; the same bits as without. The bank's fused
    # epochs keep no h, nor does the smallest data's unit (a pass at the end
    # costs it less than keeping h in every epoch of a fit that stops by tol)
    monkeypatch.setattr(_kernels._base, "FORWARD_SHARE", 1 / 8)  # h of 16 columns
    X, T, s, lr, W, b = problem(d=16, k=2, t_cols=2, weighted=True)
    fmt, options = take_path(path)
    Xf = as_format(X, fmt)
    args = ("squared_error", 0.0, True)
    plain = run_kernel(Xf, T, s, lr, W, b, 3, *args, **options)
    W2, b2, *_ = run_kernel(Xf, T, s, lr, W, b, 2, *args, **options)
    with make_kernel(
        Xf, T, s, lr, loss="squared_error", epochs=3, **options
    ) as kernel:  # fmt: skip
        kernel.set_params(W, b)
        kernel.keep_forward = True
        losses = kernel.run(3)
        coef, intercept = kernel.get_params()
        last = kernel.forward
    assert_array_equal(coef, plain[0])
    assert_array_equal(intercept, plain[1])
    assert_array_equal(losses, plain[2])
    assert_array_equal(last.coef, W2)
    assert_array_equal(last.intercept, b2)
    if kernel.path in ("bank", "small"):
        assert last.H is None
        return
    kept = s > 0  # a kernel may leave out the records of weight 0
    rows = kept if last.H.shape[0] < len(X) else np.ones(len(X), bool)
    h = X @ W2.T + b2
    assert_allclose(np.asarray(last.H)[kept[rows]], h[kept], rtol=1e-12, atol=1e-12)
    assert_array_equal(np.asarray(last.T), T[rows])


def test_another_namespace_keeps_the_last_pass(monkeypatch):
    xp = pytest.importorskip("array_api_strict")
    from sk_sigmoid_neuron._namespace import to_numpy

    monkeypatch.setattr(_kernels._base, "FORWARD_SHARE", 1 / 8)
    X, T, s, lr, W, b = problem(d=16, k=2, t_cols=2, weighted=True)
    data = (xp.asarray(X), xp.asarray(T), xp.asarray(s))
    with make_kernel(*data, lr, epochs=2) as kernel:
        kernel.set_params(W, b)
        kernel.keep_forward = True
        kernel.run(2)
        last = kernel.forward
    assert kernel.backend == "array_api_strict"
    h = X @ last.coef.T + last.intercept
    kept = s > 0
    assert_allclose(to_numpy(last.H)[kept], h[kept], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d, kept", [(100, True), (99, False)])
def test_h_is_kept_only_within_a_hundredth_of_x(d, kept, monkeypatch):
    # memory: the kept h (one value per record and neuron) beside X
    monkeypatch.setattr(_kernels, "BACKEND", "numpy")
    X, T, s, lr, W, b = problem(n=1000, d=d)
    with make_kernel(X, T, s, lr, epochs=2) as kernel:
        kernel.set_params(W, b)
        kernel.keep_forward = True
        kernel.run(2)
    assert kernel.path == "array"
    assert (kernel.forward.H is not None) == kept


def test_a_long_descent_matches_the_reference_on_every_path(take_path):
    # 60 epochs at a large learning rate: errors would compound if any path
    # computed a different rule
    X, T, s, lr, W, b = problem(n=300, d=4, weighted=True)
    args = (np.array([4.0]), W, b, 60, "squared_error", 0.0, True)
    W_ref, b_ref, curve_ref = reference(X, T, s, *args)
    for name in (
        "numpy-small",
        "numpy-array-2",
        "sparse-csr",
        "numba-small",
        "numba-medium-2",
        "numba-large-2",
        "numba-bank-2",
    ):
        with pytest.MonkeyPatch.context() as mp:
            fmt, options = enter_path(mp, name)
            coef, intercept, losses, _ = run_kernel(
                as_format(X, fmt), T, s, *args, **options
            )
        assert_allclose(coef, W_ref, rtol=1e-10, err_msg=name)
        assert_allclose(intercept, b_ref, rtol=1e-10, err_msg=name)
        assert_allclose(losses, curve_ref, rtol=1e-10, err_msg=name)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-1",
        "sparse-csr",
        "numba-small",
        "numba-large-1",
        "numba-bank-1",
    ],
)
def test_saturated_records_give_no_step_even_with_huge_x_and_learnrate(path, take_path):
    # every record saturated: δ = 0 exactly, so the rule leaves w where it is;
    # no path may turn lr / S * x (which overflows) into inf * 0 = nan
    X = np.array([[1e306, 1.0], [-1e306, 2.0], [3e305, 0.0]])
    T = np.array([[0.0], [1.0], [0.5]])
    W, b = np.array([[0.3, -0.2]]), np.zeros(1)
    fmt, options = take_path(path)
    args = (np.array([1e10]), W, b, 3, "squared_error", 0.0, True)
    coef, intercept, losses, _ = run_kernel(as_format(X, fmt), T, None, *args)
    W_ref, b_ref, curve_ref = reference(X, T, None, *args)
    assert_array_equal(W_ref, W)  # the reference does not move either
    assert_array_equal(coef, W)
    assert_array_equal(intercept, b)
    assert_allclose(losses, curve_ref, rtol=1e-12)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-small-F",
        "numpy-array-copy",
        "numba-small",
        "numba-medium-1",
    ],
)
def test_units_that_copy_x_leave_the_records_of_weight_0_out(path, take_path):
    # a unit that copies X (the small ones, numba's copy of X.T, the array
    # unit's of X with records of weight 0) trains on
    # the records of positive weight only (a CV fold's held-out records, early
    # stopping's validation ones): the bits of the same unit given only those
    fmt, options = take_path(path)
    X, T, s, lr, W, b = problem(n=2000, d=7, k=3, t_cols=3, weighted=True)
    s[::4] = 0.0
    kept = s > 0
    args = (lr, W, b, 5, "squared_error", 0.01, True)
    with make_kernel(as_format(X, fmt), T, s, lr, epochs=5, **options) as kernel:
        assert kernel.n_samples == kept.sum()
    full = run_kernel(as_format(X, fmt), T, s, *args, **options)
    part = run_kernel(as_format(X[kept], fmt), T[kept], s[kept], *args, **options)
    assert full[3] == part[3] == expected_path(path)
    for a, b_ in zip(full[:3], part[:3], strict=True):
        assert_array_equal(a, b_)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-copy",
        "numpy-array-1",
        "numba-small",
        "numba-large-1",
    ],
)
@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_weights_of_one_power_of_two_give_the_unweighted_bits(path, weight, take_path):
    # a CV fold's training records weigh 1, early stopping's 1 or 0.5 (once
    # scaled): the units that copy X train weights of 1 unweighted, and
    # every unit reaches the same bits (scaling by a power of two is exact)
    fmt, options = take_path(path)
    X, T, _, lr, W, b = problem(n=2000, d=7, k=3, t_cols=3)
    args = (lr, W, b, 5, "squared_error", 0.01, True)
    plain = run_kernel(as_format(X, fmt), T, None, *args, **options)
    s = np.full(2000, weight)
    same = run_kernel(as_format(X, fmt), T, s, *args, **options)
    assert plain[3] == same[3] == expected_path(path)
    for a, b_ in zip(plain[:3], same[:3], strict=True):
        assert_array_equal(a, b_)


@pytest.mark.parametrize(
    "backend, thresholds",
    [("numpy", LARGE), ("numba", MEDIUM), ("numba", LARGE), ("numba", BANK)],
)
def test_threads_block_rows_and_memory_order_never_change_a_bit(
    backend, thresholds, monkeypatch
):
    monkeypatch.setattr(_kernels, "BACKEND", backend)
    for threshold, value in thresholds.items():
        monkeypatch.setattr(OWNER[threshold], threshold, value)
    X, T, s, lr, W, b = problem(n=2000, d=7, k=3, t_cols=3, weighted=True)
    runs = []
    for order in ("C", "F"):
        for n_threads in (1, 2):
            for block_rows in (256, 768, None):
                coef, intercept, losses, path = run_kernel(
                    as_format(X, order),
                    T,
                    s,
                    lr,
                    W,
                    b,
                    5,
                    "squared_error",
                    0.01,
                    True,
                    n_threads=n_threads,
                    block_rows=block_rows,
                )
                runs.append(((order, n_threads, block_rows), coef, intercept, losses))
    assert path == {"numpy": "array", "numba": "numba"}[backend] or (
        thresholds is BANK and path == "bank"
    )
    first = runs[0]
    for key, coef, intercept, losses in runs[1:]:
        if backend == "numba" and thresholds is LARGE and key[0] != first[0][0]:
            # the large numba path sums by rows for C and by columns for F:
            # the same up to summation order
            assert_allclose(coef, first[1], rtol=1e-12)
            continue
        assert_array_equal(coef, first[1], err_msg=str(key))
        assert_array_equal(intercept, first[2], err_msg=str(key))
        assert_array_equal(losses, first[3], err_msg=str(key))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("t_cols", [1, 7])
@pytest.mark.parametrize("order", ["C", "F"])
def test_bank_path_matches_the_numpy_array_path(weighted, t_cols, order, monkeypatch):
    # the same rule; the bank's exp (_numba._exp) and its sums differ from the
    # array engine's in the last bit, which a descent of 40 epochs at
    # learning rates up to 30 does not amplify beyond 1e-12
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)
    X, T, s, _, W, b = problem(n=1300, d=6, t_cols=t_cols, weighted=weighted)
    lr = np.geomspace(0.1, 30, 7)
    W, b = np.tile(W, (7, 1)), np.tile(b, 7)
    runs = {}
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(_kernels, "BACKEND", backend)
        args = (T, s, lr, W, b, 40, "squared_error", 0.01, True)
        runs[backend] = run_kernel(as_format(X, order), *args)
    assert (runs["numpy"][3], runs["numba"][3]) == ("array", "bank")
    for a, b_ in zip(runs["numpy"][:3], runs["numba"][:3], strict=True):
        assert_allclose(b_, a, rtol=1e-12, atol=1e-15)


def test_bank_groups_are_fixed_by_the_number_of_neurons(monkeypatch):
    # groups of at most BANK_GROUP_NEURONS neurons, as even as possible, the
    # same for any thread count (which only decides who runs which group)
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)
    X, T, *_ = problem(n=600, d=3)
    for k, sizes in [(7, [7]), (8, [8]), (9, [4, 5]), (16, [8, 8]), (17, [5, 6, 6])]:
        for n_threads in (1, 2, 5):
            with make_kernel(X, T, None, np.ones(k), n_threads=n_threads) as kernel:
                assert kernel.path == "bank"
                assert np.diff(kernel._bounds).tolist() == sizes
                assert kernel.n_threads == min(n_threads, len(sizes))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_bank_calls_of_bounded_work_give_the_same_bits(n_threads, monkeypatch):
    # the bank splits a long run into compiled calls of BANK_CALL_ELEMENTS
    # multiply-adds (so that Ctrl-C is handled soon): no bit changes
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)
    X, T, s, _, W, b = problem(n=900, d=5, t_cols=1, weighted=True)
    lr = np.geomspace(0.1, 30, 10)
    W, b = np.tile(W, (10, 1)), np.tile(b, 10)
    args = (T, s, lr, W, b, 9, "squared_error", 0.01, True)
    whole = run_kernel(X, *args, n_threads=n_threads)
    monkeypatch.setattr(_compiled, "BANK_CALL_ELEMENTS", 2 * 900 * 5 * 10)
    calls = []
    from sk_sigmoid_neuron._kernels import _numba

    original = _numba.bank_epochs

    def counted(*a):
        calls.append(a[-1].shape[0])
        return original(*a)

    monkeypatch.setattr(_numba, "bank_epochs", counted)
    pieces = run_kernel(X, *args, n_threads=n_threads)
    assert whole[3] == pieces[3] == "bank"
    assert sorted(set(calls)) == [1, 2] and sum(calls) == 9 * n_threads
    for a, b_ in zip(whole[:3], pieces[:3], strict=True):
        assert_array_equal(a, b_)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_numba_small_path_calls_of_bounded_work_give_the_same_bits(loss, monkeypatch):
    # small data runs its epochs in compiled calls of NUMBA_CALL_ELEMENTS
    # multiply-adds (so that Ctrl-C is handled soon): no bit changes
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    X, T, s, lr, W, b = problem(n=300, d=5, k=3, t_cols=3, weighted=True)
    args = (T, s, lr, W, b, 9, loss, 0.01, True)
    whole = run_kernel(X, *args)
    monkeypatch.setattr(_compiled, "NUMBA_CALL_ELEMENTS", 2 * 300 * 5 * 3)  # 2 epochs
    calls = []
    from sk_sigmoid_neuron._kernels import _numba

    original = _numba.run_epochs

    def counted(*a):
        calls.append(a[6].shape[0])  # the losses of the call
        return original(*a)

    monkeypatch.setattr(_numba, "run_epochs", counted)
    pieces = run_kernel(X, *args)
    assert whole[3] == pieces[3] == "numba"
    assert calls == [2, 2, 2, 2, 1]
    for a, b_ in zip(whole[:3], pieces[:3], strict=True):
        assert_array_equal(a, b_)


def test_one_blas_thread_is_shared_by_overlapping_uses(monkeypatch):
    # the BLAS limit is process-wide: uses that overlap in time (folds on
    # joblib's threading backend, each fit's kernel) set it once and restore
    # it once, after the last one leaves, whatever the order they leave in
    events = []

    class Limiter:
        def restore_original_limits(self):
            events.append("restore")

    class Controller:
        def limit(self, limits, user_api):
            events.append(("limit", limits, user_api))
            return Limiter()

    monkeypatch.setattr(_base, "_controller", Controller)
    first, second = _base.one_blas_thread(), _base.one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to enter leaves first
    assert events == [("limit", 1, "blas")]
    second.__exit__(None, None, None)
    assert events == [("limit", 1, "blas"), "restore"]
    with _base.one_blas_thread(), _base.one_blas_thread():
        pass
    assert events[2:] == [("limit", 1, "blas"), "restore"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_compiled_exp_is_within_one_ulp(dtype):
    # the bank's exp against the exact value (from long double): within 1 ulp
    # (see below) over the whole range, subnormal results within one unit of the
    # smallest subnormal, inf past overflow, 0 past underflow, NaN for NaN
    numba = pytest.importorskip("numba")
    from sk_sigmoid_neuron._kernels import _numba as nb

    finfo = np.finfo(dtype)
    top = float(np.log(finfo.max))
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-1.05 * top, 1.05 * top, 200_000),
            rng.uniform(-2, 2, 100_000),
            np.linspace(-1.06 * top, -0.98 * top, 20_001),  # underflow, subnormals
            np.linspace(0.99 * top, 1.01 * top, 2_001),  # overflow
            [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0],
        ]
    ).astype(dtype)
    exp = nb._exp

    @numba.njit(fastmath={"contract"})
    def exp_all(a, constants):  # a loop as the vectorised passes run it
        for i in range(a.shape[0]):
            a[i] = exp(a[i], constants)

    got = x.copy()
    exp_all(got, nb.exp_constants(dtype))
    assert got.dtype == dtype
    # one ulp where the compiled code fuses multiply-adds (x86-64 with FMA,
    # ARM64), 1.25 where each product and sum is rounded
    assembly = exp_all.inspect_asm(exp_all.signatures[0])
    bound = 1.0 if any(op in assembly for op in ("vfmadd", "fmla", "fmadd")) else 1.25
    exact = np.exp(x.astype(np.longdouble))
    with np.errstate(over="ignore"):
        rounded = exact.astype(dtype)
    assert_array_equal(np.isnan(got), np.isnan(x))
    assert_array_equal(np.isinf(got), np.isinf(rounded))
    normal = np.isfinite(rounded) & (rounded >= finfo.tiny)
    ulps = np.abs(got[normal] - exact[normal]) / np.spacing(rounded[normal])
    assert ulps.max() <= bound, ulps.max()
    tiny = np.isfinite(rounded) & ~normal
    assert tiny.sum() > 1000
    assert np.abs(got[tiny] - rounded[tiny]).max() <= finfo.smallest_subnormal


def test_numpy_small_path_same_bits_for_any_blas_threads(monkeypatch):
    # a product this large is split over threads by OpenBLAS, which changes
    # its sums (seen for 10,000 x 50): the kernel keeps BLAS on one thread
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(_kernels, "BACKEND", "numpy")
    monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 1 << 20)
    X, T, s, lr, W, b = problem(n=10_000, d=50, k=3, t_cols=1)
    runs = []
    for limit in (1, 2):
        with threadpool_limits(limits=limit, user_api="blas"):
            runs.append(run_kernel(X, T, s, lr, W, b, 10, "squared_error", 0.0, True))
    assert runs[0][3] == "small"
    for a, b_ in zip(runs[0][:3], runs[1][:3], strict=True):
        assert_array_equal(a, b_)


def test_numba_small_path_ignores_memory_order(monkeypatch):
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    X, T, s, lr, W, b = problem(n=300, d=6, k=2, t_cols=2)
    args = (T, s, lr, W, b, 10, "log_loss", 0.0, True)
    c_order = run_kernel(np.ascontiguousarray(X), *args)
    f_order = run_kernel(np.asfortranarray(X), *args)
    assert c_order[3] == f_order[3] == "numba"
    for a, b_ in zip(c_order[:3], f_order[:3], strict=True):
        assert_array_equal(a, b_)


@pytest.mark.parametrize("big", [False, True])
def test_numpy_and_numba_differ_only_by_summation_order(big, monkeypatch):
    if big:
        monkeypatch.setattr(_kernels, "SMALL_ELEMENTS", 0)
    X, T, s, lr, W, b = problem(n=1500, d=9, k=3, t_cols=1, weighted=True)
    args = (T, s, lr, W, b, 30, "squared_error", 0.05, True)
    out = {}
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(_kernels, "BACKEND", backend)
        out[backend] = run_kernel(X, *args, n_threads=2)
    assert out["numba"][3] == "numba" and out["numpy"][3] != "numba"
    for a, b_ in zip(out["numpy"][:3], out["numba"][:3], strict=True):
        assert_allclose(a, b_, rtol=1e-12)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-2",
        "sparse-csr",
        "numba-small",
        "numba-medium-2",
        "numba-large-2",
        "numba-bank-2",
    ],
)
def test_bank_equals_separate_single_neuron_runs(path, take_path):
    # k learning rates on one shared target column, as the CV estimator's bank
    X, T, s, lr, W, b = problem(n=600, d=6, k=3, t_cols=1, weighted=True)
    W[:] = W[0]  # the same start for every learning rate
    b[:] = b[0]
    fmt, options = take_path(path)
    Xf = as_format(X, fmt)
    bank = run_kernel(Xf, T, s, lr, W, b, 25, "squared_error", 0.02, True, **options)
    for q in range(3):
        one = run_kernel(
            Xf,
            T,
            s,
            lr[q : q + 1],
            W[q : q + 1],
            b[q : q + 1],
            25,
            "squared_error",
            0.02,
            True,
            **options,
        )
        assert_allclose(bank[0][q], one[0][0], rtol=1e-12)
        assert_allclose(bank[1][q], one[1][0], rtol=1e-12)
        assert_allclose(bank[2][:, q], one[2][:, 0], rtol=1e-12)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-2",
        "sparse-csc",
        "numba-small",
        "numba-medium-2",
        "numba-large-2",
        "numba-bank-2",
    ],
)
def test_epochs_in_pieces_equal_one_run(path, take_path):
    # what partial_fit, tol and the CV checkpoints rely on
    X, T, s, lr, W, b = problem(n=600, d=6, k=2, t_cols=2, weighted=True)
    fmt, options = take_path(path)
    Xf = as_format(X, fmt)
    with make_kernel(Xf, T, s, lr, loss="log_loss", alpha=0.1, **options) as one:
        one.set_params(W, b)
        losses = one.run(12)
    with make_kernel(Xf, T, s, lr, loss="log_loss", alpha=0.1, **options) as parts:
        parts.set_params(W, b)
        pieces = np.vstack([parts.run(m) for m in (1, 5, 0, 6)])
    assert_array_equal(pieces, losses)
    assert_array_equal(parts.coef_aug, one.coef_aug)


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-2",
        "sparse-csr",
        "numba-small",
        "numba-medium-2",
        "numba-large-2",
        "numba-bank-2",
    ],
)
def test_float32_stays_float32(path, take_path):
    X, T, s, lr, W, b = problem(n=900, d=6, k=2, t_cols=1, weighted=True)
    fmt, options = take_path(path)
    X32 = as_format(X.astype(np.float32), fmt)
    args = (T.astype(np.float32), s.astype(np.float32), lr)
    init = (W.astype(np.float32), b.astype(np.float32), 20, "squared_error", 0.01)
    with make_kernel(X32, *args, loss=init[3], alpha=init[4], **options) as kernel:
        kernel.set_params(*init[:2])
        losses = kernel.run(init[2])
        coef, intercept = kernel.get_params()
        # every buffer the kernel holds has X's dtype (no float64 work arrays)
        for name, value in vars(kernel).items():
            for a in value if isinstance(value, list) else [value]:
                if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                    assert a.dtype == np.float32, name
    assert coef.dtype == intercept.dtype == np.float32
    W_ref, b_ref, curve_ref = reference(X32, T, s, lr, *init, True)
    assert_allclose(coef, W_ref, rtol=2e-4, atol=1e-5)
    assert_allclose(losses, curve_ref, rtol=2e-4)


def traced_peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "path",
    [
        "numpy-small",
        "numpy-array-1",
        "sparse-csr",
        "numba-small",
        "numba-medium-2",
        "numba-large-2",
        "numba-bank-1",
    ],
)
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_float32_epochs_make_no_float64_temporaries(path, loss, take_path):
    # NumPy 2 promotes float32 arrays met by a float64 scalar or array to
    # float64. The epochs' temporaries in float32 are half those in float64
    # only if none of them is float64.
    X, T, s, lr, W, b = problem(n=16_000, d=4, k=2, t_cols=2, weighted=True)
    fmt, options = take_path(path)
    if "block_rows" in options:  # blocks whose temporaries outweigh the rest
        options = dict(options, block_rows=1024)
    peaks = {}
    for dtype in (np.float64, np.float32):
        Xd = as_format(X.astype(dtype), fmt)
        kernel = make_kernel(
            Xd, T.astype(dtype), s.astype(dtype), lr, loss=loss, alpha=0.1, **options
        )
        with kernel:
            kernel.set_params(W, b)
            kernel.run(2)  # warm-up
            peaks[dtype] = traced_peak(lambda k=kernel: k.run(7))
        assert kernel.path == expected_path(path, loss)
    assert peaks[np.float32] <= 0.5 * peaks[np.float64] + 16384, peaks
    # steady-state epochs allocate nothing in proportion to n: the temporaries
    # of a block (array), nothing (numba), a bounded history of errors
    # (small); only scipy's sparse products allocate their results
    kind = expected_path(path, loss)
    if kind in ("array", "bank", "numba"):
        assert peaks[np.float64] < 8 * len(X)  # less than one float64 column
    elif kind == "small":
        assert peaks[np.float64] <= 2 * 8 * _small.SMALL_HISTORY + 65536


def test_compiled_float32_work_is_typed_float32():
    # the compiled engine's work, compiled afresh for float32 data: no
    # variable may be float64 (a float64 literal would promote the rest)
    import io

    import numba

    from sk_sigmoid_neuron._kernels import _numba as nb

    n, d, k = 300, 5, 2
    rng = np.random.default_rng(0)
    f4 = np.float32
    X = rng.normal(size=(n, d)).astype(f4)
    T = rng.uniform(size=(n, k)).astype(f4)
    s = rng.uniform(size=n).astype(f4)
    W = rng.normal(size=(k, d)).astype(f4)
    b = np.zeros(k, f4)
    data = nb.make_data(T, np.arange(k), s, f4)
    sums = (np.empty((k, d), f4), np.empty(k, f4), np.empty(k, f4))
    rows = numba.njit(nb._leaf_rows.py_func)
    cols = numba.njit(nb._leaf_cols.py_func)
    errors = numba.njit(fastmath={"contract"})(nb._errors.py_func)
    dot = numba.njit(fastmath={"reassoc"})(nb._dot.py_func)
    XT = np.ascontiguousarray(X.T)
    bufs = tuple(np.empty(n, f4) for _ in range(4))
    for loss in (nb.SQUARED_ERROR, nb.LOG_LOSS):
        for Hk in (np.empty((0, k), f4), np.empty((n, k), f4)):  # h kept or not
            rows(X, data, W, b, loss, 0, n, *sums, bufs, Hk)
            cols(XT, data, W, b, loss, 0, n, *sums, bufs, Hk)
        for weighted in (False, True):
            errors(X[:, 0].copy(), T[:, 0].copy(), s, weighted, loss, *bufs[:2], data)
    dot(X[0], W[0], f4(0))
    bank = numba.njit(nb.bank_epochs.py_func)
    coef_aug = np.hstack([W, b[:, None]])
    update = nb.Update(np.full(k, 0.1, f4), np.ones(k, f4), True, 0.0, float(n))
    bounds = np.array([0, 1, k])
    # targets and weights by group (as the bank unit lays them out)
    Tg = np.concatenate([T[:, a:z].ravel() for a, z in ((0, 1), (1, k))])
    Sg = np.concatenate([np.repeat(s, z - a) for a, z in ((0, 1), (1, k))])
    bank_data = nb.make_data(Tg, data.tcol, Sg, f4)
    for colmajor, X2 in ((False, X), (True, XT)):
        bank(X2, colmajor, bank_data, coef_aug, update, nb.SQUARED_ERROR, bounds,
             0, 2, 128, np.empty((2, k)))  # fmt: skip
    assert coef_aug.dtype == f4
    sparse_errors = numba.njit(nb.sparse_errors.py_func)
    for weighted in (False, True):
        t_data = nb.make_data(T[:, 0].copy(), data.tcol, s if weighted else None, f4)
        sparse_errors(X[:, 0].copy(), b[0], nb.LOG_LOSS, t_data, *bufs[:2])
    fns = (rows, cols, errors, dot, bank, sparse_errors)
    for fn in fns:
        text = io.StringIO()
        fn.inspect_types(file=text)
        assert ":: float64" not in text.getvalue(), fn.py_func.__name__


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_data_is_never_copied(backend, order, dtype, monkeypatch):
    monkeypatch.setattr(_kernels, "BACKEND", backend)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 40)).astype(dtype)  # above SMALL_ELEMENTS
    X = as_format(X, order)
    T = rng.uniform(size=(40_000, 1)).astype(dtype)

    def train():
        with make_kernel(X, T, None, np.array([0.5]), n_threads=2) as kernel:
            kernel.run(3)
            return kernel.path

    assert traced_peak(train) < 0.1 * X.nbytes


def test_fit_and_predict_do_not_copy_X():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 100))
    y = X[:, 0] + 0.1 * rng.normal(size=20_000)
    for Xo in (X, np.asfortranarray(X), X.astype(np.float32)):
        model = SigmoidNeuronRegressor(epochs=3, random_state=0)
        assert traced_peak(lambda m=model, Xo=Xo: m.fit(Xo, y)) < 0.25 * Xo.nbytes
        assert traced_peak(lambda m=model, Xo=Xo: m.predict(Xo)) < 0.25 * Xo.nbytes


def test_chunk_sums_add_up_to_an_epoch():
    # the dask path: each chunk's sums by its own engine, added, then the step
    X, T, s, lr, W, b = problem(n=900, d=5, k=3, t_cols=3, weighted=True)
    coef_aug = np.column_stack([W, b])
    chunks = [slice(0, 250), slice(250, 611), slice(611, 900)]
    sums = []
    for c in chunks:
        with make_kernel(X[c], T[c], s[c], lr, loss="log_loss") as kernel:
            kernel.set_params(W, b)
            sums.append(kernel.sums())
    G, gb, lsum = (sum(parts) for parts in zip(*sums, strict=True))
    step, decay = lr / s.sum(), 1 - lr * 0.1
    apply_step(None, coef_aug, G, gb, step, decay, True)
    W_ref, b_ref, curve_ref = reference(X, T, s, lr, W, b, 1, "log_loss", 0.1, True)
    assert_allclose(coef_aug[:, :-1], W_ref, rtol=1e-12)
    assert_allclose(coef_aug[:, -1], b_ref, rtol=1e-12)
    penalty = 0.5 * 0.1 * (W**2).sum(axis=1)
    assert_allclose(lsum / s.sum() + penalty, curve_ref[0], rtol=1e-12)


def test_backend_switch(monkeypatch):
    X, T, s, lr, W, b = problem(n=100, d=3)
    monkeypatch.setattr(_kernels, "BACKEND", "numpy")
    assert _kernels.active_backend() == "numpy"
    assert make_kernel(X, T, s, lr).path == "small"
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    assert _kernels.active_backend() == "numba"
    assert make_kernel(X, T, s, lr).path == "numba"
    # not contiguous: the numpy path, whatever the backend
    Xs = np.repeat(X, 2, axis=1)[:, ::2]
    assert make_kernel(Xs, T, s, lr).path == "small"
    monkeypatch.setattr(_kernels, "BACKEND", "fast")
    with pytest.raises(ValueError, match="BACKEND must be"):
        make_kernel(X, T, s, lr)


def test_bad_block_rows_is_a_clear_error():
    X, T, s, lr, W, b = problem(n=100, d=3)
    with pytest.raises(ValueError, match="multiple of 256"):
        make_kernel(X, T, s, lr, block_rows=300)


def test_the_package_works_without_numba():
    # numba made unimportable before the package is imported
    code = """
import sys
sys.modules["numba"] = None
import numpy as np
from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels
rng = np.random.default_rng(0)
X = rng.normal(size=(3000, 30))
y = X @ rng.normal(size=30)
for Xi in (X[:200, :5], X, np.asfortranarray(X)):
    model = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(Xi, y[: len(Xi)])
    assert np.all(np.isfinite(model.predict(Xi)))
assert _kernels.active_backend() == "numpy"
_kernels.BACKEND = "numba"
try:
    _kernels.make_kernel(X, y[:, None], None, np.array([0.5]))
except ImportError:
    print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_one_neuron_compiled_pass_equals_the_numpy_one(
    fmt, dtype, weighted, monkeypatch
):
    # one neuron, squared error: the elementwise work between scipy's two
    # products is compiled when numba imports, and gives the numpy result
    pytest.importorskip("numba")
    X, T, s, lr, W, b = problem(n=500, d=6, weighted=weighted, dtype=dtype)
    Xs = as_format(X, fmt)
    runs = {}
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(_kernels, "BACKEND", backend)
        args = (T.astype(dtype), s, lr, W, b, 6, "squared_error", 0.0, True)
        with make_kernel(Xs, *args[:3]) as kernel:
            assert (kernel.path, kernel.backend) == ("sparse", backend)
        runs[backend] = run_kernel(Xs, *args)
        assert runs[backend][0].dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    for a, b_ in zip(runs["numpy"][:3], runs["numba"][:3], strict=True):
        assert_allclose(b_, a, rtol=rtol, atol=rtol * 1e-3)


def test_sparse_fits_that_numba_cannot_serve_do_not_import_it():
    # several outputs on sparse X: scipy and numpy only, however large
    code = (
        "import sys, numpy as np, scipy.sparse as sp\n"
        "from sk_sigmoid_neuron import SigmoidNeuronRegressor as R, _kernels\n"
        "_kernels.COMPILE_WORK = 0\n"
        "X = sp.random(300, 20, density=0.2, format='csr', random_state=0)\n"
        "y = np.random.default_rng(0).uniform(size=(300, 2))\n"
        "R(epochs=3).fit(X, y)\n"
        "R(epochs=3, loss='log_loss').fit(X, y)\n"
        "print('numba' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_numba_loads_only_when_the_work_repays_it():
    # not with the package, not for a small fit; for a fit whose work reaches
    # COMPILE_WORK; then for every fit of the process, small ones too
    code = """
import sys
import numpy as np
import sk_sigmoid_neuron
from sk_sigmoid_neuron import SigmoidNeuronRegressor as R, _kernels
print('numba' in sys.modules)
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 10))
y = X[:, 0]
R(epochs=100, learnrate=0.5).fit(X, y)
print('numba' in sys.modules)
_kernels.COMPILE_WORK = 200 * 10 * 500
R(epochs=499, learnrate=0.5).fit(X, y)
print('numba' in sys.modules)
R(epochs=500, learnrate=0.5).fit(X, y)
print('numba' in sys.modules)
_kernels.COMPILE_WORK = 1 << 30
with _kernels.make_kernel(X, y[:, None], None, np.ones(1)) as kernel:
    print(kernel.path)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "True", "numba"]


@pytest.mark.parametrize("path", ["numpy-array-2", "numba-bank-2"])
def test_saturated_records_raise_no_warning_in_worker_threads(path, take_path):
    # numpy's error state is per thread: each worker thread must silence the
    # overflow of exp(-h) for saturated records itself (ŷ = 0 is intended)
    X, T, s, lr, W, b = problem(n=2000, d=4, k=7, t_cols=1)
    W *= 1000
    fmt, options = take_path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, _, losses, taken = run_kernel(
            as_format(X, fmt), T, s, np.full(7, 0.5), W, b, 3,
            "squared_error", 0.0, True, **options,
        )  # fmt: skip
    assert taken == expected_path(path)
    assert np.isfinite(coef).all() and np.isfinite(losses).all()


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("path", list(PATHS))
def test_records_of_weight_zero_have_no_influence_even_when_h_is_nan(
    path, loss, take_path
):
    # huge records of weight 0 whose x · w is inf - inf = NaN at the start
    # (or ±inf, and anything later): the fit equals the one without them
    # (to summation order: the leaves hold other rows), never NaN * 0 = NaN
    X, T, s, _, _, _ = problem(n=700, d=3, k=3, t_cols=3, weighted=True)
    lr = np.array([0.5, 2.0, 7.0])
    W = np.array([[2.0, -2.0, 0.5]] * 3)
    b = np.array([0.1, -0.2, 0.0])
    huge = np.array([[1e308, 1e308, 1e308], [-1e308, -1e308, -1e308]] * 20)
    with np.errstate(over="ignore", invalid="ignore"):
        # each product rounded, then added: inf - inf (the compiled loops);
        # a BLAS that fuses multiply-adds may give ±inf instead
        assert np.isnan((huge * W[0]).sum(axis=1)).all()
        assert not np.isfinite(huge @ W[0]).any()
    where = np.linspace(0, 700, len(huge)).astype(int)  # spread over the leaves
    X_more = np.insert(X, where, huge, axis=0)
    T_more = np.insert(T, where, 0.5, axis=0)
    s_more = np.insert(s, where, 0.0)
    fmt, options = take_path(path)
    args = (lr, W, b, 6, loss, 0.01, True)
    with_zeros = run_kernel(as_format(X_more, fmt), T_more, s_more, *args, **options)
    without = run_kernel(as_format(X, fmt), T, s, *args, **options)
    assert with_zeros[3] == without[3] == expected_path(path, loss)
    for a, b_ in zip(with_zeros[:3], without[:3], strict=True):
        assert np.isfinite(a).all()
        assert_allclose(a, b_, rtol=1e-12, atol=1e-15)
