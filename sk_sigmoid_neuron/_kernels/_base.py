"""The stepper that every engine shares: the weights, the step, the epochs, threads."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from .._namespace import NUMPY, numpy_dtype, to_namespace, to_numpy, xp_of

# Rows per unit of summation; the reduction tree is fixed by this number only.
LEAF_ROWS = 256
# Below this many elements of X, one thread does all the work: waking a second
# thread each epoch would cost more than it saves.
PARALLEL_ELEMENTS = 1 << 21
# Products smaller than this run on one BLAS thread anyway (OpenBLAS splits a
# matrix-vector product only beyond about this size).
SERIAL_BLAS_ELEMENTS = 1 << 13
# An engine keeps the last epoch's h (n x k), so that the diagnostics need no
# pass of their own, only if it holds at most this share of X's values (a
# fit's memory beyond X stays within a few per cent of X).
FORWARD_SHARE = 1 / 100


class Forward(NamedTuple):
    """The pass of a run's last epoch: the weights it started from
    (``coef_aug``, the intercept last, in the engine's namespace), and ``H``,
    the records' ``h = x · w + b`` (n, k; anything for records of weight 0)
    with their targets ``T`` (the engine's: one column per neuron in the
    fits that report) and weights ``s`` (possibly without the records of
    weight 0), or ``H`` None where the engine did not keep it."""

    coef_aug: object
    H: object = None
    T: object = None
    s: object = None

    @property
    def coef(self):
        return np.asarray(to_numpy(self.coef_aug))[:, :-1]

    @property
    def intercept(self):
        return np.asarray(to_numpy(self.coef_aug))[:, -1]


class Kernel:
    """Epochs of the documented rule for ``k`` neurons: the one stepper.

    An engine subclass computes the sums of an epoch over its records at the
    current weights (:meth:`_epoch_sums`); this class owns everything else:
    the weights, the learning rate of each neuron, the step and the penalty's
    decay, the loss of each epoch. The weights live in the engine's
    namespace ``xp`` while it trains (numpy for the numpy, compiled and
    sparse engines); :meth:`set_params`, :meth:`get_params`,
    :attr:`coef_aug`, :meth:`sums` and :meth:`run` speak numpy. Engines that
    run many epochs in one compiled call override :meth:`_run`. Nothing here
    validates user input; build engines with ``make_kernel``.

    Parameters
    ----------
    n_features : int
    learnrate : ndarray of shape (n_neurons,)
        One learning rate per neuron.
    weight_sum : float
        ``S = Σ s`` over the training records (their number when unweighted).
    dtype : numpy dtype
        X's dtype (float32 or float64): every buffer and every scalar that
        meets the data has it (a float64 scalar would promote float32 work).
    fit_intercept : bool
    loss : {"squared_error", "log_loss"}
    alpha : float
        L2 penalty ``alpha / 2 * ||w||²`` (not on the intercept).
    xp, device : namespace and device of the weights; None for numpy.

    Attributes
    ----------
    step, decay : ndarray of shape (n_neurons,)
        ``learnrate / weight_sum`` and ``1 - learnrate * alpha``.
    path, backend : str
        The engine (``"small"``, ``"array"``, ``"numba"``, ``"bank"``,
        ``"sparse"``, ``"dask"``) and what computes it (``"numba"``,
        ``"numpy"`` or the namespace's name).
    n_threads : int
        Threads an epoch runs on.
    """

    path = None
    backend = "numpy"
    # run under one BLAS thread: the engine's threads split the rows, and a BLAS
    # splitting a product over threads could change its sums
    serial_blas = False
    # set by the descent for a fit that reports: :attr:`forward` after a run
    keep_forward = False
    forward = None
    # an engine that writes its h into ``_keep`` when that is not None
    keeps_h = False
    _keep = None

    def __init__(
        self,
        *,
        n_features,
        learnrate,
        weight_sum,
        dtype,
        fit_intercept=True,
        loss="squared_error",
        alpha=0.0,
        xp=None,
        device=None,
    ):
        self._numpy = xp is None
        self.xp, self.device = NUMPY if xp is None else xp, device
        self.dtype = dtype = np.dtype(dtype)
        k, d = learnrate.shape[0], n_features
        self.n_features, self.n_neurons = d, k
        self.fit_intercept, self.loss, self.alpha = fit_intercept, loss, float(alpha)
        self.weight_sum = float(weight_sum)
        self.learnrate = learnrate.astype(dtype)
        self.step = (learnrate / self.weight_sum).astype(dtype)
        self.decay = (1 - learnrate * alpha).astype(dtype)
        self._step = self._here(self.step)
        self._decay = self._here(self.decay) if np.any(self.decay != 1) else None
        self._coef = self._here(np.zeros((k, d + 1), dtype=dtype))
        self.n_threads, self._pool = 1, None

    def _take(self, X, T, sample_weight, learnrate, *, leave_out=False, **common):
        """An engine's start: the base's attributes from its records, which
        it keeps as ``X``, ``T`` and ``s`` (the weights, or None), the targets
        and weights in X's dtype and namespace. With ``leave_out`` (an engine
        that copies numpy X for epochs that reuse the copy) it keeps only the
        records of positive weight (the others count for nothing: a CV fold's
        held-out records, early stopping's validation ones), so that its copy
        and its epochs leave them out; when those all weigh 1, they train
        unweighted (the same sums, which callers that add kernels' sums,
        dask's chunks, rely on)."""
        xp, device, is_numpy = xp_of(X)
        w = sample_weight
        if leave_out and is_numpy and w is not None:
            if not np.all(w):
                kept = w > 0
                X, T, w = X[kept], T[kept], w[kept]
            sample_weight = None if np.all(w == 1) else w
        if is_numpy:
            dtype = X.dtype

            def cast(a):
                return a.astype(dtype, copy=False)
        else:
            dtype = numpy_dtype(xp, X.dtype)

            def cast(a):
                return xp.astype(a, X.dtype)

        s = None if sample_weight is None else cast(sample_weight)
        S = X.shape[0] if s is None else np.sum(to_numpy(s), dtype=np.float64)
        Kernel.__init__(
            self,
            n_features=X.shape[1],
            learnrate=learnrate,
            weight_sum=S,
            dtype=dtype,
            xp=None if is_numpy else xp,
            device=device,
            **common,
        )
        self.n_samples = X.shape[0]
        self.X, self.T, self.s = X, cast(T), s

    def _here(self, a):
        """A numpy array in the weights' namespace, on their device."""
        return a if self._numpy else to_namespace(a, self.xp, self.device)

    # -- parameters -------------------------------------------------------
    @property
    def coef_aug(self):
        """The weights, the intercept last, (n_neurons, n_features + 1): the
        engine's own array for numpy (updated in place), a copy otherwise."""
        coef = self._coef
        return coef if self._numpy else np.asarray(to_numpy(coef), self.dtype)

    def set_params(self, coef, intercept):
        if self._numpy:
            self._coef[:, :-1] = coef
            self._coef[:, -1] = intercept
        else:
            both = np.column_stack([coef, intercept]).astype(self.dtype)
            self._coef = self._here(both)

    def get_params(self):
        coef = self.coef_aug
        return coef[:, :-1].copy(), coef[:, -1].copy()

    def _penalty(self):
        """``alpha / 2 ||w||²`` per neuron at the current weights (float64)."""
        if not self.alpha:
            return 0.0
        W = self.coef_aug[:, :-1].astype(np.float64)
        return 0.5 * self.alpha * np.einsum("kd,kd->k", W, W)

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
            if not self.keep_forward:
                return self._run(n_epochs)
            if n_epochs == 1:
                return self._last_epoch()
            first = self._run(n_epochs - 1)  # epochs in pieces: the same bits
            return np.concatenate([first, self._last_epoch()])

    def _last_epoch(self):
        """One epoch that keeps its pass (:attr:`forward`)."""
        # numpy weights change in place; other namespaces' are new arrays
        coef = self._coef.copy() if self._numpy else self._coef
        # X's values: its stored ones when sparse
        kept = self.keeps_h and self.n_samples * self.n_neurons <= FORWARD_SHARE * (
            getattr(self.X, "nnz", None) or self.n_samples * self.n_features
        )
        if not kept:
            losses = self._run(1)
            self.forward = Forward(coef)
            return losses
        # numpy engines write into the buffer, others replace it
        if self._numpy and getattr(self, "_h", None) is None:
            self._h = np.empty((self.n_samples, self.n_neurons), self.dtype)
        self._keep = self._h if self._numpy else True
        try:
            losses = self._run(1)
            self.forward = Forward(coef, self._keep, self.T, self.s)
        finally:
            self._keep = None
        return losses

    def _run(self, n_epochs):
        """Epoch by epoch: the engine's sums, then the step. The losses stay
        in the engine's namespace until the end (one transfer)."""
        lsums, penalties = [], []
        for _ in range(n_epochs):
            if self.alpha:
                penalties.append(self._penalty())
            G, gb, lsum = self._epoch_sums()
            lsums.append(lsum)
            self._apply(G, gb)
        lsums = lsums if self._numpy else [to_numpy(a) for a in lsums]
        losses = np.asarray(lsums, dtype=np.float64) / self.weight_sum
        return losses + np.asarray(penalties) if self.alpha else losses

    def _apply(self, G, gb):
        """The step of one epoch from its sums ``Σ sδx``, ``Σ sδ``."""
        xp = None if self._numpy else self.xp
        self._coef = apply_step(
            xp, self._coef, G, gb, self._step, self._decay, self.fit_intercept
        )

    def sums(self):
        """The sums of an epoch at the current weights, without the step.

        One pass over the records through the engine's own code (the passes
        and reductions of an epoch), so that an evaluation of the objective
        and its gradient costs about one epoch. No penalty; records of weight
        0 contribute nothing.

        Returns
        -------
        G : ndarray of shape (n_neurons, n_features), float64
            ``Σ s δ x``, with ``δ = -∂ℓ/∂h`` the loss's error term
            (``_loss``): minus the gradient of ``Σ s ℓ`` in ``w``.
        gb : ndarray of shape (n_neurons,), float64
            ``Σ s δ`` (also without ``fit_intercept``).
        lsum : ndarray of shape (n_neurons,), float64
            ``Σ s ℓ``.
        """
        limit = one_blas_thread() if self.serial_blas else nullcontext()
        with limit, np.errstate(all="ignore"):
            parts = self._epoch_sums()
        return tuple(np.array(to_numpy(a), dtype=np.float64) for a in parts)

    def _epoch_sums(self):
        """``(Σ sδx, Σ sδ, Σ sℓ)`` in X's dtype and the weights' namespace."""
        raise NotImplementedError

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


def apply_step(xp, coef_aug, G, gb, step, decay, fit_intercept):
    """``w = decay w + step G`` and ``b += step gb``, per neuron: in place for
    numpy (``xp`` None), a new array of namespace ``xp`` otherwise (returned
    either way).

    ``step`` is ``learnrate / S`` per neuron, ``decay`` ``1 - learnrate *
    alpha`` per neuron (None: 1).
    """
    if xp is None:
        W = coef_aug[:, :-1]
        if decay is not None:
            W *= decay[:, None]
        G *= step[:, None]
        W += G
        if fit_intercept:
            coef_aug[:, -1] += step * gb
        return coef_aug
    W, b = coef_aug[:, :-1], coef_aug[:, -1]
    if decay is not None:
        W = W * decay[:, None]
    W = W + G * step[:, None]
    if fit_intercept:
        b = b + step * gb
    return xp.concat([W, b[:, None]], axis=1)


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
