"""The compiled engine (numba): the rule in fused passes over leaves of rows.

Importing this module imports numba, so the kernels import it lazily and only
for the data it trains (``make_kernel``). It computes the array engine's
epoch in fused passes over cache-sized *leaves* of ``leaf_rows`` consecutive
rows: ``h``, ``ŷ``, ``δ``, the loss, and ``Σ δ x`` while the leaf is still in
cache, so X is read from memory once per epoch.

Two formulations of a leaf:

- by rows (large C-ordered X): ``h = x · w`` per row of the leaf (one SIMD
  dot product each), the leaf's terms in one vectorised loop, then ``g += δ
  x`` per row (SIMD over features);
- by columns (large F-ordered X, given as ``X.T``, and small data, on a copy
  of ``X.T``): ``h`` for all rows of the leaf, column by column (SIMD over
  rows), the leaf's terms in one vectorised loop, then ``g_j`` as one SIMD
  dot product per column.

A leaf's terms are :func:`_errors`, on a flat run of records with their
weights: the sigmoid (:func:`_sigmoid`, from an ``exp`` the compiler
vectorises, :func:`_exp`) and the loss table's own functions, compiled
(``_loss``: ``error_term``, ``scalar_value``). A record of weight 0
contributes exactly 0 even when its ``h`` is not finite: :func:`_errors`
selects 0 for its weighted terms (never ``0 * NaN``), and the row pass adds
no ``δ x`` for it.

Determinism: each leaf's sums come from the same compiled code whatever
thread runs it, and the leaves are added in leaf order, so the number of
threads never changes a bit. Only :func:`_dot` may reorder its sum (numba's
``fastmath`` "reassoc", which is what lets it use SIMD): the order depends on
the length of the product only, never on the data, the row or the thread.
The bank's products are BLAS calls of shapes fixed by the data and the groups,
and the vectorised passes may fuse multiply-adds in the ``exp`` (``fastmath``
"contract") where the CPU has FMA: the same bits on one machine, the last
bit may differ on another.

The compiled engine runs many epochs in one call where the calls' overhead
would dominate (small data, :func:`run_epochs`; the bank of many neurons,
:func:`bank_epochs`), so these two apply the step themselves
(:func:`_finish_epoch`), as the stepper (``_base.apply_step``) does;
elsewhere the stepper applies it.

Threads are the caller's (Python threads over leaf ranges, or over groups of
neurons of a bank; every function here releases the GIL), not numba's
``prange``: the OpenMP threading layer aborts a forked child process that
runs a parallel region, and the workqueue layer must not be entered from two
threads at once. Our own threads have neither problem and follow the same
thread limit as the array engine.

Values come in as named tuples (:class:`Data`, :class:`Update`), read by
name. Every float in them has the dtype of X: a float64 literal would
silently promote float32 work.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from .._loss import LogLoss, SquaredError

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}

SQUARED_ERROR, LOG_LOSS = SquaredError.code, LogLoss.code

# What the per-record work reads besides X: the targets ``T``, the target
# column of each neuron ``tcol``, the weights ``s`` (read only if
# ``weighted``), the constants 0, 1/2 and 1 in X's dtype, and those of
# :func:`_exp` (``expc``).
Data = namedtuple("Data", ["T", "tcol", "s", "weighted", "zero", "half", "one", "expc"])
# The update of an epoch: ``step`` (learnrate / S) and ``decay`` (1 -
# learnrate * alpha) per neuron, and what the recorded loss needs.
Update = namedtuple("Update", ["step", "decay", "fit_intercept", "alpha", "weight_sum"])


def make_data(T, tcol, s, dtype):
    """The :class:`Data` of targets ``T``, columns ``tcol`` and weights ``s``
    (None: unweighted), with the constants in ``dtype``."""
    weighted = s is not None
    s = np.ascontiguousarray(s) if weighted else np.empty(0, dtype)
    f = np.dtype(dtype).type
    return Data(T, tcol, s, weighted, f(0), f(0.5), f(1), exp_constants(dtype))


# -- exp, vectorisable ----------------------------------------------------------
# numba compiles ``math.exp`` to the C library's scalar exp, which LLVM does
# not vectorise (PyPI's llvmlite has no vector math library). :func:`_exp` is
# an exp that LLVM vectorises: x = n ln2 + r with |r| <= ln2 / 2 (Cody and
# Waite's two-part ln2, as in fdlibm), a Taylor polynomial for exp(r) (degree
# 13 in float64, 7 in float32) and 2^n from exponent bits, in two factors so
# that results near overflow and subnormal results are reached. Tested: inf
# past overflow, 0 past underflow, NaN for NaN, and within one ulp of the
# exact value where the CPU fuses multiply-adds (FMA: x86-64 since 2013, ARM64;
# ``fastmath={"contract"}`` lets LLVM use it), within 1.25 ulp otherwise.


def _float_bits(x):
    """The bits of a float as an integer of the same width (numba only)."""
    raise NotImplementedError


def _bits_float(i, like):
    """The float of ``like``'s type whose bits are the integer ``i`` (numba
    only; numba's integer arithmetic makes ``i`` an int64 whatever its inputs)."""
    raise NotImplementedError


