"""Shape ops: reshape, transpose, expand_dims, squeeze, concat, stack, unstack, split, tile,
pad, slice, broadcast_to, reverse, and shape/rank/size queries."""
import builtins

import numpy as np

from ..autograd.registry import defvjp, defvjp_all, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module
from ..backend.dtypes import DATATYPE_ENUM, as_dtype, bfloat16
from ..errors import InvalidArgumentError
from ..kernels import concat as _kconcat
from .broadcast import unbroadcast
from .reduce import normalize_axis, reduce_sum

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "unstack",
           "split", "tile", "pad", "slice", "broadcast_to", "reverse", "shape", "rank",
           "size", "matrix_transpose", "flatten_outer", "to_device", "sequence_mask",
           "saturate_cast", "bitcast"]


def _ndim(x):
    return x.ndim if isinstance(x, Tensor) else np.ndim(x)


def _shape(x):
    return tuple(x.shape) if isinstance(x, Tensor) else np.shape(x)


def _as_ints(v, what):
    if isinstance(v, Tensor):
        v = v.numpy().tolist()
    if isinstance(v, (int, np.integer)):
        return (int(v),)
    try:
        return tuple(int(s) for s in v)
    except TypeError:
        raise TypeError(f"{what} must be a list of ints, got {v!r}") from None


# --- reshape ---------------------------------------------------------------------------
def _reshape_fwd(xp, a, shape):
    try:
        return a.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(a.shape)} "
                         f"({a.size} elements) to {list(shape)}") from None


_reshape = register("reshape", _reshape_fwd)
defvjp(_reshape, lambda g, ans, x, shape: _reshape(g, shape=tuple(x.shape)))


def reshape(tensor, shape, name=None):
    """Reshapes ``tensor`` (one dimension may be -1) (``tf.reshape``)."""
    shape = _as_ints(shape, "reshape: shape")
    if sum(1 for s in shape if s == -1) > 1:
        raise ValueError(f"reshape: at most one dimension may be -1, got {list(shape)}")
    return _reshape(tensor, shape=shape)


def flatten_outer(x):
    """Reshapes to ``(batch, -1)``."""
    return reshape(x, (_shape(x)[0], -1))


# --- transpose -------------------------------------------------------------------------
_transpose = register("transpose", lambda xp, a, perm: xp.transpose(a, perm))
defvjp(_transpose, lambda g, ans, x, perm: _transpose(g, perm=tuple(np.argsort(perm))))


def transpose(a, perm=None, conjugate=False, name=None):
    """Permutes dimensions; ``perm=None`` reverses them (``tf.transpose``)."""
    nd = _ndim(a)
    perm = tuple(range(nd))[::-1] if perm is None else _as_ints(perm, "transpose: perm")
    if sorted(p % nd if nd else p for p in perm) != list(range(nd)):
        raise ValueError(f"transpose: perm {list(perm)} is not a permutation of "
                         f"{list(range(nd))}")
    perm = tuple(p % nd for p in perm)
    out = _transpose(a, perm=perm)
    if conjugate and out.dtype.kind == "c":
        out = _conj(out)
    return out


_conj = register("conj", lambda xp, a: xp.conj(a))
defvjp(_conj, lambda g, ans, x: _conj(g))


def matrix_transpose(a, conjugate=False, name=None):
    """Swaps the last two dimensions (``tf.linalg.matrix_transpose``)."""
    nd = _ndim(a)
    if nd < 2:
        raise ValueError(f"matrix_transpose: needs rank >= 2, got rank {nd}")
    perm = list(range(nd))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return transpose(a, perm, conjugate=conjugate)


# --- expand_dims / squeeze -------------------------------------------------------------
def expand_dims(input, axis, name=None):
    """Inserts a dimension of size 1 at ``axis`` (``tf.expand_dims``)."""
    shp = list(_shape(input))
    nd = len(shp) + 1
    axis = int(axis)
    if not -nd <= axis < nd:
        raise ValueError(f"expand_dims: axis {axis} is out of range for rank {nd - 1}")
    shp.insert(axis % nd, 1)
    return _reshape(input, shape=tuple(shp))


