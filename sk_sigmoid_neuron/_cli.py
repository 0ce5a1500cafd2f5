"""The command line: ``python -m sk_sigmoid_neuron``.

Without a subcommand it runs the demo. ``fit DATA.csv --target COL`` trains a
``StandardScaler`` + :class:`SigmoidNeuronRegressor` pipeline on a CSV file and
can save it; ``predict MODEL DATA.csv`` writes that model's predictions as CSV.
The delimiter of a CSV file is detected (or ``--sep``); an unnamed first column
is the row index, as pandas writes it. Problems with the input (files, columns,
values, options) are one line on stderr and exit status 2, and the estimator's
messages name the flags (``--learnrate``), not its parameters.
"""

import argparse
import csv
import math
import os
import re
import sys
import time
import warnings
from contextlib import contextmanager

import numpy as np

PROG = "python -m sk_sigmoid_neuron"


class UsageError(Exception):
    """A problem with the user's input, reported as one line (exit status 2)."""


def demo(out=sys.stdout):
    """The main job on its embedded default: the diabetes data, held-out R2."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._sigmoid_neuron import SigmoidNeuronRegressor

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    neuron = SigmoidNeuronRegressor(random_state=0)  # learnrate="auto"
    rows = []
    for name, model in [
        ("SigmoidNeuronRegressor", neuron),
        ("LinearRegression", LinearRegression()),
    ]:
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        pipe.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        epochs = getattr(pipe[-1], "n_iter_", "-")
        rows.append((name, pipe.score(X_test, y_test), epochs, seconds))
    print(
        f"Diabetes data (scikit-learn): {len(X_train)} training and "
        f"{len(X_test)} held-out records, {X.shape[1]} features, "
        "StandardScaler in a pipeline; SigmoidNeuronRegressor(random_state=0), "
        f"whose default learnrate='auto' chose the step learnrate_="
        f"{neuron.learnrate_:.3g}.",
        file=out,
    )
    print(f"{'model':<24}{'held-out R2':>12}{'epochs':>8}{'fit time':>11}", file=out)
    for name, r2, epochs, seconds in rows:
        print(f"{name:<24}{r2:>12.4f}{epochs!s:>8}{seconds * 1e3:>9.1f}ms", file=out)
    return 0


# -- reading CSV files ---------------------------------------------------------------
DELIMITERS = ",;\t|"  # the ones detected; --sep forces any other
SNIFF_LINES = 20


def _delimiter_name(sep):
    return "tab" if sep == "\t" else repr(sep)


class Table:
    """A CSV file read for the command line.

    ``header`` names the columns and ``rows`` holds ``(line number, cells)``
    pairs, both without the index column; ``index`` holds that column's cells
    (the row labels) if the file has one, else None.
    """

    def __init__(self, path, sep, sniffed, header, rows, index):
        self.path, self.sep, self.sniffed = path, sep, sniffed
        self.header, self.rows, self.index = header, rows, index

    def how_split(self):
        """How the columns were found, for messages about a missing column."""
        sep = _delimiter_name(self.sep)
        if self.sniffed:
            return f"columns split at {sep}, detected; --sep sets the delimiter"
        return f"columns split at {sep}, as --sep asked"


def _sniff(file):
    """The delimiter of the file's first lines, among ``DELIMITERS`` (else ',')."""
    sample = "".join(line for _, line in zip(range(SNIFF_LINES), file, strict=False))
    file.seek(0)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or lines that disagree
        return ","


