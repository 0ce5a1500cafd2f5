r"""The step of ``learnrate="auto"``: one over a bound on the loss's curvature.

The training objective of one neuron, with :math:`\tilde x = [x, 1]` (or
:math:`x` without an intercept) and :math:`\theta = [w, b]`, is

.. math::

    f(\theta) = \frac{1}{S} \sum_i s_i\, \ell(t_i, \tilde x_i \cdot \theta)
    + \frac{\alpha}{2} \|w\|^2, \qquad S = \sum_i s_i,

with Hessian :math:`\frac1S \sum_i s_i \ell''_i \tilde x_i \tilde x_i^\top +
\alpha P` (``P`` the identity on ``w``, 0 on ``b``). If
:math:`|\ell''| \le c` for every target in [0, 1] and every :math:`h`, then
:math:`-cG \preceq \nabla^2 f - \alpha P \preceq cG` with the weighted Gram
matrix :math:`G = \tilde X^\top \operatorname{diag}(s) \tilde X / S`, so the
gradient of :math:`f` is Lipschitz with

.. math::

    L = c\, \lambda_{\max}(G) + \alpha,

and gradient descent with step :math:`1/L` decreases :math:`f` at every
epoch by at least :math:`\|\nabla f\|^2 / (2L)` (the descent lemma).

:math:`c` is each loss's ``curvature`` in the loss table (``_loss``): 1/4 for
the log loss, 0.0770... for the squared error.

:math:`\lambda_{\max}(G)`: from the Gram matrix itself (or the :math:`n
\times n` matrix of the same nonzero eigenvalues when there are fewer records
than parameters) when that is at most ``EXACT_MAX`` wide, formed in float64
one block of rows at a time; otherwise from a Lanczos iteration
(``scipy.sparse.linalg.eigsh``) on products with :math:`X`, whose Ritz value
approaches :math:`\lambda_{\max}` from below. Any step below :math:`2/L`
still descends, so the estimate is safe as long as it is above half the true
value, which Lanczos reaches within a few iterations.
"""

import numpy as np
from scipy import sparse
from scipy.linalg import eigvalsh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from ._loss import get_loss
from ._namespace import float_dtypes, to_namespace, to_numpy, xp_of

# Largest side of the Gram matrix formed explicitly; beyond it, Lanczos.
EXACT_MAX = 512
# Bytes of float64 rows per block while forming a Gram matrix (two such
# blocks are alive at a time), and per block of the other passes.
GRAM_BLOCK_BYTES = 1 << 19
BLOCK_BYTES = 1 << 20
# X's largest |x| is brought into [2**-SAFE_EXPONENT, 2**SAFE_EXPONENT] by a
# power of two (exact) before squaring when it lies outside: the Gram matrix
# of X as given would underflow to 0 or overflow to inf in float64.
SAFE_EXPONENT = 200
# A λmax below this (the square of 2**-SAFE_EXPONENT) may have underflowed.
TINY = 2.0 ** (-2 * SAFE_EXPONENT)


