r"""The optimum of the rule's objective: ``solver="lbfgs"``, and what it shares
with ``solver="newton"`` (``_newton``).

Both minimise what the rule descends, summed over the neurons (one per
output; the sum is separable, so this is each output's own problem at once)

.. math::

    F(w, b) = \sum_q \Big[ \frac{\sum_i s_i\, \ell(t_{iq}, x_i \cdot w_q + b_q)}
    {\sum_i s_i} + \frac{\alpha}{2} \|w_q\|^2 \Big],

and each evaluation of :math:`F` and its gradient is one pass over the
records: the trainer's ``sums()`` (:class:`Objective`), the same passes as an
epoch of the rule, on every data source. The losses, their error terms and
the penalty are the table's (``_loss``); nothing here re-derives them.

The solvers work in the coordinates of ``_coordinates``, an exact linear
change of variables in which the columns' scales, offsets and correlations
cost no iterations: L-BFGS (``scipy.optimize.minimize(method="L-BFGS-B")``)
runs on them, Newton's method (``_newton``) equilibrates its Hessians there.
Where the loss's rounding stops L-BFGS short of ``tol`` (on ill-conditioned
data), Newton's steps finish, up to ``GRAM_MAX`` parameters. The stopping
test, for both solvers, is the largest component of the standardised
gradient (``_coordinates``) at most ``tol`` (``DEFAULT_TOL`` without
one). Any other stop while it is above ``tol`` (the loss no longer
decreasing at X's precision, the ``epochs`` cap) is a ``ConvergenceWarning``
that says how far and what to do.

The parameters are float64 here, and so is the objective: the trainer's
sums for float64 X, float64 work on X's values for float32 X
(:class:`Objective`); the fitted weights are X's dtype.
"""

from contextlib import suppress
from functools import partial
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize as scipy_minimize
from sklearn.exceptions import ConvergenceWarning

from . import _newton
from ._advice import setting, warn
from ._coordinates import GRAM_MAX, Coordinates
from ._kernels import one_blas_thread

# ``tol=None``: the largest component of the standardised gradient at the
# end (above its float64 rounding): the linear predictor within about 1e-7
# of the optimum on ill-conditioned real data (star98, the squared error).
DEFAULT_TOL = 1e-10
# The objective's precision (float64, whatever X's dtype).
EPS = float(np.finfo(np.float64).eps)
# Correction pairs L-BFGS keeps (scipy's ``maxcor``; its default is 10): each
# pair costs O(n_parameters) per iteration, little beside a pass over the data.
MEMORY = 100
# Evaluations (passes over the data) per allowed iteration at most.
EVALUATIONS_PER_ITERATION = 4
# Line-search steps per iteration at most (scipy's default is 20; as in
# scikit-learn's LogisticRegression).
MAX_LINE_SEARCH = 50
# Evaluations in one iteration, all within the loss's rounding of where it
# began, after which L-BFGS is at that rounding.
ROUNDING_EVALUATIONS = 3


class _AtRounding(Exception):
    """L-BFGS's line search meets only the loss's rounding."""


class Result(NamedTuple):
    """What a solver ends with."""

    coef: np.ndarray  # (n_neurons, n_features), X's dtype
    intercept: np.ndarray  # (n_neurons,)
    n_iter: int
    n_evaluations: int  # passes over the data
    message: str


def tolerance(tol):
    """The stopping tolerance on the standardised gradient for ``tol``."""
    return DEFAULT_TOL if tol is None else float(tol)