def read_csv(path, sep=None):
    """The header and the data rows (with their line numbers) of a CSV file.

    The delimiter is ``sep``, or detected from the first lines. An unnamed
    first column is the row index, as pandas' ``to_csv`` (and R's
    ``write.csv``) write it: it is set apart from the columns.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            sniffed = sep is None
            if sniffed:
                sep = _sniff(file)
            reader = csv.reader(file, delimiter=sep)
            rows = [(reader.line_num, row) for row in reader if row]  # no blank lines
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"{path} is not a UTF-8 text file; a CSV file with a header row of "
            "column names is needed"
        ) from None
    except csv.Error as exc:
        raise UsageError(f"{path} is not a valid CSV file: {exc}") from None
    if not rows:
        raise UsageError(
            f"{path} is empty; it needs a header row of column names, then rows of "
            "numbers"
        )
    (_, header), data = rows[0], rows[1:]
    header = [name.strip() for name in header]
    has_index = len(header) > 1 and not header[0]
    for i, name in enumerate(header, start=1):
        if not name and not (i == 1 and has_index):
            raise UsageError(
                f"{path}: column {i} of the header row has no name; name it in "
                "the header row (or delete the column)"
            )
        if header.index(name) != i - 1:
            raise UsageError(f"{path}: the header names column {name!r} twice")
    if not data:
        raise UsageError(f"{path} has a header row but no rows of data")
    for line, row in data:
        if len(row) != len(header):
            raise UsageError(
                f"{path}, line {line}: {len(row)} values, but the header names "
                f"{len(header)} columns"
            )
    index = None
    if has_index:
        index = [row[0] for _, row in data]
        header = header[1:]
        data = [(line, row[1:]) for line, row in data]
    return Table(path, sep, sniffed, header, data, index)


def check_columns(table, names, option=None):
    """Fail, listing the file's columns, if one of ``names`` is not among them."""
    for name in names:
        if name not in table.header:
            raise UsageError(
                f"{option + ': ' if option else ''}{table.path} has no column "
                f"{name!r}; its columns are: {', '.join(table.header)} "
                f"({table.how_split()})"
            )


def numeric_columns(table, names, features=False):
    """The columns ``names`` of the data rows as a float64 array.

    With ``features``, a column of text (no number at all) is an error that
    suggests leaving it out with --exclude or --id.
    """
    check_columns(table, names)
    idx = [table.header.index(name) for name in names]
    cells = [[row[k] for k in idx] for _, row in table.rows]
    try:
        values = np.array(cells, dtype=np.float64)
        if np.all(np.isfinite(values)):
            return values
    except ValueError:
        pass
    values = np.empty((len(cells), len(names)))  # cell by cell, to name the bad one
    for i, ((line, _), row) in enumerate(zip(table.rows, cells, strict=True)):
        for j, (name, cell) in enumerate(zip(names, row, strict=True)):
            try:
                values[i, j] = float(cell)
            except ValueError:
                values[i, j] = np.nan
            if not math.isfinite(values[i, j]):
                if (
                    features
                    and cell.strip()
                    and not _decimal_comma_hint(cell)
                    and _all_text(cells, j)
                ):
                    raise UsageError(
                        f"{table.path}: column {name!r} holds text (line {line}: "
                        f"{cell.strip()!r}), not numbers; leave it out of the "
                        f"features with --exclude {name}, or --id {name} for a "
                        "column that identifies the rows"
                    )
                what = "is empty" if not cell.strip() else f"is {cell.strip()!r}"
                raise UsageError(
                    f"{table.path}, line {line}: column {name!r} {what}, not a "
                    "finite number; the columns used must hold numbers only (fill "
                    f"in or remove missing values){_decimal_comma_hint(cell)}"
                )
    return values


def _all_text(cells, j):
    """Whether no cell of column ``j`` is a number."""
    for row in cells:
        try:
            float(row[j])
        except ValueError:
            continue
        return False
    return True


def _decimal_comma_hint(cell):
    """Advice for a number such as 1,5 (from a file that uses ';' to separate)."""
    try:
        number = "," in cell and math.isfinite(float(cell.replace(",", ".")))
    except ValueError:
        number = False
    return "; write numbers with a decimal point, not a comma" if number else ""


# -- option values -------------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cv_folds(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(
            f"needs at least 2 folds (or 0 to skip cross-validation), got {value}"
        )
    return value


def _number(text, *, positive):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
    return value