@overload(_float_bits)
def _float_bits_impl(x):
    if x == types.float32:
        return lambda x: np.float32(x).view(np.int32)
    if x == types.float64:
        return lambda x: np.float64(x).view(np.int64)
    return None


@overload(_bits_float)
def _bits_float_impl(i, like):
    if like == types.float32:
        return lambda i, like: np.int32(i).view(np.float32)
    if like == types.float64:
        return lambda i, like: np.int64(i).view(np.float64)
    return None


def exp_constants(dtype):
    """What :func:`_exp` needs for ``dtype`` (float32 or float64):
    ``(floats, ints, coefficients)``, each typed like the data."""
    if np.dtype(dtype) == np.float64:
        f, i, mantissa, bias, degree = np.float64, np.int64, 52, 1023, 13
        # exp underflows to 0 below lo and overflows above hi (ln of the
        # largest double); fdlibm's ln2_hi has 32 significant bits, so
        # n * ln2_hi is exact for |n| <= 1075
        lo, hi = -745.1332191019412, 709.782712893384
        ln2_hi, ln2_lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
    else:
        f, i, mantissa, bias, degree = np.float32, np.int32, 23, 127, 7
        lo, hi = -103.97208, 88.72284
        # fdlibm's expf: ln2_hi has 15 significant bits (|n| <= 150)
        ln2_hi, ln2_lo = 6.9314575195e-01, 1.4286067653e-06
    shift = f(1.5 * 2.0**mantissa)  # adding it rounds x / ln2 to an integer
    floats = (f(lo), f(hi), f(1 / math.log(2)), shift, f(ln2_hi), f(ln2_lo))
    floats += (f(0), f(np.inf))
    ints = (shift.view(i), i(mantissa), i(bias), i(1))
    coefficients = tuple(f(1 / math.factorial(j)) for j in range(degree, -1, -1))
    return floats, ints, coefficients


@njit(inline="always", fastmath={"contract"}, error_model="numpy")
def _exp(x, constants):
    """exp(x), for loops that the compiler vectorises (see above); inlined,
    so the caller's loop must allow ``fastmath={"contract"}`` as well."""
    floats, ints, coefficients = constants
    lo, hi, log2e, shift, ln2_hi, ln2_lo, zero, inf = floats
    shift_bits, mantissa, bias, one = ints
    xc = x if x > lo else lo
    xc = xc if xc < hi else hi
    t = xc * log2e + shift
    n = t - shift  # round(x / ln2), as a float
    r = (xc - n * ln2_hi) - n * ln2_lo
    p = coefficients[0]
    for c in coefficients[1:]:
        p = p * r + c
    ni = _float_bits(t) - shift_bits  # the same integer n
    h = ni >> one
    v = p * _bits_float((h + bias) << mantissa, x)
    v = v * _bits_float((ni - h + bias) << mantissa, x)
    v = v if x >= lo else zero
    return v if x <= hi else x * inf  # inf, or NaN for NaN


# -- one record, and a run of records ----------------------------------------------
# the loss table's own functions, compiled
_sq_error_term = njit(inline="always")(SquaredError.error_term)
_sq_value = njit(inline="always")(SquaredError.scalar_value)
_log_error_term = njit(inline="always")(LogLoss.error_term)
_log_value = njit(inline="always")(LogLoss.scalar_value)


