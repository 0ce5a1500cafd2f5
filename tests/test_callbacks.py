"""Progress through scikit-learn's callbacks: each epoch of a fit is a task."""

import importlib.util
import re
import sys
import warnings

import numpy as np
import pytest
from joblib import parallel_backend
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import GridSearchCV, KFold

from sk_sigmoid_neuron import (
    SigmoidNeuronRegressor,
    SigmoidNeuronRegressorCV,
    _callbacks,
    _kernels,
)

try:
    from sklearn.callback import ProgressBar
    from sklearn.callback._progressbar import RichProgressMonitor
except ImportError:  # scikit-learn < 1.9
    ProgressBar = None

requires_callbacks = pytest.mark.skipif(
    ProgressBar is None, reason="sklearn.callback is new in scikit-learn 1.9"
)


class Recorder:
    """A FitCallback that records every hook call, in order."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after  # ask to stop at the end of this epoch

    def setup(self, estimator, context):
        self.calls.append(("setup", estimator, context, {}))

    def on_fit_task_begin(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        kwargs = dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)
        self.calls.append(("begin", estimator, context, kwargs))

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        kwargs = dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)
        self.calls.append(("end", estimator, context, kwargs))
        return (
            context.task_name == "epoch"
            and self.stop_after is not None
            and context.task_id + 1 == self.stop_after
        )

    def teardown(self, estimator, context):
        self.calls.append(("teardown", estimator, context, {}))

    def hooks(self, task_name=None):
        return [
            (hook, ctx.task_name, ctx.task_id)
            for hook, _, ctx, _ in self.calls
            if task_name is None or (ctx is not None and ctx.task_name == task_name)
        ]


class PropagatedRecorder(Recorder):
    """The same, propagated from a meta-estimator to all its sub-estimators."""

    max_propagation_depth = None


def plain_descent(X, t, w, b, learnrate, epochs):
    """The documented rule with unit weights, written out in numpy."""
    for _ in range(epochs):
        y_hat = expit(X @ w + b)
        delta = (t - y_hat) * y_hat * (1 - y_hat)
        w = w + learnrate * X.T @ delta / len(X)
        b = b + learnrate * delta.mean()
    return w, b


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = 1.0 + X @ [1.0, -2.0, 0.5] + 0.2 * rng.normal(size=30)
    return X, y


# -- without scikit-learn's callbacks -------------------------------------------------
@pytest.fixture
def old_callbacks(monkeypatch):
    """_callbacks as loaded on scikit-learn < 1.9, where sklearn.callback is missing."""
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    spec = importlib.util.spec_from_file_location("old_callbacks", _callbacks.__file__)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    return old


def test_without_sklearn_callback_there_is_nothing_to_report(old_callbacks):
    old = old_callbacks
    assert old.CallbackSupportMixin is not _callbacks.CallbackSupportMixin

    class OldEstimator(old.CallbackSupportMixin, RegressorMixin, BaseEstimator):
        pass

    estimator = OldEstimator()
    assert not hasattr(estimator, "set_callbacks")
    task = old.FitTask(estimator, "fit", max_subtasks=5)
    task.begin(np.ones((2, 1)), np.ones(2), None)
    assert task.context is None
    assert task.epochs(lambda *args: {}) is None
    task.end()
    assert vars(estimator) == {}


def test_without_sklearn_callback_a_cv_fit_reports_nothing(old_callbacks):
    class OldCV(old_callbacks.CallbackSupportMixin, RegressorMixin, BaseEstimator):
        pass

    estimator, refitted = OldCV(), SigmoidNeuronRegressor()
    task = old_callbacks.CVFitTask(estimator)
    task.begin(np.ones((2, 1)), np.ones(2), None)
    assert task.begin_search(n_splits=3, n_epochs=5) == [None] * 3
    task.end_search()
    with task.refit(refitted):
        assert not hasattr(refitted, "_parent_callback_ctx")
    task.end()
    assert vars(estimator) == {}


@pytest.fixture
def kernel_runs(monkeypatch):
    """The epochs of each ``Kernel.run`` call, recorded in order."""
    runs = []
    run = _kernels.Kernel.run

    def counting_run(self, n_epochs):
        runs.append(n_epochs)
        return run(self, n_epochs)

    monkeypatch.setattr(_kernels.Kernel, "run", counting_run)
    return runs


@requires_callbacks
def test_no_callbacks_runs_all_epochs_in_one_kernel_call(
    data, monkeypatch, kernel_runs
):
    calls = kernel_runs
    contexts = []
    init = SigmoidNeuronRegressor._init_callback_context

    def counting_init(self, *args, **kwargs):
        contexts.append(self)
        return init(self, *args, **kwargs)

    monkeypatch.setattr(SigmoidNeuronRegressor, "_init_callback_context", counting_init)
    SigmoidNeuronRegressor(epochs=7, random_state=0).fit(*data)
    assert calls == [7]
    assert contexts == []  # nothing to tell, nothing set up
    SigmoidNeuronRegressor(epochs=7, random_state=0).set_callbacks(Recorder()).fit(
        *data
    )
    assert calls == [7] + [1] * 7


# -- one fit: a task whose subtasks are the epochs -----------------------------------
@requires_callbacks
def test_each_epoch_is_a_task_with_begin_and_end_hooks(data):
    X, y = data
    recorder = Recorder()
    model = SigmoidNeuronRegressor(epochs=4, random_state=0).set_callbacks(recorder)
    model.fit(X, y)
    epochs = [(hook, "epoch", i) for i in range(4) for hook in ("begin", "end")]
    assert recorder.hooks() == [
        ("setup", "fit", 0),
        ("begin", "fit", 0),
        *epochs,
        ("end", "fit", 0),
        ("teardown", "fit", 0),
    ]
    root = recorder.calls[0][2]
    assert root.parent is None and root.max_subtasks == 4
    assert root.estimator_name == "SigmoidNeuronRegressor"
    children = [ctx for ctx in root if ctx is not root]
    assert [ctx.task_id for ctx in children] == [0, 1, 2, 3]
    assert all(ctx.parent is root and ctx.max_subtasks == 0 for ctx in children)
    assert all(est is model for _, est, _, _ in recorder.calls)
    assert not hasattr(model, "_callback_fit_ctx")  # torn down


@requires_callbacks
def test_hooks_get_the_data_and_the_weights_of_each_epoch(data):
    X, y = data
    sample_weight = np.ones(len(X))
    recorder = Recorder()
    params = dict(learnrate=0.5, random_state=0)
    model = SigmoidNeuronRegressor(epochs=3, **params).set_callbacks(recorder)
    model.fit(X, y, sample_weight=sample_weight)

    epoch_calls = [c for c in recorder.calls if c[2].task_name == "epoch"]
    for _, _, _, kwargs in recorder.calls[1:-1]:
        assert_array_equal(kwargs["X"], X)
        assert_array_equal(kwargs["y"], y)  # in the user's units
        assert_array_equal(kwargs["metadata"]["sample_weight"], sample_weight)

    # independent reference: the rule in numpy from the documented start
    w0 = np.random.RandomState(0).normal(0.0, 1 / np.sqrt(3), size=3)
    t = (y - y.min()) / (y.max() - y.min())
    for hook, _, ctx, kwargs in epoch_calls:
        done = ctx.task_id + (hook == "end")  # epochs behind these weights
        fitted = kwargs["fitted_estimator"]
        assert fitted is not model
        w, b = plain_descent(X, t, w0, 0.0, 0.5, done)
        assert_allclose(fitted.coef_, w, rtol=1e-12)
        assert_allclose(fitted.intercept_, b, rtol=1e-12, atol=1e-15)
        assert fitted.n_iter_ == len(fitted.loss_curve_) == done
        if done:  # as if fit had stopped here
            reference = SigmoidNeuronRegressor(epochs=done, **params).fit(X, y)
            assert_array_equal(fitted.predict(X), reference.predict(X))
            assert fitted.loss_curve_ == reference.loss_curve_
    # the fit's own end: the fitted model itself
    fitted = recorder.calls[-2][3]["fitted_estimator"]
    assert_array_equal(fitted.coef_, model.coef_)


@requires_callbacks
def test_a_model_between_epochs_keeps_nothing_from_an_earlier_fit(data):
    X, y = data
    params = dict(
        learnrate="auto", epochs=300, compute_inference=True, store_path=True
    )  # inference needs the minimum, which 300 steps of 1 / L reach
    model = SigmoidNeuronRegressor(**params).fit(X, y)
    assert model.coef_cov_ is not None and model.coef_path_ is not None
    recorder = Recorder()
    model.set_callbacks(recorder).fit(X[:20], y[:20])
    between = [kw["fitted_estimator"] for _, _, ctx, kw in recorder.calls[2:-2]]
    assert len(between) == 600  # begin and end of each epoch
    for fitted in between:
        for name in ("coef_cov_", "coef_se_", "coef_path_", "validation_loss_curve_"):
            assert getattr(fitted, name) is None
        with pytest.raises(ValueError, match="compute_inference=True"):
            fitted.predict(X, return_std=True)
    # the fit's own end: the model with everything the fit computed
    fitted = recorder.calls[-2][3]["fitted_estimator"]
    assert fitted.coef_cov_ is model.coef_cov_ is not None
    assert fitted.coef_path_.shape == (300, 3)


@requires_callbacks
@pytest.mark.parametrize(
    "params, kind",
    [
        ({}, "dense"),
        ({"store_path": True, "alpha": 0.1}, "dense"),
        ({"learnrate": "auto", "loss": "log_loss"}, "float32"),
        ({}, "sparse"),
        ({"fit_intercept": False}, "2d-y"),
    ],
)
def test_callbacks_do_not_change_the_fit(data, params, kind):
    X, y = data
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "sparse":
        X = sparse.csr_matrix(X * (np.abs(X) > 0.5))
    elif kind == "2d-y":
        y = np.column_stack([y, -y])
    base = SigmoidNeuronRegressor(epochs=25, random_state=0, **params)
    plain = clone(base).fit(X, y)
    watched = clone(base).set_callbacks(Recorder()).fit(X, y)
    assert_array_equal(watched.coef_, plain.coef_)
    assert_array_equal(watched.intercept_, plain.intercept_)
    assert watched.loss_curve_ == plain.loss_curve_
    assert watched.n_iter_ == plain.n_iter_ == 25
    assert_array_equal(watched.predict(X), plain.predict(X))


@requires_callbacks
def test_a_callback_can_stop_the_fit(data):
    X, y = data
    recorder = Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tol is not reached, and no warning says so
        model = SigmoidNeuronRegressor(
            epochs=50, tol=0.0, n_iter_no_change=40, random_state=0
        )
        model.set_callbacks(recorder).fit(X, y)
    assert model.n_iter_ == 3
    reference = SigmoidNeuronRegressor(epochs=3, random_state=0).fit(X, y)
    assert_array_equal(model.coef_, reference.coef_)
    assert model.loss_curve_ == reference.loss_curve_
    assert [h for h in recorder.hooks("epoch") if h[0] == "end"] == [
        ("end", "epoch", i) for i in range(3)
    ]
    assert recorder.hooks()[-2:] == [("end", "fit", 0), ("teardown", "fit", 0)]


@requires_callbacks
def test_stopped_fit_with_warm_start_counts_all_epochs(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=5, warm_start=True, random_state=0)
    model.fit(X, y)
    model.set_callbacks(Recorder(stop_after=2)).fit(X, y)
    assert model.n_iter_ == 7
    reference = SigmoidNeuronRegressor(epochs=7, random_state=0).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=1e-12)


@requires_callbacks
def test_partial_fit_is_one_task_without_subtasks(data):
    X, y = data
    recorder = Recorder()
    model = SigmoidNeuronRegressor(random_state=0).set_callbacks(recorder)
    model.partial_fit(X, y).partial_fit(X, y)
    assert recorder.hooks() == 2 * [
        ("setup", "partial_fit", 0),
        ("begin", "partial_fit", 0),
        ("end", "partial_fit", 0),
        ("teardown", "partial_fit", 0),
    ]
    assert recorder.calls[2][2].max_subtasks == 0
    assert recorder.calls[2][3]["fitted_estimator"].n_iter_ == 1


@requires_callbacks
def test_failed_fit_tears_callbacks_down_and_keeps_the_model(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    before = model.coef_.copy()

    class Failing(Recorder):
        def on_fit_task_end(self, estimator, context):
            if context.task_name == "epoch" and context.task_id == 2:
                raise RuntimeError("callback failed")

    recorder = Failing()
    with pytest.raises(RuntimeError, match="callback failed"):
        model.set_callbacks(recorder).fit(X, y)
    assert_array_equal(model.coef_, before)
    assert model.n_iter_ == 5
    assert [h for h, *_ in recorder.hooks()].count("teardown") == 1

    recorder = Recorder()
    with pytest.raises(ValueError, match="target_scaling"):
        model.set_params(target_scaling=None).set_callbacks(recorder).fit(X, y)
    assert_array_equal(model.coef_, before)
    assert recorder.hooks()[-1] == ("teardown", "fit", 0)
    assert not hasattr(model, "_callback_fit_ctx")


# -- in a meta-estimator -------------------------------------------------------------
@requires_callbacks
def test_callback_on_grid_search_reaches_every_epoch_of_every_fit(data):
    X, y = data
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        SigmoidNeuronRegressor(random_state=0), {"epochs": [3, 5]}, cv=2
    )
    search.set_callbacks(recorder).fit(X, y)

    fits = [
        ctx
        for hook, _, ctx, _ in recorder.calls
        if hook == "begin" and ctx.estimator_name == "SigmoidNeuronRegressor"
        if ctx.task_name == "fit"
    ]
    assert len(fits) == 2 * 2 + 1  # candidates x folds, then the refit
    assert [ctx.max_subtasks for ctx in fits] == [
        3,
        3,
        5,
        5,
        search.best_params_["epochs"],
    ]
    assert {ctx.source_estimator_name for ctx in fits} == {"GridSearchCV"}
    for ctx in fits:
        epochs = [child for child in ctx if child is not ctx]
        assert [c.task_id for c in epochs] == list(range(ctx.max_subtasks))
        assert all(c.task_name == "epoch" for c in epochs)
    n_epochs = 2 * (3 + 5) + search.best_params_["epochs"]
    assert recorder.hooks("epoch").count(("begin", "epoch", 0)) == 5
    assert len([h for h in recorder.hooks("epoch") if h[0] == "begin"]) == n_epochs
    assert len([h for h in recorder.hooks("epoch") if h[0] == "end"]) == n_epochs
    assert [h for h, *_ in recorder.hooks()].count("setup") == 1  # on the search
    assert_array_equal(
        search.best_estimator_.coef_,
        SigmoidNeuronRegressor(random_state=0, **search.best_params_).fit(X, y).coef_,
    )


@pytest.fixture
def bar_progress(monkeypatch):
    """The progress of the ProgressBar's root task after each task's end."""
    progress = []
    on_task_end = RichProgressMonitor._on_task_end

    def recording_on_task_end(self, task_info):
        on_task_end(self, dict(task_info))
        progress.append(self.root_rich_task.progress)

    monkeypatch.setattr(RichProgressMonitor, "_on_task_end", recording_on_task_end)
    return progress


# -- scikit-learn's ProgressBar (rich) ------------------------------------------------
@requires_callbacks
def test_progress_bar_advances_once_per_epoch(data, bar_progress, capsys):
    progress = bar_progress
    model = SigmoidNeuronRegressor(epochs=8, random_state=0)
    model.set_callbacks(ProgressBar()).fit(*data)
    assert_allclose(progress, [k / 8 for k in range(1, 9)] + [1.0])
    out = capsys.readouterr().out
    assert "SigmoidNeuronRegressor - fit" in out
    assert "100%" in out


@requires_callbacks
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_bar_on_grid_search_shows_every_fit(data, n_jobs, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")  # rich would shorten the task names
    search = GridSearchCV(
        SigmoidNeuronRegressor(epochs=20, random_state=0),
        {"learnrate": [0.5, 2.0]},
        cv=2,
        n_jobs=n_jobs,
    )
    # threads keep the test fast; processes work too (the events travel back)
    with parallel_backend("threading"):
        search.set_callbacks(ProgressBar()).fit(*data)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    for i in range(4):
        assert f"candidate-split-evaluation | SigmoidNeuronRegressor - fit #{i}" in out
    assert "GridSearchCV - refit-with-best-params | SigmoidNeuronRegressor - fit" in out
    assert re.search("100%", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)  # every bar completed


# -- SigmoidNeuronRegressorCV: a search over the splits, then a refit ----------------
CV_PARAMS = dict(learnrates=[0.5, 2.0], epochs=[2, 4], random_state=0)


def epoch_hooks(n_epochs):
    return [(hook, "epoch", i) for i in range(n_epochs) for hook in ("begin", "end")]


def split_id(ctx):
    """The split of a fold's task (the split or one of its epochs), else None."""
    for task in (ctx, ctx.parent):
        if task is not None and task.task_name == "split":
            return task.task_id
    return None


