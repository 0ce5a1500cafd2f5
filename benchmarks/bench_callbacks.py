"""What callbacks cost a fit of SigmoidNeuronRegressor, side by side.

Two questions. (1) Without callbacks, does the callback support cost anything?
A/B of the same fits with the package's ``FitTask`` and with a do-nothing
stand-in for it (fastest of many fits, alternating). (2) With callbacks,
what does a fit cost per epoch: a callback whose hooks do nothing (the price
of running the epochs one by one and calling the hooks), scikit-learn's
``ProgressBar`` (rich), and the command line's progress bar (rich)? Prints the
tables and writes them to ``benchmarks/results/callbacks.md``.

Run from the repository root (needs scikit-learn >= 1.9 and rich)::

    python benchmarks/bench_callbacks.py            # a minute or two
    python benchmarks/bench_callbacks.py --quick    # prints, writes nothing
"""

import argparse
import contextlib
import io
import os
import platform
import time
import timeit
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.callback import ProgressBar

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _callbacks, _kernels
from sk_sigmoid_neuron._cli import RichProgressBar

RESULTS = Path(__file__).parent / "results" / "callbacks.md"
FIT_TASK = _callbacks.FitTask


class Noop:
    """A FitCallback whose hooks do nothing."""

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass


class NoTask:
    """Stand-in for ``_callbacks.FitTask`` that does nothing: fit as before."""

    def __init__(self, *args, **kwargs):
        pass

    def begin(self, *args):
        pass

    def end(self):
        pass

    def epochs(self, fitted_attributes):
        return None


def make_data(n_samples, n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = np.tanh(X @ rng.standard_normal(n_features) / np.sqrt(n_features))
    return X, y


def fit_seconds(X, y, epochs, callback=None):
    model = SigmoidNeuronRegressor(learnrate=0.5, epochs=epochs, random_state=0)
    if callback is not None:
        model.set_callbacks(callback)
    with contextlib.redirect_stdout(io.StringIO()):  # the bars' output
        start = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - start


def overhead_table(cases):
    """Fastest fit with the callback support and without it, fits alternating."""
    rows = []
    for n, d, epochs, repeats in cases:
        X, y = make_data(n, d)
        best = {"with": np.inf, "without": np.inf}
        for _ in range(repeats):
            for label, task in (("without", NoTask), ("with", FIT_TASK)):
                _callbacks.FitTask = task
                try:
                    model = SigmoidNeuronRegressor(
                        learnrate=0.5, epochs=epochs, random_state=0
                    )
                    start = time.perf_counter()
                    model.fit(X, y)
                    seconds = time.perf_counter() - start
                finally:
                    _callbacks.FitTask = FIT_TASK
                best[label] = min(best[label], seconds)
        rows.append((n, d, epochs, repeats, best["without"], best["with"]))
    return rows


def bookkeeping_seconds():
    """Seconds that a fit without callbacks spends on its ``FitTask``."""
    model = SigmoidNeuronRegressor()
    X, y = np.ones((5, 2)), np.ones(5)

    def task():
        fit = FIT_TASK(model, "fit", max_subtasks=1000)
        fit.begin(X, y, None)
        fit.epochs(None)
        fit.end()

    number = 20_000
    return min(timeit.repeat(task, number=number, repeat=5)) / number


def per_epoch_table(cases):
    rows = []
    for n, d, epochs in cases:
        X, y = make_data(n, d)
        fit_seconds(X, y, 5)  # warm up (compiled kernel)
        times = [
            fit_seconds(X, y, epochs),
            fit_seconds(X, y, epochs, Noop()),
            fit_seconds(X, y, epochs, ProgressBar()),
            fit_seconds(X, y, epochs, RichProgressBar()),
        ]
        rows.append((n, d, epochs, *times))
    return rows


def machine():
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}; kernel backend "
        f"{getattr(_kernels, 'BACKEND', 'numpy')}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases, no file")
    quick = parser.parse_args().quick

    if quick:
        overhead_cases = [(200, 3, 10, 50), (2_000, 10, 100, 10)]
        epoch_cases = [(200, 3, 300)]
    else:
        overhead_cases = [
            (200, 3, 10, 500),
            (2_000, 10, 100, 200),
            (10_000, 20, 1000, 10),
        ]
        epoch_cases = [
            (200, 3, 1_000),
            (200, 3, 3_000),
            (200, 3, 10_000),
            (10_000, 20, 1_000),
        ]
    fit_seconds(*make_data(50, 3), 5)  # warm up

    lines = ["# What callbacks cost a fit", ""]
    lines += [
        "## Without callbacks: the callback support against none",
        "",
        "Fastest of R fits each way, the two kinds alternating; "
        '`SigmoidNeuronRegressor(epochs=E)` on n x d float64. "none" replaces '
        "`_callbacks.FitTask` by a stand-in that does nothing, as the fit was "
        "before callback support. The machine's noise shows in the differences of "
        "the larger fits.",
        "",
        "| n x d | epochs | R | none (ms) | with support (ms) | difference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n, d, epochs, repeats, without, with_ in overhead_table(overhead_cases):
        lines.append(
            f"| {n:,} x {d} | {epochs:,} | {repeats} | {without * 1e3:.3f} | "
            f"{with_ * 1e3:.3f} | {(with_ - without) * 1e6:+.1f} us "
            f"({with_ / without - 1:+.1%}) |"
        )
    lines += [
        "",
        "The callback support's own work in a fit without callbacks (checking "
        "for callbacks and a meta-estimator's task; finding none, it creates no "
        f"task context), timed alone: {bookkeeping_seconds() * 1e6:.2f} us per fit.",
        "",
        "## With callbacks: seconds per fit",
        "",
        "No callback: all epochs in one kernel call. With any callback the epochs "
        "run one by one and each is a task with begin and end hooks. scikit-learn's "
        "`ProgressBar` updates its bars in a thread that sums over all the tasks "
        "done so far at every update, so its cost grows with the square of the "
        "number of epochs; the command line's bar (`_cli.RichProgressBar`) advances "
        "in constant time per epoch.",
        "",
        "| n x d | epochs | no callback | no-op callback | sklearn ProgressBar "
        "| CLI rich bar |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n, d, epochs, *times in per_epoch_table(epoch_cases):
        cells = " | ".join(f"{t:.3f} s ({t / times[0]:.1f}x)" for t in times[1:])
        lines.append(f"| {n:,} x {d} | {epochs:,} | {times[0]:.3f} s | {cells} |")
    lines += [
        "",
        f"Machine: {machine()}. Generated by `python benchmarks/bench_callbacks.py`.",
    ]
    text = "\n".join(lines)
    print(text)
    if not quick:
        RESULTS.write_text(text + "\n")
        print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
