"""Advice that fits where a fit runs: in the caller's words, at the caller's line.

The diagnostics name settings as a fix ("use solver='lbfgs'"). What a user can
act on depends on the entry point: a script passes parameters, the command
line passes flags (``--solver lbfgs``), and inside a search (``GridSearchCV``,
``cross_validate``, the CV estimator's refit) the search, not the user, sets
the learning rate. :func:`entry` marks the entry point for the code it runs;
:func:`setting` writes a setting in its vocabulary; :func:`plain_fit` says
whether a fit was called by the user directly; :func:`warn` points a warning
at the user's line, outside this package and scikit-learn.
"""

import os
import sys
import warnings
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import sklearn

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_LIBRARIES = (_PACKAGE, os.path.dirname(os.path.abspath(sklearn.__file__)))
# the modules of scikit-learn's searches and cross-validation (GridSearchCV
# and its refit, cross_validate, learning_curve, ...)
_SEARCH_MODULES = "sklearn.model_selection."

_entry = ContextVar("sk_sigmoid_neuron_entry", default=None)


def shown(value):
    """A parameter's value as the user wrote it (``5.0``, ``'auto'``), also for
    a numpy scalar (whose repr is ``np.float64(5.0)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


@contextmanager
def entry(kind, render=None):
    """Run the block as entry point ``kind``: ``"cli"`` (``render(name, value)``
    writes a setting as flags) or ``"search"`` (a search sets the parameters)."""
    token = _entry.set((kind, render))
    try:
        yield
    finally:
        _entry.reset(token)


def setting(name, value):
    """``name=value`` in the caller's vocabulary: ``solver='lbfgs'`` in Python,
    ``--solver lbfgs`` on the command line."""
    current = _entry.get()
    if current is not None and current[1] is not None:
        return current[1](name, value)
    return f"{name}={shown(value)}"


def on_command_line():
    current = _entry.get()
    return current is not None and current[0] == "cli"


def plain_fit():
    """Whether the user called this fit directly: not on the command line, not
    in the CV estimator, not in a scikit-learn search or cross-validation
    (whose parameters the user sets on the search, not on this fit)."""
    if _entry.get() is not None:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_SEARCH_MODULES):
            return False
        frame = frame.f_back
    return True


def _user_stacklevel():
    """The ``stacklevel`` of :func:`warnings.warn`, called from :func:`warn`,
    that names the first frame outside this package and scikit-learn."""
    level, frame = 1, sys._getframe(2)  # the caller of warn
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        level += 1
        frame = frame.f_back
    return level + 1


def warn(message, category):
    """``warnings.warn`` at the user's line (the first frame outside this
    package and scikit-learn; a user's own subclass is the user's line)."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())
