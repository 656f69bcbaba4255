"""Argument checks shared by the linalg ops: tensors, matrix ranks, square shapes, dtypes.

Every public linalg function validates its arguments here before calling a registered op,
so that bad input fails with a message that names the function, the argument and the shape
it got, the same way on both backends.
"""
import numpy as np

from ..autograd.tensor import Tensor, _to_array, _wrap

__all__ = ["as_tensor", "check_matrix", "check_float", "batch_shape_of", "LinAlgError"]

# NumPy's exception, which CuPy re-exports too: one class to catch on both backends.
LinAlgError = np.linalg.LinAlgError


def as_tensor(x):
    """``x`` as a Tensor (arrays and Python values are converted on the current backend)."""
    return x if isinstance(x, Tensor) else _wrap(_to_array(x))


def check_float(x, opname, argname):
    """Raises TypeError unless ``x`` holds floating-point or complex numbers."""
    if x.dtype.kind not in "fc":
        raise TypeError(f"{opname}: {argname} must be float32, float64 or complex, got "
                        f"{x.dtype}")


def check_matrix(x, opname, argname, square=False, float_only=True):
    """Validates a (batch of) matrices of shape ``(..., m, n)``; returns it as a Tensor.

    Raises:
        ValueError: rank < 2, or ``m != n`` when ``square``.
        TypeError: a non-float dtype when ``float_only``.
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{opname}: {argname} must have rank >= 2 (a matrix or a batch of "
                         f"matrices of shape (..., m, n)), got shape {tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{opname}: {argname} must be square (shape (..., n, n)), got "
                         f"shape {tuple(x.shape)}")
    if float_only:
        check_float(x, opname, argname)
    return x


def batch_shape_of(a_shape, b_shape, opname, aname, bname):
    """The broadcast batch shape of two matrix batches, or a ValueError naming both."""
    try:
        return tuple(np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2])))
    except ValueError:
        raise ValueError(f"{opname}: the batch dimensions of {aname} (shape "
                         f"{tuple(a_shape)}) and {bname} (shape {tuple(b_shape)}) do not "
                         "broadcast") from None
