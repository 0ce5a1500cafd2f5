"""What runs on one part of a source (see ``_source``): one function per pass,
``_part_*(part, **arguments)``, on the dict of a part's arrays, in memory or
in a dask worker. The sources map them over their parts and combine the
results."""

import numpy as np
from scipy import sparse

from . import _diagnostics, _inference, _kernels, _scaling
from ._namespace import (
    host_blocks,
    numpy_dtype,
    take_rows,
    to_namespace,
    to_numpy,
    xp_of,
)

# Bytes of X per block of validation rows gathered at a time.
BLOCK_BYTES = 1 << 18
# Validation rows of at most this many bytes are copied once, not gathered
# from X every epoch.
VALIDATION_COPY_BYTES = 1 << 22
# Rows of the weights per block while counting and finding rows.
BLOCK_ROWS = 1 << 16


# -- what runs on a part -------------------------------------------------------------
def _part_args(kwargs, per_part, i):
    return {
        key: value[i] if key in per_part else value for key, value in kwargs.items()
    }


def _xp(part):
    return xp_of(part["X"])[0]


def _host(a):
    """A 1-D array of any namespace as numpy (None stays None)."""
    return None if a is None else np.asarray(to_numpy(a))


def _part_extremes(part):
    """``(lo, hi)`` of y over the part's records with positive weight (±inf
    when it has none), numpy float64, one block of rows at a time."""
    Y, s = part["Y"], part["s"]
    xp = _xp(part)
    k = Y.shape[1]
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    for r0 in range(0, Y.shape[0], BLOCK_ROWS):
        r1 = min(r0 + BLOCK_ROWS, Y.shape[0])  # array-api-strict: no stop past the end
        Yb = Y[r0:r1, ...]
        if s is not None:
            present = (s[r0:r1] > 0)[:, None]
            low = xp.min(xp.where(present, Yb, xp.inf), axis=0)
            high = xp.max(xp.where(present, Yb, -xp.inf), axis=0)
        else:
            low, high = xp.min(Yb, axis=0), xp.max(Yb, axis=0)
        lo = np.minimum(lo, _host(low).astype(np.float64))
        hi = np.maximum(hi, _host(high).astype(np.float64))
    return lo, hi


def _part_targets(part, lo, hi):
    X = part["X"]
    dtype = X.dtype if isinstance(X, np.ndarray) or sparse.issparse(X) else X.dtype
    return {**part, "T": _scaling.to_unit(part["Y"], lo, hi, dtype)}


def _part_count_present(part):
    s = part["s"]
    if s is None:
        return part["X"].shape[0]
    n = s.shape[0]
    return sum(
        int(np.count_nonzero(_host(s[r0 : min(r0 + BLOCK_ROWS, n)] > 0)))
        for r0 in range(0, n, BLOCK_ROWS)
    )


def _part_split(part, positions):
    """The training weights, 0 on the validation rows (``positions`` among the
    part's records present; None: no validation rows), set in place in the
    part's own weights (restored by :func:`_part_restore`)."""
    part = _part_restore(part)
    X, s = part["X"], part["s"]
    if positions is None:
        return {**part, "s_train": s, "val": None}
    xp, device, is_numpy = xp_of(X)
    s_host = None if s is None else _host(s)
    # int32 where the positions are (take_rows gathers by any integers)
    rows = positions if s is None else _rows_of(positions, s_host)
    if s is None:
        s_train, s_val = np.ones(X.shape[0], _np_dtype(X)), None
    else:
        s_train, s_val = s_host, s_host[rows].copy()
    s_train[rows] = 0
    val = (rows, s_val)
    if not is_numpy:
        s_train = to_namespace(s_train, xp, device)
    part = {**part, "s_train": s_train, "val": val, "restore": s is not None}
    if not is_numpy and s is not None:
        part["restore"] = False  # s_train is a copy on the device
    row_bytes = max(1, X.shape[1] * _np_dtype(X).itemsize)
    if len(rows) * row_bytes <= VALIDATION_COPY_BYTES:
        # small: copied once, not gathered every epoch
        sv = None if s_val is None else _like_x(s_val, X)
        part["val_copy"] = (take_rows(X, rows), take_rows(part["T"], rows), sv)
    return part


def _part_restore(part):
    """The weights as given, after :func:`_part_split`."""
    val = part.get("val")
    if val is not None and part.get("restore"):
        rows, s_val = val
        part["s"][rows] = s_val
    return {
        key: value
        for key, value in part.items()
        if key not in ("s_train", "val", "val_copy", "restore")
    }


def _part_weight_sums(part):
    """Total weight of the part's training and validation records."""
    s_train, val = part["s_train"], part["val"]
    train = (
        part["X"].shape[0]
        if s_train is None
        else float(np.sum(_host(s_train), dtype=np.float64))
    )
    if val is None:
        return train, 0.0
    rows, s_val = val
    return train, len(rows) if s_val is None else float(s_val.sum(dtype=np.float64))


def _part_split_sums(part):
    return _part_weight_sums(_part_split(part, None))


def _part_apply(part, train_func, kwargs):
    return train_func(part["X"], part["s_train"], **kwargs)


