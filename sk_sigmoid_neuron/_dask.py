"""Dask collections as a data source of the descent (see ``_descent``).

An epoch of the rule is a sum over records, so every chunk of rows computes
its part of the sums where it lives (``Σ sδx``, ``Σ sδ``, ``Σ sℓ``), only
those small sums travel to the client, and the client applies the step to
weights that stay small numpy arrays. The client adds the chunks' sums in
chunk order, so a fit does not depend on where the chunks live.

Everything else (the start, the target range, the learning rate, the
stopping rules, early stopping, callbacks, the loss curve, the checks and
their messages, the standard errors) is the estimator's own code, which
runs the same on this source as on data in memory: this module computes
on chunks and nothing else, and imports no estimator module.

The data are read once: X, y and the weights are converted and checked chunk
by chunk (with the in-memory checks and messages, plus where the bad value
is), and the chunks stay in the workers' memory for the whole fit. With a
``distributed`` client active, each epoch is one task per worker thread
(over the chunks that worker holds) and one gather; without one, each epoch
is one small graph for dask's default scheduler.
"""

import math
import sys

import numpy as np
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_consistent_length,
)

from . import _inference, _kernels, _scaling
from ._descent import ZERO_WEIGHT_PART, validation_positions
from ._predict import predict_mean
from ._validation import (
    check_dtype,
    raise_value_error,
    scale_weights,
    weight_exponent,
)

# Bytes of X per block of rows within a chunk: small enough to stay in cache
# from the product X w to the product δᵀ X.
BLOCK_BYTES = 1 << 20


class DaskSource:
    """The records of a fit as dask chunks, kept where they live.

    Shapes, dtypes, ``n_features_in_`` and ``feature_names_in_`` are checked
    from the metadata; the values chunk by chunk, once.
    """

    def __init__(self, estimator, X, y, sample_weight, *, reset):
        name = type(estimator).__name__
        Xd, Yd, sd, self.y_ndim = _aligned_arrays(estimator, X, y, sample_weight, reset)
        self.dtype = Xd.dtype
        self.n_samples, self.n_features = Xd.shape
        self.n_outputs = Yd.shape[1]
        self.weighted = sd is not None
        self.offsets = np.concatenate([[0], np.cumsum(Xd.chunks[0])]).astype(np.int64)
        self._given = (X, y, sample_weight)
        self.chunks = _Chunks(Xd, Yd, sd)
        try:
            stats = self.chunks.map(_chunk_stats)
            self._check(stats, name)
            self._stats = stats
            self.weight_exponent = 0
            if self.weighted:
                largest = max(st["smax"] for st in stats)
                self.weight_exponent = weight_exponent(largest)
            # weights scaled as in memory, zeros kept (the sums skip them)
            self.chunks.transform(
                _chunk_scale, exponent=self.weight_exponent, balance=True
            )
        except BaseException:
            self.chunks.close()
            raise
        self.n_train = self.n_samples
        self._S_train = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.chunks.close()

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

    # -- what the estimator asks -------------------------------------------------
    def callback_data(self):
        X, y, s = self._given
        return X, y, s

    def y_extremes(self):
        """Smallest and largest y of the records with positive weight, (2, k)."""
        ymin = np.min([st["ymin"] for st in self._stats], axis=0)
        ymax = np.max([st["ymax"] for st in self._stats], axis=0)
        return np.vstack([ymin, ymax])

    def set_targets(self, lo, hi):
        self.chunks.transform(_chunk_targets, lo=lo, hi=hi)

    # -- what the descent asks -------------------------------------------------------
    def split(self, fraction, random_state):
        if fraction is None:
            self.chunks.transform(_chunk_split, val=None)
            self.n_train = self.n_samples
        else:
            present = None
            if self.weighted:  # from the persisted chunks, not the graph
                rows = self.chunks.map(_chunk_present)
                present = np.concatenate(
                    [a + r for a, r in zip(self.offsets[:-1], rows, strict=True)]
                )
            n_present = self.n_samples if present is None else len(present)
            val, n_train = validation_positions(n_present, fraction, random_state)
            if present is not None:
                val = present[val]
            self.chunks.transform(
                _chunk_split, val=self._by_chunk(val), per_chunk=("val",)
            )
            self.n_train = n_train
        sums = self.chunks.map(_chunk_weight_sums)
        self._S_train = float(sum(p[0] for p in sums))
        self._S_val = float(sum(p[1] for p in sums))
        if fraction is not None and not (self._S_train > 0 and self._S_val > 0):
            raise ValueError(ZERO_WEIGHT_PART)

    def _by_chunk(self, rows):
        """Sorted global ``rows`` as one array of local rows per chunk."""
        edges = np.searchsorted(rows, self.offsets)
        return [
            rows[a:b] - offset
            for a, b, offset in zip(
                edges[:-1], edges[1:], self.offsets[:-1], strict=True
            )
        ]

    def map_train(self, func, **kwargs):
        return self.chunks.map(_chunk_apply, train_func=func, kwargs=kwargs)

    def trainer(self, coef, intercept, learnrate, *, loss, alpha, fit_intercept):
        return _Trainer(
            self, coef, intercept, learnrate, loss, alpha, fit_intercept, self._S_train
        )

    def validation_loss(self, trainer, loss):
        return float((trainer.validation_sum() / self._S_val).mean())

    def sample(self, rows):
        parts = self.chunks.map(
            _chunk_sample, rows=self._by_chunk(rows), per_chunk=("rows",)
        )
        X = np.concatenate([p[0] for p in parts])
        T = np.concatenate([p[1] for p in parts])
        s = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
        return X, T, s

    # -- after the descent -------------------------------------------------------------
    def sandwich(self, coef, intercept, *, loss, alpha, fit_intercept):
        """The sandwich over every record, from the chunks' sums."""
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        sums = self.chunks.map(
            _chunk_sandwich,
            coef=coef,
            intercept=intercept,
            loss=loss,
            fit_intercept=fit_intercept,
        )
        A, B, score, S = (sum(s[i] for s in sums) for i in range(4))
        return _inference.sandwich_from_sums(
            A, B, score, S, coef, alpha=alpha, fit_intercept=fit_intercept
        )


