"""The numeric kernel: one epoch of the documented rule, and nothing else.

Every public entry point (``fit``, ``partial_fit``, the learning-rate bank of
the CV estimator) trains through a unit that :func:`make_kernel` picks for the
data; data that lives in chunks (the dask path) goes through
:func:`partial_sums` followed by :func:`apply_step`.

An epoch for ``k`` neurons (outputs, or learning rates of a bank) on ``n``
records with weights ``s``::

    H = X @ W.T + b                 (n, k)
    Y = expit(H) = 1 / (1 + exp(-H))
    D = s * δ(T, Y)                 the loss's error term (``_loss``)
    W += lr / S * (D.T @ X) - lr * alpha * W
    b += lr / S * D.sum(axis=0)     (only with fit_intercept)

Paths (the unit's ``path``), one module each:

``"numba"`` (``_compiled``)
    Dense C- or F-contiguous data when numba imports (see ``BACKEND``), for
    up to ``NUMBA_MAX_NEURONS`` neurons (wider banks are faster on the bank
    path or numpy): fused compiled passes over cache-sized leaves of rows
    (``_numba``). Small data (``SMALL_ELEMENTS``): epochs in compiled calls
    of bounded work, on a private copy of X.T. Otherwise one call per epoch
    and thread, each on a range of leaves.
``"small"`` (``_small``)
    numpy, ``n * d <= SMALL_ELEMENTS``: X copied once with a column of ones
    so the bias folds into the products; per epoch eight numpy calls and no
    allocation; the losses of a batch of epochs computed after it.
``"blocked"`` (``_blocked``)
    numpy, larger dense data, never copied: cache blocks of whole leaves,
    each read from memory once, threads over ranges of leaves.
``"bank"`` (``_bank``)
    More than ``NUMBA_MAX_NEURONS`` neurons (squared error) on data the
    blocked path would train, when numba imports: the neurons in groups,
    each group's epochs in compiled calls without the GIL (BLAS products per
    leaf, a vectorised exp, flat elementwise passes), the groups on threads.
``"sparse"`` (``_sparse``)
    CSR/CSC through scipy's products, one thread; for one neuron with the
    squared error and numba, the elementwise work between the two products
    in one compiled call.

A record of weight 0 has no influence on any path, even where its ``x · w``
overflows to NaN or an infinity.

Determinism: on the blocked and numba paths the sums over records are formed
per *leaf* of ``LEAF_ROWS`` consecutive rows and the leaves are then added in
a fixed order, so the result does not depend on how many threads run or how
many leaves a cache block holds (the small paths run on one thread, and
split their epochs into calls without changing a bit). The small paths, and
the blocked path, also give the same bits for C- and F-ordered X. On the
bank path each group's sums come from the same calls whatever thread runs
it, and the groups depend on the number of neurons only. Paths differ from
each other only in summation order, and in the sigmoid's last bit: the
blocked path computes the squared error's ``1 / (1 + exp(-h))`` with numpy's
vectorised exp, the bank path, the numba path by columns and the compiled
sparse pass with their own (``_numba.exp_inplace``, within one ulp), the
numba path by rows and scipy's ``expit`` (the other paths, and the log loss)
with the C library's.

float32 data stays float32: every buffer and every scalar that meets the data
has X's dtype (a float64 scalar would promote whole arrays under NumPy 2).
"""

import numpy as np
from scipy import sparse

from ._bank import BankKernel
from ._base import (
    LEAF_ROWS,
    PARALLEL_ELEMENTS,
    SERIAL_BLAS_ELEMENTS,
    Kernel,
    apply_step,
    one_blas_thread,
)
from ._blocked import BlockedKernel
from ._compiled import CompiledKernel
from ._forward import loss_sums, partial_sums, predict_unit
from ._small import SmallKernel
from ._sparse import SparseKernel

__all__ = [
    "BACKEND",
    "LEAF_ROWS",
    "NUMBA_MAX_NEURONS",
    "PARALLEL_ELEMENTS",
    "SERIAL_BLAS_ELEMENTS",
    "SMALL_ELEMENTS",
    "Kernel",
    "active_backend",
    "apply_step",
    "make_kernel",
    "loss_sums",
    "one_blas_thread",
    "partial_sums",
    "predict_unit",
]

