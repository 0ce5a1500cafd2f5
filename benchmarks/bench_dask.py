"""Per-epoch time of a fit on a dask array against the same fit in memory.

The case of issue 5: 1,000,000 x 50 float64 in 8 chunks of rows on a
LocalCluster of 2 single-threaded workers (loopback only, no dashboard),
against the in-memory fit of the same data in this process (all cores); and
the per-epoch overhead of the dask path on small data (10,000 x 10 in 8
chunks), where the work per epoch is negligible, with the cluster and with
dask's threaded scheduler (no client).

A fit's time is setup (read, check and persist the chunks; for the in-memory
path, validation) plus epochs; the time per epoch is the difference between
fits of ``E2`` and ``E1`` epochs divided by ``E2 - E1`` (best of
``--repeat``, the paths taking turns), so the setup cancels. Prints the table
and writes it to ``benchmarks/results/dask.md`` (and ``dask.rst``, which the
user guide includes).

Run from the repository root::

    python benchmarks/bench_dask.py            # the issue's case (a few minutes)
    python benchmarks/bench_dask.py --quick    # 100,000 x 50; prints, writes nothing
"""

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import distributed
import numpy as np
import scipy
import sklearn
from distributed import Client, LocalCluster

from sk_sigmoid_neuron import SigmoidNeuronRegressor, _kernels

RESULTS = Path(__file__).parent / "results" / "dask.md"


def make_chunk(i, rows, n_features):
    """Chunk ``i`` of the data: the same numbers on a worker and here."""
    rng = np.random.default_rng(1000 + i)
    X = rng.standard_normal((rows, n_features))
    w = np.random.default_rng(0).standard_normal(n_features) / np.sqrt(n_features)
    y = 10.0 * np.tanh(X @ w) + rng.standard_normal(rows)
    return np.column_stack([X, y])


def make_data(n_samples, n_features, n_chunks):
    """The data in memory, and as dask arrays computed on the workers."""
    rows = n_samples // n_chunks
    blocks = [
        da.from_delayed(
            dask.delayed(make_chunk)(i, rows, n_features),
            shape=(rows, n_features + 1),
            dtype=np.float64,
        )
        for i in range(n_chunks)
    ]
    Xy = da.concatenate(blocks).persist()
    distributed.wait(Xy)
    local = np.concatenate([make_chunk(i, rows, n_features) for i in range(n_chunks)])
    X, y = np.ascontiguousarray(local[:, :-1]), local[:, -1].copy()
    return X, y, Xy[:, :-1], Xy[:, -1]


class Path:
    """One way to train: the data it fits, and the settings it runs under."""

    def __init__(self, X, y, backend="auto", scheduler=None):
        self.X, self.y, self.backend, self.scheduler = X, y, backend, scheduler
        self.times, self.model = {}, None

    def fit(self, epochs):
        saved = _kernels.BACKEND
        _kernels.BACKEND = self.backend
        config = {} if self.scheduler is None else {"scheduler": self.scheduler}
        try:
            with dask.config.set(config):
                start = time.perf_counter()
                model = SigmoidNeuronRegressor(
                    learnrate=0.5, epochs=epochs, random_state=0
                ).fit(self.X, self.y)
                elapsed = time.perf_counter() - start
        finally:
            _kernels.BACKEND = saved
        self.times[epochs] = min(self.times.get(epochs, np.inf), elapsed)
        self.model = model

    def per_epoch(self, e1, e2):
        """(seconds per epoch, setup seconds)."""
        epoch = max(self.times[e2] - self.times[e1], 0.0) / (e2 - e1)
        return epoch, max(self.times[e1] - e1 * epoch, 0.0)