class _Trainer(_kernels.Kernel):
    """Epochs of the rule from the chunks' sums; the weights stay here.

    A kernel (``_kernels.Kernel``: the same parameters, loss record and step)
    whose epoch sums come from the chunks. A pass over the chunks gives the
    training sums and the validation loss at the same weights, so with early
    stopping the validation loss after an epoch and the next epoch's sums
    take one pass.
    """

    path = "dask"

    def __init__(self, source, coef, intercept, learnrate, loss, alpha, fi, S):
        # the base's attributes, from the source's metadata (X is in chunks)
        k, d = coef.shape
        self.dtype = dtype = source.dtype
        self.n_samples, self.n_features, self.n_neurons = source.n_train, d, k
        self.fit_intercept, self.loss, self.alpha = fi, loss, float(alpha)
        self.weight_sum = S
        lr = np.full(k, learnrate)
        self.learnrate = lr.astype(dtype)
        self.step = (lr / S).astype(dtype)
        self.decay = (1 - lr * alpha).astype(dtype)
        self.coef_aug = np.empty((k, d + 1), dtype=dtype)
        self.n_threads, self._pool = 1, None
        self.source = source
        self._cached = None  # the sums at the current weights, once computed
        self.set_params(coef, intercept)

    def set_params(self, coef, intercept):
        super().set_params(coef, intercept)
        self._cached = None

    def _sums(self):
        if self._cached is None:
            parts = self.source.chunks.map(
                _chunk_epoch, coef_aug=self.coef_aug, loss=self.loss
            )
            G, gb = parts[0][0].copy(), parts[0][1].copy()
            lsum, vsum = parts[0][2].astype(np.float64), parts[0][3]
            for p in parts[1:]:
                G += p[0]
                gb += p[1]
                lsum += p[2]
                if vsum is not None:
                    vsum = vsum + p[3]
            self._cached = (G, gb, lsum, vsum)
        return self._cached

    def validation_sum(self):
        """``Σ s ℓ`` per neuron over the validation records at these weights."""
        return self._sums()[3]

    def _epoch(self):
        G, gb, lsum, _ = self._sums()
        self._cached = None
        return self._apply(G, gb, lsum)

    def sums(self):
        """``(Σ sδx, Σ sδ, Σ sℓ)`` at the current weights, float64, without
        stepping (``_kernels.Kernel.sums``): one pass over the chunks."""
        G, gb, lsum, _ = self._sums()
        return tuple(np.array(a, dtype=np.float64) for a in (G, gb, lsum))


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


