"""What every unit shares: the parameters, the run wrapper, the step, threads."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import cached_property, lru_cache

import numpy as np
from threadpoolctl import ThreadpoolController

# Rows per unit of summation; the reduction tree is fixed by this number only.
LEAF_ROWS = 256
# Below this many elements of X, one thread does all the work: under it, the
# cost of waking a second thread each epoch exceeds what it saves.
PARALLEL_ELEMENTS = 1 << 21
# Products smaller than this run on one BLAS thread anyway (OpenBLAS splits a
# matrix-vector product from 9216 elements on).
SERIAL_BLAS_ELEMENTS = 1 << 13


class Kernel:
    """Run epochs of the documented rule on fixed data (one path's unit).

    The unit owns the parameters while it trains: set them with
    :meth:`set_params`, run :meth:`run`, read them with :meth:`get_params`.
    :meth:`sums` gives the sums of an epoch at the current parameters without
    stepping (the objective and its gradient, for ``solver="lbfgs"``).
    Nothing here validates user input; the estimators do that. Build units
    with :func:`make_kernel`, which picks the path.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64.
    T : ndarray of shape (n_samples, 1) or (n_samples, n_neurons)
        Targets in [0, 1]. One column is shared by all neurons.
    sample_weight : ndarray of shape (n_samples,) or None
        None means unit weights. A record of weight 0 has no influence, even
        where its ``x · w`` overflows.
    learnrate : ndarray of shape (n_neurons,)
        One learning rate per neuron.
    fit_intercept : bool
    loss : {"squared_error", "log_loss"}
    alpha : float
        L2 penalty ``alpha / 2 * ||w||²`` (not on the intercept).

    Attributes
    ----------
    coef_aug : ndarray of shape (n_neurons, n_features + 1)
        The parameters, the intercept last.
    step, decay : ndarray of shape (n_neurons,)
        ``learnrate / weight_sum`` and ``1 - learnrate * alpha``.
    path, backend : str
        The path (``"small"``, ``"blocked"``, ``"numba"``, ``"bank"``,
        ``"sparse"``) and whether compiled code trains (``"numba"``) or not
        (``"numpy"``).
    n_threads : int
        Threads an epoch runs on.
    """

    path = None
    backend = "numpy"
    # run under one BLAS thread: our threads split the rows, and a BLAS
    # splitting a product over threads could change its sums
    serial_blas = False

    def __init__(
        self,
        X,
        T,
        sample_weight,
        learnrate,
        *,
        fit_intercept=True,
        loss="squared_error",
        alpha=0.0,
    ):
        # float32 data stays float32: every buffer and every scalar that meets
        # the data has X's dtype (a float64 scalar would promote whole arrays)
        self.dtype = dtype = X.dtype
        n, d = X.shape
        k = learnrate.shape[0]
        self.n_samples, self.n_features, self.n_neurons = n, d, k
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.alpha = float(alpha)
        self.X, self.T = X, T.astype(dtype, copy=False)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(dtype, copy=False)
        self.sample_weight = sample_weight
        if sample_weight is None:
            wsum = float(n)
        else:
            wsum = float(sample_weight.sum(dtype=np.float64))
        self.weight_sum = wsum
        self.learnrate = learnrate.astype(dtype)
        self.step = (learnrate / wsum).astype(dtype)
        self.decay = (1 - learnrate * alpha).astype(dtype)
        self.coef_aug = np.zeros((k, d + 1), dtype=dtype)
        self.n_threads = 1
        self._pool = None
        # whether some records have weight 0: their h may be NaN or infinite
        # (x · w overflows), and 0 * NaN is NaN, so the numpy paths set their
        # h to 0 before weighting (the compiled ones test s itself)
        self._has_zero = sample_weight is not None and bool(
            np.count_nonzero(sample_weight) < n
        )

    @cached_property
    def _zero_rows(self):
        """The mask of the records of weight 0, or None (made for the paths
        that use it, not by every unit: an array as long as the data)."""
        return self.sample_weight == 0 if self._has_zero else None

    # -- parameters -------------------------------------------------------
    def set_params(self, coef, intercept):
        self.coef_aug[:, :-1] = coef
        self.coef_aug[:, -1] = intercept

    def get_params(self):
        return self.coef_aug[:, :-1].copy(), self.coef_aug[:, -1].copy()

    def _penalty(self):
        """``alpha / 2 ||w||²`` per neuron at the current weights (float64)."""
        if not self.alpha:
            return 0.0
        W = self.coef_aug[:, :-1]
        return 0.5 * self.alpha * np.einsum("kd,kd->k", W, W).astype(np.float64)

    # -- epochs -----------------------------------------------------------
    def run(self, n_epochs):
        """Run ``n_epochs`` epochs; return the loss at the start of each.

        Returns
        -------
        losses : ndarray of shape (n_epochs, n_neurons)
            Weighted mean loss per neuron at the weights each epoch started
            from, plus ``alpha / 2 * ||w||²``.
        """
        if n_epochs <= 0:
            return np.empty((0, self.n_neurons))
        limit = one_blas_thread() if self.serial_blas else nullcontext()
        # exp(-h) overflows to inf for saturated records (ŷ = 0, as intended)
        with limit, np.errstate(all="ignore"):
            return self._run(n_epochs)

    def _run(self, n_epochs):
        """Epoch by epoch through the path's ``_epoch``, which returns the
        sums of ``s ℓ`` (the paths that run many epochs per call override
        this)."""
        losses = np.empty((n_epochs, self.n_neurons))
        for i in range(n_epochs):
            penalty = self._penalty()
            losses[i] = self._epoch().astype(np.float64) / self.weight_sum + penalty
        return losses

    def sums(self):
        """The sums of an epoch at the current parameters, without the step.

        One pass over X through the path's own code (the same passes and
        reductions as an epoch of :meth:`run`), so that an evaluation of the
        objective and its gradient costs about one epoch. No penalty; records
        of weight 0 contribute nothing.

        Returns
        -------
        G : ndarray of shape (n_neurons, n_features), float64
            ``Σ s δ x``, with ``δ = -∂ℓ/∂h`` the loss's
            error term (``_loss``): minus the gradient of ``Σ s ℓ`` in ``w``.
        gb : ndarray of shape (n_neurons,), float64
            ``Σ s δ`` (also without ``fit_intercept``).
        lsum : ndarray of shape (n_neurons,), float64
            ``Σ s ℓ``.
        """
        limit = one_blas_thread() if self.serial_blas else nullcontext()
        with limit, np.errstate(all="ignore"):
            G, gb, lsum = self._epoch_sums()
        return (
            np.array(G, dtype=np.float64),
            np.array(gb, dtype=np.float64),
            np.array(lsum, dtype=np.float64),
        )

    def _epoch_sums(self):
        """``(G, gb, lsum)`` of :meth:`sums` in X's dtype (each path's own)."""
        raise NotImplementedError

    def _apply(self, G, gb, lsum):
        """The step from an epoch's sums; returns ``lsum``."""
        apply_step(self.coef_aug, G, gb, self.step, self.decay, self.fit_intercept)
        return lsum

    # -- threads ----------------------------------------------------------
    def _start_threads(self, n_threads, n_units, busy):
        """Threads over ``n_units`` units of work (leaves, groups), each
        thread a contiguous range of them in ``_ranges``.

        ``n_threads`` None takes the BLAS thread limit (``threadpoolctl``)
        when ``busy``, else 1; never more threads than units.
        """
        if n_threads is None:
            n_threads = _blas_threads() if busy else 1
        self.n_threads = max(1, min(int(n_threads), n_units))
        self._ranges = thread_ranges(n_units, self.n_threads)
        if self.n_threads > 1:
            self._pool = ThreadPoolExecutor(self.n_threads)

    def _on_threads(self, func, calls):
        """``func(*args)`` for each ``args`` of ``calls``: one call per thread
        of the unit, or all here when it has no threads (or one call)."""
        if self._pool is None or len(calls) == 1:
            for args in calls:
                func(*args)
            return
        for future in [self._pool.submit(func, *args) for args in calls]:
            future.result()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def thread_ranges(n_units, n_threads):
    """``n_threads`` contiguous ranges ``(start, stop)`` covering ``n_units``."""
    bounds = np.linspace(0, n_units, n_threads + 1).astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def apply_step(coef_aug, G, gb, step, decay, fit_intercept):
    """The update of one epoch from its sums (in place on ``coef_aug``).

    ``step`` is ``learnrate / S`` per neuron, ``decay`` is
    ``1 - learnrate * alpha`` per neuron.
    """
    W = coef_aug[:, :-1]
    if np.any(decay != 1):
        W *= decay[:, None]
    G *= step[:, None]
    W += G
    if fit_intercept:
        coef_aug[:, -1] += step * gb


@lru_cache(maxsize=1)
def _controller():
    return ThreadpoolController()


_serial = {"lock": threading.Lock(), "depth": 0, "limiter": None}


@contextmanager
def one_blas_thread():
    """A context in which the BLAS runs on one thread (``threadpoolctl``).

    The limit is process-wide, so nested and concurrent uses (folds of a
    search run by joblib's threading backend, each fit's kernel) share one:
    the first to enter sets it, the last to leave restores the limits found
    before. Entered and left in any order, they restore them.
    """
    with _serial["lock"]:
        if _serial["depth"] == 0:
            _serial["limiter"] = _controller().limit(limits=1, user_api="blas")
        _serial["depth"] += 1
    try:
        yield
    finally:
        with _serial["lock"]:
            _serial["depth"] -= 1
            if _serial["depth"] == 0:
                _serial["limiter"].restore_original_limits()
                _serial["limiter"] = None


def _blas_threads():
    """Threads the BLAS may use now (respects ``threadpoolctl`` limits)."""
    counts = [
        info["num_threads"] for info in _controller().select(user_api="blas").info()
    ]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    n = min(counts) if counts else (cpus or 1)
    return max(1, min(n, cpus or n))
