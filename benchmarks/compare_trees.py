"""Before/after timing in one run: two source trees of the package, side by side.

Issue 14: "the benchmarks, rerun, show no slowdown beyond noise". For each
case, fresh processes import ``sk_sigmoid_neuron`` from the old tree and from
the new tree in turn (old, new, old, new, ... for ``--rounds`` rounds, so that
a change in the machine's load hits both alike); each process makes the data,
runs every measurement of the case once as a warm-up (imports, numba
compilation or its cache), then times it ``--repeats`` times and reports the
median. The table gives, per measurement, the median over the rounds for each
tree, the ratio new / old, and the noise: the largest spread (max / min - 1)
of the round medians of either tree, the difference between two runs of the
same code.

The cases are those of the other benchmarks, with the same data (the makers
below are copies: the old tree's benchmarks cannot be imported here):

- ``epochs``: ``bench_epochs.py``'s dense cases, 200 x 10 (2000 epochs),
  10,000 x 50 (200 epochs) and 1,000,000 x 100 (4 epochs, float64 and
  float32; not with ``--quick``), a whole ``fit`` (validation included)
  divided by its epochs, on the compiled path (numba) and the numpy path;
- ``weights``, ``early``: the same fits with sample weights of which 10% are
  zero, and with ``early_stopping=True``, on 10,000 x 50 (both paths) and
  1,000,000 x 100 (compiled path; not with ``--quick``);
- ``dask``: ``bench_dask.py``'s small case (10,000 x 10 float64 in 8 chunks,
  23 epochs) and its ``--quick`` large one (100,000 x 50), dask's threaded
  scheduler, a whole fit;
- ``cv``: ``bench_cv.py --quick``'s bank (2,000 x 20, 4 learning rates x 3
  epoch counts, 5 folds), one ``SigmoidNeuronRegressorCV.fit``, both paths;
  and at 6,000 x 20 and 10,000 x 20 (not with ``--quick``) that fit beside
  the ``GridSearchCV`` it replaces, on the compiled path;
- ``torch``: a fit on PyTorch CPU tensors under ``array_api_dispatch``
  (10,000 x 50, 200 epochs), when torch imports.

Every fit passes its learning rate (0.5 for single fits), so both trees time
the same rule whatever their default. Run from the repository root::

    git worktree add /tmp/before <commit before the change>
    python benchmarks/compare_trees.py --old /tmp/before --new .
    python benchmarks/compare_trees.py --old /tmp/before --new . --quick --no-write

Writes ``benchmarks/results/before_after.md`` and ``before_after.rst`` (a
self-contained table for the performance page; ``--out NAME`` for others).
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

# scikit-learn's array API dispatch (the torch case) needs it before scipy loads
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from _report import (
    describe_tree,
    fmt_time,
    machine,
    md_table,
    rst_table,
    run_child,
    versions,
    write_results,
)

RESULTS = Path(__file__).parent / "results"
LEARNRATE = 0.5


# -- the child: one case, one tree, in a fresh process ------------------------------
def _make_dense(n_samples, n_features, seed=0):
    """bench_epochs.make_dense, float64."""
    import numpy as np
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features) / np.sqrt(n_features)
    y = 3.0 * expit(X @ w) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def _weights_with_zeros(n_samples, seed=1):
    import numpy as np

    rng = np.random.default_rng(seed)
    sw = rng.uniform(0.5, 2.0, n_samples)
    sw[rng.random(n_samples) < 0.1] = 0.0
    return sw


def _kernels_module():
    """The module that holds BACKEND: ``_kernels`` now, ``_gd`` before."""
    import importlib

    for name in ("_kernels", "_gd"):
        try:
            module = importlib.import_module(f"sk_sigmoid_neuron.{name}")
        except ImportError:
            continue
        if hasattr(module, "BACKEND"):
            return module
    raise ImportError("no kernel module with BACKEND")


def _measurements(case, quick):
    """{label: (make the call, epochs it runs or None)} for one case."""
    import numpy as np

    from sk_sigmoid_neuron import SigmoidNeuronRegressor

    kernels = _kernels_module()
    out = {}

    def fit(X, y, epochs, backend, sw=None, **params):
        def call():
            kernels.BACKEND = backend
            try:
                return SigmoidNeuronRegressor(
                    learnrate=LEARNRATE, epochs=epochs, random_state=0, **params
                ).fit(X, y, sample_weight=sw)
            finally:
                kernels.BACKEND = "auto"

        return call

    paths = {"numba": "compiled", "numpy": "numpy"}
    if case in ("small", "medium", "large"):
        n, d, epochs = {
            "small": (200, 10, 2000),
            "medium": (10_000, 50, 200),
            "large": (1_000_000, 100, 4),
        }[case]
        X, y = _make_dense(n, d)
        label = f"{n:,} x {d}"
        for backend, path in paths.items():
            out[f"{label}, {path} path"] = (fit(X, y, epochs, backend), epochs)
        if case == "large":
            X32 = X.astype(np.float32)
            for backend, path in paths.items():
                out[f"{label} float32, {path} path"] = (
                    fit(X32, y, epochs, backend),
                    epochs,
                )
        if case != "small":
            sw = _weights_with_zeros(n)
            for backend, path in paths.items():
                if case == "large" and backend == "numpy":
                    continue
                out[f"{label}, {path}, 10% zero weights"] = (
                    fit(X, y, epochs, backend, sw=sw),
                    epochs,
                )
                out[f"{label}, {path}, early_stopping"] = (
                    fit(X, y, epochs, backend, early_stopping=True),
                    epochs,
                )
        return out
    if case == "dask":
        import dask
        import dask.array as da

        dask.config.set(scheduler="threads")
        for n, d in ((10_000, 10), (100_000, 50)):
            X, y = _make_chunks(n, d, 8)
            rows = n // 8
            Xd = da.from_array(X, chunks=(rows, d))
            yd = da.from_array(y, chunks=(rows,))
            out[f"dask {n:,} x {d}, threads"] = (fit(Xd, yd, 23, "auto"), 23)
        return out
    if case == "cv":
        from sklearn.model_selection import KFold

        from sk_sigmoid_neuron import SigmoidNeuronRegressorCV

        X, y = _make_cv(2_000, 20)
        splits = list(KFold(5, shuffle=True, random_state=0).split(X))
        learnrates = [float(v) for v in np.logspace(-2, 1.5, 4)]

        def cv(backend, X=X, y=y, splits=splits):
            # X, y and splits bound now: the loop below rebinds the names
            def call():
                kernels.BACKEND = backend
                try:
                    return SigmoidNeuronRegressorCV(
                        learnrates, [20, 40, 60], cv=splits, random_state=0, n_jobs=1
                    ).fit(X, y)
                finally:
                    kernels.BACKEND = "auto"

            return call

        for backend, path in paths.items():
            out[f"CV bank 2,000 x 20, {path} path"] = (cv(backend), None)
        if not quick:
            from sklearn.model_selection import GridSearchCV

            from sk_sigmoid_neuron import SigmoidNeuronRegressor

            grid = {"learnrate": learnrates, "epochs": [20, 40, 60]}
            for n in (6_000, 10_000):
                X, y = _make_cv(n, 20)
                splits = list(KFold(5, shuffle=True, random_state=0).split(X))
                search = GridSearchCV(
                    SigmoidNeuronRegressor(random_state=0), grid, cv=splits
                )

                def compiled(fit_search):
                    def call():
                        kernels.BACKEND = "numba"
                        try:
                            return fit_search()
                        finally:
                            kernels.BACKEND = "auto"

                    return call

                cv_estimator = SigmoidNeuronRegressorCV(
                    learnrates, [20, 40, 60], cv=splits, random_state=0
                )
                out[f"CV estimator {n:,} x 20, compiled"] = (
                    compiled(lambda X=X, y=y, m=cv_estimator: m.fit(X, y)),
                    None,
                )
                gs = compiled(lambda X=X, y=y, m=search: m.fit(X, y).best_estimator_)
                out[f"GridSearchCV {n:,} x 20, compiled"] = (gs, None)
        return out
    if case == "torch":
        import sklearn
        import torch

        torch.set_num_threads(2)
        X, y = _make_dense(10_000, 50)
        Xt, yt = torch.asarray(X), torch.asarray(y)

        def torch_fit():
            with sklearn.config_context(array_api_dispatch=True):
                model = SigmoidNeuronRegressor(
                    learnrate=LEARNRATE, epochs=200, random_state=0
                ).fit(Xt, yt)
            model.coef_ = np.asarray(model.coef_)
            return model

        out["torch CPU 10,000 x 50"] = (torch_fit, 200)
        return out
    raise ValueError(case)


def _make_chunks(n_samples, n_features, n_chunks):
    """bench_dask.make_chunk, concatenated."""
    import numpy as np

    rows = n_samples // n_chunks
    w = np.random.default_rng(0).standard_normal(n_features) / np.sqrt(n_features)
    parts = []
    for i in range(n_chunks):
        rng = np.random.default_rng(1000 + i)
        X = rng.standard_normal((rows, n_features))
        parts.append(
            np.column_stack([X, 10.0 * np.tanh(X @ w) + rng.standard_normal(rows)])
        )
    Xy = np.concatenate(parts)
    return np.ascontiguousarray(Xy[:, :-1]), Xy[:, -1].copy()


def _make_cv(n_samples, n_features, seed=0):
    """bench_cv.make_data."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scales = np.logspace(-1.5, 0, n_features)
    X = rng.standard_normal((n_samples, n_features)) * scales
    w = rng.standard_normal(n_features) / np.sqrt(n_features) / scales
    y = 10.0 * np.tanh(X @ w) + rng.standard_normal(n_samples)
    return X, y


