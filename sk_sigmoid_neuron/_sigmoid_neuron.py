"""SigmoidNeuronRegressor: one sigmoid neuron per output, trained by the delta rule."""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _callbacks, _fit, _inference, _namespace, _scaling
from ._descent import check_solver, descend, start
from ._predict import predict_mean
from ._source import is_dask_collection
from ._validation import (
    DTYPES,
    SPARSE,
    check_n_outputs,
    check_weights_fit,
)


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
    learnrate : float or "auto", default="auto"
        The learning rate :math:`\eta`, the size of each step. ``"auto"``
        takes :math:`\eta = 1/L` with :math:`L` a bound on the curvature of
        the training loss on the data at hand (computed once per fit, and per
        batch in :meth:`partial_fit`), so that every epoch decreases the
        training loss: a step that cannot diverge, about 1 to 10 on
        standardised data. A float is used as given (the seed's rule uses
        0.5); see ``learnrate_`` and the :ref:`User Guide <extensions>`.
        Ignored by ``solver="lbfgs"`` and ``"newton"`` (``learnrate_`` is
        then None), but not by :meth:`partial_fit`.

    epochs : int, default=1000
        The number of full-batch steps (the most, when ``tol`` or
        ``early_stopping`` can stop earlier). With ``solver="lbfgs"`` or
        ``"newton"``, the most iterations (each one pass over the data, plus
        any line-search retries, and Newton's Hessian); reaching it warns
        (``ConvergenceWarning``).

    solver : {"gd", "lbfgs", "newton"}, default="gd"
        ``"gd"`` trains by the documented rule, one step per epoch.
        ``"lbfgs"`` and ``"newton"`` minimise the same objective (either
        ``loss``, ``alpha``, sample weights, target scaling) to its optimum,
        and its standard errors (``compute_inference``), whatever the
        columns' scales: ``"lbfgs"`` with
        ``scipy.optimize.minimize(method="L-BFGS-B")`` on standardised and
        whitened coordinates, each evaluation of the loss and its gradient one
        pass over the data (for many features); ``"newton"`` with Newton's
        method, whose Hessian (that of the standard errors) costs a pass of
        ``n_features²`` work per iteration (for up to a few hundred features).
        Both evaluate float32 X in float64. They start
        where ``"gd"`` would (``random_state``, ``coef_init``,
        ``warm_start``), from the weights 0 where those are better, record
        each iteration in ``loss_curve_`` (and ``coef_path_``), ignore
        ``learnrate`` and ``n_iter_no_change``, and do not support
        ``early_stopping`` (a ValueError). :meth:`partial_fit` always takes
        one step of the rule. See the :ref:`User Guide <solvers>`.

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
        With ``solver="gd"``: None runs all ``epochs`` (the documented rule). A
        float stops when the
        training loss (or the validation loss, with ``early_stopping``) has not
        improved on its best value by more than ``tol`` times that value (a
        relative tolerance) for ``n_iter_no_change`` epochs in a row;
        improvements within the loss's rounding never count. The loss is on
        targets scaled to [0, 1]: the squared error's typical values are 0.01
        to 0.05 (at most 0.5), the log loss's 0.1 to 0.7; ``tol=1e-4`` stops
        when an epoch gains less than 0.01% of it. With ``solver="lbfgs"`` or
        ``"newton"``: the fit stops when the largest absolute component of the
        gradient of the objective (the mean loss plus the penalty) in the
        coefficients of the standardised columns (and the intercept) is at
        most ``tol``, the same whatever the columns' units; None means
        ``1e-10``. A stop before that (the loss no longer decreasing beyond
        its rounding, the ``epochs`` cap) warns (``ConvergenceWarning``) with
        the gradient reached and the fix.

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
        :meth:`partial_fit` calls); with ``solver="lbfgs"`` or ``"newton"``,
        iterations.

    loss_curve_ : list of float
        ``loss_curve_[k]`` is the training loss (in the scaled target space,
        averaged over outputs) at the weights epoch ``k`` (with
        ``solver="lbfgs"`` or ``"newton"``: iteration ``k``) started from.

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
        "solver": [StrOptions({"gd", "lbfgs", "newton"})],
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
        learnrate="auto",
        epochs=1000,
        *,
        solver="gd",
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
        self.solver = solver
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
        return self._fit(X, y, sample_weight, coef_init, intercept_init)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One step of the delta rule on the batch ``(X, y)``.

        A stream of batches is mini-batch gradient descent, whatever
        ``solver`` says (the other solvers need the whole data set). The first call
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
        return self._fit(X, y, sample_weight, partial_fit=True)

    def _fit(
        self,
        X,
        y,
        sample_weight,
        coef_init=None,
        intercept_init=None,
        *,
        partial_fit=False,
    ):
        """``fit`` and ``partial_fit``: validate, start (or continue), descend.

        Every data source (in memory, dask) takes this one path; a call that
        fails leaves the estimator as it was.
        """
        new = not (partial_fit and hasattr(self, "coef_"))
        if not partial_fit:
            check_solver(self)  # before any pass over the data
        task = _callbacks.FitTask(
            self,
            "partial_fit" if partial_fit else "fit",
            max_subtasks=0 if partial_fit else self.epochs,
        )
        with (
            _fit.unchanged_on_error(self),
            _fit.make_source(self, X, y, sample_weight, reset=new) as source,
        ):
            task.begin(source.callback_data)
            inference = self.compute_inference and not partial_fit
            if inference:
                _inference.check_size(source.n_features)
            extremes = source.y_extremes()
            if new:
                lo, hi = _scaling.learn_target_range(
                    extremes, None, self.target_scaling
                )
                previous = None
                if self.warm_start and hasattr(self, "coef_") and not partial_fit:
                    previous = (*_fit.coef_2d(self), self.loss_curve_)
                coef, intercept, curve = start(
                    n_features=source.n_features,
                    n_outputs=source.n_outputs,
                    dtype=source.dtype,
                    random_state=self.random_state,
                    previous=previous,
                    coef_init=coef_init,
                    intercept_init=intercept_init,
                )
            else:
                check_n_outputs(self.n_outputs_, source.n_outputs)
                lo, hi = _fit.target_bounds(self)
                _scaling.check_target_range(
                    extremes, None, lo, hi, self.target_scaling, partial=True
                )
                coef, intercept = _fit.coef_2d(self)
                check_weights_fit(coef, intercept, source.dtype)
                curve = list(self.loss_curve_)
            continued = bool(curve)
            source.set_targets(lo, hi)
            y_ndim = source.y_ndim
            epochs = None
            if not partial_fit:
                epochs = task.epochs(
                    partial(_fit.epoch_attributes, lo=lo, hi=hi, y_ndim=y_ndim)
                )
            out = descend(
                source, self, coef, intercept, curve, partial=partial_fit, epochs=epochs
            )
            _fit.set_fitted(
                self, out.coef, out.intercept, lo, hi, out.curve, y_ndim=y_ndim
            )
            self.learnrate_ = out.learnrate
            if not partial_fit or new:
                self.validation_loss_curve_ = out.validation_curve
            _fit.set_path(self, out.path, y_ndim, continued)
            _fit.set_inference(self, source if inference else None, y_ndim)
            _fit.move_fitted(self, getattr(source, "namespace", None))
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
        check_is_fitted(self)
        if return_std and getattr(self, "coef_cov_", None) is None:
            raise ValueError(
                "predict(X, return_std=True) needs the covariance of the weights: "
                "fit with compute_inference=True (partial_fit does not compute it)."
            )
        coef, intercept = _fit.coef_2d(self)
        lo, hi = _fit.target_bounds(self)
        cov = None
        if return_std:
            cov = _namespace.to_numpy(self.coef_cov_)
            cov = cov.reshape(-1, *cov.shape[-2:])
        X = self._validate_predict(X, "predict")
        out = self._predictions(X, coef, intercept, lo, hi, cov)
        if self.coef_.ndim == 1:
            out = tuple(a[:, 0] for a in out)
        return out if return_std else out[0]

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
        X = self._validate_predict(X, "staged_predict")
        lo, hi = _fit.target_bounds(self)
        n_outputs = self.n_outputs_
        coef_path = _namespace.to_numpy(self.coef_path_)
        intercept_path = _namespace.to_numpy(self.intercept_path_)
        for coef, intercept in zip(coef_path, intercept_path, strict=True):
            y_pred = self._predictions(
                X, coef.reshape(n_outputs, -1), np.reshape(intercept, n_outputs), lo, hi
            )[0]
            yield y_pred[:, 0] if self.coef_.ndim == 1 else y_pred

    def _predictions(self, X, coef, intercept, lo, hi, cov=None):
        """``(y_pred,)``, and ``y_std`` with ``cov``, both 2-D, for X as
        ``_validate_predict`` gives it (a dask collection: lazy dask arrays)."""
        if is_dask_collection(X):
            from ._dask import predict

            return predict(self, X, coef, intercept, lo, hi, cov)
        y_pred = predict_mean(X, coef, intercept, lo, hi)
        if cov is None:
            return (y_pred,)
        y_std = _inference.predict_std(X, coef, intercept, cov, lo, hi)
        return y_pred, _namespace.like(y_std, y_pred)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        # every option trains in X's namespace under array_api_dispatch (sparse
        # X and dask collections keep their own paths)
        tags.array_api_support = True
        return tags

    def _validate_predict(self, X, method):
        """X for ``method``, validated as in ``fit``: numpy (or sparse), or in
        the namespace and on the device the model was fitted in."""
        if is_dask_collection(X):
            return X  # checked chunk by chunk, where they are
        check_same_namespace(X, self, attribute="coef_", method=method)
        namespace = _namespace.namespace_of(X)
        if namespace is None:
            return validate_data(
                self, X, reset=False, accept_sparse=SPARSE, dtype=DTYPES
            )
        dtypes = _namespace.float_dtypes(*namespace)
        return validate_data(self, X, reset=False, dtype=dtypes)
