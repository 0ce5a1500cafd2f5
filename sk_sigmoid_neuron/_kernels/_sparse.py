"""The sparse engine: CSR/CSC X through scipy's products, nothing densified."""

import numpy as np

from .._loss import get_loss
from ._array import terms
from ._base import Kernel


class SparseKernel(Kernel):
    """CSR/CSC X: ``H = X Wᵀ`` and ``Σ sδx = (Xᵀ D)ᵀ`` by scipy's products,
    the records' terms between them by the array engine's :func:`terms`,
    on one thread.

    ``compiled`` (one neuron, ``make_kernel`` decides): the elementwise work
    between the two products in one compiled pass
    (``_numba.sparse_errors``), which the epochs benchmark shows pays.
    ``tcol`` as for :class:`~._array.ArrayKernel`.
    """

    path = "sparse"
    keeps_h = True

    def __init__(
        self, X, T, sample_weight, learnrate, *, tcol=None, compiled=False, **common
    ):
        n, d = X.shape
        dtype = X.dtype
        s = sample_weight
        s = None if s is None else s.astype(dtype, copy=False)
        wsum = n if s is None else float(s.sum(dtype=np.float64))
        super().__init__(
            n_features=d, learnrate=learnrate, weight_sum=wsum, dtype=dtype, **common
        )
        k = self.n_neurons
        self.n_samples, self.X, self.s = n, X, s
        self._XT = X.T  # CSC for CSR X and vice versa: no copy
        T = T.astype(dtype, copy=False)
        if tcol is not None and T.shape[1] > 1:
            T = T[:, tcol]
        self.T = T
        self._zero = None if s is None or np.all(s) else s == 0
        self._nb = None
        if compiled and k == 1:
            from . import _numba

            self._nb = _numba
            self.backend = "numba"
            t = np.ascontiguousarray(T[:, 0])
            self._data = _numba.make_data(t, np.zeros(1, np.intp), s, dtype)
            self._d, self._q = np.empty(n, dtype), np.empty(n, dtype)
            self._code = get_loss(self.loss).code

    def _epoch_sums(self):
        W, b = self._coef[:, :-1], self._coef[:, -1]
        one = self.n_neurons == 1  # scipy's vector products beat its multivector ones
        H = np.asarray(self.X @ W[0] if one else self.X @ W.T, dtype=self.dtype)
        if self._keep is not None:
            np.add(H.reshape(self.n_samples, -1), b, out=self._keep)
        if self._nb is not None:  # one neuron, compiled
            D = self._d
            gb, lsum = self._nb.sparse_errors(
                H, b[0], self._code, self._data, D, self._q
            )
            G = self._XT @ D
        else:
            D, L = terms(
                np, H[:, None] if one else H, self.T, self.s, self._zero, b, self.loss
            )
            G = self._XT @ D[:, 0] if one else (self._XT @ D).T
            gb, lsum = D.sum(axis=0), L.sum(axis=0)
        G = np.asarray(G, dtype=self.dtype).reshape(self.n_neurons, -1)
        return G, np.atleast_1d(gb), np.atleast_1d(lsum)
