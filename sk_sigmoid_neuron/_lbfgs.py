r"""The L-BFGS solver: the rule's objective, minimised by scipy's L-BFGS-B.

``solver="lbfgs"`` minimises what the rule descends, summed over the
neurons (one per output; the sum is separable, so this is each output's own
problem at once)

.. math::

    F(w, b) = \sum_q \Big[ \frac{\sum_i s_i\, \ell(t_{iq}, x_i \cdot w_q + b_q)}
    {\sum_i s_i} + \frac{\alpha}{2} \|w_q\|^2 \Big],

with ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)``. Each
evaluation of :math:`F` and its gradient

.. math::

    \nabla_{w_q} F = -\frac{\sum_i s_i \delta_{iq} x_i}{\sum_i s_i}
    + \alpha w_q, \qquad
    \nabla_{b_q} F = -\frac{\sum_i s_i \delta_{iq}}{\sum_i s_i}

is one pass over the records: the trainer's ``sums()`` (``_kernels.Kernel``,
``_dask._Trainer``), the same passes as an epoch of the rule, on every data
source. The losses, their error terms ``δ = -∂ℓ/∂h`` and the penalty are the
table's (``_loss``); nothing here re-derives them.

The parameters are float64 inside scipy; the trainer holds them in X's
dtype and evaluates there (float32 data: float32 sums, accumulated per leaf
and returned as float64).
"""

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize as scipy_minimize
from sklearn.exceptions import ConvergenceWarning

from ._advice import setting, warn
from ._kernels import one_blas_thread

# ``tol=None``: stop when every component of the projected gradient of F is
# at most this, which on standardised data puts the coefficients within about
# 1e-6 of the optimum (the solvers page shows it).
DEFAULT_GTOL = 1e-10
# Relative decrease of F below which L-BFGS-B stops (``ftol``), in units of
# X's dtype's machine epsilon: only a decrease at the loss's rounding. Near
# the optimum of ill-conditioned data F stops changing in float64 while the
# coefficients still move: the gradient, not F, says when to stop.
FTOL_EPS = 1
# Correction pairs L-BFGS keeps (scipy's ``maxcor``; its default is 10): on
# ill-conditioned real data (condition numbers of 1e5) a short memory costs
# an order of magnitude more iterations, while each pair costs
# O(n_parameters) per iteration, little beside a pass over the data.
MEMORY = 100
# Evaluations (passes over the data) per allowed iteration at most.
EVALUATIONS_PER_ITERATION = 4
# Line-search steps per iteration at most (scipy's default is 20; as in
# scikit-learn's LogisticRegression).
MAX_LINE_SEARCH = 50


class Result(NamedTuple):
    """What the solver ends with."""

    coef: np.ndarray  # (n_neurons, n_features), X's dtype
    intercept: np.ndarray  # (n_neurons,)
    n_iter: int
    n_evaluations: int  # passes over the data
    message: str


def gtol(tol):
    """L-BFGS-B's ``gtol`` for the estimator's ``tol``."""
    return DEFAULT_GTOL if tol is None else float(tol)


