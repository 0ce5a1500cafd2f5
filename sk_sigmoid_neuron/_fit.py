"""What a fit does around its descent: the source it reads, the fitted
attributes it sets (and moves to X's namespace), and the promise that a call
that fails leaves the estimator as it was.

``SigmoidNeuronRegressor`` and the CV search (which hands each candidate to
a scorer as a fitted model) share these; the descent and the sources know
nothing of estimators.
"""

from contextlib import contextmanager

import numpy as np

from . import _inference, _namespace
from ._source import InMemory, is_dask_collection
from ._validation import validate_training_data

# fitted attributes that live in X's namespace and on its device
ARRAY_ATTRIBUTES = (
    "coef_",
    "intercept_",
    "target_range_",
    "coef_se_",
    "intercept_se_",
    "coef_cov_",
    "coef_path_",
    "intercept_path_",
)


def make_source(estimator, X, y, sample_weight, *, reset):
    """The validated data source of a fit (``reset``: a new model): a dask
    source for dask collections (dask is imported only when one is passed),
    else the records in memory."""
    if is_dask_collection(X, y, sample_weight):
        from ._dask import DaskSource

        return DaskSource(estimator, X, y, sample_weight, reset=reset)
    X, Y, s, y_ndim, exponent = validate_training_data(
        estimator, X, y, sample_weight, reset=reset
    )
    return InMemory(X, Y, s, y_ndim=y_ndim, exponent=exponent)


@contextmanager
def unchanged_on_error(estimator):
    """Restore the estimator's attributes if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def coef_2d(estimator):
    """``(coef, intercept)`` as numpy (n_outputs, n_features), (n_outputs,),
    wherever the fitted attributes live."""
    coef = np.atleast_2d(_namespace.to_numpy(estimator.coef_))
    intercept = np.atleast_1d(_namespace.to_numpy(estimator.intercept_))
    return coef, intercept.astype(coef.dtype)


def target_bounds(estimator):
    """The target range's ``(low, high)``, float64 (n_outputs,) each."""
    r = np.atleast_2d(_namespace.to_numpy(estimator.target_range_))
    return r[:, 0].astype(np.float64), r[:, 1].astype(np.float64)


def set_fitted(estimator, coef, intercept, lo, hi, curve, y_ndim):
    """Set the attributes of a fit with these weights and loss curve."""
    attributes = fitted_attributes(coef, intercept, curve, lo=lo, hi=hi, y_ndim=y_ndim)
    for name, value in attributes.items():
        setattr(estimator, name, value)


def set_path(estimator, path, y_ndim, continued):
    """``coef_path_``, ``intercept_path_`` from (coef, intercept) pairs."""
    if path is None:
        estimator.coef_path_ = estimator.intercept_path_ = None
        return
    k, d = coef_2d(estimator)[0].shape
    coefs = np.stack([c for c, _ in path]) if path else np.empty((0, k, d))
    intercepts = np.stack([b for _, b in path]) if path else np.empty((0, k))
    if y_ndim == 1:
        coefs, intercepts = coefs[:, 0], intercepts[:, 0]
    previous = getattr(estimator, "coef_path_", None) if continued else None
    if previous is not None:
        previous = _namespace.to_numpy(previous)
        previous_b = _namespace.to_numpy(estimator.intercept_path_)
        coefs = np.concatenate([previous.reshape(-1, *coefs.shape[1:]), coefs])
        intercepts = np.concatenate(
            [previous_b.reshape(-1, *intercepts.shape[1:]), intercepts]
        )
    estimator.coef_path_, estimator.intercept_path_ = coefs, intercepts


def set_inference(estimator, source, y_ndim):
    """``coef_cov_``, ``coef_se_``, ``intercept_se_`` at the fitted weights
    (None without a source: ``partial_fit``, or no ``compute_inference``).

    The source's weights are scaled by ``2**-exponent``: as frequency
    weights (an integer weight ``k`` counts a record ``k`` times), they
    count in the covariance, which scales as their inverse.
    """
    if source is None:
        estimator.coef_cov_ = estimator.coef_se_ = estimator.intercept_se_ = None
        return
    coef, intercept = coef_2d(estimator)
    cov, newton = source.sandwich(
        coef,
        intercept,
        loss=estimator.loss,
        alpha=estimator.alpha,
        fit_intercept=estimator.fit_intercept,
    )
    cov = np.ldexp(cov, -source.weight_exponent)  # exact
    _inference.check(cov, newton, coef.shape[0], estimator)
    se = _inference.standard_errors(cov)
    if y_ndim == 1:
        cov, se = cov[0], se[0]
    estimator.coef_cov_ = cov
    estimator.coef_se_ = se[..., :-1]
    estimator.intercept_se_ = se[-1] if y_ndim == 1 else se[:, -1]


def move_fitted(estimator, namespace):
    """The fitted arrays in X's namespace and on its device, as Ridge's
    (``namespace``: ``(xp, device)``, or None to leave them numpy)."""
    if namespace is None:
        return
    for name in ARRAY_ATTRIBUTES:
        value = getattr(estimator, name, None)
        if value is not None:
            value = _namespace.to_namespace(np.asarray(value), *namespace)
            setattr(estimator, name, value)


def fitted_attributes(coef, intercept, curve, *, lo, hi, y_ndim):
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


def epoch_attributes(coef, intercept, curve, **kwargs):
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
    return {**fitted_attributes(coef, intercept, curve, **kwargs), **after_the_epochs}


def fitted_model(
    estimator, coef, intercept, lo, hi, *, curve, y_ndim, feature_names, namespace
):
    """``estimator`` (unfitted) with the fitted attributes of the weights
    ``(coef, intercept)`` (2-D, one row per output) and this loss curve, as a
    fit without ``store_path`` or ``compute_inference`` leaves them (in
    ``namespace``, ``(xp, device)`` or None for numpy): how the CV search
    hands a candidate to a scorer (as scikit-learn's ``LogisticRegressionCV``
    sets ``coef_`` on a ``LogisticRegression`` to score it)."""
    attributes = epoch_attributes(coef, intercept, curve, lo=lo, hi=hi, y_ndim=y_ndim)
    for name, value in attributes.items():
        setattr(estimator, name, value)
    learnrate = estimator.learnrate
    estimator.learnrate_ = None if isinstance(learnrate, str) else float(learnrate)
    estimator.n_features_in_ = coef.shape[1]
    if feature_names is not None:
        estimator.feature_names_in_ = feature_names
    move_fitted(estimator, namespace)
    return estimator