def _learnrate(text):
    if text == "auto":
        return text
    try:
        return _number(text, positive=True)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or 'auto')") from None


def _alpha(text):
    return _number(text, positive=False)


def _target_scaling(text):
    if text in ("minmax", "none"):
        return None if text == "none" else text
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not 'minmax', 'none' or LOW,HIGH (two numbers, such as 0,100)"
        ) from None
    return (low, high)


def _separator(text):
    if text in ("tab", "\\t", "\t"):
        return "\t"
    if len(text) != 1 or text in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"{text!r} is not one character (such as ';' or '|') or 'tab'"
        )
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def __init__(self, *args, greedy_exclude=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.greedy_exclude = greedy_exclude

    def error(self, message):
        if self.greedy_exclude and "required: " in message and "DATA.csv" in message:
            # `--exclude a b data.csv` takes data.csv for a column name
            message += (
                "; --exclude takes every name up to the next option: put DATA.csv "
                "before --exclude, or end the names with --"
            )
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser(argv=()):
    parser = _Parser(
        prog=PROG,
        description="Train a sigmoid neuron (the delta rule). Without a "
        "subcommand, runs the demo on scikit-learn's diabetes data.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{fit,predict}")

    fit = commands.add_parser(
        "fit",
        greedy_exclude="--exclude" in argv,
        help="train on a CSV file",
        description="Train StandardScaler + SigmoidNeuronRegressor on a CSV file "
        "(a header row of column names, then rows of numbers), printing the loss "
        "as it trains and the cross-validated R2 at the end. The delimiter (',', "
        "';', tab or '|') is detected; an unnamed first column is the row index "
        "(as pandas' to_csv writes it) and is not used as a feature.",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data")
    fit.add_argument("--target", required=True, metavar="COL", help="column to learn")
    columns = fit.add_mutually_exclusive_group()
    columns.add_argument(
        "--features",
        metavar="COL,COL,...",
        help="comma-separated columns to learn from (default: all but the target, "
        "the --id column and the --exclude columns)",
    )
    columns.add_argument(
        "--exclude",
        nargs="+",
        action="extend",
        default=[],
        metavar="COL",
        help="columns to leave out of the features, such as text columns",
    )
    fit.add_argument(
        "--id",
        metavar="COL",
        help="a column that identifies the rows (not a feature)",
    )
    _add_sep(fit)
    fit.add_argument(
        "--learnrate",
        type=_learnrate,
        default="auto",
        metavar="RATE",
        help="learning rate > 0, or 'auto', a step that cannot diverge (default: auto)",
    )
    fit.add_argument(
        "--epochs",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="full-batch steps (default: 1000)",
    )
    fit.add_argument(
        "--target-scaling",
        type=_target_scaling,
        default="minmax",
        metavar="minmax|none|LOW,HIGH",
        help="how the target maps to [0, 1] (default: minmax)",
    )
    fit.add_argument(
        "--loss",
        choices=["squared_error", "log_loss"],
        default="squared_error",
        help="the loss descended (default: squared_error, the delta rule)",
    )
    fit.add_argument(
        "--alpha", type=_alpha, default=0.0, help="L2 penalty >= 0 (default: 0)"
    )
    fit.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="INT",
        help="seed of the start and the folds (default: 0)",
    )
    fit.add_argument(
        "--cv",
        type=_cv_folds,
        default=5,
        metavar="K",
        help="folds of the cross-validated R2 (default: 5; 0 skips it)",
    )
    fit.add_argument(
        "--model", metavar="FILE", help="save the fitted pipeline here (joblib)"
    )
    fit.add_argument(
        "--plot",
        metavar="FILE",
        help="save the loss curve as an image, such as loss.png (needs matplotlib)",
    )

    predict = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description="Write the predictions of a model saved by `fit --model` for "
        "the rows of a CSV file (which needs the model's feature columns) as CSV: "
        "a column 'prediction' (one per output), after the --id column or the "
        "row index if DATA.csv has one. Load only model files you trust: loading "
        "runs code stored in them.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model saved by fit")
    predict.add_argument("data", metavar="DATA.csv", help="rows to predict")
    predict.add_argument(
        "--id",
        metavar="COL",
        help="copy this column to the output, first (default: the row index, if "
        "DATA.csv has one)",
    )
    _add_sep(predict)
    predict.add_argument(
        "--output", metavar="FILE", help="write the CSV here (default: stdout)"
    )
    return parser


