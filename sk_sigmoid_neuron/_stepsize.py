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

and gradient descent with a step :math:`\eta < 2/L` decreases :math:`f` at
every epoch by at least :math:`\eta (1 - L\eta/2) \|\nabla f\|^2` (the
descent lemma). :math:`c` is each loss's ``curvature`` in the loss table
(``_loss``): 1/4 for the log loss, 0.0770... for the squared error.

The step is :math:`1 / (c \hat\lambda + \alpha)`, with an estimate
:math:`\hat\lambda` of :math:`\lambda_{\max}(G)` that costs a few epochs:

- for narrow X, the largest eigenvalue of :math:`G` itself: sparse X of up
  to ``EXACT_MAX`` parameters, dense X of up to ``GRAM_MAX`` (or up to
  ``EXACT_MAX`` when it has fewer than ``PARALLEL_ELEMENTS`` elements, whose
  products cost little). :math:`G` is formed one block of rows at a time,
  each block's symmetric product :math:`B^\top B` in X's dtype (BLAS, the
  blocks on threads for numpy) and the blocks added in float64. A float32
  block holds at most ``ROUNDING_ELEMENTS`` rows x parameters, ``r m``: its
  rounding error is at most :math:`\gamma_r |B|^\top|B|` (:math:`\gamma_r
  \approx r\,2^{-24}`), whose norm is at most :math:`\gamma_r
  \operatorname{trace} (B^\top B)`, so that over all blocks :math:`|\hat\lambda
  - \lambda_{\max}| \le \gamma_r m \lambda_{\max} \le \lambda_{\max} / 7`.
  Sparse X, and dense X of fewer than ``PARALLEL_ELEMENTS`` elements, are
  read in float64 (exact to rounding). The products take about :math:`m/2`
  operations per element of X and are bound by the processor, where a pass
  of Lanczos takes four and is bound by memory: past ``GRAM_MAX``
  parameters they cost more than its few passes;
- otherwise (wider X, dense or sparse): Lanczos iterations from a fixed random
  start, each one product with :math:`\tilde X` and one with :math:`\tilde
  X^\top` (one pass over X, about an epoch), stopped when the residual bound
  :math:`r` of the largest Ritz value :math:`\theta` is below ``LANCZOS_TOL``
  :math:`\theta`; :math:`\hat\lambda = \theta + r`. A Ritz value never
  exceeds :math:`\lambda_{\max}`, and an eigenvalue of :math:`G` lies within
  :math:`r` of it; when that eigenvalue is :math:`\lambda_{\max}` (for every
  start but those almost orthogonal to its eigenvector), :math:`\lambda_{\max}
  \le \hat\lambda \le (1 + \text{LANCZOS_TOL}) \lambda_{\max}`.

