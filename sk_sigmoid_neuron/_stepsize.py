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

:math:`c` (``CURVATURE``): for the log loss :math:`\ell'' = \sigma(1 - \sigma)
\le 1/4`. For the squared error :math:`\ell = \frac12 (t - \sigma)^2`,
:math:`\ell'' = \sigma'^2 - (t - \sigma)\sigma'(1 - 2\sigma)` is affine in
:math:`t`, so its extremes lie at :math:`t \in \{0, 1\}`, which mirror each
other (:math:`\sigma \to 1 - \sigma`); at :math:`t = 0` it is
:math:`\sigma^2 (1 - \sigma)(2 - 3\sigma)`, largest in absolute value at
:math:`\sigma = (15 - \sqrt{33})/24`, where it is 0.0770...

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

_Y_STAR = (15 - np.sqrt(33)) / 24
# sup over h and t in [0, 1] of |d²ℓ/dh²|, per loss
CURVATURE = {
    "squared_error": float(_Y_STAR**2 * (1 - _Y_STAR) * (2 - 3 * _Y_STAR)),
    "log_loss": 0.25,
}
# Largest side of the Gram matrix formed explicitly; beyond it, Lanczos.
EXACT_MAX = 512
# Bytes of float64 rows per block while forming a Gram matrix.
BLOCK_BYTES = 1 << 23


def weighted_gram(X, v, fit_intercept):
    r"""``X̃ᵀ diag(v) X̃`` in float64, with ``X̃ = [X, 1]`` (or ``X``).

    ``v`` (n_samples,) may have any sign. Dense X is read one block of rows at
    a time (never copied whole); adding the results for disjoint blocks of
    records gives the result for their union.
    """
    v = np.asarray(v, dtype=np.float64)
    n, d = X.shape
    m = d + 1 if fit_intercept else d
    if sparse.issparse(X):
        Xs = sparse.csr_array(X, dtype=np.float64)
        G = np.empty((m, m))
        G[:d, :d] = (Xs.T @ Xs.multiply(v[:, None]).tocsr()).toarray()
        if fit_intercept:
            G[:d, d] = G[d, :d] = Xs.T @ v
            G[d, d] = v.sum()
        return G
    G = np.zeros((m, m))
    rows = max(1, BLOCK_BYTES // (8 * m))
    block = np.empty((min(rows, n), m))
    # with v >= 0, (√v B)ᵀ(√v B) is one symmetric product (BLAS syrk)
    root = np.sqrt(v) if np.all(v >= 0) else None
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)
        B = block[: r1 - r0]
        B[:, :d] = X[r0:r1]
        if fit_intercept:
            B[:, d] = 1.0
        if root is not None:
            B *= root[r0:r1, None]
            G += B.T @ B
        else:
            G += B.T @ (B * v[r0:r1, None])
    return G


def gram_lambda_max(X, sample_weight, fit_intercept):
    r"""The largest eigenvalue of ``X̃ᵀ diag(s) X̃ / Σ s`` (float)."""
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    S = float(s.sum())
    m = d + 1 if fit_intercept else d
    if m == 0:
        return 0.0
    # overflow shows as a non-finite bound, which auto_learnrate reports
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if m <= EXACT_MAX:
            G = weighted_gram(X, s / S, fit_intercept)
        elif n <= EXACT_MAX:
            # same nonzero eigenvalues: diag(√s) X̃ X̃ᵀ diag(√s) / S
            G = _outer_gram(X)
            if fit_intercept:
                G += 1.0
            r = np.sqrt(s / S)
            G *= r[:, None]
            G *= r
        else:
            return _lanczos_lambda_max(X, s / S, fit_intercept)
    if not np.all(np.isfinite(G)):
        return np.inf
    return float(eigvalsh(G, subset_by_index=[len(G) - 1, len(G) - 1])[0])


def _outer_gram(X):
    """``X Xᵀ`` in float64 (n_samples small), dense X read by blocks of columns."""
    if sparse.issparse(X):
        Xs = sparse.csr_array(X, dtype=np.float64)
        return (Xs @ Xs.T).toarray()
    n, d = X.shape
    K = np.zeros((n, n))
    cols = max(1, BLOCK_BYTES // (8 * max(n, 1)))
    for c0 in range(0, d, cols):
        B = np.asarray(X[:, c0 : c0 + cols], dtype=np.float64)
        K += B @ B.T
    return K


def _lanczos_lambda_max(X, v, fit_intercept):
    """``λmax(X̃ᵀ diag(v) X̃)`` by Lanczos from a fixed random start."""
    d = X.shape[1]
    m = d + 1 if fit_intercept else d

    def matvec(theta):
        theta = np.ravel(theta)
        h = np.asarray(X @ theta[:d], dtype=np.float64)
        if fit_intercept:
            h = h + theta[d]
        h *= v
        out = np.empty(m)
        out[:d] = X.T @ h
        if fit_intercept:
            out[d] = h.sum()
        return out

    op = LinearOperator((m, m), matvec=matvec, dtype=np.float64)
    start = np.random.RandomState(0).normal(size=m)
    try:
        value = eigsh(
            op, k=1, which="LA", v0=start, tol=1e-8, return_eigenvectors=False
        )
    except ArpackNoConvergence:
        # the trace bounds every eigenvalue of a positive semi-definite matrix
        return _trace(X, v, fit_intercept)
    return float(value[0])


def _trace(X, v, fit_intercept):
    """``Σ v_i ||x̃_i||²`` = trace(X̃ᵀ diag(v) X̃)."""
    if sparse.issparse(X):
        sq = np.asarray(sparse.csr_array(X, dtype=np.float64).power(2).sum(axis=1))
    else:
        sq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    return float(np.dot(v, np.ravel(sq) + (1.0 if fit_intercept else 0.0)))


def lipschitz_constant(X, sample_weight, *, loss, alpha, fit_intercept):
    """``L = c λmax(G) + alpha``: the gradient of the training loss is L-Lipschitz."""
    lam = gram_lambda_max(X, sample_weight, fit_intercept)
    return CURVATURE[loss] * lam + float(alpha)


def auto_learnrate(X, sample_weight, *, loss, alpha, fit_intercept):
    """The step ``1 / L`` of ``learnrate="auto"`` for this data (a float).

    Raises a ValueError when ``L`` is not finite (X too large to square in
    float64). When ``L == 0`` the loss does not depend on the weights (no
    intercept and X all zero), nothing can move, and the step is 1.
    """
    L = lipschitz_constant(
        X, sample_weight, loss=loss, alpha=alpha, fit_intercept=fit_intercept
    )
    return _step(L)


def learnrate_from_gram(G, *, loss, alpha):
    """The step of ``learnrate="auto"`` from ``G = X̃ᵀ diag(s) X̃ / Σ s``.

    For data in chunks: :func:`weighted_gram` of the chunks (with ``v = s``)
    adds up to ``G · Σ s``.
    """
    G = np.asarray(G, dtype=np.float64)
    lam = 0.0
    if G.size:
        if not np.all(np.isfinite(G)):
            return _step(np.inf)
        lam = float(eigvalsh(G, subset_by_index=[len(G) - 1, len(G) - 1])[0])
    return _step(CURVATURE[loss] * lam + float(alpha))


def _step(L):
    if not np.isfinite(L):
        raise ValueError(
            "learnrate='auto' cannot bound the curvature: X has values too large "
            "to square in float64. Scale X (for example with "
            "sklearn.preprocessing.StandardScaler) or pass a float learnrate."
        )
    return 1.0 / L if L > 0 else 1.0
