"""The dask path: fit, partial_fit and predict on dask arrays, and search on a cluster.

A LocalCluster of two single-threaded worker processes on the loopback
interface serves the whole module. Fits on dask arrays are compared with fits
of the same data in memory (which test_sigmoid_neuron.py checks against the
documented rule), and once with the rule written out plainly here.
"""

import re
import subprocess
import sys
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import get_task_stream
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV, _kernels

TOL = {"rtol": 1e-10, "atol": 1e-10}
TIMING = re.compile(r"^(mean|std)_(fit|score)_time$")


@pytest.fixture(autouse=True)
def numpy_backend(monkeypatch):
    # the in-memory references run on the numpy kernel: no numba compilation
    # here (the dask path never uses the compiled kernel)
    monkeypatch.setattr(_kernels, "BACKEND", "numpy")


def make_data(n=400, d=4, n_outputs=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * np.linspace(0.5, 2, d)).astype(dtype)
    w = rng.standard_normal((d, n_outputs or 1))
    y = 3 * np.tanh(X @ w) + 0.3 * rng.standard_normal((n, n_outputs or 1)) + 5
    return X, (y[:, 0] if n_outputs is None else y)


def chunked(a, rows=(90, 130, 60, 120)):
    """``a`` as a dask array with uneven row chunks (columns in two chunks)."""
    chunks = (rows,) + tuple(
        (s // 2, s - s // 2) if s > 1 else (s,) for s in a.shape[1:]
    )
    return da.from_array(a, chunks=chunks)


def assert_same_fit(got, want, tol=TOL):
    assert got.n_iter_ == want.n_iter_
    assert got.n_features_in_ == want.n_features_in_
    assert got.coef_.shape == want.coef_.shape
    assert got.coef_.dtype == want.coef_.dtype
    assert_allclose(got.coef_, want.coef_, **tol)
    assert_allclose(got.intercept_, want.intercept_, **tol)
    assert_allclose(got.loss_curve_, want.loss_curve_, **tol)
    assert_array_equal(got.target_range_, want.target_range_)
    if want.learnrate_ is None:  # a solver other than gd
        assert got.learnrate_ is None
    else:
        assert got.learnrate_ == pytest.approx(want.learnrate_, rel=1e-12)
    for name in ("validation_loss_curve_", "coef_path_", "intercept_path_"):
        if getattr(want, name) is None:
            assert getattr(got, name) is None
        else:
            assert_allclose(getattr(got, name), getattr(want, name), **tol)
    for name in ("coef_se_", "intercept_se_", "coef_cov_"):
        if getattr(want, name) is None:
            assert getattr(got, name) is None
        else:
            assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-8)


CASES = {
    "default": ({}, {}),
    "sample_weight": ({}, {"weights": True}),
    "2-D y": ({}, {"n_outputs": 3}),
    "auto, log loss, L2, no intercept": (
        {
            "learnrate": "auto",
            "loss": "log_loss",
            "alpha": 0.01,
            "fit_intercept": False,
        },
        {},
    ),
    "target_scaling (low, high), store_path": (
        {"target_scaling": (0.0, 12.0), "store_path": True},
        {},
    ),
    "tol": ({"tol": 1e-3, "n_iter_no_change": 3, "learnrate": 3.0, "epochs": 300}, {}),
    "early_stopping, weights": (
        {
            "early_stopping": True,
            "tol": 1e-3,
            "n_iter_no_change": 3,
            "learnrate": 2,
            "epochs": 300,
        },
        {"weights": True, "n_outputs": 2},
    ),
    "compute_inference": ({"compute_inference": True, "learnrate": "auto"}, {}),
    "compute_inference, weights": (
        {"compute_inference": True, "learnrate": "auto"},
        {"weights": True},
    ),
    "lbfgs, weights, compute_inference": (
        {"solver": "lbfgs", "epochs": 100, "compute_inference": True},
        {"weights": True},
    ),
    "newton, log loss": ({"solver": "newton", "loss": "log_loss"}, {"n_outputs": 2}),
}


