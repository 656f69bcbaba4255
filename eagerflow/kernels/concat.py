"""``concatenate`` that a CUDA-graph capture accepts.

CuPy's ``concatenate`` of many arrays builds a table of their device pointers on the host
and copies it to the GPU, and a capturing stream refuses host-to-device copies. While a
capture runs, the parts are copied into slices of the output instead (one copy kernel
each; in a replayed graph they cost about a microsecond apiece). Otherwise it is
``xp.concatenate``.
"""
import numpy as np

from eagerflow.backend import cuda_graph

__all__ = ["concatenate"]


def concatenate(xp, arrays, axis=0):
    """``xp.concatenate(arrays, axis)`` (NumPy semantics; ``axis`` may be negative).

    Example:
        >>> import numpy as np
        >>> concatenate(np, [np.zeros((1, 2)), np.ones((1, 2))], axis=0).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    if xp is np or not cuda_graph.capturing() or len(arrays) < 2:
        return xp.concatenate(arrays, axis=axis)
    first = arrays[0]
    axis = axis % first.ndim
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = xp.empty(shape, dtype=xp.result_type(*arrays))
    lead = (slice(None),) * axis
    start = 0
    for a in arrays:
        stop = start + a.shape[axis]
        out[lead + (slice(start, stop),)] = a
        start = stop
    return out
