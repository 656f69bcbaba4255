"""Fused embedding bag: ids -> gathered rows -> weighted segment reduction, in one pass.

The forward of ``embedding_lookup_sparse``: bag ``b`` holds the entries ``offsets[b] <= k <
offsets[b + 1]`` and gives ``out[b] = sum_k w_k * params[ids[k]] / norm_b`` with
``norm_b = 1`` (``'sum'``), ``sum_k w_k`` (``'mean'``) or ``sqrt(sum_k w_k^2)``
(``'sqrtn'``); an empty bag (or a zero norm) gives a zero row. ``w_k = 1`` without weights.

The backward (:func:`embedding_bag_grad`) gives the values of the ``IndexedSlices``
gradient of ``params``: ``values[k] = w_k * g[bag(k)] / norm_bag(k)``, one row per id, so the
dense table is never built.

- CPU twin: numba, one pass per bag; large inputs run the bags in parallel (prange over
  output rows in dynamically scheduled chunks: each thread writes only its own rows, so the
  result does not depend on the thread count). Ids out of range raise IndexError naming the id and the table size before
  anything is computed.
- GPU twin: RawKernels with one thread per (bag, column): the bag's rows are read and
  written column-coalesced, no atomics. Bad ids are skipped (they add nothing) and recorded
  in the device error flag (:mod:`eagerflow.kernels.device_errors`); nothing synchronises.
"""
import math

import numpy as np
from numba import njit, prange

from eagerflow import backend
from eagerflow.backend import _cupy
from eagerflow.errors import InvalidArgumentIndexError

from . import _cuda, device_errors
from ._numba import launch

__all__ = ["COMBINERS", "bag_offsets", "embedding_bag", "embedding_bag_grad",
           "embedding_bag_cpu", "embedding_bag_gpu", "embedding_bag_grad_cpu",
           "embedding_bag_grad_gpu"]

COMBINERS = ("sum", "mean", "sqrtn")
_COMBINER_CODE = {"sum": 0, "mean": 1, "sqrtn": 2}
# Below this many gathered elements the serial twin runs (the launch costs more). Note that
# a parallel region ends in a barrier: when other processes hold the cores, that barrier
# waits out scheduler ticks (measured on a 2-core machine shared with other jobs: 7 ms
# instead of 0.3 ms for 43k ids x 16), so oversubscribed hosts should set
# NUMBA_NUM_THREADS to the cores they really have.
_PARALLEL_MIN = 1 << 18
# Bags per chunk of the parallel loops: chunks are handed out dynamically, so a thread
# that lost its core holds up at most one chunk.
_CHUNK = 256


# --- CPU twin ---------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _first_bad(ids, num_rows):
    for k in range(ids.shape[0]):
        if ids[k] < 0 or ids[k] >= num_rows:
            return k
    return -1


@njit(cache=True, nogil=True)
def _offsets_cpu(segs, num_bags, offsets):
    # Returns (error code, position): 0 ok, 3 not sorted, 2 out of range, 4 negative.
    n = segs.shape[0]
    prev = 0
    for k in range(n):
        s = segs[k]
        if s < 0:
            return 4, k
        if s >= num_bags:
            return 2, k
        if s < prev:
            return 3, k
        while prev < s:
            prev += 1
            offsets[prev] = k
    while prev < num_bags:
        prev += 1
        offsets[prev] = n
    return 0, -1


@njit(cache=True, nogil=True, inline="always")
def _bag_norm(weights, has_w, s, e, combiner):
    if combiner == 0:
        return 1.0
    acc = 0.0
    for k in range(s, e):
        w = weights[k] if has_w else 1.0
        acc += w if combiner == 1 else w * w
    if combiner == 2:
        acc = math.sqrt(acc)
    return acc


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _one_bag(params, ids, weights, has_w, s, e, combiner, out, b):
    d = params.shape[1]
    for j in range(d):
        out[b, j] = 0
    for k in range(s, e):
        r = ids[k]
        if has_w:
            w = weights[k]
            for j in range(d):
                out[b, j] += w * params[r, j]
        else:
            for j in range(d):
                out[b, j] += params[r, j]
    norm = _bag_norm(weights, has_w, s, e, combiner)
    if combiner != 0:
        inv = 1.0 / norm if norm != 0 else 0.0
        for j in range(d):
            out[b, j] *= inv