def fit_recording(model, *args, **kwargs):
    """``model.fit(...)`` and the ConvergenceWarnings it issued (as text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*args, **kwargs)
    return model, [
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_fit_on_dask_equals_fit_in_memory(case, client, chunks):
    params, data = CASES[case]
    X, y = make_data(n_outputs=data.get("n_outputs"))
    sw = None
    if data.get("weights"):
        sw = np.random.default_rng(1).integers(0, 4, len(X)).astype(float)
        sw[:90] = 0  # a whole chunk without weight
    params = {"epochs": 25, "random_state": 0, **params}
    want, want_warnings = fit_recording(
        SigmoidNeuronRegressor(**params), X, y, sample_weight=sw
    )
    got, got_warnings = fit_recording(
        SigmoidNeuronRegressor(**params),
        chunked(X),
        chunked(y),
        sample_weight=None if sw is None else chunked(sw),
    )
    assert_same_fit(got, want)
    assert got_warnings == want_warnings
    if params.get("tol") is not None:
        assert got.n_iter_ < params["epochs"]  # the stopping rule did stop


def test_fit_on_dask_follows_the_rule_written_out(scheduler, chunks):
    # the batch rule of SPEC.md, per record, with weights and a given start
    X, y = make_data(n=120, d=3)
    t = (y - y.min()) / (y.max() - y.min())
    s = np.random.default_rng(2).uniform(0, 2, len(X))
    w, b, lr = np.array([0.3, -0.2, 0.1]), 0.05, 0.7
    losses = []
    for _ in range(5):
        step_w, step_b, loss = np.zeros(3), 0.0, 0.0
        for x_i, t_i, s_i in zip(X, t, s, strict=True):
            y_hat = expit(x_i @ w + b)
            delta = (t_i - y_hat) * y_hat * (1 - y_hat)
            step_w += s_i * delta * x_i
            step_b += s_i * delta
            loss += s_i * 0.5 * (t_i - y_hat) ** 2
        losses.append(loss / s.sum())
        w = w + lr * step_w / s.sum()
        b = b + lr * step_b / s.sum()

    model = SigmoidNeuronRegressor(learnrate=lr, epochs=5).fit(
        chunked(X, (50, 40, 30)),
        chunked(y, (50, 40, 30)),
        sample_weight=chunked(s, (50, 40, 30)),
        coef_init=[0.3, -0.2, 0.1],
        intercept_init=0.05,
    )
    assert_allclose(model.coef_, w, rtol=1e-12)
    assert_allclose(model.intercept_, b, rtol=1e-12)
    assert_allclose(model.loss_curve_, losses, rtol=1e-12)


def test_float32_stays_float32(client):
    X, y = make_data(dtype=np.float32)
    want = SigmoidNeuronRegressor(epochs=30, random_state=0).fit(X, y)
    got = SigmoidNeuronRegressor(epochs=30, random_state=0).fit(chunked(X), y)
    assert got.coef_.dtype == np.float32
    # float32 sums in another order: agreement to float32 precision
    assert_same_fit(got, want, tol={"rtol": 1e-5, "atol": 1e-6})
    pred = got.predict(chunked(X))
    assert pred.dtype == np.float32
    assert_allclose(pred.compute(), want.predict(X), rtol=1e-5)


def test_warm_start_continues_as_in_memory(client):
    X, y = make_data()
    want = SigmoidNeuronRegressor(epochs=15, random_state=0, warm_start=True)
    got = SigmoidNeuronRegressor(epochs=15, random_state=0, warm_start=True)
    want.fit(X, y).fit(X, y)
    got.fit(chunked(X), chunked(y)).fit(chunked(X), chunked(y))
    assert got.n_iter_ == 30
    assert_same_fit(got, want)


def test_in_memory_inputs_mixed_with_dask(client):
    # a numpy X takes the chunks of a dask y, and the other way round
    X, y = make_data()
    want = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y)
    for args in ((X, chunked(y)), (chunked(X), y)):
        got = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(*args)
        assert_same_fit(got, want)


def test_predict_is_lazy_and_equals_predict_in_memory(client):
    X, y = make_data(n_outputs=2)
    model = SigmoidNeuronRegressor(
        learnrate="auto", epochs=200, random_state=0, compute_inference=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert np.isfinite(model.coef_cov_).all()
    calls = []

    def load(block):
        calls.append(block.size)
        return block

    with dask.config.set(scheduler="sync"):  # counts the loads in this process
        Xd = chunked(X).map_blocks(load, meta=np.empty((0, 0), X.dtype))
        pred = model.predict(Xd)
        pred_std = model.predict(Xd, return_std=True)
        assert calls == []  # nothing computed yet
        assert isinstance(pred, da.Array)
        assert pred.shape == (len(X), 2)
        assert pred.numblocks[0] == 4
        assert_allclose(pred.compute(), model.predict(X), rtol=1e-12)
        assert sum(calls) == X.size  # each value loaded once
        want_mean, want_std = model.predict(X, return_std=True)
        assert_allclose(pred_std[0].compute(), want_mean, rtol=1e-12)
        assert_allclose(pred_std[1].compute(), want_std, rtol=1e-12)

    one = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y[:, 0])
    pred = one.predict(chunked(X))
    assert pred.shape == (len(X),)
    assert_allclose(pred.compute(), one.predict(X), rtol=1e-12)


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_held_chunks_run_no_graph_per_epoch(scheduler):
    # with a local scheduler the held parts are in this process: each pass
    # maps them directly (on the scheduler's threads), so the graphs a fit
    # runs do not grow with its epochs, and the model is the one in memory
    from dask.callbacks import Callback

    X, y = make_data()
    graphs, models = {}, {}
    for epochs in (2, 20):
        started = []
        with Callback(start=lambda dsk, started=started: started.append(1)):
            with dask.config.set(scheduler=scheduler):
                models[epochs] = SigmoidNeuronRegressor(
                    learnrate=0.5, epochs=epochs, random_state=0
                ).fit(chunked(X), chunked(y))
        graphs[epochs] = len(started)
    assert 0 < graphs[2] == graphs[20]
    want = SigmoidNeuronRegressor(learnrate=0.5, epochs=20, random_state=0)
    assert_same_fit(models[20], want.fit(X, y))


def test_partial_fit_on_dask_equals_partial_fit_in_memory(scheduler):
    X, y = make_data()
    batches = [slice(0, 150), slice(150, 300), slice(300, 400)]
    want = SigmoidNeuronRegressor(random_state=0, target_scaling=(0, 10))
    got = SigmoidNeuronRegressor(random_state=0, target_scaling=(0, 10))
    for i, rows in enumerate(batches):
        want.partial_fit(X[rows], y[rows])
        Xb = da.from_array(X[rows], chunks=(60, 4))
        # a numpy batch in the middle: both paths update the same model
        got.partial_fit(*((X[rows], y[rows]) if i == 1 else (Xb, y[rows])))
    assert_same_fit(got, want)
    assert got.n_iter_ == 3


def test_partial_fit_minmax_range_is_fixed_by_the_first_batch(client):
    X, y = make_data()
    model = SigmoidNeuronRegressor(random_state=0).partial_fit(
        chunked(X[:200], (100, 100)), chunked(y[:200], (100, 100))
    )
    before = dict(model.__dict__)
    high = np.where(np.arange(200) == 150, y.max() + 100, y[200:])
    with pytest.raises(ValueError, match=r"learned when the model was first fitted"):
        model.partial_fit(chunked(X[200:], (100, 100)), chunked(high, (100, 100)))
    assert_unchanged(model, before)


def assert_unchanged(model, before):
    assert model.__dict__.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(model.__dict__[key], value)
        else:
            assert model.__dict__[key] == value


def _with(a, index, value):
    a = a.astype(float)
    a[index] = value
    return a


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda X, y, s: (_with(X, (300, 2), np.nan), y, s),
            r"X contains NaN.*row 300",
        ),
        (lambda X, y, s: (_with(X, (5, 0), np.inf), y, s), r"X contains infinity"),
        (lambda X, y, s: (X, _with(y, 399, np.nan), s), r"y contains NaN.*row 399"),
        (
            lambda X, y, s: (X, y, _with(s, 222, -1)),
            r"Negative.*sample_weight.*row 222",
        ),
        (lambda X, y, s: (X, y, _with(s, 7, np.inf)), r"sample_weight contains inf"),
        (lambda X, y, s: (X, y, np.zeros_like(s)), r"sample_weight sums to zero"),
        # scikit-learn's messages, as in memory
        (
            lambda X, y, s: (X, y[:-1], s),
            r"inconsistent numbers of samples: \[400, 399\]",
        ),
        (lambda X, y, s: (X, y, s[:-1]), r"sample_weight.shape == \(399,\)"),
        (lambda X, y, s: (X[:, :, None], y, s), r"Expected a 2-D X"),
        (lambda X, y, s: (X, y[:, None, None], s), r"y has shape"),
        # as in memory: scikit-learn's message for complex data, and strings
        # that are not numbers fail to convert (numeric strings are numbers)
        (lambda X, y, s: (X + 1j, y, s), r"Complex data not supported"),
        (
            lambda X, y, s: (np.where(np.arange(4) == 1, "abc", X.astype(str)), y, s),
            r"could not convert string to float",
        ),
    ],
)
def test_bad_input_on_dask_is_a_clear_error_and_changes_nothing(
    make, match, client, chunks
):
    X, y = make_data()
    s = np.ones(len(X))
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    before = dict(model.__dict__)
    Xb, yb, sb = make(X, y, s)
    args = [da.from_array(a, chunks=(100,) + a.shape[1:]) for a in (Xb, yb, sb)]
    with pytest.raises(ValueError, match=match):
        model.fit(*args[:2], sample_weight=args[2])
    assert_unchanged(model, before)


def test_target_range_is_checked_on_dask(client):
    X, y = make_data()
    t = (y - y.min()) / (y.max() - y.min())
    t[250] = 1.5
    s = np.ones(len(X))
    model = SigmoidNeuronRegressor(epochs=5, target_scaling=None)
    with pytest.raises(ValueError, match=r"\[0, 1.5\] but target_scaling=None"):
        model.fit(chunked(X), chunked(t), sample_weight=chunked(s))
    assert not hasattr(model, "coef_")
    s[250] = 0  # records with weight 0 take no part in the check
    model.fit(chunked(X), chunked(t), sample_weight=chunked(s))
    assert_array_equal(model.target_range_, [0, 1])


def test_predict_on_dask_checks_its_input(client):
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(chunked(X[:, :3]))
    before = dict(model.__dict__)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.partial_fit(chunked(X[:, :3]), chunked(y))
    assert_unchanged(model, before)
    pred = model.predict(chunked(_with(X, (200, 1), np.nan)))  # lazy: no error yet
    with pytest.raises(ValueError, match=r"X contains NaN \(first at row 200\)"):
        pred.compute()
    with pytest.raises(ValueError, match="compute_inference=True"):
        model.predict(chunked(X), return_std=True)


def test_feature_names_as_in_memory(client):
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(frame, chunked(y))
    assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="feature names should match"):
        model.partial_fit(frame.rename(columns={"a": "z"}), chunked(y))
    model.fit(chunked(X), chunked(y))  # no names: the old ones go
    assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == 4


def _fit_calls(stream, name):
    """Calls of ``name`` in joblib's dask tasks, per worker, from a task stream."""
    calls = {}
    for task in stream.data:
        # joblib names a task for its calls ("mixed_" when their function
        # objects differ, as sklearn's wrappers of one function do)
        m = re.match(rf"(mixed_)?batch_of_{name}_(\d+)_calls", task["key"])
        if m:
            calls[task["worker"]] = calls.get(task["worker"], 0) + int(m.group(2))
    return calls


