"""Indexing: ``x[key]`` (basic and advanced), gather, gather_nd, scatter_nd, boolean_mask,
one_hot and take_along_axis, with gradients (gathers on axis 0 give ``IndexedSlices``)."""
import numpy as np

from ..autograd.indexed_slices import IndexedSlices
from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module
from ..backend.dtypes import as_dtype, default_dtype_for
from ..errors import InvalidArgumentIndexError
from ..kernels.index_add import index_add
from .reduce import normalize_axis
from .segment import unsorted_segment_sum
from .array import _shape, reshape, transpose

__all__ = ["getitem", "strided_slice", "gather", "gather_nd", "scatter_nd", "boolean_mask",
           "one_hot", "take_along_axis", "batch_gather"]


# --- x[key] -----------------------------------------------------------------------------
def _norm_key(key, xp):
    """The key with Tensors and lists turned into arrays of module ``xp``."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
            if array_module(k) is not xp:
                raise ValueError("getitem: the index lives on another device than the tensor")
        elif isinstance(k, list):
            k = xp.asarray(k)
            if k.dtype.kind == "f":
                raise TypeError("getitem: index lists must hold ints or bools")
        elif isinstance(k, np.ndarray) and xp is not np:
            k = xp.asarray(k)
        out.append(k)
    return tuple(out)


def _getitem_fwd(xp, a, key):
    return a[key]


def _getitem_vjp(g, ans, x, key):
    return _scatter_into(g, key=key, shape=tuple(x.shape))


def _scatter_fwd(xp, g, key, shape):
    out = xp.zeros(shape, dtype=g.dtype)
    return index_add(out, key, g)


_getitem = register("getitem", _getitem_fwd)
defvjp(_getitem, _getitem_vjp)
_scatter_into = register("getitem_grad", _scatter_fwd)
defvjp(_scatter_into, lambda g, ans, v, key, shape: _getitem(g, key=key))


def getitem(x, key):
    """``x[key]`` with NumPy semantics: ints, slices, None, Ellipsis, int/bool arrays."""
    a = x._data if isinstance(x, Tensor) else _to_array(x)
    key = _norm_key(key, array_module(a))
    return _getitem(x, key=key)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """``tf.strided_slice``: the slice ``input_[begin:end:strides]`` spelled with TF's masks.

    Bit ``i`` of ``begin_mask``/``end_mask`` ignores ``begin[i]``/``end[i]`` (the fullest
    range), of ``ellipsis_mask`` makes spec ``i`` an Ellipsis, of ``new_axis_mask`` a new
    axis of size 1, of ``shrink_axis_mask`` an integer index (the axis is removed). The
    result is ``getitem`` with the equivalent Python key, so the gradient is getitem's.

    Example:
        >>> import eagerflow as ef
        >>> ef.strided_slice(ef.range(10), [1], [8], [3]).numpy().tolist()
        [1, 4, 7]
    """
    def ints(v):
        if isinstance(v, Tensor):
            v = v.numpy()
        return [int(i) for i in np.asarray(v).reshape(-1)]
    begin, end = ints(begin), ints(end)
    strides = [1] * len(begin) if strides is None else ints(strides)
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"strided_slice: begin, end and strides must have the same length, "
                         f"got {len(begin)}, {len(end)} and {len(strides)}")
    if bin(int(ellipsis_mask)).count("1") > 1:
        raise ValueError("strided_slice: at most one bit of ellipsis_mask may be set")
    key = []
    for i, (b, e, st) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            if st == 0:
                raise ValueError(f"strided_slice: strides[{i}] must be non-zero")
            key.append(slice(None if begin_mask & bit else b,
                             None if end_mask & bit else e, st))
    return getitem(input_, tuple(key))


# --- gather -------------------------------------------------------------------------------
def _gather_fwd(xp, params, indices, axis):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"gather: indices must be integers, got {indices.dtype}")
    n = params.shape[axis]
    if xp is np and indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise InvalidArgumentIndexError(f"gather: indices contain {bad}, which is not in [0, {n}) "
                             f"(axis {axis} of params with shape {tuple(params.shape)})")
    if axis == 0:
        return params[indices]
    return xp.take(params, indices, axis=axis)


def _gather_vjp(g, ans, params, indices, axis):
    pshape = tuple(params.shape)
    ishape = tuple(indices.shape)
    if axis == 0:
        return IndexedSlices(reshape(g, (-1,) + pshape[1:]), reshape(indices, (-1,)), pshape)
    # move the index dims to the front, segment-sum onto axis `axis`, move it back
    ni = len(ishape)
    gnd = len(pshape) - 1 + ni
    idx_dims = tuple(range(axis, axis + ni))
    rest = tuple(i for i in range(gnd) if i not in idx_dims)
    gt = transpose(g, idx_dims + rest)
    gt = reshape(gt, (-1,) + tuple(_shape(gt)[ni:]))
    summed = unsorted_segment_sum(gt, reshape(indices, (-1,)), pshape[axis])
    perm = list(range(1, len(pshape)))
    perm.insert(axis, 0)
    return transpose(summed, tuple(perm))


_gather = register("gather", _gather_fwd)
defvjp(_gather, _gather_vjp)


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gathers slices of ``params`` along ``axis`` at ``indices`` (``tf.gather``).

    Args:
        params: tensor of shape ``(..., n, ...)``.
        indices: int tensor; every value must be in ``[0, n)``.
        axis: the gathered axis (default 0).
        batch_dims: number of leading batch dimensions shared by params and indices.

    Returns:
        Tensor of shape ``params.shape[:axis] + indices.shape[batch_dims:] +
        params.shape[axis + 1:]``. The gradient w.r.t. params is ``IndexedSlices`` on axis 0.

    Raises:
        IndexError: for an index out of range (checked on the CPU backend).

    Example:
        >>> import eagerflow as ef
        >>> ef.gather(ef.constant([10.0, 20.0, 30.0]), [2, 0]).numpy().tolist()
        [30.0, 10.0]
    """
    p = params if isinstance(params, Tensor) else _wrap(_to_array(params))
    xp = array_module(p._data)
    idx = indices if isinstance(indices, Tensor) else _wrap(_to_array_on(indices, xp))
    nd = p.ndim
    axis = 0 if axis is None else int(axis)
    batch_dims = int(batch_dims)
    if batch_dims < 0:
        batch_dims += idx.ndim
    if not 0 <= batch_dims <= min(idx.ndim, nd):
        raise ValueError(f"gather: batch_dims={batch_dims} is out of range")
    axis = normalize_axis(axis, nd, "gather")[0]
    if axis < batch_dims:
        raise ValueError(f"gather: axis ({axis}) must be >= batch_dims ({batch_dims})")
    if batch_dims == 0:
        return _gather(p, idx, axis=axis)
    return _batched_gather(p, idx, axis, batch_dims)


