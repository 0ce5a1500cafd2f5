"""scikit-learn's estimator checks, with nothing excused."""

from sklearn.utils.estimator_checks import parametrize_with_checks

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


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
