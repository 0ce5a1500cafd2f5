"""Diagnostics: a fit that went wrong says so, with the cause and the fix.

Each check reads what the descent has anyway (the loss curve, the weights
before and after) and :func:`record_sums`: sums over the training records at
the weights of the fit's last epoch, from the ``h = x · w + b`` that its pass
computed where the engine kept it, else from one product of X with those
weights, on every part of the data where it lives (sparse rows as they are,
dense ones a block at a time), and the targets of at most ``SAMPLE_ROWS``
evenly spaced records. Only an end that looks saturated asks for the same
sums at the weights the fit started from:

- a saturated start: most records have ``ŷ (1 - ŷ)`` below ``SATURATED`` at
  the start, and at the end most still do (the squared error's error term
  ``δ = e ŷ (1 - ŷ)`` vanishes there), or some do and the training loss is
  above that of predicting the targets' mean (the log loss, whose ``δ = t -
  ŷ`` does not vanish, but whose steps are too short for unscaled X);
- a loss that rose: the training loss ends above where it started, or above
  its lowest value by more than ``ROSE`` (relative): the learning rate is too
  large (a step below ``2 / L`` never increases it);
- squashed targets: under ``target_scaling="minmax"`` the middle half of the
  targets spans less than ``SQUASHED`` of y's range (a value far from the
  others), so that the neuron learns targets all but equal;
- collapsed predictions: their spread is below ``COLLAPSED`` of the
  targets', caused by ``alpha`` when it outweighs the loss's curvature along
  the weights.

A loss that explodes (``EXPLODED`` times its start) or becomes non-finite is
a divergence, the error of :func:`check_divergence`, whatever ``tol`` and
``early_stopping`` say.
"""

import numpy as np
from scipy import sparse
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning

from ._advice import on_command_line, plain_fit, setting, warn
from ._kernels._array import sigmoid
from ._loss import get_loss
from ._namespace import take_rows, to_namespace, to_numpy, xp_of
from ._stepsize import max_abs, sum_blocks

# Records whose targets are sampled (evenly spaced) for their quantiles.
SAMPLE_ROWS = 1000
# Records x neurons per block of the pass of record_sums: its float64
# temporaries, a dozen of them, stay a small fraction of a large X. From a
# kept h (no product) in larger blocks, for fewer calls: up to a share of
# h's values, so that the temporaries stay below h's size.
BLOCK_ELEMENTS = 1 << 13
KEPT_BLOCK_ELEMENTS = 1 << 16
KEPT_BLOCK_SHARE = 1 / 32
# ŷ (1 - ŷ) below this is saturated (|h| above about 6.9): the squared error's
# error term is at most 1e-3 of its size at h = 0 and the record hardly moves
# the weights.
SATURATED = 1e-3
# Share of the records saturated at which the fit is said to be saturated,
# and the share still saturated at the end of a fit worse than predicting the
# targets' mean that makes it a start the fit did not leave.
SATURATED_SHARE = 0.5
STILL_SATURATED = 0.1
# A final loss above the lowest one by more than this (relative) is a rise.
ROSE = 1e-2
# A loss this many times its start (and at least 1) is a divergence.
EXPLODED = 1e6
# Predictions whose spread (standard deviation) is below this share of the
# targets' are collapsed: they explain at most 2 * 0.05 - 0.05**2, a tenth,
# of the targets' variance (when the targets spread by more than
# COLLAPSE_MIN_SPREAD on [0, 1]).
COLLAPSED = 0.05
COLLAPSE_MIN_SPREAD = 1e-2
# Under target_scaling="minmax", targets whose middle half spans less than
# this share of y's range (but not one value) are squashed: normal data spans
# about a tenth of it with a billion records.
SQUASHED = 0.02
# A record with target 0 or 1 whose |x · w + b| exceeds this is fitted to it
# exactly (|t - ŷ| below 10 ulps of 1, as R's glm warns): where a fit puts
# any, it runs off to infinity (separable targets).
SEPARATED = float(np.log(0.1 / np.finfo(np.float64).eps))


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


# The sums of record_sums, per neuron.
SUMS = ("S", "saturated", "y", "yy", "t", "tt", "loss", "curvature", "separated")


