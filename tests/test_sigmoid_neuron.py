"""SigmoidNeuronRegressor: the documented rule, inputs, errors, and sklearn use."""

import math
import pickle
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.optimize import least_squares
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels


def reference_fit(X, t, w, b, learnrate, epochs, sample_weight=None, intercept=True):
    """The rule of SPEC.md, one record at a time, in plain Python floats."""
    X = [[float(v) for v in row] for row in X]
    t = [float(v) for v in t]
    s = [1.0] * len(X) if sample_weight is None else [float(v) for v in sample_weight]
    w, b = [float(v) for v in w], float(b)
    total = math.fsum(s)
    curve = []
    for _ in range(epochs):
        step_w, step_b, loss = [0.0] * len(w), 0.0, 0.0
        for x_i, t_i, s_i in zip(X, t, s, strict=True):
            h = sum(xj * wj for xj, wj in zip(x_i, w, strict=True)) + b
            y_hat = 1.0 / (1.0 + math.exp(-h))
            delta = (t_i - y_hat) * y_hat * (1.0 - y_hat)
            step_w = [a + s_i * delta * xj for a, xj in zip(step_w, x_i, strict=True)]
            step_b += s_i * delta
            loss += s_i * 0.5 * (t_i - y_hat) ** 2
        curve.append(loss / total)
        w = [wj + learnrate * a / total for wj, a in zip(w, step_w, strict=True)]
        if intercept:
            b += learnrate * step_b / total
    return np.array(w), b, np.array(curve)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = 2.0 + X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=40)
    return X, y


def minmax(y):
    return (y - y.min()) / (y.max() - y.min())


# -- the rule -----------------------------------------------------------------
def test_seed_worked_example_to_the_last_digit():
    # SPEC.md's table, computed as the seed does it
    x, y, w, learnrate = np.array([0.1, 0.3]), 0.2, np.array([-0.8, 0.5]), 0.5
    h = x[0] * w[0] + x[1] * w[1]
    y_hat = 1 / (1 + np.exp(-h))
    delta = (y - y_hat) * (y_hat * (1 - y_hat))  # error * sigmoid_prime(h)
    assert_allclose(h, 0.07, rtol=1e-15)
    assert y_hat == 0.5174928576663897
    assert delta == -0.07927606158013766
    expected = w + learnrate * delta * x
    assert_allclose(expected, [-0.8039638031, 0.4881085908], atol=5e-11)

    model = SigmoidNeuronRegressor(
        learnrate=0.5, epochs=1, fit_intercept=False, target_scaling=None
    ).fit([[0.1, 0.3]], [0.2], coef_init=[-0.8, 0.5])
    assert_allclose(model.coef_, expected, rtol=1e-15, atol=0)
    assert model.intercept_ == 0.0
    assert_allclose(model.loss_curve_, [0.5 * (y - y_hat) ** 2], rtol=1e-15)


def test_batch_rule_matches_per_record_reference(data):
    X, y = data
    model = SigmoidNeuronRegressor(learnrate=1.5, epochs=30, random_state=3)
    model.fit(X, y)
    w0 = np.random.RandomState(3).normal(0, 1 / np.sqrt(3), size=3)
    w, b, curve = reference_fit(X, minmax(y), w0, 0.0, 1.5, 30)
    assert_allclose(model.coef_, w, rtol=1e-10)
    assert_allclose(model.intercept_, b, rtol=1e-10)
    assert_allclose(model.loss_curve_, curve, rtol=1e-10)
    assert model.n_iter_ == 30


def test_weighted_rule_matches_per_record_reference(data):
    X, y = data
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=len(y))
    model = SigmoidNeuronRegressor(learnrate=2.0, epochs=25, random_state=0)
    model.fit(X, y, sample_weight=sw)
    w0 = np.random.RandomState(0).normal(0, 1 / np.sqrt(3), size=3)
    w, b, curve = reference_fit(X, minmax(y), w0, 0.0, 2.0, 25, sample_weight=sw)
    assert_allclose(model.coef_, w, rtol=1e-10)
    assert_allclose(model.intercept_, b, rtol=1e-10)
    assert_allclose(model.loss_curve_, curve, rtol=1e-10)


