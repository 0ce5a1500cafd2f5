"""The compiled epoch kernel (numba), used by ``_gd`` when numba imports.

Importing this module imports numba, so ``_gd`` imports it lazily and only for
dense, contiguous float32/float64 data. It computes the same epoch as the
numpy path (see ``_gd``) in fused passes over cache-sized *leaves* of
``leaf_rows`` consecutive rows: ``h``, ``ŷ``, ``δ``, the loss, and ``Σ δ x``
while the leaf is still in cache, so X is read from memory once per epoch.

Two formulations of a leaf:

- by rows (large C-ordered X): per row ``h = x · w`` (one SIMD dot product),
  ``δ``, then ``g += δ x`` (SIMD over features);
- by columns (large F-ordered X, given as ``X.T``, and small data, on a copy
  of ``X.T``): ``h`` for all rows of the leaf, column by column (SIMD over
  rows), then ``δ`` per row, then ``g_j`` as one SIMD dot product per column.

Determinism: each leaf's sums come from the same compiled code whatever
thread runs it, and the leaves are added in leaf order, so the number of
threads never changes a bit. Only :func:`_dot` may reorder its sum (numba's
``fastmath`` "reassoc", which is what lets it use SIMD): the order depends on
the length of the product only, never on the data, the row or the thread.

Threads are the caller's (Python threads over leaf ranges; every function
here releases the GIL), not numba's ``prange``: the OpenMP threading layer
aborts a forked child process that runs a parallel region, and the workqueue
layer must not be entered from two threads at once. Our own threads have
neither problem and follow the same thread limit as the numpy path.

Every float in here has the dtype of X (``c`` holds the constants 0, 1/2 and
1 in that dtype): a float64 literal would silently promote float32 work.
"""

import math

import numpy as np
from numba import njit

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}

SQUARED_ERROR, LOG_LOSS = 0, 1


@njit(fastmath={"reassoc"}, **_JIT)
def _dot(x, y, zero):
    """``Σ_t x[t] y[t]`` (SIMD; the order depends on the length only)."""
    acc = zero
    for t in range(x.shape[0]):
        acc += x[t] * y[t]
    return acc


@njit(**_JIT)
def _terms(h, t, loss, c):
    """``(δ, ℓ)`` of one record at ``h`` with target ``t`` (unweighted)."""
    zero, half, one = c[0], c[1], c[2]
    y = one / (one + math.exp(-h))  # exp overflows to inf for h << 0: y = 0
    e = t - y
    if loss == SQUARED_ERROR:
        return e * ((one - y) * y), (e * e) * half
    # log loss: softplus(h) - t h, never log(0)
    if h > zero:
        sp = h + math.log1p(math.exp(-h))
    else:
        sp = math.log1p(math.exp(h))
    return e, sp - t * h


@njit(**_JIT)
def _leaf_rows(X, data, W, b, loss, r0, r1, G, gb, gl):
    """Sums of the leaf ``r0:r1`` with X by rows (C order): ``G = Σ sδx``
    (k, d), ``gb = Σ sδ``, ``gl = Σ sℓ`` (k,), set, not added.

    ``data`` is ``(T, tcol, s, weighted, c)``: targets, the target column of
    each neuron, the weights (used if ``weighted``) and the constants.
    """
    T, tcol, s, weighted, c = data
    zero = c[0]
    for q in range(G.shape[0]):
        g = G[q]
        g[:] = zero
        w = W[q]
        sb = zero
        sl = zero
        bq = b[q]
        tq = tcol[q]
        for i in range(r0, r1):
            x = X[i]
            dlt, ell = _terms(_dot(x, w, zero) + bq, T[i, tq], loss, c)
            if weighted:
                dlt *= s[i]
                ell *= s[i]
            sb += dlt
            sl += ell
            for j in range(x.shape[0]):
                g[j] += dlt * x[j]
        gb[q] = sb
        gl[q] = sl


