"""
============================================
Proportions: predictions that stay in [0, 1]
============================================

Shares, rates and fractions live in [0, 1]. A linear model does not know
that and predicts below 0 or above 1 where the data push it; the sigmoid
neuron's output never leaves [0, 1]. With ``target_scaling=None`` a
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` takes such a target as it
is and predicts a proportion.
"""

# %%
# Data: the share of successes
# ----------------------------
# Each record is a group of 40 trials; the target is the share of successes,
# whose chance rises with the feature along an S-shaped curve. Observed shares
# are noisy, and near the ends many groups are all successes or all failures.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.linear_model import LinearRegression

from sk_sigmoid_neuron import SigmoidNeuronRegressor

rng = np.random.default_rng(0)
x = rng.uniform(-3, 3, size=150)
chance = expit(2.0 * x - 0.5)
share = rng.binomial(40, chance) / 40
X = x.reshape(-1, 1)

# %%
# Two models
# ----------
# ``target_scaling=None`` takes ``y`` as the neuron's targets unchanged and
# checks that every one lies in [0, 1]. (The default ``"minmax"`` would
# instead stretch the smallest and largest observed share to 0 and 1.)
neuron = SigmoidNeuronRegressor(target_scaling=None, random_state=0).fit(X, share)
linear = LinearRegression().fit(X, share)

for name, model in [("sigmoid neuron", neuron), ("LinearRegression", linear)]:
    predicted = model.predict(X)
    outside = np.sum((predicted < 0) | (predicted > 1))
    print(
        f"{name:>16}: R2 {model.score(X, share):.3f}, predictions in "
        f"[{predicted.min():.3f}, {predicted.max():.3f}], "
        f"{outside} of {len(X)} outside [0, 1]"
    )

# %%
# The fitted curves
# -----------------
# The neuron follows the S-shape and levels off at 0 and 1. The straight line
# cuts through it and leaves [0, 1] (shaded) on both sides, predicting shares
# below 0 and above 1, even on the training data.
grid = np.linspace(-3.5, 3.5, 300).reshape(-1, 1)
on_grid = neuron.predict(grid)
assert np.all((0 <= on_grid) & (on_grid <= 1))
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.axhspan(-0.5, 0, color="tab:red", alpha=0.08)
ax.axhspan(1, 1.5, color="tab:red", alpha=0.08, label="impossible shares")
ax.scatter(x, share, s=12, color="gray", alpha=0.7, label="observed share")
ax.plot(
    grid, expit(2.0 * grid - 0.5), color="black", linestyle=":", label="true chance"
)
ax.plot(grid, on_grid, color="tab:blue", label="SigmoidNeuronRegressor")
ax.plot(grid, linear.predict(grid), color="tab:orange", label="LinearRegression")
ax.set(
    xlabel="feature x",
    ylabel="share of successes",
    ylim=(-0.35, 1.35),
    title="Fitting proportions: target_scaling=None",
)
ax.legend(loc="upper left")
plt.show()

# %%
# For proportions, ``loss="log_loss"`` (the fractional logit model) is a
# natural alternative to the squared error: the same sigmoid mean, fitted by
# the Bernoulli quasi-likelihood.