def squeeze(input, axis=None, name=None):
    """Removes dimensions of size 1 (all, or those in ``axis``) (``tf.squeeze``)."""
    shp = _shape(input)
    if axis is None:
        new = tuple(d for d in shp if d != 1)
    else:
        axes = normalize_axis(axis, len(shp), "squeeze")
        for a in axes:
            if shp[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {shp[a]} "
                                 f"(shape {tuple(shp)})")
        new = tuple(d for i, d in enumerate(shp) if i not in axes)
    return _reshape(input, shape=new)


# --- concat / stack / unstack / split --------------------------------------------------
def _concat_fwd(xp, *arrays, axis):
    return _kconcat.concatenate(xp, arrays, axis=axis)


def _concat_vjp(g, ans, inputs, attrs, needs):
    axis = attrs["axis"]
    sizes = [_shape(x)[axis] for x in inputs]
    parts = _split(g, sizes=tuple(sizes), axis=axis)
    return [p if n else None for p, n in zip(parts, needs)]


_concat = register("concat", _concat_fwd)
defvjp_all(_concat, _concat_vjp)


def _check_same(values, opname, axis=None):
    ranks = {_ndim(v) for v in values}
    if len(ranks) != 1:
        raise ValueError(f"{opname}: all inputs must have the same rank, got shapes "
                         f"{[tuple(_shape(v)) for v in values]}")
    dtypes = {v.dtype for v in values if isinstance(v, Tensor)}
    if len(dtypes) > 1:
        raise TypeError(f"{opname}: all inputs must have the same dtype, got "
                        f"{sorted(str(d) for d in dtypes)}")
    shapes = [tuple(_shape(v)) for v in values]
    ref = shapes[0]
    for s in shapes[1:]:
        if any(a != b for i, (a, b) in enumerate(zip(ref, s)) if i != axis):
            raise ValueError(f"{opname}: input shapes {shapes} differ outside axis {axis}")


def concat(values, axis, name=None):
    """Joins tensors along an existing ``axis`` (``tf.concat``).

    Example:
        >>> import eagerflow as ef
        >>> ef.concat([ef.constant([1.0]), ef.constant([2.0, 3.0])], axis=0).numpy().tolist()
        [1.0, 2.0, 3.0]
    """
    values = list(values)
    if not values:
        raise ValueError("concat: values must be a non-empty list")
    nd = _ndim(values[0])
    if nd == 0:
        raise ValueError("concat: cannot concatenate scalars; use ef.stack")
    ax = normalize_axis(axis, nd, "concat")[0]
    _check_same(values, "concat", ax)
    if len(values) == 1:
        from .math import identity
        return identity(values[0])
    return _concat(*values, axis=ax)


def stack(values, axis=0, name=None):
    """Stacks same-shape tensors on a new ``axis`` (``tf.stack``)."""
    values = list(values)
    if not values:
        raise ValueError("stack: values must be a non-empty list")
    _check_same(values, "stack")
    nd = _ndim(values[0]) + 1
    axis = int(axis)
    if not -nd <= axis < nd:
        raise ValueError(f"stack: axis {axis} is out of range for rank {nd}")
    return concat([expand_dims(v, axis % nd) for v in values], axis=axis % nd) \
        if len(values) > 1 else expand_dims(values[0], axis % nd)


def _split_fwd(xp, a, sizes, axis):
    idx = np.cumsum(sizes)[:-1].tolist()
    return tuple(xp.split(a, idx, axis=axis))


def _split_vjp(g, ans, inputs, attrs, needs):
    return [_concat(*g, axis=attrs["axis"]) if len(g) > 1 else g[0]]


