"""Fits on a dask array larger than memory: streamed epochs against one read of X.

Issue 24. X is 75,000,000 x 100 float32 (27.9 GiB) in an ``.npy`` file, more
than the machine's memory (the machine line gives it), and y (float32, a
sigmoid of a linear function of X plus noise) an ``.npy`` file beside it.
Both are written chunk by chunk (``np.lib.format.open_memmap``, the same
numbers from the same seed on every run) into ``--dir`` (default: a
temporary directory; deleted at the end unless ``--keep``), then read back
as dask arrays of chunks of 1,000,000 rows (``da.from_delayed``), each chunk
a task that reads its rows from the file (``np.load(path, mmap_mode="r")``
sliced, copied into a fresh array): every pass over the data reads it from
the disk or the page cache. Each measured pass (a read of X, an epoch)
starts with the files' pages dropped from the page cache
(``posix_fadvise``), since the passes before it leave different pages
cached. The estimator's ``"sk-sigmoid-neuron.chunks"``
dask setting is left at ``"auto"`` (``--mode``), which streams data of this
size (the rule: ``hold_chunks`` of the package's dask support).

Each of these runs in a fresh process (and, on the cluster, with a fresh
``LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="9GiB")``:
worker processes, loopback only, no dashboard), after the same call on small
data (imports, compilation), in this order:

- **one read of X**, the physical floor: ``X.sum().compute()``, twice, with
  dask's threaded scheduler and on the cluster; the mean of the two reads,
  as the epochs' is their mean;
- **fits** of ``SigmoidNeuronRegressor(epochs=2, learnrate=0.5)`` and
  ``SigmoidNeuronRegressor(epochs=2)`` (learnrate="auto") with dask's
  threaded scheduler (2 threads, no client) and on the cluster: whether the
  fit completed, its wall time, the chunks of X it read (counted by the
  chunks' tasks; divided by the number of chunks: the passes over X), and
  the peak resident memory;
- **time per epoch**: a callback (scikit-learn's callback API,
  ``set_callbacks``) notes the time at the start and the end of every epoch
  task of the fit; the mean over the fit's epochs, against one read of X
  with the same scheduler (target: at most 1.3x with learnrate=0.5, whose
  fit runs no pass for the step);
- **peak RSS**: the process's peak resident memory at the end of the fit
  (``VmHWM`` of ``/proc/self/status``: from the process's start, which
  ``ru_maxrss`` is not, as it counts the parent's memory at the fork; target
  with the threaded scheduler: at most 4 GiB); on the cluster each worker's
  own at the end (and the client process's). This process also polls the
  resident memory of the child and of its worker processes (psutil, twice a
  second): the peak shown for a run that failed. RSS counts the pages of
  the file mapped while a chunk is copied out of it.

With ``--old PATH`` (a source tree of the package before the streaming
change, for example a git worktree), data that fits in memory, 1,000,000 x
50 float64 in 8 chunks of rows as in ``bench_dask.py`` (X and y columns of
one computed block per chunk), is fitted with the package of each tree:
time per epoch from fits of 3 and 23 epochs (their difference divided by
20: the setup cancels; best of ``--repeat``, in 2 rounds of one process per
tree, the trees taking turns), with the threaded scheduler and on a
2-worker LocalCluster (1 thread each, no memory limit), for chunks computed
from their source by the fit (which holds them) and for X and y persisted by
the caller; and the chunks of the source each fit computed (both trees
hold: once per chunk).

Prints the tables and writes them to
``benchmarks/results/larger_than_memory.md`` (and ``.rst``, for the user
guide). Run from the repository root (about 20 minutes and 28 GiB of free
disk; ``git worktree add /tmp/before COMMIT`` makes the old tree)::

    python benchmarks/bench_larger_than_memory.py --old /tmp/before
    python benchmarks/bench_larger_than_memory.py --quick   # prints, writes no results

``--quick``: 2,000,000 x 100 in chunks of 200,000 (its data files in a
temporary directory, deleted), with ``--mode stream`` (the rule would hold
data this small), the in-memory comparison on 100,000 x 50 once.
"""

