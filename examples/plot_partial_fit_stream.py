"""
===========================================
Learning from a stream with ``partial_fit``
===========================================

When data arrive in batches, or do not fit in memory at once,
:meth:`~sk_sigmoid_neuron.SigmoidNeuronRegressor.partial_fit` takes one step
of the rule per batch: mini-batch gradient descent. This example trains on a
stream of batches of exam scores and follows the score on held-out data as
the batches come in.
"""

# %%
# A stream of batches
# -------------------
# Each record has 5 features; its target is a score out of 100. A generator
# yields batches of 50 records, as a data source would.
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.metrics import r2_score

from sk_sigmoid_neuron import SigmoidNeuronRegressor

rng = np.random.default_rng(0)
true_coef = np.array([1.0, -0.5, 0.8, 0.0, 0.3])


def make_batch(n_samples):
    X = rng.normal(size=(n_samples, 5))
    noise = rng.normal(scale=0.3, size=n_samples)
    return X, 100 * expit(X @ true_coef + 0.2 + noise)


def stream(n_batches, batch_size=50):
    for _ in range(n_batches):
        yield make_batch(batch_size)


X_test, y_test = make_batch(2000)

# %%
# Bounds for the whole stream
# ---------------------------
# With the default ``target_scaling="minmax"``, the first batch fixes the
# target range, and a later batch with a score outside it is refused:
first = SigmoidNeuronRegressor(random_state=0)
try:
    for X_batch, y_batch in stream(20):
        first.partial_fit(X_batch, y_batch)
except ValueError as error:
    print(f"batch {first.n_iter_ + 1}: {error}")

# %%
# Scores out of 100 have known bounds, so the model gets them:
# ``target_scaling=(0, 100)``.
model = SigmoidNeuronRegressor(learnrate=3.0, target_scaling=(0, 100), random_state=0)
test_r2 = []
for X_batch, y_batch in stream(100):
    model.partial_fit(X_batch, y_batch)
    test_r2.append(model.score(X_test, y_test))
print(f"after {model.n_iter_} batches: held-out R2 {test_r2[-1]:.3f}")

# %%
# The same number of full-batch steps
# -----------------------------------
# For reference, :meth:`~sk_sigmoid_neuron.SigmoidNeuronRegressor.fit` on all
# 5000 records at once, with as many epochs as there were batches. Each of
# its steps uses all the data, while each stream step sees 50 new records.
# ``store_path=True`` keeps its weights after every epoch, so that
# :meth:`~sk_sigmoid_neuron.SigmoidNeuronRegressor.staged_predict` can score
# each of them.
X_all, y_all = make_batch(5000)
full = SigmoidNeuronRegressor(
    learnrate=3.0, epochs=100, target_scaling=(0, 100), store_path=True, random_state=0
).fit(X_all, y_all)
full_r2 = [r2_score(y_test, y_pred) for y_pred in full.staged_predict(X_test)]
print(f"fit on 5000 records, 100 epochs: held-out R2 {full_r2[-1]:.3f}")

# %%
# The curves
# ----------
# Left: the loss of each batch at the weights its step started from
# (``loss_curve_``, one value per ``partial_fit`` call); it is noisy because
# every batch is different. Right: the held-out R2 after each step. The two
# held-out curves lie on top of each other: on this data a step on 50 fresh
# records is as good as a step on all 5000, and the stream looked at each
# record once.
fig, (ax_loss, ax_r2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
# a loss is measured at the start of a step, R2 after it
steps = np.arange(model.n_iter_)
ax_loss.plot(steps, model.loss_curve_, label="partial_fit, per batch")
ax_loss.plot(steps, full.loss_curve_, label="fit, all 5000 records")
ax_loss.set_yscale("log")
ax_loss.set(
    xlabel="Steps completed (batches or epochs)",
    ylabel="Loss",
    title="Training loss",
)
ax_loss.legend()

ax_r2.plot(steps + 1, test_r2, label="partial_fit, after each batch")
ax_r2.plot(steps + 1, full_r2, label="fit, after each epoch")
ax_r2.set(
    xlabel="Steps completed (batches or epochs)",
    ylabel="held-out R2",
    ylim=(0, 1),
    title="Held-out R2",
)
ax_r2.legend(loc="lower right")
plt.show()
