"""Whether a dask fit holds its chunks in memory or streams them from their
source at every pass (``_dask_chunks._Chunks``), judged by the memory available:
the workers' memory limits less their use on a ``distributed`` cluster, this
machine's available memory with dask's local schedulers."""

import os
import threading
from collections import Counter

# The dask configuration key that chooses between holding and streaming the
# chunks: "auto" (the rule of hold_chunks), "hold" or "stream".
CONFIG_KEY = "sk-sigmoid-neuron.chunks"
# "auto" holds the chunks when they take at most this share of the memory
# available; the rest is left to the work and to other data.
HOLD_FRACTION = 0.5
# Chunks that a thread may have in memory at once while streaming (its input,
# the one loading next, their conversions).
STREAM_CHUNKS = 4


def hold_chunks(Xd, held_bytes, client):
    """Whether a fit holds the chunks in memory (or streams them), and the
    memory it judged by: ``(hold, available, per_thread)`` in bytes.

    The key ``"sk-sigmoid-neuron.chunks"`` of ``dask.config`` decides:
    ``"hold"``, ``"stream"`` or ``"auto"`` (the default). "auto" holds the
    chunks when ``held_bytes`` (what holding adds to memory: X in its
    training dtype unless its chunks are in memory already, ``X.persist()``,
    the targets and the weights) is at most ``HOLD_FRACTION`` of the memory
    available: the workers' memory limits less what they use, or this
    machine's available memory with dask's local schedulers. Raises a
    MemoryError, before any chunk is read, when "hold" cannot hold, or when
    the chunks are too large to stream.
    """
    import dask

    mode = dask.config.get(CONFIG_KEY, "auto")
    if mode not in ("auto", "hold", "stream"):
        raise ValueError(
            f"dask.config's {CONFIG_KEY!r} is {mode!r}; use 'auto', 'hold' or 'stream'."
        )
    available, per_thread = available_memory(client)
    where = "on the cluster's workers" if client is not None else "on this machine"
    size = f"X ({gib(Xd.nbytes)} as {Xd.dtype})"
    if mode == "hold" and held_bytes > available:
        raise MemoryError(
            f"{size} does not fit in the memory available {where} "
            f"({gib(available)}), and dask.config's {CONFIG_KEY!r} is 'hold'. "
            f"Set it to 'auto' or 'stream' (dask.config.set({{{CONFIG_KEY!r}: "
            "'stream'})) to read the chunks from their source at each pass."
        )
    if mode == "hold" or (mode == "auto" and held_bytes <= HOLD_FRACTION * available):
        return True, available, per_thread
    chunk = max(Xd.chunks[0]) * Xd.nbytes // max(Xd.shape[0], 1)
    if STREAM_CHUNKS * chunk > per_thread:
        raise MemoryError(
            f"{size} is streamed from its source, {STREAM_CHUNKS} chunks at a "
            f"time per thread, but its largest chunk of rows is {gib(chunk)} "
            f"and each thread has {gib(per_thread)} of the memory available "
            f"{where} ({gib(available)}). Read X from its source in smaller "
            "chunks of rows (fewer rows per file, or per block of "
            "dask.array.from_delayed): rechunking X after reading it still "
            "reads each source chunk whole at every pass."
        )
    return False, available, per_thread


def available_memory(client=None):
    """``(bytes, bytes per thread)`` of memory available: the sum over the
    workers of their memory limit less what they use (a worker without a
    limit: its share of its machine's available memory), or this machine's
    available memory and dask's threads."""
    if client is None:
        import dask

        available = machine_available()
        threads = dask.config.get("num_workers", None) or os.cpu_count() or 1
        return available, available / threads
    workers = client.scheduler_info()["workers"]
    unlimited = [a for a, w in workers.items() if not w["memory_limit"]]
    machines = client.run(machine_available, workers=unlimited) if unlimited else {}
    sharing = Counter(workers[a]["host"] for a in unlimited)
    rooms = []
    for address, w in workers.items():
        if w["memory_limit"]:
            room = w["memory_limit"] - w["metrics"]["memory"]
        else:
            room = machines[address] / sharing[w["host"]]
        rooms.append((max(room, 0), max(w["nthreads"], 1)))
    return sum(r for r, _ in rooms), min((r / t for r, t in rooms), default=0)


def machine_available():
    """This machine's available memory (psutil's), or its free memory where
    psutil is not installed (an underestimate: without the page cache), or
    0 where neither is known."""
    try:
        import psutil
    except ImportError:
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return 0
    return psutil.virtual_memory().available


def persisted(arr):
    """Whether every chunk of ``arr`` is in memory already (computed values,
    or futures on a cluster, in its graph; through aliases such as
    ``from_delayed``'s)."""
    from dask.core import flatten, istask

    graph = dict(arr.__dask_graph__())

    def computed(key):
        for _ in range(len(graph)):
            value = graph[key]
            if istask(value):
                return False
            try:
                if value not in graph:  # a value, not another key
                    return True
            except TypeError:  # unhashable: a value
                return True
            key = value
        return False

    return all(computed(key) for key in flatten(arr.__dask_keys__()))


def gib(nbytes):
    return f"{nbytes / 2**30:.1f} GiB"


class Room:
    """Whether this machine keeps room for the chunks yet to be held, asked as
    each chunk is held by dask's local schedulers: when the memory available
    runs short of them (the rule misjudged, or other programs took memory),
    the fit streams instead."""

    def __init__(self, rest, margin):
        self.rest, self.margin, self.full = rest, margin, False
        self._lock = threading.Lock()  # the threaded scheduler's tasks take at once

    def take(self, nbytes):
        with self._lock:
            self.rest -= nbytes
            self.full = self.full or machine_available() < self.rest + self.margin
            return not self.full