def _same_cv_results(got, want):
    # equal up to summation order (the workers may train on another kernel)
    assert got.keys() == want.keys()
    for key in want:
        if TIMING.match(key):
            continue
        if key == "params" or want[key].dtype == object:
            assert list(got[key]) == list(want[key])
        else:
            assert_allclose(got[key], want[key], rtol=1e-12, atol=0)


def test_grid_search_on_the_cluster_equals_serial_search(client):
    X, y = make_data(n=150)
    grid = {"learnrate": [0.3, 1.0, 3.0], "epochs": [10, 30]}
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(SigmoidNeuronRegressor(random_state=0), grid, cv=cv)
    serial = search.fit(X, y).cv_results_
    search = GridSearchCV(
        SigmoidNeuronRegressor(random_state=0), grid, cv=cv, n_jobs=-1
    )
    with get_task_stream(client) as stream, parallel_config(backend="dask"):
        on_cluster = search.fit(X, y).cv_results_
    _same_cv_results(on_cluster, serial)
    # every one of the 6 x 3 fits ran in a task on a worker of the cluster
    calls = _fit_calls(stream, "_fit_and_score")
    assert sum(calls.values()) == 18
    assert set(calls) <= set(client.scheduler_info()["workers"])


def test_cv_estimator_on_the_cluster_equals_serial(client):
    X, y = make_data(n=150)
    params = {"learnrates": [0.3, 1.0, 3.0], "epochs": [10, 30], "random_state": 0}
    cv = KFold(3, shuffle=True, random_state=0)
    serial = SigmoidNeuronRegressorCV(**params, cv=cv).fit(X, y)
    with get_task_stream(client) as stream, parallel_config(backend="dask"):
        on_cluster = SigmoidNeuronRegressorCV(**params, cv=cv, n_jobs=-1).fit(X, y)
    _same_cv_results(on_cluster.cv_results_, serial.cv_results_)
    assert_allclose(on_cluster.coef_, serial.coef_, rtol=1e-12)
    calls = _fit_calls(stream, "fold_scores")
    assert sum(calls.values()) == 3  # one per fold, each on a worker
    assert set(calls) <= set(client.scheduler_info()["workers"])


