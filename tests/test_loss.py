"""The losses' table (``_loss``), and every engine's use of it.

The engines compute each loss's value ``ℓ`` and error term ``δ`` with the
table's functions (its array forms, its in-place forms, and its functions
compiled by numba) and their own sigmoid; each must give the table's numbers,
from ``h = 0`` to ``|h| = 800`` (past exp's overflow), in float64 and
float32. The table's derivatives must be those of its value, and its
curvature the supremum of ``|ℓ''|``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import expit

from sk_sigmoid_neuron import _kernels
from sk_sigmoid_neuron._loss import LOSSES, get_loss

LOSS_NAMES = sorted(LOSSES)
DTYPES = [np.float64, np.float32]
# float64 to a few units of 1e-16 (the paths' sigmoids differ in the last
# bit, which δ's cancellations carry as absolute, not relative, error)
TOL = {np.float64: dict(rtol=2e-15, atol=1e-15), np.float32: dict(rtol=1e-6, atol=1e-6)}

_MAGNITUDES = [1e-8, 1e-3, 0.1, 0.5, 1, 2, 5, 10, 17, 20, 30, 37, 40, 50, 88, 89,
               100, 104, 300, 700, 709, 710, 745, 746, 800]  # fmt: skip
H_GRID = np.array([0.0] + _MAGNITUDES + [-m for m in _MAGNITUDES])
T_GRID = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


def grid(dtype):
    """Every (h, t) pair of the grids, as two flat arrays of ``dtype``."""
    h, t = np.meshgrid(H_GRID, T_GRID, indexing="ij")
    return h.ravel().astype(dtype), t.ravel().astype(dtype)


def table(loss, h, t):
    """The table's ``(δ, ℓ)`` at ``h`` with target ``t``, in their dtype."""
    y = expit(h)
    return loss.error_term(t, y), loss.value(t, y, h)


