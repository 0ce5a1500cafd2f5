"""The command line: ``python -m sk_sigmoid_neuron``.

Without a subcommand it runs the demo. ``fit DATA.csv --target COL`` trains a
``StandardScaler`` + :class:`SigmoidNeuronRegressor` pipeline on a CSV file and
can save it; ``predict MODEL DATA.csv`` writes that model's predictions as CSV.
Problems with the input (files, columns, values, options) are one line on
stderr and exit status 2.
"""

import argparse
import csv
import math
import os
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
    rows = []
    for name, model in [
        (
            "SigmoidNeuronRegressor",
            SigmoidNeuronRegressor(learnrate=5.0, epochs=1000, random_state=0),
        ),
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
        "StandardScaler in a pipeline; SigmoidNeuronRegressor(learnrate=5.0, "
        "epochs=1000, random_state=0).",
        file=out,
    )
    print(f"{'model':<24}{'held-out R2':>12}{'epochs':>8}{'fit time':>11}", file=out)
    for name, r2, epochs, seconds in rows:
        print(f"{name:<24}{r2:>12.4f}{epochs!s:>8}{seconds * 1e3:>9.1f}ms", file=out)
    return 0


# -- reading CSV files ---------------------------------------------------------------
def read_csv(path):
    """The header and the data rows (with their line numbers) of a CSV file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
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
    for i, name in enumerate(header, start=1):
        if not name:
            raise UsageError(f"{path}: column {i} of the header row has no name")
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
    return header, data


def check_columns(path, header, names):
    """Fail, listing the file's columns, if one of ``names`` is not among them."""
    for name in names:
        if name not in header:
            raise UsageError(
                f"{path} has no column {name!r}; its columns are: {', '.join(header)}"
            )


def numeric_columns(path, header, data, names):
    """The columns ``names`` of the data rows as a float64 array."""
    check_columns(path, header, names)
    idx = [header.index(name) for name in names]
    cells = [[row[k] for k in idx] for _, row in data]
    try:
        values = np.array(cells, dtype=np.float64)
        if np.all(np.isfinite(values)):
            return values
    except ValueError:
        pass
    values = np.empty((len(cells), len(names)))  # cell by cell, to name the bad one
    for i, ((line, _), row) in enumerate(zip(data, cells, strict=True)):
        for j, (name, cell) in enumerate(zip(names, row, strict=True)):
            try:
                values[i, j] = float(cell)
            except ValueError:
                values[i, j] = np.nan
            if not math.isfinite(values[i, j]):
                what = "is empty" if not cell.strip() else f"is {cell.strip()!r}"
                raise UsageError(
                    f"{path}, line {line}: column {name!r} {what}, not a finite "
                    "number; the columns used must hold numbers only (fill in or "
                    "remove missing values)"
                )
    return values


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


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser():
    parser = _Parser(
        prog=PROG,
        description="Train a sigmoid neuron (the delta rule). Without a "
        "subcommand, runs the demo on scikit-learn's diabetes data.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{fit,predict}")

    fit = commands.add_parser(
        "fit",
        help="train on a CSV file",
        description="Train StandardScaler + SigmoidNeuronRegressor on a CSV file "
        "(a header row of column names, then rows of numbers), printing the loss "
        "as it trains and the cross-validated R2 at the end.",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data")
    fit.add_argument("--target", required=True, metavar="COL", help="column to learn")
    fit.add_argument(
        "--features",
        metavar="COL,COL,...",
        help="comma-separated columns to learn from (default: all but the target)",
    )
    fit.add_argument(
        "--learnrate",
        type=_learnrate,
        default=0.5,
        metavar="RATE",
        help="learning rate > 0, or 'auto' (default: 0.5)",
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
        "the rows of a CSV file (which needs the model's feature columns) as CSV. "
        "Load only model files you trust: loading runs code stored in them.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model saved by fit")
    predict.add_argument("data", metavar="DATA.csv", help="rows to predict")
    predict.add_argument(
        "--output", metavar="FILE", help="write the CSV here (default: stdout)"
    )
    return parser


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


def _feature_names(args, header):
    if args.features is None:
        features = [name for name in header if name != args.target]
    else:
        features = [name.strip() for name in args.features.split(",")]
        if args.target in features:
            raise UsageError(
                f"--features includes the target column {args.target!r}; leave it "
                "out of --features"
            )
    if not features:
        raise UsageError(
            f"{args.data} has no column besides the target {args.target!r} to learn "
            "from"
        )
    return features


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
    header, data = read_csv(args.data)
    check_columns(args.data, header, [args.target])
    features = _feature_names(args, header)
    X = numeric_columns(args.data, header, data, features)
    y = numeric_columns(args.data, header, data, [args.target])[:, 0]
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
    print(
        f"{args.data}: {len(y)} rows; target {args.target!r}; {len(features)} "
        f"features: {', '.join(features)}"
    )
    print(f"Training StandardScaler + {model!r}")
    start = time.perf_counter()
    with _progress_bar(model, show=sys.stdout.isatty()):
        pipe.fit(X, y)
    seconds = time.perf_counter() - start
    print(
        f"Trained {model.n_iter_} epochs in {seconds:.2f} s: final loss "
        f"{model.loss_curve_[-1]:.6g}, training R2 {pipe.score(X, y):.4f}"
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
    header, data = read_csv(args.data)
    features = getattr(model, "feature_names_in_", None)
    if features is None:  # saved from Python without column names: take them all
        features = header
        if len(features) != model.n_features_in_:
            raise UsageError(
                f"{args.data} has {len(features)} columns but the model needs "
                f"{model.n_features_in_} features"
            )
    X = numeric_columns(args.data, header, data, list(features))
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
    args = _parser().parse_args(argv)
    if args.command is None:
        return demo(out=sys.stdout)
    command = {"fit": fit_command, "predict": predict_command}[args.command]
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return command(args)
        except (UsageError, ValueError) as exc:
            # ValueError: the estimator's own checks (target range, learnrate
            # too large, bad parameter), which speak the user's language
            message = " ".join(str(exc).split())
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
    text = " ".join(str(message).split())
    print(f"{PROG}: warning: {category.__name__}: {text}", file=sys.stderr)
