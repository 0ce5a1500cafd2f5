"""Training and prediction on dask collections: the documented rule, by chunks.

An epoch of the rule is a sum over records, so every chunk of rows computes
its part of the sums where it lives (:func:`._gd.partial_sums`: ``Σ sδx``,
``Σ sδ``, ``Σ sℓ``), only those small sums travel to the client, and the
client applies the step (:func:`._gd.apply_step`) to weights that stay small
numpy arrays. The client adds the chunks' sums in chunk order, so a fit does
not depend on where the chunks live.

The data are read once: X, y and the weights are converted and checked chunk
by chunk (NaN, infinity, negative weights, the target range), the targets are
mapped to [0, 1], and the chunks stay in the workers' memory for the whole
fit. With a ``distributed`` client active, each epoch is one task per worker
thread (over the chunks that worker holds) and one gather; without one, each
epoch is one small graph for dask's default scheduler.

Everything else follows the in-memory estimator step for step (start, target
range, learning rate, loss curve, ``tol``, ``early_stopping``, ``verbose``,
``store_path``, ``warm_start``, ``compute_inference``), so that a fit on a
dask array equals the fit on the same data in memory up to the order of
floating-point summation.

dask is imported only when a dask collection is passed: the estimator calls
:func:`is_dask_collection` first, which looks at ``sys.modules`` before
importing anything.
"""

import math
import sys
import warnings

import numpy as np
from scipy.linalg import eigvalsh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
)

from . import _inference, _scaling, _stepsize
from ._gd import LEAF_ROWS, apply_step, partial_sums, predict_unit

_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# Bytes of X per block of rows within a chunk: small enough to stay in cache
# from the product X w to the product δᵀ X.
BLOCK_BYTES = 1 << 20


def is_dask_collection(*objs):
    """Whether any of ``objs`` is a dask collection (never imports dask)."""
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as is_collection

    return any(obj is not None and is_collection(obj) for obj in objs)


# -- the estimator's entry points --------------------------------------------
def fit(est, X, y, sample_weight, coef_init, intercept_init):
    """``est.fit`` on dask collections (``est``'s parameters already valid)."""
    from ._sigmoid_neuron import _unchanged_on_error, _validation_split

    with _unchanged_on_error(est):
        data = _Inputs(est, X, y, sample_weight, reset=True)
        if est.compute_inference:
            _inference.check_size(data.n_features)
        with _Chunks(data) as chunks:
            lo, hi = est._learn_target_range(chunks.y_extremes(), None)
            coef, intercept, curve = est._start(
                data.X, data.Y, coef_init, intercept_init
            )
            continued = bool(curve)
            split = None
            if est.early_stopping:
                # split the records present (weight > 0), as in memory
                idx = np.arange(data.n_samples)
                if data.weighted:  # from the persisted chunks, not the graph
                    present = chunks.map(_chunk_present)
                    idx = np.concatenate(
                        [a + p for a, p in zip(data.offsets[:-1], present, strict=True)]
                    )
                train, _, _, (val, _, _) = _validation_split(
                    idx, idx, None, est.validation_fraction, est.random_state
                )
                split = (train, val)
            chunks.prepare(lo, hi, split)
            S, S_val = chunks.weight_sums()
            if split is not None and data.weighted and not (S > 0 and S_val > 0):
                raise ValueError(
                    "early_stopping split the records so that the training or the "
                    "validation part has zero total sample_weight; use "
                    "early_stopping=False or more records with positive weight."
                )
            learnrate = _learnrate(est, chunks, S)
            path = [] if est.store_path else None
            coef, intercept, curve, val_curve = _descend(
                est, chunks, coef, intercept, curve, learnrate, S, S_val, path=path
            )
            est._set_fitted(coef, intercept, lo, hi, curve, y_ndim=data.y_ndim)
            est.validation_loss_curve_ = val_curve
            est._set_path(path, data.y_ndim, continued)
            if est.compute_inference:
                _set_inference(est, chunks, data.y_ndim)
            else:
                est._set_inference(None, None, None, data.y_ndim)
    return est


