"""``tf.debugging``: assertions and numeric checks, run eagerly.

Every check runs when it is called and returns None (``check_numerics`` and
``assert_all_finite`` return their input), as TensorFlow's do eagerly. Value failures raise
:class:`~eagerflow.errors.InvalidArgumentError` with TF's message (``Condition x == y did not
hold.``...), static shape and rank failures ``ValueError``, dtype failures ``TypeError``.

The functions here have TF2's signatures. The ``*_v1`` functions are TF1's (``data`` third),
which the top-level aliases (``ef.assert_equal``, ``ef.assert_rank``...) resolve to; given a
string third argument they read it as TF2's ``message``, so both spellings work there.

Example:
    >>> import eagerflow as ef
    >>> ef.debugging.assert_equal(ef.constant([1, 2]), [1, 2])
    >>> try:
    ...     ef.debugging.assert_less(ef.constant([1, 5]), 3)
    ... except ef.errors.InvalidArgumentError as e:
    ...     print(str(e).splitlines()[0])
    Condition x < y did not hold.
"""
import ml_dtypes
import numpy as np

from .autograd.sparse_tensor import SparseTensor
from .autograd.tensor import Tensor, convert_to_tensor
from .autograd.variable import Variable
from .backend import array_module, to_numpy
from .backend.dtypes import as_dtype, bfloat16, tf_name
from .errors import InvalidArgumentError
from .ops.control_flow import (_assert_message, _convert_value, _hinted, _tensor_str,
                               _type_string)
from .ops.math import (abs as _abs, equal, greater, greater_equal, identity, less,
                       less_equal, not_equal)
from .ops.reduce import reduce_all

__all__ = ["assert_equal", "assert_none_equal", "assert_greater", "assert_greater_equal",
           "assert_less", "assert_less_equal", "assert_near", "assert_negative",
           "assert_positive", "assert_non_negative", "assert_non_positive", "assert_rank",
           "assert_rank_at_least", "assert_rank_in", "assert_type", "assert_shapes",
           "assert_all_finite", "check_numerics", "assert_integer", "assert_scalar",
           "is_numeric_tensor", "assert_proper_iterable", "assert_same_float_dtype", "Assert"]

_BIG = 10 ** 9


# --- message helpers (TF's check_ops) -----------------------------------------------------
def _prefix(message):
    return f"{message}.  " if message else ""


def _shape_str(shape):
    return str(tuple(shape))


def _sd(t):
    return f"shape={_shape_str(t.shape)} dtype={tf_name(t.dtype)}"


