"""Predictions in the user's units, the same for every data source."""

import numpy as np
from scipy import sparse

from . import _kernels, _scaling


def weights_for(dtype, coef, intercept):
    """The weights in X's dtype, or in float64 if they exceed it (float32
    holds values up to 3.4e38): finite predictions rather than infinite."""
    largest = max(np.abs(coef).max(initial=0), np.abs(intercept).max(initial=0))
    if largest > np.finfo(dtype).max:
        dtype = np.float64
    return coef.astype(dtype, copy=False), intercept.astype(dtype)


def predict_mean(X, coef, intercept, lo, hi):
    """``lo + σ(X wᵀ + b) (hi - lo)``, (n_samples, n_outputs), for validated X
    (a block of rows, or all of them), also where ``X w`` overflows; in X's
    namespace and on its device for X of an array-API namespace."""
    if not isinstance(X, np.ndarray) and not sparse.issparse(X):
        from ._array_api import predict_mean as predict_mean_array

        return predict_mean_array(X, coef, intercept, lo, hi)
    y_unit = _kernels.predict_unit(X, *weights_for(X.dtype, coef, intercept))
    return _scaling.from_unit(y_unit, lo, hi, copy=False)