Safety: the step is at most :math:`7/(6L)` from the Gram matrix in float32,
:math:`1/L` to rounding in float64 and from Lanczos when its eigenvalue is
:math:`\lambda_{\max}` (when the largest eigenvalues lie within a few
percent, it may stop at another: that few percent above): a factor of at
least 12/7 below :math:`2/L`, where descent would stop. Data whose products in X's
dtype over- or underflow is done again in float64, brought into range by a
power of two where needed.
"""

from concurrent.futures import ThreadPoolExecutor
from operator import add

import numpy as np
from scipy import sparse
from scipy.linalg import eigvalsh, get_blas_funcs

from ._kernels import PARALLEL_ELEMENTS, one_blas_thread
from ._kernels._base import _blas_threads
from ._loss import get_loss
from ._namespace import float_dtypes, numpy_dtype, to_namespace, to_numpy, xp_of

# Largest side of the Gram matrix formed explicitly; beyond it, Lanczos.
EXACT_MAX = 512
# The same for dense X of at least PARALLEL_ELEMENTS elements, whose products
# (m / 2 operations per element, bound by the processor) cost more than the
# few passes of Lanczos (bound by memory) past it.
GRAM_MAX = 32
# Most rows x parameters of a float32 block of the Gram matrix: its rounding
# (at most rows x parameters x 2**-24 of λmax) stays below 1/7 of λmax.
ROUNDING_ELEMENTS = 1 << 21
# Bytes of X per block of rows: a block stays in the cache between the two
# products of the Gram matrix's part or of a Lanczos product.
BLOCK_BYTES = 1 << 20
# Blocks per unit of work of a thread.
GROUP_BLOCKS = 16
# Lanczos stops when the residual bound of its Ritz value is below this share
# of it, or after LANCZOS_MAX iterations.
LANCZOS_TOL = 0.1
LANCZOS_MAX = 100
# X's largest |x| is brought into [2**-SAFE_EXPONENT, 2**SAFE_EXPONENT] by a
# power of two (exact) before squaring when it lies outside: the Gram matrix
# of X as given would underflow to 0 or overflow to inf in float64.
SAFE_EXPONENT = 200
# A λmax below this (the square of 2**-SAFE_EXPONENT) may have underflowed.
TINY = 2.0 ** (-2 * SAFE_EXPONENT)
# The same for float32 products: far above float32's smallest normal number.
TINY_FLOAT32 = 2.0**-60


def weighted_gram(X, v, fit_intercept, scale=1.0):
    r"""``X̃ᵀ diag(v) X̃ / scale²`` in float64, ``X̃ = [X, 1]`` (or ``X``).

    ``v`` (n_samples,) may have any sign; None means all ones. X is numpy,
    scipy sparse or of another array-API namespace (computed on its device,
    in its widest float); dense X is read one block of rows at a time.
    Adding the results for disjoint blocks of records gives the result for
    their union.
    """
    n, d = X.shape
    m = d + 1 if fit_intercept else d
    if sparse.issparse(X):
        v = np.ones(n) if v is None else np.asarray(v, dtype=np.float64)
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
    rows = max(1, BLOCK_BYTES // (16 * m))  # the block and its weighted copy
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)  # array-api-strict: no stop past the end
        B = xp.astype(X[r0:r1, ...], wide)
        if scale != 1.0:
            B = B / scale
        if v is None:
            vb = xp.ones((r1 - r0,), dtype=wide, device=device)
            G[:d, :d] += to_numpy(B.T @ B)
        else:
            vb = xp.astype(v[r0:r1], wide)
            G[:d, :d] += to_numpy(B.T @ (B * vb[:, None]))
        if fit_intercept:  # the column of ones, without forming it
            G[:d, d] += to_numpy(B.T @ vb) / scale
            G[d, d] += float(xp.sum(vb)) / scale / scale
    if fit_intercept:
        G[d, :d] = G[:d, d]
    return G


def _lambda_max(map_parts, m, S, fit_intercept, gram_max, scale, *, exact):
    """``λ̂`` of ``X̃ᵀ diag(s) X̃ / S / scale²`` (``exact``: in float64), by
    Lanczos past ``gram_max`` parameters."""
    if m > gram_max:
        return _lanczos(map_parts, m, S, fit_intercept, scale, exact)
    G = sum(map_parts(_gram, fit_intercept=fit_intercept, scale=scale, exact=exact))
    if not np.all(np.isfinite(G)):
        return np.inf
    return float(eigvalsh(G / S, subset_by_index=[m - 1, m - 1])[0])


def auto_learnrate(
    map_parts,
    *,
    n_features,
    loss,
    alpha,
    fit_intercept,
    dtype=np.float64,
    n_samples=0,
    is_sparse=False,
):
    """The step ``1 / L`` of ``learnrate="auto"`` for this data (a float),
    ``L = c λ̂ + alpha`` with the estimate ``λ̂`` of the module's text.

    ``map_parts(func, **kwargs)`` returns ``[func(X, s, **kwargs), ...]`` for
    every set of training records (all of them in memory, one per chunk on
    dask) with their weights ``s`` (None: unit weights; records of weight 0
    count for nothing); ``dtype`` is X's (numpy), ``n_samples`` its number
    of rows and ``is_sparse`` whether it is sparse (they choose between the
    Gram matrix and Lanczos).

    Raises a ValueError that names the data problem when the step cannot be
    represented: ``L`` infinite (X's values too large to square in float64)
    or ``L`` underflowing to 0 while X is not 0 (values too small). When the
    loss does not depend on the weights (no intercept and X all zero),
    nothing can move and the step is 1.
    """
    m = n_features + 1 if fit_intercept else n_features
    small = n_samples * n_features < PARALLEL_ELEMENTS
    gram_max = EXACT_MAX if is_sparse or small else min(GRAM_MAX, EXACT_MAX)
    args = (map_parts, m, sum(map_parts(_weight_sum)), fit_intercept, gram_max)
    largest = None
    # overflow shows as a non-finite bound, reported below
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lam = _lambda_max(*args, 1.0, exact=False) if m else 0.0
        if m and np.dtype(dtype) != np.float64 and not TINY_FLOAT32 < lam < np.inf:
            lam = _lambda_max(*args, 1.0, exact=True)
        if m and not TINY < lam < np.inf:
            # the Gram matrix of X as given over- or underflowed: once more
            # (only then, a pass to find X's range) on X brought into range by
            # a power of two, exact, and λmax back to X's scale (inf or 0 past
            # float64's range)
            largest = max(map_parts(max_abs), default=0.0)
            scale = _scale(largest)
            if scale != 1.0:
                lam = _lambda_max(*args, scale, exact=True) * scale * scale
        L = get_loss(loss).curvature * lam + float(alpha)
    if 0 < L < np.inf and 1.0 / L < np.inf:
        return 1.0 / L
    if largest is None:  # for the message
        largest = max(map_parts(max_abs), default=0.0)
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


def _scale(largest):
    """The power of two that brings ``largest`` into the safe range (1 when it
    is there already, so that ordinary data gives the same bits as without)."""
    if not largest > 0 or not np.isfinite(largest):
        return 1.0
    exponent = int(np.frexp(largest)[1])
    if abs(exponent) <= SAFE_EXPONENT:
        return 1.0
    return float(np.ldexp(1.0, exponent - 1))  # 2**1023 for the largest float64


def _lanczos(map_parts, m, S, fit_intercept, scale, exact):
    """``θ + r`` of Lanczos on ``X̃ᵀ diag(s) X̃ / S / scale²`` (see the module's
    text): two vectors of the parameters' size kept (fresh arrays of that size
    cost page faults), each product's own result updated in place, with the
    intercept's component beside it."""
    kwargs = dict(fit_intercept=fit_intercept, scale=scale, exact=exact)
    d = m - 1 if fit_intercept else m
    v, previous = np.empty(m), np.empty(m)
    np.random.default_rng(0).random(out=v)
    v -= 0.5
    v /= np.sqrt(_dot(v, v))
    axpy = get_blas_funcs("axpy", (v,))
    alphas, betas = [], []
    for _ in range(LANCZOS_MAX):
        parts = map_parts(_matvec, theta=v, **kwargs)
        w = np.require(parts[0][0], np.float64, ["C", "W"])
        wb = sum(total for _, total in parts)  # the intercept's (0 without)
        for top, _ in parts[1:]:
            w += top
        del parts
        w *= 1.0 / S
        wb /= S
        alpha = _dot(v[:d], w) + (v[d] * wb if fit_intercept else 0.0)
        alphas.append(alpha)
        if betas:
            w = axpy(previous[:d], w, a=-betas[-1])
            wb -= betas[-1] * previous[d] if fit_intercept else 0.0
        w = axpy(v[:d], w, a=-alpha)
        wb -= alpha * v[d] if fit_intercept else 0.0
        beta = np.sqrt(_dot(w, w) + wb * wb)
        if not np.isfinite(beta):
            return np.inf
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        values, vectors = np.linalg.eigh(T)
        theta, residual = values[-1], beta * abs(vectors[-1, -1])
        if residual <= LANCZOS_TOL * theta:  # also when the Krylov space ends
            return float(theta + residual)
        betas.append(beta)
        np.multiply(w, 1.0 / beta, out=previous[:d])  # the next v
        if fit_intercept:
            previous[d] = wb / beta
        previous, v = v, previous
        del w  # the next product's result reuses its memory
    return float(theta + residual)  # LANCZOS_MAX reached: the widest bound


