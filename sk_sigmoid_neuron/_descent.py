"""The descent: the one epoch loop behind ``fit``, ``partial_fit`` and the CV refit.

:func:`start` gives the weights a fit starts from (random, ``coef_init`` /
``intercept_init``, or the previous fit's with ``warm_start``), and
:func:`descend` runs the epochs on a *data source*: the rule, ``tol`` and
``n_iter_no_change``, early stopping (validation loss, best weights kept),
the check for non-finite weights with its error, ``verbose``,
``store_path``, the loss curves and the callbacks' epoch tasks. The same
code runs whatever holds the data.

A data source (``_source.InMemory``, ``_dask.DaskSource``) knows how to
compute on its records; the descent only asks it:

``split(fraction, random_state)``
    set aside a validation part for early stopping (the records present:
    weight > 0), or, with ``fraction=None``, train on every record;
``map_train(func, **kwargs)``
    ``[func(X, s, **kwargs), ...]`` over its sets of training records
    (``learnrate="auto"`` uses it);
``n_train``
    the number of training records;
``trainer(coef, intercept, learnrate, *, loss, alpha, fit_intercept)``
    a context manager whose object runs epochs of the rule on the training
    records: ``run(n_epochs)`` returns the loss at the start of each epoch,
    ``(n_epochs, n_neurons)``; ``coef_aug`` holds the weights (intercept
    last); ``set_params(coef, intercept)`` sets them and ``get_params()``
    copies them out; ``sums()`` returns ``(Σ sδx, Σ sδ, Σ sℓ)`` at the
    current weights, float64, without stepping (one pass over the records,
    as an epoch: the objective and gradient of ``solver="lbfgs"``, see
    ``_lbfgs``); ``weight_sum`` is ``Σ s`` over the training records;
``validation_loss(trainer, loss)``
    the mean loss (over neurons) of the validation part at the trainer's
    current weights;
``sample(rows)``
    ``(X, T, s)`` of those training rows, dense float64 (``s``: the training
    weights, or None), for the diagnostics (``_diagnostics``).
"""

import warnings
from functools import partial as partial_fn
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection._split import _validate_shuffle_split
from sklearn.utils import check_random_state

from . import _diagnostics, _lbfgs, _stepsize
from ._validation import check_init, check_n_outputs, check_weights_fit

# A change of the loss below eps ** NOISE_POWER times it (eps: X's dtype's
# machine epsilon; 3.7e-11 in float64, 2.4e-5 in float32) is rounding, not an
# improvement, whatever ``tol``: kernels that sum in another order then stop
# at the same epoch (a margin of a few ulps is not enough, since an epoch's
# improvement shrinks slowly towards the threshold).
NOISE_POWER = 2 / 3


class Outcome(NamedTuple):
    """What a descent ends with."""

    coef: np.ndarray  # (n_outputs, n_features), X's dtype
    intercept: np.ndarray  # (n_outputs,)
    curve: list  # the loss curve, continued
    validation_curve: list | None
    path: list | None  # (coef, intercept) after each epoch, with store_path
    learnrate: float | None  # the step used (learnrate_; None for L-BFGS)


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