@njit(inline="always", error_model="numpy")
def _sigmoid(h, data):
    """``1 / (1 + exp(-h))`` (0 where ``exp(-h)`` overflows)."""
    return data.one / (data.one + _exp(-h, data.expc))


@njit(fastmath={"contract"}, **_JIT)
def _errors(H, T, S, weighted, loss, E, Q, data):
    """``E = s δ`` and ``Q = s ℓ`` of a run of records from ``H = X w + b``,
    the targets ``T`` and weights ``S`` (flat runs of the same length; ``E``
    may be ``H``); exact zeros for weight 0 (never ``0 * NaN``).

    The records' terms in one loop per loss and weighting: the compiler
    vectorises a loop only without a test of the loss inside it and with the
    functions it calls inlined one level deep. :func:`_exp` fuses
    multiply-adds here.
    """
    zero, half, one = data.zero, data.half, data.one
    n = H.shape[0]
    if loss == SQUARED_ERROR and weighted:
        for q in range(n):
            h, t, s = H[q], T[q], S[q]
            y = _sigmoid(h, data)
            ell = _sq_value(t, y, h, zero, half, one)
            Q[q] = ell * s if s != zero else zero
            E[q] = _sq_error_term(t, y, one) * s if s != zero else zero
    elif loss == SQUARED_ERROR:
        for q in range(n):
            h, t = H[q], T[q]
            y = _sigmoid(h, data)
            Q[q] = _sq_value(t, y, h, zero, half, one)
            E[q] = _sq_error_term(t, y, one)
    elif weighted:
        for q in range(n):
            h, t, s = H[q], T[q], S[q]
            y = _sigmoid(h, data)
            ell = _log_value(t, y, h, zero, half, one)
            Q[q] = ell * s if s != zero else zero
            E[q] = _log_error_term(t, y, one) * s if s != zero else zero
    else:
        for q in range(n):
            h, t = H[q], T[q]
            y = _sigmoid(h, data)
            Q[q] = _log_value(t, y, h, zero, half, one)
            E[q] = _log_error_term(t, y, one)


@njit(fastmath={"reassoc"}, **_JIT)
def _dot(x, y, zero):
    """``Σ_t x[t] y[t]`` (SIMD; the order depends on the length only)."""
    acc = zero
    for t in range(x.shape[0]):
        acc += x[t] * y[t]
    return acc


@njit(fastmath={"reassoc"}, **_JIT)
def _sum(x, zero):
    """``Σ x`` (SIMD; the order depends on the length only, as :func:`_dot`)."""
    acc = zero
    for t in range(x.shape[0]):
        acc += x[t]
    return acc


# -- leaves ---------------------------------------------------------------------------
@njit(**_JIT)
def _leaf_rows(X, data, W, b, loss, r0, r1, G, gb, gl, bufs, Hk):
    """Sums of the leaf ``r0:r1`` with X by rows (C order): ``G = Σ sδx``
    (k, d), ``gb = Σ sδ``, ``gl = Σ sℓ`` (k,), set, not added; ``bufs`` and
    ``Hk`` as for :func:`_leaf_cols`. The leaf's rows are read from memory
    once: the pass of ``δ x`` finds them in cache."""
    zero, weighted = data.zero, data.weighted
    m = r1 - r0
    h, dlt, ell, t = bufs[0][:m], bufs[1][:m], bufs[2][:m], bufs[3][:m]
    s = data.s[r0:r1] if weighted else data.s
    for q in range(G.shape[0]):
        w = W[q]
        bq = b[q]
        tq = data.tcol[q]
        g = G[q]
        g[:] = zero
        for r in range(m):
            h[r] = _dot(X[r0 + r], w, zero) + bq
            t[r] = data.T[r0 + r, tq]
        _errors(h, t, s, weighted, loss, dlt, ell, data)
        if Hk.shape[0]:
            Hk[r0:r1, q] = h
        for r in range(m):
            e = dlt[r]
            if e != zero:  # a record of weight 0 adds nothing
                x = X[r0 + r]
                for j in range(x.shape[0]):
                    g[j] += e * x[j]
        gb[q] = _sum(dlt, zero)
        gl[q] = _sum(ell, zero)


