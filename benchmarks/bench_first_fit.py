"""The first fit of a fresh process: its cost over a warm fit, before and after.

Issue 20: "the first fit of a fresh process costs at most 100 ms more than a
warm fit (200 x 10, 100 epochs)". Every command-line call, script and
``GridSearchCV`` worker process pays that difference once: imports the fit
needs (numba), compiled kernels loaded from numba's cache, first calls.

For each source tree (``--old`` and ``--new``, as in ``compare_trees.py``), in
every round, for the old tree and the new one in turn (the order alternating
from round to round, so that a change in the machine's load hits both alike):

- a fresh process imports ``sk_sigmoid_neuron`` from that tree (timed: with
  numpy, scipy and scikit-learn, as a user's script does), makes X (200 x 10)
  and y (seeded), times its first ``SigmoidNeuronRegressor(epochs=100,
  random_state=0).fit(X, y)`` (the default ``learnrate="auto"``), then the
  same fit warm, the median of ``--repeats``; it reports whether numba was
  imported, after the import and after the first fit;
- ``python -m sk_sigmoid_neuron`` (the demo) runs in that tree, timed from
  outside (wall time, interpreter start included), with the fit time the
  demo prints for its neuron, beside ``python -c "import sk_sigmoid_neuron"``,
  its start-up floor.

The peers, in the same rounds: scikit-learn's ``SGDRegressor(max_iter=100,
tol=None)`` (100 compiled epochs) and ``MLPRegressor(hidden_layer_sizes=(1,),
max_iter=100)`` fitted the same way in a fresh process, their first fit
against their warm fit. The floor of the overhead is zero: a first fit that
costs what a warm one does.

Before the rounds, each tree runs once untimed, so that numba's on-disk cache
of the compiled kernels is filled (as it is after a user's first fit) and the
files are in the OS's cache. Run from the repository root::

    git worktree add /tmp/before <commit before the change>
    python benchmarks/bench_first_fit.py --old /tmp/before --new .
    git worktree remove /tmp/before

Writes ``benchmarks/results/first_fit.md`` and ``first_fit.rst`` (``--out NAME``
for others; ``--no-write`` prints only).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from _report import (
    describe_tree,
    fmt_time,
    machine,
    md_table,
    rst_table,
    run_child,
    write_results,
)

RESULTS = Path(__file__).parent / "results"
N_SAMPLES, N_FEATURES, EPOCHS = 200, 10, 100
GOAL = 0.100  # seconds of first-fit overhead, issue 20
PEERS = ("SGDRegressor", "MLPRegressor")


# -- the child: one fresh process ----------------------------------------------------
def _make_data(np):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w = rng.standard_normal(N_FEATURES) / np.sqrt(N_FEATURES)
    y = 3.0 / (1.0 + np.exp(-(X @ w))) + 0.1 * rng.standard_normal(N_SAMPLES)
    return X, y


def child(spec):
    """Import, first fit, warm fits; prints ``RESULT {json}``."""
    import warnings

    warnings.simplefilter("ignore")  # ConvergenceWarning, TrainingWarning
    start = time.perf_counter()
    if spec["estimator"] == "SigmoidNeuronRegressor":
        import sk_sigmoid_neuron

        package = os.path.dirname(sk_sigmoid_neuron.__file__)

        def make():
            return sk_sigmoid_neuron.SigmoidNeuronRegressor(
                epochs=EPOCHS, random_state=0
            )

    elif spec["estimator"] == "SGDRegressor":
        from sklearn.linear_model import SGDRegressor

        package = None

        def make():
            return SGDRegressor(max_iter=EPOCHS, tol=None, random_state=0)

    else:
        from sklearn.neural_network import MLPRegressor

        package = None

        def make():
            return MLPRegressor(
                hidden_layer_sizes=(1,), max_iter=EPOCHS, random_state=0
            )

    import_seconds = time.perf_counter() - start
    numba_after_import = "numba" in sys.modules
    import numpy as np

    X, y = _make_data(np)
    start = time.perf_counter()
    first = make().fit(X, y)
    first_seconds = time.perf_counter() - start
    numba_after_fit = "numba" in sys.modules
    warm = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        model = make().fit(X, y)
        warm.append(time.perf_counter() - start)
    coef = np.asarray(first.coef_ if hasattr(first, "coef_") else first.coefs_[0])
    warm_coef = np.asarray(model.coef_ if hasattr(model, "coef_") else model.coefs_[0])
    result = {
        "package": package,
        "import": import_seconds,
        "first": first_seconds,
        "warm": float(np.median(warm)),
        "numba_after_import": numba_after_import,
        "numba_after_fit": numba_after_fit,
        "coef": coef.ravel().tolist(),
        "first_vs_warm": float(
            np.max(np.abs(coef - warm_coef)) / max(np.max(np.abs(coef)), 1e-300)
        ),
    }
    print("RESULT " + json.dumps(result))


# -- the parent ----------------------------------------------------------------------
def wall(argv, tree):
    """Wall time of ``argv`` run in ``tree`` (which it imports), and its output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        err = proc.stderr.strip().splitlines()
        sys.exit(f"{argv} in {tree} failed: {err[-1] if err else proc.returncode}")
    return seconds, proc.stdout


