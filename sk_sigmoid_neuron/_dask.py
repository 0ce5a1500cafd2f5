"""Dask collections as a data source of the descent (see ``_source``).

An epoch of the rule is a sum over records, so every chunk of rows computes
its part of the sums where it lives, by the engine that ``make_kernel`` picks
for the chunk (``Σ sδx``, ``Σ sδ``, ``Σ sℓ``); only those small sums travel to
the client, which adds them in chunk order (so a fit does not depend on where
the chunks live) and applies the step to weights that stay small numpy
arrays. Every other pass (the target range, the split, the auto step's parts,
the validation loss, the diagnostics' sample, the sandwich) is the source
base's own, mapped over the chunks: this module holds or streams the chunks
and checks their values, and imports no estimator module and nothing from
the descent.

Every pass is one task per chunk (one small graph for dask's local
schedulers, or for the ``distributed`` client). The chunks are either *held*
(converted once and kept in memory, as parts) or *streamed*: each pass then
computes the chunks again from their source and replays on each the
transforms made so far (the weights' scaling, the targets, the split, a CV
fold), so that memory holds a few chunks per thread and the cluster's memory
limits and spilling apply. :func:`hold_chunks` is the rule; the values are
checked on the first pass only, with the in-memory messages plus where the
bad value is.
"""

import copy
import math
import sys

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_consistent_length,
)

from . import _inference
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
from ._predict import predict_mean
from ._source import Source
from ._stepsize import _weight_sum
from ._validation import (
    check_dtype,
    raise_value_error,
    scale_weights,
    weight_exponent,
)

# Most of a worker's memory limit that the held parts of one task take.
GROUP_SHARE = 0.25
# Bytes of X per block of rows within a chunk: small enough to stay in cache
# from the product X w to the product δᵀ X.
BLOCK_BYTES = 1 << 20
# The passes that read y and the weights only: streamed, they load no X.
_WITHOUT_X = (
    _part_count_present,
    _part_extremes,
    _part_get,
    _part_split_sums,
    _part_weight_sums,
)


class DaskSource(Source):
    """The records of a fit as dask chunks, one part each, held where they
    live or streamed from their source at every pass (:func:`hold_chunks`).

    Shapes, dtypes, ``n_features_in_`` and ``feature_names_in_`` are checked
    from the metadata; the values chunk by chunk, on the first pass.
    """

    namespace = None
    local = False

    def __init__(self, estimator, X, y, sample_weight, *, reset):
        name = type(estimator).__name__
        Xd, Yd, sd, self.y_ndim = _aligned_arrays(estimator, X, y, sample_weight, reset)
        self.dtype = Xd.dtype
        self.sparse = issparse(Xd._meta)
        self.n_samples, self.n_features = Xd.shape
        self.n_outputs = Yd.shape[1]
        self.weighted = sd is not None
        self.offsets = np.concatenate([[0], np.cumsum(Xd.chunks[0])]).astype(np.int64)
        self._given = (X, y, sample_weight)
        self.chunks = _Chunks(Xd, Yd, sd)
        try:
            stats = self.chunks.map(_chunk_stats)
            self._check(stats, name)
            self.weight_exponent = 0
            if self.weighted:
                largest = max(st["smax"] for st in stats)
                self.weight_exponent = weight_exponent(largest)
            # weights scaled as in memory, zeros kept (the sums skip them)
            self.chunks.transform(_chunk_scale, exponent=self.weight_exponent)
        except BaseException:
            self.chunks.close()
            raise
        self.n_train = self.n_samples

    def map(self, func, *, per_part=(), **kwargs):
        return self.chunks.map(func, per_chunk=per_part, **kwargs)

    def transform(self, func, *, per_part=(), **kwargs):
        self.chunks.transform(func, per_chunk=per_part, **kwargs)

    def close(self):
        self.chunks.close()

    def _copy(self):
        other = copy.copy(self)
        other.chunks = copy.copy(self.chunks)
        return other

    def _check(self, stats, name):
        """The errors in-memory validation raises, from the chunks' summaries."""
        for key, what in (("X", "X"), ("y", "y"), ("s", "sample_weight")):
            for c, st in enumerate(stats):
                if st[key] is not None:
                    row, value = st[key]
                    where = f"first at row {self.offsets[c] + row}, in dask chunk {c}"
                    raise_value_error(value, what, where, name)
        for c, st in enumerate(stats):
            if st["negative"] is not None:
                row, value = st["negative"]
                where = f"first at row {self.offsets[c] + row}, in dask chunk {c}"
                raise_value_error(value, "sample_weight", where, name)

    def callback_data(self):
        X, y, s = self._given
        return X, y, s


