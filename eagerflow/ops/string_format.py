"""String conversions and formatting with TensorFlow's semantics: ``as_string``,
``to_number``, ``substr``, ``reduce_join`` and ``format`` (``tf.strings.*``), split from
:mod:`eagerflow.ops.string`, which re-exports them.

Example:
    >>> import eagerflow as ef
    >>> ef.strings.substr(ef.constant(["hello"]), 1, 3).numpy().tolist()
    [b'ell']
"""
import math
import re

import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.tensor import Tensor
from ..backend.dtypes import as_dtype, bfloat16
from ..errors import InvalidArgumentError, OutOfRangeError
from ._host_strings import _as_bytes, _check_unit, _host, _like, _object_array, _out

__all__ = ["as_string", "to_number", "substr", "reduce_join", "format", "string_format"]



# --- conversions ---------------------------------------------------------------------------
_AS_STRING_FILLS = " +-0#"


def _c_format(flags, width, precision, conv, v):
    """absl::StrFormat("%<flags>*.*<conv>", width, precision, v) for one number."""
    fmt = "%" + flags + (str(width) if width > 0 else "") + \
        ("." + str(precision) if precision > -1 else "") + conv
    if conv in "feg" and not math.isfinite(v):
        # printf pads nan/inf with spaces even under '0', and keeps NaN's sign bit
        fmt = fmt.replace("0", "", 1) if "0" in flags else fmt
        if math.isnan(v) and math.copysign(1.0, v) < 0:
            return ("%" + flags.replace("0", "").replace("#", "") +
                    (str(width) if width > 0 else "") + "s") % "-nan"
    return fmt % v


def _as_string_fwd(xp, a, precision, scientific, shortest, width, fill):
    a = np.asarray(a)
    width = max(int(width), 0)  # TF: width <= -1 means 0
    if a.dtype.kind == "O":
        if width <= 0:  # TF forwards a string input unchanged
            return a.copy()
        flags = fill.replace("0", "")  # '%0*s' pads strings with spaces

        def one(v):
            b = _as_bytes(v)
            if precision > -1:
                b = b[:precision]
            txt = b.decode("utf-8", "surrogateescape")
            out = ("%" + flags + str(width) + "s") % txt
            return _like(v, out.encode("utf-8", "surrogateescape"))
        return _object_array([one(v) for v in a.reshape(-1).tolist()], a.shape)
    if a.dtype.kind == "b":  # TF ignores width for bools
        items = ["true" if v else "false" for v in a.reshape(-1).tolist()]
        return _object_array(items, a.shape)
    if a.dtype.kind in "iu":
        items = [_c_format(fill, width, -1, "d", v) for v in a.reshape(-1).tolist()]
        return _object_array(items, a.shape)
    conv = "g" if shortest else "e" if scientific else "f"
    if a.dtype.kind == "c":
        items = ["(" + _c_format(fill, width, precision, conv, v.real) + "," +
                 _c_format(fill, width, precision, conv, v.imag) + ")"
                 for v in a.reshape(-1).astype(np.complex128).tolist()]
    else:  # half and bfloat16 print through float, as TF
        src = a.astype(np.float32) if a.dtype.itemsize < 4 else a
        items = [_c_format(fill, width, precision, conv, v)
                 for v in src.reshape(-1).astype(np.float64).tolist()]
    return _object_array(items, a.shape)


