"""Why each kernel unit beyond the array engine exists: each against what would
train its data without it, in one run.

The array engine (``_kernels._array``, numpy and every array-API namespace)
trains any dense data; the package keeps four more units, each for the data
where it pays. This script times an epoch of each against the unit that
would otherwise train the same data (``make_kernel`` with thresholds patched
so that the other unit is taken), on one thread (the units' speed, not the
machine's), the median of several runs of many epochs:

- "small" (numpy, n * d <= 65,536: X copied with the bias folded in, every
  call into a preallocated buffer) against the array engine, on 200 x 10 and
  2,000 x 20;
- "numba" small data (all epochs in one compiled call, the compiled
  stepper) against the compiled engine stepped epoch by epoch from Python,
  on 200 x 10;
- "numba" (fused compiled passes) against the array engine, on 10,000 x 50
  and 1,000,000 x 100 (not with ``--quick``);
- "bank" (many neurons in groups, BLAS per leaf) against the per-neuron
  compiled passes and the array engine, 16 neurons on 8,000 x 20;
- the compiled elementwise pass of the sparse engine (one neuron) against
  the numpy one, 100,000 x 1,000 CSR with 20 nonzeros a row.

Run ``python benchmarks/bench_units.py`` (``--quick`` skips the largest
case); it writes ``benchmarks/results/units.md`` and ``units.rst``.
"""

import argparse
import datetime
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from _report import fmt_time, machine, md_table, rst_table
from scipy import sparse
from threadpoolctl import threadpool_limits

from sk_sigmoid_neuron import _kernels
from sk_sigmoid_neuron._kernels import _compiled

RESULTS = Path(__file__).parent / "results"


@contextmanager
def patched(**settings):
    """``_kernels`` and ``_compiled`` settings for a block."""
    owners = {"NUMBA_COPY_ELEMENTS": _compiled}
    saved = {}
    for name, value in settings.items():
        owner = owners.get(name, _kernels)
        saved[name] = (owner, getattr(owner, name))
        setattr(owner, name, value)
    try:
        yield
    finally:
        for name, (owner, value) in saved.items():
            setattr(owner, name, value)


def epoch_time(X, T, k, epochs, repeats, settings, *, stepwise=False):
    """Median seconds per epoch, and the unit's path."""
    with patched(**settings), threadpool_limits(1, user_api="blas"):
        kernel = _kernels.make_kernel(X, T, None, np.full(k, 0.5), n_threads=1)
        kernel.set_params(np.zeros((k, X.shape[1])), np.zeros(k))
        run = kernel.run if not stepwise else _stepwise(kernel)
        run(max(1, epochs // 10))  # warm-up, numba's cache
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(epochs)
            times.append((time.perf_counter() - start) / epochs)
    return float(np.median(times)), kernel.path


def _stepwise(kernel):
    """The stepper's epoch loop (``_base.Kernel._run``) on the unit's sums,
    in place of the unit's own multi-epoch call."""
    return lambda n: _kernels.Kernel._run(kernel, n)


def cases(quick):
    rng = np.random.default_rng(0)

    def dense(n, d):
        return rng.standard_normal((n, d)), rng.uniform(size=(n, 1))

    out = []
    for n, d in ((200, 10), (2_000, 20)):
        X, T = dense(n, d)
        out.append(
            (
                f"small numpy unit, {n:,} x {d}",
                (X, T, 1, 2000 if n < 1000 else 300),
                {"BACKEND": "numpy"},
                {"BACKEND": "numpy", "SMALL_ELEMENTS": 0},
                "the array engine",
                {},
            )
        )
    X, T = dense(200, 10)
    out.append(
        (
            "compiled, all epochs in one call, 200 x 10",
            (X, T, 1, 4000),
            {"BACKEND": "numba"},
            {"BACKEND": "numba"},
            "the compiled engine stepped from Python",
            {"stepwise": True},
        )
    )
    for n, d, epochs in ((10_000, 50, 100), (1_000_000, 100, 3)):
        if quick and n > 100_000:
            continue
        X, T = dense(n, d)
        out.append(
            (
                f"compiled engine, {n:,} x {d}",
                (X, T, 1, epochs),
                {"BACKEND": "numba"},
                {"BACKEND": "numpy"},
                "the array engine",
                {},
            )
        )
    X, T = dense(8_000, 20)
    bank = (X, T, 16, 50)
    out.append(
        (
            "compiled bank, 16 neurons, 8,000 x 20",
            bank,
            {"BACKEND": "numba"},
            {"BACKEND": "numba", "NUMBA_MAX_NEURONS": 16},
            "the per-neuron compiled passes",
            {},
        )
    )
    out.append(
        (
            "compiled bank, 16 neurons, 8,000 x 20",
            bank,
            {"BACKEND": "numba"},
            {"BACKEND": "numpy"},
            "the array engine",
            {},
        )
    )
    Xs = sparse.random(100_000, 1_000, density=0.02, format="csr", random_state=0)
    Ts = rng.uniform(size=(100_000, 1))
    out.append(
        (
            "sparse, compiled elementwise pass, 100,000 x 1,000 CSR",
            (Xs, Ts, 1, 50),
            {"BACKEND": "numba"},
            {"BACKEND": "numpy"},
            "scipy's products with numpy between them",
            {},
        )
    )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no 1,000,000 x 100")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    header = ["unit, data", "its epoch", "without it", "taken instead", "ratio"]
    rows = []
    for label, data, unit, other, instead, options in cases(args.quick):
        mine, path = epoch_time(*data, args.repeats, unit)
        theirs, other_path = epoch_time(*data, args.repeats, other, **options)
        rows.append(
            [
                f"{label} ({path})",
                fmt_time(mine),
                fmt_time(theirs),
                f"{instead} ({other_path})",
                f"{theirs / mine:.2f}x",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    elapsed = time.perf_counter() - start
    intro = (
        f"Generated by `python benchmarks/bench_units.py` on "
        f"{datetime.date.today().isoformat()} ({elapsed:.0f} s). Machine: "
        f"{machine()}. One epoch of each kernel unit against the unit that would "
        "train the same data without it, on one thread, the median of "
        f"{args.repeats} runs; ratio: how many times longer an epoch takes "
        "without the unit."
    )
    md = "\n".join(["# The kernel units", "", intro, "", md_table(header, rows)])
    rst = "\n".join([intro.replace("`", "``"), "", rst_table(header, rows)])
    print("\n" + md)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "units.md").write_text(md + "\n", encoding="utf-8")
        (RESULTS / "units.rst").write_text(rst + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
