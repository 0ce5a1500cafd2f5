"""Time to the optimum: gradient descent, L-BFGS and the statistics packages.

One run fits, for each case, the same model to the same data with:

- ``SigmoidNeuronRegressor(solver="gd")`` with ``learnrate="auto"``, and with
  the best fixed learning rate of a small grid (each capped at a number of
  epochs, reported as "not reached in N epochs" when the cap comes first);
- ``SigmoidNeuronRegressor(solver="lbfgs")`` with its defaults;
- statsmodels' ``GLM(family=Binomial())`` (IRLS) for the log loss (the
  fractional logit), scipy's ``least_squares`` (trust region, with the
  Jacobian) for the squared error, with their defaults;

and reports the time each takes to bring every coefficient (and the
intercept) within 1e-6 of the optimum (the reference: statsmodels or
least_squares run to 1e-12 or 1e-15). For gradient descent, which records its
weights after every epoch (``store_path=True``), it is the first epoch within
1e-6, times the time per epoch (on small data, of a fit without the path). It also
measures the
cost of one L-BFGS evaluation (a pass through ``Kernel.sums``) against one
epoch of the rule on the same data, in the kernel and per pass in a whole fit.

Cases: statsmodels' star98 (303 school districts, 20 standardised covariates
with interactions: the share of students above the national median), and
synthetic 1e5 x 50 and 1e6 x 100 (AR(1)-correlated standard normal features,
rho = 0.5), each with the log loss and the squared error (1e6 x 100: the log
loss only, and statsmodels run once, to 1e-12, as both reference and peer:
one IRLS fit takes about two minutes there, and least_squares over 20 GB).

Run from the repository root::

    python benchmarks/bench_solvers.py           # everything (~6 minutes, 5 GB)
    python benchmarks/bench_solvers.py --quick   # no 1e6 x 100; prints only

It writes ``benchmarks/results/solvers.md`` and ``solvers.rst`` (the table of
the user guide's page "Gradient descent or L-BFGS"). Timings are medians of
``--repeats`` runs after a warm-up run (1 run on 1e6 x 100).
"""

import argparse
import datetime
import time
import warnings
from pathlib import Path

import numpy as np
from _report import fmt_time, machine, md_table, rst_table, versions
from scipy.optimize import least_squares
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels, _lbfgs

RESULTS = Path(__file__).parent / "results"
TARGET = 1e-6
GRID = (0.5, 2.0, 8.0, 32.0)  # fixed learning rates tried


# -- data ----------------------------------------------------------------------
def star98():
    import statsmodels.api as sm

    data = sm.datasets.star98.load_pandas()
    above, below = data.endog["NABOVE"], data.endog["NBELOW"]
    y = (above / (above + below)).to_numpy()
    X = StandardScaler().fit_transform(data.exog.to_numpy(dtype=float))
    return X, y


def synthetic(n, d, seed=0):
    """AR(1)-correlated features (rho = 0.5), standardised, and proportions."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    for j in range(1, d):  # x_j = rho x_{j-1} + sqrt(1 - rho²) z_j, in place
        X[:, j] *= np.sqrt(0.75)
        X[:, j] += 0.5 * X[:, j - 1]
    w = rng.standard_normal(d) / np.sqrt(d)
    y = expit(X @ w + 0.3 * rng.standard_normal(n))
    return X, y


BOTH = ("log_loss", "squared_error")


def cases(quick):
    """(label, data, epochs of "auto", epochs of a fixed rate, losses)."""
    yield "star98 (303 x 20, real)", star98, 100_000, 20_000, BOTH
    yield "synthetic 100,000 x 50", lambda: synthetic(100_000, 50), 2_000, 1_000, BOTH
    if not quick:
        # the log loss only: scipy's least_squares needs over 20 GB here (its
        # exact trust-region solver takes the SVD of the 1e6 x 101 Jacobian)
        big = lambda: synthetic(1_000_000, 100)  # noqa: E731
        yield "synthetic 1,000,000 x 100", big, 100, 100, ("log_loss",)


# -- references and peers ---------------------------------------------------------
def glm(X, y, tol):
    import statsmodels.api as sm

    Xc = sm.add_constant(X, has_constant="add")
    fit = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(tol=tol)
    return np.r_[fit.params[1:], fit.params[0]]


def sigmoid_ls(X, t, tol):
    n, d = X.shape

    def residuals(theta):
        return expit(X @ theta[:-1] + theta[-1]) - t

    def jacobian(theta):
        p = expit(X @ theta[:-1] + theta[-1])
        slope = p * (1 - p)
        J = np.empty((n, d + 1))
        np.multiply(X, slope[:, None], out=J[:, :-1])
        J[:, -1] = slope
        return J

    kw = {} if tol is None else dict(xtol=tol, ftol=tol, gtol=tol)
    return least_squares(residuals, np.zeros(d + 1), jac=jacobian, **kw).x


def timed(fn, repeats):
    """(median seconds, last result) over ``repeats`` runs after a warm-up."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def distance(theta, reference):
    return float(np.max(np.abs(np.asarray(theta) - reference)))


