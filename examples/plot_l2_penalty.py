"""
=================================================
An L2 penalty: ``alpha``
=================================================

``alpha`` adds :math:`\\tfrac{\\alpha}{2}\\|w\\|^2` to the training loss (not on
the intercept), as ridge regression does for a linear model. Each epoch then
shrinks the weights by the factor :math:`1 - \\eta\\alpha` before the step of the
documented rule:

.. math::

    w \\leftarrow (1 - \\eta\\alpha)\\, w + \\eta \\frac{\\sum_i s_i \\delta_i x_i}
    {\\sum_i s_i},

which is gradient descent on the penalised loss. ``alpha=0`` (the default)
is the documented rule, bit for bit. This example traces the fitted weights
of a sigmoid neuron on the diabetes data as ``alpha`` grows, with
``learnrate="auto"`` (whose bound includes ``alpha``) so that every fit runs to
its optimum.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor

data = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# The path of the weights
# -----------------------
# The penalty also makes the descent faster: it adds alpha to every curvature,
# so the slowest direction (here, the nearly collinear serum measurements)
# contracts by at least 1 - alpha / L per epoch. 2000 epochs reach the optimum
# to three digits for every alpha from 1e-3 on; smaller ones need more.
alphas = np.logspace(-3, 1, 17)
coefs, r2_train, r2_test = [], [], []
for alpha in alphas:
    model = SigmoidNeuronRegressor(
        learnrate="auto", epochs=2000, alpha=alpha, random_state=0
    ).fit(X_train, y_train)
    coefs.append(model.coef_)
    r2_train.append(model.score(X_train, y_train))
    r2_test.append(model.score(X_test, y_test))
coefs = np.array(coefs)
best = int(np.argmax(r2_test))
print(f"best test R2 {r2_test[best]:.3f} at alpha={alphas[best]:.2g}")
print(f"alpha={alphas[0]:.0e}: test R2 {r2_test[0]:.3f}")
print(f"alpha={alphas[-1]:.0e}: test R2 {r2_test[-1]:.3f}")

# %%
# Left: every weight shrinks toward 0 as ``alpha`` grows, the correlated
# serum measurements s1 and s2 first. Right: the R2 on the training part
# falls with ``alpha``; on the held-out part a moderate penalty helps a
# little before too much of it underfits.
fig, (ax_coef, ax_r2) = plt.subplots(1, 2, figsize=(11, 4.5))
for j, name in enumerate(data.feature_names):
    ax_coef.plot(alphas, coefs[:, j], label=name)
ax_coef.axhline(0, color="k", linewidth=0.5)
ax_coef.set_xscale("log")
ax_coef.set_xlabel("alpha")
ax_coef.set_ylabel("weight (standardised features)")
ax_coef.set_title("Weights shrink with the L2 penalty")
ax_coef.legend(ncol=2, fontsize="small")

ax_r2.plot(alphas, r2_train, "o-", label="training part")
ax_r2.plot(alphas, r2_test, "o-", label="held-out part")
ax_r2.axvline(alphas[best], color="0.5", linestyle=":", label="best held-out")
ax_r2.set_xscale("log")
ax_r2.set_xlabel("alpha")
ax_r2.set_ylabel("R2")
ax_r2.set_title("Fit against alpha")
ax_r2.legend()
fig.tight_layout()
plt.show()