def partial_fit(est, X, y, sample_weight):
    """``est.partial_fit`` on dask collections: one step on the batch."""
    from ._sigmoid_neuron import _unchanged_on_error

    first = not hasattr(est, "coef_")
    with _unchanged_on_error(est):
        data = _Inputs(est, X, y, sample_weight, reset=first)
        with _Chunks(data) as chunks:
            extremes = chunks.y_extremes()
            if first:
                lo, hi = est._learn_target_range(extremes, None)
                coef, intercept, curve = est._start(data.X, data.Y, None, None)
            else:
                est._check_n_outputs(data.Y)
                lo, hi = est._target_bounds()
                _scaling.check_target_range(
                    extremes, None, lo, hi, est.target_scaling, partial=True
                )
                coef, intercept = est._coef_2d()
                curve = list(est.loss_curve_)
            chunks.prepare(lo, hi, None)
            S, _ = chunks.weight_sums()
            learnrate = _learnrate(est, chunks, S)
            coef, intercept, losses = _epochs(
                est, chunks, coef, intercept, learnrate, S, 1
            )
            curve.append(float(losses[0].mean()))
        est._set_fitted(coef, intercept, lo, hi, curve, y_ndim=data.y_ndim)
        if first:
            est.validation_loss_curve_ = None
        path = [(coef, intercept)] if est.store_path else None
        est._set_path(path, data.y_ndim, continued=not first)
        est._set_inference(None, None, None, data.y_ndim)  # fit's data only
    return est


def predict(est, X, return_std):
    """``est.predict`` on a dask collection: a lazy dask array (per chunk)."""
    check_is_fitted(est)
    Xd = _predict_input(est, X)
    dtype = Xd.dtype
    coef, intercept = est._coef_2d()
    coef, intercept = coef.astype(dtype, copy=False), intercept.astype(dtype)
    lo, hi = est._target_bounds()
    one_d = est.coef_.ndim == 1
    cov = None
    if return_std:
        if getattr(est, "coef_cov_", None) is None:
            raise ValueError(
                "predict(X, return_std=True) needs the covariance of the weights: "
                "fit with compute_inference=True (partial_fit does not compute it)."
            )
        cov = est.coef_cov_.reshape(-1, *est.coef_cov_.shape[-2:])
    outputs = [None] if cov is None else [None, cov]
    # the dtype of in-memory predictions (float64 for a range float32 cannot hold)
    empty = np.empty((0, coef.shape[0]), dtype=dtype)
    dtypes = [_scaling.from_unit(empty, lo, hi).dtype, dtype]
    preds = []
    for which, out_dtype in zip(outputs, dtypes, strict=False):
        kwargs = {}
        if one_d:
            kwargs["drop_axis"] = 1
        else:
            kwargs["chunks"] = (Xd.chunks[0], (coef.shape[0],))
        preds.append(
            Xd.map_blocks(
                _chunk_predict,
                coef,
                intercept,
                lo,
                hi,
                which,
                one_d,
                dtype=out_dtype,
                meta=np.empty((0,) * (1 if one_d else 2), dtype=out_dtype),
                token="sigmoid-neuron-predict" + ("" if which is None else "-std"),
                **kwargs,
            )
        )
    return preds[0] if cov is None else tuple(preds)


