"""The command line, end to end: the demo, `fit` and `predict` on CSV files."""

import csv
import io
import re
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor
from sk_sigmoid_neuron._cli import FLAGS, _parser, in_flag_terms, main

try:
    import sklearn.callback  # noqa: F401

    HAS_CALLBACKS = True
except ImportError:  # scikit-learn < 1.9
    HAS_CALLBACKS = False

PROG = "python -m sk_sigmoid_neuron"


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def make_data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = 20.0 + 5.0 * np.tanh(X @ [1.0, -0.5, 0.25]) + 0.1 * rng.normal(size=n)
    return X, y


def data_rows(X, y):
    return [
        [repr(float(v)) for v in row] + [repr(float(t))]
        for row, t in zip(X, y, strict=True)
    ]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A model saved by `fit`, with its training data and file names."""
    folder = tmp_path_factory.mktemp("cli")
    X, y = make_data()
    data = write_csv(folder / "train.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    model = str(folder / "model.joblib")
    argv = ["fit", data, "--target", "y", "--epochs", "50", "--cv", "0"]
    assert main([*argv, "--learnrate", "2", "--model", model]) == 0
    return {"X": X, "y": y, "data": data, "model": model}


def run(argv, capsys):
    """Exit status, stdout and stderr of the command line on ``argv``."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


# -- the demo ------------------------------------------------------------------------
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
    # the default learnrate="auto", and the step it chose
    neuron = SigmoidNeuronRegressor(random_state=0)
    assert "learnrate='auto'" in lines[0]
    assert lines[1].split() == ["model", "held-out", "R2", "epochs", "fit", "time"]
    # the held-out R2 of both models, computed here
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
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


def test_help_names_the_subcommands_and_the_demo(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    assert "{fit,predict}" in out and "runs the demo" in out


# -- fit -----------------------------------------------------------------------------
def test_fit_prints_the_loss_and_the_cv_r2_and_saves_the_pipeline(tmp_path, capsys):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    model_file = str(tmp_path / "model.joblib")
    argv = ["fit", data, "--target", "y", "--epochs", "200", "--learnrate", "2"]
    status, out, err = run([*argv, "--cv", "3", "--model", model_file], capsys)
    assert (status, err) == (0, "")

    reference = make_pipeline(
        StandardScaler(),
        SigmoidNeuronRegressor(learnrate=2.0, epochs=200, random_state=0),
    ).fit(X, y)
    curve = reference[-1].loss_curve_
    loss_lines = [line for line in out.splitlines() if line.startswith("Epoch")]
    assert loss_lines == [
        f"Epoch {k}, loss = {curve[k - 1]:.8g}" for k in range(20, 201, 20)
    ]
    cv_r2 = cross_val_score(
        reference, X, y, cv=KFold(3, shuffle=True, random_state=0)
    ).mean()
    assert f"Cross-validated R2 (3-fold): {cv_r2:.4f} " in out
    assert f"training R2 {reference.score(X, y):.4f}" in out
    assert f"Saved the fitted pipeline to {model_file}" in out

    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert saved[-1].get_params() == reference[-1].get_params()
    assert_array_equal(saved[-1].coef_, reference[-1].coef_)
    with pytest.warns(UserWarning, match="feature names"):  # fitted with names
        assert_array_equal(saved.predict(X), reference.predict(X))


def test_fit_options_reach_the_estimator(tmp_path, capsys):
    X, y = make_data()
    rows = [[f"id{i}", *row] for i, row in enumerate(data_rows(X, y))]
    data = write_csv(tmp_path / "d.csv", ["id", "x1", "x2", "x3", "y"], rows)
    model_file = str(tmp_path / "m.joblib")
    argv = ["fit", data, "--target", "y", "--features", "x3, x1", "--epochs", "30"]
    options = [
        "--learnrate=auto",
        "--target-scaling=10,30",
        "--loss=log_loss",
        "--alpha=0.01",
        "--random-state=3",
        "--cv=0",
        f"--model={model_file}",
    ]
    status, out, err = run([*argv, *options], capsys)
    assert (status, err) == (0, "")
    assert "Cross-validated" not in out
    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x3", "x1"]
    params = saved[-1].get_params()
    expected = dict(
        learnrate="auto",
        epochs=30,
        target_scaling=(10.0, 30.0),
        loss="log_loss",
        alpha=0.01,
        random_state=3,
        verbose=0,
    )
    assert {key: params[key] for key in expected} == expected
    reference = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(**expected))
    reference.fit(np.ascontiguousarray(X[:, [2, 0]]), y)  # C order, as read
    assert_array_equal(saved[-1].coef_, reference[-1].coef_)