@njit(cache=True, nogil=True, boundscheck=False)
def _fwd_serial(params, ids, offsets, weights, has_w, combiner, out):
    for b in range(out.shape[0]):
        _one_bag(params, ids, weights, has_w, offsets[b], offsets[b + 1], combiner, out, b)


@njit(cache=True, parallel=True, boundscheck=False)
def _fwd_parallel(params, ids, offsets, weights, has_w, combiner, out):
    for b in prange(out.shape[0]):
        _one_bag(params, ids, weights, has_w, offsets[b], offsets[b + 1], combiner, out, b)


# The gradient loops are written out in both twins rather than sharing an
# ``inline="always"`` helper as the forward does: with the helper numba compiled the serial
# loop about 9x slower (190 us instead of 22 us for 4096 bags x 16 on the development
# machine; 26 such calls were +8.7 ms per step of the Estimator's DeepFM, bench/NOTES.md),
# while the forward, bound by its random row reads, showed no such difference.
@njit(cache=True, nogil=True, boundscheck=False)
def _grad_serial(g, offsets, weights, has_w, combiner, values):
    d = g.shape[1]
    for b in range(g.shape[0]):
        s, e = offsets[b], offsets[b + 1]
        norm = _bag_norm(weights, has_w, s, e, combiner)
        inv = 1.0 / norm if norm != 0 else 0.0
        for k in range(s, e):
            scale = inv * weights[k] if has_w else inv
            for j in range(d):
                values[k, j] = scale * g[b, j]


@njit(cache=True, parallel=True, boundscheck=False)
def _grad_parallel(g, offsets, weights, has_w, combiner, values):
    d = g.shape[1]
    for b in prange(g.shape[0]):
        s, e = offsets[b], offsets[b + 1]
        norm = _bag_norm(weights, has_w, s, e, combiner)
        inv = 1.0 / norm if norm != 0 else 0.0
        for k in range(s, e):
            scale = inv * weights[k] if has_w else inv
            for j in range(d):
                values[k, j] = scale * g[b, j]


def _run(serial, parallel, work, *args):
    launch(serial, parallel, work, *args, min_work=_PARALLEL_MIN, chunk=_CHUNK)


def _check_common(ids, offsets, weights, combiner, dtype, xp):
    if combiner not in _COMBINER_CODE:
        raise ValueError(f"embedding_bag: combiner must be one of {COMBINERS}, got {combiner!r}")
    if ids.ndim != 1 or offsets.ndim != 1 or offsets.shape[0] < 1:
        raise ValueError(f"embedding_bag: ids must be 1-D and offsets 1-D with num_bags + 1 "
                         f"entries, got shapes {tuple(ids.shape)} and {tuple(offsets.shape)}")
    if ids.dtype.kind not in "iu" or offsets.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: ids and offsets must be integers, got {ids.dtype} "
                        f"and {offsets.dtype}")
    if ids is not _NO_IDS:
        ids = xp.ascontiguousarray(ids if ids.dtype in (np.int32, np.int64)
                                   else ids.astype(np.int64))
    offsets = xp.ascontiguousarray(offsets.astype(np.int64, copy=False))
    if weights is None:
        w = _no_weights(xp, dtype)
    else:
        if tuple(weights.shape) != tuple(ids.shape):
            raise ValueError(f"embedding_bag: weights has shape {tuple(weights.shape)}, "
                             f"expected the shape of ids {tuple(ids.shape)}")
        w = xp.ascontiguousarray(weights.astype(dtype, copy=False))
    return ids, offsets, w


_dummies = {}
_NO_IDS = np.empty(0, dtype=np.int64)  # only its shape and dtype are checked


