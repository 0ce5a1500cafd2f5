"""LossCurveDisplay, drawn with matplotlib's Agg backend."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = 3.0 * np.tanh(X @ [1.0, -0.5, 0.25]) + 0.1 * rng.normal(size=120)
    return X, y


def test_lines_hold_the_training_curve(data):
    model = SigmoidNeuronRegressor(learnrate=2.0, epochs=25, random_state=0)
    model.fit(*data)
    display = LossCurveDisplay.from_estimator(model)

    assert len(display.lines_) == 1
    line = display.lines_[0]
    # loss_curve_[k] is the loss after k epochs
    assert_array_equal(line.get_xdata(), np.arange(25))
    assert_array_equal(line.get_ydata(), np.array(model.loss_curve_))
    assert line.get_label() == "SigmoidNeuronRegressor"
    assert display.ax_.get_xlabel() == "Epochs completed"
    assert display.ax_.get_ylabel() == "Loss"
    assert display.figure_ is display.ax_.figure


def test_early_stopping_adds_the_validation_curve(data):
    model = SigmoidNeuronRegressor(
        learnrate=2.0,
        epochs=40,
        early_stopping=True,
        tol=0.0,
        n_iter_no_change=40,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(*data)
    display = LossCurveDisplay.from_estimator(model, name="neuron")

    train, val = display.lines_
    assert_array_equal(train.get_ydata(), np.array(model.loss_curve_))
    assert_array_equal(val.get_ydata(), np.array(model.validation_loss_curve_))
    # the validation loss is computed after each epoch: epochs 1 .. 40
    assert_array_equal(val.get_xdata(), np.arange(1, 41))
    assert train.get_label() == "neuron (training)"
    assert val.get_label() == "neuron (validation)"
    assert val.get_color() == train.get_color()
    assert val.get_linestyle() == "--"
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["neuron (training)", "neuron (validation)"]


def test_validation_curve_of_a_warm_start_ends_at_the_last_epoch():
    # a warm start continues loss_curve_ but starts a new validation curve
    display = LossCurveDisplay(
        loss_curve=[0.5, 0.4, 0.3, 0.25, 0.2], validation_loss_curve=[0.31, 0.28]
    ).plot()

    train, val = display.lines_
    assert_array_equal(train.get_xdata(), [0, 1, 2, 3, 4])
    assert_array_equal(val.get_xdata(), [4, 5])
    assert train.get_label() == "Training loss"
    assert val.get_label() == "Validation loss"


def test_several_models_on_one_axes(data):
    fig, ax = plt.subplots()
    displays = []
    for learnrate in (0.1, 1.0, 10.0):
        model = SigmoidNeuronRegressor(learnrate=learnrate, epochs=20, random_state=0)
        model.fit(*data)
        displays.append(
            LossCurveDisplay.from_estimator(
                model, ax=ax, name=f"learnrate={learnrate:g}"
            )
        )
        assert_array_equal(
            displays[-1].lines_[0].get_ydata(), np.array(model.loss_curve_)
        )

    assert all(d.ax_ is ax and d.figure_ is fig for d in displays)
    assert ax.get_lines() == [d.lines_[0] for d in displays]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["learnrate=0.1", "learnrate=1", "learnrate=10"]


def test_a_figure_is_produced(data, tmp_path):
    model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(*data)
    before = set(plt.get_fignums())
    display = LossCurveDisplay.from_estimator(model)

    assert set(plt.get_fignums()) - before == {display.figure_.number}
    path = tmp_path / "loss.png"
    display.figure_.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_redraws_on_new_axes_with_a_new_name(data):
    model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(*data)
    display = LossCurveDisplay.from_estimator(model)
    first_ax = display.ax_

    _, ax = plt.subplots()
    display.plot(ax=ax, name="again", line_kwargs={"color": "black", "lw": 3})

    assert display.ax_ is ax and ax is not first_ax
    assert display.lines_[0].get_label() == "again"
    assert display.lines_[0].get_color() == "black"
    assert display.lines_[0].get_linewidth() == 3


def test_validation_line_style_can_be_overridden_by_alias(data):
    display = LossCurveDisplay(
        loss_curve=[0.3, 0.2], validation_loss_curve=[0.25, 0.2]
    ).plot(validation_line_kwargs={"c": "red", "ls": ":"})

    val = display.lines_[1]
    assert val.get_color() == "red"
    assert val.get_linestyle() == ":"


def test_pipeline_and_search_give_the_curve_of_the_neuron(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(), SigmoidNeuronRegressor(epochs=15, random_state=0)
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe)
    assert_array_equal(display.lines_[0].get_ydata(), np.array(pipe[-1].loss_curve_))
    assert display.lines_[0].get_label() == "SigmoidNeuronRegressor"

    search = GridSearchCV(
        SigmoidNeuronRegressor(epochs=15, random_state=0),
        {"learnrate": [0.5, 5.0]},
        cv=2,
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(search)
    assert_array_equal(
        display.lines_[0].get_ydata(), np.array(search.best_estimator_.loss_curve_)
    )


@pytest.mark.parametrize(
    "estimator",
    [
        SigmoidNeuronRegressor(),
        make_pipeline(StandardScaler(), SigmoidNeuronRegressor()),
        GridSearchCV(SigmoidNeuronRegressor(), {"learnrate": [1.0]}),
    ],
)
def test_unfitted_estimator_is_a_clear_error(estimator):
    with pytest.raises(NotFittedError, match="not fitted yet.*Fit it before"):
        LossCurveDisplay.from_estimator(estimator)
    assert plt.get_fignums() == []


def test_model_without_loss_curve_is_a_clear_error(data):
    with pytest.raises(TypeError, match="Ridge has no loss_curve_"):
        LossCurveDisplay.from_estimator(Ridge().fit(*data))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss_curve": []}, "loss_curve must be a non-empty 1-D"),
        ({"loss_curve": [[0.1, 0.2]]}, r"got shape \(1, 2\)"),
        (
            {"loss_curve": [0.2], "validation_loss_curve": [0.2, 0.1]},
            "cannot be longer",
        ),
    ],
)
def test_bad_curves_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LossCurveDisplay(**kwargs).plot()


def test_missing_matplotlib_is_a_clear_error(data, monkeypatch):
    model = SigmoidNeuronRegressor(epochs=5, random_state=0).fit(*data)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="from_estimator requires matplotlib"):
        LossCurveDisplay.from_estimator(model)


def test_importing_the_package_does_not_import_matplotlib():
    code = (
        "import sys, sk_sigmoid_neuron; "
        "sys.exit('matplotlib' in sys.modules or 'matplotlib.pyplot' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
