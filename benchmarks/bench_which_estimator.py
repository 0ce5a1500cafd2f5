"""Which estimator? The sigmoid neuron beside its peers on bundled real data.

Three cases, each with the models a user would weigh against one another,
every one behind a ``StandardScaler`` fitted on its training part:

- scikit-learn's diabetes (442 x 10, an unbounded target):
  ``SigmoidNeuronRegressor`` with ``solver="gd"`` (the default) and
  ``solver="lbfgs"``; ``Ridge``, ``LinearRegression``, statsmodels'
  ``GLM`` (Gaussian), ``MLPRegressor`` (100 hidden units, adam,
  ``early_stopping=True``, standardised target) and
  ``HistGradientBoostingRegressor`` (defaults);
- statsmodels' star98 (303 x 20, the share of students above the national
  median in each school district): the neuron with ``loss="log_loss"`` and
  ``target_scaling=None`` (gd; lbfgs; lbfgs weighted by the number of
  students), statsmodels' ``GLM`` (Binomial) on the shares and on the counts
  of successes and failures, and ``Ridge``;
- scikit-learn's breast_cancer (569 x 30, a 0/1 target): the neuron with
  ``loss="log_loss"``, ``target_scaling=None`` and ``alpha = 1/n`` (gd and
  lbfgs) against ``LogisticRegression(C=1)``, the same objective.

Held-out scores are the mean and standard deviation over 5 folds (shuffled;
stratified for the 0/1 target): R2, or ROC AUC and the log loss for the 0/1
target. Where two models minimise the same objective, the note gives the
largest difference of their held-out predictions over all folds. Fit times are the
median of ``--repeats`` fits on all the records after a warm-up fit, scaler
included, the models taking turns, on one thread (BLAS and OpenMP); the ratio
divides by the case's standard peer (Ridge, the Binomial GLM on counts,
LogisticRegression).

Run from the repository root::

    python benchmarks/bench_which_estimator.py           # about a minute
    python benchmarks/bench_which_estimator.py --quick   # 1 timed run; prints only

It writes ``benchmarks/results/which_estimator.md`` and ``which_estimator.rst``
(the table of the user guide's page "Which estimator?").
"""

import argparse
import datetime
import time
import warnings
from pathlib import Path

import numpy as np
from _report import fmt_ratio, fmt_time, machine, md_table, rst_table, versions
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_sigmoid_neuron import SigmoidNeuronRegressor

RESULTS = Path(__file__).parent / "results"

try:
    import statsmodels.api as sm
except ImportError:
    sm = None


# -- the contenders: fit(X, y, trials) -> a function of X that predicts -------
def sklearn_model(make, proba=False, weighted=False):
    """Fit ``make(n_samples)`` behind a StandardScaler; predict the mean (or
    the probability of class 1)."""

    def fit(X, y, trials):
        model = make_pipeline(StandardScaler(), make(len(y)))
        weights = {model.steps[-1][0] + "__sample_weight": trials} if weighted else {}
        model.fit(X, y, **weights)
        if proba:
            return lambda X_new: model.predict_proba(X_new)[:, 1]
        return model.predict

    return fit


def glm_model(family, counts=False):
    """statsmodels' GLM on standardised X; ``counts``: successes and failures."""

    def fit(X, y, trials):
        scaler = StandardScaler().fit(X)
        endog = np.column_stack([y * trials, (1 - y) * trials]) if counts else y
        exog = sm.add_constant(scaler.transform(X), has_constant="add")
        result = sm.GLM(endog, exog, family=family()).fit()
        return lambda X_new: result.predict(
            sm.add_constant(scaler.transform(X_new), has_constant="add")
        )

    return fit


def neuron(**params):
    return lambda n: SigmoidNeuronRegressor(random_state=0, **params)


# the neuron as a model of shares and probabilities: y itself is the target
LOGIT = dict(loss="log_loss", target_scaling=None)


def mlp(n):
    # adam with a held-out tenth to stop on; the target standardised, as the
    # network's initial weights and its default learning rate assume
    return TransformedTargetRegressor(
        MLPRegressor(early_stopping=True, max_iter=2000, random_state=0),
        transformer=StandardScaler(),
    )


