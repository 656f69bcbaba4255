"""``tf.tensor_scatter_nd_update`` / ``_add`` / ``_sub`` / ``_max`` / ``_min``: sparse
updates of a copy of a tensor, with TF's shape rules, errors and gradients.

Index vectors are turned into row numbers of a ``(rows, *slice)`` view of the tensor on the
device; one out of range raises at once on the CPU and goes to the device error flag on
the GPU (the update is skipped there, as TF's GPU kernels do), so nothing synchronises.
Duplicates reduce through the segment kernels, and ``update`` takes the last writer, so
results are deterministic on both backends.
"""
import math as _math

import numpy as np

from ..autograd.registry import defvjp_all, register
from ..backend import array_module, to_numpy
from ..errors import InvalidArgumentError, InvalidArgumentIndexError
from ..kernels.range_check import check_in_range
from ..kernels.segment_reduce import unsorted_segment_reduce as _k_unsorted
from .array import reshape
from .manip import _dbg, _matching, _on
from .math import cast, divide, equal, negative, zeros_like
from .segment import _gather_rows, unsorted_segment_sum

__all__ = ["tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
           "tensor_scatter_nd_max", "tensor_scatter_nd_min"]

# --- tensor_scatter_nd_* --------------------------------------------------------------------
def _rows_of(xp, idx, lead):
    """Row numbers (in a ``(prod(lead), ...)`` view of the tensor) of the index vectors in
    the last axis of ``idx``, -1 for a vector out of range; and the in-range mask."""
    k = len(lead)
    n = _math.prod(idx.shape[:-1])
    idx2 = idx.reshape(n, k)
    flat = xp.zeros(n, dtype=np.int64)
    ok = xp.ones(n, dtype=bool)
    stride = 1
    for j in reversed(range(k)):
        col = idx2[:, j].astype(np.int64)
        ok &= (col >= 0) & (col < lead[j])
        flat += col * stride
        stride *= int(lead[j])
    return xp.where(ok, flat, -1), ok


def _check_rows(ok, idx, tshape, opname):
    """Raises TF's error for the first index vector out of range (at once on the CPU; on the
    GPU through the device error flag, without a host synchronisation)."""
    try:
        check_in_range(ok.astype(np.int8), 1, 1,
                       f"{opname}: an index vector of indices does not index into the tensor")
    except InvalidArgumentError:
        okh, ih = to_numpy(ok), to_numpy(idx).reshape(ok.shape[0], -1)
        bad = int(np.flatnonzero(~okh)[0])
        outer = tuple(idx.shape[:-1])
        where = ",".join(str(int(p)) for p in np.unravel_index(bad, outer)) if outer else ""
        raise InvalidArgumentIndexError(
            f"{opname}: indices[{where}] = [{', '.join(str(int(v)) for v in ih[bad])}] does "
            f"not index into shape {_dbg(tshape)}") from None


def _plan(t_shape, idx):
    """``(flat rows, in-range mask, number of rows, inner shape)`` of a scatter into a tensor
    of ``t_shape`` (rows -1 where out of range)."""
    lead = tuple(t_shape[:idx.shape[-1]])
    flat, ok = _rows_of(array_module(idx), idx, lead)
    return flat, ok, _math.prod(lead), tuple(t_shape[len(lead):])


def _last_writer(xp, flat, rows):
    """For each row, the position of the last update that writes it (int64 min if none)."""
    return _k_unsorted(xp.arange(flat.shape[0], dtype=np.int64), flat, rows, "max")


def _sum_rows(u2, flat, rows):
    if u2.dtype.kind == "c":  # the segment kernels take real numbers: sum each part
        return (_k_unsorted(u2.real, flat, rows, "sum") +
                1j * _k_unsorted(u2.imag, flat, rows, "sum")).astype(u2.dtype)
    return _k_unsorted(u2, flat, rows, "sum")


def _scatter_fwd(mode):
    opname = f"tensor_scatter_nd_{mode}"

    def fwd(xp, t, idx, u):
        flat, ok, rows, inner = _plan(t.shape, idx)
        _check_rows(ok, idx, t.shape, opname)
        t2 = t.reshape((rows,) + inner)
        u2 = u.reshape((flat.shape[0],) + inner)
        if mode in ("add", "sub"):
            s = _sum_rows(u2, flat, rows)
            return (t2 + s if mode == "add" else t2 - s).reshape(t.shape)
        last = _last_writer(xp, flat, rows)
        hit = (last >= 0).reshape((rows,) + (1,) * len(inner))
        if mode == "update":
            new = u2[xp.maximum(last, 0)] if flat.shape[0] else t2
        else:
            s = _k_unsorted(u2, flat, rows, mode)
            new = xp.maximum(t2, s) if mode == "max" else xp.minimum(t2, s)
        return xp.where(hit, new, t2).reshape(t.shape)
    return fwd