# -- the chunks of a fit, where they live --------------------------------------
class _Chunks:
    """One part per chunk of rows, a dict kept where it lives.

    :meth:`map` runs a function on every part and returns the results in
    chunk order; :meth:`transform` replaces every part by a function of it,
    where it lives.
    """

    def __init__(self, Xd, Yd, sd):
        from dask import delayed

        self.client = _active_client()
        xs = Xd.to_delayed().ravel()
        ys = Yd.to_delayed().ravel()
        ss = sd.to_delayed().ravel() if sd is not None else [None] * len(xs)
        raw = [
            delayed(_chunk_raw, pure=False)(x, y, s)
            for x, y, s in zip(xs, ys, ss, strict=True)
        ]
        self._groups = None
        self.parts = self._persist(raw)

    def close(self):
        self.parts = self._groups = None  # releases the chunks on the cluster

    def _persist(self, tasks):
        if self.client is None:
            import dask

            return list(dask.persist(*tasks))
        futures = self.client.compute(tasks)
        self._place(futures)
        return futures

    def _place(self, futures):
        """Wait for ``futures``; group them by worker thread for :meth:`map`."""
        from distributed import wait

        wait(futures)
        who = self.client.who_has(futures)
        self._holders = [(who.get(f.key) or [None])[0] for f in futures]
        nthreads = self.client.nthreads()
        by_worker = {}
        for i, worker in enumerate(self._holders):
            by_worker.setdefault(worker, []).append(i)
        groups = []
        for worker, idx in sorted(by_worker.items(), key=lambda kv: kv[1][0]):
            n_groups = max(1, min(len(idx), nthreads.get(worker, 1)))
            for part in np.array_split(np.asarray(idx), n_groups):
                groups.append((worker, part.tolist()))
        self._groups = groups

    def _balanced(self):
        """A worker per chunk: where it is, unless that worker holds more than
        its share (by threads) of the chunks; then the least loaded one."""
        nthreads = self.client.nthreads()
        workers = sorted(nthreads)
        total, n = sum(nthreads.values()), len(self._holders)
        quota = {w: math.ceil(n * nthreads[w] / total) for w in workers}
        load = dict.fromkeys(workers, 0)
        out = [None] * n
        for i, worker in enumerate(self._holders):
            if worker in load and load[worker] < quota[worker]:
                out[i] = worker
                load[worker] += 1
        for i in range(n):
            if out[i] is None:
                worker = min(workers, key=lambda w: load[w] / nthreads[w])
                out[i] = worker
                load[worker] += 1
        return out

    def transform(self, func, *, balance=False, per_chunk=(), **kwargs):
        """Replace each part by ``func(part, **kwargs)``; the arguments named
        in ``per_chunk`` are lists with one value per chunk. ``balance``
        moves chunks (once, at most one move each) so that every epoch is
        balanced over the workers' threads."""

        def args(i):
            return _chunk_args(kwargs, per_chunk, i)

        if self.client is None:
            from dask import delayed

            tasks = [
                delayed(func, pure=False)(p, **args(i))
                for i, p in enumerate(self.parts)
            ]
            self.parts = self._persist(tasks)
            return
        if balance:
            places = self._balanced()
        else:
            places = self._holders
        self.parts = [
            self.client.submit(
                func,
                part,
                **args(i),
                pure=False,
                **_where(worker),
            )
            for i, (part, worker) in enumerate(zip(self.parts, places, strict=True))
        ]
        self._place(self.parts)

    def map(self, func, *, per_chunk=(), **kwargs):
        """``[func(part, **kwargs) for part in parts]``, run where the parts
        live; the arguments named in ``per_chunk`` have one value per chunk."""
        args = [_chunk_args(kwargs, per_chunk, i) for i in range(len(self.parts))]
        if self.client is None:
            import dask
            from dask import delayed

            tasks = [
                delayed(func, pure=False)(p, **a)
                for p, a in zip(self.parts, args, strict=True)
            ]
            return list(dask.compute(*tasks))
        futures = [
            self.client.submit(
                _run_group,
                func,
                [args[i] for i in idx],
                *[self.parts[i] for i in idx],
                pure=False,
                **_where(worker),
            )
            for worker, idx in self._groups
        ]
        out = [None] * len(self.parts)
        for (_, idx), results in zip(
            self._groups, self.client.gather(futures), strict=True
        ):
            for i, result in zip(idx, results, strict=True):
                out[i] = result
        return out


def _chunk_args(kwargs, per_chunk, i):
    return {
        key: value[i] if key in per_chunk else value for key, value in kwargs.items()
    }


def _active_client():
    """The distributed Client dask would compute with now, or None."""
    if "distributed" not in sys.modules:
        return None
    import dask.base
    from distributed import Client

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _where(worker):
    """Where a task runs: by the chunk's worker when it is known (a chunk
    whose computation failed has none; its error is raised when gathered)."""
    return {} if worker is None else {"workers": [worker], "allow_other_workers": True}


def _run_group(func, args, *parts):
    return [func(part, **a) for part, a in zip(parts, args, strict=True)]


