"""
==================================
Gradient descent, L-BFGS or Newton
==================================

``solver="gd"`` (the default) trains by the documented rule: one step of
gradient descent per pass over the data. ``solver="lbfgs"`` minimises the
same objective with scipy's L-BFGS, which also costs one pass over the data
per evaluation, but builds a picture of the loss's curvature from the
gradients it has seen. ``solver="newton"`` forms that curvature, the Hessian,
at each iteration. On correlated features, and on columns of very different
scales, the difference is large. This example fits the fractional logit
(``loss="log_loss"``) to a real data set of proportions that ships with
statsmodels, as shipped, with the three solvers, and compares each with
statsmodels' GLM.
"""

# %%
# Data: the share of students above the median
# ---------------------------------------------
# statsmodels' ``star98``: for 303 California school districts, the share of
# students who scored above the national median in maths, and 20 covariates,
# some of them interactions of others: columns in the tens to the tens of
# thousands, strongly correlated.
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm

from sk_sigmoid_neuron import SigmoidNeuronRegressor

data = sm.datasets.star98.load_pandas()
above, below = data.endog["NABOVE"], data.endog["NBELOW"]
y = (above / (above + below)).to_numpy()
X = data.exog.to_numpy(dtype=float)
print(f"largest |x| per column: {np.abs(X).max(axis=0).min():.3g} to "
      f"{np.abs(X).max():.3g}")  # fmt: skip
print(f"condition number of [1, X]: {np.linalg.cond(sm.add_constant(X)):.3g}")

# %%
# The optimum, by statsmodels
# ---------------------------
# The Binomial GLM on proportions (fractional logit) with HC0 standard errors
# minimises the same mean log loss as the neuron with ``loss="log_loss"``
# and ``target_scaling=None``.
Xc = sm.add_constant(X)
glm = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(tol=1e-13, cov_type="HC0")
h = Xc @ glm.params
best_loss = np.mean(np.logaddexp(0, h) - y * h)

# %%
# The three solvers from the same start
# -------------------------------------
# Gradient descent with the step ``learnrate="auto"`` (one that cannot
# diverge) for 5,000 epochs, L-BFGS and Newton's method with their defaults.
# The two optimisers work in standardised, whitened coordinates, so the
# columns' scales cost them nothing; gradient descent, on X as given, is
# saturated from its start (and says so).
common = dict(loss="log_loss", target_scaling=None, random_state=0)
gd = SigmoidNeuronRegressor(solver="gd", epochs=5_000, **common).fit(X, y)
fits = {'"gd", learnrate="auto"': gd}
for solver in ("lbfgs", "newton"):
    model = SigmoidNeuronRegressor(solver=solver, compute_inference=True, **common)
    fits[f'"{solver}"'] = model.fit(X, y)

for label, model in fits.items():
    gap = np.abs(X @ model.coef_ + model.intercept_ - h).max()
    print(f"{label}: {model.n_iter_} iterations, linear predictor {gap:.2g} from GLM")
for label in ('"lbfgs"', '"newton"'):
    se_gap = np.abs(fits[label].coef_se_ / glm.bse[1:] - 1).max()
    print(f"{label}: standard errors within {se_gap:.1e} (relative) of statsmodels")

# %%
# The loss against iterations
# ---------------------------
# ``loss_curve_`` holds the training loss at the start of each epoch (gd) or
# iteration. Above the optimum's loss, on a log scale: gradient descent
# stalls; L-BFGS reaches the optimum to the loss's rounding in a dozen
# iterations (a pass over the data each, now and then two), and Newton's
# method in a handful (a Hessian pass and a pass each), converging
# quadratically at the end.
fig, ax = plt.subplots(figsize=(7, 4.5))
for label, model in fits.items():
    excess = np.asarray(model.loss_curve_) - best_loss
    iterations = np.arange(1, len(excess) + 1)
    ax.loglog(iterations, np.maximum(excess, 1e-16), label=label, marker=".")
ax.set_xlabel("epochs (gd) or iterations")
ax.set_ylabel("training loss above the optimum")
ax.set_title("Fractional logit on star98 as shipped")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# When to use which
# -----------------
# The rule's loss curves, its learning-rate studies and ``partial_fit`` are
# gradient descent: keep ``solver="gd"`` for them. The optimum itself, and
# its standard errors (``compute_inference=True``, which warns when the
# weights are not at the optimum), come with ``solver="newton"`` for up to a
# few hundred features, and ``solver="lbfgs"`` beyond.