@requires_callbacks
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cv_fit_is_a_search_over_splits_of_epochs_then_a_refit(data, n_jobs):
    X, y = data
    sample_weight = np.arange(1.0, 31.0)
    splits = list(KFold(2).split(X))
    recorder = PropagatedRecorder()
    model = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=splits, n_jobs=n_jobs)
    with parallel_backend("threading"):  # the recorder sees the workers' hooks
        model.set_callbacks(recorder).fit(X, y, sample_weight=sample_weight)

    def fold(k):
        return [("begin", "split", k), *epoch_hooks(4), ("end", "split", k)]

    outside_folds = [
        ("setup", "fit", 0),
        ("begin", "fit", 0),
        ("begin", "search", 0),
        ("end", "search", 0),
        ("begin", "fit", 1),  # the refit's own fit, as refit-with-best-params
        *epoch_hooks(model.epochs_),
        ("end", "fit", 1),
        ("end", "fit", 0),
        ("teardown", "fit", 0),
    ]
    hooks = recorder.hooks()
    if n_jobs == 1:
        assert hooks == outside_folds[:3] + fold(0) + fold(1) + outside_folds[3:]

    def hooks_of_split(k):
        return [
            (hook, ctx.task_name, ctx.task_id)
            for hook, _, ctx, _ in recorder.calls
            if split_id(ctx) == k
        ]

    for k in (0, 1):  # in parallel, the folds interleave, each in order
        assert hooks_of_split(k) == fold(k)
    assert hooks_of_split(None) == outside_folds

    root = recorder.calls[0][2]
    assert root.estimator_name == "SigmoidNeuronRegressorCV"
    assert root.max_subtasks == 2
    search, refit = [ctx for ctx in root if ctx.parent is root]
    assert (search.task_name, search.max_subtasks) == ("search", 2)
    assert not search.sequential_subtasks
    assert [
        (c.task_name, c.task_id, c.max_subtasks) for c in root if c.parent is search
    ] == [("split", 0, 4), ("split", 1, 4)]
    assert (refit.estimator_name, refit.source_task_name, refit.max_subtasks) == (
        "SigmoidNeuronRegressor",
        "refit-with-best-params",
        model.epochs_,
    )

    for hook, estimator, ctx, kwargs in recorder.calls:
        if hook in ("setup", "teardown"):
            continue
        if ctx.estimator_name == "SigmoidNeuronRegressor":
            assert estimator is model.best_estimator_
            continue
        assert estimator is model
        if ctx.task_name == "search":
            assert kwargs["X"] is None  # as GridSearchCV's search task
            continue
        k = split_id(ctx)
        rows = slice(None) if k is None else splits[k][0]  # a fold: its training part
        assert_array_equal(kwargs["X"], X[rows])
        assert_array_equal(kwargs["y"], y[rows])
        assert_array_equal(kwargs["metadata"]["sample_weight"], sample_weight[rows])
        if k is not None:  # a bank of neurons is no model of the CV estimator
            assert kwargs["fitted_estimator"] is None
    fitted = recorder.calls[-2][3]["fitted_estimator"]  # the end of the fit
    assert fitted.best_params_ == model.best_params_
    assert not hasattr(model, "_callback_fit_ctx")  # torn down


