"""Peak extra memory of fit, partial_fit and predict, per option, against X.

Issue 14, point 6: early stopping and zero sample weights must train without
copying X, and compute_inference must compute its matrices in blocks.
Targets: a peak of extra memory under 5% of X for every option, and under 25%
with compute_inference. Issue 23, wide sparse X (20,000 x 500,000 CSR, 20
nonzeros a row, whatever ``--n`` and ``--d``): a fit's peak under 10% of X's
bytes plus 12 weight-sized vectors, with a fixed learnrate and with "auto".

For each option (the default fit; early_stopping; sample weights with zeros
and all positive; compute_inference; store_path; log_loss;
learnrate="auto"; tol; two outputs; a warm_start second fit; a later
partial_fit call; predict; predict with return_std; the default fit on a
dask array with the threaded scheduler; and the default fit on float64 X)
a fresh process makes X (2,000,000 x 50 float32 by default), y and the
weights, runs the same call once on small data (imports, numba compilation),
then measures the call on X:

- **traced**: the peak of the memory allocated during the call beyond what
  existed before it, from ``tracemalloc`` (numpy reports its allocations to
  it; memory that numba's compiled code allocates itself is not seen);
- **RSS**: the rise of the process's peak resident memory during the call, as
  a cross-check (``VmHWM`` after resetting it through ``/proc/self/clear_refs``
  where Linux allows, else ``resource.getrusage().ru_maxrss``, which only
  shows a peak above every earlier one).

"met" compares the traced peak with the target; the note says when the RSS
peak is above the target although the traced one is not.

Run from the repository root::

    python benchmarks/bench_memory.py                 # the installed package
    python benchmarks/bench_memory.py --no-write --n 200000   # quick look
    # before/after in one run: this tree against another (e.g. a worktree of
    # the last commit before a change), side by side with the ratio
    git worktree add /tmp/before HEAD~1
    python benchmarks/bench_memory.py --tree . --compare /tmp/before

``--tree PATH`` (and ``--compare PATH``) import ``sk_sigmoid_neuron`` from
that source tree (``PYTHONPATH=PATH`` in the child processes; each child
checks where the package came from). Without ``--tree`` the children import
the package as this interpreter does (``PYTHONPATH=... python
benchmarks/bench_memory.py`` works too). Writes
``benchmarks/results/memory.md`` and ``memory.rst`` (``--out NAME`` for
other names; the .rst is a self-contained table for the performance page).
"""

import argparse
import datetime
import json
import os
import time
from pathlib import Path

from _report import (
    describe_tree,
    machine,
    md_table,
    rst_table,
    run_child,
    versions,
    write_results,
)

RESULTS = Path(__file__).parent / "results"
TARGET = 0.05  # of X.nbytes
TARGET_INFERENCE = 0.25

# Wide sparse X (issue 23): its shape and nonzeros a row; the target is
# WIDE_SHARE of X's bytes plus WIDE_VECTORS float64 vectors of the weights' size.
WIDE = (20_000, 500_000, 20)
WIDE_SHARE, WIDE_VECTORS = 0.10, 12

# name: (estimator parameters, what is measured, data, target)
#   what: "fit", "warm_start" (the second fit), "partial_fit" (a later call),
#         "predict", "predict_std", "dask_fit"
#   data: "weights_zeros", "weights_positive", "two_outputs", "float64",
#         "wide_sparse" (target: None, the wide budget) or ""
OPTIONS = {
    "default": ({}, "fit", "", TARGET),
    "early_stopping=True": ({"early_stopping": True}, "fit", "", TARGET),
    "sample weights, 10% zeros": ({}, "fit", "weights_zeros", TARGET),
    "sample weights, all positive": ({}, "fit", "weights_positive", TARGET),
    "compute_inference=True": (
        {"compute_inference": True},
        "fit",
        "",
        TARGET_INFERENCE,
    ),
    "store_path=True": ({"store_path": True}, "fit", "", TARGET),
    'loss="log_loss"': ({"loss": "log_loss"}, "fit", "", TARGET),
    'learnrate="auto"': ({"learnrate": "auto"}, "fit", "", TARGET),
    "tol=1e-4": ({"tol": 1e-4}, "fit", "", TARGET),
    "2 outputs": ({}, "fit", "two_outputs", TARGET),
    "warm_start=True, second fit": ({"warm_start": True}, "warm_start", "", TARGET),
    "partial_fit, a later call": ({}, "partial_fit", "", TARGET),
    "predict": ({}, "predict", "", TARGET),
    "predict(return_std=True)": (
        {"compute_inference": True},
        "predict_std",
        "",
        TARGET_INFERENCE,
    ),
    "dask array (threads), default": ({}, "dask_fit", "", TARGET),
    "float64 X, default": ({}, "fit", "float64", TARGET),
    "wide sparse X, learnrate=0.5": ({"learnrate": 0.5}, "fit", "wide_sparse", None),
    'wide sparse X, learnrate="auto"': ({}, "fit", "wide_sparse", None),
}


