"""Parity of dask and in-memory data (issue 14): the same model or the same error.

Every fit option, on the same data given as dask arrays (uneven row chunks,
and dask mixed with in-memory y or weights), gives the model that the data
gives in memory; every bad input gives the same error type and the same
opening of its message (dask may add where the bad value is); callbacks see
the same task tree on dask and can stop a dask fit. The references are the
in-memory fits, which test_sigmoid_neuron.py checks against the documented
rule. Only the public API is used (besides the choice of the numpy kernel
for the in-memory references, as in test_dask.py), on both schedulers of
test_dask.py: a LocalCluster through its client, and dask's threaded
scheduler.
"""

import re
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels

try:
    import sklearn.callback  # noqa: F401
except ImportError:  # scikit-learn < 1.9: no callbacks to compare
    HAVE_CALLBACKS = False
else:
    HAVE_CALLBACKS = True

requires_callbacks = pytest.mark.skipif(
    not HAVE_CALLBACKS, reason="sklearn.callback is new in scikit-learn 1.9"
)

# The dask path adds the chunks' partial sums, the in-memory kernel the
# records' terms: the same numbers summed in another order. That moves float64
# results by a few ulps per epoch (~1e-16 relative, growing slowly over tens of
# epochs), far below 1e-10, while anything else (a record missed or counted
# twice, another weight, step, start or split) moves them by 1e-4 or more.
# atol for values that cross 0 (an intercept, a small weight, a standard error).
TOL = {"rtol": 1e-10, "atol": 1e-12}
# enough epochs for tol and early stopping to stop; on the cluster each epoch
# is a round trip, so not more
EPOCHS = 20


@pytest.fixture(autouse=True)
def numpy_backend(monkeypatch):
    # as in test_dask.py: the in-memory references on the numpy kernel, so that
    # no numba compilation (seconds per signature) runs here; the compiled and
    # numpy kernels agree to summation order
    monkeypatch.setattr(_kernels, "BACKEND", "numpy")


# -- data, as in test_dask.py ------------------------------------------------------
ROWS = (90, 130, 60, 120)  # row 300 lies in chunk 3, rows 0-89 in chunk 0


def make_data(n=400, d=4, n_outputs=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * np.linspace(0.5, 2, d)).astype(dtype)
    w = rng.standard_normal((d, n_outputs or 1))
    y = 3 * np.tanh(X @ w) + 0.3 * rng.standard_normal((n, n_outputs or 1)) + 5
    return X, (y[:, 0] if n_outputs is None else y)