def _to_array_on(v, xp):
    a = _to_array(v)
    return xp.asarray(a) if array_module(a) is not xp else a


def _batched_gather(p, idx, axis, b):
    pshape, ishape = tuple(p.shape), tuple(idx.shape)
    if pshape[:b] != ishape[:b]:
        raise ValueError(f"gather: batch dims of params {pshape[:b]} and indices "
                         f"{ishape[:b]} differ")
    nb = int(np.prod(pshape[:b]))
    # bring `axis` next to the batch dims, flatten batch into rows of a stacked table
    perm = tuple(range(b)) + (axis,) + tuple(i for i in range(b, len(pshape)) if i != axis)
    pt = transpose(p, perm)
    n = pshape[axis]
    inner = tuple(_shape(pt)[b + 1:])
    table = reshape(pt, (nb * n,) + inner)
    xp = array_module(idx._data)
    offs = (xp.arange(nb, dtype=idx.dtype) * n).reshape((nb,) + (1,) * (len(ishape) - b))
    flat_idx = _wrap(idx._data.reshape((nb,) + ishape[b:]) + offs)
    got = _gather(table, flat_idx, axis=0)  # (nb, *ishape[b:], *inner)
    got = reshape(got, pshape[:b] + ishape[b:] + inner)
    # the result keeps params' dims before `axis` (after batch) in front of the index dims
    pre = axis - b
    if pre:
        nidx = len(ishape) - b
        order = (tuple(range(b)) + tuple(range(b + nidx, b + nidx + pre)) +
                 tuple(range(b, b + nidx)) + tuple(range(b + nidx + pre, len(_shape(got)))))
        got = transpose(got, order)
    return got