def _add_sep(parser):
    parser.add_argument(
        "--sep",
        type=_separator,
        metavar="CHAR",
        help="the delimiter of DATA.csv, one character or 'tab' (default: "
        "detected among ',', ';', tab and '|', else ',')",
    )


# -- fit -----------------------------------------------------------------------------
def _check_output_path(path, option):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")


def _check_plot(path):
    """Fail before training if the loss curve could not be saved."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, which is not installed; install it with "
            "pip install 'sk-sigmoid-neuron[plot]' or leave out --plot"
        ) from None
    _check_output_path(path, "--plot")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = Figure().canvas.get_supported_filetypes()
    if extension not in formats:
        what = f"cannot write .{extension} files" if extension else "needs a file type"
        raise UsageError(
            f"--plot {path}: matplotlib {what}; end the name with one of "
            + ", ".join("." + name for name in sorted(formats))
        )


def _split_names(values):
    """Column names from COL or COL,COL,... values."""
    names = (name.strip() for value in values for name in value.split(","))
    return [name for name in names if name]


def _feature_names(args, table):
    """The feature columns, and the columns left out (for the user to see)."""
    check_columns(table, [args.target], "--target")
    if args.id is not None:
        check_columns(table, [args.id], "--id")
        if args.id == args.target:
            raise UsageError(
                f"--id and --target name the same column {args.id!r}; the id "
                "column identifies the rows, it cannot be learned"
            )
    if args.features is not None:
        features = _split_names([args.features])
        check_columns(table, features, "--features")
        for name, what in [(args.target, "the target"), (args.id, "the --id")]:
            if name in features:
                raise UsageError(
                    f"--features includes {what} column {name!r}; leave it out of "
                    "--features"
                )
        left_out = []
    else:
        excluded = list(dict.fromkeys(_split_names(args.exclude)))
        check_columns(table, excluded, "--exclude")
        left_out = [f"{args.id} (--id)"] if args.id is not None else []
        left_out += [name for name in excluded if name not in (args.target, args.id)]
        features = [
            name
            for name in table.header
            if name not in (args.target, args.id, *excluded)
        ]
    if not features:
        besides = " and the columns --id and --exclude leave out" if left_out else ""
        raise UsageError(
            f"{args.data} has no column besides the target {args.target!r}"
            f"{besides} to learn from"
        )
    if table.index is not None:
        left_out.insert(0, "the unnamed first column (the row index)")
    return features, left_out


def fit_command(args):
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._sigmoid_neuron import SigmoidNeuronRegressor

    if args.plot:
        _check_plot(args.plot)
    if args.model:
        _check_output_path(args.model, "--model")
    table = read_csv(args.data, args.sep)
    features, left_out = _feature_names(args, table)
    X = numeric_columns(table, features, features=True)
    y = numeric_columns(table, [args.target])[:, 0]
    if args.cv > len(y):
        raise UsageError(
            f"--cv {args.cv} needs at least {args.cv} rows but {args.data} has "
            f"{len(y)}; use a smaller --cv (or 0)"
        )
    model = SigmoidNeuronRegressor(
        learnrate=args.learnrate,
        epochs=args.epochs,
        target_scaling=args.target_scaling,
        loss=args.loss,
        alpha=args.alpha,
        random_state=args.random_state,
        verbose=1,
    )
    pipe = make_pipeline(StandardScaler(), model)
    split = "" if table.sep == "," else f" (split at {_delimiter_name(table.sep)})"
    print(
        f"{args.data}: {len(y)} rows{split}; target {args.target!r}; "
        f"{len(features)} features: {', '.join(features)}"
    )
    if left_out:
        print(f"Not used as features: {', '.join(left_out)}")
    print(f"Training StandardScaler + {model!r}")
    start = time.perf_counter()
    with _progress_bar(model, show=sys.stdout.isatty()):
        pipe.fit(X, y)
    seconds = time.perf_counter() - start
    training_r2 = pipe.score(X, y)
    print(
        f"Trained {model.n_iter_} epochs in {seconds:.2f} s: final loss "
        f"{model.loss_curve_[-1]:.6g}, training R2 {training_r2:.4f}"
    )
    # the names select the columns in `predict`, as after a fit on a DataFrame
    pipe[0].feature_names_in_ = np.asarray(features, dtype=object)
    pipe.set_params(sigmoidneuronregressor__verbose=0)  # quiet from now on
    if args.cv:
        folds = KFold(args.cv, shuffle=True, random_state=args.random_state)
        scores = cross_val_score(clone(pipe), X, y, cv=folds, error_score="raise")
        print(
            f"Cross-validated R2 ({args.cv}-fold): {scores.mean():.4f} "
            f"(std {scores.std():.4f})"
        )
        if scores.mean() < 0:
            _warn_negative_r2(f"the cross-validated R2 {scores.mean():.4f}", args)
    elif training_r2 < 0:
        _warn_negative_r2(f"the training R2 {training_r2:.4f}", args)
    if args.model:
        import joblib

        try:
            joblib.dump(pipe, args.model)
        except OSError as exc:
            raise UsageError(f"cannot write {args.model}: {exc.strerror}") from None
        print(f"Saved the fitted pipeline to {args.model}")
    else:
        print("No --model given: the fitted pipeline is not saved.")
    if args.plot:
        _plot_loss(pipe, args)
        print(f"Saved the loss curve to {args.plot}")
    return 0


def _warn_negative_r2(what, args):
    """One line on stderr: the model predicts worse than the target's mean."""
    if args.learnrate == "auto":
        advice = "the features may not predict it; check them, --epochs and --alpha"
    else:
        advice = "try --learnrate auto or a smaller --learnrate"
    print(
        f"{PROG} fit: warning: {what} is below 0: the model predicts "
        f"{args.target!r} worse than its mean does; {advice}",
        file=sys.stderr,
    )


