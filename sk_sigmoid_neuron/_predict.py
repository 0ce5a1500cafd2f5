"""Predictions in the user's units, the same for every data source."""

import numpy as np

from . import _kernels, _scaling
from ._namespace import float_dtypes, numpy_dtype, xp_of


def weights_for(dtype, coef, intercept):
    """The weights in X's dtype, or in float64 if they exceed it (float32
    holds values up to 3.4e38): finite predictions rather than infinite."""
    largest = max(np.abs(coef).max(initial=0), np.abs(intercept).max(initial=0))
    if largest > np.finfo(dtype).max:
        dtype = np.float64
    return coef.astype(dtype, copy=False), intercept.astype(dtype)


def predict_mean(X, coef, intercept, lo, hi):
    """``lo + σ(X wᵀ + b) (hi - lo)``, (n_samples, n_outputs), for validated X
    (a block of rows, or all of them; numpy, sparse, or of another array-API
    namespace, where the result stays), also where ``X w`` overflows."""
    xp, device, is_numpy = xp_of(X)
    dtype = X.dtype if is_numpy else numpy_dtype(xp, X.dtype)
    coef, intercept = weights_for(dtype, coef, intercept)
    if coef.dtype != dtype and not is_numpy:
        # weights beyond float32: float64 where the device has it (finite
        # predictions rather than infinite), as for numpy
        X = xp.astype(X, float_dtypes(xp, device)[0])
    y_unit = _kernels.predict_unit(X, coef, intercept)
    return _scaling.from_unit(y_unit, lo, hi, copy=False)
