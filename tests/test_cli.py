"""The command line, end to end: the demo, `fit` and `predict` on CSV files."""

import csv
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor
from sk_sigmoid_neuron._cli import main

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
    assert lines[1].split() == ["model", "held-out", "R2", "epochs", "fit", "time"]
    # the held-out R2 of both models, computed here
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    for line, model, epochs in [
        (
            lines[2],
            SigmoidNeuronRegressor(learnrate=5.0, epochs=1000, random_state=0),
            "1000",
        ),
        (lines[3], LinearRegression(), "-"),
    ]:
        pipe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
        name, r2, shown_epochs, _ = line.split()
        assert name == type(model).__name__
        assert r2 == f"{pipe.score(X_test, y_test):.4f}"
        assert shown_epochs == epochs
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
    (["small.csv", "--target-scaling", "none"], r"values in \[0, 25\] but target_sca"),
    (["small.csv", "--target-scaling", "0,10"], r"values in \[0, 25\] outside target"),
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
