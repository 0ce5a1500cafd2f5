"""Dask collections as a data source of the descent (see ``_source``).

An epoch of the rule is a sum over records, so every chunk of rows computes
its part of the sums where it lives, by the engine that ``make_kernel`` picks
for the chunk (``Σ sδx``, ``Σ sδ``, ``Σ sℓ``); only those small sums travel to
the client, which adds them in chunk order (so a fit does not depend on where
the chunks live) and applies the step to weights that stay small numpy
arrays. Every other pass (the target range, the split, the auto step's parts,
the validation loss, the diagnostics' sample, the sandwich) is the source
base's own, mapped over the chunks (``_dask_chunks`` holds or streams
them): this module checks their values, and imports no estimator module and
nothing from the descent.

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

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_consistent_length,
)

from . import _inference
from ._dask_chunks import _Chunks
from ._predict import predict_mean
from ._source import Source
from ._validation import (
    check_dtype,
    raise_value_error,
    scale_weights,
    weight_exponent,
)

# Bytes of X per block of rows within a chunk: small enough to stay in cache
# from the product X w to the product δᵀ X.
BLOCK_BYTES = 1 << 20


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
