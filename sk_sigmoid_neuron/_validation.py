"""Input checks that every data source shares: the same checks, errors and messages.

In memory, scikit-learn's own validation (``validate_data``,
``_check_sample_weight``) checks the arrays. A dask source cannot look at its
values before its chunks are computed, so it checks the metadata here with
the same functions (on an empty array of the same dtype), and a value that a
chunk finds wrong is reported by running the same scikit-learn check on that
value, so that the message is the in-memory message, followed by where the
value is.
"""

import inspect

import numpy as np
from sklearn import get_config
from sklearn.externals import array_api_compat
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    validate_data,
)

from ._namespace import float_dtypes, namespace_of

DTYPES = [np.float64, np.float32]
SPARSE = ("csr", "csc")
# Rows per block where a pass converts or scales n-long vectors (a float64
# temporary of this many rows at most, instead of one as long as the data).
BLOCK_ROWS = 1 << 16

ALL_ZERO_WEIGHTS = (
    "sample_weight sums to zero: at least one record needs a positive weight."
)

# scikit-learn >= 1.8 rejects all-zero weights itself, with its own message;
# ours is raised instead, the same on every data source and version
_ZERO_WEIGHTS_OK = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def validate_training_data(estimator, X, y, sample_weight, *, reset):
    """Validated ``(X, Y, s, y_ndim, exponent)`` of in-memory training data.

    scikit-learn's ``validate_data`` checks X and y (and records
    ``n_features_in_`` and the feature names on ``estimator``),
    ``_check_sample_weight`` the weights. Under ``array_api_dispatch``, y
    and the weights follow X into its namespace and onto its device, and X
    of a namespace other than numpy's stays there (float32 only on a device
    without float64, such as MPS). ``Y`` is y as (n_samples, n_outputs) in
    the widest float (float64 numpy: a view when y is float64 numpy); ``s``
    the weights scaled by ``2**-exponent`` to a largest weight in [0.5, 1),
    in X's dtype, or None. Records of weight 0 stay (the engines give them
    no influence), so X is never copied here.
    """
    namespace = namespace_of(X)
    if get_config()["array_api_dispatch"]:
        # y and the weights follow X, as in scikit-learn
        X, y, sample_weight = _follow_x(X, y, sample_weight)
    if namespace is None:
        dtypes, accept_sparse = DTYPES, SPARSE
    else:
        dtypes, accept_sparse = float_dtypes(*namespace), False
    X, y = validate_data(
        estimator,
        X,
        y,
        reset=reset,
        accept_sparse=accept_sparse,
        dtype=dtypes,
        multi_output=True,
        y_numeric=True,
    )
    s, exponent = None, 0
    if namespace is None:
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    else:
        xp = namespace[0]
        Y = xp.reshape(xp.astype(y, dtypes[0]), (X.shape[0], -1))
    if sample_weight is not None:
        s = _check_sample_weight(
            sample_weight,
            X,
            dtype=dtypes[0],
            ensure_non_negative=True,
            **_ZERO_WEIGHTS_OK,
        )
        if namespace is None:
            s, exponent = scale_weights(s, X.dtype)
        else:
            exponent = weight_exponent(float(xp.max(s)))
            s = xp.astype(s * 2.0**-exponent, X.dtype)  # exact, as np.ldexp
    return X, Y, s, y.ndim, exponent


def _follow_x(X, y, sample_weight):
    """``X``, and ``y`` and ``sample_weight`` in X's namespace and on its
    device (arrays of another namespace are moved; lists and scalars are left
    to the checks), none of them tracked by autograd (training is not
    differentiated through)."""
    xp, _, device = get_namespace_and_device(X)

    def follow(a):
        a = detached(a)
        if a is None or not array_api_compat.is_array_api_obj(a):
            return a
        if isinstance(a, np.ndarray) and _is_numpy_namespace(xp):
            return a
        return move_to(a, xp=xp, device=device)

    return detached(X), follow(y), follow(sample_weight)


def detached(a):
    """``a`` without its autograd history (a tensor that requires grad)."""
    if getattr(a, "requires_grad", False) and hasattr(a, "detach"):
        return a.detach()
    return a


def weight_exponent(largest):
    """The exponent ``e`` that scales weights to a largest one in [0.5, 1).

    Only the ratios of the weights matter; scaled by a power of two (exact, so
    a fit's bits do not change) they neither overflow X's dtype nor push
    ``s * x`` towards it. ``largest`` must be > 0 (else the all-zero error).
    """
    if not largest > 0:  # the largest, not the sum, which may overflow
        raise ValueError(ALL_ZERO_WEIGHTS)
    return int(np.frexp(largest)[1])