def _dot(a, b):
    """``a · b`` without the BLAS's threads (one vector is too little work)."""
    return float(np.einsum("i,i->", a, b))


# -- what runs on each set of records ----------------------------------------------
def max_abs(X, s):
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


def _gram(X, s, *, fit_intercept, scale, exact):
    """``X̃ᵀ diag(s) X̃ / scale²``, float64: :func:`weighted_gram` (``exact``,
    sparse X, or X too small for its dtype's products to pay), else by blocks
    of rows in X's dtype, added in float64."""
    if exact or sparse.issparse(X) or X.shape[0] * X.shape[1] < PARALLEL_ELEMENTS:
        return weighted_gram(X, s, fit_intercept, scale=scale)
    xp, device, _ = xp_of(X)
    d = X.shape[1]
    m = d + 1 if fit_intercept else d
    size = numpy_dtype(xp, X.dtype).itemsize
    rows = max(1, BLOCK_BYTES // (size * max(d, 1)))
    if s is not None:  # the block and its weighted copy
        rows = max(1, rows // 2)
    if size < 8:
        rows = max(1, min(rows, ROUNDING_ELEMENTS // m))

    def block(r0, r1):
        B = X[r0:r1, ...]
        if s is None:
            root = xp.ones(r1 - r0, dtype=B.dtype, device=device)
        else:  # (√s B)ᵀ(√s B): one symmetric product
            root = xp.sqrt(s[r0:r1])
            B = B * root[:, None]
        products = (_upper_gram(B), root @ B, xp.sum(root * root))
        return [np.asarray(to_numpy(a), np.float64) for a in products]

    G = np.zeros((m, m))
    upper, side, count = sum_blocks(X, rows, GROUP_BLOCKS, block)
    G[:d, :d] = np.triu(upper) + np.triu(upper, 1).T
    if fit_intercept:  # the column of ones, without forming it
        G[:d, d] = G[d, :d] = side
        G[d, d] = count
    return G


def _upper_gram(B):
    """``Bᵀ B``, at least its upper triangle: BLAS ``syrk`` (half the work of
    a general product) on numpy blocks in either memory order, else ``B.T @
    B``."""
    if isinstance(B, np.ndarray) and B.dtype in (np.float32, np.float64):
        syrk = get_blas_funcs("syrk", (B,))
        if B.flags.f_contiguous:
            return syrk(1.0, B, trans=1)
        if B.flags.c_contiguous:  # Bᵀ is Fortran-ordered: no copy
            return syrk(1.0, B.T, trans=0)
    return B.T @ B


def _matvec(X, s, *, theta, fit_intercept, scale, exact):
    """``X̃ᵀ diag(s) X̃ θ / scale²`` (unnormalised) as ``Xᵀ u`` and ``Σ u``
    (``u = diag(s) X̃ θ / scale²``; the second, the intercept's, is 0 without
    one): in X's dtype (float64 with ``exact``), dense numpy X one block of
    rows at a time (read from memory once for both products)."""
    d = X.shape[1]
    w = theta[:d] / scale if scale != 1 else theta[:d]
    b = float(theta[d]) / scale if fit_intercept else 0.0
    if sparse.issparse(X):
        if exact:
            X = sparse.csr_array(X, dtype=np.float64)
        h = X @ np.asarray(w, X.dtype)
        h += b
        if s is not None:
            h *= s
        h /= scale
        return X.T @ h, float(h.sum()) if fit_intercept else 0.0
    xp, device, is_numpy = xp_of(X)
    dtype = float_dtypes(xp, device)[0] if exact else X.dtype
    w = to_namespace(w, xp, device, dtype)
    size = numpy_dtype(xp, dtype).itemsize
    rows = max(1, BLOCK_BYTES // (size * max(d, 1))) if is_numpy else X.shape[0]

    def block(r0, r1):
        B = xp.astype(X[r0:r1, ...], dtype) if exact else X[r0:r1, ...]
        h = B @ w + b
        if s is not None:
            h = h * xp.astype(s[r0:r1], dtype)
        h = h / scale
        return np.asarray(to_numpy(h @ B), np.float64), float(xp.sum(h))

    top, total = sum_blocks(X, rows, GROUP_BLOCKS, block)
    return top, total if fit_intercept else 0.0


def sum_blocks(X, rows, group, block, *, threads=True):
    """The sums of ``block(r0, r1)`` (a tuple) over X's blocks of ``rows``
    rows (None for no rows): in block order within groups of ``group``
    blocks, the groups in order, so that the sums do not depend on the number
    of threads; with ``threads``, for dense numpy X of at least
    ``PARALLEL_ELEMENTS``, the groups on the BLAS's threads (each with a
    one-thread BLAS, a wave of one group per thread at a time). Without,
    each block's products have the BLAS's threads (a pass whose one product
    is bound by memory: a BLAS splits it by rows, with the same bits)."""
    n, span = X.shape[0], rows * group

    def group_sums(g0):
        # numpy's error state is per thread: overflow makes inf, reported later
        with np.errstate(over="ignore", invalid="ignore"):
            ends = range(g0, min(g0 + span, n), rows)
            parts = [block(r, min(r + rows, n)) for r in ends]
            return [sum(values) for values in zip(*parts, strict=True)]

    def in_order(starts):
        count = 1  # on threads, dense numpy X large enough to repay them
        if threads and xp_of(X)[2] and not sparse.issparse(X):
            if X.size >= PARALLEL_ELEMENTS:
                count = min(_blas_threads(), len(starts))
        if count <= 1:
            yield from map(group_sums, starts)
            return
        with one_blas_thread(), ThreadPoolExecutor(count) as pool:
            for w0 in range(0, len(starts), count):
                yield from pool.map(group_sums, starts[w0 : w0 + count])

    total = None
    for sums in in_order(range(0, n, span)):
        total = sums if total is None else list(map(add, total, sums))
    return total
