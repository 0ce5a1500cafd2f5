"""Forward passes outside the units: predictions, a loss, and the sums of an
epoch over a chunk of records (the dask path's share of an epoch)."""

import numpy as np
from scipy.special import expit

from .._loss import get_loss


def _weightless_h_to_zero(H, sample_weight):
    """``h = 0`` for the records of weight 0 (their ``x · w`` may be NaN,
    and 0 * NaN is NaN), so that weighting leaves exact zeros."""
    if sample_weight is not None:
        zero = sample_weight == 0
        if zero.any():
            np.copyto(H, 0, where=zero[:, None])


def partial_sums(X, T, sample_weight, coef_aug, *, loss="squared_error"):
    """The sums one epoch needs over a set of records (a chunk, or all of them).

    Returns ``(Σ s δ x, Σ s δ, Σ s ℓ)`` with shapes ``(k, d)``, ``(k,)``,
    ``(k,)``. Adding the sums of disjoint chunks gives the sums of their union,
    which is how the dask path forms an epoch.
    """
    W, b = coef_aug[:, :-1], coef_aug[:, -1]
    # one neuron: matrix-vector products (scipy's and BLAS's cheapest call)
    one = W.shape[0] == 1
    H = np.asarray(X @ W[0])[:, None] if one else np.asarray(X @ W.T)
    _weightless_h_to_zero(H, sample_weight)
    H += b
    Y = expit(H)
    tmp = np.empty_like(Y)
    lossfn = get_loss(loss)
    L = lossfn.value_into(T, Y, H, out=np.empty_like(Y), tmp=tmp)
    D = lossfn.error_term_into(T, Y, out=np.empty_like(Y), tmp=tmp)
    if sample_weight is not None:
        L *= sample_weight[:, None]
        D *= sample_weight[:, None]
    G = np.asarray(X.T @ D[:, 0])[None, :] if one else np.asarray(X.T @ D).T
    return G.astype(W.dtype, copy=False), D.sum(axis=0), L.sum(axis=0)


def loss_sums(X, T, sample_weight, coef, intercept, loss="squared_error"):
    """``Σ s ℓ`` per neuron (float64) over a set of records at ``(coef,
    intercept)`` (``T``: targets in [0, 1], one column or one per neuron)."""
    with np.errstate(all="ignore"):
        H = np.asarray(X @ coef.T)
        _weightless_h_to_zero(H, sample_weight)
        H += intercept
        L = get_loss(loss).value_into(T, expit(H), H, out=np.empty_like(H))
    if sample_weight is not None:
        L *= sample_weight[:, None]
    return L.sum(axis=0, dtype=np.float64)


def predict_unit(X, coef, intercept):
    """``σ(X w + b)`` of shape (n_samples, n_neurons), also where ``X w``
    overflows.

    Overflowing products make ``h`` inf - inf (NaN) or, in BLAS, an infinity
    of either sign. Rows predicted 0, 1 or NaN whose ``h`` is not finite are
    recomputed as ``h = a g c + b``, with ``a``, ``c`` the largest ``|x|``,
    ``|w|`` and ``g = (x / a) · (w / c)``, at most n_features in size.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        H = np.asarray(X @ coef.T)
        H += intercept
        y_unit = expit(H, out=H)
        edge = ((y_unit == 0) | (y_unit == 1) | np.isnan(y_unit)).any(axis=1)
        if not edge.any():
            return y_unit
        Xe = X[edge]
        Xe = Xe.toarray() if hasattr(Xe, "toarray") else Xe
        h = np.asarray(Xe @ coef.T) + intercept
        over = ~np.isfinite(h)
        if over.any():
            a = np.abs(Xe).max(axis=1, keepdims=True)
            c = np.abs(coef).max(axis=1)
            a[a == 0], c[c == 0] = 1, 1
            g = (Xe / a) @ (coef / c[:, None]).T
            scaled = np.where(g == 0, intercept, a * g * c + intercept)
            y_unit[edge] = np.where(over, expit(scaled), y_unit[edge])
    return y_unit