_split = register("split", _split_fwd, multi=True)
defvjp_all(_split, _split_vjp)


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Splits ``value`` along ``axis`` into equal parts or parts of given sizes (``tf.split``)."""
    shp = _shape(value)
    ax = normalize_axis(axis, len(shp), "split")[0]
    n = shp[ax]
    if isinstance(num_or_size_splits, (int, np.integer)):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise ValueError(f"split: dimension {ax} of size {n} cannot be split into "
                             f"{k} equal parts")
        sizes = (n // k,) * k
    else:
        sizes = list(_as_ints(num_or_size_splits, "split: num_or_size_splits"))
        if sizes.count(-1) > 1:
            raise ValueError("split: at most one size may be -1")
        if -1 in sizes:
            sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} do not add up to dimension {ax} of size {n}")
        sizes = tuple(sizes)
    return list(_split(value, sizes=sizes, axis=ax))


def unstack(value, num=None, axis=0, name=None):
    """Splits ``value`` along ``axis`` into rank-1-lower tensors (``tf.unstack``)."""
    shp = _shape(value)
    ax = normalize_axis(axis, len(shp), "unstack")[0]
    if num is not None and num != shp[ax]:
        raise ValueError(f"unstack: num={num} but dimension {ax} has size {shp[ax]}")
    parts = split(value, shp[ax], axis=ax) if shp[ax] else []
    return [squeeze(p, axis=ax) for p in parts]


# --- tile / pad / slice / broadcast / reverse -----------------------------------------
def _tile_vjp(g, ans, x, multiples):
    shp = _shape(x)
    inter = []
    for m, d in zip(multiples, shp):
        inter += [m, d]
    gs = _reshape(g, shape=tuple(inter))
    return reduce_sum(gs, axis=tuple(range(0, 2 * len(shp), 2)))


_tile = register("tile", lambda xp, a, multiples: xp.tile(a, multiples))
defvjp(_tile, _tile_vjp)


def tile(input, multiples, name=None):
    """Repeats ``input`` ``multiples[i]`` times along axis i (``tf.tile``)."""
    multiples = _as_ints(multiples, "tile: multiples")
    if len(multiples) != _ndim(input):
        raise ValueError(f"tile: multiples has {len(multiples)} entries but input has rank "
                         f"{_ndim(input)}")
    return _tile(input, multiples=multiples)


def _pad_fwd(xp, a, paddings, mode, constant_values):
    if mode == "constant":
        return xp.pad(a, paddings, mode="constant", constant_values=constant_values)
    return xp.pad(a, paddings, mode=mode)


def _pad_vjp(g, ans, x, paddings, mode, constant_values):
    shp = _shape(x)
    if mode == "constant":
        key = tuple(builtins.slice(lo, lo + d) for (lo, _), d in zip(paddings, shp))
        return g[key]
    # reflect/symmetric: each output element is a copy of one input element, so the
    # adjoint sums the gradient back onto its source, one axis at a time
    from .segment import unsorted_segment_sum
    out = g
    for ax, ((lo, hi), d) in enumerate(zip(paddings, shp)):
        if lo == 0 and hi == 0:
            continue
        src = np.pad(np.arange(d), (lo, hi), mode=mode)
        moved = transpose(out, _front(ax, out.ndim))
        summed = unsorted_segment_sum(moved, _wrap(array_module(g._data).asarray(src)), d)
        out = transpose(summed, tuple(np.argsort(_front(ax, out.ndim))))
    return out


def _front(ax, nd):
    return (ax,) + tuple(i for i in range(nd) if i != ax)


_pad = register("pad", _pad_fwd)
defvjp(_pad, _pad_vjp)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads ``tensor`` (``tf.pad``): ``paddings[i] = [before, after]`` for axis i.

    Args:
        mode: ``'CONSTANT'``, ``'REFLECT'`` or ``'SYMMETRIC'`` (case-insensitive).
    """
    modes = {"constant": "constant", "reflect": "reflect", "symmetric": "symmetric"}
    m = modes.get(str(mode).lower())
    if m is None:
        raise ValueError(f"pad: mode must be one of CONSTANT, REFLECT, SYMMETRIC; got {mode!r}")
    if isinstance(paddings, Tensor):
        paddings = paddings.numpy().tolist()
    paddings = tuple((int(p[0]), int(p[1])) for p in paddings)
    if len(paddings) != _ndim(tensor):
        raise ValueError(f"pad: paddings has {len(paddings)} rows but the tensor has rank "
                         f"{_ndim(tensor)}")
    if any(lo < 0 or hi < 0 for lo, hi in paddings):
        raise ValueError(f"pad: paddings must be non-negative, got {paddings}")
    return _pad(tensor, paddings=paddings, mode=m, constant_values=constant_values)


