"""Data sources: the records the descent trains on (see ``_descent``).

A source holds the records of a fit as *parts*, sets of consecutive rows: one
part for data in memory (:class:`InMemory`: numpy arrays, scipy sparse
matrices, or arrays of another array-API namespace on their device), one per
chunk of rows for dask collections (``_dask.DaskSource``);
``_fit.make_source`` picks the source for the data. Everything a source
does is written once, in :class:`Source`, on one primitive:
:meth:`Source.map` runs a function on every part where it lives and returns
the results in part order (:meth:`Source.transform` replaces every part by
the function's result). The functions (``_part_*`` of ``_parts``) see one part, a
dict of its arrays:

``X``, ``Y``, ``s``
    the records, their targets as given (n, k) and their weights scaled by
    ``2**-weight_exponent`` (or None);
``T``
    the targets in [0, 1] that the neurons learn (after :meth:`set_targets`);
``s_train``, ``val``
    the training weights (0 on the rows set aside for validation) and those
    rows with their weights (after :meth:`split`).

Records of weight 0 stay in place with their weight (the engines give them no
influence), early stopping's validation part is a set of rows whose training
weight is 0, and a CV fold's training part is the rows whose weight it keeps:
X is never split, and the rows a source copies are a small validation part
(at most ``_parts.VALIDATION_COPY_BYTES``), a CV fold's held-out rows, which its
scores need every checkpoint, and the diagnostics' sample.
"""

import copy
import sys

import numpy as np
from scipy.sparse import issparse
from sklearn.model_selection._split import _validate_shuffle_split
from sklearn.utils import check_random_state

from . import _diagnostics, _inference, _kernels
from ._namespace import xp_of
from ._parts import (
    _np_dtype,
    _part_apply,
    _part_args,
    _part_count_present,
    _part_extremes,
    _part_fold,
    _part_get,
    _part_held_out,
    _part_predict_held_out,
    _part_restore,
    _part_sample,
    _part_sandwich,
    _part_split,
    _part_split_sums,
    _part_summary,
    _part_sums,
    _part_targets,
    _part_training_rows,
    _part_validation_loss,
    _part_weight_sums,
    _stack,
)
from ._validation import given_weights

ZERO_WEIGHT_PART = (
    "early_stopping split the records so that the training or the "
    "validation part has zero total sample_weight; use early_stopping="
    "False or more records with positive weight."
)


def is_dask_collection(*objs):
    """Whether any of ``objs`` is a dask collection (never imports dask)."""
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as is_collection

    return any(obj is not None and is_collection(obj) for obj in objs)


