"""Time to the optimum: this estimator's solvers beside the peers that fit the
same model, side by side in one run.

Cases, all the log loss (logistic regression; on star98 the fractional logit
of proportions):

- statsmodels' star98 (303 x 20, real) as shipped (columns up to 7e4, with
  interactions) and standardised, against statsmodels' ``GLM(Binomial)``
  (IRLS) and glum;
- 0/1 targets drawn from a logistic model on AR(1)-correlated standard
  normal features (rho = 0.5), 1e5 x 50 and 1e6 x 100, against scikit-learn's
  ``LogisticRegression`` with ``lbfgs`` and with ``newton-cholesky``,
  statsmodels' GLM and glum.

Each contender's time is that to bring every coefficient and the intercept
within ``TARGET`` (1e-8) of the reference (statsmodels' GLM to tol=1e-13 on
star98, ``LogisticRegression(solver="newton-cholesky", tol=1e-13)`` on the
synthetic data): it runs at its default tolerance, then at tighter ones,
until its result is within the target; the time of the first that is, the
median of ``--repeats`` runs after a warm-up (one run on 1e6 x 100). Whole
fits, input validation included. Peers not installed (glum) are skipped.
This estimator runs with its defaults (``tol=None``) first. Also reported:
one ``Kernel.sums()`` (an evaluation of the objective and its gradient)
against one epoch of the rule on the synthetic data.

Run from the repository root::

    python benchmarks/bench_solvers.py           # everything (about 15 minutes)
    python benchmarks/bench_solvers.py --quick   # no 1e6 x 100; prints only

It writes ``benchmarks/results/solvers.md`` and ``solvers.rst`` (the tables of
the user guide's page "Gradient descent, L-BFGS or Newton").
"""

import argparse
import datetime
import os
import time
import warnings
from pathlib import Path

import numpy as np
from _report import fmt_time, machine, md_table, rst_table, versions
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels, _lbfgs, _newton

RESULTS = Path(__file__).parent / "results"
TARGET = 1e-8
TOLS = {  # the default first, then tighter
    "ours": (None, 1e-12, 1e-14),
    "sklearn": (1e-4, 1e-6, 1e-8, 1e-10, 1e-12),
    "statsmodels": (1e-8, 1e-10, 1e-12),
    "glum": (None, 1e-8, 1e-10, 1e-12),
}


# -- data ----------------------------------------------------------------------------
def star98(standardised):
    import statsmodels.api as sm

    data = sm.datasets.star98.load_pandas()
    above, below = data.endog["NABOVE"], data.endog["NBELOW"]
    X = data.exog.to_numpy(dtype=float)
    if standardised:
        X = StandardScaler().fit_transform(X)
    return X, (above / (above + below)).to_numpy()


def synthetic(n, d, seed=0):
    """AR(1)-correlated features (rho = 0.5) and 0/1 targets of a logit."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    for j in range(1, d):  # x_j = rho x_{j-1} + sqrt(1 - rho²) z_j, in place
        X[:, j] *= np.sqrt(0.75)
        X[:, j] += 0.5 * X[:, j - 1]
    w = rng.standard_normal(d) / np.sqrt(d)
    return X, (rng.random(n) < expit(X @ w + 0.3)).astype(float)


# -- the contenders: fit(X, y, tol) -> [coef..., intercept] ------------------------
def ours(solver):
    def fit(X, y, tol):
        model = SigmoidNeuronRegressor(
            solver=solver, loss="log_loss", target_scaling=None, tol=tol,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        return np.r_[model.coef_, model.intercept_], model.n_iter_

    return fit


def sklearn_lr(solver):
    def fit(X, y, tol):
        model = LogisticRegression(C=np.inf, solver=solver, tol=tol, max_iter=10_000)
        model.fit(X, y)
        return np.r_[model.coef_[0], model.intercept_], int(model.n_iter_[0])

    return fit


def statsmodels_glm(X, y, tol):
    import statsmodels.api as sm

    Xc = sm.add_constant(X, has_constant="add")
    fit = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(tol=tol)
    return np.r_[fit.params[1:], fit.params[0]], fit.fit_history["iteration"]


def glum_glm(X, y, tol):
    from glum import GeneralizedLinearRegressor

    kw = {} if tol is None else {"gradient_tol": tol}
    model = GeneralizedLinearRegressor(family="binomial", alpha=0, **kw).fit(X, y)
    return np.r_[model.coef_, model.intercept_], model.n_iter_


def installed(name):
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def contenders(small):
    """(name, kind of tolerances, fit) in the order of the tables."""
    yield '"newton"', "ours", ours("newton")
    yield '"lbfgs"', "ours", ours("lbfgs")
    if not small:
        yield "LogisticRegression lbfgs", "sklearn", sklearn_lr("lbfgs")
        yield (
            "LogisticRegression newton-cholesky",
            "sklearn",
            sklearn_lr("newton-cholesky"),
        )
    yield "statsmodels GLM (IRLS)", "statsmodels", statsmodels_glm
    if installed("glum"):
        yield "glum GeneralizedLinearRegressor", "glum", glum_glm


# -- timing ------------------------------------------------------------------------
class Passes:
    """Counts this estimator's passes over the data: evaluations of the
    objective and Newton's Hessians."""

    def __enter__(self):
        self.evaluations = self.hessians = 0
        self._call, self._hessian = _lbfgs.Objective.__call__, _newton._hessian
        counter = self

        def call(objective, theta):
            counter.evaluations += 1
            return counter._call(objective, theta)

        def hessian(*args):
            counter.hessians += 1
            return counter._hessian(*args)

        _lbfgs.Objective.__call__, _newton._hessian = call, hessian
        return self

    def __exit__(self, *exc):
        _lbfgs.Objective.__call__, _newton._hessian = self._call, self._hessian


