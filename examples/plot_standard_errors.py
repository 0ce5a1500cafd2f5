"""
=================================================
Standard errors: ``compute_inference=True``
=================================================

With ``compute_inference=True``, :meth:`fit` also computes the
heteroskedasticity-robust (HC0, "sandwich") covariance of the fitted weights,
``coef_cov_``, their standard errors ``coef_se_`` and ``intercept_se_``, and
``predict(X, return_std=True)`` returns the standard error of each predicted
mean by the delta method. With ``loss="log_loss"`` and proportions as targets
this is fractional logit regression with robust standard errors, the
estimates a Binomial GLM with ``cov_type="HC0"`` reports.

This example checks the standard errors against the spread of a bootstrap,
on shares whose noise depends on the number of trials behind each record
(heteroskedastic, the case the sandwich is for).
"""

# %%
# Shares from 5 to 100 trials
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit

from sk_sigmoid_neuron import SigmoidNeuronRegressor

rng = np.random.RandomState(0)
n = 400
X = rng.normal(size=(n, 3))
w_true, b_true = np.array([0.8, -0.5, 0.0]), 0.3
trials = rng.randint(5, 101, size=n)
y = rng.binomial(trials, expit(X @ w_true + b_true)) / trials

params = dict(loss="log_loss", target_scaling=None, learnrate="auto")
model = SigmoidNeuronRegressor(epochs=3000, compute_inference=True, **params)
model.fit(X, y)
for j in range(3):
    print(f"w{j}: {model.coef_[j]:+.3f} +- {model.coef_se_[j]:.3f}")
print(f"b:  {model.intercept_:+.3f} +- {model.intercept_se_:.3f}")

# %%
# A bootstrap of the records
# --------------------------
# Refit on 200 resamples of the records (each from the full fit's weights,
# so a few hundred epochs reach the optimum) and take the standard deviation
# of the estimates.
boot = []
for _ in range(200):
    rows = rng.randint(0, n, size=n)
    refit = SigmoidNeuronRegressor(epochs=500, **params).fit(
        X[rows], y[rows], coef_init=model.coef_, intercept_init=model.intercept_
    )
    boot.append(np.r_[refit.coef_, refit.intercept_])
boot_se = np.std(boot, axis=0)
print("sandwich SE: ", np.round(np.r_[model.coef_se_, model.intercept_se_], 4))
print("bootstrap SE:", np.round(boot_se, 4))

# %%
# Left: the estimates with 95% intervals from the sandwich and from the
# bootstrap, and the true values. Right: the predicted mean share along the
# first feature (the others at 0) with its 95% band from
# ``predict(X, return_std=True)``. This is one draw of the data: a 95%
# interval misses the true value one time in twenty.
names = ["w0", "w1", "w2", "b"]
estimate = np.r_[model.coef_, model.intercept_]
se = np.r_[model.coef_se_, model.intercept_se_]
pos = np.arange(4)
fig, (ax_coef, ax_pred) = plt.subplots(1, 2, figsize=(11, 4.5))
ax_coef.errorbar(
    pos - 0.1, estimate, yerr=1.96 * se, fmt="o", capsize=4, label="sandwich (HC0)"
)
ax_coef.errorbar(
    pos + 0.1, estimate, yerr=1.96 * boot_se, fmt="s", capsize=4, label="bootstrap"
)
ax_coef.plot(pos, np.r_[w_true, b_true], "k_", markersize=20, label="true value")
ax_coef.set_xticks(pos, names)
ax_coef.set_xlabel("parameter")
ax_coef.set_ylabel("estimate with 95% interval")
ax_coef.set_title("Weights and their standard errors")
ax_coef.legend()

grid = np.zeros((100, 3))
grid[:, 0] = np.linspace(-3, 3, 100)
mean, std = model.predict(grid, return_std=True)
ax_pred.scatter(X[:, 0], y, s=6, color="0.7", label="observed share")
ax_pred.plot(grid[:, 0], mean, label="predicted mean")
ax_pred.fill_between(
    grid[:, 0], mean - 1.96 * std, mean + 1.96 * std, alpha=0.3, label="95% band"
)
ax_pred.plot(grid[:, 0], expit(grid @ w_true + b_true), "k--", label="true mean")
ax_pred.set_xlabel("feature 0 (others at 0)")
ax_pred.set_ylabel("share")
ax_pred.set_title("Predicted mean with delta-method band")
ax_pred.legend()
fig.tight_layout()
plt.show()

# %%
# What is computed
# ----------------
# The fit minimises :math:`F(\theta) = \sum_i s_i \ell_i(\theta)`; the
# sandwich is :math:`A^{-1} B A^{-1}` with :math:`A` the Hessian of
# :math:`F` and :math:`B = \sum_i s_i \nabla\ell_i \nabla\ell_i^\top`, both at
# the fitted weights. It is valid whether or not the variance of the shares is
# that of a Binomial; only the mean needs to be right. The standard errors
# are those of the weights as reported (the target scaling cancels), and the
# band is in the units of ``y``. A fit that has not reached the optimum gets
# a ``ConvergenceWarning``: the standard errors are then at the wrong point.