def _no_weights(xp, dtype):
    """A one-element placeholder for the weights argument (never read); cached so the GPU
    path does not launch a fill for it on every call."""
    if xp is np:
        return np.zeros(1, dtype=dtype)
    return _cuda.cached_array(_dummies, (xp.cuda.Device().id, np.dtype(dtype)),
                              lambda: xp.zeros(1, dtype=dtype))


def _compute_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"embedding_bag: params must be floating point, got {dtype}")
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _raise_out_of_range(ids, pos, num_rows):
    raise InvalidArgumentIndexError(f"embedding_lookup: ids[{pos}] = {int(ids[pos])} is out of range for "
                     f"a table of {num_rows} rows (valid: 0 <= id < {num_rows})")


def bag_offsets_cpu(segment_ids, num_bags):
    """CPU twin of :func:`bag_offsets`."""
    # a strided column of SparseTensor indices is read in place (numba takes any layout)
    segs = segment_ids if segment_ids.ndim == 1 else segment_ids.reshape(-1)
    if segs.dtype not in (np.int32, np.int64):
        segs = segs.astype(np.int64)
    offsets = np.zeros(int(num_bags) + 1, dtype=np.int64)
    code, pos = _offsets_cpu(segs, int(num_bags), offsets)
    if code == 3:
        raise ValueError(f"embedding_bag: segment ids are not sorted: segment_ids[{pos}] = "
                         f"{int(segs[pos])} < segment_ids[{pos - 1}] = {int(segs[pos - 1])}; "
                         "reorder the SparseTensor with sparse_reorder")
    if code:
        raise InvalidArgumentIndexError(f"embedding_bag: segment_ids[{pos}] = {int(segs[pos])} is out of "
                         f"range for {num_bags} bags (valid: 0 <= id < {num_bags})")
    return offsets


def embedding_bag_cpu(params, ids, offsets, weights=None, combiner="mean"):
    """CPU twin of :func:`embedding_bag` for NumPy arrays."""
    cdtype = _compute_dtype(params.dtype)
    ids, offsets, w = _check_common(ids, offsets, weights, combiner, cdtype, np)
    num_rows = params.shape[0]
    trailing = tuple(params.shape[1:])
    d = math.prod(trailing)
    num_bags = offsets.shape[0] - 1
    if ids.shape[0]:
        pos = _first_bad(ids, num_rows)
        if pos >= 0:
            _raise_out_of_range(ids, pos, num_rows)
    table = np.ascontiguousarray(params.reshape(num_rows, d).astype(cdtype, copy=False))
    out = np.empty((num_bags, d), dtype=cdtype)
    _run(_fwd_serial, _fwd_parallel, ids.shape[0] * d, table, ids, offsets, w,
         weights is not None, _COMBINER_CODE[combiner], out)
    return out.reshape((num_bags,) + trailing).astype(params.dtype, copy=False)


def embedding_bag_grad_cpu(grad, offsets, weights=None, combiner="mean"):
    """CPU twin of :func:`embedding_bag_grad` for NumPy arrays."""
    cdtype = _compute_dtype(grad.dtype)
    num_bags = grad.shape[0]
    if offsets.shape[0] != num_bags + 1:
        raise ValueError(f"embedding_bag_grad: offsets has {offsets.shape[0]} entries, "
                         f"expected num_bags + 1 = {num_bags + 1}")
    nnz = int(offsets[-1])
    _, offsets, w = _check_common(_NO_IDS, offsets, None, combiner, cdtype, np)
    if weights is not None:
        if tuple(weights.shape) != (nnz,):
            raise ValueError(f"embedding_bag_grad: weights has shape {tuple(weights.shape)}, "
                             f"expected ({nnz},)")
        w = np.ascontiguousarray(weights.astype(cdtype, copy=False))
    trailing = tuple(grad.shape[1:])
    d = math.prod(trailing)
    g = np.ascontiguousarray(grad.reshape(num_bags, d).astype(cdtype, copy=False))
    values = np.empty((nnz, d), dtype=cdtype)
    _run(_grad_serial, _grad_parallel, nnz * d, g, offsets, w, weights is not None,
         _COMBINER_CODE[combiner], values)
    return values.reshape((nnz,) + trailing).astype(grad.dtype, copy=False)


