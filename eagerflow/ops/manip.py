"""Tensor manipulation ops TF files at the top level (``tf.roll``, ``tf.repeat``,
``tf.dynamic_partition``, ``tf.searchsorted``...; ``tensor_scatter_nd_*`` are in
:mod:`.tensor_scatter`, the space/batch ops in :mod:`.space_batch`).

Arguments that fix an output's shape (roll's ``shift``/``axis``, ``repeats``, ``nbins``,
``dims``, partitions, stitch indices) are read on the host, where TF keeps them too; data
stay on their device, and GPU range checks go to the device error flag.
"""
import math as _math

import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, TensorShape, _wrap, convert_to_tensor
from ..backend import array_module, to_numpy
from ..backend.dtypes import as_dtype
from ..errors import InvalidArgumentError
from ..kernels.range_check import check_in_range
from ..kernels.segment_reduce import unsorted_segment_reduce as _k_unsorted
from .array import broadcast_to, concat, reshape, shape, split, stack
from .control_flow import _convert_value
from .indexing import _to_array_on, gather
from .math import divide
from .segment import _gather_rows

__all__ = ["roll", "repeat", "meshgrid", "searchsorted", "histogram_fixed_width",
           "histogram_fixed_width_bins", "unravel_index", "shape_n", "reverse_sequence",
           "dynamic_partition", "dynamic_stitch", "broadcast_dynamic_shape",
           "broadcast_static_shape", "parallel_stack", "realdiv"]


# --- helpers ------------------------------------------------------------------------------
def _dbg(shp):
    """A shape as TF's ``TensorShape::DebugString`` writes it: ``[2,3]``."""
    return "[" + ",".join(str(int(d)) for d in shp) + "]"


def _tensor(v):
    return v if isinstance(v, Tensor) else convert_to_tensor(v)


def _on(v, like):
    """``v`` as a Tensor on the device of the Tensor ``like`` (Python ints -> int32)."""
    return v if isinstance(v, Tensor) else _wrap(_to_array_on(v, array_module(like._data)))


def _host(v):
    """``v`` (a Tensor, array or nested list) as a NumPy array, read on the host."""
    return to_numpy(v._data) if isinstance(v, Tensor) else np.asarray(v)


def _host_ints(v, what):
    a = _host(v)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise TypeError(f"{what} must hold integers, got dtype {a.dtype}")
    if a.ndim > 1:
        raise InvalidArgumentError(f"{what} must be a scalar or a 1-D vector. Found: "
                                   f"{_dbg(a.shape)}")
    return a.astype(np.int64)


def _matching(opname, names, *values):
    """The values as Tensors of one dtype, as TF's eager op call converts them: the first
    Tensor's dtype (else the first value's own) is used to convert the Python values."""
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    out = []
    for name, v in zip(names, values):
        if not isinstance(v, Tensor):  # TF refuses 1.5 -> int32, True -> float32...
            v = convert_to_tensor(v) if dtype is None else \
                _convert_value(v, dtype, f"{opname}: {name}")
        elif dtype is not None and v.dtype != dtype:
            raise InvalidArgumentError(f"{opname}: {name} must have dtype {dtype} like "
                                       f"{names[0]}, got a {v.dtype} tensor")
        dtype = v.dtype
        out.append(v)
    return out


# --- roll / repeat / meshgrid ---------------------------------------------------------------
_roll = register("roll", lambda xp, a, shift, axis: xp.roll(a, shift, axis))
defvjp(_roll, lambda g, ans, x, shift, axis: _roll(g, shift=tuple(-s for s in shift),
                                                   axis=axis))