def test_dask_is_not_imported_for_in_memory_data():
    code = (
        "import sys, numpy as np\n"
        "from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels\n"
        "_kernels.BACKEND = 'numpy'\n"
        "X = np.random.default_rng(0).standard_normal((20, 2))\n"
        "SigmoidNeuronRegressor(epochs=3).fit(X, X[:, 0]).predict(X)\n"
        "assert not any(m.split('.')[0] in ('dask', 'distributed') "
        "for m in sys.modules), 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("n_samples", [300, 700])
def test_auto_learnrate_with_many_features_as_in_memory(n_samples):
    # more than _stepsize.EXACT_MAX parameters: the records' Gram matrix
    # (few records) or Lanczos with products over the chunks
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n_samples, 600))
    y = rng.standard_normal(n_samples)
    s = rng.uniform(0, 2, n_samples)
    params = {"learnrate": "auto", "epochs": 2, "random_state": 0}
    want = SigmoidNeuronRegressor(**params).fit(X, y, sample_weight=s)
    with dask.config.set(scheduler="threads"):
        got = SigmoidNeuronRegressor(**params).fit(
            da.from_array(X, chunks=(100, 600)), y, sample_weight=s
        )
    assert got.learnrate_ == pytest.approx(want.learnrate_, rel=1e-10)
    assert_allclose(got.coef_, want.coef_, **TOL)


