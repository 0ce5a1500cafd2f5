"""SigmoidNeuronRegressorCV: the learnrate x epochs search in one pass per fold."""

import warnings
from inspect import signature
from numbers import Integral, Real

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from . import _advice, _callbacks, _kernels, _scaling
from ._cv_folds import fold_scores
from ._fit import make_source, unchanged_on_error
from ._sigmoid_neuron import SigmoidNeuronRegressor

# parameters passed on, unchanged, to every SigmoidNeuronRegressor the search fits
_CORE_PARAMS = ("fit_intercept", "target_scaling", "loss", "alpha", "random_state")


class SigmoidNeuronRegressorCV(
    _callbacks.CallbackSupportMixin, RegressorMixin, BaseEstimator
):
    r"""Sigmoid neuron with the learning rate and the number of epochs chosen by CV.

    The same search as
    ``GridSearchCV(SigmoidNeuronRegressor(...), {"learnrate": learnrates,
    "epochs": epochs}, cv=cv, scoring=scoring)``, with the same scores, in a
    fraction of the time. On each training part, all learning rates train at
    once as one bank of neurons (one matrix update per epoch, from the start
    :class:`SigmoidNeuronRegressor` would use), and every candidate epoch
    count is a checkpoint on that one descent: after epoch :math:`e` the bank's
    weights are exactly those of fits with ``epochs=e``, so the validation part
    is scored there. The best ``(learnrate, epochs)`` by mean score, ties going
    to the first candidate in the order of
    ``ParameterGrid({"learnrate": learnrates, "epochs": epochs})``, is then
    refitted on all the data. It searches the rule (``solver="gd"``, the
    solver with a learning rate); ``SigmoidNeuronRegressor(solver="lbfgs")``
    reaches the optimum without a search.

    With scikit-learn >= 1.9, ``set_callbacks`` attaches ``sklearn.callback``
    callbacks (such as ``ProgressBar``), with the task tree of ``GridSearchCV``:
    a fit is a search whose subtasks are the CV splits, each with the epochs
    of its fold as subtasks, then the refit, whose epochs the refitted
    estimator reports (see Notes).

    Read more in the :ref:`User Guide <sigmoid_neuron_cv>`.

    Parameters
    ----------
    learnrates : array-like of shape (n_learnrates,)
        The learning rates to try: positive numbers, or ``"auto"`` (each
        fold's fit computes its step, as ``learnrate="auto"`` does); by default
        ``(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)``. They train
        side by side, so a longer list costs less than proportionally more.

    epochs : int or array-like of shape (n_epoch_counts,)
        The epoch counts to try, by default ``(10, 30, 100, 300, 1000)``. An
        int ``n`` means every count from 1 to ``n``. A fold costs
        ``max(epochs)`` epochs of the bank, however many counts are listed.

    cv : int, cross-validation generator or iterable, default=5
        Determines the splits, as in :class:`~sklearn.model_selection.GridSearchCV`:
        an int is the number of folds of a
        :class:`~sklearn.model_selection.KFold`; a splitter or an iterable of
        ``(train, test)`` index arrays is used as it is.

    scoring : str, callable or None, default=None
        The validation score, higher is better. None is the R2 of
        :meth:`SigmoidNeuronRegressor.score`; a str names a scikit-learn
        scorer (see :func:`~sklearn.metrics.get_scorer_names`); a callable
        ``scorer(estimator, X, y)`` receives a fitted
        :class:`SigmoidNeuronRegressor` of the candidate. Scores are computed
        with the BLAS on one thread (see :ref:`sigmoid_neuron_cv`).

    fit_intercept : bool, default=True
        Passed to :class:`SigmoidNeuronRegressor`.

    target_scaling : "minmax", None or tuple (low, high), default="minmax"
        Passed to :class:`SigmoidNeuronRegressor`. With ``"minmax"`` each
        training part maps its own range of ``y``, as its separate fit would.

    loss : {"squared_error", "log_loss"}, default="squared_error"
        Passed to :class:`SigmoidNeuronRegressor`.

    alpha : float, default=0.0
        Passed to :class:`SigmoidNeuronRegressor`.

    random_state : int, RandomState instance or None, default=None
        Passed to :class:`SigmoidNeuronRegressor`: each fit draws its start
        from it as ``GridSearchCV``'s copies of the estimator would, so with
        an int or a RandomState instance every fold and the final refit start
        from the same weights. With None each fold draws its own start (shared
        by the fold's candidates).

    n_jobs : int, default=None
        Number of folds computed in parallel (through joblib). None means 1
        unless in a ``joblib.parallel_backend`` context; -1 means all
        processors.

    error_score : "raise" or float, default=np.nan
        The score of a candidate on a split where its fit or its scoring
        fails, as in ``GridSearchCV``. A fit fails when its weights become
        non-finite (a learning rate too large for the data): its scores are
        ``error_score``, with a :class:`~sklearn.exceptions.FitFailedWarning`,
        and the search raises if every fit fails. Scoring fails when the
        scorer raises (a classification metric such as ``"accuracy"`` on a
        continuous target, a validation part whose weights are all zero for
        the R2): that score is ``error_score``, with a UserWarning that
        carries the traceback, and the search goes on even if every score
        fails (all candidates then rank 1). With "raise" the first failure
        raises its own error. A validation part of one record is no failure:
        its R2 is NaN, with sklearn's
        :class:`~sklearn.exceptions.UndefinedMetricWarning` (see Notes).

    Attributes
    ----------
    learnrate_ : float or "auto"
        The chosen learning rate (``best_estimator_.learnrate_`` is the step
        its refit took).

    epochs_ : int
        The chosen number of epochs.

    best_score_ : float
        Mean cross-validated score of the chosen candidate.

    best_params_ : dict
        ``{"epochs": epochs_, "learnrate": learnrate_}``.

    best_index_ : int
        Index of the chosen candidate in ``cv_results_``.

    best_estimator_ : SigmoidNeuronRegressor
        The chosen candidate refitted on all the data (with ``sample_weight``).

    cv_results_ : dict of numpy (masked) ndarrays
        The keys and meaning of ``GridSearchCV.cv_results_`` for the grid
        ``{"learnrate": learnrates, "epochs": epochs}``, in the same candidate
        order: ``param_epochs``, ``param_learnrate`` (masked arrays),
        ``params``, ``split{k}_test_score``, ``mean_test_score``,
        ``std_test_score`` and ``rank_test_score``. There are no
        ``*_fit_time`` or ``*_score_time`` keys: a fold's candidates share one
        computation, so none has a time of its own.

    n_splits_ : int
        The number of cross-validation splits.

    scorer_ : callable
        The scorer used on the validation parts (the estimator's R2 ``score``
        when ``scoring=None``).

    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        ``best_estimator_.coef_``.

    intercept_ : float or ndarray of shape (n_outputs,)
        ``best_estimator_.intercept_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    SigmoidNeuronRegressor : The estimator whose learnrate and epochs are chosen.
    sklearn.model_selection.GridSearchCV : The generic search this one equals.
    sklearn.linear_model.RidgeCV : Ridge regression with built-in CV.

    Notes
    -----
    ``fit(X, y, sample_weight=sw)`` does what ``GridSearchCV`` (scikit-learn
    1.7 and later) does with ``sample_weight``: each training part is fitted
    with its weights, and each validation part is scored with its weights when
    the scorer accepts ``sample_weight`` (R2 does; a UserWarning says when a
    scorer does not). So zero weights remove records and integer weights
    repeat them, in the search as in the fits.

    A candidate whose mean score is NaN (a failure scored
    ``error_score=np.nan``, or the NaN R2 of a one-record validation part, as
    with :class:`~sklearn.model_selection.LeaveOneOut`) ranks last, as in
    ``GridSearchCV``; when every mean is NaN, all candidates rank 1 and the
    first is refitted. ``scoring="neg_mean_squared_error"`` gives such splits
    a score.

    A callback's request to stop (``on_fit_task_end`` returning True) is
    ignored within the folds. In ``GridSearchCV`` a propagated callback's
    request stops the fit of one candidate, which is scored as stopped; here
    a fold's epochs serve all the candidate epoch counts at once, so each
    candidate is scored at its own count and ``cv_results_`` is the same with
    or without callbacks. The refit is a fit of
    :class:`SigmoidNeuronRegressor`, which stops when a callback propagated to
    it asks (``best_estimator_.n_iter_`` is then below ``epochs_``), as the
    refit of ``GridSearchCV`` does.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sk_sigmoid_neuron import SigmoidNeuronRegressorCV
    >>> X, y = make_regression(n_samples=100, n_features=3, noise=1.0,
    ...                        random_state=0)
    >>> model = SigmoidNeuronRegressorCV(
    ...     learnrates=[0.3, 1.0, 3.0], epochs=[100, 300], random_state=0
    ... ).fit(X, y)
    >>> model.best_params_
    {'epochs': 300, 'learnrate': 1.0}
    >>> round(model.best_score_, 3)
    0.984
    """

    _parameter_constraints: dict = {
        "learnrates": ["array-like"],
        "epochs": [
            *SigmoidNeuronRegressor._parameter_constraints["epochs"],
            "array-like",
        ],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        **{
            name: SigmoidNeuronRegressor._parameter_constraints[name]
            for name in _CORE_PARAMS
        },
        "n_jobs": [Integral, None],
        "error_score": [StrOptions({"raise"}), Real],
    }

    def __init__(
        self,
        learnrates=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0),
        epochs=(10, 30, 100, 300, 1000),
        *,
        cv=5,
        scoring=None,
        fit_intercept=True,
        target_scaling="minmax",
        loss="squared_error",
        alpha=0.0,
        random_state=None,
        n_jobs=None,
        error_score=np.nan,
    ):
        self.learnrates = learnrates
        self.epochs = epochs
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.target_scaling = target_scaling
        self.loss = loss
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.error_score = error_score

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, groups=None):
        """Search ``learnrates`` x ``epochs`` by CV, then refit the best on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, for the fits and for the validation scores
            (see Notes).

        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter given as ``cv`` (such as
            :class:`~sklearn.model_selection.GroupKFold`).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        task = _callbacks.CVFitTask(self)
        with unchanged_on_error(self):
            learnrates, epoch_counts = self._check_grid()
            core = clone(SigmoidNeuronRegressor(**self._core_params()))
            with make_source(self, X, y, sample_weight, reset=True) as source:
                task.begin(source.callback_data)
                # the core's errors, before any fold
                _scaling.learn_target_range(
                    source.y_extremes(), None, self.target_scaling
                )
                # splitters need the number of records, the targets and groups
                Y = source.gather("Y")
                y_split = Y[:, 0] if source.y_ndim == 1 else Y
                splits = list(
                    check_cv(self.cv).split(
                        np.empty((source.n_samples, 0)), y_split, groups
                    )
                )
                scorer, weigh_scores = self._scorer(core, source.weighted)
                split_tasks = task.begin_search(len(splits), int(epoch_counts.max()))
                scores, failed = self._cross_validate(
                    core,
                    source,
                    splits,
                    learnrates,
                    epoch_counts,
                    scorer,
                    weigh_scores,
                    split_tasks,
                )
            self._check_failures(failed, learnrates)
            task.end_search()

            # the candidates in the order of ParameterGrid, which sorts the keys
            # ("epochs" < "learnrate") and varies the last one fastest
            params = [
                {"epochs": int(e), "learnrate": lr}
                for e in epoch_counts
                for lr in learnrates
            ]
            self.cv_results_ = _cv_results(params, scores)
            self.n_splits_ = len(splits)
            self.best_index_ = int(self.cv_results_["rank_test_score"].argmin())
            self.best_params_ = params[self.best_index_]
            self.best_score_ = float(
                self.cv_results_["mean_test_score"][self.best_index_]
            )
            self.learnrate_ = self.best_params_["learnrate"]
            self.epochs_ = self.best_params_["epochs"]

            self.best_estimator_ = clone(core).set_params(**self.best_params_)
            with task.refit(self.best_estimator_), _advice.entry("search"):
                self.best_estimator_.fit(X, y, sample_weight=sample_weight)
            self.coef_ = self.best_estimator_.coef_
            self.intercept_ = self.best_estimator_.intercept_
            task.end()
        return self

    def predict(self, X):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of ``y``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        return self.best_estimator_.predict(X)

    @property
    def scorer_(self):
        """The scorer used on the validation parts.

        Built from ``scoring`` on access rather than stored, so that a saved
        model holds no scorer object (which skops would not load without the
        user's trust).
        """
        check_is_fitted(self, "best_estimator_")
        return check_scoring(self.best_estimator_, self.scoring)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        # the bank trains in X's namespace under array_api_dispatch
        tags.array_api_support = True
        return tags

    # -- helpers -----------------------------------------------------------
    def _core_params(self):
        return {name: getattr(self, name) for name in _CORE_PARAMS}

    def _check_grid(self):
        """``learnrates`` (floats and "auto") and the candidate epoch counts."""
        given = self.learnrates
        if isinstance(given, str) or np.ndim(given) != 1 or len(given) == 0:
            raise ValueError(
                "learnrates must be a non-empty 1-D list of positive numbers or "
                f"'auto'; got {given!r}."
            )
        learnrates = []
        for lr in given:
            if isinstance(lr, str) and lr == "auto":
                learnrates.append("auto")
                continue
            ok = isinstance(lr, Real) and not isinstance(lr, bool)
            if not (ok and np.isfinite(lr) and lr > 0):
                raise ValueError(
                    "learnrates must hold positive, finite numbers or 'auto' (as "
                    f"SigmoidNeuronRegressor's learnrate); got {lr!r} in {given!r}."
                )
            learnrates.append(float(lr))
        if isinstance(self.epochs, Integral):
            return learnrates, np.arange(1, int(self.epochs) + 1)
        epochs = np.asarray(self.epochs)
        if epochs.ndim != 1 or epochs.size == 0:
            raise ValueError(
                "epochs must be an int or a non-empty 1-D list of epoch counts; "
                f"got shape {epochs.shape}."
            )
        if epochs.dtype.kind not in "iu" or not np.all(epochs >= 1):
            raise ValueError(
                f"epochs must hold whole numbers >= 1 (epoch counts); got "
                f"{self.epochs!r}. Pass integers, for example [100, 300, 1000]."
            )
        return learnrates, epochs.astype(np.int64)

    def _scorer(self, core, weighted):
        """The scorer (None: R2, computed for the whole bank) and whether it
        gets the validation weights (as in GridSearchCV, when it accepts them)."""
        scorer = None if self.scoring is None else check_scoring(core, self.scoring)
        if not weighted:
            return scorer, False
        if scorer is None or _accepts_sample_weight(scorer):
            return scorer, True
        warnings.warn(
            f"The scoring {scorer} does not support sample_weight, so the "
            "validation scores ignore the weights while the fits use them. Use a "
            "scorer whose metric accepts sample_weight for weighted scores.",
            UserWarning,
            stacklevel=3,
        )
        return scorer, False

    def _cross_validate(
        self,
        core,
        source,
        splits,
        learnrates,
        epoch_counts,
        scorer,
        weigh_scores,
        split_tasks,
    ):
        """Scores and failures, each of shape (n_candidates, n_splits)."""
        checkpoints = np.unique(epoch_counts)
        search = dict(
            learnrates=learnrates,
            checkpoints=checkpoints,
            scorer=scorer,
            weigh_scores=weigh_scores,
            feature_names=getattr(self, "feature_names_in_", None),
            error_score=self.error_score,
        )
        # a source on dask stays in this process, with its client
        n_jobs = self.n_jobs if source.local else 1
        # every fold on the engine this process would choose for the search
        work = source.n_samples * source.n_features * source.n_outputs
        work *= len(learnrates) * int(checkpoints[-1]) * len(splits)
        engine = _kernels.chosen_engine(work)
        folds = Parallel(n_jobs=n_jobs)(
            delayed(fold_scores)(
                clone(core),
                source,
                train,
                test,
                k,
                task=split_tasks[k],
                engine=engine,
                **search,
            )
            for k, (train, test) in enumerate(splits)
        )
        # a fold's (checkpoint, learnrate) table, flattened row by row, is in
        # candidate order once its rows are those of epoch_counts
        rows = np.searchsorted(checkpoints, epoch_counts)
        scores = np.column_stack([s[rows].ravel() for s, _ in folds])
        failed = np.column_stack([f[rows].ravel() for _, f in folds])
        return scores, failed

    def _check_failures(self, failed, learnrates):
        """Warn or raise as GridSearchCV does about fits that failed."""
        n_failed, n_fits = int(failed.sum()), failed.size
        if not n_failed:
            return
        lr_index = np.flatnonzero(failed.any(axis=1)) % len(learnrates)
        bad = [learnrates[j] for j in np.unique(lr_index)]
        detail = (
            f"The fits diverged (non-finite weights or an exploding loss) with "
            f"learnrate in {bad}: too large "
            "for this data. Use smaller learnrates, or scale X (for example with "
            "sklearn.preprocessing.StandardScaler)."
        )
        if n_failed == n_fits:
            raise ValueError(f"All the {n_fits} fits failed. {detail}")
        warnings.warn(
            f"{n_failed} fits failed out of a total of {n_fits}; their score is "
            f"set to error_score={self.error_score}. {detail}",
            FitFailedWarning,
            stacklevel=3,
        )


def _accepts_sample_weight(scorer):
    """Whether GridSearchCV would pass sample_weight to this scorer."""
    accepts = getattr(scorer, "_accept_sample_weight", None)
    if accepts is not None:
        return accepts()
    func = getattr(scorer, "_score_func", scorer)
    return "sample_weight" in signature(func).parameters


def _cv_results(params, scores):
    """``cv_results_`` laid out as GridSearchCV's, from scores (candidates, splits)."""
    n_candidates = len(params)
    results = {}
    for name in params[0]:
        values = [p[name] for p in params]
        # as GridSearchCV: one dtype when the values share one, else objects
        kinds = {type(v) for v in values}
        array = np.array(values) if len(kinds) == 1 else np.empty(n_candidates, object)
        if len(kinds) > 1:
            array[:] = values
        results[f"param_{name}"] = np.ma.MaskedArray(
            array, mask=np.zeros(n_candidates, dtype=bool)
        )
    results["params"] = params
    for k in range(scores.shape[1]):
        results[f"split{k}_test_score"] = scores[:, k]
    means = scores.mean(axis=1)
    results["mean_test_score"] = means
    results["std_test_score"] = np.sqrt(np.mean((scores - means[:, None]) ** 2, axis=1))
    if not np.all(np.isfinite(means)):
        warnings.warn(
            f"One or more of the test scores are non-finite: {means}",
            UserWarning,
            stacklevel=3,
        )
    # ranks as GridSearchCV: NaN means tie with the worst, ties share the best rank
    if np.isnan(means).all():
        ranks = np.ones(n_candidates, dtype=np.int32)
    else:
        filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
        ranks = rankdata(-filled, method="min").astype(np.int32)
    results["rank_test_score"] = ranks
    return results
