"""The progress of a fit on the command line: one bar, else lines of the loss.

On a terminal, with rich (the ``progress`` extra) and scikit-learn's callback
API (scikit-learn >= 1.9), a rich bar over the epochs, set on the estimator
as a callback. Otherwise (no rich, an older scikit-learn, or output to a file
or a pipe, where a bar is noise) the estimator's ``verbose=1``: a line with
the loss about every tenth of the epochs.
"""

import sys
from contextlib import contextmanager


@contextmanager
def progress(model):
    """Show the progress of ``model``'s fits in the block.

    The callback or ``verbose`` is set for the block only, so that the model
    is saved (and cross-validated) as the user configured it.
    """
    bar = _bar(model) if sys.stdout.isatty() else None
    if bar is None:
        verbose = model.verbose
        model.set_params(verbose=1)
        try:
            yield
        finally:
            model.set_params(verbose=verbose)
        return
    model.set_callbacks(bar)
    try:
        yield
    finally:
        model.set_callbacks()


def _bar(model):
    """A :class:`RichProgressBar`, or None without rich or callbacks."""
    if not hasattr(model, "set_callbacks"):  # scikit-learn < 1.9
        return None
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return None
    return RichProgressBar()


class RichProgressBar:
    """A rich progress bar over the epochs of a fit (a ``sklearn.callback``
    FitCallback).

    It advances in constant time per epoch; scikit-learn's ``ProgressBar``
    sums over every epoch done so far at each update (see
    ``benchmarks/results/callbacks.md``), a cost that grows with the square
    of the number of epochs.
    """

    def setup(self, estimator, context):
        from rich import progress

        self.progress = progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.TaskProgressColumn(),
            progress.MofNCompleteColumn(),
            progress.TextColumn("epochs"),
            progress.TimeRemainingColumn(elapsed_when_finished=True),
        )
        self.task = self.progress.add_task(
            f"{type(estimator).__name__}.{context.task_name}",
            total=context.max_subtasks,
        )
        self.progress.start()

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.progress.update(self.task, completed=context.task_id + 1)

    def teardown(self, estimator, context):
        self.progress.stop()