def _tensor(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _pretty(item, summarize):
    """TF's ``_pretty_print``: tensors as a list of element strings, others by ``str``."""
    if isinstance(item, Tensor):
        a = to_numpy(item._data)
        if a.ndim == 0:
            return str(a[()])
        flat = a.reshape(-1)
        items = [str(v) for v in flat[:summarize]]
        if len(items) < flat.size:
            items.append("...")
        return str(items)
    return str(item)


def _pair(x, y, op):
    """Converts x and y as TF's binary asserts need: Python values take the other side's
    dtype; two tensors must already share one."""
    if isinstance(y, Tensor) and not isinstance(x, Tensor):
        x = _hinted(x, y.dtype, "assert")
    else:
        x = _tensor(x)
        y = _hinted(y, x.dtype, "assert")
    if x.dtype != y.dtype:
        raise InvalidArgumentError(f"cannot compute {op} as input #1(zero-based) was expected "
                                   f"to be a {_type_string(x.dtype)} tensor but is a "
                                   f"{_type_string(y.dtype)} tensor")
    return x, y


def _binary_assert(sym, op, compare, x, y, data, summarize, message):
    x, y = _pair(x, y, op)
    try:
        test = compare(x, y)
    except ValueError:
        raise InvalidArgumentError(f"Incompatible shapes: {list(x.shape)} vs. "
                                   f"{list(y.shape)} [Op:{op}]") from None
    if bool(reduce_all(test)):
        return None
    summarize = 3 if summarize is None else (_BIG if summarize < 0 else int(summarize))
    if data is None:
        data = [f"Condition x {sym} y did not hold."]
        if summarize > 0:
            xn, yn = x.numpy(), y.numpy()
            if xn.shape == yn.shape and xn.ndim:
                mask = ~test.numpy()
                idx = np.argwhere(mask)
                k = min(summarize, idx.shape[0])
                data += [f"Indices of first {k} different values:", idx[:k],
                         "Corresponding x values:", xn[mask].reshape(-1)[:k],
                         "Corresponding y values:", yn[mask].reshape(-1)[:k]]
            xf, yf = xn.reshape(-1), yn.reshape(-1)
            data += [f"First {min(xf.size, summarize)} elements of x:", xf[:summarize],
                     f"First {min(yf.size, summarize)} elements of y:", yf[:summarize]]
    if message is not None:
        data = [message] + list(data)
    raise InvalidArgumentError("\n".join(_pretty(d, summarize) for d in data))


_BINARY_DOC = """Asserts ``x {sym} y`` element-wise, with broadcasting
    (``tf.debugging.{name}``{v1}).

    A Python value converts to the other argument's dtype; two tensors must share a dtype.
    Empty tensors pass trivially. Returns None.

    Raises:
        InvalidArgumentError: the condition fails somewhere (``Condition x {sym} y did not
            hold.``, then the first differing indices and values, prefixed by ``message``),
            the shapes do not broadcast, or the dtypes differ.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.{name}(ef.constant([{ex}]), [{ey}])
    """


def _make_binary(name, sym, op, compare, ex, ey, summarize_first=False):
    def v1(x, y, data=None, summarize=None, message=None, name=None):
        if isinstance(data, str):  # called the TF2 way: (x, y, message, summarize, name)
            data, message = None, data
        if sym == "==" and x is y:
            return None
        return _binary_assert(sym, op, compare, x, y, data, summarize, message)

    if summarize_first:
        def v2(x, y, summarize=None, message=None, name=None):
            return v1(x, y, None, summarize, message)
    else:
        def v2(x, y, message=None, summarize=None, name=None):
            return v1(x, y, None, summarize, message)
    v2.__name__, v1.__name__ = name, name + "_v1"
    v2.__qualname__, v1.__qualname__ = v2.__name__, v1.__name__
    v2.__doc__ = _BINARY_DOC.format(sym=sym, name=name, ex=ex, ey=ey, v1="")
    v1.__doc__ = _BINARY_DOC.format(sym=sym, name=name + "_v1", ex=ex, ey=ey,
                                    v1=f"; TF1's ``tf.{name}(x, y, data, summarize, message)``")
    return v2, v1


assert_equal, assert_equal_v1 = _make_binary("assert_equal", "==", "Equal", equal, "1, 2",
                                             "1, 2")
assert_none_equal, assert_none_equal_v1 = _make_binary(
    "assert_none_equal", "!=", "NotEqual", not_equal, "1, 2", "3, 4", summarize_first=True)
assert_less, assert_less_v1 = _make_binary("assert_less", "<", "Less", less, "1, 2", "2, 3")
assert_less_equal, assert_less_equal_v1 = _make_binary(
    "assert_less_equal", "<=", "LessEqual", less_equal, "1, 2", "1, 3")
assert_greater, assert_greater_v1 = _make_binary("assert_greater", ">", "Greater", greater,
                                                 "2, 3", "1, 2")
assert_greater_equal, assert_greater_equal_v1 = _make_binary(
    "assert_greater_equal", ">=", "GreaterEqual", greater_equal, "2, 3", "2, 1")


_UNARY_DOC = """Asserts ``x {sym}`` element-wise (``tf.debugging.{name}``{v1}).

    Empty tensors pass trivially. Returns None.

    Raises:
        InvalidArgumentError: some element fails (``Condition x {sym} did not hold
            element-wise:`` and the first ``summarize`` values of x).

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.{name}(ef.constant([{ex}]))
    """


def _make_unary(name, sym, binary_v1, x_first, ex):
    def v1(x, data=None, summarize=None, message=None, name=None):
        if isinstance(data, str):  # called the TF2 way: (x, message, summarize, name)
            data, message = None, data
        x = _tensor(x)
        if data is None:
            data = [_prefix(message), f"Condition x {sym} did not hold element-wise:",
                    f"x ({_sd(x)}) = ", x]
        zero = _convert_value(0, x.dtype, name)
        a, b = (x, zero) if x_first else (zero, x)
        return binary_v1(a, b, data=data, summarize=summarize)

    def v2(x, message=None, summarize=None, name=None):
        return v1(x, None, summarize, message)
    v2.__name__, v1.__name__ = name, name + "_v1"
    v2.__qualname__, v1.__qualname__ = v2.__name__, v1.__name__
    v2.__doc__ = _UNARY_DOC.format(sym=sym, name=name, ex=ex, v1="")
    v1.__doc__ = _UNARY_DOC.format(sym=sym, name=name + "_v1", ex=ex,
                                   v1=f"; TF1's ``tf.{name}(x, data, summarize, message)``")
    return v2, v1


assert_negative, assert_negative_v1 = _make_unary("assert_negative", "< 0", assert_less_v1,
                                                  True, "-1, -2")
assert_positive, assert_positive_v1 = _make_unary("assert_positive", "> 0", assert_less_v1,
                                                  False, "1, 2")
assert_non_negative, assert_non_negative_v1 = _make_unary(
    "assert_non_negative", ">= 0", assert_less_equal_v1, False, "0, 2")
assert_non_positive, assert_non_positive_v1 = _make_unary(
    "assert_non_positive", "<= 0", assert_less_equal_v1, True, "0, -2")


# --- Assert, assert_near --------------------------------------------------------------------
def Assert(condition, data, summarize=None, name=None):  # noqa: N802  (TF's name)
    """Raises InvalidArgumentError with ``data`` when ``condition`` is false (``tf.Assert``).

    Args:
        condition: a Python bool or a scalar bool Tensor.
        data: list of tensors/values printed on failure (``summarize`` items of each).

    Raises:
        InvalidArgumentError: ``Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be
            true. Summarized data: ...``; also when ``condition`` is not a scalar.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.Assert(ef.constant(True), ["never printed"])
    """
    if isinstance(condition, Tensor):
        if condition.ndim != 0:
            raise InvalidArgumentError(f"Assert: condition must be a scalar, got shape "
                                       f"{list(condition.shape)}")
        ok = bool(condition.item())
    else:
        ok = bool(condition)
    if not ok:
        raise InvalidArgumentError(_assert_message(condition, data, summarize))
    return None


def assert_near_v1(x, y, rtol=None, atol=None, data=None, summarize=None, message=None,
                   name=None):
    """Asserts ``|x - y| < atol + rtol * |y|`` element-wise (TF1's ``tf.assert_near``, with
    ``data`` fifth; a string there is read as TF2's ``message``).

    Example:
        >>> import eagerflow as ef
        >>> ef.assert_near(ef.constant([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    """
    if isinstance(data, str):
        data, message = None, data
    message = _prefix(message)
    x = _tensor(x)
    if isinstance(y, Tensor):
        if y.dtype != x.dtype:
            raise InvalidArgumentError(f"assert_near: y has dtype {tf_name(y.dtype)}, x has "
                                       f"{tf_name(x.dtype)}; they must match")
    else:
        y = _convert_value(y, x.dtype, "assert_near: y")
    real = x.dtype if x.dtype.kind != "c" else np.dtype(np.float64 if x.dtype.itemsize == 16
                                                        else np.float32)
    if real.kind != "f" and real != bfloat16:
        raise ValueError(f"assert_near: x must be a float or complex tensor, got dtype "
                         f"{tf_name(x.dtype)}")
    eps = float(ml_dtypes.finfo(real).eps)
    rtol = _convert_value(10 * eps if rtol is None else rtol, real, "assert_near: rtol")
    atol = _convert_value(10 * eps if atol is None else atol, real, "assert_near: atol")
    if data is None:
        data = [message, "x and y not equal to tolerance rtol = %s, atol = %s"
                % (_tensor_str(rtol), _tensor_str(atol)),
                f"x ({_sd(x)}) = ", x, f"y ({_sd(y)}) = ", y]
    condition = reduce_all(less(_abs(x - y), atol + rtol * _abs(y)))
    return Assert(condition, data, summarize=summarize)


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Asserts ``|x - y| < atol + rtol * |y|`` element-wise (``tf.debugging.assert_near``).

    The default tolerances are ``10 * eps`` of x's dtype (about 1.2e-6 for float32).
    Returns None.

    Raises:
        InvalidArgumentError: some pair is not close (``x and y not equal to tolerance``).
        ValueError: x is not a float or complex tensor.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_near(ef.constant([1.0]), ef.constant([1.05]), atol=0.1)
    """
    return assert_near_v1(x, y, rtol, atol, None, summarize, message)


# --- ranks, types, shapes --------------------------------------------------------------------
def _static_shape(x):
    if isinstance(x, SparseTensor):
        return tuple(int(d) for d in x.shape)
    return tuple(_tensor(x).shape)


def _rank_value(rank, fname):
    r = to_numpy(rank.data) if isinstance(rank, Tensor) else np.asarray(rank)
    if r.ndim != 0:
        raise ValueError("Rank must be a scalar.")
    if r.dtype.kind not in "iu":
        raise TypeError(f"{fname}: rank must be an integer, got dtype {tf_name(r.dtype)}")
    return int(r)


def assert_rank_v1(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts that ``x`` has rank ``rank`` (TF1's ``tf.assert_rank``; a string third
    argument is read as TF2's ``message``).

    Raises:
        ValueError: ``Tensor  must have rank 2.  Received rank 1, shape (3,)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.assert_rank(ef.zeros((2, 3)), 2)
    """
    if isinstance(data, str):
        message = data
    shape, r = _static_shape(x), _rank_value(rank, "assert_rank")
    if len(shape) != r:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank {r}.  Received rank "
                         f"{len(shape)}, shape {_shape_str(shape)}")