def weighted_gram(X, v, fit_intercept, scale=1.0, divisor=1.0):
    r"""``X̃ᵀ diag(v / divisor) X̃ / scale²`` in float64, ``X̃ = [X, 1]`` (or ``X``).

    ``v`` (n_samples,) may have any sign; None means all ones. X is numpy,
    scipy sparse or of another array-API namespace (computed on its device,
    in its widest float); dense X is read one block of rows at a time (never
    copied whole, and no other array as long as the data is made). Adding
    the results for disjoint blocks of records gives the result for their
    union.
    """
    n, d = X.shape
    m = d + 1 if fit_intercept else d
    if sparse.issparse(X):
        v = np.ones(n) if v is None else np.asarray(v, dtype=np.float64)
        v = v / divisor
        Xs = sparse.csr_array(X, dtype=np.float64)
        if scale != 1.0:
            Xs = Xs / scale
        G = np.empty((m, m))
        G[:d, :d] = (Xs.T @ Xs.multiply(v[:, None]).tocsr()).toarray()
        if fit_intercept:
            G[:d, d] = G[d, :d] = Xs.T @ v / scale
            G[d, d] = v.sum() / scale / scale
        return G
    xp, device, _ = xp_of(X)
    wide = float_dtypes(xp, device)[0]
    G = np.zeros((m, m))
    rows = max(1, GRAM_BLOCK_BYTES // (8 * m))
    # with v >= 0, (√v B)ᵀ(√v B) is one symmetric product (BLAS syrk)
    symmetric = v is None or bool(xp.all(v >= 0))
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)  # array-api-strict: no stop past the end
        B = xp.astype(X[r0:r1, ...], wide)
        if scale != 1.0:
            B = B / scale
        if v is None:
            vb = xp.full((r1 - r0,), 1.0 / divisor, dtype=wide, device=device)
        else:
            vb = xp.astype(v[r0:r1], wide) / divisor
        if symmetric:
            B = B * xp.sqrt(vb)[:, None]
            G[:d, :d] += to_numpy(B.T @ B)
            side = B.T @ xp.sqrt(vb)
        else:
            G[:d, :d] += to_numpy(B.T @ (B * vb[:, None]))
            side = B.T @ vb
        if fit_intercept:  # the column of ones, without forming it
            G[:d, d] += to_numpy(side) / scale
            G[d, d] += float(xp.sum(vb)) / scale / scale
    if fit_intercept:
        G[d, :d] = G[:d, d]
    return G


def lipschitz_constant(
    map_parts, *, n_features, n_records, loss, alpha, fit_intercept, largest=None
):
    """``L = c λmax(G) + alpha``: the gradient of the training loss is L-Lipschitz.

    ``map_parts(func, **kwargs)`` returns ``[func(X, s, **kwargs), ...]`` for
    every set of training records (all of them in memory, one per chunk on
    dask) with their weights ``s`` (None: unit weights; records of weight 0
    count for nothing). ``n_records`` counts the records of all sets;
    ``largest``, X's largest |x| (computed when needed and None).
    """
    m = n_features + 1 if fit_intercept else n_features
    if m == 0:
        return float(alpha)
    S = sum(map_parts(_weight_sum))
    # overflow shows as a non-finite bound, which auto_learnrate reports
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lam = _lambda_max(map_parts, m, n_records, S, fit_intercept, 1.0)
        if not TINY < lam < np.inf:
            # the Gram matrix of X as given over- or underflowed: once more
            # (only then, a pass to find X's range) on X brought into range by
            # a power of two, exact, and λmax back to X's scale (inf or 0 past
            # float64's range)
            if largest is None:
                largest = max(map_parts(_max_abs), default=0.0)
            scale = _scale(largest)
            if scale != 1.0:
                lam = _lambda_max(map_parts, m, n_records, S, fit_intercept, scale)
                lam = lam * scale * scale
    return get_loss(loss).curvature * lam + float(alpha)


def _lambda_max(map_parts, m, n_records, S, fit_intercept, scale):
    """``λmax(X̃ᵀ diag(s) X̃ / S) / scale²``."""
    if m <= EXACT_MAX:
        G = sum(map_parts(_gram, fit_intercept=fit_intercept, scale=scale, S=S))
        return _largest_eigenvalue(G)
    if n_records <= EXACT_MAX:
        # same nonzero eigenvalues: diag(√s) X̃ X̃ᵀ diag(√s) / S
        parts = map_parts(_records)
        X = _stack([X for X, _ in parts])
        s = np.concatenate([s for _, s in parts])
        G = _outer_gram(X, scale)
        if fit_intercept:
            G += 1.0 / scale / scale
        r = np.sqrt(s / S)
        G *= r[:, None]
        G *= r
        return _largest_eigenvalue(G)
    return _lanczos_lambda_max(map_parts, m, S, fit_intercept, scale)


