"""Fuzzed inputs: a clear error, or a model whose predictions stay in range.

Hypothesis draws shapes (1 sample, 1 feature, more features than samples),
dtypes, sparse formats, weights, targets and parameter values at their bounds.
For every call of fit / partial_fit / predict / score the property is:

- it raises a ``ValueError`` or ``TypeError`` whose message says what is
  wrong, and the estimator (fitted before the call) is exactly as it was; or
- it succeeds, and the predictions on finite input are finite and inside
  ``target_range_``.
"""

import copy
import os
import warnings
from contextlib import contextmanager
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels

# scikit-learn's own metric overflowing on huge targets is not under test here
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning:sklearn"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
]

# A fixed, small set of examples keeps CI fast and reproducible; set
# SK_SIGMOID_NEURON_FUZZ_EXAMPLES (say to 2000) for a longer, random search.
_EXAMPLES = os.environ.get("SK_SIGMOID_NEURON_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_EXAMPLES or 150),
    deadline=None,
    derandomize=_EXAMPLES is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DTYPES = ["int64", "bool", "float16", "float32", "float64", "object"]
FORMATS = ["dense", "list", "csr", "csc", "coo"]
BACKENDS = ["numpy", "numba"]
MAGNITUDES = [0.0, 1e-300, 1e-8, 1.0, 1e3, 1e8, 1e38, 1e300]


# -- strategies ---------------------------------------------------------------
@st.composite
def matrices(draw, n_samples, n_features, allow_nonfinite=True):
    """X as the user may pass it: a dtype, a format, and any magnitudes."""
    dtype = draw(st.sampled_from(DTYPES))
    fmt = draw(st.sampled_from(FORMATS))
    # float16 holds values up to 65504: larger ones are (rarely) infinities
    scale = draw(st.sampled_from(MAGNITUDES[:5] if dtype == "float16" else MAGNITUDES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_samples, n_features)) * scale
    values[rng.random(values.shape) < 0.3] = 0.0  # sparse-like
    if allow_nonfinite and draw(st.booleans()) and draw(st.booleans()):
        values.flat[draw(st.integers(0, values.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
    with np.errstate(all="ignore"):  # the cast to float16 may overflow to inf
        if dtype == "object":
            pick = [int, float, Fraction]
            cells = [
                [pick[(i + j) % 3](v) if np.isfinite(v) else v for j, v in enumerate(r)]
                for i, r in enumerate(np.round(values, 3).tolist())
            ]
            X = np.array(cells, dtype=object)
        elif dtype == "int64":
            X = np.clip(np.nan_to_num(values), -1e15, 1e15).astype(np.int64)
        elif dtype == "bool":
            X = np.nan_to_num(values) > 0
        else:
            X = values.astype(dtype)
    if fmt == "list":
        return X.tolist()
    if fmt != "dense" and dtype not in ("object", "float16"):
        return getattr(sparse, f"{fmt}_matrix")(X)
    return X


@st.composite
def targets(draw, n_samples, n_outputs, target_scaling="minmax"):
    """y: 1-D or 2-D, constant, tiny, huge, integer, or with NaN / inf.

    With a fixed ``target_scaling`` ((low, high) or None), ordinary targets
    mostly lie inside it, so that fits get past the range check.
    """
    kind = draw(
        st.sampled_from(
            ["normal", "constant", "huge", "extreme", "tiny", "int", "nonfinite"]
        )
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n_samples,) if n_outputs == 0 else (n_samples, n_outputs)
    y = rng.standard_normal(shape)
    if kind == "constant":
        y = np.full(shape, draw(st.sampled_from([0.0, 0.5, -3.0, 1e300])))
    elif kind == "huge":
        y = y * 1e300
    elif kind == "extreme":  # a range wider than the largest float
        y = np.sign(y) * np.finfo(np.float64).max
    elif kind == "tiny":
        y = y * 1e-300
    elif kind == "int":
        y = rng.integers(-5, 6, size=shape)
    elif kind == "nonfinite":
        y.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    fixed = target_scaling != "minmax"
    if fixed and kind in ("normal", "tiny", "int") and draw(st.integers(0, 3)):
        low, high = (0.0, 1.0) if target_scaling is None else target_scaling
        y = np.asarray(y, dtype=np.float64)
        u = (y - y.min()) / np.ptp(y) if np.ptp(y) > 0 else np.full(shape, 0.5)
        y = low + u * (high - low)
    return y


@st.composite
def weights(draw, n_samples):
    kind = draw(
        st.sampled_from(
            ["none", "ones", "zeros", "some zeros", "tiny", "huge", "int", "bad"]
        )
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "none":
        return None
    if kind == "ones":
        return np.ones(n_samples)
    if kind == "zeros":
        return np.zeros(n_samples)
    if kind == "some zeros":
        return (rng.random(n_samples) < 0.5) * rng.random(n_samples)
    if kind == "tiny":
        return rng.random(n_samples) * draw(st.sampled_from([1e-30, 1e-300]))
    if kind == "huge":
        return rng.random(n_samples) * draw(st.sampled_from([1e30, 1e300]))
    if kind == "int":
        return rng.integers(0, 4, size=n_samples)
    return np.array([draw(st.sampled_from([-1.0, np.nan, np.inf]))] * n_samples)


@st.composite
def parameters(draw):
    """Parameter values at and near their bounds."""
    scaling = draw(
        st.sampled_from(
            ["minmax", None, (-1.0, 1.0), (0.0, 1e-300), (-1e300, 1e300), (-5, 5)]
        )
    )
    return {
        "learnrate": draw(st.sampled_from([1e-300, 1e-8, 0.5, 1e3, 1e300, "auto"])),
        "epochs": draw(st.sampled_from([1, 2, 7])),
        "fit_intercept": draw(st.booleans()),
        "target_scaling": scaling,
        "loss": draw(st.sampled_from(["squared_error", "log_loss"])),
        "alpha": draw(st.sampled_from([0.0, 1e-8, 1.0, 1e300])),
        "tol": draw(st.sampled_from([None, None, 0.0, 1e-3])),
        "n_iter_no_change": draw(st.sampled_from([1, 3])),
        "early_stopping": draw(st.booleans()) and draw(st.booleans()),
        "validation_fraction": draw(st.sampled_from([1e-9, 0.1, 0.5, 1 - 1e-9])),
        "warm_start": draw(st.booleans()),
        "store_path": draw(st.booleans()),
        "random_state": draw(st.integers(0, 3)),
    }


@st.composite
def problems(draw, target_scaling="minmax", like=None):
    """X, y, sample_weight; mostly of the shapes of the problem ``like``."""
    n_samples = draw(st.sampled_from([1, 2, 3, 7, 20]))
    n_features = draw(st.sampled_from([1, 2, 5, 30]))  # 30 > n_samples
    n_outputs = draw(st.sampled_from([0, 1, 3]))  # 0: 1-D y
    if like is not None and draw(st.integers(0, 3)):
        n_features, n_outputs = like["n_features"], like["n_outputs"]
    return {
        "X": draw(matrices(n_samples, n_features)),
        "y": draw(targets(n_samples, n_outputs, target_scaling)),
        "sample_weight": draw(weights(n_samples)),
        "n_features": n_features,
        "n_outputs": n_outputs,
    }


@st.composite
def cases(draw, n_problems=1):
    """Parameters, then problems whose targets suit their target_scaling."""
    params = draw(parameters())
    found = [draw(problems(params["target_scaling"]))]
    for _ in range(n_problems - 1):
        found.append(draw(problems(params["target_scaling"], like=found[0])))
    return (params, *found)


# -- the property ---------------------------------------------------------------
@contextmanager
def using_backend(name):
    """Train with the numpy or the compiled (numba) epoch kernel."""
    saved, _kernels.BACKEND = _kernels.BACKEND, name
    try:
        yield
    finally:
        _kernels.BACKEND = saved


def snapshot(model):
    return copy.deepcopy(model.__dict__)


def assert_same(before, after):
    """Every attribute equal, arrays bit for bit (NaN equal to NaN)."""
    assert before.keys() == after.keys()
    for key, value in before.items():
        other = after[key]
        assert type(value) is type(other), key
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype, key
        assert_array_equal(np.asarray(value, dtype=object), other, err_msg=key)


def assert_clear_error(exc):
    """A ValueError or TypeError with a message a user can act on."""
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    message = str(exc)
    assert len(message) >= 15, message
    # what a crash deep inside numpy, scipy or Python looks like
    for internal in ("broadcast", "NoneType", "has no attribute", "unsupported"):
        assert internal not in message, message


def finite_inputs(model, X):
    """Finite inputs to predict on: the training X when finite, and new data."""
    rng = np.random.default_rng(0)
    yield rng.standard_normal((5, model.n_features_in_))
    yield rng.standard_normal((5, model.n_features_in_)).astype(np.float32)
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    if np.all(np.isfinite(X)):
        yield X


def assert_predictions_in_range(model, X):
    """Finite predictions inside ``target_range_`` as the prediction's float
    type holds it (1e-300 is 0 in float32), up to the rounding of
    ``low + ŷ (high - low)`` in that type."""
    r = np.atleast_2d(model.target_range_)
    for X_new in finite_inputs(model, X):
        y_pred = model.predict(X_new).reshape(len(X_new), -1)
        assert np.all(np.isfinite(y_pred)), (y_pred, model.target_range_)
        low, high = r[:, 0].astype(y_pred.dtype), r[:, 1].astype(y_pred.dtype)
        bound = np.maximum(abs(low), abs(high)).astype(np.float64)
        slack = 8 * np.finfo(y_pred.dtype).eps * bound
        with np.errstate(over="ignore"):  # bounds near the largest float
            assert np.all(y_pred >= low - slack), (y_pred, model.target_range_)
            assert np.all(y_pred <= high + slack), (y_pred, model.target_range_)


def fitted_model(params, n_features, n_outputs, seed=0):
    """A model fitted on ordinary data with the problem's shapes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((10, n_features))
    y = rng.random(10) if n_outputs == 0 else rng.random((10, n_outputs))
    if isinstance(params["target_scaling"], tuple):  # y inside (low, high)
        low, high = params["target_scaling"]
        y = low + y * (high - low)
    safe = {**params, "learnrate": 0.5, "alpha": 0.0, "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SigmoidNeuronRegressor(**safe).fit(X, y)


def call(method, *args, **kwargs):
    """``method(*args, **kwargs)``: its result, or the exception it raised.

    A ConvergenceWarning (tol not reached) is a documented outcome, not a
    failure; every other warning from the package is an error (pyproject).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            return method(*args, **kwargs), None
        except Exception as exc:  # checked by the caller
            return None, exc


def check_call(model, method, *args, **kwargs):
    before = snapshot(model)
    result, exc = call(getattr(model, method), *args, **kwargs)
    event(f"{method}: {'succeeded' if exc is None else str(exc)[:45]}")
    if exc is not None:
        assert_clear_error(exc)
        assert_same(before, snapshot(model))
    return result, exc


# -- the tests ------------------------------------------------------------------
@FUZZ
@given(case=cases(), backend=st.sampled_from(BACKENDS))
def test_fit_is_a_clear_error_or_a_model_in_range(case, backend):
    params, problem = case
    model = fitted_model(params, problem["n_features"], problem["n_outputs"])
    X, y, sw = problem["X"], problem["y"], problem["sample_weight"]
    with using_backend(backend):
        _, exc = check_call(model, "fit", X, y, sample_weight=sw)
    if exc is None:
        assert_predictions_in_range(model, X)


@FUZZ
@given(case=cases(n_problems=2), backend=st.sampled_from(BACKENDS))
def test_partial_fit_is_a_clear_error_or_a_model_in_range(case, backend):
    params, first, second = case
    model = SigmoidNeuronRegressor(**params)
    fresh = snapshot(model)
    X, y, sw = first["X"], first["y"], first["sample_weight"]
    with using_backend(backend):
        _, exc = call(model.partial_fit, X, y, sample_weight=sw)
    event(f"first partial_fit: {'succeeded' if exc is None else str(exc)[:40]}")
    if exc is not None:
        assert_clear_error(exc)
        assert_same(fresh, snapshot(model))  # still unfitted
        model = fitted_model(params, first["n_features"], first["n_outputs"])
    else:
        assert_predictions_in_range(model, X)
    # a second batch, of the same or of other shapes, on a fitted model
    X, y, sw = second["X"], second["y"], second["sample_weight"]
    with using_backend(backend):
        _, exc = check_call(model, "partial_fit", X, y, sample_weight=sw)
    if exc is None:
        assert_predictions_in_range(model, X)


@FUZZ
@given(case=cases())
def test_predict_and_score_are_a_clear_error_or_consistent(case):
    params, problem = case
    model = fitted_model(params, problem["n_features"], problem["n_outputs"], seed=1)
    before = snapshot(model)
    X, y, sw = problem["X"], problem["y"], problem["sample_weight"]
    y_pred, exc = check_call(model, "predict", X)
    if exc is None:
        assert y_pred.shape == np.shape(y)
        assert_predictions_in_range(model, X)
    score, exc = check_call(model, "score", X, y, sample_weight=sw)
    if exc is None:
        # R², as scikit-learn defines it, of the predictions
        expected = r2_score(y, model.predict(X), sample_weight=sw)
        assert_array_equal(score, expected)
    assert_same(before, snapshot(model))  # predicting never changes the model


@pytest.mark.parametrize("n_samples, n_features", [(1, 1), (1, 5), (3, 40)])
def test_degenerate_shapes_fit_and_predict_in_range(n_samples, n_features):
    """The smallest problems, by hand: 1 sample, 1 feature, d > n."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, n_features))
    y = rng.standard_normal(n_samples) * 10
    model = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y)
    assert model.coef_.shape == (n_features,)
    assert_predictions_in_range(model, X)


# -- what fuzzing found, pinned down ---------------------------------------------
def test_float32_predictions_of_a_range_beyond_float32_are_float64():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([1e299, 2e299, 3e299])
    model = SigmoidNeuronRegressor(epochs=2, random_state=0).fit(X, y)
    y_pred = model.predict(X.astype(np.float32))
    assert y_pred.dtype == np.float64
    # ŷ itself is computed in float32
    assert_allclose(y_pred, model.predict(X), rtol=1e-6)


@pytest.mark.parametrize("target_scaling", ["minmax", (-1.7e308, 1.7e308)])
def test_target_range_wider_than_float64_is_an_error(target_scaling):
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([-1.7e308, 0.0, 1.7e308])
    model = SigmoidNeuronRegressor(target_scaling=target_scaling)
    with pytest.raises(ValueError, match="wider than the largest float64.*rescale"):
        model.fit(X, y)


@pytest.mark.parametrize("scale", [2.0**1000, 2.0**-1000, 1e300, 1e-300])
def test_weights_beyond_float32_count_by_their_ratios(scale):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2)).astype(np.float32)
    y = rng.standard_normal(6)
    sw = np.array([1.0, 2.0, 1.0, 4.0, 2.0, 1.0])
    model = SigmoidNeuronRegressor(epochs=5, random_state=0)
    reference = model.fit(X, y, sample_weight=sw).coef_.copy()
    # scaled by a power of two to a largest weight in [0.5, 1): a power of two
    # times the weights gives the same float32 weights, others their rounding
    coef = model.fit(X, y, sample_weight=sw * scale).coef_
    if np.log2(scale).is_integer():
        assert_array_equal(coef, reference)
    else:
        assert_allclose(coef, reference, rtol=1e-6)


def test_predict_where_x_dot_w_overflows():
    model = SigmoidNeuronRegressor(epochs=1).fit(np.eye(3), [0.0, 1.0, 2.0])
    model.coef_, model.intercept_ = np.array([1e200, -1e200, 5.0]), -3.0
    X = np.array([[1e200, 0.9e200, 0.0], [1e200, 1e200, 0.0], [1.0, 2.0, 3.0]])
    # h = +1e399 (overflows: the sigmoid is 1), h = -3 (the products cancel),
    # and an ordinary row
    expected = 0 + 2 * expit([np.inf, -3.0, 1e200 - 2e200 + 15 - 3])
    for X_in in (X, sparse.csr_matrix(X)):
        assert_array_equal(model.predict(X_in), expected)


def test_zero_weight_record_far_outside_the_range_takes_no_part():
    model = SigmoidNeuronRegressor(random_state=0)
    model.partial_fit(np.zeros((1, 2)), [-1.7e308])
    before = model.coef_.copy()
    model.partial_fit(np.zeros((2, 2)), [1.7e308, -1.7e308], sample_weight=[0, 1])
    assert np.all(np.isfinite(model.coef_))
    assert_array_equal(model.predict(np.zeros((1, 2))), [-1.7e308])
    assert model.coef_.shape == before.shape


def test_continuing_in_float32_with_weights_beyond_float32_is_an_error():
    model = SigmoidNeuronRegressor(learnrate=1e3, loss="log_loss", random_state=0)
    model.partial_fit([[3.5e37]], [0.5])
    assert np.abs(model.coef_).max() > np.finfo(np.float32).max
    before = copy.deepcopy(model.__dict__)
    with pytest.raises(ValueError, match="exceed float32.*pass X as float64"):
        model.partial_fit(np.zeros((1, 1), dtype=np.float32), [0.5])
    assert_same(before, model.__dict__)
