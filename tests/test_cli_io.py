"""The command line's CSV files (sk_sigmoid_neuron/_cli/_io.py), read by pandas.

The files that the command line read before it stood on pandas (an index
column, ';' and tab delimiters, an id column, a decimal comma) give the same
model: the one fitted here on the numbers as written.
"""

import csv
import io
import re

import joblib
import numpy as np
import pytest
from cli_helpers import PROG, RTOL, data_rows, make_data, reference, run, write_csv
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes

pd = pytest.importorskip("pandas")


def fit(data, model_file, capsys, *options):
    """`fit` with 30 epochs and a seed, no CV, saving to ``model_file``."""
    argv = ["fit", data, "--target", "y", "--epochs", "30", "--cv", "0"]
    argv += ["--random-state", "0", "--model", str(model_file), *options]
    status, out, err = run(argv, capsys)
    assert (status, err) == (0, "")
    return out, joblib.load(model_file)


def predictions(text):
    """The header and the rows of a predictions CSV."""
    lines = list(csv.reader(text.splitlines()))
    return lines[0], lines[1:]


# -- the CSV files read before, the same results ------------------------------------
@pytest.fixture(scope="module")
def diabetes():
    """scikit-learn's diabetes data, the 10 features and the target."""
    X, y = load_diabetes(return_X_y=True)
    names = load_diabetes().feature_names
    return X, y, names


def test_an_index_column_as_pandas_writes_it(diabetes, tmp_path, capsys):
    X, y, names = diabetes
    frame = pd.DataFrame(X[:300], columns=names).assign(y=y[:300])
    frame.index = [f"r{i}" for i in range(300)]
    frame.to_csv(tmp_path / "train.csv")  # with the index, as pandas does
    assert (tmp_path / "train.csv").read_text().startswith(",age,sex,bmi,")
    out, saved = fit(str(tmp_path / "train.csv"), tmp_path / "m.joblib", capsys)
    assert "10 features: age, sex, bmi," in out
    assert "Not used as features: the unnamed first column (the row index)\n" in out
    expected = reference(X[:300], y[:300], epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)

    # predict: the index labels first, under an empty name, so that pandas
    # reads the predictions back with the index of the input
    new = pd.DataFrame(X[300:], columns=names, index=[f"r{i}" for i in range(300, 442)])
    new.to_csv(tmp_path / "new.csv")
    status, out, err = run(
        ["predict", str(tmp_path / "m.joblib"), str(tmp_path / "new.csv")], capsys
    )
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == ",prediction"
    back = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(back.index) == list(new.index)
    assert_allclose(back["prediction"], expected.predict(X[300:]), rtol=RTOL)


def test_semicolons_and_an_id_column(diabetes, tmp_path, capsys):
    X, y, names = diabetes
    rows = [[f"p{i:03d}", *r] for i, r in enumerate(data_rows(X[:300], y[:300]))]
    data = write_csv(tmp_path / "d.csv", ["patient", *names, "y"], rows, sep=";")
    out, saved = fit(data, tmp_path / "m.joblib", capsys, "--id", "patient")
    assert out.startswith(f"{data}: 300 rows (split at ';'); target 'y'; 10 features")
    assert "Not used as features: patient (--id)\n" in out
    expected = reference(X[:300], y[:300], epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)

    # predict: the id column first, as written ('p007', not 7), then the
    # prediction, row by row
    rows = [[f"p{i:03d}", *map(repr, X[i].tolist())] for i in (300, 7, 441)]
    new = write_csv(tmp_path / "new.csv", ["patient", *names], rows, sep=";")
    argv = ["predict", str(tmp_path / "m.joblib"), new, "--id", "patient"]
    status, out, err = run(argv, capsys)
    assert (status, err) == (0, "")
    columns, got = predictions(out)
    assert columns == ["patient", "prediction"]
    assert [row[0] for row in got] == ["p300", "p007", "p441"]
    expected = expected.predict(X[[300, 7, 441]])
    assert_allclose([float(row[1]) for row in got], expected, rtol=RTOL)