def _part_sums(part, coef_aug, loss, tcol, engine=None):
    """The part's sums of an epoch at ``coef_aug``, by its engine (``engine``:
    as :func:`_kernels.same_engine`)."""
    k, d = coef_aug.shape[0], coef_aug.shape[1] - 1
    with _kernels.same_engine(engine), _kernels.make_kernel(
        part["X"], part["T"], part["s_train"], np.ones(k), tcol=tcol, loss=loss,
        n_threads=1,
    ) as kernel:  # fmt: skip
        kernel.set_params(coef_aug[:, :d], coef_aug[:, d])
        G, gb, lsum = kernel.sums()
    return G.astype(coef_aug.dtype), gb.astype(coef_aug.dtype), lsum


def _part_validation_loss(part, coef, b, loss):
    """``Σ s ℓ`` per neuron over the part's validation records (float64),
    from their copy, or gathered from X one block of rows at a time."""
    val = part["val"]
    if val is None or not len(val[0]):
        return np.zeros(coef.shape[0])
    if "val_copy" in part:
        return _kernels.loss_sums(*part["val_copy"], coef, b, loss)
    rows, s_val = val
    X = part["X"]
    step = max(1, BLOCK_BYTES // max(1, X.shape[1] * _np_dtype(X).itemsize))
    total = np.zeros(coef.shape[0])
    for r0 in range(0, len(rows), step):
        idx = rows[r0 : r0 + step]
        sb = None if s_val is None else _like_x(s_val[r0 : r0 + step], X)
        Xb, Tb = take_rows(X, idx), take_rows(part["T"], idx)
        total += _kernels.loss_sums(Xb, Tb, sb, coef, b, loss)
    return total


def _part_summary(part, coef, intercept, loss, rows):
    X, T, s = part["X"], part["T"], part["s_train"]
    sums = _diagnostics.record_sums(X, T, s, coef, intercept, loss)
    return {**sums, **_part_sample(part, rows)}


def _part_sample(part, rows):
    return _diagnostics.sample_targets(part["T"], part["s_train"], rows)


def _part_sandwich(part, coef, intercept, loss, fit_intercept):
    """The part's sums of the sandwich, over all its records (numpy blocks
    of arrays of other namespaces)."""
    X, T, s = part["X"], part["T"], part["s"]
    if xp_of(X)[2]:
        blocks = [(X, T, s)]
    else:
        blocks = host_blocks(X, T, s)
    sums = [
        _inference.sandwich_sums(
            Xb, Tb, sb, coef, intercept, loss=loss, fit_intercept=fit_intercept
        )
        for Xb, Tb, sb in blocks
    ]
    return tuple(sum(p[i] for p in sums) for i in range(4))


def _part_get(part, key, exponent):
    if key == "s":
        s = part["s"]
        return None if s is None else np.ldexp(_host(s).astype(np.float64), exponent)
    return np.asarray(to_numpy(part[key]), dtype=np.float64)


def _part_fold(part, train, test):
    """The part as a CV fold: weight 0 outside ``train``, ``test`` kept apart."""
    X, s = part["X"], part["s"]
    xp, device, is_numpy = xp_of(X)
    fold_s = np.zeros(X.shape[0], _np_dtype(X))
    fold_s[train] = 1 if s is None else _host(s)[train]
    held_out = {"rows": test, "X": take_rows(X, test), "Y": part["Y"], "s": s}
    return {
        "X": X,
        "Y": part["Y"],
        "s": fold_s if is_numpy else to_namespace(fold_s, xp, device),
        "held_out": held_out,
    }


def _part_training_rows(part):
    rows = np.flatnonzero(_host(part["s"]) > 0)
    return take_rows(part["X"], rows), _host_rows(part["Y"], rows), rows


def _part_held_out(part, with_X, exponent):
    held = part["held_out"]
    rows, s = held["rows"], held["s"]
    if s is not None:
        s = np.ldexp(_host(s)[rows].astype(np.float64), exponent)
    return held["X"] if with_X else None, _host_rows(held["Y"], rows), s


def _part_predict_held_out(part, coef, intercept):
    y_unit = _kernels.predict_unit(part["held_out"]["X"], coef, intercept)
    return np.asarray(to_numpy(y_unit))


def _host_rows(Y, rows):
    return np.asarray(to_numpy(take_rows(Y, rows)), dtype=np.float64)


def _stack(blocks):
    if sparse.issparse(blocks[0]):
        return sparse.vstack(blocks, format="csr")
    return np.concatenate([to_numpy(b) for b in blocks])


def _np_dtype(X):
    if isinstance(X, np.ndarray) or sparse.issparse(X):
        return X.dtype
    return numpy_dtype(xp_of(X)[0], X.dtype)


def _like_x(a, X):
    """numpy ``a`` in X's namespace, on its device, in its dtype."""
    xp, device, is_numpy = xp_of(X)
    a = a.astype(_np_dtype(X), copy=False)
    return a if is_numpy else to_namespace(a, xp, device)


def _rows_of(positions, s):
    """The rows of the records at ``positions`` (sorted) among those with
    positive weight, one block of rows at a time."""
    rows = np.empty(len(positions), dtype=np.int32 if len(s) < 2**31 else np.int64)
    done = seen = 0
    for r0 in range(0, len(s), BLOCK_ROWS):
        present = np.flatnonzero(s[r0 : r0 + BLOCK_ROWS] > 0)
        end = np.searchsorted(positions, seen + len(present))
        rows[done:end] = present[positions[done:end] - seen] + r0
        done, seen = end, seen + len(present)
    return rows