def assert_rank(x, rank, message=None, name=None):
    """Asserts that ``x`` has rank ``rank`` (``tf.debugging.assert_rank``). Returns None.

    Raises:
        ValueError: another rank (the rank is always known eagerly), or ``rank`` not a
            scalar.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_rank(ef.zeros((2, 3)), 2)
    """
    return assert_rank_v1(x, rank, message=message)


def assert_rank_at_least_v1(x, rank, data=None, summarize=None, message=None, name=None):
    """TF1's ``tf.assert_rank_at_least`` (a string third argument is the message).

    Example:
        >>> import eagerflow as ef
        >>> ef.assert_rank_at_least(ef.zeros((2, 3)), 1)
    """
    if isinstance(data, str):
        message = data
    shape, r = _static_shape(x), _rank_value(rank, "assert_rank_at_least")
    if len(shape) < r:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank at least {r}.  Received "
                         f"rank {len(shape)}, shape {_shape_str(shape)}")


def assert_rank_at_least(x, rank, message=None, name=None):
    """Asserts that ``x`` has rank ``rank`` or more (``tf.debugging.assert_rank_at_least``).

    Raises:
        ValueError: a lower rank.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_rank_at_least(ef.zeros((2, 3)), 2)
    """
    return assert_rank_at_least_v1(x, rank, message=message)


