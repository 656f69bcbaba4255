"""2-D matrix products, with a cuBLAS entry point of eagerflow's own for CUDA-graph capture.

CuPy refuses every cuBLAS call while a stream captures (its bindings raise
``NotImplementedError`` before calling the library; ``../shared/anchors/CUPY_PROBE.md``), so a
captured training step could not contain a GEMM. cuBLAS itself captures fine: this module
calls ``libcublas`` through ctypes on a handle of its own, whose stream is set to the
capturing stream, with alpha/beta in host memory (cuBLAS copies them into the launch, so they
are baked into the graph, as constants 1 and 0 should be). Outside a capture, ``matmul`` is
``xp.matmul`` (CuPy's own handle, identical results).

TF32 (``ef.config.set_allow_tf32``) applies to both paths: CuPy's compute type and this
module's ``cublasGemmEx`` compute type (and ``kernels/gemm_lt.py``'s cuBLASLt GEMMs).
"""
import ctypes
import os

import numpy as np

from eagerflow.backend import _cupy, cuda_graph
from eagerflow.backend.dtypes import bfloat16

# find_library .. check are shared with kernels/gemm_lt.py (cuBLASLt), which calls the same
# libraries the same way
__all__ = ["matmul", "matmul_tn", "split_k", "set_allow_tf32", "allow_tf32", "find_library", "device_buffer", "operand",
           "gemm_types", "check"]

# cublas_api.h / library_types.h
_CUDA_R_32F, _CUDA_R_64F, _CUDA_R_16BF = 0, 1, 14
_COMPUTE_32F, _COMPUTE_32F_FAST_TF32, _COMPUTE_64F = 68, 77, 70
_OP_N, _OP_T = 0, 1
_GEMM_DEFAULT = -1
_WORKSPACE_BYTES = 32 << 20


class _State:
    tf32 = os.environ.get("EAGERFLOW_TF32", "0") == "1"
    cupy_tf32 = None  # what CuPy's compute type was last set to


_state = _State()


def set_allow_tf32(enabled):
    """Lets float32 GEMMs on the GPU use TF32 tensor cores (off by default)."""
    _state.tf32 = bool(enabled)
    cp = _cupy.loaded()
    if cp is not None:
        _apply_cupy_tf32(cp)


def allow_tf32():
    return _state.tf32


def _apply_cupy_tf32(cp):
    from cupy._core import _routines_linalg as rl  # noqa: PLC0415 (GPU only)
    rl.set_compute_type(np.float32, rl.COMPUTE_TYPE_TF32 if _state.tf32
                        else rl.COMPUTE_TYPE_DEFAULT)
    _state.cupy_tf32 = _state.tf32


def matmul(xp, a, b):
    """``a @ b`` (NumPy semantics). On CuPy during a capture, 2-D float32/float64 operands go
    through :class:`_Cublas`; anything else goes to ``xp.matmul``."""
    if xp is np:
        if a.dtype == bfloat16 and b.dtype == bfloat16:
            # ml_dtypes' own matmul answers in float32 and runs a scalar loop; compute as a
            # GPU does (float32 products and sums) and round once
            return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(bfloat16)
        return xp.matmul(a, b)
    if _state.cupy_tf32 is not _state.tf32:
        _apply_cupy_tf32(xp)
    if not cuda_graph.capturing() or a.ndim != 2 or b.ndim != 2 \
            or a.dtype != b.dtype or a.dtype not in _SCALARS:
        return xp.matmul(a, b)
    return _cublas().gemm(a, b)


_lib = []


