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

import warnings

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from ._stepsize import weighted_gram

# The widest (n_features + 1) for which the (n_features + 1)² matrices are formed.
MAX_PARAMS = 4096
# A Newton step from the fitted weights longer than this many standard errors
# (in any coordinate) means the fit is not at the optimum.
NEWTON_TOL = 0.01


def check_size(n_features):
    if n_features + 1 > MAX_PARAMS:
        raise ValueError(
            f"compute_inference=True forms ({n_features + 1})² matrices for "
            f"{n_features} features, more than the {MAX_PARAMS - 1} features it "
            "supports; reduce the features or use compute_inference=False."
        )


def _derivatives(loss, t, h):
    """``ℓ'`` and ``ℓ''`` (in h) per record, float64."""
    y = expit(h)
    slope = y * (1 - y)
    e = t - y
    if loss == "log_loss":
        return -e, slope
    return -e * slope, slope * slope - e * slope * (1 - 2 * y)


def sandwich(X, T, sample_weight, coef, intercept, *, loss, alpha, fit_intercept):
    """HC0 covariance of ``[w, b]`` per neuron, and the Newton step to the optimum.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    T : ndarray of shape (n_samples, n_neurons)
        Targets in [0, 1].
    sample_weight : ndarray of shape (n_samples,) or None
    coef : ndarray of shape (n_neurons, n_features)
    intercept : ndarray of shape (n_neurons,)
    loss : {"squared_error", "log_loss"}
    alpha : float
    fit_intercept : bool

    Returns
    -------
    cov : ndarray of shape (n_neurons, n_features + 1, n_features + 1)
        Covariance of ``[w, b]`` (the intercept last; its row and column are 0
        without ``fit_intercept``). NaN where the Hessian is singular or not
        positive definite.
    newton : ndarray of shape (n_neurons, n_features + 1)
        The Newton step ``A⁻¹ ∇F`` from the fitted weights toward the optimum.
    """
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    S = float(s.sum())
    k = coef.shape[0]
    m = d + 1 if fit_intercept else d
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    H = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    T = np.asarray(T, dtype=np.float64)
    cov = np.zeros((k, d + 1, d + 1))
    newton = np.zeros((k, d + 1))
    penalty = np.r_[np.full(d, S * alpha), 0.0][:m]
    for j in range(k):
        grad, curv = _derivatives(loss, T[:, j] if T.shape[1] > 1 else T[:, 0], H[:, j])
        A = weighted_gram(X, s * curv, fit_intercept)
        A[np.diag_indices(m)] += penalty
        B = weighted_gram(X, s * grad * grad, fit_intercept)
        score = np.empty(m)
        score[:d] = X.T @ (s * grad)
        if fit_intercept:
            score[d] = np.dot(s, grad)
        score[:d] += S * alpha * coef[j]
        A_inv = _inverse_pd(A)
        cov[j, :m, :m] = A_inv @ B @ A_inv
        newton[j, :m] = A_inv @ score
    return cov, newton


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


def check(cov, newton, n_outputs):
    """Warn if the sandwich is undefined or the weights are not at the optimum."""
    if np.isnan(cov).any():
        bad = np.flatnonzero(np.isnan(cov).any(axis=(1, 2)))
        where = f" (output {int(bad[0])})" if n_outputs > 1 else ""
        warnings.warn(
            "compute_inference: the Hessian of the training loss at the fitted "
            f"weights{where} is singular or not positive definite (collinear or "
            "constant columns, a saturated fit, or weights that are not at a "
            "minimum), so the standard errors are not defined and are NaN. "
            "Remove redundant columns, or fit longer (more epochs, "
            "learnrate='auto').",
            UserWarning,
            stacklevel=5,
        )
        return
    se = standard_errors(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(se > 0, np.abs(newton) / se, np.where(newton == 0, 0, np.inf))
    worst = float(ratio.max())
    if worst > NEWTON_TOL:
        warnings.warn(
            "compute_inference: the fitted weights are not at the minimum of the "
            "training loss: a Newton step from them moves a coefficient by "
            f"{worst:.3g} of its standard error. The standard errors are those "
            "at the fitted weights; fit longer (more epochs, learnrate='auto', "
            "or tol) for inference at the optimum.",
            ConvergenceWarning,
            stacklevel=5,
        )


def standard_errors(cov):
    """Square roots of the diagonals, (n_neurons, n_features + 1)."""
    # a sandwich is positive semi-definite; clip rounding below 0
    return np.sqrt(np.maximum(np.einsum("kii->ki", cov), 0.0))


def predict_std(X, coef, intercept, cov, lo, hi):
    """Delta-method standard error of the predicted mean, (n_samples, n_neurons).

    In the units of ``y``; float64.
    """
    n, d = X.shape
    coef = np.asarray(coef, dtype=np.float64)
    H = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    y = expit(H)
    out = np.empty((n, coef.shape[0]))
    for j in range(coef.shape[0]):
        C = cov[j]
        XC = np.asarray(X @ C[:d], dtype=np.float64) + C[d]  # rows x̃ᵀ C
        if sparse.issparse(X):
            q = np.asarray(X.multiply(XC[:, :d]).sum(axis=1)).ravel()
        else:
            q = np.einsum("ij,ij->i", XC[:, :d], X)
        q += XC[:, d]
        out[:, j] = np.sqrt(np.maximum(q, 0.0))
    return out * (y * (1 - y)) * np.abs(hi - lo)
