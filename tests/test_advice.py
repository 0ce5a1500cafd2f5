"""Advice that fits the situation (issue 20): in the caller's words, at the
caller's line, never a setting the fit already uses.

On scikit-learn's bundled diabetes data (standardised), as a user meets the
messages: a plain fit, a fit inside GridSearchCV, and the CV estimator's
refit. The command line's flags are tested in test_cli.py.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import (
    SigmoidNeuronRegressor,
    SigmoidNeuronRegressorCV,
    TrainingWarning,
    _advice,
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def caught(fit, category=Warning):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        fit()
    return [w for w in records if issubclass(w.category, category)]


def test_inference_far_from_the_optimum_names_lbfgs_not_what_the_fit_uses(diabetes):
    X, y = diabetes
    model = SigmoidNeuronRegressor(compute_inference=True, epochs=50, random_state=0)
    (message,) = inference_warnings(lambda: model.fit(X, y))
    assert "not at the minimum" in message
    assert "solver='lbfgs'" in message
    assert "epochs=500" in message  # more than the fit's 50
    # the fit already uses the auto step and runs every epoch (tol=None)
    assert "learnrate='auto'" not in message
    assert "tol" not in message.split("; for inference")[1]
    # with a hand-picked step and a tol, those are fixes too
    model.set_params(learnrate=0.5, tol=1e-3)
    (message,) = inference_warnings(lambda: model.fit(X, y))
    assert "learnrate='auto'" in message
    assert "a smaller tol (tol=1e-05)" in message


def inference_warnings(fit):
    return [
        str(w.message)
        for w in caught(fit, ConvergenceWarning)
        if str(w.message).startswith("compute_inference")
    ]


def test_inference_after_lbfgs_does_not_suggest_lbfgs(diabetes):
    X, y = diabetes
    model = SigmoidNeuronRegressor(
        solver="lbfgs", compute_inference=True, epochs=2, random_state=0
    )
    inference = inference_warnings(lambda: model.fit(X, y))
    assert inference and all("solver=" not in m for m in inference)
    assert all("epochs=20" in m for m in inference)


def loss_rose(X, y, **params):
    return SigmoidNeuronRegressor(learnrate=60, epochs=40, random_state=0, **params)


def test_a_plain_fit_suggests_the_cv_estimator(diabetes):
    X, y = diabetes
    (warning,) = caught(lambda: loss_rose(X, y).fit(X, y), TrainingWarning)
    assert "learnrate=60 is too large" in str(warning.message)
    assert "SigmoidNeuronRegressorCV" in str(warning.message)
    assert "learnrate='auto'" in str(warning.message)


def test_inside_a_search_the_advice_is_to_leave_the_learnrate_out(diabetes):
    X, y = diabetes
    search = GridSearchCV(loss_rose(X, y), {"learnrate": [60]}, cv=2)
    messages = {str(w.message) for w in caught(lambda: search.fit(X, y))}
    rose = [m for m in messages if "training loss rose" in m]
    assert rose
    for message in rose:
        assert "SigmoidNeuronRegressorCV" not in message
        assert "Leave learnrate=60 out of the search" in message
    outer = caught(lambda: cross_validate(loss_rose(X, y), X, y, cv=2))
    assert all("SigmoidNeuronRegressorCV" not in str(w.message) for w in outer)


def test_the_cv_estimators_refit_does_not_suggest_itself(diabetes):
    X, y = diabetes
    cv = SigmoidNeuronRegressorCV(learnrates=[60.0], epochs=[40], cv=2, random_state=0)
    messages = [str(w.message) for w in caught(lambda: cv.fit(X, y), TrainingWarning)]
    assert messages
    assert all("SigmoidNeuronRegressorCV" not in m for m in messages)


def test_a_rise_from_the_first_epoch_is_said_once(diabetes):
    X, y = diabetes
    (warning,) = caught(lambda: loss_rose(X, y).fit(X, y), TrainingWarning)
    message = str(warning.message)
    start = message.split("rose from ")[1].split(" ")[0]
    if "(epoch 1)" in message:
        assert "having started at" not in message
    else:
        assert f"having started at {start}" not in message


def test_warnings_point_at_the_callers_line(diabetes):
    X, y = diabetes
    records = caught(lambda: loss_rose(X, y).fit(X, y))
    assert records
    for record in records:
        assert record.filename == __file__, (record.filename, record.message)
    pipeline_model = SigmoidNeuronRegressor(
        compute_inference=True, epochs=5, random_state=0
    )
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(StandardScaler(), pipeline_model)
    (record,) = caught(lambda: pipe.fit(X, y), ConvergenceWarning)
    assert record.filename == __file__  # through scikit-learn's Pipeline


def test_settings_are_written_as_the_caller_writes_them():
    assert _advice.setting("learnrate", np.float64(5.0)) == "learnrate=5.0"
    assert _advice.setting("solver", "lbfgs") == "solver='lbfgs'"
    with _advice.entry("cli", render=lambda name, value: f"--{name} {value}"):
        assert _advice.setting("solver", "lbfgs") == "--solver lbfgs"
        assert not _advice.plain_fit() and _advice.on_command_line()
    assert _advice.plain_fit() and not _advice.on_command_line()