def roll(input, shift, axis, name=None):
    """Rolls the elements of ``input`` by ``shift`` along ``axis`` (``tf.roll``).

    Args:
        input: a tensor of rank >= 1.
        shift: int or 1-D ints; element ``i`` moves to ``i + shift`` (mod the size).
        axis: int or 1-D ints of ``shift``'s shape; negative axes count from the end; an
            axis given twice rolls by the sum of its shifts.

    Returns:
        A tensor like ``input``; differentiable (the gradient rolls back).

    Raises:
        InvalidArgumentError: rank-0 input, shift/axis of rank > 1 or of other shapes, an
            axis out of range (TF's messages).

    Example:
        >>> import eagerflow as ef
        >>> ef.roll([0, 1, 2, 3, 4], shift=2, axis=0).numpy().tolist()
        [3, 4, 0, 1, 2]
    """
    x = _tensor(input)
    if x.ndim == 0:
        raise InvalidArgumentError("roll: input must be 1-D or higher")
    s, a = _host_ints(shift, "roll: shift"), _host_ints(axis, "roll: axis")
    if s.shape != a.shape:
        raise InvalidArgumentError(f"roll: shift and axis must have the same size, got shift "
                                   f"shape {_dbg(s.shape)} and axis shape {_dbg(a.shape)}")
    total = {}
    for sh, ax in zip(s.reshape(-1).tolist(), a.reshape(-1).tolist()):
        if not -x.ndim <= ax < x.ndim:
            raise InvalidArgumentError(f"roll: axis {ax} is out of range for an input of "
                                       f"rank {x.ndim}")
        total[ax % x.ndim] = total.get(ax % x.ndim, 0) + sh
    axes = tuple(sorted(total))
    shifts = tuple(total[ax] % x.shape[ax] if x.shape[ax] else 0 for ax in axes)
    return _roll(x, shift=shifts, axis=axes)


