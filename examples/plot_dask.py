"""
=========================================
Training and searching on a Dask cluster
=========================================

:class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` trains on `Dask
<https://www.dask.org>`_ arrays: each epoch, every chunk of rows computes its
part of the step where it lives, and only those small sums travel. The result
is the fit of the same data in memory. A hyperparameter search, on the other
hand, is many independent fits, which joblib's Dask backend sends to the
cluster's workers.

This example starts a small cluster on this machine, trains on a dask array
of several chunks, compares the fit with the in-memory one, and runs a grid
search on the cluster. It needs the ``dask`` extra (``pip install
sk-sigmoid-neuron[dask]``).
"""

# %%
# A cluster on this machine
# -------------------------
# Two workers with one thread each, listening on the loopback interface only,
# without the dashboard. ``processes=False`` runs the workers as threads of
# this process, which starts in a fraction of a second; on a real cluster the
# workers are processes on other machines and the code below is unchanged.
import matplotlib.pyplot as plt
import numpy as np
from dask import array as da
from distributed import Client, LocalCluster, get_task_stream
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from sk_sigmoid_neuron import SigmoidNeuronRegressor

cluster = LocalCluster(
    n_workers=2,
    threads_per_worker=1,
    processes=False,
    protocol="tcp",
    host="127.0.0.1",
    dashboard_address=None,
)
client = Client(cluster)

# %%
# Data in chunks
# --------------
# 200,000 records of 20 features in 8 chunks of rows, generated on the
# workers and kept in their memory (``persist``). The target is a noisy
# sigmoid-shaped function of the features.
rng = da.random.default_rng(0)
X = rng.standard_normal((200_000, 20), chunks=(25_000, 20))
w = np.random.default_rng(1).standard_normal(20) / np.sqrt(20)
y = 5 + 3 * da.tanh(X @ w) + 0.3 * rng.standard_normal(200_000, chunks=25_000)
X, y = client.persist([X, y])
print(f"X: {X.shape}, {X.numblocks[0]} chunks of {X.chunks[0][0]:,} rows")

# %%
# Training on the dask array
# --------------------------
# ``fit`` sees dask arrays and trains chunk by chunk; the weights stay small
# numpy arrays here. The same fit in memory (``X.compute()``) gives the same
# weights and the same loss curve, up to the order in which floating-point
# sums are added.
params = {"learnrate": "auto", "epochs": 60, "random_state": 0}
on_dask = SigmoidNeuronRegressor(**params).fit(X, y)
in_memory = SigmoidNeuronRegressor(**params).fit(X.compute(), y.compute())
print("largest difference in coef_:", np.abs(on_dask.coef_ - in_memory.coef_).max())
print(
    "largest difference in loss_curve_:",
    np.abs(np.subtract(on_dask.loss_curve_, in_memory.loss_curve_)).max(),
)

# %%
# ``predict`` on a dask array is lazy: it returns a dask array with the
# chunks of ``X``, computed when asked for.
y_pred = on_dask.predict(X)
print(y_pred)
first = y_pred[:5].compute()
print(
    "first predictions:", np.round(first, 3), "targets:", np.round(y[:5].compute(), 3)
)

# %%
# A grid search on the cluster
# ----------------------------
# Each candidate and fold is an independent fit on in-memory data. Under
# ``joblib.parallel_config(backend="dask")``, ``GridSearchCV(n_jobs=-1)`` runs
# those fits as tasks on the workers; the task stream of the scheduler shows
# where they ran.
X_small, y_small = X[:5_000].compute(), y[:5_000].compute()
grid = {"learnrate": [0.3, 1.0, 3.0, 10.0], "epochs": [20, 50, 100]}
search = GridSearchCV(SigmoidNeuronRegressor(random_state=0), grid, cv=3, n_jobs=-1)
with get_task_stream(client) as stream, parallel_config(backend="dask"):
    search.fit(X_small, y_small)
fits = [t for t in stream.data if "_fit_and_score" in t["key"]]
print(f"{len(fits)} tasks of fits ran on {len({t['worker'] for t in fits})} workers")
print("best:", search.best_params_, f"R² = {search.best_score_:.3f}")

# %%
# The loss curves and the search
# ------------------------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(in_memory.loss_curve_, lw=4, alpha=0.4, label="in memory")
ax1.plot(on_dask.loss_curve_, "k--", label="dask array, 8 chunks")
ax1.set(
    xlabel="epoch",
    ylabel="training loss (scaled targets)",
    title="The same descent on both paths",
    yscale="log",
)
ax1.legend()
scores = search.cv_results_["mean_test_score"].reshape(len(grid["epochs"]), -1)
for epochs, row in zip(grid["epochs"], scores, strict=True):
    ax2.plot(grid["learnrate"], row, "o-", label=f"epochs={epochs}")
ax2.set(
    xscale="log",
    xlabel="learnrate",
    ylabel="mean R² over 3 folds",
    title="GridSearchCV on the cluster",
)
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# Closing the cluster
# -------------------
client.close()
cluster.close()
