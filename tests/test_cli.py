"""The command line, end to end: the demo, `fit` and `predict`, errors and warnings.

The CSV files themselves are tested in test_cli_io.py, the estimator's flags
in test_cli_flags.py and the progress display in test_cli_progress.py.
"""

import inspect
import re
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from cli_helpers import PROG, RTOL, data_rows, make_data, reference, run, write_csv
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, TrainingWarning, _advice


@pytest.fixture
def pandas():
    return pytest.importorskip("pandas")


@pytest.fixture
def train(tmp_path):
    X, y = make_data()
    data = write_csv(tmp_path / "train.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    return X, y, data


# -- the demo --------------------------------------------------------------------
def test_no_subcommand_runs_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "sk_sigmoid_neuron"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Diabetes data (scikit-learn): 331 training and 111")
    assert "learnrate='auto'" in lines[0]
    assert lines[1].split() == ["model", "held-out", "R2", "epochs", "fit", "time"]
    # the held-out R2 of both models, computed here
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    neuron = SigmoidNeuronRegressor(random_state=0)
    for line, model, epochs in [
        (lines[2], neuron, "1000"),
        (lines[3], LinearRegression(), "-"),
    ]:
        pipe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
        name, r2, shown_epochs, _ = line.split()
        assert name == type(model).__name__
        assert r2 == f"{pipe.score(X_test, y_test):.4f}"
        assert shown_epochs == epochs
    assert lines[0].endswith(f"learnrate_={neuron.learnrate_:.3g}.")
    assert len(lines) == 4


class NoPandas:
    """An import hook under which pandas is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def test_the_demo_and_help_run_without_pandas(tmp_path):
    # the demo and --help need only the runtime dependencies; fit says how to
    # install pandas
    fit = ["fit", "d.csv", "--target", "y"]
    for argv, status in [([], 0), (["fit", "--help"], 0), (fit, 2)]:
        code = (
            f"import runpy, sys\n{inspect.getsource(NoPandas)}\n"
            "sys.meta_path.insert(0, NoPandas())\n"
            f"sys.argv = ['x', *{argv!r}]\n"
            "runpy.run_module('sk_sigmoid_neuron', run_name='__main__')"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == status, result.stderr
        if argv == []:
            assert result.stdout.startswith("Diabetes data (scikit-learn)")
            assert result.stderr == ""
        if status == 2:
            assert result.stderr.endswith(
                'install it with pip install "sk-sigmoid-neuron[cli]"\n'
            )


def test_without_pandas_fit_and_predict_say_how_to_install_it(
    train, tmp_path, capsys, monkeypatch
):
    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPandas(), *sys.meta_path])
    message = (
        "error: reading CSV files needs pandas, which is not installed; install "
        'it with pip install "sk-sigmoid-neuron[cli]"\n'
    )
    for argv in (
        ["fit", train[2], "--target", "y"],
        ["predict", str(tmp_path / "m.joblib"), train[2]],
    ):
        status, out, err = run(argv, capsys)
        assert (status, out) == (2, "")
        assert err == f"{PROG} {argv[0]}: {message}"


def test_help_names_the_subcommands_and_the_demo(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    assert "{fit,predict}" in out and "runs the demo" in out


def test_the_package_does_not_import_the_command_line():
    code = (
        "import sys, sk_sigmoid_neuron; "
        "print(any(m.startswith('sk_sigmoid_neuron._cli') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "False\n"


# -- fit ---------------------------------------------------------------------------
def test_fit_prints_the_loss_and_the_cv_r2_and_saves_the_pipeline(
    pandas, train, tmp_path, capsys
):
    X, y, data = train
    model_file = str(tmp_path / "model.joblib")
    argv = ["fit", data, "--target", "y", "--epochs", "200", "--learnrate", "2"]
    status, out, err = run(
        [*argv, "--random-state", "0", "--cv", "3", "--model", model_file], capsys
    )
    assert (status, err) == (0, "")

    saved = joblib.load(model_file)
    expected = reference(X, y, learnrate=2, epochs=200, random_state=0)
    assert saved[-1].get_params() == expected[-1].get_params()  # verbose=0
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)
    new = pandas.DataFrame(X, columns=["x1", "x2", "x3"])
    assert_allclose(saved.predict(new), expected.predict(X), rtol=RTOL)

    curve = saved[-1].loss_curve_
    assert_allclose(curve, expected[-1].loss_curve_, rtol=RTOL)
    loss_lines = [line for line in out.splitlines() if line.startswith("Epoch")]
    assert loss_lines == [
        f"Epoch {k}, loss = {curve[k - 1]:.8g}" for k in range(20, 201, 20)
    ]
    cv_r2 = cross_val_score(
        expected, X, y, cv=KFold(3, shuffle=True, random_state=0)
    ).mean()
    shown = re.search(r"Cross-validated R2 \(3-fold\): (\S+) ", out)[1]
    assert float(shown) == pytest.approx(cv_r2, abs=5e-5)  # printed to 4 places
    shown = re.search(r"training R2 (\S+)\n", out)[1]
    assert float(shown) == pytest.approx(expected.score(X, y), abs=5e-5)
    assert f"Saved the fitted pipeline to {model_file}" in out


def test_fit_without_random_state_draws_a_new_start(pandas, train, tmp_path, capsys):
    # the estimator's default random_state=None: two fits start apart
    X, y, data = train
    coefs = []
    for k in range(2):
        model_file = tmp_path / f"m{k}.joblib"
        argv = ["fit", data, "--target", "y", "--epochs", "3", "--cv", "0"]
        assert run([*argv, "--model", str(model_file)], capsys)[0] == 0
        saved = joblib.load(model_file)
        assert saved[-1].random_state is None
        coefs.append(saved[-1].coef_)
    assert not np.array_equal(*coefs)


def test_compute_inference_prints_the_standard_errors(pandas, train, capsys):
    X, y, data = train
    argv = ["fit", data, "--target", "y", "--solver", "lbfgs", "--cv", "2"]
    status, out, err = run(
        [*argv, "--compute-inference", "--random-state", "0"], capsys
    )
    assert (status, err) == (0, "")  # the folds compute no standard errors
    expected = reference(X, y, solver="lbfgs", compute_inference=True, random_state=0)
    model = expected[-1]
    lines = out.splitlines()
    start = lines.index(
        "Coefficients on the standardised features (the sigmoid's input, the "
        "target scaled to [0, 1]), with robust (HC0) standard errors:"
    )
    assert lines[start + 1].split() == ["coef", "std.", "error"]
    rows = [line.split() for line in lines[start + 2 : start + 6]]
    assert [row[0] for row in rows] == ["x1", "x2", "x3", "(intercept)"]
    coef = np.append(model.coef_, model.intercept_)
    se = np.append(model.coef_se_, model.intercept_se_)
    assert_allclose([float(row[1]) for row in rows], coef, rtol=1e-5)  # 6 digits
    assert_allclose([float(row[2]) for row in rows], se, rtol=1e-5)
    assert "Trained" in lines[start - 1] and "iterations of L-BFGS" in lines[start - 1]


def test_plot_saves_the_loss_curve(pandas, train, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "loss.png"
    argv = ["fit", train[2], "--target", "y", "--epochs", "20", "--cv", "0"]
    status, out, err = run([*argv, "--plot", str(png)], capsys)
    assert (status, err) == (0, "")
    assert f"Saved the loss curve to {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_without_matplotlib_fails_before_training(
    pandas, train, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    argv = ["fit", train[2], "--target", "y", "--plot", str(tmp_path / "loss.png")]
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err == (
        f"{PROG} fit: error: --plot needs matplotlib, which is not installed; "
        "install it with pip install 'sk-sigmoid-neuron[plot]' or leave out --plot\n"
    )


# -- predict -----------------------------------------------------------------------
def test_predict_writes_csv_to_stdout_or_a_file(pandas, train, tmp_path, capsys):
    X, y, data = train
    model_file = str(tmp_path / "m.joblib")
    argv = ["fit", data, "--target", "y", "--epochs", "50", "--cv", "0"]
    assert run([*argv, "--model", model_file], capsys)[0] == 0
    model = joblib.load(model_file)
    X_new = np.random.RandomState(1).normal(size=(7, 3))
    # another column order, an extra text column, no target
    rows = [[f"r{i}", c, a, b] for i, (a, b, c) in enumerate(X_new.tolist())]
    new = write_csv(tmp_path / "new.csv", ["name", "x3", "x1", "x2"], rows)

    status, out, err = run(["predict", model_file, new], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "prediction"
    expected = model.predict(pandas.DataFrame(X_new, columns=["x1", "x2", "x3"]))
    assert_array_equal([float(v) for v in lines[1:]], expected)

    output = tmp_path / "pred.csv"
    status, out2, err = run(
        ["predict", model_file, new, "--output", str(output)], capsys
    )
    assert (status, err) == (0, "")
    assert out2 == f"Wrote 7 predictions to {output}\n"
    assert output.read_text() == out


def test_predict_with_a_model_saved_without_column_names(
    pandas, train, tmp_path, capsys
):
    X, y, _ = train
    model = reference(X, y, epochs=5)  # fitted on an array, from Python
    joblib.dump(model, tmp_path / "plain.joblib")
    data = write_csv(tmp_path / "x.csv", ["a", "b", "c"], X.tolist())
    status, out, err = run(["predict", str(tmp_path / "plain.joblib"), data], capsys)
    assert (status, err) == (0, "")  # no warning about feature names
    assert_array_equal([float(v) for v in out.splitlines()[1:]], model.predict(X))


def test_predict_multi_output_names_the_columns(pandas, train, tmp_path, capsys):
    X, y, _ = train
    model = SigmoidNeuronRegressor(epochs=5).fit(X, np.column_stack([y, -y]))
    joblib.dump(model, tmp_path / "two.joblib")
    data = write_csv(tmp_path / "x.csv", ["a", "b", "c"], X.tolist())
    status, out, _ = run(["predict", str(tmp_path / "two.joblib"), data], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "prediction_0,prediction_1"
    got = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert_array_equal(got, model.predict(X))


def test_bad_predict_input_is_one_line_and_status_2(pandas, train, tmp_path, capsys):
    X, y, data = train
    model = str(tmp_path / "m.joblib")
    joblib.dump(reference(pandas.DataFrame(X, columns=["x1", "x2", "x3"]), y), model)
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    small = write_csv(tmp_path / "small.csv", ["x1", "y"], [[1, 2], [2, 3]])
    text = write_csv(
        tmp_path / "text.csv", ["x1", "x2", "x3"], [[1, 2, 3], [1, "a", 3]]
    )
    cases = [
        ([str(tmp_path / "none.joblib"), data], r"cannot read .*none\.joblib"),
        ([data, data], r"cannot load a model from .*train\.csv"),
        ([str(tmp_path / "dict.joblib"), data], r"holds a dict, not a fitted"),
        (
            [model, data, "--output", str(tmp_path / "no_dir/p.csv")],
            r"cannot write .*p\.csv: No such file or directory",
        ),
        ([model, small], r"small\.csv has no column 'x2'"),
        ([model, text], r"line 3: column 'x2' is 'a'"),
        ([model, str(tmp_path / "missing.csv")], r"cannot read .*missing\.csv"),
    ]
    for args, message in cases:
        status, out, err = run(["predict", *args], capsys)
        assert (status, out) == (2, ""), args
        assert err.count("\n") == 1
        assert err.startswith(f"{PROG} predict: error: ")
        assert re.search(message, err), err


def test_bad_subcommand_is_one_line_and_status_2(capsys):
    status, out, err = run(["fitt", "data.csv"], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"{PROG}: error: argument ")
    assert "invalid choice: 'fitt'" in err


def test_a_bad_file_in_a_real_process_gives_no_traceback(pandas, tmp_path):
    (tmp_path / "text.csv").write_text("x1,x2,y\n1,2,4\n1,abc,4\n")
    result = subprocess.run(
        [sys.executable, "-m", "sk_sigmoid_neuron", "fit", "text.csv", "--target=y"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"{PROG} fit: error: text.csv, line 3: column 'x2' is 'abc', not a finite "
        "number; the columns used must hold numbers only (fill in or remove missing "
        "values)\n"
    )


# -- the estimator's errors and warnings ---------------------------------------------
def test_the_estimators_error_is_one_line_and_status_2(pandas, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["x1", "y"], [[i, i * i] for i in range(6)])
    argv = ["fit", data, "--target", "y", "--target-scaling", "0,10", "--cv", "0"]
    status, out, err = run(argv, capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"{PROG} fit: error: y has values in [0, 25] outside ")
    assert "Trained" not in out


def test_the_advice_of_a_fit_on_the_command_line_is_in_flags(
    pandas, train, capsys, monkeypatch
):
    # whatever the diagnostics advise through _advice.setting, the command line
    # writes as flags
    fit = SigmoidNeuronRegressor.fit

    def fit_that_advises(self, X, y, **kwargs):
        assert _advice.on_command_line()
        settings = [
            ("solver", "lbfgs"),
            ("learnrate", "auto"),
            ("learnrate", 1e6),
            ("epochs", 2000),
            ("tol", None),
            ("target_scaling", (0.0, 100.0)),
            ("target_scaling", ("low", "high")),
            ("early_stopping", True),
            ("fit_intercept", False),
            ("warm_start", True),  # no flag: as in Python
        ]
        advice = "; ".join(_advice.setting(name, value) for name, value in settings)
        warnings.warn(f"use {advice}", TrainingWarning, stacklevel=2)
        return fit(self, X, y, **kwargs)

    monkeypatch.setattr(SigmoidNeuronRegressor, "fit", fit_that_advises)
    status, _, err = run(["fit", train[2], "--target", "y", "--cv", "0"], capsys)
    assert status == 0
    assert err == (
        f"{PROG}: warning: TrainingWarning: use --solver lbfgs; --learnrate auto; "
        "--learnrate 1e+06; --epochs 2000; --tol none; --target-scaling 0,100; "
        "--target-scaling LOW,HIGH; --early-stopping; --no-fit-intercept; "
        "warm_start=True\n"
    )
    assert _advice.setting("solver", "lbfgs") == "solver='lbfgs'"  # outside: Python


def test_a_training_warning_on_the_command_line_speaks_in_flags(
    pandas, tmp_path, capsys
):
    X, y = make_data(n=20)
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    argv = ["fit", data, "--target", "y", "--learnrate", "100", "--epochs", "50"]
    status, _, err = run([*argv, "--cv", "0", "--random-state", "0"], capsys)
    assert status == 0
    assert f"{PROG}: warning: TrainingWarning: " in err  # the loss rose
    assert "--learnrate 100" in err and "--learnrate auto" in err
    assert "learnrate=" not in err and "SigmoidNeuronRegressorCV" not in err


def test_a_negative_cv_r2_is_a_warning(pandas, train, tmp_path, capsys):
    X, y, data = train
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "50", "--learnrate", "1e6"]
    argv += ["--random-state", "0"]
    status, out, err = run([*argv, "--cv", "3", "--model", str(model_file)], capsys)
    assert status == 0  # trained and saved as asked
    assert model_file.exists()
    with pytest.warns(TrainingWarning, match="loss rose"):
        expected = reference(X, y, learnrate=1e6, epochs=50, random_state=0)
        cv_r2 = cross_val_score(
            expected, X, y, cv=KFold(3, shuffle=True, random_state=0)
        ).mean()
    assert cv_r2 < 0
    shown = re.search(r"Cross-validated R2 \(3-fold\): (\S+) ", out)[1]
    assert float(shown) == pytest.approx(cv_r2, abs=5e-5)
    assert f"{PROG}: warning: TrainingWarning: " in err  # the fits' own diagnosis
    assert err.endswith(
        f"{PROG} fit: warning: the cross-validated R2 {shown} is below 0: the "
        "model predicts 'y' worse than its mean does; try --learnrate auto or a "
        "smaller --learnrate\n"
    )
    # without cross-validation, the training R2 tells the same
    status, _, err = run([*argv, "--cv", "0"], capsys)
    assert status == 0
    assert expected.score(X, y) < 0
    assert f"{PROG} fit: warning: the training R2 -" in err