def test_no_intercept_keeps_intercept_init(data):
    X, y = data
    model = SigmoidNeuronRegressor(
        learnrate=0.5, epochs=10, fit_intercept=False, random_state=0
    )
    model.fit(X, y, intercept_init=0.25)
    w0 = np.random.RandomState(0).normal(0, 1 / np.sqrt(3), size=3)
    w, b, _ = reference_fit(X, minmax(y), w0, 0.25, 0.5, 10, intercept=False)
    assert model.intercept_ == 0.25
    assert_allclose(model.coef_, w, rtol=1e-10)


def test_start_is_normal_scaled_by_sqrt_n_features(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=1, learnrate=1e-300, random_state=7)
    model.fit(X, y)
    w0 = np.random.RandomState(7).normal(0, 1 / np.sqrt(3), size=3)
    assert_allclose(model.coef_, w0, rtol=1e-15)
    assert model.intercept_ == pytest.approx(0.0, abs=1e-290)


def test_long_fit_reaches_the_least_squares_optimum(data):
    X, y = data
    t = minmax(y)

    def residuals(p):
        return 1 / (1 + np.exp(-(X @ p[:3] + p[3]))) - t

    optimum = least_squares(residuals, np.zeros(4), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    best = 0.5 * np.mean(optimum.fun**2)
    model = SigmoidNeuronRegressor(learnrate=5.0, epochs=20000, random_state=0)
    model.fit(X, y)
    final = 0.5 * np.mean(residuals(np.r_[model.coef_, model.intercept_]) ** 2)
    assert final == pytest.approx(best, rel=1e-6)
    assert_allclose(model.coef_, optimum.x[:3], rtol=1e-4)


# -- sample weights --------------------------------------------------------------
def test_integer_weights_equal_repetition(data):
    X, y = data
    sw = np.random.RandomState(2).randint(1, 4, size=len(y))
    weighted = SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X, y, sw)
    repeated = SigmoidNeuronRegressor(epochs=50, random_state=0).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-12)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-12)
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)


def test_zero_weight_removes_the_record(data):
    X, y = data
    y = y.copy()
    y[0] = 1e6  # outside every range; weight 0 keeps it out of minmax too
    sw = np.ones(len(y))
    sw[0] = 0
    weighted = SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X, y, sw)
    removed = SigmoidNeuronRegressor(epochs=50, random_state=0).fit(X[1:], y[1:])
    assert_allclose(weighted.coef_, removed.coef_, rtol=1e-12)
    assert_allclose(weighted.intercept_, removed.intercept_, rtol=1e-12)
    assert_allclose(weighted.target_range_, [y[1:].min(), y[1:].max()])


