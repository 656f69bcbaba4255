"""GEMMs with a dense layer's elementwise work fused in, through cuBLASLt epilogues.

A ReLU layer costs a GEMM plus a pass over its ``(batch, units)`` output each way: the
bias add + ReLU after the forward GEMM, the bias gradient (a column sum of the ReLU's
gradient) beside the weight-gradient GEMM. At batch 65536 these passes took ~1.7 ms of a
CTR step on an H100, next to its 12 GEMMs. cuBLASLt applies both inside the GEMM:

- :func:`linear_relu` ``relu(x @ w + b)``: epilogue ``RELU_BIAS``;
- :func:`matmul_bgrad` ``(x^T @ gz, gz.sum(axis=0))``: epilogue ``BGRADA`` (``BGRADB``
  with the output computed transposed when the library refuses ``BGRADA`` for a problem).

cuBLASLt is called through ctypes on a handle of eagerflow's own, like the cuBLAS entry
point in :mod:`eagerflow.kernels.gemm` (whose library finding, operand layout and type
choice it shares): CuPy has no cuBLASLt binding, and its bindings refuse every call during a
CUDA-graph capture. The workspace is allocated once, the stream is passed per call and
alpha/beta live in host memory, so the calls capture. Descriptors and the algorithm (the
heuristic's first choice, see below) are cached per problem (shapes, layouts, dtype,
epilogue, TF32, pointer alignments): the heuristic costs tens of microseconds, a step's few
problems repeat.

Row-major vs cuBLASLt's column-major: a C-contiguous ``(r, c)`` array is, read
column-major, its transpose ``(c, r)``. So ``y = x @ w`` (``(m, n)``) is computed as the
column-major ``y^T = w^T x^T``, an ``(n, m)`` matrix whose *rows* are the layer's units:
exactly what the BIAS epilogues broadcast (a vector as long as D's row count) and what
``BGRADA`` reduces (A's rows summed over the GEMM's k).

Fallbacks, so callers never branch: on NumPy, or when cuBLASLt cannot be loaded, the dtype
is not float32/float64, a dimension is 0, or the heuristic has nothing for a problem, the
result comes from the unfused path (``kernels.gemm.matmul`` + ``kernels.activation``'s
``bias_relu``; ``matmul`` + ``kernels.column_sum``). :func:`last_path` says which path the
latest call of each function took. One difference: the epilogue's ReLU keeps a NaN
pre-activation NaN, where the unfused kernel (and the CPU) gives 0.

Measured on an H100 (cuBLASLt 13.1, x ``(65536, 400)``, W ``(400, 400)``, float32, CUDA
events, ``bench/relu_layer_fused.py``): the RELU_BIAS epilogue costs nothing over the plain
GEMM, so the forward saves the whole bias+ReLU pass (0.72 -> 0.58 ms; TF32 0.35 -> 0.20).
BGRADA costs what the column-sum pass did (0.72 ms either way at this batch; it saves
~0.04 ms of launches at batch 4096). The heuristic's first algorithm is not always its
fastest (TF32 forward: 0.195 ms vs 0.140 for its third): ``EAGERFLOW_CUBLASLT_AUTOTUNE=8``
times the first 8 candidates once per problem and keeps the fastest.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.gemm_lt import linear_relu, matmul_bgrad
    >>> x, w = np.array([[1.0, -2.0], [3.0, 1.0]]), np.array([[1.0], [1.0]])
    >>> linear_relu(x, w, np.array([0.5])).tolist()
    [[0.0], [4.5]]
    >>> [a.tolist() for a in matmul_bgrad(x, np.array([[1.0], [2.0]]))]
    [[[7.0], [0.0]], [3.0]]
"""
import ctypes
import logging
import os
import threading

import numpy as np

from eagerflow.backend import _cupy, cuda_graph
from eagerflow.backend.dtypes import bfloat16
from . import activation as _ka
from . import column_sum as _column_sum
from . import gemm as _gemm

__all__ = ["linear_relu", "matmul_bgrad", "last_path", "available"]

log = logging.getLogger("eagerflow")

