"""Saving and loading: skops' safe format (and pickle) keep a model exactly."""

import pickle

import numpy as np
import pytest
import skops.io as sio
from numpy.testing import assert_array_equal
from skops.io.exceptions import UntrustedTypesFoundException

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

OWN_TYPES = {
    "sk_sigmoid_neuron._sigmoid_neuron.SigmoidNeuronRegressor",
    "sk_sigmoid_neuron._cv.SigmoidNeuronRegressorCV",
}


def make_data(n_samples=60, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = 10 * np.tanh(X[:, 0] - X[:, 1]) + rng.standard_normal(n_samples) + 3
    return X, y


def fitted(case):
    X, y = make_data()
    Y = np.column_stack([y, -2 * y, np.ones_like(y)])
    if case == "single output":
        return SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X, y), X
    if case == "multi output":
        return SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X, Y), X
    if case == "float32":
        X32 = X.astype(np.float32)
        return SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X32, y), X32
    if case == "partial_fit":
        model = SigmoidNeuronRegressor(random_state=0, target_scaling=(-40, 40))
        for batch in np.array_split(np.arange(len(y)), 4):
            model.partial_fit(X[batch], Y[batch, :2])
        return model, X
    if case == "early stopping":
        model = SigmoidNeuronRegressor(
            epochs=200, early_stopping=True, tol=1e-4, random_state=0
        )
        return model.fit(X, y), X
    if case == "inference and path":
        model = SigmoidNeuronRegressor(
            learnrate="auto",
            epochs=300,
            alpha=1e-3,
            compute_inference=True,
            store_path=True,
            random_state=0,
        )
        return model.fit(X, Y[:, :2], sample_weight=np.arange(len(y)) % 3), X
    if case == "CV":
        model = SigmoidNeuronRegressorCV(learnrates=[0.3, 3.0], epochs=[10, 50], cv=3)
        return model.fit(X, y), X
    if case == "CV with scoring":
        model = SigmoidNeuronRegressorCV(
            learnrates=[0.3, 3.0],
            epochs=20,
            cv=3,
            scoring="neg_mean_absolute_error",
        )
        return model.fit(X, Y), X
    raise ValueError(case)


CASES = [
    "single output",
    "multi output",
    "float32",
    "partial_fit",
    "early stopping",
    "inference and path",
    "CV",
    "CV with scoring",
]


def assert_same_state(a, b):
    """Same class and the same attributes, value for value (arrays bit for bit)."""
    assert type(a) is type(b)
    assert a.__dict__.keys() == b.__dict__.keys()
    for key, value in a.__dict__.items():
        other = b.__dict__[key]
        if isinstance(value, (SigmoidNeuronRegressor, SigmoidNeuronRegressorCV)):
            assert_same_state(value, other)
        elif isinstance(value, dict):
            assert value.keys() == other.keys(), key
            for k in value:
                assert_array_equal(np.asarray(value[k]), np.asarray(other[k]), key)
        elif isinstance(value, np.ndarray):
            assert value.dtype == other.dtype, key
            assert_array_equal(value, other, key)
        else:
            assert_array_equal(np.asarray(value), np.asarray(other), key)


@pytest.mark.parametrize("case", CASES)
def test_skops_round_trip_keeps_predictions(case, tmp_path):
    model, X = fitted(case)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    # nothing but this package's own estimators needs the user's trust
    assert set(untrusted) <= OWN_TYPES, untrusted
    loaded = sio.load(path, trusted=untrusted)
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == model.predict(X).dtype
    assert_same_state(loaded, model)


@pytest.mark.parametrize("case", ["single output", "CV"])
def test_skops_refuses_our_types_until_trusted(case, tmp_path):
    model, X = fitted(case)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    with pytest.raises(UntrustedTypesFoundException):
        sio.load(path)
    trusted = sorted(OWN_TYPES)  # as the user guide shows
    assert_array_equal(sio.load(path, trusted=trusted).predict(X), model.predict(X))


def test_loaded_model_keeps_training():
    """A loaded model continues with partial_fit exactly as the original."""
    X, y = make_data()
    model = SigmoidNeuronRegressor(random_state=0, target_scaling=(-20, 20))
    model.partial_fit(X[:30], y[:30])
    loaded = sio.loads(sio.dumps(model), trusted=sorted(OWN_TYPES))
    model.partial_fit(X[30:], y[30:])
    loaded.partial_fit(X[30:], y[30:])
    assert_same_state(loaded, model)


@pytest.mark.parametrize("case", CASES)
def test_pickle_round_trip_keeps_predictions(case):
    model, X = fitted(case)
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_same_state(loaded, model)