@njit(**_JIT)
def _leaf_cols(XT, data, W, b, loss, r0, r1, G, gb, gl, buf):
    """As :func:`_leaf_rows` with X by columns, given as ``XT = X.T`` (C
    order); ``buf`` is scratch of length ``r1 - r0`` or more."""
    T, tcol, s, weighted, c = data
    zero = c[0]
    m = r1 - r0
    h = buf[:m]
    for q in range(G.shape[0]):
        h[:] = zero
        for j in range(XT.shape[0]):
            wj = W[q, j]
            xj = XT[j, r0:r1]
            for r in range(m):
                h[r] += xj[r] * wj
        sb = zero
        sl = zero
        bq = b[q]
        tq = tcol[q]
        for r in range(m):
            i = r0 + r
            dlt, ell = _terms(h[r] + bq, T[i, tq], loss, c)
            if weighted:
                dlt *= s[i]
                ell *= s[i]
            sb += dlt
            sl += ell
            h[r] = dlt
        gb[q] = sb
        gl[q] = sl
        for j in range(XT.shape[0]):
            G[q, j] = _dot(h, XT[j, r0:r1], zero)


@njit(**_JIT)
def _record_loss(losses, gl, W, alpha, weight_sum):
    """``losses[q] = Σ sℓ / S + alpha/2 ||w_q||²`` in float64."""
    k, d = W.shape
    for q in range(k):
        penalty = 0.0
        if alpha != 0.0:
            for j in range(d):
                penalty += np.float64(W[q, j]) * np.float64(W[q, j])
            penalty *= 0.5 * alpha
        losses[q] = np.float64(gl[q]) / weight_sum + penalty


@njit(**_JIT)
def _step(coef_aug, G, gb, update):
    """``w = decay w + step G``, ``b += step gb``, as ``_gd.apply_step``.

    ``update`` is ``(step, decay, fit_intercept, alpha, weight_sum)``.
    """
    step, decay, fit_intercept = update[0], update[1], update[2]
    k, d = G.shape
    for q in range(k):
        for j in range(d):
            coef_aug[q, j] = coef_aug[q, j] * decay[q] + G[q, j] * step[q]
        if fit_intercept:
            coef_aug[q, d] += step[q] * gb[q]


@njit(**_JIT)
def run_epochs(XT, data, coef_aug, update, loss, leaf_rows, losses):
    """All ``losses.shape[0]`` epochs in one call, on one thread (small data).

    ``XT`` is X.T, C-ordered: the caller's copy, so the order of the user's X
    never matters. Updates ``coef_aug`` (k, d + 1) in place and fills
    ``losses`` (n_epochs, k).
    """
    d, n = XT.shape
    k = coef_aug.shape[0]
    dtype = coef_aug.dtype
    zero = data[4][0]
    G = np.empty((k, d), dtype)
    gb = np.empty(k, dtype)
    gl = np.empty(k, dtype)
    Gl = np.empty((k, d), dtype)
    gbl = np.empty(k, dtype)
    gll = np.empty(k, dtype)
    h = np.empty(leaf_rows, dtype)
    W = np.empty((k, d), dtype)
    b = np.empty(k, dtype)
    n_leaves = (n + leaf_rows - 1) // leaf_rows
    for epoch in range(losses.shape[0]):
        W[:] = coef_aug[:, :d]
        b[:] = coef_aug[:, d]
        G[:] = zero
        gb[:] = zero
        gl[:] = zero
        for leaf in range(n_leaves):
            r0 = leaf * leaf_rows
            r1 = min(r0 + leaf_rows, n)
            _leaf_cols(XT, data, W, b, loss, r0, r1, Gl, gbl, gll, h)
            G += Gl
            gb += gbl
            gl += gll
        _record_loss(losses[epoch], gl, W, update[3], update[4])
        _step(coef_aug, G, gb, update)