# -- inputs: dask arrays with one column chunk and aligned rows --------------
class _Inputs:
    """X (n, d), Y (n, k) and the weights (n,) as aligned dask arrays.

    Shapes, dtypes, ``n_features_in_`` and ``feature_names_in_`` are checked
    here from the metadata alone; the values are checked chunk by chunk by
    :class:`_Chunks`.
    """

    def __init__(self, est, X, y, sample_weight, reset):
        import dask.array as da

        if y is None:
            raise ValueError(
                "requires y to be passed, but the target y is None; pass the "
                "targets as y."
            )
        # dask collections as dask arrays (once: a DataFrame's lengths cost a
        # pass); in-memory inputs are chunked like them
        given = {"X": X, "y": y, "sample_weight": sample_weight}
        arrays = {
            name: _known_rows(_dask_array(obj, name))
            for name, obj in given.items()
            if is_dask_collection(obj)
        }
        rows = next((a.chunks[0] for a in arrays.values() if a.ndim), None)
        if "X" not in arrays:
            arrays["X"] = _from_memory(X, "X", rows)
        Xd = arrays["X"]
        if Xd.ndim != 2:
            raise ValueError(
                f"Expected a 2-D X (n_samples, n_features), got shape {Xd.shape}. "
                "Reshape a single feature with X.reshape(-1, 1) and a single "
                "record with X.reshape(1, -1)."
            )
        n, d = Xd.shape
        if n == 0 or d == 0:
            raise ValueError(
                f"X has shape {Xd.shape}: fit needs at least one record and one "
                "feature."
            )
        dtype = _float_dtype(Xd.dtype, "X", keep=True)
        _check_feature_names(est, X, reset=reset)
        _check_n_features(est, Xd, reset=reset)
        if len(Xd.chunks[1]) > 1:
            Xd = Xd.rechunk({1: -1})
        rows = Xd.chunks[0]

        Yd = arrays["y"] if "y" in arrays else _from_memory(y, "y", rows)
        if Yd.ndim not in (1, 2) or (Yd.ndim == 2 and Yd.shape[1] == 0):
            raise ValueError(
                f"y has shape {Yd.shape}; pass (n_samples,) or (n_samples, "
                "n_outputs) with at least one output."
            )
        _check_length(n, Yd.shape[0], "y")
        _float_dtype(Yd.dtype, "y", keep=False)
        self.y_ndim = Yd.ndim
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
            _check_length(n, sd.shape[0], "sample_weight")
            _float_dtype(sd.dtype, "sample_weight", keep=False)
            # float64 until the chunks scale them (as in memory, see prepare)
            sd = sd.astype(np.float64).rechunk((rows,))

        self.X, self.Y, self.sample_weight = Xd.astype(dtype), Yd, sd
        self.dtype = dtype
        self.n_samples, self.n_features = n, d
        self.n_outputs = Yd.shape[1]
        self.weighted = sd is not None
        self.offsets = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)


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


def _check_length(n, m, name):
    if m != n:
        raise ValueError(
            f"X has {n} records but {name} has {m}; pass one {name} entry per "
            "record of X."
        )