def test_target_scaling_none_takes_y_as_it_is(tmp_path, capsys):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["a", "b", "c", "p"], data_rows(X, y / 30))
    argv = ["fit", data, "--target", "p", "--target-scaling", "none", "--cv", "0"]
    status, _, err = run([*argv, "--model", str(tmp_path / "m.joblib")], capsys)
    assert (status, err) == (0, "")
    assert_array_equal(joblib.load(tmp_path / "m.joblib")[-1].target_range_, [0, 1])


def test_plot_saves_the_loss_curve(tmp_path, capsys):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    png = tmp_path / "loss.png"
    argv = ["fit", data, "--target", "y", "--epochs", "20", "--cv", "0"]
    status, out, err = run([*argv, "--plot", str(png)], capsys)
    assert (status, err) == (0, "")
    assert f"Saved the loss curve to {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_without_matplotlib_fails_before_training(tmp_path, capsys, monkeypatch):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    argv = ["fit", data, "--target", "y", "--plot", str(tmp_path / "loss.png")]
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err == (
        f"{PROG} fit: error: --plot needs matplotlib, which is not installed; "
        "install it with pip install 'sk-sigmoid-neuron[plot]' or leave out --plot\n"
    )


@pytest.mark.skipif(not HAS_CALLBACKS, reason="progress needs scikit-learn >= 1.9")
@pytest.mark.parametrize("rich", [True, False])
def test_a_terminal_shows_a_progress_bar(tmp_path, capsys, monkeypatch, rich):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")
    if not rich:
        monkeypatch.setitem(sys.modules, "rich.progress", None)
    argv = ["fit", data, "--target", "y", "--epochs", "40", "--cv", "0"]
    status, out, err = run(argv, capsys)
    assert (status, err) == (0, "")
    if rich:
        assert "SigmoidNeuronRegressor.fit" in out
        assert "100%" in out and "40/40" in out
    else:
        assert "[##############################] 100%  epoch 40/40\n" in out
        # the loss lines go above the bar
        assert "\r\x1b[KEpoch 40, loss = " in out
    assert "Epoch 20, loss = " in out
    assert "Trained 40 epochs" in out


def test_no_progress_bar_when_stdout_is_not_a_terminal(fitted, capsys):
    argv = ["fit", fitted["data"], "--target", "y", "--epochs", "40", "--cv", "0"]
    status, out, _ = run(argv, capsys)
    assert status == 0
    assert "#" not in out and "40/40" not in out and "\r" not in out


# -- predict -------------------------------------------------------------------------
def test_predict_writes_csv_to_stdout_or_a_file(fitted, tmp_path, capsys):
    model = joblib.load(fitted["model"])
    rng = np.random.RandomState(1)
    X_new = rng.normal(size=(7, 3))
    # other column order, an extra text column, no target
    rows = [[f"r{i}", row[2], row[0], row[1]] for i, row in enumerate(X_new.tolist())]
    data = write_csv(tmp_path / "new.csv", ["name", "x3", "x1", "x2"], rows)

    status, out, err = run(["predict", fitted["model"], data], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "prediction"
    with pytest.warns(UserWarning, match="feature names"):
        expected = model.predict(X_new)
    assert_array_equal([float(v) for v in lines[1:]], expected)

    output = tmp_path / "pred.csv"
    status, out2, err = run(
        ["predict", fitted["model"], data, "--output", str(output)], capsys
    )
    assert (status, err) == (0, "")
    assert out2 == f"Wrote 7 predictions to {output}\n"
    assert output.read_text() == out


def test_predict_with_a_model_saved_without_column_names(fitted, tmp_path, capsys):
    X, y = fitted["X"], fitted["y"]
    model = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(epochs=5))
    joblib.dump(model.fit(X, y), tmp_path / "plain.joblib")
    data = write_csv(tmp_path / "x.csv", ["a", "b", "c"], X.tolist())
    status, out, _ = run(["predict", str(tmp_path / "plain.joblib"), data], capsys)
    assert status == 0
    assert_array_equal([float(v) for v in out.splitlines()[1:]], model.predict(X))