_as_string = register("as_string", _as_string_fwd)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="",
              name=None):
    """Converts numbers to strings (``tf.strings.as_string``), printf style.

    TensorFlow formats with ``"%<fill>*.*<conv>"`` and ``width``/``precision`` as the two
    stars: floats default to ``%f`` (3.5 -> "3.500000"), ``shortest`` is ``%g``,
    ``scientific`` is ``%e``; integers use ``%d``; bools are ``"true"``/``"false"`` (width
    ignored); complex numbers are ``"(re,im)"``; strings pass through unless a ``width``
    pads them (``precision`` then truncates). ``fill`` is a printf flag and applies even
    without a width (``fill='+'`` gives ``"+7"``).

    Args:
        input: numeric, bool or string tensor.
        precision: digits after the point for floats (-1: printf's default).
        scientific: ``%e`` notation for floats.
        shortest: ``%g`` notation for floats.
        width: pad to this width (-1: no padding).
        fill: one of ``''``, ``' '``, ``'+'``, ``'-'`` (left-justify), ``'0'``, ``'#'``.

    Returns:
        string Tensor (object array of ``str``) of the input's shape.

    Raises:
        ValueError: TF's argument errors: scientific with shortest; precision, scientific or
            shortest for a non-float input; a fill longer than one character or not a flag.

    Example:
        >>> as_string([1.5, 2.0]).numpy().tolist()
        [b'1.500000', b'2.000000']
    """
    if not isinstance(fill, str) or len(fill) > 1:
        raise ValueError("Fill string must be one or fewer characters (as_string: fill must "
                         f"be '' or one of '0', ' ', '-', '+', '#', got {fill!r})")
    if fill and fill not in _AS_STRING_FILLS:
        raise ValueError(f'Fill argument not supported: "{fill}" (as_string: fill must be '
                         "'' or one of '0', ' ', '-', '+', '#')")
    if scientific and shortest:
        raise ValueError("Cannot select both scientific and shortest notation (as_string: "
                         "cannot select both scientific and shortest notation)")
    if isinstance(input, Tensor) and input.dtype == bfloat16:
        from .math import cast
        input = cast(input, np.float32)
    x = _host(input, "input", "Obiufc")
    kind = x.dtype.kind
    if kind not in "fcO":
        tf_name = "bool" if kind == "b" else x.dtype.name
        if scientific or shortest:
            raise ValueError("scientific and shortest format not supported for datatype "
                             f"{tf_name}")
        if precision > -1:
            raise ValueError(f"precision not supported for datatype {tf_name} (as_string: "
                             f"precision is only supported for float tensors, got dtype "
                             f"{x.dtype})")
    return _as_string(x, precision=int(precision), scientific=bool(scientific),
                      shortest=bool(shortest), width=int(width), fill=fill)


_NUMBER_TYPES = ("float32", "float64", "int32", "int64")
_C_SPACE = " \t\n\v\f\r"
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_DEC_RE = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_HEX_RE = re.compile(r"-?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?\Z")
_SPECIAL_RE = re.compile(r"-?(?:inf|infinity|nan(?:\([0-9A-Za-z_]*\))?)\Z", re.IGNORECASE)


def _parse_number(t, dt):
    """TF's ``SafeStringToNumeric``, which is ``absl::SimpleAtoi`` / ``absl::SimpleAtof``:
    surrounding ASCII whitespace is stripped; integers are an optional sign and ASCII
    decimal digits (out of range fails); floats are what ``absl::from_chars`` reads, after
    an optional ``+``: decimal, hex (``0x10``, ``0x1p3``), case-insensitive
    ``inf``/``infinity``/``nan``; an overflow is +-inf. Returns None when TF fails."""
    t = t.strip(_C_SPACE)
    if dt.kind == "i":
        if not _INT_RE.match(t):
            return None
        v = int(t)
        info = np.iinfo(dt)
        return v if info.min <= v <= info.max else None
    if t.startswith("+"):
        t = t[1:]
        if t.startswith("-"):
            return None
    if _DEC_RE.match(t):
        return float(t)
    if _HEX_RE.match(t):
        return float.fromhex(t)
    if _SPECIAL_RE.match(t):
        sign = -1.0 if t.startswith("-") else 1.0
        return sign * float("nan" if "n" == t.lstrip("-")[:1].lower() else "inf")
    return None


