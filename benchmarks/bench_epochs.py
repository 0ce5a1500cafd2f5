"""Per-epoch cost of the rule: this package vs its peers vs the memory floor.

One run times, for each case (200 x 10, 10,000 x 50 and 1e6 x 100 dense, in
float64 and float32, and a sparse CSR case):

- ``SigmoidNeuronRegressor.fit`` on the compiled path (numba) and on the
  numpy path (``sk_sigmoid_neuron._kernels.BACKEND``);
- the plain vectorised numpy loop (``X @ w``, then ``X.T @ δ``);
- the seed's per-record Python loop (small cases only);
- the same loop in PyTorch on the CPU (when torch imports);
- ``MLPRegressor(hidden_layer_sizes=())`` and ``SGDRegressor``, per epoch;
- the floor: one streaming read of X (``X.sum()``; one ``X @ v`` for sparse X).

It prints medians and ratios (to the floor and to this package), checks the
targets of issue 3, measures the peak memory of ``fit`` and ``predict`` on
1e6 x 100 against the size of X and the one-off cost of compiling the numba
kernel, and writes ``benchmarks/results/epochs.md`` (and ``epochs.rst``, the
same tables for the docs' performance page).

Sparse epochs (issue 23): on 100,000 rows of 20 nonzeros in 1e5 and 1e6
columns, CSR and CSC, an epoch of the sparse engine that ``fit`` uses
(numpy and compiled paths, ``make_kernel(...).run``) against its floor, one
``X @ w`` plus one ``X.T @ d``, timed in turns in the same run; target at
most 1.5x. (A fit's fixed costs, the auto step and the diagnostics, are
``bench_fit_overhead.py``'s.)

Run from the repository root::

    python benchmarks/bench_epochs.py           # everything (~5 minutes, 3 GB)
    python benchmarks/bench_epochs.py --quick   # no 1e6 x 100; prints only
    python benchmarks/bench_epochs.py --sparse  # the sparse floor only; prints

Timings are medians over ``--repeats`` runs after a warm-up run (so the JIT
compile is not counted; it is reported on its own). Every contender uses the
machine's cores as it does by default (BLAS, torch and this package: all
cores; SGDRegressor: one).
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from pathlib import Path

import numpy as np
from _report import fmt_ratio, fmt_time, machine, md_table, rst_table
from scipy import sparse
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.neural_network import MLPRegressor

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels

RESULTS = Path(__file__).parent / "results"
LEARNRATE = 0.5
SPARSE_TARGET = 1.5
SPARSE_EPOCHS = 10  # per timed run of the sparse engine

try:
    import torch
except ImportError:
    torch = None
torch_text = f"torch {torch.__version__}" if torch else "torch not installed"


# -- data ---------------------------------------------------------------------
def make_dense(n_samples, n_features, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=dtype)
    w = rng.standard_normal(n_features).astype(dtype) / np.sqrt(n_features)
    y = 3.0 * expit(X @ w) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def make_sparse(n_samples, n_features, density, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(
        n_samples, n_features, density=density, format="csr", dtype=dtype, rng=rng
    )
    X.data = rng.standard_normal(X.nnz).astype(dtype)
    w = rng.standard_normal(n_features) / np.sqrt(n_features * density)
    y = 3.0 * expit(X @ w) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def unit(y, dtype):
    return ((y - y.min()) / (y.max() - y.min())).astype(dtype)


# -- the contenders -------------------------------------------------------------
def plain_loop(X, t, epochs):
    """The rule as a user writes it with numpy: two products per epoch."""
    n, d = X.shape
    w, b = np.zeros(d, dtype=t.dtype), 0.0
    for _ in range(epochs):
        y = expit(X @ w + b)
        delta = (t - y) * y * (1 - y)
        w += LEARNRATE * (X.T @ delta) / n
        b += LEARNRATE * delta.sum() / n
    return w


def per_record_loop(X, t, epochs):
    """The seed's loop: one record at a time, in Python."""
    n, d = X.shape
    w, b = np.zeros(d, dtype=t.dtype), 0.0
    for _ in range(epochs):
        del_w, del_b = np.zeros(d, dtype=t.dtype), 0.0
        for x, target in zip(X, t, strict=True):
            output = 1 / (1 + np.exp(-(np.dot(x, w) + b)))
            error_term = (target - output) * output * (1 - output)
            del_w += error_term * x
            del_b += error_term
        w += LEARNRATE * del_w / n
        b += LEARNRATE * del_b / n
    return w