# Enum values and attribute ids from NVIDIA's cublasLt.h (cublasLtEpilogue_t,
# cublasLtMatmulDescAttributes_t, cublasLtMatmulPreferenceAttributes_t); unchanged from
# CUDA 11.4 (which added BGRADA/BGRADB) to 13.
_EPILOGUE_RELU_BIAS = 6  # CUBLASLT_EPILOGUE_RELU | CUBLASLT_EPILOGUE_BIAS (2 | 4)
_EPILOGUE_BGRADA = 256
_EPILOGUE_BGRADB = 512
_DESC_TRANSA = 3          # int32
_DESC_TRANSB = 4          # int32
_DESC_EPILOGUE = 7        # uint32
_DESC_BIAS_POINTER = 8    # void*
_PREF_MAX_WORKSPACE_BYTES = 1            # uint64
_PREF_MIN_ALIGNMENT_A_BYTES = 5          # uint32; B, C, D follow as 6, 7, 8
_EPILOGUE_NAMES = {_EPILOGUE_RELU_BIAS: "RELU_BIAS", _EPILOGUE_BGRADA: "BGRADA",
                   _EPILOGUE_BGRADB: "BGRADB"}

_FAST = (np.dtype(np.float32), np.dtype(np.float64), bfloat16)
_WORKSPACE_BYTES = 32 << 20
_MAX_PLANS = 256  # distinct problems kept (eval batches of every size must not grow it)


class _Options:
    # EAGERFLOW_CUBLASLT_AUTOTUNE=N: ask the heuristic for N candidates per problem and keep
    # the fastest on the first (eager) call, timed on the call's own operands; 1 keeps
    # the heuristic's first choice. A problem first met inside a capture takes the first
    # (timing needs a synchronisation). Off by default: the choice follows timings, so a
    # resumed run could round differently from the uninterrupted one.
    candidates = max(1, int(os.environ.get("EAGERFLOW_CUBLASLT_AUTOTUNE", "1") or 1))
    # EAGERFLOW_SPLIT_K=1: weight gradients with a long batch and a small output (see
    # gemm.split_k) split over row blocks instead of one GEMM with the BGRAD epilogue. Off
    # until measured on a GPU (bench/mlp_gemms.py prints both).
    split_k = os.environ.get("EAGERFLOW_SPLIT_K", "0") == "1"


_options = _Options()


class _HeuristicResult(ctypes.Structure):
    """``cublasLtMatmulHeuristicResult_t``."""
    _fields_ = [("algo", ctypes.c_uint64 * 8), ("workspaceSize", ctypes.c_size_t),
                ("state", ctypes.c_int), ("wavesCount", ctypes.c_float),
                ("reserved", ctypes.c_int * 4)]


class _Plan:
    """A cached problem: its matmul descriptor, the A, B and D layouts, the heuristic's
    candidate algos (best first) and the one in use."""
    __slots__ = ("desc", "layouts", "algos", "algo", "dtype")

    def __init__(self, desc, layouts, algos, dtype):
        self.desc, self.layouts, self.algos, self.dtype = desc, layouts, algos, dtype
        self.algo = algos[0]


def _alignment(ptr):
    """The largest power of two (up to 256) dividing ``ptr``: the heuristic must only pick
    algorithms that work at the operands' actual alignment (a row slice is not 256-aligned
    as fresh allocations are)."""
    return min(256, ptr & -ptr) if ptr else 256


