"""Scatter-add of rows: ``out[indices[i], ...] += values[i, ...]``, duplicates accumulating.

This is the vjp of ``gather`` / ``embedding_lookup`` and the densify of an ``IndexedSlices``
(:func:`scatter_add_new`), and the row update of sparse optimizers (:func:`scatter_add`).
``np.add.at`` is the slow baseline (255 ms for 1M x 16 rows on the CI machine).

- CPU twin: numba. Large inputs run on all numba threads, each owning an interleaved
  share of the table rows, so no two threads write the same row and the result does not
  depend on the thread count. Out-of-range indices raise IndexError before any write.
- GPU twin: a RawKernel with one thread per element and ``atomicAdd`` (float16 through the
  native ``red.add.noftz.f16``, sm_70+). Out-of-range rows are skipped and recorded in the
  device error flag (:mod:`eagerflow.kernels.device_errors`); nothing synchronises.

Rows whose index is :data:`INDEX_PAD` add nothing on either twin: an ``IndexedSlices``
whose length must not depend on the data (no host read of a count on the GPU) marks its
unused rows that way, and the sparse optimizer kernels skip them too.
"""
import math

import numba
import numpy as np
from numba import njit, prange

from eagerflow import backend
from eagerflow.backend import _cupy

from . import _cuda, device_errors
from ._numba import launch

__all__ = ["INDEX_PAD", "scatter_add", "scatter_add_new", "scatter_add_cpu", "scatter_add_gpu"]

# The row index of padding rows (int64's minimum, never a real row).
INDEX_PAD = np.iinfo(np.int64).min
# the same value in CUDA C (a literal -9223372036854775808LL would be out of range)
INDEX_PAD_SRC = "#define EF_INDEX_PAD (-9223372036854775807LL - 1)\n"

_NUMBA_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))
# Below this many elements the parallel launch costs more than it saves.
_PARALLEL_MIN = 1 << 17


@njit(cache=True, nogil=True)
def _index_range(idx):
    lo = idx[0]
    hi = idx[0]
    for i in range(idx.shape[0]):
        v = idx[i]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    return lo, hi


@njit(cache=True, nogil=True, boundscheck=False)
def _scatter_rows(out, idx, vals):
    n, d = vals.shape
    for i in range(n):
        r = idx[i]
        for j in range(d):
            out[r, j] += vals[i, j]


@njit(cache=True, parallel=True, boundscheck=False)
def _scatter_rows_parallel(out, idx, vals, nthreads):
    n, d = vals.shape
    for t in prange(nthreads):
        for i in range(n):
            r = idx[i]
            # Owner by bits 4..9 of the row: balanced for skewed ids, cheaper than a modulo,
            # and 16-row blocks keep threads off each other's cache lines.
            if (((r >> 4) & 63) * nthreads) >> 6 == t:
                for j in range(d):
                    out[r, j] += vals[i, j]