def params(model):
    return np.r_[model.coef_, model.intercept_]


# -- the contenders -------------------------------------------------------------------
def neuron(loss, **kw):
    return SigmoidNeuronRegressor(loss=loss, target_scaling=None, random_state=0, **kw)


def gd_time_to_reach(X, y, loss, learnrate, cap, reference, repeats):
    """(seconds to within TARGET or None, epochs, distance at the cap, step)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        path_fit = neuron(loss, learnrate=learnrate, epochs=cap, store_path=True)
        start = time.perf_counter()
        path_fit.fit(X, y)
        seconds = time.perf_counter() - start
        thetas = np.column_stack([path_fit.coef_path_, path_fit.intercept_path_])
        gaps = np.abs(thetas - reference).max(axis=1)
        within = np.flatnonzero(gaps <= TARGET)
        if X.size < 1e6:  # small data: the path's per-epoch loop would count
            seconds, _ = timed(
                lambda: neuron(loss, learnrate=learnrate, epochs=cap).fit(X, y),
                repeats,
            )
    if not len(within):
        return None, cap, float(gaps[-1]), path_fit.learnrate_
    epochs = int(within[0]) + 1
    return seconds * epochs / cap, epochs, float(gaps[epochs - 1]), path_fit.learnrate_


def lbfgs_fit(X, y, loss, repeats):
    """(median seconds, fitted model, passes over the data)."""
    passes = []
    real = _lbfgs.scipy_minimize

    def counting(*args, **kwargs):
        result = real(*args, **kwargs)
        passes.append(result.nfev)
        return result

    _lbfgs.scipy_minimize = counting
    try:
        seconds, model = timed(lambda: neuron(loss, solver="lbfgs").fit(X, y), repeats)
    finally:
        _lbfgs.scipy_minimize = real
    return seconds, model, passes[-1]


def evaluation_vs_epoch(X, y, loss, repeats):
    """Seconds of one ``Kernel.sums()`` and of one epoch (``run(1)``), on the
    unit that fit picks."""
    kernel = _kernels.make_kernel(X, y[:, None], None, np.ones(1), loss=loss)
    kernel.set_params(np.zeros((1, X.shape[1])), np.zeros(1))
    n = max(1, min(200, int(2e8 // X.size)))
    with kernel:
        t_sums, _ = timed(lambda: [kernel.sums() for _ in range(n)], repeats)
        t_epoch, _ = timed(lambda: kernel.run(n), repeats)
    return t_sums / n, t_epoch / n, kernel.path


# -- machine and output ---------------------------------------------------------
# -- the run ------------------------------------------------------------------------
def run_case(label, make, cap_auto, cap_fixed, losses, repeats):
    print(f"\n{label}", flush=True)
    X, y = make()
    rows, ratios = [], {}
    big = X.size >= 5e7
    for loss in losses:
        t = y if loss == "log_loss" else (y - y.min()) / (y.max() - y.min())
        if loss == "log_loss" and big:
            # one IRLS fit takes two minutes here: the reference is the peer
            start = time.perf_counter()
            reference = peer = glm(X, t, 1e-12)
            peer_time = time.perf_counter() - start
            peer_name = "statsmodels GLM (IRLS), tol=1e-12, one run"
        elif loss == "log_loss":
            reference = glm(X, t, 1e-12)
            peer_name = "statsmodels GLM (IRLS)"
            peer_time, peer = timed(lambda: glm(X, t, 1e-8), repeats)  # noqa: B023
        else:
            reference = sigmoid_ls(X, t, 1e-15)
            peer_name = "scipy least_squares"
            peer_time, peer = timed(lambda: sigmoid_ls(X, t, None), repeats)  # noqa: B023
        entries = []
        seconds, epochs, gap, step = gd_time_to_reach(
            X, t, loss, "auto", cap_auto, reference, repeats
        )
        entries.append((f'"gd", learnrate="auto" ({step:.3g})', seconds, epochs, gap))
        best = None
        for rate in GRID:
            result = gd_time_to_reach(X, t, loss, rate, cap_fixed, reference, repeats)
            key = (result[0] is None, result[1], result[2])  # reached, epochs, gap
            if best is None or key < best[0]:
                best = (key, rate, result)
        rate, (seconds, epochs, gap, _) = best[1], best[2]
        entries.append((f'"gd", best fixed learnrate ({rate:g})', seconds, epochs, gap))
        lb_time, model, passes = lbfgs_fit(X, t, loss, repeats)
        lb_gap = distance(params(model), reference)
        lb_ok = lb_gap <= TARGET
        peer_gap = distance(peer, reference)
        for name, seconds, epochs, gap in entries:
            note = (
                f"{epochs} epochs"
                if seconds is not None
                else f"not reached in {epochs} epochs ({gap:.2g} away)"
            )
            rows.append([label, loss, name, fmt_time(seconds), note])
        rows.append(
            [
                label,
                loss,
                '"lbfgs"',
                fmt_time(lb_time if lb_ok else None),
                f"{model.n_iter_} iterations, {passes} passes, {lb_gap:.1e} away"
                + ("" if lb_ok else f" (not within {TARGET:g}; {fmt_time(lb_time)})"),
            ]
        )
        rows.append(
            [
                label,
                loss,
                peer_name,
                fmt_time(peer_time if peer_gap <= TARGET else None),
                (
                    "the reference"
                    if peer is reference
                    else f"defaults, {peer_gap:.1e} away"
                )
                + ("" if peer_gap <= TARGET else f" ({fmt_time(peer_time)})"),
            ]
        )
        # per evaluation: in the kernel, and per pass in a whole fit
        t_sums, t_epoch, path = evaluation_vs_epoch(X, t, loss, 1 if big else repeats)
        gd_epochs = cap_fixed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gd_fit, _ = timed(
                lambda: neuron(loss, learnrate=1.0, epochs=gd_epochs).fit(X, t),  # noqa: B023
                1 if big else repeats,
            )
        per_pass = lb_time / passes
        per_epoch = gd_fit / gd_epochs
        ratios[(label, loss)] = (t_sums, t_epoch, path, per_pass, per_epoch)
        ratios[(label, loss, "vs peer")] = (
            lb_time,
            peer_time,
            lb_ok,
            peer_gap <= TARGET,
        )
        for r in rows[-4:]:
            print("  " + " | ".join(r[1:]), flush=True)
        print(
            f"  {loss}: sums {fmt_time(t_sums)} vs epoch {fmt_time(t_epoch)} "
            f"({t_sums / t_epoch:.2f}x, {path} path); per pass in a fit "
            f"{fmt_time(per_pass)} vs per epoch {fmt_time(per_epoch)} "
            f"({per_pass / per_epoch:.2f}x); lbfgs / {peer_name} "
            f"{lb_time / peer_time:.2f}x",
            flush=True,
        )
    return rows, ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 1e6 x 100")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (3)")
    args = parser.parse_args()
    header = ["data", "loss", "solver", "time to 1e-6", "note"]
    rows, ratios = [], {}
    started = time.perf_counter()
    for label, make, cap_auto, cap_fixed, losses in cases(args.quick):
        repeats = 1 if label.startswith("synthetic 1,000,000") else args.repeats
        r, q = run_case(label, make, cap_auto, cap_fixed, losses, repeats)
        rows += r
        ratios.update(q)
    eval_header = [
        "data",
        "loss",
        "Kernel.sums()",
        "one epoch (run)",
        "ratio",
        "per pass in an lbfgs fit",
        "per epoch in a gd fit",
        "ratio",
        "lbfgs / peer (time to 1e-6)",
    ]
    eval_rows = []
    for key, value in ratios.items():
        if len(key) != 2:
            continue
        t_sums, t_epoch, path, per_pass, per_epoch = value
        lb_time, peer_time, lb_ok, peer_ok = ratios[(*key, "vs peer")]
        eval_rows.append(
            [
                key[0],
                key[1],
                fmt_time(t_sums),
                f"{fmt_time(t_epoch)} ({path})",
                f"{t_sums / t_epoch:.2f}x",
                fmt_time(per_pass),
                fmt_time(per_epoch),
                f"{per_pass / per_epoch:.2f}x",
                f"{lb_time / peer_time:.2f}x"
                + ("" if lb_ok else " (lbfgs not within 1e-6)")
                + ("" if peer_ok else " (peer not within 1e-6 with its defaults)"),
            ]
        )
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    print(md_table(eval_header, eval_rows))
    if args.quick:
        return
    today = datetime.date.today().isoformat()
    intro = (
        f"Generated by `python benchmarks/bench_solvers.py` on {today}. Machine: "
        f"{machine(versions('statsmodels'))}.\n\nTime for every coefficient and "
        "the intercept to come "
        f"within {TARGET:g} of the optimum (statsmodels' GLM or scipy's "
        "least_squares run to 1e-12 / 1e-15): medians of 3 runs after a warm-up "
        "(1 run on 1e6 x 100), whole fits (input validation included). "
        '"gd": the first epoch within 1e-6 on the recorded path, times the '
        "time per epoch of the fit (on star98, of a fit without the path, "
        "whose per-epoch loop would dominate); the best fixed learnrate "
        f"of {', '.join(map(str, GRID))}. The machine may be shared: rerun for "
        "figures to rely on."
    )
    md = [
        "# Time to the optimum: gradient descent, L-BFGS, statsmodels, scipy",
        "",
        intro,
        "",
        md_table(header, rows),
        "",
        "## One L-BFGS evaluation vs one epoch of the rule",
        "",
        "`Kernel.sums()` (objective and gradient, no step) against `run(1)` on "
        "the unit that fit picks; then a whole lbfgs fit's time per pass over "
        "the data against a gd fit's time per epoch (learnrate=1).",
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
        "One L-BFGS evaluation (``Kernel.sums()``) against one epoch of the rule "
        "(``run``), in the kernel and per pass in whole fits:",
        "",
        rst_table(eval_header, eval_rows),
        "",
    ]
    (RESULTS / "solvers.rst").write_text("\n".join(rst))
    print(f"wrote {RESULTS / 'solvers.md'} and solvers.rst")


if __name__ == "__main__":
    main()
