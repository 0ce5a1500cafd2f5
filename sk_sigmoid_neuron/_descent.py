"""The descent: the one epoch loop behind ``fit``, ``partial_fit``, the CV search.

:func:`start` gives the weights a fit starts from (random, ``coef_init`` /
``intercept_init``, or the previous fit's with ``warm_start``), and
:func:`descend` runs the epochs on a *data source* (``_source``): the rule,
``tol`` and ``n_iter_no_change``, early stopping (validation loss, best
weights kept), the check for non-finite weights with its error, ``verbose``,
``store_path``, the loss curves, the callbacks' epoch tasks, the CV search's
checkpoints and the diagnostics. The same code runs whatever holds the data.

The neurons are the outputs, or, for the CV search, candidates x outputs:
``settings.learnrate`` is then a list with one learning rate (or "auto") per
candidate, and neuron ``j * n_outputs + o`` is candidate ``j``'s output
``o``.
"""

from functools import partial as partial_fn
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _advice, _diagnostics, _lbfgs, _stepsize
from ._validation import check_init, check_n_outputs, check_weights_fit

# A change of the loss below eps ** NOISE_POWER times it (eps: X's dtype's
# machine epsilon) is rounding, not an improvement, whatever ``tol``: kernels
# that sum in another order then stop at the same epoch (a margin of a few
# ulps is not enough, since an epoch's improvement shrinks slowly towards the
# threshold).
NOISE_POWER = 2 / 3


class Outcome(NamedTuple):
    """What a descent ends with."""

    coef: np.ndarray  # (n_neurons, n_features), X's dtype
    intercept: np.ndarray  # (n_neurons,)
    curve: list  # the loss curve, continued
    validation_curve: list | None
    path: list | None  # (coef, intercept) after each epoch, with store_path
    learnrate: float | None  # the step used (learnrate_; None for L-BFGS)


class Checkpoints(NamedTuple):
    """Where the CV search looks at the neurons during a descent.

    ``epochs`` are the sorted epoch counts at which ``reached(epoch, coef,
    intercept, failed, losses)`` is called, with the weights after that
    epoch, the mask of the neurons whose fit failed by then (non-finite, or a
    loss that exploded: the divergence check's, per neuron, instead of its
    error) and each neuron's loss curve so far (n_epochs, n_neurons).
    """

    epochs: np.ndarray
    reached: object


def start(
    *,
    n_features,
    n_outputs,
    dtype,
    random_state,
    previous=None,
    coef_init=None,
    intercept_init=None,
):
    """Starting weights, bias and loss curve.

    ``previous`` is ``(coef, intercept, loss_curve)`` of the fit that
    ``warm_start`` continues (an init given replaces its part, as in
    SGDRegressor), or None for a new start: ``w ~ N(0, 1/sqrt(d))`` from
    ``random_state`` (the same for every output) and ``b = 0``.
    """
    shape_w, shape_b = (n_outputs, n_features), (n_outputs,)
    if previous is not None:
        coef, intercept, curve = previous
        check_n_outputs(coef.shape[0], n_outputs)
        if coef_init is not None:
            coef = check_init(coef_init, shape_w, "coef_init", dtype)
        elif coef.shape[1] != n_features:
            raise ValueError(
                f"warm_start=True continues a model with {coef.shape[1]} "
                f"features but X has {n_features}; use warm_start=False."
            )
        if intercept_init is not None:
            intercept = check_init(intercept_init, shape_b, "intercept_init", dtype)
        check_weights_fit(coef, intercept, dtype)
        return coef.astype(dtype), intercept.astype(dtype), list(curve)
    if coef_init is None:
        rng = check_random_state(random_state)
        w = rng.normal(0.0, 1.0 / np.sqrt(n_features), size=n_features)
        coef = np.tile(w, (n_outputs, 1)).astype(dtype)
    else:
        coef = check_init(coef_init, shape_w, "coef_init", dtype)
    if intercept_init is None:
        intercept = np.zeros(n_outputs, dtype=dtype)
    else:
        intercept = check_init(intercept_init, shape_b, "intercept_init", dtype)
    return coef, intercept, []


def check_solver(settings):
    """The errors of settings that no data can fix, before any pass over it."""
    solver = getattr(settings, "solver", "gd")
    if solver != "gd" and settings.early_stopping:
        raise ValueError(
            f"early_stopping=True needs solver='gd': solver={solver!r} minimises "
            "the training loss and has no epochs of the rule to stop early. Use "
            f"solver='gd' with early_stopping, or solver={solver!r} with "
            "early_stopping=False (and alpha to regularise)."
        )