def chunked(a, rows=ROWS):
    """``a`` as a dask array with uneven row chunks (columns in two chunks)."""
    if a is None:
        return None
    a = np.asarray(a)
    chunks = (rows,) + tuple(
        (s // 2, s - s // 2) if s > 1 else (s,) for s in a.shape[1:]
    )
    return da.from_array(a, chunks=chunks)


def weights(kind, n=400):
    rng = np.random.default_rng(1)
    if kind == "zeros":
        s = rng.integers(0, 4, n).astype(float)
        s[:90] = 0  # a whole chunk without weight
        return s
    if kind == "positive":
        return rng.uniform(0.5, 2.0, n)
    return None


def computed(a):
    return a.compute() if isinstance(a, da.Array) else np.asarray(a)


# -- comparisons -------------------------------------------------------------------
def assert_same_model(got, want):
    """The fitted attributes of ``got`` (dask) equal those of ``want`` (memory)."""
    assert got.n_iter_ == want.n_iter_
    assert got.n_features_in_ == want.n_features_in_
    assert got.n_outputs_ == want.n_outputs_
    assert got.coef_.shape == want.coef_.shape
    assert got.coef_.dtype == want.coef_.dtype
    assert_allclose(got.coef_, want.coef_, **TOL)
    assert_allclose(got.intercept_, want.intercept_, **TOL)
    assert_allclose(got.loss_curve_, want.loss_curve_, **TOL)
    # the min and max of y: no sum, so no summation order
    assert_array_equal(got.target_range_, want.target_range_)
    assert_allclose(got.learnrate_, want.learnrate_, rtol=TOL["rtol"])
    for name in (
        "validation_loss_curve_",
        "coef_path_",
        "intercept_path_",
        "coef_se_",
        "intercept_se_",
        "coef_cov_",
    ):
        if getattr(want, name) is None:
            assert getattr(got, name) is None, name
        else:
            assert_allclose(getattr(got, name), getattr(want, name), **TOL)


def assert_same_predictions(got, want, X, y):
    """Predictions of the dask-fitted ``got`` on dask and in-memory X equal
    those of ``want`` on X."""
    Xd = chunked(X)
    expected = want.predict(X)
    assert_allclose(got.predict(X), expected, **TOL)
    pred = got.predict(Xd)
    assert pred.shape == expected.shape
    assert_allclose(computed(pred), expected, **TOL)
    assert got.score(Xd, chunked(y)) == pytest.approx(want.score(X, y), rel=1e-10)
    if want.coef_cov_ is not None:
        want_mean, want_std = want.predict(X, return_std=True)
        got_mean, got_std = got.predict(Xd, return_std=True)
        assert_allclose(computed(got_mean), want_mean, **TOL)
        assert_allclose(computed(got_std), want_std, **TOL)
    if want.coef_path_ is not None:
        staged = list(want.staged_predict(X))
        got_staged = [computed(p) for p in got.staged_predict(Xd)]
        assert len(got_staged) == len(staged) == len(want.coef_path_)
        for g, w in zip(got_staged, staged, strict=True):
            assert_allclose(g, w, **TOL)


def message_opening(message):
    """What a dask error must start with: the in-memory message up to its first
    sentence end ('. ', '.' at the end), ';', '(' or line break, and at most
    40 characters (dask may go on with the row and chunk of the bad value)."""
    return re.split(r"[;(\n]|\.(?:\s|$)", message, maxsplit=1)[0][:40]


def assert_same_error(in_memory_call, dask_call):
    """Both calls raise, the same exception type, and the dask message starts
    with the opening of the in-memory one. Returns the in-memory exception."""
    with pytest.raises(Exception) as want:
        in_memory_call()
    with pytest.raises(Exception) as got:
        dask_call()
    want, got = want.value, got.value
    assert type(got) is type(want), (
        f"dask raised {type(got).__name__}: {got}\n"
        f"in memory {type(want).__name__}: {want}"
    )
    opening = message_opening(str(want))
    assert str(got).startswith(opening), (
        f"dask message {str(got)!r}\ndoes not start with {opening!r}, the "
        f"opening of the in-memory one {str(want)!r}"
    )
    return want


def fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


# -- fit: every option -------------------------------------------------------------
# tol is relative: improvements below 0.1% of the loss, reached within 300 epochs
EARLY = {
    "early_stopping": True,
    "tol": 1e-3,
    "n_iter_no_change": 3,
    "learnrate": 2.0,
    "epochs": 300,
}
INFERENCE = {"compute_inference": True, "learnrate": "auto"}

# name: (estimator parameters, data: n_outputs, weights, coef_init, twice, unit y)
FIT_OPTIONS = {
    "default": ({}, {}),
    "log_loss": ({"loss": "log_loss"}, {}),
    "learnrate=auto": ({"learnrate": "auto"}, {}),
    "learnrate=auto, tiny alpha": ({"learnrate": "auto", "alpha": 1e-12}, {}),
    "alpha": ({"alpha": 0.1}, {}),
    "fit_intercept=False": ({"fit_intercept": False}, {}),
    "tol": ({"tol": 1e-3, "n_iter_no_change": 3, "learnrate": 3.0, "epochs": 300}, {}),
    "early_stopping": (EARLY, {}),
    "early_stopping, weights with zeros": (EARLY, {"weights": "zeros"}),
    "warm_start": ({"warm_start": True}, {"twice": True}),
    "warm_start, early_stopping": ({"warm_start": True, **EARLY}, {"twice": True}),
    "coef_init, intercept_init": ({}, {"init": True}),
    "compute_inference": (INFERENCE, {}),
    "compute_inference, weights with zeros": (INFERENCE, {"weights": "zeros"}),
    "compute_inference, multi-output, log_loss": (
        {**INFERENCE, "loss": "log_loss"},
        {"n_outputs": 2},
    ),
    "store_path": ({"store_path": True}, {}),
    "store_path, warm_start": ({"store_path": True, "warm_start": True}, {"twice": 1}),
    "multi-output": ({}, {"n_outputs": 3}),
    "weights with zeros": ({}, {"weights": "zeros"}),
    "weights all positive": ({}, {"weights": "positive"}),
    "target_scaling=None": ({"target_scaling": None}, {"unit": True}),
    "target_scaling=(low, high)": ({"target_scaling": (0.0, 12.0)}, {}),
    "target_scaling=(low, high), multi-output, weights": (
        {"target_scaling": (0.0, 12.0)},
        {"n_outputs": 2, "weights": "zeros"},
    ),
}


def option_data(data):
    X, y = make_data(n_outputs=data.get("n_outputs"))
    if data.get("unit"):
        y = (y - y.min()) / (y.max() - y.min())
    sw = weights(data.get("weights"))
    init = {}
    if data.get("init"):
        k = data.get("n_outputs") or 1
        coef = np.linspace(-0.5, 0.5, 4 * k).reshape(k, 4)
        init = {
            "coef_init": coef[0] if y.ndim == 1 else coef,
            "intercept_init": 0.2 if y.ndim == 1 else np.full(k, 0.2),
        }
    return X, y, sw, init


@pytest.mark.parametrize("option", list(FIT_OPTIONS))
def test_fit_on_dask_gives_the_in_memory_model(option, scheduler, chunks):
    params, data = FIT_OPTIONS[option]
    X, y, sw, init = option_data(data)
    model = SigmoidNeuronRegressor(**{"epochs": EPOCHS, "random_state": 0, **params})
    want, got = clone(model), clone(model)
    for _ in range(2 if data.get("twice") else 1):
        fit_quietly(want, X, y, sample_weight=sw, **init)
        fit_quietly(got, chunked(X), chunked(y), sample_weight=chunked(sw), **init)
        assert_same_model(got, want)
    if model.tol is not None or model.early_stopping:
        assert want.n_iter_ < model.epochs  # the rule did stop the fit
    assert_same_predictions(got, want, X, y)


LAYOUTS = {
    "dask X; y, weights in memory": (True, False, False),
    "X in memory; dask y, weights": (False, True, True),
    "dask X, y; weights in memory": (True, True, False),
    "dask X, weights; y in memory": (True, False, True),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_dask_mixed_with_in_memory_inputs_gives_the_in_memory_model(layout, scheduler):
    # early stopping splits the records of positive weight: the hardest case
    X, y = make_data(n_outputs=2)
    sw = weights("zeros")
    model = SigmoidNeuronRegressor(**{"epochs": EPOCHS, "random_state": 0, **EARLY})
    want = fit_quietly(clone(model), X, y, sample_weight=sw)
    Xg, yg, swg = (
        chunked(a) if on_dask else a
        for a, on_dask in zip((X, y, sw), LAYOUTS[layout], strict=True)
    )
    got = fit_quietly(clone(model), Xg, yg, sample_weight=swg)
    assert_same_model(got, want)
    assert_same_predictions(got, want, X, y)


@pytest.mark.parametrize(
    "what", ["X of numeric strings", "X of dtype object", "y of numeric strings"]
)
def test_numeric_strings_are_accepted_on_dask_as_in_memory(what, scheduler):
    # scikit-learn's validation converts these to float64 in memory
    X, y = make_data()
    if what == "X of numeric strings":
        X = X.astype(str)
    elif what == "X of dtype object":
        X = X.astype(object)
    else:
        y = y.astype(str)
    model = SigmoidNeuronRegressor(epochs=EPOCHS, random_state=0)
    want = clone(model).fit(X, y)
    got = clone(model).fit(chunked(X), chunked(y))
    assert_same_model(got, want)
    X64 = np.asarray(X, dtype=np.float64)
    assert_allclose(computed(got.predict(chunked(X))), want.predict(X), **TOL)
    assert_allclose(computed(got.predict(chunked(X64))), want.predict(X64), **TOL)


# -- partial_fit ---------------------------------------------------------------------
PARTIAL_OPTIONS = {
    "default (minmax from the first batch)": ({}, {}),
    "target_scaling=(low, high)": ({"target_scaling": (0.0, 12.0)}, {}),
    "weights with zeros": ({"target_scaling": (0.0, 12.0)}, {"weights": "zeros"}),
    "multi-output": ({"target_scaling": (0.0, 12.0)}, {"n_outputs": 2}),
    "learnrate=auto, log_loss, alpha": (
        {"learnrate": "auto", "loss": "log_loss", "alpha": 0.01},
        {},
    ),
    "store_path, fit_intercept=False": (
        {"store_path": True, "fit_intercept": False, "target_scaling": (0.0, 12.0)},
        {},
    ),
    "after a fit": ({"target_scaling": (0.0, 12.0), "epochs": 10}, {"fit": True}),
}
BATCHES = [slice(0, 150), slice(150, 300), slice(300, 400)]


@pytest.mark.parametrize("option", list(PARTIAL_OPTIONS))
def test_partial_fit_on_dask_gives_the_in_memory_model(option, scheduler):
    params, data = PARTIAL_OPTIONS[option]
    X, y = make_data(n_outputs=data.get("n_outputs"))
    # later batches inside the range that "minmax" takes from the first one
    y[150:] = np.clip(y[150:], y[:150].min(axis=0), y[:150].max(axis=0))
    sw = weights(data.get("weights"))
    model = SigmoidNeuronRegressor(random_state=0, **params)
    want, got = clone(model), clone(model)
    if data.get("fit"):
        want.fit(X, y)
        got.fit(X, y)
    for rows in BATCHES:  # the first call, then later ones
        s = None if sw is None else sw[rows]
        want.partial_fit(X[rows], y[rows], sample_weight=s)
        got.partial_fit(
            chunked(X[rows], (60, len(X[rows]) - 60)),
            chunked(y[rows], (60, len(X[rows]) - 60)),
            sample_weight=None if s is None else chunked(s, (60, len(s) - 60)),
        )
        assert_same_model(got, want)
    assert_same_predictions(got, want, X, y)


def huge_float64_model():
    """A model whose weights (1e39) float32 cannot hold, fitted on float64."""
    X, y = make_data()
    return SigmoidNeuronRegressor(epochs=1, learnrate=1e-300).fit(
        X, y, coef_init=np.full(4, 1e39), intercept_init=1.0
    )


def test_predict_float32_with_weights_beyond_float32_as_in_memory(scheduler):
    X, _ = make_data(dtype=np.float32)
    model = huge_float64_model()
    want = model.predict(X)
    assert np.isfinite(want).all()  # in memory: the weights stay float64
    got = model.predict(chunked(X))
    assert got.dtype == want.dtype
    assert_allclose(computed(got), want, **TOL)


# -- bad inputs: the same error ------------------------------------------------------
def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


def _at(row, X):
    """A mask of X's entries in ``row``."""
    return (np.arange(len(X)) == row)[:, None] & np.ones(X.shape[1], dtype=bool)


def _unit(y):
    return (y - y.min()) / (y.max() - y.min())


# name: (estimator parameters, make(X, y, s) -> (X, y, s, fit kwargs))
FIT_ERRORS = {
    "NaN in X": ({}, lambda X, y, s: (_with(X, (300, 2), np.nan), y, s, {})),
    "inf in X": ({}, lambda X, y, s: (_with(X, (300, 2), np.inf), y, s, {})),
    "-inf in X": ({}, lambda X, y, s: (_with(X, (5, 0), -np.inf), y, s, {})),
    "NaN in y": ({}, lambda X, y, s: (X, _with(y, 300, np.nan), s, {})),
    "inf in y": ({}, lambda X, y, s: (X, _with(y, 300, np.inf), s, {})),
    "NaN in sample_weight": ({}, lambda X, y, s: (X, y, _with(s, 300, np.nan), {})),
    "inf in sample_weight": ({}, lambda X, y, s: (X, y, _with(s, 300, np.inf), {})),
    "negative sample_weight": ({}, lambda X, y, s: (X, y, _with(s, 300, -1), {})),
    "all-zero sample_weight": ({}, lambda X, y, s: (X, y, np.zeros_like(s), {})),
    "y out of [0, 1], target_scaling=None": (
        {"target_scaling": None},
        lambda X, y, s: (X, _with(_unit(y), 300, 1.5), s, {}),
    ),
    "y out of (low, high)": (
        {"target_scaling": (0.0, 6.0)},
        lambda X, y, s: (X, y, s, {}),
    ),
    "divergence": (
        {"learnrate": 1.0, "alpha": 1000, "epochs": 300},
        lambda X, y, s: (X, y, None, {}),
    ),
    "divergence, weights, store_path": (
        {"learnrate": 1.0, "alpha": 1000, "epochs": 300, "store_path": True},
        lambda X, y, s: (X, y, s, {}),
    ),
    "divergence, tol": (
        {"learnrate": 1.0, "alpha": 1000, "epochs": 300, "tol": 1e-4},
        lambda X, y, s: (X, y, None, {"coef_init": np.full(4, 1e300)}),
    ),
    # a loss that explodes is the error whatever tol and early stopping say
    "divergence, stopped by tol": (
        {"learnrate": 1.0, "alpha": 1000, "epochs": 300, "tol": 1e-4},
        lambda X, y, s: (X, y, None, {}),
    ),
    "divergence, early_stopping": (
        {"learnrate": 1.0, "alpha": 1000, "epochs": 300, "early_stopping": True},
        lambda X, y, s: (X, y, s, {}),
    ),
    "non-numeric strings in X": (
        {},
        lambda X, y, s: (np.where(_at(300, X), "a", X.astype(str)), y, s, {}),
    ),
    "coef_init with NaN": (
        {},
        lambda X, y, s: (X, y, s, {"coef_init": [0.1, np.nan, 0.2, 0.3]}),
    ),
    "coef_init of the wrong shape": (
        {},
        lambda X, y, s: (X, y, s, {"coef_init": [0.1, 0.2, 0.3]}),
    ),
    "y shorter than X": ({}, lambda X, y, s: (X, y[:-1], None, {})),
}


@pytest.mark.parametrize("case", list(FIT_ERRORS))
def test_bad_input_to_fit_is_the_same_error_on_dask(case, scheduler, chunks):
    params, make = FIT_ERRORS[case]
    X, y = make_data()
    s = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    Xb, yb, sb, kwargs = make(X, y, s)
    model = SigmoidNeuronRegressor(**{"epochs": 5, "random_state": 0, **params})

    def on_dask():
        # y one record short: its last chunk is one shorter
        rows = ROWS[:-1] + (ROWS[-1] - len(Xb) + len(yb),)
        clone(model).fit(
            chunked(Xb), chunked(yb, rows), sample_weight=chunked(sb), **kwargs
        )

    want = assert_same_error(
        lambda: clone(model).fit(Xb, yb, sample_weight=sb, **kwargs), on_dask
    )
    if case.startswith("divergence"):
        assert str(want).startswith(
            ("The weights became non-finite", "The training loss exploded")
        )


def _partial_error(case):
    """(model factory, in-memory batch, its dask form) for a partial_fit error."""
    X, y = make_data()
    first = slice(0, 200)
    later = slice(200, 400)
    fitted = lambda: SigmoidNeuronRegressor(random_state=0).partial_fit(  # noqa: E731
        X[first], y[first]
    )
    if case == "float32 X, weights beyond float32":
        return huge_float64_model, (X[later].astype(np.float32), y[later], None)
    if case == "y outside the first batch's range":
        return fitted, (X[later], _with(y[later], 100, y.max() + 100), None)
    if case == "wrong number of features":
        return fitted, (X[later, :3], y[later], None)
    if case == "NaN in X of a later batch":
        return fitted, (_with(X[later], (100, 1), np.nan), y[later], None)
    if case == "all-zero sample_weight":
        return fitted, (X[later], y[later], np.zeros(200))
    if case == "negative sample_weight":
        return fitted, (X[later], y[later], _with(np.ones(200), 100, -2.0))
    if case == "y of another number of outputs":
        return fitted, (X[later], np.column_stack([y[later], y[later]]), None)
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "float32 X, weights beyond float32",
        "y outside the first batch's range",
        "wrong number of features",
        "NaN in X of a later batch",
        "all-zero sample_weight",
        "negative sample_weight",
        "y of another number of outputs",
    ],
)
def test_bad_input_to_partial_fit_is_the_same_error_on_dask(case, scheduler):
    make_model, (Xb, yb, sb) = _partial_error(case)
    rows = (100, len(Xb) - 100)
    assert_same_error(
        lambda: make_model().partial_fit(Xb, yb, sample_weight=sb),
        lambda: make_model().partial_fit(
            chunked(Xb, rows), chunked(yb, rows), sample_weight=chunked(sb, rows)
        ),
    )