def demo_fit_seconds(output):
    """The fit time the demo prints for its neuron (None if it prints none)."""
    for line in output.splitlines():
        m = re.match(r"\s*SigmoidNeuronRegressor\b.*?([\d.]+)\s*ms\s*$", line)
        if m:
            return float(m.group(1)) / 1e3
    return None


def one_tree(tree, repeats):
    """One round's figures for one tree: a fit process, the demo, the import."""
    out = run_child(
        __file__, {"estimator": "SigmoidNeuronRegressor", "repeats": repeats}, tree
    )
    if "error" in out:
        sys.exit(f"the fit process on {tree} failed: {out['error']}")
    out["overhead"] = out["first"] - out["warm"]
    out["demo"], printed = wall([sys.executable, "-m", "sk_sigmoid_neuron"], tree)
    out["demo_fit"] = demo_fit_seconds(printed)
    out["startup"], _ = wall([sys.executable, "-c", "import sk_sigmoid_neuron"], tree)
    return out


def spread(values, absolute=False):
    """The noise of a measurement: max / min - 1 of its round values, or, for
    a difference (which can be near zero), max - min; None without values."""
    values = [v for v in values if v is not None]
    if not values or (not absolute and min(values) <= 0):
        return None
    return max(values) - min(values) if absolute else max(values) / min(values) - 1


def fmt_noise(noise, absolute=False):
    if noise is None:
        return ""
    return f"±{fmt_time(noise)}" if absolute else f"±{noise:.0%}"


