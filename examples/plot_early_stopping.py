"""
=========================================
Early stopping on a validation loss curve
=========================================

With many features and few records, a
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` trained for many epochs
starts fitting the noise: the training loss keeps falling while the error on
new data rises. ``early_stopping=True`` holds out part of the training data,
watches the loss on it after every epoch, stops when it no longer improves,
and keeps the weights of its best epoch.
:class:`~sk_sigmoid_neuron.LossCurveDisplay` draws both curves.
"""

# %%
# Data with more features than the model can afford
# -------------------------------------------------
# 200 training records with 150 features, of which 3 matter; the target is a
# sigmoid of those 3 plus noise. A large test set measures the error on new
# data.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.metrics import r2_score

from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor

rng = np.random.default_rng(0)
n_features = 150
true_coef = np.zeros(n_features)
true_coef[:3] = [1.0, -0.8, 0.6]


def make_data(n_samples):
    X = rng.normal(size=(n_samples, n_features))
    y = 10 * expit(X @ true_coef) + rng.normal(scale=1.5, size=n_samples)
    return X, y


X_train, y_train = make_data(200)
X_test, y_test = make_data(3000)

# %%
# With and without early stopping
# -------------------------------
# The same model, once for all 2000 epochs and once with a quarter of the
# training records held out for validation. It stops after 50 epochs without
# a better validation loss. ``store_path=True`` keeps the weights of every
# epoch of the first model, so that
# :meth:`~sk_sigmoid_neuron.SigmoidNeuronRegressor.staged_predict` can score
# each epoch on the test set.
params = dict(learnrate=3.0, epochs=2000, random_state=0)
full = SigmoidNeuronRegressor(**params, store_path=True).fit(X_train, y_train)
stopped = SigmoidNeuronRegressor(
    **params, early_stopping=True, validation_fraction=0.25, n_iter_no_change=50
).fit(X_train, y_train)

best_epoch = int(np.argmin(stopped.validation_loss_curve_)) + 1
print(f"early stopping ran {stopped.n_iter_} epochs and kept epoch {best_epoch}")
print(f"test R2, all 2000 epochs:   {full.score(X_test, y_test):.3f}")
print(f"test R2, early stopping:    {stopped.score(X_test, y_test):.3f}")
test_r2 = [r2_score(y_test, y_pred) for y_pred in full.staged_predict(X_test)]

# %%
# The curves
# ----------
# Left: the early-stopped fit. The validation loss (dashed) reaches its
# lowest point at the dotted line and rises after it while the training loss
# keeps falling; the fit ran ``n_iter_no_change`` epochs past the best one,
# then returned to the best weights. Right: the model trained for all
# epochs, scored on the test set after each epoch: the same story on new
# data, and where it ends. The early-stopped model (dashed) scores below the
# peak of that curve, because it trained on three quarters of the records
# only, but far above where the full run ends.
fig, (ax_loss, ax_test) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
LossCurveDisplay.from_estimator(stopped, ax=ax_loss, name="early_stopping=True")
ax_loss.axvline(best_epoch, color="gray", linestyle=":", label="best epoch")
ax_loss.legend()
ax_loss.set_title("Training and validation loss")

epochs_run = np.arange(1, len(test_r2) + 1)
ax_test.plot(epochs_run, test_r2, color="tab:orange", label="all 2000 epochs")
ax_test.axvline(
    best_epoch, color="gray", linestyle=":", label="best epoch of early stopping"
)
ax_test.axhline(
    stopped.score(X_test, y_test),
    color="tab:blue",
    linestyle="--",
    label="early stopping's model",
)
ax_test.set_xscale("log")
ax_test.set(xlabel="Epochs completed", ylabel="test R2", title="R2 on new data")
ax_test.legend(loc="lower left")
plt.show()
