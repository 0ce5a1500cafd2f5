"""The "sparse" unit: CSR/CSC X through scipy's products."""

import numpy as np
from scipy.special import expit

from .._loss import get_loss
from ._base import Kernel


class SparseKernel(Kernel):
    """CSR/CSC X through scipy's products, on one thread (a fused compiled
    pass over CSR entries, tried, was slower than scipy's two products).

    ``compiled`` (one neuron, squared error, numba; ``make_kernel`` decides):
    the elementwise work between the two products in one compiled call
    (``_numba.sparse_errors``).
    """

    path = "sparse"

    def __init__(self, X, T, sample_weight, learnrate, *, compiled=False, **common):
        super().__init__(X, T, sample_weight, learnrate, **common)
        n, k = self.n_samples, self.n_neurons
        self._XT = X.T  # CSC for CSR X and vice versa: no copy
        self._bufs = [np.empty((n, k), dtype=self.dtype) for _ in range(2)]
        self._nb = None
        if compiled:
            from . import _numba

            self._nb = _numba
            self.backend = "numba"
            self.T = np.ascontiguousarray(self.T)
            tcol = np.zeros(1, np.intp)
            self._data = _numba.make_data(self.T, tcol, self.sample_weight, self.dtype)
        zero = self._zero_rows
        self._zero_h = None if zero is None or k == 1 else zero[:, None]

    def _epoch(self):
        return self._apply(*self._epoch_sums())

    def _epoch_sums(self):
        """An epoch's sums with scipy's products; elementwise work in two buffers.

        One neuron works on vectors (scipy's matrix-vector product, and the
        loss as one dot product), several on (n, k) arrays.
        """
        X, XT, T, s, k = self.X, self._XT, self.T, self.sample_weight, self.n_neurons
        W, b = self.coef_aug[:, :-1], self.coef_aug[:, -1]
        E, Q = self._bufs
        if self._nb is not None:  # one neuron, squared error, compiled
            D = np.asarray(X @ W[0], dtype=self.dtype).ravel()  # h, then s δ
            gb, lsum = self._nb.sparse_errors(D, b[0], self._data)
            G = np.asarray(XT @ D).reshape(1, -1)
            gb, lsum = np.atleast_1d(gb), np.atleast_1d(lsum)
            return G.astype(self.dtype, copy=False), gb, lsum
        if k == 1:
            T, E, Q = T[:, 0], E[:, 0], Q[:, 0]
            H = np.asarray(X @ W[0]).ravel()
            zero = self._zero_rows
        else:
            H = np.asarray(X @ W.T)
            s = None if s is None else s[:, None]
            zero = self._zero_h
        if zero is not None:
            # records of weight 0: h = 0 (x · w may be NaN, and 0 * NaN is
            # NaN), so that weighting leaves exact zeros
            np.copyto(H, 0, where=zero)
        H += b
        Y = expit(H)
        if self.loss == "squared_error":
            # a fused copy of _loss's squared error: the loss's sum as one
            # dot product for one neuron, its 1/2 applied to the sum
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
            loss = get_loss(self.loss)
            loss.value_into(T, Y, H, out=Q, tmp=H)
            if s is not None:
                Q *= s
            lsum = np.atleast_1d(Q.sum(axis=0))
            loss.error_term_into(T, Y, out=E, tmp=H)
        if s is not None:
            E *= s
        if k == 1:
            G = np.asarray(XT @ E).reshape(1, -1)
        else:
            G = np.asarray(XT @ E).T
        gb = np.atleast_1d(E.sum(axis=0))
        return G.astype(self.dtype, copy=False), gb, lsum
