"""
=================================
Gradient descent or L-BFGS
=================================

``solver="gd"`` (the default) trains by the documented rule: one step of
gradient descent per pass over the data. ``solver="lbfgs"`` minimises the
same objective with scipy's L-BFGS, which also costs one pass over the data
per evaluation, but builds a picture of the loss's curvature from the
gradients it has seen. On correlated features the difference is large. This
example fits the fractional logit (``loss="log_loss"``) to a real data set of
proportions that ships with statsmodels, with both solvers, and compares each
with statsmodels' GLM.
"""

# %%
# Data: the share of students above the median
# ---------------------------------------------
# statsmodels' ``star98``: for 303 California school districts, the share of
# students who scored above the national median in maths, and 20 covariates,
# some of them interactions of others (strongly correlated once
# standardised).
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor

data = sm.datasets.star98.load_pandas()
above, below = data.endog["NABOVE"], data.endog["NBELOW"]
y = (above / (above + below)).to_numpy()
X = StandardScaler().fit_transform(data.exog.to_numpy(dtype=float))
print(f"condition number of [1, X]: {np.linalg.cond(sm.add_constant(X)):.0f}")

# %%
# The optimum, by statsmodels
# ---------------------------
# The Binomial GLM on proportions (fractional logit) with HC0 standard errors
# minimises the same mean log loss as the neuron with ``loss="log_loss"``
# and ``target_scaling=None``.
glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial())
glm = glm.fit(tol=1e-12, cov_type="HC0")
optimum = glm.params
h = sm.add_constant(X) @ optimum
best_loss = np.mean(np.logaddexp(0, h) - y * h)

# %%
# Both solvers from the same start
# --------------------------------
# Gradient descent with the step ``learnrate="auto"`` (one that cannot
# diverge) for 20,000 epochs, and L-BFGS with its defaults. ``verbose=1``
# makes L-BFGS say how many passes over the data its iterations took (a few
# more than the iterations: its line search sometimes evaluates twice).
common = dict(loss="log_loss", target_scaling=None, random_state=0)
gd = SigmoidNeuronRegressor(solver="gd", epochs=20_000, **common).fit(X, y)
lbfgs = SigmoidNeuronRegressor(
    solver="lbfgs", compute_inference=True, verbose=1, **common
).fit(X, y)


def distance(model):
    return np.abs(np.r_[model.intercept_, model.coef_] - optimum).max()


print(f"gd, {gd.n_iter_} epochs: {distance(gd):.2g} from statsmodels")
print(f"lbfgs, {lbfgs.n_iter_} iterations: {distance(lbfgs):.2g} from statsmodels")
se_gap = np.abs(lbfgs.coef_se_ / glm.bse[1:] - 1).max()
print(f"largest relative gap of lbfgs's standard errors to statsmodels: {se_gap:.1e}")

# %%
# The loss against passes over the data
# -------------------------------------
# ``loss_curve_`` holds the training loss at the start of each epoch (gd) or
# iteration (lbfgs). Above the optimum's loss, on a log scale: gradient
# descent stalls along the directions of small curvature, which correlated
# covariates create; L-BFGS reaches the optimum to the loss's rounding in
# under a hundred passes.
fig, ax = plt.subplots(figsize=(7, 4.5))
for model, label in [(gd, '"gd", learnrate="auto"'), (lbfgs, '"lbfgs"')]:
    excess = np.asarray(model.loss_curve_) - best_loss
    passes = np.arange(1, len(excess) + 1)
    ax.loglog(passes, np.maximum(excess, 1e-16), label=label)
ax.set_xlabel("passes over the data (gd: epochs; lbfgs: iterations)")
ax.set_ylabel("training loss above the optimum")
ax.set_title("Fractional logit on star98: the loss against passes")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# When to use which
# -----------------
# The rule's loss curves, its learning-rate studies and ``partial_fit`` are
# gradient descent: keep ``solver="gd"`` for them. The optimum itself, and
# its standard errors (``compute_inference=True``, which warns when the
# weights are not at the optimum), come far sooner with ``solver="lbfgs"``.