def test_predict_multi_output_names_the_columns(fitted, tmp_path, capsys):
    X, y = fitted["X"], fitted["y"]
    model = SigmoidNeuronRegressor(epochs=5).fit(X, np.column_stack([y, -y]))
    joblib.dump(model, tmp_path / "two.joblib")
    data = write_csv(tmp_path / "x.csv", ["a", "b", "c"], X.tolist())
    status, out, _ = run(["predict", str(tmp_path / "two.joblib"), data], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "prediction_0,prediction_1"
    got = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert_array_equal(got, model.predict(X))


# -- bad input: one line on stderr, exit status 2 ------------------------------------
def bad_files(folder):
    """CSV files with one problem each, by name."""
    ok = [["x1", "x2", "x3", "y"], ["1", "2", "3", "4"], ["2", "1", "0", "5"]]
    files = {
        "empty.csv": "",
        "header_only.csv": "x1,x2,x3,y\n",
        "ragged.csv": "x1,x2,x3,y\n1,2,3,4\n5,6\n",
        "text.csv": "x1,x2,x3,y\n1,2,3,4\n1,abc,3,4\n",
        "blank.csv": "x1,x2,x3,y\n\n1,2,3,4\n1,2,3,\n",
        "nan.csv": "x1,x2,x3,y\n1,2,3,4\n1,2,nan,4\n",
        "commas.csv": "x1,x2,x3,y\n1,2,3,4\n,,,\n",
        "twice.csv": "x1,x2,x1,y\n1,2,3,4\n",
        "unnamed.csv": "x1,,x3,y\n1,2,3,4\n",
        "only_y.csv": "y\n1\n2\n",
        "ok.csv": "\n".join(",".join(row) for row in ok) + "\n",
        "small.csv": "x1,y\n" + "".join(f"{i},{i * i}\n" for i in range(6)),
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    (folder / "a_dir").mkdir()
    return folder


FIT_ERRORS = [
    (["missing.csv"], r"cannot read .*missing\.csv: No such file or directory"),
    (["a_dir"], r"cannot read .*a_dir: Is a directory"),
    (["binary.csv"], r"binary\.csv is not a UTF-8 text file"),
    (["empty.csv"], r"empty\.csv is empty; it needs a header row"),
    (["header_only.csv"], r"header_only\.csv has a header row but no rows of data"),
    (["ragged.csv"], r"ragged\.csv, line 3: 2 values, but the header names 4 colum"),
    (["text.csv"], r"text\.csv, line 3: column 'x2' is 'abc', not a finite number"),
    (["blank.csv"], r"blank\.csv, line 4: column 'y' is empty, not a finite number"),
    (["commas.csv"], r"commas\.csv, line 3: column 'x1' is empty, not a finite"),
    (["nan.csv"], r"nan\.csv, line 3: column 'x3' is 'nan', not a finite number"),
    (["twice.csv"], r"twice\.csv: the header names column 'x1' twice"),
    (["unnamed.csv"], r"unnamed\.csv: column 2 of the header row has no name"),
    (["ok.csv", "--target", "z"], r"has no column 'z'; its columns are: x1, x2, x3, y"),
    (["ok.csv", "--features", "x1,w"], r"ok\.csv has no column 'w'"),
    (["ok.csv", "--features", "x1,y"], r"--features includes the target column 'y'"),
    (["only_y.csv"], r"only_y\.csv has no column besides the target 'y'"),
    (["ok.csv", "--cv", "3"], r"--cv 3 needs at least 3 rows but .*ok\.csv has 2"),
    (["small.csv", "--target-scaling", "none"], r"values in \[0, 25\] but --target-"),
    (["small.csv", "--target-scaling", "0,10"], r"values in \[0, 25\] outside --targ"),
    (["small.csv", "--target-scaling", "5,1"], r"needs finite low < high"),
    (
        ["ok.csv", "--plot", "loss.xyz"],
        r"matplotlib cannot write \.xyz files; end the name with one of .*\.png",
    ),
    (["ok.csv", "--plot", "loss"], r"loss: matplotlib needs a file type; end the"),
    (["ok.csv", "--model", "no_dir/m.joblib"], r"--model .*: the folder .* not exist"),
    (["ok.csv", "--plot", "no_dir/l.png"], r"--plot .*: the folder .* does not exist"),
]
OPTION_ERRORS = [
    (["ok.csv"], r"the following arguments are required: --target"),
    (["ok.csv", "--epochs", "abc"], r"argument --epochs: 'abc' is not a whole number"),
    (["ok.csv", "--epochs", "0"], r"argument --epochs: must be at least 1, got 0"),
    (["ok.csv", "--learnrate", "-1"], r"must be a finite number > 0, got -1 .*'auto'"),
    (["ok.csv", "--learnrate", "inf"], r"--learnrate: must be a finite number > 0"),
    (["ok.csv", "--learnrate", "fast"], r"--learnrate: 'fast' is not a number"),
    (["ok.csv", "--alpha", "-0.5"], r"--alpha: must be a finite number >= 0"),
    (["ok.csv", "--target-scaling", "1"], r"'1' is not 'minmax', 'none' or LOW,HIGH"),
    (["ok.csv", "--cv", "1"], r"--cv: needs at least 2 folds \(or 0 to skip"),
    (["ok.csv", "--loss", "huber"], r"argument --loss: invalid choice: 'huber'"),
    (["ok.csv", "--random-state", "x"], r"argument --random-state: invalid int"),
]


@pytest.mark.parametrize("args, message", FIT_ERRORS + OPTION_ERRORS)
def test_bad_fit_input_is_one_line_and_status_2(
    args, message, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(bad_files(tmp_path))
    argv = ["fit", *args]
    if "--target" not in args and args != ["ok.csv"]:
        argv += ["--target", "y"]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith(f"{PROG} fit: error: ")
    assert re.search(message, err), err
    assert "Epoch" not in out  # found before training
    assert not (tmp_path / "no_dir").exists()


def test_bad_subcommand_is_one_line_and_status_2(capsys):
    status, out, err = run(["fitt", "data.csv"], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"{PROG}: error: argument ")
    assert "invalid choice: 'fitt'" in err


def test_bad_predict_input_is_one_line_and_status_2(fitted, tmp_path, capsys):
    folder = bad_files(tmp_path)
    joblib.dump({"not": "a model"}, folder / "dict.joblib")
    model = fitted["model"]
    cases = [
        ([str(folder / "none.joblib"), fitted["data"]], r"cannot read .*none\.joblib"),
        ([fitted["data"], fitted["data"]], r"cannot load a model from .*train\.csv"),
        ([str(folder / "dict.joblib"), fitted["data"]], r"holds a dict, not a fitted"),
        (
            [model, str(folder / "ok.csv"), "--output", str(folder / "no_dir/p.csv")],
            r"cannot write .*p\.csv: No such file or directory",
        ),  # fmt: skip
        ([model, str(folder / "small.csv")], r"small\.csv has no column 'x2'"),
        ([model, str(folder / "text.csv")], r"line 3: column 'x2' is 'abc'"),
        ([model, str(folder / "missing.csv")], r"cannot read .*missing\.csv"),
    ]
    for args, message in cases:
        status, out, err = run(["predict", *args], capsys)
        assert status == 2, args
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith(f"{PROG} predict: error: ")
        assert re.search(message, err), err


def test_a_bad_file_in_a_real_process_gives_no_traceback(tmp_path):
    bad_files(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "sk_sigmoid_neuron", "fit", "text.csv", "--target=y"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{PROG} fit: error: text.csv, line 3: column 'x2' is 'abc', not a finite "
        "number; the columns used must hold numbers only (fill in or remove missing "
        "values)\n"
    )


# -- real CSV files: delimiters, an index column, --exclude, --id --------------------
def write_text_csv(path, header, rows, sep):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def reference_pipeline(X, y, **params):
    """The pipeline `fit` trains with its defaults, fitted here."""
    params = {"random_state": 0, **params}
    model = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(**params))
    return model.fit(np.ascontiguousarray(X), y)


def predictions(text):
    """The header and the rows of a predictions CSV."""
    lines = list(csv.reader(text.splitlines()))
    return lines[0], lines[1:]


@pytest.mark.parametrize("sep, name", [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_the_delimiter_is_detected(tmp_path, capsys, sep, name):
    X, y = make_data()
    header = ["x1", "x2", "x3", "y"]
    data = write_text_csv(tmp_path / "d.csv", header, data_rows(X, y), sep)
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "30", "--cv", "0"]
    status, out, err = run([*argv, "--model", str(model_file)], capsys)
    assert (status, err) == (0, "")
    assert out.startswith(f"{data}: 60 rows (split at {name}); target 'y'; 3 features")
    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert_array_equal(saved[-1].coef_, reference_pipeline(X, y, epochs=30)[-1].coef_)

    # predict detects it too
    new = write_text_csv(tmp_path / "new.csv", header[:3], X[:5].tolist(), sep)
    status, out, err = run(["predict", str(model_file), new], capsys)
    assert (status, err) == (0, "")
    columns, rows = predictions(out)
    assert columns == ["prediction"]
    with pytest.warns(UserWarning, match="feature names"):
        expected = saved.predict(X[:5])
    assert_array_equal([float(row[0]) for row in rows], expected)


def test_a_missing_column_message_names_the_delimiter(tmp_path, capsys):
    rows = [["1", "2", "3"], ["4", "5", "6"]]
    semicolons = write_text_csv(tmp_path / "s.csv", ["age", "bmi", "y"], rows, ";")
    status, _, err = run(["fit", semicolons, "--target", "target"], capsys)
    assert status == 2
    assert err == (
        f"{PROG} fit: error: --target: {semicolons} has no column 'target'; its "
        "columns are: age, bmi, y (columns split at ';', detected; --sep sets the "
        "delimiter)\n"
    )
    # a delimiter not detected: the columns are read as one, which the message shows
    colons = write_text_csv(tmp_path / "c.csv", ["age", "bmi", "y"], rows, ":")
    status, _, err = run(["fit", colons, "--target", "y"], capsys)
    assert status == 2
    assert err.endswith(
        "has no column 'y'; its columns are: age:bmi:y (columns split at ',', "
        "detected; --sep sets the delimiter)\n"
    )


def test_sep_forces_the_delimiter(tmp_path, capsys):
    X, y = make_data()
    header = ["x1", "x2", "x3", "y"]
    data = write_text_csv(tmp_path / "d.csv", header, data_rows(X, y), ":")
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "30", "--cv", "0", "--sep", ":"]
    status, _, err = run([*argv, "--model", str(model_file)], capsys)
    assert (status, err) == (0, "")
    saved = joblib.load(model_file)
    assert_array_equal(saved[-1].coef_, reference_pipeline(X, y, epochs=30)[-1].coef_)
    # --sep tab, and a forced delimiter the file does not use
    tabs = write_text_csv(tmp_path / "t.csv", header, data_rows(X, y), "\t")
    status, _, err = run([*argv[:-1], "tab", "--model", str(model_file)], capsys)
    assert status == 2 and "no column 'y'" in err  # d.csv is not tab-separated
    argv[1] = tabs
    status, _, err = run([*argv[:-1], "tab"], capsys)
    assert (status, err) == (0, "")
    status, _, err = run(["fit", data, "--target", "y", "--sep", ";"], capsys)
    assert status == 2
    assert err.endswith("(columns split at ';', as --sep asked)\n")


def test_a_bad_sep_is_one_line_and_status_2(tmp_path, capsys):
    status, _, err = run(["fit", "d.csv", "--target", "y", "--sep", ";;"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "argument --sep: ';;' is not one character" in err


def test_a_decimal_comma_gets_advice(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x;y\n1,5;2\n2,5;3\n")
    status, _, err = run(["fit", str(path), "--target", "y", "--cv", "0"], capsys)
    assert status == 2
    assert err.endswith(
        "line 2: column 'x' is '1,5', not a finite number; the columns used must "
        "hold numbers only (fill in or remove missing values); write numbers with "
        "a decimal point, not a comma\n"
    )


def test_a_pandas_index_column_is_not_a_feature(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"]).assign(y=y)
    frame.to_csv(tmp_path / "train.csv")  # with the index, as pandas does by default
    assert (tmp_path / "train.csv").read_text().startswith(",x1,x2,x3,y\n")
    model_file = tmp_path / "m.joblib"
    argv = ["fit", str(tmp_path / "train.csv"), "--target", "y", "--epochs", "30"]
    status, out, err = run([*argv, "--cv", "0", "--model", str(model_file)], capsys)
    assert (status, err) == (0, "")
    assert "3 features: x1, x2, x3\n" in out
    assert "Not used as features: the unnamed first column (the row index)\n" in out
    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert_array_equal(saved[-1].coef_, reference_pipeline(X, y, epochs=30)[-1].coef_)

    # predict: the index labels come first in the output, under an empty name,
    # so that pandas reads the predictions back with the same index
    new = pd.DataFrame(X[:4], columns=["x1", "x2", "x3"], index=[10, 11, 7, 3])
    new.to_csv(tmp_path / "new.csv")
    status, out, err = run(
        ["predict", str(model_file), str(tmp_path / "new.csv")], capsys
    )
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == ",prediction"
    back = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(back.index) == [10, 11, 7, 3]
    with pytest.warns(UserWarning, match="feature names"):
        expected = saved.predict(X[:4])
    assert_array_equal(back["prediction"].to_numpy(), expected)


def test_an_unnamed_column_after_the_first_is_an_error(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text(",x1,,y\n0,1,2,3\n1,2,3,4\n")
    status, _, err = run(["fit", str(path), "--target", "y"], capsys)
    assert status == 2
    assert err == (
        f"{PROG} fit: error: {path}: column 3 of the header row has no name; name "
        "it in the header row (or delete the column)\n"
    )


def test_exclude_leaves_columns_out_of_the_features(tmp_path, capsys):
    X, y = make_data()
    rows = [
        [f"id{i}", f"name {i}", row[0], "x", *row[1:]]
        for i, row in enumerate(data_rows(X, y))
    ]
    header = ["id", "name", "x1", "note", "x2", "x3", "y"]
    data = write_csv(tmp_path / "d.csv", header, rows)
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "30", "--cv", "0"]
    excluded = ["--exclude", "id", "name,note"]
    status, out, err = run([*argv, *excluded, "--model", str(model_file)], capsys)
    assert (status, err) == (0, "")
    assert "Not used as features: id, name, note\n" in out
    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert_array_equal(saved[-1].coef_, reference_pipeline(X, y, epochs=30)[-1].coef_)


def test_exclude_before_the_data_file_is_explained(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "x1", "y"], [[1, 2, 3], [2, 3, 4]])
    status, _, err = run(["fit", "--target", "y", "--exclude", "id", data], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.endswith(
        "the following arguments are required: DATA.csv; --exclude takes every "
        "name up to the next option: put DATA.csv before --exclude, or end the "
        "names with -- (see --help)\n"
    )
    argv = ["fit", "--target", "y", "--cv", "0", "--exclude", "id", "--", data]
    status, out, err = run(argv, capsys)
    assert (status, err) == (0, "")
    assert "1 features: x1\n" in out


def test_a_text_column_among_the_features_suggests_exclude(tmp_path, capsys):
    rows = [["p1", "1", "2"], ["p2", "", "3"], ["p3", "2", "4"]]
    data = write_csv(tmp_path / "d.csv", ["patient", "x1", "y"], rows)
    status, _, err = run(["fit", data, "--target", "y", "--cv", "0"], capsys)
    assert status == 2
    assert err == (
        f"{PROG} fit: error: {data}: column 'patient' holds text (line 2: 'p1'), "
        "not numbers; leave it out of the features with --exclude patient, or --id "
        "patient for a column that identifies the rows\n"
    )
    # a column with numbers and a gap is a missing value, as before
    argv = ["fit", data, "--target", "y", "--cv", "0", "--exclude", "patient"]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert "line 3: column 'x1' is empty, not a finite number" in err


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--exclude", "id", "nme"],
            r"--exclude: .*d\.csv has no column 'nme'; its columns are: id, name, "
            r"x1, y \(columns split at ',', detected",
        ),
        (
            ["--exclude", "id", "--features", "x1"],
            r"argument --features: not allowed with argument --exclude",
        ),
        (["--id", "idd"], r"--id: .*d\.csv has no column 'idd'; its columns are: id"),
        (["--id", "y"], r"--id and --target name the same column 'y'"),
        (["--id", "id", "--features", "x1,id"], r"--features includes the --id col"),
        (
            ["--id", "x1", "--exclude", "id", "name"],
            r"d\.csv has no column besides the target 'y' and the columns --id and "
            r"--exclude leave out to learn from",
        ),
    ],
)
def test_bad_exclude_and_id_are_one_line_and_status_2(
    options, message, tmp_path, capsys
):
    data = write_csv(tmp_path / "d.csv", ["id", "name", "x1", "y"], [[1, "a", 2, 3]])
    status, out, err = run(["fit", data, "--target", "y", *options], capsys)
    assert status == 2 and "Epoch" not in out
    assert err.count("\n") == 1
    assert re.search(message, err), err


def test_id_goes_through_fit_and_predict(tmp_path, capsys):
    X, y = make_data()
    rows = [[f"id{i}", *row] for i, row in enumerate(data_rows(X, y))]
    data = write_csv(tmp_path / "d.csv", ["id", "x1", "x2", "x3", "y"], rows)
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "30", "--cv", "0", "--id", "id"]
    status, out, err = run([*argv, "--model", str(model_file)], capsys)
    assert (status, err) == (0, "")
    assert "Not used as features: id (--id)\n" in out
    saved = joblib.load(model_file)
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    assert_array_equal(saved[-1].coef_, reference_pipeline(X, y, epochs=30)[-1].coef_)

    # predict: the id column first, then the prediction, row by row
    new_rows = [["a", *X[3]], ["b", *X[0]], ["c", *X[5]]]
    new = write_csv(tmp_path / "new.csv", ["key", "x1", "x2", "x3"], new_rows)
    output = tmp_path / "pred.csv"
    argv = ["predict", str(model_file), new, "--id", "key", "--output", str(output)]
    status, out, err = run(argv, capsys)
    assert (status, err) == (0, "")
    columns, got = predictions(output.read_text())
    assert columns == ["key", "prediction"]
    assert [row[0] for row in got] == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="feature names"):
        expected = saved.predict(X[[3, 0, 5]])
    assert_array_equal([float(row[1]) for row in got], expected)

    status, _, err = run(["predict", str(model_file), new, "--id", "id"], capsys)
    assert status == 2
    assert re.search(r"--id: .*new\.csv has no column 'id'; its columns are: key", err)


def test_id_in_predict_with_a_model_saved_without_column_names(tmp_path, capsys):
    X, y = make_data()
    model = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(epochs=5))
    joblib.dump(model.fit(X, y), tmp_path / "plain.joblib")
    rows = [[f"r{i}", *row] for i, row in enumerate(X.tolist())]
    data = write_csv(tmp_path / "x.csv", ["key", "a", "b", "c"], rows)
    argv = ["predict", str(tmp_path / "plain.joblib"), data, "--id", "key"]
    status, out, _ = run(argv, capsys)
    assert status == 0
    columns, got = predictions(out)
    assert columns == ["key", "prediction"]
    assert [row[0] for row in got] == [f"r{i}" for i in range(len(X))]
    assert_array_equal([float(row[1]) for row in got], model.predict(X))