class Source:
    """Records in parts, and what the estimators and the descent ask of them.

    Subclasses set ``n_samples``, ``n_features``, ``n_outputs``, ``dtype``
    (X's, numpy), ``sparse`` (whether X is scipy sparse), ``y_ndim``,
    ``weight_exponent``, ``weighted``, ``namespace`` (``(xp, device)`` of
    arrays that are not numpy's, or None) and ``offsets`` (the first row of
    each part, then ``n_samples``), and provide :meth:`map`,
    :meth:`transform`, :meth:`callback_data` and :meth:`close`.
    """

    n_train = None  # training records, once split
    local = True  # whether the parts live in this process

    def map(self, func, *, per_part=(), **kwargs):
        """``[func(part, **kwargs), ...]`` in part order, run where the parts
        live; the keyword arguments named in ``per_part`` are lists with one
        value per part."""
        raise NotImplementedError

    def transform(self, func, *, per_part=(), **kwargs):
        """Replace each part by ``func(part, **kwargs)`` (as :meth:`map`)."""
        raise NotImplementedError

    def close(self):
        """Release the parts (the weights as given are restored)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _by_part(self, rows):
        """Sorted global ``rows`` as one array of local rows per part."""
        edges = np.searchsorted(rows, self.offsets)
        return [
            rows[a:b] - offset
            for a, b, offset in zip(
                edges[:-1], edges[1:], self.offsets[:-1], strict=True
            )
        ]

    # -- the targets -------------------------------------------------------
    def y_extremes(self):
        """Smallest and largest y of the records with positive weight, (2, k)."""
        parts = self.map(_part_extremes)
        lo = np.min([p[0] for p in parts], axis=0)
        hi = np.max([p[1] for p in parts], axis=0)
        return np.vstack([lo, hi])

    def set_targets(self, lo, hi):
        """Map y to the targets ``t`` in [0, 1] that the neurons learn."""
        self.transform(_part_targets, lo=lo, hi=hi)

    # -- what the descent asks ---------------------------------------------
    def split(self, fraction, random_state):
        """Set aside early stopping's validation part (``fraction`` of the
        records present, weight > 0, as ``train_test_split`` would draw them),
        or, with ``fraction=None``, train on every record. The validation rows
        get training weight 0; X is never split."""
        self.transform(_part_restore)
        if fraction is None:
            self.transform(_part_split, positions=None)
            self.n_train = self.n_samples
        else:
            counts = self.map(_part_count_present)
            positions, self.n_train = validation_positions(
                sum(counts), fraction, random_state
            )
            starts = np.concatenate([[0], np.cumsum(counts)])
            edges = np.searchsorted(positions, starts)
            local = [  # in the positions' int32 where they fit
                (positions[a:b] - start).astype(positions.dtype, copy=False)
                for a, b, start in zip(edges[:-1], edges[1:], starts[:-1], strict=True)
            ]
            self.transform(_part_split, positions=local, per_part=("positions",))
        sums = self.map(_part_weight_sums)
        self.weight_train = float(sum(p[0] for p in sums))
        self.weight_validation = float(sum(p[1] for p in sums))
        if fraction is not None and not (
            self.weight_train > 0 and self.weight_validation > 0
        ):
            raise ValueError(ZERO_WEIGHT_PART)

    def map_train(self, func, **kwargs):
        """``[func(X, s, **kwargs), ...]`` over the parts' training records
        (``s``: their training weights, or None): the auto step's parts."""
        return self.map(_part_apply, train_func=func, kwargs=kwargs)

    def trainer(self, coef, intercept, learnrate, *, epochs=1, tcol=None, **options):
        """A kernel that trains the neurons ``(coef, intercept)`` (numpy, one
        row each) on the training records: the engine of the one part in
        memory, or :class:`PartsKernel` over many. ``learnrate``: one per
        neuron; ``options``: ``loss``, ``alpha``, ``fit_intercept``."""
        if self.local:
            part = self.parts[0]
            # overflow while folding the step into X shows up as non-finite
            # weights, which the descent reports in the user's terms
            with np.errstate(over="ignore", invalid="ignore"):
                kernel = _kernels.make_kernel(
                    part["X"], part["T"], part["s_train"], learnrate, tcol=tcol,
                    epochs=epochs, **options,
                )  # fmt: skip
        else:
            kernel = PartsKernel(self, learnrate, epochs=epochs, tcol=tcol, **options)
        kernel.set_params(coef, intercept)
        return kernel

    def validation_loss(self, coef, intercept, loss):
        """The mean loss (over neurons) of the validation part at ``(coef,
        intercept)``."""
        total = sum(self.map(_part_validation_loss, coef=coef, b=intercept, loss=loss))
        return float((total / self.weight_validation).mean())

    def summary(self, coef, intercept, loss, forward=None):
        """What the diagnostics read of the training records at the weights
        ``(coef, intercept)``: the parts' ``_diagnostics.record_sums`` and
        ``sample_targets``, combined; from the records' ``h`` of a trainer's
        pass at these weights (``forward``, a ``_kernels.Forward``) where it
        kept them."""
        rows = self._by_part(_diagnostics.sample_rows(self.n_samples))
        kw = dict(rows=rows, per_part=("rows",))
        if forward is None or forward.H is None:
            parts = self.map(
                _part_summary, coef=coef, intercept=intercept, loss=loss, **kw
            )
            return _diagnostics.combine(parts)
        f = forward
        sums = _diagnostics.record_sums(None, f.T, f.s, coef, intercept, loss, f.H)
        return {**sums, **_diagnostics.combine(self.map(_part_sample, **kw))}

    # -- the CV search's folds ------------------------------------------------
    def gather(self, key):
        """The parts' ``Y`` (float64) or ``s`` (the weights as given, or None)
        in one numpy array."""
        parts = self.map(_part_get, key=key, exponent=self.weight_exponent)
        return None if parts[0] is None else np.concatenate(parts)

    def fold(self, train, test, name):
        """A CV fold (``name``: for the messages): a source of the same
        records (X is shared, not copied) in which the rows ``train`` keep
        their weights and every other row trains with weight 0, with the rows
        ``test`` kept apart (copied) for scoring."""
        fold = self._copy()
        fold.transform(
            _part_fold,
            train=self._by_part(np.sort(train)),
            test=self._by_part(np.sort(test)),
            per_part=("train", "test"),
        )
        fold.weighted = True
        total = sum(train for train, _ in fold.map(_part_split_sums))
        if not total > 0:
            raise ValueError(
                f"sample_weight sums to zero on the training part of {name}; "
                "every training part needs a record with positive weight. Use "
                "other splits (cv) or check the weights."
            )
        return fold

    def _copy(self):
        """A source that shares these parts until it transforms its own."""
        raise NotImplementedError

    def training_data(self):
        """``(X, y, rows)`` of a fold's training rows, as callbacks see them."""
        parts = self.map(_part_training_rows)
        rows = np.concatenate(
            [p[2] + a for p, a in zip(parts, self.offsets[:-1], strict=True)]
        )
        X = parts[0][0] if len(parts) == 1 else _stack([p[0] for p in parts])
        Y = np.concatenate([p[1] for p in parts])
        return X, Y[:, 0] if self.y_ndim == 1 else Y, rows

    def held_out(self, X=False):
        """``(X, Y, s)`` of a fold's held-out rows: X (with ``X=True``; else
        None) as a scorer sees it, Y float64 and the weights as given (or
        None) numpy."""
        parts = self.map(_part_held_out, with_X=X, exponent=self.weight_exponent)
        Xv = None
        if X:
            Xv = parts[0][0] if len(parts) == 1 else _stack([p[0] for p in parts])
        Y = np.concatenate([p[1] for p in parts])
        s = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
        return Xv, Y, s

    def predict_held_out(self, coef, intercept):
        """``σ(X wᵀ + b)`` (n_held_out, n_neurons) of a fold's held-out rows,
        numpy."""
        return np.concatenate(
            self.map(_part_predict_held_out, coef=coef, intercept=intercept)
        )

    # -- after the descent -------------------------------------------------
    def sandwich(self, coef, intercept, *, loss, alpha, fit_intercept):
        """The sandwich covariance over every record (``_inference``)."""
        self.transform(_part_restore)
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        sums = self.map(
            _part_sandwich,
            coef=coef,
            intercept=intercept,
            loss=loss,
            fit_intercept=fit_intercept,
        )
        A, B, score, S = (sum(p[i] for p in sums) for i in range(4))
        return _inference.sandwich_from_sums(
            A, B, score, S, coef, alpha=alpha, fit_intercept=fit_intercept
        )


