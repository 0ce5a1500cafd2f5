"""The numeric kernel: one epoch of the documented rule, and nothing else.

Every public entry point (``fit``, ``partial_fit``, the learning-rate bank of the
CV estimator, the dask path) trains through :class:`EpochKernel`, or, for data
that lives in chunks, through :func:`partial_sums` followed by :func:`apply_step`.

An epoch for ``k`` neurons (outputs, or learning rates of a bank) on ``n``
records with weights ``s``::

    H = X @ W.T + b                 (n, k)
    Y = expit(H)
    D = s * (T - Y) * Y * (1 - Y)   squared error (the documented rule)
    D = s * (T - Y)                 log loss (fractional logit)
    W += lr / S * (D.T @ X) - lr * alpha * W
    b += lr / S * D.sum(axis=0)     (only with fit_intercept)

The sums over records are formed per *leaf* of ``LEAF_ROWS`` consecutive rows
and the leaves are then added in a fixed order, so the result does not depend
on how many threads run or how many leaves a cache block holds.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import lru_cache

import numpy as np
from scipy import sparse
from scipy.special import expit
from threadpoolctl import ThreadpoolController

# Rows per unit of summation; the reduction tree is fixed by this number only.
LEAF_ROWS = 256
# Bytes of X per cache block on the blocked path (a few leaves, L2-sized).
BLOCK_BYTES = 1 << 20
# Below this many elements of X, copying X (with a column of ones folded in for
# the bias) is cheaper than the extra calls it saves; above it X is never copied.
SMALL_ELEMENTS = 1 << 16
# Below this many elements of X, one thread does all the work.
PARALLEL_ELEMENTS = 1 << 21


def _loss_terms(loss, T, Y, H, out):
    """Per-record loss ``ℓ`` into ``out`` (same shape as ``Y``)."""
    if loss == "squared_error":
        np.subtract(T, Y, out=out)
        np.multiply(out, out, out=out)
        out *= 0.5
    else:
        # -t log(y) - (1 - t) log(1 - y) = softplus(h) - t h, without log(0)
        np.logaddexp(0, H, out=out)
        out -= T * H
    return out


def _error_term(loss, T, Y, out, tmp):
    """``δ`` (unweighted) into ``out``: the rule's error term for ``loss``."""
    np.subtract(T, Y, out=out)
    if loss == "squared_error":
        np.subtract(1, Y, out=tmp)
        tmp *= Y
        out *= tmp
    return out