@requires_callbacks
def test_cv_reports_epochs_one_by_one_only_when_a_callback_listens(data, kernel_runs):
    runs = kernel_runs
    model = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=2)

    def fit_runs(*callbacks, model=model):
        runs.clear()
        clone(model).set_callbacks(*callbacks).fit(*data)
        return list(runs)

    best = clone(model).fit(*data).epochs_
    # each fold's bank from checkpoint to checkpoint (epochs 2 and 4), the refit
    assert fit_runs() == [2, 2] * 2 + [best]
    # a callback on the CV estimator: one run per epoch of each fold; the refit
    # hears only the callbacks that propagate
    assert fit_runs(Recorder()) == [1] * 4 * 2 + [best]
    assert fit_runs(PropagatedRecorder()) == [1] * 4 * 2 + [1] * best
    # in a meta-estimator whose callbacks do not reach it, the fast path
    outer = GridSearchCV(model, {"alpha": [0.0]}, cv=2)
    assert 1 not in fit_runs(Recorder(), model=outer)


@requires_callbacks
@pytest.mark.parametrize("kind", ["dense", "weighted-mae", "2d-y", "float32", "sparse"])
def test_cv_callbacks_do_not_change_the_search(data, kind):
    X, y = data
    sample_weight = None
    params = dict(CV_PARAMS, cv=3)
    if kind == "weighted-mae":
        sample_weight = np.arange(30) % 3.0
        params["scoring"] = "neg_mean_absolute_error"
    elif kind == "2d-y":
        y = np.column_stack([y, -y])
    elif kind == "float32":
        X = X.astype(np.float32)
    elif kind == "sparse":
        X = sparse.csr_matrix(X * (np.abs(X) > 0.5))
    plain = SigmoidNeuronRegressorCV(**params).fit(X, y, sample_weight=sample_weight)
    watched = SigmoidNeuronRegressorCV(**params).set_callbacks(PropagatedRecorder())
    watched.fit(X, y, sample_weight=sample_weight)
    assert watched.cv_results_.keys() == plain.cv_results_.keys()
    for key, value in plain.cv_results_.items():
        assert_array_equal(watched.cv_results_[key], value)
    assert watched.best_params_ == plain.best_params_
    assert watched.best_score_ == plain.best_score_
    assert_array_equal(watched.coef_, plain.coef_)
    assert_array_equal(watched.intercept_, plain.intercept_)
    assert watched.best_estimator_.loss_curve_ == plain.best_estimator_.loss_curve_