def child(spec):
    import warnings

    import numpy as np

    import sk_sigmoid_neuron

    warnings.simplefilter("ignore")  # ConvergenceWarning, TrainingWarning
    result = {"package": os.path.dirname(sk_sigmoid_neuron.__file__), "rows": {}}
    for label, (call, epochs) in _measurements(spec["case"], spec["quick"]).items():
        model = call()  # warm-up
        times = []
        for _ in range(spec["repeats"]):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        coef = getattr(model, "coef_", None)
        result["rows"][label] = {
            "seconds": float(np.median(times)),
            "epochs": epochs,
            "n_iter": int(np.max(getattr(model, "n_iter_", 0))),
            "coef": None if coef is None else np.asarray(coef, float).ravel().tolist(),
        }
    print("RESULT " + json.dumps(result))


# -- the parent ----------------------------------------------------------------------
def main():
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="source tree before (required)")
    parser.add_argument("--new", default=".", help="source tree after (default .)")
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["small", "medium", "large", "dask", "cv", "torch"],
        choices=["small", "medium", "large", "dask", "cv", "torch"],
    )
    parser.add_argument("--quick", action="store_true", help="no 1,000,000 x 100")
    parser.add_argument("--rounds", type=int, default=4, help="old/new pairs (4)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls (5)")
    parser.add_argument("--out", default="before_after", help="results/NAME.*")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if not args.old:
        parser.error("--old is required")

    cases = [c for c in args.cases if not (args.quick and c == "large")]
    trees = {"old": args.old, "new": args.new}
    labels = {k: describe_tree(t) or Path(t).name for k, t in trees.items()}
    start = time.perf_counter()
    runs = {}  # measurement label -> {"old": [round medians], "new": [...]}
    coefs, iters, epochs_of = {}, {}, {}
    for case in cases:
        repeats = 3 if case == "large" else args.repeats
        for r in range(args.rounds):
            for which, tree in trees.items():
                spec = {"case": case, "quick": args.quick, "repeats": repeats}
                out = run_child(__file__, spec, tree)
                if "error" in out:
                    sys.exit(f"{spec} on {tree} failed: {out['error']}")
                rows = out["rows"]
                for label, row in rows.items():
                    runs.setdefault(label, {"old": [], "new": []})[which].append(
                        row["seconds"]
                    )
                    coefs.setdefault(label, {})[which] = row["coef"]
                    iters.setdefault(label, {})[which] = row["n_iter"]
                    epochs_of[label] = row["epochs"]
            done = {k: v for k, v in runs.items() if len(v["new"]) == r + 1}
            print(
                f"{case} round {r + 1}: "
                + "; ".join(
                    f"{k} {fmt_time(v['old'][-1])} -> {fmt_time(v['new'][-1])}"
                    for k, v in done.items()
                ),
                flush=True,
            )
    elapsed = time.perf_counter() - start

    header = [
        "measurement",
        f"old ({labels['old']})",
        f"new ({labels['new']})",
        "new / old",
        "noise",
        "same result",
    ]
    rows, ratios, noises = [], [], []
    for label, t in runs.items():
        old, new = float(np.median(t["old"])), float(np.median(t["new"]))
        noise = max(max(v) / min(v) - 1 for v in t.values())
        ratios.append(new / old)
        noises.append(noise)
        per = epochs_of[label]
        unit = " / epoch" if per else " / fit"
        a, b = coefs[label]["old"], coefs[label]["new"]
        if a is None or b is None:
            same = ""
        else:
            a, b = np.asarray(a), np.asarray(b)
            rel = np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300)
            same = f"coef rel. diff {rel:.0e}"
            if iters[label]["old"] != iters[label]["new"]:
                same += f", epochs {iters[label]['old']} vs {iters[label]['new']}"
        rows.append(
            [
                label,
                fmt_time(old / (per or 1)) + unit,
                fmt_time(new / (per or 1)) + unit,
                f"{new / old:.2f}",
                f"±{noise:.0%}",
                same,
            ]
        )
        print(
            f"{label:42s} {rows[-1][1]:>18s} {rows[-1][2]:>18s} {rows[-1][3]:>6s} "
            f"{rows[-1][4]:>6s}  {same}"
        )

    intro = (
        f"Generated by `python benchmarks/compare_trees.py` on "
        f"{datetime.date.today().isoformat()} ({elapsed:.0f} s), "
        f"{'with --quick, ' if args.quick else ''}{args.rounds} rounds. Machine: "
        f"{machine(versions('dask'))}. Old: commit {labels['old']}; "
        f"new: commit {labels['new']}"
        + (
            ' ("+": with uncommitted changes)'
            if "+" in labels["old"] + labels["new"]
            else ""
        )
        + ".\n\n"
        "Each round runs every case in a fresh process for the old tree, then "
        "for the new one; a process warms up (imports, numba cache), then times "
        f"each call {args.repeats} times (3 on 1,000,000 x 100) and keeps the "
        "median. Old and new: the median over the rounds of a whole `fit` "
        "(validation and start included), divided by its epochs where it says "
        "so. Noise: the largest spread (max / min - 1) of the round medians of "
        "either tree, how far two runs of the same code differ here. Same "
        "result: the largest difference between the two trees' coefficients, "
        "relative to the largest coefficient. Learning rates are given "
        "explicitly, so both trees run the same rule."
    )
    summary = (
        f"new / old from {min(ratios):.2f} to {max(ratios):.2f} (median "
        f"{np.median(ratios):.2f}); noise between rounds of the same tree up to "
        f"{max(noises):.0%} (median {np.median(noises):.0%})."
    )
    md = "\n".join(
        [
            "# Before/after: the old and the new tree in one run",
            "",
            intro,
            "",
            md_table(header, rows),
            "",
            summary,
        ]
    )
    rst = "\n".join(
        [intro.replace("`", "``"), "", rst_table(header, rows), "", summary]
    )
    write_results(RESULTS, args.out, md, rst, write=not args.no_write)


if __name__ == "__main__":
    main()
