"""SigmoidNeuronRegressorCV against the GridSearchCV it replaces, side by side.

The case of issue 4: 16 learning rates x 10 epoch counts (100, 200, ..., 1000),
5 folds, 10,000 x 20 float64, ``n_jobs=1`` for both. Prints the wall times, their
ratio and how far apart the ``cv_results_`` scores are, once per kernel backend,
and writes the table to ``benchmarks/results/cv.md`` (and ``cv.rst``, which the
docs' performance page includes).

Run from the repository root::

    python benchmarks/bench_cv.py            # the issue's case (a few minutes)
    python benchmarks/bench_cv.py --quick    # a small case; prints, writes nothing
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_info, threadpool_limits

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV, _kernels

RESULTS = Path(__file__).parent / "results" / "cv.md"


def make_data(n_samples, n_features, seed=0):
    """A noisy sigmoid-shaped target of features on scales from 0.03 to 1.

    Gradient descent is slow along the small scales, so no two candidates tie
    by having converged (their scores differ by more than 1e-4), and every
    learning rate of the grid is below the stability limit (past it the descent
    oscillates, and any two implementations drift apart from rounding on).
    """
    rng = np.random.default_rng(seed)
    scales = np.logspace(-1.5, 0, n_features)
    X = rng.standard_normal((n_samples, n_features)) * scales
    w = rng.standard_normal(n_features) / np.sqrt(n_features) / scales
    y = 10.0 * np.tanh(X @ w) + rng.standard_normal(n_samples)
    return X, y


def timed(make, X, y):
    start = time.perf_counter()
    model = make().fit(X, y)
    return model, time.perf_counter() - start


def _has_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compare(X, y, splits, learnrates, epoch_counts):
    """Both searches on the same data and splits, timed, and their results."""
    # compile the kernels both searches use first (numba caches them on disk
    # after the first run in an environment; the JIT is not what is measured)
    SigmoidNeuronRegressorCV(learnrates, [1], cv=splits, n_jobs=1).fit(X, y)
    train = splits[0][0]
    SigmoidNeuronRegressor(epochs=1).fit(X[train], y[train])
    cv_model, t_cv = timed(
        lambda: SigmoidNeuronRegressorCV(
            learnrates, epoch_counts, cv=splits, random_state=0, n_jobs=1
        ),
        X,
        y,
    )
    print(f"SigmoidNeuronRegressorCV: {t_cv:8.2f} s")
    # the bank trains its groups of learning rates on threads of their own (as
    # many as the BLAS may use); on one core:
    with threadpool_limits(limits=1, user_api="blas"):
        cv_one, t_cv1 = timed(
            lambda: SigmoidNeuronRegressorCV(
                learnrates, epoch_counts, cv=splits, random_state=0, n_jobs=1
            ),
            X,
            y,
        )
    print(f"  the same on one thread: {t_cv1:8.2f} s")
    grid, t_grid = timed(
        lambda: GridSearchCV(
            SigmoidNeuronRegressor(random_state=0),
            {"learnrate": learnrates, "epochs": epoch_counts},
            cv=splits,
            n_jobs=1,
        ),
        X,
        y,
    )
    print(f"GridSearchCV:             {t_grid:8.2f} s")
    score_keys = [k for k in grid.cv_results_ if k.endswith("_test_score")]
    score_keys.remove("rank_test_score")
    diff = max(
        np.max(np.abs(grid.cv_results_[k] - cv_model.cv_results_[k]))
        for k in score_keys
    )
    top = np.sort(grid.cv_results_["mean_test_score"])[::-1]
    result = {
        "backend": _kernels.active_backend(),
        "t_cv": t_cv,
        "t_grid": t_grid,
        "ratio": t_grid / t_cv,
        "t_cv1": t_cv1,
        "ratio1": t_grid / t_cv1,
        "same_on_one_thread": all(
            np.array_equal(cv_one.cv_results_[k], cv_model.cv_results_[k])
            for k in score_keys
        ),
        "diff": diff,
        "same_ranks": np.array_equal(
            grid.cv_results_["rank_test_score"],
            cv_model.cv_results_["rank_test_score"],
        ),
        "same_choice": grid.best_params_ == cv_model.best_params_,
        "best": grid.best_params_,
        "margin": top[0] - top[1],
    }
    print(
        f"speed-up: {result['ratio']:.1f}x (target: 20x); max |score difference| "
        f"{diff:.2e}; same ranks {result['same_ranks']}, same choice "
        f"{result['same_choice']} {grid.best_params_}"
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small case")
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=["numpy", "numba"],
        default=["numpy", "numba"] if _has_numba() else ["numpy"],
        help="kernel backends to measure, one after the other (default: both "
        "when numba is installed)",
    )
    args = parser.parse_args()
    if args.quick:
        n_samples, n_features, n_lr, epoch_counts = 2_000, 20, 4, [20, 40, 60]
    else:
        n_samples, n_features, n_lr = 10_000, 20, 16
        epoch_counts = list(range(100, 1001, 100))
    learnrates = [float(v) for v in np.logspace(-2, 1.5, n_lr)]
    X, y = make_data(n_samples, n_features)
    splits = list(KFold(5, shuffle=True, random_state=0).split(X))
    n_candidates = len(learnrates) * len(epoch_counts)
    print(
        f"X {n_samples} x {n_features} float64, {len(learnrates)} learnrates x "
        f"{len(epoch_counts)} epoch counts (up to {max(epoch_counts)}), "
        f"{len(splits)} folds: {n_candidates * len(splits)} fits for GridSearchCV"
    )

    rows = []
    for backend in args.backends:
        _kernels.BACKEND = backend  # the kernel every fit of both searches uses
        print(f"-- kernel backend: {_kernels.active_backend()}")
        rows.append(compare(X, y, splits, learnrates, epoch_counts))
    work = sum(epoch_counts) / max(epoch_counts)

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    blas = (
        f"{blas[0]['internal_api']} ({blas[0]['num_threads']} threads)" if blas else "?"
    )
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()}, BLAS {blas}; Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}"
    )
    case = (
        f"{n_samples:,} x {n_features} float64, {len(learnrates)} learnrates "
        f"(log-spaced 0.01 to 31.6) x {len(epoch_counts)} epoch counts "
        f"({', '.join(map(str, epoch_counts))}), {len(splits)} folds, "
        "`n_jobs=1` for both, refit included. Generated by "
        "`python benchmarks/bench_cv.py`."
    )
    header = [
        "kernel backend",
        "`GridSearchCV(SigmoidNeuronRegressor())` (s)",
        "`SigmoidNeuronRegressorCV` (s)",
        "speed-up",
        "on one thread (s)",
        "speed-up on one thread",
        "largest score difference",
        "same ranks, same choice",
    ]
    body = [
        [
            r["backend"],
            f"{r['t_grid']:.2f}",
            f"{r['t_cv']:.2f}",
            f"{r['ratio']:.1f}x",
            f"{r['t_cv1']:.2f}",
            f"{r['ratio1']:.1f}x",
            f"{r['diff']:.1e}",
            f"{r['same_ranks']}, {r['same_choice']}",
        ]
        for r in rows
    ]
    notes = [
        f"Of each speed-up, {work:.1f}x comes from fewer neuron-epochs "
        "(GridSearchCV trains every epoch count from scratch; the bank reaches "
        "them all as checkpoints of one descent); the rest is the bank's "
        f"cheaper neuron-epochs ({len(learnrates)} learning rates in one matrix "
        "update): "
        + ", ".join(
            f"{r['ratio'] / work:.1f}x with {r['backend']} ({r['ratio1'] / work:.1f}x "
            "on one thread)"
            for r in rows
        )
        + f". GridSearchCV's fits of one neuron on {len(splits[0][0]):,} x "
        f"{n_features} run on one thread "
        "(below the size where this package's kernel starts threads); with numba "
        "the CV estimator's bank trains its two groups of 8 learning rates on "
        "two threads, with numpy on one. 'On one thread' is the CV estimator under "
        "`threadpool_limits(1)`, with the same scores to the bit: "
        + ", ".join(f"{r['same_on_one_thread']} with {r['backend']}" for r in rows)
        + ". The score difference is the largest absolute one over the split and "
        "mean test scores of the two `cv_results_`; the chosen candidate is "
        f"{rows[0]['best']}, {rows[0]['margin']:.2g} ahead of the next.",
        f"Machine: {machine}.",
    ]
    markdown = "\n".join(
        [
            "# SigmoidNeuronRegressorCV vs GridSearchCV",
            "",
            case,
            "",
            "| " + " | ".join(header) + " |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            *("| " + " | ".join(row) + " |" for row in body),
            "",
            *(line for note in notes for line in (note, "")),
        ]
    )
    print("\n" + markdown)
    if args.quick:
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(markdown)
    # the same for the docs' performance page (rst: double backticks)
    rst = [case.replace("`", "``"), "", ".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        cells = [cell.replace("`", "``") for cell in row]
        rst += [f"   * - {cells[0]}", *(f"     - {cell}" for cell in cells[1:])]
    rst += ["", *(line for note in notes for line in (note.replace("`", "``"), ""))]
    RESULTS.with_suffix(".rst").write_text("\n".join(rst))
    print(f"wrote {RESULTS} and {RESULTS.with_suffix('.rst')}")


if __name__ == "__main__":
    main()
