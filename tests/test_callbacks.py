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
from sklearn.model_selection import GridSearchCV

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _callbacks, _gd

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
def test_without_sklearn_callback_there_is_nothing_to_report(monkeypatch):
    # load _callbacks as on scikit-learn < 1.9, where sklearn.callback is missing
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    spec = importlib.util.spec_from_file_location("old_callbacks", _callbacks.__file__)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
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


@requires_callbacks
def test_no_callbacks_runs_all_epochs_in_one_kernel_call(data, monkeypatch):
    calls = []
    run = _gd.EpochKernel.run

    def counting_run(self, n_epochs):
        calls.append(n_epochs)
        return run(self, n_epochs)

    monkeypatch.setattr(_gd.EpochKernel, "run", counting_run)
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


# -- scikit-learn's ProgressBar (rich) ------------------------------------------------
@requires_callbacks
def test_progress_bar_advances_once_per_epoch(data, monkeypatch, capsys):
    progress = []
    on_task_end = RichProgressMonitor._on_task_end

    def recording_on_task_end(self, task_info):
        on_task_end(self, dict(task_info))
        progress.append(self.root_rich_task.progress)

    monkeypatch.setattr(RichProgressMonitor, "_on_task_end", recording_on_task_end)
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
