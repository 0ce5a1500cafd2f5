"""SigmoidNeuronRegressor: one sigmoid neuron per output, trained by the delta rule."""

import warnings
from contextlib import contextmanager
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
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

from . import _callbacks, _dask, _inference, _scaling
from ._gd import EpochKernel, mean_loss, predict_unit
from ._stepsize import auto_learnrate

_DTYPES = [np.float64, np.float32]
_SPARSE = ("csr", "csc")


class SigmoidNeuronRegressor(
    _callbacks.CallbackSupportMixin, RegressorMixin, BaseEstimator
):
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

    With scikit-learn >= 1.9, ``set_callbacks`` attaches ``sklearn.callback``
    callbacks (such as ``ProgressBar``): a fit is a task whose subtasks are its
    epochs, run one at a time while callbacks are set, and a callback that
    asks to stop at the end of an epoch ends the fit there.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    learnrate : float or "auto", default=0.5
        The learning rate :math:`\eta`, the size of each step. ``"auto"``
        takes :math:`\eta = 1/L` with :math:`L` a bound on the curvature of
        the training loss on the data at hand (computed once per fit, and per
        batch in :meth:`partial_fit`), so that every epoch decreases the
        training loss; see ``learnrate_`` and the :ref:`User Guide
        <extensions>`.

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

    compute_inference : bool, default=False
        Whether :meth:`fit` computes the heteroskedasticity-robust (HC0
        sandwich) covariance of the fitted weights, ``coef_cov_``, their
        standard errors ``coef_se_`` and ``intercept_se_``, and enables
        ``predict(X, return_std=True)``. :meth:`partial_fit` does not.

    store_path : bool, default=False
        Whether to keep the weights after every epoch in ``coef_path_`` and
        ``intercept_path_`` (memory: epochs x outputs x features), which
        :meth:`staged_predict` needs.

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
        A ``coef_init`` or ``intercept_init`` given to :meth:`fit` replaces
        the weights or the bias it continues from.

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

    learnrate_ : float
        The learning rate used: ``learnrate``, or the step that ``"auto"``
        computed (for the last batch, after :meth:`partial_fit`).

    coef_se_ : ndarray of shape (n_features,) or (n_outputs, n_features) or None
        With ``compute_inference=True``, the standard errors of ``coef_``
        (HC0 sandwich); None otherwise.

    intercept_se_ : float or ndarray of shape (n_outputs,) or None
        The standard error of ``intercept_`` (0 without ``fit_intercept``).

    coef_cov_ : ndarray or None
        The sandwich covariance of ``(coef_, intercept_)``, the intercept
        last: shape (n_features + 1, n_features + 1), or (n_outputs,
        n_features + 1, n_features + 1) for 2-D ``y``.

    coef_path_ : ndarray or None
        With ``store_path=True``, the weights after each epoch (of this fit,
        continued by ``warm_start`` and :meth:`partial_fit`), of shape
        (n_epochs, n_features), or (n_epochs, n_outputs, n_features) for 2-D
        ``y``; None otherwise.

    intercept_path_ : ndarray of shape (n_epochs,) or (n_epochs, n_outputs)
        The bias after each epoch, with ``store_path=True``; None otherwise.

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
        "learnrate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "target_scaling": [StrOptions({"minmax"}), None, tuple],
        "loss": [StrOptions({"squared_error", "log_loss"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "compute_inference": ["boolean"],
        "store_path": ["boolean"],
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
        compute_inference=False,
        store_path=False,
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
        self.compute_inference = compute_inference
        self.store_path = store_path
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
            Starting weights, instead of the random start (with ``warm_start``,
            instead of the previous fit's weights; ``loss_curve_`` and
            ``n_iter_`` still continue).

        intercept_init : float or array-like of shape (n_outputs,), default=None
            Starting bias, instead of 0 (with ``warm_start``, instead of the
            previous fit's bias).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.is_dask_collection(X, y, sample_weight):
            return _dask.fit(self, X, y, sample_weight, coef_init, intercept_init)
        task = _callbacks.FitTask(self, "fit", max_subtasks=self.epochs)
        with _unchanged_on_error(self):
            X, Y, sw, y_ndim, exponent = _validate_training_data(
                self, X, y, sample_weight, reset=True
            )
            task.begin(X, Y[:, 0] if y_ndim == 1 else Y, _given(sw, exponent))
            if self.compute_inference:
                _inference.check_size(X.shape[1])
            lo, hi = self._learn_target_range(Y, sw)
            T = _scaling.to_unit(Y, lo, hi, X.dtype)
            coef, intercept, curve = self._start(X, Y, coef_init, intercept_init)
            continued = bool(curve)
            path = [] if self.store_path else None
            epochs = task.epochs(
                partial(_epoch_attributes, lo=lo, hi=hi, y_ndim=y_ndim)
            )
            coef, intercept, curve, val_curve = self._descend(
                X, T, sw, coef, intercept, curve, path=path, epochs=epochs
            )
            self._set_fitted(coef, intercept, lo, hi, curve, y_ndim=y_ndim)
            self.validation_loss_curve_ = val_curve
            self._set_path(path, y_ndim, continued)
            self._set_inference(X, T, sw, y_ndim, exponent)
            task.end()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One step of the delta rule on the batch ``(X, y)``.

        A stream of batches is mini-batch gradient descent. The first call
        starts as :meth:`fit` would (and, with ``target_scaling="minmax"``,
        fixes the target range from this batch); later calls continue.
        ``tol`` and ``early_stopping`` do not apply. With
        ``learnrate="auto"`` each call computes the step for its own batch.
        ``store_path`` extends ``coef_path_`` by the step; the standard errors
        of ``compute_inference`` are set to None (only :meth:`fit` computes
        them).

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
        if _dask.is_dask_collection(X, y, sample_weight):
            return _dask.partial_fit(self, X, y, sample_weight)
        first = not hasattr(self, "coef_")
        task = _callbacks.FitTask(self, "partial_fit", max_subtasks=0)
        with _unchanged_on_error(self):
            X, Y, sw, y_ndim, exponent = _validate_training_data(
                self, X, y, sample_weight, reset=first
            )
            task.begin(X, Y[:, 0] if y_ndim == 1 else Y, _given(sw, exponent))
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
                _check_weights_fit(coef, intercept, X.dtype)
                curve = list(self.loss_curve_)
            T = _scaling.to_unit(Y, lo, hi, X.dtype)
            coef, intercept, losses = self._train(X, T, sw, coef, intercept, 1)
            curve.append(float(losses[0].mean()))
            self._set_fitted(coef, intercept, lo, hi, curve, y_ndim=y_ndim)
            if first:
                self.validation_loss_curve_ = None
            path = [(coef, intercept)] if self.store_path else None
            self._set_path(path, y_ndim, continued=not first)
            self._set_inference(None, None, None, y_ndim)  # fit's data only
            task.end()
        return self

    # -- predict -----------------------------------------------------------
    def predict(self, X, return_std=False):
        """Predict with the fitted neuron(s): ``low + σ(X w + b) (high - low)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        return_std : bool, default=False
            Whether to also return the standard error of each predicted mean,
            by the delta method from ``coef_cov_`` (needs a fit with
            ``compute_inference=True``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of ``y``, in X's float dtype (float64
            when the target range exceeds float32's).

        y_std : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Standard errors of the predicted means, in the units of ``y``.
            Only returned when ``return_std`` is True.
        """
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, return_std)
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=_SPARSE, dtype=_DTYPES)
        coef, intercept = self._coef_2d()
        y_unit = _predict_unit(X, *_weights_for(X.dtype, coef, intercept))
        lo, hi = self._target_bounds()
        y_pred = _scaling.from_unit(y_unit, lo, hi)
        if not return_std:
            return y_pred[:, 0] if self.coef_.ndim == 1 else y_pred
        if getattr(self, "coef_cov_", None) is None:
            raise ValueError(
                "predict(X, return_std=True) needs the covariance of the weights: "
                "fit with compute_inference=True (partial_fit does not compute it)."
            )
        cov = self.coef_cov_.reshape(-1, *self.coef_cov_.shape[-2:])
        y_std = _inference.predict_std(X, coef, intercept, cov, lo, hi)
        y_std = y_std.astype(y_pred.dtype, copy=False)
        if self.coef_.ndim == 1:
            return y_pred[:, 0], y_std[:, 0]
        return y_pred, y_std

    def staged_predict(self, X):
        """Predictions after each epoch, as a generator.

        The ``k``-th prediction is the one a fit with ``epochs=k`` (and no
        ``tol`` or ``early_stopping``) makes. It needs the weights of every
        epoch: fit with ``store_path=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions after each epoch in ``coef_path_``, in order.
        """
        check_is_fitted(self)
        if getattr(self, "coef_path_", None) is None:
            raise ValueError(
                "staged_predict needs the weights after each epoch, which are kept "
                "only with store_path=True; refit with store_path=True."
            )
        X = validate_data(self, X, reset=False, accept_sparse=_SPARSE, dtype=_DTYPES)
        lo, hi = self._target_bounds()
        n_outputs = self.n_outputs_
        for coef, intercept in zip(self.coef_path_, self.intercept_path_, strict=True):
            weights = _weights_for(
                X.dtype, coef.reshape(n_outputs, -1), np.reshape(intercept, n_outputs)
            )
            y_unit = _predict_unit(X, *weights)
            y_pred = _scaling.from_unit(y_unit, lo, hi)
            yield y_pred[:, 0] if self.coef_.ndim == 1 else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    # -- the steps of fit, in order ------------------------------------------
    def _learn_target_range(self, Y, sw):
        _scaling.check_target_scaling(self.target_scaling)
        lo, hi = _scaling.target_range(Y, sw, self.target_scaling)
        _scaling.check_target_range(Y, sw, lo, hi, self.target_scaling)
        return lo, hi

    def _start(self, X, Y, coef_init, intercept_init):
        """Starting weights, bias and loss curve (continued with warm_start)."""
        n_features, n_outputs = X.shape[1], Y.shape[1]
        dtype = X.dtype
        if self.warm_start and hasattr(self, "coef_"):
            # continue; an init given replaces its part (as in SGDRegressor)
            self._check_n_outputs(Y)
            coef, intercept = self._coef_2d()
            if coef_init is not None:
                coef = _check_init(
                    coef_init, (n_outputs, n_features), "coef_init", dtype
                )
            elif coef.shape[1] != n_features:
                raise ValueError(
                    f"warm_start=True continues a model with {coef.shape[1]} "
                    f"features but X has {n_features}; use warm_start=False."
                )
            if intercept_init is not None:
                intercept = _check_init(
                    intercept_init, (n_outputs,), "intercept_init", dtype
                )
            _check_weights_fit(coef, intercept, dtype)
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

    def _descend(self, X, T, sw, coef, intercept, curve, path=None, epochs=None):
        """The epoch loop: all epochs, or until a stopping rule holds.

        ``path``, a list, receives the weights after each epoch. ``epochs``, an
        ``_callbacks.EpochTasks``, reports each epoch to the callbacks and
        stops the loop when one of them asks to.
        """
        val = None
        if self.early_stopping:
            X, T, sw, val = _validation_split(
                X, T, sw, self.validation_fraction, self.random_state
            )
        stopping = self.tol is not None or self.early_stopping
        if not (stopping or self.verbose or path is not None or epochs is not None):
            coef, intercept, losses = self._train(
                X, T, sw, coef, intercept, self.epochs
            )
            return coef, intercept, curve + losses.mean(axis=1).tolist(), None

        tol = self.tol or 0.0
        cadence = 1 if self.verbose > 1 else max(1, self.epochs // 10)
        val_curve = [] if val is not None else None
        best, best_params, no_change, stopped = np.inf, None, 0, False
        halted = False  # by a callback
        with self._kernel(X, T, sw) as kernel:
            kernel.set_params(coef, intercept)
            for epoch in range(1, self.epochs + 1):
                if epochs is not None:
                    epochs.begin(kernel, curve)
                loss = float(kernel.run(1)[0].mean())
                _check_finite(loss, kernel, epoch, self.learnrate)
                curve.append(loss)
                if path is not None:
                    path.append(kernel.get_params())
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
                if epochs is not None and epochs.end(kernel, curve):
                    halted = True
                    break
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
        if stopping and not (stopped or halted):
            warnings.warn(
                f"The loss still improved by more than tol={tol:g} within the last "
                f"{self.n_iter_no_change} of epochs={self.epochs}; increase epochs "
                "(or learnrate) for convergence.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if stopped and self.verbose:
            print(f"Stopped after epoch {len(curve)}: no improvement by tol={tol:g}.")
        if halted and self.verbose:
            print(f"Stopped after epoch {len(curve)}: a callback asked to stop.")
        return coef, intercept, curve, val_curve

    def _train(self, X, T, sw, coef, intercept, n_epochs):
        """``n_epochs`` epochs from (coef, intercept); fails before changing self."""
        with self._kernel(X, T, sw) as kernel:
            kernel.set_params(coef, intercept)
            losses = kernel.run(n_epochs)
            _check_finite(losses, kernel, None, self.learnrate)
            coef, intercept = kernel.get_params()
        return coef, intercept, losses

    def _kernel(self, X, T, sw, learnrate=None):
        """The epoch kernel; ``learnrate`` (one per neuron) serves the CV bank."""
        if learnrate is None:
            learnrate = np.full(T.shape[1], self._learnrate_for(X, sw))
        # overflow while folding the step into X shows up as non-finite weights,
        # which _check_finite reports in the user's terms
        with np.errstate(over="ignore", invalid="ignore"):
            return EpochKernel(
                X,
                T,
                sw,
                learnrate,
                fit_intercept=self.fit_intercept,
                loss=self.loss,
                alpha=self.alpha,
            )

    def _learnrate_for(self, X, sw):
        """The step for training on ``(X, sw)``, recorded as ``learnrate_``."""
        learnrate = self.learnrate
        if isinstance(learnrate, str):  # "auto"
            learnrate = auto_learnrate(
                X,
                sw,
                loss=self.loss,
                alpha=self.alpha,
                fit_intercept=self.fit_intercept,
            )
        self.learnrate_ = float(learnrate)
        return learnrate

    def _set_path(self, path, y_ndim, continued):
        """``coef_path_``, ``intercept_path_`` from (coef, intercept) pairs."""
        if path is None:
            self.coef_path_ = self.intercept_path_ = None
            return
        coefs = np.stack([c for c, _ in path])
        intercepts = np.stack([b for _, b in path])
        if y_ndim == 1:
            coefs, intercepts = coefs[:, 0], intercepts[:, 0]
        previous = getattr(self, "coef_path_", None) if continued else None
        if previous is not None:
            coefs = np.concatenate([previous.reshape(-1, *coefs.shape[1:]), coefs])
            intercepts = np.concatenate(
                [self.intercept_path_.reshape(-1, *intercepts.shape[1:]), intercepts]
            )
        self.coef_path_, self.intercept_path_ = coefs, intercepts

    def _set_inference(self, X, T, sw, y_ndim, exponent=0):
        """``coef_cov_``, ``coef_se_``, ``intercept_se_`` at the fitted weights.

        ``sw`` are the weights scaled by ``2**-exponent``: as frequency weights
        (an integer weight ``k`` counts a record ``k`` times), they count in the
        covariance, which scales as their inverse.
        """
        if X is None or not self.compute_inference:
            self.coef_cov_ = self.coef_se_ = self.intercept_se_ = None
            return
        coef, intercept = self._coef_2d()
        cov, newton = _inference.sandwich(
            X,
            T,
            sw,
            coef,
            intercept,
            loss=self.loss,
            alpha=self.alpha,
            fit_intercept=self.fit_intercept,
        )
        cov = np.ldexp(cov, -exponent)  # exact: the covariance of the weights given
        _inference.check(cov, newton, coef.shape[0])
        se = _inference.standard_errors(cov)
        if y_ndim == 1:
            cov, se = cov[0], se[0]
        self.coef_cov_ = cov
        self.coef_se_ = se[..., :-1]
        self.intercept_se_ = se[-1] if y_ndim == 1 else se[:, -1]

    def _set_fitted(self, coef, intercept, lo, hi, curve, y_ndim):
        for name, value in _fitted_attributes(
            coef, intercept, curve, lo=lo, hi=hi, y_ndim=y_ndim
        ).items():
            setattr(self, name, value)

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


def _fitted_attributes(coef, intercept, curve, *, lo, hi, y_ndim):
    """The attributes that a fit with these weights and loss curve sets.

    ``coef`` is (n_outputs, n_features) and ``intercept`` (n_outputs,); for
    1-D ``y`` the attributes drop the outputs axis.
    """
    n_outputs = coef.shape[0]
    if y_ndim == 1:
        coef, intercept, target_range = coef[0], intercept[0], np.array([lo[0], hi[0]])
    else:
        target_range = np.column_stack([lo, hi])
    return {
        "coef_": coef,
        "intercept_": intercept,
        "target_range_": target_range,
        "n_outputs_": n_outputs,
        "loss_curve_": curve,
        "n_iter_": len(curve),
    }


def _epoch_attributes(coef, intercept, curve, **kwargs):
    """The fitted attributes of a model stopped between two epochs of a fit.

    Those that a fit sets after its epochs (the validation curve, the path,
    the inference) are None, so that none is left over from an earlier fit.
    """
    after_the_epochs = dict.fromkeys(
        [
            "validation_loss_curve_",
            "coef_path_",
            "intercept_path_",
            "coef_cov_",
            "coef_se_",
            "intercept_se_",
        ]
    )
    return {**_fitted_attributes(coef, intercept, curve, **kwargs), **after_the_epochs}


def _validate_training_data(estimator, X, y, sample_weight, reset, drop_absent=True):
    """Validated X, y as (n_samples, n_outputs) float64, weights, y.ndim, and
    the exponent ``e`` of the weights' scale: they come scaled by ``2**-e``.

    ``validate_data`` records ``n_features_in_`` (and feature names) on
    ``estimator``, which is this estimator or the CV estimator built on it.
    With ``drop_absent``, records of weight 0 are left out (the CV estimator
    keeps them, so that its splits are those of the data it was given).
    """
    exponent = 0
    X, y = validate_data(
        estimator,
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
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        largest = sample_weight.max()  # not the sum, which may overflow
        if not largest > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one record needs a "
                "positive weight."
            )
        # only the ratios of the weights matter: scaled by a power of two
        # (exact, so the fit's bits do not change) to a largest weight in
        # [0.5, 1), they neither overflow X's dtype nor push s * x towards it
        _, exponent = np.frexp(largest)
        sample_weight = np.ldexp(sample_weight, -exponent).astype(X.dtype)
        if drop_absent:
            # weight 0: the record is absent (not even a huge x or an inf in a
            # product with 0 may reach the sums)
            keep = sample_weight > 0
            if not keep.all():
                X, Y, sample_weight = X[keep], Y[keep], sample_weight[keep]
    return X, Y, sample_weight, y.ndim, int(exponent)


def _given(sw, exponent):
    """The weights as given (callbacks see these), from the scaled ones."""
    return None if sw is None else np.ldexp(sw.astype(np.float64), exponent)


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
    largest = np.abs(arr).max(initial=0)
    if largest > np.finfo(dtype).max:
        raise ValueError(
            f"{name} has values up to {largest:.3g}, beyond {np.dtype(dtype)}, "
            "the dtype of X; pass smaller values, or X as float64."
        )
    return arr.astype(dtype)


def _predict_unit(X, coef, intercept):
    """``σ(X w + b)``, also where ``X w`` overflows.

    Overflowing products make ``h`` inf - inf (NaN) or, in BLAS, an infinity
    of either sign. Rows predicted 0, 1 or NaN whose ``h`` is not finite are
    recomputed as ``h = a g c + b``, with ``a``, ``c`` the largest ``|x|``,
    ``|w|`` and ``g = (x / a) · (w / c)``, at most n_features in size.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        y_unit = predict_unit(X, coef, intercept)
        edge = ((y_unit == 0) | (y_unit == 1) | np.isnan(y_unit)).any(axis=1)
        if not edge.any():
            return y_unit
        Xe = X[edge]
        Xe = Xe.toarray() if hasattr(Xe, "toarray") else Xe
        h = np.asarray(Xe @ coef.T) + intercept
        over = ~np.isfinite(h)
        if over.any():
            a = np.abs(Xe).max(axis=1, keepdims=True)
            c = np.abs(coef).max(axis=1)
            a[a == 0], c[c == 0] = 1, 1
            g = (Xe / a) @ (coef / c[:, None]).T
            scaled = np.where(g == 0, intercept, a * g * c + intercept)
            y_unit[edge] = np.where(over, expit(scaled), y_unit[edge])
    return y_unit


def _check_weights_fit(coef, intercept, dtype):
    """Continuing to train needs weights that X's dtype can hold."""
    largest = max(np.abs(coef).max(initial=0), np.abs(intercept).max(initial=0))
    if largest > np.finfo(dtype).max:
        raise ValueError(
            f"The model's weights (up to {largest:.3g}) exceed {np.dtype(dtype)}, "
            "the dtype of X; pass X as float64 to continue training this model."
        )


def _weights_for(dtype, coef, intercept):
    """The weights in X's dtype, or in float64 if they exceed it (float32
    holds values up to 3.4e38): finite predictions rather than infinite."""
    if max(np.abs(coef).max(initial=0), np.abs(intercept).max(initial=0)) > (
        np.finfo(dtype).max
    ):
        dtype = np.float64
    return coef.astype(dtype, copy=False), intercept.astype(dtype)


def _check_finite(losses, kernel, epoch, learnrate):
    if np.all(np.isfinite(losses)) and np.all(np.isfinite(kernel.coef_aug)):
        return
    at = "" if epoch is None else f" at epoch {epoch}"
    alpha = kernel._alpha
    # the penalty multiplies w by 1 - learnrate * alpha each epoch
    penalty = (
        f" With alpha={alpha:g}, learnrate * alpha must also stay below 2."
        if alpha
        else ""
    )
    raise ValueError(
        f"The weights became non-finite{at}: learnrate={learnrate!r} is too large "
        "for this data. Use a smaller learnrate, or scale X (for example with "
        f"sklearn.preprocessing.StandardScaler).{penalty} The previous model is "
        "unchanged."
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
