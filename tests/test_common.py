"""scikit-learn's estimator checks, with nothing excused."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_sigmoid_neuron import SigmoidNeuronRegressor

ESTIMATORS = [
    SigmoidNeuronRegressor(),
    SigmoidNeuronRegressor(learnrate=2.0, epochs=300, fit_intercept=False),
    SigmoidNeuronRegressor(tol=1e-6, n_iter_no_change=5, alpha=1e-3),
    SigmoidNeuronRegressor(loss="log_loss", target_scaling=(-1e3, 1e3)),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