def test_verbose_output_as_in_memory(client, capsys, chunks):
    X, y = make_data()
    params = {"epochs": 30, "verbose": 2, "early_stopping": True, "random_state": 0}
    params.update(tol=1e-3, n_iter_no_change=3, learnrate=3.0)
    SigmoidNeuronRegressor(**params).fit(X, y)
    want = capsys.readouterr().out
    SigmoidNeuronRegressor(**params).fit(chunked(X), chunked(y))
    got = capsys.readouterr().out
    assert "validation loss" in want
    assert got == want


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_record_of_weight_zero_is_absent_on_dask_too(
    early_stopping, scheduler, chunks
):
    # x w overflows for the huge record; with weight 0 it must not reach the
    # sums, and early stopping splits the records present, as in memory
    X, y = make_data(n=400)
    X[5] = 1e308
    sw = np.ones(len(X))
    sw[[5, 7, 300]] = 0
    params = dict(epochs=8, random_state=0, early_stopping=early_stopping)
    want = SigmoidNeuronRegressor(**params).fit(X, y, sample_weight=sw)
    got = SigmoidNeuronRegressor(**params).fit(
        chunked(X), chunked(y), sample_weight=chunked(sw)
    )
    assert np.isfinite(want.coef_).all()
    assert_same_fit(got, want)