def test_ids_and_index_labels_are_copied_as_written(tmp_path, capsys):
    X, y = make_data()
    rows = [[f"{i:03d}", *row] for i, row in enumerate(data_rows(X, y))]
    data = write_csv(tmp_path / "d.csv", ["key", "x1", "x2", "x3", "y"], rows)
    fit(data, tmp_path / "m.joblib", capsys, "--id", "key")
    for header, option in [(["key"], ["--id", "key"]), ([""], [])]:
        rows = [["007", *X[0].tolist()], ["1.50", *X[1].tolist()]]
        new = write_csv(tmp_path / "new.csv", [*header, "x1", "x2", "x3"], rows)
        status, out, err = run(
            ["predict", str(tmp_path / "m.joblib"), new, *option], capsys
        )
        assert (status, err) == (0, "")
        columns, got = predictions(out)
        assert columns == [*header, "prediction"]
        assert [row[0] for row in got] == ["007", "1.50"]


def test_a_decimal_comma_is_explained_and_read_with_decimal(diabetes, tmp_path, capsys):
    X, y, names = diabetes
    rows = [[v.replace(".", ",") for v in r] for r in data_rows(X[:300], y[:300])]
    data = write_csv(tmp_path / "d.csv", [*names, "y"], rows, sep=";")
    status, out, err = run(["fit", data, "--target", "y"], capsys)
    assert (status, out) == (2, "")
    assert err == (
        f"{PROG} fit: error: {data}, line 2: column 'age' is "
        f"{rows[0][0]!r}, not a finite number; the columns used must hold numbers "
        "only (fill in or remove missing values); numbers with a decimal comma "
        "need --decimal ,\n"
    )
    _, saved = fit(data, tmp_path / "m.joblib", capsys, "--decimal", ",")
    expected = reference(X[:300], y[:300], epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)


@pytest.mark.parametrize("sep, name", [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_the_delimiter_is_detected(tmp_path, capsys, sep, name):
    X, y = make_data()
    header = ["x1", "x2", "x3", "y"]
    data = write_csv(tmp_path / "d.csv", header, data_rows(X, y), sep)
    out, saved = fit(data, tmp_path / "m.joblib", capsys)
    assert out.startswith(f"{data}: 60 rows (split at {name}); target 'y'; 3 features")
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    expected = reference(X, y, epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)

    # predict detects it too
    new = write_csv(tmp_path / "new.csv", header[:3], X[:5].tolist(), sep)
    status, out, err = run(["predict", str(tmp_path / "m.joblib"), new], capsys)
    assert (status, err) == (0, "")
    columns, rows = predictions(out)
    assert columns == ["prediction"]
    assert_allclose([float(r[0]) for r in rows], expected.predict(X[:5]), rtol=RTOL)


def test_a_file_of_one_column_is_one_column(tmp_path, capsys):
    # a header without a delimiter is one column (pandas' own sniffing would
    # split 'x1' at a letter)
    X, y = make_data()
    data = write_csv(tmp_path / "d.csv", ["x1", "y"], data_rows(X[:, :1], y))
    _, saved = fit(data, tmp_path / "m.joblib", capsys)
    new = write_csv(tmp_path / "new.csv", ["x1"], X[:4, :1].tolist())
    status, out, err = run(["predict", str(tmp_path / "m.joblib"), new], capsys)
    assert (status, err) == (0, "")
    expected = reference(X[:, :1], y, epochs=30).predict(X[:4, :1])
    assert_allclose([float(v) for v in out.splitlines()[1:]], expected, rtol=RTOL)


def test_empty_rows_are_skipped_and_lines_still_counted(tmp_path, capsys):
    path = tmp_path / "d.csv"
    # blank lines, and a row of empty cells (as spreadsheets export them)
    path.write_text("\nx;y\n1;2\n\n;\n2;4\n3;\n")
    status, _, err = run(["fit", str(path), "--target", "y", "--cv", "0"], capsys)
    assert status == 2
    assert err == (
        f"{PROG} fit: error: {path}, line 7: column 'y' is empty, not a finite "
        "number; the columns used must hold numbers only (fill in or remove missing "
        "values)\n"
    )
    path.write_text("x;y\n1;2\n\n;\n2;4\n3;6\n\n")
    out, saved = fit(str(path), tmp_path / "m.joblib", capsys)
    assert out.startswith(f"{path}: 3 rows (split at ';')")
    X, y = np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.0, 6.0])
    assert_allclose(saved[-1].coef_, reference(X, y, epochs=30)[-1].coef_, rtol=RTOL)