def _gather_slices(g, flat, rows, inner, out_shape):
    """``gather_nd(g, indices)`` on the flat rows, zero slices for rows -1 (differentiable)."""
    return reshape(_gather_rows(reshape(g, (rows,) + inner), flat, True), out_shape)


def _add_vjp(sign):
    def vjp(g, ans, inputs, attrs, needs):
        t, idx, u = inputs
        gu = None
        if needs[2]:
            flat, _, rows, inner = _plan(tuple(t.shape), idx._data)
            gu = _gather_slices(g, flat, rows, inner, tuple(u.shape))
            gu = gu if sign > 0 else negative(gu)
        return [g, None, gu]
    return vjp


def _update_vjp(g, ans, inputs, attrs, needs):
    # TF: tensor_scatter_update(grad, indices, zeros) for the tensor; the updates get the
    # gradient of the slices they wrote, which with duplicates is only the last writer's
    t, idx, u = inputs
    gt = _SCATTER["update"](g, idx, zeros_like(u, dtype=g.dtype)) if needs[0] else None
    gu = None
    if needs[2]:
        flat, _, rows, inner = _plan(tuple(t.shape), idx._data)
        xp = array_module(flat)
        n = flat.shape[0]
        won = _last_writer(xp, flat, rows)[xp.maximum(flat, 0)] == xp.arange(n)
        gu = _gather_slices(g, xp.where(won, flat, -1), rows, inner, tuple(u.shape))
    return [gt, None, gu]


def _minmax_vjp(g, ans, inputs, attrs, needs):
    # TF's _TensorScatterMinOrMaxGrad: ties split the gradient evenly
    t, idx, u = inputs
    flat, _, rows, inner = _plan(tuple(t.shape), idx._data)
    n = flat.shape[0]
    x_ind = cast(equal(t, ans), g.dtype)
    y_ind = cast(equal(u, _gather_slices(ans, flat, rows, inner, tuple(u.shape))), g.dtype)
    ys = unsorted_segment_sum(reshape(y_ind, (n,) + inner), flat, rows)
    ind = x_ind + reshape(ys, tuple(t.shape))
    gt = divide(g * x_ind, ind) if needs[0] else None
    gu = _gather_slices(divide(g, ind), flat, rows, inner, tuple(u.shape)) * y_ind \
        if needs[2] else None
    return [gt, None, gu]


_SCATTER = {m: register(f"tensor_scatter_nd_{m}", _scatter_fwd(m))
            for m in ("update", "add", "sub", "max", "min")}
defvjp_all(_SCATTER["update"], _update_vjp)
defvjp_all(_SCATTER["add"], _add_vjp(1))
defvjp_all(_SCATTER["sub"], _add_vjp(-1))
defvjp_all(_SCATTER["max"], _minmax_vjp)
defvjp_all(_SCATTER["min"], _minmax_vjp)


def _check_scatter(opname, t, idx, u):
    ts, ishp, us = tuple(t.shape), tuple(idx.shape), tuple(u.shape)
    if idx.dtype not in (np.int32, np.int64):
        raise TypeError(f"{opname}: indices must be int32 or int64, got {idx.dtype}")
    if not ishp:
        raise InvalidArgumentError(f"{opname}: Indices shape must have rank at least one. "
                                   f"Found:{_dbg(ishp)}")
    if not us:
        raise InvalidArgumentError(f"{opname}: Updates shape must have rank at least one. "
                                   f"Found:{_dbg(us)}")
    if not ts:
        raise InvalidArgumentError(f"{opname}: Output must be at least 1-D, got shape: []")
    sizes = (_math.prod(ts), _math.prod(ishp), _math.prod(us))
    if not (sizes[1] == sizes[2] == 0 or all(sizes)):
        raise InvalidArgumentError(f"{opname}: Indices and updates specified for empty "
                                   "output shape")
    outer, k = len(ishp) - 1, ishp[-1]
    if ishp[:-1] != us[:outer]:
        raise InvalidArgumentError(f"{opname}: Outer dimensions of indices and update must "
                                   f"match. Indices shape: {_dbg(ishp)}, updates shape:"
                                   f"{_dbg(us)}")
    if len(us) - outer != len(ts) - k:
        raise InvalidArgumentError(f"{opname}: Inner dimensions of output shape must match "
                                   f"inner dimensions of updates shape. Output: {_dbg(ts)} "
                                   f"updates: {_dbg(us)}")
    if us[outer:] != ts[k:]:
        raise InvalidArgumentError(
            f"{opname}: The inner {len(ts) - k} dimensions of output.shape={_dbg(ts)} must "
            f"match the inner {len(us) - outer} dimensions of updates.shape={_dbg(us)}")
    if outer == 0:  # TF's kernels fail every rank-1 indices (the docs ask for 2 axes)
        raise InvalidArgumentError(f"{opname}: indices must have at least 2 axes "
                                   f"(num_updates, index_depth), got shape {_dbg(ishp)}")
    if k == 0 and sizes[0]:
        raise InvalidArgumentError(f"{opname}: Only indices.shape[-1] values between 1 and "
                                   "5 are currently supported.  Requested rank: 0")