# Which implementation trains dense contiguous data: "auto" uses the compiled
# kernel when numba imports and numpy otherwise; "numpy" never imports numba;
# "numba" requires it (ImportError without it). Read at each make_kernel call;
# private, tests monkeypatch it.
BACKEND = "auto"

# Below this many elements of X, copying X (with a column of ones folded in for
# the bias, or as X.T for the compiled passes) is cheaper than the extra calls
# it saves; above it X is never copied by the numpy paths.
SMALL_ELEMENTS = 1 << 16
# Banks of more neurons than this leave the "numba" path, which computes each
# neuron's dot products and sigmoid one by one, for the "bank" path (squared
# error, beyond SMALL_ELEMENTS; numpy paths otherwise). Up to this many
# neurons the numba path splits the rows over threads, which keeps it close
# to the bank on larger data.
NUMBA_MAX_NEURONS = 6


def _numba_module():
    """The ``_numba`` module, or None when ``BACKEND`` says numpy or numba is
    missing (``BACKEND = "numba"`` without numba raises ImportError)."""
    if BACKEND not in ("auto", "numpy", "numba"):
        raise ValueError(f"BACKEND must be 'auto', 'numpy' or 'numba', not {BACKEND!r}")
    if BACKEND == "numpy":
        return None
    try:
        from . import _numba
    except ImportError:
        if BACKEND == "numba":
            raise
        return None
    return _numba


def active_backend():
    """What dense contiguous data trains with here: ``"numba"`` or ``"numpy"``."""
    return "numpy" if _numba_module() is None else "numba"


def _compiled_can_train(X):
    """Whether the compiled kernels should train dense ``X``."""
    if _numba_module() is None:
        return False
    return (
        X.dtype in (np.float32, np.float64)
        and X.ndim == 2
        and (X.flags.c_contiguous or X.flags.f_contiguous)
    )


def make_kernel(
    X,
    T,
    sample_weight,
    learnrate,
    *,
    fit_intercept=True,
    loss="squared_error",
    alpha=0.0,
    n_threads=None,
    block_rows=None,
):
    """The unit that trains ``X``: the first row of this table that fits.

    ==========================================================  ===========
    X (``compiled``: dense float32/64, C- or F-contiguous, and   path
    numba imports under ``BACKEND``; ``k`` neurons)
    ==========================================================  ===========
    sparse (compiled pass: k = 1, squared error, numba)          "sparse"
    compiled, k > NUMBA_MAX_NEURONS, squared error, not small    "bank"
    compiled, k <= NUMBA_MAX_NEURONS                             "numba"
    small: n * d <= SMALL_ELEMENTS                               "small"
    otherwise                                                    "blocked"
    ==========================================================  ===========

    Parameters are those of :class:`~._base.Kernel`, and

    n_threads : int or None
        Threads for the blocked, numba and bank paths; None uses the BLAS
        thread limit (``threadpoolctl``) for large data (on the bank path: for
        a call of ``run`` with enough work) and 1 otherwise.
    block_rows : int or None
        Rows per cache block of the blocked path (a multiple of
        ``LEAF_ROWS``); None sizes it from ``BLOCK_BYTES``. It changes speed,
        never the result.
    """
    if block_rows is not None and (block_rows <= 0 or block_rows % LEAF_ROWS):
        raise ValueError(
            f"block_rows must be a positive multiple of {LEAF_ROWS}, got {block_rows}"
        )
    args = (X, T, sample_weight, learnrate)
    common = dict(fit_intercept=fit_intercept, loss=loss, alpha=alpha)
    k = learnrate.shape[0]
    squared = loss == "squared_error"
    if sparse.issparse(X):
        compiled = k == 1 and squared and _numba_module() is not None
        return SparseKernel(*args, compiled=compiled, **common)
    small = X.shape[0] * X.shape[1] <= SMALL_ELEMENTS
    compiled = _compiled_can_train(X)
    if compiled and k > NUMBA_MAX_NEURONS and squared and not small:
        return BankKernel(*args, n_threads=n_threads, **common)
    if compiled and k <= NUMBA_MAX_NEURONS:
        return CompiledKernel(*args, n_threads=n_threads, small=small, **common)
    if small:
        return SmallKernel(*args, **common)
    return BlockedKernel(*args, n_threads=n_threads, block_rows=block_rows, **common)
