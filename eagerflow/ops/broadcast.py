"""Undoing broadcasting in vjps, and the shared checks of binary ops."""
import numpy as np

from ..autograd.registry import get

__all__ = ["unbroadcast", "shape_of", "broadcast_error"]


def shape_of(x):
    """The shape of a Tensor, array or Python scalar, as a tuple."""
    s = getattr(x, "shape", None)
    if s is None:
        return np.shape(x)
    return tuple(s)


def unbroadcast(g, shape):
    """Sums ``g`` over the axes that broadcasting added or stretched to reach ``shape``.

    Written with registered ops so that it is itself differentiable.
    """
    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = list(range(lead))
    for i, d in enumerate(shape):
        if d == 1 and gshape[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        g = get("reduce_sum")(g, axis=tuple(axes), keepdims=False)
    if tuple(g.shape) != shape:
        g = get("reshape")(g, shape=shape)
    return g


def broadcast_error(opname, a, b):
    return ValueError(f"{opname}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} are "
                      "not broadcast-compatible")