# -- the delimiter -------------------------------------------------------------------
def test_a_missing_column_message_names_the_delimiter(tmp_path, capsys):
    rows = [["1", "2", "3"], ["4", "5", "6"]]
    semicolons = write_csv(tmp_path / "s.csv", ["age", "bmi", "y"], rows, ";")
    status, _, err = run(["fit", semicolons, "--target", "target"], capsys)
    assert status == 2
    assert err == (
        f"{PROG} fit: error: --target: {semicolons} has no column 'target'; its "
        "columns are: age, bmi, y (columns split at ';', detected; --sep sets the "
        "delimiter)\n"
    )
    # a delimiter not detected: the columns are read as one, which the message shows
    colons = write_csv(tmp_path / "c.csv", ["age", "bmi", "y"], rows, ":")
    status, _, err = run(["fit", colons, "--target", "y"], capsys)
    assert status == 2
    assert err.endswith(
        "has no column 'y'; its columns are: age:bmi:y (columns split at ',', "
        "detected; --sep sets the delimiter)\n"
    )


def test_sep_forces_the_delimiter(tmp_path, capsys):
    X, y = make_data()
    header = ["x1", "x2", "x3", "y"]
    data = write_csv(tmp_path / "d.csv", header, data_rows(X, y), ":")
    _, saved = fit(data, tmp_path / "m.joblib", capsys, "--sep", ":")
    expected = reference(X, y, epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)
    tabs = write_csv(tmp_path / "t.csv", header, data_rows(X, y), "\t")
    _, saved = fit(tabs, tmp_path / "m.joblib", capsys, "--sep", "tab")
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)
    status, _, err = run(["fit", data, "--target", "y", "--sep", ";"], capsys)
    assert status == 2
    assert err.endswith("(columns split at ';', as --sep asked)\n")


@pytest.mark.parametrize(
    "options, message",
    [
        (["--sep", ";;"], "argument --sep: ';;' is not one character"),
        (["--decimal", "ab"], "argument --decimal: 'ab' is not one character"),
        (["--decimal", ","], "--decimal ',' is also the delimiter of "),
    ],
)
def test_a_bad_sep_or_decimal_is_one_line_and_status_2(
    options, message, tmp_path, capsys
):
    data = write_csv(tmp_path / "d.csv", ["x", "y"], [[1, 2]])
    status, _, err = run(["fit", data, "--target", "y", *options], capsys)
    assert status == 2 and err.count("\n") == 1
    assert message in err


# -- the columns -----------------------------------------------------------------------
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
    # comma-separated and repeated; DATA.csv may come after it
    argv = ["fit", "--exclude", "id,name", "--exclude", "note", data, "--target", "y"]
    argv += ["--epochs", "30", "--cv", "0", "--random-state", "0"]
    status, out, err = run([*argv, "--model", str(tmp_path / "m.joblib")], capsys)
    assert (status, err) == (0, "")
    assert "Not used as features: id, name, note\n" in out
    saved = joblib.load(tmp_path / "m.joblib")
    assert list(saved.feature_names_in_) == ["x1", "x2", "x3"]
    expected = reference(X, y, epochs=30)
    assert_allclose(saved[-1].coef_, expected[-1].coef_, rtol=RTOL)


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
    # a column with numbers and a gap is a missing value
    argv = ["fit", data, "--target", "y", "--cv", "0", "--exclude", "patient"]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert "line 3: column 'x1' is empty, not a finite number" in err


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--exclude", "id,nme"],
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
        (["--features", "x1,w"], r"--features: .*d\.csv has no column 'w'"),
        (["--features", "x1,y"], r"--features includes the target column 'y'"),
        (
            ["--id", "x1", "--exclude", "id,name"],
            r"d\.csv has no column besides the target 'y' and the columns --id and "
            r"--exclude leave out to learn from",
        ),
    ],
)
def test_bad_columns_are_one_line_and_status_2(options, message, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "name", "x1", "y"], [[1, "a", 2, 3]])
    status, out, err = run(["fit", data, "--target", "y", *options], capsys)
    assert status == 2 and "Trained" not in out
    assert err.count("\n") == 1
    assert re.search(message, err), err