def slice(input_, begin, size, name=None):
    """Extracts ``input_[begin[i] : begin[i] + size[i]]`` per axis; size -1 = to the end."""
    shp = _shape(input_)
    begin = _as_ints(begin, "slice: begin")
    size = _as_ints(size, "slice: size")
    if len(begin) != len(shp) or len(size) != len(shp):
        raise ValueError(f"slice: begin and size need {len(shp)} entries each")
    key = []
    for b, s, d in zip(begin, size, shp):
        e = d if s == -1 else b + s
        if b < 0 or e > d or e < b:
            raise ValueError(f"slice: begin {list(begin)} size {list(size)} out of bounds "
                             f"for shape {tuple(shp)}")
        key.append(builtins.slice(b, e))
    x = input_ if isinstance(input_, Tensor) else _wrap(_to_array(input_))
    return x[tuple(key)]


_broadcast = register("broadcast_to", lambda xp, a, shape: xp.broadcast_to(a, shape))
defvjp(_broadcast, lambda g, ans, x, shape: unbroadcast(g, _shape(x)))


def broadcast_to(input, shape, name=None):
    """Broadcasts ``input`` to ``shape`` (``tf.broadcast_to``)."""
    shape = _as_ints(shape, "broadcast_to: shape")
    try:
        np.broadcast_shapes(tuple(_shape(input)), shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(_shape(input))} to "
                         f"{list(shape)}") from None
    if tuple(_shape(input)) == shape and isinstance(input, Tensor):
        return input
    return _broadcast(input, shape=shape)


_reverse = register("reverse", lambda xp, a, axis: xp.flip(a, axis=axis))
defvjp(_reverse, lambda g, ans, x, axis: _reverse(g, axis=axis))


def reverse(tensor, axis, name=None):
    """Reverses ``tensor`` along the axes in ``axis`` (``tf.reverse``)."""
    ax = normalize_axis(axis, _ndim(tensor), "reverse")
    return _reverse(tensor, axis=ax)


# --- device moves ----------------------------------------------------------------------
def _device_copy_fwd(xp, a, target):
    from .. import backend
    return backend.to_device(a, target)


_device_copy = register("device_copy", _device_copy_fwd)
defvjp(_device_copy, lambda g, ans, x, target: _device_copy(
    g, target="numpy" if array_module(x._data) is np else "cupy"))


def to_device(x, backend_name):
    """Copies ``x`` to backend ``'numpy'`` (host) or ``'cupy'`` (GPU); differentiable."""
    if backend_name not in ("numpy", "cupy"):
        raise ValueError(f"to_device: backend must be 'numpy' or 'cupy', got {backend_name!r}")
    return _device_copy(x, target=backend_name)


# --- queries ---------------------------------------------------------------------------
def shape(input, out_type=np.int32, name=None):
    """The shape of ``input`` as a 1-D int tensor (``tf.shape``; int32 unless ``out_type``)."""
    from .. import backend
    return _wrap(backend.asarray(np.asarray(_shape(input), dtype=out_type)))


def rank(input, name=None):
    """The number of dimensions as a 0-d int32 tensor (``tf.rank``)."""
    from .. import backend
    return _wrap(backend.asarray(np.asarray(_ndim(input), dtype=np.int32)))


def size(input, out_type=np.int32, name=None):
    """The number of elements as a 0-d int tensor (``tf.size``; int32 unless ``out_type``)."""
    from .. import backend
    return _wrap(backend.asarray(np.asarray(int(np.prod(_shape(input))), dtype=out_type)))


def _sequence_mask_fwd(xp, lengths, maxlen, dtype):
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"sequence_mask: lengths must be integers, got {lengths.dtype}")
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    mask = xp.arange(maxlen, dtype=lengths.dtype) < lengths[..., None]
    return mask if dtype == np.bool_ else mask.astype(dtype)