def minimize(trainer, curve, *, max_iter, tol, verbose=0, path=None, epochs=None):
    """Minimise F from the trainer's weights; extend ``curve`` (and ``path``).

    ``curve`` gets, per iteration, the loss (mean over neurons) at the
    weights the iteration started from, as the rule's loss curve does per
    epoch; ``path`` (a list, or None) the weights after each iteration.
    ``epochs`` (``_callbacks.EpochTasks`` or None) reports each iteration as
    an epoch task, and stops the solver when a callback asks to. Warns
    (``ConvergenceWarning``) when ``max_iter`` (``epochs``) or the cap on
    evaluations stops it before ``tol`` is met.
    """
    k, d = trainer.n_neurons, trainer.n_features
    S = trainer.weight_sum
    alpha = trainer.alpha
    fit_intercept = trainer.fit_intercept
    fixed_b = trainer.get_params()[1].astype(np.float64)  # without fit_intercept
    width = d + 1 if fit_intercept else d

    def unpack(x):
        x = x.reshape(k, width)
        return (x[:, :d], x[:, d]) if fit_intercept else (x, fixed_b)

    state = {"start": None, "halted": False, "n_iter": 0}
    # the weights each iteration starts from, for its epoch task
    begun = [trainer.get_params()]

    def fun(x):
        trainer.set_params(*unpack(x))
        G, gb, lsum = trainer.sums()
        # the penalty (the kernels' own) and its gradient at the weights
        # evaluated (X's dtype)
        W = trainer.coef_aug[:, :-1].astype(np.float64)
        per_neuron = lsum / S + trainer._penalty()
        grad = -G / S
        if alpha:
            grad += alpha * W
        if fit_intercept:
            grad = np.column_stack([grad, -gb / S])
        if state["start"] is None:
            state["start"] = float(per_neuron.mean())
        return float(per_neuron.sum()), grad.ravel()

    cadence = 1 if verbose > 1 else max(1, max_iter // 10)

    def callback(intermediate_result):
        if epochs is not None:
            # reported once it ran: a line search that ends without an
            # iteration is no epoch for the callbacks
            trainer.set_params(*begun[0])
            epochs.begin(trainer, curve)
        trainer.set_params(*unpack(intermediate_result.x))
        begun[0] = trainer.get_params()
        curve.append(state["start"])  # the loss this iteration started from
        state["start"] = float(intermediate_result.fun) / k
        state["n_iter"] += 1
        if path is not None:
            path.append(trainer.get_params())
        if verbose and state["n_iter"] % cadence == 0:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8g}")
        if epochs is not None:
            if epochs.end(trainer, curve):
                state["halted"] = True
                raise StopIteration

    dtype = trainer.coef_aug.dtype
    x0 = trainer.coef_aug if fit_intercept else trainer.coef_aug[:, :-1]
    x0 = np.array(x0, dtype=np.float64).ravel()
    # L-BFGS-B's own algebra is on small matrices (2 MEMORY x 2 MEMORY, and
    # n_parameters x MEMORY), for which BLAS threads cost more than they save
    # (and far more on a busy machine); the kernels run on threads of their
    # own under this limit anyway
    with one_blas_thread():
        result = _run_scipy(fun, x0, callback, max_iter, tol, dtype)
    trainer.set_params(*unpack(result.x))
    coef, intercept = trainer.get_params()
    if not (np.isfinite(result.fun) and np.isfinite(trainer.coef_aug).all()):
        raise ValueError(
            "L-BFGS reached non-finite weights or a non-finite loss: X's values "
            "are too large for the sigmoid. Scale X (for example with "
            "sklearn.preprocessing.StandardScaler). The previous model is "
            "unchanged."
        )
    n_iter, n_eval = state["n_iter"], int(result.nfev)
    capped = not state["halted"] and (
        n_iter >= max_iter or n_eval > EVALUATIONS_PER_ITERATION * max_iter
    )
    if capped:
        warn(
            f"L-BFGS stopped at the cap of {setting('epochs', max_iter)} "
            f"iterations ({n_eval} passes over the data) before the largest "
            f"component of the gradient reached tol={gtol(tol):g}; allow more "
            f"iterations ({setting('epochs', 10 * max_iter)}) for convergence.",
            ConvergenceWarning,
        )
    if verbose:
        final = float(result.fun) / k
        print(
            f"L-BFGS stopped after {n_iter} iterations ({n_eval} passes over the "
            f"data), loss = {final:.8g}: {result.message}"
        )
    return Result(coef, intercept, n_iter, n_eval, str(result.message))


def _run_scipy(fun, x0, callback, max_iter, tol, dtype):
    """``scipy.optimize.minimize(method="L-BFGS-B")`` with the options above."""
    return scipy_minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": EVALUATIONS_PER_ITERATION * max_iter,
            "gtol": gtol(tol),
            "ftol": FTOL_EPS * float(np.finfo(dtype).eps),
            "maxls": MAX_LINE_SEARCH,
            "maxcor": MEMORY,
        },
    )
