"""
==================================================
Training on PyTorch tensors (and GPUs): array API
==================================================

Under scikit-learn's ``array_api_dispatch``,
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` trains on the arrays it is
given, where they live: PyTorch tensors on the CPU or a GPU, CuPy arrays,
array-api-strict arrays. Every epoch is two matrix products, an exponential and
a few sums in that library, on that device; the fitted weights and the
predictions come back as arrays of the same library, on the same device.

This example trains on CPU tensors (it runs anywhere torch is installed), and
on a GPU when one is present, and checks the fit against the numpy one.
"""

# %%
# Setup
# -----
# scikit-learn's array API support needs SciPy's, switched on by an
# environment variable before scipy is first imported.
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_regression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sk_sigmoid_neuron import SigmoidNeuronRegressor  # noqa: E402

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"training on torch tensors on {device!r}")

X, y = make_regression(n_samples=10_000, n_features=20, noise=10.0, random_state=0)
X = StandardScaler().fit_transform(X).astype(np.float32)
X_t = torch.asarray(X, device=device)
y_t = torch.asarray(y, device=device)

# %%
# The same fit on numpy and on tensors
# ------------------------------------
# Only the input changes, and the dispatch switch (``sklearn.set_config(
# array_api_dispatch=True)`` sets it for the whole session).
params = dict(learnrate="auto", epochs=300, random_state=0)

on_numpy = SigmoidNeuronRegressor(**params).fit(X, y)

with sklearn.config_context(array_api_dispatch=True):
    on_torch = SigmoidNeuronRegressor(**params).fit(X_t, y_t)
    y_pred = on_torch.predict(X_t)
    r2 = on_torch.score(X_t, y_t)

print(
    f"coef_: {type(on_torch.coef_).__name__} {on_torch.coef_.dtype} on "
    f"{on_torch.coef_.device}"
)
print(f"predict: {type(y_pred).__name__} {y_pred.dtype} on {y_pred.device}")
print(f"R2 on tensors: {r2:.4f}, on numpy: {on_numpy.score(X, y):.4f}")
gap = np.abs(on_torch.coef_.cpu().numpy() - on_numpy.coef_).max()
print(f"largest difference of the weights (float32): {gap:.1e}")

# %%
# float32 stays float32 in both, so the two fits agree to float32's precision:
# the libraries add the records' terms in different orders. ``coef_`` and the
# predictions are tensors on ``device``; a model fitted on tensors predicts
# tensors (under the dispatch switch; without it, numpy arrays).
#
# The loss curves of the two fits lie on each other. (For speed, see the
# table in :ref:`array_api`: on the CPU, numpy input is as fast or faster; a
# GPU pays off on large data.)
fig, (ax_loss, ax_pred) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(on_numpy.loss_curve_, label="numpy", lw=3, alpha=0.5)
ax_loss.plot(on_torch.loss_curve_, label=f"torch ({device})", ls="--")
ax_loss.set(xlabel="epoch", ylabel="training loss (scaled targets)", yscale="log")
ax_loss.legend()
ax_pred.scatter(y, y_pred.cpu().numpy(), s=2, alpha=0.3)
ax_pred.set(xlabel="y", ylabel="prediction (torch)", title=f"R2 = {r2:.3f}")
fig.tight_layout()
plt.show()