def record_sums(X, T, s, coef, intercept, loss, h=None):
    """What the diagnostics read of one set of training records at the
    weights ``(coef, intercept)``: sums per neuron (:data:`SUMS`), which
    :func:`combine` joins over sets of records.

    X is numpy, scipy sparse or of another array-API namespace, ``T`` the
    targets in [0, 1] (n, n_neurons), ``s`` the training weights (None: 1;
    records of weight 0 take no part). ``h``, the records' ``x · w + b`` at
    these weights (an epoch's pass), replaces the product of X with the
    weights (sparse X: one per neuron; dense X by blocks of rows, each
    product on the BLAS's threads); the sums then leave out ``curvature``,
    which needs ``x · w`` itself (``h - b`` loses its digits in float32 when
    the weights are small). The rest is float64 on the blocks.
    """
    keys = SUMS if h is None else tuple(key for key in SUMS if key != "curvature")
    if h is not None:
        X = h
    elif sparse.issparse(X):  # scipy's vector products are its fastest
        whole = np.column_stack([X @ w for w in np.asarray(coef, X.dtype)])
    else:  # X's dtype: no float64 copy of a float32 block
        xp, device, _ = xp_of(X)
        coef = to_namespace(coef, xp, device, X.dtype)
    value = get_loss(loss).value
    power = 2 if loss == "squared_error" else 1  # ℓ'' (Gauss-Newton's) ~ slope^p

    def block(r0, r1):
        v = None if s is None else _host(s[r0:r1])
        Tb = _host(T[r0:r1, ...])
        XW = None
        with np.errstate(all="ignore"):
            if h is None:
                if sparse.issparse(X):
                    XW = whole[r0:r1]
                else:
                    XW = _host(X[r0:r1, ...] @ coef.T)
                if v is not None:  # a record of weight 0 may overflow: x · w = 0
                    XW = np.where((v > 0)[:, None], XW, 0.0)
                H = XW + intercept
            else:
                H = _host(h[r0:r1, ...])
                if v is not None:
                    H = np.where((v > 0)[:, None], H, 0.0)
            y_hat = sigmoid(np, H)
            slope = y_hat * (1 - y_hat)

            def terms():  # one at a time: a block holds few temporaries
                yield slope < SATURATED
                yield y_hat
                yield y_hat * y_hat
                yield Tb
                yield Tb * Tb
                yield value(Tb, y_hat, H)
                if XW is not None:
                    # Σ s ℓ''(x·w)²: the loss's curvature along w, times ||w||²
                    along = slope * XW
                    yield along * (along if power == 2 else XW)
                yield _separated_records(Tb, H)

            if v is None:
                return [np.float64(r1 - r0)] + [t.sum(axis=0) for t in terms()]
            return [v.sum()] + [v @ term for term in terms()]

    elements = BLOCK_ELEMENTS
    if h is not None:
        share = int(KEPT_BLOCK_SHARE * h.shape[0] * h.shape[1])
        elements = min(KEPT_BLOCK_ELEMENTS, max(BLOCK_ELEMENTS, share))
    block_rows = max(1, elements // coef.shape[0])
    sums = sum_blocks(X, block_rows, 1, block, threads=False) or [0.0] + [
        np.zeros(coef.shape[0])
    ] * (len(keys) - 1)
    return dict(zip(keys, sums, strict=True))


def sample_targets(T, s, rows):
    """The targets and weights of the records ``rows``, which :func:`combine`
    joins over sets of records."""
    sample_s = np.ones(len(rows)) if s is None else _host(take_rows(s, rows))
    return {"sample_t": _host(take_rows(T, rows)), "sample_s": sample_s}


def _host(a):
    return np.asarray(to_numpy(a), dtype=np.float64)


def combine(parts):
    """:func:`record_sums` and :func:`sample_targets` of the union of the
    sets of records."""
    out = {key: sum(p[key] for p in parts) for key in SUMS if key in parts[0]}
    for key in ("sample_t", "sample_s"):
        if key in parts[0]:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


def report(source, start, end, curve_of_fit, *, settings, best_epoch=None, last=None):
    """Warn (``TrainingWarning``) about what went wrong in a finished fit.

    ``source`` holds the training records (``_source``), ``start`` and
    ``end`` are the ``(coef, intercept)`` the fit started from and ended
    with, ``curve_of_fit`` this fit's losses (one per epoch). ``best_epoch``
    is set when early stopping restored earlier weights. ``last``, the pass
    of the fit's last epoch (``_kernels.Forward``), replaces ``end``: the
    diagnostics then describe the weights that epoch started from, as the
    loss curve does, from its ``h`` where the engine kept it. Otherwise one
    pass over the records (``source.summary``); more only for what a warning
    then needs.
    """
    if last is not None:
        end = (last.coef, last.intercept)
    summary = source.summary(*end, settings.loss, last)
    if not summary["S"] > 0:
        return
    curve = np.asarray(curve_of_fit, dtype=np.float64)
    messages = [
        _saturated(summary, settings.loss, source, start),
        _loss_rose(curve, settings, best_epoch) if len(curve) > 1 else None,
        _squashed(summary, settings, source),
    ]
    messages = [m for m in messages if m]
    # weights run off (separation) or pulled to 0 (collapse): said when
    # nothing above explains them
    if not messages:
        messages = [m for m in [_separated(summary, settings)] if m]
    if not messages:
        messages = [m for m in [_collapsed(summary, end, settings, source)] if m]
    for message in messages:
        warn(message, TrainingWarning)


def _saturated(summary, loss, source, start):
    """The message of a start on the sigmoid's flat tails that the fit did
    not leave."""
    S = summary["S"]
    after, t = summary["saturated"] / S, summary["t"] / S
    if loss == "squared_error":
        constant = 0.5 * np.maximum(summary["tt"] / S - t * t, 0.0)
    else:  # the log loss of the targets' mean: the entropy of a proportion
        constant = -xlogy(t, t) - xlogy(1 - t, 1 - t)
    # the log loss's records saturated on their target's side are well fit
    still = (after > SATURATED_SHARE) & (loss == "squared_error")
    worse = (summary["loss"] / S > constant) & (after > STILL_SATURATED)
    if not (still | worse).any():
        return None
    before = source.summary(*start, loss)["saturated"] / S
    saturated = (before > SATURATED_SHARE) & (still | worse)
    if not saturated.any():
        return None
    j = int(np.flatnonzero(saturated)[0])
    if still[j]:
        state = f" and {after[j]:.0%} in its last epoch"
        why = "their error term vanishes and the weights barely move"
    else:
        state = (
            f", and the training loss ends at {summary['loss'][j] / S:.3g}, above "
            f"the {constant[j]:.3g} of predicting the targets' mean"
        )
        why = (
            "h = x · w is far from 0, where the sigmoid is flat, and the steps "
            "that X's largest values allow are too short to bring it back"
        )
    fix = _standardise() or "check X for extreme values"
    largest = max(source.map_train(max_abs), default=0.0)
    return (
        f"The sigmoid is saturated (ŷ(1 - ŷ) < {SATURATED:g}) for {before[j]:.0%} "
        f"of the records at the start of training{state}: {why}. X has values up "
        f"to {largest:.3g}; {fix}."
    )


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


def _collapsed(summary, end, settings, source):
    """The message of predictions collapsed to (nearly) one value while the
    targets vary; in a search, whose scores judge such a candidate, none."""
    if not plain_fit() and not on_command_line():
        return None
    S = summary["S"]
    y_mean, t_mean = summary["y"] / S, summary["t"] / S
    y_spread = np.sqrt(np.maximum(summary["yy"] / S - y_mean**2, 0.0))
    t_spread = np.sqrt(np.maximum(summary["tt"] / S - t_mean**2, 0.0))
    collapsed = (t_spread > COLLAPSE_MIN_SPREAD) & (y_spread < COLLAPSED * t_spread)
    if not collapsed.any():
        return None
    j = int(np.flatnonzero(collapsed)[0])
    w = np.asarray(end[0][j], dtype=np.float64)
    norm = np.einsum("i,i->", w, w)  # no BLAS threads for one vector
    # the penalty's curvature against the loss's along the weights: the
    # shrinking it causes where it is the larger (a summary from h alone asks
    # a pass for it)
    alpha, along = settings.alpha, 0.0
    if alpha and norm > 0:
        curvature = summary.get("curvature")
        if curvature is None:
            curvature = source.summary(*end, settings.loss)["curvature"]
        along = curvature[j] / S / norm
    if alpha and alpha >= along:
        times = f", {alpha / along:.3g} times" if along > 0 else ", above"
        cause = (
            f"the penalty {setting('alpha', alpha)}{times} the loss's curvature "
            f"along the weights ({along:.2g}), pulls them to 0; use an alpha "
            f"below {along:.2g}, or choose alpha by cross-validation"
        )
    else:
        cause = "the weights do not use X; check X, learnrate and epochs"
    return (
        f"The predictions collapsed to (nearly) one value ({y_mean[j]:.4g} on the "
        f"scale of the targets in [0, 1], spread {y_spread[j]:.2g}) while the "
        f"targets spread by {t_spread[j]:.2g}: {cause}."
    )


def _squashed(summary, settings, source):
    """The message of targets squashed by a value far from the others under
    ``target_scaling="minmax"`` (which maps y's extremes to 0 and 1)."""
    if not isinstance(settings.target_scaling, str):
        return None
    T, s = summary["sample_t"], summary["sample_s"]
    for j in range(T.shape[1]):
        q25, median, q75 = _quantiles(T[s > 0, j], s[s > 0], (0.25, 0.5, 0.75))
        if not 0 < q75 - q25 < SQUASHED:
            continue
        lo, hi = source.y_extremes()[:, j]
        q25, q75 = (lo + q * (hi - lo) for q in (q25, q75))
        where = f" (output {j})" if T.shape[1] > 1 else ""
        if on_command_line():
            pair = setting("target_scaling", ("low", "high"))
            robust = "its logarithm, for positive and skewed values"
        else:
            pair = "target_scaling=(low, high)"
            robust = (
                "sklearn.compose.TransformedTargetRegressor with a "
                "QuantileTransformer, or np.log1p for positive, skewed y"
            )
        return (
            f"y{where} has a value far from the others, "
            f"{hi if median < 0.5 else lo:.6g}: "
            f"{setting('target_scaling', 'minmax')} maps y's range [{lo:.6g}, "
            f"{hi:.6g}] to the sigmoid's [0, 1], and the middle half of the "
            f"targets, [{q25:.6g}, {q75:.6g}], to a band {(q75 - q25) / (hi - lo):.2g}"
            " wide, which the neuron cannot resolve. Drop that value, or clip y "
            f"to the range of the others and pass it as {pair}, or transform y "
            f"robustly ({robust})."
        )
    return None


def _quantiles(values, weights, levels):
    """Weighted quantiles: the smallest value whose cumulative weight reaches
    each level of the total."""
    if not len(values):
        return [np.nan] * len(levels)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    at = np.searchsorted(cumulative, np.asarray(levels) * cumulative[-1])
    return values[order][np.minimum(at, len(values) - 1)]


def _separated_records(T, H):
    """Which records have target 0 or 1 and are fitted to it exactly (as a
    float 0 or 1 per record and neuron)."""
    far = np.abs(H) > SEPARATED
    if not far.any():  # the usual case, in two operations
        return far
    return far & (T == (H > 0))  # target 1 on the positive side, 0 on the other


def _separated(summary, settings):
    """The message of a fit that runs off to infinity: records with targets 0
    or 1 fitted to them exactly, and no penalty to stop it."""
    share = summary["separated"] / summary["S"]
    if settings.alpha or not (share > 0).any():
        return None
    j = int(np.flatnonzero(share > 0)[0])
    where = f" (output {j})" if len(share) > 1 else ""
    if settings.loss == "log_loss":
        cause = (
            "the targets are separable, or quasi-separable: a hyperplane in X "
            "puts these records on the side of their target, so the log loss"
        )
    else:
        cause = (
            "the squared error on targets 0 and 1 decreases without end as "
            "these records move further onto the side of their target, so it"
        )
    return (
        f"{share[j]:.1%} of the training weight{where} is on records with targets "
        f"0 or 1 that the fit predicts exactly (ŷ numerically 0 or 1, |x · w + b| "
        f"> {SEPARATED:.3g}): {cause} has no finite minimum, and the weights grow "
        "without bound for as long as the solver runs; they, and any standard "
        f"errors, mean nothing. Use a penalty, {setting('alpha', 1e-4)} or "
        "another alpha > 0, for finite weights, or remove the columns that "
        "separate the records."
    )
