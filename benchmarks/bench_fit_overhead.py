"""The fixed costs of a fit, in epochs: learnrate="auto" and the diagnostics.

Issue 23's numbers: ``learnrate="auto"`` costs at most 3 epochs of the same
fit on 400,000 x 100 (float64 and float32), at most 10 on 20,000 x 2,000
and on wide sparse X (20,000 x 500,000 CSR, 20 nonzeros a row); the
diagnostics at most one.

Each case runs in a fresh process (per source tree): ``--repeats`` fits
with ``learnrate="auto"`` and ``E`` epochs, after one such fit (imports,
compilation, first touch of the memory), each timed inside:

- **epoch**: the epoch loop of the fit (``_descent._Epochs``), over ``E``;
- **auto**: computing the step (``_descent._auto_learnrate``), in epochs;
- **diagnostics**: their passes over the records and their report
  (``_diagnostics.report``, and before issue 23 the sample taken before the
  loop, ``Source.sample``), in epochs.

Medians of ``--repeats`` runs. Run from the repository root::

    python benchmarks/bench_fit_overhead.py                 # writes results
    python benchmarks/bench_fit_overhead.py --no-write --repeats 3
    # before/after in one run: this tree against a worktree of another commit
    git worktree add /tmp/before HEAD
    python benchmarks/bench_fit_overhead.py --tree . --compare /tmp/before

Writes ``benchmarks/results/fit_overhead.md`` and ``fit_overhead.rst``.
"""

import argparse
import datetime
import json
import os
import time
from pathlib import Path

import numpy  # noqa: F401  (loads the BLAS that the machine line names)
from _report import (
    describe_tree,
    machine,
    md_table,
    rst_table,
    run_child,
    write_results,
)

RESULTS = Path(__file__).parent / "results"
# name: (rows, columns, dtype, nonzeros a row (None: dense), epochs, limit)
CASES = {
    "400,000 x 100, float64": (400_000, 100, "float64", None, 20, 3),
    "400,000 x 100, float32": (400_000, 100, "float32", None, 20, 3),
    "20,000 x 2,000, float64": (20_000, 2_000, "float64", None, 20, 10),
    "20,000 x 500,000 CSR, 20 nonzeros a row": (
        20_000,
        500_000,
        "float64",
        20,
        40,
        10,
    ),  # fmt: skip
}
DIAGNOSTICS_LIMIT = 1


def child(spec):
    import statistics
    import warnings

    import numpy as np
    from scipy import sparse
    from scipy.special import expit

    import sk_sigmoid_neuron
    from sk_sigmoid_neuron import SigmoidNeuronRegressor, _descent, _source

    n, d, dtype, nonzeros, epochs, _ = CASES[spec["case"]]
    rng = np.random.default_rng(0)
    if nonzeros is None:
        X = rng.standard_normal((n, d), dtype=np.dtype(dtype))
    else:
        indices = rng.integers(0, d, size=n * nonzeros)
        indptr = np.arange(0, len(indices) + 1, nonzeros)
        X = sparse.csr_matrix(
            (rng.standard_normal(len(indices)), indices, indptr), shape=(n, d)
        )
        X.sum_duplicates()
    w = rng.standard_normal(d) / np.sqrt(nonzeros or d)
    y = expit(np.asarray(X @ w, dtype=np.float64)) + 0.1 * rng.standard_normal(n)
    warnings.simplefilter("ignore")  # a few epochs learn little

    spent = {}

    def timed(owner, name, key):
        func = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)

    timed(_descent._Epochs, "__call__", "loop")
    timed(_descent, "_auto_learnrate", "auto")
    timed(_descent._diagnostics, "report", "diagnostics")
    if hasattr(_source.Source, "sample"):  # the diagnostics before issue 23
        timed(_source.Source, "sample", "diagnostics")
    runs = []
    for repeat in range(spec["repeats"] + 1):
        spent.clear()
        SigmoidNeuronRegressor(epochs=epochs, random_state=0).fit(X, y)
        if repeat:  # the first is the warm-up
            runs.append(dict(spent))
    epoch = statistics.median(r["loop"] / epochs for r in runs)
    out = {
        "epoch": epoch,
        "auto": statistics.median(r["auto"] for r in runs) / epoch,
        "diagnostics": statistics.median(r["diagnostics"] for r in runs) / epoch,
        "package": os.path.dirname(sk_sigmoid_neuron.__file__),
    }
    print("RESULT " + json.dumps(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (5)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES))
    parser.add_argument("--tree", help="source tree to import the package from")
    parser.add_argument("--compare", metavar="PATH", help="another source tree")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    trees = [args.tree] + ([args.compare] if args.compare else [])
    labels = [(describe_tree(t) or Path(t).name) if t else "installed" for t in trees]
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = []
    for name in args.cases or list(CASES):
        limit = CASES[name][-1]
        spec = {"case": name, "repeats": args.repeats}
        for label, tree in zip(labels, trees, strict=True):
            r = run_child(__file__, spec, tree)
            if "error" in r:
                rows.append([name, label, "error", "", "", "", "", r["error"]])
                print(f"{name:44s} {label}: {r['error']}", flush=True)
                continue
            rows.append(
                [
                    name,
                    label,
                    f"{r['epoch'] * 1e3:.1f} ms",
                    f"{r['auto']:.1f}",
                    f"{limit}",
                    "yes" if r["auto"] <= limit else "NO",
                    f"{r['diagnostics']:.2f}",
                    "yes" if r["diagnostics"] <= DIAGNOSTICS_LIMIT else "NO",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    header = ["X", "tree", "epoch", "auto (epochs)", "limit", "met"]
    header += [f"diagnostics (epochs, limit {DIAGNOSTICS_LIMIT})", "met"]
    intro = (
        "Generated by `python benchmarks/bench_fit_overhead.py` on "
        f"{datetime.date.today().isoformat()} "
        f"({time.perf_counter() - started:.0f} s; load average {load:.1f} at the "
        f"start). Machine: {machine()}.\n\n"
        'Each case: fits with the default learnrate="auto" (20 epochs, 40 on '
        "sparse X), timed inside: epoch, the epoch loop over its epochs; auto, "
        "computing the step, in epochs; diagnostics, their passes and report, "
        f"in epochs. Medians of {args.repeats} fits after a warm-up, each case in a "
        "fresh process. Targets (issue 23): auto at most 3 epochs on 400,000 x "
        "100, at most 10 on 20,000 x 2,000 and on the wide sparse X; the "
        "diagnostics at most one. The machine may be shared: rerun for "
        "figures to rely on."
    )
    title = "Fixed costs of a fit, in epochs"
    md = "\n".join([f"# {title}", "", intro, "", md_table(header, rows)])
    rst = "\n".join([intro.replace("`", "``"), "", rst_table(header, rows)])
    write_results(RESULTS, "fit_overhead", md, rst, write=not args.no_write)


if __name__ == "__main__":
    main()