@pytest.mark.parametrize("weight", [1e308, 2.0**-1000])
def test_weights_beyond_float32_count_by_their_ratios_on_dask(weight, scheduler):
    # the weights stay float64 until each chunk scales them by the same power
    # of two as in memory, then takes X's dtype: no overflow to inf
    X, y = make_data(n=400, dtype=np.float32)
    sw = np.full(len(X), weight)
    sw[::7] *= 0.5
    params = dict(epochs=8, random_state=0)
    want = SigmoidNeuronRegressor(**params).fit(X, y, sample_weight=sw)
    got = SigmoidNeuronRegressor(**params).fit(
        chunked(X), chunked(y), sample_weight=chunked(sw)
    )
    assert got.coef_.dtype == np.float32
    assert_same_fit(got, want, tol={"rtol": 1e-5})


# -- issue 24: chunks held in memory or streamed from their source --------------
CONFIG_KEY = "sk-sigmoid-neuron.chunks"


def loaded(X, y, rows, reads):
    """X and y as dask arrays whose chunks are computed by a loader that
    counts its calls in ``reads`` (one entry per chunk read)."""
    starts = np.concatenate([[0], np.cumsum(rows)])

    def load(a, i):
        reads.append(i)
        return a[starts[i] : starts[i + 1]].copy()

    def blocks(a):
        return da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(load, pure=False)(a, i),
                    (rows[i],) + a.shape[1:],
                    dtype=a.dtype,
                )
                for i in range(len(rows))
            ]
        )

    # y is read with X: a pass that reads y reads the chunk's X too
    return blocks(X), blocks(y)


def counted_fit(params, mode, rows=(90, 130, 60, 120)):
    X, y = make_data()
    reads = []
    Xd, yd = loaded(X, y, rows, reads)
    with dask.config.set({CONFIG_KEY: mode, "scheduler": "threads"}):
        model = SigmoidNeuronRegressor(random_state=0, **params).fit(Xd, yd)
    return model, reads


def test_streaming_reads_each_chunk_once_per_epoch():
    want = SigmoidNeuronRegressor(learnrate=0.5, epochs=3, random_state=0)
    want.fit(*make_data())
    held, held_reads = counted_fit({"learnrate": 0.5, "epochs": 3}, "hold")
    assert sorted(held_reads) == [0, 0, 1, 1, 2, 2, 3, 3]  # X and y once each
    passes = {}
    for epochs in (3, 7):
        model, reads = counted_fit({"learnrate": 0.5, "epochs": epochs}, "stream")
        per_chunk = {reads.count(i) for i in range(4)}
        assert len(per_chunk) == 1  # every pass reads every chunk
        passes[epochs] = per_chunk.pop() // 2
        if epochs == 3:
            assert_same_fit(model, want)
            assert_same_fit(model, held)
    assert passes[7] - passes[3] == 4  # one read of X per epoch
    assert passes[3] <= 3 + 3  # and a few passes besides the epochs


