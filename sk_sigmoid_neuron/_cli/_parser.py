"""The command line's options: argparse, with its errors on one line.

The estimator's parameters are added by :mod:`._flags`; this module holds
the subcommands and the options of the command line's own (the CSV files,
the cross-validation, where to save). Option types only turn text into
values; the estimator checks its parameters itself.
"""

import argparse

from . import PROG
from ._flags import add_estimator_flags


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _character(text):
    """One character, or 'tab'."""
    if text in ("tab", "\\t"):
        return "\t"
    if len(text) != 1 or text in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"{text!r} is not one character (such as ';' or '|') or 'tab'"
        )
    return text


def _folds(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(
            f"needs at least 2 folds (or 0 to skip cross-validation), got {value}"
        )
    return value


def names(text):
    """Column names from ``COL,COL,...``."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _add_csv_options(parser):
    csv = parser.add_argument_group("reading DATA.csv")
    csv.add_argument(
        "--sep",
        type=_character,
        metavar="CHAR",
        help="the delimiter, one character or 'tab' (default: detected among ',', "
        "';', tab and '|', else ',')",
    )
    csv.add_argument(
        "--decimal",
        type=_character,
        default=".",
        metavar="CHAR",
        help="the decimal mark of the numbers, such as ',' in 1,5 (default: '.')",
    )
    return csv


def parser():
    """The parser of ``python -m sk_sigmoid_neuron [fit|predict] ...``."""
    main = _Parser(
        prog=PROG,
        description="Train a sigmoid neuron (the delta rule). Without a "
        "subcommand, runs the demo on scikit-learn's diabetes data.",
    )
    commands = main.add_subparsers(dest="command", metavar="{fit,predict}")

    fit = commands.add_parser(
        "fit",
        help="train on a CSV file",
        description="Train StandardScaler + SigmoidNeuronRegressor on a CSV file "
        "(a header row of column names, then rows of numbers), showing the "
        "progress of the fit and the cross-validated R2 at the end. The delimiter "
        "(',', ';', tab or '|') is detected; an unnamed first column is the row "
        "index (as pandas' to_csv writes it) and is not used as a feature. Reading "
        "CSV files needs pandas (the cli extra).",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data")
    csv = _add_csv_options(fit)
    csv.add_argument(
        "--target", required=True, metavar="COL", help="the column to learn"
    )
    columns = csv.add_mutually_exclusive_group()
    columns.add_argument(
        "--features",
        type=names,
        metavar="COL,COL,...",
        help="the columns to learn from (default: all but the target, the --id "
        "column and the --exclude columns)",
    )
    columns.add_argument(
        "--exclude",
        type=names,
        action="extend",
        default=[],
        metavar="COL,COL,...",
        help="columns to leave out of the features, such as text columns (may be "
        "repeated)",
    )
    csv.add_argument(
        "--id", metavar="COL", help="a column that identifies the rows (not a feature)"
    )
    add_estimator_flags(
        fit.add_argument_group(
            "the estimator's parameters",
            "SigmoidNeuronRegressor's parameters of the same names, with its "
            "defaults; the estimator checks their values.",
        )
    )
    out = fit.add_argument_group("evaluating and saving")
    out.add_argument(
        "--cv",
        type=_folds,
        default=5,
        metavar="K",
        help="folds of the cross-validated R2 (default: 5; 0 skips it)",
    )
    out.add_argument(
        "--model", metavar="FILE", help="save the fitted pipeline here (joblib)"
    )
    out.add_argument(
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
        "runs code stored in them. Reading CSV files needs pandas (the cli extra).",
    )
    predict.add_argument("model", metavar="MODEL", help="a model saved by fit")
    predict.add_argument("data", metavar="DATA.csv", help="rows to predict")
    csv = _add_csv_options(predict)
    csv.add_argument(
        "--id",
        metavar="COL",
        help="copy this column to the output, first (default: the row index, if "
        "DATA.csv has one)",
    )
    predict.add_argument(
        "--output", metavar="FILE", help="write the CSV here (default: stdout)"
    )
    return main