def _to_number_fwd(xp, a, out_type):
    dt = np.dtype(out_type)
    flat = np.asarray(a).reshape(-1).tolist()
    vals = []
    for s in flat:
        t = s.decode("utf-8", "surrogateescape") if isinstance(s, (bytes, bytearray)) \
            else str(s)
        v = _parse_number(t, dt)
        if v is None:
            why = f"could not convert string {s!r} to {dt.name}"
            if dt.kind == "i" and _INT_RE.match(t.strip(_C_SPACE)):
                why = f"{int(t.strip(_C_SPACE))} is out of range for {dt.name}"
            raise InvalidArgumentError("StringToNumberOp could not correctly convert string: "
                                       f"{t} ({why})")
        vals.append(v)
    with np.errstate(over="ignore"):
        return _out(np.array(vals, dtype=np.float64 if dt.kind == "f" else dt)
                    .astype(dt).reshape(np.shape(a)))


_to_number = register("string_to_number", _to_number_fwd)


def to_number(input=None, out_type=np.float32, name=None, string_tensor=None):
    """Parses each string as a number (``tf.strings.to_number``).

    TensorFlow's parsers (``absl::SimpleAtoi``/``SimpleAtof``), not Python's: surrounding
    ASCII whitespace is allowed; integers take an optional sign and ASCII digits and fail
    out of range; floats accept ``1e5``/``.5``/``+1``, hex (``0x1A``, ``0x1p3``),
    ``inf``/``infinity``/``nan`` in any case and round on overflow (``1e40`` is inf as
    float32), but not ``1_0``, non-ASCII digits or an empty/blank string.

    Args:
        input: string tensor of any shape (``string_tensor`` is TF1's name for it).
        out_type: float32 (default), float64, int32 or int64.

    Returns:
        Tensor of ``out_type`` on the current backend.

    Raises:
        InvalidArgumentError (a ValueError): ``StringToNumberOp could not correctly convert
            string: <s>`` for a string TF cannot parse.
        TypeError: an unsupported ``out_type``.

    Example:
        >>> to_number(["1.5", "-2"]).numpy().tolist()
        [1.5, -2.0]
    """
    if input is not None and string_tensor is not None:
        raise ValueError("Cannot specify both 'input' and 'string_tensor'")
    x = input if input is not None else string_tensor
    dt = as_dtype(out_type)
    if dt.name not in _NUMBER_TYPES:
        raise TypeError(f"to_number: out_type must be one of {_NUMBER_TYPES}, got {dt}")
    return _to_number(_host(x, "string_tensor", "O"), out_type=dt.name)




# --- substr ---------------------------------------------------------------------------------
def _forward_chars(b, n, pos):
    """string_util's ForwardNUTF8CharPositions: (ok, new byte position)."""
    counted = 0
    while counted < n and pos < len(b):
        pos += 1
        while pos < len(b) and (b[pos] & 0xC0) == 0x80:
            pos += 1
        counted += 1
    return counted == n, pos


def _back_chars(b, n, pos):
    """string_util's BackNUTF8CharPositions: (ok, new byte position)."""
    counted = 0
    while counted < n and pos > 0:
        pos -= 1
        while (b[pos] & 0xC0) == 0x80 and pos > 0:
            pos -= 1
        counted += 1
    return counted == n, pos


def _substr_one(b, pos, ln, unit):
    """(byte start, byte length) of TF's Substr, or None when ``pos`` is out of range."""
    if unit == "BYTE":
        start = len(b) + pos if pos < 0 else pos
        if not 0 <= start <= len(b):
            return None
        # StringPiece::substr clamps the length; a negative length (as size_t) means "rest"
        return start, (len(b) - start if ln < 0 else min(ln, len(b) - start))
    if pos >= 0:
        ok, start = _forward_chars(b, pos, 0)
        if not ok:
            return None
        _, end = _forward_chars(b, ln, start)
        return start, end - start
    skip = max(-pos - ln, 0)
    ok, end = _back_chars(b, skip, len(b))
    if not ok:
        return None
    ok, start = _back_chars(b, -pos - skip, end)
    if not ok:
        return None
    return start, end - start


