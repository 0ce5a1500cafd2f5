r"""Standard errors: the HC0 sandwich covariance and the delta method.

A fitted neuron :math:`\hat\theta = [\hat w, \hat b]` minimises

.. math::

    F(\theta) = \sum_i s_i\, \ell(t_i, \tilde x_i \cdot \theta)
    + S \frac{\alpha}{2} \|w\|^2, \qquad \tilde x = [x, 1],

an M-estimator. With :math:`\ell'_i, \ell''_i` the first and second
derivatives of the loss in :math:`h = \tilde x \cdot \theta`, its
heteroskedasticity-robust (HC0, White) covariance is the sandwich

.. math::

    \widehat{\operatorname{Cov}}(\hat\theta) = A^{-1} B A^{-1}, \quad
    A = \sum_i s_i \ell''_i \tilde x_i \tilde x_i^\top + S \alpha P, \quad
    B = \sum_i s_i (\ell'_i)^2 \tilde x_i \tilde x_i^\top,

at :math:`\hat\theta` (``P`` the identity on ``w``, 0 on ``b``). ``A`` is the
observed Hessian of what was minimised; ``B`` counts a record of weight
:math:`s_i` as :math:`s_i` records (frequency weights, as ``fit`` does):

- log loss: :math:`\ell' = \hat y - t`, :math:`\ell'' = \hat y (1 - \hat y)`
  (the GLM sandwich of a Binomial family with the logit link);
- squared error: :math:`\ell' = -(t - \hat y)\, \hat y (1 - \hat y)`,
  :math:`\ell'' = (\hat y (1 - \hat y))^2 - (t - \hat y)\, \hat y (1 - \hat
  y)(1 - 2 \hat y)` (nonlinear least squares with the Jacobian
  :math:`J_i = \hat y_i (1 - \hat y_i) \tilde x_i`; the second term of
  :math:`\ell''` makes ``A`` the full Hessian rather than the Gauss-Newton
  :math:`J^\top J`, so that the sandwich stays valid when the sigmoid mean is
  not the true one).

The target scaling multiplies the objective by a constant, which cancels in
:math:`A^{-1} B A^{-1}`: the covariance is that of ``coef_`` and
``intercept_`` as reported. The delta method gives the standard error of the
predicted mean :math:`\mu(x) = lo + (hi - lo)\sigma(\tilde x \cdot \theta)` in
the units of ``y``:
:math:`|hi - lo|\, \hat y (1 - \hat y) \sqrt{\tilde x^\top \widehat{\operatorname
{Cov}} \tilde x}`.
"""

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from ._advice import setting, warn
from ._loss import get_loss
from ._namespace import host_blocks
from ._stepsize import weighted_gram

# The widest (n_features + 1) for which the (n_features + 1)² matrices are formed.
MAX_PARAMS = 4096
# A Newton step from the fitted weights longer than this many standard errors
# (in any coordinate) means the fit is not at the optimum.
NEWTON_TOL = 0.01
# Bytes of float64 work per block of rows (the records' h, derivatives, and
# the rows of X in float64): the sums never need an array as long as the data.
BLOCK_BYTES = 1 << 23


def check_size(n_features):
    if n_features + 1 > MAX_PARAMS:
        raise ValueError(
            f"compute_inference=True forms ({n_features + 1})² matrices for "
            f"{n_features} features, more than the {MAX_PARAMS - 1} features it "
            "supports; reduce the features or use compute_inference=False."
        )


def _row_blocks(X, sample_weight):
    """``(X_block, s_block, rows)`` over blocks of rows, records of weight 0
    left out (their h may be NaN: a huge x times 0 must not reach a sum)."""
    n, d = X.shape
    rows = max(1, BLOCK_BYTES // (8 * (d + 8)))
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)
        Xb = X[r0:r1]
        if sample_weight is None:
            yield Xb, np.ones(r1 - r0), slice(r0, r1)
            continue
        sb = np.asarray(sample_weight[r0:r1], dtype=np.float64)
        present = sb > 0
        if present.all():
            yield Xb, sb, slice(r0, r1)
        elif present.any():
            yield Xb[present], sb[present], np.flatnonzero(present) + r0