@njit(**_JIT)
def _buffers(m, dtype):
    """The scratch vectors of the leaf passes."""
    return (
        np.empty(m, dtype),
        np.empty(m, dtype),
        np.empty(m, dtype),
        np.empty(m, dtype),
    )


@njit(**_JIT)
def _leaf_cols(XT, data, W, b, loss, r0, r1, G, gb, gl, bufs, Hk):
    """As :func:`_leaf_rows` with X by columns, given as ``XT = X.T`` (C
    order); ``bufs`` holds four scratch vectors of length ``r1 - r0`` or
    more; ``Hk`` (n, k) receives the records' ``h`` unless it is empty."""
    zero = data.zero
    m = r1 - r0
    h, dlt, ell, t = bufs[0][:m], bufs[1][:m], bufs[2][:m], bufs[3][:m]
    s = data.s[r0:r1] if data.weighted else data.s
    for q in range(G.shape[0]):
        h[:] = b[q]
        for j in range(XT.shape[0]):
            wj = W[q, j]
            xj = XT[j, r0:r1]
            for r in range(m):
                h[r] += xj[r] * wj
        # contiguous and unaliased runs, so that _errors vectorises
        t[:] = data.T[r0:r1, data.tcol[q]]
        _errors(h, t, s, data.weighted, loss, dlt, ell, data)
        if Hk.shape[0]:
            Hk[r0:r1, q] = h
        gb[q] = _sum(dlt, zero)
        gl[q] = _sum(ell, zero)
        for j in range(XT.shape[0]):
            G[q, j] = _dot(dlt, XT[j, r0:r1], zero)


@njit(**_JIT)
def leaf_sums(X2, colmajor, data, coef_aug, loss, leaf0, leaf1, leaf_rows, sums, Hk):
    """Sums of leaves ``leaf0:leaf1`` into ``sums = (P, Pb, Pl)`` at ``[leaf]``.

    ``X2`` is X (``colmajor`` False) or X.T (True), C-ordered; ``Hk`` as for
    :func:`_leaf_cols`. One thread's share of an epoch (large data); the GIL
    is released.
    """
    P, Pb, Pl = sums
    d = coef_aug.shape[1] - 1
    n = X2.shape[1] if colmajor else X2.shape[0]
    W = np.ascontiguousarray(coef_aug[:, :d])
    b = coef_aug[:, d].copy()
    bufs = _buffers(leaf_rows, coef_aug.dtype)
    for leaf in range(leaf0, leaf1):
        r0 = leaf * leaf_rows
        r1 = min(r0 + leaf_rows, n)
        G, gb, gl = P[leaf], Pb[leaf], Pl[leaf]
        if colmajor:
            _leaf_cols(X2, data, W, b, loss, r0, r1, G, gb, gl, bufs, Hk)
        else:
            _leaf_rows(X2, data, W, b, loss, r0, r1, G, gb, gl, bufs, Hk)


@njit(**_JIT)
def reduce_sums(sums, zero):
    """``(G, gb, gl)``: the leaves' sums ``sums = (P, Pb, Pl)`` added in leaf
    order (as :func:`run_epochs` does)."""
    P, Pb, Pl = sums
    k, d = P.shape[1], P.shape[2]
    dtype = P.dtype
    G = np.empty((k, d), dtype)
    gb = np.empty(k, dtype)
    gl = np.empty(k, dtype)
    G[:] = zero
    gb[:] = zero
    gl[:] = zero
    for leaf in range(P.shape[0]):
        G += P[leaf]
        gb += Pb[leaf]
        gl += Pl[leaf]
    return G, gb, gl


@njit(**_JIT)
def reduce_step(sums, coef_aug, update, zero, losses):
    """An epoch's end in one call: the leaves' sums added in leaf order
    (:func:`reduce_sums`), then the loss into ``losses`` (k,) and the step
    (:func:`_finish_epoch`)."""
    G, gb, gl = reduce_sums(sums, zero)
    _finish_epoch(losses, G, gb, gl, coef_aug, update, 0, coef_aug.shape[0])