def _substr_fwd(xp, a, pos, ln, unit):
    a, pos, ln = np.asarray(a), np.asarray(pos), np.asarray(ln)
    shape = np.broadcast_shapes(a.shape, pos.shape)
    a_b, pos_b, len_b = (np.broadcast_to(a, shape).reshape(-1).tolist(),
                         np.broadcast_to(pos, shape).reshape(-1).tolist(),
                         np.broadcast_to(ln, shape).reshape(-1).tolist())
    # TF's messages: the flat index, or "(i, j)" (bytes) / the row (UTF-8) when a 2-D
    # input and pos/len were broadcast against each other
    grid = pos.ndim > 0 and a.shape != pos.shape and len(shape) == 2
    out = []
    for i, (s, p, n) in enumerate(zip(a_b, pos_b, len_b)):
        b = _as_bytes(s)
        cut = _substr_one(b, int(p), int(n), unit)
        if cut is None:
            row, col = divmod(i, shape[1]) if grid else (i, None)
            if unit == "BYTE":
                where = f"string b'{b.decode('utf-8', 'backslashreplace')}' at index " + \
                    (f"({row}, {col})" if grid else str(i))
            else:
                where = f"string at index {row}"
            raise InvalidArgumentError(f"pos {int(p)} out of range for {where}")
        out.append(_like(s, b[cut[0]:cut[0] + cut[1]]))
    return _object_array(out, shape)


_substr = register("substr", _substr_fwd)


def substr(input, pos, len, unit="BYTE", name=None):  # noqa: A002  (TF's argument name)
    """Substrings ``input[pos:pos+len]`` (``tf.strings.substr``), TF's rules.

    ``unit='BYTE'`` counts bytes: a negative ``pos`` counts from the end, ``pos`` must lie
    in ``[0, size]`` after that, a negative ``len`` takes the rest. ``unit='UTF8_CHAR'``
    counts UTF-8 characters: ``pos`` may be negative too, ``len`` stops at the end, a
    negative ``len`` gives ``''`` for ``pos >= 0``. ``pos`` and ``len`` are ints or int
    tensors of one shape, broadcast against ``input``. A byte cut through a multi-byte
    character of a ``str`` gives ``bytes`` (TF's strings are bytes).

    Raises:
        InvalidArgumentError (a ValueError): ``pos <p> out of range for string ...``, or
            ``pos and len should have the same shape``.

    Example:
        >>> substr(["Hello", "World"], 1, 3).numpy().tolist()
        [b'ell', b'orl']
    """
    if unit in ("BYTE", "UTF8_CHAR") or name not in ("BYTE", "UTF8_CHAR"):
        _check_unit(unit, "Substr")
    else:  # TF1's positional order was (input, pos, len, name, unit)
        unit = name
    x = _host(input, "input", "O")
    p = _host(pos, "pos", "iu")
    n = _host(len, "len", "iu")
    ps, ns = tuple(p.shape), tuple(n.shape)
    if ps != ns:
        raise InvalidArgumentError(f"pos and len should have the same shape, got: "
                                   f"[{','.join(map(str, ps))}] vs. [{','.join(map(str, ns))}]")
    try:
        np.broadcast_shapes(tuple(x.shape), ps)
    except ValueError:
        raise InvalidArgumentError(f"Incompatible shapes: [{','.join(map(str, x.shape))}] vs."
                                   f" [{','.join(map(str, ps))}]") from None
    return _substr(x, p, n, unit=unit)


