"""Arrays of any array-API library (PyTorch, CuPy, array-api-strict) as a data
source of the descent (see ``_descent``), and the kernel that trains on them.

Under ``sklearn.set_config(array_api_dispatch=True)``, X that is neither numpy
nor sparse nor a dask collection trains where it lives: :class:`ArraySource`
validates it with scikit-learn's ``validate_data`` (the numpy checks and
messages), keeps X, the targets and the weights in X's namespace and on its
device, and :class:`ArrayKernel` runs the epochs there with the namespace's
operations only (two matrix products, an exponential and sums per epoch).

The descent, the stopping rules and the diagnostics work on small numpy
arrays: the kernel converts at its interface (``set_params`` takes numpy,
``get_params``, ``coef_aug``, ``sums`` and ``run`` return numpy), once per
call, so that ``run(n)`` with all the epochs of a fit is one transfer of the
weights and one of the losses. What is computed once per fit on the records
(the auto step's Gram matrix, the sandwich of ``compute_inference``, the
diagnostics' sample) is formed block by block of rows; the Gram matrix in the
namespace, the rest from numpy copies of the blocks.
"""

import numpy as np
from sklearn.utils._array_api import get_namespace_and_device

from . import _inference, _kernels, _scaling, _stepsize
from ._descent import ZERO_WEIGHT_PART, validation_positions
from ._loss import get_loss
from ._namespace import (
    float_dtypes,
    host_blocks,
    numpy_dtype,
    take_rows,
    to_namespace,
    to_numpy,
)
from ._validation import validate_array_data

# Bytes of X per block of rows when a pass forms a Gram matrix (a float64
# copy of one block at a time, on X's device).
BLOCK_BYTES = 1 << 24


# -- predictions ---------------------------------------------------------------
def predict_unit(X, coef, intercept):
    """``σ(X wᵀ + b)`` of shape (n_samples, n_neurons) in X's namespace and
    dtype, also where ``X w`` overflows (as ``_kernels.predict_unit``: such
    entries are recomputed from ``X`` and ``w`` scaled by their largest
    values). ``coef`` and ``intercept`` may be numpy or in X's namespace."""
    xp, _, device = get_namespace_and_device(X)
    coef = to_namespace(coef, xp, device, X.dtype)
    intercept = to_namespace(intercept, xp, device, X.dtype)
    with np.errstate(all="ignore"):  # array-api-strict computes with numpy
        H = X @ coef.T + intercept
        bad = ~xp.isfinite(H)
        if bool(xp.any(bad)):
            a = xp.max(xp.abs(X), axis=1, keepdims=True)
            c = xp.max(xp.abs(coef), axis=1)
            a = xp.where(a == 0, xp.ones_like(a), a)
            c = xp.where(c == 0, xp.ones_like(c), c)
            g = (X / a) @ (coef / c[:, None]).T
            b = xp.broadcast_to(intercept, g.shape)
            scaled = xp.where(g == 0, b, a * g * c + intercept)
            H = xp.where(bad, scaled, H)
        return 1 / (1 + xp.exp(-H))


def predict_mean(X, coef, intercept, lo, hi):
    """``lo + σ(X wᵀ + b) (hi - lo)``, (n_samples, n_outputs), in X's
    namespace: the ``_predict.predict_mean`` of array-API X."""
    xp, _, device = get_namespace_and_device(X)
    largest = max(
        np.abs(to_numpy(coef)).max(initial=0),
        np.abs(to_numpy(intercept)).max(initial=0),
    )
    Xw = X
    if largest > np.finfo(numpy_dtype(xp, X.dtype)).max and X.dtype == xp.float32:
        # weights beyond float32: float64 where the device has it (finite
        # predictions rather than infinite), as the numpy path does
        dtypes = float_dtypes(xp, device)
        Xw = xp.astype(X, dtypes[0])
    y_unit = predict_unit(Xw, coef, intercept)
    return _scaling.from_unit(y_unit, lo, hi)