def main():
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="source tree before (required)")
    parser.add_argument("--new", default=".", help="source tree after (default .)")
    parser.add_argument("--rounds", type=int, default=7, help="old/new pairs (7)")
    parser.add_argument("--repeats", type=int, default=7, help="warm fits (7)")
    parser.add_argument("--out", default="first_fit", help="results/NAME.*")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if not args.old:
        parser.error("--old is required")

    trees = {"old": Path(args.old).resolve(), "new": Path(args.new).resolve()}
    labels = {k: describe_tree(t) or t.name for k, t in trees.items()}
    start = time.perf_counter()
    for tree in trees.values():  # fills numba's cache and the OS's file cache
        one_tree(tree, 1)
    runs = {"old": [], "new": []}
    peers = {name: [] for name in PEERS}
    for r in range(args.rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for which in order:
            runs[which].append(one_tree(trees[which], args.repeats))
        for name in PEERS:
            out = run_child(
                __file__, {"estimator": name, "repeats": args.repeats}, None
            )
            if "error" in out:
                sys.exit(f"{name} failed: {out['error']}")
            out["overhead"] = out["first"] - out["warm"]
            peers[name].append(out)
        print(
            f"round {r + 1}: first-fit overhead "
            + ", ".join(
                f"{k} {fmt_time(v[-1]['overhead'])}" for k, v in runs.items() if v
            )
            + "; "
            + ", ".join(f"{k} {fmt_time(v[-1]['overhead'])}" for k, v in peers.items()),
            flush=True,
        )
    elapsed = time.perf_counter() - start

    def med(rounds, key):
        values = [o[key] for o in rounds if o[key] is not None]
        return float(np.median(values)) if values else None

    def yes_no(rounds, key):
        seen = {o[key] for o in rounds}
        return "yes" if seen == {True} else "no" if seen == {False} else "varies"

    def ratio(a, b):
        return f"{a / b:.2f}" if a is not None and b else ""

    header = [
        "measurement",
        f"old ({labels['old']})",
        f"new ({labels['new']})",
        "new / old",
        "noise",
    ]
    timed = [
        ("import sk_sigmoid_neuron (in the process)", "import", False),
        (f"first fit ({N_SAMPLES} x {N_FEATURES}, {EPOCHS} epochs)", "first", False),
        (f"warm fit (median of {args.repeats})", "warm", False),
        ("first-fit overhead (first - warm)", "overhead", True),
        ('python -c "import sk_sigmoid_neuron" (wall)', "startup", False),
        ("python -m sk_sigmoid_neuron (demo, wall)", "demo", False),
        ("the demo's neuron fit (as it prints)", "demo_fit", False),
    ]
    rows = []
    for label, key, absolute in timed:
        old, new = med(runs["old"], key), med(runs["new"], key)
        noise = [spread([o[key] for o in runs[w]], absolute) for w in runs]
        noise = max((n for n in noise if n is not None), default=None)
        rows.append(
            [
                label,
                fmt_time(old),
                fmt_time(new),
                ratio(new, old),
                fmt_noise(noise, absolute),
            ]
        )
    rows.append(
        [
            "first fit / warm fit",
            ratio(med(runs["old"], "first"), med(runs["old"], "warm")) + "x",
            ratio(med(runs["new"], "first"), med(runs["new"], "warm")) + "x",
            "",
            "",
        ]
    )
    for label, key in (
        ("numba imported by `import sk_sigmoid_neuron`", "numba_after_import"),
        ("numba imported after the first fit", "numba_after_fit"),
    ):
        rows.append([label, yes_no(runs["old"], key), yes_no(runs["new"], key), "", ""])
    first_vs_warm = {
        w: max(o["first_vs_warm"] for o in runs[w]) for w in runs
    }  # the same process: the first fit's path against the warm fit's
    rows.append(
        [
            "first vs warm fit, largest coef difference (relative)",
            f"{first_vs_warm['old']:.0e}",
            f"{first_vs_warm['new']:.0e}",
            "",
            "",
        ]
    )
    a, b = np.asarray(runs["old"][0]["coef"]), np.asarray(runs["new"][0]["coef"])
    old_vs_new = float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300))

    peer_header = [
        "peer (fresh process)",
        "import",
        "first fit",
        "warm fit",
        "overhead",
    ]
    peer_rows = []
    for name, rounds in peers.items():
        peer_rows.append(
            [
                name,
                fmt_time(med(rounds, "import")),
                fmt_time(med(rounds, "first")),
                fmt_time(med(rounds, "warm")),
                f"{fmt_time(med(rounds, 'overhead'))} "
                f"({fmt_noise(spread([o['overhead'] for o in rounds], True), True)})",
            ]
        )

    new_overhead = med(runs["new"], "overhead")
    verdict = (
        f"First-fit overhead of the new tree: {fmt_time(new_overhead)} (goal: at "
        f"most {fmt_time(GOAL)}): "
        + ("met" if new_overhead <= GOAL else "not met")
        + f". Old tree: {fmt_time(med(runs['old'], 'overhead'))}. The two trees' "
        f"first fits differ by {old_vs_new:.0e} in their coefficients (relative)."
    )
    intro = (
        f"Generated by `python benchmarks/bench_first_fit.py` on "
        f"{datetime.date.today().isoformat()} ({elapsed:.0f} s), {args.rounds} "
        f"rounds. Machine: {machine()}. Old: commit {labels['old']}; new: commit "
        f"{labels['new']}"
        + (
            ' ("+": with uncommitted changes)'
            if "+" in labels["old"] + labels["new"]
            else ""
        )
        + ".\n\n"
        "Each round starts fresh processes for each tree (old and new in turn, "
        "the order alternating): one imports the package, makes X "
        f"({N_SAMPLES} x {N_FEATURES}, seeded), times its first "
        f"`SigmoidNeuronRegressor(epochs={EPOCHS}, random_state=0).fit(X, y)` "
        f"(learnrate='auto'), then the same fit {args.repeats} times more (warm, "
        "the median); the demo and the bare import run as commands, timed from "
        "outside. Every tree ran once before the rounds (numba's cache of the "
        "compiled kernels filled, as after a user's first fit). Figures: the "
        "median over the rounds. Noise: the largest spread of the round values "
        "of either tree (max / min - 1; for the overhead, a difference, max - "
        "min)."
    )
    md = "\n".join(
        [
            "# The first fit of a fresh process, before and after",
            "",
            intro,
            "",
            md_table(header, rows),
            "",
            "scikit-learn's own estimators, fitted the same way in a fresh process "
            "(the same rounds; overhead with its spread):",
            "",
            md_table(peer_header, peer_rows),
            "",
            verdict,
        ]
    )
    rst = "\n".join(
        [
            intro.replace("`", "``"),
            "",
            rst_table(header, [[c.replace("`", "``") for c in r] for r in rows]),
            "",
            "scikit-learn's own estimators, fitted the same way in a fresh process "
            "(the same rounds; overhead with its spread):",
            "",
            rst_table(peer_header, peer_rows),
            "",
            verdict,
        ]
    )
    write_results(RESULTS, args.out, md, rst, write=not args.no_write)


if __name__ == "__main__":
    main()