class _Lt:
    """One cuBLASLt handle, a fixed workspace and the plan cache."""

    def __init__(self):
        vp, i32, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        lib = ctypes.CDLL(_gemm.find_library("libcublasLt"))
        lib.cublasLtCreate.argtypes = [ctypes.POINTER(vp)]
        lib.cublasLtMatmulDescCreate.argtypes = [ctypes.POINTER(vp), i32, i32]
        lib.cublasLtMatmulDescSetAttribute.argtypes = [vp, i32, vp, sz]
        lib.cublasLtMatmulDescDestroy.argtypes = [vp]
        lib.cublasLtMatrixLayoutCreate.argtypes = [ctypes.POINTER(vp), i32, ctypes.c_uint64,
                                                   ctypes.c_uint64, ctypes.c_int64]
        lib.cublasLtMatrixLayoutDestroy.argtypes = [vp]
        lib.cublasLtMatmulPreferenceCreate.argtypes = [ctypes.POINTER(vp)]
        lib.cublasLtMatmulPreferenceSetAttribute.argtypes = [vp, i32, vp, sz]
        lib.cublasLtMatmulPreferenceDestroy.argtypes = [vp]
        lib.cublasLtMatmulAlgoGetHeuristic.argtypes = [
            vp, vp, vp, vp, vp, vp, vp, i32, ctypes.POINTER(_HeuristicResult),
            ctypes.POINTER(i32)]
        lib.cublasLtMatmul.argtypes = [vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp,
                                       sz, vp]
        self.lib = lib
        self.handle = vp()
        _gemm.check(lib.cublasLtCreate(ctypes.byref(self.handle)), "cublasLtCreate")
        self.workspace = _gemm.device_buffer(_WORKSPACE_BYTES)
        self.plans = {}
        # a plan's descriptor gets the bias pointer of each call: one call at a time
        self.lock = threading.Lock()

    @staticmethod
    def _set(fn, obj, attr, value, what):
        _gemm.check(fn(obj, attr, ctypes.addressof(value), ctypes.sizeof(value)), what)

    def plan(self, key, epilogue, dtype, a, b, d, ptrs, aligns):
        """The cached plan of a problem (None: cuBLASLt has no algorithm for it).

        ``a``, ``b``: ``(op, rows, cols, ld)`` of the stored column-major operands;
        ``d``: ``(rows, cols, ld)``; ``ptrs``: the call's A, B, D and bias pointers;
        ``aligns``: byte alignments of A, B, C and D.
        """
        try:
            return self.plans[key]
        except KeyError:
            pass
        with self.lock:
            plan = self._make_plan(epilogue, dtype, a, b, d, ptrs[3], aligns,
                                   _options.candidates)
            if len(self.plans) >= _MAX_PLANS:
                old = self.plans.pop(next(iter(self.plans)))
                if old is not None:
                    self._destroy(old.desc, old.layouts)
            self.plans[key] = plan
        if plan is not None and len(plan.algos) > 1 and not cuda_graph.capturing():
            self._tune(plan, ptrs)
        return plan

    def _tune(self, plan, ptrs, reps=3):
        """Keeps the fastest of ``plan.algos`` (median of ``reps`` runs each)."""
        cp = _cupy.load()
        start, end = cp.cuda.Event(), cp.cuda.Event()
        best = None
        for algo in plan.algos:
            plan.algo = algo
            if not self.run(plan, *ptrs):
                continue
            times = []
            for _ in range(reps):
                start.record()
                self.run(plan, *ptrs)
                end.record()
                end.synchronize()
                times.append(cp.cuda.get_elapsed_time(start, end))
            t = sorted(times)[len(times) // 2]
            if best is None or t < best[0]:
                best = (t, algo)
        plan.algo = best[1] if best is not None else plan.algos[0]

    def _make_plan(self, epilogue, dtype, a, b, d, bias_ptr, aligns, requested=1):
        lib = self.lib
        dt, comp, scale, _, _ = _gemm.gemm_types(dtype)
        desc, layouts, pref = ctypes.c_void_p(), [], ctypes.c_void_p()
        try:
            _gemm.check(lib.cublasLtMatmulDescCreate(ctypes.byref(desc), comp, scale),
                        "cublasLtMatmulDescCreate")
            setd = lib.cublasLtMatmulDescSetAttribute
            self._set(setd, desc, _DESC_TRANSA, ctypes.c_int32(a[0]), "TRANSA")
            self._set(setd, desc, _DESC_TRANSB, ctypes.c_int32(b[0]), "TRANSB")
            self._set(setd, desc, _DESC_EPILOGUE, ctypes.c_uint32(epilogue), "EPILOGUE")
            self._set(setd, desc, _DESC_BIAS_POINTER, ctypes.c_void_p(bias_ptr), "BIAS_POINTER")
            for rows, cols, ld in (a[1:], b[1:], d):
                lay = ctypes.c_void_p()
                _gemm.check(lib.cublasLtMatrixLayoutCreate(ctypes.byref(lay), dt, rows, cols, ld),
                            "cublasLtMatrixLayoutCreate")
                layouts.append(lay)
            _gemm.check(lib.cublasLtMatmulPreferenceCreate(ctypes.byref(pref)),
                        "cublasLtMatmulPreferenceCreate")
            setp = lib.cublasLtMatmulPreferenceSetAttribute
            self._set(setp, pref, _PREF_MAX_WORKSPACE_BYTES, ctypes.c_uint64(_WORKSPACE_BYTES),
                      "MAX_WORKSPACE_BYTES")
            for i, align in enumerate(aligns):
                self._set(setp, pref, _PREF_MIN_ALIGNMENT_A_BYTES + i, ctypes.c_uint32(align),
                          "MIN_ALIGNMENT")
            results, count = (_HeuristicResult * requested)(), ctypes.c_int(0)
            la, lb, ldd = layouts
            status = lib.cublasLtMatmulAlgoGetHeuristic(
                self.handle, desc, la, lb, ldd, ldd, pref, requested, results,
                ctypes.byref(count))
        except RuntimeError as e:  # an attribute this library refuses: no fused path
            log.debug("cuBLASLt plan for epilogue %s failed: %s", epilogue, e)
            status = -1
        if pref:
            lib.cublasLtMatmulPreferenceDestroy(pref)
        algos = [] if status != 0 else [r for r in results[:count.value] if r.state == 0]
        if not algos:
            self._destroy(desc, layouts)
            return None
        return _Plan(desc, layouts, algos, np.dtype(dtype))

    def _destroy(self, desc, layouts):
        for lay in layouts:
            self.lib.cublasLtMatrixLayoutDestroy(lay)
        if desc:
            self.lib.cublasLtMatmulDescDestroy(desc)

    def run(self, plan, a_ptr, b_ptr, d_ptr, bias_ptr):
        """Launches ``plan`` on the current stream; False when cuBLASLt refused it."""
        _, _, _, one, zero = _gemm.gemm_types(plan.dtype)
        la, lb, ldd = plan.layouts
        stream = _cupy.load().cuda.get_current_stream().ptr
        with self.lock:
            self._set(self.lib.cublasLtMatmulDescSetAttribute, plan.desc, _DESC_BIAS_POINTER,
                      ctypes.c_void_p(bias_ptr), "BIAS_POINTER")
            status = self.lib.cublasLtMatmul(
                self.handle, plan.desc, ctypes.addressof(one), a_ptr, la, b_ptr, lb,
                ctypes.addressof(zero), d_ptr, ldd, d_ptr, ldd, ctypes.addressof(plan.algo),
                self.workspace.ptr, _WORKSPACE_BYTES, stream)
        if status != 0:
            log.warning("cublasLtMatmul failed with status %d; using the unfused path", status)
        return status == 0


_lib = []       # the _Lt, or None once loading failed
_last = {}


def _lt():
    if not _lib:
        try:
            _lib.append(_Lt())
        except (OSError, RuntimeError, AttributeError) as e:
            log.warning("cuBLASLt is not usable (%s); dense layers use separate bias/ReLU "
                        "and bias-gradient passes", e)
            _lib.append(None)
    return _lib[0]


def available():
    """True when the fused cuBLASLt GEMMs can run (the CuPy backend, cuBLASLt loaded)."""
    return _cupy.loaded() is not None and _lt() is not None


def last_path():
    """Which path the latest call of each function took: ``{"linear_relu":
    "cublaslt:RELU_BIAS" | "fallback" | "numpy", "matmul_bgrad": "cublaslt:BGRADA" | ...}``.

    Example:
        >>> import numpy as np
        >>> _ = linear_relu(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
        >>> last_path()["linear_relu"]
        'numpy'
    """
    return dict(_last)


def _operand(x, transpose):
    """``(array, op, rows, cols, ld)``: the row-major 2-D ``x`` as the column-major GEMM
    operand ``x^T`` (``transpose``) or ``x``: the stored matrix and the op applied to it."""
    x, op, ld = _gemm.operand(x)
    r, c = x.shape
    rows, cols = (c, r) if op == _gemm._OP_N else (r, c)
    return x, (op if transpose else 1 - op), rows, cols, ld


def _vector(b):
    """``b`` as a packed vector (what the bias pointer of the epilogues must point at)."""
    return b if b.flags.c_contiguous else _cupy.load().ascontiguousarray(b)


def _check_2d(name, **arrays):
    for arg, a in arrays.items():
        if a.ndim != 2:
            raise ValueError(f"{name}: {arg} must be 2-D, got shape {tuple(a.shape)}")


def linear_relu(x, w, b):
    """``relu(x @ w + b)`` of 2-D ``x`` ``(m, k)``, ``w`` ``(k, n)`` and ``b`` ``(n,)``, on
    the arrays' device, in one cuBLASLt call where it can (see the module docstring; a NaN
    pre-activation stays NaN there, 0 on the unfused path).

    Raises:
        ValueError: ``x`` or ``w`` not 2-D, inner dimensions that differ, or ``b`` not of
            shape ``(n,)``.

    Example:
        >>> import numpy as np
        >>> linear_relu(np.array([[1.0, 2.0]]), np.eye(2), np.array([-1.5, 0.0])).tolist()
        [[0.0, 2.0]]
    """
    _check_2d("linear_relu", x=x, w=w)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"linear_relu: x of shape {tuple(x.shape)} and w of shape "
                         f"{tuple(w.shape)} do not have the same inner dimension")
    if b.shape != (w.shape[1],):
        raise ValueError(f"linear_relu: b of shape {tuple(b.shape)} does not match the "
                         f"{w.shape[1]} columns of w")
    if isinstance(x, np.ndarray):
        _last["linear_relu"] = "numpy"
        return _ka.bias_relu(_gemm.matmul(np, x, w), b)
    y = _linear_relu_lt(x, w, b)
    if y is not None:
        _last["linear_relu"] = "cublaslt:RELU_BIAS"
        return y
    _last["linear_relu"] = "fallback"
    return _ka.bias_relu(_gemm.matmul(_cupy.load(), x, w), b)


