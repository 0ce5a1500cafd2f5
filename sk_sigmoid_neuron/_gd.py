"""The numeric kernel: one epoch of the documented rule, and nothing else.

Every public entry point (``fit``, ``partial_fit``, the learning-rate bank of the
CV estimator, the dask path) trains through :class:`EpochKernel`, or, for data
that lives in chunks, through :func:`partial_sums` followed by :func:`apply_step`.

An epoch for ``k`` neurons (outputs, or learning rates of a bank) on ``n``
records with weights ``s``::

    H = X @ W.T + b                 (n, k)
    Y = expit(H) = 1 / (1 + exp(-H))
    D = s * (T - Y) * Y * (1 - Y)   squared error (the documented rule)
    D = s * (T - Y)                 log loss (fractional logit)
    W += lr / S * (D.T @ X) - lr * alpha * W
    b += lr / S * D.sum(axis=0)     (only with fit_intercept)

Paths (``EpochKernel.path``):

``"numba"``
    Dense C- or F-contiguous data when numba imports (see ``BACKEND``), for
    up to ``NUMBA_MAX_NEURONS`` neurons (wider banks are faster on numpy): fused
    compiled passes over cache-sized leaves of rows (``_numba``). Small data
    (``SMALL_ELEMENTS``): all epochs in one call, on a private copy of X.T.
    Otherwise one call per epoch and thread, each on a range of leaves: of
    X.T (a view for F-ordered X; a copy for C-ordered X up to
    ``NUMBA_COPY_ELEMENTS``), or of X itself (larger C-ordered X).
``"small"``
    numpy, ``n * d <= SMALL_ELEMENTS``: X copied once with a column of ones so
    the bias folds into the products; per epoch eight numpy calls and no
    allocation; the losses of a batch of epochs computed after it.
``"blocked"``
    numpy, larger dense data, never copied: cache blocks of whole leaves, each
    read from memory once, threads over ranges of leaves.
``"bank"``
    A bank of more than ``NUMBA_MAX_NEURONS`` neurons (squared error) on data
    the blocked path would train, when numba imports: the neurons in groups
    of at most ``BANK_GROUP_NEURONS``, each group's epochs all in one
    compiled call without the GIL (``_numba.bank_epochs``: BLAS products per
    leaf, a vectorised exp, flat elementwise passes), the groups on
    threads of their own. 16 neurons on 8,000 x 20: 0.21 ms per epoch on two
    threads, 0.43 ms on one (the numpy blocked path: 0.78 ms).
``"sparse"``
    CSR/CSC through scipy's products, one thread (a fused compiled pass over
    CSR entries, tried, was slower than scipy's two products); for one neuron
    with the squared error and numba, the elementwise work between the two
    products in one compiled call (``_numba.sparse_errors``).

Determinism: on the blocked and numba paths the sums over records are formed
per *leaf* of ``LEAF_ROWS`` consecutive rows and the leaves are then added in
a fixed order, so the result does not depend on how many threads run or how
many leaves a cache block holds (the small paths run on one thread). The
small paths, and the blocked path, also give the same bits for C- and
F-ordered X. On the bank path each group's sums come from the same calls
whatever thread runs it, and the groups depend on the number of neurons
only. Paths differ from each other only in summation order, and in the
sigmoid's last bit: the blocked path computes the squared error's
``1 / (1 + exp(-h))`` with numpy's vectorised exp, the bank path, the
numba path by columns and the compiled sparse pass with their own
(``_numba.exp_inplace``, within one ulp), the numba path by rows and scipy's
``expit`` (the other paths, and the log loss) with the C library's.

float32 data stays float32: every buffer and every scalar that meets the data
has X's dtype (a float64 scalar would promote whole arrays under NumPy 2).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import lru_cache

import numpy as np
from scipy import sparse
from scipy.special import expit
from threadpoolctl import ThreadpoolController

# Which implementation trains dense contiguous data: "auto" uses the compiled
# kernel when numba imports and numpy otherwise; "numpy" never imports numba;
# "numba" requires it (ImportError without it). Private; tests monkeypatch it.
BACKEND = "auto"

# Rows per unit of summation; the reduction tree is fixed by this number only.
LEAF_ROWS = 256
# Bytes of X (and work buffers) per cache block on the blocked path, and the
# most leaves a block holds (the buffers stay small beside X for narrow X).
BLOCK_BYTES = 1 << 22
MAX_BLOCK_LEAVES = 32
# ... and at most this many bytes of work buffers (four per neuron), which
# several neurons pass over several times per block: they stay in L2 (16
# neurons on 8,000 x 20 take 0.85 of the time they take with blocks sized by
# BLOCK_BYTES alone).
BUFFER_BYTES = 1 << 19
# Below this many elements of X, copying X (with a column of ones folded in for
# the bias) is cheaper than the extra calls it saves; above it X is never copied.
SMALL_ELEMENTS = 1 << 16
# Elements of a small-path loss history (the errors of a batch of epochs).
SMALL_HISTORY = 1 << 16
# Products smaller than this run on one BLAS thread anyway (OpenBLAS splits a
# matrix-vector product from 9216 elements on).
SERIAL_BLAS_ELEMENTS = 1 << 13
# Up to this many elements, the numba path trains C-ordered X on a copy of X.T
# (4 MiB in float64), by columns.
NUMBA_COPY_ELEMENTS = 1 << 19
# Banks of more neurons than this leave the "numba" path, which computes each
# neuron's dot products and sigmoid one by one, for the "bank" path (squared
# error, beyond SMALL_ELEMENTS; numpy paths otherwise). On 8,000 x 20, one
# thread, per epoch: 6 neurons 0.39 ms numba, 0.22 ms bank; 16 neurons 0.43 ms
# bank (0.21 ms on two threads). Up to 6 neurons the numba path splits the
# rows over threads, which keeps it close on larger data (100,000 x 50, two
# threads, 6 neurons: 7.7 ms numba, 6.8-7.6 ms bank, which has one group);
# the threshold predates the bank's rewrite and is not re-tuned yet.
NUMBA_MAX_NEURONS = 6
# Neurons per group on the bank path: each group is one BLAS product per leaf,
# and groups train on threads of their own (16 learning rates: two groups).
BANK_GROUP_NEURONS = 8
# Rows per leaf on the bank path: four BLAS calls per leaf and group (16
# neurons on 8,000 x 20, two threads, measured before the exp was fused into
# the errors pass: 0.23 ms per epoch with 512 or 1024 rows, 0.26 ms with 256).
BANK_LEAF_ROWS = 1 << 10
# Multiply-adds of X @ W.T per compiled call of the bank path at most (about
# 0.2 s on one core), so that an interrupt is handled soon.
BANK_CALL_ELEMENTS = 1 << 30
# Below this many elements of X, one thread does all the work: under it, the
# cost of waking a second thread each epoch exceeds what it saves.
PARALLEL_ELEMENTS = 1 << 21

_LOSS_CODES = {"squared_error": 0, "log_loss": 1}


def _loss_terms(loss, T, Y, H, out, tmp=None):
    """Per-record loss ``ℓ`` into ``out`` (same shape as ``Y``); ``tmp`` is
    scratch of that shape for the log loss (None allocates)."""
    if loss == "squared_error":
        np.subtract(T, Y, out=out)
        np.multiply(out, out, out=out)
        out *= 0.5
    else:
        # -t log(y) - (1 - t) log(1 - y) = softplus(h) - t h, without log(0)
        np.logaddexp(0, H, out=out)
        out -= np.multiply(T, H, out=tmp)
    return out


def _error_term(loss, T, Y, out, tmp):
    """``δ`` (unweighted) into ``out``: the rule's error term for ``loss``."""
    np.subtract(T, Y, out=out)
    if loss == "squared_error":
        np.subtract(1, Y, out=tmp)
        tmp *= Y
        out *= tmp
    return out


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


