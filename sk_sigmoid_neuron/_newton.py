r"""``solver="newton"``: Newton's method on the rule's objective.

Each iteration forms, per neuron, the Hessian of the objective :math:`F` of
``_lbfgs`` at the current weights,

.. math::

    H = \frac{1}{S} \sum_i s_i\, \ell''_i\, \tilde x_i \tilde x_i^\top
    + \alpha P, \qquad \tilde x = [x, 1],

as the standard errors form it (``_inference.sandwich_sums``, on every part of
the source, where it lives; ``P`` the identity on ``w``), and steps along
:math:`p = -H^{-1} \nabla F`, with the gradient of the trainer's ``sums()``
(the one objective, as for L-BFGS; float64 work for float32 X):

- log loss: :math:`\ell'' = \hat y (1 - \hat y) \ge 0`, the Newton step of
  IRLS (statsmodels' GLM, scikit-learn's ``newton-cholesky``);
- squared error: the full Hessian, indefinite where records lie far on the
  wrong side of the sigmoid; its eigenvalues are taken in absolute value, so
  the step always descends, and is Newton's wherever the Hessian is positive
  definite (near the optimum).

Directions of negligible curvature (collinear columns) are left out: the
step is the minimum-norm one, as a pseudo-inverse gives. A backtracking line
search per neuron (on the parabola through :math:`F(0)`, :math:`F'(0)` and
the last trial) accepts a step that decreases :math:`F` (Armijo) or, where
:math:`F` no longer changes beyond its rounding, one that shrinks the
gradient; where no Newton step is accepted (a saturated start), the step
along the metric of the curvature bound (``_coordinates``), which decreases
:math:`F`, is tried. Newton's step does not depend on the columns' scales,
so neither do the iterations; the stopping test is L-BFGS's (the
standardised gradient against ``tol``). An iteration costs a pass for the
Hessian (``n m²`` work) and one or more for the line search: for many
features, L-BFGS is cheaper.

:func:`part_objective` is the objective and its gradient that both solvers
take for float32 X: float64 work on X's values, part by part.
"""

import numpy as np
from scipy.linalg import cho_solve
from scipy.special import expit

from ._advice import setting
from ._inference import MAX_PARAMS, sandwich_sums
from ._loss import get_loss
from ._namespace import host_blocks, xp_of

# Armijo's sufficient decrease, and the most trials of a line search (each
# shrinks the step by 2 to 10).
ARMIJO = 1e-4
HALVINGS = 40
# A change of F within this many ulps of F (float64) is its rounding.
NOISE_ULPS = 16
# Eigenvalues of the (equilibrated) Hessian below this many ulps of its
# largest are taken as 0 curvature, and their directions left out.
SINGULAR_ULPS = 64
# Bytes of float64 rows per block of part_objective's pass.
BLOCK_BYTES = 1 << 20


def iterate(source, objective, coords, steps, at, *, tol, max_iter, tcol):
    """Newton's iterations from ``at = (theta, F, grad)`` (``_lbfgs``'s
    objective, coordinates and steps) until the standardised gradient of
    every neuron is within ``tol``, the loss's rounding stops each one, a
    callback halts or ``steps`` reaches ``max_iter``.

    Returns ``(theta, F, grad)`` at the end and why it ended: "tol",
    "precision", "halted" or "cap".
    """
    d = objective.n_features
    m = d + objective.fit_intercept
    if m > MAX_PARAMS:
        raise ValueError(
            f"{setting('solver', 'newton')} forms ({m})² Hessians for {d} "
            f"features, more than the {MAX_PARAMS - 1} features it supports; use "
            f"{setting('solver', 'lbfgs')}."
        )
    # theta = T u: the Hessian in the standardised coordinates is Tᵀ H T
    T = coords.unstandardised(np.eye(m)).T
    theta, F, grad = (a.copy() for a in at)
    stuck = np.zeros(len(theta), dtype=bool)  # no step gains on its rounding
    while True:
        g = np.abs(coords.gradient(grad)).max(axis=1)
        active = ~(g <= tol) & ~stuck
        if not active.any():
            return (theta, F, grad), "precision" if stuck.any() else "tol"
        if steps.n_iter >= max_iter:
            return (theta, F, grad), "cap"
        H = _hessian(source, objective, theta, tcol)
        p = np.zeros_like(theta)
        for j in np.flatnonzero(active):
            gu = coords.gradient(grad[j : j + 1])[0]
            p[j] = T @ _step(T.T @ H[j] @ T, gu)
        before, loss_before = theta.copy(), np.mean(F)
        at = (theta, F, grad)
        failed = _line_search(objective, coords, at, p, active)
        if failed.any():
            # far from the optimum (a saturated start), the step along the
            # metric of the curvature bound, which decreases F at t = 1
            metric = coords.theta(-coords.z_gradient(grad))
            failed = _line_search(objective, coords, at, metric, failed)
        stuck |= failed
        if not (theta != before).any():
            stuck |= active  # steps below the weights' rounding
        elif steps(before, theta, loss_before):
            return (theta, F, grad), "halted"


