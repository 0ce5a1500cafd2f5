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

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from ._advice import on_command_line, plain_fit, setting, warn

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


def divergence_error(learnrate, alpha, at, loss=None, start=None):
    """The ValueError of a diverging fit (``at``: " at epoch k" or "")."""
    what = "The weights became non-finite"
    if loss is not None and np.isfinite(loss):
        what = f"The training loss exploded from {start:.3g} to {loss:.3g}"
    if learnrate == "auto":  # a step that cannot diverge: X overflows
        cause = "X's values are too large for the sigmoid"
        fixes = [_standardise() or "check X for extreme values"]
    else:
        cause = f"{setting('learnrate', learnrate)} is too large for this data"
        fixes = [
            "a smaller learnrate",
            f"{setting('learnrate', 'auto')} (a step that cannot diverge)",
            _standardise(),
        ]
    # the penalty multiplies w by 1 - learnrate * alpha each epoch
    penalty = (
        f" With {setting('alpha', alpha)}, learnrate * alpha must also stay below 2."
        if alpha and learnrate != "auto"
        else ""
    )
    return ValueError(
        f"{what}{at}: {cause}. Use {_either(fixes)}.{penalty} The previous "
        "model is unchanged."
    )


def _either(fixes):
    """``a``, ``a or b``, ``a, b or c``."""
    fixes = [f for f in fixes if f]
    return fixes[0] if len(fixes) == 1 else ", ".join(fixes[:-1]) + " or " + fixes[-1]


def _standardise():
    """How to scale X, where the user can (the command line standardises X
    itself)."""
    if on_command_line():
        return ""
    return "scale X (for example with sklearn.preprocessing.StandardScaler)"


def check_divergence(losses, coef_aug, first, *, epoch, learnrate, alpha, mark=False):
    """The neurons whose fit diverged: non-finite losses or weights, or a loss
    that exploded from the neuron's first one; raise the fit's error if any
    did, or, with ``mark``, return their mask.

    ``losses`` are the latest epochs' losses (n_epochs, n_neurons), ``first``
    each neuron's loss in the first epoch of this fit, ``epoch`` the epoch
    reached (None for a stretch of epochs).
    """
    losses = np.asarray(losses)
    with np.errstate(invalid="ignore"):
        broken = ~(np.isfinite(losses).all(axis=0) & np.isfinite(coef_aug).all(axis=1))
        worst = losses.max(axis=0) if len(losses) else np.full(len(broken), -np.inf)
        blown = exploded(worst, first)
    failed = broken | blown
    if mark or not failed.any():
        return failed
    at = "" if epoch is None else f" at epoch {epoch}"
    if broken.any():
        raise divergence_error(learnrate, alpha, at)
    j = int(np.argmax(np.where(blown, worst / np.maximum(first, 1e-300), -np.inf)))
    raise divergence_error(learnrate, alpha, at, worst[j], first[j])


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
    if settings.loss == "squared_error" and len(sample[0]):
        before = saturated_share(sample, *start)
        after = saturated_share(sample, *end)
        worst = int(np.argmax(np.minimum(before, after)))
        if min(before[worst], after[worst]) > SATURATED_SHARE:
            largest = float(np.abs(sample[0]).max())
            fix = _standardise() or "check X for extreme values"
            messages.append(
                f"The sigmoid is saturated (ŷ(1 - ŷ) < {SATURATED:g}) for "
                f"{before[worst]:.0%} of the records at the start of training and "
                f"{after[worst]:.0%} at its end: their error term vanishes and the "
                f"weights barely move. X has values up to {largest:.3g}; {fix}."
            )
    curve = np.asarray(curve_of_fit, dtype=np.float64)
    if len(curve) > 1:
        message = _loss_rose(curve, settings, best_epoch)
        if message:
            messages.append(message)
    if len(sample[0]) > 1:
        message = _collapsed(sample, end, settings)
        if message and not messages:
            messages.append(message)
    for message in messages:
        warn(message, TrainingWarning)


def _loss_rose(curve, settings, best_epoch):
    """The message of a loss that ended above its start or its lowest value."""
    lowest = int(np.argmin(curve))
    first, last = curve[0], curve[-1]
    if not (last > first or last > curve[lowest] * (1 + ROSE)):
        return None
    learnrate = settings.learnrate
    began = "" if lowest == 0 else f", having started at {first:.4g}"
    restored = (
        ""
        if best_epoch is None
        else f" Early stopping kept the weights of epoch {best_epoch}, "
        "before the later epochs diverged."
    )
    if not plain_fit() and not on_command_line():
        fix = f"Leave {setting('learnrate', learnrate)} out of the search"
    else:
        fixes = [f"{setting('learnrate', 'auto')} (a step that cannot diverge)"]
        fixes.append("a smaller learnrate")
        if plain_fit():
            fixes.append("choose it with SigmoidNeuronRegressorCV")
        fix = "Use " + _either(fixes)
    return (
        f"The training loss rose from {curve[lowest]:.4g} (epoch {lowest + 1}) to "
        f"{last:.4g} (epoch {len(curve)}){began}: "
        f"{setting('learnrate', learnrate)} is too large for this data. "
        f"{fix}.{restored}"
    )


def _collapsed(sample, end, settings):
    """The message of predictions collapsed to (nearly) one value while the
    targets vary."""
    X, T, _ = sample
    with np.errstate(all="ignore"):
        coef, intercept = end
        Y = expit(np.asarray(X @ np.asarray(coef, np.float64).T) + intercept)
    t_spread = np.broadcast_to(T, Y.shape).std(axis=0)
    y_spread = Y.std(axis=0)
    collapsed = (t_spread > COLLAPSE_MIN_SPREAD) & (y_spread < COLLAPSED * t_spread)
    if not collapsed.any():
        return None
    j = int(np.flatnonzero(collapsed)[0])
    value = Y[:, j].mean()
    if settings.alpha:
        cause = (
            f"the penalty {setting('alpha', settings.alpha)} pulls the weights to "
            "0; use a smaller alpha"
        )
    else:
        cause = "the weights do not use X; check X, learnrate and epochs"
    return (
        f"The predictions collapsed to (nearly) one value ({value:.4g} on the "
        f"scale of the targets in [0, 1], spread {y_spread[j]:.2g}) while the "
        f"targets spread by {t_spread[j]:.2g}: {cause}."
    )