class EpochKernel:
    """Run epochs of the documented rule on fixed data.

    The kernel owns the parameters while it trains: set them with
    :meth:`set_params`, run :meth:`run`, read them with :meth:`get_params`.
    Nothing here validates user input; the estimators do that.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64; never copied when larger than ``SMALL_ELEMENTS``.
    T : ndarray of shape (n_samples, 1) or (n_samples, n_neurons)
        Targets in [0, 1], same dtype as X. One column is shared by all neurons.
    sample_weight : ndarray of shape (n_samples,) or None
        None means unit weights.
    learnrate : ndarray of shape (n_neurons,)
        One learning rate per neuron.
    fit_intercept : bool
    loss : {"squared_error", "log_loss"}
    alpha : float
        L2 penalty ``alpha / 2 * ||w||²`` (not on the intercept).
    n_threads : int or None
        Threads for the blocked dense path; None uses the BLAS thread limit.
    block_rows : int or None
        Rows per cache block (a multiple of ``LEAF_ROWS``); None sizes it from
        ``BLOCK_BYTES``. It changes speed, never the result.
    """

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
        n_threads=None,
        block_rows=None,
    ):
        self.dtype = X.dtype
        dtype = self.dtype
        n, d = X.shape
        k = learnrate.shape[0]
        self.n_samples, self.n_features, self.n_neurons = n, d, k
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.X, self.T = X, T
        self.sample_weight = sample_weight
        wsum = n if sample_weight is None else float(sample_weight.sum(dtype=np.float64))
        self.weight_sum = wsum
        self.learnrate = learnrate.astype(dtype)
        self._step = (learnrate / wsum).astype(dtype)  # lr / S, per neuron
        self._decay = (1 - learnrate * alpha).astype(dtype)  # weight decay by L2
        self._alpha = alpha
        # parameters: column d is the intercept
        self.coef_aug = np.zeros((k, d + 1), dtype=dtype)

        if sparse.issparse(X):
            self._path = "sparse"
        elif n * d <= SMALL_ELEMENTS:
            self._path = "small"
            self._init_small()
        else:
            self._path = "blocked"
            self._init_blocked(n_threads, block_rows)

    # -- parameters -------------------------------------------------------
    def set_params(self, coef, intercept):
        self.coef_aug[:, :-1] = coef
        self.coef_aug[:, -1] = intercept

    def get_params(self):
        return self.coef_aug[:, :-1].copy(), self.coef_aug[:, -1].copy()

    # -- the small path: X copied once with the bias folded in ----------
    def _init_small(self):
        X, T, s, dtype = self.X, self.T, self.sample_weight, self.dtype
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        Xa = np.empty((n, d + 1), dtype=dtype)
        Xa[:, :d] = X
        Xa[:, d] = 1
        self._Xa = Xa
        # steps = XaT_scaled @ (s * δ): the learning rate and 1/S folded into X
        # when they are shared; otherwise into the per-record weights.
        XaT = Xa.T.copy()  # never a view of Xa (n == 1 makes Xa.T contiguous)
        if not self.fit_intercept:
            XaT[d] = 0
        shared = k == 1 or np.all(self._step == self._step[0])
        if shared:
            XaT *= self._step[0]
            rw = None if s is None else s
        else:
            rw = self._step[None, :] * (1 if s is None else s[:, None])
        self._XaT, self._rw = XaT, rw
        if k == 1:
            # 1-D views hit BLAS gemv through np.dot, the cheapest call
            self._w = self.coef_aug[0]
            self._t = T[:, 0]
            self._bufs = [np.empty(n, dtype=dtype) for _ in range(4)]
        else:
            self._w = self.coef_aug.T  # (d + 1, k) view
            self._t = T
            self._bufs = [np.empty((n, k), dtype=dtype) for _ in range(4)]
        self._g = np.empty(self._w.shape, dtype=dtype)

    def _epoch_small(self):
        H, Y, E, Q = self._bufs
        s, loss, k = self.sample_weight, self.loss, self.n_neurons
        np.dot(self._Xa, self._w, out=H)
        expit(H, out=Y)
        _loss_terms(loss, self._t, Y, H, out=Q)
        if s is None:
            lsum = Q.sum(axis=0)
        else:
            lsum = np.dot(s, Q)
        D = _error_term(loss, self._t, Y, out=E, tmp=Q)
        if self._rw is not None:
            D *= self._rw if k == 1 or self._rw.ndim == 2 else self._rw[:, None]
        np.dot(self._XaT, D, out=self._g)
        if self._alpha:
            self.coef_aug[:, :-1] *= self._decay[:, None]
        self._w += self._g
        return np.atleast_1d(lsum)

    # -- the blocked path: one pass per cache block, leaves summed in order
    def _init_blocked(self, n_threads, block_rows):
        n, d, k, dtype = self.n_samples, self.n_features, self.n_neurons, self.dtype
        if block_rows is None:
            row_bytes = d * dtype.itemsize
            block_rows = max(1, BLOCK_BYTES // (row_bytes * LEAF_ROWS)) * LEAF_ROWS
        elif block_rows % LEAF_ROWS:
            raise ValueError(f"block_rows must be a multiple of {LEAF_ROWS}")
        self.block_rows = block_rows
        n_leaves = -(-n // LEAF_ROWS)
        self._P = np.empty((n_leaves, k, d), dtype=dtype)  # leaf sums of δ x
        self._Pb = np.empty((n_leaves, k), dtype=dtype)  # leaf sums of δ
        self._Pl = np.empty((n_leaves, k), dtype=dtype)  # leaf sums of ℓ
        if n_threads is None:
            n_threads = _blas_threads() if n * d >= PARALLEL_ELEMENTS else 1
        n_threads = max(1, min(n_threads, n_leaves))
        self.n_threads = n_threads
        # contiguous ranges of leaves, one per thread
        bounds = np.linspace(0, n_leaves, n_threads + 1).astype(int)
        self._ranges = list(zip(bounds[:-1], bounds[1:]))
        self._thread_bufs = [
            [np.empty((block_rows, k), dtype=dtype) for _ in range(4)]
            for _ in range(n_threads)
        ]
        self._pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
        self._G = np.empty((k, d), dtype=dtype)

    def _leaf_range(self, leaf0, leaf1, bufs):
        X, T, s, loss = self.X, self.T, self.sample_weight, self.loss
        n, k = self.n_samples, self.n_neurons
        W, b = self.coef_aug[:, :-1], self.coef_aug[:, -1]
        leaves_per_block = self.block_rows // LEAF_ROWS
        for l0 in range(leaf0, leaf1, leaves_per_block):
            l1 = min(l0 + leaves_per_block, leaf1)
            r0, r1 = l0 * LEAF_ROWS, min(l1 * LEAF_ROWS, n)
            m = r1 - r0
            Xb = X[r0:r1]
            H, Y, E, Q = (buf[:m] for buf in bufs)
            np.dot(Xb, W.T, out=H)
            H += b
            expit(H, out=Y)
            Tb = T[r0:r1]
            _loss_terms(loss, Tb, Y, H, out=Q)
            D = _error_term(loss, Tb, Y, out=E, tmp=H)
            if s is not None:
                sb = s[r0:r1, None]
                Q *= sb
                D *= sb
            # full leaves through one batched product, then a last short leaf
            full = m // LEAF_ROWS
            if full:
                rows = full * LEAF_ROWS
                Dl = D[:rows].reshape(full, LEAF_ROWS, k)
                np.matmul(
                    Dl.transpose(0, 2, 1),
                    Xb[:rows].reshape(full, LEAF_ROWS, -1),
                    out=self._P[l0 : l0 + full],
                )
                Dl.sum(axis=1, out=self._Pb[l0 : l0 + full])
                Q[:rows].reshape(full, LEAF_ROWS, k).sum(
                    axis=1, out=self._Pl[l0 : l0 + full]
                )
            if m % LEAF_ROWS:
                rows = full * LEAF_ROWS
                last = l0 + full
                np.dot(D[rows:].T, Xb[rows:], out=self._P[last])
                D[rows:].sum(axis=0, out=self._Pb[last])
                Q[rows:].sum(axis=0, out=self._Pl[last])

    def _epoch_blocked(self):
        if self._pool is None:
            self._leaf_range(*self._ranges[0], self._thread_bufs[0])
        else:
            futures = [
                self._pool.submit(self._leaf_range, a, b, bufs)
                for (a, b), bufs in zip(self._ranges, self._thread_bufs)
            ]
            for f in futures:
                f.result()
        G = self._P.sum(axis=0, out=self._G)
        return self._apply(G, self._Pb.sum(axis=0), self._Pl.sum(axis=0))

    # -- the sparse path: scipy's products -------------------------------
    def _epoch_sparse(self):
        sums = partial_sums(
            self.X, self.T, self.sample_weight, self.coef_aug, loss=self.loss
        )
        return self._apply(*sums)

    def _apply(self, G, gb, lsum):
        apply_step(
            self.coef_aug, G, gb, self._step, self._decay, self.fit_intercept
        )
        return lsum

    # -- public -----------------------------------------------------------
    def run(self, n_epochs):
        """Run ``n_epochs`` epochs; return the loss at the start of each.

        Returns
        -------
        losses : ndarray of shape (n_epochs, n_neurons)
            Weighted mean loss per neuron at the weights each epoch started
            from, plus ``alpha / 2 * ||w||²``.
        """
        epoch = getattr(self, "_epoch_" + self._path)
        losses = np.empty((n_epochs, self.n_neurons))
        penalty = 0.0
        # Our threads split the rows; BLAS runs single-threaded inside them
        # (no oversubscription, and each block's products are reproducible).
        limit = (
            _controller().limit(limits=1, user_api="blas")
            if self._path == "blocked"
            else nullcontext()
        )
        with limit, np.errstate(all="ignore"):
            for i in range(n_epochs):
                if self._alpha:
                    W = self.coef_aug[:, :-1]
                    penalty = 0.5 * self._alpha * np.einsum("kd,kd->k", W, W)
                losses[i] = epoch() / self.weight_sum + penalty
        return losses

    def close(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def partial_sums(X, T, sample_weight, coef_aug, *, loss="squared_error"):
    """The sums one epoch needs over a set of records (a chunk, or all of them).

    Returns ``(Σ s δ x, Σ s δ, Σ s ℓ)`` with shapes ``(k, d)``, ``(k,)``,
    ``(k,)``. Adding the sums of disjoint chunks gives the sums of their union,
    which is how the dask path forms an epoch.
    """
    W, b = coef_aug[:, :-1], coef_aug[:, -1]
    H = np.asarray(X @ W.T)
    H += b
    Y = expit(H)
    L = _loss_terms(loss, T, Y, H, out=np.empty_like(Y))
    D = _error_term(loss, T, Y, out=np.empty_like(Y), tmp=np.empty_like(Y))
    if sample_weight is not None:
        L *= sample_weight[:, None]
        D *= sample_weight[:, None]
    G = np.asarray(X.T @ D).T
    return G.astype(W.dtype, copy=False), D.sum(axis=0), L.sum(axis=0)


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


def _blas_threads():
    """Threads the BLAS may use now (respects ``threadpoolctl`` limits)."""
    counts = [
        info["num_threads"]
        for info in _controller().select(user_api="blas").info()
    ]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    n = min(counts) if counts else (cpus or 1)
    return max(1, min(n, cpus or n))


def predict_unit(X, coef, intercept):
    """``expit(X @ coef.T + intercept)`` of shape (n_samples, n_neurons)."""
    H = np.asarray(X @ coef.T)
    H += intercept
    return expit(H, out=H)


def mean_loss(X, T, sample_weight, coef, intercept, loss="squared_error"):
    """Weighted mean loss per neuron, shape (n_neurons,), at (coef, intercept)."""
    H = np.asarray(X @ coef.T)
    H += intercept
    Y = expit(H)
    L = _loss_terms(loss, T, Y, H, out=np.empty_like(Y))
    if sample_weight is None:
        return L.mean(axis=0)
    return np.dot(sample_weight, L) / sample_weight.sum()