def _float_dtype(dtype, name, keep):
    """The float dtype ``name`` is trained in: float32/64 kept (``keep``), other
    numbers as float64; anything else is a ValueError."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise ValueError(f"{name} is complex ({dtype}); pass real numbers.")
    if dtype.kind not in "biuf":
        raise ValueError(
            f"{name} has dtype {dtype}; pass numbers (float64 or float32), for "
            f"example with {name}.astype('float64')."
        )
    return dtype if keep and dtype in _DTYPES else np.dtype(np.float64)


def _predict_input(est, X):
    Xd = _dask_array(X, "X")
    if Xd.ndim != 2:
        raise ValueError(
            f"Expected a 2-D X (n_samples, n_features), got shape {Xd.shape}. "
            "Reshape a single feature with X.reshape(-1, 1) and a single record "
            "with X.reshape(1, -1)."
        )
    dtype = _float_dtype(Xd.dtype, "X", keep=True)
    _check_feature_names(est, X, reset=False)
    _check_n_features(est, Xd, reset=False)
    if len(Xd.chunks[1]) > 1:
        Xd = Xd.rechunk({1: -1})
    return Xd.astype(dtype)


# -- the chunks of a fit, where they live --------------------------------------
class _Chunks:
    """The records of a fit, one part per chunk of rows, kept where they live.

    A part is a dict: ``X``, ``T`` (targets in [0, 1]), ``s`` (weights or
    None), and ``val``, the validation records ``(X, T, s)`` with early
    stopping or None. :meth:`map` runs a function on every part and returns
    the results in chunk order.
    """

    def __init__(self, data):
        from dask import delayed

        self.data = data
        self.client = _active_client()
        xs = data.X.to_delayed().ravel()
        ys = data.Y.to_delayed().ravel()
        ss = (
            data.sample_weight.to_delayed().ravel()
            if data.sample_weight is not None
            else [None] * len(xs)
        )
        raw = [
            delayed(_chunk_raw, pure=False)(x, y, s)
            for x, y, s in zip(xs, ys, ss, strict=True)
        ]
        self._groups = None
        self.parts = self._persist(raw)
        try:
            self._stats = self.map(_chunk_stats)
            _check_stats(self._stats, data)
            # the weights' scale, 2**-e to a largest weight in [0.5, 1), as
            # in memory: only their ratios count in the fit
            largest = max(st["smax"] for st in self._stats)
            self.weight_exponent = int(np.frexp(largest)[1]) if data.weighted else 0
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
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

    def y_extremes(self):
        """Smallest and largest y over positive-weight records, as (2, k)."""
        ymin = np.min([s["ymin"] for s in self._stats], axis=0)
        ymax = np.max([s["ymax"] for s in self._stats], axis=0)
        return np.vstack([ymin, ymax])

    def prepare(self, lo, hi, split):
        """Map y to [0, 1] per chunk, scale the weights (and split off the
        validation records)."""
        offsets, exponent = self.data.offsets, self.weight_exponent
        if split is None:
            splits = [None] * (len(offsets) - 1)
        else:
            train, val = np.sort(split[0]), np.sort(split[1])
            splits = []
            for a, b in zip(offsets[:-1], offsets[1:], strict=True):
                tr = train[np.searchsorted(train, a) : np.searchsorted(train, b)]
                va = val[np.searchsorted(val, a) : np.searchsorted(val, b)]
                splits.append((tr - a, va - a))
        if self.client is None:
            from dask import delayed

            tasks = [
                delayed(_chunk_prepare, pure=False)(p, lo, hi, sp, exponent)
                for p, sp in zip(self.parts, splits, strict=True)
            ]
            self.parts = self._persist(tasks)
            return
        # one move per chunk at most, here, so that every epoch is balanced
        self.parts = [
            self.client.submit(
                _chunk_prepare,
                part,
                lo,
                hi,
                sp,
                exponent,
                pure=False,
                workers=[worker],
                allow_other_workers=True,
            )
            for part, sp, worker in zip(
                self.parts, splits, self._balanced(), strict=True
            )
        ]
        self._place(self.parts)

    def weight_sums(self):
        """Total weight of the training and of the validation records (their
        counts without sample weights); the training count as ``n_train``."""
        sums = self.map(_chunk_weight_sums)
        self.n_train = sum(p[0] for p in sums)
        if not self.data.weighted:
            return self.n_train, sum(p[2] for p in sums)
        return float(sum(p[1] for p in sums)), float(sum(p[3] for p in sums))

    def map(self, func, **kwargs):
        """``[func(part, **kwargs) for part in parts]``, run where the parts live."""
        if self.client is None:
            import dask
            from dask import delayed

            tasks = [delayed(func, pure=False)(p, **kwargs) for p in self.parts]
            return list(dask.compute(*tasks))
        futures = [
            self.client.submit(
                _run_group,
                func,
                kwargs,
                *[self.parts[i] for i in idx],
                pure=False,
                workers=None if worker is None else [worker],
                allow_other_workers=True,
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


def _active_client():
    """The distributed Client dask would compute with now, or None."""
    if "distributed" not in sys.modules:
        return None
    import dask.base
    from distributed import Client

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _run_group(func, kwargs, *parts):
    return [func(part, **kwargs) for part in parts]


# -- what runs on the chunks ---------------------------------------------------
def _chunk_raw(X, Y, s):
    return {
        "X": np.ascontiguousarray(X),
        "Y": np.asarray(Y, dtype=np.float64),
        "s": None if s is None else np.asarray(s),
    }


def _first_bad(a):
    """First row of ``a`` with a non-finite value and its kind, or None."""
    finite = np.isfinite(a)
    if finite.all():
        return None
    if a.ndim > 1:
        finite = finite.all(axis=1)
    row = int(np.flatnonzero(~finite)[0])
    return row, "NaN" if np.isnan(a[row]).any() else "infinity"


def _chunk_stats(part):
    X, Y, s = part["X"], part["Y"], part["s"]
    out = {
        "n": len(X),
        "X": _first_bad(X),
        "y": _first_bad(Y),
        "s": None if s is None else _first_bad(s),
        "negative": None,
    }
    Yp = Y
    if s is not None:
        neg = np.flatnonzero(s < 0)
        out["negative"] = int(neg[0]) if len(neg) else None
        Yp = Y[s > 0]
    k = Y.shape[1]
    with np.errstate(invalid="ignore"):
        out["ymin"] = Yp.min(axis=0) if len(Yp) else np.full(k, np.inf)
        out["ymax"] = Yp.max(axis=0) if len(Yp) else np.full(k, -np.inf)
    out["S"] = float(len(X) if s is None else s.sum(dtype=np.float64))
    out["smax"] = float(s.max()) if s is not None and len(s) else 0.0
    return out


def _check_stats(stats, data):
    """The errors in-memory validation raises, from the chunks' summaries."""
    offsets = data.offsets
    for name, what in (("X", "X"), ("y", "y"), ("s", "sample_weight")):
        for c, st in enumerate(stats):
            if st[name] is None:
                continue
            row, kind = st[name]
            where = f"(first at row {offsets[c] + row}, in dask chunk {c})"
            if name != "X":
                raise ValueError(
                    f"Input {what} contains {kind} {where}; pass finite values: "
                    "drop or impute those records first."
                )
            if kind == "infinity":
                kind += f" or a value too large for {data.dtype}"
            raise ValueError(
                f"Input X contains {kind} {where}. SigmoidNeuronRegressor needs "
                "finite values: drop or impute those records first, for example "
                "keep = da.isfinite(X).all(axis=1); X, y = X[keep], y[keep]."
            )
    for c, st in enumerate(stats):
        if st["negative"] is not None:
            raise ValueError(
                "Negative values in data passed to sample_weight (first at row "
                f"{offsets[c] + st['negative']}, in dask chunk {c}); weights must "
                "be >= 0 (0 removes a record)."
            )
    if data.weighted and not sum(st["S"] for st in stats) > 0:
        raise ValueError(
            "sample_weight sums to zero: at least one record needs a positive weight."
        )


