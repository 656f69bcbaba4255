"""Sum over the rows of a 2-D array (``x.sum(axis=0)``): the bias gradient of every dense
layer, ``(batch, units) -> (units,)``.

CuPy's generic reduction runs ``sum(axis=0)`` of a C-contiguous ``(65536, 400)`` float32
array at ~63 GB/s on an H100 (1.66 ms; a step has four), because each output's reduction
walks a column with a stride of a whole row. The GPU twin here reads coalesced tiles
instead: each block covers 32 columns x a chunk of rows, its 8 warps stride down the rows,
and one partial per (chunk, column) is written; a second, small pass adds the chunks.
Deterministic (no atomics), float64 accumulation for float32. The CPU twin is NumPy's
(pairwise, already at memory speed).

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.column_sum import column_sum
    >>> column_sum(np.ones((4, 3), np.float32)).tolist()
    [4.0, 4.0, 4.0]
"""
import numpy as np

from . import _cuda
from eagerflow.backend import _cupy

__all__ = ["column_sum", "fast_path"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_MIN_ROWS = 1024  # below this CuPy's reduction is as fast (one launch either way)

_SRC = r"""
extern "C" __global__ void $NAME(const $T* __restrict__ x, $A* __restrict__ part,
                                 long long rows, long long cols, long long chunk) {
    __shared__ $A tile[8][33];
    const long long c = (long long)blockIdx.x * 32 + threadIdx.x;
    const long long r0 = (long long)blockIdx.y * chunk;
    long long r1 = r0 + chunk;
    if (r1 > rows) r1 = rows;
    $A acc = 0;
    if (c < cols) {
        for (long long r = r0 + threadIdx.y; r < r1; r += 8) acc += ($A)x[r * cols + c];
    }
    tile[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        $A s = 0;
        for (int k = 0; k < 8; ++k) s += tile[k][threadIdx.x];
        part[(long long)blockIdx.y * cols + c] = s;
    }
}
"""


def fast_path(x):
    """True when :func:`column_sum` takes the tiled GPU kernel for ``x``."""
    return (not isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype in _FAST
            and x.shape[0] >= _MIN_ROWS and x.shape[1] > 0)


def column_sum(x):
    """``x.sum(axis=0)`` of a 2-D array, on its device, in its dtype."""
    if not fast_path(x):
        return x.sum(axis=0)
    cp = _cupy.load()
    x = cp.ascontiguousarray(x)
    rows, cols = x.shape
    acc = np.dtype(np.float64)
    col_tiles = (cols + 31) // 32
    # ~4 blocks per SM in all; each chunk at least 256 rows so a block's loop is long
    chunks = max(1, min((rows + 255) // 256, -(-4 * _cuda.sm_count() // col_tiles)))
    chunk = -(-rows // chunks)
    chunks = -(-rows // chunk)
    part = cp.empty((chunks, cols), dtype=acc)
    kern = _cuda.get_kernel(_SRC, T=_cuda.ctype(x.dtype), A="double",
                            NAME=f"ef_column_sum_{x.dtype.name}")
    kern((col_tiles, chunks), (32, 8), (x, part, np.int64(rows), np.int64(cols),
                                        np.int64(chunk)))
    return part.sum(axis=0).astype(x.dtype, copy=False)
