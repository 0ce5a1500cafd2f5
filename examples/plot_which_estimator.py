"""
=========================================
Which estimator? One neuron and its peers
=========================================

A single sigmoid neuron is a linear model seen through the logistic
function. This example sets :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor`
beside the estimators a user would otherwise reach for, on three data sets
that ship with scikit-learn and statsmodels, and reports held-out scores and
fit times:

- an unbounded target (diabetes): linear models, a neural network and
  gradient boosting;
- shares in [0, 1] (statsmodels' star98): the Binomial GLM;
- a 0/1 target (breast cancer): :class:`~sklearn.linear_model.LogisticRegression`,
  whose model ``loss="log_loss"`` fits exactly.

Every model sees standardised features (a
:class:`~sklearn.preprocessing.StandardScaler` fitted on the training part).
The times are of one fit each on a small data set, so they mostly measure
overhead; ``benchmarks/bench_which_estimator.py`` repeats the comparison
over 5 folds with medians of repeated fits.
"""

# %%
# Fitting and timing
# ------------------
# Each model is fitted once on the training part, on one thread, and scored
# on the test part. The first fit of a process also loads the compiled epoch
# kernel (with numba installed) and the solver's modules, so warm-up fits
# come first.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sk_sigmoid_neuron import SigmoidNeuronRegressor

X, y = load_diabetes(return_X_y=True)
for solver in ("gd", "lbfgs"):  # warm-up
    SigmoidNeuronRegressor(solver=solver, random_state=0).fit(X, y)


def timed(fit, *args, **kwargs):
    """``fit(*args, **kwargs)`` and its time in seconds, on one thread: on
    data this small, BLAS and OpenMP threads add only overhead."""
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        result = fit(*args, **kwargs)
        return result, time.perf_counter() - start


def report(title, results):
    print(title)
    for name, (score, seconds) in results.items():
        print(f"  {name:<52} {score:.4f}   {seconds * 1e3:7.1f} ms")


# %%
# An unbounded target: diabetes
# -----------------------------
# Disease progression one year on, for 442 patients, from 10 measurements.
# Nothing bounds the target, and its relation to the features is close to
# linear. The neuron maps the training range of ``y`` onto the sigmoid's
# (``target_scaling="minmax"``); ``solver="gd"`` runs the delta rule for
# 1000 epochs, ``solver="lbfgs"`` goes to the optimum of the same objective.
# The MLP stops on a held-out tenth of its training part and learns a
# standardised target.
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
diabetes_models = {
    'SigmoidNeuronRegressor, "gd"': SigmoidNeuronRegressor(random_state=0),
    'SigmoidNeuronRegressor, "lbfgs"': SigmoidNeuronRegressor(
        solver="lbfgs", random_state=0
    ),
    "Ridge": Ridge(),
    "LinearRegression": LinearRegression(),
    "MLPRegressor": TransformedTargetRegressor(
        MLPRegressor(early_stopping=True, max_iter=2000, random_state=0),
        transformer=StandardScaler(),
    ),
    "HistGradientBoostingRegressor": HistGradientBoostingRegressor(random_state=0),
}
diabetes = {}
for name, model in diabetes_models.items():
    model = make_pipeline(StandardScaler(), model)
    _, seconds = timed(model.fit, X_train, y_train)
    diabetes[name] = (model.score(X_test, y_test), seconds)

try:
    import statsmodels.api as sm
except ImportError:
    sm = None
    print("statsmodels is not installed: its GLMs and star98 are skipped")

if sm is not None:
    # statsmodels' Gaussian GLM is ordinary least squares
    scaler = StandardScaler().fit(X_train)
    glm, seconds = timed(
        sm.GLM(y_train, sm.add_constant(scaler.transform(X_train))).fit
    )
    predicted = glm.predict(sm.add_constant(scaler.transform(X_test)))
    diabetes["statsmodels GLM, Gaussian"] = (r2_score(y_test, predicted), seconds)