# --- reduce_join ----------------------------------------------------------------------------
def _reduce_join_fwd(xp, a, axes, keepdims, separator):
    a = np.asarray(a)
    nd = a.ndim
    reduced = [ax % nd for ax in axes] if nd else []
    kept = [d for d in range(nd) if d not in reduced]
    # TF's ReduceJoin: the first axis listed varies fastest within each joined group
    order = kept + list(reversed(reduced))
    t = np.transpose(a, order) if nd else a
    out_shape = tuple(a.shape[d] for d in kept)
    group = int(np.prod([a.shape[d] for d in reduced], dtype=np.int64))
    n_out = int(np.prod(out_shape, dtype=np.int64))
    flat = t.reshape(n_out, group) if nd else a.reshape(1, 1)
    rows = []
    for row in flat.tolist():
        if any(isinstance(v, (bytes, bytearray)) for v in row):
            rows.append(separator.encode("utf-8").join(_as_bytes(v) for v in row))
        else:
            rows.append(separator.join(row))
    if keepdims:
        out_shape = tuple(1 if d in reduced else a.shape[d] for d in range(nd))
    return _object_array(rows, out_shape)


_reduce_join = register("reduce_join", _reduce_join_fwd)


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None, keep_dims=None,
                reduction_indices=None):
    """Joins strings across dimensions (``tf.strings.reduce_join``).

    ``axis=None`` joins everything in row-major order into a scalar. With a list of axes
    the first axis listed varies fastest (TF's kernel: ``reduce_join(x, [0, 1])`` of
    ``[['a','b'],['c','d']]`` is ``'acbd'``, with ``[1, 0]`` it is ``'abcd'``). An empty
    reduced dimension joins to ``''``.

    Args:
        inputs: string tensor.
        axis: int or list of ints (negative allowed); TF1's ``reduction_indices`` too.
        keepdims: keep reduced dimensions as size 1 (TF1's ``keep_dims`` too).
        separator: placed between joined strings.

    Raises:
        OutOfRangeError: ``Invalid reduction dimension``; InvalidArgumentError:
            ``Duplicate reduction dimension``.

    Example:
        >>> reduce_join([["abc", "123"], ["def", "456"]], axis=-1, separator=" ").numpy().tolist()
        [b'abc 123', b'def 456']
    """
    if axis is not None and reduction_indices is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_indices'")
    if axis is None:
        axis = reduction_indices
    if keep_dims is not None:
        keepdims = keep_dims
    x = _host(inputs, "inputs", "O")
    nd = len(x.shape)
    if axis is None:
        axes = list(range(nd - 1, -1, -1))
    else:
        if isinstance(axis, Tensor):
            axis = axis.numpy()
        axes = [int(v) for v in np.asarray(axis).reshape(-1).tolist()]
    seen = set()
    for ax in axes:
        if not -nd <= ax < nd:
            raise OutOfRangeError(f"Invalid reduction dimension {ax} for input with {nd} "
                                  "dimension(s)")
        if ax % max(nd, 1) in seen:
            raise InvalidArgumentError(f"Duplicate reduction dimension {ax}")
        seen.add(ax % max(nd, 1))
    return _reduce_join(x, axes=tuple(axes), keepdims=bool(keepdims),
                        separator=str(separator))


