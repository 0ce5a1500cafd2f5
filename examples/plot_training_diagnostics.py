"""
=====================================
When training goes wrong: diagnostics
=====================================

A finished fit of :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` checks
what happened on the way, and when something went wrong it says so with a
:class:`~sk_sigmoid_neuron.TrainingWarning` (a scikit-learn
:class:`~sklearn.exceptions.ConvergenceWarning`) that names the cause, the
value seen and the fix. A loss that explodes is an error instead. This example
provokes each diagnostic on scikit-learn's diabetes data, prints the message
as a user sees it, and draws the fit before and after the fix. The user guide
page :ref:`diagnostics` explains each one.
"""

# %%
# Printing what a fit says
# ------------------------
# ``fit_and_report`` fits a model and prints every warning the fit raised (or
# the error it raised), so that the messages show here. In your own code they
# appear on stderr; ``warnings.simplefilter("error", TrainingWarning)`` turns
# them into errors.
import textwrap
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.metrics import PredictionErrorDisplay
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from sk_sigmoid_neuron import (
    LossCurveDisplay,
    SigmoidNeuronRegressor,
    SigmoidNeuronRegressorCV,
)


def show(kind, message):
    print(textwrap.fill(f"{kind}: {message}", 88, subsequent_indent="    "))


def fit_and_report(model, X, y):
    """Fit ``model``; print its warnings, or its error (and return None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y)
        except ValueError as error:
            show("ValueError", error)
            model = None
    for warning in caught:
        show(warning.category.__name__, warning.message)
    if not caught and model is not None:
        print("no warning")
    return model


X_raw, y = load_diabetes(return_X_y=True, scaled=False)  # the measured values
X = StandardScaler().fit_transform(X_raw)

# %%
# .. _diagnostics_saturated:
#
# A saturated start: X not standardised
# -------------------------------------
# The raw diabetes features are ages, blood pressures and serum levels, up to
# about 300. With the random start the neuron's input :math:`h = x \cdot w + b`
# is in the tens or hundreds, where the sigmoid is flat: the error term
# :math:`(t - \hat y)\,\hat y (1 - \hat y)` vanishes for every record, and the
# weights do not move.
raw = fit_and_report(SigmoidNeuronRegressor(random_state=0), X_raw, y)

# %%
# The fix is to standardise X, in a pipeline so that new data are scaled the
# same way:
scaled = fit_and_report(
    make_pipeline(StandardScaler(), SigmoidNeuronRegressor(random_state=0)), X_raw, y
)
print(
    f"R2 on the training data: raw X {raw.score(X_raw, y):.3f}, "
    f"standardised X {scaled.score(X_raw, y):.3f}"
)

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
LossCurveDisplay.from_estimator(raw, ax=ax, name="raw X (saturated)")
LossCurveDisplay.from_estimator(scaled, ax=ax, name="StandardScaler + neuron")
ax.set_yscale("log")
ax.set_title("A saturated start: the loss does not move")
plt.show()

# %%
# .. _diagnostics_saturated_log_loss:
#
# The same start under the log loss
# ---------------------------------
# The log loss's error term :math:`t - \hat y` has no :math:`\hat y (1 - \hat
# y)` factor: it does not vanish on the sigmoid's flat tails. But on raw X the
# step that cannot diverge is set by the largest features, far too short for
# the rest, and after 1000 epochs the fit is still worse than predicting the
# targets' mean. The warning compares the two losses.
raw_log = fit_and_report(
    SigmoidNeuronRegressor(loss="log_loss", random_state=0), X_raw, y
)
scaled_log = fit_and_report(
    make_pipeline(
        StandardScaler(), SigmoidNeuronRegressor(loss="log_loss", random_state=0)
    ),
    X_raw,
    y,
)
print(
    f"R2 on the training data: raw X {raw_log.score(X_raw, y):.3f}, "
    f"standardised X {scaled_log.score(X_raw, y):.3f}"
)

# %%
# .. _diagnostics_rose:
#
# A loss that rose: the learning rate is too large
# ------------------------------------------------
# On standardised data a fixed ``learnrate=30`` overshoots the minimum: the
# loss falls, then oscillates and ends well above its lowest value.
too_large = fit_and_report(
    SigmoidNeuronRegressor(learnrate=30.0, epochs=300, random_state=0), X, y
)

# %%
# The default ``learnrate="auto"`` takes the step :math:`1/L` from a bound
# :math:`L` on the loss's curvature on this data, which cannot increase the
# loss:
auto = fit_and_report(SigmoidNeuronRegressor(epochs=300, random_state=0), X, y)
print(f"learnrate_ = {auto.learnrate_:.3g}")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
LossCurveDisplay.from_estimator(too_large, ax=ax, name="learnrate=30")
LossCurveDisplay.from_estimator(
    auto, ax=ax, name=f"learnrate='auto' (step {auto.learnrate_:.2g})"
)
ax.set_yscale("log")
ax.set_title("A learning rate too large: the loss oscillates and rises")
plt.show()

# %%
# .. _diagnostics_diverged:
#
# A loss that exploded: an error, even with ``tol``
# -------------------------------------------------
# With an L2 penalty each epoch multiplies the weights by
# :math:`1 - \eta\alpha` before the step; with ``learnrate * alpha`` above 2
# that factor is below -1 and the weights grow without bound. A loss that
# reaches a million times its start (or a non-finite one) ends the fit with a
# ``ValueError``, whatever ``tol`` and ``early_stopping`` say, and leaves a
# fitted model unchanged.
fit_and_report(
    SigmoidNeuronRegressor(learnrate=5.0, alpha=1.0, tol=1e-4, random_state=0), X, y
)

# %%
# The fit keeps no loss curve of a failed fit, so the figure follows the same
# steps with :meth:`~sk_sigmoid_neuron.SigmoidNeuronRegressor.partial_fit`,
# one epoch per call, which records the loss at the start of each step. With
# ``learnrate="auto"`` the bound includes ``alpha`` and the step is safe.
stepwise = SigmoidNeuronRegressor(learnrate=5.0, alpha=1.0, random_state=0)
for _ in range(8):
    stepwise.partial_fit(X, y)
penalised = fit_and_report(
    SigmoidNeuronRegressor(alpha=1.0, tol=1e-4, random_state=0), X, y
)
print(f"learnrate_ = {penalised.learnrate_:.3g}, {penalised.n_iter_} epochs")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
epochs = np.arange(1, len(stepwise.loss_curve_) + 1)
ax.plot(epochs, stepwise.loss_curve_, "o-", color="tab:red", label="learnrate=5")
ax.plot(
    np.arange(1, penalised.n_iter_ + 1),
    penalised.loss_curve_,
    color="tab:blue",
    label=f"learnrate='auto' (step {penalised.learnrate_:.2g})",
)
ax.axhline(
    1e6 * stepwise.loss_curve_[0], color="0.4", linestyle=":", label="1e6 x start"
)
ax.set(
    xscale="log",
    yscale="log",
    xlabel="epoch",
    ylabel="training loss (with the penalty)",
    title="alpha=1: learnrate * alpha > 2 explodes",
)
ax.legend()
plt.show()

# %%
# .. _diagnostics_collapsed:
#
# Collapsed predictions: a penalty that leaves nothing
# ----------------------------------------------------
# ``alpha=100`` is hundreds of times the loss's curvature along the weights,
# and pulls them so close to 0 that every record gets nearly the same
# prediction, while the targets vary. The warning names alpha, and that
# curvature as the scale of an alpha that shrinks without collapsing.
collapsed = fit_and_report(SigmoidNeuronRegressor(alpha=100.0, random_state=0), X, y)

# %%
# A penalty on the scale of the data (choose it by cross-validation, as for
# ridge regression) keeps the predictions apart:
mild = fit_and_report(SigmoidNeuronRegressor(alpha=0.01, random_state=0), X, y)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained", sharey=True)
for ax, (name, model) in zip(
    axes, [("alpha=100", collapsed), ("alpha=0.01", mild)], strict=True
):
    PredictionErrorDisplay.from_estimator(
        model, X, y, kind="actual_vs_predicted", ax=ax
    )
    ax.set_title(f"{name}: R2 = {model.score(X, y):.3f}")
plt.show()

# %%
# .. _diagnostics_squashed:
#
# Targets squashed by a value far from the others
# -----------------------------------------------
# ``target_scaling="minmax"``, the default, maps the smallest and the largest
# y to the sigmoid's 0 and 1. One value far from the others, here a mistyped
# ``1e6`` among values from 25 to 346, puts all the others within 0.03% of
# that range: targets the neuron cannot tell apart, and predictions far off.
y_far = y.copy()
y_far[0] = 1e6
far = fit_and_report(SigmoidNeuronRegressor(random_state=0), X, y_far)

# %%
# Dropping the value fixes it, as does a robust transform of y, which keeps
# every record (here scikit-learn's ``QuantileTransformer`` through a
# ``TransformedTargetRegressor``):
others = np.arange(len(y)) != 0
dropped = fit_and_report(
    SigmoidNeuronRegressor(random_state=0), X[others], y_far[others]
)
robust = fit_and_report(
    TransformedTargetRegressor(
        SigmoidNeuronRegressor(random_state=0),
        transformer=QuantileTransformer(n_quantiles=100),
    ),
    X,
    y_far,
)

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for name, model in [("y[0] = 1e6, minmax", far), ("QuantileTransformer", robust)]:
    r2 = model.score(X[others], y[others])
    ax.plot(y[others], model.predict(X[others]), ".", label=f"{name}: R2 {r2:.3g}")
ax.plot([25, 350], [25, 350], "k--", label="predicted = actual")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="actual y (the other 441 records)",
    ylabel="predicted y",
    title="One far target under minmax: the others predicted far off",
)
ax.legend()
plt.show()

# %%
# .. _diagnostics_cv:
#
# A candidate that fails in a search
# ----------------------------------
# :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressorCV` fails like
# :class:`~sklearn.model_selection.GridSearchCV`: a fit that diverges scores
# ``error_score`` (NaN by default) on its split, with a
# :class:`~sklearn.exceptions.FitFailedWarning` that says why, and the search
# goes on. Here ``alpha=0.1`` and ``learnrate=30`` give ``learnrate * alpha``
# = 3.
learnrates = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
search_epochs = [100, 300, 1000]
search = fit_and_report(
    SigmoidNeuronRegressorCV(learnrates, search_epochs, alpha=0.1, random_state=0),
    X,
    y,
)
print("best:", search.best_params_)

# %%
# ``error_score="raise"`` stops the search at the first failure with the
# fit's own error instead. The fix is a grid of learning rates that the
# penalty allows (``learnrate * alpha`` below 2), or a single fit with
# ``learnrate="auto"``.
fit_and_report(
    SigmoidNeuronRegressorCV(
        learnrates, search_epochs, alpha=0.1, error_score="raise", random_state=0
    ),
    X,
    y,
)
allowed = fit_and_report(
    SigmoidNeuronRegressorCV(learnrates[:-1], search_epochs, alpha=0.1, random_state=0),
    X,
    y,
)
print("best:", allowed.best_params_)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained", sharey=True)
for ax, (name, cv_model) in zip(
    axes, [("learnrates up to 30", search), ("up to 10", allowed)], strict=True
):
    rates = np.array(cv_model.learnrates, dtype=float)
    scores = cv_model.cv_results_["mean_test_score"].reshape(len(search_epochs), -1)
    for count, row in zip(search_epochs, scores, strict=True):
        ax.plot(rates, row, "o-", label=f"epochs={count}")
    failed = rates[np.isnan(scores).any(axis=0)]
    if len(failed):
        ax.plot(
            failed,
            np.zeros_like(failed),
            "X",
            color="tab:red",
            markersize=12,
            label="failed: error_score=nan",
        )
    ax.set(xscale="log", xlabel="learnrate", title=f"alpha=0.1, {name}")
    ax.legend(loc="lower left")
axes[0].set_ylabel("mean validation R2 (5 folds)")
plt.show()

# %%
# .. _diagnostics_tol:
#
# ``tol`` is relative
# -------------------
# ``tol`` compares an epoch's gain with the best loss so far: the fit stops
# when the loss has not improved by more than ``tol`` times its best value for
# ``n_iter_no_change`` epochs. The squared error on the targets scaled to
# [0, 1] is about 0.01 to 0.05, so ``tol=1e-4`` stops when an epoch gains less
# than about 1e-6 in absolute terms. When ``epochs`` run out first, a
# ``ConvergenceWarning`` says so.
short = fit_and_report(SigmoidNeuronRegressor(tol=1e-6, random_state=0), X, y)

# %%
# More epochs let the same ``tol`` stop the fit on its own. Each tolerance
# stops the one descent at its own epoch:
long = fit_and_report(
    SigmoidNeuronRegressor(epochs=5000, tol=1e-6, random_state=0), X, y
)
stops = {}
for tol in (1e-2, 1e-3, 1e-4, 1e-5):
    model = SigmoidNeuronRegressor(epochs=5000, tol=tol, random_state=0).fit(X, y)
    stops[tol] = model.n_iter_
    print(
        f"tol={tol:g}: stopped after {model.n_iter_} epochs, "
        f"loss {model.loss_curve_[-1]:.5f}"
    )

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
LossCurveDisplay.from_estimator(long, ax=ax, name="epochs=5000, tol=1e-6")
for tol, n_iter in stops.items():
    ax.plot(n_iter, long.loss_curve_[n_iter - 1], "o", label=f"stops at tol={tol:g}")
ax.axvline(
    short.n_iter_, color="0.5", linestyle=":", label="epochs=1000: ConvergenceWarning"
)
ax.set(xscale="log", yscale="log", title="Where each relative tol stops")
ax.legend()
plt.show()