@njit(**_JIT)
def sparse_errors(H, b, loss, data, D, Q):
    """One neuron's elementwise work on sparse X, between scipy's two
    products: ``D = s δ`` from ``H = X w`` and the intercept ``b`` (``Q``:
    scratch of H's length, ``data.T`` one contiguous column); returns ``(Σ s
    δ, Σ s ℓ)``."""
    for r in range(H.shape[0]):
        H[r] += b
    _errors(H, data.T, data.s, data.weighted, loss, D, Q, data)
    return _sum(D, data.zero), _sum(Q, data.zero)


# -- epochs in one call: the compiled stepper ---------------------------------------
@njit(**_JIT)
def _finish_epoch(losses, G, gb, gl, coef_aug, update, j0, j1):
    """Record the loss of neurons ``j0:j1`` into ``losses`` (k,) and apply
    their step, from their sums ``G``, ``gb``, ``gl``: ``Σ sℓ / S +
    alpha/2 ||w||²`` in float64, then ``w = decay w + step G``, ``b += step
    gb``, as the stepper (``_base``) does."""
    d = coef_aug.shape[1] - 1
    step, decay = update.step[j0:j1], update.decay[j0:j1]
    for q in range(j1 - j0):
        j = j0 + q
        penalty = 0.0
        if update.alpha != 0.0:
            for f in range(d):
                penalty += np.float64(coef_aug[j, f]) * np.float64(coef_aug[j, f])
            penalty *= 0.5 * update.alpha
        losses[j] = np.float64(gl[q]) / update.weight_sum + penalty
        for f in range(d):
            coef_aug[j, f] = coef_aug[j, f] * decay[q] + G[q, f] * step[q]
        if update.fit_intercept:
            coef_aug[j, d] += step[q] * gb[q]


@njit(**_JIT)
def run_epochs(XT, data, coef_aug, update, loss, leaf_rows, losses, Hk):
    """``losses.shape[0]`` epochs in one call, on one thread (small data).

    ``XT`` is X.T, C-ordered: the caller's copy, so the order of the user's X
    never matters. Updates ``coef_aug`` (k, d + 1) in place and fills
    ``losses`` (n_epochs, k); ``Hk`` as for :func:`_leaf_cols` (written by
    every epoch). Epochs in several calls give the same bits as in one.
    """
    d, n = XT.shape
    k = coef_aug.shape[0]
    dtype = coef_aug.dtype
    zero = data.zero
    G = np.empty((k, d), dtype)
    gb = np.empty(k, dtype)
    gl = np.empty(k, dtype)
    Gl = np.empty((k, d), dtype)
    gbl = np.empty(k, dtype)
    gll = np.empty(k, dtype)
    bufs = _buffers(leaf_rows, dtype)
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
            _leaf_cols(XT, data, W, b, loss, r0, r1, Gl, gbl, gll, bufs, Hk)
            G += Gl
            gb += gbl
            gl += gll
        _finish_epoch(losses[epoch], G, gb, gl, coef_aug, update, 0, k)


# -- a bank of neurons (many learning rates or outputs) -----------------------
# The per-neuron passes above compute the dot products one neuron at a time.
# A wide bank instead runs, per leaf of rows and group of neurons: BLAS for
# ``H = X W.T`` (``np.dot``, which numba sends to scipy's BLAS), the records'
# terms in flat vectorised passes (:func:`_errors`), and BLAS for their
# column sums and ``Σ sδx``. All epochs of a call run without the GIL, so
# groups of neurons train on threads of their own.


