"""Diagnostics: a fit that went wrong says so, with the cause and the fix.

Each check reads what the descent has anyway (the loss curve, the weights
before and after) and a fixed sample of at most ``SAMPLE_ROWS`` training
records (evenly spaced rows, the same on every data source), never a pass
over X:

- a saturated start: most records have ``ŷ (1 - ŷ)`` below ``SATURATED`` at
  the start and still at the end, so their error term (the squared error's
  ``δ = e ŷ (1 - ŷ)``) vanishes and the weights barely move (unscaled X);
- a loss that rose: the training loss ends above where it started, or above
  its lowest value by more than ``ROSE`` (relative): the learning rate is too
  large (a step below ``2 / L`` never increases it);
- collapsed predictions: (nearly) one value for records whose targets vary.

A loss that explodes (``EXPLODED`` times its start) or becomes non-finite is
a divergence, the error of :func:`check_divergence`, whatever ``tol`` and
``early_stopping`` say.
"""

import warnings

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

# Records sampled (evenly spaced) to look at the sigmoid's state.
SAMPLE_ROWS = 1000
# ŷ (1 - ŷ) below this is saturated (|h| above about 6.9): the squared error's
# error term is at most 1e-3 of its size at h = 0 and the record hardly moves
# the weights.
SATURATED = 1e-3
# Share of the records saturated at which the fit is said to be saturated.
SATURATED_SHARE = 0.5
# A final loss above the lowest one by more than this (relative) is a rise.
ROSE = 1e-2
# A loss this many times its start (and at least 1) is a divergence.
EXPLODED = 1e6
# Predictions whose spread is below this share of the targets' spread are
# collapsed (when the targets spread by more than COLLAPSE_MIN_SPREAD).
COLLAPSED = 1e-3
COLLAPSE_MIN_SPREAD = 1e-2


class TrainingWarning(ConvergenceWarning):
    """A fit finished, but training went wrong: the message says why and what
    to do (a subclass of scikit-learn's ``ConvergenceWarning``, so that
    ``warnings.simplefilter("ignore", ConvergenceWarning)`` covers it)."""


def shown(value):
    """A parameter's value as the user wrote it (``5.0``, ``'auto'``), also for
    a numpy scalar (whose repr is ``np.float64(5.0)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def divergence_error(learnrate, alpha, at, loss=None, start=None):
    """The ValueError of a diverging fit (``at``: " at epoch k" or "")."""
    what = "The weights became non-finite"
    if loss is not None and np.isfinite(loss):
        what = f"The training loss exploded from {start:.3g} to {loss:.3g}"
    # the penalty multiplies w by 1 - learnrate * alpha each epoch
    penalty = (
        f" With alpha={alpha:g}, learnrate * alpha must also stay below 2."
        if alpha
        else ""
    )
    return ValueError(
        f"{what}{at}: learnrate={shown(learnrate)} is too large for this data. Use a "
        "smaller learnrate (or learnrate='auto', a step that cannot diverge), "
        "or scale X (for example with sklearn.preprocessing.StandardScaler)."
        f"{penalty} The previous model is unchanged."
    )


def check_divergence(losses, coef_aug, start, *, epoch, learnrate, alpha):
    """Raise if the weights or losses are non-finite, or the loss exploded.

    ``losses`` are the latest losses (any shape), ``start`` the loss this
    fit started from (None: not known yet), ``epoch`` the epoch reached (None
    for a batch of epochs).
    """
    losses = np.asarray(losses)
    at = "" if epoch is None else f" at epoch {epoch}"
    if not (np.all(np.isfinite(losses)) and np.all(np.isfinite(coef_aug))):
        raise divergence_error(learnrate, alpha, at)
    if start is None or not losses.size:
        return
    worst = float(losses.max())
    if exploded(worst, start):
        raise divergence_error(learnrate, alpha, at, worst, start)


def exploded(worst, start):
    """Whether a loss ``worst`` (any shape, elementwise) has exploded from
    ``start``, the loss of the first epoch."""
    return (worst >= EXPLODED * np.maximum(start, 1e-300)) & (worst >= 1.0)


def sample_rows(n_samples, m=SAMPLE_ROWS):
    """The evenly spaced rows of the diagnostics' sample."""
    return np.unique(np.linspace(0, n_samples - 1, min(m, n_samples)).astype(np.intp))


