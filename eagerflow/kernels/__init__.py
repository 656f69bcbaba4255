"""Fused kernels, each with a numba CPU twin and a CuPy GPU twin behind one function.

The dispatcher of each kernel picks the twin from the array type (NumPy or CuPy). GPU twins
never synchronise: errors they find go to a device-side flag that :func:`check_errors`
raises at a sync point of the caller's choosing.

Example:
    >>> import numpy as np
    >>> from eagerflow import kernels
    >>> kernels.scatter_add_new(np.array([0, 0]), np.ones((2, 3), np.float32), 2)[0]
    array([2., 2., 2.], dtype=float32)
"""
from .device_errors import check_errors, clear_errors, error_flag
from .scatter_add import scatter_add, scatter_add_cpu, scatter_add_gpu, scatter_add_new
from .segment_reduce import (REDUCTIONS, segment_reduce, segment_reduce_cpu,
                             segment_reduce_gpu, unsorted_segment_reduce)

__all__ = [
    "scatter_add", "scatter_add_new", "scatter_add_cpu", "scatter_add_gpu",
    "segment_reduce", "unsorted_segment_reduce", "segment_reduce_cpu", "segment_reduce_gpu",
    "REDUCTIONS", "check_errors", "clear_errors", "error_flag",
]