# -- the cases ---------------------------------------------------------------------
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    models = {
        'SigmoidNeuronRegressor, "gd" (default)': sklearn_model(neuron()),
        'SigmoidNeuronRegressor, "lbfgs"': sklearn_model(neuron(solver="lbfgs")),
        "Ridge (alpha=1)": sklearn_model(lambda n: Ridge()),
        "LinearRegression": sklearn_model(lambda n: LinearRegression()),
    }
    if sm is not None:
        models["statsmodels GLM, Gaussian"] = glm_model(sm.families.Gaussian)
    models["MLPRegressor (early stopping)"] = sklearn_model(mlp)
    models["HistGradientBoostingRegressor"] = sklearn_model(
        lambda n: HistGradientBoostingRegressor(random_state=0)
    )
    agree = {"statsmodels GLM, Gaussian": "LinearRegression"}
    return dict(
        label="diabetes (442 x 10)",
        X=X,
        y=y,
        trials=None,
        models=models,
        peer="Ridge (alpha=1)",
        agree=agree,
        scores={"R2": r2_score},
        folds=KFold(5, shuffle=True, random_state=0),
    )


def star98():
    data = sm.datasets.star98.load_pandas()
    above = data.endog["NABOVE"].to_numpy()
    trials = above + data.endog["NBELOW"].to_numpy()
    binomial = sm.families.Binomial
    lbfgs = neuron(solver="lbfgs", **LOGIT)
    models = {
        'SigmoidNeuronRegressor, log_loss, "gd"': sklearn_model(neuron(**LOGIT)),
        'SigmoidNeuronRegressor, log_loss, "lbfgs"': sklearn_model(lbfgs),
        'SigmoidNeuronRegressor, log_loss, "lbfgs", weights = students': (
            sklearn_model(lbfgs, weighted=True)
        ),
        "statsmodels GLM, Binomial, shares": glm_model(binomial),
        "statsmodels GLM, Binomial, counts": glm_model(binomial, counts=True),
        "Ridge (alpha=1)": sklearn_model(lambda n: Ridge()),
    }
    agree = {
        'SigmoidNeuronRegressor, log_loss, "gd"': "statsmodels GLM, Binomial, shares",
        'SigmoidNeuronRegressor, log_loss, "lbfgs"': (
            "statsmodels GLM, Binomial, shares"
        ),
        'SigmoidNeuronRegressor, log_loss, "lbfgs", weights = students': (
            "statsmodels GLM, Binomial, counts"
        ),
    }
    return dict(
        label="star98 (303 x 20, shares)",
        X=data.exog.to_numpy(dtype=float),
        y=above / trials,
        trials=trials,
        models=models,
        peer="statsmodels GLM, Binomial, counts",
        agree=agree,
        scores={"R2": r2_score},
        folds=KFold(5, shuffle=True, random_state=0),
    )


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    # LogisticRegression minimises C * sum(loss) + |w|^2 / 2, the neuron
    # mean(loss) + alpha/2 |w|^2: the same for alpha = 1 / (C * n)
    models = {
        'SigmoidNeuronRegressor, log_loss, "gd", alpha=1/n': sklearn_model(
            lambda n: SigmoidNeuronRegressor(alpha=1 / n, random_state=0, **LOGIT)
        ),
        'SigmoidNeuronRegressor, log_loss, "lbfgs", alpha=1/n': sklearn_model(
            lambda n: SigmoidNeuronRegressor(
                solver="lbfgs", alpha=1 / n, random_state=0, **LOGIT
            )
        ),
        "LogisticRegression (C=1)": sklearn_model(
            lambda n: LogisticRegression(), proba=True
        ),
        # the optimum: its default tol=1e-4 stops short of it
        "LogisticRegression (C=1, tol=1e-12)": sklearn_model(
            lambda n: LogisticRegression(tol=1e-12, max_iter=10_000), proba=True
        ),
    }
    optimum = "LogisticRegression (C=1, tol=1e-12)"
    agree = {name: optimum for name in models if name != optimum}
    return dict(
        label="breast_cancer (569 x 30, 0/1)",
        X=X,
        y=y.astype(float),
        trials=None,
        models=models,
        peer="LogisticRegression (C=1)",
        agree=agree,
        scores={"ROC AUC": roc_auc_score, "log loss": log_loss},
        folds=StratifiedKFold(5, shuffle=True, random_state=0),
    )