def _line_search(objective, coords, at, p, pending):
    """Backtracking along ``p`` from ``at = (theta, F, grad)`` (updated in
    place where a step is accepted) for the ``pending`` neurons; the mask of
    those where none was. Where F changes within its rounding, a step that
    shrinks the gradient (the sum of its standardised components) is
    accepted."""
    theta, F, grad = at
    g = np.abs(coords.gradient(grad)).sum(axis=1)
    noise = NOISE_ULPS * float(np.finfo(np.float64).eps)
    slope = np.einsum("km,km->k", grad, p)
    pending = pending.copy()
    t = pending.astype(float)
    for _ in range(HALVINGS):
        trial = theta + t[:, None] * p
        F_t, grad_t = objective(trial)
        g_t = np.abs(coords.gradient(grad_t)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            decrease = (F_t <= F + ARMIJO * t * slope) & (F_t < F)
            rounding = (F_t <= F + noise * np.abs(F)) & (g_t < g)
        ok = pending & (decrease | rounding)
        theta[ok], F[ok], grad[ok] = trial[ok], F_t[ok], grad_t[ok]
        pending &= ~ok
        if not pending.any():
            break
        # the minimum of the parabola through F(0), F'(0) and F(t), within
        # [t / 10, t / 2]
        with np.errstate(all="ignore"):
            ratio = -slope * t / (2 * (F_t - F - slope * t))
        ratio = np.where(np.isfinite(ratio), ratio, 0.1)
        t = np.where(pending, t * np.clip(ratio, 0.1, 0.5), 0.0)
    return pending


def _hessian(source, objective, theta, tcol):
    """``H`` of every neuron at ``theta``, (n_neurons, m, m), from the parts'
    sums."""
    trainer = objective.trainer
    coef, intercept = objective.params(theta)
    parts = source.map(
        _part_hessian,
        coef=coef,
        intercept=intercept,
        loss=trainer.loss,
        fit_intercept=trainer.fit_intercept,
        tcol=tcol,
    )
    H = sum(p[0] for p in parts) / sum(p[1] for p in parts)
    d = trainer.n_features
    H[:, np.arange(d), np.arange(d)] += trainer.alpha
    return H


def _step(H, grad):
    """``-H⁻¹ grad`` for a symmetric ``H`` (equilibrated first): by Cholesky
    where ``H`` is safely positive definite, else with its eigenvalues in
    absolute value and those of negligible size left out."""
    diagonal = np.abs(np.diag(H))
    r = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    E, b = H * r[:, None] * r, r * grad
    small = SINGULAR_ULPS * np.finfo(np.float64).eps
    try:
        L = np.linalg.cholesky(E)
        if np.diag(L).min() ** 2 > small * np.diag(E).max():
            return -r * cho_solve((L, True), b)
    except np.linalg.LinAlgError:
        pass
    lam, V = np.linalg.eigh(E)
    size = np.abs(lam)
    V = V[:, size > small * size.max(initial=0.0)]
    return -r * (V @ ((V.T @ b) / size[size > small * size.max(initial=0.0)]))


def _part_hessian(part, coef, intercept, loss, fit_intercept, tcol):
    """``(Σ s ℓ'' x̃ x̃ᵀ, Σ s)`` over the part's training records (numpy
    blocks of arrays of other namespaces)."""
    X, T, s = part["X"], part["T"], part["s_train"]
    blocks = [(X, T, s)] if xp_of(X)[2] else host_blocks(X, T, s)
    A, S = 0.0, 0.0
    for Xb, Tb, sb in blocks:
        if tcol is not None:
            Tb = np.asarray(Tb)[:, tcol]
        Ab, _, _, Sb = sandwich_sums(
            Xb, Tb, sb, coef, intercept, loss=loss, fit_intercept=fit_intercept,
            meat=False,
        )  # fmt: skip
        A, S = A + Ab, S + Sb
    return A, S


def part_objective(part, *, coef, intercept, loss, fit_intercept, tcol):
    """``(Σ s ℓ, Σ s ℓ' x̃, Σ s)`` over the part's training records, float64
    work on X's values a block of rows at a time, with the loss table's
    value and derivatives (records of weight 0 take no part)."""
    X, T, s = part["X"], part["T"], part["s_train"]
    record = get_loss(loss)
    k, d = coef.shape
    lsum, score, S = np.zeros(k), np.zeros((k, d + fit_intercept)), 0.0
    if xp_of(X)[2]:
        step = max(1, BLOCK_BYTES // (8 * max(d, 1)))
        blocks = (
            (
                X[r0 : r0 + step],
                T[r0 : r0 + step],
                None if s is None else s[r0 : r0 + step],
            )
            for r0 in range(0, X.shape[0], step)
        )
    else:
        blocks = host_blocks(X, T, s)
    for Xb, Tb, sb in blocks:
        v = np.ones(Xb.shape[0]) if sb is None else np.asarray(sb, np.float64)
        present = v > 0
        with np.errstate(over="ignore", invalid="ignore"):  # weight 0: any h
            H = np.asarray(Xb @ coef.T, dtype=np.float64)
        H = np.where(present[:, None], H, 0.0) + intercept
        Tb = np.asarray(Tb, dtype=np.float64)
        Tb = Tb if tcol is None else Tb[:, tcol]
        lsum += v @ record.value(Tb, expit(H), H)
        vg = v[:, None] * record.derivatives(Tb, H)[0]
        score[:, :d] += np.asarray(Xb.T @ vg, dtype=np.float64).T
        if fit_intercept:
            score[:, d] += vg.sum(axis=0)
        S += float(v.sum())
    return lsum, score, S