report("diabetes: held-out R2, fit time", diabetes)

# %%
# The neuron scores with the linear models, not above them: on an unbounded,
# nearly linear target the sigmoid adds nothing that a line lacks, and
# Ridge fits in a fraction of the time. The MLP, stopped early, matches the
# linear models at many times their cost; gradient boosting falls well
# behind. Both can learn structure that no linear score holds, but 331
# training records of a nearly linear signal hold little of it.
#
# Shares in [0, 1]: star98
# ------------------------
# For 303 California school districts, the number of students above and
# below the national median in maths, and 20 covariates. The target is the
# share above, a proportion. ``loss="log_loss"`` with ``target_scaling=None``
# fits the fractional logit, the Binomial GLM on the shares; weighted by the
# number of students, it is the Binomial GLM on the counts of successes and
# failures.
if sm is not None:
    data = sm.datasets.star98.load_pandas()
    above = data.endog["NABOVE"].to_numpy()
    students = above + data.endog["NBELOW"].to_numpy()
    X98 = data.exog.to_numpy(dtype=float)
    X_train, X_test, y_train, y_test, n_train, _ = train_test_split(
        X98, above / students, students, random_state=0
    )
    logit = dict(loss="log_loss", target_scaling=None, random_state=0)

    star98, predictions = {}, {}
    for name, model, weights in [
        (
            'SigmoidNeuronRegressor, log_loss, "gd"',
            SigmoidNeuronRegressor(**logit),
            None,
        ),
        (
            'SigmoidNeuronRegressor, log_loss, "lbfgs"',
            SigmoidNeuronRegressor(solver="lbfgs", **logit),
            None,
        ),
        (
            'SigmoidNeuronRegressor, log_loss, "lbfgs", weighted',
            SigmoidNeuronRegressor(solver="lbfgs", **logit),
            n_train,
        ),
        ("Ridge", Ridge(), None),
    ]:
        model = make_pipeline(StandardScaler(), model)
        fit_params = (
            {} if weights is None else {model.steps[-1][0] + "__sample_weight": weights}
        )
        _, seconds = timed(model.fit, X_train, y_train, **fit_params)
        predictions[name] = model.predict(X_test)
        star98[name] = (r2_score(y_test, predictions[name]), seconds)

    scaler = StandardScaler().fit(X_train)
    exog_train = sm.add_constant(scaler.transform(X_train))
    exog_test = sm.add_constant(scaler.transform(X_test))
    successes = y_train * n_train
    for name, endog in [
        ("statsmodels GLM, Binomial, shares", y_train),
        ("statsmodels GLM, Binomial, counts", np.c_[successes, n_train - successes]),
    ]:
        glm = sm.GLM(endog, exog_train, family=sm.families.Binomial())
        glm, seconds = timed(glm.fit)
        predictions[name] = glm.predict(exog_test)
        star98[name] = (r2_score(y_test, predictions[name]), seconds)
    report("star98: held-out R2, fit time", star98)

    for ours, theirs in [
        (
            'SigmoidNeuronRegressor, log_loss, "lbfgs"',
            "statsmodels GLM, Binomial, shares",
        ),
        (
            'SigmoidNeuronRegressor, log_loss, "lbfgs", weighted',
            "statsmodels GLM, Binomial, counts",
        ),
    ]:
        gap = np.abs(predictions[ours] - predictions[theirs]).max()
        print(f"{ours} vs {theirs}: held-out shares agree to {gap:.1e}")
    low, high = predictions["Ridge"].min(), predictions["Ridge"].max()
    print(f"Ridge's held-out predictions lie in [{low:.3f}, {high:.3f}]")

