"""
==============================================
Choosing the learning rate by cross-validation
==============================================

``learnrate`` is a hyper-parameter like any other, so scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV` can choose it. This example
searches a logarithmic grid of learning rates for a
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` at a fixed number of
epochs, and plots the cross-validated R2 against the learning rate.
"""

# %%
# The search
# ----------
# The scaler sits in the pipeline, so each fold standardises with its own
# training part. The grid spans four orders of magnitude, evenly on a log
# scale. (Without a ``learnrate`` the neuron would take its default,
# ``"auto"``, a step computed from the data; here the rate is what is
# searched.) The largest rates make the loss oscillate, and each such fit
# says so with a :class:`~sk_sigmoid_neuron.TrainingWarning`; the search is
# meant to try them, so the warnings are recorded and summed up below.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, TrainingWarning

X, y = load_diabetes(return_X_y=True)
model = make_pipeline(
    StandardScaler(), SigmoidNeuronRegressor(epochs=300, random_state=0)
)
learnrates = np.logspace(-2, 2, 17).tolist()  # floats, printed plainly
search = GridSearchCV(
    model,
    {"sigmoidneuronregressor__learnrate": learnrates},
    cv=KFold(5, shuffle=True, random_state=0),
    return_train_score=True,
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", TrainingWarning)
    search.fit(X, y)
print(f"{len(caught)} of the {5 * len(learnrates)} fits warned, for example:")
print(f"  TrainingWarning: {caught[0].message}")

best = search.best_params_["sigmoidneuronregressor__learnrate"]
print(f"best learnrate: {best:.3g}, cross-validated R2 {search.best_score_:.3f}")

# %%
# Score against learning rate
# ---------------------------
# Below about 0.1, 300 epochs are too few steps of too small a size: the
# model has not finished learning, and both scores are low. From about 1 to
# 10 the descent converges within the epochs and the score plateaus. Beyond
# that the steps overshoot and the fit oscillates (see
# :ref:`sphx_glr_auto_examples_plot_learning_rates.py`): the scores collapse,
# below the bottom of the chart for the largest rates. The band is one
# standard deviation over the 5 folds.
results = search.cv_results_
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for kind, color in [("test", "tab:blue"), ("train", "tab:gray")]:
    mean = results[f"mean_{kind}_score"]
    std = results[f"std_{kind}_score"]
    label = "cross-validated R2" if kind == "test" else "training R2"
    ax.plot(learnrates, mean, "o-", color=color, label=label)
    ax.fill_between(learnrates, mean - std, mean + std, color=color, alpha=0.2)
ax.axvline(best, color="tab:green", linestyle="--", label=f"best: {best:.3g}")
ax.set_xscale("log")
ax.set_ylim(-0.5, 0.7)
ax.set(
    xlabel="learnrate",
    ylabel="R2",
    title="GridSearchCV over learnrate (300 epochs, 5 folds)",
)
ax.legend(loc="lower center")
plt.show()
