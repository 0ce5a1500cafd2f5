"""The "blocked" unit (numpy): cache blocks of leaves, X never copied."""

import numpy as np
from scipy.special import expit

from .._loss import get_loss
from ._base import LEAF_ROWS, PARALLEL_ELEMENTS, Kernel

# Bytes of X (and work buffers) per cache block, and the most leaves a block
# holds (the buffers stay small beside X for narrow X).
BLOCK_BYTES = 1 << 22
MAX_BLOCK_LEAVES = 32
# ... and at most this many bytes of work buffers (four per neuron), which
# several neurons pass over several times per block: they stay in L2.
BUFFER_BYTES = 1 << 19


class BlockedKernel(Kernel):
    """Larger dense data: cache blocks of whole leaves, each read from memory
    once, threads over ranges of leaves; a leaf's sums never depend on the
    block or the thread it falls in.

    ``block_rows`` (a multiple of ``LEAF_ROWS``, None: sized from
    ``BLOCK_BYTES``) changes speed, never the result.
    """

    path = "blocked"
    serial_blas = True

    def __init__(
        self, X, T, sample_weight, learnrate, *, n_threads=None, block_rows=None,
        **common,
    ):  # fmt: skip
        super().__init__(X, T, sample_weight, learnrate, **common)
        n, d, k = self.n_samples, self.n_features, self.n_neurons
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
        n_leaves = -(-n // LEAF_ROWS)
        self._start_threads(n_threads, n_leaves, n * d >= PARALLEL_ELEMENTS)
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
        # the records of weight 0 in each cache block (by its first leaf), as
        # rows of the block: their h is set to 0 (x · w may be NaN, and
        # 0 * NaN is NaN), so that weighting leaves exact zeros
        self._zero_in_block = {}
        if self._has_zero:
            per_block = block_rows // LEAF_ROWS
            for leaf0, leaf1 in self._ranges:
                for l0 in range(leaf0, leaf1, per_block):
                    r0 = l0 * LEAF_ROWS
                    r1 = min(min(l0 + per_block, leaf1) * LEAF_ROWS, n)
                    rows = np.flatnonzero(self.sample_weight[r0:r1] == 0)
                    if rows.size:
                        self._zero_in_block[l0] = rows

    def _leaf_range(self, leaf0, leaf1, bufs):
        """The sums of leaves ``leaf0:leaf1`` into ``_P``, ``_Pb``, ``_Pl``,
        one cache block of leaves at a time (``ℓ`` without the squared
        error's 1/2, applied to the total)."""
        # numpy's error state is per thread, so each worker sets its own
        with np.errstate(all="ignore"):
            self._blocks(leaf0, leaf1, bufs)

    def _blocks(self, leaf0, leaf1, bufs):
        """:meth:`_leaf_range`'s work."""
        X, T, s = self.X, self.T, self.sample_weight
        n, k, full_leaves = self.n_samples, self.n_neurons, self._full_leaves
        squared = self.loss == "squared_error"
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
            zero_rows = self._zero_in_block.get(l0)
            if zero_rows is not None:
                H[zero_rows] = 0
            Tb = T[r0:r1]
            if squared:
                # ŷ = 1 / (1 + exp(-h)), scipy's expit formula, from numpy's
                # vectorised exp, which expit's scalar exp is not (a fused
                # copy of _loss's squared error)
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
                loss = get_loss(self.loss)
                loss.value_into(Tb, Y, H, out=Q, tmp=E)
                loss.error_term_into(Tb, Y, out=E, tmp=H)
            if s is not None:
                sb = s[r0:r1, None]
                Q *= sb
                E *= sb
            # column sums as products with ones: BLAS, faster than numpy's
            # strided sums over axis 0
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

    def _epoch(self):
        return self._apply(*self._epoch_sums())

    def _epoch_sums(self):
        calls = [
            (a, b, bufs)
            for (a, b), bufs in zip(self._ranges, self._thread_bufs, strict=True)
        ]
        self._on_threads(self._leaf_range, calls)
        G = self._P.sum(axis=0, out=self._G)
        lsum = self._Pl.sum(axis=0)
        if self.loss == "squared_error":
            lsum *= 0.5
        return G, self._Pb.sum(axis=0), lsum