import argparse
import contextlib
import datetime
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from _report import describe_tree, machine, md_table, rst_table, run_child, versions

RESULTS = Path(__file__).parent / "results" / "larger_than_memory.md"
CONFIG_KEY = "sk-sigmoid-neuron.chunks"
SEED = 24
GIB = 2**30
RSS_TARGET = 4 * GIB  # peak resident memory of a fit, threaded scheduler
RATIO_TARGET = 1.3  # time per streamed epoch / one read of X
MEMORY_LIMIT = "9GiB"  # of each of the cluster's 2 workers


# -- the data: written chunk by chunk, read back one task per chunk -----------------
def make_rows(i, rows, d):
    """Rows of chunk ``i``: X float32 and y float32 (the same on every run)."""
    w = np.random.default_rng(SEED).standard_normal(d).astype(np.float32)
    w /= np.float32(np.sqrt(d))
    rng = np.random.default_rng([SEED, i])
    X = rng.standard_normal((rows, d), dtype=np.float32)
    y = 1 / (1 + np.exp(-2 * (X @ w)))
    y += np.float32(0.05) * rng.standard_normal(rows, dtype=np.float32)
    return X, y


def write_data(folder, n, d, rows):
    """X.npy (n x d) and y.npy (n,) in ``folder``, one chunk of rows at a time;
    seconds taken."""
    from numpy.lib.format import open_memmap

    start = time.perf_counter()
    x_path, y_path = folder / "X.npy", folder / "y.npy"
    del_x = open_memmap(x_path, mode="w+", dtype=np.float32, shape=(n, d))
    del del_x
    Y = open_memmap(y_path, mode="w+", dtype=np.float32, shape=(n,))
    for i, a in enumerate(range(0, n, rows)):
        b = min(a + rows, n)
        Xi, yi = make_rows(i, b - a, d)
        # the file opened for each chunk: its written pages leave this process
        X = open_memmap(x_path, mode="r+")
        X[a:b] = Xi
        X.flush()
        del X
        Y[a:b] = yi
        if i % 10 == 0:
            print(f"  wrote rows {a:,} to {b:,}", flush=True)
    Y.flush()
    del Y
    return time.perf_counter() - start


READS = Counter()  # chunks read per file, in this process (no distributed worker)
_LOCK = threading.Lock()


def _count(name, times=1):
    """Count a chunk read (or computed), in this process or on its worker."""
    worker = None
    if "distributed" in sys.modules:
        try:
            worker = sys.modules["distributed"].get_worker()
        except ValueError:  # not in a worker's task
            worker = None
    if worker is None:
        # this script's own globals (a lock does not pickle for the workers)
        here = sys.modules[__name__]
        with here._LOCK:
            here.READS[name] += times
    else:  # one thread per worker
        counts = worker.__dict__.setdefault("bench_reads", Counter())
        counts[name] += times


def evict(folder):
    """Drop the data files' pages from this machine's page cache
    (``posix_fadvise(POSIX_FADV_DONTNEED)``: clean pages, no privileges
    needed), so that every measured pass starts from the same state, whatever
    the passes before it left cached. A virtual machine's disk may still be
    cached by its host."""
    if not hasattr(os, "posix_fadvise"):
        return
    for name in ("X.npy", "y.npy"):
        fd = os.open(Path(folder) / name, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def read_rows(path, a, b):
    """Rows ``a:b`` of the .npy file ``path``, copied out of the file."""
    rows = np.array(np.load(path, mmap_mode="r")[a:b])
    _count(os.path.basename(path))
    return rows


def file_arrays(folder, rows):
    """X and y of the files in ``folder`` as dask arrays of chunks of ``rows``."""
    import dask
    import dask.array as da

    x_path, y_path = str(Path(folder) / "X.npy"), str(Path(folder) / "y.npy")
    n, d = np.load(x_path, mmap_mode="r").shape
    bounds = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    load = dask.delayed(read_rows, pure=True)
    X = da.concatenate(
        [
            da.from_delayed(load(x_path, a, b), shape=(b - a, d), dtype=np.float32)
            for a, b in bounds
        ]
    )
    y = da.concatenate(
        [
            da.from_delayed(load(y_path, a, b), shape=(b - a,), dtype=np.float32)
            for a, b in bounds
        ]
    )
    return X, y


def worker_reads(client):
    """Chunks read on the cluster's workers, per file (and reset there)."""
    got = client.run(
        lambda dask_worker: dict(dask_worker.__dict__.pop("bench_reads", {}))
    )
    total = Counter()
    for counts in got.values():
        total.update(counts)
    return dict(total)


def local_cluster(workdir, memory_limit):
    import logging

    from distributed import LocalCluster

    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        host="127.0.0.1",
        dashboard_address=None,
        local_directory=workdir,
        silence_logs=logging.ERROR,
    )


