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

__all__ = ["erf", "erf_cpu", "erf_gpu", "nextafter"]


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


# float32 nextafter by stepping the bit pattern in integers only: CuPy's nextafterf flushes
# subnormal results (nextafter(0, -1) gave -1.18e-38, not -1.4e-45 as NumPy, TF's CPU kernel
# and C give), and CuPy compiles with flush-to-zero, so even a float comparison of a
# subnormal input reads it as 0. Integer compares and moves never flush.
_NEXTAFTER_F32 = """
const int ia = __float_as_int(a), ib = __float_as_int(b);
const int ma = ia & 0x7fffffff, mb = ib & 0x7fffffff;
if (ma > 0x7f800000 || mb > 0x7f800000) { y = __int_as_float(0x7fc00000); }
else if (ia == ib || (ma == 0 && mb == 0)) { y = b; }
else if (ma == 0) { y = __int_as_float((ib & (int)0x80000000u) | 1); }
else {
    // order the bit patterns as the floats they encode (sign-magnitude -> two's complement)
    const int ka = ia < 0 ? -ma : ma, kb = ib < 0 ? -mb : mb;
    y = __int_as_float(((ka < kb) == (ia >= 0)) ? ia + 1 : ia - 1);
}"""


def nextafter(a, b):
    """The next representable value after ``a`` towards ``b`` (arrays of one float dtype,
    broadcast), on their device; subnormals kept on the GPU as on the CPU."""
    if isinstance(a, (np.ndarray, np.generic)):
        return np.nextafter(a, b)
    cp = _cupy.load()
    if a.dtype != np.float32:
        return cp.nextafter(a, b)
    k = _gpu_kernels.get("nextafter")
    if k is None:
        k = _gpu_kernels["nextafter"] = cp.ElementwiseKernel(
            "float32 a, float32 b", "float32 y", _NEXTAFTER_F32, "eagerflow_nextafter_f32")
    return k(a, b)