# -- the data source ---------------------------------------------------------------
class ArraySource:
    """The records of a fit as arrays of X's namespace, on X's device.

    Parameters are those of ``_source.make_source``; ``namespace`` is
    ``(xp, device)`` from ``_namespace.namespace_of``.
    """

    def __init__(self, estimator, X, y, sample_weight, *, reset, namespace):
        self.xp, self.device = xp, device = namespace
        X, Y, s, self.y_ndim, self.weight_exponent = validate_array_data(
            estimator, X, y, sample_weight, reset=reset, xp=xp, device=device
        )
        self.X, self.Y, self.s = X, Y, s
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self.dtype = numpy_dtype(xp, X.dtype)
        self.namespace = namespace
        self._range, self._T = None, None
        self._train_s, self._val_s, self._S_val = s, None, None
        self.n_train = self.n_samples

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._T = self._train_s = self._val_s = None

    def callback_data(self):
        """``(X, y, sample_weight)`` as a callback sees the fit's data."""
        Y = self.Y[:, 0] if self.y_ndim == 1 else self.Y
        s = None if self.s is None else self.s * 2.0**self.weight_exponent
        return self.X, Y, s

    def y_extremes(self):
        """Smallest and largest y of the records with positive weight, (2, k),
        numpy float64."""
        xp, Y = self.xp, self.Y
        if self.s is None:
            low, high = xp.min(Y, axis=0), xp.max(Y, axis=0)
        else:
            present = (self.s > 0)[:, None]
            low = xp.min(xp.where(present, Y, xp.inf), axis=0)
            high = xp.max(xp.where(present, Y, -xp.inf), axis=0)
        return to_numpy(xp.stack([low, high])).astype(np.float64)

    def set_targets(self, lo, hi):
        self._range, self._T = (lo, hi), None

    @property
    def T(self):
        if self._T is None:
            self._T = _scaling.to_unit_array(self.Y, *self._range, self.X.dtype)
        return self._T

    # -- what the descent asks -------------------------------------------------
    def split(self, fraction, random_state):
        """Early stopping's validation rows get training weight 0; their
        validation weights are a second weight vector (no copy of X)."""
        self._train_s, self._val_s, self._S_val = self.s, None, None
        self.n_train = self.n_samples
        if fraction is None:
            return
        s = to_numpy(self.s)
        n = self.n_samples
        present = None if s is None else np.flatnonzero(s > 0)
        n_present = n if s is None else len(present)
        positions, self.n_train = validation_positions(
            n_present, fraction, random_state
        )
        val = positions if s is None else present[positions]
        s_train = np.ones(n, self.dtype) if s is None else s.copy()
        s_train[val] = 0
        s_val = np.zeros(n, self.dtype)
        s_val[val] = 1 if s is None else s[val]
        if s is not None and not (
            np.sum(s_train, dtype=np.float64) > 0
            and np.sum(s_val, dtype=np.float64) > 0
        ):
            raise ValueError(ZERO_WEIGHT_PART)
        self._S_val = float(np.sum(s_val, dtype=np.float64))
        self._train_s = to_namespace(s_train, self.xp, self.device)
        self._val_s = to_namespace(s_val, self.xp, self.device)

    def map_train(self, func, **kwargs):
        """``[func(X, s, **kwargs), ...]``: the auto step's Gram matrix, largest
        value and weight sum computed in the namespace; any other function of
        ``_stepsize`` on numpy copies of blocks of rows (its results add up
        over sets of records, as on dask's chunks)."""
        own = _STEPSIZE_PARTS.get(func)
        if own is not None:
            return [own(self.X, self._train_s, **kwargs)]
        return [func(Xb, sb, **kwargs) for Xb, sb in host_blocks(self.X, self._train_s)]

    def trainer(self, coef, intercept, learnrate, *, loss, alpha, fit_intercept):
        kernel = ArrayKernel(
            self.X,
            self.T,
            self._train_s,
            np.full(coef.shape[0], learnrate),
            fit_intercept=fit_intercept,
            loss=loss,
            alpha=alpha,
            validation_weight=self._val_s,
        )
        kernel.set_params(coef, intercept)
        return kernel

    def validation_loss(self, trainer, loss):
        return float((trainer.validation_sum() / self._S_val).mean())

    def sample(self, rows):
        """The diagnostics' records: numpy float64, with training weights."""
        s = take_rows(self._train_s, rows)
        return (
            to_numpy(take_rows(self.X, rows)).astype(np.float64),
            to_numpy(take_rows(self.T, rows)).astype(np.float64),
            None if s is None else to_numpy(s).astype(np.float64),
        )

    # -- after the descent -----------------------------------------------------
    def sandwich(self, coef, intercept, *, loss, alpha, fit_intercept):
        """The sandwich over every record, from numpy copies of blocks of rows
        (its sums add up over sets of records)."""
        parts = [
            _inference.sandwich_sums(
                Xb, Tb, sb, coef, intercept, loss=loss, fit_intercept=fit_intercept
            )
            for Xb, Tb, sb in host_blocks(self.X, self.T, self.s)
        ]
        A, B, score, S = (sum(p[i] for p in parts) for i in range(4))
        return _inference.sandwich_from_sums(
            A, B, score, S, coef, alpha=alpha, fit_intercept=fit_intercept
        )