# -- the estimator's messages, in the words of the flags ------------------------------
def test_every_estimator_parameter_with_a_flag_is_translated():
    fit = next(
        action for action in _parser()._actions if action.dest == "command"
    ).choices["fit"]
    params = SigmoidNeuronRegressor().get_params()
    flags = {
        action.dest: action.option_strings[0]
        for action in fit._actions
        if action.dest in params
    }
    assert flags == FLAGS


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "y has values in [0, 25] but target_scaling=None needs [0, 1]; use "
            "target_scaling='minmax' or (low, high).",
            "y has values in [0, 25] but --target-scaling none needs [0, 1]; use "
            "--target-scaling minmax or LOW,HIGH.",
        ),
        (
            "y has values in [0, 25] outside target_scaling=[0, 10]; widen "
            '(low, high) or use target_scaling="minmax".',
            "y has values in [0, 25] outside --target-scaling 0,10; widen "
            "LOW,HIGH or use --target-scaling minmax.",
        ),
        (
            "target_scaling=(low, high) needs finite low < high; got (5.0, 1.0).",
            "--target-scaling LOW,HIGH needs finite low < high; got (5.0, 1.0).",
        ),
        (
            "target_scaling=(10.0, 30.5) is wide",
            "--target-scaling 10,30.5 is wide",
        ),
        (
            "learnrate=1000000.0 is too large. Use a smaller learnrate. With "
            "alpha=0.01, learnrate * alpha must stay below 2.",
            "--learnrate 1000000.0 is too large. Use a smaller --learnrate. With "
            "--alpha 0.01, --learnrate times --alpha must stay below 2.",
        ),
        (
            "no improvement by tol=0.001 within the last 10 of epochs=1000; "
            "increase epochs (or learnrate).",
            "no improvement by tol=0.001 within the last 10 of --epochs 1000; "
            "increase --epochs (or --learnrate).",
        ),
        (
            "learnrate='auto' with loss='log_loss' and random_state=3: pass a "
            "float learnrate",
            "--learnrate auto with --loss log_loss and --random-state 3: pass a "
            "float --learnrate",
        ),
        (
            "The 'alpha' parameter of SigmoidNeuronRegressor must be a float in "
            "the range [0.0, inf). Got -1 instead.",
            "--alpha must be a float in the range [0.0, inf). Got -1 instead.",
        ),
        # names of attributes, English words and flags stay as they are
        (
            "learnrate_ is 0.5 after 3 epochs; the loss fell; --learnrate 2",
            "learnrate_ is 0.5 after 3 epochs; the loss fell; --learnrate 2",
        ),
    ],
)
def test_estimator_messages_speak_in_flags(message, expected):
    assert in_flag_terms(message) == expected


