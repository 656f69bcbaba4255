"""Second-order factorization-machine interaction of field embeddings, fused.

``fm(e)[b] = 0.5 * sum_d((sum_f e[b, f, d])^2 - sum_f e[b, f, d]^2)`` for ``e`` of shape
``(batch, fields, dim)``, and its gradient ``fm_grad(g, e)[b, f, d] = g[b] * (s[b, d] -
e[b, f, d])`` with ``s = sum_f e``: one pass over ``e`` each way, where the composition
(``reduce_sum``, squares, broadcasts, three gradient contributions summed) makes about ten
passes and as many temporaries.

- CPU twin: numba, one row of ``e`` at a time (float64 accumulators), the loops over the
  dims contiguous so that they vectorise.
- GPU twin: two CuPy RawKernels, one pass each, on the current stream, with no float
  atomics (the forward is deterministic) and no host synchronisation (graph-capturable).
  Forward: ``W = min(32, next_pow2(dim))`` lanes of a warp per row; lane ``j`` sums
  ``s`` and ``q`` over the fields for dims ``j, j + W, ...`` (consecutive lanes read
  consecutive dims of ``e[b, f, :]``) and the ``W`` partial sums are combined by warp
  shuffles. Backward: one thread per ``(b, d)``, looping over the fields twice (``s``,
  then the writes).
The GPU twin accumulates in the input's precision (float32 or float64); float16 (and other
non-float32/64) inputs are computed in float32 and the result rounded back.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.fm import fm, fm_grad
    >>> e = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    >>> fm(e).tolist()  # 1*3 + 2*4
    [[11.0]]
    >>> fm_grad(np.array([[1.0]]), e).tolist()
    [[[3.0, 4.0], [1.0, 2.0]]]
"""
import numpy as np
from numba import njit

from eagerflow.backend import _cupy

from . import _cuda

__all__ = ["fm", "fm_grad", "fm_gpu", "fm_grad_gpu"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))


# One row b at a time (split over numba's threads, these kernels made a two-thread CTR step
# no faster: bench/NOTES.md lever 22). Per row, s[d] = sum_f e[b, f, d] is accumulated field
# by field over a contiguous run of d (SIMD), in the row's slot of a float64 scratch array:
# float64 sums, because the FM term is a difference of sums of squares.
@njit(cache=True, nogil=True, boundscheck=False)
def _fm_row(e, s, out, b):
    # s[b, 0, d]: sum over the fields, s[b, 1, d]: sum of squares (per d, so that the loop
    # over d vectorises; a scalar float reduction would not without fastmath)
    nf, nd = e.shape[1], e.shape[2]
    for d in range(nd):
        s[b, 0, d] = 0.0
        s[b, 1, d] = 0.0
    for f in range(nf):
        for d in range(nd):
            v = e[b, f, d]
            s[b, 0, d] += v
            s[b, 1, d] += v * v
    t = 0.0
    for d in range(nd):
        t += s[b, 0, d] * s[b, 0, d] - s[b, 1, d]
    out[b, 0] = 0.5 * t


@njit(cache=True, nogil=True, boundscheck=False)
def _fm_cpu(e, s, out):
    for b in range(e.shape[0]):
        _fm_row(e, s, out, b)


@njit(cache=True, nogil=True, boundscheck=False)
def _fm_grad_row(g, e, s, out, b):
    nf, nd = e.shape[1], e.shape[2]
    for d in range(nd):
        s[b, d] = 0.0
    for f in range(nf):
        for d in range(nd):
            s[b, d] += e[b, f, d]
    gb = g[b]
    for f in range(nf):
        for d in range(nd):
            out[b, f, d] = gb * (s[b, d] - e[b, f, d])


@njit(cache=True, nogil=True, boundscheck=False)
def _fm_grad_cpu(g, e, s, out):
    for b in range(e.shape[0]):
        _fm_grad_row(g, e, s, out, b)


# --- GPU twin ---------------------------------------------------------------------------
# One row b per group of $W consecutive lanes ($W a power of two dividing 32, and blockDim a
# multiple of 32 (_cuda.launch: 256), so a group never straddles a warp and its lane is
# threadIdx.x & ($W - 1)). The loop bound t0 is uniform over the block, so every lane of a
# warp reaches the shuffles together (full mask) even past the last row. Launched over
# nb * $W threads.
_GPU_FWD = r"""
extern "C" __global__ void $NAME(const $T* __restrict__ e, $T* __restrict__ out,
                                 long long nb, long long nf, long long nd) {
    const long long total = nb * $W;
    const long long stride = (long long)blockDim.x * gridDim.x;
    const int lane = (int)(threadIdx.x & ($W - 1));
    for (long long t0 = (long long)blockIdx.x * blockDim.x; t0 < total; t0 += stride) {
        const long long b = (t0 + threadIdx.x) / $W;
        $T v = 0;
        if (b < nb) {
            const $T* row = e + b * nf * nd;
            for (long long d = lane; d < nd; d += $W) {
                const $T* p = row + d;
                $T s = 0, q = 0;
                #pragma unroll 4
                for (long long f = 0; f < nf; ++f) {
                    const $T x = p[f * nd];
                    s += x;
                    q += x * x;
                }
                v += s * s - q;
            }
        }
        #pragma unroll
        for (int off = $W / 2; off > 0; off >>= 1)
            v += __shfl_xor_sync(0xffffffffu, v, off, $W);
        if (lane == 0 && b < nb) out[b] = ($T)0.5 * v;
    }
}
"""

