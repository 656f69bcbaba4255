"""The special-function namespace of an array's backend: ``scipy.special`` for NumPy arrays,
``cupyx.scipy.special`` for CuPy arrays.

Both are imported on first use, so ``import eagerflow`` pays for neither, and the NumPy
backend never imports cupy.

Example:
    >>> import numpy as np
    >>> from eagerflow.backend.special import special_module
    >>> special_module(np.ones(2)).__name__
    'scipy.special'
"""
import numpy as np

from . import array_module

__all__ = ["special_module"]

_modules = {}


def special_module(a):
    """``scipy.special`` or ``cupyx.scipy.special``, whichever matches the array ``a``.

    Args:
        a: a NumPy or CuPy array (or a scalar, which counts as NumPy).

    Returns:
        The module with the ``scipy.special`` functions for ``a``'s device.
    """
    gpu = array_module(a) is not np
    mod = _modules.get(gpu)
    if mod is None:
        if gpu:
            import cupyx.scipy.special as mod  # noqa: PLC0415  (lazy: only for CuPy arrays)
        else:
            import scipy.special as mod  # noqa: PLC0415  (lazy: keeps import eagerflow fast)
        _modules[gpu] = mod
    return mod