def batch_gather(params, indices, name=None):
    """TF1's ``batch_gather``: ``gather(params, indices, batch_dims=indices.ndim - 1)``."""
    idx = indices if isinstance(indices, Tensor) else _wrap(_to_array(indices))
    return gather(params, idx, axis=idx.ndim - 1, batch_dims=idx.ndim - 1)


# --- gather_nd / scatter_nd ---------------------------------------------------------------
def _flat_index(idx, dims):
    """Row-major linear index of the last-axis coordinates in ``idx`` (raw arrays)."""
    strides = np.cumprod((1,) + tuple(dims[::-1]))[:-1][::-1]
    xp = array_module(idx)
    if xp is np and idx.size:
        for k, d in enumerate(dims):
            col = idx[..., k]
            if col.min() < 0 or col.max() >= d:
                bad = col.min() if col.min() < 0 else col.max()
                raise InvalidArgumentIndexError(f"index {int(bad)} is out of bounds for dimension {k} of "
                                 f"size {d}")
    st = xp.asarray(np.asarray(strides, dtype=np.int64))
    return (idx.astype(np.int64) * st).sum(axis=-1)


def _with_batch_coords(idx, b):
    """Prepends the batch coordinates so batch_dims=b becomes batch_dims=0."""
    xp = array_module(idx)
    ishape = idx.shape
    grids = xp.meshgrid(*[xp.arange(d, dtype=idx.dtype) for d in ishape[:b]], indexing="ij")
    coords = [gr.reshape(ishape[:b] + (1,) * (len(ishape) - b)) for gr in grids]
    coords = [xp.broadcast_to(c[..., None] if c.ndim < len(ishape) else c,
                              ishape[:-1] + (1,)) for c in coords]
    return xp.concatenate(coords + [idx], axis=-1)


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of ``params`` at the coordinates in the last axis of ``indices``.

    Returns ``indices.shape[:-1] + params.shape[indices.shape[-1]:]`` (``tf.gather_nd``).
    """
    p = params if isinstance(params, Tensor) else _wrap(_to_array(params))
    xp = array_module(p._data)
    idx = indices._data if isinstance(indices, Tensor) else _to_array_on(indices, xp)
    if idx.ndim < 1:
        raise ValueError("gather_nd: indices must have rank >= 1")
    if batch_dims:
        idx = _with_batch_coords(idx, int(batch_dims))
    k = idx.shape[-1]
    pshape = tuple(p.shape)
    if k > len(pshape):
        raise ValueError(f"gather_nd: indices.shape[-1]={k} exceeds the rank of params "
                         f"({len(pshape)})")
    flat = _flat_index(idx, pshape[:k])
    table = reshape(p, (int(np.prod(pshape[:k])),) + pshape[k:])
    return reshape(_gather(table, _wrap(flat), axis=0), tuple(idx.shape[:-1]) + pshape[k:])


def scatter_nd(indices, updates, shape, name=None):
    """Scatters ``updates`` into zeros of ``shape`` at ``indices``, summing duplicates."""
    u = updates if isinstance(updates, Tensor) else _wrap(_to_array(updates))
    xp = array_module(u._data)
    idx = indices._data if isinstance(indices, Tensor) else _to_array_on(indices, xp)
    shape = tuple(int(s) for s in (shape.numpy() if isinstance(shape, Tensor) else shape))
    k = idx.shape[-1]
    expect = tuple(idx.shape[:-1]) + shape[k:]
    if tuple(u.shape) != expect:
        raise ValueError(f"scatter_nd: updates must have shape {expect}, got {tuple(u.shape)}")
    flat = _flat_index(idx, shape[:k])
    rows = int(np.prod(shape[:k]))
    summed = unsorted_segment_sum(reshape(u, (-1,) + shape[k:]), _wrap(flat.reshape(-1)), rows)
    return reshape(summed, shape)


# --- boolean_mask / one_hot / take_along_axis ---------------------------------------------
def boolean_mask(tensor, mask, axis=None, name=None):
    """Keeps the entries of ``tensor`` where ``mask`` is True (``tf.boolean_mask``).

    ``mask`` covers dims ``axis .. axis + mask.ndim`` of ``tensor``; those dims are
    flattened into one in the result. (Reads the mask on the host.)
    """
    t = tensor if isinstance(tensor, Tensor) else _wrap(_to_array(tensor))
    xp = array_module(t._data)
    m = mask._data if isinstance(mask, Tensor) else _to_array_on(mask, xp)
    if m.dtype != np.bool_:
        raise TypeError(f"boolean_mask: mask must be bool, got {m.dtype}")
    axis = 0 if axis is None else int(axis)
    tshape = tuple(t.shape)
    if m.ndim == 0 or tshape[axis:axis + m.ndim] != tuple(m.shape):
        raise ValueError(f"boolean_mask: mask shape {tuple(m.shape)} does not match tensor "
                         f"shape {tshape} at axis {axis}")
    merged = tshape[:axis] + (int(np.prod(m.shape)),) + tshape[axis + m.ndim:]
    idx = xp.nonzero(m.reshape(-1))[0].astype(np.int64)
    return gather(reshape(t, merged), _wrap(idx), axis=axis)


def _one_hot_fwd(xp, idx, depth, on, off, axis, dtype):
    cls = xp.arange(depth, dtype=idx.dtype if idx.dtype.kind in "iu" else np.int64)
    hot = idx[..., None] == cls
    out = xp.where(hot, xp.asarray(on, dtype=dtype), xp.asarray(off, dtype=dtype))
    if axis != -1 and axis != idx.ndim:
        out = xp.moveaxis(out, -1, axis)
    return out


_one_hot = register("one_hot", _one_hot_fwd)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encodes ``indices`` into a new axis of size ``depth`` (``tf.one_hot``).

    Indices outside ``[0, depth)`` give a row of ``off_value``.
    """
    if dtype is None:
        v = on_value if on_value is not None else off_value
        dtype = np.dtype(np.float32) if v is None else (
            v.dtype if hasattr(v, "dtype") else default_dtype_for(v))
    else:
        dtype = as_dtype(dtype)
    depth = int(depth)
    if depth < 0:
        raise ValueError(f"one_hot: depth must be >= 0, got {depth}")
    if not isinstance(indices, Tensor):  # Python lists and NumPy arrays, as tf.one_hot takes
        indices = _wrap(_to_array(indices))
    nd = indices.ndim
    axis = -1 if axis is None else int(axis)
    if not -1 <= axis <= nd:
        raise ValueError(f"one_hot: axis must be in [-1, {nd}], got {axis}")
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    return _one_hot(indices, depth=depth, on=on, off=off, axis=axis, dtype=dtype)


