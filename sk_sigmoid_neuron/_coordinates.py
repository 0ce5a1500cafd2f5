r"""The coordinates in which the solvers work (``_lbfgs``, ``_newton``).

An exact linear change of variables :math:`\theta = [w, b] = C D Q z`, row
by row (one row per neuron), mapped back in float64:

- :math:`D C` standardises: :math:`u_j = \sigma_j w_j`, :math:`u_b = b +
  \mu \cdot w`, with the columns' weighted means :math:`\mu` and standard
  deviations :math:`\sigma` over the training records (one pass), so that
  :math:`F` in :math:`u` is the objective of standardised columns, and its
  gradient in :math:`u`, the *standardised gradient*, that of their
  coefficients, whatever the columns' units: ``tol`` bounds its largest
  component;
- :math:`Q` whitens what is left: :math:`Q^\top M Q = I` for :math:`M = c\,
  G_u + \alpha\,\mathrm{diag}(\sigma^{-2})`, the loss's curvature bound
  ``c`` (``_loss``, as for ``learnrate="auto"``) times the weighted Gram
  matrix of the standardised columns (of ``GRAM_ROWS`` evenly spaced
  records, the same rows on every source) plus the penalty's curvature: the
  metric in which the Hessian of :math:`F` is at most the identity. Its
  diagonal only, beyond ``GRAM_MAX`` parameters.
"""

import numpy as np
from scipy import sparse
from scipy.linalg import cholesky, solve_triangular

from ._loss import get_loss
from ._namespace import float_dtypes, take_rows, to_numpy, xp_of

# The most parameters per neuron whose Gram matrix whitens the coordinates;
# beyond, the standardisation alone (its diagonal).
GRAM_MAX = 512
# Records sampled (evenly spaced) for that Gram matrix: this many, or four
# per parameter.
GRAM_ROWS = 1000
# Added to the diagonal of the equilibrated metric (whose diagonal is 1): the
# change of variables stays well conditioned where the sampled columns are
# (nearly) collinear.
FLOOR = 1e-8
# A column whose variance is below this many ulps of its second moment is
# constant to rounding, and keeps the scale 1 (as in StandardScaler).
CONSTANT_ULPS = 64
# Bytes of float64 rows per block while summing the columns' moments.
BLOCK_BYTES = 1 << 20


class Coordinates:
    """The change of variables ``theta = C D Q z`` (see the module's
    docstring).

    ``mean`` and ``scale`` are the columns' ``μ`` (None without
    ``fit_intercept``) and ``σ``; ``Q`` and ``Q_inv`` are (m, m) matrices,
    or vectors for a diagonal ``Q``.
    """

    def __init__(self, mean, scale, Q, Q_inv):
        self.mean, self.scale, self.Q, self.Q_inv = mean, scale, Q, Q_inv

    @classmethod
    def of(cls, source, trainer):
        """The coordinates of the trainer's problem on the training records
        of ``source``: one pass over them, and a sample of evenly spaced rows
        (the same on every source) for the Gram matrix."""
        d, fit_intercept = trainer.n_features, trainer.fit_intercept
        m = d + fit_intercept
        n = source.n_samples
        rows = np.linspace(0, n - 1, min(n, max(GRAM_ROWS, 4 * m)) * (m <= GRAM_MAX))
        rows = np.unique(rows.astype(np.int64))
        starts, edges = source.offsets[:-1], np.searchsorted(rows, source.offsets)
        local = [rows[a:b] - start for a, b, start in zip(
            edges[:-1], edges[1:], starts, strict=True)]  # fmt: skip
        parts = source.map(_part_statistics, rows=local, per_part=("rows",))
        S, sx, sxx = (sum(p[i] for p in parts) for i in range(3))
        S = max(S, np.finfo(np.float64).tiny)
        second = sxx / S
        mean = sx / S if fit_intercept else np.zeros(d)
        variance = second - mean * mean
        constant = variance <= CONSTANT_ULPS * np.finfo(np.float64).eps * second
        scale = np.where(constant, 1.0, np.sqrt(np.maximum(variance, 0.0)))
        curvature = get_loss(trainer.loss).curvature
        penalty = trainer.alpha / (scale * scale)
        diagonal = np.r_[curvature + penalty, curvature][:m]
        coords = cls(mean if fit_intercept else None, scale, None, None)
        sample = np.concatenate([p[3] for p in parts])
        v = np.concatenate([p[4] for p in parts])
        if len(v) and v.sum() > 0:
            # the sample's weighted Gram matrix of the standardised [x, 1]; a
            # diagonal below the whole data's (a column all but constant in
            # the sample: a rare feature) is raised to it
            Z = np.column_stack([(sample - mean) / scale, np.ones(len(v))])[:, :m]
            Z *= np.sqrt(v / v.sum())[:, None]
            G = Z.T @ Z
            exact = np.r_[np.where(constant, 0.0, 1.0), 1.0][:m]
            G[np.diag_indices(m)] = np.maximum(np.diag(G), exact)
            M = curvature * G
            M[np.diag_indices(d)] += penalty
            try:
                coords.Q, coords.Q_inv = _inverse_root(M)
                return coords
            except np.linalg.LinAlgError:
                pass  # not positive definite to rounding: the diagonal
        q = 1.0 / np.sqrt(diagonal)
        coords.Q, coords.Q_inv = q, 1.0 / q
        return coords

    def standardised(self, theta):
        """``u`` of ``theta``."""
        u = theta.copy()
        u[:, : len(self.scale)] *= self.scale
        if self.mean is not None:
            u[:, -1] += theta[:, :-1] @ self.mean
        return u

    def unstandardised(self, u):
        """``theta`` of ``u``."""
        theta = u.copy()
        theta[:, : len(self.scale)] /= self.scale
        if self.mean is not None:
            theta[:, -1] -= theta[:, :-1] @ self.mean
        return theta

    def gradient(self, grad):
        """The gradient in ``u`` of the gradient in ``theta``: the
        standardised gradient, which ``tol`` bounds."""
        g = grad.copy()
        if self.mean is not None:
            g[:, :-1] -= np.outer(grad[:, -1], self.mean)
        g[:, : len(self.scale)] /= self.scale
        return g

    def theta(self, z):
        Q = self.Q
        return self.unstandardised(z @ Q.T if Q.ndim == 2 else z * Q)

    def z(self, theta):
        u, Q_inv = self.standardised(theta), self.Q_inv
        return u @ Q_inv.T if Q_inv.ndim == 2 else u * Q_inv

    def z_gradient(self, grad):
        g, Q = self.gradient(grad), self.Q
        return g @ Q if Q.ndim == 2 else g * Q