PREDICT_ERRORS = {
    "wrong number of features": lambda X: (X[:, :3], {}),
    "NaN in X": lambda X: (_with(X, (300, 1), np.nan), {}),
    "inf in X": lambda X: (_with(X, (300, 1), np.inf), {}),
    "return_std without compute_inference": lambda X: (X, {"return_std": True}),
}


@pytest.mark.parametrize("case", list(PREDICT_ERRORS))
def test_bad_input_to_predict_is_the_same_error_on_dask(case, scheduler):
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    Xb, kwargs = PREDICT_ERRORS[case](X)
    # dask's predict may be lazy: the error may come only with compute
    assert_same_error(
        lambda: model.predict(Xb, **kwargs),
        lambda: dask.compute(model.predict(chunked(Xb), **kwargs)),
    )


def test_predict_before_fit_is_the_same_error_on_dask(scheduler):
    X, _ = make_data()
    model = SigmoidNeuronRegressor()
    assert_same_error(
        lambda: model.predict(X), lambda: dask.compute(model.predict(chunked(X)))
    )


# -- callbacks -----------------------------------------------------------------------
class Recorder:
    """A FitCallback that records every hook call (as test_callbacks.py's)."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after  # ask to stop at the end of this epoch

    def setup(self, estimator, context):
        self.calls.append(("setup", context, None))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None, **kw):
        self.calls.append(("begin", context, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, **kw):
        self.calls.append(("end", context, fitted_estimator))
        return (
            context.task_name == "epoch"
            and self.stop_after is not None
            and context.task_id + 1 == self.stop_after
        )

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context, None))

    def tree(self):
        """Each hook with its task's name, id, parent and number of subtasks."""
        return [
            (
                hook,
                ctx.task_name,
                ctx.task_id,
                ctx.max_subtasks,
                None if ctx.parent is None else ctx.parent.task_name,
            )
            for hook, ctx, _ in self.calls
        ]

    def epoch_models(self):
        return [m for hook, ctx, m in self.calls if ctx.task_name == "epoch"]