@contextmanager
def _progress_bar(model, show):
    """A progress bar over the epochs of ``model`` while the block runs.

    It is a callback (scikit-learn >= 1.9): rich's bar if rich is installed,
    else a plain text bar. It advances in constant time per epoch, which
    scikit-learn's ``ProgressBar`` does not (each update there sums over all
    the epochs done so far).
    """
    if not show or not hasattr(model, "set_callbacks"):
        yield
        return
    try:
        import rich.progress  # noqa: F401

        bar = RichProgressBar()
    except ImportError:
        bar = PlainProgressBar()
    model.set_callbacks(bar)
    try:
        yield
    finally:
        model.set_callbacks()


class RichProgressBar:
    """A rich progress bar over the epochs of a fit (a FitCallback).

    Lines printed to stdout meanwhile (the loss) appear above it.
    """

    def setup(self, estimator, context):
        from rich import progress

        self.progress = progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.TaskProgressColumn(),
            progress.MofNCompleteColumn(),
            progress.TextColumn("epochs"),
            progress.TimeRemainingColumn(elapsed_when_finished=True),
        )
        self.task = self.progress.add_task(
            f"{type(estimator).__name__}.{context.task_name}",
            total=context.max_subtasks,
        )
        self.progress.start()

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.progress.update(self.task, completed=context.task_id + 1)

    def teardown(self, estimator, context):
        self.progress.stop()


