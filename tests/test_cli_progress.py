"""The progress of a fit on the command line (sk_sigmoid_neuron/_cli/_progress.py)."""

import csv
import re
import sys

import numpy as np
import pytest

from sk_sigmoid_neuron import SigmoidNeuronRegressor
from sk_sigmoid_neuron._cli import main
from sk_sigmoid_neuron._cli._progress import progress

try:
    import sklearn.callback  # noqa: F401

    HAS_CALLBACKS = True
except ImportError:  # scikit-learn < 1.9
    HAS_CALLBACKS = False


def plain(text):
    """``text`` without the terminal's control sequences (colours, cursor)."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def make_data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, 20.0 + 5.0 * np.tanh(X @ [1.0, -0.5, 0.25])


def test_without_a_terminal_the_loss_is_printed_ten_times(capsys):
    assert not sys.stdout.isatty()
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=40, random_state=0)
    with progress(model):
        model.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Epoch {k}, loss = {model.loss_curve_[k - 1]:.8g}" for k in range(4, 41, 4)
    ]
    # the model keeps the settings it was given
    assert model.verbose == 0 and not hasattr(model, "_skl_callbacks")


def test_without_rich_a_terminal_gets_the_loss_lines(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # not installed
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=40, random_state=0)
    with progress(model):
        model.fit(X, y)
    out = capsys.readouterr().out
    assert out.count("\n") == 10 and out.startswith("Epoch 4, loss = ")
    assert "\r" not in out and "\x1b" not in out


@pytest.mark.skipif(not HAS_CALLBACKS, reason="callbacks need scikit-learn >= 1.9")
def test_a_terminal_with_rich_shows_one_bar(capsys, monkeypatch):
    pytest.importorskip("rich")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")
    X, y = make_data()
    model = SigmoidNeuronRegressor(epochs=40, random_state=0)
    with progress(model):
        model.fit(X, y)
    out = plain(capsys.readouterr().out)
    assert "SigmoidNeuronRegressor.fit" in out
    assert "100%" in out and "40/40 epochs" in out
    assert "Epoch" not in out  # the bar, not the loss lines
    assert model.verbose == 0 and not hasattr(model, "_skl_callbacks")
    # the same fit as without the bar (the epochs one by one)
    alone = SigmoidNeuronRegressor(epochs=40, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, alone.coef_)


@pytest.mark.skipif(not HAS_CALLBACKS, reason="callbacks need scikit-learn >= 1.9")
def test_fit_on_a_terminal_shows_the_bar_and_saves_no_callback(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("rich")
    pytest.importorskip("pandas")
    import joblib

    X, y = make_data()
    data = tmp_path / "d.csv"
    with open(data, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["x1", "x2", "x3", "y"])
        writer.writerows(
            [*row, t] for row, t in zip(X.tolist(), y.tolist(), strict=True)
        )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")
    model_file = tmp_path / "m.joblib"
    argv = ["fit", str(data), "--target", "y", "--epochs", "30", "--cv", "2"]
    assert main([*argv, "--model", str(model_file)]) == 0
    out, err = capsys.readouterr()
    out = plain(out)
    assert err == ""
    assert "30/30 epochs" in out and "Epoch" not in out
    assert "Trained 30 epochs" in out
    saved = joblib.load(model_file)[-1]
    assert saved.verbose == 0 and not hasattr(saved, "_skl_callbacks")