def _part_statistics(part, *, rows):
    """``(Σ s, Σ s x, Σ s x², x, s)`` of the part's training records
    (weights ``s``) in float64, the last two those of its ``rows`` with
    positive weight (dense numpy). Records of weight 0 count for nothing,
    whatever their x."""
    X, s = part["X"], part["s_train"]
    n, d = X.shape
    kept = np.ones(len(rows))
    if s is not None:
        kept = np.asarray(to_numpy(take_rows(s, rows)), dtype=np.float64)
    sample = take_rows(X, rows[kept > 0])
    sample = sample.toarray() if sparse.issparse(sample) else to_numpy(sample)
    sample = np.asarray(sample, dtype=np.float64).reshape(-1, d)
    kept = kept[kept > 0]
    if sparse.issparse(X):
        v = np.ones(n) if s is None else np.asarray(s, dtype=np.float64)
        Xs = sparse.csr_array(X, dtype=np.float64)
        if s is not None:
            Xs, v = Xs[v > 0], v[v > 0]
        return float(v.sum()), Xs.T @ v, Xs.multiply(Xs).T @ v, sample, kept
    xp, device, _ = xp_of(X)
    wide = float_dtypes(xp, device)[0]
    total, sx, sxx = 0.0, np.zeros(d), np.zeros(d)
    step = max(1, BLOCK_BYTES // (8 * max(d, 1)))
    for r0 in range(0, n, step):
        r1 = min(r0 + step, n)  # array-api-strict: no stop past the end
        B = xp.astype(X[r0:r1, ...], wide)
        if s is None:
            w = xp.ones((r1 - r0,), dtype=wide, device=device)
        else:
            w = xp.astype(s[r0:r1], wide)
            B = xp.where((w > 0)[:, None], B, xp.zeros_like(B[:1, ...]))
        total += float(xp.sum(w))
        sx += np.asarray(to_numpy(w @ B), dtype=np.float64)
        sxx += np.asarray(to_numpy(w @ (B * B)), dtype=np.float64)
    return total, sx, sxx, sample, kept


def _inverse_root(M):
    """``(Q, Q⁻¹)`` with ``Qᵀ M Q = I`` for a symmetric positive
    semi-definite ``M``: ``Q = R L⁻ᵀ`` with the Cholesky factor ``L`` of the
    equilibrated ``R M R`` (``R`` diagonal; ``FLOOR`` added to its diagonal).
    Triangular, rather than the eigenvectors' dense rotation, so that the
    iterations do not amplify the rounding in which sources differ."""
    diagonal = np.diag(M)
    r = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    E = M * r[:, None] * r
    E[np.diag_indices_from(E)] += FLOOR
    L = cholesky(E, lower=True)
    return r[:, None] * solve_triangular(L.T, np.eye(len(M))), L.T / r