class PlainProgressBar:
    """A one-line text progress bar over the epochs of a fit (a FitCallback).

    It redraws its line with a carriage return; lines printed to stdout
    meanwhile (the loss) appear above it.
    """

    width = 30

    def setup(self, estimator, context):
        self.total, self.done = context.max_subtasks or 1, 0
        self._out = sys.stdout
        self._visible = False
        sys.stdout = _Above(self)
        self.draw()

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            percent = 100 * self.done // self.total
            self.done = context.task_id + 1
            if 100 * self.done // self.total != percent:
                self.draw()

    def teardown(self, estimator, context):
        sys.stdout = self._out
        self.draw()
        self._out.write("\n")
        self._out.flush()

    def draw(self):
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        percent = 100 * self.done // self.total
        self._out.write(f"\r[{bar}] {percent:3d}%  epoch {self.done}/{self.total}")
        self._out.flush()
        self._visible = True


class _Above:
    """stdout while a plain progress bar shows: text goes above the bar."""

    def __init__(self, bar):
        self.bar = bar

    def write(self, text):
        if self.bar._visible:
            self.bar._out.write("\r\033[K")  # clear the bar's line
            self.bar._visible = False
        self.bar._out.write(text)
        if text.endswith("\n"):
            self.bar.draw()
        return len(text)

    def flush(self):
        self.bar._out.flush()


def _plot_loss(pipe, args):
    from matplotlib.figure import Figure

    from ._plot import LossCurveDisplay

    model = pipe[-1]
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    display = LossCurveDisplay.from_estimator(pipe, ax=figure.subplots())
    if min(model.loss_curve_) > 0:
        display.ax_.set_yscale("log")
    display.ax_.set(
        ylabel=f"Training loss ({model.loss}, target scaled to [0, 1])",
        title=f"{os.path.basename(args.data)}: target {args.target!r}, "
        f"learnrate={model.learnrate_:.4g}",
    )
    try:
        figure.savefig(args.plot, dpi=120)
    except OSError as exc:
        raise UsageError(f"cannot write {args.plot}: {exc.strerror}") from None


# -- predict -------------------------------------------------------------------------
def predict_command(args):
    import joblib

    if not os.path.isfile(args.model):
        raise UsageError(f"cannot read {args.model}: no such file")
    try:
        model = joblib.load(args.model)
    except Exception as exc:  # unpickling fails in many ways
        raise UsageError(
            f"cannot load a model from {args.model} ({type(exc).__name__}: {exc}); "
            "give a file saved by `fit --model`"
        ) from None
    if not (hasattr(model, "predict") and hasattr(model, "n_features_in_")):
        raise UsageError(
            f"{args.model} holds a {type(model).__name__}, not a fitted model; give "
            "a file saved by `fit --model`"
        )
    table = read_csv(args.data, args.sep)
    if args.id is not None:
        check_columns(table, [args.id], "--id")
    features = getattr(model, "feature_names_in_", None)
    if features is None:  # saved from Python without column names: take them all
        features = [name for name in table.header if name != args.id]
        if len(features) != model.n_features_in_:
            but = " besides --id" if args.id is not None else ""
            raise UsageError(
                f"{args.data} has {len(features)} columns{but} but the model needs "
                f"{model.n_features_in_} features"
            )
    X = numeric_columns(table, list(features))
    with warnings.catch_warnings():
        # the columns were selected by name above
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        y_pred = np.asarray(model.predict(X))
    y_pred = y_pred.reshape(len(X), -1)
    columns = (
        ["prediction"]
        if y_pred.shape[1] == 1
        else [f"prediction_{k}" for k in range(y_pred.shape[1])]
    )
    rows = [[repr(float(v)) for v in row] for row in y_pred]
    # the row ids first: the --id column, else the row index under an empty
    # name, as pandas writes it (read_csv(..., index_col=0) reads it back)
    if args.id is not None:
        k = table.header.index(args.id)
        ids, columns = [row[k] for _, row in table.rows], [args.id, *columns]
    else:
        ids = table.index
        columns = columns if ids is None else ["", *columns]
    if ids is not None:
        rows = [[label, *row] for label, row in zip(ids, rows, strict=True)]
    if args.output is None:
        _write_csv(sys.stdout, columns, rows)
        return 0
    try:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            _write_csv(file, columns, rows)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"Wrote {len(rows)} predictions to {args.output}")
    return 0


