"""Segment reductions along axis 0 with TensorFlow's semantics.

``segment_reduce`` is ``tf.math.segment_sum/mean/max/min`` (and ``sqrt_n``): sorted ids,
negative ids are an error, an empty segment gives 0 for every reduction.
``unsorted_segment_reduce`` is ``tf.math.unsorted_segment_sum/mean/sqrt_n/max/min``: any
order, negative ids are dropped, an empty segment gives 0 for sum/mean/sqrt_n and the
dtype's lowest (max) or highest (min) finite value, ``numeric_limits<T>::lowest()/max()``.
Mean and sqrt_n divide by ``max(count, 1)`` and ``sqrt(max(count, 1))``. ``segment_ids``
may have any shape that is a prefix of ``data.shape`` (TF's rule); ids >= num_segments are
an error in both.

- CPU twin: one numba pass (sum/max/min and counts), then NumPy divides or fills empties.
- GPU twin: one RawKernel with atomics (CAS loops for float max/min), then CuPy finalises.
  Bad ids are skipped and recorded in the device error flag (nothing synchronises).
  float16 data are reduced in float32 and cast back, on both twins.
"""
import math

import numpy as np
from numba import njit

from eagerflow import backend
from eagerflow.backend import _cupy

from . import _cuda, device_errors

__all__ = ["segment_reduce", "unsorted_segment_reduce", "segment_reduce_cpu",
           "segment_reduce_gpu", "REDUCTIONS"]

REDUCTIONS = ("sum", "mean", "sqrt_n", "max", "min")
_OPS = {"sum": 0, "mean": 0, "sqrt_n": 0, "max": 1, "min": 2}


@njit(cache=True, nogil=True, boundscheck=False)
def _segment_pass(data, ids, out, counts, op, sorted_ids):
    # Returns (error code, position); on error the caller discards out.
    n, d = data.shape
    nseg = out.shape[0]
    for i in range(n):
        s = ids[i]
        if s < 0:
            if sorted_ids:
                return 4, i
            continue
        if s >= nseg:
            return 2, i
        if sorted_ids and i > 0 and s < ids[i - 1]:
            return 3, i
        counts[s] += 1
        if op == 0:
            for j in range(d):
                out[s, j] += data[i, j]
        elif op == 1:
            for j in range(d):
                if data[i, j] > out[s, j]:
                    out[s, j] = data[i, j]
        else:
            for j in range(d):
                if data[i, j] < out[s, j]:
                    out[s, j] = data[i, j]
    return 0, -1


def _prepare(data, segment_ids, num_segments, reduction, sorted_ids, xp):
    if reduction not in REDUCTIONS:
        raise ValueError(f"segment_reduce: reduction must be one of {REDUCTIONS}, "
                         f"got {reduction!r}")
    if segment_ids.dtype.kind not in "iu":
        raise TypeError(f"segment_reduce: segment_ids must be integers, got {segment_ids.dtype}")
    if segment_ids.ndim < 1 or tuple(data.shape[:segment_ids.ndim]) != tuple(segment_ids.shape):
        raise ValueError(f"segment_reduce: segment_ids shape {tuple(segment_ids.shape)} must be "
                         f"a prefix of data shape {tuple(data.shape)}")
    if reduction in ("mean", "sqrt_n") and data.dtype.kind not in "fc":
        raise TypeError(f"segment_reduce: {reduction} needs floating data, got {data.dtype}")
    ids = segment_ids.reshape(-1)
    if ids.dtype not in (np.int32, np.int64):
        ids = ids.astype(np.int64)
    ids = xp.ascontiguousarray(ids)
    if num_segments is None:
        if not sorted_ids:
            raise TypeError("unsorted_segment_reduce: num_segments is required")
        # Host read (a sync on the GPU): pass num_segments when it is known.
        num_segments = int(ids[-1]) + 1 if ids.shape[0] else 0
    num_segments = int(num_segments)
    if num_segments < 0:
        raise ValueError(f"segment_reduce: num_segments must be >= 0, got {num_segments}")
    trailing = tuple(data.shape[segment_ids.ndim:])
    d = math.prod(trailing)
    cdtype = np.dtype(np.float32) if data.dtype == np.float16 else data.dtype
    flat = xp.ascontiguousarray(data.reshape(ids.shape[0], d).astype(cdtype, copy=False))
    return ids, flat, num_segments, trailing, d, cdtype