def repeat(input, repeats, axis=None, name=None):
    """Repeats each element (or slice along ``axis``) of ``input`` (``tf.repeat``).

    Args:
        input: a tensor; a scalar counts as a vector of one element.
        repeats: an int, or 1-D ints with one count per slice along ``axis`` (a length-1
            vector broadcasts); negative counts in a vector give no copies, as in TF.
        axis: the axis to repeat along; ``None`` flattens ``input`` first.

    Returns:
        A tensor whose ``axis`` has ``sum(repeats)`` entries; differentiable (a gather).
        ``repeats`` is read on the host (the output shape depends on it).

    Raises:
        ValueError: repeats of rank > 1 or of the wrong length, axis out of range.
        InvalidArgumentError: a negative scalar ``repeats``.

    Example:
        >>> import eagerflow as ef
        >>> ef.repeat([[1, 2], [3, 4]], repeats=[2, 3], axis=0).numpy().tolist()
        [[1, 2], [1, 2], [3, 4], [3, 4], [3, 4]]
    """
    x = _tensor(input)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    elif x.ndim == 0:
        x = reshape(x, (1,))
    axis = int(axis)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"repeat: axis {axis} is out of range for a tensor of rank {x.ndim}")
    axis %= x.ndim
    r = _host(repeats)
    if r.ndim > 1:
        raise ValueError(f"repeat: repeats must have rank at most 1, got shape {r.shape}")
    if r.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must hold integers, got dtype {r.dtype}")
    n = x.shape[axis]
    if r.size == 1 and int(r.reshape(())) < 0:
        raise InvalidArgumentError(f"repeat: Expected multiples argument to be nonnegative, "
                                   f"but got {int(r.reshape(()))}")
    if r.size == 1:
        r = np.full(n, int(r.reshape(())))
    elif r.size != n:
        raise ValueError(f"repeat: Dimensions {n} and {r.size} are not compatible (repeats "
                         f"needs one count per entry of axis {axis})")
    src = np.repeat(np.arange(n, dtype=np.int64), np.maximum(r.astype(np.int64), 0))
    return gather(x, _on(src, x), axis=axis)


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D coordinate vectors (``tf.meshgrid``).

    Args:
        *args: N tensors (any rank; each is flattened) of one dtype.
        indexing: ``'xy'`` (Cartesian: the first two output axes are swapped) or ``'ij'``
            (matrix indexing).

    Returns:
        A list of N tensors of shape ``(len(y), len(x), ...)`` ('xy') or ``(len(x),
        len(y), ...)`` ('ij'); differentiable (broadcasts).

    Raises:
        ValueError: another ``indexing``. TypeError: an unknown keyword argument.
        InvalidArgumentError: inputs of different dtypes.

    Example:
        >>> import eagerflow as ef
        >>> X, Y = ef.meshgrid([1, 2, 3], [4, 5])
        >>> X.numpy().tolist(), Y.numpy().tolist()
        ([[1, 2, 3], [1, 2, 3]], [[4, 4, 4], [5, 5, 5]])
    """
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this "
                        "function")
    if indexing not in ("xy", "ij"):
        raise ValueError("Argument `indexing` parameter must be either 'xy' or 'ij', got "
                         f"'{indexing}'")
    xs = _matching("meshgrid", [f"args[{i}]" for i in range(len(args))], *args)
    nd = len(xs)
    sizes = [_math.prod(x.shape) for x in xs]
    shapes = [(1,) * i + (-1,) + (1,) * (nd - i - 1) for i in range(nd)]
    if indexing == "xy" and nd > 1:
        shapes[0], shapes[1] = shapes[1], shapes[0]
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return [broadcast_to(reshape(x, s), sizes) for x, s in zip(xs, shapes)]


# --- searchsorted / histograms / unravel_index / shape_n --------------------------------------
def _searchsorted_fwd(xp, seq, vals, side, out_type):
    n = seq.shape[-1]
    b = _math.prod(seq.shape[:-1])
    s2, v2 = seq.reshape(b, n), vals.reshape(b, -1 if b else vals.shape[-1])
    lo = xp.zeros(v2.shape, dtype=np.int64)
    hi = xp.full(v2.shape, n, dtype=np.int64)
    for _ in range(n.bit_length() if b else 0):  # a batched binary search, no host reads
        mid = (lo + hi) // 2
        at = xp.take_along_axis(s2, xp.minimum(mid, n - 1), axis=1)
        right = (at < v2) if side == "left" else ~(v2 < at)
        live = lo < hi
        lo, hi = xp.where(live & right, mid + 1, lo), xp.where(live & ~right, mid, hi)
    return lo.astype(out_type).reshape(vals.shape)


_searchsorted = register("searchsorted", _searchsorted_fwd)


def searchsorted(sorted_sequence, values, side="left", out_type=np.int32, name=None):
    """Where ``values`` would be inserted into the sorted last axis of ``sorted_sequence``
    (``tf.searchsorted``), batched over the leading dimensions.

    Args:
        sorted_sequence: ``(..., N)`` tensor, each row sorted ascending.
        values: ``(..., M)`` tensor of the same dtype whose leading dimensions hold as many
            rows as ``sorted_sequence``'s.
        side: ``'left'`` (first position ``i`` with ``values <= seq[i]``, lower bound) or
            ``'right'`` (first position with ``values < seq[i]``, upper bound).
        out_type: int32 or int64.

    Returns:
        Indices in ``[0, N]`` of ``values``' shape.

    Raises:
        ValueError: a bad ``side``, a rank-0 input. InvalidArgumentError: row counts that
            differ, dtypes that differ. TypeError: another ``out_type``.

    Example:
        >>> import eagerflow as ef
        >>> ef.searchsorted([[0, 3, 9, 10, 10], [1, 2, 3, 4, 5]],
        ...                 [[2, 4, 10], [0, 5, 6]], side='right').numpy().tolist()
        [[1, 2, 5], [0, 5, 5]]
    """
    if side not in ("left", "right"):
        raise ValueError("Argument `side` must be either 'right' or 'left'. Received: "
                         f"`side` = {side}.")
    out_type = as_dtype(out_type)
    if out_type not in (np.int32, np.int64):
        raise TypeError(f"searchsorted: out_type must be int32 or int64, got {out_type}")
    seq, vals = _matching("searchsorted", ("sorted_sequence", "values"), sorted_sequence,
                          values)
    if seq.ndim == 0 or vals.ndim == 0:
        raise ValueError("searchsorted: sorted_sequence and values must have rank >= 1, got "
                         f"shapes {_dbg(seq.shape)} and {_dbg(vals.shape)}")
    rows = (_math.prod(seq.shape[:-1]), _math.prod(vals.shape[:-1]))
    if rows[0] != rows[1]:
        raise InvalidArgumentError("searchsorted: Leading dim_size of both tensors must "
                                   f"match: {_dbg(seq.shape)} and {_dbg(vals.shape)}")
    return _searchsorted(seq, vals, side=side, out_type=out_type)


def _hist_bins_fwd(xp, v, lo, hi, nbins, dtype):
    if v.dtype.kind in "iu":  # TF's truediv makes them float64
        v = v.astype(np.float64)
    ft = v.dtype.type
    idx = xp.floor(ft(nbins) * ((v - ft(lo)) / (ft(hi) - ft(lo))))
    return xp.clip(idx, 0, nbins - 1).astype(dtype)


def _hist_fwd(xp, v, lo, hi, nbins, dtype):
    lo_t, hi_t = v.dtype.type(lo), v.dtype.type(hi)
    step = float(hi_t - lo_t) / nbins  # TF: the range's difference in T, then double
    b = ((xp.maximum(v, lo_t) - lo_t).astype(np.float64) / step).reshape(-1)
    b = xp.minimum(b, nbins - 1).astype(np.int32)
    return _k_unsorted(xp.ones(b.shape, dtype=dtype), b, nbins, "sum")


_hist_bins = register("histogram_fixed_width_bins", _hist_bins_fwd)
_hist = register("histogram_fixed_width", _hist_fwd)


def _hist_args(opname, values, value_range, nbins, dtype):
    v = _tensor(values)
    r = _host(value_range)
    if r.ndim != 1 or r.size != 2:
        raise InvalidArgumentError(f"{opname}: value_range should be a vector of 2 elements, "
                                   f"got shape {_dbg(r.shape)}")
    r = r.astype(v.dtype)  # value_range converts to values' dtype, as TF's op call does
    nb = _host(nbins)
    if nb.ndim != 0 or nb.dtype.kind not in "iu" or int(nb) <= 0:
        raise InvalidArgumentError(f"{opname}: nbins should be a positive number, but got "
                                   f"'{nb.tolist()}'")
    dtype = as_dtype(dtype)
    if dtype not in (np.int32, np.int64):
        raise TypeError(f"{opname}: dtype must be int32 or int64, got {dtype}")
    return v, r[0].item(), r[1].item(), int(nb), dtype


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=np.int32, name=None):
    """The bin of each of ``values`` in ``nbins`` equal bins over ``value_range``
    (``tf.histogram_fixed_width_bins``).

    Values <= ``value_range[0]`` go to bin 0, values >= ``value_range[1]`` to the last.
    ``value_range`` and ``nbins`` are read on the host (TF keeps them there too).

    Returns:
        Bin indices of ``values``' shape, of ``dtype`` (TF returns int32 whatever dtype).

    Raises:
        InvalidArgumentError: value_range not of 2 elements; nbins not a positive integer.

    Example:
        >>> import eagerflow as ef
        >>> ef.histogram_fixed_width_bins([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0],
        ...                               nbins=5).numpy().tolist()
        [0, 0, 1, 2, 4, 4]
    """
    v, lo, hi, nb, dt = _hist_args("histogram_fixed_width_bins", values, value_range, nbins,
                                   dtype)
    return _hist_bins(v, lo=lo, hi=hi, nbins=nb, dtype=dt)


def histogram_fixed_width(values, value_range, nbins=100, dtype=np.int32, name=None):
    """Counts ``values`` in ``nbins`` equal-width bins over ``value_range``
    (``tf.histogram_fixed_width``); outliers count in the first or last bin.

    Returns:
        A 1-D tensor of ``nbins`` counts of ``dtype`` (int32 or int64).

    Raises:
        InvalidArgumentError: value_range not 2 elements with ``value_range[0] <
            value_range[1]``; nbins not positive (TF's messages).

    Example:
        >>> import eagerflow as ef
        >>> ef.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15], [0.0, 5.0],
        ...                          nbins=5).numpy().tolist()
        [2, 1, 1, 0, 2]
    """
    v, lo, hi, nb, dt = _hist_args("histogram_fixed_width", values, value_range, nbins, dtype)
    if not lo < hi:
        raise InvalidArgumentError("histogram_fixed_width: value_range should satisfy "
                                   f"value_range[0] < value_range[1], but got '[{lo}, {hi}]'")
    return _hist(v, lo=lo, hi=hi, nbins=nb, dtype=dt)


def _unravel_fwd(xp, idx, dims):
    check_in_range(idx, 0, _math.prod(dims) - 1,
                   "unravel_index: index is out of bound as with dims (indices in [{lo}, {hi}])")
    if not dims:
        return xp.zeros((0,) + idx.shape, dtype=idx.dtype)
    return xp.stack([(idx // _math.prod(dims[k + 1:])) % d for k, d in enumerate(dims)])


_unravel = register("unravel_index", _unravel_fwd)


def unravel_index(indices, dims, name=None):
    """Converts flat ``indices`` into coordinate arrays of a shape ``dims``
    (``tf.unravel_index``, row-major).

    Args:
        indices: int32/int64 scalar or vector of flat indices in ``[0, prod(dims))``.
        dims: 1-D positive ints (read on the host).

    Returns:
        A tensor of ``indices``' dtype and shape ``(len(dims),) + indices.shape``.

    Raises:
        InvalidArgumentError: indices of rank > 1, dims not 1-D or not positive, an index
            out of range (on the GPU at ``ef.kernels.check_errors()``).

    Example:
        >>> import eagerflow as ef
        >>> ef.unravel_index([2, 5, 7], [3, 3]).numpy().tolist()
        [[0, 1, 2], [2, 2, 1]]
    """
    idx = _tensor(indices)
    if idx.ndim > 1:
        raise InvalidArgumentError(f'unravel_index: The indices can only be scalar or vector, '
                                   f'got "{_dbg(idx.shape)}"')
    if idx.dtype not in (np.int32, np.int64):
        raise TypeError(f"unravel_index: indices must be int32 or int64, got {idx.dtype}")
    d = _host(dims)
    if d.ndim != 1:
        raise InvalidArgumentError(f'unravel_index: The dims can only be 1-D, got '
                                   f'"{_dbg(d.shape)}"')
    for i, v in enumerate(d.tolist()):
        if v <= 0:
            raise InvalidArgumentError(
                f"unravel_index: Input dims cannot contain a dim of zero, but dims contains "
                f"zero at index {i}" if v == 0 else
                f"unravel_index: Input dims cannot be negative. Got dim = {v} at index {i}")
    return _unravel(idx, dims=tuple(int(v) for v in d))


def shape_n(input, out_type=np.int32, name=None):
    """The shapes of a list of tensors, each as a 1-D int tensor (``tf.shape_n``).

    Args:
        input: a list of tensors (or values ``convert_to_tensor`` takes).
        out_type: int32 (default) or int64.

    Returns:
        A list of 1-D tensors of ``out_type``, one shape per input.

    Raises:
        TypeError: ``out_type`` other than int32 / int64.

    Example:
        >>> import eagerflow as ef
        >>> [s.numpy().tolist() for s in ef.shape_n([ef.zeros((2, 3)), ef.constant(1.0)])]
        [[2, 3], []]
    """
    out_type = as_dtype(out_type)
    if out_type not in (np.int32, np.int64):
        raise TypeError(f"shape_n: out_type must be int32 or int64, got {out_type}")
    return [shape(_tensor(x), out_type=out_type) for x in input]


# --- reverse_sequence ---------------------------------------------------------------------
def _reverse_sequence_fwd(xp, a, lengths, seq_axis, batch_axis):
    steps = a.shape[seq_axis]
    check_in_range(lengths, 0, steps, "reverse_sequence: seq_lengths hold values in "
                   "[{lo}, {hi}]; each must be in [0, input.dims(seq_axis)]")
    lens = lengths.astype(np.int64).reshape(-1, 1)
    j = xp.arange(steps, dtype=np.int64)
    src = xp.clip(xp.where(j < lens, lens - 1 - j, j), 0, max(steps - 1, 0))  # (batch, steps)
    if batch_axis > seq_axis:
        src = src.T
    shp = [1] * a.ndim
    shp[batch_axis], shp[seq_axis] = a.shape[batch_axis], steps
    return xp.take_along_axis(a, xp.broadcast_to(src.reshape(shp), a.shape), axis=seq_axis)


_reverse_sequence = register("reverse_sequence", _reverse_sequence_fwd)
# reversing the first L entries is its own inverse and a permutation: its own adjoint
defvjp(_reverse_sequence, lambda g, ans, x, lengths, seq_axis, batch_axis: _reverse_sequence(
    g, lengths, seq_axis=seq_axis, batch_axis=batch_axis))


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=0, name=None):
    """Reverses the first ``seq_lengths[b]`` entries along ``seq_axis`` of each batch entry
    ``b`` along ``batch_axis`` (``tf.reverse_sequence``).

    Args:
        input: a tensor of rank >= 2.
        seq_lengths: 1-D ints of length ``input.shape[batch_axis]``, each in
            ``[0, input.shape[seq_axis]]``.
        seq_axis: the axis to reverse (required; negative counts from the end).
        batch_axis: the batch axis (default 0).

    Returns:
        A tensor like ``input``; differentiable w.r.t. ``input``.

    Raises:
        InvalidArgumentError: a missing or bad axis, seq_axis == batch_axis, seq_lengths of
            the wrong size; lengths out of range (on the GPU at ``check_errors()``).

    Example:
        >>> import eagerflow as ef
        >>> ef.reverse_sequence([[1, 2, 3, 4], [5, 6, 7, 8]], [3, 0],
        ...                     seq_axis=1).numpy().tolist()
        [[3, 2, 1, 4], [5, 6, 7, 8]]
    """
    x = _tensor(input)
    lengths = _on(seq_lengths, x)
    if seq_axis is None:
        raise InvalidArgumentError("reverse_sequence: seq_axis is required")
    nd = x.ndim
    sa, ba = int(seq_axis), int(batch_axis)
    for what, ax in (("seq_axis", sa), ("batch_axis", ba)):
        if not -nd <= ax < nd:
            raise InvalidArgumentError(f"reverse_sequence: {what} must be < input rank "
                                       f"( {ax} vs. {nd})")
    sa, ba = sa % nd, ba % nd
    if sa == ba:
        raise InvalidArgumentError(f"reverse_sequence: batch_dim == seq_dim == {sa}")
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1:
        raise InvalidArgumentError(f"reverse_sequence: seq_lengths must be a 1-D int tensor, "
                                   f"got shape {_dbg(lengths.shape)} of {lengths.dtype}")
    if lengths.shape[0] != x.shape[ba]:
        raise InvalidArgumentError(f"reverse_sequence: Length of seq_lengths != input.dims("
                                   f"{ba}), ({lengths.shape[0]} vs. {x.shape[ba]})")
    return _reverse_sequence(x, lengths, seq_axis=sa, batch_axis=ba)


# --- dynamic_partition / dynamic_stitch -----------------------------------------------------
def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits ``data`` into ``num_partitions`` tensors by ``partitions``
    (``tf.dynamic_partition``): ``outputs[i]`` holds the slices ``data[j]`` with
    ``partitions[j] == i``, in order.

    ``partitions`` is read on the host (a synchronisation on the GPU): the output shapes
    depend on it.

    Args:
        data: a tensor whose shape starts with ``partitions.shape``.
        partitions: ints in ``[0, num_partitions)``.
        num_partitions: int >= 1.

    Returns:
        A list of ``num_partitions`` tensors; differentiable w.r.t. ``data``.

    Raises:
        InvalidArgumentError: shapes that do not match; a partition out of range (TF's
            ``partitions[i] = v is not in [0, n)``); num_partitions < 1.

    Example:
        >>> import eagerflow as ef
        >>> parts = ef.dynamic_partition([10, 20, 30, 40, 50], [0, 0, 1, 1, 0], 2)
        >>> [p.numpy().tolist() for p in parts]
        [[10, 20, 50], [30, 40]]
    """
    d = _tensor(data)
    n_parts = int(num_partitions)
    if n_parts < 1:
        raise InvalidArgumentError(f"dynamic_partition: num_partitions must be at least 1, "
                                   f"got {n_parts}")
    p = _host(partitions)
    if p.dtype.kind not in "iu":
        raise TypeError(f"dynamic_partition: partitions must be integers, got {p.dtype}")
    if tuple(d.shape[:p.ndim]) != p.shape:
        raise InvalidArgumentError(
            f"dynamic_partition: data.shape must start with partitions.shape, got "
            f"data.shape = {_dbg(d.shape)}, partitions.shape = {_dbg(p.shape)}")
    pf = p.reshape(-1).astype(np.int64)
    bad = np.flatnonzero((pf < 0) | (pf >= n_parts))
    if bad.size:
        where = ",".join(str(int(i)) for i in np.unravel_index(bad[0], p.shape))
        raise InvalidArgumentError(f"dynamic_partition: partitions[{where}] = "
                                   f"{pf[bad[0]]} is not in [0, {n_parts})")
    order = np.argsort(pf, kind="stable")
    counts = np.bincount(pf, minlength=n_parts).tolist()
    flat = reshape(d, (pf.size,) + tuple(d.shape[p.ndim:]))
    return split(gather(flat, _on(order, d)), counts, axis=0)