# --- GPU twin ---------------------------------------------------------------------------
_GPU_COMMON = device_errors.REPORT_SRC + r"""
__device__ __forceinline__ $T ef_bag_inv_norm(const $T* w, int has_w, long long s,
                                             long long e, int combiner) {
    if (combiner == 0) return ($T)1;
    $T acc = 0;
    for (long long k = s; k < e; ++k) {
        $T wk = has_w ? w[k] : ($T)1;
        acc += combiner == 1 ? wk : wk * wk;
    }
    if (combiner == 2) acc = sqrt(acc);
    return acc != ($T)0 ? ($T)1 / acc : ($T)0;
}
"""

_GPU_FWD = _GPU_COMMON + r"""
extern "C" __global__ void $NAME(const $T* __restrict__ params, const $I* __restrict__ ids,
                                 const long long* __restrict__ offsets,
                                 const $T* __restrict__ w, $T* __restrict__ out,
                                 long long num_bags, long long d, long long num_rows,
                                 int has_w, int combiner, unsigned long long* err) {
    const long long total = num_bags * d;
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < total;
         t += stride) {
        const long long b = t / d;
        const long long j = t - b * d;
        const long long s = offsets[b], e = offsets[b + 1];
        $T acc = 0;
        for (long long k = s; k < e; ++k) {
            const long long r = (long long)ids[k];
            if (r < 0 || r >= num_rows) {
                if (j == 0) ef_report(err, 1ULL /* SCATTER_OUT_OF_RANGE */, r, num_rows, k);
                continue;
            }
            const $T v = params[r * d + j];
            acc += has_w ? w[k] * v : v;
        }
        out[t] = acc * ef_bag_inv_norm(w, has_w, s, e, combiner);
    }
}
"""

_GPU_GRAD = _GPU_COMMON + r"""
extern "C" __global__ void $NAME(const $T* __restrict__ g,
                                 const long long* __restrict__ offsets,
                                 const $T* __restrict__ w, $T* __restrict__ values,
                                 long long num_bags, long long d, int has_w, int combiner) {
    const long long total = num_bags * d;
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < total;
         t += stride) {
        const long long b = t / d;
        const long long j = t - b * d;
        const long long s = offsets[b], e = offsets[b + 1];
        const $T gi = g[t] * ef_bag_inv_norm(w, has_w, s, e, combiner);
        for (long long k = s; k < e; ++k) values[k * d + j] = has_w ? w[k] * gi : gi;
    }
}
"""

_GPU_OFFSETS = device_errors.REPORT_SRC + r"""
extern "C" __global__ void $NAME(const $I* __restrict__ segs, long long* __restrict__ offsets,
                                 long long n, long long num_bags,
                                 unsigned long long* err) {
    // Thread k writes offsets[b] = k for every bag b in (segs[k-1], segs[k]]; the last
    // thread also closes the bags after the last segment.
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k <= n;
         k += stride) {
        long long prev = k == 0 ? -1 : (long long)segs[k - 1];
        long long cur = k == n ? num_bags : (long long)segs[k];
        if (k < n) {
            if (cur < 0 || cur >= num_bags) {
                ef_report(err, cur < 0 ? 4ULL : 2ULL, cur, num_bags, k);
                continue;
            }
            if (cur < prev) { ef_report(err, 3ULL, cur, prev, k); continue; }
        }
        if (prev < -1) prev = -1;
        if (prev >= num_bags) prev = num_bags - 1;
        for (long long b = prev + 1; b <= cur; ++b) offsets[b] = k;
    }
}
"""


_gpu_kernels = {}