def torch_loop(Xt, tt, epochs):
    """The same loop in PyTorch (CPU, no autograd)."""
    n, d = Xt.shape
    w = torch.zeros(d, dtype=Xt.dtype)
    b = torch.zeros((), dtype=Xt.dtype)
    with torch.no_grad():
        for _ in range(epochs):
            y = torch.sigmoid(Xt @ w + b)
            delta = (tt - y) * y * (1 - y)
            w.add_(Xt.T @ delta, alpha=LEARNRATE / n)
            b.add_(delta.sum(), alpha=LEARNRATE / n)
    return w


def fit_package(backend):
    def fit(X, y, epochs):
        _kernels.BACKEND = backend
        try:
            SigmoidNeuronRegressor(
                learnrate=LEARNRATE, epochs=epochs, random_state=0
            ).fit(X, y)
        finally:
            _kernels.BACKEND = "auto"

    return fit


def fit_mlp(X, y, epochs):
    MLPRegressor(
        hidden_layer_sizes=(),
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    ).fit(X, y)


def fit_sgd(X, y, epochs):
    SGDRegressor(max_iter=epochs, tol=None, random_state=0).fit(X, y)


# -- timing -------------------------------------------------------------------
def median_seconds(fn, repeats):
    fn()  # warm-up: JIT compile, caches, first touch of the memory
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def per_epoch(fit, X, y, epochs, repeats):
    """Seconds per epoch of ``fit(X, y, n)``.

    ``epochs`` is ``E`` (the whole fit divided by E, its fixed cost included)
    or ``(E1, E2)`` (the difference of the two fits divided by E2 - E1: the
    fixed cost of validating a large X, the same for every estimator, left out).
    """
    if isinstance(epochs, tuple):
        lo, hi = epochs
        t_lo = median_seconds(lambda: fit(X, y, lo), repeats)
        t_hi = median_seconds(lambda: fit(X, y, hi), repeats)
        return max(t_hi - t_lo, 0.0) / (hi - lo)
    return median_seconds(lambda: fit(X, y, epochs), repeats) / epochs


def floor_seconds(X, repeats):
    """One streaming read of X: ``X.sum()`` (dense) or ``X @ v`` (sparse)."""
    if sparse.issparse(X):
        v = np.ones(X.shape[1], dtype=X.dtype)
        op = lambda: X @ v  # noqa: E731
    else:
        op = X.sum
    op()
    number = max(1, int(0.05 / max(timeit.timeit(op, number=1), 1e-7)))
    runs = timeit.repeat(op, number=number, repeat=max(repeats, 5))
    return float(np.median(runs)) / number


# -- the cases ----------------------------------------------------------------
def cases(quick):
    """(label, make data, epochs per contender) for every case."""
    small = {"pkg": 2000, "plain": 2000, "torch": 2000, "record": 10}
    small |= {"mlp": 200, "sgd": 200}
    medium = {"pkg": 200, "plain": 200, "torch": 200, "record": 1}
    medium |= {"mlp": 20, "sgd": 20}
    large = {"pkg": (1, 4), "plain": 3, "torch": 3, "mlp": (1, 2), "sgd": (1, 3)}
    out = []
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        out.append((f"200 x 10, {name}", lambda d=dtype: make_dense(200, 10, d), small))
        out.append(
            (f"10,000 x 50, {name}", lambda d=dtype: make_dense(10_000, 50, d), medium)
        )
        if not quick:
            out.append(
                (
                    f"1,000,000 x 100, {name}",
                    lambda d=dtype: make_dense(1_000_000, 100, d),
                    large,
                )
            )
    sparse_epochs = {"pkg": 50, "plain": 50, "mlp": 5, "sgd": 5}
    out.append(
        (
            "100,000 x 1,000 sparse CSR (1% nonzero), float64",
            lambda: make_sparse(100_000, 1_000, 0.01, np.float64),
            sparse_epochs,
        )
    )
    return out