def saturated_share(sample, coef, intercept):
    """Per neuron, the weighted share of the sampled records whose sigmoid is
    saturated at ``(coef, intercept)``."""
    X, _, s = sample
    with np.errstate(all="ignore"):
        H = np.asarray(X @ np.asarray(coef, np.float64).T) + intercept
        slope = expit(H) * expit(-H)
    weights = np.ones(len(X)) if s is None else s
    total = weights.sum()
    if not total > 0:
        return np.zeros(coef.shape[0])
    return (weights[:, None] * (slope < SATURATED)).sum(axis=0) / total


def report(sample, start, end, curve_of_fit, *, settings, best_epoch=None):
    """Warn (``TrainingWarning``) about what went wrong in a finished fit.

    ``sample`` is ``(X, T, s)`` of the sampled records (float64, dense),
    ``start`` and ``end`` the ``(coef, intercept)`` the fit started from
    and ended with, ``curve_of_fit`` this fit's losses (one per epoch).
    ``best_epoch`` is set when early stopping restored earlier weights.
    """
    messages = []
    learnrate = settings.learnrate
    if settings.loss == "squared_error" and len(sample[0]):
        before = saturated_share(sample, *start)
        after = saturated_share(sample, *end)
        worst = int(np.argmax(np.minimum(before, after)))
        if min(before[worst], after[worst]) > SATURATED_SHARE:
            largest = float(np.abs(sample[0]).max())
            messages.append(
                f"The sigmoid is saturated (ŷ(1 - ŷ) < {SATURATED:g}) for "
                f"{before[worst]:.0%} of the records at the start of training and "
                f"{after[worst]:.0%} at its end: their error term vanishes and the "
                f"weights barely move. X has values up to {largest:.3g}; "
                "standardise X, for example with make_pipeline(StandardScaler(), "
                "SigmoidNeuronRegressor())."
            )
    curve = np.asarray(curve_of_fit, dtype=np.float64)
    if len(curve) > 1:
        lowest = int(np.argmin(curve))
        first, last = curve[0], curve[-1]
        if last > first or last > curve[lowest] * (1 + ROSE):
            restored = (
                ""
                if best_epoch is None
                else f" Early stopping kept the weights of epoch {best_epoch}, "
                "before the later epochs diverged."
            )
            messages.append(
                f"The training loss rose from {curve[lowest]:.4g} (epoch "
                f"{lowest + 1}) to {last:.4g} (epoch {len(curve)}), having started "
                f"at {first:.4g}: learnrate={shown(learnrate)} is too large for this "
                "data. Use learnrate='auto' (a step that cannot diverge) or a "
                "smaller learnrate, or choose it with SigmoidNeuronRegressorCV."
                f"{restored}"
            )
    if len(sample[0]) > 1:
        X, T, _ = sample
        with np.errstate(all="ignore"):
            coef, intercept = end
            Y = expit(np.asarray(X @ np.asarray(coef, np.float64).T) + intercept)
        t_spread = np.broadcast_to(T, Y.shape).std(axis=0)
        y_spread = Y.std(axis=0)
        collapsed = (t_spread > COLLAPSE_MIN_SPREAD) & (y_spread < COLLAPSED * t_spread)
        if collapsed.any() and not messages:
            j = int(np.flatnonzero(collapsed)[0])
            value = Y[:, j].mean()
            messages.append(
                f"The predictions collapsed to (nearly) one value ({value:.4g} "
                f"on the scale of the targets in [0, 1], spread {y_spread[j]:.2g}) "
                f"while the targets spread by {t_spread[j]:.2g}: the weights "
                f"do not use X. Check alpha={shown(settings.alpha)} (a large penalty "
                "pulls the weights to 0), learnrate and epochs, and standardise X."
            )
    for message in messages:
        warnings.warn(message, TrainingWarning, stacklevel=4)
