r"""The array engine: the rule with the operations of X's namespace, numpy included.

The sums of an epoch over records ``(X, T, s)`` for the weights ``W`` (k, d)
and the intercepts ``b`` (k,)::

    H = X Wᵀ;  H = 0 where s = 0;  H += b
    Ŷ = 1 / (1 + exp(-H))
    D = s δ(T, Ŷ);  L = s ℓ(T, Ŷ, H)        (the loss table, ``_loss``)
    Σ sδx = Dᵀ X;  Σ sδ;  Σ sℓ

:func:`terms` is the one place of this engine where the sigmoid, the error
term, the loss and the weights meet the records; a record of weight 0 has its
``x · w`` (which may overflow to NaN) set to 0 first, so that it adds exact
zeros. The sparse engine and the sources' passes (validation loss,
predictions) use the same functions.

:class:`ArrayKernel` forms numpy's sums by *leaves* of ``LEAF_ROWS``
consecutive rows: each leaf's sums are computed alone (a batched matrix
product over a stack of leaves), then the leaves are added in leaf order, so
the result depends neither on how many threads run nor on how many leaves a
block holds. The leaves come in cache-sized blocks, each read from memory
once, and threads take ranges of leaves. Other namespaces take all rows as
one leaf: the products of their own library on X's device.
"""

import numpy as np
from scipy import sparse

from .._loss import get_loss
from .._namespace import numpy_dtype, to_namespace, to_numpy, xp_of
from ._base import LEAF_ROWS, PARALLEL_ELEMENTS, Kernel

# numpy X of at most this many elements with records of weight 0 (a CV
# fold's held-out ones, early stopping's validation ones) is trained on a
# copy of its other records: the epochs skip the rest, for a copy of X.
COPY_ELEMENTS = 1 << 19
# Bytes of X and of the work arrays per cache block, the most leaves a block
# holds (the work arrays stay small beside X for narrow X), and the most
# bytes of work arrays (several per neuron), which stay in L2.
BLOCK_BYTES = 1 << 22
MAX_BLOCK_LEAVES = 32
BUFFER_BYTES = 1 << 19


def sigmoid(xp, H):
    """``1 / (1 + exp(-h))``: 0 where ``exp(-h)`` overflows, no warning
    under ``np.errstate(over="ignore")``."""
    return 1 / (1 + xp.exp(-H))


def terms(xp, H, T, s, zero, b, loss, delta=True):
    """``(s δ, s ℓ)`` of a set of records from ``H = X Wᵀ`` (n, k).

    ``T`` holds the targets (one column, or one per neuron), ``s`` the
    weights (None: 1), ``zero`` the mask of the records of weight 0 (or
    None), ``b`` the intercepts (k,). ``delta=False`` skips ``s δ`` (None).
    """
    if zero is not None:
        H = xp.where(zero[:, None], xp.zeros_like(H[:1, ...]), H)
    H = H + b
    Y = sigmoid(xp, H)
    record = get_loss(loss)
    L = record.value(T, Y, H, xp=None if xp is np else xp)
    D = record.error_term(T, Y) if delta else None
    if s is not None:
        sw = s[:, None]
        L = L * sw
        D = None if D is None else D * sw
    return D, L


def terms_into(H, T, s, zero, b, loss, Y, Q, E):
    """:func:`terms` for numpy in buffers, operation for operation (the same
    bits): ``H`` (m, k) becomes ``s δ``, ``Q`` receives ``s ℓ``; ``Y`` and
    ``E`` are scratch of H's shape, ``zero`` as for :func:`terms`."""
    if zero is not None:
        H[zero] = 0
    H += b
    np.negative(H, out=Y)  # ŷ = 1 / (1 + exp(-h)), as sigmoid()
    np.exp(Y, out=Y)
    Y += 1
    np.divide(1, Y, out=Y)
    record = get_loss(loss)
    record.value_into(T, Y, H, out=Q, tmp=E)
    record.error_term_into(T, Y, H, out=H, tmp=E)
    if s is not None:
        sw = s[:, None]
        Q *= sw
        H *= sw
    return H, Q


def _product(X, W):
    """``X Wᵀ`` as an array of X's namespace (scipy's product for sparse X)."""
    if sparse.issparse(X):
        return np.asarray(X @ W.T)
    return X @ W.T


def loss_sums(X, T, s, coef, intercept, loss):
    """``Σ s ℓ`` per neuron at ``(coef, intercept)`` (numpy), float64 numpy,
    over a set of records of any namespace (dense or sparse)."""
    xp, device, is_numpy = xp_of(X)
    dtype = X.dtype if is_numpy else numpy_dtype(xp, X.dtype)
    W, b = np.asarray(coef, dtype), np.asarray(intercept, dtype)
    if not is_numpy:
        W, b = to_namespace(W, xp, device), to_namespace(b, xp, device)
    zero = None if s is None else s == 0
    with np.errstate(all="ignore"):
        _, L = terms(xp, _product(X, W), T, s, zero, b, loss, delta=False)
        return np.asarray(to_numpy(xp.sum(L, axis=0)), dtype=np.float64)


