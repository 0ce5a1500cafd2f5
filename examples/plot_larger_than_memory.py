"""
=====================================
Training on data larger than memory
=====================================

A fit on dask arrays either *holds* the chunks of rows in memory (read once,
kept for the whole fit) or *streams* them: every pass over the data, every
epoch among them, reads each chunk again from its source, so that memory
holds only a few chunks at a time. By default the fit holds the chunks when
they take at most half of the memory available and streams them otherwise;
the dask configuration key ``"sk-sigmoid-neuron.chunks"`` forces either.

This example writes a data set as a few ``.npy`` files, one per chunk of
rows, builds dask arrays that read them lazily, trains with the chunks
streamed, and checks two things: the model is the one trained in memory, and
each pass reads each file once. The data are small so that the example runs
in seconds; the code is the same for files larger than memory. It needs the
``dask`` extra (``pip install sk-sigmoid-neuron[dask]``).
"""

# %%
# The data, one file per chunk of rows
# ------------------------------------
# 8 chunks of 5,000 records with 10 features each, saved as ``X_<i>.npy`` and
# ``y_<i>.npy``. The target is a noisy sigmoid-shaped function of the
# features.
import tempfile
from collections import Counter
from pathlib import Path

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit

from sk_sigmoid_neuron import SigmoidNeuronRegressor

n_chunks, chunk_rows, n_features = 8, 5_000, 10
folder = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
root = Path(folder.name)
rng = np.random.default_rng(0)
true_coef = rng.normal(size=n_features) / np.sqrt(n_features)
for i in range(n_chunks):
    X_chunk = rng.normal(size=(chunk_rows, n_features))
    noise = rng.normal(scale=0.3, size=chunk_rows)
    np.save(root / f"X_{i}.npy", X_chunk)
    np.save(root / f"y_{i}.npy", 5 + 3 * expit(2 * X_chunk @ true_coef + noise))
print(sorted(p.name for p in root.glob("*.npy")))

# %%
# Dask arrays that read the files
# -------------------------------
# ``np.load(path, mmap_mode="r")`` maps a file without reading it; the pages
# are read when the fit computes on them. Wrapped in :func:`dask.delayed`,
# the load runs only when dask computes the chunk, every time it does, and
# :func:`dask.array.from_delayed` makes a chunk of it from its shape and
# dtype (known from the files, without reading them). The loader counts its
# calls, so that we can see when the fit reads what.
reads = Counter()


@dask.delayed
def load(path):
    reads[path.name] += 1
    return np.load(path, mmap_mode="r")


def from_files(name, shape):
    chunks = [
        da.from_delayed(load(root / f"{name}_{i}.npy"), shape=shape, dtype=np.float64)
        for i in range(n_chunks)
    ]
    return da.concatenate(chunks)


X = from_files("X", (chunk_rows, n_features))
y = from_files("y", (chunk_rows,))
print(X)

# %%
# A streamed fit
# --------------
# ``dask.config.set({"sk-sigmoid-neuron.chunks": "stream"})`` forces
# streaming, which the fit would choose by itself for data larger than half
# of the memory available. The fit runs on dask's threaded scheduler here;
# with a ``distributed`` client it runs on the cluster's workers, unchanged.
params = {"epochs": 40, "random_state": 0}
with dask.config.set({"scheduler": "threads", "sk-sigmoid-neuron.chunks": "stream"}):
    streamed = SigmoidNeuronRegressor(**params).fit(X, y)
print(f"{streamed.n_iter_} epochs; reads of each X file: {reads['X_0.npy']}")

# %%
# The model is the one trained in memory, on the same records in the same
# order, up to the order of floating-point sums (the chunks' sums are added
# one chunk after another):
X_all = np.concatenate([np.load(root / f"X_{i}.npy") for i in range(n_chunks)])
y_all = np.concatenate([np.load(root / f"y_{i}.npy") for i in range(n_chunks)])
in_memory = SigmoidNeuronRegressor(**params).fit(X_all, y_all)
print("largest difference in coef_:", np.abs(streamed.coef_ - in_memory.coef_).max())
print(
    "largest difference in loss_curve_:",
    np.abs(np.subtract(streamed.loss_curve_, in_memory.loss_curve_)).max(),
)

# %%
# One read per pass
# -----------------
# Fits of 5 to 40 epochs, with the chunks held and streamed: how many times
# did each fit read each ``X`` file? Holding reads every file once, whatever
# the number of epochs. Streaming reads every file once per pass: once per
# epoch, plus three passes per fit (the first, which checks the values; the
# one that computes ``learnrate="auto"``'s step; and the diagnostics after
# the last epoch). ``y`` is read by those passes too, and by a few more that
# need only the targets and the weights (such as the targets' range).
epoch_counts = [5, 10, 20, 40]
reads_per_file = {"hold": [], "stream": []}
for mode, counts in reads_per_file.items():
    for epochs in epoch_counts:
        reads.clear()
        with dask.config.set(
            {"scheduler": "threads", "sk-sigmoid-neuron.chunks": mode}
        ):
            SigmoidNeuronRegressor(epochs=epochs, random_state=0).fit(X, y)
        per_file = {reads[f"X_{i}.npy"] for i in range(n_chunks)}
        assert len(per_file) == 1  # every chunk read as often as the others
        counts.append(per_file.pop())
    print(f"{mode:>6}: reads of each X file for {epoch_counts} epochs: {counts}")

# %%
# A held epoch is a pass over memory; a streamed epoch is a read of the
# whole source: a memory-mapped file in the operating system's page cache
# costs little more, a cold disk or remote storage its bandwidth.

# %%
# The loss curves and the reads
# -----------------------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(in_memory.loss_curve_, lw=4, alpha=0.4, label="in memory")
ax1.plot(streamed.loss_curve_, "k--", label=f"streamed from {n_chunks} files")
ax1.set(
    xlabel="epoch",
    ylabel="training loss (scaled targets)",
    title="The same descent",
    yscale="log",
)
ax1.legend()
for mode, marker in (("stream", "o-"), ("hold", "s-")):
    label = "streamed" if mode == "stream" else "held"
    ax2.plot(epoch_counts, reads_per_file[mode], marker, label=label)
ax2.set(
    xlabel="epochs",
    ylabel="reads of each X file per fit",
    title="Streaming reads each chunk once per pass",
)
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# Removing the files
# ------------------
folder.cleanup()