def descend(source, settings, coef, intercept, curve, *, partial=False, epochs=None):
    """Train from ``(coef, intercept)``, continuing the loss curve ``curve``.

    ``settings`` is the estimator, whose parameters are read (``solver``,
    ``learnrate``, ``epochs``, ``tol``, ``n_iter_no_change``,
    ``early_stopping``, ``validation_fraction``, ``random_state``,
    ``verbose``, ``store_path``, ``loss``, ``alpha``, ``fit_intercept``).
    ``partial`` runs one epoch of the rule, as ``partial_fit`` does whatever
    the solver (no stopping rule, no early stopping, no printing, no
    diagnostics). With ``solver="lbfgs"`` a fit minimises the same objective
    with L-BFGS (``_lbfgs``): ``epochs`` caps its iterations, each an
    "epoch" of the loss curve, the path and the callbacks. ``epochs``, an
    ``_callbacks.EpochTasks``, reports each epoch to the callbacks and stops
    the loop when one of them asks to.

    Raises a ValueError, and changes nothing, if the weights become
    non-finite or the loss explodes; warns (``_diagnostics.TrainingWarning``)
    when a finished fit went wrong.
    """
    n_epochs = 1 if partial else settings.epochs
    lbfgs = getattr(settings, "solver", "gd") == "lbfgs" and not partial
    if lbfgs and settings.early_stopping:
        raise ValueError(
            "early_stopping=True needs solver='gd': L-BFGS minimises the training "
            "loss and has no epochs of the rule to stop early. Use solver='gd' "
            "with early_stopping, or solver='lbfgs' with early_stopping=False "
            "(and alpha to regularise)."
        )
    early = settings.early_stopping and not partial
    stopping = not partial and (settings.tol is not None or early)
    verbose = settings.verbose if not partial else 0
    source.split(settings.validation_fraction if early else None, settings.random_state)
    learnrate = None if lbfgs else _learnrate(source, settings)
    path = [] if settings.store_path else None
    options = dict(
        loss=settings.loss, alpha=settings.alpha, fit_intercept=settings.fit_intercept
    )
    diverged = partial_fn(
        _diagnostics.check_divergence,
        learnrate=settings.learnrate,
        alpha=settings.alpha,
    )
    curve = list(curve)
    done = len(curve)  # epochs of earlier fits (warm_start, partial_fit)
    sample = None
    if not partial:
        sample = source.sample(_diagnostics.sample_rows(source.n_samples))
    begin = (coef.copy(), intercept.copy())
    best_epoch = None
    val_curve = None
    # L-BFGS never steps: any learnrate builds its trainer
    with source.trainer(coef, intercept, learnrate or 1.0, **options) as trainer:
        if lbfgs:
            coef, intercept, *_ = _lbfgs.minimize(
                trainer,
                curve,
                max_iter=n_epochs,
                tol=settings.tol,
                verbose=verbose,
                path=path,
                epochs=epochs,
            )
        elif not (stopping or verbose or path is not None or epochs is not None):
            losses = trainer.run(n_epochs)
            diverged(losses, trainer.coef_aug, losses[0].max(), epoch=None)
            curve += losses.mean(axis=1).tolist()
            coef, intercept = trainer.get_params()
        else:
            tol = settings.tol or 0.0
            # an improvement must also exceed the losses' rounding, so that
            # kernels that differ in summation order stop at the same epoch
            noise = float(np.finfo(source.dtype).eps) ** NOISE_POWER
            cadence = 1 if verbose > 1 else max(1, n_epochs // 10)
            val_curve = [] if early else None
            best, best_params, no_change = np.inf, None, 0
            stopped = halted = False  # by tol, by a callback
            first = None
            for epoch in range(1, n_epochs + 1):
                if epochs is not None:
                    epochs.begin(trainer, curve)
                losses = trainer.run(1)
                first = losses[0].max() if first is None else first
                diverged(losses, trainer.coef_aug, first, epoch=epoch)
                loss = float(losses[0].mean())
                curve.append(loss)
                if path is not None:
                    path.append(trainer.get_params())
                monitored = loss
                if early:
                    monitored = source.validation_loss(trainer, settings.loss)
                    val_curve.append(monitored)
                if verbose and (epoch % cadence == 0 or epoch == n_epochs):
                    extra = "" if not early else f", validation loss = {monitored:.8g}"
                    print(f"Epoch {len(curve)}, loss = {loss:.8g}{extra}")
                if epochs is not None and epochs.end(trainer, curve):
                    halted = True
                    break
                if stopping:
                    improved = best == np.inf or (
                        monitored < best - max(tol, noise) * abs(best)
                    )
                    no_change = 0 if improved else no_change + 1
                    if monitored < best:
                        best = monitored
                        if early:
                            best_params, best_epoch = trainer.get_params(), epoch
                    if no_change >= settings.n_iter_no_change:
                        stopped = True
                        break
            coef, intercept = trainer.get_params()
            if best_params is not None:
                coef, intercept = best_params
            if stopping and not (stopped or halted):
                warnings.warn(
                    f"The loss still improved by more than tol={tol:g} (relative) "
                    f"within the last {settings.n_iter_no_change} of epochs="
                    f"{n_epochs}; increase epochs (or learnrate) for convergence.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
            if stopped and verbose:
                print(
                    f"Stopped after epoch {len(curve)}: no improvement by "
                    f"tol={tol:g} (relative)."
                )
            if halted and verbose:
                print(f"Stopped after epoch {len(curve)}: a callback asked to stop.")
    if not partial:
        _diagnostics.report(
            sample,
            begin,
            (coef, intercept),
            curve[done:],
            settings=settings,
            best_epoch=best_epoch,
        )
    return Outcome(coef, intercept, curve, val_curve, path, learnrate)


def validation_positions(n_present, fraction, random_state):
    """Early stopping's validation part: sorted positions among the
    ``n_present`` records present (weight > 0), and the training count.

    The split of ``train_test_split(range(n_present), test_size=fraction,
    random_state=random_state)`` (its permutation, drawn the same way), with
    the permutation in int32 where it fits and nothing else as long as the
    data kept.
    """
    n_train, n_test = _validate_shuffle_split(
        n_present, fraction, None, default_test_size=0.25
    )
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"early_stopping needs records for both training and validation; "
            f"with {n_present} records and validation_fraction={fraction} one "
            "part is empty. Use more data or early_stopping=False."
        )
    index = np.int32 if n_present < 2**31 else np.int64
    # shuffled in place: RandomState.permutation(n) is this shuffle of a copy
    permutation = np.arange(n_present, dtype=index)
    check_random_state(random_state).shuffle(permutation)
    return np.sort(permutation[:n_test]), n_train


ZERO_WEIGHT_PART = (
    "early_stopping split the records so that the training or the "
    "validation part has zero total sample_weight; use early_stopping="
    "False or more records with positive weight."
)


def _learnrate(source, settings):
    """``learnrate``, or the step of ``"auto"`` on the training records."""
    if not isinstance(settings.learnrate, str):
        return float(settings.learnrate)
    step = _stepsize.auto_learnrate(
        source.map_train,
        n_features=source.n_features,
        n_records=source.n_train,
        loss=settings.loss,
        alpha=settings.alpha,
        fit_intercept=settings.fit_intercept,
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
