"""Arrays of any array-API namespace: where they live, and conversions.

The helpers that the estimators, the sources, the validation, the target
scaling and the engines share, on top of scikit-learn's
(``sklearn.utils._array_api``). Nothing here imports the package.
"""

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.externals import array_api_compat
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
)

# Bytes of the float64 copy of one block of rows copied to the host.
BLOCK_BYTES = 1 << 24

# numpy as an array-API namespace: numpy itself from 2.0 on (no wrapper to
# call through), array-api-compat's wrapper before.
NUMPY = np if hasattr(np, "permute_dims") else array_api_compat.numpy


def xp_of(X):
    """``(xp, device, is_numpy)`` of X: numpy (and scipy sparse) as
    :data:`NUMPY`, any other array as its own namespace."""
    if isinstance(X, np.ndarray) or sparse.issparse(X):
        return NUMPY, "cpu", True
    xp = array_api_compat.array_namespace(X)
    if _is_numpy_namespace(xp):
        return NUMPY, "cpu", True
    return xp, array_api_compat.device(X), False


def namespace_of(X):
    """``(xp, device)`` when X trains in its own namespace (array API dispatch
    on, X an array of a namespace other than numpy), else None."""
    if not get_config()["array_api_dispatch"] or sparse.issparse(X):
        return None
    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or _is_numpy_namespace(xp):
        return None
    return xp, device


def to_numpy(a):
    """A numpy array (on the host) from an array of any namespace, whether
    array API dispatch is on or not (may share memory with ``a``)."""
    if a is None or isinstance(a, np.ndarray | np.generic):
        return a
    if not array_api_compat.is_array_api_obj(a):  # Python scalars, lists
        return np.asarray(a)
    if getattr(a, "requires_grad", False):
        a = a.detach()
    return _convert_to_numpy(a, array_api_compat.array_namespace(a))


def like(a, ref):
    """``a`` (numpy) in the namespace, on the device and in the dtype of ``ref``."""
    if isinstance(ref, np.ndarray):
        return np.asarray(a).astype(ref.dtype, copy=False)
    xp, _, device = get_namespace_and_device(ref)
    return to_namespace(a, xp, device, ref.dtype)


def numpy_dtype(xp, dtype):
    """The numpy float dtype of an ``xp`` float dtype."""
    return np.dtype(np.float32 if dtype == xp.float32 else np.float64)


def float_dtypes(xp, device):
    """The float dtypes X keeps, highest first: float64 only where the device
    has it (not on MPS)."""
    if _max_precision_float_dtype(xp, device) == xp.float64:
        return [xp.float64, xp.float32]
    return [xp.float32]


def to_namespace(a, xp, device, dtype=None):
    """``a`` (numpy, a scalar, or already in ``xp``) as an ``xp`` array on
    ``device``, in ``dtype`` (a numpy or ``xp`` float dtype) when given."""
    if a is None:
        return None
    numpy_given = _is_numpy_dtype(dtype)
    if isinstance(a, np.ndarray | np.generic | float | int):
        a = np.asarray(a)
        if numpy_given:
            a = a.astype(dtype, copy=False)
        a = move_to(np.asarray(a, order="C"), xp=xp, device=device)
    if dtype is not None:
        if numpy_given:
            dtype = xp.float32 if np.dtype(dtype) == np.float32 else xp.float64
        if dtype != a.dtype:
            a = xp.astype(a, dtype)
    return a


def _is_numpy_dtype(dtype):
    return isinstance(dtype, np.dtype) or (
        isinstance(dtype, type) and issubclass(dtype, np.generic)
    )


def take_rows(A, rows):
    """Rows ``rows`` (a numpy index array) of ``A``: numpy, sparse, or of any
    namespace."""
    if A is None:
        return None
    if isinstance(A, np.ndarray) or sparse.issparse(A):
        return A[rows]
    xp, _, device = get_namespace_and_device(A)
    return xp.take(
        A, xp.asarray(np.asarray(rows, dtype=np.int64), device=device), axis=0
    )


def host_blocks(*arrays, rows=None):
    """The arrays' blocks of rows as numpy arrays (None stays None), the rows
    of a block holding ``BLOCK_BYTES`` of the first array's float64 copy."""
    X = arrays[0]
    n, d = X.shape[0], max(1, X.shape[1] if X.ndim > 1 else 1)
    rows = rows or max(1, BLOCK_BYTES // (8 * d))
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)  # array-api-strict: no stop past the end
        yield tuple(None if a is None else to_numpy(a[r0:r1, ...]) for a in arrays)