@pytest.fixture(params=["numpy", "numba"])
def backend(request, monkeypatch):
    monkeypatch.setattr(_kernels, "BACKEND", request.param)
    return request.param


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_only_the_ratios_of_the_weights_matter_even_near_overflow(
    data, fmt, dtype, backend
):
    # weights are scaled by a power of two (exact) to a largest one in
    # [0.5, 1): powers of two give the bits of unit weights, other huge or tiny
    # weights the same fit to rounding, where they overflowed float32 once
    X, y = data
    X = (X * 100).astype(dtype)
    X = sparse.csr_matrix(X) if fmt == "csr" else X

    def fit(weight):
        model = SigmoidNeuronRegressor(epochs=5, learnrate=0.001, random_state=0)
        return model.fit(X, y, sample_weight=np.full(len(y), weight))

    unit = fit(1.0)
    for weight in (2.0**120, 2.0**-100):
        model = fit(weight)
        assert_array_equal(model.coef_, unit.coef_)
        assert_array_equal(model.intercept_, unit.intercept_)
        assert_array_equal(model.loss_curve_, unit.loss_curve_)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for weight in (1e37, 1.5e37, 1e-30, 1e308):  # 1e308: their sum overflows
        model = fit(weight)
        assert_allclose(model.coef_, unit.coef_, rtol=rtol)
        assert_allclose(model.loss_curve_, unit.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("start", [None, [2.0, -2.0, 0.5]])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_a_record_of_weight_zero_is_absent_even_with_huge_x(
    data, fmt, loss, start, backend
):
    # x w overflows for the huge record (to inf - inf = nan from the start
    # [2, -2, 0.5]); with weight 0 it must not reach the sums (0 * nan is nan)
    X, y = data
    X_huge = np.r_[X, [[1e308] * X.shape[1]]]
    y_huge = np.r_[np.clip(y / y.max(), 0, 1), 0.3]
    sw = np.r_[np.ones(len(y)), 0.0]
    kw = dict(epochs=5, loss=loss, target_scaling=None, random_state=0)
    A = sparse.csr_matrix(X_huge) if fmt == "csr" else X_huge
    with_row = SigmoidNeuronRegressor(**kw).fit(
        A, y_huge, sample_weight=sw, coef_init=start
    )
    without = SigmoidNeuronRegressor(**kw).fit(X, y_huge[:-1], coef_init=start)
    assert_allclose(with_row.coef_, without.coef_, rtol=1e-12)
    assert_allclose(with_row.loss_curve_, without.loss_curve_, rtol=1e-12)
    assert with_row.n_features_in_ == X.shape[1]


def test_a_record_of_weight_zero_is_absent_from_partial_fit_and_the_split(
    data, backend
):
    # early_stopping splits the records present, so the split is that of the
    # data without the record
    X, y = data
    X_huge = np.r_[X[:20], [[1e308, -1e308, 1e308]], X[20:]]
    y_huge = np.r_[y[:20], 1e6, y[20:]]  # outside every range too
    sw = np.r_[np.ones(20), 0.0, np.ones(len(y) - 20)]
    kw = dict(epochs=20, early_stopping=True, tol=0.0, n_iter_no_change=3)
    model = SigmoidNeuronRegressor(random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with_row = clone(model).fit(X_huge, y_huge, sample_weight=sw)
        without = clone(model).fit(X, y)
    assert_allclose(with_row.coef_, without.coef_, rtol=1e-12)
    assert_allclose(with_row.validation_loss_curve_, without.validation_loss_curve_)

    with_row = SigmoidNeuronRegressor(random_state=0).partial_fit(
        X_huge, y_huge, sample_weight=sw
    )
    without = SigmoidNeuronRegressor(random_state=0).partial_fit(X, y)
    with_row.partial_fit(X_huge, y_huge, sample_weight=sw)
    without.partial_fit(X, y)
    assert_allclose(with_row.coef_, without.coef_, rtol=1e-12)
    assert_allclose(with_row.target_range_, without.target_range_)
    assert_allclose(with_row.loss_curve_, without.loss_curve_, rtol=1e-12)


def test_record_order_does_not_matter(data):
    X, y = data
    perm = np.random.RandomState(0).permutation(len(y))
    a = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X, y)
    b = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X[perm], y[perm])
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)


# -- inputs ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(data, fmt):
    X, y = data
    X = X.copy()
    X[X < 0] = 0
    dense = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X, y)
    sp = sparse.csr_matrix(X).asformat(fmt)
    model = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(sp, y)
    assert_allclose(model.coef_, dense.coef_, rtol=1e-12)
    assert_allclose(model.loss_curve_, dense.loss_curve_, rtol=1e-12)
    assert_allclose(model.predict(sparse.csr_array(X)), dense.predict(X), rtol=1e-12)


def test_float32_stays_float32(data):
    X, y = data
    X32 = X.astype(np.float32)
    model = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X32, y)
    assert model.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    assert model.predict(X32).dtype == np.float32
    ref = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X, y)
    assert_allclose(model.coef_, ref.coef_, rtol=1e-4)