# One thread per (b, d); e, g and out are C-contiguous (out like e).
_GPU_GRAD = r"""
extern "C" __global__ void $NAME(const $T* __restrict__ g, const $T* __restrict__ e,
                                 $T* __restrict__ out, $K total, $K nd, long long nf) {
    const $K stride = ($K)blockDim.x * gridDim.x;
    for ($K t = ($K)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += stride) {
        const $K b = t / nd;
        const $K d = t - b * nd;
        const long long base = (long long)b * nf * (long long)nd + (long long)d;
        const long long step = (long long)nd;
        const $T* p = e + base;
        $T s = 0;
        #pragma unroll 4
        for (long long f = 0; f < nf; ++f) s += p[f * step];
        const $T gb = g[b];
        $T* o = out + base;
        #pragma unroll 4
        for (long long f = 0; f < nf; ++f) o[f * step] = gb * (s - p[f * step]);
    }
}
"""

def _lanes(nd):
    """Lanes per row of the forward kernel: the next power of two of ``nd``, at most 32."""
    w = 1
    while w < nd and w < 32:
        w *= 2
    return w


def _fwd_kernel(dtype, w):
    return _cuda.get_kernel(_GPU_FWD, NAME=f"ef_fm_fwd_{dtype.name}_w{w}",
                            T=_cuda.ctype(dtype), W=str(w))


def _grad_kernel(dtype, ktype):
    return _cuda.get_kernel(_GPU_GRAD, NAME=f"ef_fm_grad_{dtype.name}_{_cuda.counter_tag(ktype)}",
                            T=_cuda.ctype(dtype), K=ktype)


def fm_gpu(e):
    """GPU twin of :func:`fm` for a CuPy array ``e`` (any layout)."""
    _check(e)
    cp = _cupy.load()
    nb, nf, nd = (int(n) for n in e.shape)
    cd = _compute_dtype(e.dtype)
    if nb == 0 or nf == 0 or nd == 0:
        return cp.zeros((nb, 1), dtype=e.dtype)
    ec = cp.ascontiguousarray(e.astype(cd, copy=False))
    out = cp.empty((nb, 1), dtype=cd)
    w = _lanes(nd)
    _cuda.launch(_fwd_kernel(cd, w), nb * w,
                 (ec, out, np.int64(nb), np.int64(nf), np.int64(nd)))
    return out.astype(e.dtype, copy=False)


def fm_grad_gpu(g, e):
    """GPU twin of :func:`fm_grad` for CuPy arrays (``g`` of shape ``(batch, 1)`` or
    ``(batch,)``, ``e`` of any layout)."""
    _check(e)
    cp = _cupy.load()
    nb, nf, nd = (int(n) for n in e.shape)
    cd = _compute_dtype(e.dtype)
    if nb == 0 or nf == 0 or nd == 0:
        return cp.zeros(e.shape, dtype=e.dtype)
    ec = cp.ascontiguousarray(e.astype(cd, copy=False))
    gc = cp.ascontiguousarray(g.reshape(nb).astype(cd, copy=False))
    out = cp.empty((nb, nf, nd), dtype=cd)
    total = nb * nd
    ktype = _cuda.counter_type(total)
    _cuda.launch(_grad_kernel(cd, ktype), total,
                 (gc, ec, out, _cuda.counter_scalar(ktype, total),
                  _cuda.counter_scalar(ktype, nd), np.int64(nf)))
    return out.astype(e.dtype, copy=False)


def _check(e):
    if e.ndim != 3:
        raise ValueError(f"fm: embeddings must have shape (batch, fields, dim), got "
                         f"{tuple(e.shape)}")


def _compute_dtype(dtype):
    # float16 (and other narrow floats) accumulate in float32: the FM term is a difference
    # of two sums of squares, so narrow accumulators cancel catastrophically
    return dtype if dtype in _FAST else np.dtype(np.float32)


def fm(e):
    """The FM interaction of ``e`` ``(batch, fields, dim)``: shape ``(batch, 1)``."""
    _check(e)
    cd = _compute_dtype(e.dtype)
    if isinstance(e, np.ndarray):
        out = np.empty((e.shape[0], 1), dtype=cd)
        scratch = np.empty((e.shape[0], 2, e.shape[2]), dtype=np.float64)
        _fm_cpu(np.ascontiguousarray(e, dtype=cd), scratch, out)
        return out.astype(e.dtype, copy=False)
    return fm_gpu(e)


def fm_grad(g, e):
    """``g[b] * (sum_f e[b, :, :] - e[b, f, :])``: the gradient of :func:`fm` for an
    output gradient ``g`` of shape ``(batch, 1)`` (or ``(batch,)``)."""
    _check(e)
    nb = e.shape[0]
    cd = _compute_dtype(e.dtype)
    if isinstance(e, np.ndarray):
        out = np.empty(e.shape, dtype=cd)
        scratch = np.empty((nb, e.shape[2]), dtype=np.float64)
        _fm_grad_cpu(np.ascontiguousarray(np.asarray(g).reshape(nb), dtype=cd),
                        np.ascontiguousarray(e, dtype=cd), scratch, out)
        return out.astype(e.dtype, copy=False)
    return fm_grad_gpu(g, e)
