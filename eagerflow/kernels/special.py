"""Special functions NumPy lacks (erf, erfc): a numba ufunc on the CPU, CUDA's on the GPU.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.special import erf
    >>> float(erf(np.array([0.5]), complement=False)[0])  # doctest: +ELLIPSIS
    0.5204998...
"""
import math

import numba
import numpy as np

from eagerflow.backend import _cupy

__all__ = ["erf", "erf_cpu", "erf_gpu"]


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
def _erf_cpu(x):
    return math.erf(x)


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
def _erfc_cpu(x):
    return math.erfc(x)


def erf_cpu(x, complement=False):
    """erf (or erfc) of a NumPy array; integer inputs are computed in float32."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64 if x.dtype == np.float64 else np.float32)
    out = (_erfc_cpu if complement else _erf_cpu)(x)
    return np.asarray(out, dtype=x.dtype)


_gpu_kernels = {}


def erf_gpu(x, complement=False):
    """erf (or erfc) of a CuPy array, one ElementwiseKernel launch."""
    cp = _cupy.load()
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    fn = "erfc" if complement else "erf"
    k = _gpu_kernels.get(fn)
    if k is None:
        k = cp.ElementwiseKernel("T x", "T y", f"y = {fn}(x)", f"eagerflow_{fn}")
        _gpu_kernels[fn] = k
    return k(x)


def erf(x, complement=False):
    """erf(x), or erfc(x) when ``complement``, on the array's own device."""
    if isinstance(x, (np.ndarray, np.generic)):
        return erf_cpu(x, complement)
    return erf_gpu(x, complement)