def _kernel(kind, dtype, idx_dtype):
    """The RawKernel for (kind, value dtype, index dtype), memoized here so the per-call
    cost is one dict lookup (formatting names and substituting templates is not free)."""
    key = (kind, dtype, idx_dtype)
    kern = _gpu_kernels.get(key)
    if kern is None:
        subs = {}
        if dtype is not None:
            subs["T"] = _cuda.ctype(dtype)
        if idx_dtype is not None:
            subs["I"] = _cuda.ctype(idx_dtype, _cuda.INDEX_CTYPES, "index dtype")
        tags = "_".join(np.dtype(d).name for d in (dtype, idx_dtype) if d is not None)
        src = {"offsets": _GPU_OFFSETS, "fwd": _GPU_FWD, "grad": _GPU_GRAD}[kind]
        kern = _cuda.get_kernel(src, NAME=f"ef_embedding_bag_{kind}_{tags}", **subs)
        _gpu_kernels[key] = kern
    return kern


def bag_offsets_gpu(segment_ids, num_bags):
    """GPU twin of :func:`bag_offsets`; bad segment ids go to the device error flag."""
    cp = _cupy.load()
    segs = cp.ascontiguousarray(segment_ids.reshape(-1))
    if segs.dtype not in (np.int32, np.int64):
        segs = segs.astype(np.int64)
    n = segs.shape[0]
    # zeroed: with bad segment ids some entries stay unwritten, and every entry must stay
    # in [0, n] so that the bag kernels never read outside ids
    offsets = cp.zeros(int(num_bags) + 1, dtype=np.int64)
    kern = _kernel("offsets", None, segs.dtype)
    _cuda.launch(kern, n + 1, (segs, offsets, np.int64(n), np.int64(num_bags),
                               device_errors.error_flag()))
    return offsets


def embedding_bag_gpu(params, ids, offsets, weights=None, combiner="mean"):
    """GPU twin of :func:`embedding_bag` for CuPy arrays (float32/64; float16 in float32)."""
    cp = _cupy.load()
    cdtype = _compute_dtype(params.dtype)
    ids, offsets, w = _check_common(ids, offsets, weights, combiner, cdtype, cp)
    num_rows = params.shape[0]
    trailing = tuple(params.shape[1:])
    d = math.prod(trailing)
    num_bags = offsets.shape[0] - 1
    table = cp.ascontiguousarray(params.reshape(num_rows, d).astype(cdtype, copy=False))
    out = cp.empty((num_bags, d), dtype=cdtype)
    kern = _kernel("fwd", cdtype, ids.dtype)
    _cuda.launch(kern, num_bags * d, (table, ids, offsets, w, out, np.int64(num_bags),
                                      np.int64(d), np.int64(num_rows),
                                      np.int32(weights is not None),
                                      np.int32(_COMBINER_CODE[combiner]),
                                      device_errors.error_flag()))
    return out.reshape((num_bags,) + trailing).astype(params.dtype, copy=False)


def embedding_bag_grad_gpu(grad, offsets, weights=None, combiner="mean", nnz=None):
    """GPU twin of :func:`embedding_bag_grad` for CuPy arrays.

    ``nnz`` (the number of ids) avoids reading ``offsets[-1]`` back from the device.
    """
    cp = _cupy.load()
    cdtype = _compute_dtype(grad.dtype)
    num_bags = grad.shape[0]
    if nnz is None:
        nnz = int(offsets[-1])  # a host read: pass nnz when it is known
    _, offsets, w = _check_common(_NO_IDS, offsets, None, combiner, cdtype, cp)
    if weights is not None:
        if tuple(weights.shape) != (nnz,):
            raise ValueError(f"embedding_bag_grad: weights has shape {tuple(weights.shape)}, "
                             f"expected ({nnz},)")
        w = cp.ascontiguousarray(weights.astype(cdtype, copy=False))
    trailing = tuple(grad.shape[1:])
    d = math.prod(trailing)
    g = cp.ascontiguousarray(grad.reshape(num_bags, d).astype(cdtype, copy=False))
    values = cp.empty((nnz, d), dtype=cdtype)
    kern = _kernel("grad", cdtype, None)
    _cuda.launch(kern, num_bags * d, (g, offsets, w, values, np.int64(num_bags), np.int64(d),
                                      np.int32(weights is not None),
                                      np.int32(_COMBINER_CODE[combiner])))
    return values.reshape((nnz,) + trailing).astype(grad.dtype, copy=False)