# %%
# With ``solver="lbfgs"`` the neuron is the Binomial GLM, to the solvers'
# tolerance. The models' held-out R2 differ little, and less than they vary
# from one split to another (the benchmark's folds): Ridge's
# predictions happen to stay inside [0, 1] on these districts, and
# ``"gd"``'s 1000 epochs stop short of the optimum on these correlated
# covariates, which regularises a little, as early stopping does. What the
# neuron offers on shares is the model itself: predictions that cannot leave
# [0, 1], coefficients that are log odds ratios, and with
# ``compute_inference=True`` their robust standard errors.
#
# A 0/1 target: breast cancer
# ---------------------------
# Malignant or benign, from 30 measurements of 569 tumours. On 0/1 targets,
# ``loss="log_loss"`` minimises the mean Bernoulli log loss of the logistic
# model, plus ``alpha/2 ||w||^2``: logistic regression.
# :class:`~sklearn.linear_model.LogisticRegression` minimises ``C`` times
# the summed log loss plus ``||w||^2 / 2``; divide by ``C * n``, and the two
# are the same objective for ``alpha = 1 / (C * n)``.
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
alpha = 1 / (1.0 * len(y_train))  # LogisticRegression's default C=1
neuron = make_pipeline(
    StandardScaler(),
    SigmoidNeuronRegressor(
        loss="log_loss",
        target_scaling=None,
        solver="lbfgs",
        alpha=alpha,
        random_state=0,
    ),
)
logreg = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
cancer = {}
for name, model, proba in [
    ('SigmoidNeuronRegressor, log_loss, "lbfgs"', neuron, False),
    ("LogisticRegression", logreg, True),
]:
    _, seconds = timed(model.fit, X_train, y_train)
    p = model.predict_proba(X_test)[:, 1] if proba else model.predict(X_test)
    cancer[name] = (roc_auc_score(y_test, p), seconds)
report("breast cancer: held-out ROC AUC, fit time", cancer)

# LogisticRegression stops at tol=1e-4 by default, short of the optimum; run
# to the optimum, it gives the neuron's probabilities
tight = make_pipeline(
    StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000)
).fit(X_train, y_train)
gap = np.abs(neuron.predict(X_test) - tight.predict_proba(X_test)[:, 1]).max()
print(f"held-out probabilities, neuron vs LogisticRegression(tol=1e-12): {gap:.1e}")

# %%
# The same AUC and the same probabilities: for classification, use
# :class:`~sklearn.linear_model.LogisticRegression`, a classifier with
# ``predict_proba``, ``classes_``, class weights and several classes.
#
# The scores side by side
# -----------------------
# Each bar is a model's held-out score; the label gives its fit time.
panels = [("diabetes: R2", diabetes), ("breast cancer: ROC AUC", cancer)]
if sm is not None:
    panels.insert(1, ("star98: R2", star98))
fig, axes = plt.subplots(
    len(panels),
    1,
    figsize=(8, 8),
    layout="constrained",
    height_ratios=[len(results) for _, results in panels],
)
for ax, (title, results) in zip(axes, panels, strict=True):
    names = list(results)[::-1]
    scores = [results[name][0] for name in names]
    colors = ["tab:blue" if "Sigmoid" in name else "tab:gray" for name in names]
    bars = ax.barh(names, scores, color=colors)
    labels = [
        f"{results[name][0]:.3f}, {results[name][1] * 1e3:.0f} ms" for name in names
    ]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    ax.set_xlim(0, 1.4)  # room for the labels
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_title(title, loc="left")
    ax.tick_params(axis="y", labelsize=8)
fig.suptitle("Held-out scores (blue: the sigmoid neuron)")
plt.show()

# %%
# When to use which
# -----------------
# The neuron is the right tool for bounded targets and proportions (a model
# whose predictions stay in range, with the GLM's coefficients), for
# coefficients with standard errors (``solver="lbfgs"``,
# ``compute_inference=True``), and for the delta rule itself (teaching,
# ``partial_fit`` on a stream). For an unbounded target, Ridge does as well,
# faster; for nonlinear structure, gradient boosting or an MLP; for
# classification, LogisticRegression. The user guide's page
# :ref:`which_estimator` says more.
