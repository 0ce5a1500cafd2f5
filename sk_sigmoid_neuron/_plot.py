"""LossCurveDisplay: the loss per epoch of a fitted sigmoid neuron, plotted."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

# matplotlib's short aliases of the style keywords this display sets itself
_ALIASES = {"color": "c", "linestyle": "ls"}


class LossCurveDisplay:
    """Loss per epoch of a fitted :class:`SigmoidNeuronRegressor`.

    Draws the training loss per epoch (``loss_curve_``) and, for a model
    fitted with ``early_stopping=True``, the validation loss
    (``validation_loss_curve_``) in the same colour, dashed.

    The x-axis counts the epochs completed at the weights a loss belongs to.
    ``loss_curve_[k]`` is the training loss at the weights the ``(k + 1)``-th
    epoch started from, after ``k`` epochs, so it is drawn at ``x = k``. The
    validation loss is computed after each epoch, so the last value of
    ``validation_loss_curve_`` is drawn at ``x = len(loss_curve_)`` (one epoch
    to the right of the last training loss) and the others to its left.

    Use :meth:`from_estimator` to create a display from a fitted model. All
    parameters are stored as attributes. To compare models, draw them on one
    axes by passing the same ``ax``.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss after 0, 1, ..., ``n_epochs - 1`` epochs.

    validation_loss_curve : array-like of shape (n_validation,), default=None
        Validation loss after each of the last ``n_validation`` epochs
        (``n_validation <= n_epochs``); None draws the training loss only.

    name : str, default=None
        Name of the model, for the legend. None labels the lines "Training
        loss" and "Validation loss".

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The training loss line, then the validation loss line when there is
        a validation curve.

    ax_ : matplotlib Axes
        Axes with the loss curves.

    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot the loss curves of a fitted model.
    sklearn.model_selection.LearningCurveDisplay : Scores against the number of
        training samples.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sk_sigmoid_neuron import LossCurveDisplay
    >>> display = LossCurveDisplay(loss_curve=[0.04, 0.03, 0.025, 0.023])
    >>> display = display.plot()
    >>> display.lines_[0].get_ydata()
    array([0.04 , 0.03 , 0.025, 0.023])
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, loss_curve, validation_loss_curve=None, name=None):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.name = name

    def plot(
        self, ax=None, *, name=None, line_kwargs=None, validation_line_kwargs=None
    ):
        """Plot the loss curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. None creates a new figure and axes. Pass the axes
            of an earlier display to draw several models together.

        name : str, default=None
            Name for the legend; None uses the ``name`` the display was
            created with.

        line_kwargs : dict, default=None
            Keywords passed to matplotlib's ``plot`` for the training loss.

        validation_line_kwargs : dict, default=None
            Keywords passed to matplotlib's ``plot`` for the validation loss;
            by default the training line's colour, dashed.

        Returns
        -------
        display : :class:`~sk_sigmoid_neuron.LossCurveDisplay`
            The display, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        check_matplotlib_support(f"{self.__class__.__name__}.plot")
        import matplotlib.pyplot as plt

        train = _as_curve(self.loss_curve, "loss_curve")
        val = self.validation_loss_curve
        if val is not None:
            val = _as_curve(val, "validation_loss_curve")
            if val.size > train.size:
                raise ValueError(
                    f"validation_loss_curve has {val.size} values but loss_curve "
                    f"only {train.size}; the validation loss belongs to the last "
                    "epochs of the training curve, so it cannot be longer."
                )
        name = self.name if name is None else name
        if name is None:
            train_label, val_label = "Training loss", "Validation loss"
        elif val is None:
            train_label, val_label = name, None
        else:
            train_label, val_label = f"{name} (training)", f"{name} (validation)"

        if ax is None:
            _, ax = plt.subplots()

        line_kwargs = {"label": train_label, **(line_kwargs or {})}
        lines = ax.plot(np.arange(train.size), train, **line_kwargs)
        if val is not None:
            user = validation_line_kwargs or {}
            style = {"label": val_label}
            for key, alias in _ALIASES.items():
                if key not in user and alias not in user:
                    style[key] = lines[0].get_color() if key == "color" else "--"
            first = train.size - val.size + 1
            x_val = np.arange(first, train.size + 1)
            lines += ax.plot(x_val, val, **{**style, **user})

        ax.set(xlabel="Epochs completed", ylabel="Loss")
        ax.legend()

        self.lines_ = lines
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        line_kwargs=None,
        validation_line_kwargs=None,
    ):
        """Plot the loss curves of a fitted model.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`SigmoidNeuronRegressor`, or any fitted estimator
            with a ``loss_curve_`` attribute; a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one; or a
            fitted search (such as :class:`~sklearn.model_selection.GridSearchCV`)
            whose ``best_estimator_`` is one of these.

        ax : matplotlib Axes, default=None
            Axes to draw on. None creates a new figure and axes. Pass the axes
            of an earlier display to draw several models together.

        name : str, default=None
            Name for the legend. None uses the class name of the model that
            holds the loss curve (the last step of a pipeline).

        line_kwargs : dict, default=None
            Keywords passed to matplotlib's ``plot`` for the training loss.

        validation_line_kwargs : dict, default=None
            Keywords passed to matplotlib's ``plot`` for the validation loss;
            by default the training line's colour, dashed.

        Returns
        -------
        display : :class:`~sk_sigmoid_neuron.LossCurveDisplay`
            The display, with ``ax_``, ``figure_`` and ``lines_`` set.

        See Also
        --------
        LossCurveDisplay : The display, from loss curves given directly.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor
        >>> X, y = load_diabetes(return_X_y=True)
        >>> model = make_pipeline(
        ...     StandardScaler(),
        ...     SigmoidNeuronRegressor(learnrate=5.0, epochs=200, random_state=0),
        ... ).fit(X, y)
        >>> display = LossCurveDisplay.from_estimator(model, name="learnrate=5")
        >>> len(display.lines_)
        1
        >>> plt.close(display.figure_)
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        model = _model_with_loss_curve(estimator)
        if name is None:
            name = model.__class__.__name__
        display = cls(
            loss_curve=model.loss_curve_,
            validation_loss_curve=getattr(model, "validation_loss_curve_", None),
            name=name,
        )
        return display.plot(
            ax=ax,
            line_kwargs=line_kwargs,
            validation_line_kwargs=validation_line_kwargs,
        )


def _model_with_loss_curve(estimator):
    """The fitted model inside ``estimator`` (a search, pipeline) with the curve."""
    model = estimator
    while True:
        if hasattr(model, "best_estimator_"):
            model = model.best_estimator_
        elif isinstance(model, Pipeline):
            model = model[-1]
        else:
            break
    check_is_fitted(
        model,
        msg=(
            "This %(name)s instance is not fitted yet, so it has no loss curve. "
            "Fit it before calling LossCurveDisplay.from_estimator."
        ),
    )
    if not hasattr(model, "loss_curve_"):
        raise TypeError(
            "LossCurveDisplay.from_estimator needs a model that records its loss "
            f"per epoch in loss_curve_ (such as SigmoidNeuronRegressor); "
            f"{model.__class__.__name__} has no loss_curve_."
        )
    return model


def _as_curve(values, what):
    curve = np.asarray(values, dtype=np.float64)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(
            f"{what} must be a non-empty 1-D sequence of losses, one per epoch; "
            f"got shape {curve.shape}."
        )
    return curve