@requires_callbacks
def test_cv_ignores_stop_requests_in_the_folds_and_the_refit_stops(data):
    X, y = data
    plain = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=2).fit(X, y)
    recorder = PropagatedRecorder(stop_after=1)
    model = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=2).set_callbacks(recorder)
    model.fit(X, y)
    # every fold runs all its epochs: each candidate is scored at its own count
    fold_ends = [
        ctx.task_id
        for hook, _, ctx, _ in recorder.calls
        if hook == "end" and ctx.task_name == "epoch" and split_id(ctx) is not None
    ]
    assert fold_ends == [0, 1, 2, 3] * 2
    for key, value in plain.cv_results_.items():
        assert_array_equal(model.cv_results_[key], value)
    assert model.best_params_ == plain.best_params_
    # the refit is a fit of the core estimator, which stops when asked (as the
    # refit of GridSearchCV would)
    assert model.best_estimator_.n_iter_ == 1
    reference = SigmoidNeuronRegressor(random_state=0, learnrate=model.learnrate_)
    assert_array_equal(model.coef_, reference.set_params(epochs=1).fit(X, y).coef_)


@requires_callbacks
@pytest.mark.parametrize(
    "where",
    [
        "fold callback",
        "refit callback",
        "bad input",
        "diverging",
        "all fail",
        "refit diverges",
    ],
)
def test_cv_failed_fit_tears_callbacks_down_and_keeps_the_model(data, where):
    X, y = data
    model = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=2).fit(X, y)
    before, results = model.coef_.copy(), model.cv_results_

    class Failing(PropagatedRecorder):
        def on_fit_task_end(self, estimator, context):
            in_refit = context.estimator_name == "SigmoidNeuronRegressor"
            if context.task_name == "epoch" and context.task_id == 1:
                if in_refit == (where == "refit callback"):
                    raise RuntimeError("callback failed")

    recorder, error, message = Recorder(), ValueError, None
    if where in ("fold callback", "refit callback"):
        recorder, error, message = Failing(), RuntimeError, "callback failed"
    elif where == "bad input":
        model.set_params(target_scaling=None)
        message = "target_scaling"
    elif where == "diverging":  # log loss makes the weights overflow
        model.set_params(learnrates=[0.5, 1e308], loss="log_loss", error_score="raise")
        message = r"learnrate=1e\+308 is too large"
    elif where == "all fail":
        model.set_params(learnrates=[1e308], epochs=[10], loss="log_loss")
        message = "All the 2 fits failed"
    else:  # the loss explodes within 2 epochs: a failed fit in every fold, by
        # the rule the refit would apply (once a refit that failed alone)
        model.set_params(learnrates=[1e308], loss="log_loss")
        message = "All the 4 fits failed"
    with warnings.catch_warnings(), pytest.raises(error, match=message):
        warnings.simplefilter("ignore")  # those of failed fits, not the point here
        model.set_callbacks(recorder).fit(X, y)
    assert_array_equal(model.coef_, before)
    assert model.cv_results_ is results
    assert [h for h, *_ in recorder.hooks()].count("teardown") == 1
    assert recorder.hooks()[-1] == ("teardown", "fit", 0)
    assert not hasattr(model, "_callback_fit_ctx")
    assert not hasattr(model.best_estimator_, "_parent_callback_ctx")
    assert not hasattr(model.best_estimator_, "_skl_callbacks")