# -- the run -----------------------------------------------------------------------
def fit_quietly(fit, X, y, trials):
    """(predict, names of the warnings the fit raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predict = fit(X, y, trials)
    return predict, {type(w.message).__name__ for w in caught}


def held_out(case):
    """Per model: the scores of each fold, the held-out predictions, warnings."""
    X, y, trials = case["X"], case["y"], case["trials"]
    out = {name: ([], np.empty_like(y), set()) for name in case["models"]}
    for train, test in case["folds"].split(X, y):
        part = None if trials is None else trials[train]
        for name, fit in case["models"].items():
            predict, warned = fit_quietly(fit, X[train], y[train], part)
            predicted = predict(X[test])
            scores, predictions, warnings_seen = out[name]
            scores.append([s(y[test], predicted) for s in case["scores"].values()])
            predictions[test] = predicted
            warnings_seen |= warned
    return out


def fit_times(models, X, y, trials, repeats):
    """Per model, the median time of ``repeats`` fits after a warm-up fit.

    The models take turns, one fit each per round, so that a change in the
    machine's load (a shared machine) falls on all of them alike.
    """
    times = {name: [] for name in models}
    for fit in models.values():
        fit_quietly(fit, X, y, trials)  # warm-up
    for _ in range(repeats):
        for name, fit in models.items():
            start = time.perf_counter()
            fit_quietly(fit, X, y, trials)
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def run_case(case, repeats):
    print(f"\n{case['label']}", flush=True)
    scored = held_out(case)
    times = fit_times(case["models"], case["X"], case["y"], case["trials"], repeats)
    rows = []
    for name in case["models"]:
        scores, predictions, warned = scored[name]
        scores = np.asarray(scores)
        cells = [
            f"{m:.4f} ± {s:.4f}"
            for m, s in zip(scores.mean(axis=0), scores.std(axis=0), strict=True)
        ]
        notes = []
        if name in case["agree"]:
            other = case["agree"][name]
            gap = np.abs(predictions - scored[other][1]).max()
            notes.append(f"differs from {other} by at most {gap:.1e}")
        if warned:
            notes.append("warned: " + ", ".join(sorted(warned)))
        rows.append(
            [
                case["label"],
                name,
                " / ".join(cells),
                fmt_time(times[name]),
                fmt_ratio(times[name], times[case["peer"]]),
                "; ".join(notes),
            ]
        )
        print("  " + " | ".join(rows[-1][1:]), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run; prints only")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs (15)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    cases = [diabetes()]
    if sm is None:
        print("statsmodels is not installed: star98 and the GLMs are skipped")
    else:
        cases.append(star98())
    cases.append(breast_cancer())
    header = [
        "data",
        "model",
        "held-out score, 5 folds (mean ± sd)",
        "fit time",
        "vs peer",
        "note",
    ]
    started = time.perf_counter()
    # one thread for BLAS and OpenMP: on data this small threads add only
    # overhead, and a thread waiting for a busy core (a shared machine)
    # can cost more than the whole fit
    with threadpool_limits(1):
        rows = [row for case in cases for row in run_case(case, repeats)]
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    if args.quick:
        return
    today = datetime.date.today().isoformat()
    peers = "; ".join(f"{c['label']}: {c['peer']}" for c in cases)
    intro = (
        f"Generated by `python benchmarks/bench_which_estimator.py` on {today}. "
        f"Machine: {machine(versions('statsmodels'))}.\n\n"
        "Every model behind a `StandardScaler` fitted on its training part. "
        "Held-out score: mean ± standard deviation over 5 shuffled folds "
        "(stratified for the 0/1 target) of R2, or of ROC AUC / log loss. "
        "Fit time: median of "
        f"{repeats} fits on all the records after a warm-up fit (scaler "
        "included; the models take turns, one fit each per round), on one "
        "thread (BLAS and OpenMP limited with threadpoolctl; on data this "
        "small, threads add only overhead); 'vs peer' divides "
        f"by the standard peer ({peers}). "
        "'differs from ... by at most' is the largest difference of the two "
        "models' held-out predictions over all folds (the same objective; each "
        'with its default tolerance, or epochs for "gd"). '
        "The machine may be shared: rerun for figures to rely on."
    )
    md = [
        "# Which estimator? The sigmoid neuron beside its peers",
        "",
        intro,
        "",
        md_table(header, rows),
        "",
    ]
    (RESULTS / "which_estimator.md").write_text("\n".join(md))
    rst = [intro.replace("`", "``"), "", rst_table(header, rows), ""]
    (RESULTS / "which_estimator.rst").write_text("\n".join(rst))
    print(f"wrote {RESULTS / 'which_estimator.md'} and which_estimator.rst")


if __name__ == "__main__":
    main()