@njit(**_JIT)
def bank_epochs(
    X2, colmajor, data, coef_aug, update, loss, bounds, g0, g1, leaf_rows, losses
):
    """``losses.shape[0]`` epochs of the neurons of groups ``g0:g1``.

    Group ``g`` holds neurons ``bounds[g]:bounds[g + 1]``. ``data`` is as for
    the other kernels except that the targets (and the weights, if
    ``weighted``) are laid out by group, each group a C-ordered (n, its
    size) block at ``n * bounds[g]`` of a flat array, so that a leaf's work
    is flat loops that the compiler vectorises (``data.tcol`` is unused).
    ``X2`` is X (``colmajor`` False) or X.T (True), C-ordered; leaves of X.T
    are copied to a C-ordered leaf for BLAS. Per leaf and group: ``H =
    X_leaf W.T``, the records' ``s δ`` and ``s ℓ`` (:func:`_errors`), their
    column sums, and ``P = (s δ).T X_leaf``. Leaves are added in leaf order, so
    the result depends on the groups only, never on the thread or on which
    other groups a call runs. Updates rows ``bounds[g0]:bounds[g1]`` of
    ``coef_aug`` and the same columns of ``losses`` (n_epochs, k); the GIL
    is released.
    """
    T, S, weighted = data.T, data.s, data.weighted
    zero = data.zero
    dtype = coef_aug.dtype
    d = coef_aug.shape[1] - 1
    n = X2.shape[1] if colmajor else X2.shape[0]
    j0, j1 = bounds[g0], bounds[g1]
    kt = j1 - j0
    width = 0
    for g in range(g0, g1):
        width = max(width, bounds[g + 1] - bounds[g])
    # each group's W.T at the same place whatever groups the call runs (BLAS
    # may compute differently at another alignment)
    WT = np.empty(d * coef_aug.shape[0], dtype)
    Bt = np.empty(leaf_rows * kt, dtype)  # each group's intercepts, by rows
    Hbuf = np.empty(leaf_rows * width, dtype)
    Ebuf = np.empty(leaf_rows * width, dtype)
    Qbuf = np.empty(leaf_rows * width, dtype)
    Pbuf = np.empty(width * d, dtype)
    ones = np.ones(leaf_rows, dtype)
    Xb = np.empty((leaf_rows if colmajor else 0, d), dtype)
    G = np.empty((kt, d), dtype)
    gb = np.empty(kt, dtype)
    gl = np.empty(kt, dtype)
    pb = np.empty(width, dtype)
    pl = np.empty(width, dtype)
    n_leaves = (n + leaf_rows - 1) // leaf_rows
    for epoch in range(losses.shape[0]):
        for g in range(g0, g1):
            a, z = bounds[g], bounds[g + 1]
            Wg = WT[d * a : d * z].reshape((d, z - a))
            Bg = Bt[leaf_rows * (a - j0) : leaf_rows * (z - j0)].reshape(
                (leaf_rows, z - a)
            )
            for j in range(a, z):
                for f in range(d):
                    Wg[f, j - a] = coef_aug[j, f]
                Bg[:, j - a] = coef_aug[j, d]
        G[:] = zero
        gb[:] = zero
        gl[:] = zero
        for leaf in range(n_leaves):
            r0 = leaf * leaf_rows
            m = min(leaf_rows, n - r0)
            if colmajor:
                for f in range(d):
                    for r in range(m):
                        Xb[r, f] = X2[f, r0 + r]
                Xl = Xb[:m]
            else:
                Xl = X2[r0 : r0 + m]
            for g in range(g0, g1):
                a, z = bounds[g] - j0, bounds[g + 1] - j0
                kg = z - a
                mk = m * kg
                H = Hbuf[:mk].reshape((m, kg))
                np.dot(Xl, WT[d * (j0 + a) : d * (j0 + z)].reshape((d, kg)), H)
                Hf, Bf = Hbuf[:mk], Bt[leaf_rows * a : leaf_rows * a + mk]
                for q in range(mk):
                    Hf[q] += Bf[q]
                at = n * (j0 + a) + r0 * kg  # the leaf's targets (and weights)
                Tf = T[at : at + mk]
                Sf = S[at : at + mk] if weighted else S
                _errors(Hf, Tf, Sf, weighted, loss, Ebuf[:mk], Qbuf[:mk], data)
                E = Ebuf[:mk].reshape((m, kg))
                np.dot(ones[:m], Qbuf[:mk].reshape((m, kg)), pl[:kg])
                np.dot(ones[:m], E, pb[:kg])
                P = Pbuf[: kg * d].reshape((kg, d))
                np.dot(E.T, Xl, P)
                G[a:z] += P
                gb[a:z] += pb[:kg]
                gl[a:z] += pl[:kg]
        _finish_epoch(losses[epoch], G, gb, gl, coef_aug, update, j0, j1)
