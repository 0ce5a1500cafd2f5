r"""
====================================
The lesson's worked example, by hand
====================================

The rule this package implements comes from a short lesson on gradient
descent. Its worked example takes one step for one record, without a bias:
input :math:`x = (0.1, 0.3)`, target :math:`y = 0.2`, weights
:math:`w = (-0.8, 0.5)`, learning rate :math:`\eta = 0.5`. This example
computes that step line by line with NumPy, checks it against the published
numbers, takes the same step with
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor`, and then lets the rule run
on to see where the steps lead.
"""

# %%
# The step by hand
# ----------------
# The forward pass :math:`h = x \cdot w`, :math:`\hat y = \sigma(h)`, the error
# :math:`e = y - \hat y`, the error term
# :math:`\delta = e\,\sigma'(h) = e\,\hat y (1 - \hat y)`, and the step
# :math:`\Delta w = \eta\,\delta\,x`. :func:`scipy.special.expit` is the
# logistic function :math:`\sigma`, computed without overflow.
import matplotlib.pyplot as plt
import numpy as np
from numpy.testing import assert_allclose
from scipy.special import expit, logit

from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor

x = np.array([0.1, 0.3])
y = 0.2
w = np.array([-0.8, 0.5])
learnrate = 0.5

h = x @ w
y_hat = expit(h)
error = y - y_hat
output_grad = y_hat * (1 - y_hat)  # sigma'(h)
error_term = error * output_grad
del_w = learnrate * error_term * x
w_new = w + del_w

# %%
# The published numbers
# ---------------------
# The lesson's table, to the digits it gives, next to the computation above.
# They agree to floating-point precision (to the 10 decimals given for the
# steps; :math:`h` misses 0.07 in the last binary digit because 0.1 and 0.3
# have no exact binary representation).
published = {
    "h": 0.07,
    "y_hat": 0.5174928576663897,
    "error": -0.31749285766638974,
    "error_term": -0.07927606158013766,
    "del_w": [-0.0039638031, -0.0118914092],
    "w + del_w": [-0.8039638031, 0.4881085908],
}
computed = {
    "h": h,
    "y_hat": y_hat,
    "error": error,
    "error_term": error_term,
    "del_w": del_w,
    "w + del_w": w_new,
}
print(f"{'quantity':<11} {'by hand':<32} published")
for name, value in computed.items():
    if np.ndim(value) == 0:
        shown = repr(float(value))
    else:
        shown = np.array2string(value, precision=10, floatmode="fixed", separator=", ")
    print(f"{name:<11} {shown:<32} {published[name]}")

for name in ["h", "y_hat", "error", "error_term"]:
    assert_allclose(computed[name], published[name], rtol=1e-14)
for name in ["del_w", "w + del_w"]:
    assert_allclose(computed[name], published[name], atol=1e-10)

# %%
# The same step with the estimator
# --------------------------------
# One epoch on one record is exactly this step. ``fit_intercept=False``
# because the lesson has no bias, ``target_scaling=None`` because the target
# 0.2 already lies in the sigmoid's range [0, 1], and ``coef_init`` starts
# from the lesson's weights instead of a random start.
one_step = SigmoidNeuronRegressor(
    learnrate=learnrate, epochs=1, fit_intercept=False, target_scaling=None
).fit([x], [y], coef_init=w)
print(f"estimator: {np.array2string(one_step.coef_, precision=10, separator=', ')}")
assert_allclose(one_step.coef_, w_new, rtol=1e-15)

# %%
# ``loss_curve_[0]`` is the squared error :math:`\tfrac12 e^2` at the weights
# the epoch started from.
print(f"loss_curve_[0] = {one_step.loss_curve_[0]:.6f}, e**2 / 2 = {error**2 / 2:.6f}")
assert_allclose(one_step.loss_curve_[0], error**2 / 2, rtol=1e-14)

# %%
# Where the steps lead
# --------------------
# Repeating the step is gradient descent on :math:`E(w) = \tfrac12 (y -
# \sigma(x \cdot w))^2`. With one record the error is zero on the whole line
# :math:`x \cdot w = \operatorname{logit}(0.2)`, and every step points along
# :math:`x`, so the weights walk straight towards that line, in steps that
# shrink as the error does. ``store_path=True`` keeps the weights after each
# epoch, and :class:`~sk_sigmoid_neuron.LossCurveDisplay` draws the squared
# error per epoch.
walk = SigmoidNeuronRegressor(
    learnrate=learnrate,
    epochs=3000,
    fit_intercept=False,
    target_scaling=None,
    store_path=True,
).fit([x], [y], coef_init=w)
path = np.vstack([w, walk.coef_path_])
assert_allclose(walk.coef_path_[0], w_new, rtol=1e-15)
print(f"after 3000 epochs: w = {walk.coef_}, prediction = {walk.predict([x])[0]:.4f}")

fig, (ax_sigmoid, ax_surface, ax_loss) = plt.subplots(
    1, 3, figsize=(13, 4.2), layout="constrained"
)

# the neuron's output for the record, before and after the walk
hs = np.linspace(-4, 4, 200)
ax_sigmoid.plot(hs, expit(hs), color="black", label=r"$\sigma(h)$")
ax_sigmoid.axhline(y, color="tab:green", linestyle=":", label="target y = 0.2")
ax_sigmoid.plot(h, y_hat, "o", color="tab:red", label="start: h = 0.07")
h_end = x @ walk.coef_
ax_sigmoid.plot(h_end, expit(h_end), "o", color="tab:blue", label="after 3000 epochs")
ax_sigmoid.vlines(h, y, y_hat, color="tab:red", linestyle="--", label="error e")
ax_sigmoid.set(xlabel="h = x·w", ylabel="output ŷ", title="The neuron's output")
ax_sigmoid.legend(loc="upper left", fontsize="small")

# the error surface over the two weights, with the path of the weights
w1, w2 = np.meshgrid(np.linspace(-3.5, 0.5, 200), np.linspace(-5.5, 1.5, 200))
surface = 0.5 * (y - expit(x[0] * w1 + x[1] * w2)) ** 2
contours = ax_surface.contourf(w1, w2, surface, levels=20, cmap="viridis")
fig.colorbar(contours, ax=ax_surface, label="squared error E(w)")
line_w1 = np.array([-3.5, 0.5])
ax_surface.plot(
    line_w1,
    (logit(y) - x[0] * line_w1) / x[1],
    color="white",
    linestyle=":",
    label="E = 0",
)
ax_surface.plot(path[:, 0], path[:, 1], color="tab:red", label="weights per epoch")
ax_surface.plot(*w, "o", color="tab:red", label="start (-0.8, 0.5)")
ax_surface.set(
    xlabel="$w_1$",
    ylabel="$w_2$",
    title="Descent on the error surface",
    xlim=(-3.5, 0.5),
    ylim=(-5.5, 1.5),
)
ax_surface.legend(loc="lower left", fontsize="small")

LossCurveDisplay.from_estimator(walk, ax=ax_loss, name="learnrate=0.5")
ax_loss.set_yscale("log")
ax_loss.set_title("Squared error per epoch")
plt.show()