def assert_rank_in_v1(x, ranks, data=None, summarize=None, message=None, name=None):
    """TF1's ``tf.assert_rank_in`` (a string third argument is the message).

    Example:
        >>> import eagerflow as ef
        >>> ef.assert_rank_in(ef.zeros((2, 3)), (1, 2))
    """
    if isinstance(data, str):
        message = data
    shape = _static_shape(x)
    rs = tuple(_rank_value(r, "assert_rank_in") for r in ranks)
    if len(shape) not in rs:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank in {rs}.  Received rank "
                         f"{len(shape)}, shape {_shape_str(shape)}")


def assert_rank_in(x, ranks, message=None, name=None):
    """Asserts that the rank of ``x`` is one of ``ranks`` (``tf.debugging.assert_rank_in``).

    Raises:
        ValueError: another rank.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_rank_in(ef.zeros((2, 3)), [0, 2])
    """
    return assert_rank_in_v1(x, ranks, message=message)


def assert_type(tensor, tf_type, message=None, name=None):
    """Asserts that ``tensor`` has dtype ``tf_type`` (``tf.debugging.assert_type``).

    Raises:
        TypeError: ``tensor must be of type tf.float32; got tf.int32``.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_type(ef.constant(1.0), ef.float32)
    """
    dt = as_dtype(tf_type)
    t = tensor if isinstance(tensor, SparseTensor) else _tensor(tensor)
    if t.dtype != dt:
        who = tensor.name if isinstance(tensor, Variable) else "tensor"
        raise TypeError(f"{_prefix(message)}{who} must be of type tf.{tf_name(dt)}; got "
                        f"tf.{tf_name(t.dtype)}")