def predict(estimator, X, coef, intercept, lo, hi, cov):
    """``estimator.predict`` on a dask collection: a lazy dask array (or two)."""
    Xd = _dask_array(X, "X")
    if Xd.ndim != 2:
        raise ValueError(_NOT_2D.format(shape=Xd.shape))
    dtype = check_dtype(Xd.dtype, "X", estimator)
    _check_feature_names(estimator, X, reset=False)
    _check_n_features(estimator, Xd, reset=False)
    if len(Xd.chunks[1]) > 1:
        Xd = Xd.rechunk({1: -1})
    Xd = Xd.astype(dtype)
    k = coef.shape[0]
    # the dtype of in-memory predictions (float64 for a range float32 cannot hold)
    empty = np.empty((0, Xd.shape[1]), dtype=dtype)
    pred_dtype = predict_mean(empty, coef, intercept, lo, hi).dtype
    name = type(estimator).__name__
    return tuple(
        Xd.map_blocks(
            _chunk_predict,
            coef,
            intercept,
            lo,
            hi,
            which,
            name,
            pred_dtype,
            dtype=pred_dtype,
            chunks=(Xd.chunks[0], (k,)),
            meta=np.empty((0, 0), dtype=pred_dtype),
            token="sigmoid-neuron-predict" + ("" if which is None else "-std"),
        )
        for which in ([None] if cov is None else [None, cov])
    )


# -- inputs: dask arrays with one column chunk and aligned rows --------------
_NOT_2D = (
    "Expected a 2-D X (n_samples, n_features), got shape {shape}. Reshape a "
    "single feature with X.reshape(-1, 1) and a single record with "
    "X.reshape(1, -1)."
)


def _aligned_arrays(estimator, X, y, sample_weight, reset):
    """X (n, d) in its training dtype, Y (n, k) float64 and the weights (n,)
    float64 as dask arrays with the same row chunks, and y's ndim."""
    import dask.array as da

    if y is None:
        raise ValueError(
            "requires y to be passed, but the target y is None; pass the targets as y."
        )
    # dask collections as dask arrays (once: a DataFrame's lengths cost a
    # pass); in-memory inputs are chunked like them
    given = {"X": X, "y": y, "sample_weight": sample_weight}
    arrays = {
        name: _known_rows(_dask_array(obj, name))
        for name, obj in given.items()
        if _is_collection(obj)
    }
    rows = next((a.chunks[0] for a in arrays.values() if a.ndim), None)
    Xd = arrays["X"] if "X" in arrays else _from_memory(X, "X", rows)
    if Xd.ndim != 2:
        raise ValueError(_NOT_2D.format(shape=Xd.shape))
    n, d = Xd.shape
    if n == 0 or d == 0:
        raise ValueError(
            f"X has shape {Xd.shape}: fit needs at least one record and one feature."
        )
    dtype = check_dtype(Xd.dtype, "X", estimator)
    _check_feature_names(estimator, X, reset=reset)
    _check_n_features(estimator, Xd, reset=reset)
    if len(Xd.chunks[1]) > 1:
        Xd = Xd.rechunk({1: -1})
    rows = Xd.chunks[0]

    Yd = arrays["y"] if "y" in arrays else _from_memory(y, "y", rows)
    if Yd.ndim not in (1, 2) or (Yd.ndim == 2 and Yd.shape[1] == 0):
        raise ValueError(
            f"y has shape {Yd.shape}; pass (n_samples,) or (n_samples, "
            "n_outputs) with at least one output."
        )
    check_consistent_length(Xd, Yd)
    check_dtype(Yd.dtype, "y", estimator)
    y_ndim = Yd.ndim
    Yd = Yd.astype(np.float64)
    if Yd.ndim == 1:
        Yd = Yd[:, None]
    Yd = Yd.rechunk((rows, (Yd.shape[1],)))

    sd = None
    if "sample_weight" in arrays:
        sd = arrays["sample_weight"]
    elif sample_weight is not None:
        if np.ndim(sample_weight) == 0:
            sd = da.full(n, sample_weight, chunks=(rows,))
        else:
            sd = _from_memory(sample_weight, "sample_weight", rows)
    if sd is not None:
        if sd.ndim != 1:
            raise ValueError(
                f"sample_weight has shape {sd.shape}; pass one weight per "
                f"record, shape ({n},)."
            )
        if sd.shape != (n,):  # scikit-learn's message
            _check_sample_weight(np.zeros(sd.shape), np.empty((n, 0)))
        check_dtype(sd.dtype, "sample_weight", estimator)
        # float64 until the chunks scale them (as in memory)
        sd = sd.astype(np.float64).rechunk((rows,))
    return Xd.astype(dtype), Yd, sd, y_ndim


def _is_collection(obj):
    from dask import is_dask_collection

    return obj is not None and is_dask_collection(obj)