# -- the auto step's passes, in the namespace ------------------------------------------
def _xp_blocks(X, s):
    """``(X_block, s_block)`` over blocks of rows (``BLOCK_BYTES`` of float64)."""
    rows = max(1, BLOCK_BYTES // (8 * (X.shape[1] + 1)))
    n = X.shape[0]
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)  # array-api-strict: no stop past the end
        yield X[r0:r1, ...], None if s is None else s[r0:r1]


def _max_abs(X, s):
    """``_stepsize._max_abs``: the largest |x| of the records with positive
    weight."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return 0.0
    xp = get_namespace_and_device(X)[0]
    largest = []
    for Xb, sb in _xp_blocks(X, s):
        if sb is not None:
            Xb = xp.where((sb > 0)[:, None], Xb, xp.zeros_like(Xb[:1, ...]))
        largest += [xp.max(Xb), -xp.min(Xb)]
    return max(0.0, float(xp.max(xp.stack(largest))))


def _weight_sum(X, s):
    """``_stepsize._weight_sum``."""
    if s is None:
        return float(X.shape[0])
    xp, _, device = get_namespace_and_device(s)
    return float(xp.sum(xp.astype(s, float_dtypes(xp, device)[0])))


def _gram(X, s, *, fit_intercept, scale, S):
    """``_stepsize._gram``: ``X̃ᵀ diag(s / S) X̃ / scale²`` in the device's
    widest float, one block of rows at a time; numpy float64."""
    xp, _, device = get_namespace_and_device(X)
    wide = float_dtypes(xp, device)[0]
    d = X.shape[1]
    m = d + 1 if fit_intercept else d
    G = xp.zeros((m, m), dtype=wide, device=device)
    for Xb, sb in _xp_blocks(X, s):
        B = xp.astype(Xb, wide)
        if scale != 1.0:
            B = B / scale
        if fit_intercept:
            ones = xp.full((B.shape[0], 1), 1.0 / scale, dtype=wide, device=device)
            B = xp.concat([B, ones], axis=1)
        if sb is None:
            v = xp.full((B.shape[0],), 1.0 / S, dtype=wide, device=device)
        else:
            v = xp.astype(sb, wide) / S
        B = B * xp.sqrt(v)[:, None]
        G = G + B.T @ B
    return to_numpy(G).astype(np.float64)


_STEPSIZE_PARTS = {
    _stepsize._max_abs: _max_abs,
    _stepsize._weight_sum: _weight_sum,
    _stepsize._gram: _gram,
}


# -- the kernel ------------------------------------------------------------------------
class ArrayKernel(_kernels.Kernel):
    """Epochs of the rule with the operations of X's namespace, on its device.

    A kernel (``_kernels.Kernel``: the same parameters, loss record and step)
    whose parameters stay in the namespace while it trains; ``set_params``,
    ``get_params``, ``coef_aug``, ``sums`` and ``run`` convert to and from
    numpy. An epoch::

        H = X Wᵀ + b;  Ŷ = 1 / (1 + exp(-H));  D = s δ(T, Ŷ)
        W ← (1 - lr α) W + lr / S · Dᵀ X;  b ← b + lr / S · Σ D

    ``validation_weight`` (n_samples,) weighs early stopping's validation
    records (whose training weight is 0), whose loss comes from the same
    forward pass as the next epoch's sums.
    """

    path = "array_api"

    def __init__(
        self,
        X,
        T,
        sample_weight,
        learnrate,
        *,
        fit_intercept=True,
        loss="squared_error",
        alpha=0.0,
        validation_weight=None,
    ):
        # the base's attributes (its __init__ works on numpy arrays)
        xp, _, device = get_namespace_and_device(X)
        self.xp, self.device = xp, device
        self.backend = xp.__name__.rsplit(".", 1)[-1]
        self.dtype = dtype = numpy_dtype(xp, X.dtype)
        n, d = X.shape
        k = learnrate.shape[0]
        self.n_samples, self.n_features, self.n_neurons = n, d, k
        self.fit_intercept, self.loss, self.alpha = fit_intercept, loss, float(alpha)
        self.X, self.T = X, xp.astype(T, X.dtype, copy=False)
        self.sample_weight = sample_weight
        if sample_weight is None:
            wsum = float(n)
        else:
            sample_weight = xp.astype(sample_weight, X.dtype, copy=False)
            wsum = _weight_sum(X, sample_weight)
        self.sample_weight, self.weight_sum = sample_weight, wsum
        self.learnrate = learnrate.astype(dtype)
        self.step = (learnrate / wsum).astype(dtype)
        self.decay = (1 - learnrate * alpha).astype(dtype)
        self._step = to_namespace(self.step, xp, device)[:, None]
        self._decay = None
        if np.any(self.decay != 1):
            self._decay = to_namespace(self.decay, xp, device)[:, None]
        self._step_b = to_namespace(self.step, xp, device)
        self.n_threads, self._pool = 1, None
        # records of weight 0: h = 0 before weighting (their x · w may be NaN)
        self._zero = None
        if sample_weight is not None:
            zero = sample_weight == 0
            if bool(xp.any(zero)):
                self._zero = zero[:, None]
        self._val = None if validation_weight is None else validation_weight[:, None]
        self._lossfn = get_loss(loss)
        self._W = xp.zeros((k, d), dtype=X.dtype, device=device)
        self._b = xp.zeros((k,), dtype=X.dtype, device=device)
        self._cached = None  # the sums at the current parameters, once computed

    # -- parameters (numpy at the interface) ------------------------------
    def set_params(self, coef, intercept):
        self._W = to_namespace(np.asarray(coef), self.xp, self.device, self.dtype)
        self._b = to_namespace(np.asarray(intercept), self.xp, self.device, self.dtype)
        self._cached = None

    def get_params(self):
        return (
            np.array(to_numpy(self._W), dtype=self.dtype),
            np.array(to_numpy(self._b), dtype=self.dtype),
        )

    @property
    def coef_aug(self):
        coef, intercept = self.get_params()
        return np.concatenate([coef, intercept[:, None]], axis=1)

    # -- epochs -----------------------------------------------------------
    def _forward(self):
        """``(G, gb, lsum, vsum)`` at the current parameters, in the namespace."""
        if self._cached is not None:
            return self._cached
        xp, T, s = self.xp, self.T, self.sample_weight
        H = self.X @ self._W.T + self._b
        Y = 1 / (1 + xp.exp(-H))
        vsum = None
        if self._val is not None:
            vsum = xp.sum(self._lossfn.value(T, Y, H, xp=xp) * self._val, axis=0)
        if self._zero is not None:
            H = xp.where(self._zero, xp.zeros_like(H[:1, ...]), H)
            Y = 1 / (1 + xp.exp(-H))
        L = self._lossfn.value(T, Y, H, xp=xp)
        D = self._lossfn.error_term(T, Y)
        if s is not None:
            L = L * s[:, None]
            D = D * s[:, None]
        G = D.T @ self.X
        self._cached = (G, xp.sum(D, axis=0), xp.sum(L, axis=0), vsum)
        return self._cached

    def _run(self, n_epochs):
        """Epochs in the namespace; the losses converted once at the end."""
        xp = self.xp
        k = self.n_neurons
        lsums = xp.zeros((n_epochs, k), dtype=self.X.dtype, device=self.device)
        penalties = None
        if self.alpha:
            penalties = xp.zeros((n_epochs, k), dtype=self.X.dtype, device=self.device)
        for i in range(n_epochs):
            G, gb, lsum, _ = self._forward()
            self._cached = None
            lsums[i, :] = lsum
            W = self._W
            if penalties is not None:
                penalties[i, :] = xp.sum(W * W, axis=1)
            if self._decay is not None:
                W = W * self._decay
            self._W = W + G * self._step
            if self.fit_intercept:
                self._b = self._b + self._step_b * gb
        losses = to_numpy(lsums).astype(np.float64) / self.weight_sum
        if penalties is not None:
            losses += 0.5 * self.alpha * to_numpy(penalties).astype(np.float64)
        return losses

    def sums(self):
        """``(Σ sδx, Σ sδ, Σ sℓ)`` at the current parameters, numpy float64,
        without stepping (``_kernels.Kernel.sums``)."""
        with np.errstate(all="ignore"):  # array-api-strict computes with numpy
            G, gb, lsum, _ = self._forward()
        return tuple(to_numpy(a).astype(np.float64) for a in (G, gb, lsum))

    def validation_sum(self):
        """``Σ s ℓ`` per neuron over the validation records at these weights."""
        with np.errstate(all="ignore"):
            vsum = self._forward()[3]
        return to_numpy(vsum).astype(np.float64)