def assert_integer(x, message=None, name=None):
    """Asserts that ``x`` has an integer dtype (``tf.debugging.assert_integer``).

    Raises:
        TypeError: ``Expected "x" to be integer type.  Found: tensor of dtype ...``.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_integer(ef.constant([1, 2]))
    """
    x = _tensor(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f'{_prefix(message)}Expected "x" to be integer type.  Found: tensor '
                        f"of dtype <dtype: '{tf_name(x.dtype)}'>")


def assert_scalar_v1(tensor, name=None, message=None):
    """TF1's ``tf.assert_scalar(tensor, name, message)``: returns the tensor.

    Example:
        >>> import eagerflow as ef
        >>> ef.assert_scalar(ef.constant(3)).numpy()
        np.int32(3)
    """
    t = _tensor(tensor)
    if t.ndim != 0:
        raise ValueError(f"{_prefix(message)}Expected scalar shape, saw shape: "
                         f"{_shape_str(t.shape)}.")
    return t


def assert_scalar(tensor, message=None, name=None):
    """Asserts that ``tensor`` is a scalar (``tf.debugging.assert_scalar``). Returns None.

    Raises:
        ValueError: ``Expected scalar shape, saw shape: (2,).``

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_scalar(ef.constant(3))
    """
    assert_scalar_v1(tensor, message=message)