def _initial(dtype, reduction, sorted_ids):
    """The start value of each segment; for unsorted max/min also what an empty one keeps."""
    if _OPS[reduction] == 0:
        return 0
    big = reduction == "min"
    if dtype.kind == "f" and sorted_ids:
        return np.inf if big else -np.inf  # empties are zeroed from the counts afterwards
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.max if big else info.min


def _finish(out, counts, reduction, sorted_ids, xp):
    if reduction == "mean":
        out /= xp.maximum(counts, 1).astype(out.dtype)[:, None]
    elif reduction == "sqrt_n":
        out /= xp.sqrt(xp.maximum(counts, 1).astype(out.dtype))[:, None]
    elif sorted_ids and reduction in ("max", "min"):
        out = xp.where(counts[:, None] > 0, out, xp.zeros((), out.dtype))
    return out


def segment_reduce_cpu(data, segment_ids, num_segments, reduction, sorted_ids=True):
    """CPU twin of :func:`segment_reduce` (``sorted_ids=True``) and
    :func:`unsorted_segment_reduce` (``sorted_ids=False``) for NumPy arrays.

    Example:
        >>> import numpy as np
        >>> segment_reduce_cpu(np.array([1.0, 3.0]), np.array([1, 1]), 2, "mean")
        array([0., 2.])
    """
    dtype = data.dtype
    ids, flat, nseg, trailing, d, cdtype = _prepare(data, segment_ids, num_segments,
                                                    reduction, sorted_ids, np)
    init = _initial(dtype, reduction, sorted_ids)
    out = np.full((nseg, d), init, dtype=cdtype)
    counts = np.zeros(nseg, dtype=np.int64)
    code, pos = _segment_pass(flat, ids, out, counts, _OPS[reduction], sorted_ids)
    if code:
        where = device_errors.position(pos, segment_ids.shape)
        limit = int(ids[pos - 1]) if code == device_errors.SEGMENT_NOT_SORTED else nseg
        raise device_errors.error_for(code, int(ids[pos]), limit, where)
    out = _finish(out, counts, reduction, sorted_ids, np)
    return out.reshape((nseg,) + trailing).astype(dtype, copy=False)


_GPU_SRC = _cuda.ATOMICS_SRC + device_errors.REPORT_SRC + r"""
extern "C" __global__ void $NAME(const $T* __restrict__ data, const $I* __restrict__ ids,
                                 $T* __restrict__ out, int* __restrict__ counts, $K n, $K d,
                                 long long nseg, int sorted_ids, int want_counts,
                                 unsigned long long* err) {
    const $K total = n * d;
    const $K stride = ($K)blockDim.x * gridDim.x;
    for ($K k = ($K)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
        const $K i = k / d;
        const $K j = k - i * d;
        const long long s = (long long)ids[i];
        if (s < 0) {  // unsorted: TF drops negative ids
            if (sorted_ids && j == 0) ef_report(err, 4ULL, s, nseg, (long long)i);
            continue;
        }
        if (s >= nseg) {
            if (j == 0) ef_report(err, 2ULL, s, nseg, (long long)i);
            continue;
        }
        if (j == 0) {
            if (sorted_ids && i > 0 && (long long)ids[i - 1] > s)
                ef_report(err, 3ULL, s, (long long)ids[i - 1], (long long)i);
            if (want_counts) atomicAdd(counts + s, 1);
        }
        $OP(out + ($K)s * d + j, data[k]);
    }
}
"""
_GPU_OPS = ("ef_atomic_add", "ef_atomic_max", "ef_atomic_min")
# integer dtypes the GPU kernel computes in int64 (uint64 does not fit and stays unsupported)
_GPU_WIDEN = tuple(np.dtype(t) for t in (np.int8, np.int16, np.uint8, np.uint16, np.uint32))