@requires_callbacks
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_bar_on_the_cv_estimator_shows_splits_and_refit(
    data, n_jobs, monkeypatch, capsys, bar_progress
):
    monkeypatch.setenv("COLUMNS", "200")  # rich would shorten the task names
    progress = bar_progress
    model = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=3, n_jobs=n_jobs)
    model.set_callbacks(ProgressBar()).fit(*data)  # n_jobs=2: loky's processes
    out = capsys.readouterr().out
    names = [
        "SigmoidNeuronRegressorCV - fit",
        "SigmoidNeuronRegressorCV - search #0",
        *(f"SigmoidNeuronRegressorCV - split #{k}" for k in range(3)),
        "SigmoidNeuronRegressorCV - refit-with-best-params | "
        "SigmoidNeuronRegressor - fit #1",
    ]
    for name in names:
        assert name in out
    assert "100%" in out
    assert not re.search(r"\b[0-9]{1,2}%", out)  # every bar completed
    assert progress == sorted(progress) and progress[-1] == 1.0
    # ends of: 3 x (4 epochs, the split), the search, the refit's epochs and
    # its fit (which stands for refit-with-best-params), the fit
    assert len(progress) == 3 * 5 + 1 + model.epochs_ + 1 + 1
    plain = SigmoidNeuronRegressorCV(**CV_PARAMS, cv=3).fit(*data)
    for key, value in plain.cv_results_.items():
        assert_array_equal(model.cv_results_[key], value)
    assert_array_equal(model.coef_, plain.coef_)