def assert_same_epoch_models(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.n_iter_ == w.n_iter_
            assert_allclose(g.coef_, w.coef_, **TOL)
            assert_allclose(g.intercept_, w.intercept_, **TOL)
            assert_allclose(g.loss_curve_, w.loss_curve_, **TOL)


@requires_callbacks
@pytest.mark.parametrize("weighted", [False, True])
def test_callbacks_see_the_same_task_tree_on_dask_in_fit(weighted, scheduler, chunks):
    X, y = make_data()
    sw = weights("zeros") if weighted else None
    want_rec, got_rec = Recorder(), Recorder()
    model = SigmoidNeuronRegressor(epochs=6, random_state=0)
    want = clone(model).set_callbacks(want_rec).fit(X, y, sample_weight=sw)
    got = clone(model).set_callbacks(got_rec)
    got.fit(chunked(X), chunked(y), sample_weight=chunked(sw))
    assert want_rec.tree()[:3] == [
        ("setup", "fit", 0, 6, None),
        ("begin", "fit", 0, 6, None),
        ("begin", "epoch", 0, 0, "fit"),
    ]  # the reference is the tree test_callbacks.py checks
    assert got_rec.tree() == want_rec.tree()
    assert_same_epoch_models(got_rec.epoch_models(), want_rec.epoch_models())
    assert_same_model(got, want)


@requires_callbacks
def test_callbacks_see_the_same_task_tree_on_dask_in_partial_fit(scheduler):
    X, y = make_data()
    want_rec, got_rec = Recorder(), Recorder()
    model = SigmoidNeuronRegressor(random_state=0, target_scaling=(0.0, 12.0))
    want = clone(model).set_callbacks(want_rec)
    got = clone(model).set_callbacks(got_rec)
    for rows in BATCHES[:2]:
        want.partial_fit(X[rows], y[rows])
        got.partial_fit(chunked(X[rows], (60, 90)), chunked(y[rows], (60, 90)))
    assert [h[:2] for h in want_rec.tree()] == 2 * [
        ("setup", "partial_fit"),
        ("begin", "partial_fit"),
        ("end", "partial_fit"),
        ("teardown", "partial_fit"),
    ]
    assert got_rec.tree() == want_rec.tree()
    ends = [m for hook, _, m in got_rec.calls if hook == "end"]
    want_ends = [m for hook, _, m in want_rec.calls if hook == "end"]
    assert_same_epoch_models(ends, want_ends)
    assert_same_model(got, want)


@requires_callbacks
def test_a_callback_stops_a_dask_fit_after_epoch_5(scheduler, chunks):
    X, y = make_data()
    # tol=0 with a long patience: only the callback can stop before epoch 50
    model = SigmoidNeuronRegressor(
        epochs=50, tol=0.0, n_iter_no_change=40, random_state=0
    )
    want_rec, got_rec = Recorder(stop_after=5), Recorder(stop_after=5)
    want = clone(model).set_callbacks(want_rec).fit(X, y)
    got = clone(model).set_callbacks(got_rec).fit(chunked(X), chunked(y))
    assert want.n_iter_ == 5
    assert got.n_iter_ == 5
    assert got_rec.tree() == want_rec.tree()
    assert_same_model(got, want)


# -- issue 21: what only the dask copies got wrong --------------------------------
def test_staged_predict_on_dask_is_lazy_and_equals_memory(scheduler):
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=4, store_path=True, random_state=0)
    model.fit(X, y)
    stages = list(model.staged_predict(chunked(X)))
    assert len(stages) == 4
    for stage, expected in zip(stages, model.staged_predict(X), strict=True):
        assert isinstance(stage, da.Array)
        assert_allclose(stage.compute(), expected, **TOL)