def _fusable(*arrays):
    dt = arrays[0].dtype
    return (dt in _FAST and all(a.dtype == dt for a in arrays)
            and all(d > 0 for a in arrays for d in a.shape))


def _linear_relu_lt(x, w, b):
    if not _fusable(x, w, b):
        return None
    lt = _lt()
    if lt is None:
        return None
    cp = _cupy.load()
    m, n = x.shape[0], w.shape[1]
    # column-major y^T (n, m) = w^T (n, k) . x^T (k, m); the bias runs along y^T's rows
    w, op_a, ra, ca, lda = _operand(w, True)
    x, op_b, rb, cb, ldb = _operand(x, True)
    b = _vector(b)
    y = cp.empty((m, n), dtype=x.dtype)
    aligns = (_alignment(w.data.ptr), _alignment(x.data.ptr), _alignment(y.data.ptr),
              _alignment(y.data.ptr))
    key = ("linear_relu", x.dtype.char, _gemm._state.tf32, op_a, ra, ca, lda, op_b, rb, cb,
           ldb, aligns, _alignment(b.data.ptr))
    ptrs = (w.data.ptr, x.data.ptr, y.data.ptr, b.data.ptr)
    plan = lt.plan(key, _EPILOGUE_RELU_BIAS, x.dtype, (op_a, ra, ca, lda),
                   (op_b, rb, cb, ldb), (n, m, n), ptrs, aligns)
    if plan is None or not lt.run(plan, *ptrs):
        return None
    return y