class Objective:
    """:math:`F` per neuron and its gradient at ``theta`` (n_neurons, m),
    float64, ``m`` = n_features + 1 with ``fit_intercept`` (the intercept
    last); the trainer is left at ``theta``.

    From one ``trainer.sums()``, or, for float32 X, from float64 work on X's
    values (``_newton.part_objective`` on every part of ``source``, ``tcol``:
    the target column of each neuron): the float32 sums round at about 1e-8
    of the gradient, where the solvers' curvature estimates lose the flat
    directions and every data source would stop elsewhere.
    """

    def __init__(self, trainer, source, tcol):
        self.trainer, self.source, self.tcol = trainer, source, tcol
        self.n_features = trainer.n_features
        self.fit_intercept = trainer.fit_intercept
        self.exact = trainer.dtype != np.float64
        # without fit_intercept, the bias stays where it is
        self.fixed_b = trainer.get_params()[1].astype(np.float64)
        self.n_evaluations = 0

    def params(self, theta):
        """``(coef, intercept)`` of ``theta``."""
        d = self.n_features
        if self.fit_intercept:
            return theta[:, :d], theta[:, d]
        return theta, self.fixed_b

    def theta(self):
        coef, intercept = self.trainer.get_params()
        theta = np.asarray(coef, dtype=np.float64)
        if self.fit_intercept:
            theta = np.column_stack([theta, intercept.astype(np.float64)])
        return theta

    def __call__(self, theta):
        trainer, alpha = self.trainer, self.trainer.alpha
        trainer.set_params(*self.params(theta))
        self.n_evaluations += 1
        if self.exact:
            coef, intercept = self.params(theta)
            parts = self.source.map(
                _newton.part_objective, coef=coef, intercept=intercept,
                loss=trainer.loss, fit_intercept=self.fit_intercept, tcol=self.tcol,
            )  # fmt: skip
            lsum, score, S = (sum(p[i] for p in parts) for i in range(3))
            W = coef
        else:
            G, gb, lsum = trainer.sums()
            S = trainer.weight_sum
            score = -G if not self.fit_intercept else np.column_stack([-G, -gb])
            # the penalty at the weights evaluated (X's dtype)
            W = trainer.coef_aug[:, :-1].astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            grad = score / S
            grad[:, : self.n_features] += alpha * W
            F = lsum / S + 0.5 * alpha * np.einsum("kd,kd->k", W, W)
        return F, grad