def dynamic_stitch(indices, data, name=None):
    """Interleaves the values of ``data`` into one tensor by ``indices``
    (``tf.dynamic_stitch``): ``merged[indices[m][i], ...] = data[m][i, ...]``.

    Later entries win on duplicate indices (``m`` then ``i`` order, as TF); rows no index
    names are zero. ``indices`` are read on the host (the output size is ``max + 1``).

    Args:
        indices: a list of int tensors.
        data: a list of tensors of one dtype, ``data[m].shape = indices[m].shape + C``.

    Returns:
        A tensor of shape ``(max(indices) + 1,) + C``; differentiable w.r.t. ``data`` (an
        entry that a later one overwrites gets no gradient; TF gives it one).

    Raises:
        InvalidArgumentError: empty or unequal lists, bad shapes, a negative index.

    Example:
        >>> import eagerflow as ef
        >>> ef.dynamic_stitch([[6], [4, 1], [[5, 2], [0, 3]]],
        ...                   [[61], [41, 11], [[51, 21], [1, 31]]]).numpy().tolist()
        [1, 11, 21, 31, 41, 51, 61]
    """
    indices, data = list(indices), list(data)
    if not indices or len(indices) != len(data):
        raise InvalidArgumentError(f"dynamic_stitch: needs as many data as indices tensors "
                                   f"(at least one), got {len(indices)} and {len(data)}")
    vals = _matching("dynamic_stitch", [f"data[{m}]" for m in range(len(data))], *data)
    idx = [_host(i) for i in indices]
    for m, (i, v) in enumerate(zip(idx, vals)):
        if i.dtype.kind not in "iu" and i.size:
            raise TypeError(f"dynamic_stitch: indices[{m}] must be integers, got {i.dtype}")
        if tuple(v.shape[:i.ndim]) != i.shape:
            raise InvalidArgumentError(
                f"dynamic_stitch: data[{m}].shape = {_dbg(v.shape)} does not start with "
                f"indices[{m}].shape = {_dbg(i.shape)}")
        if tuple(v.shape[i.ndim:]) != tuple(vals[0].shape[idx[0].ndim:]):
            raise InvalidArgumentError(
                f"dynamic_stitch: Need data[0].shape[{idx[0].ndim}:] = data[{m}].shape["
                f"{i.ndim}:], got data[0].shape = {_dbg(vals[0].shape)}, data[{m}].shape = "
                f"{_dbg(v.shape)}, indices[0].shape = {_dbg(idx[0].shape)}, indices[{m}]"
                f".shape = {_dbg(i.shape)}")
        if i.size and i.min() < 0:
            raise InvalidArgumentError(f"dynamic_stitch: indices[{int(np.argmin(i))}] is out "
                                       f"of range (indices[{m}] holds {int(i.min())})")
    flat = np.concatenate([i.reshape(-1).astype(np.int64) for i in idx])
    rows = int(flat.max()) + 1 if flat.size else 0
    pos = np.full(rows, -1, dtype=np.int64)
    np.maximum.at(pos, flat, np.arange(flat.size, dtype=np.int64))  # the last writer wins
    inner = tuple(vals[0].shape[idx[0].ndim:])
    parts = [reshape(v, (i.size,) + inner) for i, v in zip(idx, vals)]
    merged = concat(parts, axis=0) if len(parts) > 1 else parts[0]
    return _gather_rows(merged, _on(pos, merged)._data, bool((pos < 0).any()))


