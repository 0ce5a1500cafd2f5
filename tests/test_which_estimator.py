"""The claims of the user guide's page "Which estimator?", on real data.

``loss="log_loss"`` on a 0/1 target is logistic regression (L2-penalised with
``alpha``, scikit-learn's ``C = 1 / (alpha * n_samples)``); a Binomial GLM on
counts is the log loss on the shares weighted by the trials; and
``SigmoidNeuronRegressorCV`` in a pipeline searches on X scaled once, with
statistics from every row.
"""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from scipy.optimize import linprog
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

# what a logistic regression is to the neuron: the 0/1 target as it is
LOGIT = dict(loss="log_loss", target_scaling=None, solver="lbfgs", random_state=0)


def unpenalised_logistic_regression():
    # scikit-learn 1.8 deprecated penalty=None in favour of C=np.inf
    if parse_version(sklearn.__version__) < parse_version("1.8"):
        return LogisticRegression(penalty=None, tol=1e-12, max_iter=10_000)
    return LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)


@pytest.fixture(scope="module")
def breast_cancer():
    """scikit-learn's breast_cancer (569 x 30, 0/1), split, standardised on
    the training part."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def is_linearly_separable(X, y):
    """Whether some (w, b) has (2y - 1)(x . w + b) >= 1 for every record: a
    feasibility linear program."""
    sign = 2.0 * y - 1.0
    A = -sign[:, None] * np.column_stack([X, np.ones(len(y))])
    result = linprog(
        np.zeros(X.shape[1] + 1),
        A_ub=A,
        b_ub=-np.ones(len(y)),
        bounds=(None, None),
        method="highs",
    )
    assert result.status in (0, 2), result.message  # solved or infeasible
    return result.status == 0


@pytest.mark.parametrize("alpha", [1e-1, 1e-2, 1e-3])
def test_log_loss_with_alpha_is_logistic_regression_with_C(breast_cancer, alpha):
    X_train, X_test, y_train, y_test = breast_cancer
    n = len(y_train)
    neuron = SigmoidNeuronRegressor(alpha=alpha, **LOGIT).fit(X_train, y_train)
    reference = LogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10_000)
    reference.fit(X_train, y_train)
    predicted = neuron.predict(X_test)
    expected = reference.predict_proba(X_test)[:, 1]
    assert_allclose(predicted, expected, rtol=0, atol=1e-5)
    assert_allclose(neuron.coef_, reference.coef_[0], rtol=0, atol=1e-5)
    assert roc_auc_score(y_test, predicted) == roc_auc_score(y_test, expected)


def test_with_sample_weights_C_takes_the_sum_of_the_weights(breast_cancer):
    X_train, X_test, y_train, _ = breast_cancer
    weights = np.random.default_rng(0).integers(1, 5, len(y_train)).astype(float)
    alpha = 1e-2
    neuron = SigmoidNeuronRegressor(alpha=alpha, **LOGIT)
    neuron.fit(X_train, y_train, sample_weight=weights)
    reference = LogisticRegression(
        C=1 / (alpha * weights.sum()), tol=1e-12, max_iter=10_000
    )
    reference.fit(X_train, y_train, sample_weight=weights)
    assert_allclose(
        neuron.predict(X_test), reference.predict_proba(X_test)[:, 1], atol=1e-5
    )


def test_log_loss_without_alpha_is_unpenalised_logistic_regression():
    # on all 30 features the classes are separable and no optimum exists; on
    # these three they overlap, so the unpenalised optimum does
    data = load_breast_cancer()
    y = data.target
    assert is_linearly_separable(data.data, y)
    names = ["mean texture", "mean smoothness", "mean symmetry"]
    columns = [list(data.feature_names).index(name) for name in names]
    X = StandardScaler().fit_transform(data.data[:, columns])
    assert not is_linearly_separable(X, y)
    neuron = SigmoidNeuronRegressor(alpha=0.0, **LOGIT).fit(X, y)
    reference = unpenalised_logistic_regression().fit(X, y)
    assert_allclose(neuron.predict(X), reference.predict_proba(X)[:, 1], atol=1e-6)
    assert_allclose(neuron.coef_, reference.coef_[0], rtol=0, atol=1e-6)
    assert_allclose(neuron.intercept_, reference.intercept_[0], rtol=0, atol=1e-6)


def test_log_loss_weighted_by_trials_is_the_binomial_glm_on_counts():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.star98.load_pandas()
    above = data.endog["NABOVE"].to_numpy()
    trials = above + data.endog["NBELOW"].to_numpy()
    X = StandardScaler().fit_transform(data.exog.to_numpy(dtype=float))
    counts = np.column_stack([above, trials - above])
    exog = sm.add_constant(X)
    glm = sm.GLM(counts, exog, family=sm.families.Binomial()).fit(tol=1e-12)
    neuron = SigmoidNeuronRegressor(**LOGIT)
    neuron.fit(X, above / trials, sample_weight=trials)
    assert_allclose(np.r_[neuron.intercept_, neuron.coef_], glm.params, atol=1e-6)
    assert_allclose(neuron.predict(X), glm.predict(exog), rtol=0, atol=1e-7)


@pytest.fixture(scope="module")
def three_searches():
    """On diabetes, one grid three ways: the CV estimator in a pipeline with
    a StandardScaler, GridSearchCV on X scaled once with all rows, and
    GridSearchCV over the pipeline (the scaler refitted in every fold)."""
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(5, shuffle=True, random_state=0)
    learnrates, epochs = [0.3, 1.0, 3.0], [30, 100, 300]
    in_pipeline = make_pipeline(
        StandardScaler(),
        SigmoidNeuronRegressorCV(
            learnrates=learnrates, epochs=epochs, cv=cv, random_state=0
        ),
    ).fit(X, y)
    grid = {"learnrate": learnrates, "epochs": epochs}
    scaled_once = GridSearchCV(SigmoidNeuronRegressor(random_state=0), grid, cv=cv)
    scaled_once.fit(StandardScaler().fit_transform(X), y)
    per_fold = GridSearchCV(
        make_pipeline(StandardScaler(), SigmoidNeuronRegressor(random_state=0)),
        {f"sigmoidneuronregressor__{key}": value for key, value in grid.items()},
        cv=cv,
    ).fit(X, y)
    return in_pipeline[-1], scaled_once, per_fold


def test_cv_estimator_in_a_pipeline_scores_folds_on_X_scaled_once(three_searches):
    in_pipeline, scaled_once, _ = three_searches
    for k in range(5):
        key = f"split{k}_test_score"
        assert_allclose(
            in_pipeline.cv_results_[key], scaled_once.cv_results_[key], atol=1e-8
        )
    assert in_pipeline.best_params_ == scaled_once.best_params_


def test_grid_search_over_the_pipeline_scales_per_fold_and_chooses_the_same(
    three_searches,
):
    in_pipeline, _, per_fold = three_searches
    for k in range(5):
        key = f"split{k}_test_score"
        # the scaler's statistics differ, so the fits do ...
        assert not np.allclose(
            in_pipeline.cv_results_[key], per_fold.cv_results_[key], atol=1e-8
        )
    # ... but little: the same candidate, mean scores within 0.001
    assert_allclose(
        in_pipeline.cv_results_["mean_test_score"],
        per_fold.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-3,
    )
    chosen = {key.split("__")[1]: v for key, v in per_fold.best_params_.items()}
    assert in_pipeline.best_params_ == chosen


def test_unpenalised_optimum_does_not_depend_on_the_scaler():
    # an affine change of each feature is absorbed by the weights and the
    # intercept: at the optimum the predictions are the same
    X, y = load_diabetes(return_X_y=True)
    all_rows = StandardScaler().fit(X)
    some_rows = StandardScaler().fit(X[:200])
    fits = [
        SigmoidNeuronRegressor(solver="lbfgs", random_state=0).fit(
            scaler.transform(X), y
        )
        for scaler in (all_rows, some_rows)
    ]
    assert_allclose(
        fits[0].predict(all_rows.transform(X)),
        fits[1].predict(some_rows.transform(X)),
        rtol=1e-7,
    )