_sequence_mask = register("sequence_mask", _sequence_mask_fwd)


def sequence_mask(lengths, maxlen=None, dtype=np.bool_, name=None):
    """``tf.sequence_mask``: ``mask[..., j] = j < lengths[...]``, shape ``lengths.shape +
    (maxlen,)``; ``maxlen`` defaults to ``max(lengths)`` (a registered op, so export traces it).

    Example:
        >>> import eagerflow as ef
        >>> ef.sequence_mask([1, 3], 4).numpy().astype(int).tolist()
        [[1, 0, 0, 0], [1, 1, 1, 0]]
    """
    if maxlen is not None:
        maxlen = int(maxlen.numpy() if isinstance(maxlen, Tensor) else maxlen)
        if maxlen < 0:
            raise ValueError(f"sequence_mask: maxlen must be >= 0, got {maxlen}")
    if not isinstance(lengths, Tensor):
        lengths = _wrap(_to_array(lengths))
    return _sequence_mask(lengths, maxlen=maxlen, dtype=as_dtype(dtype))


# --- saturate_cast / bitcast -----------------------------------------------------------
def _dtype_limits(dt):
    """``tf.DType.min`` / ``.max`` (TypeError for bool, string and complex, as TF)."""
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return int(info.min), int(info.max)
    if dt.kind == "f" or dt == bfloat16:
        import ml_dtypes
        info = ml_dtypes.finfo(dt) if dt == bfloat16 else np.finfo(dt)
        return float(info.min), float(info.max)
    raise TypeError(f"Cannot find minimum value of {dt.name}.")


def _real_dtype(dt):
    return np.dtype(f"float{dt.itemsize * 4}") if dt.kind == "c" else dt


def _in_dtype_limit(in_dt, bound):
    """``in_dtype.as_numpy_dtype(bound)``, moved toward zero when that rounds past the bound
    (TF's rule: e.g. int32's max rounds up to 2**31 in float32, so the clamp uses the next
    float32 toward zero)."""
    if in_dt.kind in "iu":
        return int(bound)  # a bound that needs clamping on this side fits the input ints
    with np.errstate(over="ignore", invalid="ignore"):
        lim = np.asarray(bound, dtype=np.float64).astype(in_dt)
        if (float(lim) > bound) if bound > 0 else (float(lim) < bound):
            lim = np.nextafter(lim, np.zeros((), in_dt))
    return float(lim)


def _saturate_fwd(xp, a, dtype, lo, hi):
    out = np.dtype(dtype)
    if a.dtype.kind == "c" and out.kind != "c":
        a = a.real  # TF: the imaginary part is dropped before the clamp
    if lo is not None or hi is not None:
        # the bounds as scalars of the clamped dtype (they are representable in it): a
        # Python int bound with uint64 data would promote to float64 under value-based
        # promotion (CuPy before NEP 50), losing the low bits of large values
        part = a.real.dtype.type if a.dtype.kind == "c" else a.dtype.type
        lo = None if lo is None else part(lo)
        hi = None if hi is None else part(hi)
        if a.dtype.kind == "c":  # real and imaginary parts clamped separately
            a = xp.clip(a.real, lo, hi) + 1j * xp.clip(a.imag, lo, hi)
        else:
            a = xp.clip(a, lo, hi)
    return a.astype(out)


def _saturate_vjp(g, ans, x, dtype, lo, hi):
    from .math import cast, greater_equal, less_equal, logical_and, where, zeros_like
    if x.dtype.kind not in "fc" or np.dtype(dtype).kind not in "fc":
        return None
    g = cast(g, x.dtype)
    if lo is None and hi is None:
        return g
    inside = logical_and(greater_equal(x, lo), less_equal(x, hi))
    return where(inside, g, zeros_like(g))


_saturate = register("saturate_cast", _saturate_fwd)
defvjp(_saturate, _saturate_vjp)


