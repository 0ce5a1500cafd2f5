"""Target scaling: the user's ``y`` to the sigmoid's range [0, 1] and back."""

import numpy as np
from sklearn.utils._array_api import get_namespace_and_device

from ._namespace import float_dtypes, numpy_dtype, to_namespace, xp_of

# Rows per block of the float64 work in to_unit.
BLOCK_ROWS = 1 << 16


def _fmt(v):
    return f"{v:.6g}"


def learn_target_range(y, sample_weight, target_scaling):
    """``(lo, hi)`` for a new model, after checking ``target_scaling`` and that
    ``y`` lies in the range (the records with positive weight)."""
    check_target_scaling(target_scaling)
    lo, hi = target_range(y, sample_weight, target_scaling)
    check_target_range(y, sample_weight, lo, hi, target_scaling)
    return lo, hi


def target_range(y, sample_weight, target_scaling):
    """``(lo, hi)`` per output, each of shape (n_outputs,), as float64.

    ``y`` has shape (n_samples, n_outputs). Records with weight 0 take no part.
    """
    n_outputs = y.shape[1]
    if isinstance(target_scaling, str):  # "minmax"
        yp = y if sample_weight is None else y[sample_weight > 0]
        lo, hi = yp.min(axis=0).astype(np.float64), yp.max(axis=0).astype(np.float64)
        with np.errstate(over="ignore"):
            wide = ~np.isfinite(hi - lo)
        if wide.any():
            j = int(np.flatnonzero(wide)[0])
            where = f" (output {j})" if n_outputs > 1 else ""
            raise ValueError(
                f"y has values in [{_fmt(lo[j])}, {_fmt(hi[j])}]{where}, a range "
                "wider than the largest float64; rescale y (for example divide "
                "it by 1e10) before fitting."
            )
        return lo, hi
    if target_scaling is None:
        low, high = 0.0, 1.0
    else:
        low, high = (float(v) for v in target_scaling)
    return np.full(n_outputs, low), np.full(n_outputs, high)


def check_target_range(y, sample_weight, lo, hi, target_scaling, *, partial=False):
    """Raise a ValueError that names the range and the fix if ``y`` leaves it."""
    yp = y if sample_weight is None else y[sample_weight > 0]
    if yp.size == 0:
        return
    ymin, ymax = yp.min(axis=0), yp.max(axis=0)
    bad = (ymin < lo) | (ymax > hi)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    seen = f"[{_fmt(ymin[j])}, {_fmt(ymax[j])}]"
    allowed = f"[{_fmt(lo[j])}, {_fmt(hi[j])}]"
    where = f" (output {j})" if y.shape[1] > 1 else ""
    if partial and isinstance(target_scaling, str):
        raise ValueError(
            f"y has values in {seen}{where} outside the range {allowed} that "
            "target_scaling='minmax' learned when the model was first fitted "
            "(by fit or the first partial_fit batch). "
            "Pass target_scaling=(low, high) with bounds that hold for the "
            "whole stream."
        )
    if target_scaling is None:
        raise ValueError(
            f"y has values in {seen}{where} but target_scaling=None needs "
            "[0, 1]; use target_scaling='minmax' or (low, high)."
        )
    raise ValueError(
        f"y has values in {seen}{where} outside target_scaling={allowed}; "
        "widen (low, high) or use target_scaling='minmax'."
    )


def check_target_scaling(target_scaling):
    """Validate a ``(low, high)`` tuple (the parameter constraints check the rest)."""
    if target_scaling is None or isinstance(target_scaling, str):
        return
    try:
        low, high = (float(v) for v in target_scaling)
    except (TypeError, ValueError):
        raise ValueError(
            "target_scaling must be 'minmax', None or a (low, high) pair of "
            f"numbers; got {target_scaling!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            "target_scaling=(low, high) needs finite low < high; got "
            f"{target_scaling!r}."
        )
    if not np.isfinite(high - low):  # Python floats: inf, no warning
        raise ValueError(
            f"target_scaling={target_scaling!r} is wider than the largest "
            "float64 (high - low overflows); rescale y and the bounds."
        )


def to_unit(y, lo, hi, dtype):
    """Targets ``t`` in [0, 1] (a constant output maps to 0.5) in ``dtype``,
    X's dtype in y's namespace (numpy's, or that of an array-API namespace).

    Computed in the widest float (float64 where the device has it) one block
    of rows at a time: the only array as long as the data is the result.
    """
    xp, device, _ = xp_of(y)
    span = hi - lo
    const = span == 0
    wide = float_dtypes(xp, device)[0]
    lo_ = to_namespace(lo, xp, device, wide)
    scale = to_namespace(np.where(const, 1.0, span), xp, device, wide)
    const_ = to_namespace(const, xp, device) if const.any() else None
    t = xp.empty(y.shape, dtype=dtype, device=device)
    # only a record with weight 0 can lie so far outside [lo, hi] that y - lo
    # overflows; it takes no part, and the clip keeps its t finite
    with np.errstate(over="ignore"):
        for r0 in range(0, y.shape[0], BLOCK_ROWS):
            r1 = min(
                r0 + BLOCK_ROWS, y.shape[0]
            )  # array-api-strict: no stop past the end
            block = (xp.astype(y[r0:r1, ...], wide) - lo_) / scale
            if const_ is not None:
                block = xp.where(const_, 0.5, block)
            t[r0:r1, ...] = xp.astype(xp.clip(block, 0.0, 1.0), dtype)
    return t


def from_unit(y_unit, lo, hi, *, copy=True):
    """Predictions in the user's units: ``lo + ŷ (hi - lo)``, in ŷ's dtype
    and namespace (``lo``, ``hi``: numpy float64). ``copy=False`` may write
    into a numpy ``y_unit`` (the caller's own: no second array as long as the
    data).

    float64 instead when the target range does not fit ŷ's dtype (float32
    holds values up to 3.4e38), rather than infinite predictions (on a device
    without float64, such as MPS, they stay float32).
    """
    span = hi - lo
    largest = max(np.abs(lo).max(), np.abs(hi).max(), span.max())
    if isinstance(y_unit, np.ndarray):
        dtype = y_unit.dtype
        if largest > np.finfo(dtype).max:
            dtype = np.float64
            y_unit, copy = y_unit.astype(dtype), False
        if copy:
            return y_unit * span.astype(dtype) + lo.astype(dtype)
        y_unit *= span.astype(dtype)
        y_unit += lo.astype(dtype)
        return y_unit
    xp, _, device = get_namespace_and_device(y_unit)
    if largest > np.finfo(numpy_dtype(xp, y_unit.dtype)).max:
        y_unit = xp.astype(y_unit, float_dtypes(xp, device)[0])
    dtype = y_unit.dtype
    return y_unit * to_namespace(span, xp, device, dtype) + to_namespace(
        lo, xp, device, dtype
    )
