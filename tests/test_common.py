"""scikit-learn's estimator checks, with nothing excused.

The array API checks run on every namespace and device that scikit-learn
tests, but only where the device works here (``skip_unless_device_works`` in
``conftest.py``): a CUDA build of torch without a GPU driver skips its CUDA
checks instead of failing them.
"""

import pytest
from sklearn.utils._array_api import yield_namespace_device_dtype_combinations
from sklearn.utils.estimator_checks import (
    estimator_checks_generator,
    parametrize_with_checks,
)

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

ESTIMATORS = [
    SigmoidNeuronRegressor(),
    SigmoidNeuronRegressor(learnrate=2.0, epochs=300, fit_intercept=False),
    SigmoidNeuronRegressor(tol=1e-6, n_iter_no_change=5, alpha=1e-3),
    SigmoidNeuronRegressor(loss="log_loss", target_scaling=(-1e3, 1e3)),
    SigmoidNeuronRegressor(
        learnrate="auto",
        epochs=300,
        loss="log_loss",
        alpha=1e-3,
        compute_inference=True,
        store_path=True,
    ),
    SigmoidNeuronRegressor(solver="lbfgs"),
    SigmoidNeuronRegressor(
        solver="lbfgs",
        loss="log_loss",
        alpha=1e-3,
        tol=1e-6,
        compute_inference=True,
        store_path=True,
    ),
    SigmoidNeuronRegressor(solver="lbfgs", epochs=50, fit_intercept=False),
    SigmoidNeuronRegressorCV(),
    SigmoidNeuronRegressorCV(
        learnrates=[0.5, 5.0], epochs=20, cv=3, scoring="neg_mean_squared_error"
    ),
]


def array_devices(check):
    """The ``(namespace, device name)`` pairs an array API check puts arrays on
    (none for the other checks)."""
    keywords = getattr(check, "keywords", {})
    if "array_namespace" in keywords:
        yield keywords["array_namespace"], keywords.get("device_name")
    for key in ("X_ns_and_device", "other_ns_and_device"):
        if key in keywords:
            yield keywords[key].xp, keywords[key].device


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible_estimator(estimator, check, skip_unless_device_works):
    for namespace, device_name in array_devices(check):
        skip_unless_device_works(namespace, device_name)
    check(estimator)


def test_a_cuda_build_without_a_gpu_skips_only_the_cuda_cases(
    monkeypatch, skip_unless_device_works
):
    """torch built with CUDA on a machine whose driver cannot run it: the CUDA
    parametrizations and checks skip, with the reason; the CPU ones run."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def skip_reason(devices):
        try:
            for namespace, device_name in devices:
                skip_unless_device_works(namespace, device_name)
        except pytest.skip.Exception as exc:
            return str(exc)
        return None

    combinations = {
        (namespace, device_name)
        for namespace, device_name, _ in yield_namespace_device_dtype_combinations()
        if namespace in ("numpy", "torch") and device_name in (None, "cpu", "cuda")
    }
    assert ("torch", "cuda") in combinations
    assert ("torch", "cpu") in combinations
    for namespace, device_name in combinations:
        reason = skip_reason([(namespace, device_name)])
        if device_name == "cuda":
            assert "cuda" in reason
        else:
            assert reason is None

    on_cuda = on_cpu = 0
    for _, check in estimator_checks_generator(SigmoidNeuronRegressor()):
        devices = set(array_devices(check))
        if not devices or not devices <= {("numpy", None), *combinations}:
            continue  # not an array API check, or CuPy, MPS, XPU: not simulated
        if ("torch", "cuda") in devices:
            on_cuda += 1
            assert "cuda" in skip_reason(devices)
        else:
            on_cpu += 1
            assert skip_reason(devices) is None
    assert on_cuda and on_cpu
