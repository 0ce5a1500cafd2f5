"""The "numba" unit: fused compiled passes per neuron (``_numba``)."""

import numpy as np

from .._loss import get_loss
from ._base import LEAF_ROWS, PARALLEL_ELEMENTS, Kernel

# Up to this many elements, C-ordered X trains on a copy of X.T (4 MiB in
# float64), by columns.
NUMBA_COPY_ELEMENTS = 1 << 19
# Multiply-adds (n * d * k per epoch) per compiled call on small data at most
# (about 0.2 s on one core), so that an interrupt is handled soon.
NUMBA_CALL_ELEMENTS = 1 << 29


class CompiledKernel(Kernel):
    """Dense C- or F-contiguous float32/float64 data, a few neurons, numba.

    ``small`` (``make_kernel`` decides): all epochs in compiled calls of
    bounded work on one thread, on a private copy of X.T (the same bits
    whatever the order of the user's X). Otherwise one call per epoch and
    thread, each on a range of leaves: of X.T (a view for F-ordered X; a copy
    for C-ordered X up to ``NUMBA_COPY_ELEMENTS``), or of X itself (larger
    C-ordered X).
    """

    path = "numba"
    backend = "numba"

    def __init__(
        self, X, T, sample_weight, learnrate, *, n_threads=None, small=False,
        **common,
    ):  # fmt: skip
        super().__init__(X, T, sample_weight, learnrate, **common)
        from . import _numba

        self._nb = _numba
        n, d, k, dtype = self.n_samples, self.n_features, self.n_neurons, self.dtype
        self.T = np.ascontiguousarray(self.T)
        # the target column of each neuron: its own, or the one shared column
        shared = self.T.shape[1] == 1
        tcol = np.zeros(k, np.intp) if shared else np.arange(k, dtype=np.intp)
        self._data = _numba.make_data(self.T, tcol, self.sample_weight, dtype)
        self._update = _numba.Update(
            self.step, self.decay, self.fit_intercept, self.alpha, self.weight_sum
        )
        self._loss_code = get_loss(self.loss).code
        self._small = small
        self._sums = None  # the leaves' sums (P, Pb, Pl), once needed
        if small:
            self._x = np.array(X.T, order="C")  # a writable copy, always
            self._colmajor = True
            self._ranges = [(0, -(-n // LEAF_ROWS))]  # sums() on one thread
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
        n_leaves = -(-n // LEAF_ROWS)
        self._start_threads(n_threads, n_leaves, n * d >= PARALLEL_ELEMENTS)

    def _run(self, n_epochs):
        nb, losses = self._nb, np.empty((n_epochs, self.n_neurons))
        data, update, loss = self._data, self._update, self._loss_code
        if self._small:
            # calls of bounded work: Ctrl-C waits for the one running
            work = self.n_samples * self.n_features * self.n_neurons
            chunk = max(1, NUMBA_CALL_ELEMENTS // work)
            for start in range(0, n_epochs, chunk):
                nb.run_epochs(self._x, data, self.coef_aug, update, loss, LEAF_ROWS,
                              losses[start : start + chunk])  # fmt: skip
            return losses
        sums = self._leaf_sums()
        shares = [
            (self._x, self._colmajor, data, self.coef_aug, loss, a, b, LEAF_ROWS, sums)
            for a, b in self._ranges
        ]
        for i in range(n_epochs):
            self._on_threads(nb.leaf_sums, shares)
            nb.reduce_step(sums, self.coef_aug, update, losses[i], data.zero)
        return losses

    def _leaf_sums(self):
        """The buffers of the leaves' sums ``(P, Pb, Pl)``."""
        if self._sums is None:
            n_leaves = -(-self.n_samples // LEAF_ROWS)
            k, d, dtype = self.n_neurons, self.n_features, self.dtype
            self._sums = (
                np.empty((n_leaves, k, d), dtype=dtype),
                np.empty((n_leaves, k), dtype=dtype),
                np.empty((n_leaves, k), dtype=dtype),
            )
        return self._sums

    def _epoch_sums(self):
        """An epoch's leaf sums (on the threads of :meth:`_run`; small data on
        one, by columns of the copy of X.T) and their reduction, no step."""
        nb, sums = self._nb, self._leaf_sums()
        shares = [
            (self._x, self._colmajor, self._data, self.coef_aug, self._loss_code,
             a, b, LEAF_ROWS, sums)
            for a, b in self._ranges
        ]  # fmt: skip
        self._on_threads(nb.leaf_sums, shares)
        return nb.reduce_sums(sums, self._data.zero)
