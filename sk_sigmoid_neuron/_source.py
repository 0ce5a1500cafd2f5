"""Data sources: what the descent trains on (see ``_descent``).

:func:`make_source` validates the training data of a ``fit`` or
``partial_fit`` call and returns its source: :class:`InMemory` for numpy
arrays and scipy sparse matrices (anything scikit-learn's validation
accepts), ``_dask.DaskSource`` for dask collections (dask is imported only
when one is passed), or ``_array_api.ArraySource`` for arrays of another
array-API namespace (PyTorch, CuPy, ...) under scikit-learn's
``array_api_dispatch`` (without it they are converted to numpy, as any
array-like).

Records of weight 0 stay in place with their weight (no copy of X); the
kernels give them no influence. Early stopping's validation part is a set
of rows whose training weight is 0: X is never split or copied.
"""

import sys

import numpy as np

from . import _inference, _kernels, _scaling
from ._array_api import ArraySource
from ._descent import ZERO_WEIGHT_PART, validation_positions
from ._namespace import namespace_of
from ._validation import given_weights, validate_training_data

# Bytes of X per block of validation rows gathered at a time.
BLOCK_BYTES = 1 << 18
# Validation rows of at most this many bytes are copied once, not gathered
# from X every epoch.
VALIDATION_COPY_BYTES = 1 << 22
# Rows of the weights per block while finding the validation rows.
BLOCK_ROWS = 1 << 16


def is_dask_collection(*objs):
    """Whether any of ``objs`` is a dask collection (never imports dask)."""
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as is_collection

    return any(obj is not None and is_collection(obj) for obj in objs)


def make_source(estimator, X, y, sample_weight, *, reset):
    """The validated data source of a fit (``reset``: a new model)."""
    if is_dask_collection(X, y, sample_weight):
        from ._dask import DaskSource

        return DaskSource(estimator, X, y, sample_weight, reset=reset)
    namespace = namespace_of(X)
    if namespace is not None:
        return ArraySource(
            estimator, X, y, sample_weight, reset=reset, namespace=namespace
        )
    X, Y, s, y_ndim, exponent = validate_training_data(
        estimator, X, y, sample_weight, reset=reset
    )
    return InMemory(X, Y, s, y_ndim=y_ndim, exponent=exponent)


