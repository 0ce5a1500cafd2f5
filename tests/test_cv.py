"""SigmoidNeuronRegressorCV: the same search as GridSearchCV, in one pass per fold."""

import re
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import FitFailedWarning, UndefinedMetricWarning
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneOut,
    PredefinedSplit,
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
            cv_model.cv_results_[key],
            grid.cv_results_[key],
            rtol=0,
            atol=1e-8,
            equal_nan=True,
        )
    assert_array_equal(
        cv_model.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"]
    )
    assert cv_model.best_params_ == grid.best_params_
    assert cv_model.best_index_ == grid.best_index_
    assert_allclose(
        cv_model.best_score_, grid.best_score_, rtol=0, atol=1e-8, equal_nan=True
    )
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
    (message,) = [str(w.message) for w in record if w.category is FitFailedWarning]
    failed = re.search(r"\d+ fits failed out of a total of 24", message)
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


def warned(record):
    """The warnings of a search: how many of each category and message head."""
    return Counter((w.category, str(w.message).split(":")[0]) for w in record)


def both_searches(*, learnrates=(0.3, 1.0), epochs=(5, 20), **kwargs):
    """GridSearchCV and the CV estimator, unfitted, with the same settings."""
    grid = grid_search(list(learnrates), list(epochs), **kwargs)
    model = SigmoidNeuronRegressorCV(learnrates, epochs, random_state=0, **kwargs)
    return grid, model


def fit_both_warning(category, X, y, sample_weight=None, **kwargs):
    """Fit both searches, each warning ``category``; their results and warnings
    are the same."""
    grid, model = both_searches(**kwargs)
    with pytest.warns(category) as grid_record:
        grid.fit(X, y, sample_weight=sample_weight)
    with pytest.warns(category) as model_record:
        model.fit(X, y, sample_weight=sample_weight)
    assert_same_search(model, grid)
    assert warned(model_record) == warned(grid_record)
    return model, grid, model_record


def one_record_folds(name):
    """Splits with a validation part of one record, and data for them."""
    if name == "LeaveOneOut":
        X, y = make_data(n_samples=6, n_features=3)
        return X, y, list(LeaveOneOut().split(X))
    if name == "cv=2 on 3 rows":  # KFold(2): validation parts of 2 and 1 rows
        X, y = make_data(n_samples=3, n_features=3)
        return X, y, 2
    X, y = make_data(n_samples=12, n_features=3)
    return X, y, PredefinedSplit([0] * 5 + [1] * 6 + [2])  # fold 2: one record


@pytest.mark.parametrize(
    "folds", ["LeaveOneOut", "cv=2 on 3 rows", "PredefinedSplit with a 1-record fold"]
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("error_score", [np.nan, "raise"])
def test_one_record_validation_part_scores_nan_r2_like_gridsearchcv(
    folds, weighted, error_score
):
    # sklearn's R2 of one record is NaN with an UndefinedMetricWarning, not an
    # error (so error_score="raise" does not raise); a NaN split makes the
    # candidate's mean NaN, and with every mean NaN all rank 1, best_index_ 0
    X, y, cv = one_record_folds(folds)
    sw = np.arange(1.0, len(y) + 1) if weighted else None
    model, grid, record = fit_both_warning(
        UndefinedMetricWarning, X, y, sw, cv=cv, error_score=error_score
    )
    assert any(
        "R^2 score is not well-defined with less than two samples" in str(w.message)
        for w in record
    )
    assert np.isnan(grid.cv_results_["mean_test_score"]).all()
    assert model.best_index_ == 0
    assert_array_equal(model.cv_results_["rank_test_score"], 1)
    # the refit is the grid search's, all means NaN or not
    assert_allclose(model.coef_, grid.best_estimator_.coef_, rtol=1e-12)


def raises_for_learnrate_one(estimator, X, y):
    if estimator.learnrate_ == 1.0:
        raise ValueError("no score for learnrate 1.0")
    return estimator.score(X, y)


def always_raises(estimator, X, y):
    raise ValueError("no score at all")


@pytest.mark.parametrize("error_score", [np.nan, -1.0])
def test_scorer_that_raises_for_a_candidate_scores_error_score(error_score):
    X, y = make_data(n_samples=24, n_features=3)
    model, _, record = fit_both_warning(
        UserWarning,
        X,
        y,
        cv=3,
        scoring=raises_for_learnrate_one,
        error_score=error_score,
    )
    # GridSearchCV's warning, with the traceback, once per candidate and split
    failed = [w for w in record if str(w.message).startswith("Scoring failed")]
    assert len(failed) == 2 * 3  # two epoch counts x three splits
    message = str(failed[0].message)
    assert message.startswith(
        "Scoring failed. The score on this train-test partition for these "
        f"parameters will be set to {error_score}. Details: \n"
    )
    assert "ValueError: no score for learnrate 1.0" in message
    lr_one = model.cv_results_["param_learnrate"] == 1.0
    assert_array_equal(model.cv_results_["split0_test_score"][lr_one], error_score)
    assert np.isfinite(model.cv_results_["mean_test_score"][~lr_one]).all()


def test_scorer_that_always_raises_warns_and_ranks_all_first():
    # scoring failures never make the search fail (only fit failures do):
    # every score is NaN, all candidates rank 1, the first is refitted
    X, y = make_data(n_samples=24, n_features=3)
    model, grid, _ = fit_both_warning(UserWarning, X, y, cv=3, scoring=always_raises)
    assert np.isnan(model.cv_results_["mean_test_score"]).all()
    assert_array_equal(model.cv_results_["rank_test_score"], 1)
    assert model.best_index_ == 0
    assert model.best_params_ == {"epochs": 5, "learnrate": 0.3}
    assert_allclose(model.coef_, grid.best_estimator_.coef_, rtol=1e-12)


def test_error_score_raise_raises_the_scorers_exception():
    X, y = make_data(n_samples=24, n_features=3)
    grid, model = both_searches(
        cv=3, scoring=raises_for_learnrate_one, error_score="raise"
    )
    with pytest.raises(ValueError, match="no score for learnrate 1.0"):
        grid.fit(X, y)
    with pytest.raises(ValueError, match="no score for learnrate 1.0"):
        model.fit(X, y)
    assert not hasattr(model, "cv_results_")


def zero_weight_validation_part():
    X, y = make_data(n_samples=12, n_features=3)
    sw = np.ones(len(y))
    sw[:4] = 0  # all of split 0's validation part
    splits = [(np.arange(4, 12), np.arange(4)), (np.arange(8), np.arange(8, 12))]
    return X, y, sw, splits


def test_validation_part_of_zero_weight_scores_error_score_like_gridsearchcv():
    # the weighted R2 of a part without weight raises in sklearn ("Sample
    # weights must contain at least one non-zero number"): a scoring failure
    X, y, sw, splits = zero_weight_validation_part()
    model, _, record = fit_both_warning(UserWarning, X, y, sw, cv=splits)
    assert any("at least one non-zero number" in str(w.message) for w in record)
    assert np.isnan(model.cv_results_["split0_test_score"]).all()
    assert np.isfinite(model.cv_results_["split1_test_score"]).all()
    grid, model = both_searches(cv=splits, error_score="raise")
    with pytest.raises(ValueError, match="at least one non-zero number"):
        grid.fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="at least one non-zero number"):
        model.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("error_score", [np.nan, -1.0])