def saturate_cast(value, dtype, name=None):
    """Casts ``value`` to ``dtype``, clamping values outside its range (``tf.saturate_cast``).

    Follows TensorFlow's ``math_ops.saturate_cast``: the clamp happens in the input dtype
    before the cast, to ``[dtype.min, dtype.max]``; a bound the input dtype cannot hold is
    moved to the next representable value toward zero (float32 -> int32 saturates at
    2147483520, the largest float32 below 2**31). A complex input cast to a real dtype
    keeps its real part; complex to complex clamps both parts. NaN stays NaN (its cast to
    an integer is undefined in TF too).

    Raises:
        TypeError: for bool or string input or output (TF: no min/max for them).

    Example:
        >>> import eagerflow as ef
        >>> ef.ops.array.saturate_cast(ef.constant([-1.0, 300.0]), ef.uint8).numpy().tolist()
        [0, 255]
    """
    out = as_dtype(dtype)
    if not isinstance(value, Tensor):
        value = _wrap(_to_array(value))
    in_dt = value.dtype
    if in_dt == out:
        return value
    in_real, out_real = _real_dtype(in_dt), _real_dtype(out)
    in_min, in_max = _dtype_limits(in_real)
    out_min, out_max = _dtype_limits(out_real)
    lo = _in_dtype_limit(in_real, out_min) if in_min < out_min else None
    hi = _in_dtype_limit(in_real, out_max) if in_max > out_max else None
    return _saturate(value, dtype=out, lo=lo, hi=hi)


def _bitcast_fwd(xp, a, dtype):
    out = np.dtype(dtype)
    ins, outs = a.dtype.itemsize, out.itemsize
    # ascontiguousarray makes a 0-d array 1-d (NumPy and CuPy): reshape it back, so that a
    # scalar stays a scalar (or becomes a vector of the smaller type), as in TF
    a = xp.ascontiguousarray(a).reshape(a.shape)
    if ins == outs:
        return a.view(out)
    if ins > outs:
        return a.reshape(a.shape + (1,)).view(out)
    return a.view(out).reshape(a.shape[:-1])


_bitcast = register("bitcast", _bitcast_fwd)


def bitcast(input, type, name=None):
    """Reinterprets the bytes of ``input`` as ``type`` without copying (``tf.bitcast``).

    As TensorFlow: same item size keeps the shape; a larger input type adds a last
    dimension of ``sizeof(input)/sizeof(type)``; a smaller one needs a last dimension of
    ``sizeof(type)/sizeof(input)`` and removes it. Bytes are in memory (little-endian)
    order. Not differentiable.

    Raises:
        TypeError: for bool or string tensors (not in TF's list of allowed types).
        InvalidArgumentError: ``Cannot bitcast from <T> to <type>`` (TF's DataType
            numbers) when the last dimension does not fit.

    Example:
        >>> import eagerflow as ef
        >>> ef.ops.array.bitcast(ef.constant([1], dtype=ef.int32), ef.uint8).numpy().tolist()
        [[1, 0, 0, 0]]
    """
    out = as_dtype(type)
    if not isinstance(input, Tensor):
        input = _wrap(_to_array(input))
    in_dt = input.dtype
    for what, dt in (("input", in_dt), ("type", out)):
        if dt.kind in "bOUS":
            raise TypeError(f"bitcast: Value passed to parameter '{what}' has DataType "
                            f"{'string' if dt.kind != 'b' else 'bool'} not in list of "
                            "allowed values (numeric types)")
    ins, outs = in_dt.itemsize, out.itemsize
    if max(ins, outs) % min(ins, outs):
        raise InvalidArgumentError(f"cannot convert between datatype {DATATYPE_ENUM[in_dt]} "
                                   f"and {DATATYPE_ENUM[out]}")
    shp = tuple(input.shape)
    if ins < outs and (not shp or shp[-1] != outs // ins):
        raise InvalidArgumentError(f"Cannot bitcast from {DATATYPE_ENUM[in_dt]} to "
                                   f"{DATATYPE_ENUM[out]}")
    return _bitcast(input, dtype=out)