def measure(paths, e1, e2, repeat):
    """Best-of-``repeat`` fits of ``e1`` and ``e2`` epochs, the paths taking
    turns (so that a change in the machine's load hits them all)."""
    for _ in range(repeat):
        for path in paths.values():
            path.fit(e1)
            path.fit(e2)
    return {name: (*path.per_epoch(e1, e2), path.model) for name, path in paths.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 x 50")
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    args = parser.parse_args()
    n_big = 100_000 if args.quick else 1_000_000
    d_big, n_small, d_small, n_chunks = 50, 10_000, 10, 8
    e1, e2 = 3, 23
    rows = []

    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            local_directory=workdir,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: None)  # workers up
        for label, n, d in (("large", n_big, d_big), ("small", n_small, d_small)):
            X, y, Xd, yd = make_data(n, d, n_chunks)
            SigmoidNeuronRegressor(epochs=2).fit(X[:1000], y[:1000])  # compile
            SigmoidNeuronRegressor(epochs=2).fit(Xd[:1000], yd[:1000])  # imports
            paths = {
                "in memory": Path(X, y),
                "in memory, numpy kernel": Path(X, y, backend="numpy"),
                "dask, 2-worker LocalCluster": Path(Xd, yd),
            }
            if label == "small":
                # chunks of the in-memory data: the cluster's cannot be read here
                paths["dask, threaded scheduler (no client)"] = Path(
                    da.from_array(X, chunks=Xd.chunks),
                    da.from_array(y, chunks=yd.chunks),
                    scheduler="threads",
                )
            timings = measure(paths, e1, e2, args.repeat)
            ref = timings["in memory"]
            model_ref = ref[2]
            for name, (epoch, setup, model) in timings.items():
                diff = max(
                    np.max(np.abs(model.coef_ - model_ref.coef_)),
                    np.max(
                        np.abs(np.subtract(model.loss_curve_, model_ref.loss_curve_))
                    ),
                )
                rows.append(
                    (
                        label,
                        n,
                        d,
                        name,
                        epoch,
                        setup,
                        epoch / ref[0],
                        epoch - ref[0],
                        diff,
                    )
                )
                print(
                    f"{label:5s} {n:>9,} x {d:<3d} {name:38s} "
                    f"{epoch * 1e3:8.2f} ms/epoch  setup {setup:6.2f} s  "
                    f"{epoch / ref[0]:5.2f}x  max|diff| {diff:.1e}"
                )
            del X, y, Xd, yd, paths, timings
        workers = client.scheduler_info()["workers"]
        worker_threads = sum(w["nthreads"] for w in workers.values())

    large = {r[3]: r for r in rows if r[0] == "large"}
    small = {r[3]: r for r in rows if r[0] == "small"}
    ratio = large["dask, 2-worker LocalCluster"][6]
    overhead = small["dask, 2-worker LocalCluster"][7]
    print(
        f"\ndask / in memory per epoch, {n_big:,} x {d_big}: {ratio:.2f}x (target 3x)"
    )
    print(f"dask overhead per epoch on small data: {overhead * 1e3:.1f} ms")

    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()}; Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"dask {dask.__version__}, distributed {distributed.__version__}; "
        f"in-memory kernel: {_kernels.active_backend()}"
    )
    intro = (
        f"float64 data in {n_chunks} chunks of rows; the dask path on a "
        f"LocalCluster of 2 worker processes with 1 thread each ({worker_threads} "
        "threads), the in-memory path in one process using all cores. Time per "
        f"epoch from fits of {e1} and {e2} epochs (best of {args.repeat}, the paths "
        "taking turns); setup is "
        "the rest of a fit (reading, checking and persisting the chunks). The last "
        "column is the largest difference from the in-memory fit, in coefficients "
        "and loss curve. Generated by `python benchmarks/bench_dask.py`."
    )
    header = [
        "data",
        "path",
        "ms / epoch",
        "vs in memory",
        "extra ms / epoch",
        "setup (s)",
        "max abs diff",
    ]
    cells = [
        [
            f"{n:,} x {d}",
            name,
            f"{epoch * 1e3:.2f}",
            f"{rel:.2f}x",
            f"{extra * 1e3:+.2f}",
            f"{setup:.2f}",
            f"{diff:.1e}",
        ]
        for _, n, d, name, epoch, setup, rel, extra, diff in rows
    ]
    summary = (
        f"On {n_big:,} x {d_big} the dask path takes {ratio:.2f}x the in-memory "
        "time per epoch (target: at most 3x). On small data its per-epoch overhead "
        "(one task per worker thread and one gather of the sums) is "
        f"{overhead * 1e3:.1f} ms with the cluster and "
        f"{small['dask, threaded scheduler (no client)'][7] * 1e3:.1f} ms with the "
        "threaded scheduler."
    )
    md = [
        "# Training on dask arrays vs in memory",
        "",
        intro,
        "",
        "| " + " | ".join(header) + " |",
        "|---|---|" + "---:|" * (len(header) - 2),
        *("| " + " | ".join(row) + " |" for row in cells),
        "",
        summary,
        "",
        f"Machine: {machine}.",
        "",
    ]
    rst = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        *(
            "\n".join(
                f"   {'*' if j == 0 else ' '} - {cell}" for j, cell in enumerate(row)
            )
            for row in [header, *cells]
        ),
        "",
        summary.replace("`", "``"),
        "",
        f"Machine: {machine}.",
        "",
    ]
    table = "\n".join(md)
    print("\n" + table)
    if args.quick:
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(table)
    RESULTS.with_suffix(".rst").write_text("\n".join(rst))
    print(f"wrote {RESULTS} and {RESULTS.with_suffix('.rst')}")


if __name__ == "__main__":
    main()