def sandwich_sums(
    X, T, sample_weight, coef, intercept, *, loss, fit_intercept, meat=True
):
    """The sums the sandwich is made of, over one set of records.

    Returns ``(A, B, score, S)``: per neuron the unpenalised Hessian
    ``Σ s ℓ'' x̃ x̃ᵀ`` and the meat ``Σ s ℓ'² x̃ x̃ᵀ`` (each (k, m, m); 0
    with ``meat=False``: the Hessian alone, for ``solver="newton"``), the
    gradient ``Σ s ℓ' x̃`` (k, m), and ``S = Σ s``. Computed one block of rows
    at a time; the sums of disjoint sets of records add up to those of their
    union, which is how a dask source forms them.
    """
    k, d = coef.shape
    m = d + 1 if fit_intercept else d
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    derivatives = get_loss(loss).derivatives
    A, B, score = np.zeros((k, m, m)), np.zeros((k, m, m)), np.zeros((k, m))
    S = 0.0
    for Xb, sb, rows in _row_blocks(X, sample_weight):
        S += float(sb.sum())
        H = np.asarray(Xb @ coef.T, dtype=np.float64) + intercept
        Tb = np.asarray(T[rows], dtype=np.float64)
        for j in range(k):
            grad, curv = derivatives(Tb[:, j] if Tb.shape[1] > 1 else Tb[:, 0], H[:, j])
            A[j] += weighted_gram(Xb, sb * curv, fit_intercept)
            if meat:
                B[j] += weighted_gram(Xb, sb * grad * grad, fit_intercept)
            sg = sb * grad
            score[j, :d] += np.asarray(Xb.T @ sg, dtype=np.float64)
            if fit_intercept:
                score[j, d] += sg.sum()
    return A, B, score, S


def sandwich_from_sums(A, B, score, S, coef, *, alpha, fit_intercept):
    """HC0 covariance of ``[w, b]`` per neuron, and the Newton step to the
    optimum, from :func:`sandwich_sums` (added over the record sets).

    Returns
    -------
    cov : ndarray of shape (n_neurons, n_features + 1, n_features + 1)
        Covariance of ``[w, b]`` (the intercept last; its row and column are 0
        without ``fit_intercept``). NaN where the Hessian is singular or not
        positive definite.
    newton : ndarray of shape (n_neurons, n_features + 1)
        The Newton step ``A⁻¹ ∇F`` from the fitted weights toward the optimum.
    """
    k, d = coef.shape
    m = d + 1 if fit_intercept else d
    penalty = np.r_[np.full(d, S * alpha), 0.0][:m]
    cov = np.zeros((k, d + 1, d + 1))
    newton = np.zeros((k, d + 1))
    for j in range(k):
        Aj = A[j].copy()
        Aj[np.diag_indices(m)] += penalty
        grad = score[j].copy()
        grad[:d] += S * alpha * np.asarray(coef[j], dtype=np.float64)
        A_inv = _inverse_pd(Aj)
        cov[j, :m, :m] = A_inv @ B[j] @ A_inv
        newton[j, :m] = A_inv @ grad
    return cov, newton


def sandwich(X, T, sample_weight, coef, intercept, *, loss, alpha, fit_intercept):
    """HC0 covariance of ``[w, b]`` per neuron and the Newton step, on data in
    memory (see :func:`sandwich_sums` and :func:`sandwich_from_sums`).

    ``X`` (n_samples, n_features), ``T`` targets in [0, 1] (n_samples,
    n_neurons or 1), ``sample_weight`` (n_samples,) or None, ``coef`` (k, d),
    ``intercept`` (k,).
    """
    A, B, score, S = sandwich_sums(
        X, T, sample_weight, coef, intercept, loss=loss, fit_intercept=fit_intercept
    )
    return sandwich_from_sums(
        A, B, score, S, coef, alpha=alpha, fit_intercept=fit_intercept
    )


def _inverse_pd(A):
    """Inverse of a symmetric positive definite matrix; all NaN otherwise.

    The matrix is equilibrated first (unit diagonal), so that badly scaled
    columns alone do not make it look singular.
    """
    m = A.shape[0]
    diag = np.diag(A)
    if not np.all(diag > 0):
        return np.full_like(A, np.nan)
    r = 1.0 / np.sqrt(diag)
    lam, V = np.linalg.eigh(A * r[:, None] * r)
    if not lam[0] > m * np.finfo(np.float64).eps * lam[-1]:
        return np.full_like(A, np.nan)
    inv = (V / lam) @ V.T
    return inv * r[:, None] * r


