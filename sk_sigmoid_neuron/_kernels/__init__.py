"""The kernels: one stepper, and the engines that compute an epoch's sums.

Every fit, ``partial_fit`` call and CV fold trains through a unit that
:func:`make_kernel` picks for the data; a dask fit's stepper on the client
adds the sums that such units compute on the chunks. An epoch for ``k`` neurons (the
outputs, the learning rates of a CV search, or both) on ``n`` records with
weights ``s``::

    H = X @ W.T + b                 (n, k)
    Y = 1 / (1 + exp(-H))
    D = s * δ(T, Y)                 the loss's error term (``_loss``)
    W += lr / S * (D.T @ X) - lr * alpha * W
    b += lr / S * D.sum(axis=0)     (only with fit_intercept)

``_base.Kernel`` is the stepper (the weights, a learning rate per neuron, the
step, the losses); each engine computes the sums ``(D.T @ X, Σ D, Σ s ℓ)``:

``_array`` (path "array")
    Dense X of any array-API namespace, numpy included, by leaves of rows
    with a fixed reduction order, on threads for numpy; ``_small`` (path
    "small") is its unit for the smallest numpy data.
``_compiled`` (paths "numba", "bank"), when numba is installed
    Dense C- or F-contiguous numpy data: fused compiled passes per neuron
    (``_numba``) for up to ``NUMBA_MAX_NEURONS`` neurons, and a bank in
    groups of neurons for more.
``_sparse`` (path "sparse")
    CSR/CSC X through scipy's products; with numba, one neuron's
    elementwise work in one compiled pass.

When numba trains: ``BACKEND = "auto"`` uses the compiled engine when its
module is loaded already in this process, or when the work a call plans
(``n * d * k * epochs``) reaches ``COMPILE_WORK``, enough to repay loading it
(the first fit of a process then costs no import of numba); "numpy" never
uses it; "numba" always does (ImportError without numba). Engines differ
only in the order in which sums are added and in the sigmoid's last bit
(``_array``'s ``exp`` is numpy's, ``_numba``'s its own), so a fit's results
agree between them to rounding, and no engine's depend on the number of
threads.

float32 data stays float32: every buffer and every scalar that meets the data
has X's dtype (a float64 scalar would promote whole arrays under NumPy 2).
"""

import sys
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from scipy import sparse

from .._namespace import xp_of
from ._array import ArrayKernel, loss_sums, predict_unit
from ._base import (
    LEAF_ROWS,
    PARALLEL_ELEMENTS,
    SERIAL_BLAS_ELEMENTS,
    Kernel,
    apply_step,
    one_blas_thread,
)
from ._compiled import BankKernel, CompiledKernel
from ._small import SmallKernel
from ._sparse import SparseKernel

__all__ = [
    "BACKEND",
    "COMPILE_WORK",
    "LEAF_ROWS",
    "NUMBA_MAX_NEURONS",
    "PARALLEL_ELEMENTS",
    "SERIAL_BLAS_ELEMENTS",
    "SMALL_ELEMENTS",
    "Kernel",
    "active_backend",
    "apply_step",
    "loss_sums",
    "make_kernel",
    "one_blas_thread",
    "predict_unit",
]

# Which engine trains dense contiguous numpy data: "auto", "numpy" or "numba"
# (see the module docstring). Read at each make_kernel call; private, tests
# and benchmarks set it.
BACKEND = "auto"
# Multiply-adds of X @ W.T over the epochs of a call from which "auto" loads
# the compiled engine: about a second of the array engine's work, against
# the fraction of a second that importing numba and loading the cached
# kernels costs once per process.
COMPILE_WORK = 1 << 30
# Up to this many elements of X, the "small" units (which copy X) train.
SMALL_ELEMENTS = 1 << 16
# Banks of more neurons than this leave the per-neuron compiled passes for
# the "bank" unit (beyond SMALL_ELEMENTS).
NUMBA_MAX_NEURONS = 6

_COMPILED = __name__ + "._numba"
# "auto"'s choice for a whole computation split over processes (see
# :func:`same_engine`), or None.
_CHOSEN = ContextVar("sk_sigmoid_neuron_engine", default=None)


def _numba_module(work):
    """The ``_numba`` module when it trains work of this size, else None."""
    if BACKEND not in ("auto", "numpy", "numba"):
        raise ValueError(f"BACKEND must be 'auto', 'numpy' or 'numba', not {BACKEND!r}")
    backend = BACKEND if BACKEND != "auto" else (_CHOSEN.get() or "auto")
    if backend == "numpy":
        return None
    if backend == "auto" and _COMPILED not in sys.modules and work < COMPILE_WORK:
        return None
    try:
        from . import _numba
    except ImportError:
        if BACKEND == "numba":
            raise
        return None
    return _numba