def test_a_streamed_pass_reads_a_source_that_x_and_y_share_once(monkeypatch):
    # X and y as columns of one block per chunk (one file, or a dataframe's
    # partition, per chunk): each streamed task computes its chunk's block
    # itself, once for X and y together, and nothing else reads it
    from sk_sigmoid_neuron import _dask_chunks

    X, y = make_data()
    rows = (90, 130, 60, 120)
    starts = np.concatenate([[0], np.cumsum(rows)])
    reads, tasks = [], []

    def load(i):
        reads.append(i)
        r0, r1 = starts[i], starts[i + 1]
        return np.column_stack([X[r0:r1], y[r0:r1]])

    blocks = [
        da.from_delayed(
            dask.delayed(load, pure=False)(i), (rows[i], X.shape[1] + 1), X.dtype
        )
        for i in range(len(rows))
    ]
    block = da.concatenate(blocks)
    streamed = _dask_chunks._streamed

    def counted(func, args, steps, chunk, shape):
        before = len(reads)
        out = streamed(func, args, steps, chunk, shape)
        tasks.append((shape is None, len(reads) - before))
        return out

    params = dict(learnrate=0.5, epochs=3, random_state=0)
    want = SigmoidNeuronRegressor(**params).fit(X, y)
    monkeypatch.setattr(_dask_chunks, "_streamed", counted)
    # one task at a time: the reads between a task's start and end are its own
    with dask.config.set({CONFIG_KEY: "stream", "scheduler": "synchronous"}):
        got = SigmoidNeuronRegressor(**params).fit(block[:, :-1], block[:, -1])
    assert_same_fit(got, want)
    assert {n_reads for _, n_reads in tasks} == {1}
    assert sum(reads_x for reads_x, _ in tasks) >= 3 * len(rows)  # the epochs


def test_values_are_checked_on_the_first_pass_only(monkeypatch):
    from sk_sigmoid_neuron import _dask

    checked = []
    check = _dask._chunk_stats
    monkeypatch.setattr(
        _dask,
        "_chunk_stats",
        lambda part: checked.append(len(part["X"])) or check(part),
    )
    counted_fit({"learnrate": 0.5, "epochs": 5}, "stream")
    assert sorted(checked) == [60, 90, 120, 130]


def _memory(monkeypatch, available, per_thread=None):
    from sk_sigmoid_neuron import _dask_memory

    monkeypatch.setattr(
        _dask_memory,
        "available_memory",
        lambda client=None: (
            available,
            available if per_thread is None else per_thread,
        ),
    )


def test_auto_holds_what_fits_and_streams_what_does_not(monkeypatch):
    X, y = make_data()
    held_bytes = X.nbytes + 3 * len(y) * 8  # X, the targets and the weights
    params = {"learnrate": 0.5, "epochs": 3}
    _memory(monkeypatch, 4 * held_bytes)
    model, reads = counted_fit(params, "auto")
    assert len(reads) == 8  # held: X and y read once
    _memory(monkeypatch, 1.5 * held_bytes)  # more than half of it: streamed
    streamed, reads = counted_fit(params, "auto")
    assert len(reads) > 8
    assert_same_fit(streamed, model)


def test_a_persisted_x_is_used_as_it_is():
    X, y = make_data()
    reads = []
    Xd, yd = loaded(X, y, (90, 130, 60, 120), reads)
    with dask.config.set(scheduler="threads"):
        Xd, yd = dask.persist(Xd, yd)
        assert len(reads) == 8
        got = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(Xd, yd)
    assert len(reads) == 8  # no chunk read again, and none copied in
    assert_same_fit(got, SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y))


def test_holding_that_runs_out_of_room_streams_instead(monkeypatch):
    from sk_sigmoid_neuron import _dask_memory

    # the rule judges that X fits, then memory runs short as chunks arrive
    answers = iter([1 << 40, 1 << 40])
    monkeypatch.setattr(_dask_memory, "machine_available", lambda: next(answers, 0))
    model, reads = counted_fit({"learnrate": 0.5, "epochs": 3}, "auto")
    assert len(reads) > 8
    want = SigmoidNeuronRegressor(learnrate=0.5, epochs=3, random_state=0)
    assert_same_fit(model, want.fit(*make_data()))