def _has_known_value(size):
    if size is None:
        return False
    try:
        int(size)
        return True
    except (TypeError, ValueError):
        return False


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Asserts shapes and dimension relations between tensors (``tf.debugging.assert_shapes``).

    ``shapes`` is a list of ``(tensor, shape)`` pairs. An entry of a shape is an int (that
    size), a symbol such as ``'N'`` (the same size wherever it appears), or ``None``/``'.'``
    (any size); a first entry ``...`` or ``'*'`` allows any number of outer dimensions. A
    scalar and a shape ``()`` both count as one dimension of size 1. Returns None.

    Raises:
        ValueError: a rank or size that does not match, with TF's message (``Specified by
            tensor ... dimension 0.  Tensor ... dimension 0 must have size 3.  Received size
            2, shape (2, 4)``).

    Example:
        >>> import eagerflow as ef
        >>> x, y = ef.zeros((10, 3)), ef.ones((10, 7))
        >>> ef.debugging.assert_shapes([(x, ('N', 'Q')), (y, ('N', 'D')), (1.0, ())])
    """
    if isinstance(shapes, dict):
        shapes = shapes.items()
    prefix = _prefix(message)
    entries = []
    for x, spec in shapes:
        if spec is None:
            continue
        t = x if isinstance(x, SparseTensor) else _tensor(x)
        if not (hasattr(spec, "__iter__") or hasattr(spec, "__getitem__")):
            raise ValueError(f"{prefix}Tensor {_sd(t)}.  Specified shape must be an iterable.  "
                             "An iterable has the attribute `__iter__` or `__getitem__`.  "
                             f"Received specified shape: {spec}")
        spec = tuple(spec)
        inner = False
        for i, sym in enumerate(spec):
            if sym is Ellipsis or (isinstance(sym, str) and sym == "*"):
                if i != 0:
                    raise ValueError(f"{prefix}Tensor {_sd(t)} specified shape index {i}.  "
                                     "Symbol `...` or `*` for a variable number of unspecified "
                                     "dimensions is only allowed as the first entry")
                inner = True
        sizes = _static_shape(t) or (1,)
        symbolic = (spec[1:] if inner else spec) or (1,)
        entries.append((t, inner, sizes, symbolic))
    for t, inner, _, symbolic in entries:
        rank = len(symbolic)
        if inner:
            if rank > 1:
                assert_rank_at_least_v1(t, rank, data, summarize, message)
        elif rank in (0, 1):
            assert_rank_in_v1(t, [0, 1], data, summarize, message)
        else:
            assert_rank_v1(t, rank, data, summarize, message)
    known = {}
    for t, inner, sizes, symbolic in entries:
        for i, sym in enumerate(symbolic):
            if sym is None or (isinstance(sym, str) and sym == "."):
                continue
            dim = i - len(symbolic) if inner else i
            actual = sizes[dim]
            if _has_known_value(sym) or sym in known:
                if _has_known_value(sym):
                    want, why = int(sym), "Specified explicitly"
                else:
                    want, by, at = known[sym]
                    why = f"Specified by tensor {_sd(by)} dimension {at}"
                if int(actual) != want:
                    raise ValueError(f"{prefix}{why}.  Tensor {_sd(t)} dimension {dim} must "
                                     f"have size {want}.  Received size {actual}, shape "
                                     f"{_shape_str(_static_shape(t))}")
            else:
                known[sym] = (int(actual), t, dim)


# --- numerics and dtype predicates -----------------------------------------------------------
def check_numerics(tensor, message, name=None):
    """Returns ``tensor`` if it has no NaN or Inf (``tf.debugging.check_numerics``).

    Raises:
        InvalidArgumentError: ``<message> : Tensor had NaN values`` (or ``Inf``, or ``Inf and
            NaN``); also for a non-float tensor, which TF does not accept.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.check_numerics(ef.constant([1.0, 2.0]), "bad loss").numpy()
        array([1., 2.], dtype=float32)
    """
    t = _tensor(tensor)
    if t.dtype.kind != "f" and t.dtype != bfloat16:
        raise InvalidArgumentError(f"Value for attr 'T' of {_type_string(t.dtype)} is not in "
                                   "the list of allowed values: bfloat16, half, float, double "
                                   "(check_numerics takes float tensors)")
    a = t.data if t.dtype != bfloat16 else t.data.astype(np.float32)
    xp = array_module(a)
    nan, inf = to_numpy(xp.stack([xp.isnan(a).any(), xp.isinf(a).any()])).tolist()
    status = "Inf and NaN" if nan and inf else "NaN" if nan else "Inf" if inf else ""
    if status:
        raise InvalidArgumentError(f"{message} : Tensor had {status} values")
    return identity(t) if isinstance(t, Variable) else t


def assert_all_finite(x, message, name=None):
    """Returns ``x`` after checking it has no NaN/Inf (``tf.debugging.assert_all_finite``).

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_all_finite(ef.constant(1.5), "x").numpy()
        np.float32(1.5)
    """
    return check_numerics(x, message)


def is_numeric_tensor(tensor):
    """True for a Tensor of a number dtype (not bool or string) (``tf.debugging``).

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.is_numeric_tensor(ef.constant([1.0])), ef.debugging.is_numeric_tensor(1.0)
        (True, False)
    """
    return isinstance(tensor, Tensor) and (tensor.dtype.kind in "iufc" or
                                           tensor.dtype == bfloat16)


def assert_proper_iterable(values):
    """Raises TypeError unless ``values`` is an iterable other than a Tensor, array or
    string (``tf.debugging.assert_proper_iterable``).

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_proper_iterable([1, 2])
    """
    if isinstance(values, (Tensor, SparseTensor, np.ndarray, str, bytes)):
        raise TypeError('Expected argument "values" to be a "proper" iterable.  Found: '
                        f"{type(values)}")
    if not hasattr(values, "__iter__"):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def assert_same_float_dtype(tensors=None, dtype=None):
    """The common float dtype of ``tensors`` (and ``dtype``), float32 when neither is given
    (``tf.debugging.assert_same_float_dtype``).

    Raises:
        ValueError: the dtypes differ or are not floats.

    Example:
        >>> import eagerflow as ef
        >>> ef.debugging.assert_same_float_dtype([ef.constant(1.0)]) == ef.float32
        True
    """
    dt = None if dtype is None else as_dtype(dtype)
    for t in tensors or ():
        if t is None:
            continue
        if dt is None:
            dt = t.dtype
        elif t.dtype != dt:
            raise ValueError(f"{t!r}, type={tf_name(t.dtype)}, must be of the same type "
                             f"({tf_name(dt)}).")
    if dt is None:
        return np.dtype(np.float32)
    if dt.kind != "f" and dt != bfloat16:
        raise ValueError(f"Expected floating point type, got {tf_name(dt)}.")
    return dt