def _take_along_fwd(xp, a, idx, axis):
    return xp.take_along_axis(a, idx, axis=axis)


def _take_along_vjp(g, ans, x, idx, axis):
    # flatten to (rows, n) with `axis` last, then one segment-sum at row * n + idx
    xshape = tuple(x.shape)
    nd = len(xshape)
    perm = tuple(i for i in range(nd) if i != axis) + (axis,)
    xp = array_module(g._data)
    it = xp.transpose(idx._data if isinstance(idx, Tensor) else idx, perm)
    gt = transpose(g, perm)
    n = xshape[axis]
    rows = int(np.prod([xshape[i] for i in perm[:-1]]))
    k = it.shape[-1]
    flat = (it.reshape(rows, k) + xp.arange(rows, dtype=it.dtype)[:, None] * n).reshape(-1)
    summed = unsorted_segment_sum(reshape(gt, (-1,)), _wrap(flat), rows * n)
    tshape = tuple(xshape[i] for i in perm)
    return transpose(reshape(summed, tshape), tuple(np.argsort(perm)))


_take_along = register("take_along_axis", _take_along_fwd)
defvjp(_take_along, _take_along_vjp)


def take_along_axis(arr, indices, axis):
    """``numpy.take_along_axis`` with a gradient (the basis of sort and top_k gradients)."""
    a = arr if isinstance(arr, Tensor) else _wrap(_to_array(arr))
    ax = normalize_axis(axis, a.ndim, "take_along_axis")[0]
    if not isinstance(indices, Tensor):  # host index constants move to the tensor's device
        indices = _wrap(_to_array_on(indices, array_module(a._data)))
    return _take_along(a, indices, axis=ax)