def _write_csv(file, columns, rows):
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)


# -- main ----------------------------------------------------------------------------
def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0, or 2 after one line on stderr for a problem
    with the input. argparse exits with status 2 itself for bad options.
    """
    if argv is None:
        argv = sys.argv[1:]
    args = _parser(argv).parse_args(argv)
    if args.command is None:
        return demo(out=sys.stdout)
    command = {"fit": fit_command, "predict": predict_command}[args.command]
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return command(args)
        except (UsageError, ValueError) as exc:
            # ValueError: the estimator's own checks (target range, learnrate
            # too large, bad parameter), which speak the user's language, in
            # the words of the estimator's parameters: given here as flags
            message = " ".join(str(exc).split())
            if not isinstance(exc, UsageError):
                message = in_flag_terms(message)
            print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # stdout closed early, as by `| head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = in_flag_terms(" ".join(str(message).split()))
    print(f"{PROG}: warning: {category.__name__}: {text}", file=sys.stderr)


# -- the estimator's words in the command line's ------------------------------------
# the estimator's parameters that `fit` sets from a flag (a test checks the list)
FLAGS = {
    "learnrate": "--learnrate",
    "epochs": "--epochs",
    "target_scaling": "--target-scaling",
    "loss": "--loss",
    "alpha": "--alpha",
    "random_state": "--random-state",
}
# the names that are no English word, translated where they stand alone too
_BARE = ("learnrate", "target_scaling", "random_state")
_NAME = "|".join(FLAGS)
_VALUE = (
    r"'[^']*'|\"[^\"]*\"|\([^()]*\)|\[[^\[\]]*\]"
    r"|[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\w+"
)


def _flag_value(text):
    """A Python value in a message as the flag takes it: 'minmax' -> minmax."""
    if text[0] in "'\"":
        return text[1:-1]
    if text == "None":
        return "none"
    if text[0] in "([":  # (low, high), [0, 10] or (0.0, 10.0): LOW,HIGH
        parts = [part.strip() for part in text[1:-1].split(",")]
        try:
            return ",".join(f"{float(part):g}" for part in parts)
        except ValueError:
            return ",".join(part.upper() for part in parts)
    return text


def in_flag_terms(message):
    """``message`` with the estimator's parameters written as ``fit``'s flags.

    ``target_scaling='minmax'`` becomes ``--target-scaling minmax``,
    ``learnrate=1000000.0`` becomes ``--learnrate 1000000.0``.

    >>> in_flag_terms("y has values in [0, 25] but target_scaling=None needs "
    ...               "[0, 1]; use target_scaling='minmax' or (low, high).")
    'y has values in [0, 25] but --target-scaling none needs [0, 1]; use --target-scaling minmax or LOW,HIGH.'
    """  # noqa: E501
    message = re.sub(
        rf"\b({_NAME})=({_VALUE})",
        lambda m: f"{FLAGS[m[1]]} {_flag_value(m[2])}",
        message,
    )
    # scikit-learn's parameter validation
    message = re.sub(
        rf"\bThe '({_NAME})' parameter of \w+", lambda m: FLAGS[m[1]], message
    )
    message = re.sub(r"\blearnrate \* alpha\b", "--learnrate times --alpha", message)
    message = re.sub(
        r"\b(increase|decrease|lower|raise|reduce) (epochs|alpha)\b",
        lambda m: f"{m[1]} {FLAGS[m[2]]}",
        message,
    )
    message = re.sub(
        rf"(?<![-\w.])({'|'.join(_BARE)})\b", lambda m: FLAGS[m[1]], message
    )
    return message.replace("(low, high)", "LOW,HIGH")