def time_to_target(fit, tols, X, y, reference, repeats):
    """(seconds or None, tol, distance, iterations, note) of the first
    tolerance whose fit is within TARGET of ``reference``."""
    for tol in tols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # peers' convergence warnings
            with Passes() as passes:
                start = time.perf_counter()
                theta, n_iter = fit(X, y, tol)
                first = time.perf_counter() - start
            gap = float(np.max(np.abs(theta - reference)))
            if gap > TARGET:
                continue
            times = [first] if repeats == 0 else []
            for _ in range(repeats):
                start = time.perf_counter()
                fit(X, y, tol)
                times.append(time.perf_counter() - start)
        counted = ""
        if passes.evaluations:
            counted = f", {passes.evaluations} passes"
            if passes.hessians:
                counted += f" + {passes.hessians} Hessians"
        return float(np.median(times)), tol, gap, n_iter, counted
    return None, tols[-1], gap, n_iter, f" ({fmt_time(first)})"


def evaluation_vs_epoch(X, y, repeats):
    """Seconds of one ``Kernel.sums()`` and of one epoch (``run(1)``)."""
    kernel = _kernels.make_kernel(X, y[:, None], None, np.ones(1), loss="log_loss")
    kernel.set_params(np.zeros((1, X.shape[1])), np.zeros(1))
    n = max(1, min(100, int(2e8 // X.size)))
    with kernel:
        times = {}
        for name, run in (("sums", lambda: kernel.sums()), ("epoch", None)):
            samples = []
            for _ in range(repeats + 1):
                start = time.perf_counter()
                if run is None:
                    kernel.run(n)
                else:
                    for _ in range(n):
                        run()
                samples.append((time.perf_counter() - start) / n)
            times[name] = float(np.median(samples[1:] or samples))
    return times["sums"], times["epoch"], kernel.path


# -- the run ------------------------------------------------------------------------
def cases(quick):
    """(label, data, reference, repeats, small)."""
    for standardised in (False, True):
        label = "star98 (303 x 20), " + ("standardised" if standardised else "unscaled")
        yield label, lambda s=standardised: star98(s), "statsmodels", 7, True
    yield (
        "0/1 targets, 100,000 x 50",
        lambda: synthetic(100_000, 50),
        "sklearn",
        3,
        False,
    )
    if not quick:
        big = lambda: synthetic(1_000_000, 100)  # noqa: E731
        yield "0/1 targets, 1,000,000 x 100", big, "sklearn", 1, False


def run_case(label, make, kind, repeats, small):
    print(f"\n{label}", flush=True)
    X, y = make()
    start = time.perf_counter()
    if kind == "statsmodels":
        reference, _ = statsmodels_glm(X, y, 1e-13)
        source = "statsmodels GLM, tol=1e-13"
    else:
        reference, _ = sklearn_lr("newton-cholesky")(X, y, 1e-13)
        source = "LogisticRegression newton-cholesky, tol=1e-13"
    print(f"  reference: {source} ({fmt_time(time.perf_counter() - start)})")
    rows, times = [], {}
    for name, tols, fit in contenders(small):
        seconds, tol, gap, n_iter, note = time_to_target(
            fit, TOLS[tols], X, y, reference, repeats
        )
        times[name] = seconds
        shown = "default" if tol is None or tol == TOLS[tols][0] else f"tol={tol:g}"
        note = f"{shown}, {n_iter} iterations{note}, {gap:.1e} away"
        rows.append([label, name, fmt_time(seconds), note])
        print(f"  {name}: {fmt_time(seconds)} ({note})", flush=True)
    peers = [t for name, t in times.items() if not name.startswith('"')]
    fastest = min((t for t in peers if t is not None), default=None)
    for row in rows:
        seconds = times[row[1]]
        ratio = "" if None in (seconds, fastest) else f"{seconds / fastest:.2f}x"
        row.insert(3, ratio)
    eval_row = None
    if not small:
        t_sums, t_epoch, path = evaluation_vs_epoch(X, y, min(repeats, 3))
        eval_row = [label, fmt_time(t_sums), f"{fmt_time(t_epoch)} ({path})",
                    f"{t_sums / t_epoch:.2f}x"]  # fmt: skip
        print(f"  sums {fmt_time(t_sums)} vs epoch {fmt_time(t_epoch)}", flush=True)
    return rows, eval_row


def load():
    return f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 1e6 x 100")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="BLAS (and this estimator's) threads for every contender "
        "(default: each library's own)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
    began, started = load(), time.perf_counter()
    # the first fit of a process loads numba's kernels: not a solver's time
    SigmoidNeuronRegressor(solver="lbfgs").fit(*synthetic(20_000, 50))
    rows, eval_rows = [], []
    for label, make, kind, repeats, small in cases(args.quick):
        r, e = run_case(label, make, kind, args.repeats or repeats, small)
        rows += r
        eval_rows += [e] if e else []
    ended = load()
    header = ["data", "solver", f"time to {TARGET:g}", "/ fastest peer", "note"]
    eval_header = ["data", "Kernel.sums()", "one epoch (run)", "ratio"]
    print(f"\nTotal {time.perf_counter() - started:.0f} s; {began} at the start, "
          f"{ended} at the end")  # fmt: skip
    print(md_table(header, rows))
    if args.quick:
        return
    today = datetime.date.today().isoformat()
    extras = versions("statsmodels", "glum")
    threads = (
        f"every contender on {args.threads} thread(s)"
        if args.threads
        else "each library with its own threads"
    )
    intro = (
        f"Generated by `python benchmarks/bench_solvers.py` on {today}. Machine: "
        f"{machine(extras)}; {threads}; {began} at the start and {ended} at the "
        "end of the run (a shared machine: other processes ran too; rerun for "
        f"figures to rely on).\n\nTime for every coefficient and the intercept to come "
        f"within {TARGET:g} of the reference (statsmodels' GLM to tol=1e-13 on "
        "star98, LogisticRegression newton-cholesky to tol=1e-13 on the "
        "synthetic data): each contender at its default tolerance, then tighter "
        "ones until its fit is that close, timed at the first that is (the note "
        "says which): medians of 7 runs (star98), 3 (1e5 x 50) or 1 (1e6 x 100) "
        'after a warm-up, whole fits. "/ fastest peer": the time over that of '
        "the fastest other package. Passes: evaluations of the objective and "
        "its gradient (one pass each), and Newton's Hessians (one pass of "
        "n_features² work each)."
    )
    md = [
        "# Time to the optimum: this estimator's solvers and their peers",
        "",
        intro,
        "",
        md_table(header, rows),
        "",
        "## One evaluation vs one epoch of the rule",
        "",
        "`Kernel.sums()` (the objective and its gradient, no step) against "
        "`run(1)` on the unit that fit picks.",
        "",
        md_table(eval_header, eval_rows),
        "",
    ]
    (RESULTS / "solvers.md").write_text("\n".join(md))
    rst = [
        intro.replace("`", "``"),
        "",
        rst_table(header, rows),
        "",
        "One evaluation of the objective and its gradient (``Kernel.sums()``) "
        "against one epoch of the rule (``run``):",
        "",
        rst_table(eval_header, eval_rows),
        "",
    ]
    (RESULTS / "solvers.rst").write_text("\n".join(rst))
    print(f"wrote {RESULTS / 'solvers.md'} and solvers.rst")


if __name__ == "__main__":
    warnings.simplefilter("ignore", ConvergenceWarning)
    main()