class InMemory:
    """Training data in memory: dense or sparse X, targets and weights.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs), float64
    s : ndarray of shape (n_samples,) or None
        Weights scaled by ``2**-exponent``, in X's dtype.
    y_ndim : int
    exponent : int
    """

    def __init__(self, X, Y, s, *, y_ndim, exponent):
        self.X, self.Y, self.s = X, Y, s
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self.dtype = X.dtype
        self.y_ndim, self.weight_exponent = y_ndim, exponent
        self._range, self._T = None, None
        self._train_s, self._val = s, None
        self.n_train = self.n_samples

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._restore()
        self._T = self._train_s = self._val = self._val_copy = None

    def callback_data(self):
        """``(X, y, sample_weight)`` as a callback sees the fit's data."""
        Y = self.Y[:, 0] if self.y_ndim == 1 else self.Y
        return self.X, Y, given_weights(self.s, self.weight_exponent)

    def y_extremes(self):
        """Smallest and largest y of the records with positive weight, (2, k),
        one block of rows at a time."""
        if self.s is None:
            return np.vstack([self.Y.min(axis=0), self.Y.max(axis=0)])
        k = self.n_outputs
        lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
        for r0 in range(0, self.n_samples, BLOCK_ROWS):
            Yb = self.Y[r0 : r0 + BLOCK_ROWS][self.s[r0 : r0 + BLOCK_ROWS] > 0]
            if len(Yb):
                lo, hi = np.minimum(lo, Yb.min(axis=0)), np.maximum(hi, Yb.max(axis=0))
        return np.vstack([lo, hi])

    def set_targets(self, lo, hi):
        """Map y to the targets ``t`` in [0, 1] that the neurons learn (when
        first needed, after any split: fewer arrays as long as the data at
        once)."""
        self._range, self._T = (lo, hi), None

    @property
    def T(self):
        if self._T is None:
            self._T = _scaling.to_unit(self.Y, *self._range, self.dtype)
        return self._T

    # -- what the descent asks -------------------------------------------------
    def split(self, fraction, random_state):
        """Early stopping's validation rows get training weight 0: in place in
        the source's own (scaled) weights, restored after the descent."""
        self._restore()
        if fraction is None:
            self.n_train = self.n_samples
            return
        s = self.s
        n_present = self.n_samples if s is None else int(np.count_nonzero(s > 0))
        positions, self.n_train = validation_positions(
            n_present, fraction, random_state
        )
        val = positions if s is None else _rows_of(positions, s)
        if s is None:
            s_train, s_val = np.ones(self.n_samples, self.dtype), None
        else:
            s_train, s_val = s, s[val]
        s_train[val] = 0
        self._train_s, self._val = s_train, (val, s_val)
        if s is not None and not (
            np.sum(s_train, dtype=np.float64) > 0
            and np.sum(s_val, dtype=np.float64) > 0
        ):
            raise ValueError(ZERO_WEIGHT_PART)

    def _restore(self):
        """The weights as given, after a split."""
        if self._val is not None and self.s is not None:
            val, s_val = self._val
            self.s[val] = s_val
        self._train_s, self._val = self.s, None

    def map_train(self, func, **kwargs):
        return [func(self.X, self._train_s, **kwargs)]

    def trainer(self, coef, intercept, learnrate, *, loss, alpha, fit_intercept):
        # overflow while folding the step into X shows up as non-finite weights,
        # which the descent reports in the user's terms
        with np.errstate(over="ignore", invalid="ignore"):
            kernel = _kernels.make_kernel(
                self.X,
                self.T,
                self._train_s,
                np.full(coef.shape[0], learnrate),
                fit_intercept=fit_intercept,
                loss=loss,
                alpha=alpha,
            )
        kernel.set_params(coef, intercept)
        return kernel

    def validation_loss(self, trainer, loss):
        coef, intercept = trainer.get_params()
        total = np.zeros(coef.shape[0])
        for Xb, Tb, sb in self._validation_blocks():
            total += _kernels.loss_sums(Xb, Tb, sb, coef, intercept, loss)
        val, s_val = self._val
        S = len(val) if s_val is None else float(s_val.sum(dtype=np.float64))
        return float((total / S).mean())

    def _validation_blocks(self):
        """The validation records, ``(X, T, s)`` by blocks of rows: gathered
        from X each epoch, or kept once when they take at most
        VALIDATION_COPY_BYTES (small data: the gather would cost more than
        the copy's memory)."""
        cached = getattr(self, "_val_copy", None)
        if cached is not None and cached[0] is self._val:
            yield from cached[1]
            return
        val, s_val = self._val
        row_bytes = max(1, self.n_features * self.dtype.itemsize)
        keep = len(val) * row_bytes <= VALIDATION_COPY_BYTES
        rows = len(val) if keep else max(1, BLOCK_BYTES // row_bytes)
        blocks = []
        for r0 in range(0, len(val), rows):
            idx = val[r0 : r0 + rows]
            sb = None if s_val is None else s_val[r0 : r0 + rows]
            block = (self.X[idx], self.T[idx], sb)
            if keep:
                blocks.append(block)
            yield block
        if keep:
            self._val_copy = (self._val, blocks)

    def sample(self, rows):
        """The diagnostics' records: dense float64, with training weights."""
        X = self.X[rows]
        X = X.toarray() if hasattr(X, "toarray") else X
        s = None if self._train_s is None else self._train_s[rows].astype(np.float64)
        T = self.T[rows].astype(np.float64)
        return np.asarray(X, dtype=np.float64), T, s

    # -- after the descent -----------------------------------------------------
    def sandwich(self, coef, intercept, *, loss, alpha, fit_intercept):
        """The sandwich covariance over every record (``_inference``)."""
        self._restore()
        return _inference.sandwich(
            self.X,
            self.T,
            self.s,
            coef,
            intercept,
            loss=loss,
            alpha=alpha,
            fit_intercept=fit_intercept,
        )


def _rows_of(positions, s):
    """The rows of the records at ``positions`` (sorted) among those with
    positive weight, one block of rows at a time."""
    rows = np.empty(len(positions), dtype=positions.dtype)
    done = seen = 0
    for r0 in range(0, len(s), BLOCK_ROWS):
        present = np.flatnonzero(s[r0 : r0 + BLOCK_ROWS] > 0)
        end = np.searchsorted(positions, seen + len(present))
        rows[done:end] = present[positions[done:end] - seen] + r0
        done, seen = end, seen + len(present)
    return rows
