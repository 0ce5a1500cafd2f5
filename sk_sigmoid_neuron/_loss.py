r"""The losses, one record each: every engine, solver and statistic reads them here.

A neuron predicts :math:`\hat y = \sigma(h)` with :math:`h = x \cdot w + b`. For
a target :math:`t \in [0, 1]` each loss gives

- its value per record, :math:`\ell(t, h)`;
- its error term :math:`\delta = -\partial \ell / \partial h`, which the rule
  steps along (``w += η Σ s δ x / Σ s``);
- its first and second derivatives in :math:`h` (``_inference``'s sandwich);
- ``curvature``, :math:`\sup_{h,\, t \in [0, 1]} |\partial^2 \ell / \partial
  h^2|`, the bound that ``learnrate="auto"`` uses (``_stepsize``);
- ``code``, the number by which compiled kernels select it.

The squared error is the documented delta rule: :math:`\ell = \tfrac12 (t -
\hat y)^2`, :math:`\delta = (t - \hat y)\,\hat y (1 - \hat y)`. The log loss
is the Bernoulli log-likelihood on the same mean: :math:`\ell = -t \log \hat
y - (1 - t) \log(1 - \hat y) = \operatorname{softplus}(h) - t h`,
:math:`\delta = t - \hat y` (logistic regression on 0/1 targets, the
fractional logit on proportions).

Each formula is written once, in three forms that the engines call:

- ``error_term(t, y, one)`` and ``value(t, y, h, xp)``: arrays of any
  namespace; ``error_term`` and ``scalar_value`` are also what the compiled
  engine compiles (``one``, ``half``: constants typed like the data, since a
  float64 literal would promote float32 work);
- ``*_into``: the same operations in the same order into caller-owned numpy
  buffers, for the smallest data, where each call's overhead is the cost.
"""

import math

import numpy as np
from scipy.special import expit

__all__ = ["LOSSES", "get_loss"]

# sup over h and t in [0, 1] of |ℓ''| for the squared error: ℓ'' is affine in t,
# so its extremes lie at t in {0, 1}, which mirror each other; at t = 0 it is
# y² (1 - y)(2 - 3y), largest in absolute value at y = (15 - √33) / 24
_Y_STAR = (15 - np.sqrt(33)) / 24


class SquaredError:
    """:math:`\\ell = \\frac12 (t - \\hat y)^2`, the documented delta rule."""

    name = "squared_error"
    code = 0
    curvature = float(_Y_STAR**2 * (1 - _Y_STAR) * (2 - 3 * _Y_STAR))

    @staticmethod
    def error_term(t, y, one=1):
        """δ = (t - ŷ) ((1 - ŷ) ŷ), unweighted."""
        return (t - y) * ((one - y) * y)

    @staticmethod
    def value(t, y, h, xp=None):
        """Per-record loss (the squared error needs ŷ only)."""
        e = t - y
        return (e * e) * 0.5

    @staticmethod
    def scalar_value(t, y, h, zero, half, one):
        """:meth:`value` of one record, for compiled code."""
        e = t - y
        return (e * e) * half

    @staticmethod
    def error_term_into(t, y, h, out, tmp=None, kept=None, one=1):
        """:meth:`error_term` into ``out``. ``kept``, if given, receives ``t -
        ŷ`` (what :meth:`value_from_kept` needs; ``tmp`` is then unused),
        else ``tmp`` is scratch of ``out``'s shape; ``one`` may be an array
        of ones (cheaper than converting the scalar at each call)."""
        if kept is None:
            np.subtract(t, y, out=out)
            np.subtract(one, y, out=tmp)
            tmp *= y
            out *= tmp
            return out
        np.subtract(t, y, out=kept)
        np.subtract(one, y, out=out)
        out *= y
        out *= kept
        return out

    @staticmethod
    def value_from_kept(t, kept):
        """``2 ℓ`` (the 1/2 applied to the sum) from what
        :meth:`error_term_into` kept, into ``kept``."""
        return np.multiply(kept, kept, out=kept)

    @staticmethod
    def value_into(t, y, h, out, tmp=None):
        """:meth:`value` into ``out``."""
        np.subtract(t, y, out=out)
        np.multiply(out, out, out=out)
        out *= 0.5
        return out

    @staticmethod
    def derivatives(t, h):
        """``(ℓ', ℓ'')`` in h, float64: nonlinear least squares' gradient and
        full Hessian term (not Gauss-Newton's, so the sandwich stays valid
        when the sigmoid mean is not the true one)."""
        y = expit(np.asarray(h, dtype=np.float64))
        slope = y * (1 - y)
        e = t - y
        return -e * slope, slope * slope - e * slope * (1 - 2 * y)


class LogLoss:
    """:math:`\\ell = \\operatorname{softplus}(h) - t h`, the Bernoulli
    log-likelihood (logistic regression on 0/1 targets)."""

    name = "log_loss"
    code = 1
    curvature = 0.25  # ℓ'' = ŷ (1 - ŷ) <= 1/4

    @staticmethod
    def error_term(t, y, one=1):
        """δ = t - ŷ, unweighted."""
        return t - y

    @staticmethod
    def value(t, y, h, xp=None):
        """Per-record loss, from ``h`` (never log(0)); ``xp``: the array-API
        namespace of arrays that are not numpy's."""
        if xp is None:
            return np.logaddexp(0, h) - t * h
        return xp.logaddexp(xp.zeros_like(h), h) - t * h

    @staticmethod
    def scalar_value(t, y, h, zero, half, one):
        """:meth:`value` of one record, for compiled code: numpy's
        ``logaddexp(0, h)``, ``max(h, 0) + log1p(exp(-|h|))``."""
        if h > zero:
            return h + math.log1p(math.exp(-h)) - t * h
        return math.log1p(math.exp(h)) - t * h

    @staticmethod
    def error_term_into(t, y, h, out, tmp=None, kept=None, one=1):
        """:meth:`error_term` into ``out``; ``kept``, if given, receives ``h``
        (what :meth:`value_from_kept` needs)."""
        if kept is not None:
            np.copyto(kept, h)
        return np.subtract(t, y, out=out)

    @staticmethod
    def value_from_kept(t, kept):
        """:meth:`value` from the kept ``h`` (``kept`` becomes scratch)."""
        return LogLoss.value_into(t, None, kept, np.empty_like(kept), tmp=kept)

    @staticmethod
    def value_into(t, y, h, out, tmp=None):
        """:meth:`value` into ``out`` (``tmp``: scratch, or None to allocate)."""
        np.logaddexp(0, h, out=out)
        out -= np.multiply(t, h, out=tmp)
        return out

    @staticmethod
    def derivatives(t, h):
        """``(ℓ', ℓ'')`` in h, float64: the Binomial GLM's score and weight."""
        y = expit(np.asarray(h, dtype=np.float64))
        return y - t, y * (1 - y)


LOSSES = {loss.name: loss for loss in (SquaredError, LogLoss)}


def get_loss(name):
    """The record of the loss called ``name`` (``"squared_error"``, ``"log_loss"``)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(
            f"loss must be one of {sorted(LOSSES)}, got {name!r}."
        ) from None
