"""The estimator's parameters as flags of ``fit``: one vocabulary both ways.

``fit`` offers each parameter of :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor`
that a command line can use as ``--name-with-dashes`` (``--no-...`` for
False), with the estimator's defaults: a flag not given is not passed. Its
type turns text into a value (a number, ``none``, ``LOW,HIGH``) and the
estimator checks the value; a bad one is scikit-learn's
``InvalidParameterError``, reported in the flag's name. :func:`render` writes
a setting as flags, for the estimator's advice on the command line.

Left out: ``warm_start`` (each ``fit`` starts a new model), ``verbose`` (the
command line shows the progress itself) and ``store_path`` (for
``staged_predict``, from Python).
"""

import argparse

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError, StrOptions

from .. import _advice
from .._sigmoid_neuron import SigmoidNeuronRegressor
from . import UsageError


def _value(text):
    """A flag's text as a Python value: ``5``, ``0.5``, ``none`` (None), or the
    text itself (``auto``, ``lbfgs``)."""
    if text == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _pair_or_value(text):
    """``LOW,HIGH`` as a tuple of two numbers, else as :func:`_value`."""
    if "," not in text:
        return _value(text)
    return tuple(_value(part.strip()) for part in text.split(","))


# parameter -> (how the flag's text becomes a value, metavar, help); a bool
# parameter is a pair of flags, --name and --no-name
FLAGS = {
    "solver": (
        str,
        None,
        "gd: the delta rule, one step per epoch; lbfgs (scipy's L-BFGS-B) and "
        "newton (Newton's method): the optimum of the same objective, in far "
        "fewer passes",
    ),
    "loss": (
        str,
        None,
        "squared_error: the delta rule; log_loss: the Bernoulli log-likelihood "
        "(logistic regression on a 0/1 target)",
    ),
    "learnrate": (
        _value,
        "RATE|auto",
        "the step size, a number > 0, or auto: a step computed from the data that "
        "cannot diverge (unused by --solver lbfgs and newton)",
    ),
    "epochs": (
        _value,
        "N",
        "full-batch steps (the most: --tol and --early-stopping may stop sooner; "
        "with --solver lbfgs or newton, the most iterations)",
    ),
    "alpha": (_value, "ALPHA", "the L2 penalty alpha/2 ||w||^2 on the weights"),
    "tol": (
        _value,
        "TOL|none",
        "stop when the loss has not improved by TOL (relative) for "
        "--n-iter-no-change epochs; none runs every epoch",
    ),
    "n_iter_no_change": (_value, "N", "epochs without improvement before stopping"),
    "early_stopping": (
        None,
        None,
        "hold out --validation-fraction of the rows, stop when their loss stops "
        "improving and keep the best weights",
    ),
    "validation_fraction": (
        _value,
        "FRACTION",
        "the share of the rows held out by --early-stopping",
    ),
    "fit_intercept": (None, None, "learn the bias"),
    "target_scaling": (
        _pair_or_value,
        "minmax|none|LOW,HIGH",
        "how the target maps to the sigmoid's [0, 1]: minmax (its range in "
        "DATA.csv), none (it is in [0, 1] already) or the interval LOW,HIGH "
        "(--target-scaling=-1,1 for a negative LOW)",
    ),
    "compute_inference": (
        None,
        None,
        "print the coefficients' robust (HC0) standard errors, and save them "
        "with the model",
    ),
    "random_state": (
        _value,
        "INT|none",
        "the seed of the start, the validation split and the folds of --cv; none "
        "draws new ones each run",
    ),
}


def flag(name):
    """The flag of the estimator's parameter ``name``: ``--target-scaling``."""
    return "--" + name.replace("_", "-")


def _text(value):
    """A value as a flag takes it: ``2`` for 2.0, ``none`` for None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):  # (0, 10) -> 0,10; (low, high) -> LOW,HIGH
        return ",".join(v.upper() if isinstance(v, str) else _text(v) for v in value)
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def render(name, value):
    """The setting ``name=value`` as flags: ``--solver lbfgs``, ``--early-stopping``.

    The ``render`` of :func:`sk_sigmoid_neuron._advice.entry` on the command
    line; a parameter without a flag keeps its Python form.

    >>> render("target_scaling", (0.0, 100.0))
    '--target-scaling 0,100'
    >>> render("fit_intercept", False)
    '--no-fit-intercept'
    >>> render("warm_start", True)
    'warm_start=True'
    """
    if name not in FLAGS:
        return f"{name}={_advice.shown(value)}"
    if isinstance(value, (bool, np.bool_)):
        return flag(name) if value else "--no-" + flag(name)[2:]
    text = _text(value)
    if text.startswith("-") and "," in text:  # argparse would take it for an option
        return f"{flag(name)}={text}"
    return f"{flag(name)} {text}"


def _choices(name):
    """``{gd,lbfgs}``: the words the estimator takes for ``name``, its default
    first (read from its parameter constraints, not repeated here)."""
    default = SigmoidNeuronRegressor().get_params()[name]
    (options,) = (
        c.options
        for c in SigmoidNeuronRegressor._parameter_constraints[name]
        if isinstance(c, StrOptions)
    )
    return "{" + ",".join(sorted(options, key=lambda o: (o != default, o))) + "}"


def add_estimator_flags(group):
    """Add a flag for each parameter in :data:`FLAGS` to the argparse ``group``."""
    defaults = SigmoidNeuronRegressor().get_params()
    for name, (kind, metavar, help) in FLAGS.items():
        if kind is None:  # a bool: --name and --no-name
            help = f"{help} (default: {render(name, defaults[name])})"
            group.add_argument(
                flag(name),
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help,
            )
            continue
        help = f"{help} (default: {_text(defaults[name])})"
        group.add_argument(
            flag(name),
            type=kind,
            default=argparse.SUPPRESS,
            metavar=metavar or _choices(name),
            help=help,
        )


def estimator_params(args):
    """The parameters that the flags in ``args`` set, checked by the estimator.

    Raises
    ------
    UsageError
        For a value the estimator does not take: its ``InvalidParameterError``
        in the words of the flag (``argument --alpha: must be a float in the
        range [0.0, inf). Got -1 instead.``).
    """
    params = {name: getattr(args, name) for name in FLAGS if hasattr(args, name)}
    estimator = SigmoidNeuronRegressor.__name__
    for name, value in params.items():
        # one parameter at a time (the others at their valid defaults), so
        # that an error is known to be about this one
        try:
            SigmoidNeuronRegressor(**{name: value})._validate_params()
        except InvalidParameterError as exc:
            message = str(exc)
            subject = f"The {name!r} parameter of {estimator} "
            if message.startswith(subject):  # "must be ... Got ... instead."
                message = message[len(subject) :]
            raise UsageError(f"argument {flag(name)}: {message}") from None
    return params