def maxrss():
    """This process's peak resident memory: ``VmHWM`` (its own, from its
    start), else ``ru_maxrss`` (which on Linux also counts the parent's
    resident memory when it forked this process)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class EpochClock:
    """A callback that notes the start and end of every epoch task of a fit
    (with ``folder``: after dropping its files from the page cache)."""

    def __init__(self, folder=None):
        self.begins, self.ends, self.folder = [], [], folder

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "epoch":
            if self.folder is not None:
                evict(self.folder)
            self.begins.append(time.perf_counter())

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.ends.append(time.perf_counter())

    def epochs(self):
        return [e - b for b, e in zip(self.begins, self.ends, strict=True)]


# -- the children: one run in a fresh process ---------------------------------------
def child(spec):
    import warnings

    import dask

    import sk_sigmoid_neuron

    warnings.simplefilter("ignore")  # ConvergenceWarning after 2 epochs
    out = {"package": os.path.dirname(sk_sigmoid_neuron.__file__)}
    if spec["kind"] == "compare":
        out.update(child_compare(spec))
    else:
        if spec.get("mode"):
            dask.config.set({CONFIG_KEY: spec["mode"]})
        if spec["scheduler"] == "cluster":
            out.update(child_cluster(spec))
        else:
            dask.config.set(scheduler="threads")
            out.update(child_run(spec, None))
    out["maxrss"] = maxrss()
    print("RESULT " + json.dumps(out), flush=True)


def child_cluster(spec):
    from distributed import Client

    with (
        tempfile.TemporaryDirectory() as workdir,
        local_cluster(workdir, MEMORY_LIMIT) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: None)  # workers up
        out = child_run(spec, client)
        peaks = client.run(maxrss)
        out["workers_maxrss"] = sorted(peaks.values(), reverse=True)
        out["workers"] = len(peaks)
    return out


def child_run(spec, client):
    """One read-of-X run or one fit, on the files of ``spec["dir"]``."""
    import dask.array as da

    from sk_sigmoid_neuron import SigmoidNeuronRegressor

    X, y = file_arrays(spec["dir"], spec["rows"])
    small = np.random.default_rng(0).standard_normal((4000, X.shape[1]))
    Xs = da.from_array(small.astype(np.float32), chunks=(1000, -1))
    ys = da.from_array(1 / (1 + np.exp(-small[:, 0])), chunks=1000)
    out = {"chunks": X.numblocks[0]}

    def reads():
        counts = dict(READS) if client is None else worker_reads(client)
        READS.clear()
        return counts

    if spec["kind"] == "read":
        Xs.sum().compute()
        times = []
        for _ in range(spec["repeat"]):
            evict(spec["dir"])
            start = time.perf_counter()
            X.sum().compute()
            times.append(time.perf_counter() - start)
        out.update(times=times, reads=reads())
        return out

    learnrate = spec["learnrate"]

    def model(epochs):
        return SigmoidNeuronRegressor(
            epochs=epochs, learnrate=learnrate, random_state=0
        )

    model(2).fit(Xs, ys)  # imports and compilation, here and on the workers
    reads()
    clock = EpochClock(spec["dir"])
    est = model(spec["epochs"])
    est.set_callbacks(clock)
    start = time.perf_counter()
    try:
        est.fit(X, y)
    except Exception as exc:  # reported, not hidden
        out.update(
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - start,
            reads=reads(),
        )
        return out
    out.update(
        seconds=time.perf_counter() - start,
        epochs=clock.epochs(),
        reads=reads(),
        loss_curve=[float(v) for v in est.loss_curve_],
        coef=np.ravel(est.coef_).tolist() + np.ravel(est.intercept_).tolist(),
        learnrate=float(getattr(est, "learnrate_", learnrate) or 0.0),
    )
    return out


def make_block(i, rows, d):
    """Block ``i`` of the in-memory data: X and y as columns (as bench_dask)."""
    _count("source")
    rng = np.random.default_rng(1000 + i)
    X = rng.standard_normal((rows, d))
    w = np.random.default_rng(0).standard_normal(d) / np.sqrt(d)
    y = 10.0 * np.tanh(X @ w) + rng.standard_normal(rows)
    return np.column_stack([X, y])


def child_compare(spec):
    """Time per epoch on data that fits in memory, with the package imported."""
    import dask
    import dask.array as da
    from distributed import Client

    from sk_sigmoid_neuron import SigmoidNeuronRegressor

    n, d, n_chunks = spec["n"], spec["d"], spec["chunks"]
    e1, e2 = spec["e1"], spec["e2"]
    rows = n // n_chunks

    def arrays(persist):
        blocks = [
            da.from_delayed(
                dask.delayed(make_block)(i, rows, d),
                shape=(rows, d + 1),
                dtype=np.float64,
            )
            for i in range(n_chunks)
        ]
        Xy = da.concatenate(blocks)
        X, y = Xy[:, :d], Xy[:, d]
        if persist:
            X, y = dask.persist(X, y)
        return X, y

    results = {}
    with (
        tempfile.TemporaryDirectory() as workdir,
        local_cluster(workdir, 0) as cluster,
    ):
        for scheduler in ("threads", "cluster"):
            client = Client(cluster) if scheduler == "cluster" else None
            try:
                # (dask.config.set takes effect when made, not when entered)
                with (
                    dask.config.set(scheduler="threads")
                    if client is None
                    else contextlib.nullcontext()
                ):
                    if client is not None:
                        client.run(lambda: None)

                    def counted(client=client):
                        counts = dict(READS) if client is None else worker_reads(client)
                        READS.clear()
                        return counts.get("source", 0)

                    small = arrays(False)
                    SigmoidNeuronRegressor(epochs=2, learnrate=0.5).fit(
                        small[0][:1000], small[1][:1000]
                    )  # imports, compilation
                    for source in ("source", "persisted"):
                        X, y = arrays(source == "persisted")
                        counted()
                        best, computed = {}, {}
                        for _ in range(spec["repeat"]):
                            for epochs in (e1, e2):
                                start = time.perf_counter()
                                SigmoidNeuronRegressor(
                                    epochs=epochs, learnrate=0.5, random_state=0
                                ).fit(X, y)
                                seconds = time.perf_counter() - start
                                best[epochs] = min(best.get(epochs, math.inf), seconds)
                                computed[epochs] = counted()
                        results[f"{scheduler}/{source}"] = {
                            "epoch": max(best[e2] - best[e1], 0.0) / (e2 - e1),
                            "setup": best[e1],
                            "computed": computed[e2],
                        }
                        del X, y
            finally:
                if client is not None:
                    client.close()
    return {"cases": results}


# -- the parent: runs the children, polls their memory -------------------------------
LOADS = []  # the 1-minute load average at the start and end of each run


def run_polled(spec, timeout):
    """Run ``spec`` in a child process (this script with ``--child``), polling
    the resident memory of the child and its descendants; its RESULT, or
    ``{"error": ...}``, with the polled peaks added."""
    try:
        import psutil
    except ImportError:
        psutil = None
    load0 = os.getloadavg()[0]
    # the package of this script's tree (an editable install may be another)
    tree = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,  # its own process group: ended whole on timeout
        )
        peak_main, peak_others, timed_out = 0, {}, False
        watched = psutil.Process(proc.pid) if psutil else None
        while proc.poll() is None:
            if watched is not None:
                try:
                    peak_main = max(peak_main, watched.memory_info().rss)
                    for p in watched.children(recursive=True):
                        try:
                            rss = p.memory_info().rss
                        except psutil.Error:
                            continue
                        peak_others[p.pid] = max(peak_others.get(p.pid, 0), rss)
                except psutil.Error:
                    pass
            if time.perf_counter() - start > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.5)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if lines:
        result = json.loads(lines[-1][len("RESULT ") :])
        want = tree / "sk_sigmoid_neuron"
        if Path(result["package"]).resolve() != want:
            sys.exit(f"imported {result['package']}, not {want}: check PYTHONPATH")
    else:
        code = proc.returncode
        if timed_out:
            why = f"stopped after {timeout:.0f} s (--timeout)"
        elif code is not None and code < 0:
            name = signal.Signals(-code).name
            why = f"killed by {name}" + (
                " (the kernel's out-of-memory killer?)"
                if -code == signal.SIGKILL
                else ""
            )
        else:
            tail = stderr.strip().splitlines()
            why = tail[-1] if tail else f"exit {code}"
        result = {"error": why, "stderr_tail": stderr.strip().splitlines()[-15:]}
    LOADS.extend([load0, os.getloadavg()[0]])
    result["polled_main"] = peak_main
    result["polled_others"] = sorted(peak_others.values(), reverse=True)
    result["process_seconds"] = wall
    return result


def gib(nbytes):
    return f"{nbytes / GIB:.2f} GiB"


def seconds_text(s):
    return f"{s:,.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000,000 x 100")
    parser.add_argument("--dir", help="where to write the data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the data files")
    parser.add_argument(
        "--mode",
        choices=["auto", "hold", "stream"],
        help=f"dask.config's {CONFIG_KEY!r} for the fits (default: auto; "
        "stream with --quick)",
    )
    parser.add_argument("--old", metavar="PATH", help="the package's tree before")
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds per run (default 3600)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    import psutil

    began = time.perf_counter()
    n, d, rows = (
        (2_000_000, 100, 200_000) if args.quick else (75_000_000, 100, 1_000_000)
    )
    mode = args.mode or ("stream" if args.quick else "auto")
    repeat = 1 if args.quick else args.repeat
    x_bytes = n * d * 4
    here = Path(__file__).resolve().parent.parent
    new_commit = describe_tree(here)
    available0 = psutil.virtual_memory().available
    machine_line = (
        machine(versions("dask", "distributed", "psutil")) + "; no GPU (none used)"
    )
    print(f"Machine: {machine_line}", flush=True)
    print(f"memory available now: {gib(available0)}", flush=True)

    # 1. data that fits in memory, the package before and now
    compare = None
    if args.old:
        old_commit = describe_tree(args.old)
        spec = {
            "kind": "compare",
            "n": 100_000 if args.quick else 1_000_000,
            "d": 50,
            "chunks": 8,
            "e1": 3,
            "e2": 13 if args.quick else 23,
            "repeat": repeat,
        }
        rounds = 1 if args.quick else 2
        compare = {"new": [], "old": []}
        for r in range(rounds):
            for label, tree in (("new", here), ("old", Path(args.old))):
                load0 = os.getloadavg()[0]
                got = run_child(__file__, spec, tree)
                LOADS.extend([load0, os.getloadavg()[0]])
                compare[label].append(got)
                print(f"compare round {r + 1} {label}: {json.dumps(got)}", flush=True)

    # 2. the data on disk
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sk-ltm-"))
    folder.mkdir(parents=True, exist_ok=True)
    need = x_bytes + n * 4 + GIB
    free = shutil.disk_usage(folder).free
    if free < need:
        sys.exit(f"{gib(free)} free where the data goes; it needs {gib(need)} (--dir)")
    runs = {}
    try:
        exists = (folder / "X.npy").exists() and (folder / "y.npy").exists()
        if exists and np.load(folder / "X.npy", mmap_mode="r").shape == (n, d):
            write_seconds = None
            print("using the data files there", flush=True)
        else:
            print(f"writing {n:,} x {d} float32 ({gib(x_bytes)})", flush=True)
            write_seconds = write_data(folder, n, d, rows)
            print(f"written in {write_seconds:.0f} s", flush=True)
        base = {"dir": str(folder), "rows": rows, "mode": mode}
        plan = []
        for scheduler in ("threads", "cluster"):
            plan.append(("read", scheduler, None))
            plan.append(("fit", scheduler, 0.5))
            plan.append(("fit", scheduler, "auto"))
        for kind, scheduler, learnrate in plan:
            spec = {**base, "kind": kind, "scheduler": scheduler}
            if kind == "read":
                spec["repeat"] = 2
            else:
                spec.update(learnrate=learnrate, epochs=2)
            print(f"{kind} {scheduler} learnrate={learnrate} ...", flush=True)
            got = run_polled(spec, args.timeout)
            runs[(kind, scheduler, learnrate)] = got
            brief = {k: v for k, v in got.items() if k not in ("coef", "stderr_tail")}
            print(f"  {json.dumps(brief)}", flush=True)
            if "stderr_tail" in got:
                print("  stderr: " + "\n  ".join(got["stderr_tail"]), flush=True)
    finally:
        if args.dir and args.keep:
            print(f"kept the data in {folder}")
        elif args.keep:
            print(f"kept the data in {folder}")
        else:
            for name in ("X.npy", "y.npy"):
                (folder / name).unlink(missing_ok=True)
            if not args.dir:
                shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - began

    # 3. the tables
    n_chunks = math.ceil(n / rows)
    header = [
        "run",
        "scheduler",
        "completed",
        "wall time",
        "chunks of X read (passes)",
        "time per epoch",
        "one read of X",
        "epoch / read",
        "peak RSS",
        "targets",
    ]
    cells, summary = [], []
    sched_text = {
        "threads": "threaded (2 threads)",
        "cluster": "LocalCluster, 2 workers x 1 thread, 9 GiB each",
    }
    floors = {}
    for scheduler in ("threads", "cluster"):
        r = runs.get(("read", scheduler, None), {"error": "not run"})
        if "error" not in r:
            floors[scheduler] = sum(r["times"]) / len(r["times"])
    for (kind, scheduler, learnrate), r in runs.items():
        floor = floors.get(scheduler)
        ok = "error" not in r
        x_reads = (
            r.get("reads", {}).get("X.npy")
            if isinstance(r.get("reads"), dict)
            else None
        )
        reads_text = (
            f"{x_reads:,} ({x_reads / n_chunks:.2f})" if x_reads is not None else "n/a"
        )
        if scheduler == "threads":
            rss = r.get("maxrss") or r.get("polled_main", 0)
            rss_text = gib(rss) + ("" if r.get("maxrss") else " (polled)")
        else:
            workers = r.get("workers_maxrss") or r.get("polled_others", [])
            shown = " / ".join(gib(v) for v in workers[:2]) or "n/a"
            rss_text = f"workers {shown}" + (
                "" if r.get("workers_maxrss") else " (polled)"
            )
            client_rss = r.get("maxrss") or r.get("polled_main", 0)
            rss_text += f"; client {gib(client_rss)}"
        if kind == "read":
            name = "one read of X: X.sum().compute()"
            wall = ""
            if ok:
                mean = sum(r["times"]) / len(r["times"])
                wall = (
                    f"{mean:.1f} s ({x_bytes / mean / GIB:.2f} GiB/s; reads "
                    f"{', '.join(f'{t:.1f}' for t in r['times'])} s)"
                )
            cells.append(
                [
                    name,
                    sched_text[scheduler],
                    "yes" if ok else f"NO: {r['error']}",
                    wall,
                    reads_text,
                    "",
                    seconds_text(floor) if floor else "",
                    "1.00x" if floor else "",
                    rss_text,
                    "",
                ]
            )
            continue
        lr = "0.5" if learnrate == 0.5 else '"auto"'
        name = f"fit, epochs=2, learnrate={lr}"
        epochs = r.get("epochs") or []
        per_epoch = sum(epochs) / len(epochs) if epochs else None
        ratio = per_epoch / floor if per_epoch and floor else None
        targets = []
        if learnrate == 0.5 and ratio is not None:
            met = "met" if ratio <= RATIO_TARGET else "NOT met"
            targets.append(f"epoch / read <= {RATIO_TARGET}: {met}")
        if scheduler == "threads":
            peak = r.get("maxrss") or r.get("polled_main", 0)
            met = "met" if ok and peak <= RSS_TARGET else "NOT met"
            targets.append(f"RSS <= 4 GiB: {met}")
        epoch_text = (
            f"{per_epoch:.1f} s ({', '.join(f'{t:.1f}' for t in epochs)})"
            if per_epoch
            else ""
        )
        wall = seconds_text(r["seconds"]) if "seconds" in r else ""
        if ok and per_epoch:
            wall += f" ({r['seconds'] - sum(epochs):.1f} s outside the epochs)"
        cells.append(
            [
                name,
                sched_text[scheduler],
                "yes" if ok else f"NO: {r['error']}",
                wall,
                reads_text,
                epoch_text,
                seconds_text(floor) if floor else "",
                f"{ratio:.2f}x" if ratio else "",
                rss_text,
                "; ".join(targets),
            ]
        )
    # the same fit on both schedulers: the same numbers
    for lr in (0.5, "auto"):
        a, b = (
            runs.get(("fit", "threads", lr), {}),
            runs.get(("fit", "cluster", lr), {}),
        )
        if "coef" in a and "coef" in b:
            diff = float(np.max(np.abs(np.subtract(a["coef"], b["coef"]))))
            summary.append(
                f"learnrate={lr}: the cluster's fit and the threaded one differ by "
                f"{diff:.1e} at most in the coefficients (loss "
                f"{a['loss_curve'][-1]:.6g} and {b['loss_curve'][-1]:.6g} after "
                f"{len(a['loss_curve'])} epochs"
                + (f", step {a['learnrate']:.4g}" if lr == "auto" else "")
                + ")."
            )

    compare_header = compare_cells = None
    if compare is not None:
        cases = [
            ("threads/source", "chunks from their source, held by the fit", "threaded"),
            (
                "cluster/source",
                "chunks from their source, held by the fit",
                "LocalCluster",
            ),
            ("threads/persisted", "X and y persisted by the caller", "threaded"),
            ("cluster/persisted", "X and y persisted by the caller", "LocalCluster"),
        ]
        ok_new = [g for g in compare["new"] if "cases" in g]
        ok_old = [g for g in compare["old"] if "cases" in g]
        compare_header = [
            "data",
            "scheduler",
            f"before ({old_commit or 'old tree'}): ms / epoch",
            f"now ({new_commit or 'this tree'}): ms / epoch",
            "now / before",
            "source chunks computed per fit (before / now)",
        ]
        compare_cells = []
        for key, data, sched in cases:

            def best(got, key=key):
                if not got:
                    return None, None
                return (
                    min(g["cases"][key]["epoch"] for g in got),
                    got[-1]["cases"][key]["computed"],
                )

            (old_e, old_c), (new_e, new_c) = best(ok_old), best(ok_new)
            compare_cells.append(
                [
                    data,
                    sched,
                    f"{old_e * 1e3:.2f}" if old_e is not None else "error",
                    f"{new_e * 1e3:.2f}" if new_e is not None else "error",
                    f"{new_e / old_e:.2f}x" if new_e and old_e else "",
                    f"{old_c} / {new_c}"
                    if old_c is not None and new_c is not None
                    else "",
                ]
            )
        errors = [g["error"] for g in compare["new"] + compare["old"] if "error" in g]
        if errors:
            summary.append("Errors in the comparison: " + "; ".join(errors))

    when = datetime.date.today().isoformat()
    minutes = elapsed / 60
    written = f"written in {write_seconds:.0f} s" if write_seconds else "written before"
    intro = (
        f"Generated by `python benchmarks/bench_larger_than_memory.py"
        f"{' --quick' if args.quick else ''}` on {when} ({minutes:.0f} min). "
        f"Machine: {machine_line}; {gib(available0)} of memory available at the "
        f"start; the 1-minute load average between {min(LOADS):.1f} and "
        f"{max(LOADS):.1f} at the starts and ends of the runs (other work on the "
        f"machine included). Package: {describe_text(new_commit)}.\n\n"
        f"X: {n:,} x {d} float32 ({gib(x_bytes)}) in an .npy file on the local disk "
        f"({written}), y float32 in another; {n_chunks} dask chunks of {rows:,} rows, "
        "each a task that reads its rows from the file (np.load with "
        "mmap_mode='r', sliced and copied): every pass reads X from the disk or "
        f"the page cache. dask.config's '{CONFIG_KEY}': '{mode}'. Each run in a "
        "fresh process (on the cluster with a fresh LocalCluster of 2 worker "
        f"processes, 1 thread and memory_limit='{MEMORY_LIMIT}' each), after the "
        "same call on small data. Every read of X and every epoch starts with "
        "the files' pages dropped from the page cache (posix_fadvise; the "
        "host of a virtual machine may still cache its disk). One read of X: "
        "X.sum().compute(), the mean of two. Time per epoch: from a callback "
        "that notes the start and end of each epoch task (the fit's 2 epochs "
        "in parentheses); the rest of a fit is its other passes: before the "
        "epochs the check of the values (reads X), the target range and the "
        'weights\' sum (y only) and the step of learnrate="auto" (X), after '
        "them the diagnostics' sums (X). Chunks of X read: counted by the "
        "chunks' tasks, in parentheses divided by the number of chunks. Peak "
        "RSS: VmHWM of the process at the end (with the threaded scheduler: "
        "of the process that fits; on the cluster: of each worker, and of the "
        "client); it counts the file's pages mapped while a chunk is copied "
        "out. Targets (issue 24): time per streamed epoch at most "
        f"{RATIO_TARGET}x one read of X (learnrate=0.5); peak RSS at most 4 GiB "
        "with the threaded scheduler."
    )
    parts_md = [
        "# Fits on data larger than memory",
        "",
        intro,
        "",
        md_table(header, cells),
        "",
        *(s + "\n" for s in summary),
    ]
    parts_rst = [intro.replace("`", "``"), "", rst_table(header, cells), ""]
    parts_rst += [s.replace("`", "``") + "\n" for s in summary]
    if compare_cells is not None:
        compare_intro = (
            f"Data that fits in memory: {spec_text(args.quick)} float64 in 8 chunks "
            "of rows (X and y columns of one computed block per chunk, as in "
            "bench_dask.py), learnrate=0.5, with the package before the streaming "
            f"change ({describe_text(old_commit)}) and now. Time per epoch from "
            "fits of 3 and "
            f"{13 if args.quick else 23} epochs (their difference: the setup "
            f"cancels), best of {repeat} in each of {1 if args.quick else 2} rounds "
            "of one process per tree, the trees taking turns; the threaded "
            "scheduler (2 threads), or a LocalCluster of 2 workers with 1 thread "
            "each. Source chunks computed: blocks computed by the fit of the most "
            "epochs (held: each block twice in the first pass, once for X's chunk "
            "and once for y's; a pass per epoch would add 16; persisted by the "
            "caller: none)."
        )
        parts_md += [
            "## Data that fits in memory, before and now",
            "",
            compare_intro,
            "",
            md_table(compare_header, compare_cells),
            "",
        ]
        parts_rst += [
            compare_intro.replace("`", "``"),
            "",
            rst_table(compare_header, compare_cells),
            "",
        ]
    md = "\n".join(parts_md).rstrip() + "\n"
    rst = "\n".join(parts_rst).rstrip() + "\n"
    print("\n" + md)
    print(f"total {elapsed:.0f} s")
    if args.quick:
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(md, encoding="utf-8")
    RESULTS.with_suffix(".rst").write_text(rst, encoding="utf-8")
    print(f"wrote {RESULTS} and {RESULTS.with_suffix('.rst')}")


def describe_text(commit):
    if not commit:
        return "a tree outside git"
    text = f"commit {commit.rstrip('+')}"
    return text + (" with uncommitted changes" if commit.endswith("+") else "")


def spec_text(quick):
    return "100,000 x 50" if quick else "1,000,000 x 50"


if __name__ == "__main__":
    main()