def auto_learnrate(map_parts, *, n_features, n_records, loss, alpha, fit_intercept):
    """The step ``1 / L`` of ``learnrate="auto"`` for this data (a float).

    Raises a ValueError that names the data problem when the step cannot be
    represented: ``L`` infinite (X's values too large to square in float64)
    or ``L`` underflowing to 0 while X is not 0 (values too small). When the
    loss does not depend on the weights (no intercept and X all zero),
    nothing can move and the step is 1.
    """
    L = lipschitz_constant(
        map_parts,
        n_features=n_features,
        n_records=n_records,
        loss=loss,
        alpha=alpha,
        fit_intercept=fit_intercept,
    )
    if 0 < L < np.inf and 1.0 / L < np.inf:
        return 1.0 / L
    largest = max(map_parts(_max_abs), default=0.0)  # for the message
    if not np.isfinite(L):
        raise ValueError(
            "learnrate='auto' cannot bound the curvature: X has values too large "
            f"(up to {largest:.3g}) to square in float64. Scale X (for example "
            "with sklearn.preprocessing.StandardScaler) or pass a float learnrate."
        )
    if largest == 0 and not fit_intercept:
        return 1.0
    raise ValueError(
        "learnrate='auto' cannot take a step: X's values are too small (up to "
        f"{largest:.3g}) for the step, which exceeds the largest float64. "
        "Scale X (for example with sklearn.preprocessing.StandardScaler)."
    )


def _largest_eigenvalue(G):
    if not np.all(np.isfinite(G)):
        return np.inf
    return float(eigvalsh(G, subset_by_index=[len(G) - 1, len(G) - 1])[0])


def _scale(largest):
    """The power of two that brings ``largest`` into the safe range (1 when it
    is there already, so that ordinary data gives the same bits as without)."""
    if not largest > 0 or not np.isfinite(largest):
        return 1.0
    exponent = int(np.frexp(largest)[1])
    if abs(exponent) <= SAFE_EXPONENT:
        return 1.0
    return float(np.ldexp(1.0, exponent - 1))  # 2**1023 for the largest float64


