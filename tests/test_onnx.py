"""ONNX export: onnxruntime runs the converted model as predict does."""

import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
from numpy.testing import assert_array_equal
from scipy.special import expit
from skl2onnx import to_onnx
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sk_sigmoid_neuron.onnx  # noqa: F401  (registers the converter)
from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV


def make_data(n_samples=120, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    X = 3 * rng.standard_normal((n_samples, n_features)) + 1
    y = 20 * np.tanh(X @ rng.standard_normal(n_features) / 4) + 50
    # outputs in different units, one crossing 0, one constant
    Y = np.column_stack([y, -1e3 * (y - 50), np.full(n_samples, 7.0)])
    return X, y, Y


def run_onnx(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (name,) = [i.name for i in session.get_inputs()]
    (output,) = session.run(None, {name: X})
    return output


def reference(X, coef, intercept, target_range):
    """``low + σ(X w + b) (high - low)`` per output, in float64, as (n, k)."""
    coef, intercept = np.atleast_2d(coef), np.atleast_1d(intercept)
    target_range = np.atleast_2d(target_range)
    low, high = target_range[:, 0], target_range[:, 1]
    X = np.asarray(X, dtype=np.float64)
    return low + expit(X @ coef.T + intercept) * (high - low)


def assert_close(y_onnx, y_pred, target_range, tol=1e-5):
    """Equal to ``tol`` relative to the value, or to the output's span.

    A prediction is ``low + ŷ (high - low)``: float32 rounding of ŷ (about
    1e-7) is an error in units of the span, which near 0 (an output whose
    range crosses 0) is larger than ``tol`` relative to the value itself.
    """
    span = np.ptp(np.atleast_2d(target_range), axis=1)
    err = np.abs(y_onnx - y_pred.reshape(y_onnx.shape))
    assert np.all(err <= tol * np.maximum(np.abs(y_pred).reshape(err.shape), span))


def test_single_output_float32_matches_predict():
    X, y, _ = make_data()
    model = SigmoidNeuronRegressor(epochs=200, random_state=0).fit(X, y)
    X32 = X.astype(np.float32)
    y_onnx = run_onnx(to_onnx(model, X32[:1]), X32)
    # 1-D y gives one column, as skl2onnx's other regressors
    assert y_onnx.shape == (X.shape[0], 1)
    assert y_onnx.dtype == np.float32
    assert_close(y_onnx, model.predict(X32), model.target_range_)
    expected = reference(X32, model.coef_, model.intercept_, model.target_range_)
    assert_close(y_onnx, expected, model.target_range_)


def test_multi_output_float32_matches_predict():
    X, _, Y = make_data()
    model = SigmoidNeuronRegressor(epochs=200, random_state=0).fit(X, Y)
    X32 = X.astype(np.float32)
    y_onnx = run_onnx(to_onnx(model, X32[:1]), X32)
    assert y_onnx.shape == Y.shape
    assert_close(y_onnx, model.predict(X32), model.target_range_)
    expected = reference(X32, model.coef_, model.intercept_, model.target_range_)
    assert_close(y_onnx, expected, model.target_range_)
    assert_array_equal(y_onnx[:, 2], 7.0)  # the constant output


def test_model_fitted_on_float32_matches_predict():
    X, _, Y = make_data(seed=1)
    X32 = X.astype(np.float32)
    model = SigmoidNeuronRegressor(epochs=100, random_state=0).fit(X32, Y)
    assert model.coef_.dtype == np.float32
    y_onnx = run_onnx(to_onnx(model, X32[:1]), X32)
    assert_close(y_onnx, model.predict(X32), model.target_range_)


@pytest.mark.parametrize("multi_output", [False, True])
def test_pipeline_with_standard_scaler(multi_output):
    X, y, Y = make_data(seed=2)
    pipe = make_pipeline(
        StandardScaler(), SigmoidNeuronRegressor(epochs=200, random_state=0)
    )
    pipe.fit(X, Y if multi_output else y)
    X32 = X.astype(np.float32)
    y_onnx = run_onnx(to_onnx(pipe, X32[:1]), X32)
    assert y_onnx.shape == (X.shape[0], 3 if multi_output else 1)
    assert_close(y_onnx, pipe.predict(X32), pipe[-1].target_range_)


def test_float64_input_gives_a_double_graph():
    X, _, Y = make_data(seed=3)
    model = SigmoidNeuronRegressor(epochs=100, random_state=0).fit(X, Y)
    y_onnx = run_onnx(to_onnx(model, X[:1]), X)
    assert y_onnx.dtype == np.float64
    assert_close(y_onnx, model.predict(X), model.target_range_, tol=1e-12)


def test_integer_input_is_cast_to_float():
    rng = np.random.default_rng(4)
    X = rng.integers(-5, 6, size=(50, 3))
    y = X @ [1.0, -2.0, 0.5]
    model = SigmoidNeuronRegressor(epochs=100, random_state=0).fit(X, y)
    y_onnx = run_onnx(to_onnx(model, X[:1].astype(np.int64)), X.astype(np.int64))
    assert y_onnx.dtype == np.float32
    assert_close(y_onnx, model.predict(X), model.target_range_)


def test_graph_is_matmul_add_sigmoid_then_the_affine_map():
    X, y, _ = make_data()
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    onx = to_onnx(model, X[:1].astype(np.float32))
    ops = [node.op_type for node in onx.graph.node]
    assert ops == ["MatMul", "Add", "Sigmoid", "Mul", "Add"]


@pytest.mark.parametrize("multi_output", [False, True])
def test_cv_estimator_converts_through_its_best_estimator(multi_output):
    X, y, Y = make_data(seed=5)
    model = SigmoidNeuronRegressorCV(learnrates=[0.3, 3.0], epochs=[20, 100], cv=3)
    model.fit(X, Y if multi_output else y)
    X32 = X.astype(np.float32)
    y_onnx = run_onnx(to_onnx(model, X32[:1]), X32)
    best = model.best_estimator_
    assert y_onnx.shape == (X.shape[0], best.n_outputs_ if multi_output else 1)
    assert_close(y_onnx, model.predict(X32), best.target_range_)


def test_unfitted_model_is_not_converted():
    X, _, _ = make_data()
    with pytest.raises(NotFittedError):
        to_onnx(SigmoidNeuronRegressor(), X[:1].astype(np.float32))


def test_importing_the_package_imports_no_optional_dependency():
    code = (
        "import sys, sk_sigmoid_neuron; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'onnx', 'skl2onnx', 'onnxruntime', 'skops', 'hypothesis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_range_beyond_float32_needs_a_float64_graph():
    X, y, _ = make_data()
    model = SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X, y * 1e300)
    with pytest.raises(ValueError, match="exceed float32.*float64"):
        to_onnx(model, X[:1].astype(np.float32))
    y_onnx = run_onnx(to_onnx(model, X[:1]), X)
    assert_close(y_onnx, model.predict(X), model.target_range_, tol=1e-12)
