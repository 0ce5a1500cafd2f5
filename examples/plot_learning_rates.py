"""
=================================================
Learning rates: too small, about right, too large
=================================================

Each epoch moves the weights by ``learnrate`` times the mean gradient of the
loss. This example trains the same
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` with three learning rates
on the standardised diabetes data and draws their loss curves on one axes
with :class:`~sk_sigmoid_neuron.LossCurveDisplay`.
"""

# %%
# Three fits from the same start
# ------------------------------
# ``random_state=0`` gives every fit the same starting weights, so the curves
# start at the same loss and differ only by the step size. The rates are
# fixed on purpose here; the default, ``learnrate="auto"``, computes a safe
# step from the data instead. A fit whose loss rose says so with a
# :class:`~sk_sigmoid_neuron.TrainingWarning`, which is caught and printed
# below.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor, TrainingWarning

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)

learnrates = {"too small": 0.05, "about right": 5.0, "too large": 50.0}
models = {}
for label, learnrate in learnrates.items():
    model = SigmoidNeuronRegressor(learnrate=learnrate, epochs=300, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingWarning)
        models[label] = model.fit(X, y)
    for warning in caught:
        print(f"learnrate={learnrate:g}: TrainingWarning: {warning.message}")
for label, model in models.items():
    print(
        f"learnrate={model.learnrate:<5g} ({label:>11}): final training loss "
        f"{model.loss_curve_[-1]:.4f}, training R2 {model.score(X, y):.3f}"
    )

# %%
# The loss curves
# ---------------
# * **Too small** (0.05): every step goes downhill, but 300 steps cover only a
#   part of the way; the loss is still falling steadily.
# * **About right** (5): the loss drops within a few dozen epochs and then
#   keeps creeping down.
# * **Too large** (50): the steps overshoot the minimum, the weights bounce
#   from one side of the valley to the other, and the loss jumps up and down
#   above the level the good rate reached.
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for (label, model), color in zip(
    models.items(), ["tab:blue", "tab:green", "tab:red"], strict=True
):
    LossCurveDisplay.from_estimator(
        model,
        ax=ax,
        name=f"learnrate={model.learnrate:g} ({label})",
        line_kwargs={"color": color},
    )
ax.set_yscale("log")
ax.set_ylim(top=0.4)  # room for the legend above the curves
ax.legend(loc="upper right")
ax.set_title("Training loss per epoch for three learning rates")
plt.show()

# %%
# A good rate depends on the scale of the features, because the step is
# proportional to them: standardise ``X`` first (as here), and leave
# ``learnrate`` at its default ``"auto"``, or choose it by cross-validation,
# as in :ref:`sphx_glr_auto_examples_plot_grid_search_learnrate.py`. The
# default's step on this data:
auto = SigmoidNeuronRegressor(epochs=300, random_state=0).fit(X, y)
print(
    f"learnrate='auto': step learnrate_ = {auto.learnrate_:.3g}, final training "
    f"loss {auto.loss_curve_[-1]:.4f}, training R2 {auto.score(X, y):.3f}"
)

# %%
# :ref:`diagnostics` explains the warning above and the other diagnostics of
# a fit.