class InMemory(Source):
    """Training data in memory, one part: dense, sparse or of another
    array-API namespace (on its device).

    Parameters
    ----------
    X : array or sparse matrix of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_outputs), float64 (X's widest float
        in X's namespace)
    s : array of shape (n_samples,) or None
        Weights scaled by ``2**-exponent``, in X's dtype.
    y_ndim : int
    exponent : int
    """

    def __init__(self, X, Y, s, *, y_ndim, exponent):
        xp, device, is_numpy = xp_of(X)
        self.namespace = None if is_numpy else (xp, device)
        self.parts = [{"X": X, "Y": Y, "s": s}]
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self.dtype = _np_dtype(X)
        self.sparse = issparse(X)
        self.y_ndim, self.weight_exponent = y_ndim, exponent
        self.weighted = s is not None
        self.offsets = np.array([0, self.n_samples])
        self.n_train = self.n_samples

    def map(self, func, *, per_part=(), **kwargs):
        return [
            func(part, **_part_args(kwargs, per_part, i))
            for i, part in enumerate(self.parts)
        ]

    def _copy(self):
        return copy.copy(self)

    def transform(self, func, *, per_part=(), **kwargs):
        self.parts = self.map(func, per_part=per_part, **kwargs)

    def close(self):
        self.transform(_part_restore)

    def callback_data(self):
        """``(X, y, sample_weight)`` as a callback sees the fit's data."""
        part = self.parts[0]
        Y = part["Y"][:, 0] if self.y_ndim == 1 else part["Y"]
        s = part["s"]
        if s is not None and self.namespace is not None:
            s = s * 2.0**self.weight_exponent
        elif s is not None:
            s = given_weights(s, self.weight_exponent)
        return part["X"], Y, s


class PartsKernel(_kernels.Kernel):
    """The stepper on a source of many parts: an epoch's sums are those of
    the parts, each computed where the part lives by the engine that
    ``make_kernel`` picks for it (:func:`_part_sums`), added in part order,
    so that a fit does not depend on where the parts live. Every part
    trains on the engine this process would choose for the whole fit (the
    workers of a cluster would choose by their part's work alone)."""

    path = "parts"

    def __init__(self, source, learnrate, *, epochs=1, tcol=None, **options):
        work = source.n_samples * source.n_features * len(learnrate) * epochs
        self._engine = _kernels.chosen_engine(work)
        super().__init__(
            n_features=source.n_features,
            learnrate=learnrate,
            weight_sum=source.weight_train,
            dtype=source.dtype,
            **options,
        )
        self.source, self._tcol = source, tcol

    def _epoch_sums(self):
        parts = self.source.map(
            _part_sums, coef_aug=self.coef_aug, loss=self.loss, tcol=self._tcol,
            engine=self._engine,
        )  # fmt: skip
        G, gb, lsum = (np.array(a) for a in parts[0])
        for p in parts[1:]:
            G += p[0]
            gb += p[1]
            lsum += p[2]
        return G, gb, lsum


def validation_positions(n_present, fraction, random_state):
    """Early stopping's validation part: sorted positions among the
    ``n_present`` records present (weight > 0), and the training count.

    The split of ``train_test_split(range(n_present), test_size=fraction,
    random_state=random_state)`` (its permutation, drawn the same way), with
    the permutation in int32 where it fits and nothing else as long as the
    data kept.
    """
    n_train, n_test = _validate_shuffle_split(
        n_present, fraction, None, default_test_size=0.25
    )
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"early_stopping needs records for both training and validation; "
            f"with {n_present} records and validation_fraction={fraction} one "
            "part is empty. Use more data or early_stopping=False."
        )
    index = np.int32 if n_present < 2**31 else np.int64
    # shuffled in place: RandomState.permutation(n) is this shuffle of a copy
    permutation = np.arange(n_present, dtype=index)
    check_random_state(random_state).shuffle(permutation)
    return np.sort(permutation[:n_test]), n_train
