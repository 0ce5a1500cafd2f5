"""
=====================================================
SigmoidNeuronRegressorCV against GridSearchCV
=====================================================

Choosing ``learnrate`` and ``epochs`` of a
:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` by cross-validation is a
grid search. :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressorCV` runs the same
search as :class:`~sklearn.model_selection.GridSearchCV`, with the same scores
and the same choice, but trains each fold once: all learning rates side by side
as one bank of neurons, and every epoch count as a checkpoint of that one
descent. This example runs both on the diabetes data and compares their time
and their results.
"""

# %%
# The data and the grid
# ---------------------
# Ten standardised features, a disease-progression target; 8 learning rates
# and 8 epoch counts, 5 folds: 320 fits for GridSearchCV. The learning rates
# stop at 10: on this data the descent oscillates from about 30 on, and an
# oscillating descent amplifies rounding, so two correct implementations (the
# bank and separate fits) drift apart there, while they agree to about 1e-15
# below it.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
learnrates = [0.01, 0.02, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0]
epochs = [25, 50, 100, 150, 200, 300, 400, 500]
cv = KFold(5, shuffle=True, random_state=0)

# %%
# Both searches
# -------------
start = time.perf_counter()
search = SigmoidNeuronRegressorCV(learnrates, epochs, cv=cv, random_state=0).fit(X, y)
time_cv = time.perf_counter() - start

start = time.perf_counter()
grid = GridSearchCV(
    SigmoidNeuronRegressor(random_state=0),
    {"learnrate": learnrates, "epochs": epochs},
    cv=cv,
).fit(X, y)
time_grid = time.perf_counter() - start

diff = np.max(
    np.abs(search.cv_results_["mean_test_score"] - grid.cv_results_["mean_test_score"])
)
print(f"GridSearchCV:             {time_grid:.2f} s, best {grid.best_params_}")
print(f"SigmoidNeuronRegressorCV: {time_cv:.2f} s, best {search.best_params_}")
print(f"{time_grid / time_cv:.0f}x faster; largest score difference {diff:.1e}")

# %%
# Time, and the scores behind the choice
# --------------------------------------
# Left: wall time of the two searches. Right: the mean validation R2 of every
# candidate; the lines are SigmoidNeuronRegressorCV's, the dots GridSearchCV's
# (they coincide), and the star is the candidate both choose.
fig, (ax_time, ax_score) = plt.subplots(1, 2, figsize=(11, 4.5))

bars = ax_time.bar(
    ["GridSearchCV", "SigmoidNeuronRegressorCV"],
    [time_grid, time_cv],
    color=["tab:gray", "tab:blue"],
    label=["one fit per candidate and fold", "one bank per fold"],
)
ax_time.bar_label(bars, fmt="%.2f s")
ax_time.set_ylim(0, 1.3 * time_grid)
ax_time.set_ylabel("wall time (s)")
ax_time.set_title(f"Same search, {time_grid / time_cv:.0f}x faster")
ax_time.legend(loc="upper right")

mean_cv = search.cv_results_["mean_test_score"].reshape(len(epochs), -1)
mean_grid = grid.cv_results_["mean_test_score"].reshape(len(epochs), -1)
colors = plt.cm.viridis(np.linspace(0, 0.9, len(learnrates)))
for j, (lr, color) in enumerate(zip(learnrates, colors, strict=True)):
    ax_score.plot(epochs, mean_cv[:, j], color=color, label=f"learnrate={lr:g}")
    ax_score.plot(epochs, mean_grid[:, j], "o", color=color, markersize=4)
ax_score.plot(
    search.epochs_,
    search.best_score_,
    "*",
    color="tab:red",
    markersize=15,
    label=f"chosen: {search.learnrate_:g}, {search.epochs_} epochs",
)
ax_score.set_xticks(epochs[1:])
ax_score.set_ylim(max(-0.1, np.nanmin(mean_cv)), None)
ax_score.set_xlabel("epochs")
ax_score.set_ylabel("mean validation R2 (5 folds)")
ax_score.set_title("Lines: SigmoidNeuronRegressorCV, dots: GridSearchCV")
ax_score.legend(fontsize="small", ncol=2, loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Why it is faster
# ----------------
# GridSearchCV trains every candidate from scratch: per fold and learning rate,
# ``sum(epochs)`` = 1725 epochs, each a separate call. The bank trains
# ``max(epochs)`` = 500 epochs per fold for all 8 learning rates together, and
# scores each epoch count on the way. On small data like this, where a
# single fit is mostly call overhead, the gain is larger than on big data,
# where it approaches ``sum(epochs) / max(epochs)`` times the bank's saving
# per neuron (see the benchmark in the user guide).
