"""The chunks of a dask fit, held where they live or streamed from their source.

:class:`_Chunks` is what ``_dask.DaskSource`` maps its passes over: one part
per chunk of rows, either computed once and held (in this process's memory
with the local schedulers, in the workers' on a cluster) or made again from
the chunk's source at every pass, by the rule of ``_dask_memory``. A
streamed chunk is computed inside the task that uses it (:class:`_Inline`).
"""

import math
import sys
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

import numpy as np

from ._dask_memory import (
    CONFIG_KEY,
    STREAM_CHUNKS,
    Room,
    gib,
    hold_chunks,
    machine_available,
    persisted,
)
from ._kernels import one_blas_thread
from ._parts import (
    _part_apply,
    _part_args,
    _part_count_present,
    _part_extremes,
    _part_get,
    _part_held_out,
    _part_split_sums,
    _part_weight_sums,
)
from ._stepsize import _weight_sum

# Most of a worker's memory limit that the held parts of one task take.
GROUP_SHARE = 0.25
# The passes that read y and the weights only: streamed, they load no X.
_WITHOUT_X = (
    _part_count_present,
    _part_extremes,
    _part_get,
    _part_split_sums,
    _part_weight_sums,
)


# -- the chunks of a fit: held or streamed (the rule: _dask_memory) ----------
class _Chunks:
    """One part per chunk of rows, a dict, held where it lives or made again
    from the chunk's source at every pass.

    :meth:`map` runs a function on every part (one task per chunk on a
    cluster or streamed, a call per held part in this process otherwise)
    and returns the results in chunk order; :meth:`transform` replaces every part
    by a function of it: held parts are replaced where they live, streamed
    ones record the function, which every later pass applies to the chunk.
    """

    def __init__(self, Xd, Yd, sd):
        from dask import delayed

        self.client = _active_client()
        # the graphs as given (not fused per array), so that a source X and y
        # share stays one task: computed once where X and y meet
        xs = Xd.to_delayed(optimize_graph=False).ravel()
        ys = Yd.to_delayed(optimize_graph=False).ravel()
        ss = (
            sd.to_delayed(optimize_graph=False).ravel()
            if sd is not None
            else [None] * len(xs)
        )
        self.sources = list(zip(xs, ys, ss, strict=True))
        # what a pass that reads no X gets instead: the chunk's shape
        self.shapes = [((rows, Xd.shape[1]), Xd.dtype) for rows in Xd.chunks[0]]
        self.steps, self._state, self.parts, self._groups = [], None, None, None
        self._inline = None
        k, size = Yd.shape[1], Xd.dtype.itemsize
        row_bytes = Xd.shape[1] * size + 8 * k + size * (k + 2)
        self._nbytes = [rows * row_bytes for rows in Xd.chunks[0]]
        # X's chunks already in memory (persisted) are held as they are
        copied = 0 if persisted(Xd) else Xd.nbytes
        held = copied + Xd.shape[0] * (8 * k + size * (k + 2))
        hold, _, _ = hold_chunks(Xd, held, self.client)
        if not hold:
            return
        margin = STREAM_CHUNKS * max(Xd.chunks[0]) * held // max(Xd.shape[0], 1)
        room = None if self.client is not None else Room(held, margin)
        parts = self._run(
            [delayed(_chunk_raw)(x, y, s, room) for x, y, s in self.sources],
            keep=True,
        )
        if room is None or not any(p is None for p in parts):
            self.parts = parts
        else:
            import dask

            del parts
            if dask.config.get(CONFIG_KEY, "auto") == "hold":
                raise MemoryError(
                    f"X ({gib(Xd.nbytes)} as {Xd.dtype}) does not fit in the "
                    f"memory available on this machine ({gib(machine_available())}"
                    f" now), and dask.config's {CONFIG_KEY!r} is 'hold'. Set it "
                    "to 'auto' or 'stream' to read the chunks from their source "
                    "at each pass."
                )

    def close(self):
        self.parts = self._state = self.sources = self._inline = None  # releases

    def _run(self, tasks, keep=False):
        """The results of ``tasks`` (futures on the cluster with ``keep``)."""
        if self.client is None:
            import dask

            return list(dask.compute(*tasks))
        if not keep:
            return self.client.gather(self.client.compute(tasks))
        from distributed import wait

        futures = [
            self.client.compute(task, **_where(worker))
            for task, worker in zip(tasks, self._spread(len(tasks)), strict=True)
        ]

        wait(futures)
        self._groups = self._grouped(futures)
        return futures

    def _spread(self, n):
        """A worker for each of ``n`` parts to hold: consecutive parts
        together, each worker's share by its threads (so that every pass is
        balanced, wherever the chunks' sources were computed)."""
        slots = [w for w, k in sorted(self.client.nthreads().items()) for _ in range(k)]
        if not slots:
            return [None] * n
        return [slots[i * len(slots) // n] for i in range(n)]

    def _grouped(self, futures):
        """The held parts on the cluster in groups, each run by one task at a
        pass (a task costs the scheduler more than a pass over a part in
        memory): per worker, as many groups as it has threads, or more, so
        that a group's parts take at most ``GROUP_SHARE`` of its memory
        limit. ``[(worker, chunk indices), ...]`` in chunk order."""
        who = self.client.who_has(futures)
        workers = self.client.scheduler_info()["workers"]
        by_worker = {}
        for i, future in enumerate(futures):
            holder = (who.get(future.key) or [None])[0]
            by_worker.setdefault(holder, []).append(i)
        groups = []
        for holder, idx in by_worker.items():
            info = workers.get(holder, {})
            n_groups = max(1, info.get("nthreads", 1))
            if info.get("memory_limit"):
                held = sum(self._nbytes[i] for i in idx)
                bound = GROUP_SHARE * info["memory_limit"]
                n_groups = max(n_groups, math.ceil(held / bound))
            for part in np.array_split(np.asarray(idx), min(len(idx), n_groups)):
                groups.append((holder, part.tolist()))
        return sorted(groups, key=lambda group: group[1][0])

    def _in_process(self, func, kwargs, per_chunk):
        """``func`` on each part held in this process (the local
        schedulers), on as many threads as dask's threaded scheduler would
        use (one with the synchronous one): a graph per pass costs more than
        a pass over small parts."""
        calls = [
            (func, _part_args(kwargs, per_chunk, i), part)
            for i, part in enumerate(self.parts)
        ]
        n_threads = min(_local_threads(), len(calls))
        if n_threads <= 1:
            return [_run_one(*call) for call in calls]
        # each call in a copy of this context (numpy 2 keeps its error state
        # there; the part functions set their own as well)
        contexts = [copy_context() for _ in calls]
        with ThreadPoolExecutor(n_threads) as pool:
            return list(
                pool.map(lambda c, call: c.run(_run_one, *call), contexts, calls)
            )

    def _tasks(self, func, kwargs, per_chunk):
        """A task per chunk: ``func`` on the chunk's part (held on a
        cluster, or streamed)."""
        import dask

        if self.parts is not None:
            return [
                dask.delayed(_run_one)(func, _part_args(kwargs, per_chunk, i), part)
                for i, part in enumerate(self.parts)
            ]
        if self._state is None:  # the transforms so far, per chunk (once)
            self._state = [
                [(f, _part_args(kw, names, i)) for f, kw, names in self.steps]
                for i in range(len(self.sources))
            ]
        if self._inline is None:  # the chunks, each read inside its task
            self._inline = _Inline.chunks(self.sources)
        reads_x = _reads_x(func, kwargs)
        tasks = []
        for i, chunk in enumerate(self._inline):
            # a cluster reads the chunks in their order (the source's order
            # on disk), not in the arbitrary one of independent tasks
            with dask.annotate(priority=-i):
                tasks.append(
                    dask.delayed(_streamed)(
                        func,
                        _part_args(kwargs, per_chunk, i),
                        self._state[i],
                        chunk,
                        None if reads_x else self.shapes[i],
                    )
                )
        return tasks

    def transform(self, func, *, per_chunk=(), **kwargs):
        """Replace each part by ``func(part, **kwargs)``; the arguments named
        in ``per_chunk`` are lists with one value per chunk."""
        if self.parts is None:
            self.steps = [*self.steps, (func, kwargs, per_chunk)]
            self._state = None
        elif self.client is None:
            self.parts = self._in_process(func, kwargs, per_chunk)
        else:
            self.parts = self._run(self._tasks(func, kwargs, per_chunk), keep=True)

    def map(self, func, *, per_chunk=(), **kwargs):
        """``[func(part, **kwargs) for part in parts]``: one task per
        streamed chunk, per group of held chunks on a cluster
        (:meth:`_grouped`), a call per part held in this process
        (:meth:`_in_process`); the arguments named in ``per_chunk`` have one
        value per chunk."""
        if self.parts is None:
            return self._run(self._tasks(func, kwargs, per_chunk))
        if self.client is None:
            return self._in_process(func, kwargs, per_chunk)
        futures = [
            self.client.submit(
                _run_group,
                func,
                [_part_args(kwargs, per_chunk, i) for i in idx],
                *[self.parts[i] for i in idx],
                pure=False,
                **_where(holder),
            )
            for holder, idx in self._groups
        ]
        out = [None] * len(self.parts)
        for (_, idx), results in zip(
            self._groups, self.client.gather(futures), strict=True
        ):
            for i, result in zip(idx, results, strict=True):
                out[i] = result
        return out


def _reads_x(func, kwargs):
    if func is _part_apply:
        return kwargs["train_func"] is not _weight_sum
    if func is _part_held_out:
        return kwargs["with_X"]
    return func not in _WITHOUT_X


def _local_threads():
    """The threads of dask's local scheduler in use (1: synchronous)."""
    import dask
    from dask.base import get_scheduler
    from dask.local import get_sync
    from dask.system import CPU_COUNT

    if get_scheduler() is get_sync:
        return 1
    return dask.config.get("num_workers", None) or CPU_COUNT


def _active_client():
    """The distributed Client dask would compute with now, or None."""
    if "distributed" not in sys.modules:
        return None
    import dask.base
    from distributed import Client

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


# -- what runs on the chunks ---------------------------------------------------
def _chunk_raw(X, Y, s, room=None):
    """The chunk as a part (None when ``room`` has none left to hold it):
    the arrays given where they are C-contiguous in the dtype needed (a
    persisted chunk is not copied), else converted copies."""
    given = (X, Y, s)
    if isinstance(X, tuple):  # a pass that reads no X: zeros of its shape
        X = np.broadcast_to(np.zeros((), X[1]), X[0])
    else:
        X = np.ascontiguousarray(X)
    Y = np.asarray(Y, dtype=np.float64)
    s = None if s is None else np.asarray(s, dtype=np.float64)
    if room is not None:
        nbytes = sum(
            a.nbytes for a, g in zip((X, Y, s), given, strict=True)
            if a is not None and not np.may_share_memory(a, g)
        )  # fmt: skip
        if not room.take(nbytes):
            return None
    return {"X": X, "Y": Y, "s": s}


def _where(worker):
    """Where a task runs: by the worker that holds its parts when it is known
    (a chunk whose computation failed has none; its error is raised when
    gathered)."""
    return {} if worker is None else {"workers": [worker], "allow_other_workers": True}


def _run_group(func, args, *parts):
    """``func`` on held parts. Every task on chunks runs with a one-thread
    BLAS and no threads of its own: dask runs chunks in parallel already."""
    with one_blas_thread():
        return [func(part, **a) for part, a in zip(parts, args, strict=True)]


def _run_one(func, args, part):
    with one_blas_thread():
        return func(part, **args)


class _Inline:
    """A chunk's X, y and weights as their own graph, computed inside the task
    that uses them (dask does not look into this object): a streamed chunk is
    read where it is used, never stored as a task's result or moved between
    workers, and a source that X and y share is read once."""

    def __init__(self, graph, keys):
        from dask.optimization import cull

        self.keys = keys
        wanted = [k for k in keys if k is not None]
        self.graph = cull(graph, wanted)[0]
        self.graph_y = cull(graph, wanted[1:])[0]  # a pass that reads no X

    @classmethod
    def chunks(cls, sources):
        """One per chunk of ``sources``, ``[(x, y, s or None), ...]``
        (Delayed objects, each list of one graph)."""
        graph = {}
        for column in zip(*sources, strict=True):
            if column and column[0] is not None:
                graph.update(column[0].__dask_graph__())
        return [
            cls(graph, tuple(None if a is None else a.key for a in chunk))
            for chunk in sources
        ]

    def compute(self, shape):
        """``(X, Y, s)``; X read only when ``shape`` (X's as a pass that reads
        no X gets it) is None."""
        import dask

        x, y, s = self.keys
        if shape is None:
            X, Y, *rest = dask.get(self.graph, [k for k in self.keys if k is not None])
        else:
            X, (Y, *rest) = shape, dask.get(self.graph_y, [y] + ([s] if s else []))
        return X, Y, rest[0] if rest else None


def _streamed(func, args, steps, chunk, shape):
    """``func`` on a streamed chunk (an :class:`_Inline`; ``shape``: X's, for
    a pass that reads no X, else None), after the transforms made so far."""
    with one_blas_thread():
        part = _chunk_raw(*chunk.compute(shape))
        for step, step_args in steps:
            part = step(part, **step_args)
        return func(part, **args)