def test_memory_errors_name_the_size_the_memory_and_the_fix(monkeypatch):
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    before = dict(model.__dict__)
    reads = []
    Xd, yd = loaded(X, y, (90, 130, 60, 120), reads)
    _memory(monkeypatch, X.nbytes // 2)
    with dask.config.set({CONFIG_KEY: "hold", "scheduler": "threads"}):
        with pytest.raises(
            MemoryError, match=r"X \(0\.0 GiB as float64\) does not fit.*'stream'"
        ):
            model.fit(Xd, yd)
    # 4 chunks of rows per thread must fit to stream
    _memory(monkeypatch, 1 << 30, per_thread=3 * 130 * X[0].nbytes)
    with dask.config.set({CONFIG_KEY: "stream", "scheduler": "threads"}):
        with pytest.raises(MemoryError, match=r"largest chunk.*smaller chunks of rows"):
            model.fit(Xd, yd)
    with dask.config.set({CONFIG_KEY: "always"}):
        with pytest.raises(ValueError, match="use 'auto', 'hold' or 'stream'"):
            model.fit(Xd, yd)
    assert reads == []  # raised before any chunk was read
    assert_unchanged(model, before)


_CLUSTER_SCRIPT = """
import dask, dask.array as da, distributed, numpy as np
from distributed import get_task_stream
from numpy.testing import assert_allclose
from sk_sigmoid_neuron import SigmoidNeuronRegressor, _dask_memory, _kernels


def block(i, rows, n_features):
    try:
        distributed.get_worker().__dict__.setdefault("blocks_read", []).append(i)
    except ValueError:  # not on the worker: the fit in memory's data
        pass
    rng = np.random.default_rng(100 + i)
    X = rng.standard_normal((rows, n_features))
    y = np.tanh(X[:, :5].sum(axis=1)) + 0.1 * rng.standard_normal(rows)
    return np.column_stack([X, y])


if __name__ == "__main__":
    _kernels.BACKEND = "numpy"
    # the limit is the fit's to judge by: the worker neither pauses nor
    # restarts near it (a paused worker would leave the fit waiting)
    memory = {f"distributed.worker.memory.{k}": False for k in ("pause", "terminate")}
    with (
        dask.config.set(memory),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, host="127.0.0.1",
            dashboard_address=None, memory_limit="600MiB", silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        available, _ = _dask_memory.available_memory(client)
        assert 0 < available < 600 * 2**20, available
        d, n_chunks = 40, 16
        rows = int(0.7 * available / (8 * (d + 4))) // n_chunks
        data = da.concatenate([
            da.from_delayed(dask.delayed(block)(i, rows, d), (rows, d + 1), dtype=float)
            for i in range(n_chunks)
        ])
        params = {"learnrate": 0.5, "epochs": 3, "random_state": 0}
        with get_task_stream(client) as stream:
            got = SigmoidNeuronRegressor(**params).fit(data[:, :d], data[:, d])
        streamed = sum(str(t["key"]).startswith("_streamed") for t in stream.data)
        # every pass is one task per chunk, read from the source
        assert streamed >= 4 * n_chunks, streamed
        # every pass reads the chunks in their order (the source's on disk)
        (reads,) = client.run(lambda dask_worker: dask_worker.blocks_read).values()
        assert reads == list(range(n_chunks)) * (len(reads) // n_chunks), reads
    whole = np.concatenate([block(i, rows, d) for i in range(n_chunks)])
    want = SigmoidNeuronRegressor(**params).fit(whole[:, :d], whole[:, d])
    for name in ("coef_", "intercept_", "loss_curve_"):
        assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-10, atol=1e-10)
    print("streamed", streamed)
"""


def test_a_cluster_whose_memory_cannot_hold_x_streams_it(tmp_path):
    # X larger than half the workers' memory limit less their use: streamed,
    # one task per chunk, with the fit in memory's result. In a process of its
    # own (with a time limit): a cluster of one small worker, nothing else.
    pytest.importorskip("distributed")
    script = tmp_path / "cluster_with_a_memory_limit.py"
    script.write_text(_CLUSTER_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("streamed")
