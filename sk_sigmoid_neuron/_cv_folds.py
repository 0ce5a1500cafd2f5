"""One split of SigmoidNeuronRegressorCV's search: every candidate learning
rate trained as a neuron of one kernel on the fold, scored at each epoch
checkpoint (in a joblib worker when ``n_jobs`` asks for them)."""

import warnings
from numbers import Number
from traceback import format_exc
from types import SimpleNamespace

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring, r2_score

from . import _kernels, _scaling
from ._descent import Checkpoints, descend, start
from ._fit import fitted_model
from ._namespace import to_numpy


def fold_scores(
    core,
    source,
    train,
    test,
    split,
    *,
    learnrates,
    checkpoints,
    scorer,
    weigh_scores,
    feature_names,
    error_score,
    engine,
    task=None,
):
    """Scores of every (checkpoint, learnrate) on one split.

    The fold is a source of its own (``source.fold``: the training rows keep
    their weights, every other row trains with weight 0, and the validation
    rows are kept apart for scoring), on which the one descent trains every
    candidate learning rate as a neuron of one kernel, from the start
    :class:`SigmoidNeuronRegressor` would draw, and scores the candidates at
    each checkpoint. Returns ``scores`` and ``failed``, both of shape
    (n_checkpoints, n_learnrates); ``failed`` marks candidates whose fit
    diverged (the descent's check), scored ``error_score``, as is a
    candidate whose scoring raises (with GridSearchCV's warning). The R2 of
    the whole bank is one call; where it is undefined or fails (fewer than
    two validation records, no validation weight) the candidates are scored
    one by one, as GridSearchCV would. ``task``, a ``_callbacks.SplitTask``,
    reports the split and its epochs to the callbacks; ``engine`` trains it
    (``_kernels.same_engine``).
    """
    n_lr, m = len(learnrates), source.n_outputs
    with (
        _kernels.same_engine(engine),
        source.fold(np.asarray(train), np.asarray(test), f"CV split {split}") as fold,
    ):
        if task is not None:
            task.begin(*fold.training_data())
        # what SigmoidNeuronRegressor.fit does on this training part
        lo, hi = _scaling.learn_target_range(
            fold.y_extremes(), None, core.target_scaling
        )
        fold.set_targets(lo, hi)
        coef, intercept, _ = start(
            n_features=source.n_features,
            n_outputs=m,
            dtype=source.dtype,
            random_state=core.random_state,
        )
        settings = SimpleNamespace(**core.get_params())
        settings.learnrate, settings.epochs = list(learnrates), int(checkpoints[-1])
        X_val, Y_val, s_val = fold.held_out(X=scorer is not None)
        y_val = Y_val[:, 0] if source.y_ndim == 1 else Y_val
        score_kw = {"sample_weight": s_val} if weigh_scores else {}
        if scorer is None and (
            len(Y_val) < 2 or (weigh_scores and not s_val.sum() > 0)
        ):
            # the bank's R2 is undefined here (NaN for one record) or fails (no
            # weight): score candidate by candidate, as GridSearchCV's R2 would
            scorer = check_scoring(core)
            X_val = fold.held_out(X=True)[0]
        scores = np.empty((len(checkpoints), n_lr))
        failed = np.zeros((len(checkpoints), n_lr), dtype=bool)

        def reached(epoch, coef_k, intercept_k, failed_neurons, losses):
            c = int(np.searchsorted(checkpoints, epoch))
            bad = failed_neurons.reshape(n_lr, m).any(axis=1)
            if bad.any() and isinstance(error_score, str):  # "raise"
                lr = learnrates[int(np.flatnonzero(bad)[0])]
                raise ValueError(
                    f"The fit diverged within {epoch} epochs on CV "
                    f"split {split}: learnrate={lr!r} is too large for this data. "
                    "Remove it from learnrates, or scale X (for example with "
                    "sklearn.preprocessing.StandardScaler); error_score=np.nan "
                    "scores such candidates NaN instead."
                )
            failed[c] = bad
            if scorer is None:
                y_unit = fold.predict_held_out(coef_k, intercept_k)
                scores[c] = _bank_r2(y_unit, lo, hi, n_lr, Y_val, score_kw)
            else:
                # each candidate's loss curve: the mean over its outputs
                curves = losses.reshape(len(losses), n_lr, m).mean(axis=2)
                for j in np.flatnonzero(~bad):
                    group = slice(j * m, (j + 1) * m)
                    params = {"learnrate": learnrates[j], "epochs": epoch}
                    candidate = fitted_model(
                        clone(core).set_params(**params),
                        coef_k[group],
                        intercept_k[group],
                        lo,
                        hi,
                        curve=curves[:, j].tolist(),
                        y_ndim=source.y_ndim,
                        feature_names=feature_names,
                        namespace=source.namespace,
                    )
                    scores[c, j] = _score(
                        scorer, candidate, X_val, y_val, score_kw, error_score
                    )
            if bad.any():
                scores[c, bad] = error_score

        tasks = None if task is None else task.epochs()
        with _kernels.one_blas_thread():
            descend(
                fold,
                settings,
                np.tile(coef, (n_lr, 1)),
                np.tile(intercept, n_lr),
                [],
                epochs=tasks,
                checkpoints=Checkpoints(checkpoints, reached),
            )
    if task is not None:
        task.end()
    return scores, failed


def _bank_r2(y_unit, lo, hi, n_lr, Y_val, score_kw):
    """Each candidate's R2 from every neuron's held-out predictions in one
    call: a candidate's is the uniform average over its outputs (as
    ``SigmoidNeuronRegressor.score``)."""
    m = Y_val.shape[1]
    with np.errstate(all="ignore"):
        y_pred = _scaling.from_unit(y_unit, np.tile(lo, n_lr), np.tile(hi, n_lr))
        y_pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
        y_pred[~np.isfinite(y_pred)] = 0.0  # failed candidates, scored apart
        r2 = r2_score(
            np.tile(Y_val, (1, n_lr)), y_pred, multioutput="raw_values", **score_kw
        )
    return np.asarray(r2).reshape(n_lr, m).mean(axis=1)


def _score(scorer, candidate, X, y, score_kw, error_score):
    """The candidate's score; ``error_score`` if scoring fails, as in GridSearchCV.

    The warning is that of ``sklearn.model_selection._validation._score``, with
    the traceback; "raise" raises the scorer's own exception.
    """
    try:
        score = scorer(candidate, X, y, **score_kw)
    except Exception:
        if isinstance(error_score, str):  # "raise"
            raise
        warnings.warn(
            "Scoring failed. The score on this train-test partition for these "
            f"parameters will be set to {error_score}. Details: \n{format_exc()}",
            UserWarning,
            stacklevel=2,
        )
        return error_score
    return _check_score(score)


def _check_score(score):
    if not isinstance(score, Number):
        raise ValueError(
            f"scoring must return a number, got {score!r} ({type(score).__name__}) "
            "instead; SigmoidNeuronRegressorCV takes one metric."
        )
    return float(score)