def test_ints_lists_and_pandas(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    Xi = np.round(X * 10).astype(int)
    from_int = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(Xi, y)
    from_list = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(
        Xi.tolist(), y.tolist()
    )
    assert_array_equal(from_int.coef_, from_list.coef_)
    frame = pd.DataFrame(Xi, columns=["a", "b", "c"])
    from_frame = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(
        frame, pd.Series(y)
    )
    assert_array_equal(from_frame.coef_, from_int.coef_)
    assert list(from_frame.feature_names_in_) == ["a", "b", "c"]
    assert from_frame.n_features_in_ == 3
    with pytest.raises(ValueError, match="feature names"):
        from_frame.predict(frame.rename(columns={"a": "z"}))


def test_read_only_memmap(tmp_path, data):
    X, y = data
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    model = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(Xm, y)
    ref = SigmoidNeuronRegressor(epochs=20, random_state=0).fit(X, y)
    assert_array_equal(model.coef_, ref.coef_)
    assert_array_equal(model.predict(Xm), ref.predict(X))


def test_multi_output_equals_separate_fits(data):
    X, y = data
    Y = np.column_stack([y, -3 * y + 1, np.sin(y)])
    multi = SigmoidNeuronRegressor(epochs=60, random_state=4).fit(X, Y)
    assert multi.coef_.shape == (3, 3)
    assert multi.intercept_.shape == (3,)
    assert multi.predict(X).shape == (40, 3)
    assert multi.target_range_.shape == (3, 2)
    losses = []
    for j in range(3):
        single = SigmoidNeuronRegressor(epochs=60, random_state=4).fit(X, Y[:, j])
        assert_allclose(multi.coef_[j], single.coef_, rtol=1e-12)
        assert_allclose(multi.intercept_[j], single.intercept_, rtol=1e-12)
        assert_allclose(multi.predict(X)[:, j], single.predict(X), rtol=1e-12)
        losses.append(single.loss_curve_)
    # the loss curve of several outputs is the mean over outputs
    assert_allclose(multi.loss_curve_, np.mean(losses, axis=0), rtol=1e-12)


def test_column_y_keeps_2d_shapes(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y[:, None])
    assert model.coef_.shape == (1, 3)
    assert model.predict(X).shape == (40, 1)


# -- target scaling ---------------------------------------------------------------
def test_minmax_maps_the_sigmoid_onto_the_target_range(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=30, random_state=0).fit(X, y)
    assert_allclose(model.target_range_, [y.min(), y.max()])
    h = X @ model.coef_ + model.intercept_
    expected = y.min() + (y.max() - y.min()) / (1 + np.exp(-h))
    assert_allclose(model.predict(X), expected, rtol=1e-12)


def test_explicit_range_and_none(data):
    X, y = data
    t = minmax(y)
    none = SigmoidNeuronRegressor(epochs=30, target_scaling=None, random_state=0)
    none.fit(X, t)
    bounded = SigmoidNeuronRegressor(
        epochs=30, target_scaling=(-10, 30), random_state=0
    )
    bounded.fit(X, -10 + 40 * t)
    assert_allclose(bounded.coef_, none.coef_, rtol=1e-10)
    assert_allclose(bounded.predict(X), -10 + 40 * none.predict(X), rtol=1e-10)
    assert_allclose(bounded.target_range_, [-10, 30])


def test_constant_target_predicts_the_constant(data):
    X, _ = data
    model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(X, np.full(40, 3.5))
    assert_array_equal(model.predict(X), np.full(40, 3.5))


# -- partial_fit and warm_start ----------------------------------------------------
def test_partial_fit_k_times_equals_fit_k_epochs(data):
    X, y = data
    stream = SigmoidNeuronRegressor(random_state=5)
    for _ in range(7):
        stream.partial_fit(X, y)
    batch = SigmoidNeuronRegressor(epochs=7, random_state=5).fit(X, y)
    assert_allclose(stream.coef_, batch.coef_, rtol=1e-13)
    assert_allclose(stream.intercept_, batch.intercept_, rtol=1e-13)
    assert_allclose(stream.loss_curve_, batch.loss_curve_, rtol=1e-13)
    assert stream.n_iter_ == 7


def test_warm_start_continues_the_same_descent(data):
    X, y = data
    warm = SigmoidNeuronRegressor(epochs=6, warm_start=True, random_state=1)
    warm.fit(X, y).fit(X, y)
    cold = SigmoidNeuronRegressor(epochs=12, random_state=1).fit(X, y)
    assert_allclose(warm.coef_, cold.coef_, rtol=1e-13)
    assert_allclose(warm.loss_curve_, cold.loss_curve_, rtol=1e-13)
    assert warm.n_iter_ == 12


def test_warm_start_takes_an_explicit_init_for_its_part(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=3, warm_start=True, random_state=0)
    model.fit(X, y)
    coef = model.coef_.copy()
    model.fit(X, y, intercept_init=0.7)  # the bias replaced, the weights kept
    ref = SigmoidNeuronRegressor(epochs=3, random_state=0)
    ref.fit(X, y, coef_init=coef, intercept_init=0.7)
    assert_allclose(model.coef_, ref.coef_, rtol=1e-13)
    assert_allclose(model.intercept_, ref.intercept_, rtol=1e-13)
    assert model.n_iter_ == 6  # the epochs count on
    assert_allclose(model.loss_curve_[3:], ref.loss_curve_, rtol=1e-13)

    intercept = model.intercept_
    model.fit(X, y, coef_init=np.zeros(X.shape[1]))  # the weights replaced
    ref.set_params(warm_start=False)
    ref.fit(X, y, coef_init=np.zeros(X.shape[1]), intercept_init=intercept)
    assert_allclose(model.coef_, ref.coef_, rtol=1e-13)
    assert model.n_iter_ == 9


def test_an_init_beyond_float32_is_a_clear_error_that_keeps_the_model(data):
    X, y = data
    X32 = X.astype(np.float32)
    model = SigmoidNeuronRegressor(epochs=3, random_state=0).fit(X32, y)
    before = fitted_state(model)
    big = np.zeros(X.shape[1])
    big[0] = 1e39
    with pytest.raises(
        ValueError, match=r"coef_init has values up to 1e\+39, beyond float32"
    ):
        model.fit(X32, y, coef_init=big)
    with pytest.raises(ValueError, match=r"intercept_init .* beyond float32.*float64"):
        model.fit(X32, y, intercept_init=-1e40)
    assert fitted_state(model) == before
    # float64 X holds them
    SigmoidNeuronRegressor(epochs=3).fit(X, y, coef_init=big)


def test_partial_fit_batches_are_mini_batch_steps(data):
    X, y = data
    model = SigmoidNeuronRegressor(learnrate=1.0, random_state=0)
    lo, hi = y.min(), y.max()
    model.partial_fit(X, y)
    w, b = model.coef_.copy(), model.intercept_
    model.partial_fit(X[:10], y[:10])
    w_ref, b_ref, _ = reference_fit(X[:10], (y[:10] - lo) / (hi - lo), w, b, 1.0, 1)
    assert_allclose(model.coef_, w_ref, rtol=1e-12)
    assert_allclose(model.intercept_, b_ref, rtol=1e-12)


# -- stopping, verbose, early stopping ------------------------------------------
def test_tol_stops_when_the_loss_stops_improving(data):
    X, y = data
    model = SigmoidNeuronRegressor(
        learnrate=5.0, epochs=5000, tol=1e-7, n_iter_no_change=5, random_state=0
    ).fit(X, y)
    curve = np.array(model.loss_curve_)
    assert model.n_iter_ < 5000
    # tol is relative: each of the last n_iter_no_change epochs improved on the
    # best so far by less than tol times it, and the epoch before them by more
    best_so_far = np.minimum.accumulate(curve)
    assert np.all(curve[-5:] > best_so_far[-6:-1] * (1 - 1e-7))
    assert curve[-6] <= best_so_far[-7] * (1 - 1e-7)


def test_tol_not_reached_warns(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match=r"use epochs=\d+ for convergence"):
        SigmoidNeuronRegressor(epochs=5, tol=1e-12, random_state=0).fit(X, y)


def test_no_tol_runs_every_epoch_without_warning(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X, y)
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 5
    assert model.validation_loss_curve_ is None


def test_verbose_prints_the_loss(data, capsys):
    X, y = data
    SigmoidNeuronRegressor(epochs=20, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("Epoch 2, loss = ")
    assert lines[-1].startswith("Epoch 20, loss = ")
    assert len(lines) == 10
    SigmoidNeuronRegressor(epochs=3, verbose=2, random_state=0).fit(X, y)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_early_stopping_keeps_the_best_validation_weights():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 8))
    y = X[:, 0] + rng.normal(size=60)  # noisy: the validation loss turns up
    model = SigmoidNeuronRegressor(
        learnrate=20.0,
        epochs=400,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=20,
        random_state=0,
    ).fit(X, y)
    val = np.array(model.validation_loss_curve_)
    assert len(val) == model.n_iter_ == len(model.loss_curve_)
    best = int(np.argmin(val))
    assert best < model.n_iter_ - 1
    # replay: the same split, best + 1 epochs, no early stopping
    train, _ = train_test_split(
        np.arange(60), test_size=0.25, random_state=np.random.RandomState(0)
    )
    t = minmax(y)  # the range is learned on all of y, before the split
    w0 = np.random.RandomState(0).normal(0, 1 / np.sqrt(8), size=8)
    w, b, _ = reference_fit(X[train], t[train], w0, 0.0, 20.0, best + 1)
    assert_allclose(model.coef_, w, rtol=1e-9)
    assert_allclose(model.intercept_, b, rtol=1e-9)