def matmul_bgrad(x, gz):
    """``(x^T @ gz, gz.sum(axis=0))`` of 2-D ``x`` ``(m, k)`` and ``gz`` ``(m, n)``: a dense
    layer's weight and bias gradients from its input and the gradient at its
    pre-activation, on the arrays' device, in one cuBLASLt call where it can.

    Raises:
        ValueError: ``x`` or ``gz`` not 2-D, or different row counts.

    Example:
        >>> import numpy as np
        >>> dw, db = matmul_bgrad(np.ones((3, 2)), np.arange(3.0).reshape(3, 1))
        >>> dw.tolist(), db.tolist()
        ([[3.0], [3.0]], [3.0])
    """
    _check_2d("matmul_bgrad", x=x, gz=gz)
    if x.shape[0] != gz.shape[0]:
        raise ValueError(f"matmul_bgrad: x of shape {tuple(x.shape)} and gz of shape "
                         f"{tuple(gz.shape)} do not have the same number of rows")
    if isinstance(x, np.ndarray):
        _last["matmul_bgrad"] = "numpy"
        return np.matmul(x.T, gz), _column_sum.column_sum(gz)
    dw = _gemm.matmul_tn(x, gz) if _options.split_k else None
    if dw is not None:
        _last["matmul_bgrad"] = "split-k"
        return dw, _column_sum.column_sum(gz)
    out = _matmul_bgrad_lt(x, gz)
    if out is not None:
        return out
    _last["matmul_bgrad"] = "fallback"
    return _gemm.matmul(_cupy.load(), x.T, gz), _column_sum.column_sum(gz)