def _chunk_present(part):
    """The rows of the chunk with a positive weight."""
    return np.flatnonzero(part["s"] > 0)


def _chunk_prepare(part, lo, hi, split, exponent):
    X, s = part["X"], part["s"]
    T = _scaling.to_unit(part["Y"], lo, hi, X.dtype)
    if s is not None:  # scaled by 2**-exponent (exact), then in X's dtype
        s = np.ldexp(s, -exponent).astype(X.dtype)
    if split is None:
        # records of weight 0 are absent, as in memory (a huge x times 0 must
        # not reach the sums); a split holds only present records
        keep = None if s is None else s > 0
        if keep is not None and not keep.all():
            X, T, s = X[keep], T[keep], s[keep]
        return {"X": X, "T": T, "s": s, "val": None}
    tr, va = split
    val = (X[va], T[va], None if s is None else s[va])
    return {
        "X": X[tr],
        "T": T[tr],
        "s": None if s is None else s[tr],
        "val": val,
    }


def _pieces(part):
    """The (X, T, s) record sets of a part: training, then validation."""
    yield part["X"], part["T"], part["s"]
    if part["val"] is not None:
        yield part["val"]


def _weight_sum(X, s):
    return len(X) if s is None else float(s.sum(dtype=np.float64))


def _chunk_weight_sums(part):
    """Records and total weight of the training and validation parts."""
    X, s, val = part["X"], part["s"], part["val"]
    out = (len(X), _weight_sum(X, s))
    if val is None:
        return out + (0, 0.0)
    return out + (len(val[0]), _weight_sum(val[0], val[2]))


def _chunk_epoch(part, coef_aug, loss):
    """The chunk's sums for one epoch, and the loss sum of its validation records."""
    with np.errstate(all="ignore"):
        G, gb, lsum = _blocked_sums(part["X"], part["T"], part["s"], coef_aug, loss)
        val = part["val"]
        vsum = None if val is None else _blocked_sums(*val, coef_aug, loss)[2]
    return G, gb, lsum, vsum