def test_get_loss_names_the_choices():
    assert get_loss("log_loss").code != get_loss("squared_error").code
    with pytest.raises(ValueError, match="loss must be one of"):
        get_loss("hinge")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_in_place_forms_give_the_plain_forms_bits(name, dtype):
    loss = get_loss(name)
    h, t = grid(dtype)
    y = expit(h)
    delta, ell = table(loss, h, t)
    assert delta.dtype == ell.dtype == dtype
    out, tmp = np.empty_like(h), np.empty_like(h)
    assert_array_equal(loss.value_into(t, y, h, out=out, tmp=tmp), ell)
    assert_array_equal(loss.value_into(t, y, h, out=out), ell)
    assert_array_equal(loss.error_term_into(t, y, h, out=out, tmp=tmp), delta)
    kept = np.empty_like(h)
    assert_array_equal(loss.error_term_into(t, y, h, out=out, kept=kept), delta)
    # what the smallest unit keeps gives the value (the squared error's 1/2
    # applied to the sums)
    half = 0.5 if name == "squared_error" else 1.0
    assert_array_equal(loss.value_from_kept(t, kept) * half, ell)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_error_term_is_minus_the_first_derivative(name):
    loss = get_loss(name)
    h, t = grid(np.float64)
    first, _ = loss.derivatives(t, h)
    assert_allclose(loss.error_term(t, expit(h)), -first, rtol=1e-15, atol=1e-17)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_derivatives_match_central_differences_of_the_value(name):
    loss = get_loss(name)
    h, t = grid(np.float64)
    eps = 1e-6 * np.maximum(1.0, np.abs(h))

    def value(h):
        return loss.value(t, expit(h), h)

    first, second = loss.derivatives(t, h)
    assert_allclose(
        (value(h + eps) - value(h - eps)) / (2 * eps), first, rtol=1e-6, atol=1e-8
    )
    numeric = (loss.derivatives(t, h + eps)[0] - loss.derivatives(t, h - eps)[0]) / (
        2 * eps
    )
    assert_allclose(numeric, second, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_curvature_bounds_the_second_derivative_and_is_attained(name):
    loss = get_loss(name)
    h = np.concatenate([H_GRID, np.linspace(-40, 40, 400_001)])
    ts = np.linspace(0, 1, 101)
    worst = max(np.abs(loss.derivatives(t, h)[1]).max() for t in ts)
    assert worst <= loss.curvature * (1 + 1e-12)
    # attained: by the squared error at the ends of the target range, by the
    # log loss at h = 0
    for t in (0.0, 1.0):
        at_end = np.abs(loss.derivatives(t, h)[1]).max()
        assert at_end >= loss.curvature - 1e-6


# -- the compiled engine's forms ---------------------------------------------
@pytest.fixture(scope="module")
def nb():
    pytest.importorskip("numba")
    from sk_sigmoid_neuron._kernels import _numba

    return _numba


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_compiled_runs_of_records_give_the_table(nb, name, dtype, weighted):
    # _errors (the row and column passes and the bank), and sparse_errors (the
    # compiled sparse pass) with its sums
    loss = get_loss(name)
    h, t = grid(dtype)
    delta, ell = table(loss, h, t)
    s = np.ones_like(h)
    data = nb.make_data(t, np.zeros(1, np.intp), s if weighted else None, dtype)
    E, Q = np.empty_like(h), np.empty_like(h)
    nb._errors(h, t, s, weighted, loss.code, E, Q, data)
    assert_allclose(E, delta, **TOL[dtype])
    assert_allclose(Q, ell, **TOL[dtype])
    zero = np.dtype(dtype).type(0)
    sb, sl = nb.sparse_errors(h.copy(), zero, loss.code, data, E, Q)
    assert_allclose(E, delta, **TOL[dtype])
    # sums in another order: to rounding of the sum of magnitudes
    eps = np.finfo(dtype).eps
    assert_allclose(sb, delta.sum(), rtol=0, atol=len(h) * eps * np.abs(delta).sum())
    assert_allclose(sl, ell.sum(), rtol=len(h) * eps)


# -- the numpy engines --------------------------------------------------------
NUMPY_PATHS = {
    # name: (X format, thresholds on _kernels, neurons per kernel, path)
    "small": ("dense", {}, "all", "small"),
    "small-one-neuron": ("dense", {}, 1, "small"),
    "array": ("dense", {"SMALL_ELEMENTS": 0}, "all", "array"),
    "sparse": ("csr", {}, "all", "sparse"),
    "sparse-one-neuron": ("csr", {}, 1, "sparse"),
}


def one_record_epoch(h, t, fmt, loss):
    """``(δ, ℓ)`` of each (h, t) pair as one numpy unit computes them: one
    record ``x = 1``, one neuron per pair with ``w = h``, ``b = 0`` and
    learning rate 1, one epoch. The loss it reports is ``ℓ`` and the step
    takes the intercept to ``0 + 1 · δ``, both exactly."""
    dtype = h.dtype
    X = np.ones((1, 1), dtype)
    X = sparse.csr_matrix(X) if fmt == "csr" else X
    T = t[None, :]
    with _kernels.make_kernel(X, T, None, np.ones(len(h)), loss=loss) as kernel:
        kernel.set_params(h[:, None], np.zeros(len(h), dtype))
        ell = kernel.run(1)[0]
        return kernel.get_params()[1], ell, kernel.path


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("path", list(NUMPY_PATHS))
def test_numpy_paths_give_the_table(path, name, dtype, monkeypatch):
    fmt, thresholds, neurons, expected = NUMPY_PATHS[path]
    monkeypatch.setattr(_kernels, "BACKEND", "numpy")
    for threshold, value in thresholds.items():
        monkeypatch.setattr(_kernels, threshold, value)
    h, t = grid(dtype)
    if neurons == "all":
        delta, ell, taken = one_record_epoch(h, t, fmt, name)
    else:
        runs = [one_record_epoch(h[i : i + 1], t[i : i + 1], fmt, name)
                for i in range(len(h))]  # fmt: skip
        delta, ell = (
            np.concatenate(parts) for parts in list(zip(*runs, strict=True))[:2]
        )
        taken = runs[0][2]
    assert taken == expected
    assert delta.dtype == dtype
    ref_delta, ref_ell = table(get_loss(name), h, t)
    assert_allclose(delta, ref_delta, **TOL[dtype])
    assert_allclose(ell, ref_ell, **TOL[dtype])