def predict_unit(X, coef, intercept):
    """``σ(X wᵀ + b)`` (n_samples, n_neurons) in X's namespace and dtype, also
    where ``X w`` overflows.

    Overflowing products make ``h`` inf - inf (NaN) or an infinity of either
    sign. Rows with a non-finite ``h`` are recomputed as ``h = a g c + b``,
    with ``a``, ``c`` the largest ``|x|`` of the row and ``|w|`` of the neuron
    and ``g = (x / a) · (w / c)``, at most n_features in size (sparse rows
    stay sparse).
    """
    xp, device, is_numpy = xp_of(X)
    coef, intercept = np.asarray(to_numpy(coef)), np.asarray(to_numpy(intercept))
    if not is_numpy:
        coef = to_namespace(coef, xp, device, X.dtype)
        intercept = to_namespace(intercept, xp, device, X.dtype)
    with np.errstate(all="ignore"):
        H = _product(X, coef)
        if is_numpy:  # in place: predictions of large X hold one array
            H += intercept
        else:
            H = H + intercept
        if not bool(xp.all(xp.isfinite(H))):
            bad = ~xp.isfinite(H)
            if sparse.issparse(X):
                a = np.asarray(abs(X).max(axis=1).todense()).reshape(-1, 1)
            else:
                a = xp.max(xp.abs(X), axis=1, keepdims=True)
            c = xp.max(xp.abs(coef), axis=1)
            a = xp.where(a == 0, xp.ones_like(a), a)
            c = xp.where(c == 0, xp.ones_like(c), c)
            scaled_X = X.multiply(1 / a).tocsr() if sparse.issparse(X) else X / a
            g = _product(scaled_X, coef / c[:, None])
            b = xp.broadcast_to(intercept, g.shape)
            H = xp.where(bad, xp.where(g == 0, b, a * g * c + intercept), H)
        if not is_numpy:
            return sigmoid(xp, H)
        np.negative(H, out=H)  # sigmoid()'s operations, in place
        np.exp(H, out=H)
        H += 1
        return np.divide(1, H, out=H)


