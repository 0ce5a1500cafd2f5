"""SigmoidNeuronRegressor: one sigmoid neuron per output, trained by the delta rule."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _scaling
from ._gd import EpochKernel, mean_loss, predict_unit

_DTYPES = [np.float64, np.float32]
_SPARSE = ("csr", "csc")


class SigmoidNeuronRegressor(RegressorMixin, BaseEstimator):
    r"""One sigmoid neuron per output, trained by full-batch gradient descent.

    The neuron predicts :math:`\hat y = \sigma(x \cdot w + b)` with the logistic
    function :math:`\sigma(h) = 1 / (1 + e^{-h})`. Each epoch is one step of the
    delta rule on the weighted mean of the records' steps, computed with the
    weights the epoch starts from:

    .. math::

        \delta_i = (t_i - \hat y_i)\,\hat y_i (1 - \hat y_i), \qquad
        w \leftarrow w + \eta \frac{\sum_i s_i \delta_i x_i}{\sum_i s_i}, \qquad
        b \leftarrow b + \eta \frac{\sum_i s_i \delta_i}{\sum_i s_i},

    which is gradient descent with step :math:`\eta` (``learnrate``) on the
    weighted mean squared error :math:`\sum_i s_i \tfrac12 (t_i - \hat y_i)^2 /
    \sum_i s_i`. The targets :math:`t` are the user's ``y`` mapped to the
    sigmoid's range [0, 1] by ``target_scaling``; :meth:`predict` maps back.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    learnrate : float, default=0.5
        The learning rate :math:`\eta`, the size of each step.

    epochs : int, default=1000
        The number of full-batch steps (the most, when ``tol`` or
        ``early_stopping`` can stop earlier).

    fit_intercept : bool, default=True
        Whether to learn a bias :math:`b`. If False, :math:`b` stays at
        ``intercept_init`` (0 by default).

    target_scaling : "minmax", None or tuple (low, high), default="minmax"
        How ``y`` maps to targets in [0, 1], per output. ``"minmax"`` uses the
        smallest and largest ``y`` seen in ``fit`` (records with positive
        weight); ``None`` takes ``y`` as it is and requires it in [0, 1]
        (proportions, rates); ``(low, high)`` maps that interval to [0, 1] and
        requires ``y`` inside it. Predictions are mapped back to ``y``'s units.

    loss : {"squared_error", "log_loss"}, default="squared_error"
        ``"squared_error"`` is the documented delta rule. ``"log_loss"`` is the
        Bernoulli quasi-likelihood on the same sigmoid mean (fractional logit),
        whose error term is :math:`\delta = t - \hat y`.

    alpha : float, default=0.0
        Strength of an L2 penalty :math:`\tfrac{\alpha}{2} \|w\|^2` on the
        weights (not the intercept), added to the loss and its gradient.

    tol : float or None, default=None
        None runs all ``epochs`` (the documented rule). A float stops when the
        training loss (or the validation loss, with ``early_stopping``) has not
        improved by at least ``tol`` for ``n_iter_no_change`` epochs in a row.

    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (see ``tol``).

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the records, stop when
        their loss stops improving, and keep the weights with the lowest
        validation loss. Ignored by :meth:`partial_fit`.

    validation_fraction : float, default=0.1
        Share of the records set aside when ``early_stopping=True``.

    warm_start : bool, default=False
        Whether :meth:`fit` starts from the weights of the previous fit (and
        continues its ``loss_curve_`` and ``n_iter_``) instead of a new start.

    random_state : int, RandomState instance or None, default=None
        Seeds the start :math:`w \sim \mathcal N(0, 1/\sqrt{n_{features}})`
        (the same start for every output) and the validation split. With an
        int, a fit is fully deterministic.

    verbose : int, default=0
        1 prints the loss about ten times per fit; 2 or more every epoch.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        The weights :math:`w`, one row per output for 2-D ``y``.

    intercept_ : float or ndarray of shape (n_outputs,)
        The bias :math:`b`.

    n_iter_ : int
        Epochs run (counting earlier fits with ``warm_start`` and
        :meth:`partial_fit` calls).

    loss_curve_ : list of float
        ``loss_curve_[k]`` is the training loss (in the scaled target space,
        averaged over outputs) at the weights epoch ``k`` started from.

    validation_loss_curve_ : list of float or None
        With ``early_stopping``, the validation loss after each epoch; None
        otherwise.

    target_range_ : ndarray of shape (2,) or (n_outputs, 2)
        The ``(low, high)`` that ``y`` was mapped from, per output.

    n_outputs_ : int
        Number of outputs (neurons).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.SGDRegressor : Linear model fitted by stochastic
        gradient descent.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.

    References
    ----------
    .. [1] B. Widrow and M. E. Hoff, "Adaptive switching circuits", IRE WESCON
       Convention Record, 1960 (the delta rule).

    Examples
    --------
    >>> from sk_sigmoid_neuron import SigmoidNeuronRegressor
    >>> X = [[0.1, 0.3]]
    >>> y = [0.2]
    >>> model = SigmoidNeuronRegressor(
    ...     learnrate=0.5, epochs=1, fit_intercept=False, target_scaling=None
    ... ).fit(X, y, coef_init=[-0.8, 0.5])
    >>> model.coef_
    array([-0.8039638 ,  0.48810859])
    """

    _parameter_constraints: dict = {
        "learnrate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "target_scaling": [StrOptions({"minmax"}), None, tuple],
        "loss": [StrOptions({"squared_error", "log_loss"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        learnrate=0.5,
        epochs=1000,
        *,
        fit_intercept=True,
        target_scaling="minmax",
        loss="squared_error",
        alpha=0.0,
        tol=None,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.learnrate = learnrate
        self.epochs = epochs
        self.fit_intercept = fit_intercept
        self.target_scaling = target_scaling
        self.loss = loss
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- fit ---------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
        """Train by ``epochs`` full-batch steps of the delta rule.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 stays float32.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values; one neuron per output.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: 0 removes a record, an integer ``k`` counts it
            ``k`` times.

        coef_init : array-like of shape (n_features,) or (n_outputs, n_features), \
                default=None
            Starting weights, instead of the random start.

        intercept_init : float or array-like of shape (n_outputs,), default=None
            Starting bias, instead of 0.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with _unchanged_on_error(self):
            X, Y, sw, y_ndim = self._validate_training_data(
                X, y, sample_weight, reset=True
            )
            lo, hi = self._learn_target_range(Y, sw)
            T = _scaling.to_unit(Y, lo, hi, X.dtype)
            coef, intercept, curve = self._start(X, Y, coef_init, intercept_init)
            coef, intercept, curve, val_curve = self._descend(
                X, T, sw, coef, intercept, curve
            )
            self._set_fitted(coef, intercept, lo, hi, curve, y_ndim=y_ndim)
            self.validation_loss_curve_ = val_curve
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One step of the delta rule on the batch ``(X, y)``.

        A stream of batches is mini-batch gradient descent. The first call
        starts as :meth:`fit` would (and, with ``target_scaling="minmax"``,
        fixes the target range from this batch); later calls continue.
        ``tol`` and ``early_stopping`` do not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The batch.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets, inside the target range of the first batch.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the batch's records.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "coef_")
        with _unchanged_on_error(self):
            X, Y, sw, y_ndim = self._validate_training_data(
                X, y, sample_weight, reset=first
            )
            if first:
                lo, hi = self._learn_target_range(Y, sw)
                coef, intercept, curve = self._start(X, Y, None, None)
            else:
                self._check_n_outputs(Y)
                lo, hi = self._target_bounds()
                _scaling.check_target_range(
                    Y, sw, lo, hi, self.target_scaling, partial=True
                )
                coef, intercept = self._coef_2d()
                curve = list(self.loss_curve_)
            T = _scaling.to_unit(Y, lo, hi, X.dtype)
            coef, intercept, losses = self._train(X, T, sw, coef, intercept, 1)
            curve.append(float(losses[0].mean()))
            self._set_fitted(coef, intercept, lo, hi, curve, y_ndim=y_ndim)
            if first:
                self.validation_loss_curve_ = None
        return self

    # -- predict -----------------------------------------------------------
    def predict(self, X):
        """Predict with the fitted neuron(s): ``low + σ(X w + b) (high - low)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of ``y``, in X's float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=_SPARSE, dtype=_DTYPES)
        coef, intercept = self._coef_2d()
        y_unit = predict_unit(
            X, coef.astype(X.dtype, copy=False), intercept.astype(X.dtype)
        )
        lo, hi = self._target_bounds()
        y_pred = _scaling.from_unit(y_unit, lo, hi)
        return y_pred[:, 0] if self.coef_.ndim == 1 else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    # -- the steps of fit, in order ------------------------------------------
    def _validate_training_data(self, X, y, sample_weight, reset):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=_SPARSE,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=True,
        )
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            if not sample_weight.sum() > 0:
                raise ValueError(
                    "sample_weight sums to zero: at least one record needs a "
                    "positive weight."
                )
        return X, Y, sample_weight, y.ndim

    def _learn_target_range(self, Y, sw):
        _scaling.check_target_scaling(self.target_scaling)
        lo, hi = _scaling.target_range(Y, sw, self.target_scaling)
        _scaling.check_target_range(Y, sw, lo, hi, self.target_scaling)
        return lo, hi

    def _start(self, X, Y, coef_init, intercept_init):
        """Starting weights, bias and loss curve (continued with warm_start)."""
        n_features, n_outputs = X.shape[1], Y.shape[1]
        dtype = X.dtype
        if coef_init is None and self.warm_start and hasattr(self, "coef_"):
            self._check_n_outputs(Y)
            coef, intercept = self._coef_2d()
            if coef.shape[1] != n_features:
                raise ValueError(
                    f"warm_start=True continues a model with {coef.shape[1]} "
                    f"features but X has {n_features}; use warm_start=False."
                )
            return coef.astype(dtype), intercept.astype(dtype), list(self.loss_curve_)
        if coef_init is None:
            rng = check_random_state(self.random_state)
            w = rng.normal(0.0, 1.0 / np.sqrt(n_features), size=n_features)
            coef = np.tile(w, (n_outputs, 1)).astype(dtype)
        else:
            coef = _check_init(coef_init, (n_outputs, n_features), "coef_init", dtype)
        if intercept_init is None:
            intercept = np.zeros(n_outputs, dtype=dtype)
        else:
            intercept = _check_init(
                intercept_init, (n_outputs,), "intercept_init", dtype
            )
        return coef, intercept, []

    def _descend(self, X, T, sw, coef, intercept, curve):
        """The epoch loop: all epochs, or until a stopping rule holds."""
        val = None
        if self.early_stopping:
            X, T, sw, val = _validation_split(
                X, T, sw, self.validation_fraction, self.random_state
            )
        stopping = self.tol is not None or self.early_stopping
        if not (stopping or self.verbose):
            coef, intercept, losses = self._train(
                X, T, sw, coef, intercept, self.epochs
            )
            return coef, intercept, curve + losses.mean(axis=1).tolist(), None

        tol = self.tol or 0.0
        cadence = 1 if self.verbose > 1 else max(1, self.epochs // 10)
        val_curve = [] if val is not None else None
        best, best_params, no_change, stopped = np.inf, None, 0, False
        with self._kernel(X, T, sw) as kernel:
            kernel.set_params(coef, intercept)
            for epoch in range(1, self.epochs + 1):
                loss = float(kernel.run(1)[0].mean())
                _check_finite(loss, kernel, epoch, self.learnrate)
                curve.append(loss)
                monitored = loss
                if val is not None:
                    monitored = float(
                        mean_loss(*val, *kernel.get_params(), self.loss).mean()
                    )
                    val_curve.append(monitored)
                if self.verbose and (epoch % cadence == 0 or epoch == self.epochs):
                    extra = (
                        "" if val is None else f", validation loss = {monitored:.8g}"
                    )
                    print(f"Epoch {len(curve)}, loss = {loss:.8g}{extra}")
                if stopping:
                    no_change = no_change + 1 if monitored > best - tol else 0
                    if monitored < best:
                        best = monitored
                        if val is not None:
                            best_params = kernel.get_params()
                    if no_change >= self.n_iter_no_change:
                        stopped = True
                        break
            coef, intercept = kernel.get_params()
        if best_params is not None:
            coef, intercept = best_params
        if stopping and not stopped:
            warnings.warn(
                f"The loss still improved by more than tol={tol:g} within the last "
                f"{self.n_iter_no_change} of epochs={self.epochs}; increase epochs "
                "(or learnrate) for convergence.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if stopped and self.verbose:
            print(f"Stopped after epoch {len(curve)}: no improvement by tol={tol:g}.")
        return coef, intercept, curve, val_curve

    def _train(self, X, T, sw, coef, intercept, n_epochs):
        """``n_epochs`` epochs from (coef, intercept); fails before changing self."""
        with self._kernel(X, T, sw) as kernel:
            kernel.set_params(coef, intercept)
            losses = kernel.run(n_epochs)
            _check_finite(losses, kernel, None, self.learnrate)
            coef, intercept = kernel.get_params()
        return coef, intercept, losses

    def _kernel(self, X, T, sw):
        n_outputs = T.shape[1]
        # overflow while folding the step into X shows up as non-finite weights,
        # which _check_finite reports in the user's terms
        with np.errstate(over="ignore", invalid="ignore"):
            return EpochKernel(
                X,
                T,
                sw,
                np.full(n_outputs, self.learnrate),
                fit_intercept=self.fit_intercept,
                loss=self.loss,
                alpha=self.alpha,
            )

    def _set_fitted(self, coef, intercept, lo, hi, curve, y_ndim):
        if y_ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = intercept[0]
            self.target_range_ = np.array([lo[0], hi[0]])
        else:
            self.coef_ = coef
            self.intercept_ = intercept
            self.target_range_ = np.column_stack([lo, hi])
        self.n_outputs_ = coef.shape[0]
        self.loss_curve_ = curve
        self.n_iter_ = len(curve)

    # -- helpers -----------------------------------------------------------
    def _coef_2d(self):
        coef = np.atleast_2d(self.coef_)
        return coef, np.atleast_1d(self.intercept_).astype(coef.dtype)

    def _target_bounds(self):
        r = np.atleast_2d(self.target_range_)
        return r[:, 0], r[:, 1]

    def _check_n_outputs(self, Y):
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but the model was fitted with "
                f"{self.n_outputs_}; pass y with {self.n_outputs_} output(s) or fit "
                "a new model (warm_start=False)."
            )


@contextmanager
def _unchanged_on_error(estimator):
    """Restore the estimator's attributes if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _check_init(value, shape, name, dtype):
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
    return arr.astype(dtype)


