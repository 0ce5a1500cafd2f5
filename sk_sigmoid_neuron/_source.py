"""Data sources: what the descent trains on (see ``_descent``).

:func:`make_source` validates the training data of a ``fit`` or
``partial_fit`` call and returns its source: :class:`InMemory` for numpy
arrays and scipy sparse matrices (anything scikit-learn's validation
accepts), or ``_dask.DaskSource`` for dask collections (dask is imported only
when one is passed).

Records of weight 0 stay in place with their weight (no copy of X); the
kernels give them no influence. Early stopping's validation part is a set
of rows whose training weight is 0: X is never split or copied.
"""

import sys

import numpy as np
from . import _inference, _kernels, _scaling
from ._descent import ZERO_WEIGHT_PART, split_present
from ._loss import loss_sums
from ._validation import given_weights, validate_training_data

# Bytes of X per block of validation rows gathered at a time.
BLOCK_BYTES = 1 << 20


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
        self.T = None
        self._train_s, self._val = s, None
        self.n_train = self.n_samples

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.T = self._train_s = self._val = None

    def callback_data(self):
        """``(X, y, sample_weight)`` as a callback sees the fit's data."""
        Y = self.Y[:, 0] if self.y_ndim == 1 else self.Y
        return self.X, Y, given_weights(self.s, self.weight_exponent)

    def y_extremes(self):
        """Smallest and largest y of the records with positive weight, (2, k)."""
        Y = self.Y if self.s is None else self.Y[self.s > 0]
        return np.vstack([Y.min(axis=0), Y.max(axis=0)])

    def set_targets(self, lo, hi):
        """Map y to the targets ``t`` in [0, 1] that the neurons learn."""
        self.T = _scaling.to_unit(self.Y, lo, hi, self.dtype)

    # -- what the descent asks -------------------------------------------------
    def split(self, fraction, random_state):
        if fraction is None:
            self._train_s, self._val = self.s, None
            self.n_train = self.n_samples
            return
        s = self.s
        present = None if s is None else np.flatnonzero(s > 0)
        train, val = split_present(present, self.n_samples, fraction, random_state)
        s_train = np.ones(self.n_samples, self.dtype) if s is None else s.copy()
        s_train[val] = 0
        s_val = None if s is None else s[val]
        if s is not None and not (
            s_train.sum(dtype=np.float64) > 0 and s_val.sum(dtype=np.float64) > 0
        ):
            raise ValueError(ZERO_WEIGHT_PART)
        self._train_s, self._val = s_train, (val, s_val)
        self.n_train = len(train)

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
        val, s_val = self._val
        coef, intercept = trainer.get_params()
        X, T = self.X, self.T
        rows = max(1, BLOCK_BYTES // max(1, self.n_features * self.dtype.itemsize))
        total = np.zeros(coef.shape[0])
        for r0 in range(0, len(val), rows):
            idx = val[r0 : r0 + rows]
            sb = None if s_val is None else s_val[r0 : r0 + rows]
            total += loss_sums(X[idx], T[idx], sb, coef, intercept, loss)
        S = len(val) if s_val is None else float(s_val.sum(dtype=np.float64))
        return float((total / S).mean())

    def sample(self, rows):
        X = self.X[rows]
        X = X.toarray() if hasattr(X, "toarray") else X
        s = None if self._train_s is None else self._train_s[rows].astype(np.float64)
        T = self.T[rows].astype(np.float64)
        return np.asarray(X, dtype=np.float64), T, s

    # -- after the descent -----------------------------------------------------
    def sandwich(self, coef, intercept, *, loss, alpha, fit_intercept):
        """The sandwich covariance over every record (``_inference``)."""
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