def check(cov, newton, n_outputs, settings):
    """Warn if the sandwich is undefined or the weights are not at the optimum,
    with the fixes that fit ``settings`` (the estimator)."""
    if np.isnan(cov).any():
        bad = np.flatnonzero(np.isnan(cov).any(axis=(1, 2)))
        where = f" (output {int(bad[0])})" if n_outputs > 1 else ""
        warn(
            "compute_inference: the Hessian of the training loss at the fitted "
            f"weights{where} is singular or not positive definite (collinear or "
            "constant columns, a saturated fit, or weights that are not at a "
            "minimum), so the standard errors are not defined and are NaN. "
            f"Remove redundant columns, or {_closer(settings)}.",
            UserWarning,
        )
        return
    se = standard_errors(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(se > 0, np.abs(newton) / se, np.where(newton == 0, 0, np.inf))
    worst = float(ratio.max())
    if worst > NEWTON_TOL:
        warn(
            "compute_inference: the fitted weights are not at the minimum of the "
            "training loss: a Newton step from them moves a coefficient by "
            f"{worst:.3g} of its standard error. The standard errors are those "
            f"at the fitted weights; for inference at the optimum, "
            f"{_closer(settings)}.",
            ConvergenceWarning,
        )


def _closer(settings):
    """How to bring this fit's weights to the optimum, in the caller's words:
    never a setting the fit already uses."""
    epochs = setting("epochs", 10 * settings.epochs)
    if settings.solver != "gd":
        fixes = [f"allow more iterations ({epochs})"]
        if settings.tol is not None:
            fixes.append(f"a smaller tol ({setting('tol', settings.tol / 100)})")
        return " or ".join(fixes)
    fixes = [
        f"use {setting('solver', 'newton')} or {setting('solver', 'lbfgs')}, which "
        "reach the optimum"
    ]
    if settings.early_stopping:
        fixes.append(f"{setting('early_stopping', False)}")
    elif settings.tol is not None:
        fixes.append(f"a smaller tol ({setting('tol', settings.tol / 100)})")
    fixes.append(f"more epochs ({epochs})")
    if settings.learnrate != "auto":
        fixes.append(f"{setting('learnrate', 'auto')}")
    return ", ".join(fixes[:-1]) + " or " + fixes[-1]


def standard_errors(cov):
    """Square roots of the diagonals, (n_neurons, n_features + 1)."""
    # a sandwich is positive semi-definite; clip rounding below 0
    return np.sqrt(np.maximum(np.einsum("kii->ki", cov), 0.0))


def predict_std(X, coef, intercept, cov, lo, hi):
    """Delta-method standard error of the predicted mean, (n_samples, n_neurons).

    In the units of ``y``; float64; one block of rows at a time (X of an
    array-API namespace: numpy copies of its blocks, a numpy result).
    """
    if not isinstance(X, np.ndarray) and not sparse.issparse(X):
        parts = [
            predict_std(Xb, coef, intercept, cov, lo, hi) for (Xb,) in host_blocks(X)
        ]
        return np.concatenate(parts)
    n, d = X.shape
    coef = np.asarray(coef, dtype=np.float64)
    out = np.empty((n, coef.shape[0]))
    rows = max(1, BLOCK_BYTES // (8 * (d + 1)))
    for r0 in range(0, n, rows):
        Xb = X[r0 : r0 + rows]
        y = expit(np.asarray(Xb @ coef.T, dtype=np.float64) + intercept)
        for j in range(coef.shape[0]):
            C = cov[j]
            XC = np.asarray(Xb @ C[:d], dtype=np.float64) + C[d]  # rows x̃ᵀ C
            if sparse.issparse(Xb):
                q = np.asarray(Xb.multiply(XC[:, :d]).sum(axis=1)).ravel()
            else:
                q = np.einsum("ij,ij->i", XC[:, :d], Xb)
            q += XC[:, d]
            out[r0 : r0 + rows, j] = np.sqrt(np.maximum(q, 0.0)) * (
                y[:, j] * (1 - y[:, j])
            )
    return out * np.abs(hi - lo)