class ArrayKernel(Kernel):
    """Dense X of any array-API namespace (numpy included), by leaves.

    Parameters are those of ``make_kernel``: ``X`` (n, d), ``T`` (n, 1) or
    (n, c) with ``tcol`` (the target column of each neuron; None: column
    ``q`` for neuron ``q``, or the one column), ``sample_weight`` (n,) or
    None, ``learnrate`` (k,); ``n_threads`` and ``block_rows`` (a multiple
    of ``LEAF_ROWS``) for numpy, which change speed, never the result.
    """

    path = "array"
    serial_blas = True
    keeps_h = True

    def __init__(
        self, X, T, sample_weight, learnrate, *, tcol=None, n_threads=None,
        block_rows=None, leave_out=True, **common,
    ):  # fmt: skip
        leave_out = leave_out and X.shape[0] * X.shape[1] <= COPY_ELEMENTS
        self._take(X, T, sample_weight, learnrate, leave_out=leave_out, **common)
        xp, device, is_numpy = self.xp, self.device, self._numpy
        X, k, dtype, s = self.X, self.n_neurons, self.dtype, self.s
        n, d = X.shape
        if not is_numpy:
            self.backend = xp.__name__.rsplit(".", 1)[-1]
        self._tcol = _gather_columns(self.T, k, tcol, xp, device)
        # records of weight 0 are found block by block (no mask as long as X)
        self._has_zero = s is not None and not bool(xp.all(s != 0))
        if not is_numpy:
            return
        self._full = n // LEAF_ROWS
        self._n_leaves = -(-n // LEAF_ROWS)
        self._leaves = _leaf_stack(X, self._full)
        self._ones = np.ones(LEAF_ROWS, dtype)
        if block_rows is None:
            # a block's rows of X and of the work arrays fill BLOCK_BYTES, the
            # work arrays alone at most BUFFER_BYTES
            row_bytes = (d + 4 * k) * dtype.itemsize
            leaves = min(
                BLOCK_BYTES // (row_bytes * LEAF_ROWS),
                BUFFER_BYTES // (4 * k * dtype.itemsize * LEAF_ROWS),
            )
            block_rows = min(max(1, leaves), MAX_BLOCK_LEAVES) * LEAF_ROWS
        self.block_rows = block_rows
        self._per_block = block_rows // LEAF_ROWS
        self._start_threads(n_threads, self._n_leaves, n * d >= PARALLEL_ELEMENTS)
        self._P = np.empty((self._n_leaves, k, d), dtype)  # leaf sums of s δ x
        self._Pb = np.empty((self._n_leaves, k), dtype)  # of s δ
        self._Pl = np.empty((self._n_leaves, k), dtype)  # of s ℓ

    def _targets(self, r0, r1):
        T = self.T[r0:r1, ...]
        return T if self._tcol is None else self.xp.take(T, self._tcol, axis=1)

    def _terms(self, H, r0, r1, bufs):
        """:func:`terms_into` (numpy) of rows ``r0:r1`` from their ``H = X
        Wᵀ``, in the buffers ``bufs``."""
        b = self._coef[:, -1]
        if self._keep is not None:
            np.add(H, b, out=self._keep[r0:r1])
        s = None if self.s is None else self.s[r0:r1]
        zero = s == 0 if self._has_zero else None
        scratch = (buf[: H.shape[0]] for buf in bufs)
        return terms_into(H, self._targets(r0, r1), s, zero, b, self.loss, *scratch)

    def _leaf_sums(self, l0, l1, bufs):
        """The sums of leaves ``l0:l1`` (numpy; the last one may be short)
        into ``_P``, ``_Pb``, ``_Pl``, one row per leaf: the block's ``H`` in
        one buffer of ``bufs``, its terms in the others."""
        k, W = self.n_neurons, self._coef[:, :-1]
        full = min(l1, self._full)
        r0, r1 = l0 * LEAF_ROWS, min(l1 * LEAF_ROWS, self.n_samples)
        rows, m = (full - l0) * LEAF_ROWS, r1 - r0
        H = bufs[0][:m]
        X3 = self._leaves[l0:full]
        if rows:
            np.matmul(X3, W.T, out=H[:rows].reshape(full - l0, LEAF_ROWS, k))
        if rows < m:  # the short last leaf
            np.matmul(self.X[r0 + rows : r1], W.T, out=H[rows:])
        D, L = self._terms(H, r0, r1, bufs[1:])
        if rows:
            D3 = D[:rows].reshape(full - l0, LEAF_ROWS, k)
            np.matmul(D3.transpose(0, 2, 1), X3, out=self._P[l0:full])
            np.matmul(self._ones, D3, out=self._Pb[l0:full])
            np.matmul(
                self._ones, L[:rows].reshape(full - l0, LEAF_ROWS, k),
                out=self._Pl[l0:full],
            )  # fmt: skip
        if rows < m:
            ones = self._ones[: m - rows]
            np.matmul(D[rows:].T, self.X[r0 + rows : r1], out=self._P[full])
            np.matmul(ones, D[rows:], out=self._Pb[full])
            np.matmul(ones, L[rows:], out=self._Pl[full])

    def _leaf_range(self, leaf0, leaf1):
        """One thread's leaves, a cache block at a time."""
        # numpy's error state is per thread, so each worker sets its own
        shape = (self.block_rows, self.n_neurons)
        bufs = [np.empty(shape, self.dtype) for _ in range(4)]
        with np.errstate(all="ignore"):
            for l0 in range(leaf0, leaf1, self._per_block):
                self._leaf_sums(l0, min(l0 + self._per_block, leaf1), bufs)

    def _epoch_sums(self):
        if not self._numpy:  # all rows at once, by the library's own products
            xp, X = self.xp, self.X
            W, b = self._coef[:, :-1], self._coef[:, -1]
            T = self._targets(0, self.n_samples)
            H = X @ W.T
            if self._keep is not None:
                self._keep = H + b
            zero = self.s == 0 if self._has_zero else None
            D, L = terms(xp, H, T, self.s, zero, b, self.loss)
            return D.T @ X, xp.sum(D, axis=0), xp.sum(L, axis=0)
        self._on_threads(self._leaf_range, self._ranges)
        return self._P.sum(axis=0), self._Pb.sum(axis=0), self._Pl.sum(axis=0)


def _leaf_stack(X, n_full):
    """X's first ``n_full`` leaves as a (n_full, LEAF_ROWS, d) stack: a view,
    whatever X's memory order."""
    s0, s1 = X.strides
    return np.lib.stride_tricks.as_strided(
        X, (n_full, LEAF_ROWS, X.shape[1]), (LEAF_ROWS * s0, s0, s1), writeable=False
    )


def _gather_columns(T, k, tcol, xp, device):
    """The column of T each neuron learns, as an index array to take, or
    None when T's columns are the neurons' (or one column serves all)."""
    if tcol is None:
        return None
    tcol = np.asarray(tcol)
    if T.shape[1] == k and np.array_equal(tcol, np.arange(k)):
        return None
    if T.shape[1] == 1 and not tcol.any():
        return None
    return xp.asarray(tcol.astype(np.int64), device=device)