def _matmul_bgrad_lt(x, gz):
    if not _fusable(x, gz):
        return None
    lt = _lt()
    if lt is None:
        return None
    cp = _cupy.load()
    k, n = x.shape[1], gz.shape[1]
    db = cp.empty((n,), dtype=x.dtype)
    # BGRADA: column-major dw^T (n, k) = gz^T (n, m) . x (m, k); the bias gradient sums A's
    # rows (the units) over the GEMM's k (the batch) and dw comes out C-contiguous.
    g_t, op_g, rg, cg, ldg = _operand(gz, True)
    x_n, op_x, rx, cx, ldx = _operand(x, False)
    dw = cp.empty((k, n), dtype=x.dtype)
    if _bgrad_run(lt, _EPILOGUE_BGRADA, (g_t, op_g, rg, cg, ldg), (x_n, op_x, rx, cx, ldx),
                  dw, (n, k, n), db):
        return dw, db
    # BGRADB: column-major dw (k, n) = x^T (k, m) . gz (m, n), the bias gradient from B's
    # columns; dw comes out F-contiguous and is copied (k x n: small next to the GEMM).
    x_t, op_x, rx, cx, ldx = _operand(x, True)
    g_n, op_g, rg, cg, ldg = _operand(gz, False)
    dw_t = cp.empty((n, k), dtype=x.dtype)
    if _bgrad_run(lt, _EPILOGUE_BGRADB, (x_t, op_x, rx, cx, ldx), (g_n, op_g, rg, cg, ldg),
                  dw_t, (k, n, k), db):
        return cp.ascontiguousarray(dw_t.T), db
    return None


def _bgrad_run(lt, epilogue, a, b, d, d_shape, db):
    a_arr, op_a, ra, ca, lda = a
    b_arr, op_b, rb, cb, ldb = b
    aligns = (_alignment(a_arr.data.ptr), _alignment(b_arr.data.ptr), _alignment(d.data.ptr),
              _alignment(d.data.ptr))
    key = ("bgrad", epilogue, d.dtype.char, _gemm._state.tf32, op_a, ra, ca, lda, op_b, rb, cb,
           ldb, aligns, _alignment(db.data.ptr))
    ptrs = (a_arr.data.ptr, b_arr.data.ptr, d.data.ptr, db.data.ptr)
    plan = lt.plan(key, epilogue, d.dtype, (op_a, ra, ca, lda), (op_b, rb, cb, ldb), d_shape,
                   ptrs, aligns)
    if plan is None or not lt.run(plan, *ptrs):
        return False
    _last["matmul_bgrad"] = "cublaslt:" + _EPILOGUE_NAMES[epilogue]
    return True