@njit(**_JIT)
def leaf_sums(X2, colmajor, data, coef_aug, loss, leaf0, leaf1, leaf_rows, sums):
    """Sums of leaves ``leaf0:leaf1`` into ``sums = (P, Pb, Pl)`` at ``[leaf]``.

    ``X2`` is X (``colmajor`` False) or X.T (True), C-ordered. One thread's
    share of an epoch (large data); the GIL is released.
    """
    P, Pb, Pl = sums
    d = coef_aug.shape[1] - 1
    n = X2.shape[1] if colmajor else X2.shape[0]
    W = np.ascontiguousarray(coef_aug[:, :d])
    b = coef_aug[:, d].copy()
    buf = np.empty(leaf_rows, coef_aug.dtype)
    for leaf in range(leaf0, leaf1):
        r0 = leaf * leaf_rows
        r1 = min(r0 + leaf_rows, n)
        G, gb, gl = P[leaf], Pb[leaf], Pl[leaf]
        if colmajor:
            _leaf_cols(X2, data, W, b, loss, r0, r1, G, gb, gl, buf)
        else:
            _leaf_rows(X2, data, W, b, loss, r0, r1, G, gb, gl)


@njit(**_JIT)
def reduce_step(sums, coef_aug, update, losses, c):
    """Add the leaves' sums in leaf order (as :func:`run_epochs` does), record
    the loss into ``losses`` (k,), and apply the step to ``coef_aug``."""
    P, Pb, Pl = sums
    k = coef_aug.shape[0]
    d = coef_aug.shape[1] - 1
    dtype = coef_aug.dtype
    G = np.empty((k, d), dtype)
    gb = np.empty(k, dtype)
    gl = np.empty(k, dtype)
    G[:] = c[0]
    gb[:] = c[0]
    gl[:] = c[0]
    for leaf in range(P.shape[0]):
        G += P[leaf]
        gb += Pb[leaf]
        gl += Pl[leaf]
    W = np.ascontiguousarray(coef_aug[:, :d])
    _record_loss(losses, gl, W, update[3], update[4])
    _step(coef_aug, G, gb, update)


# -- a bank of neurons (many learning rates or outputs) -----------------------
# The per-neuron passes above compute each neuron's sigmoid with the C
# library's scalar exp, and its dot products one neuron at a time. A wide bank
# (``_gd``'s "bank" path) instead runs, per cache block of rows: BLAS for
# ``H = X W.T``, :func:`bank_exponents`, numpy's vectorised exp,
# :func:`bank_errors`, then BLAS for the leaves' ``Σ sδx``. The two functions
# here fuse the elementwise work that numpy would do in nine passes.


@njit(**_JIT)
def bank_exponents(H, b, m):
    """``H[r] = -(H[r] + b)`` for the first ``m`` rows of ``H`` (n, k)."""
    k = H.shape[1]
    for r in range(m):
        h = H[r]
        for j in range(k):
            h[j] = -(h[j] + b[j])


@njit(**_JIT)
def bank_errors(Z, data, r0, m, E, Q):
    """``E = s δ`` and ``Q = s e²`` (squared error) from ``Z = exp(-h)``, for
    the ``m`` rows of X from ``r0`` on (row ``i`` at ``[i - r0]``).

    The operations and their order are those of the numpy blocked path, so
    both give the same bits: ``ŷ = 1 / (exp(-h) + 1)``, ``e = t - ŷ``,
    ``δ = e ((1 - ŷ) ŷ)``, then the weights.
    """
    T, tcol, s, weighted, c = data
    one = c[2]
    k = Z.shape[1]
    shared = T.shape[1] == 1  # else T has one column per neuron (tcol = 0..k-1)
    for r in range(m):
        i = r0 + r
        z, dl, q = Z[r], E[r], Q[r]
        t = T[i]
        if shared:
            for j in range(k):
                y = one / (z[j] + one)
                e = t[0] - y
                q[j] = e * e
                dl[j] = e * ((one - y) * y)
        else:
            for j in range(k):
                y = one / (z[j] + one)
                e = t[j] - y
                q[j] = e * e
                dl[j] = e * ((one - y) * y)
        if weighted:
            si = s[i]
            for j in range(k):
                q[j] *= si
                dl[j] *= si