def _prepare(out, indices, values, xp):
    if out.ndim < 1:
        raise ValueError(f"scatter_add: out must have at least 1 dimension, got shape {out.shape}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"scatter_add: indices must be integers, got {indices.dtype}")
    expected = tuple(indices.shape) + tuple(out.shape[1:])
    if tuple(values.shape) != expected:
        raise ValueError(f"scatter_add: values has shape {tuple(values.shape)}, expected "
                         f"indices.shape + out.shape[1:] = {expected}")
    idx = indices.reshape(-1)
    if idx.dtype not in (np.int32, np.int64):
        idx = idx.astype(np.int64)
    idx = xp.ascontiguousarray(idx)
    d = math.prod(out.shape[1:])
    vals = xp.ascontiguousarray(values.reshape(idx.shape[0], d).astype(out.dtype, copy=False))
    return idx, vals, d


def _raise_out_of_range(indices, num_rows):
    flat = np.asarray(indices).reshape(-1)
    pos = int(np.flatnonzero((flat < 0) | (flat >= num_rows))[0])
    where = device_errors.position(pos, np.shape(indices))
    raise device_errors.error_for(device_errors.SCATTER_OUT_OF_RANGE, int(flat[pos]),
                                  num_rows, where)


def scatter_add_cpu(out, indices, values):
    """CPU twin of :func:`scatter_add` for NumPy arrays.

    numba for float32/64 and int32/64 (bitwise equal to ``np.add.at``: each row is summed
    by one thread in index order), ``np.add.at`` for other dtypes. Raises IndexError
    before writing anything.

    Example:
        >>> import numpy as np
        >>> scatter_add_cpu(np.zeros(2), np.array([1, 1]), np.array([1.0, 2.0]))
        array([0., 3.])
    """
    idx, vals, d = _prepare(out, indices, values, np)
    n, num_rows = idx.shape[0], out.shape[0]
    if n == 0 or d == 0:
        return out
    lo, hi = _index_range(idx)
    if lo == INDEX_PAD:
        keep = idx != INDEX_PAD
        if not keep.any():
            return out
        idx, vals = idx[keep], vals[keep]
        lo, hi = _index_range(idx)
    if lo < 0 or hi >= num_rows:
        _raise_out_of_range(indices, num_rows)
    work = out if out.flags.c_contiguous else np.ascontiguousarray(out)
    table = work.reshape(num_rows, d)
    if out.dtype not in _NUMBA_DTYPES:
        np.add.at(table, idx, vals)
    else:
        launch(lambda: _scatter_rows(table, idx, vals),
               lambda: _scatter_rows_parallel(table, idx, vals,
                                              min(numba.get_num_threads(), 64)),
               n * d, min_work=_PARALLEL_MIN)
    if work is not out:
        out[...] = work
    return out


_GPU_SRC = _cuda.ATOMICS_SRC + device_errors.REPORT_SRC + INDEX_PAD_SRC + r"""
extern "C" __global__ void $NAME(const $T* __restrict__ vals, const $I* __restrict__ idx,
                                 $T* __restrict__ out, $K n, $K d, long long nrows,
                                 unsigned long long* err) {
    const $K total = n * d;
    const $K stride = ($K)blockDim.x * gridDim.x;
    for ($K k = ($K)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
        const $K i = k / d;
        const $K j = k - i * d;
        const long long r = (long long)idx[i];
        if (r == EF_INDEX_PAD) continue;
        if (r < 0 || r >= nrows) {
            if (j == 0) ef_report(err, 1ULL /* SCATTER_OUT_OF_RANGE */, r, nrows, (long long)i);
            continue;
        }
        ef_atomic_add(out + ($K)r * d + j, vals[k]);
    }
}
"""


def scatter_add_gpu(out, indices, values):
    """GPU twin of :func:`scatter_add` for CuPy arrays (float16/32/64, int32/64).

    Rows whose index is out of range are skipped and the first one is recorded in the
    device error flag; :func:`eagerflow.kernels.check_errors` raises it later.
    """
    cp = _cupy.load()
    idx, vals, d = _prepare(out, indices, values, cp)
    n, num_rows = idx.shape[0], out.shape[0]
    if n == 0 or d == 0:
        return out
    work = out if out.flags.c_contiguous else cp.ascontiguousarray(out)
    total = max(n * d, num_rows * d)  # offsets into out must fit the counter type too
    ktype = _cuda.counter_type(total)
    t = _cuda.ctype(out.dtype)
    i = _cuda.ctype(idx.dtype, _cuda.INDEX_CTYPES, "index dtype")
    name = f"ef_scatter_add_{out.dtype.name}_{idx.dtype.name}_{_cuda.counter_tag(ktype)}"
    kern = _cuda.get_kernel(_GPU_SRC, NAME=name, T=t, I=i, K=ktype)
    _cuda.launch(kern, n * d, (vals, idx, work, _cuda.counter_scalar(ktype, n),
                               _cuda.counter_scalar(ktype, d), np.int64(num_rows),
                               device_errors.error_flag()))
    if work is not out:
        out[...] = work
    return out


def scatter_add(out, indices, values):
    """Adds rows of ``values`` into ``out`` in place: ``out[indices[i], ...] += values[i, ...]``.

    Duplicate indices accumulate. Runs the numba twin on NumPy arrays and the CUDA twin on
    CuPy arrays.

    Args:
        out: table of shape ``(num_rows, *trailing)``; updated in place.
        indices: integer array of any shape ``S`` (int32 or int64), each in
            ``[0, num_rows)``.
        values: array of shape ``S + trailing``; cast to ``out.dtype``.

    Returns:
        ``out``.

    Raises:
        IndexError: on the CPU, when an index is out of range (nothing is written). On the
            GPU the bad rows are skipped and the error is raised by
            :func:`eagerflow.kernels.check_errors` at the next sync point.
        ValueError: when the shapes do not match.
        TypeError: when arrays of different backends are mixed.

    Example:
        >>> import numpy as np
        >>> out = np.zeros((3, 2), np.float32)
        >>> scatter_add(out, np.array([0, 2, 0]), np.ones((3, 2), np.float32))
        array([[2., 2.],
               [0., 0.],
               [1., 1.]], dtype=float32)
    """
    mod = _same_module("scatter_add", out, indices, values)
    if mod is np:
        return scatter_add_cpu(out, indices, values)
    return scatter_add_gpu(out, indices, values)


def scatter_add_new(indices, values, num_rows):
    """Sums rows of ``values`` into a fresh zeroed table of ``num_rows`` rows.

    The densify of ``IndexedSlices(values, indices, dense_shape)`` and the vjp of
    ``gather(params, indices)`` (with ``num_rows = params.shape[0]``).

    Args:
        indices: integer array of shape ``S``.
        values: array of shape ``S + trailing``.
        num_rows: number of rows of the result.

    Returns:
        Array of shape ``(num_rows, *trailing)`` and ``values.dtype`` on the backend of
        ``values``.

    Example:
        >>> import numpy as np
        >>> scatter_add_new(np.array([1, 1]), np.array([[1.0], [2.0]]), 3)
        array([[0.],
               [3.],
               [0.]])
    """
    mod = _same_module("scatter_add_new", values, indices)
    trailing = tuple(values.shape[indices.ndim:])
    out = mod.zeros((int(num_rows),) + trailing, dtype=values.dtype)
    return scatter_add(out, indices, values)


def _same_module(op, *arrays):
    mods = {backend.array_module(a) for a in arrays}
    if len(mods) > 1:
        kinds = ", ".join(type(a).__module__.split(".")[0] for a in arrays)
        raise TypeError(f"{op}: all arrays must be on one device, got {kinds} arrays")
    return mods.pop()