def split_k(m, k, n):
    """How many row blocks a weight gradient ``x^T @ g`` (``x`` ``(m, k)``, ``g`` ``(m, n)``)
    is split into, 1 for none. Its output has few tiles (400 x 400 is 16 of 128 x 128 for an
    H100's 132 SMs) and a long inner dimension (the batch): split, each block's product
    fills the GPU, and summing the partials costs ``splits x k x n`` elements."""
    tiles = -(-k // 128) * -(-n // 128)
    if m < 8192 or tiles >= 64:
        return 1
    for splits in (8, 4, 2):
        if m % splits == 0 and m // splits >= 2048:
            return splits
    return 1


def matmul_tn(x, g):
    """``x^T @ g`` of 2-D CuPy float32/float64 arrays, split over row blocks where
    :func:`split_k` says so (one strided-batched GEMM, then a fixed-order sum: the same
    bits every run); None where it does not apply."""
    if x.dtype != g.dtype or x.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    m, k = x.shape
    splits = split_k(m, k, g.shape[1])
    if splits == 1:
        return None
    cp = _cupy.load()
    x, g = cp.ascontiguousarray(x), cp.ascontiguousarray(g)
    return _cublas().gemm_tn_split(x, g, splits).sum(axis=0)


def _cublas():
    if not _lib:
        _lib.append(_Cublas())
    return _lib[0]


def find_library(stem):
    """The path of ``stem`` (``"libcublas"``, ``"libcublasLt"``) as this process loaded it.

    CuPy's first cuBLAS handle loads libcublas, and libcublas loads libcublasLt, so both
    are in the process's maps with the CUDA major CuPy was built for; a second copy of
    another major would be a different library with its own state. Falls back to the
    same directory as libcublas, then to the loader's search path.

    Example:
        >>> find_library("libcublasLt")  # doctest: +SKIP
        '/usr/local/lib/python3.12/site-packages/nvidia/cu13/lib/libcublasLt.so.13'
    """
    cp = _cupy.load()
    _ = cp.cuda.Device().cublas_handle  # makes CuPy load libcublas (and with it cublasLt)
    found = {}
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.rsplit(None, 1)[-1]
            base = os.path.basename(path)
            for s in ("libcublas", "libcublasLt"):
                if base.startswith(s + ".so"):
                    found.setdefault(s, path)
    if stem in found:
        return found[stem]
    if "libcublas" in found:
        lib_dir, base = os.path.split(found["libcublas"])
        candidate = os.path.join(lib_dir, stem + base[len("libcublas"):])
        if os.path.exists(candidate):
            return candidate
    for major in ("13", "12", ""):
        name = f"{stem}.so.{major}" if major else f"{stem}.so"
        try:
            ctypes.CDLL(name)
            return name
        except OSError:
            continue
    raise RuntimeError(f"{stem} could not be found for eagerflow's own GEMM entry points")


def device_buffer(nbytes):
    """A device allocation of its own (``cudaMalloc``), outside every memory pool: a
    library workspace created during a capture must not come from the capture's private
    pool, which goes away with the graph while the handle keeps using the buffer."""
    return _cupy.load().cuda.Memory(nbytes)


def operand(x):
    """``(x, op, ld)`` of a row-major 2-D array seen as its column-major transpose: op N on
    a C-contiguous array, op T on an F-contiguous one, a C-contiguous copy otherwise.

    Example:
        >>> operand(cupy.ones((3, 5), cupy.float32))[1:]  # doctest: +SKIP
        (0, 5)
    """
    if x.flags.c_contiguous:
        return x, _OP_N, max(x.shape[1], 1)
    if x.flags.f_contiguous:
        return x, _OP_T, max(x.shape[0], 1)
    x = _cupy.load().ascontiguousarray(x)
    return x, _OP_N, max(x.shape[1], 1)


_SCALARS = {np.dtype(np.float32): (ctypes.c_float(1.0), ctypes.c_float(0.0)),
            np.dtype(np.float64): (ctypes.c_double(1.0), ctypes.c_double(0.0)),
            bfloat16: (ctypes.c_float(1.0), ctypes.c_float(0.0))}


def gemm_types(dtype):
    """``(data type, compute type, scale type, one, zero)`` of a float32/float64/bfloat16
    GEMM: TF32 tensor cores for float32 when allowed, bfloat16 products summed in float32;
    alpha/beta as host scalars of the scale type."""
    dtype = np.dtype(dtype)
    one, zero = _SCALARS[dtype]
    if dtype == np.float32:
        return (_CUDA_R_32F, (_COMPUTE_32F_FAST_TF32 if _state.tf32 else _COMPUTE_32F),
                _CUDA_R_32F, one, zero)
    if dtype == bfloat16:
        return _CUDA_R_16BF, _COMPUTE_32F, _CUDA_R_32F, one, zero
    return _CUDA_R_64F, _COMPUTE_64F, _CUDA_R_64F, one, zero


def check(status, what):
    if status != 0:
        raise RuntimeError(f"{what} failed with cuBLAS status {status}")


class _Cublas:
    """One cuBLAS handle of eagerflow's own, with a fixed workspace (no allocation inside a
    capture), on whichever stream is current at each call."""

    def __init__(self):
        lib = ctypes.CDLL(find_library("libcublas"))
        self.lib = lib
        self.handle = ctypes.c_void_p()
        check(lib.cublasCreate_v2(ctypes.byref(self.handle)), "cublasCreate")
        self.workspace = device_buffer(_WORKSPACE_BYTES)
        fn = getattr(lib, "cublasSetWorkspace_v2", None)
        if fn is not None:
            check(fn(self.handle, ctypes.c_void_p(self.workspace.ptr),
                     ctypes.c_size_t(_WORKSPACE_BYTES)), "cublasSetWorkspace")
        self.stream = None
        vp, i, ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong
        lib.cublasGemmStridedBatchedEx.argtypes = [
            vp, i, i, i, i, i, vp, vp, i, i, ll, vp, i, i, ll, vp, vp, i, i, ll, i, i, i]
        lib.cublasGemmEx.argtypes = [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
            ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
            ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def _use_current_stream(self, cp):
        stream = cp.cuda.get_current_stream().ptr
        if stream != self.stream:
            check(self.lib.cublasSetStream_v2(self.handle, ctypes.c_void_p(stream)),
                  "cublasSetStream")
            self.stream = stream

    def gemm_tn_split(self, x, g, splits):
        """``splits`` partial products ``x[rows_i]^T @ g[rows_i]`` over equal row blocks of
        C-contiguous ``x`` ``(m, k)`` and ``g`` ``(m, n)``: a ``(splits, k, n)`` array, one
        strided-batched GEMM."""
        cp = _cupy.load()
        m, k = x.shape
        n = g.shape[1]
        rows = m // splits
        part = cp.empty((splits, k, n), dtype=x.dtype)
        self._use_current_stream(cp)
        dt, comp, _, one, zero = gemm_types(x.dtype)
        # column-major part_i^T (n, k) = g_i^T (n, rows) . x_i (rows, k)
        check(self.lib.cublasGemmStridedBatchedEx(
            self.handle, _OP_N, _OP_T, n, k, rows, ctypes.addressof(one),
            g.data.ptr, dt, n, rows * n, x.data.ptr, dt, k, rows * k,
            ctypes.addressof(zero), part.data.ptr, dt, n, k * n, splits, comp, _GEMM_DEFAULT),
            "cublasGemmStridedBatchedEx")
        return part

    def gemm(self, a, b):
        cp = _cupy.load()
        m, k = a.shape
        n = b.shape[1]
        if k != b.shape[0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
        c = cp.empty((m, n), dtype=a.dtype)
        if m == 0 or n == 0:
            return c
        if k == 0:
            c.fill(0)
            return c
        self._use_current_stream(cp)
        a, op_a, lda = operand(a)
        b, op_b, ldb = operand(b)
        dt, comp, _, one, zero = gemm_types(a.dtype)
        # row-major C = A B is column-major C^T = B^T A^T
        status = self.lib.cublasGemmEx(
            self.handle, op_b, op_a, n, m, k, ctypes.addressof(one),
            b.data.ptr, dt, ldb, a.data.ptr, dt, lda, ctypes.addressof(zero),
            c.data.ptr, dt, n, comp, _GEMM_DEFAULT)
        check(status, "cublasGemmEx")
        return c