def test_lbfgs_with_early_stopping_fails_before_any_pass_over_dask_data():
    X, y = make_data()
    reads = []

    def load(block):
        reads.append(len(block))
        return block

    dX = chunked(X).map_blocks(load, dtype=X.dtype, meta=np.empty((0, 0)))
    model = SigmoidNeuronRegressor(solver="lbfgs", early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping=True needs solver='gd'"):
        model.fit(dX, chunked(y))
    assert reads == []
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("weighted", [False, True])
def test_the_cv_search_on_dask_equals_the_search_in_memory(scheduler, weighted, chunks):
    from sk_sigmoid_neuron import SigmoidNeuronRegressorCV

    X, y = make_data()
    s = np.random.default_rng(3).integers(0, 3, size=len(y)).astype(float)
    s = s if weighted else None
    params = dict(learnrates=[0.3, "auto", 3.0], epochs=[3, 10], cv=3, random_state=0)
    ref = SigmoidNeuronRegressorCV(**params).fit(X, y, sample_weight=s)
    model = SigmoidNeuronRegressorCV(**params)
    model.fit(chunked(X), chunked(y), sample_weight=chunked(s))
    assert model.best_params_ == ref.best_params_
    for key, value in ref.cv_results_.items():
        if key.endswith("_score") and key != "rank_test_score":
            assert_allclose(model.cv_results_[key], value, **TOL)
        elif key == "rank_test_score":
            assert_array_equal(model.cv_results_[key], value)
    assert_allclose(model.coef_, ref.coef_, **TOL)