# --- format ---------------------------------------------------------------------------------
def _c_escape(b):
    """absl::Utf8SafeCEscape: C escapes for control characters, quotes and backslash;
    bytes >= 0x80 stay as they are."""
    out = []
    for c in b:
        if c == 0x0A:
            out.append("\\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x22:
            out.append('\\"')
        elif c == 0x27:
            out.append("\\'")
        elif c == 0x5C:
            out.append("\\\\")
        elif c < 0x20 or c == 0x7F:
            out.append("\\%03o" % c)
        else:
            out.append(chr(c))
    return "".join(out).encode("latin-1").decode("utf-8", "surrogateescape")


def _g_roundtrip(v, digits, more, cast):
    s = "%.*g" % (digits, v)
    return s if cast(float(s)) == cast(v) else "%.*g" % (more, v)


def _format_element(v, kind):
    """One element as TF's ``Tensor::SummarizeValue(..., print_v2=True)`` prints it."""
    if kind == "O":
        return '"' + _c_escape(_as_bytes(v)) + '"'
    if kind == "b":
        return "1" if v else "0"  # bools print through StrCat as integers
    if kind in "iu":
        return str(int(v))
    if math.isnan(v):
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"
    if kind == "f4":  # FloatToBuffer: %.6g, or %.9g when that does not round-trip
        return _g_roundtrip(v, 6, 9, np.float32)
    return _g_roundtrip(v, 15, 17, float)  # DoubleToBuffer


def _dim_spacing(dim, ndims):
    if dim == ndims - 1:
        return " "
    return "\n" * (ndims - dim - 1) + " " * (dim + 1)


def _summarize(a, summarize):
    """``Tensor::SummarizeValue(summarize, print_v2=True)``."""
    kind = a.dtype.kind
    if kind == "f":
        kind = "f4" if a.dtype.itemsize <= 4 else "f8"
    n = a.size
    limit = n if summarize < 0 else min(summarize, n)
    flat = a.reshape(-1).tolist()
    if a.ndim == 0:
        return " ".join(_format_element(v, kind) for v in flat[:limit]) + \
            ("..." if n > limit else "")
    shape = a.shape
    ends = n if summarize < 0 else summarize

    def rec(dim, index):
        if dim == a.ndim:
            return _format_element(flat[index], kind)
        count = shape[dim]
        per = int(np.prod(shape[dim + 1:], dtype=np.int64))
        parts = ["["]
        for i in range(min(ends, count)):
            if i > 0:
                parts.append(_dim_spacing(dim, a.ndim))
            parts.append(rec(dim + 1, index + per * i))
        if count > 2 * ends:
            parts.append(_dim_spacing(dim, a.ndim) + "...")
        for i in range(max(ends, count - ends), count):
            parts.append(_dim_spacing(dim, a.ndim))
            parts.append(rec(dim + 1, index + per * i))
        parts.append("]")
        return "".join(parts)
    return rec(0, 0)


def _format_fwd(xp, *arrays, template, placeholder, summarize):
    pieces = template.split(placeholder)
    out = [pieces[0]]
    for a, piece in zip(arrays, pieces[1:]):
        a = np.asarray(a)
        if a.dtype == bfloat16 or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
            a = a.astype(np.float32)
        out.append(_summarize(a, summarize))
        out.append(piece)
    return np.array("".join(out), dtype=object)


_format = register("string_format", _format_fwd)


def format(template, inputs, placeholder="{}", summarize=3, name=None):  # noqa: A001
    """Formats tensors into a template string (``tf.strings.format``).

    Each ``placeholder`` takes the next tensor printed as TensorFlow prints it: ``[0 1 2 ...
    7 8 9]`` for a long vector (``summarize`` elements from each end of every dimension,
    -1 for all), nested brackets with newlines for matrices, strings quoted and C-escaped,
    floats in ``%g`` style (``1.5``), bools as ``1``/``0``.

    Args:
        template: the template string.
        inputs: a tensor, or a list of tensors, one per placeholder.
        placeholder: the placeholder text (default ``'{}'``).
        summarize: elements shown at each end of each dimension.

    Returns:
        scalar string Tensor.

    Raises:
        ValueError: when the number of placeholders does not match the number of inputs.

    Example:
        >>> import eagerflow as ef
        >>> format("tensor: {}, suffix", ef.range(10)).numpy()
        b'tensor: [0 1 2 ... 7 8 9], suffix'
    """
    if isinstance(inputs, (Tensor, np.ndarray)) or backend.is_array(inputs):
        inputs = [inputs]  # one tensor (a CuPy array too, not its rows)
    inputs = list(inputs)
    if template.count(placeholder) != len(inputs):
        raise ValueError(f"{template.count(placeholder)} placeholder(s) in template does not "
                         f"match {len(inputs)} tensor(s) provided as input")
    xs = []
    for i, v in enumerate(inputs):
        if isinstance(v, Tensor) and v.dtype == bfloat16:
            from .math import cast
            v = cast(v, np.float32)
        xs.append(_host(v, f"inputs[{i}]", "Obiuf"))
    return _format(*xs, template=str(template), placeholder=str(placeholder),
                   summarize=int(summarize))


string_format = format