def _check_finite(losses, kernel, epoch, learnrate):
    if np.all(np.isfinite(losses)) and np.all(np.isfinite(kernel.coef_aug)):
        return
    at = "" if epoch is None else f" at epoch {epoch}"
    raise ValueError(
        f"The weights became non-finite{at}: learnrate={learnrate!r} is too large "
        "for this data. Use a smaller learnrate, or scale X (for example with "
        "sklearn.preprocessing.StandardScaler). The previous model is unchanged."
    )


def _validation_split(X, T, sw, fraction, random_state):
    """Training and validation parts for early stopping."""
    idx = np.arange(X.shape[0])
    train, val = train_test_split(
        idx, test_size=fraction, random_state=check_random_state(random_state)
    )
    if len(train) == 0 or len(val) == 0:
        raise ValueError(
            f"early_stopping needs records for both training and validation; "
            f"with {X.shape[0]} records and validation_fraction={fraction} one "
            "part is empty. Use more data or early_stopping=False."
        )
    sw_train = None if sw is None else sw[train]
    sw_val = None if sw is None else sw[val]
    if sw is not None and not (sw_train.sum() > 0 and sw_val.sum() > 0):
        raise ValueError(
            "early_stopping split the records so that the training or the "
            "validation part has zero total sample_weight; use early_stopping="
            "False or more records with positive weight."
        )
    return X[train], T[train], sw_train, (X[val], T[val], sw_val)
