"""The command line: ``python -m sk_sigmoid_neuron``.

Without a subcommand it runs the demo (:mod:`._demo`, which needs only the
package's dependencies). ``fit DATA.csv --target COL`` trains a
``StandardScaler`` + :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor`
pipeline on a CSV file and can save it (:mod:`._fit`); ``predict MODEL
DATA.csv`` writes that model's predictions as CSV (:mod:`._predict`). CSV
files are read and written by pandas (:mod:`._io`, the ``cli`` extra); the
estimator's parameters are flags (:mod:`._flags`), in which the estimator's
errors and advice are written; :mod:`._progress` shows the progress of a fit.

A problem with the input (a file, a column, a value, an option) is one line
on stderr and exit status 2.
"""

import os
import sys
import warnings

# the command line's progress bar, which benchmarks/bench_callbacks.py times
from ._progress import RichProgressBar  # noqa: F401

PROG = "python -m sk_sigmoid_neuron"


class UsageError(Exception):
    """A problem with the user's input, reported as one line (exit status 2)."""


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0, or 2 after one line on stderr for a problem
    with the input. argparse exits with status 2 itself for bad options.
    """
    from .. import _advice
    from ._flags import render
    from ._parser import parser

    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        from ._demo import demo

        return demo(out=sys.stdout)
    if args.command == "fit":
        from ._fit import fit_command as command
    else:
        from ._predict import predict_command as command
    with warnings.catch_warnings(), _advice.entry("cli", render=render):
        warnings.showwarning = _show_warning
        try:
            return command(args)
        except (UsageError, ValueError) as exc:
            # ValueError: the estimator's own checks (a target out of range, a
            # learnrate that diverges), whose advice names settings as flags
            # here (render)
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
    """A warning as one line on stderr, without the package's file and line."""
    text = " ".join(str(message).split())
    print(f"{PROG}: warning: {category.__name__}: {text}", file=sys.stderr)