class Steps:
    """What each iteration of a solver reports: the loss curve (the loss,
    mean over neurons, at the weights the iteration started from, as the
    rule's loss curve does per epoch), ``path`` (a list, or None: the weights
    after each iteration), ``verbose``, and the callbacks' epoch task
    (``epochs``, ``_callbacks.EpochTasks`` or None), which may halt it."""

    def __init__(self, objective, curve, *, path, epochs, verbose, max_iter):
        self.objective, self.curve, self.path = objective, curve, path
        self.epochs, self.verbose = epochs, verbose
        self.cadence = 1 if verbose > 1 else max(1, max_iter // 10)
        self.n_iter, self.halted = 0, False

    def __call__(self, before, after, loss_before):
        """One iteration from ``before`` to ``after`` (thetas), which started
        at the mean loss ``loss_before``; True if a callback halts."""
        trainer, params = self.objective.trainer, self.objective.params
        if self.epochs is not None:
            # reported once it ran: a line search that ends without an
            # iteration is no epoch for the callbacks
            trainer.set_params(*params(before))
            self.epochs.begin(trainer, self.curve)
        trainer.set_params(*params(after))
        self.curve.append(float(loss_before))
        self.n_iter += 1
        if self.path is not None:
            self.path.append(trainer.get_params())
        if self.verbose and self.n_iter % self.cadence == 0:
            print(f"Iteration {len(self.curve)}, loss = {self.curve[-1]:.8g}")
        if self.epochs is not None and self.epochs.end(trainer, self.curve):
            self.halted = True
        return self.halted


def largest(coords, grad):
    """The largest component of the standardised gradient (inf if NaN)."""
    g = np.abs(coords.gradient(grad)).max(initial=0.0)
    return float(g) if np.isfinite(g) else np.inf


def finish(objective, coords, at, why, steps, *, tol, max_iter, solver, verbose):
    """The solver's result at ``at = (theta, F, grad)``, after a stop for
    ``why`` ("tol", "halted", "cap", or "precision"): the error of
    non-finite weights, the warning of a stop short of ``tol``."""
    theta, F, grad = at
    trainer = objective.trainer
    trainer.set_params(*objective.params(theta))
    coef, intercept = trainer.get_params()
    name = "L-BFGS" if solver == "lbfgs" else "Newton's method"
    if not (np.all(np.isfinite(F)) and np.isfinite(trainer.coef_aug).all()):
        raise ValueError(
            f"{name} reached non-finite weights or a non-finite loss: X's values "
            "are too large for the sigmoid. Scale X (for example with "
            "sklearn.preprocessing.StandardScaler). The previous model is "
            "unchanged."
        )
    g, n_eval = largest(coords, grad), objective.n_evaluations
    short = why in ("cap", "precision") and not g <= tol
    if why == "precision":
        # no warning where the step along the curvature bound's metric (which
        # decreases F) rounds away in X's dtype wherever the gradient is
        # above tol: those weights are at the optimum to their precision (a
        # huge alpha's)
        dtype = trainer.dtype
        step = (theta + coords.theta(-coords.z_gradient(grad))).astype(dtype)
        above = np.abs(coords.gradient(grad)) > tol
        short &= bool(np.any((step != theta.astype(dtype)) & above))
    if short:
        where = f"the largest component of the standardised gradient is {g:.2g}"
        if why == "cap":
            warn(
                f"{name} stopped at the cap of {setting('epochs', max_iter)} "
                f"iterations ({n_eval} passes over the data) before "
                f"reaching tol={tol:g}: {where}; allow more iterations "
                f"({setting('epochs', 10 * max_iter)}) for convergence.",
                ConvergenceWarning,
            )
        else:
            fixes = []
            if solver == "lbfgs" and theta.shape[1] <= _newton.MAX_PARAMS:
                fixes.append(f"{setting('solver', 'newton')} (which reaches it)")
            fixes.append(f"{setting('tol', float(f'{2 * g:.1g}'))} to accept them")
            warn(
                f"{name} stopped where the loss no longer decreases beyond its "
                "rounding before reaching "
                f"tol={tol:g}: {where}, so the weights are near the optimum, not "
                f"at it. Use {_either(fixes)}.",
                ConvergenceWarning,
            )
    if verbose:
        ended = {
            "tol": f"the standardised gradient is within tol={tol:g}",
            "halted": "a callback asked to stop",
            "cap": f"the cap of {max_iter} iterations",
            "precision": "the loss no longer decreases (its rounding)",
        }[why]
        print(
            f"{name} stopped after {steps.n_iter} iterations ({n_eval} passes "
            f"over the data), loss = {float(np.mean(F)):.8g}, largest "
            f"standardised gradient {g:.3g}: {ended}."
        )
    return Result(coef, intercept, steps.n_iter, n_eval, why)


def _either(fixes):
    """``a``, ``a or b``, ``a, b or c``."""
    return fixes[0] if len(fixes) == 1 else f"{', '.join(fixes[:-1])} or {fixes[-1]}"


def minimize(source, trainer, curve, *, solver="lbfgs", tcol=None, max_iter, tol,
             verbose=0, path=None, epochs=None):  # fmt: skip
    """Minimise F from the trainer's weights with ``solver`` ("lbfgs" or
    "newton"); extend ``curve`` (and ``path``), report each iteration to
    ``epochs`` (see :class:`Steps`).

    ``source`` gives the coordinates (:class:`Coordinates`) and, for Newton's
    method, the Hessians (``tcol``: the target column of each neuron, or
    None). Where the loss's rounding stops L-BFGS short of ``tol``, Newton's
    steps (up to ``GRAM_MAX`` parameters) finish. Warns
    (``ConvergenceWarning``) when the fit stops before the standardised
    gradient is within ``tol``.
    """
    objective = Objective(trainer, source, tcol)
    tol = tolerance(tol)
    steps = Steps(
        objective, curve, path=path, epochs=epochs, verbose=verbose, max_iter=max_iter
    )
    # the solvers' algebra is on matrices of the parameters' size, and the
    # Hessians' on small blocks of rows: BLAS threads cost more than they
    # save there (and far more on a busy machine); the kernels run on threads
    # of their own under this limit anyway
    with one_blas_thread():
        coords = Coordinates.of(source, trainer)
        at = _leave_a_bad_start(objective, steps)
        newton = partial(
            _newton.iterate, source, objective, coords, steps, tol=tol,
            max_iter=max_iter, tcol=tcol,
        )  # fmt: skip
        if solver == "newton":
            at, why = newton(at)
        else:
            at, why = _lbfgs(objective, coords, steps, at, tol=tol, max_iter=max_iter)
            if why == "precision" and at[0].shape[1] <= GRAM_MAX:
                at, why = newton(at)
    return finish(objective, coords, at, why, steps, tol=tol, max_iter=max_iter,
                  solver=solver, verbose=verbose)  # fmt: skip


def _leave_a_bad_start(objective, steps):
    """``(theta, F, grad)`` at the start, or, for the neurons where the
    weights 0 (the intercept kept) have a lower (or a finite) F, there, in a
    first iteration: a random start on unscaled columns saturates the
    sigmoid, far from anything the solvers reach quickly; from 0 their
    iterations do not depend on the columns' scales."""
    theta = objective.theta()
    F, grad = objective(theta)
    zero = theta.copy()
    zero[:, : objective.n_features] = 0.0
    F0, grad0 = objective(zero)
    worse = ~(F <= F0)
    if not worse.any():
        objective.trainer.set_params(*objective.params(theta))
        return theta, F, grad
    at = tuple(np.where(worse[:, None] if a.ndim == 2 else worse, b, a)
               for a, b in ((theta, zero), (F, F0), (grad, grad0)))  # fmt: skip
    steps(theta, at[0], np.mean(F))
    return at


def _lbfgs(objective, coords, steps, at, *, tol, max_iter):
    """L-BFGS iterations on ``z`` from ``at = (theta, F, grad)``; the end
    ``(theta, F, grad)`` and why it ended, as ``_newton.iterate``."""
    if largest(coords, at[2]) <= tol:
        return at, "tol"
    left = max_iter - steps.n_iter  # after a first iteration from a bad start
    if left <= 0:
        return at, "cap"
    shape = at[0].shape
    z0 = coords.z(at[0]).ravel()
    # the evaluations since the last iteration, by their z
    seen = {z0.tobytes(): at}
    state = {"at": at, "why": "tol"}

    noise = _newton.NOISE_ULPS * EPS

    def evaluated(z):
        key = z.tobytes()
        if key not in seen:
            theta = coords.theta(z.reshape(shape))
            seen[key] = (theta, *objective(theta))
            # a line search that finds only the loss's rounding would try up
            # to MAX_LINE_SEARCH steps: stop it (Newton's steps finish)
            F = state["at"][1].sum()
            flat = (abs(v[1].sum() - F) <= noise * abs(F) for v in seen.values())
            if len(seen) > ROUNDING_EVALUATIONS and all(flat):
                raise _AtRounding
        return seen[key]

    def fun(z):
        _, F, grad = evaluated(z)
        return float(F.sum()), coords.z_gradient(grad).ravel()

    def callback(intermediate_result):
        at = evaluated(intermediate_result.x)
        seen.clear()
        seen[intermediate_result.x.tobytes()] = at
        before, state["at"] = state["at"], at
        if steps(before[0], at[0], np.mean(before[1])):
            state["why"] = "halted"
            raise StopIteration
        if largest(coords, at[2]) <= tol:
            raise StopIteration

    result = None
    with suppress(_AtRounding):
        result = scipy_minimize(
            fun,
            z0,
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxiter": left,
                "maxfun": EVALUATIONS_PER_ITERATION * left,
                # the stopping test is the callback's, on the standardised
                # gradient; scipy's stops are at the loss's rounding (its
                # relative decrease within X's epsilon, or a line search that
                # cannot decrease it), where Newton's steps finish
                "gtol": 0.0,
                "ftol": EPS,
                "maxls": MAX_LINE_SEARCH,
                "maxcor": MEMORY,
            },
        )
    if result is None:
        return state["at"], "precision"
    at = evaluated(result.x)
    if state["why"] == "halted" or largest(coords, at[2]) <= tol:
        return at, state["why"]
    capped = steps.n_iter >= max_iter or result.nfev > EVALUATIONS_PER_ITERATION * left
    return at, "cap" if capped else "precision"
