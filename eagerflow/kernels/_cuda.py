"""Building blocks of the GPU twins: C types, atomic helpers, lazy memoized RawKernels and
ElementwiseKernels.

Kernel sources are ``string.Template`` strings with ``$T`` (value type), ``$I`` (index type),
``$K`` (loop counter type) and ``$NAME``. Each distinct substitution is compiled by NVRTC on
first use and memoized here (CuPy's own disk cache then makes the next process cheap), the
way Chainer's ``cuda.elementwise`` does it.
"""
import string

import numpy as np

from eagerflow.backend import _cupy, cuda_graph

# float16 travels as its raw bits: the atomic add below works on them without cuda_fp16.h,
# which NVRTC does not always find.
CTYPES = {
    np.dtype(np.float16): "unsigned short",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long long",
}
INDEX_CTYPES = {np.dtype(np.int32): "int", np.dtype(np.int64): "long long"}

ATOMICS_SRC = r"""
__device__ __forceinline__ void ef_atomic_add(float* a, float v) { atomicAdd(a, v); }
__device__ __forceinline__ void ef_atomic_add(double* a, double v) { atomicAdd(a, v); }
__device__ __forceinline__ void ef_atomic_add(int* a, int v) { atomicAdd(a, v); }
__device__ __forceinline__ void ef_atomic_add(long long* a, long long v) {
    atomicAdd((unsigned long long*)a, (unsigned long long)v);  // two's complement
}
// Native half-precision reduction (sm_70+), on the raw bits.
__device__ __forceinline__ void ef_atomic_add(unsigned short* a, unsigned short v) {
    asm volatile("red.add.noftz.f16 [%0], %1;" :: "l"(a), "h"(v) : "memory");
}
// No float atomicMax in CUDA: compare-and-swap until our value is no longer larger.
__device__ __forceinline__ void ef_atomic_max(float* a, float v) {
    int* ai = (int*)a;
    int old = *ai;
    while (v > __int_as_float(old)) {
        int assumed = old;
        old = atomicCAS(ai, assumed, __float_as_int(v));
        if (old == assumed) break;
    }
}
__device__ __forceinline__ void ef_atomic_min(float* a, float v) {
    int* ai = (int*)a;
    int old = *ai;
    while (v < __int_as_float(old)) {
        int assumed = old;
        old = atomicCAS(ai, assumed, __float_as_int(v));
        if (old == assumed) break;
    }
}
__device__ __forceinline__ void ef_atomic_max(double* a, double v) {
    unsigned long long* ai = (unsigned long long*)a;
    unsigned long long old = *ai;
    while (v > __longlong_as_double((long long)old)) {
        unsigned long long assumed = old;
        old = atomicCAS(ai, assumed, (unsigned long long)__double_as_longlong(v));
        if (old == assumed) break;
    }
}
__device__ __forceinline__ void ef_atomic_min(double* a, double v) {
    unsigned long long* ai = (unsigned long long*)a;
    unsigned long long old = *ai;
    while (v < __longlong_as_double((long long)old)) {
        unsigned long long assumed = old;
        old = atomicCAS(ai, assumed, (unsigned long long)__double_as_longlong(v));
        if (old == assumed) break;
    }
}
__device__ __forceinline__ void ef_atomic_max(int* a, int v) { atomicMax(a, v); }
__device__ __forceinline__ void ef_atomic_min(int* a, int v) { atomicMin(a, v); }
__device__ __forceinline__ void ef_atomic_max(long long* a, long long v) { atomicMax(a, v); }
__device__ __forceinline__ void ef_atomic_min(long long* a, long long v) { atomicMin(a, v); }
"""

_BLOCK = 256
_kernels = {}
_sms = {}


def ctype(dtype, table=CTYPES, what="dtype"):
    """The C type name of ``dtype`` in ``table``, or a TypeError naming the allowed ones."""
    try:
        return table[np.dtype(dtype)]
    except KeyError:
        allowed = ", ".join(str(d) for d in table)
        raise TypeError(f"{what} {np.dtype(dtype)} is not supported on the GPU "
                        f"(supported: {allowed})") from None


def counter_type(total):
    """32-bit loop counters where they suffice: 64-bit division costs ~3x more on the GPU."""
    return "unsigned int" if total < 2 ** 31 else "unsigned long long"


def counter_tag(ktype):
    return "k32" if ktype == "unsigned int" else "k64"


def counter_scalar(ktype, value):
    return np.uint32(value) if ktype == "unsigned int" else np.uint64(value)


def get_kernel(template, **subs):
    """Compiles (once per substitution) and returns the RawKernel of ``template``."""
    key = (template, tuple(sorted(subs.items())))
    kern = _kernels.get(key)
    if kern is None:
        cp = _cupy.load()
        src = string.Template(template).substitute(**subs)
        kern = cp.RawKernel(src, subs["NAME"])
        _kernels[key] = kern
    return kern


def elementwise(in_params, out_params, operation, name, preamble=""):
    """The CuPy ElementwiseKernel of these arguments, built once per process (building one
    per call would redo CuPy's parsing and cache lookups on every launch)."""
    key = ("elementwise", in_params, out_params, operation, name, preamble)
    kern = _kernels.get(key)
    if kern is None:
        cp = _cupy.load()
        kern = _kernels[key] = cp.ElementwiseKernel(in_params, out_params, operation, name,
                                                    preamble=preamble)
    return kern


def cached_array(cache, key, make):
    """The device array ``cache[key]``, made by ``make()`` on first use. One made during a
    CUDA-graph capture lives in the capture's private pool and holds nothing until its
    graph runs: that capture uses it, but it is not kept for later calls."""
    a = cache.get(key)
    if a is None:
        a = make()
        if not cuda_graph.capturing():
            cache[key] = a
    return a


def sm_count():
    """Streaming multiprocessors of the current GPU (128 when the driver does not say)."""
    cp = _cupy.load()
    dev = cp.cuda.Device().id
    n = _sms.get(dev)
    if n is None:
        try:
            n = int(cp.cuda.runtime.getDeviceProperties(dev)["multiProcessorCount"])
        except (KeyError, TypeError, AttributeError):
            n = 128
        _sms[dev] = n
    return n


def launch(kern, total, args):
    """Launches a grid-stride kernel over ``total`` elements on the current stream."""
    if total == 0:
        return
    cap = sm_count() * 32  # enough resident warps to hide atomic latency
    blocks = min((total + _BLOCK - 1) // _BLOCK, cap)
    kern((blocks,), (_BLOCK,), args)
