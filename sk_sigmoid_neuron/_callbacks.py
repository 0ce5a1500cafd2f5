"""Progress through scikit-learn's callback API (``sklearn.callback``).

scikit-learn 1.9 added callbacks (``est.set_callbacks(ProgressBar())``). A
``fit`` of :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` is a task whose
subtasks are its epochs; a ``partial_fit`` call is a task without subtasks.
scikit-learn < 1.9 has no callbacks: there the estimator has no
``set_callbacks`` and a fit reports nothing.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callbacks."""


class FitTask:
    """One ``fit`` or ``partial_fit`` call, reported to the callbacks as a task.

    Create it first thing in the call, outside anything that restores the
    estimator's attributes on error: scikit-learn's fit context tears the
    callbacks down after the call from what this sets on the estimator. Before
    scikit-learn 1.9, or when no callback and no meta-estimator's task can see
    it, every method does nothing.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.

    task_name : str
        The name of the task: "fit" or "partial_fit".

    max_subtasks : int
        The most epochs the task runs (0: none reported one by one).
    """

    def __init__(self, estimator, task_name, max_subtasks):
        self.estimator = estimator
        self.context = None
        self.data = {}
        # scikit-learn >= 1.9, and someone to tell: callbacks on this estimator,
        # or a meta-estimator whose task tree this fit joins
        if hasattr(estimator, "_init_callback_context") and (
            hasattr(estimator, "_skl_callbacks")
            or hasattr(estimator, "_parent_callback_ctx")
        ):
            self.context = estimator._init_callback_context(
                task_name=task_name, max_subtasks=max_subtasks
            )

    def begin(self, X, y, sample_weight):
        """Report the start of the task, on the data that the call fits."""
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.data = {"X": X, "y": y, "metadata": metadata}
        if self.context is not None:
            self.context.call_on_fit_task_begin(estimator=self.estimator, **self.data)

    def end(self):
        """Report the end of the task; the estimator is fitted by now."""
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes={}, **self.data
            )

    def epochs(self, fitted_attributes):
        """What reports the epochs one by one, or None when no callback is set.

        Parameters
        ----------
        fitted_attributes : callable
            ``fitted_attributes(coef, intercept, curve)`` returns the fitted
            attributes of a model with these weights (2-D ``coef``) and loss
            curve, from which a callback can get a ``fitted_estimator``.

        Returns
        -------
        epochs : EpochTasks or None
            None keeps the epoch loop on its fast path, all epochs at once.
        """
        if self.context is None or not getattr(self.estimator, "_skl_callbacks", ()):
            return None  # nothing listens to single epochs
        return EpochTasks(self, fitted_attributes)


class EpochTasks:
    """Reports each epoch of a fit as a subtask, with begin and end hooks.

    Parameters
    ----------
    task : FitTask
        The fit whose subtasks the epochs are.

    fitted_attributes : callable
        See :meth:`FitTask.epochs`.
    """

    def __init__(self, task, fitted_attributes):
        self.task = task
        self.fitted_attributes = fitted_attributes
        self.context = None

    def _attributes(self, kernel, curve):
        # called by the callback machinery only if a hook asks for a
        # fitted_estimator, and right away, so the weights are the current ones
        coef, intercept = kernel.get_params()
        return self.fitted_attributes(coef, intercept, list(curve))

    def begin(self, kernel, curve):
        """Report the start of an epoch, at the weights it starts from."""
        self.context = self.task.context.subcontext(task_name="epoch")
        self.context.call_on_fit_task_begin(
            estimator=self.task.estimator,
            reconstruction_attributes=lambda: self._attributes(kernel, curve),
            **self.task.data,
        )

    def end(self, kernel, curve):
        """Report the end of an epoch; True if a callback asks to stop."""
        return self.context.call_on_fit_task_end(
            estimator=self.task.estimator,
            reconstruction_attributes=lambda: self._attributes(kernel, curve),
            **self.task.data,
        )