def descend(
    source,
    settings,
    coef,
    intercept,
    curve,
    *,
    partial=False,
    epochs=None,
    checkpoints=None,
):
    """Train from ``(coef, intercept)``, continuing the loss curve ``curve``.

    ``settings`` is the estimator (or an object with its parameters), whose
    parameters are read (``solver``, ``learnrate``, ``epochs``, ``tol``,
    ``n_iter_no_change``, ``early_stopping``, ``validation_fraction``,
    ``random_state``, ``verbose``, ``store_path``, ``loss``, ``alpha``,
    ``fit_intercept``). ``partial`` runs one epoch of the rule, as
    ``partial_fit`` does whatever the solver (no stopping rule, no early
    stopping, no printing, no diagnostics). With ``solver="lbfgs"`` or
    ``"newton"`` a fit minimises the same objective with L-BFGS or Newton's
    method (``_lbfgs``): ``epochs`` caps its iterations, each an "epoch" of
    the loss curve, the path and the callbacks. ``epochs``, an
    ``_callbacks.EpochTasks``, reports each epoch to the callbacks and stops
    the loop when one of them asks to.
    ``checkpoints`` (:class:`Checkpoints`, the CV search) marks failed
    neurons instead of raising, and skips the diagnostics.

    Raises a ValueError, and changes nothing, if the weights become
    non-finite or the loss explodes; warns (``_diagnostics.TrainingWarning``)
    when a finished fit went wrong.
    """
    n_epochs = 1 if partial else settings.epochs
    solver = getattr(settings, "solver", "gd")
    optimum = solver != "gd" and not partial  # minimises to the optimum
    check_solver(settings)
    early = settings.early_stopping and not partial
    stopping = not partial and (settings.tol is not None or early)
    verbose = settings.verbose if not partial else 0
    source.split(settings.validation_fraction if early else None, settings.random_state)
    n_outputs, k = source.n_outputs, coef.shape[0]
    tcol = None if k == n_outputs else np.tile(np.arange(n_outputs), k // n_outputs)
    learnrate = None if optimum else _learnrates(source, settings)
    path = [] if settings.store_path else None
    options = dict(
        loss=settings.loss, alpha=settings.alpha, fit_intercept=settings.fit_intercept
    )
    curve = list(curve)
    done = len(curve)  # epochs of earlier fits (warm_start, partial_fit)
    report = not partial and checkpoints is None
    begin = (coef.copy(), intercept.copy())
    best_epoch = val_curve = None
    # the solvers never step: any learnrate builds their trainer
    steps = np.ones(k) if optimum else np.repeat(learnrate, n_outputs)
    with source.trainer(
        coef, intercept, steps, epochs=n_epochs, tcol=tcol, **options
    ) as trainer:
        if optimum:
            coef, intercept, *_ = _lbfgs.minimize(
                source,
                trainer,
                curve,
                solver=solver,
                tcol=tcol,
                max_iter=n_epochs,
                tol=settings.tol,
                verbose=verbose,
                path=path,
                epochs=epochs,
            )
        else:
            trainer.keep_forward = report  # the diagnostics read its last pass
            run = _Epochs(source, settings, trainer, curve, n_epochs)
            run.stopping, run.early, run.verbose = stopping, early, verbose
            run.path, run.tasks, run.checkpoints = path, epochs, checkpoints
            coef, intercept = run()
            val_curve, best_epoch = run.val_curve, run.best_epoch
    # weights that early stopping restored have no pass of their own
    restored = best_epoch not in (None, len(curve) - done)
    last = None if optimum or restored else trainer.forward
    trainer = run = None  # the engine's buffers go before the diagnostics
    if report:
        _diagnostics.report(
            source,
            begin,
            (coef, intercept),
            curve[done:],
            settings=settings,
            best_epoch=best_epoch,
            last=last,
        )
    step = None if optimum else float(learnrate[0])
    return Outcome(coef, intercept, curve, val_curve, path, step)


class _Epochs:
    """The epochs of the rule on one trainer, and what watches them.

    Epochs run in stretches: all of them (or up to the next checkpoint) in one
    call of the trainer when nothing needs each epoch, one at a time when the
    stopping rules, early stopping, ``verbose``, ``store_path`` or the
    callbacks do.
    """

    stopping = early = False
    verbose = 0
    path = tasks = checkpoints = None

    def __init__(self, source, settings, trainer, curve, n_epochs):
        self.source, self.settings, self.trainer = source, settings, trainer
        self.curve, self.n_epochs = curve, n_epochs
        self.val_curve = self.best_epoch = None

    def __call__(self):
        source, settings, trainer, curve = (
            self.source, self.settings, self.trainer, self.curve
        )  # fmt: skip
        n_epochs, tasks, path = self.n_epochs, self.tasks, self.path
        per_epoch = self.stopping or self.verbose or path is not None or tasks
        stops = [] if self.checkpoints is None else list(self.checkpoints.epochs)
        diverged = partial_fn(
            _diagnostics.check_divergence,
            learnrate=settings.learnrate,
            alpha=settings.alpha,
            mark=self.checkpoints is not None,
        )
        tol = settings.tol or 0.0
        # an improvement must also exceed the losses' rounding, so that
        # kernels that differ in summation order stop at the same epoch
        noise = float(np.finfo(source.dtype).eps) ** NOISE_POWER
        cadence = 1 if self.verbose > 1 else max(1, n_epochs // 10)
        self.val_curve = [] if self.early else None
        best, best_params, no_change = np.inf, None, 0
        stopped = halted = False  # by tol, by a callback
        first = None  # each neuron's loss in the first epoch
        failed = np.zeros(trainer.n_neurons, dtype=bool)  # for the checkpoints
        history = []  # each neuron's losses, for the checkpoints
        epoch = 0
        while epoch < n_epochs:
            upto = min([c for c in stops if c > epoch] + [n_epochs])
            n = 1 if per_epoch else upto - epoch
            if tasks is not None:
                tasks.begin(trainer, curve)
            losses = trainer.run(n)
            first = losses[0] if first is None else first
            epoch += n
            failed |= diverged(
                losses, trainer.coef_aug, first, epoch=epoch if per_epoch else None
            )
            curve += losses.mean(axis=1).tolist()
            if path is not None:
                path.append(trainer.get_params())
            monitored = curve[-1]
            if self.early:
                monitored = source.validation_loss(*trainer.get_params(), settings.loss)
                self.val_curve.append(monitored)
            if self.verbose and (epoch % cadence == 0 or epoch == n_epochs):
                extra = f", validation loss = {monitored:.8g}" if self.early else ""
                print(f"Epoch {len(curve)}, loss = {curve[-1]:.8g}{extra}")
            if stops:
                history.append(losses)
            if epoch in stops:
                self.checkpoints.reached(
                    epoch, *trainer.get_params(), failed, np.vstack(history)
                )
            if tasks is not None and tasks.end(trainer, curve):
                halted = True
                break
            if self.stopping:
                improved = best == np.inf or (
                    monitored < best - max(tol, noise) * abs(best)
                )
                no_change = 0 if improved else no_change + 1
                if monitored < best:
                    best = monitored
                    if self.early:
                        best_params, self.best_epoch = trainer.get_params(), epoch
                if no_change >= settings.n_iter_no_change:
                    stopped = True
                    break
        if self.stopping and not (stopped or halted):
            more = _advice.setting("epochs", 10 * n_epochs)
            if settings.learnrate != "auto":
                more += f" or {_advice.setting('learnrate', 'auto')}"
            _advice.warn(
                f"The loss still improved by more than tol={tol:g} (relative) "
                f"within the last {settings.n_iter_no_change} of "
                f"{_advice.setting('epochs', n_epochs)}; use {more} for "
                "convergence.",
                ConvergenceWarning,
            )
        if stopped and self.verbose:
            print(
                f"Stopped after epoch {len(curve)}: no improvement by "
                f"tol={tol:g} (relative)."
            )
        if halted and self.verbose:
            print(f"Stopped after epoch {len(curve)}: a callback asked to stop.")
        return best_params if best_params is not None else trainer.get_params()


def _learnrates(source, settings):
    """One learning rate per candidate: ``learnrate`` (a list of them for the
    CV search), each ``"auto"`` the step of ``"auto"`` on the training
    records."""
    given = settings.learnrate
    listed = given if isinstance(given, list | tuple | np.ndarray) else [given]
    if any(isinstance(lr, str) for lr in listed):
        auto = _auto_learnrate(source, settings)
    return np.array(
        [auto if isinstance(lr, str) else float(lr) for lr in listed], dtype=float
    )


def _auto_learnrate(source, settings):
    """The step of ``learnrate="auto"`` on the training records."""
    step = _stepsize.auto_learnrate(
        source.map_train,
        n_features=source.n_features,
        loss=settings.loss,
        alpha=settings.alpha,
        fit_intercept=settings.fit_intercept,
        dtype=source.dtype,
        n_samples=source.n_samples,
        is_sparse=source.sparse,
    )
    # the kernels apply learnrate / S in X's dtype, and S >= 1/2 (the weights
    # are scaled to a largest one in [0.5, 1))
    if 2 * step > float(np.finfo(source.dtype).max):
        raise ValueError(
            f"learnrate='auto' computed a step of {step:.3g}, beyond "
            f"{np.dtype(source.dtype)}, the dtype of X: X's values are tiny. Pass "
            "X as float64 (X.astype('float64')), or scale X (for example with "
            "sklearn.preprocessing.StandardScaler)."
        )
    return step