# --- broadcast shapes / parallel_stack / realdiv ---------------------------------------------
def _broadcast_dims(x, y):
    """The broadcast of two shapes (None = unknown), or None when incompatible."""
    x, y = list(x), list(y)
    n = max(len(x), len(y))
    x, y = [1] * (n - len(x)) + x, [1] * (n - len(y)) + y
    out = []
    for a, b in zip(x, y):
        if a is None or b is None:
            known = b if a is None else a
            out.append(known if known is not None and known > 1 else None)
        elif a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            return None
    return out


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast of two shapes given as 1-D int tensors (``tf.broadcast_dynamic_shape``).

    Args:
        shape_x, shape_y: 1-D int32/int64 tensors or lists (read on the host).

    Returns:
        A 1-D tensor of the inputs' int dtype (int32 for Python lists).

    Raises:
        InvalidArgumentError: ``Incompatible shapes: [2,3] vs. [4]`` (TF's message), inputs
            that are not 1-D ints.

    Example:
        >>> import eagerflow as ef
        >>> ef.broadcast_dynamic_shape([1, 2, 3], [5, 1, 3]).numpy().tolist()
        [5, 2, 3]
    """
    sx, sy = _matching("broadcast_dynamic_shape", ("shape_x", "shape_y"), shape_x, shape_y)
    if sx.dtype not in (np.int32, np.int64) or sx.ndim != 1 or sy.ndim != 1:
        raise InvalidArgumentError("broadcast_dynamic_shape: shape_x and shape_y must be 1-D "
                                   f"int32/int64 tensors, got {_dbg(sx.shape)} and "
                                   f"{_dbg(sy.shape)} of {sx.dtype}")
    hx, hy = _host(sx).tolist(), _host(sy).tolist()
    dims = _broadcast_dims(hx, hy)
    if dims is None:
        raise InvalidArgumentError(f"Incompatible shapes: {_dbg(hx)} vs. {_dbg(hy)}")
    return _on(np.asarray(dims, dtype=sx.dtype), sx)


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast of two ``TensorShape`` (or tuples; None = unknown dimension)
    (``tf.broadcast_static_shape``).

    Returns:
        A ``TensorShape``; a dimension unknown in both stays None.

    Raises:
        ValueError: shapes that cannot broadcast (TF's message).

    Example:
        >>> import eagerflow as ef
        >>> ef.broadcast_static_shape(ef.TensorShape([1, 2, 3]), ef.TensorShape([5, 1, 3]))
        TensorShape([5, 2, 3])
    """
    sx, sy = TensorShape(shape_x), TensorShape(shape_y)
    dims = _broadcast_dims(sx, sy)
    if dims is None:
        raise ValueError("Incompatible shapes for broadcasting. Two shapes are compatible if "
                         "for each dimension pair they are either equal or one of them is 1. "
                         f"Received: {tuple(sx)} and {tuple(sy)}.")
    return TensorShape(dims)


def parallel_stack(values, name=None):
    """Stacks a list of same-shape tensors on a new first axis (``tf.parallel_stack``;
    eager, so the same as ``stack(values, axis=0)``).

    Returns:
        A tensor of shape ``(len(values),) + values[0].shape``; differentiable.

    Raises:
        ValueError / TypeError: an empty list, shapes or dtypes that differ.

    Example:
        >>> import eagerflow as ef
        >>> ef.parallel_stack([[1, 4], [2, 5], [3, 6]]).numpy().tolist()
        [[1, 4], [2, 5], [3, 6]]
    """
    return stack([_tensor(v) for v in values], axis=0)


def realdiv(x, y, name=None):
    """``x / y`` elementwise for floating or complex tensors of one dtype, broadcasting
    (``tf.realdiv``).

    Returns:
        A tensor of the broadcast shape and the inputs' dtype; differentiable.

    Raises:
        TypeError: integer or bool inputs (TF has no RealDiv kernel for them).
        InvalidArgumentError: inputs of different dtypes.

    Example:
        >>> import eagerflow as ef
        >>> ef.realdiv([1.0, 3.0], 2.0).numpy().tolist()
        [0.5, 1.5]
    """
    x, y = _matching("realdiv", ("x", "y"), x, y)
    if x.dtype.kind not in "fcV":
        raise TypeError(f"realdiv: x and y must be floating or complex, got {x.dtype} (RealDiv "
                        "has no integer kernel; use ef.truediv or ef.floordiv)")
    return divide(x, y)