def chosen_engine(work):
    """What ``BACKEND = "auto"`` would train work of this size with here:
    ``"numba"`` or ``"numpy"``."""
    return "numpy" if _numba_module(work) is None else "numba"


@contextmanager
def same_engine(engine):
    """Train with ``engine`` (from :func:`chosen_engine` in the process that
    split the work) wherever "auto" would choose: the folds of a CV search
    that joblib sends to other processes give the bits of folds run here."""
    token = _CHOSEN.set(engine)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def active_backend():
    """What trains large dense data here: ``"numba"`` or ``"numpy"``."""
    return "numpy" if _numba_module(COMPILE_WORK) is None else "numba"


def make_kernel(
    X,
    T,
    sample_weight,
    learnrate,
    *,
    tcol=None,
    fit_intercept=True,
    loss="squared_error",
    alpha=0.0,
    epochs=1,
    n_threads=None,
    block_rows=None,
):
    """The unit that trains ``X``: the first row of this table that fits.

    ========================================================  =========
    X (``compiled``: dense numpy float32/64, C- or            path
    F-contiguous, and numba trains, see ``BACKEND``;
    ``k`` neurons)
    ========================================================  =========
    of another array-API namespace                            "array"
    sparse (compiled pass: k = 1 and numba trains)            "sparse"
    compiled, k > NUMBA_MAX_NEURONS, not small                "bank"
    compiled, k <= NUMBA_MAX_NEURONS                          "numba"
    small: n * d <= SMALL_ELEMENTS                            "small"
    otherwise                                                 "array"
    ========================================================  =========

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        float32 or float64: numpy, scipy sparse (CSR/CSC), or an array of
        another array-API namespace (on its device).
    T : array of shape (n_samples, n_columns)
        Targets in [0, 1], in X's namespace.
    sample_weight : array of shape (n_samples,) or None
        None means unit weights. A record of weight 0 has no influence, even
        where its ``x · w`` overflows.
    learnrate : ndarray of shape (n_neurons,)
        One learning rate per neuron.
    tcol : array of shape (n_neurons,) or None
        The column of ``T`` each neuron learns; None: column ``q`` for
        neuron ``q``, or the one column for all.
    fit_intercept, loss, alpha
        As for the estimator (see ``_base.Kernel``).
    epochs : int
        The epochs the caller plans (for the choice of ``BACKEND = "auto"``,
        and whether a unit's copy of X leaves the records of weight 0 out:
        only when more than one epoch reuses it).
    n_threads : int or None
        Threads for the numpy array, numba and bank units; None uses the
        BLAS thread limit (``threadpoolctl``) for large data and 1 otherwise.
    block_rows : int or None
        Rows per cache block of the numpy array unit (a multiple of
        ``LEAF_ROWS``); None sizes it. It changes speed, never the result.
    """
    if block_rows is not None and (block_rows <= 0 or block_rows % LEAF_ROWS):
        raise ValueError(
            f"block_rows must be a positive multiple of {LEAF_ROWS}, got {block_rows}"
        )
    args = (X, T, sample_weight, learnrate)
    common = dict(tcol=tcol, fit_intercept=fit_intercept, loss=loss, alpha=alpha)
    if not xp_of(X)[2]:
        return ArrayKernel(*args, **common)
    n, d = X.shape
    k = learnrate.shape[0]
    work = n * d * k * max(1, epochs)
    if sparse.issparse(X):
        compiled = k == 1 and _numba_module(work) is not None
        return SparseKernel(*args, compiled=compiled, **common)
    small = n * d <= SMALL_ELEMENTS
    # a copy without the records of weight 0 pays when epochs reuse it (a
    # dask chunk's kernel lives for one epoch)
    reused = epochs > 1
    compiled = (
        X.dtype in (np.float32, np.float64)
        and (X.flags.c_contiguous or X.flags.f_contiguous)
        and (k <= NUMBA_MAX_NEURONS or not small)
        and _numba_module(work) is not None
    )
    if compiled and k > NUMBA_MAX_NEURONS and not small:
        return BankKernel(*args, n_threads=n_threads, **common)
    if compiled and k <= NUMBA_MAX_NEURONS:
        return CompiledKernel(
            *args, n_threads=n_threads, small=small, leave_out=reused, **common
        )
    if small:
        return SmallKernel(*args, leave_out=reused, **common)
    return ArrayKernel(
        *args, n_threads=n_threads, block_rows=block_rows, leave_out=reused, **common
    )