def scale_weights(s, dtype, exponent=None):
    """``s * 2**-exponent`` in ``dtype`` and the exponent, one block of rows at
    a time (no float64 copy as long as the data)."""
    if exponent is None:
        exponent = weight_exponent(s.max(initial=0.0))
    out = np.empty(s.shape[0], dtype=dtype)
    for r0 in range(0, s.shape[0], BLOCK_ROWS):
        out[r0 : r0 + BLOCK_ROWS] = np.ldexp(s[r0 : r0 + BLOCK_ROWS], -exponent)
    return out, exponent


def given_weights(s, exponent):
    """The weights as given (callbacks see these), from the scaled ones."""
    return None if s is None else np.ldexp(s.astype(np.float64), exponent)


def check_dtype(dtype, name, estimator):
    """The dtype that in-memory validation would give ``name``, or its error.

    Runs scikit-learn's own check on an empty array of ``dtype``: X keeps
    float32/float64 and takes float64 otherwise (numeric strings and object
    arrays too, converted when the values are read); complex data and other
    kinds fail with scikit-learn's message.
    """
    try:  # a value that every numeric dtype, string or object, can hold
        sample = np.ones((1, 1)).astype(dtype)
    except (TypeError, ValueError):
        sample = np.zeros((1, 1), dtype=dtype)
    checked = check_array(
        sample,
        dtype=DTYPES if name == "X" else np.float64,
        input_name=name,
        estimator=estimator,
    )
    return checked.dtype


def raise_value_error(values, name, where, estimator):
    """Raise the ValueError in-memory validation raises for ``values`` (the
    bad values a data source found), with ``where`` they are appended.

    ``name`` is "X", "y" or "sample_weight".
    """
    values = np.atleast_1d(np.asarray(values))
    try:
        if name == "sample_weight":
            _check_sample_weight(
                values,
                np.empty((len(values), 1)),
                dtype=np.float64,
                ensure_non_negative=True,
                **_ZERO_WEIGHTS_OK,
            )
        else:
            check_array(
                values.reshape(1, -1) if name == "X" else values,
                dtype=np.float64,
                ensure_2d=name == "X",
                input_name=name,
                estimator=estimator,
            )
    except ValueError as exc:
        # where goes at the end of the first line: "Input X contains NaN
        # (first at row 7, in dask chunk 0).", then the rest of the message
        first, newline, rest = str(exc).partition("\n")
        first = first.rstrip().removesuffix(".")
        raise ValueError(f"{first} ({where}).{newline}{rest}".rstrip()) from None
    raise AssertionError(
        f"{name} values {values!r} pass validation"
    )  # pragma: no cover


def check_init(value, shape, name, dtype):
    """``coef_init`` or ``intercept_init`` as an array of ``shape`` in ``dtype``."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        if arr.size == np.prod(shape) and (arr.ndim <= 1 or shape[0] == 1):
            arr = arr.reshape(shape)
        else:
            raise ValueError(
                f"{name} has shape {arr.shape} but this data needs {shape} "
                "(n_outputs, n_features) for the weights or (n_outputs,) for the "
                "bias; for 1-D y, (n_features,) and a scalar work too."
            )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; pass finite values.")
    largest = np.abs(arr).max(initial=0)
    if largest > np.finfo(dtype).max:
        raise ValueError(
            f"{name} has values up to {largest:.3g}, beyond {np.dtype(dtype)}, "
            "the dtype of X; pass smaller values, or X as float64."
        )
    return arr.astype(dtype)


def check_weights_fit(coef, intercept, dtype):
    """Continuing to train needs weights that X's dtype can hold."""
    largest = max(np.abs(coef).max(initial=0), np.abs(intercept).max(initial=0))
    if largest > np.finfo(dtype).max:
        raise ValueError(
            f"The model's weights (up to {largest:.3g}) exceed {np.dtype(dtype)}, "
            "the dtype of X; pass X as float64 to continue training this model."
        )


def check_n_outputs(n_model, n_given):
    if n_given != n_model:
        raise ValueError(
            f"y has {n_given} output(s) but the model was fitted with "
            f"{n_model}; pass y with {n_model} output(s) or fit "
            "a new model (warm_start=False)."
        )