def _blocked_sums(X, T, s, coef_aug, loss):
    """``partial_sums`` over blocks of rows that stay in cache between the two
    products with X (one read of X from memory instead of two), added in order."""
    rows = max(LEAF_ROWS, BLOCK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))
    if len(X) <= rows:
        return partial_sums(X, T, s, coef_aug, loss=loss)
    G, gb, lsum = partial_sums(
        X[:rows], T[:rows], _rows(s, 0, rows), coef_aug, loss=loss
    )
    for r in range(rows, len(X), rows):
        sums = partial_sums(
            X[r : r + rows], T[r : r + rows], _rows(s, r, r + rows), coef_aug, loss=loss
        )
        G += sums[0]
        gb += sums[1]
        lsum += sums[2]
    return G, gb, lsum


def _rows(s, a, b):
    return None if s is None else s[a:b]


def _chunk_gram(part, S, fit_intercept):
    X, s = part["X"], part["s"]
    v = np.ones(len(X)) if s is None else np.asarray(s, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return _stepsize.weighted_gram(X, v / S, fit_intercept)


def _chunk_matvec(part, theta, S, fit_intercept):
    X, s = part["X"], part["s"]
    d = X.shape[1]
    v = (np.ones(len(X)) if s is None else np.asarray(s, np.float64)) / S
    h = np.asarray(X @ theta[:d], dtype=np.float64)
    if fit_intercept:
        h = h + theta[d]
    h *= v
    out = np.empty(len(theta))
    out[:d] = X.T @ h
    if fit_intercept:
        out[d] = h.sum()
    return out


def _chunk_trace(part, S, fit_intercept):
    X, s = part["X"], part["s"]
    v = (np.ones(len(X)) if s is None else np.asarray(s, np.float64)) / S
    return _stepsize._trace(X, v, fit_intercept)


def _chunk_records(part):
    return part["X"], part["s"]


def _chunk_sandwich(part, coef, intercept, loss, fit_intercept):
    """The chunk's sums of the sandwich: A (no penalty), B, the score and the
    weight."""
    k, d = coef.shape
    m = d + 1 if fit_intercept else d
    A, B, score = np.zeros((k, m, m)), np.zeros((k, m, m)), np.zeros((k, m))
    S = 0.0
    for X, T, s in _pieces(part):
        s = np.ones(len(X)) if s is None else np.asarray(s, np.float64)
        S += float(s.sum())
        H = np.asarray(X @ coef.T, dtype=np.float64) + intercept
        T = np.asarray(T, dtype=np.float64)
        for j in range(k):
            t = T[:, j] if T.shape[1] > 1 else T[:, 0]
            grad, curv = _inference._derivatives(loss, t, H[:, j])
            A[j] += _stepsize.weighted_gram(X, s * curv, fit_intercept)
            B[j] += _stepsize.weighted_gram(X, s * grad * grad, fit_intercept)
            score[j, :d] += X.T @ (s * grad)
            if fit_intercept:
                score[j, d] += np.dot(s, grad)
    return A, B, score, S


def _chunk_predict(X, coef, intercept, lo, hi, cov, one_d, block_info=None):
    X = np.asarray(X)
    bad = _first_bad(X)
    if bad is not None:
        start = block_info[0]["array-location"][0][0] if block_info else 0
        raise ValueError(
            f"Input X contains {bad[1]} (first at row {start + bad[0]}); predict "
            "needs finite values: drop or impute those records first."
        )
    if cov is None:
        out = _scaling.from_unit(predict_unit(X, coef, intercept), lo, hi)
    else:
        out = _inference.predict_std(X, coef, intercept, cov, lo, hi)
        out = out.astype(X.dtype, copy=False)
    return out[:, 0] if one_d else out


# -- the steps of fit on chunks ------------------------------------------------
def _learnrate(est, chunks, S):
    """``learnrate``, or the step of ``"auto"`` from the training records;
    recorded as ``learnrate_``."""
    learnrate = est.learnrate
    if isinstance(learnrate, str):  # "auto"
        lam = _lambda_max(chunks, S, est.fit_intercept)
        L = _stepsize.CURVATURE[est.loss] * lam + float(est.alpha)
        if not np.isfinite(L):
            raise ValueError(
                "learnrate='auto' cannot bound the curvature: X has values too "
                "large to square in float64. Scale X (for example with "
                "sklearn.preprocessing.StandardScaler) or pass a float learnrate."
            )
        learnrate = 1.0 / L if L > 0 else 1.0
    est.learnrate_ = float(learnrate)
    return learnrate


def _lambda_max(chunks, S, fit_intercept):
    """``λmax(X̃ᵀ diag(s) X̃ / S)`` over the training records, as
    ``_stepsize.gram_lambda_max`` computes it in memory."""
    d = chunks.data.n_features
    m = d + 1 if fit_intercept else d
    if m <= _stepsize.EXACT_MAX:
        G = sum(chunks.map(_chunk_gram, S=S, fit_intercept=fit_intercept))
        if not np.all(np.isfinite(G)):
            return np.inf
        return float(eigvalsh(G, subset_by_index=[m - 1, m - 1])[0])
    if chunks.n_train <= _stepsize.EXACT_MAX:
        # few records: in memory, as gram_lambda_max does
        records = chunks.map(_chunk_records)
        X = np.concatenate([X for X, _ in records])
        s = None
        if chunks.data.weighted:
            s = np.concatenate([s for _, s in records])
        return _stepsize.gram_lambda_max(X, s, fit_intercept)

    def matvec(theta):
        theta = np.ravel(theta)
        parts = chunks.map(_chunk_matvec, theta=theta, S=S, fit_intercept=fit_intercept)
        return sum(parts)

    op = LinearOperator((m, m), matvec=matvec, dtype=np.float64)
    start = np.random.RandomState(0).normal(size=m)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            value = eigsh(
                op, k=1, which="LA", v0=start, tol=1e-8, return_eigenvectors=False
            )
    except ArpackNoConvergence:
        return float(sum(chunks.map(_chunk_trace, S=S, fit_intercept=fit_intercept)))
    return float(value[0])


class _Steps:
    """Epochs of the rule from the chunks' sums; the weights stay here."""

    def __init__(self, est, chunks, coef, intercept, learnrate, S):
        dtype = chunks.data.dtype
        k, d = coef.shape
        self.est, self.chunks, self.S = est, chunks, S
        self.coef_aug = np.empty((k, d + 1), dtype=dtype)
        self.coef_aug[:, :-1] = coef
        self.coef_aug[:, -1] = intercept
        lr = np.full(k, learnrate)
        self.step = (lr / S).astype(dtype)  # as EpochKernel: lr / S per neuron
        self.decay = (1 - lr * est.alpha).astype(dtype)
        self.alpha = float(est.alpha)

    def sums(self):
        """Every chunk's sums at the current weights, added in chunk order."""
        parts = self.chunks.map(
            _chunk_epoch, coef_aug=self.coef_aug, loss=self.est.loss
        )
        G, gb = parts[0][0].copy(), parts[0][1].copy()
        lsum = parts[0][2].astype(np.float64)
        for p in parts[1:]:
            G += p[0]
            gb += p[1]
            lsum += p[2]
        vsum = None
        if parts[0][3] is not None:
            vsum = sum(p[3].astype(np.float64) for p in parts)
        return G, gb, lsum, vsum

    def step_from(self, sums):
        """Apply the epoch whose sums are ``sums``; its loss per neuron."""
        G, gb, lsum, _ = sums
        W = self.coef_aug[:, :-1]
        penalty = 0.0
        if self.alpha:
            penalty = 0.5 * self.alpha * np.einsum("kd,kd->k", W, W).astype(np.float64)
        losses = lsum / self.S + penalty
        apply_step(self.coef_aug, G, gb, self.step, self.decay, self.est.fit_intercept)
        return losses

    def get_params(self):
        return self.coef_aug[:, :-1].copy(), self.coef_aug[:, -1].copy()


def _epochs(est, chunks, coef, intercept, learnrate, S, n_epochs):
    """``n_epochs`` epochs (no stopping rule): weights and losses (n_epochs, k)."""
    from ._sigmoid_neuron import _check_finite

    steps = _Steps(est, chunks, coef, intercept, learnrate, S)
    losses = np.empty((n_epochs, coef.shape[0]))
    for i in range(n_epochs):
        losses[i] = steps.step_from(steps.sums())
        _check_finite(losses[i], steps, None, est.learnrate)
    return *steps.get_params(), losses


def _descend(est, chunks, coef, intercept, curve, learnrate, S, S_val, path=None):
    """The epoch loop of ``est._descend``, with the chunks' sums.

    One pass over the chunks per epoch: the pass at the weights of epoch
    ``k + 1``'s start also gives the validation loss after epoch ``k``.
    """
    from ._sigmoid_neuron import _check_finite

    early = est.early_stopping
    stopping = est.tol is not None or early
    if not (stopping or est.verbose or path is not None):
        coef, intercept, losses = _epochs(
            est, chunks, coef, intercept, learnrate, S, est.epochs
        )
        return coef, intercept, curve + losses.mean(axis=1).tolist(), None

    tol = est.tol or 0.0
    cadence = 1 if est.verbose > 1 else max(1, est.epochs // 10)
    val_curve = [] if early else None
    best, best_params, no_change, stopped = np.inf, None, 0, False
    steps = _Steps(est, chunks, coef, intercept, learnrate, S)
    sums = steps.sums()
    for epoch in range(1, est.epochs + 1):
        loss_k = steps.step_from(sums)
        loss = float(loss_k.mean())
        _check_finite(loss, steps, epoch, est.learnrate)
        curve.append(loss)
        if path is not None:
            path.append(steps.get_params())
        monitored = loss
        if early:
            sums = steps.sums()
            monitored = float((sums[3] / S_val).mean())
            val_curve.append(monitored)
        if est.verbose and (epoch % cadence == 0 or epoch == est.epochs):
            extra = "" if not early else f", validation loss = {monitored:.8g}"
            print(f"Epoch {len(curve)}, loss = {loss:.8g}{extra}")
        if stopping:
            no_change = no_change + 1 if monitored > best - tol else 0
            if monitored < best:
                best = monitored
                if early:
                    best_params = steps.get_params()
            if no_change >= est.n_iter_no_change:
                stopped = True
                break
        if not early and epoch < est.epochs:
            sums = steps.sums()
    coef, intercept = steps.get_params()
    if best_params is not None:
        coef, intercept = best_params
    if stopping and not stopped:
        warnings.warn(
            f"The loss still improved by more than tol={tol:g} within the last "
            f"{est.n_iter_no_change} of epochs={est.epochs}; increase epochs "
            "(or learnrate) for convergence.",
            ConvergenceWarning,
            stacklevel=5,
        )
    if stopped and est.verbose:
        print(f"Stopped after epoch {len(curve)}: no improvement by tol={tol:g}.")
    return coef, intercept, curve, val_curve


def _set_inference(est, chunks, y_ndim):
    """``coef_cov_``, ``coef_se_``, ``intercept_se_`` from the chunks' sums
    (all records, as ``_inference.sandwich`` on the data in memory)."""
    coef, intercept = est._coef_2d()
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    k, d = coef.shape
    fit_intercept, alpha = est.fit_intercept, est.alpha
    m = d + 1 if fit_intercept else d
    sums = chunks.map(
        _chunk_sandwich,
        coef=coef,
        intercept=intercept,
        loss=est.loss,
        fit_intercept=fit_intercept,
    )
    A = sum(s[0] for s in sums)
    B = sum(s[1] for s in sums)
    score = sum(s[2] for s in sums)
    S = float(sum(s[3] for s in sums))  # of the scaled weights, as A and B
    penalty = np.r_[np.full(d, S * alpha), 0.0][:m]
    cov = np.zeros((k, d + 1, d + 1))
    newton = np.zeros((k, d + 1))
    for j in range(k):
        A[j][np.diag_indices(m)] += penalty
        score[j, :d] += S * alpha * coef[j]
        A_inv = _inference._inverse_pd(A[j])
        cov[j, :m, :m] = A_inv @ B[j] @ A_inv
        newton[j, :m] = A_inv @ score[j]
    # the weights count as frequencies: the covariance of the weights given
    cov = np.ldexp(cov, -chunks.weight_exponent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _inference.check(cov, newton, k)
    for w in caught:  # re-issued to point at the caller of fit
        warnings.warn(w.message, w.category, stacklevel=4)
    se = _inference.standard_errors(cov)
    if y_ndim == 1:
        cov, se = cov[0], se[0]
    est.coef_cov_ = cov
    est.coef_se_ = se[..., :-1]
    est.intercept_se_ = se[-1] if y_ndim == 1 else se[:, -1]