_KINDS = {"update": "?biufcO", "add": "iufc", "sub": "iufc", "max": "iuf", "min": "iuf"}


def _tensor_scatter(mode, tensor, indices, updates):
    opname = f"tensor_scatter_nd_{mode}"
    t, u = _matching(opname, ("tensor", "updates"), tensor, updates)
    if t.dtype.kind not in _KINDS[mode]:
        raise TypeError(f"{opname}: tensor of dtype {t.dtype} is not supported "
                        f"({'real numbers' if mode in ('max', 'min') else 'numbers'} only)")
    idx = _on(indices, t)
    _check_scatter(opname, t, idx, u)
    return _SCATTER[mode](t, idx, u)


def _scatter_doc(mode, what, example):
    return f"""{what} (``tf.tensor_scatter_nd_{mode}``).

    ``indices`` has shape ``batch + (k,)``: each index vector of length ``k`` addresses a
    slice ``tensor[i_0, ..., i_k-1]``; ``updates`` has shape ``batch + tensor.shape[k:]``.

    Args:
        tensor: the tensor to update (a copy is returned).
        indices: int32/int64 tensor of rank >= 2.
        updates: values of ``tensor``'s dtype (Python values are converted to it).

    Returns:
        A tensor of ``tensor``'s shape and dtype.

    Raises:
        InvalidArgumentError: shapes that do not match (TF's messages), a dtype mismatch;
            an index vector out of range (``InvalidArgumentIndexError``, also an
            IndexError) at once on the CPU, at ``ef.kernels.check_errors()`` on the GPU,
            where the update is skipped as TF's GPU kernel does.
        TypeError: indices not int32/int64, or an unsupported dtype.

    Example:
        >>> import eagerflow as ef
        >>> ef.tensor_scatter_nd_{mode}([1, 2, 3, 4], [[1], [3], [1]], [5, 6, 7]).numpy().tolist()
        {example}
    """


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    return _tensor_scatter("update", tensor, indices, updates)


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    return _tensor_scatter("add", tensor, indices, updates)


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    return _tensor_scatter("sub", tensor, indices, updates)


def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    return _tensor_scatter("max", tensor, indices, updates)


def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    return _tensor_scatter("min", tensor, indices, updates)


tensor_scatter_nd_update.__doc__ = _scatter_doc(
    "update", "Replaces the slices of ``tensor`` at ``indices`` with ``updates``", "[1, 7, 3, 6]"
) + """
    Duplicate indices: TF leaves the winner undefined; here the last update in
    ``indices`` order wins, deterministically on both backends, and only that update gets
    a gradient (TF gives every duplicate the gradient). The tensor's gradient is zero at
    the updated slices.
    """
tensor_scatter_nd_add.__doc__ = _scatter_doc(
    "add", "Adds ``updates`` to the slices of ``tensor`` at ``indices``; duplicates add up",
    "[1, 14, 3, 10]")
tensor_scatter_nd_sub.__doc__ = _scatter_doc(
    "sub", "Subtracts ``updates`` from the slices of ``tensor`` at ``indices``; duplicates "
    "add up", "[1, -10, 3, -2]")
tensor_scatter_nd_max.__doc__ = _scatter_doc(
    "max", "Elementwise maximum of ``tensor``'s slices at ``indices`` and ``updates``; the "
    "gradient is TF's (ties share it)", "[1, 7, 3, 6]")
tensor_scatter_nd_min.__doc__ = _scatter_doc(
    "min", "Elementwise minimum of ``tensor``'s slices at ``indices`` and ``updates``; the "
    "gradient is TF's (ties share it)", "[1, 2, 3, 4]")