# -- bad input -------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, y, message",
    [
        ([[np.nan, 1.0], [1.0, 2.0]], [0.0, 1.0], "NaN"),
        ([[np.inf, 1.0], [1.0, 2.0]], [0.0, 1.0], "infinity"),
        ([[0.0, 1.0], [1.0, 2.0]], [np.nan, 1.0], "NaN"),
        (np.empty((0, 2)), [], "0 sample"),
        ([[0.0, 1.0], [1.0, 2.0]], [0.0, 1.0, 2.0], "inconsistent numbers"),
    ],
)
def test_bad_data_is_a_clear_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        SigmoidNeuronRegressor().fit(X, y)


def test_y_outside_unit_interval_names_target_scaling(data):
    X, y = data
    with pytest.raises(ValueError, match=r"target_scaling=None needs \[0, 1\]"):
        SigmoidNeuronRegressor(target_scaling=None).fit(X, y)
    with pytest.raises(ValueError, match=r"outside target_scaling=\[0, 1\.5\]"):
        SigmoidNeuronRegressor(target_scaling=(0, 1.5)).fit(X, minmax(y) * 2)


@pytest.mark.parametrize("bad", [(1, 1), (2, 1), (0, np.inf), ("a", 1), (1, 2, 3)])
def test_bad_target_scaling_tuple(data, bad):
    X, y = data
    with pytest.raises(ValueError, match="target_scaling"):
        SigmoidNeuronRegressor(target_scaling=bad).fit(X, y)


