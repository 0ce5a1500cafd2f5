"""
=================================================
Fractional logit: ``loss="log_loss"`` for rates
=================================================

A sigmoid neuron predicts a number in (0, 1), which makes it a natural model
for proportions and rates. The documented rule descends the squared error,
whose error term :math:`(t - \\hat y)\\,\\hat y (1 - \\hat y)` vanishes where the
sigmoid saturates: a start that predicts 0 or 1 with confidence barely moves.
``loss="log_loss"`` descends the Bernoulli quasi-likelihood on the same sigmoid
mean (fractional logit regression), whose error term is :math:`t - \\hat y`:
it is largest exactly where the prediction is most wrong, and the objective is
convex in the weights.

This example fits both losses to the share of successes out of 20 trials,
from the same badly saturated start, each with its own safe step
(``learnrate="auto"``).
"""

# %%
# Proportions around a sigmoid mean
# ---------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit

from sk_sigmoid_neuron import SigmoidNeuronRegressor, TrainingWarning

rng = np.random.RandomState(0)
x = rng.uniform(-3, 3, size=400)
true_w, true_b = 1.5, -0.5
y = rng.binomial(20, expit(true_w * x + true_b)) / 20  # shares in [0, 1]
X = x[:, None]

# %%
# Both losses from a saturated start
# ----------------------------------
# The start predicts nearly 1 on the left and nearly 0 on the right, the
# opposite of the data. ``store_path=True`` keeps the weights of every epoch.
# The squared error's fit ends still saturated, and says so with a
# :class:`~sk_sigmoid_neuron.TrainingWarning` (caught and printed here; see
# :ref:`diagnostics`). Its advice to standardise X does not apply to this
# start, which is saturated on purpose: the log loss is the cure.
start = dict(coef_init=[-8.0], intercept_init=5.0)
models = {}
for loss in ("squared_error", "log_loss"):
    model = SigmoidNeuronRegressor(
        learnrate="auto",
        epochs=1000,
        loss=loss,
        target_scaling=None,  # y is already a proportion
        store_path=True,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingWarning)
        models[loss] = model.fit(X, y, **start)
    for warning in caught:
        print(f"{loss}: TrainingWarning: {warning.message}")
    print(
        f"{loss:>13}: step {models[loss].learnrate_:.3g}, "
        f"w = {models[loss].coef_[0]:.3f}, b = {models[loss].intercept_:.3f}"
    )

# %%
# The fitted means, and the slope epoch by epoch
# ----------------------------------------------
# Left: the data and the two fitted means after 1000 epochs. Right: the slope
# ``w`` after each epoch. The log loss reaches the true slope within a few
# dozen epochs; the squared error is stuck on a plateau where the sigmoid
# saturates, and predicts about 1 for most of the data.
colors = {"squared_error": "tab:orange", "log_loss": "tab:blue"}
fig, (ax_fit, ax_path) = plt.subplots(1, 2, figsize=(11, 4.5))
grid = np.linspace(-3, 3, 200)[:, None]
ax_fit.scatter(x, y, s=8, color="0.6", label="observed share")
ax_fit.plot(grid, expit(true_w * grid + true_b), "k--", label="true mean")
for loss, model in models.items():
    ax_fit.plot(grid, model.predict(grid), color=colors[loss], label=loss)
ax_fit.set_xlabel("x")
ax_fit.set_ylabel("share of successes")
ax_fit.set_title("Fitted means after 1000 epochs")
ax_fit.legend(loc="center left")

for loss, model in models.items():
    epochs = np.arange(1, model.n_iter_ + 1)
    ax_path.plot(epochs, model.coef_path_[:, 0], color=colors[loss], label=loss)
ax_path.axhline(true_w, color="k", linestyle="--", label="true slope")
ax_path.set_xscale("log")
ax_path.set_xlabel("epoch")
ax_path.set_ylabel("slope w")
ax_path.set_title("Slope after each epoch, from w = -8, b = 5")
ax_path.legend()
fig.tight_layout()
plt.show()

# %%
# Why
# ---
# The gradient of the squared error carries the factor
# :math:`\hat y (1 - \hat y)`, which is about :math:`e^{-|h|}` for a saturated
# prediction: a wrong and confident neuron learns slowest. The log loss has no
# such factor, and its Hessian :math:`\sum_i s_i \hat y_i (1 - \hat y_i)
# \tilde x_i \tilde x_i^\top` is positive semi-definite, so it has no plateaus
# or local minima to be stuck in. Its minimiser is the fractional logit
# estimate of Papke and Wooldridge (1996), the same as a Binomial GLM with the
# logit link fitted to the shares.