@pytest.mark.parametrize(
    "scaling, flag",
    [("none", "--target-scaling none"), ("0,10", "--target-scaling 0,10")],
)
def test_an_out_of_range_target_is_reported_with_the_flag(
    scaling, flag, tmp_path, capsys
):
    data = write_csv(tmp_path / "d.csv", ["x1", "y"], [[i, i * i] for i in range(6)])
    argv = ["fit", data, "--target", "y", "--target-scaling", scaling, "--cv", "0"]
    status, _, err = run(argv, capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"{PROG} fit: error: y has values in [0, 25] ")
    assert flag in err and "--target-scaling minmax" in err
    assert "target_scaling" not in err and "(low, high)" not in err


def test_the_estimators_warnings_speak_in_flags(tmp_path, capsys, monkeypatch):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    fit = SigmoidNeuronRegressor.fit

    def fit_that_warns(self, X, y, **kwargs):
        warnings.warn(
            f"training went wrong with learnrate={self.learnrate!r} and "
            f"target_scaling={self.target_scaling!r}; increase epochs",
            ConvergenceWarning,
            stacklevel=2,
        )
        return fit(self, X, y, **kwargs)

    monkeypatch.setattr(SigmoidNeuronRegressor, "fit", fit_that_warns)
    argv = ["fit", data, "--target", "y", "--epochs", "100", "--cv", "0"]
    status, _, err = run(
        [*argv, "--learnrate", "2", "--target-scaling", "10,30"], capsys
    )
    assert status == 0
    assert err == (
        f"{PROG}: warning: ConvergenceWarning: training went wrong with "
        "--learnrate 2.0 and --target-scaling 10,30; increase --epochs\n"
    )