def _compiled_kernels(X):
    """The ``_numba`` module if it should train ``X``, else None."""
    _numba = _numba_module()
    if _numba is None:
        return None
    usable = (
        X.dtype in (np.float32, np.float64)
        and X.ndim == 2
        and (X.flags.c_contiguous or X.flags.f_contiguous)
    )
    return _numba if usable else None


class EpochKernel:
    """Run epochs of the documented rule on fixed data.

    The kernel owns the parameters while it trains: set them with
    :meth:`set_params`, run :meth:`run`, read them with :meth:`get_params`.
    Nothing here validates user input; the estimators do that.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64. Copied only when small: ``n * d <=
        SMALL_ELEMENTS``, and on the numba path C-ordered X up to
        ``NUMBA_COPY_ELEMENTS``.
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
        Threads for the blocked, numba and bank paths; None uses the BLAS
        thread limit (``threadpoolctl``) for large data (on the bank path: for
        a call of ``run`` with enough work) and 1 otherwise.
    block_rows : int or None
        Rows per cache block of the blocked path (a multiple of
        ``LEAF_ROWS``); None sizes it from ``BLOCK_BYTES``. It changes speed,
        never the result.
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
        self.squared = loss == "squared_error"
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
        self._step = (learnrate / wsum).astype(dtype)  # lr / S, per neuron
        self._decay = (1 - learnrate * alpha).astype(dtype)  # weight decay by L2
        self._alpha = float(alpha)
        # parameters: column d is the intercept
        self.coef_aug = np.zeros((k, d + 1), dtype=dtype)
        self._pool = None
        self._nb = None  # the compiled kernels, when they train this X
        if block_rows is not None and (block_rows <= 0 or block_rows % LEAF_ROWS):
            raise ValueError(
                f"block_rows must be a positive multiple of {LEAF_ROWS}, "
                f"got {block_rows}"
            )

        compiled = None if sparse.issparse(X) else _compiled_kernels(X)
        bank = compiled if k > NUMBA_MAX_NEURONS and self.squared else None
        if k > NUMBA_MAX_NEURONS:
            compiled = None
        if sparse.issparse(X):
            self.path = "sparse"
            self.n_threads = 1
            self._init_sparse()
        elif bank is not None and n * d > SMALL_ELEMENTS:
            self.path = "bank"
            self._init_bank(bank, n_threads)
        elif compiled is not None:
            self.path = "numba"
            self._init_numba(compiled, n_threads)
        elif n * d <= SMALL_ELEMENTS:
            self.path = "small"
            self.n_threads = 1
            self._init_small()
        else:
            self.path = "blocked"
            self._init_blocked(n_threads, block_rows)

    @property
    def backend(self):
        """``"numba"`` when compiled code trains X, ``"numpy"`` otherwise."""
        return "numpy" if self._nb is None else "numba"

    # -- parameters -------------------------------------------------------
    def set_params(self, coef, intercept):
        self.coef_aug[:, :-1] = coef
        self.coef_aug[:, -1] = intercept

    def get_params(self):
        return self.coef_aug[:, :-1].copy(), self.coef_aug[:, -1].copy()

    def _penalty(self):
        """``alpha / 2 ||w||²`` per neuron at the current weights (float64)."""
        if not self._alpha:
            return 0.0
        W = self.coef_aug[:, :-1]
        return 0.5 * self._alpha * np.einsum("kd,kd->k", W, W).astype(np.float64)

    def _threads(self, n_threads, parallel_elements):
        n_leaves = -(-self.n_samples // LEAF_ROWS)
        if n_threads is None:
            big = self.n_samples * self.n_features >= parallel_elements
            n_threads = _blas_threads() if big else 1
        n_threads = max(1, min(int(n_threads), n_leaves))
        self.n_threads = n_threads
        # contiguous ranges of leaves, one per thread
        bounds = np.linspace(0, n_leaves, n_threads + 1).astype(int)
        self._ranges = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        if n_threads > 1:
            self._pool = ThreadPoolExecutor(n_threads)
        return n_leaves

    # -- the numba path: fused compiled passes ----------------------------
    def _init_numba(self, nb, n_threads):
        X, dtype, k = self.X, self.dtype, self.n_neurons
        n, d = X.shape
        self._nb = nb
        self._init_targets()
        self._small = n * d <= SMALL_ELEMENTS
        if self._small:
            # all epochs in one call, by columns of a copy: the same bits
            # whatever the order of the user's X
            self._x = np.array(X.T, order="C")  # a writable copy, always
            self.n_threads = 1
            return
        # by columns (X.T by rows) for F-ordered X, and for C-ordered X small
        # enough that a copy of X.T costs less memory than it saves time
        # (the column pass beats the row pass while X sits in cache); by rows
        # for larger C-ordered X, never copied
        self._colmajor = not X.flags.c_contiguous or n * d <= NUMBA_COPY_ELEMENTS
        if not self._colmajor:
            self._x = X
        elif X.flags.f_contiguous:
            self._x = X.T
        else:
            self._x = np.array(X.T, order="C")
        n_leaves = self._threads(n_threads, PARALLEL_ELEMENTS)
        self._P = np.empty((n_leaves, k, d), dtype=dtype)
        self._Pb = np.empty((n_leaves, k), dtype=dtype)
        self._Pl = np.empty((n_leaves, k), dtype=dtype)

    def _init_targets(self):
        """What the compiled kernels take besides X (see ``_targets``)."""
        k, dtype = self.n_neurons, self.dtype
        self.T = np.ascontiguousarray(self.T)
        # the target column of each neuron: its own, or the one shared column
        shared = self.T.shape[1] == 1
        self._tcol = np.zeros(k, np.intp) if shared else np.arange(k, dtype=np.intp)
        s = self.sample_weight
        self._s = np.ascontiguousarray(s) if s is not None else np.empty(0, dtype)
        self._c = np.array([0.0, 0.5, 1.0], dtype=dtype)  # zero, half, one
        self._expc = self._nb.exp_constants(dtype)

    def _targets(self):
        """``(T, target column per neuron, s, weighted, constants, those of
        the compiled exp)``."""
        weighted = self.sample_weight is not None
        return self.T, self._tcol, self._s, weighted, self._c, self._expc

    def _update(self):
        """``(step, decay, fit_intercept, alpha, weight_sum)``."""
        return (
            self._step,
            self._decay,
            self.fit_intercept,
            self._alpha,
            self.weight_sum,
        )

    def _run_numba(self, n_epochs):
        nb, losses = self._nb, np.empty((n_epochs, self.n_neurons))
        data, update = self._targets(), self._update()
        loss = _LOSS_CODES[self.loss]
        if self._small:
            nb.run_epochs(self._x, data, self.coef_aug, update, loss, LEAF_ROWS, losses)
            return losses
        sums = (self._P, self._Pb, self._Pl)
        shares = [
            (self._x, self._colmajor, data, self.coef_aug, loss, a, b, LEAF_ROWS, sums)
            for a, b in self._ranges
        ]
        for i in range(n_epochs):
            if self._pool is None:
                nb.leaf_sums(*shares[0])
            else:
                for f in [self._pool.submit(nb.leaf_sums, *a) for a in shares]:
                    f.result()
            nb.reduce_step(sums, self.coef_aug, update, losses[i], self._c)
        return losses

    # -- the bank path: groups of neurons, all epochs in one compiled call
    def _init_bank(self, nb, n_threads):
        X, n, k = self.X, self.n_samples, self.n_neurons
        self._nb = nb
        self._init_targets()
        self._colmajor = not X.flags.c_contiguous
        self._x = X.T if self._colmajor else X  # C-ordered either way, a view
        # the groups depend on k alone, so no thread count changes a bit
        n_groups = -(-k // BANK_GROUP_NEURONS)
        self._bounds = np.linspace(0, k, n_groups + 1).astype(np.intp)
        # targets and weights by group (see _numba.bank_epochs): n * k values
        # each (the targets as given when they are one group already)
        T = np.broadcast_to(self.T, (n, k))
        s = self.sample_weight
        Sg = np.empty(n * k if s is not None else 0, self.dtype)
        given = n_groups == 1 and self.T.shape[1] == k  # C-ordered (n, k)
        Tg = self.T.reshape(-1) if given else np.empty(n * k, self.dtype)
        for a, z in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            if not given:
                Tg[n * a : n * z] = T[:, a:z].ravel()
            if s is not None:
                Sg[n * a : n * z] = np.repeat(s, z - a)
        self._bank_data = (Tg, self._tcol, Sg, s is not None, self._c, self._expc)
        self._threads_given = n_threads is not None
        n_threads = _blas_threads() if n_threads is None else int(n_threads)
        self.n_threads = max(1, min(n_threads, n_groups))
        # contiguous ranges of groups, one per thread
        bounds = np.linspace(0, n_groups, self.n_threads + 1).astype(int)
        self._ranges = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        if self.n_threads > 1:
            self._pool = ThreadPoolExecutor(self.n_threads)

    def _run_bank(self, n_epochs):
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        losses = np.empty((n_epochs, k))
        args = (self._x, self._colmajor, self._bank_data, self.coef_aug)
        args += (self._update(), self._bounds)
        groups = [(0, len(self._bounds) - 1)]
        # threads pay once the call's work outweighs waking them
        if self._pool is not None and (
            self._threads_given or n_epochs * n * d * k >= PARALLEL_ELEMENTS
        ):
            groups = self._ranges
        # compiled calls of bounded work: Ctrl-C waits for the one running
        chunk = max(1, BANK_CALL_ELEMENTS // (n * d * k))
        for start in range(0, n_epochs, chunk):
            rest = (BANK_LEAF_ROWS, losses[start : start + chunk])
            if len(groups) == 1:
                self._nb.bank_epochs(*args, *groups[0], *rest)
                continue
            futures = [
                self._pool.submit(self._nb.bank_epochs, *args, g0, g1, *rest)
                for g0, g1 in groups
            ]
            for f in futures:
                f.result()
        return losses

    # -- the small path: X copied once with the bias folded in ----------
    def _init_small(self):
        X, T, s, dtype = self.X, self.T, self.sample_weight, self.dtype
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        Xa = np.empty((n, d + 1), dtype=dtype)
        Xa[:, :d] = X
        Xa[:, d] = 1
        self._Xa = Xa
        # steps = XaT_scaled @ δ: the sample weights, and the learning rate and
        # 1/S when the neurons share them, folded into X once
        XaT = Xa.T.copy()  # never a view of Xa (n == 1 makes Xa.T contiguous)
        if not self.fit_intercept:
            XaT[d] = 0
        if s is not None:
            XaT *= s
        self._gscale = self._step  # per-neuron steps, applied to the sums
        if np.all(self._step == self._step[0]):
            with np.errstate(over="ignore"):
                folded = XaT * self._step[0]
            # unless folding overflows where the rule itself would not (huge
            # X times a huge step: the sums of saturated records are 0)
            if np.isfinite(folded).all() or not np.isfinite(XaT).all():
                XaT, self._gscale = folded, None
        self._XaT = XaT
        self._s1 = np.ones(n, dtype=dtype) if s is None else s
        if k == 1:
            # 1-D views hit BLAS gemv through np.dot, the cheapest call
            self._w = self.coef_aug[0]
            self._t = T[:, 0]
            shape = (n,)
        else:
            self._w = self.coef_aug.T  # (d + 1, k) view
            self._t = T
            shape = (n, k)
        self._bufs = [np.empty(shape, dtype=dtype) for _ in range(3)]
        self._one = np.ones(shape, dtype=dtype)
        self._g = np.empty(self._w.shape, dtype=dtype)

    def _run_small(self, n_epochs):
        """Epochs with eight numpy calls each; losses after each batch.

        The loop keeps, per epoch, the errors ``t - ŷ`` (squared error) or
        ``h`` (log loss) in a history; the losses of a batch of epochs then
        take a few vectorised calls instead of several calls per epoch. Calls
        pass ``out`` by position and the constant 1 as an array: each call on
        small data costs its overhead, not its arithmetic.
        """
        H, Y, D = self._bufs
        forward, backward = self._Xa.dot, self._XaT.dot
        w, t, g, one, gscale = self._w, self._t, self._g, self._one, self._gscale
        subtract, multiply, add = np.subtract, np.multiply, np.add
        squared = self.loss == "squared_error"
        alpha, k = self._alpha, self.n_neurons
        W = self.coef_aug[:, :-1]
        Wv = W[0] if k == 1 else W
        decay = self._decay if k == 1 else self._decay[:, None]
        n_batch = max(1, min(n_epochs, SMALL_HISTORY // H.size))
        hist = np.empty((n_batch,) + H.shape, dtype=self.dtype)
        W_hist = np.empty((n_batch,) + W.shape, dtype=self.dtype) if alpha else None
        plain = squared and gscale is None and not alpha
        losses = np.empty((n_epochs, k))
        for start in range(0, n_epochs, n_batch):
            m = min(n_batch, n_epochs - start)
            if plain:  # the documented rule: the common case, no branches
                for e in hist[:m]:
                    forward(w, H)  # h
                    expit(H, Y)  # ŷ
                    subtract(t, Y, e)  # e = t - ŷ
                    subtract(one, Y, D)
                    multiply(D, Y, D)
                    multiply(e, D, D)  # δ = e (1 - ŷ) ŷ
                    backward(D, g)  # lr / S Σ s δ x
                    add(w, g, w)
            else:
                for i, row in enumerate(hist[:m]):
                    if squared:
                        forward(w, H)
                        expit(H, Y)
                        subtract(t, Y, row)
                        subtract(one, Y, D)
                        multiply(D, Y, D)
                        multiply(row, D, D)
                    else:
                        forward(w, row)  # h
                        expit(row, Y)
                        subtract(t, Y, D)  # δ = t - ŷ
                    backward(D, g)
                    if gscale is not None:
                        multiply(g, gscale, g)
                    if alpha:
                        W_hist[i] = W
                        multiply(Wv, decay, Wv)
                    add(w, g, w)
            losses[start : start + m] = self._small_losses(hist[:m], W_hist)
        return losses

    def _small_losses(self, hist, W_hist):
        """Mean losses of a batch of epochs from their recorded history."""
        m = hist.shape[0]
        if self.loss == "squared_error":
            ell = np.multiply(hist, hist, out=hist)  # e², in place
        else:
            ell = np.logaddexp(0, hist)  # softplus(h) - t h
            hist *= self._t
            ell -= hist
        if hist.ndim == 2:
            sums = np.dot(ell, self._s1)[:, None]  # (m, 1)
        else:
            sums = np.matmul(self._s1, ell)  # (m, k)
        if self.loss == "squared_error":
            sums *= 0.5
        out = sums.astype(np.float64) / self.weight_sum
        if W_hist is not None:
            pen = np.einsum("mkd,mkd->mk", W_hist[:m], W_hist[:m])
            out += 0.5 * self._alpha * pen.astype(np.float64)
        return out

    # -- the blocked path: one pass per cache block, leaves summed in order
    def _init_blocked(self, n_threads, block_rows):
        X, n, d, k = self.X, self.n_samples, self.n_features, self.n_neurons
        dtype = self.dtype
        if block_rows is None:
            # a block's rows of X and of the four work buffers fill BLOCK_BYTES,
            # the buffers alone at most BUFFER_BYTES
            row_bytes = (d + 4 * k) * dtype.itemsize
            leaves = min(
                BLOCK_BYTES // (row_bytes * LEAF_ROWS),
                BUFFER_BYTES // (4 * k * dtype.itemsize * LEAF_ROWS),
            )
            block_rows = min(max(1, leaves), MAX_BLOCK_LEAVES) * LEAF_ROWS
        self.block_rows = block_rows
        n_leaves = self._threads(n_threads, PARALLEL_ELEMENTS)
        # X's whole leaves as a stack (a view, whatever X's order): each product
        # below is one BLAS call per leaf of the same shape, so a leaf's sums
        # never depend on the block or the thread it falls in
        s0, s1 = X.strides
        self._full_leaves = n // LEAF_ROWS
        self._leaves = np.lib.stride_tricks.as_strided(
            X,
            (self._full_leaves, LEAF_ROWS, d),
            (LEAF_ROWS * s0, s0, s1),
            writeable=False,
        )
        self._P = np.empty((n_leaves, k, d), dtype=dtype)  # leaf sums of δ x
        self._Pb = np.empty((n_leaves, k), dtype=dtype)  # leaf sums of δ
        self._Pl = np.empty((n_leaves, k), dtype=dtype)  # leaf sums of ℓ
        self._thread_bufs = [
            [np.empty((block_rows, k), dtype=dtype) for _ in range(4)]
            for _ in range(self.n_threads)
        ]
        self._G = np.empty((k, d), dtype=dtype)
        self._ones = np.ones(LEAF_ROWS, dtype=dtype)

    def _leaf_range(self, leaf0, leaf1, bufs):
        """The sums of leaves ``leaf0:leaf1`` into ``_P``, ``_Pb``, ``_Pl``,
        one cache block of leaves at a time (``ℓ`` without the squared
        error's 1/2, applied to the total)."""
        # exp(-h) overflows to inf for saturated records (ŷ = 0, as intended);
        # numpy's error state is per thread, so each worker sets its own
        with np.errstate(all="ignore"):
            self._blocks(leaf0, leaf1, bufs)

    def _blocks(self, leaf0, leaf1, bufs):
        """:meth:`_leaf_range`'s work."""
        X, T, s, squared = self.X, self.T, self.sample_weight, self.squared
        n, k, full_leaves = self.n_samples, self.n_neurons, self._full_leaves
        W, b = self.coef_aug[:, :-1], self.coef_aug[:, -1]
        minus_b = -b
        ones = self._ones
        P, Pb, Pl = self._P, self._Pb, self._Pl
        per_block = self.block_rows // LEAF_ROWS
        for l0 in range(leaf0, leaf1, per_block):
            l1 = min(l0 + per_block, leaf1)
            r0, r1 = l0 * LEAF_ROWS, min(l1 * LEAF_ROWS, n)
            lf = min(l1, full_leaves)  # whole leaves l0:lf, then maybe a short one
            rows = (lf - l0) * LEAF_ROWS
            m = r1 - r0
            H, Y, E, Q = (buf[:m] for buf in bufs)
            Xl = self._leaves[l0:lf]
            if rows:
                np.matmul(Xl, W.T, out=H[:rows].reshape(lf - l0, LEAF_ROWS, k))
            if rows < m:
                np.dot(X[r0 + rows : r1], W.T, out=H[rows:])
            Tb = T[r0:r1]
            if squared:
                # ŷ = 1 / (1 + exp(-h)), scipy's expit formula, from numpy's
                # vectorised exp: half expit's time on a bank of neurons
                np.subtract(minus_b, H, out=Y)  # -h (negation is exact)
                np.exp(Y, out=Y)
                np.add(Y, 1, out=Y)
                np.divide(1, Y, out=Y)
                np.subtract(Tb, Y, out=E)  # e
                np.multiply(E, E, out=Q)  # ℓ = e² / 2
                np.subtract(1, Y, out=H)
                H *= Y
                E *= H  # δ = e (1 - ŷ) ŷ
            else:
                H += b
                expit(H, out=Y)
                np.logaddexp(0, H, out=Q)
                np.multiply(Tb, H, out=E)
                Q -= E  # ℓ = softplus(h) - t h
                np.subtract(Tb, Y, out=E)  # δ = t - ŷ
            if s is not None:
                sb = s[r0:r1, None]
                Q *= sb
                E *= sb
            # column sums as products with ones: BLAS, several times faster
            # than numpy's strided sums over axis 0
            if rows:
                El = E[:rows].reshape(lf - l0, LEAF_ROWS, k)
                np.matmul(El.transpose(0, 2, 1), Xl, out=P[l0:lf])
                np.matmul(ones, El, out=Pb[l0:lf])
                Ql = Q[:rows].reshape(lf - l0, LEAF_ROWS, k)
                np.matmul(ones, Ql, out=Pl[l0:lf])
            if rows < m:
                np.dot(E[rows:].T, X[r0 + rows : r1], out=P[lf])
                np.dot(ones[: m - rows], E[rows:], out=Pb[lf])
                np.dot(ones[: m - rows], Q[rows:], out=Pl[lf])

    def _epoch_blocked(self):
        if self._pool is None:
            self._leaf_range(*self._ranges[0], self._thread_bufs[0])
        else:
            futures = [
                self._pool.submit(self._leaf_range, a, b, bufs)
                for (a, b), bufs in zip(self._ranges, self._thread_bufs, strict=True)
            ]
            for f in futures:
                f.result()
        G = self._P.sum(axis=0, out=self._G)
        lsum = self._Pl.sum(axis=0)
        if self.squared:
            lsum *= 0.5
        return self._apply(G, self._Pb.sum(axis=0), lsum)

    # -- the sparse path: scipy's products -------------------------------
    def _init_sparse(self):
        n, k = self.n_samples, self.n_neurons
        self._XT = self.X.T  # CSC for CSR X and vice versa: no copy
        self._bufs = [np.empty((n, k), dtype=self.dtype) for _ in range(2)]
        # one neuron with the squared error: the elementwise work compiled
        # (numba imported for that case only)
        nb = _numba_module() if k == 1 and self.squared else None
        if nb is not None:
            self._nb = nb
            self._init_targets()

    def _epoch_sparse(self):
        """One epoch with scipy's products; elementwise work in two buffers.

        One neuron works on vectors (scipy's matrix-vector product, and the
        loss as one dot product), several on (n, k) arrays.
        """
        X, XT, T, s, k = self.X, self._XT, self.T, self.sample_weight, self.n_neurons
        W, b = self.coef_aug[:, :-1], self.coef_aug[:, -1]
        E, Q = self._bufs
        if self._nb is not None:  # one neuron, squared error, compiled
            D = np.asarray(X @ W[0], dtype=self.dtype).ravel()  # h, then s δ
            gb, lsum = self._nb.sparse_errors(D, b[0], self._targets())
            G = np.asarray(XT @ D).reshape(1, -1)
            gb, lsum = np.atleast_1d(gb), np.atleast_1d(lsum)
            return self._apply(G.astype(self.dtype, copy=False), gb, lsum)
        if k == 1:
            T, E, Q = T[:, 0], E[:, 0], Q[:, 0]
            H = np.asarray(X @ W[0]).ravel()
        else:
            H = np.asarray(X @ W.T)
            s = None if s is None else s[:, None]
        H += b
        Y = expit(H)
        if self.squared:
            np.subtract(T, Y, out=E)  # e = t - ŷ
            if k == 1:
                ell = E if s is None else np.multiply(E, s, out=Q)
                lsum = np.atleast_1d(np.dot(ell, E))
            else:
                np.multiply(E, E, out=Q)
                lsum = Q.sum(axis=0) if s is None else np.dot(s[:, 0], Q)
            lsum *= 0.5
            np.subtract(1, Y, out=Q)
            Q *= Y
            E *= Q  # δ = e (1 - ŷ) ŷ
        else:
            np.logaddexp(0, H, out=Q)
            H *= T
            Q -= H  # softplus(h) - t h
            if s is not None:
                Q *= s
            lsum = np.atleast_1d(Q.sum(axis=0))
            np.subtract(T, Y, out=E)  # δ = t - ŷ
        if s is not None:
            E *= s
        if k == 1:
            G = np.asarray(XT @ E).reshape(1, -1)
        else:
            G = np.asarray(XT @ E).T
        gb = np.atleast_1d(E.sum(axis=0))
        return self._apply(G.astype(self.dtype, copy=False), gb, lsum)

    def _apply(self, G, gb, lsum):
        apply_step(self.coef_aug, G, gb, self._step, self._decay, self.fit_intercept)
        return lsum

    def _run_epochwise(self, n_epochs):
        epoch = getattr(self, "_epoch_" + self.path)
        losses = np.empty((n_epochs, self.n_neurons))
        for i in range(n_epochs):
            penalty = self._penalty()
            losses[i] = epoch().astype(np.float64) / self.weight_sum + penalty
        return losses

    # -- public -----------------------------------------------------------
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
        # Our threads split the rows; BLAS runs single-threaded inside them
        # (no oversubscription, and each block's products are reproducible).
        # On the small path too, once X is large enough for a BLAS to split a
        # product over threads (which can change its sums); below that size
        # the limit would cost more than an epoch.
        serial_blas = self.path in ("blocked", "bank") or (
            self.path == "small" and self._Xa.size >= SERIAL_BLAS_ELEMENTS
        )
        limit = one_blas_thread() if serial_blas else nullcontext()
        with limit, np.errstate(all="ignore"):
            if self.path == "numba":
                return self._run_numba(n_epochs)
            if self.path == "bank":
                return self._run_bank(n_epochs)
            if self.path == "small":
                return self._run_small(n_epochs)
            return self._run_epochwise(n_epochs)

    def close(self):
        if self._pool is not None:
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
    # one neuron: matrix-vector products (scipy's and BLAS's cheapest call)
    one = W.shape[0] == 1
    H = np.asarray(X @ W[0])[:, None] if one else np.asarray(X @ W.T)
    H += b
    Y = expit(H)
    tmp = np.empty_like(Y)
    L = _loss_terms(loss, T, Y, H, out=np.empty_like(Y), tmp=tmp)
    D = _error_term(loss, T, Y, out=np.empty_like(Y), tmp=tmp)
    if sample_weight is not None:
        L *= sample_weight[:, None]
        D *= sample_weight[:, None]
    G = np.asarray(X.T @ D[:, 0])[None, :] if one else np.asarray(X.T @ D).T
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
