r"""The losses, one record each: every kernel, solver and statistic reads them here.

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
is the Bernoulli quasi-likelihood on the same mean (fractional logit):
:math:`\ell = -t \log \hat y - (1 - t) \log(1 - \hat y) = \operatorname
{softplus}(h) - t h`, :math:`\delta = t - \hat y`.

Each function has a plain form and, for the numpy kernels' hot loops, an
in-place form into caller-owned buffers (the same operations in the same
order, so the same bits). Compiled kernels keep fused copies of these
formulas; ``tests/test_loss.py`` checks each copy against this table.
"""

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
    def value(t, y, h, xp=None):
        """Per-record loss (``h`` unused: the squared error needs ŷ only; its
        operators work in any namespace ``xp``)."""
        e = t - y
        return 0.5 * (e * e)

    @staticmethod
    def value_into(t, y, h, out, tmp=None):
        """:meth:`value` into ``out``."""
        np.subtract(t, y, out=out)
        np.multiply(out, out, out=out)
        out *= 0.5
        return out

    @staticmethod
    def error_term(t, y):
        """δ = (t - ŷ) ŷ (1 - ŷ), unweighted."""
        return (t - y) * ((1 - y) * y)

    @staticmethod
    def error_term_into(t, y, out, tmp):
        """:meth:`error_term` into ``out`` (``tmp``: scratch of its shape)."""
        np.subtract(t, y, out=out)
        np.subtract(1, y, out=tmp)
        tmp *= y
        out *= tmp
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
    """:math:`\\ell = \\operatorname{softplus}(h) - t h`, the fractional logit."""

    name = "log_loss"
    code = 1
    curvature = 0.25  # ℓ'' = ŷ (1 - ŷ) <= 1/4

    @staticmethod
    def value(t, y, h, xp=None):
        """Per-record loss, from ``h`` (never log(0)); ``xp``: the array-API
        namespace of arrays that are not numpy's."""
        if xp is None:
            return np.logaddexp(0, h) - t * h
        return xp.logaddexp(xp.zeros_like(h), h) - t * h

    @staticmethod
    def value_into(t, y, h, out, tmp=None):
        """:meth:`value` into ``out`` (``tmp``: scratch, or None to allocate)."""
        np.logaddexp(0, h, out=out)
        out -= np.multiply(t, h, out=tmp)
        return out

    @staticmethod
    def error_term(t, y):
        """δ = t - ŷ, unweighted."""
        return t - y

    @staticmethod
    def error_term_into(t, y, out, tmp=None):
        """:meth:`error_term` into ``out``."""
        return np.subtract(t, y, out=out)

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