def test_id_in_predict_with_a_model_saved_without_column_names(tmp_path, capsys):
    X, y = make_data()
    model = reference(X, y, epochs=5)
    joblib.dump(model, tmp_path / "plain.joblib")
    rows = [[f"r{i}", *row] for i, row in enumerate(X.tolist())]
    data = write_csv(tmp_path / "x.csv", ["key", "a", "b", "c"], rows)
    argv = ["predict", str(tmp_path / "plain.joblib"), data, "--id", "key"]
    status, out, _ = run(argv, capsys)
    assert status == 0
    columns, got = predictions(out)
    assert columns == ["key", "prediction"]
    assert [row[0] for row in got] == [f"r{i}" for i in range(len(X))]
    assert_array_equal([float(row[1]) for row in got], model.predict(X))
    argv = ["predict", str(tmp_path / "plain.joblib"), data]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert err.endswith("x.csv has 4 columns but the model needs 3 features\n")


# -- bad files -------------------------------------------------------------------------
BAD_FILES = {
    "empty.csv": "",
    "header_only.csv": "x1,x2,x3,y\n",
    "long_row.csv": "x1,x2,x3,y\n1,2,3,4\n5,6,7,8,9\n",
    "short_row.csv": "x1,x2,x3,y\n1,2,3,4\n5,6\n",
    "text.csv": "x1,x2,x3,y\n1,2,3,4\n1,abc,3,4\n",
    "blank.csv": "x1,x2,x3,y\n\n1,2,3,4\n1,2,3,\n",
    "nan.csv": "x1,x2,x3,y\n1,2,3,4\n1,2,nan,4\n",
    "inf.csv": "x1,x2,x3,y\n1,2,3,4\n1,2,inf,4\n",
    "twice.csv": "x1,x2,x1,y\n1,2,3,4\n",
    "unnamed.csv": "x1,,x3,y\n1,2,3,4\n",
    "only_y.csv": "y\n1\n2\n",
    "ok.csv": "x1,x2,x3,y\n1,2,3,4\n2,1,0,5\n",
}
FIT_ERRORS = [
    (["missing.csv"], r"cannot read .*missing\.csv: No such file or directory"),
    (["a_dir"], r"cannot read .*a_dir: Is a directory"),
    (["binary.csv"], r"binary\.csv is not a UTF-8 text file"),
    (["empty.csv"], r"empty\.csv is empty; it needs a header row"),
    (["header_only.csv"], r"header_only\.csv has a header row but no rows of data"),
    (["long_row.csv"], r"long_row\.csv is not a valid CSV file: .*line 3, saw 5"),
    (["short_row.csv"], r"short_row\.csv, line 3: column 'x3' is empty, not a fin"),
    (["text.csv"], r"text\.csv, line 3: column 'x2' is 'abc', not a finite number"),
    (["blank.csv"], r"blank\.csv, line 4: column 'y' is empty, not a finite number"),
    (["nan.csv"], r"nan\.csv, line 3: column 'x3' is 'nan', not a finite number"),
    (["inf.csv"], r"inf\.csv, line 3: column 'x3' is 'inf', not a finite number"),
    (["twice.csv"], r"twice\.csv: the header names column 'x1' twice"),
    (["unnamed.csv"], r"unnamed\.csv: column 2 of the header row has no name"),
    (["ok.csv", "--target", "z"], r"has no column 'z'; its columns are: x1, x2, x3, y"),
    (["only_y.csv"], r"only_y\.csv has no column besides the target 'y'"),
    (["ok.csv", "--cv", "3"], r"--cv 3 needs at least 3 rows but .*ok\.csv has 2"),
    (["ok.csv", "--cv", "1"], r"--cv: needs at least 2 folds \(or 0 to skip"),
    (["ok.csv", "--model", "no_dir/m.joblib"], r"--model .*: the folder .* not exist"),
]


@pytest.mark.parametrize("args, message", FIT_ERRORS)
def test_bad_files_are_one_line_and_status_2(
    args, message, tmp_path, capsys, monkeypatch
):
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    (tmp_path / "a_dir").mkdir()
    monkeypatch.chdir(tmp_path)
    argv = ["fit", *args] + ([] if "--target" in args else ["--target", "y"])
    status, out, err = run(argv, capsys)
    assert (status, out) == (2, "")  # found before training
    assert err.count("\n") == 1 and err.startswith(f"{PROG} fit: error: ")
    assert re.search(message, err), err
