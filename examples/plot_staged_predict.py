"""
=================================================
Predictions after every epoch: ``staged_predict``
=================================================

The number of epochs is a regularisation parameter: a neuron trained on few
records with many features fits the noise if it runs long enough.
``staged_predict(X)`` yields the predictions after each epoch, as
:meth:`sklearn.ensemble.GradientBoostingRegressor.staged_predict` does after
each stage, so that one fit shows the error for every epoch count. The
``k``-th prediction is exactly that of a fit with ``epochs=k``.

It needs the weights of every epoch, which a fit keeps only when asked:
``store_path=True`` records them in ``coef_path_`` and ``intercept_path_``
(epochs x outputs x features numbers; 2000 x 40 here).
"""

# %%
# Few records, many features
# --------------------------
# 50 training records, 40 features of which 4 matter, noisy targets.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.metrics import mean_squared_error

from sk_sigmoid_neuron import SigmoidNeuronRegressor

rng = np.random.RandomState(0)
n_train, n_features = 50, 40
X = rng.normal(size=(n_train + 500, n_features))
w_true = np.zeros(n_features)
w_true[:4] = [1.5, -1.0, 1.0, 0.5]
mean = expit(X @ w_true)
y = mean + 0.2 * rng.normal(size=len(X))
X_train, X_test = X[:n_train], X[n_train:]
y_train, y_test = y[:n_train], y[n_train:]

# %%
# One fit, every epoch count
# --------------------------
model = SigmoidNeuronRegressor(
    learnrate=0.5, epochs=2000, store_path=True, random_state=0
).fit(X_train, y_train)
mse_train = [mean_squared_error(y_train, p) for p in model.staged_predict(X_train)]
mse_test = [mean_squared_error(y_test, p) for p in model.staged_predict(X_test)]
best = int(np.argmin(mse_test)) + 1
print(f"best epoch count: {best}, test MSE {mse_test[best - 1]:.4f}")
print(f"after {model.n_iter_} epochs: test MSE {mse_test[-1]:.4f}")

# the staged prediction at epoch `best` is that of a fit with epochs=best
refit = SigmoidNeuronRegressor(learnrate=0.5, epochs=best, random_state=0)
refit.fit(X_train, y_train)
staged = list(model.staged_predict(X_test))
print(
    "largest difference to the refit:",
    np.abs(staged[best - 1] - refit.predict(X_test)).max(),
)

# %%
# Left: the training error falls at every epoch; the test error is lowest
# after a few dozen epochs and then rises as the neuron fits the noise of the
# 50 records. Right: the test predictions at the best epoch count and after
# all 2000 epochs, against the true mean.
epochs = np.arange(1, model.n_iter_ + 1)
fig, (ax_mse, ax_pred) = plt.subplots(1, 2, figsize=(11, 4.5))
ax_mse.plot(epochs, mse_train, label="training records")
ax_mse.plot(epochs, mse_test, label="test records")
ax_mse.axvline(best, color="0.5", linestyle=":", label=f"best: {best} epochs")
ax_mse.set_xscale("log")
ax_mse.set_yscale("log")
ax_mse.set_xlabel("epochs")
ax_mse.set_ylabel("mean squared error")
ax_mse.set_title("Error after each epoch, from one fit")
ax_mse.legend()

ax_pred.scatter(
    mean[n_train:], staged[-1], s=8, alpha=0.6, label=f"after {model.n_iter_}"
)
ax_pred.scatter(mean[n_train:], staged[best - 1], s=8, label=f"after {best} epochs")
ax_pred.plot([0, 1], [0, 1], "k--", label="perfect")
ax_pred.set_xlabel("true mean")
ax_pred.set_ylabel("prediction")
ax_pred.set_title("Test predictions")
ax_pred.legend()
fig.tight_layout()
plt.show()

# %%
# How the path is kept
# --------------------
# ``staged_predict`` takes only the records to predict, so the weights of
# every epoch must come from the fit; re-running the descent would need the
# training data, which an estimator does not keep. Recording them costs
# memory (epochs x outputs x features) and makes the fit run epoch by epoch,
# so it is off by default. ``warm_start`` and ``partial_fit`` extend the path.
# :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressorCV` chooses the epoch
# count by cross-validation in one pass per fold, without keeping any path.