# -- what runs on each set of records ----------------------------------------------
def _max_abs(X, s):
    """The largest |x| of the records with positive weight (by blocks of
    rows, no copy of X)."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return 0.0
    if sparse.issparse(X) and s is None:
        return float(np.abs(X.data).max(initial=0.0))
    largest = 0.0
    rows = max(1, BLOCK_BYTES // (8 * X.shape[1]))
    if sparse.issparse(X):
        for r0 in range(0, X.shape[0], rows):
            Xb = X[r0 : r0 + rows][np.asarray(s[r0 : r0 + rows]) > 0]
            largest = max(largest, float(np.abs(Xb.data).max(initial=0.0)))
        return largest
    xp = xp_of(X)[0]
    for r0 in range(0, X.shape[0], rows):
        r1 = min(r0 + rows, X.shape[0])
        Xb = X[r0:r1, ...]
        if s is not None:
            Xb = xp.where((s[r0:r1] > 0)[:, None], Xb, xp.zeros_like(Xb[:1, ...]))
        largest = max(largest, float(xp.max(Xb)), float(-xp.min(Xb)))
    return largest


def _weight_sum(X, s):
    if s is None:
        return float(X.shape[0])
    if isinstance(s, np.ndarray):
        return float(np.sum(s, dtype=np.float64))
    xp, device, _ = xp_of(s)
    return float(xp.sum(xp.astype(s, float_dtypes(xp, device)[0])))


def _records(X, s):
    """The records themselves, numpy (there are few of them)."""
    X = X if sparse.issparse(X) else np.asarray(to_numpy(X))
    s = np.ones(X.shape[0]) if s is None else np.asarray(to_numpy(s), np.float64)
    return X, s


def _stack(blocks):
    if sparse.issparse(blocks[0]):
        return sparse.vstack(blocks, format="csr")
    return np.concatenate(blocks)


def _gram(X, s, *, fit_intercept, scale, S):
    """``X̃ᵀ diag(s / S) X̃ / scale²``, X̃ = [X, 1] (or X)."""
    return weighted_gram(X, s, fit_intercept, scale=scale, divisor=S)


def _outer_gram(X, scale=1.0):
    """``X Xᵀ / scale²`` in float64 (n_samples small), dense X read by blocks of
    columns."""
    if sparse.issparse(X):
        Xs = sparse.csr_array(X, dtype=np.float64)
        if scale != 1.0:
            Xs = Xs / scale
        return (Xs @ Xs.T).toarray()
    n, d = X.shape
    K = np.zeros((n, n))
    cols = max(1, BLOCK_BYTES // (8 * max(n, 1)))
    for c0 in range(0, d, cols):
        B = np.asarray(X[:, c0 : c0 + cols], dtype=np.float64)
        if scale != 1.0:
            B = B / scale
        K += B @ B.T
    return K


def _matvec(X, s, *, theta, fit_intercept, scale):
    """``X̃ᵀ diag(s) X̃ θ / scale²`` (unnormalised), numpy float64."""
    d = X.shape[1]
    if sparse.issparse(X):
        v = np.ones(X.shape[0]) if s is None else np.asarray(s, np.float64)
        h = np.asarray(X @ (theta[:d] / scale), dtype=np.float64)
        h = h + theta[d] / scale if fit_intercept else h
        h *= v
        top = np.asarray(X.T @ h, dtype=np.float64) / scale
        return np.r_[top, h.sum() / scale] if fit_intercept else top
    xp, device, _ = xp_of(X)
    wide = float_dtypes(xp, device)[0]
    w = to_namespace(theta[:d] / scale, xp, device, wide)
    h = xp.astype(X, wide) @ w if X.dtype != wide else X @ w
    if fit_intercept:
        h = h + float(theta[d]) / scale
    if s is not None:
        h = h * xp.astype(s, wide)
    top = (h @ X) / scale if X.dtype == wide else (h @ xp.astype(X, wide)) / scale
    top = np.asarray(to_numpy(top), dtype=np.float64)
    if fit_intercept:
        return np.r_[top, float(xp.sum(h)) / scale]
    return top


def _trace(X, s, *, fit_intercept, scale):
    """``Σ s_i ||x̃_i / scale||²`` = trace(X̃ᵀ diag(s) X̃) / scale²."""
    v = np.ones(X.shape[0]) if s is None else np.asarray(to_numpy(s), np.float64)
    if sparse.issparse(X):
        Xs = sparse.csr_array(X, dtype=np.float64)
        sq = np.asarray((Xs / scale).power(2).sum(axis=1))
    else:
        xp, device, _ = xp_of(X)
        wide = float_dtypes(xp, device)[0]
        sq = np.empty(X.shape[0])
        rows = max(1, BLOCK_BYTES // (8 * max(X.shape[1], 1)))
        for r0 in range(0, X.shape[0], rows):
            r1 = min(r0 + rows, X.shape[0])
            B = xp.astype(X[r0:r1, ...], wide) / scale
            sq[r0:r1] = np.asarray(to_numpy(xp.sum(B * B, axis=1)), np.float64)
    one = 1.0 / scale / scale if fit_intercept else 0.0
    return float(np.dot(v, np.ravel(sq) + one))


def _lanczos_lambda_max(map_parts, m, S, fit_intercept, scale):
    """``λmax(X̃ᵀ diag(s) X̃ / S)`` (in units of scale²) by Lanczos from a fixed
    random start; the trace bounds it when Lanczos does not converge."""

    def matvec(theta):
        theta = np.ravel(theta)
        parts = map_parts(
            _matvec, theta=theta, fit_intercept=fit_intercept, scale=scale
        )
        return sum(parts) / S

    op = LinearOperator((m, m), matvec=matvec, dtype=np.float64)
    start = np.random.RandomState(0).normal(size=m)
    try:
        value = eigsh(
            op, k=1, which="LA", v0=start, tol=1e-8, return_eigenvectors=False
        )
    except ArpackNoConvergence:
        # the trace bounds every eigenvalue of a positive semi-definite matrix
        parts = map_parts(_trace, fit_intercept=fit_intercept, scale=scale)
        return sum(parts) / S
    return float(value[0])