@requires_callbacks
def test_progress_bar_on_an_outer_grid_search_reaches_the_cv_estimator(
    data, monkeypatch, capsys
):
    monkeypatch.setenv("COLUMNS", "200")
    search = GridSearchCV(
        SigmoidNeuronRegressorCV(**CV_PARAMS, cv=2), {"alpha": [0.0, 0.01]}, cv=2
    )
    search.set_callbacks(ProgressBar()).fit(*data)
    out = capsys.readouterr().out
    evaluation = "GridSearchCV - candidate-split-evaluation | SigmoidNeuronRegressorCV"
    for i in range(4):
        assert f"{evaluation} - fit #{i}" in out
    assert "GridSearchCV - refit-with-best-params | SigmoidNeuronRegressorCV" in out
    # every fit of the CV estimator (4 evaluations, the refit) shows its splits
    assert out.count("SigmoidNeuronRegressorCV - split #1") == 5
    assert not re.search(r"\b[0-9]{1,2}%", out)

    # a callback that propagates without limit reaches every epoch
    recorder = PropagatedRecorder()
    clone(search).set_callbacks(recorder).fit(*data)
    begins = [ctx for hook, _, ctx, _ in recorder.calls if hook == "begin"]
    cv_fits = [c for c in begins if c.source_estimator_name == "GridSearchCV"]
    assert [c.estimator_name for c in cv_fits] == ["SigmoidNeuronRegressorCV"] * 5
    assert sum(c.task_name == "split" for c in begins) == 5 * 2
    fold_epochs = [
        c for c in begins if c.task_name == "epoch" and split_id(c) is not None
    ]
    assert len(fold_epochs) == 5 * 2 * 4
    refits = [
        c.estimator_name
        for c in begins
        if c.source_task_name == "refit-with-best-params"
    ]
    assert sorted(refits) == ["SigmoidNeuronRegressor"] * 5 + [
        "SigmoidNeuronRegressorCV"
    ]
    assert [h for h, *_ in recorder.hooks()].count("setup") == 1  # on the search


@requires_callbacks
def test_lbfgs_reports_only_the_iterations_that_ran(data):
    # an iteration is an epoch task once it has run: from the optimum, L-BFGS
    # takes no iteration and the callbacks hear of no epoch
    X, y = data
    model = SigmoidNeuronRegressor(solver="lbfgs", tol=1e-8, random_state=0)
    model.fit(X, y)
    n_iter = model.n_iter_
    recorder = Recorder()
    model.set_params(warm_start=True).set_callbacks(recorder)
    model.fit(X, y)
    assert model.n_iter_ == n_iter  # no iteration
    assert recorder.hooks("epoch") == []
    recorder = Recorder()
    fresh = SigmoidNeuronRegressor(solver="lbfgs", epochs=5, random_state=0)
    fresh.set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cap of 5 iterations
        fresh.fit(X, y)
    epochs = recorder.hooks("epoch")
    assert len(epochs) == 2 * fresh.n_iter_
    assert [hook for hook, *_ in epochs] == ["begin", "end"] * fresh.n_iter_