# -- the child: one option, one call, in a fresh process ----------------------------
def child(spec):
    import gc
    import resource
    import tracemalloc

    import numpy as np

    import sk_sigmoid_neuron
    from sk_sigmoid_neuron import SigmoidNeuronRegressor

    params, what, data, _ = OPTIONS[spec["option"]]
    dtype = np.float64 if data == "float64" else np.dtype(spec["dtype"])
    epochs = spec["epochs"]

    def make(n, seed=0):
        rng = np.random.default_rng(seed)
        if data == "wide_sparse":
            from scipy import sparse

            rows, d, nonzeros = WIDE if n == spec["n"] else (n, WIDE[1], WIDE[2])
            indices = rng.integers(0, d, size=rows * nonzeros)
            indptr = np.arange(0, len(indices) + 1, nonzeros)
            values = rng.standard_normal(len(indices))
            X = sparse.csr_matrix((values, indices, indptr), shape=(rows, d))
            X.sum_duplicates()
            h = X @ rng.standard_normal(d)
            return X, np.tanh(h) + 0.1 * rng.standard_normal(rows), None
        X = rng.standard_normal((n, spec["d"]), dtype=dtype)
        h = X[:, :5].sum(axis=1, dtype=np.float64) / np.sqrt(5)
        y = np.tanh(h) + 0.1 * rng.standard_normal(n)
        if data == "two_outputs":
            y = np.column_stack([y, np.tanh(-h) + 0.1 * rng.standard_normal(n)])
        sw = None
        if data == "weights_zeros":
            sw = rng.uniform(0.5, 2.0, n)
            sw[rng.random(n) < 0.1] = 0.0
        elif data == "weights_positive":
            sw = rng.uniform(0.5, 2.0, n)
        return X, y, sw

    def model():
        # tol=None unless the option sets it: every option runs all its epochs
        return SigmoidNeuronRegressor(epochs=epochs, random_state=0, **params)

    def prepare(X, y, sw):
        """The call to measure, with what it needs done beforehand."""
        if what == "fit":
            return lambda: model().fit(X, y, sample_weight=sw)
        if what == "dask_fit":
            import dask
            import dask.array as da

            dask.config.set(scheduler="threads")
            rows = max(1, len(X) // 8)
            Xd = da.from_array(X, chunks=(rows, X.shape[1]))
            yd = da.from_array(y, chunks=(rows,) + y.shape[1:])
            return lambda: model().fit(Xd, yd)
        fitted = model().fit(X, y, sample_weight=sw)
        if what == "warm_start":
            return lambda: fitted.fit(X, y, sample_weight=sw)
        if what == "partial_fit":
            fitted = model().partial_fit(X, y, sample_weight=sw)
            return lambda: fitted.partial_fit(X, y, sample_weight=sw)
        if what == "predict":
            return lambda: fitted.predict(X)
        if what == "predict_std":
            return lambda: fitted.predict(X, return_std=True)
        raise ValueError(what)

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        return None

    def reset_rss_peak():
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    import warnings

    warnings.simplefilter("ignore")  # ConvergenceWarning after a few epochs
    prepare(*make(2000, seed=1))()  # imports, numba compilation (or its cache)
    X, y, sw = make(spec["n"])
    call = prepare(X, y, sw)
    gc.collect()
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    hwm = reset_rss_peak() and status("VmHWM") is not None
    rss0 = status("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - maxrss0
    if data == "wide_sparse":
        nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        budget = WIDE_SHARE * nbytes + WIDE_VECTORS * 8 * (X.shape[1] + 1)
    else:
        nbytes = budget = X.nbytes
    out = {
        "X": nbytes,
        "budget": budget,
        "traced": traced,
        "rss": status("VmHWM") - rss0 if hwm else maxrss,
        "rss_source": "VmHWM" if hwm else "ru_maxrss",
        "maxrss": maxrss,
        "seconds": seconds,
        "package": os.path.dirname(sk_sigmoid_neuron.__file__),
        "version": sk_sigmoid_neuron.__version__,
    }
    print("RESULT " + json.dumps(out))


# -- the parent: one child per option and tree --------------------------------------
def mib(b):
    return f"{b / 2**20:,.1f} MiB"


def single_rows(results):
    header = ["option", "traced peak", "x X", "RSS peak", "target", "met", "time"]
    rows = []
    for name, r in results:
        text = target_text(OPTIONS[name][3], r)
        if "error" in r:
            rows.append([name, "error", "", "", text, "", r["error"]])
            continue
        ratio = r["traced"] / r["X"]
        limit = limit_bytes(OPTIONS[name][3], r)
        met = "yes" if r["traced"] < limit else "NO"
        if r["traced"] < limit <= r["rss"]:
            met += " (RSS above)"
        rows.append(
            [
                name,
                mib(r["traced"]),
                f"{ratio:.2f}x",
                f"{mib(r['rss'])} ({r['rss'] / r['X']:.2f}x)",
                text,
                met,
                f"{r['seconds']:.2f} s",
            ]
        )
    return header, rows


def target_text(target, r):
    if target is None:
        budget = f" = {mib(r['budget'])}" if "budget" in r else ""
        return f"{WIDE_SHARE:.0%} X + {WIDE_VECTORS} weight vectors{budget}"
    return f"{target:.0%}"


def limit_bytes(target, r):
    """The target in bytes: a share of X, or the wide budget of the child."""
    return r["budget"] if target is None else target * r["X"]


def compare_rows(results, label_a, label_b):
    header = [
        "option",
        f"{label_a}: traced peak (x X)",
        f"{label_b}: traced peak (x X)",
        f"{label_a} / {label_b}",
        "target",
        f"met ({label_a})",
        f"time ({label_a} / {label_b})",
    ]
    rows = []
    for name, a, b in results:
        target = OPTIONS[name][3]
        text = target_text(target, a)

        def cell(r):
            if "error" in r:
                return "error"
            return f"{mib(r['traced'])} ({r['traced'] / r['X']:.2f}x)"

        ok = "error" not in a and "error" not in b
        rows.append(
            [
                name,
                cell(a),
                cell(b),
                f"{a['traced'] / max(b['traced'], 1):.3f}" if ok else "",
                text,
                ("yes" if a["traced"] < limit_bytes(target, a) else "NO")
                if "error" not in a
                else "",
                f"{a['seconds']:.2f} s / {b['seconds']:.2f} s" if ok else "",
            ]
        )
    return header, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="rows of X")
    parser.add_argument("--d", type=int, default=50, help="columns of X")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each fit")
    parser.add_argument(
        "--options", nargs="+", choices=list(OPTIONS), help="a subset of the options"
    )
    parser.add_argument("--tree", help="source tree to import the package from")
    parser.add_argument(
        "--compare", metavar="PATH", help="another source tree, side by side"
    )
    parser.add_argument("--out", default="memory", help="results/NAME.md and .rst")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    names = args.options or list(OPTIONS)
    trees = [args.tree] + ([args.compare] if args.compare else [])
    described = [(t, None if t is None else describe_tree(t)) for t in trees]
    labels = [
        c or (Path(p).name if p is not None else "installed") for p, c in described
    ]
    if len(labels) == 2 and labels[0] == labels[1]:
        labels = ["A", "B"]
    base = {"n": args.n, "d": args.d, "dtype": args.dtype, "epochs": args.epochs}
    results = []
    start = time.perf_counter()
    for name in names:
        spec = {**base, "option": name}
        runs = [run_child(__file__, spec, tree) for tree in trees]
        results.append((name, *runs))
        shown = ", ".join(
            r.get("error")
            or f"{mib(r['traced'])} ({r['traced'] / r['X']:.2f}x X), "
            f"RSS {mib(r['rss'])}, {r['seconds']:.2f} s"
            for r in runs
        )
        print(f"{name:32s} {shown}", flush=True)
    elapsed = time.perf_counter() - start

    if args.compare:
        header, rows = compare_rows(results, *labels)
    else:
        header, rows = single_rows(results)
    x_bytes = args.n * args.d * (4 if args.dtype == "float32" else 8)
    # the commit, not the path: no path of this machine goes into the results
    trees_text = "; ".join(
        (f"{label}: " if args.compare else "")
        + (
            f"commit {commit.rstrip('+')}"
            if commit
            else (Path(path).name if path is not None else "the installed package")
        )
        + (" with uncommitted changes" if commit and commit.endswith("+") else "")
        for label, (path, commit) in zip(labels, described, strict=True)
    )
    rss_source = next(
        (r["rss_source"] for _, *runs in results for r in runs if "rss_source" in r),
        "n/a",
    )
    intro = (
        f"Generated by `python benchmarks/bench_memory.py` on "
        f"{datetime.date.today().isoformat()} ({elapsed:.0f} s). Machine: "
        f"{machine(versions('dask'))}. Package: {trees_text}.\n\n"
        f"X is {args.n:,} x {args.d} {args.dtype} ({mib(x_bytes)}; the "
        f"float64 row: twice that), y float64, {args.epochs} epochs per fit, "
        "each option in a fresh process after the same call on small data "
        "(imports, compilation). Traced peak: the most memory allocated during "
        "the call beyond what existed before it (tracemalloc; what numba's "
        "compiled code allocates itself is not seen), as a multiple of X's "
        f"size. RSS peak: the rise of the peak resident memory ({rss_source}), "
        "a cross-check, which the allocator's reuse of memory freed before the "
        "call can hide (after a first fit: warm_start, partial_fit, predict). "
        "Targets (issue 14): under 5% of X for every option, "
        "under 25% with compute_inference. Wide sparse X (issue 23): "
        f"{WIDE[0]:,} x {WIDE[1]:,} CSR float64, {WIDE[2]} nonzeros a row, "
        f"{WIDE_SHARE:.0%} of its bytes plus {WIDE_VECTORS} float64 vectors of "
        "the weights' size. Time: the measured call, under tracemalloc."
    )
    title = "Peak extra memory per option"
    md = "\n".join([f"# {title}", "", intro, "", md_table(header, rows)])
    # no section title: the page that includes it gives one
    rst = "\n".join([intro.replace("`", "``"), "", rst_table(header, rows)])
    write_results(RESULTS, args.out, md, rst, write=not args.no_write)


if __name__ == "__main__":
    main()
