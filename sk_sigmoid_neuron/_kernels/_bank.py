"""The "bank" unit: many neurons in groups, epochs in compiled calls."""

import numpy as np

from .._loss import get_loss
from ._base import LEAF_ROWS, PARALLEL_ELEMENTS, Kernel, thread_ranges

# Neurons per group: each group is one BLAS product per leaf, and groups
# train on threads of their own (16 learning rates: two groups).
BANK_GROUP_NEURONS = 8
# Rows per leaf: four BLAS calls per leaf and group, so fewer, larger leaves
# than LEAF_ROWS pay.
BANK_LEAF_ROWS = 1 << 10
# Multiply-adds of X @ W.T per compiled call at most (about 0.2 s on one
# core), so that an interrupt is handled soon.
BANK_CALL_ELEMENTS = 1 << 30


class BankKernel(Kernel):
    """A wide bank of neurons (squared error) on data too large for the
    "small" unit, with numba: the neurons in groups of at most
    ``BANK_GROUP_NEURONS``, each group's epochs in compiled calls without the
    GIL (``_numba.bank_epochs``: BLAS products per leaf, a vectorised exp,
    flat elementwise passes), the groups on threads of their own. The groups
    depend on the number of neurons only, so no thread count changes a bit.
    """

    path = "bank"
    backend = "numba"
    serial_blas = True

    def __init__(self, X, T, sample_weight, learnrate, *, n_threads=None, **common):
        super().__init__(X, T, sample_weight, learnrate, **common)
        from . import _numba

        self._nb = _numba
        n, k, dtype = self.n_samples, self.n_neurons, self.dtype
        self._colmajor = not X.flags.c_contiguous
        self._x = X.T if self._colmajor else X  # C-ordered either way, a view
        n_groups = -(-k // BANK_GROUP_NEURONS)
        self._bounds = np.linspace(0, k, n_groups + 1).astype(np.intp)
        # targets and weights by group (see _numba.bank_epochs): n * k values
        # each (the targets as given when they are one group already)
        self.T = np.ascontiguousarray(self.T)
        T = np.broadcast_to(self.T, (n, k))
        s = self.sample_weight
        Sg = np.empty(n * k, dtype) if s is not None else None
        given = n_groups == 1 and self.T.shape[1] == k  # C-ordered (n, k)
        Tg = self.T.reshape(-1) if given else np.empty(n * k, dtype)
        for a, z in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            if not given:
                Tg[n * a : n * z] = T[:, a:z].ravel()
            if s is not None:
                Sg[n * a : n * z] = np.repeat(s, z - a)
        tcol = np.zeros(k, np.intp)  # unused: the targets are laid out by group
        self._data = _numba.make_data(Tg, tcol, Sg, dtype)
        self._update = _numba.Update(
            self.step, self.decay, self.fit_intercept, self.alpha, self.weight_sum
        )
        self._threads_given = n_threads is not None
        self._start_threads(n_threads, n_groups, True)

    def _run(self, n_epochs):
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        losses = np.empty((n_epochs, k))
        args = (self._x, self._colmajor, self._data, self.coef_aug)
        args += (self._update, self._bounds)
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
            calls = [(*args, g0, g1, *rest) for g0, g1 in groups]
            self._on_threads(self._nb.bank_epochs, calls)
        return losses

    def _epoch_sums(self):
        """An epoch's sums without the step, through the "numba" unit's
        per-neuron leaf passes and reduction (``_numba.leaf_sums``; the
        bank's layout by group serves its fused epochs only), the leaves on
        the bank's threads. Slower per neuron than the bank's epochs: no
        solver that evaluates sums trains a wide bank (L-BFGS fits one neuron
        per output)."""
        nb = self._nb
        n, d, k, dtype = self.n_samples, self.n_features, self.n_neurons, self.dtype
        shared = self.T.shape[1] == 1
        tcol = np.zeros(k, np.intp) if shared else np.arange(k, dtype=np.intp)
        data = nb.make_data(self.T, tcol, self.sample_weight, dtype)
        n_leaves = -(-n // LEAF_ROWS)
        sums = (
            np.empty((n_leaves, k, d), dtype=dtype),
            np.empty((n_leaves, k), dtype=dtype),
            np.empty((n_leaves, k), dtype=dtype),
        )
        code = get_loss(self.loss).code
        shares = [
            (self._x, self._colmajor, data, self.coef_aug, code, a, b, LEAF_ROWS, sums)
            for a, b in thread_ranges(n_leaves, self.n_threads)
        ]
        self._on_threads(nb.leaf_sums, shares)
        return nb.reduce_sums(sums, data.zero)