def make_rows_of_nonzeros(n_samples, n_features, nonzeros, fmt, seed=0):
    """``nonzeros`` standard normal values a row in random columns (text or
    hashed features), as CSR or CSC."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_features, size=n_samples * nonzeros)
    indptr = np.arange(0, len(indices) + 1, nonzeros)
    values = rng.standard_normal(len(indices))
    X = sparse.csr_matrix((values, indices, indptr), shape=(n_samples, n_features))
    X.sum_duplicates()
    w = rng.standard_normal(n_features) / np.sqrt(nonzeros)
    y = 3.0 * expit(X @ w) + 0.1 * rng.standard_normal(n_samples)
    return X.asformat(fmt), y


def sparse_floor(repeats, have_numba):
    """Issue 23: an epoch of the sparse engine that ``fit`` uses on wide sparse
    X against its floor, one ``X @ w`` plus one ``X.T @ d``, timed in turns
    (engine, floor, engine, ...) so that the machine's load hits both alike."""
    rows = []
    paths = ["numpy", "numba"] if have_numba else ["numpy"]
    for fmt in ("csr", "csc"):
        for n_features in (100_000, 1_000_000):
            X, y = make_rows_of_nonzeros(100_000, n_features, 20, fmt)
            label = f"100,000 x {n_features:,} {fmt.upper()}, 20 nonzeros a row"
            t = unit(y, X.dtype)[:, None]
            w = np.random.default_rng(1).standard_normal(n_features) / 20
            d = np.random.default_rng(2).standard_normal(X.shape[0])
            units = {}
            for path in paths:
                _kernels.BACKEND = path
                units[path] = _kernels.make_kernel(X, t, None, np.array([LEARNRATE]))
                units[path].run(2)  # warm-up: compilation, first touch
            _kernels.BACKEND = "auto"
            times = {key: [] for key in [*paths, "floor"]}
            for _ in range(max(repeats, 9)):
                for path in paths:
                    start = time.perf_counter()
                    units[path].run(SPARSE_EPOCHS)
                    times[path].append((time.perf_counter() - start) / SPARSE_EPOCHS)
                start = time.perf_counter()
                X @ w
                X.T @ d
                times["floor"].append(time.perf_counter() - start)
            seconds = {key: float(np.median(v)) for key, v in times.items()}
            floor = seconds["floor"]
            named = [
                ("numpy" if p == "numpy" else "compiled", seconds[p]) for p in paths
            ]
            print(f"\n{label}: floor {fmt_time(floor)}", flush=True)
            for path, per in named:
                print(f"  {path:9s} {fmt_time(per):>10s}  {fmt_ratio(per, floor)}")
            rows.append((label, floor, named))
    return rows


