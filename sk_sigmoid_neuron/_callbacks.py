"""Progress through scikit-learn's callback API (``sklearn.callback``).

scikit-learn 1.9 added callbacks (``est.set_callbacks(ProgressBar())``). A
``fit`` of :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` is a task whose
subtasks are its epochs; a ``partial_fit`` call is a task without subtasks.
scikit-learn < 1.9 has no callbacks: there the estimator has no
``set_callbacks`` and a fit reports nothing.

A ``fit`` of :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressorCV` is a task
with GridSearchCV's tree: a "search" whose subtasks are the CV splits (each a
task whose subtasks are the epochs of the fold's bank), then a
"refit-with-best-params" that the refitted estimator's own "fit" joins.
"""

from contextlib import contextmanager

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

    def begin(self, X, y=None, sample_weight=None):
        """Report the start of the task, on the data that the call fits.

        ``X`` may be a callable that returns ``(X, y, sample_weight)``, called
        only when a callback can see them (they may cost a copy).
        """
        if callable(X):
            if self.context is None:
                return
            X, y, sample_weight = X()
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
    """Reports each epoch of a fit (or of a CV split's fold) as a subtask,
    with begin and end hooks.

    Parameters
    ----------
    task : FitTask or SplitTask
        The task whose subtasks the epochs are.

    fitted_attributes : callable or None
        See :meth:`FitTask.epochs`. None for a CV split: its neurons are the
        candidates, none of them the estimator, so the hooks get no
        ``fitted_estimator``, and a request to stop is ignored (the fold's
        epochs serve every candidate epoch count at once, each candidate
        scored at its own count).
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

    def _reconstruction(self, kernel, curve):
        if self.fitted_attributes is None:
            return None
        return lambda: self._attributes(kernel, curve)

    def begin(self, kernel, curve):
        """Report the start of an epoch, at the weights it starts from."""
        self.context = self.task.context.subcontext(task_name="epoch")
        self.context.call_on_fit_task_begin(
            estimator=self.task.estimator,
            reconstruction_attributes=self._reconstruction(kernel, curve),
            **self.task.data,
        )

    def end(self, kernel, curve):
        """Report the end of an epoch; True if a callback asks to stop (and
        may: see ``fitted_attributes``)."""
        stop = self.context.call_on_fit_task_end(
            estimator=self.task.estimator,
            reconstruction_attributes=self._reconstruction(kernel, curve),
            **self.task.data,
        )
        return bool(stop) and self.fitted_attributes is not None


class CVFitTask(FitTask):
    """One ``fit`` of the CV estimator: the search over the splits, then the refit.

    Create it as :class:`FitTask`; before scikit-learn 1.9, or when no
    callback and no meta-estimator's task can see it, every method does
    nothing.

    Parameters
    ----------
    estimator : SigmoidNeuronRegressorCV
        The estimator being fitted.
    """

    def __init__(self, estimator):
        super().__init__(estimator, "fit", max_subtasks=2)  # search, refit
        self.search_context = None

    def begin_search(self, n_splits, n_epochs):
        """Report the start of the search, and make the tasks of its splits.

        The split tasks are all made here, before the folds are dispatched, as
        GridSearchCV makes its evaluation tasks: made as joblib dispatches each
        fold, they would change the task tree while an earlier fold's copy of
        it is pickled for a worker process.

        Parameters
        ----------
        n_splits : int
            The number of CV splits, one fold each.

        n_epochs : int
            The number of epochs of each fold's bank.

        Returns
        -------
        splits : list of SplitTask or None
            One per split, to pass to the fold that computes it; None when no
            callback is set, as :meth:`FitTask.epochs`, so that the folds keep
            their fast path (and a worker process gets no task tree).
        """
        if self.context is None:
            return [None] * n_splits
        self.search_context = self.context.subcontext(
            task_name="search", max_subtasks=n_splits, sequential_subtasks=False
        ).call_on_fit_task_begin(estimator=self.estimator)
        if not getattr(self.estimator, "_skl_callbacks", ()):
            return [None] * n_splits  # nothing listens to the folds
        return [
            SplitTask(
                self.estimator,
                self.search_context.subcontext(
                    task_name="split", task_id=k, max_subtasks=n_epochs
                ),
                self.data,
            )
            for k in range(n_splits)
        ]

    def end_search(self):
        """Report the end of the search; the candidates are scored by now."""
        if self.search_context is not None:
            self.search_context.call_on_fit_task_end(estimator=self.estimator)

    @contextmanager
    def refit(self, best_estimator):
        """Report the refit around the fit of ``best_estimator`` in the block.

        The callbacks that propagate (such as ``ProgressBar``) are set on
        ``best_estimator`` for the block, and its fit task takes the place of
        this one in the task tree, as in GridSearchCV.
        """
        if self.context is None:
            yield
            return
        context = self.context.subcontext(task_name="refit-with-best-params")
        with context.propagate_callback_context(best_estimator):
            context.call_on_fit_task_begin(estimator=self.estimator, **self.data)
            yield
        context.call_on_fit_task_end(estimator=self.estimator, **self.data)


class SplitTask:
    """One CV split of the search, a task whose subtasks are the fold's epochs.

    Parameters
    ----------
    estimator : SigmoidNeuronRegressorCV
        The estimator being fitted.

    context : CallbackContext
        The split's task, made by :meth:`CVFitTask.begin_search`.

    fit_data : dict
        What the fit reports to the callbacks (``X``, ``y``, ``metadata``).
    """

    def __init__(self, estimator, context, fit_data):
        self.estimator = estimator
        self.context = context
        self.fit_data = fit_data
        self.data = {}

    def begin(self, X, y, rows):
        """Report the start of the split, on its training part.

        ``X`` and ``y`` are the training part, the rows ``rows`` of the fit's
        data; the weights reported are those rows of the fit's (as given).
        """
        metadata = self.fit_data["metadata"]
        if metadata is not None:
            metadata = {"sample_weight": metadata["sample_weight"][rows]}
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.context.call_on_fit_task_begin(estimator=self.estimator, **self.data)

    def end(self):
        """Report the end of the split; its candidates are scored by now."""
        self.context.call_on_fit_task_end(estimator=self.estimator, **self.data)

    def epochs(self):
        """What reports the fold's epochs one by one, as subtasks of the split."""
        return EpochTasks(self, None)
