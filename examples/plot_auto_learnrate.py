"""
=================================================
A learning rate that cannot diverge
=================================================

Gradient descent with a step :math:`\\eta` decreases the training loss at
every epoch if :math:`\\eta \\le 1/L`, where :math:`L` bounds the curvature of
the loss (the Lipschitz constant of its gradient). ``learnrate="auto"``
computes such an :math:`L` from the data once per fit:
:math:`L = c\\,\\lambda_{\\max}(\\tilde X^\\top S \\tilde X / \\sum s) + \\alpha`,
with :math:`c` the largest curvature of the loss in the sigmoid's input
(0.077 for the squared error, 1/4 for the log loss). A hand-picked rate
that suits standardised data can oscillate on raw data; the auto step adapts,
at the price of small steps when the features are badly scaled.
"""

# %%
# Raw features on very different scales
# -------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, TrainingWarning

X, y = make_regression(n_samples=300, n_features=4, noise=10.0, random_state=0)
X_raw = X * [10.0, 3.0, 1.0, 0.3]  # columns in their own units, unscaled
X_std = StandardScaler().fit_transform(X_raw)

# %%
# Fixed rates against ``"auto"``
# ------------------------------
# Every fit starts from the same random weights (``random_state=0``). A fit
# whose loss rose warns with a :class:`~sk_sigmoid_neuron.TrainingWarning`
# (see :ref:`diagnostics`); the warnings are caught and printed here.
curves = {}
for name, Xi in (("raw", X_raw), ("standardised", X_std)):
    for learnrate in (0.5, 5.0, "auto"):
        model = SigmoidNeuronRegressor(learnrate=learnrate, epochs=300, random_state=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrainingWarning)
            model.fit(Xi, y)
        for warning in caught:
            print(f"{name} learnrate={learnrate}: TrainingWarning: {warning.message}")
        curves[name, learnrate] = (model.loss_curve_, model.learnrate_)
        curve = np.array(model.loss_curve_)
        # an increase beyond the rounding of the mean loss itself
        rises = int(np.sum(np.diff(curve) > len(y) * 1e-16 * curve[:-1]))
        print(
            f"{name:>12} learnrate={learnrate!s:>4}: step {model.learnrate_:.3g}, "
            f"final loss {curve[-1]:.5f}, {rises} epochs went up"
        )

# %%
# Loss curves
# -----------
# On raw data (left) the fixed rates oscillate: the step along the large
# column is beyond :math:`2/L`, and 5.0 ends far from the optimum. The auto
# step is small (the large column sets :math:`L`) but never increases the
# loss, and ends lowest. On standardised data (right) the same bound allows a
# step larger than either fixed rate, found without tuning.
styles = {0.5: ("tab:orange", "-"), 5.0: ("tab:red", "-"), "auto": ("tab:blue", "-")}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
for ax, name in zip(axes, ("raw", "standardised"), strict=True):
    for learnrate, (color, style) in styles.items():
        curve, step = curves[name, learnrate]
        label = f"learnrate={learnrate}" + (
            f" (step {step:.2g})" if learnrate == "auto" else ""
        )
        ax.plot(np.arange(1, len(curve) + 1), curve, style, color=color, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_title(f"{name} features")
    ax.legend()
axes[0].set_ylabel("training loss (scaled targets)")
fig.tight_layout()
plt.show()

# %%
# The bound, in brief
# -------------------
# The Hessian of the weighted mean loss is
# :math:`\frac1S \sum_i s_i \ell''(h_i)\,\tilde x_i \tilde x_i^\top + \alpha P`.
# With :math:`|\ell''| \le c` its norm is at most
# :math:`c\,\lambda_{\max}(G) + \alpha`, :math:`G` the weighted Gram matrix of
# :math:`[X, 1]`, so steps of :math:`1/L` decrease the loss by at least
# :math:`\|\nabla f\|^2 / (2L)` per epoch (the descent lemma). For narrow X,
# :math:`G` is formed once per fit (one pass over X) and its largest
# eigenvalue computed exactly; for wide or sparse X, a few Lanczos iterations
# (a pass over X each) estimate it to within 10%. Either costs a few epochs.
# Standardise X for large steps; ``"auto"`` makes the descent safe, not fast.