def run_case(make, epochs, repeats, have_numba):
    X, y = make()
    t = unit(y, X.dtype)
    rows = []  # (contender, seconds per epoch or None, note)
    dense = not sparse.issparse(X)
    fit_epochs = epochs["pkg"]
    # sparse X: scipy's products on both paths, the elementwise work between
    # them compiled on the numba path
    products = "" if dense else "scipy's sparse products"
    rows.append(
        (
            "sk-sigmoid-neuron fit, compiled path (numba)",
            per_epoch(fit_package("numba"), X, y, fit_epochs, repeats)
            if have_numba
            else None,
            products if have_numba else "numba not installed",
        )
    )
    rows.append(
        (
            "sk-sigmoid-neuron fit, numpy path",
            per_epoch(fit_package("numpy"), X, y, fit_epochs, repeats),
            products,
        )
    )
    n_plain = epochs["plain"]
    rows.append(
        (
            "plain vectorised numpy loop",
            median_seconds(lambda: plain_loop(X, t, n_plain), repeats) / n_plain,
            "",
        )
    )
    if "record" in epochs:
        n_rec = epochs["record"]
        rows.append(
            (
                "seed's per-record Python loop",
                median_seconds(lambda: per_record_loop(X, t, n_rec), 3) / n_rec,
                "",
            )
        )
    if dense and "torch" in epochs:
        if torch is None:
            rows.append(("PyTorch CPU loop", None, "torch not installed"))
        else:
            Xt, tt = torch.from_numpy(X), torch.from_numpy(t)
            n_torch = epochs["torch"]
            rows.append(
                (
                    f"PyTorch {torch.__version__} CPU loop",
                    median_seconds(lambda: torch_loop(Xt, tt, n_torch), repeats)
                    / n_torch,
                    "",
                )
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows.append(
            (
                "MLPRegressor(hidden_layer_sizes=())",
                per_epoch(fit_mlp, X, y, epochs["mlp"], repeats),
                "adam, batches of 200",
            )
        )
        rows.append(
            (
                "SGDRegressor",
                per_epoch(fit_sgd, X, y, epochs["sgd"], repeats),
                "per-record SGD, 1 thread"
                + ("" if X.dtype == np.float64 else ", copies X to float64"),
            )
        )
    floor = floor_seconds(X, repeats)
    floor_name = "floor: X.sum()" if dense else "floor: one X @ v"
    rows.append((floor_name, floor, "one streaming read of X"))
    return rows, floor


# -- memory and compile time (in fresh processes) -------------------------------
_MEMORY_CHILD = r"""
import json, sys, tracemalloc
import numpy as np
from sk_sigmoid_neuron import SigmoidNeuronRegressor

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

dtype, order = np.dtype(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
# compile (or load) the kernels first: the JIT's memory is not the fit's
Xw = rng.standard_normal((3000, 100), dtype=dtype)
SigmoidNeuronRegressor(epochs=2).fit(Xw, rng.uniform(size=3000)).predict(Xw)
X = rng.standard_normal((1_000_000, 100), dtype=dtype)
if order == "F":
    X = np.asfortranarray(X)
y = rng.uniform(size=X.shape[0])
out = {"X": X.nbytes}
tracemalloc.start()
reset_peak()
rss0 = status("VmRSS")
model = SigmoidNeuronRegressor(epochs=3, random_state=0).fit(X, y)
out["fit_rss"] = status("VmHWM") - rss0
out["fit_traced"] = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
base = tracemalloc.get_traced_memory()[0]
reset_peak()
rss0 = status("VmRSS")
model.predict(X)
out["predict_rss"] = status("VmHWM") - rss0
out["predict_traced"] = tracemalloc.get_traced_memory()[1] - base
print(json.dumps(out))
"""

_COMPILE_CHILD = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from sk_sigmoid_neuron import SigmoidNeuronRegressor
t1 = time.perf_counter()
rng = np.random.default_rng(0)
out = {"import": t1 - t0}
for name, shape in [("small", (200, 10)), ("large", (3000, 100))]:
    X = rng.standard_normal(shape)
    y = rng.uniform(size=shape[0])
    t = time.perf_counter()
    SigmoidNeuronRegressor(epochs=1).fit(X, y)
    out[name] = time.perf_counter() - t
print(json.dumps(out))
"""


def child(code, *args, env=None):
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_memory():
    rows = []
    for dtype, order in [("float64", "C"), ("float32", "C"), ("float64", "F")]:
        m = child(_MEMORY_CHILD, dtype, order)
        rows.append((f"1,000,000 x 100, {dtype}, {order} order", m))
    return rows


def measure_compile():
    """First fit in a process: compiling (empty cache), then loading the cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = child(_COMPILE_CHILD, env=env)
        warm = child(_COMPILE_CHILD, env=env)
    return cold, warm


# -- machine ---------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 1e6 x 100")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (5)")
    parser.add_argument(
        "--sparse",
        action="store_true",
        help="the sparse floor only; writes results/epochs_sparse.md and .rst",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only (--quick never writes)"
    )
    args = parser.parse_args()
    have_numba = _kernels.active_backend() == "numba"
    default = "compiled path (numba)" if have_numba else "numpy path"
    header = ["contender", "per epoch", "x floor", "x this package", "note"]
    sections = []  # (title, rows of strings)
    results = {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    sparse_rows = sparse_floor(args.repeats, have_numba)
    if args.sparse:
        intro = (
            f"Generated by `python benchmarks/bench_epochs.py --sparse` on "
            f"{datetime.date.today().isoformat()} (load average {load:.1f} at the "
            f"start). Machine: {machine([torch_text])}."
        )
        md, rst = sparse_tables(sparse_rows)
        md = "\n".join(["# Sparse epochs against their floor", "", intro, "", *md])
        rst = "\n".join([intro.replace("`", "``"), "", *rst])
        print("\n" + md)
        if not args.no_write:
            (RESULTS / "epochs_sparse.md").write_text(md + "\n", encoding="utf-8")
            (RESULTS / "epochs_sparse.rst").write_text(rst + "\n", encoding="utf-8")
            print(f"\nwrote {RESULTS / 'epochs_sparse.md'} and .rst")
        return
    for label, make, epochs in cases(args.quick):
        repeats = 3 if label.startswith("1,000,000") else args.repeats
        print(f"\n{label}", flush=True)
        rows, floor = run_case(make, epochs, repeats, have_numba)
        pkg = next((s for name, s, _ in rows if default in name), None)
        table = []
        for name, seconds, note in rows:
            table.append(
                [
                    name,
                    fmt_time(seconds),
                    fmt_ratio(seconds, floor),
                    fmt_ratio(seconds, pkg),
                    note,
                ]
            )
            print(
                f"  {name:48s} {fmt_time(seconds):>10s}  "
                f"{fmt_ratio(seconds, floor):>9s} floor  "
                f"{fmt_ratio(seconds, pkg):>8s} pkg",
                flush=True,
            )
        results[label] = {name: s for name, s, _ in rows}
        sections.append((label, table))

    targets = check_targets(results, have_numba)
    targets += [
        (f"{label}: {path} path <= {SPARSE_TARGET}x X @ w + X.T @ d", s / floor,
         SPARSE_TARGET)
        for label, floor, paths in sparse_rows
        for path, s in paths
    ]  # fmt: skip
    memory = [] if args.quick else measure_memory()
    compile_times = measure_compile() if have_numba else None

    text_md, text_rst = render(
        sections, targets, memory, compile_times, header, default, args, sparse_rows
    )
    print("\n" + text_md)
    if not (args.quick or args.no_write):
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "epochs.md").write_text(text_md + "\n", encoding="utf-8")
        (RESULTS / "epochs.rst").write_text(text_rst + "\n", encoding="utf-8")
        print(f"\nwrote {RESULTS / 'epochs.md'} and {RESULTS / 'epochs.rst'}")


def sparse_tables(sparse):
    """The note and the table of the sparse floor, as markdown and rst lines."""
    header = ["X (float64)", "X @ w + X.T @ d", "numpy path", "x floor"]
    header += ["compiled path", "x floor"]
    rows = []
    for label, floor, paths in sparse:
        row = [label, fmt_time(floor)]
        for path in ("numpy", "compiled"):
            seconds = dict(paths).get(path)
            row += [fmt_time(seconds), fmt_ratio(seconds, floor)]
        rows.append(row)
    note = (
        "An epoch of the sparse engine that `fit` uses (`make_kernel(...).run`, "
        "medians of runs of 10 epochs) against one `X @ w` plus one `X.T @ d` "
        "(scipy), the two products an epoch needs, timed in turns in the same "
        "run. Target (issue 23): at most 1.5x."
    )
    md = [note, "", md_table(header, rows)]
    rst = [note.replace("`", "``"), "", rst_table(header, rows)]
    return md, rst


def check_targets(results, have_numba):
    """Issue 3's targets, from this run's medians: (target, measured, met)."""
    out = []
    numba_fit = "sk-sigmoid-neuron fit, compiled path (numba)"
    numpy_fit = "sk-sigmoid-neuron fit, numpy path"
    plain = "plain vectorised numpy loop"
    for label, r in results.items():
        if label.startswith("200 x 10"):
            out.append(
                (
                    f"{label}, 2000 epochs: numpy-path fit <= 0.6x the plain loop",
                    r[numpy_fit] / r[plain],
                    0.6,
                )
            )
            if have_numba:
                out.append(
                    (
                        f"{label}, 2000 epochs: compiled fit <= 0.25x the plain loop",
                        r[numba_fit] / r[plain],
                        0.25,
                    )
                )
        if label.startswith("1,000,000"):
            floor = r["floor: X.sum()"]
            out.append(
                (f"{label}: numpy path <= 2.5x the floor", r[numpy_fit] / floor, 2.5)
            )
            if have_numba:
                out.append(
                    (
                        f"{label}: compiled path <= 1.2x the floor",
                        r[numba_fit] / floor,
                        1.2,
                    )
                )
        for name in (numpy_fit, numba_fit):
            if r.get(name) is not None and plain in r:
                path = "compiled" if "numba" in name else "numpy"
                out.append(
                    (
                        f"{label}: {path} path not slower than the plain loop",
                        r[name] / r[plain],
                        1.0,
                    )
                )
    return out


def render(sections, targets, memory, compile_times, header, default, args, sparse):
    today = datetime.date.today().isoformat()
    intro = (
        f"Generated by `python benchmarks/bench_epochs.py` on {today}. "
        f"Machine: {machine([torch_text])}.\n\n"
        f"Per epoch: median of {args.repeats} runs (3 for 1e6 x 100) after a "
        "warm-up run. For this package, MLPRegressor and SGDRegressor it is a "
        "whole `fit` divided by its epochs (input validation and start "
        "included) for the small and medium cases, and the difference of two "
        "fits divided by their difference in epochs on 1e6 x 100 (the fixed "
        "cost of validating X, the same for every estimator, left out). "
        '"x floor" divides by one streaming read of X; "x this package" by '
        f"this package's default ({default}). The machine may be shared: "
        "rerun for figures to rely on."
    )
    md = ["# Per-epoch cost: sk-sigmoid-neuron vs its peers vs the floor", "", intro]
    rst = [intro.replace("`", "``"), ""]
    for title, table in sections:
        md += ["", f"## {title}", "", md_table(header, table)]
        rst += [title, "-" * len(title), "", rst_table(header, table), ""]
    title = "Sparse epochs against their floor"
    smd, srst = sparse_tables(sparse)
    md += ["", f"## {title}", "", *smd]
    rst += [title, "-" * len(title), "", *srst, ""]
    theader = ["target (issues 3 and 23)", "measured", "limit", "met"]
    trows = [
        [name, f"{value:.2f}x", f"{limit}x", "yes" if value <= limit else "NO"]
        for name, value, limit in targets
    ]
    md += ["", "## Targets", "", md_table(theader, trows)]
    rst += ["Targets", "-------", "", rst_table(theader, trows), ""]
    if memory:
        mheader = ["X", "size of X", "fit: peak increase", "predict: peak increase"]
        mrows = []
        for label, m in memory:
            mrows.append(
                [
                    label,
                    f"{m['X'] / 2**20:.0f} MiB",
                    f"{m['fit_traced'] / 2**20:.1f} MiB "
                    f"({m['fit_traced'] / m['X']:.1%}); "
                    f"RSS {m['fit_rss'] / m['X']:.1%}",
                    f"{m['predict_traced'] / 2**20:.1f} MiB "
                    f"({m['predict_traced'] / m['X']:.1%}); "
                    f"RSS {m['predict_rss'] / m['X']:.1%}",
                ]
            )
        note = (
            "Peak of the memory numpy allocates during the call (tracemalloc), "
            "over the memory in use before it; RSS: the rise of the process's "
            "peak resident memory, which the allocator's reuse of freed memory "
            "can hide. Target: below 5% of X (no copy of X)."
        )
        md += ["", "## Peak memory, fit (3 epochs) and predict", "", note, ""]
        md += [md_table(mheader, mrows)]
        rst += ["Peak memory, fit (3 epochs) and predict", "-" * 39, "", note, ""]
        rst += [rst_table(mheader, mrows), ""]
    if compile_times:
        cold, warm = compile_times
        note = (
            "First fit in a new process (200 x 10, then 3,000 x 100, float64): "
            f"{cold['small'] + cold['large']:.1f} s with an empty numba cache "
            f"(compiling), {warm['small'] + warm['large']:.2f} s once the cache "
            f"is written; importing the package takes {warm['import']:.2f} s "
            "(numba is imported on the first fit, not with the package)."
        )
        md += ["", "## JIT compile", "", note]
        rst += ["JIT compile", "-----------", "", note, ""]
    return "\n".join(md), "\n".join(rst)


if __name__ == "__main__":
    main()