# -- what runs on the chunks ---------------------------------------------------
def _chunk_raw(X, Y, s):
    return {
        "X": np.ascontiguousarray(X),
        "Y": np.asarray(Y, dtype=np.float64),
        "s": None if s is None else np.asarray(s, dtype=np.float64),
    }


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
    Yp = Y
    if s is not None:
        neg = np.flatnonzero(s < 0)
        if len(neg):
            out["negative"] = (int(neg[0]), s[neg[0]])
        Yp = Y[s > 0]
    k = Y.shape[1]
    with np.errstate(invalid="ignore"):
        out["ymin"] = Yp.min(axis=0) if len(Yp) else np.full(k, np.inf)
        out["ymax"] = Yp.max(axis=0) if len(Yp) else np.full(k, -np.inf)
    out["smax"] = float(s.max()) if s is not None and len(s) else 0.0
    return out


def _chunk_scale(part, exponent):
    s = part["s"]
    if s is not None:
        s = scale_weights(s, part["X"].dtype, exponent)[0]
    return {**part, "s": s}


def _chunk_targets(part, lo, hi):
    return {**part, "T": _scaling.to_unit(part["Y"], lo, hi, part["X"].dtype)}


def _chunk_present(part):
    """The rows of the chunk with a positive weight."""
    return np.flatnonzero(part["s"] > 0)


def _chunk_split(part, val):
    """The training weights (0 on the validation rows ``val``), and those rows."""
    s = part["s"]
    if val is None:
        return {**part, "s_train": s, "val": None}
    s_train = np.ones(len(part["X"]), part["X"].dtype) if s is None else s.copy()
    s_train[val] = 0
    return {**part, "s_train": s_train, "val": (val, None if s is None else s[val])}


def _chunk_sample(part, rows):
    s = part["s_train"]
    return (
        np.asarray(part["X"][rows], dtype=np.float64),
        np.asarray(part["T"][rows], dtype=np.float64),
        None if s is None else s[rows].astype(np.float64),
    )


def _chunk_weight_sums(part):
    """Total weight of the chunk's training and validation records."""
    X, s_train, val = part["X"], part["s_train"], part["val"]
    train = len(X) if s_train is None else float(s_train.sum(dtype=np.float64))
    if val is None:
        return train, 0.0
    rows, s_val = val
    return train, len(rows) if s_val is None else float(s_val.sum(dtype=np.float64))


def _chunk_apply(part, train_func, kwargs):
    return train_func(part["X"], part["s_train"], **kwargs)


def _blocks(X, T, s):
    """``(X, T, s)`` over blocks of rows that stay in cache between the two
    products with X (one read of X from memory instead of two)."""
    rows = max(_kernels.LEAF_ROWS, BLOCK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))
    for r0 in range(0, len(X), rows):
        sb = None if s is None else s[r0 : r0 + rows]
        yield X[r0 : r0 + rows], T[r0 : r0 + rows], sb


def _chunk_epoch(part, coef_aug, loss):
    """The chunk's sums for one epoch (added block by block, in order), and the
    loss sum of its validation records."""
    X, T, s_train, val = part["X"], part["T"], part["s_train"], part["val"]
    k, d = coef_aug.shape[0], coef_aug.shape[1] - 1
    G = np.zeros((k, d), dtype=coef_aug.dtype)
    gb = np.zeros(k, dtype=coef_aug.dtype)
    lsum = np.zeros(k, dtype=coef_aug.dtype)
    first = True
    with np.errstate(all="ignore"):
        for Xb, Tb, sb in _blocks(X, T, s_train):
            sums = _kernels.partial_sums(Xb, Tb, sb, coef_aug, loss=loss)
            if first:
                G, gb, lsum = sums
                first = False
            else:
                G += sums[0]
                gb += sums[1]
                lsum += sums[2]
        vsum = None
        if val is not None:
            rows, s_val = val
            W, b = coef_aug[:, :-1], coef_aug[:, -1]
            vsum = _kernels.loss_sums(X[rows], T[rows], s_val, W, b, loss)
    return G, gb, lsum, vsum


def _chunk_sandwich(part, coef, intercept, loss, fit_intercept):
    """The chunk's sums of the sandwich, over all its records."""
    return _inference.sandwich_sums(
        part["X"],
        part["T"],
        part["s"],
        coef,
        intercept,
        loss=loss,
        fit_intercept=fit_intercept,
    )


def _chunk_predict(X, coef, intercept, lo, hi, cov, name, dtype, block_info=None):
    X = np.asarray(X)
    bad = _first_bad(X)
    if bad is not None:
        start = block_info[0]["array-location"][0][0] if block_info else 0
        raise_value_error(bad[1], "X", f"first at row {start + bad[0]}", name)
    if cov is None:
        return predict_mean(X, coef, intercept, lo, hi)
    return _inference.predict_std(X, coef, intercept, cov, lo, hi).astype(dtype)