def _dask_array(obj, name):
    """A dask collection as a dask array: an array, a DataFrame or a Series."""
    import dask.array as da

    if isinstance(obj, da.Array):
        return obj
    if hasattr(obj, "to_dask_array"):  # dask DataFrame or Series
        return obj.to_dask_array(lengths=True)
    raise TypeError(
        f"{name} is a {type(obj).__name__}; pass a dask array, DataFrame or "
        "Series (for example with dask.array.from_delayed)."
    )


def _from_memory(obj, name, rows):
    """In-memory data as a dask array chunked along ``rows`` (when it fits)."""
    import dask.array as da
    from scipy import sparse

    if sparse.issparse(obj):
        raise TypeError(
            f"{name} is a sparse matrix while other inputs are dask collections; "
            "pass dask arrays for all of them, or numpy/scipy data for all of them."
        )
    arr = np.asarray(obj)
    if rows is None or arr.ndim == 0 or arr.shape[0] != sum(rows):
        return da.from_array(arr)  # the shape checks report any mismatch
    return da.from_array(arr, chunks=(rows,) + arr.shape[1:])


def _known_rows(arr):
    """``arr`` with known chunk sizes along the rows (computes them if needed)."""
    if arr.ndim and any(math.isnan(c) for c in arr.chunks[0]):
        arr = arr.compute_chunk_sizes()
    return arr


# -- the chunks of a fit: held or streamed (the rule: _dask_memory) ----------
class _Chunks:
    """One part per chunk of rows, a dict, held where it lives or made again
    from the chunk's source at every pass.

    :meth:`map` runs a function on every part, one task per chunk, and
    returns the results in chunk order; :meth:`transform` replaces every part
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

    def _tasks(self, func, kwargs, per_chunk):
        """A task per chunk: ``func`` on the chunk's part."""
        from dask import delayed

        if self.parts is not None:
            return [
                delayed(_run_one)(func, _part_args(kwargs, per_chunk, i), part)
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
        return [
            delayed(_streamed)(
                func,
                _part_args(kwargs, per_chunk, i),
                self._state[i],
                chunk,
                None if reads_x else self.shapes[i],
            )
            for i, chunk in enumerate(self._inline)
        ]

    def transform(self, func, *, per_chunk=(), **kwargs):
        """Replace each part by ``func(part, **kwargs)``; the arguments named
        in ``per_chunk`` are lists with one value per chunk."""
        if self.parts is None:
            self.steps = [*self.steps, (func, kwargs, per_chunk)]
            self._state = None
        else:
            self.parts = self._run(self._tasks(func, kwargs, per_chunk), keep=True)

    def map(self, func, *, per_chunk=(), **kwargs):
        """``[func(part, **kwargs) for part in parts]``, one task per chunk
        (per group of held chunks on a cluster, :meth:`_grouped`); the
        arguments named in ``per_chunk`` have one value per chunk."""
        if self.parts is None or self.client is None:
            return self._run(self._tasks(func, kwargs, per_chunk))
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


def _first_bad(a):
    """``(row, its values)`` of the first row of ``a`` with a non-finite
    value, or None; one block of rows at a time (no mask as long as the
    chunk)."""
    rows = max(1, BLOCK_BYTES // max(1, a[:1].nbytes))
    for r0 in range(0, len(a), rows):
        finite = np.isfinite(a[r0 : r0 + rows])
        if finite.all():
            continue
        if a.ndim > 1:
            finite = finite.all(axis=1)
        row = r0 + int(np.flatnonzero(~finite)[0])
        return row, a[row]
    return None


def _chunk_stats(part):
    X, Y, s = part["X"], part["Y"], part["s"]
    out = {
        "X": _first_bad(X),
        "y": _first_bad(Y),
        "s": None if s is None else _first_bad(s),
        "negative": None,
    }
    if s is not None:
        neg = np.flatnonzero(s < 0)
        if len(neg):
            out["negative"] = (int(neg[0]), s[neg[0]])
    out["smax"] = float(s.max()) if s is not None and len(s) else 0.0
    return out


def _chunk_scale(part, exponent):
    s = part["s"]
    if s is not None:
        s = scale_weights(s, part["X"].dtype, exponent)[0]
    return {**part, "s": s}


def _chunk_predict(X, coef, intercept, lo, hi, cov, name, dtype, block_info=None):
    X = np.asarray(X)
    bad = _first_bad(X)
    if bad is not None:
        start = block_info[0]["array-location"][0][0] if block_info else 0
        raise_value_error(bad[1], "X", f"first at row {start + bad[0]}", name)
    if cov is None:
        return predict_mean(X, coef, intercept, lo, hi)
    return _inference.predict_std(X, coef, intercept, cov, lo, hi).astype(dtype)
