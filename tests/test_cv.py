"""SigmoidNeuronRegressorCV: the same search as GridSearchCV, in one pass per fold."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

# a grid whose best candidate is inside it (not a corner), epochs out of order
LEARNRATES = [0.3, 3.0, 30.0]
EPOCHS = [40, 5, 200, 20]


def make_data(n_samples=48, n_features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = np.tanh(X[:, 0] - X[:, 1]) + 0.5 * rng.standard_normal(n_samples)
    return X, y


def grid_search(learnrates=LEARNRATES, epochs=EPOCHS, *, random_state=0, **kwargs):
    core = {k: kwargs.pop(k) for k in ("loss", "target_scaling") if k in kwargs}
    return GridSearchCV(
        SigmoidNeuronRegressor(random_state=random_state, **core),
        {"learnrate": learnrates, "epochs": epochs},
        **kwargs,
    )


def assert_same_search(cv_model, grid):
    """The CV estimator's results are GridSearchCV's, candidate by candidate."""
    assert cv_model.cv_results_["params"] == grid.cv_results_["params"]
    for key in ("param_epochs", "param_learnrate"):
        assert_array_equal(cv_model.cv_results_[key], grid.cv_results_[key])
    keys = [k for k in grid.cv_results_ if k.endswith("test_score")]
    assert keys == [k for k in cv_model.cv_results_ if k.endswith("test_score")]
    for key in keys:
        assert_allclose(
            cv_model.cv_results_[key], grid.cv_results_[key], rtol=0, atol=1e-8
        )
    assert_array_equal(
        cv_model.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"]
    )
    assert cv_model.best_params_ == grid.best_params_
    assert cv_model.best_index_ == grid.best_index_
    assert_allclose(cv_model.best_score_, grid.best_score_, rtol=0, atol=1e-8)
    assert (cv_model.learnrate_, cv_model.epochs_) == (
        grid.best_params_["learnrate"],
        grid.best_params_["epochs"],
    )


@pytest.mark.parametrize("scoring", [None, "neg_mean_absolute_error"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_gridsearchcv(scoring, weighted):
    X, y = make_data()
    rng = np.random.default_rng(1)
    sw = rng.integers(0, 4, size=len(y)).astype(float) if weighted else None
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    grid = grid_search(cv=splits, scoring=scoring).fit(X, y, sample_weight=sw)
    model = SigmoidNeuronRegressorCV(
        LEARNRATES, EPOCHS, cv=splits, scoring=scoring, random_state=0
    ).fit(X, y, sample_weight=sw)
    assert_same_search(model, grid)
    # the refit is GridSearchCV's best_estimator_, weight for weight
    assert_allclose(model.coef_, grid.best_estimator_.coef_, rtol=1e-12)
    assert_allclose(model.predict(X), grid.predict(X), rtol=1e-12)


def test_records_of_weight_zero_are_absent_even_with_huge_x():
    # weight 0: absent from every fold's training, as in SigmoidNeuronRegressor
    # .fit (x w overflows for the huge record: 0 * nan must not reach a sum);
    # still part of the splits and scored with weight 0, as in GridSearchCV
    X, y = make_data()
    X[[3, 17]] = 1e308
    sw = np.ones(len(y))
    sw[[3, 17, 30]] = 0
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    grid = grid_search(cv=splits).fit(X, y, sample_weight=sw)
    model = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=splits, random_state=0)
    model.fit(X, y, sample_weight=sw)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert_same_search(model, grid)


def test_default_scoring_is_weighted_r2_of_the_validation_part():
    # independent of GridSearchCV: candidate (learnrate, epochs) on split k is
    # the weighted R2 of a SigmoidNeuronRegressor fitted on the training part
    X, y = make_data()
    sw = np.random.default_rng(2).integers(1, 4, size=len(y)).astype(float)
    splits = list(KFold(3).split(X))
    model = SigmoidNeuronRegressorCV([3.0], [20], cv=splits, random_state=0)
    model.fit(X, y, sample_weight=sw)
    for k, (train, test) in enumerate(splits):
        fit = SigmoidNeuronRegressor(learnrate=3.0, epochs=20, random_state=0)
        fit.fit(X[train], y[train], sample_weight=sw[train])
        resid = y[test] - fit.predict(X[test])
        mean = np.average(y[test], weights=sw[test])
        r2 = 1 - np.sum(sw[test] * resid**2) / np.sum(sw[test] * (y[test] - mean) ** 2)
        assert_allclose(model.cv_results_[f"split{k}_test_score"], [r2], rtol=1e-10)


def test_epochs_int_means_every_count_up_to_it():
    X, y = make_data()
    model = SigmoidNeuronRegressorCV([0.5, 5.0], 6, cv=3, random_state=0).fit(X, y)
    assert_array_equal(model.cv_results_["param_epochs"], np.repeat(np.arange(1, 7), 2))
    grid = grid_search([0.5, 5.0], [1, 2, 3, 4, 5, 6], cv=3).fit(X, y)
    assert_same_search(model, grid)


def test_multioutput_and_groups_match_gridsearchcv():
    X, y = make_data()
    Y = np.column_stack([y, 2 * X[:, 2] + 1])
    groups = np.arange(len(y)) % 5
    cv = GroupKFold(3)
    grid = grid_search(cv=cv).fit(X, Y, groups=groups)
    model = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=cv, random_state=0)
    model.fit(X, Y, groups=groups)
    assert_same_search(model, grid)
    assert model.predict(X).shape == Y.shape


def test_sparse_X_gives_the_dense_results():
    X, y = make_data()
    dense = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0)
    sparse_ = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0)
    dense.fit(X, y)
    sparse_.fit(sp.csr_array(X), y)
    assert_allclose(
        sparse_.cv_results_["mean_test_score"],
        dense.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-8,
    )
    assert sparse_.best_params_ == dense.best_params_


def test_random_state_instance_starts_every_fit_alike():
    # GridSearchCV copies the estimator (and its RandomState) for every fit,
    # so every fold starts from the same weights and the user's RandomState
    # does not move; the CV estimator must do the same
    X, y = make_data()
    rs = np.random.RandomState(7)
    before = rs.get_state()[1].copy()
    model = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=rs)
    model.fit(X, y)
    assert_array_equal(rs.get_state()[1], before)
    grid = grid_search(cv=3, random_state=np.random.RandomState(7)).fit(X, y)
    assert_same_search(model, grid)


def test_callable_scorer_sees_a_fitted_candidate():
    # a callable scorer gets a fitted SigmoidNeuronRegressor: predict works on
    # data other than the validation part, and its attributes are the fit's
    def scorer(estimator, X, y):
        assert isinstance(estimator, SigmoidNeuronRegressor)
        assert estimator.n_iter_ == estimator.epochs == len(estimator.loss_curve_)
        y_pred = estimator.predict(X.copy())
        return -np.mean((y - y_pred) ** 2) - estimator.loss_curve_[-1]

    X, y = make_data()
    splits = list(KFold(3).split(X))
    grid = grid_search(cv=splits, scoring=scorer).fit(X, y)
    model = SigmoidNeuronRegressorCV(
        LEARNRATES, EPOCHS, cv=splits, scoring=scorer, random_state=0
    ).fit(X, y)
    assert_same_search(model, grid)


def test_scorer_without_sample_weight_warns_and_scores_unweighted():
    def neg_mae(estimator, X, y):
        return -np.mean(np.abs(y - estimator.predict(X)))

    X, y = make_data()
    sw = np.random.default_rng(3).integers(0, 3, size=len(y)).astype(float)
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        grid = grid_search(cv=3, scoring=neg_mae).fit(X, y, sample_weight=sw)
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        model = SigmoidNeuronRegressorCV(
            LEARNRATES, EPOCHS, cv=3, scoring=neg_mae, random_state=0
        ).fit(X, y, sample_weight=sw)
    assert_same_search(model, grid)


def test_diverging_learnrate_scores_error_score_like_gridsearchcv():
    # with log loss the error term does not vanish, so an absurd learning rate
    # makes the weights overflow after a few epochs, in both searches
    X, y = make_data(n_samples=40, n_features=3)
    learnrates, epochs = [0.5, 1e308], [1, 2, 5]
    splits = list(KFold(4).split(X))
    nonfinite = pytest.warns(UserWarning, match="test scores are non-finite")
    with nonfinite, pytest.warns(FitFailedWarning) as record:
        grid = grid_search(learnrates, epochs, cv=splits, loss="log_loss").fit(X, y)
    # the same number of failed (candidate, split) fits as GridSearchCV's
    failed = re.search(r"\d+ fits failed out of a total of 24", str(record[0].message))
    with nonfinite, pytest.warns(FitFailedWarning, match=failed.group()):
        model = SigmoidNeuronRegressorCV(
            learnrates, epochs, cv=splits, loss="log_loss", random_state=0
        ).fit(X, y)
    mean = model.cv_results_["mean_test_score"]
    assert np.isnan(mean).sum() == 2
    assert_allclose(mean, grid.cv_results_["mean_test_score"], atol=1e-8)
    assert_array_equal(
        model.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"]
    )
    with pytest.raises(ValueError, match=r"learnrate=1e\+308 is too large"):
        SigmoidNeuronRegressorCV(
            learnrates,
            epochs,
            cv=splits,
            loss="log_loss",
            random_state=0,
            error_score="raise",
        ).fit(X, y)
    # when every fit fails, both searches raise
    with pytest.raises(ValueError, match="All the 4 fits failed"):
        grid_search([1e308], [5], cv=splits, loss="log_loss").fit(X, y)
    with pytest.raises(ValueError, match="All the 4 fits failed"):
        SigmoidNeuronRegressorCV(
            [1e308], [5], cv=splits, loss="log_loss", random_state=0
        ).fit(X, y)


def test_works_inside_a_pipeline():
    X, y = make_data()
    X = 10 * X + 3
    pipe = make_pipeline(
        StandardScaler(),
        SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0),
    ).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    alone = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0)
    alone.fit(Xs, y)
    assert pipe[-1].best_params_ == alone.best_params_
    assert_allclose(pipe.predict(X), alone.predict(Xs), rtol=1e-12)


def test_as_the_estimator_of_an_outer_cross_validate():
    X, y = make_data(n_samples=60)
    model = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0)
    outer = KFold(3, shuffle=True, random_state=1)
    result = cross_validate(model, X, y, cv=outer, return_estimator=True)
    for k, (train, test) in enumerate(outer.split(X)):
        inner = grid_search(cv=3).fit(X[train], y[train])
        assert result["estimator"][k].best_params_ == inner.best_params_
        assert_allclose(result["test_score"][k], inner.score(X[test], y[test]))


def test_the_compiled_bank_matches_gridsearchcv_on_any_thread_count(monkeypatch):
    # training parts large enough for the compiled bank (10 learning rates:
    # two groups of 5, on two threads, then on one): the same scores to the
    # bit, and GridSearchCV's
    pytest.importorskip("numba")
    from sk_sigmoid_neuron import _gd

    paths = []
    init = _gd.EpochKernel.__init__

    def spy(kernel, *args, **kwargs):
        init(kernel, *args, **kwargs)
        paths.append((kernel.path, kernel.n_threads))

    monkeypatch.setattr(_gd.EpochKernel, "__init__", spy)
    X, y = make_data(4500, 25)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    learnrates, epochs = list(np.geomspace(0.05, 5.0, 10)), [15, 40]
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    models = {}
    for threads in (2, 1):
        monkeypatch.setattr(_gd, "_blas_threads", lambda threads=threads: threads)
        paths.clear()
        models[threads] = SigmoidNeuronRegressorCV(
            learnrates, epochs, cv=splits, random_state=0
        ).fit(X, y, sample_weight=sw)
        assert paths[:3] == [("bank", threads)] * 3  # the folds; then the refit
    for key in models[1].cv_results_:
        if key.endswith("test_score"):
            assert_array_equal(models[2].cv_results_[key], models[1].cv_results_[key])
    grid = grid_search(learnrates, epochs, cv=splits).fit(X, y, sample_weight=sw)
    assert_same_search(models[2], grid)


def test_checkpoint_scores_run_on_one_blas_thread():
    # a threaded product leaves OpenBLAS's workers spinning on the cores that
    # the bank's threads need next: the scoring between segments uses one
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []

    def scorer(estimator, X, y):
        info = threadpool_info()
        seen.append({i["num_threads"] for i in info if i["user_api"] == "blas"})
        return estimator.score(X, y)

    X, y = make_data()
    with threadpool_limits(limits=2, user_api="blas"):
        outside = {
            i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
        }
        if outside != {2}:
            pytest.skip("this BLAS cannot run on two threads here")
        SigmoidNeuronRegressorCV([0.3, 3.0], [5, 10], cv=2, scoring=scorer).fit(X, y)
    assert len(seen) == 2 * 2 * 2  # folds x checkpoints x learning rates
    assert all(threads == {1} for threads in seen), seen


def test_n_jobs_gives_the_same_results():
    X, y = make_data()
    one = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0)
    two = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=3, random_state=0, n_jobs=2)
    one.fit(X, y)
    two.fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "rank_test_score"):
        assert_array_equal(one.cv_results_[key], two.cv_results_[key])
    assert_array_equal(one.coef_, two.coef_)


def test_feature_names_are_kept():
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    model = SigmoidNeuronRegressorCV([1.0], [10], cv=3, random_state=0).fit(df, y)
    assert_array_equal(model.feature_names_in_, df.columns)
    assert_array_equal(model.best_estimator_.feature_names_in_, df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(df)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"learnrates": []}, "learnrates must be a non-empty 1-D list"),
        ({"learnrates": [[0.1, 1.0]]}, "learnrates must be a non-empty 1-D list"),
        ({"learnrates": [0.1, 0.0]}, "learnrates must all be positive and finite"),
        ({"learnrates": [0.1, np.inf]}, "learnrates must all be positive and finite"),
        ({"learnrates": ["fast"]}, "learnrates must be a list of positive numbers"),
        ({"learnrates": 0.5}, "'learnrates' parameter .* must be an array-like"),
        ({"epochs": 0}, "'epochs' parameter"),
        ({"epochs": []}, "epochs must be an int or a non-empty 1-D list"),
        ({"epochs": [10, 0]}, r"epochs must hold whole numbers >= 1"),
        ({"epochs": [10.5, 20]}, r"epochs must hold whole numbers >= 1"),
        ({"scoring": "accuracy_of_sorts"}, "'scoring' parameter"),
        ({"error_score": "ignore"}, "'error_score' parameter"),
        ({"target_scaling": (1.0, 0.0)}, r"needs finite low < high"),
        ({"target_scaling": None}, r"target_scaling=None needs \[0, 1\]"),
    ],
)
def test_bad_input_has_a_clear_message_and_keeps_the_model(params, message):
    X, y = make_data()
    model = SigmoidNeuronRegressorCV([1.0], [10], cv=3, random_state=0).fit(X, y)
    coef, results = model.coef_.copy(), model.cv_results_
    model.set_params(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert model.cv_results_ is results
    assert_array_equal(model.coef_, coef)


def test_zero_weight_training_part_is_an_error():
    X, y = make_data(n_samples=30)
    sw = np.ones(30)
    sw[10:] = 0
    splits = [(np.arange(10, 30), np.arange(10))]
    model = SigmoidNeuronRegressorCV([1.0], [10], cv=splits)
    msg = re.escape("sample_weight sums to zero on the training part of CV split 0")
    with pytest.raises(ValueError, match=msg):
        model.fit(X, y, sample_weight=sw)