# --- dispatchers ------------------------------------------------------------------------
def _module(op, *arrays):
    mods = {backend.array_module(a) for a in arrays if a is not None}
    if len(mods) > 1:
        raise TypeError(f"{op}: all arrays must be on one device")
    return mods.pop()


def bag_offsets(segment_ids, num_bags):
    """Bag boundaries from sorted segment ids: bag ``b`` is ``offsets[b]:offsets[b + 1]``.

    Args:
        segment_ids: int array of shape ``(nnz,)``, sorted ascending, each in
            ``[0, num_bags)`` (the first column of a canonically ordered SparseTensor).
        num_bags: the number of bags (output rows).

    Returns:
        int64 array of shape ``(num_bags + 1,)``.

    Raises:
        ValueError: ids not sorted. IndexError: an id out of range. (GPU: both through
        :func:`eagerflow.kernels.check_errors`.)

    Example:
        >>> import numpy as np
        >>> bag_offsets(np.array([0, 0, 2]), 4).tolist()
        [0, 2, 2, 3, 3]
    """
    if _module("bag_offsets", segment_ids) is np:
        return bag_offsets_cpu(segment_ids, num_bags)
    return bag_offsets_gpu(segment_ids, num_bags)


def embedding_bag(params, ids, offsets, weights=None, combiner="mean"):
    """Looks up ``ids`` in ``params`` and reduces each bag with ``combiner``, fused.

    Args:
        params: table of shape ``(num_rows, *trailing)``, floating point.
        ids: int32/int64 array of shape ``(nnz,)``, each in ``[0, num_rows)``.
        offsets: int64 array of shape ``(num_bags + 1,)`` from :func:`bag_offsets`.
        weights: optional array of shape ``(nnz,)`` (cast to the params dtype).
        combiner: ``'sum'``, ``'mean'`` or ``'sqrtn'``.

    Returns:
        Array of shape ``(num_bags, *trailing)``; empty bags are zero.

    Raises:
        IndexError: an id out of range (names the id and the table size; GPU: skipped and
            raised by :func:`eagerflow.kernels.check_errors`).

    Example:
        >>> import numpy as np
        >>> table = np.arange(6, dtype=np.float32).reshape(3, 2)
        >>> embedding_bag(table, np.array([0, 2]), np.array([0, 2]), combiner="mean")
        array([[2., 3.]], dtype=float32)
    """
    if _module("embedding_bag", params, ids, offsets, weights) is np:
        return embedding_bag_cpu(params, ids, offsets, weights, combiner)
    return embedding_bag_gpu(params, ids, offsets, weights, combiner)


def embedding_bag_grad(grad, offsets, weights=None, combiner="mean", nnz=None):
    """The per-id rows of the gradient of :func:`embedding_bag` w.r.t. ``params``.

    Args:
        grad: gradient of the output, shape ``(num_bags, *trailing)``.
        offsets: int64 array of shape ``(num_bags + 1,)``.
        weights: optional array of shape ``(nnz,)``.
        combiner: ``'sum'``, ``'mean'`` or ``'sqrtn'``.
        nnz: the number of ids (saves a device read on the GPU).

    Returns:
        Array ``values`` of shape ``(nnz, *trailing)`` with ``values[k] = w_k *
        grad[bag(k)] / norm_bag(k)``: with ``indices = ids`` this is the IndexedSlices
        gradient.

    Example:
        >>> import numpy as np
        >>> embedding_bag_grad(np.ones((1, 2)), np.array([0, 2]), combiner="mean")
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    if _module("embedding_bag_grad", grad, offsets, weights) is np:
        return embedding_bag_grad_cpu(grad, offsets, weights, combiner)
    return embedding_bag_grad_gpu(grad, offsets, weights, combiner, nnz)