def test_invalid_parameters_name_the_parameter(data):
    X, y = data
    for params, name in [
        ({"learnrate": 0}, "learnrate"),
        ({"epochs": 0}, "epochs"),
        ({"target_scaling": "zscore"}, "target_scaling"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ]:
        with pytest.raises(ValueError, match=f"'{name}' parameter"):
            SigmoidNeuronRegressor(**params).fit(X, y)


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.zeros(40), "non-zero|sums to zero"),
        (np.r_[-1.0, np.ones(39)], "[Nn]egative"),
        (np.ones(39), "shape"),
    ],
)
def test_bad_weights(data, weights, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        SigmoidNeuronRegressor().fit(X, y, sample_weight=weights)


def test_wrong_init_shapes(data):
    X, y = data
    with pytest.raises(ValueError, match=r"coef_init has shape \(2,\)"):
        SigmoidNeuronRegressor().fit(X, y, coef_init=[1.0, 2.0])
    with pytest.raises(ValueError, match="intercept_init has shape"):
        SigmoidNeuronRegressor().fit(X, y, intercept_init=[1.0, 2.0])
    with pytest.raises(ValueError, match="coef_init contains NaN"):
        SigmoidNeuronRegressor().fit(X, y, coef_init=[np.nan, 0, 0])


def test_predict_needs_fit_and_the_same_features(data):
    X, y = data
    with pytest.raises(NotFittedError):
        SigmoidNeuronRegressor().predict(X)
    model = SigmoidNeuronRegressor(epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        model.predict(X[:, :2])


def fitted_state(model):
    return pickle.dumps({k: v for k, v in vars(model).items() if k.endswith("_")})


def test_failed_calls_leave_the_model_unchanged(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(X, y)
    before = fitted_state(model)
    failing = [
        lambda: model.partial_fit(X, y + 100),  # outside the learned range
        lambda: model.partial_fit(X[:, :2], y),
        lambda: model.partial_fit(X, np.column_stack([y, y])),
        lambda: model.fit(X[:, :2], y * np.nan),
        lambda: model.fit(X, y, sample_weight=np.zeros(40)),
        lambda: model.set_params(target_scaling=None).fit(X, y),
    ]
    for call in failing:
        with pytest.raises(ValueError):
            call()
        assert fitted_state(model) == before
    model.set_params(target_scaling="minmax")
    assert_array_equal(model.predict(X), pickle.loads(pickle.dumps(model)).predict(X))


@pytest.mark.parametrize("first", ["fit", "partial_fit"])
def test_partial_fit_outside_learned_range_suggests_a_range(data, first):
    X, y = data
    model = getattr(SigmoidNeuronRegressor(epochs=3), first)(X, y)
    message = r"learned when the model was first fitted \(by fit or the first "
    with pytest.raises(
        ValueError, match=message + r"partial_fit batch\).*\(low, high\)"
    ):
        model.partial_fit(X, y * 10)


def test_divergence_is_an_error_that_keeps_the_old_model():
    # from a zero start the first step is finite but so large that the next
    # pre-activations overflow
    X = np.array([[1e3, 1.0], [-1e3, 2.0], [3e2, 0.0]])
    y = np.array([0.0, 1.0, 0.5])
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(X / 1e3, y)
    before = fitted_state(model)
    with pytest.raises(ValueError, match="smaller learnrate.*scale X"):
        model.set_params(learnrate=1e308).fit(X, y, coef_init=[0.0, 0.0])
    assert fitted_state(model) == before


# -- in scikit-learn ----------------------------------------------------------------
def test_grid_search_over_learnrate_in_a_pipeline(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(), SigmoidNeuronRegressor(epochs=200, random_state=0)
    )
    search = GridSearchCV(
        pipe,
        {"sigmoidneuronregressor__learnrate": [0.01, 1.0, 10.0]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    # 200 steps of 0.01 barely move from the start; 1.0 and 10.0 converge
    assert scores[0] < 0.5 < 0.9 < min(scores[1:])
    best = search.best_params_["sigmoidneuronregressor__learnrate"]
    assert best == [0.01, 1.0, 10.0][int(np.argmax(scores))]
    assert search.best_estimator_[-1].learnrate == best
    assert search.score(X, y) > 0.9


def test_pickle_round_trip(data):
    X, y = data
    model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == model.get_params()


def test_repr_and_docstring_parameters():
    text = SigmoidNeuronRegressor.__doc__
    for name in SigmoidNeuronRegressor().get_params():
        assert re.search(rf"^    {name} : ", text, flags=re.M), name
