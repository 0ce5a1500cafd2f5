"""Temporary: the names that modules imported from here, now in ``_kernels``.

Import from :mod:`._kernels` instead; this module goes once nothing imports it.
Setting ``BACKEND`` or a threshold here does not reach the chooser: set it on
``_kernels`` (or on the unit's module that owns it).
"""

from . import _kernels
from ._kernels import (  # noqa: F401
    BACKEND,
    LEAF_ROWS,
    NUMBA_MAX_NEURONS,
    PARALLEL_ELEMENTS,
    SERIAL_BLAS_ELEMENTS,
    SMALL_ELEMENTS,
    Kernel,
    active_backend,
    apply_step,
    make_kernel,
    mean_loss,
    one_blas_thread,
    partial_sums,
    predict_unit,
)


def EpochKernel(*args, **kwargs):  # noqa: N802 (the old class's name)
    """:func:`._kernels.make_kernel`, looked up at each call."""
    return _kernels.make_kernel(*args, **kwargs)
