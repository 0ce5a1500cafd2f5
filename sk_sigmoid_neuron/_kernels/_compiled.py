"""The compiled engine's units (numba): a few neurons, or a bank of many."""

import numpy as np

from .._loss import get_loss
from ._base import LEAF_ROWS, PARALLEL_ELEMENTS, Kernel, thread_ranges

# Up to this many elements, C-ordered X trains on a copy of X.T (4 MiB in
# float64), by columns.
NUMBA_COPY_ELEMENTS = 1 << 19
# Multiply-adds (n * d * k per epoch) per compiled call on small data at most,
# so that an interrupt is handled soon.
NUMBA_CALL_ELEMENTS = 1 << 29
# Neurons per group of a bank: each group is one BLAS product per leaf, and
# groups train on threads of their own.
BANK_GROUP_NEURONS = 8
# Rows per leaf of a bank: four BLAS calls per leaf and group, so fewer,
# larger leaves than LEAF_ROWS pay.
BANK_LEAF_ROWS = 1 << 10
# Multiply-adds of X @ W.T per compiled call of a bank at most, so that an
# interrupt is handled soon.
BANK_CALL_ELEMENTS = 1 << 30


class _Compiled(Kernel):
    """What both units share: the data in X's dtype, the compiled module, the
    target column of each neuron, the step as :class:`_numba.Update`."""

    backend = "numba"

    def __init__(
        self, X, T, sample_weight, learnrate, *, tcol=None, leave_out=False, **common
    ):
        from . import _numba

        self._take(X, T, sample_weight, learnrate, leave_out=leave_out, **common)
        s, dtype = self.s, self.dtype
        self._nb = _numba
        self.T = np.ascontiguousarray(self.T)
        k = self.n_neurons
        if tcol is None:
            tcol = np.zeros(k) if self.T.shape[1] == 1 else np.arange(k)
        self._tcol = np.asarray(tcol, dtype=np.intp)
        self._loss_code = get_loss(self.loss).code
        self._update = _numba.Update(
            self.step, self.decay, self.fit_intercept, self.alpha, self.weight_sum
        )
        self._leaf_data = _numba.make_data(self.T, self._tcol, s, dtype)
        self._sums = None  # the leaves' sums, once needed

    def _h_out(self):
        """Where the compiled passes write h: the kept pass, or nothing."""
        if self._keep is not None:
            return self._keep
        return np.empty((0, self.n_neurons), self.dtype)

    def _per_neuron_sums(self, X2, colmajor, ranges):
        """An epoch's sums by the per-neuron leaf passes (``_numba.leaf_sums``)
        on ``ranges`` of leaves (one per thread), added in leaf order."""
        self._leaf_pass(X2, colmajor, ranges)
        return self._nb.reduce_sums(self._sums, self._leaf_data.zero)

    def _leaf_pass(self, X2, colmajor, ranges):
        """The leaves' sums of an epoch into ``_sums``."""
        nb = self._nb
        if self._sums is None:
            n_leaves = -(-self.n_samples // LEAF_ROWS)
            k, d, dtype = self.n_neurons, self.n_features, self.dtype
            self._sums = (
                np.empty((n_leaves, k, d), dtype=dtype),
                np.empty((n_leaves, k), dtype=dtype),
                np.empty((n_leaves, k), dtype=dtype),
            )
        shares = [
            (X2, colmajor, self._leaf_data, self._coef, self._loss_code, a, b,
             LEAF_ROWS, self._sums, self._h_out())
            for a, b in ranges
        ]  # fmt: skip
        self._on_threads(nb.leaf_sums, shares)


class CompiledKernel(_Compiled):
    """Dense C- or F-contiguous float32/float64 data, a few neurons.

    ``small`` (``make_kernel`` decides): all epochs in compiled calls of
    bounded work on one thread (``_numba.run_epochs``), on a private copy of
    X.T (the same bits whatever the order of the user's X). Otherwise the
    stepper's epochs, each one compiled call per thread on a range of leaves:
    of X.T (a view for F-ordered X; a copy for C-ordered X up to
    ``NUMBA_COPY_ELEMENTS``), or of X itself (larger C-ordered X).
    """

    path = "numba"
    keeps_h = True

    def __init__(
        self, X, T, sample_weight, learnrate, *, n_threads=None, small=False,
        leave_out=True, **common,
    ):  # fmt: skip
        n, d = X.shape
        # small X: a copy of X.T, always; otherwise by columns (X.T by rows)
        # for F-ordered X, and for C-ordered X small enough that a copy of
        # X.T costs less memory than it saves time (the column pass beats the
        # row pass while X sits in cache); by rows for larger C-ordered X,
        # never copied. X that small is copied in either order when it has
        # records of weight 0 (left out of a copy that epochs reuse, see
        # make_kernel): the same leaves, the same bits
        zeros = leave_out and sample_weight is not None and not np.all(sample_weight)
        copies = small or (
            n * d <= NUMBA_COPY_ELEMENTS and (X.flags.c_contiguous or zeros)
        )
        super().__init__(
            X, T, sample_weight, learnrate, leave_out=copies and leave_out, **common
        )
        X, n = self.X, self.n_samples
        self._small = small
        if small:
            self._x = np.array(X.T, order="C")  # a writable copy, always
            self._colmajor = True
            self._ranges = [(0, -(-n // LEAF_ROWS))]  # sums() on one thread
            return
        self._colmajor = not X.flags.c_contiguous or copies
        if copies:
            self._x = np.array(X.T, order="C")
        elif not self._colmajor:
            self._x = X
        else:
            self._x = X.T
        self._start_threads(n_threads, -(-n // LEAF_ROWS), n * d >= PARALLEL_ELEMENTS)

    def _run(self, n_epochs):
        nb, losses = self._nb, np.empty((n_epochs, self.n_neurons))
        if not self._small:  # the leaves on threads, then one compiled call
            for epoch in range(n_epochs):
                self._leaf_pass(self._x, self._colmajor, self._ranges)
                nb.reduce_step(self._sums, self._coef, self._update,
                               self._leaf_data.zero, losses[epoch])  # fmt: skip
            return losses
        data = self._leaf_data
        # calls of bounded work: Ctrl-C waits for the one running
        work = self.n_samples * self.n_features * self.n_neurons
        chunk = max(1, NUMBA_CALL_ELEMENTS // work)
        for start in range(0, n_epochs, chunk):
            nb.run_epochs(self._x, data, self._coef, self._update, self._loss_code,
                          LEAF_ROWS, losses[start : start + chunk],
                          self._h_out())  # fmt: skip
        return losses

    def _epoch_sums(self):
        return self._per_neuron_sums(self._x, self._colmajor, self._ranges)


class BankKernel(_Compiled):
    """A wide bank of neurons (many outputs, or a CV search's learning
    rates) on data too large for the "small" units: the neurons in groups of
    at most ``BANK_GROUP_NEURONS``, each group's epochs in compiled calls
    without the GIL (``_numba.bank_epochs``: BLAS products per leaf, the
    records' terms in flat vectorised passes), the groups on threads of their
    own. The groups depend on the number of neurons only, so no thread count
    changes a bit.
    """

    path = "bank"
    serial_blas = True

    def __init__(self, X, T, sample_weight, learnrate, *, n_threads=None, **common):
        super().__init__(X, T, sample_weight, learnrate, **common)
        nb, n, k, dtype = self._nb, self.n_samples, self.n_neurons, self.dtype
        self._colmajor = not X.flags.c_contiguous
        self._x = X.T if self._colmajor else X  # C-ordered either way, a view
        n_groups = -(-k // BANK_GROUP_NEURONS)
        self._bounds = np.linspace(0, k, n_groups + 1).astype(np.intp)
        # targets and weights by group (see _numba.bank_epochs): n * k values
        # each (the targets as given when they are one group already)
        s = self.s
        Sg = np.empty(n * k, dtype) if s is not None else None
        given = n_groups == 1 and np.array_equal(self._tcol, np.arange(self.T.shape[1]))
        Tg = self.T.reshape(-1) if given else np.empty(n * k, dtype)
        for a, z in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            if not given:
                Tg[n * a : n * z] = self.T[:, self._tcol[a:z]].ravel()
            if s is not None:
                Sg[n * a : n * z] = np.repeat(s, z - a)
        self._data = nb.make_data(Tg, self._tcol, Sg, dtype)
        self._threads_given = n_threads is not None
        self._start_threads(n_threads, n_groups, True)

    def _run(self, n_epochs):
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        losses = np.empty((n_epochs, k))
        args = (self._x, self._colmajor, self._data, self._coef)
        args += (self._update, self._loss_code, self._bounds)
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
        """An epoch's sums through the per-neuron leaf passes (the bank's
        layout by group serves its fused epochs only), on the bank's
        threads. Slower per neuron than the bank's epochs: no solver that
        evaluates sums trains a wide bank (L-BFGS fits one neuron per
        output)."""
        n_leaves = -(-self.n_samples // LEAF_ROWS)
        return self._per_neuron_sums(
            self._x, self._colmajor, thread_ranges(n_leaves, self.n_threads)
        )