def test_classification_scoring_on_a_continuous_target_scores_error_score(
    error_score,
):
    X, y = make_data(n_samples=24, n_features=3)
    model, _, record = fit_both_warning(
        UserWarning, X, y, cv=3, scoring="accuracy", error_score=error_score
    )
    assert_array_equal(model.cv_results_["mean_test_score"], error_score)
    assert "continuous is not supported" in str(record[0].message)


def test_classification_scoring_with_error_score_raise_raises_sklearns_error():
    X, y = make_data(n_samples=24, n_features=3)
    grid, model = both_searches(cv=3, scoring="accuracy", error_score="raise")
    with pytest.raises(ValueError) as grid_error:
        grid.fit(X, y)
    with pytest.raises(ValueError, match=re.escape(str(grid_error.value))):
        model.fit(X, y)


def test_r2_of_the_bank_is_one_call_where_it_is_defined(monkeypatch):
    # the fallback to candidate-by-candidate scoring is only for parts where
    # the bank's R2 is undefined: elsewhere no candidate's score is called
    from sk_sigmoid_neuron import _cv_folds

    def no_candidate(*args, **kwargs):
        raise AssertionError("a candidate was scored alone")

    monkeypatch.setattr(_cv_folds, "fitted_model", no_candidate)
    X, y = make_data()
    sw = np.random.default_rng(1).integers(0, 4, size=len(y)).astype(float)
    model = SigmoidNeuronRegressorCV(LEARNRATES, EPOCHS, cv=4, random_state=0)
    model.fit(X, y, sample_weight=sw)
    assert np.isfinite(model.cv_results_["mean_test_score"]).all()


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
    from sk_sigmoid_neuron import _kernels
    from sk_sigmoid_neuron._kernels import _base

    paths = []
    make_kernel = _kernels.make_kernel

    def spy(*args, **kwargs):
        kernel = make_kernel(*args, **kwargs)
        paths.append((kernel.path, kernel.n_threads))
        return kernel

    monkeypatch.setattr(_kernels, "make_kernel", spy)
    monkeypatch.setattr(_kernels, "BACKEND", "numba")
    X, y = make_data(4500, 25)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    learnrates, epochs = list(np.geomspace(0.05, 5.0, 10)), [15, 40]
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    models = {}
    for threads in (2, 1):
        monkeypatch.setattr(_base, "_blas_threads", lambda threads=threads: threads)
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
        ({"learnrates": [0.1, 0.0]}, "learnrates must hold positive, finite numbers"),
        ({"learnrates": [0.1, np.inf]}, r"or 'auto' .*; got inf in \[0.1, inf\]"),
        ({"learnrates": ["fast"]}, "got 'fast' in"),
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


@pytest.mark.parametrize("weighted", [False, True])
def test_auto_among_the_learnrates_is_gridsearchcvs_auto(weighted):
    # one vocabulary: "auto" is a candidate as in GridSearchCV, its step
    # computed on each training part as that fold's fit would
    X, y = make_data(n_samples=90)
    sw = np.random.default_rng(4).integers(0, 3, size=len(y)).astype(float)
    sw = sw if weighted else None
    learnrates = [0.3, "auto", 3.0]
    model = SigmoidNeuronRegressorCV(learnrates, EPOCHS, cv=3, random_state=0)
    model.fit(X, y, sample_weight=sw)
    grid = grid_search(learnrates, EPOCHS, cv=3).fit(X, y, sample_weight=sw)
    assert_same_search(model, grid)
    assert model.best_params_ == grid.best_params_
    assert model.cv_results_["param_learnrate"].dtype == object
    if model.learnrate_ == "auto":  # the step the refit took
        assert isinstance(model.best_estimator_.learnrate_, float)