def segment_reduce_gpu(data, segment_ids, num_segments, reduction, sorted_ids=True):
    """GPU twin of :func:`segment_reduce` / :func:`unsorted_segment_reduce` for CuPy arrays.

    Bad ids are skipped and recorded in the device error flag
    (:func:`eagerflow.kernels.check_errors` raises them). Atomics make float sums
    order-dependent in the last bits.
    """
    cp = _cupy.load()
    dtype = data.dtype
    ids, flat, nseg, trailing, d, cdtype = _prepare(data, segment_ids, num_segments,
                                                    reduction, sorted_ids, cp)
    if cdtype in _GPU_WIDEN:
        # the kernel has int32/int64 atomics only: narrow and unsigned integers run in int64
        # (sums wrap back to the dtype on the cast, as the CPU twin's do; max/min and
        # their start values fit), so the GPU takes the dtypes the CPU twin takes
        cdtype = np.dtype(np.int64)
        flat = flat.astype(cdtype)
    out = cp.full((nseg, d), _initial(dtype, reduction, sorted_ids), dtype=cdtype)
    want_counts = reduction in ("mean", "sqrt_n") or (sorted_ids and reduction in ("max", "min"))
    counts = cp.zeros(max(nseg, 1) if want_counts else 1, dtype=np.int32)
    n = ids.shape[0]
    if n and d:
        ktype = _cuda.counter_type(max(n * d, nseg * d))
        op = _OPS[reduction]
        name = (f"ef_segment_{reduction if op else 'sum'}_{cdtype.name}_{ids.dtype.name}_"
                f"{_cuda.counter_tag(ktype)}")
        kern = _cuda.get_kernel(_GPU_SRC, NAME=name, T=_cuda.ctype(cdtype),
                                I=_cuda.ctype(ids.dtype, _cuda.INDEX_CTYPES, "index dtype"),
                                K=ktype, OP=_GPU_OPS[op])
        _cuda.launch(kern, n * d, (flat, ids, out, counts, _cuda.counter_scalar(ktype, n),
                                   _cuda.counter_scalar(ktype, d), np.int64(nseg),
                                   np.int32(sorted_ids), np.int32(want_counts),
                                   device_errors.error_flag()))
    if want_counts:
        out = _finish(out, counts[:nseg], reduction, sorted_ids, cp)
    return out.reshape((nseg,) + trailing).astype(dtype, copy=False)


def segment_reduce(data, segment_ids, num_segments=None, reduction="sum"):
    """Reduces rows of ``data`` that share a sorted segment id (``tf.math.segment_*``).

    Args:
        data: array of shape ``S + trailing``.
        segment_ids: int32/int64 array of shape ``S`` (usually ``(n,)``), sorted
            ascending, each in ``[0, num_segments)``.
        num_segments: rows of the result; ``None`` means ``segment_ids[-1] + 1`` as TF does
            (a host read, so on the GPU pass it when known).
        reduction: one of ``'sum', 'mean', 'sqrt_n', 'max', 'min'``.

    Returns:
        Array of shape ``(num_segments, *trailing)`` and ``data.dtype``; empty segments
        are 0 for every reduction.

    Raises:
        IndexError: a negative id or one >= num_segments (GPU: via ``check_errors``).
        ValueError: ids not sorted (GPU: via ``check_errors``), bad shapes or reduction.
        TypeError: mean/sqrt_n of integer data; mixed backends.

    Example:
        >>> import numpy as np
        >>> segment_reduce(np.array([1.0, 2.0, 5.0]), np.array([0, 0, 2]), 3, "max")
        array([2., 0., 5.])
    """
    return _dispatch(data, segment_ids, num_segments, reduction, True)


def unsorted_segment_reduce(data, segment_ids, num_segments, reduction="sum"):
    """Reduces rows of ``data`` by segment id in any order (``tf.math.unsorted_segment_*``).

    Args:
        data: array of shape ``S + trailing``.
        segment_ids: int32/int64 array of shape ``S``; negative ids are dropped.
        num_segments: rows of the result.
        reduction: one of ``'sum', 'mean', 'sqrt_n', 'max', 'min'``.

    Returns:
        Array of shape ``(num_segments, *trailing)`` and ``data.dtype``. Empty segments
        are 0 (sum, mean, sqrt_n), the dtype's lowest finite value (max) or its highest
        (min).

    Raises:
        IndexError: an id >= num_segments (GPU: via ``check_errors``).

    Example:
        >>> import numpy as np
        >>> unsorted_segment_reduce(np.array([1.0, 2.0, 5.0]), np.array([1, -1, 1]), 2)
        array([0., 6.])
    """
    return _dispatch(data, segment_ids, num_segments, reduction, False)


def _dispatch(data, segment_ids, num_segments, reduction, sorted_ids):
    mods = {backend.array_module(data), backend.array_module(segment_ids)}
    if len(mods) > 1:
        raise TypeError("segment_reduce: data and segment_ids must be on one device, got "
                        f"{type(data).__module__.split('.')[0]} and "
                        f"{type(segment_ids).__module__.split('.')[0]} arrays")
    if mods.pop() is np:
        return segment_reduce_cpu(data, segment_ids, num_segments, reduction, sorted_ids)
    return segment_reduce_gpu(data, segment_ids, num_segments, reduction, sorted_ids)