# -- a model worse than the mean -----------------------------------------------------
def test_a_negative_cv_r2_is_a_warning(tmp_path, capsys):
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "x2", "x3", "y"], data_rows(X, y))
    model_file = tmp_path / "m.joblib"
    argv = ["fit", data, "--target", "y", "--epochs", "50", "--learnrate", "1e6"]
    status, out, err = run([*argv, "--cv", "3", "--model", str(model_file)], capsys)
    assert status == 0  # trained and saved as asked
    assert model_file.exists()
    reference = make_pipeline(
        StandardScaler(),
        SigmoidNeuronRegressor(learnrate=1e6, epochs=50, random_state=0),
    )
    cv_r2 = cross_val_score(
        reference, X, y, cv=KFold(3, shuffle=True, random_state=0)
    ).mean()
    assert cv_r2 < 0
    assert f"Cross-validated R2 (3-fold): {cv_r2:.4f} " in out
    # the fits' own diagnosis, in the flags' terms, then the R2's
    assert (
        f"{PROG}: warning: TrainingWarning: The training loss rose from" in err
        and "--learnrate 1000000.0 is too large for this data. Use --learnrate auto"
        in err
    )
    assert err.endswith(
        f"{PROG} fit: warning: the cross-validated R2 {cv_r2:.4f} is below 0: the "
        "model predicts 'y' worse than its mean does; try --learnrate auto or a "
        "smaller --learnrate\n"
    )
    # without cross-validation, the training R2 tells the same
    status, _, err = run([*argv, "--cv", "0"], capsys)
    training_r2 = reference.fit(X, y).score(X, y)
    assert training_r2 < 0
    assert status == 0
    assert f"{PROG} fit: warning: the training R2 {training_r2:.4f} is below 0" in err


def test_help_shows_the_csv_options(capsys):
    status, out, _ = run(["fit", "--help"], capsys)
    assert status == 0
    for text in ["--sep CHAR", "--exclude COL [COL ...]", "--id COL", "row index"]:
        assert text in " ".join(out.split()), text
    status, out, _ = run(["predict", "--help"], capsys)
    assert status == 0
    assert "--sep CHAR" in out and "--id COL" in out
