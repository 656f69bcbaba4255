"""String and hashing ops with TensorFlow's names and ids.

String tensors are Tensors around NumPy object arrays of ``str``/``bytes``; they live on the
host whatever the backend (both kinds hash alike: a ``str`` is hashed as its UTF-8 bytes).
Each op here is registered (without a gradient) so that export tracing records it and a
served model takes raw features. The ops run on the host (numba kernels in
``eagerflow.kernels.farmhash``/``siphash``) and put integer results on the current backend;
a numeric input that sits on the GPU is first copied to the host by the traceable
``device_copy`` op. Crosses and ``bucketize`` live in ``eagerflow.ops.cross`` (re-exported here).

Hash ids match TensorFlow's (``spec/tf_hashing.md``): ``to_hash_bucket_fast`` is FarmHash
Fingerprint64 mod ``num_buckets`` (ints hashed as their decimal string),
``to_hash_bucket_strong`` is keyed SipHash-2-4, the deprecated ``to_hash_bucket`` is TF's
legacy ``Hash64`` (MurmurHash64A, seed ``0xDECAFCAFFE``), crosses chain
``FingerprintCat64`` from ``hash_key=0xDECAFCAFFE``.

The text ops follow TF's kernels, which see UTF-8 bytes: splitting, ``substr`` and
``length`` count bytes unless told ``UTF8_CHAR``, a piece cut inside a multi-byte character
comes back as ``bytes``, and the regular-expression ops have RE2's semantics (ASCII
``\\d\\w\\s``, ``$`` only at the end, RE2's replacement rules) on top of Python's ``re``.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.ops import string
    >>> string.to_hash_bucket_fast(ef.constant(["Hello", "TensorFlow", "2.x"]), 3).numpy().tolist()
    [0, 2, 2]
"""
import math
import re

import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor
from ..backend.dtypes import as_dtype, bfloat16
from ..errors import InvalidArgumentError, OutOfRangeError
from ..kernels import farmhash, siphash
from ._host_strings import (_as_bytes, _check_buckets, _fingerprints, _host, _like,
                            _object_array, _out, _raw, _sparse_out, hash64)
from .cross import bucketize, sparse_cross, sparse_cross_hashed  # noqa: F401 (re-exported)

__all__ = [
    "to_hash_bucket_fast", "to_hash_bucket_strong", "to_hash_bucket", "fingerprint",
    "as_string", "string_split", "split", "join", "length", "lower", "upper", "strip",
    "to_number", "regex_replace", "regex_full_match", "substr", "reduce_join", "format",
    "string_format", "sparse_cross_hashed", "sparse_cross", "bucketize",
    "string_to_hash_bucket_fast", "string_to_hash_bucket_strong", "string_to_hash_bucket",
    "string_join", "string_strip", "string_to_number", "string_length", "fingerprint64",
]


# --- hashing -----------------------------------------------------------------------------
def _hash_fast_fwd(xp, s, num_buckets):
    return _out((_fingerprints(s) % np.uint64(num_buckets)).astype(np.int64))


_hash_fast = register("string_to_hash_bucket_fast", _hash_fast_fwd)


def to_hash_bucket_fast(input, num_buckets, name=None):
    """Hashes each string into ``[0, num_buckets)`` (``tf.strings.to_hash_bucket_fast``).

    The id is FarmHash ``Fingerprint64`` of the UTF-8 bytes modulo ``num_buckets``, the
    same id TensorFlow gives. Integers are hashed as their decimal string (``-5`` -> "-5").

    Args:
        input: string (or integer) tensor of any shape.
        num_buckets: int >= 1.

    Returns:
        int64 Tensor of the input's shape, on the current backend.

    Raises:
        TypeError: for a float/bool input or a non-int ``num_buckets``.
        ValueError: for ``num_buckets < 1``.

    Example:
        >>> to_hash_bucket_fast(["hello"], 1000).numpy().tolist()
        [296]
    """
    n = _check_buckets(num_buckets)
    return _hash_fast(_host(input, "input", "Oiu"), num_buckets=n)


def _hash_strong_fwd(xp, s, num_buckets, key):
    items = s if s.dtype.kind == "O" else farmhash.decimal_strings(s)
    h = siphash.siphash24_strings(items, key[0], key[1])
    return _out((h % np.uint64(num_buckets)).astype(np.int64))


_hash_strong = register("string_to_hash_bucket_strong", _hash_strong_fwd)


def to_hash_bucket_strong(input, num_buckets, key, name=None):
    """Keyed hash of each string into ``[0, num_buckets)`` (``tf.strings.to_hash_bucket_strong``).

    SipHash-2-4 with the 128-bit key ``key = [k0, k1]`` (two uint64), as TensorFlow.

    Args:
        input: string tensor of any shape (integers are hashed as decimal strings).
        num_buckets: int >= 1.
        key: a list of two ints.

    Returns:
        int64 Tensor of the input's shape.

    Raises:
        ValueError: if ``key`` does not have exactly two elements.

    Example:
        >>> to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]).numpy().tolist()
        [2, 0]
    """
    n = _check_buckets(num_buckets)
    if isinstance(key, Tensor):  # a GPU tensor cannot go through np.asarray
        key = key.numpy()
    k = list(np.asarray(key, dtype=object).reshape(-1).tolist()) if key is not None else []
    if len(k) != 2 or not all(isinstance(v, (int, np.integer)) for v in k):
        raise ValueError(f"key must be a list of two ints [k0, k1], got {key!r}")
    if not all(-(1 << 63) <= int(v) < (1 << 64) for v in k):
        raise ValueError(f"key elements must fit in 64 bits, got {key!r}")
    return _hash_strong(_host(input, "input", "Oiu"), num_buckets=n,
                        key=(int(k[0]), int(k[1])))


def _fingerprint_fwd(xp, data):
    a = np.asarray(data)
    n = a.shape[0]
    if a.dtype.kind == "O":
        fp = farmhash.fingerprint64_strings(a.reshape(-1))
        if a.size != n:
            # each string first, then the row of 8-byte fingerprints (TF's FingerprintOp)
            rows = fp.astype("<u8").view(np.uint8).reshape(n, -1)
            fp = _fingerprint_rows(rows)
    else:
        width = int(np.prod(a.shape[1:], dtype=np.int64)) * a.dtype.itemsize
        rows = np.ascontiguousarray(a).view(np.uint8).reshape(n, width)
        fp = _fingerprint_rows(rows)
    return _out(fp.astype("<u8").view(np.uint8).reshape(n, 8))


def _fingerprint_rows(rows):
    n, w = rows.shape
    return farmhash.fingerprint64_spans(rows.reshape(-1), np.arange(n, dtype=np.int64) * w,
                                        np.full(n, w, np.int64))


_fingerprint = register("fingerprint", _fingerprint_fwd)


def fingerprint(data, method="farmhash64", name=None):
    """Fingerprints each row of ``data`` (``tf.fingerprint``).

    Row ``i`` is ``data[i]``: its raw bytes for numeric data (little-endian, as laid out
    in memory); for a string tensor with one string per row, that string's bytes; otherwise
    the Fingerprint64 of each string of the row, concatenated (TensorFlow's rule).

    Args:
        data: tensor of rank >= 1.
        method: only ``'farmhash64'``.

    Returns:
        uint8 Tensor ``(rows, 8)``: Fingerprint64 of each row as 8 little-endian bytes.

    Raises:
        ValueError: for another method or a scalar input.

    Example:
        >>> fingerprint(["hello"]).numpy().shape
        (1, 8)
    """
    if method != "farmhash64":
        raise ValueError(f"fingerprint: method must be 'farmhash64', got {method!r}")
    x = _host(data, "data", "Obiuf")
    if len(x.shape) < 1:
        raise ValueError("fingerprint: data must have rank >= 1, got a scalar")
    return _fingerprint(x)


def fingerprint64(input):
    """The raw uint64 Fingerprint64 of each string (or decimal int) as a NumPy array.

    A host helper (not an op) for code that needs the full 64-bit value.
    """
    return _fingerprints(np.asarray(_raw(_host(input, "input", "Oiu"))))


def _hash_legacy_fwd(xp, s, num_buckets):
    flat = np.asarray(s).reshape(-1).tolist()
    ids = [hash64(_as_bytes(v)) % num_buckets for v in flat]
    return _out(np.array(ids, dtype=np.int64).reshape(np.shape(s)))


_hash_legacy = register("string_to_hash_bucket", _hash_legacy_fwd)


def to_hash_bucket(input=None, num_buckets=None, name=None, string_tensor=None):
    """Hashes each string into ``[0, num_buckets)`` (the deprecated
    ``tf.strings.to_hash_bucket`` / TF1 ``tf.string_to_hash_bucket``).

    TensorFlow's ``StringToHashBucket`` kernel uses its legacy ``Hash64`` (MurmurHash64A
    with seed ``0xDECAFCAFFE``, ``tensorflow/core/lib/hash/hash.cc``), not FarmHash, so
    its ids differ from :func:`to_hash_bucket_fast`'s; they match TensorFlow's bit for bit.

    Args:
        input: string tensor of any shape (``string_tensor`` is TF1's name for it).
        num_buckets: int >= 1.

    Returns:
        int64 Tensor of the input's shape.

    Example:
        >>> to_hash_bucket(["Hello"], 10).numpy().dtype.name
        'int64'
    """
    if input is not None and string_tensor is not None:
        raise ValueError("Cannot specify both 'input' and 'string_tensor'")
    x = input if input is not None else string_tensor
    n = _check_buckets(num_buckets)
    return _hash_legacy(_host(x, "input", "O"), num_buckets=n)


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
        ['1.500000', '2.000000']
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


# --- text ops ------------------------------------------------------------------------------
def _map_strings(a, fn_str, fn_bytes):
    a = np.asarray(a)
    out = np.empty(a.size, dtype=object)
    for i, s in enumerate(a.reshape(-1).tolist()):
        out[i] = fn_str(s) if isinstance(s, str) else fn_bytes(bytes(s))
    return out.reshape(a.shape)


_ASCII_WS = " \t\n\v\f\r"
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _case_fwd(xp, a, upper, encoding):
    if encoding:
        def fs(s):
            return s.upper() if upper else s.lower()

        def fb(b):
            return fs(b.decode("utf-8")).encode("utf-8")
    else:  # TF with encoding='' changes ASCII letters only
        def fs(s):
            return s.translate(_UPPER if upper else _LOWER)

        def fb(b):
            return b.upper() if upper else b.lower()
    return _map_strings(a, fs, fb)


_case = register("string_case", _case_fwd)


def _check_encoding(encoding, what):
    if encoding not in ("", "utf-8", "UTF-8", "utf8"):
        raise ValueError(f"{what}: encoding must be '' or 'utf-8', got {encoding!r}")
    return "utf-8" if encoding else ""


def lower(input, encoding="", name=None):
    """Lower-cases strings (``tf.strings.lower``); ASCII only unless ``encoding='utf-8'``.

    Example:
        >>> lower(["CamelCase"]).numpy().tolist()
        ['camelcase']
    """
    enc = _check_encoding(encoding, "lower")
    return _case(_host(input, "input", "O"), upper=False, encoding=enc)


def upper(input, encoding="", name=None):
    """Upper-cases strings (``tf.strings.upper``); ASCII only unless ``encoding='utf-8'``.

    Example:
        >>> upper(["abc"]).numpy().tolist()
        ['ABC']
    """
    enc = _check_encoding(encoding, "upper")
    return _case(_host(input, "input", "O"), upper=True, encoding=enc)


_strip = register("string_strip", lambda xp, a: _map_strings(
    a, lambda s: s.strip(_ASCII_WS), lambda b: b.strip()))


def strip(input, name=None):
    """Strips leading and trailing ASCII whitespace (``tf.strings.strip``).

    Example:
        >>> strip(["  hi \\n"]).numpy().tolist()
        ['hi']
    """
    return _strip(_host(input, "input", "O"))


def _utf8_chars(b):
    """Characters as TF counts them: bytes that are not UTF-8 continuation bytes."""
    return sum(1 for c in b if (c & 0xC0) != 0x80)


def _length_fwd(xp, a, unit):
    if unit == "BYTE":
        def fs(s):
            return len(s.encode("utf-8", "surrogatepass")) if not s.isascii() else len(s)
        fb = len
    else:
        def fs(s):
            return len(s) if s.isascii() else _utf8_chars(s.encode("utf-8", "surrogatepass"))
        fb = _utf8_chars
    out = _map_strings(a, fs, fb)
    return _out(out.astype(np.int32))


_length = register("string_length", _length_fwd)
_UNITS = ("BYTE", "UTF8_CHAR")


def _check_unit(unit, op):
    if unit not in _UNITS:
        raise ValueError(f"Attr 'unit' of '{op}' Op passed string '{unit}' not in: 'BYTE', "
                         f"'UTF8_CHAR'. (unit must be 'BYTE' or 'UTF8_CHAR')")


def length(input, unit="BYTE", name=None):
    """The length of each string (``tf.strings.length``), int32.

    Args:
        input: string tensor.
        unit: ``'BYTE'`` (UTF-8 bytes) or ``'UTF8_CHAR'`` (TF counts the bytes that are not
            UTF-8 continuation bytes: code points for valid UTF-8).

    Example:
        >>> length(["héllo"]).numpy().tolist(), length(["héllo"], unit="UTF8_CHAR").numpy().tolist()
        ([6], [5])
    """
    _check_unit(unit, "StringLength")
    return _length(_host(input, "input", "O"), unit=unit)


def string_length(input, name=None, unit="BYTE"):
    """TF1's ``tf.strings.length`` argument order (``name`` before ``unit``)."""
    return length(input, unit=unit)


def _join_fwd(xp, *arrays, separator):
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=object) for a in arrays])
    shape = arrs[0].shape
    cols = [a.reshape(-1).tolist() for a in arrs]
    any_bytes = any(isinstance(v, (bytes, bytearray)) for c in cols for v in c)
    if any_bytes:
        sep = separator.encode("utf-8")
        cols = [[v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in c]
                for c in cols]
    else:
        sep = separator
    out = np.empty(len(cols[0]) if cols else 0, dtype=object)
    for i, parts in enumerate(zip(*cols)):
        out[i] = sep.join(parts)
    return out.reshape(shape)


_join = register("string_join", _join_fwd)


def join(inputs, separator="", name=None):
    """Joins strings elementwise across a list of tensors (``tf.strings.join``).

    Args:
        inputs: a list of string tensors; all non-scalar ones must have the same shape
            (TF's ``StringJoin`` broadcasts scalars only).
        separator: placed between the joined strings.

    Raises:
        ValueError: an empty list; InvalidArgumentError (a ValueError) ``Input shapes do not
            match`` for two different non-scalar shapes.

    Example:
        >>> join([["a", "b"], ["x", "y"]], separator="-").numpy().tolist()
        ['a-x', 'b-y']
    """
    if isinstance(inputs, (Tensor, np.ndarray)) or not len(inputs):
        raise ValueError("join: inputs must be a non-empty list of string tensors")
    xs = [_host(x, f"inputs[{i}]", "O") for i, x in enumerate(inputs)]
    shapes = [tuple(x.shape) for x in xs if len(x.shape)]
    for shp in shapes[1:]:
        if shp != shapes[0]:
            raise InvalidArgumentError(
                f"Input shapes do not match: [{','.join(map(str, shapes[0]))}] vs. "
                f"[{','.join(map(str, shp))}] (join: inputs must have the same shape (or be "
                f"scalars), got {[tuple(x.shape) for x in xs]})")
    return _join(*xs, separator=str(separator))


# --- regular expressions (RE2 semantics on Python's re) -------------------------------------
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f"}
_RE2_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "(?#", "(?>", "(?(", "(?P=")


def _re2_to_python(pattern):
    """Translates an RE2 pattern to Python's ``re`` with RE2's meaning.

    RE2 (what TF uses) differs from ``re`` where it matters for strings: ``\\d \\w \\s \\b`` are
    ASCII-only, ``$`` outside multi-line mode matches only at the very end (Python's also
    matches before a final newline), ``\\z`` is the end of text, and ``\\Q...\\E`` quotes a
    literal. Lookarounds, back-references and atomic groups are RE2 errors.
    """
    multiline = re.search(r"\(\?[a-zA-Z]*m[a-zA-Z]*[:)]", pattern) is not None
    out = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing \\")
            d = pattern[i + 1]
            if d == "Q" and not in_class:
                j = pattern.find("\\E", i + 2)
                lit = pattern[i + 2:] if j < 0 else pattern[i + 2:j]
                out.append(re.escape(lit))
                i = n if j < 0 else j + 2
                continue
            if d.isdigit() and d != "0" and not in_class:
                raise ValueError(f"invalid escape sequence: \\{d}")
            if d == "z":
                out.append(r"\Z")
            elif d == "Z":
                raise ValueError("invalid escape sequence: \\Z")
            else:
                out.append(c + d)
            i += 2
            continue
        if in_class:
            m = _POSIX_CLASS.match(pattern, i)
            if m is not None:  # RE2's [[:alpha:]]; Python's re has no POSIX classes
                if m.group(2) not in _POSIX_CLASSES:
                    raise ValueError(f"invalid character class range: {m.group(0)}")
                if m.group(1):
                    raise ValueError("negated POSIX classes are not supported")
                out.append(_POSIX_CLASSES[m.group(2)])
                i = m.end()
                continue
            if c == "]" and out and out[-1] not in ("[", "[^"):
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is a literal
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            for bad in _RE2_UNSUPPORTED:
                if pattern.startswith(bad, i):
                    raise ValueError(f"invalid perl operator: {bad}")
        if c == "$" and not multiline:
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_RE_CACHE = {}


def _compile_re2(pattern, op):
    """The compiled translation of an RE2 ``pattern`` (cached), or TF's InvalidArgument."""
    if isinstance(pattern, bytes):
        pattern = pattern.decode("utf-8", "surrogateescape")
    key = pattern
    hit = _RE_CACHE.get(key)
    if hit is not None:
        return hit
    try:
        rx = re.compile(_re2_to_python(pattern), re.ASCII)
    except (re.error, ValueError) as e:
        raise InvalidArgumentError(f"Invalid pattern: {pattern}, error: {e} ({op}: invalid "
                                   f"pattern {pattern!r})") from None
    if len(_RE_CACHE) > 256:
        _RE_CACHE.clear()
    _RE_CACHE[key] = rx
    return rx


def _parse_rewrite(rewrite):
    """RE2's rewrite string: ``\\0``-``\\9`` are groups, ``\\\\`` a backslash; any other
    escape ends the rewrite (RE2 logs "invalid rewrite pattern" and keeps what it had).
    Returns (pieces, max group, valid)."""
    pieces, lit, max_group, i = [], [], 0, 0
    while i < len(rewrite):
        c = rewrite[i]
        if c != "\\":
            lit.append(c)
            i += 1
            continue
        d = rewrite[i + 1] if i + 1 < len(rewrite) else ""
        if d.isdigit():
            if lit:
                pieces.append("".join(lit))
                lit = []
            pieces.append(int(d))
            max_group = max(max_group, int(d))
        elif d == "\\":
            lit.append("\\")
        else:
            if lit:
                pieces.append("".join(lit))
            return pieces, max_group, False
        i += 2
    if lit:
        pieces.append("".join(lit))
    return pieces, max_group, True


def _expand(pieces, m):
    return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in pieces)


def _re2_replace(rx, text, pieces, max_group, valid, replace_global):
    """RE2::GlobalReplace / RE2::Replace: an empty match right after the previous match is
    skipped (Python's re.sub, since 3.7, replaces it), and a rewrite naming a group the
    pattern lacks changes nothing."""
    if max_group > rx.groups:
        return text
    if not replace_global:
        m = rx.search(text)
        if m is None or not valid:
            return text
        return text[:m.start()] + _expand(pieces, m) + text[m.end():]
    out, p, lastend, count = [], 0, -1, 0
    while p <= len(text):
        m = rx.search(text, p)
        if m is None:
            break
        if p < m.start():
            out.append(text[p:m.start()])
        if m.start() == lastend and m.start() == m.end():
            if p < len(text):  # disallow an empty match at the end of the last one
                out.append(text[p])
            p += 1
            continue
        out.append(_expand(pieces, m))
        p = lastend = m.end()
        count += 1
    if count == 0:
        return text
    if p < len(text):
        out.append(text[p:])
    return "".join(out)


def _text(s):
    return s if isinstance(s, str) else bytes(s).decode("utf-8", "surrogateescape")


def _back(orig, t):
    return t if isinstance(orig, str) else t.encode("utf-8", "surrogateescape")


def _regex_fwd(xp, a, pattern, rewrite, replace_global):
    rx = _compile_re2(pattern, "regex_replace")
    pieces, max_group, valid = _parse_rewrite(rewrite)
    a = np.asarray(a)
    items = [_back(s, _re2_replace(rx, _text(s), pieces, max_group, valid, replace_global))
             for s in a.reshape(-1).tolist()]
    return _object_array(items, a.shape)


_regex_replace = register("regex_replace", _regex_fwd)


def _scalar_str(v, what):
    if isinstance(v, Tensor):
        v = v.numpy()
    if isinstance(v, np.ndarray):
        if v.shape != ():
            raise InvalidArgumentError(f"{what} must be scalar, but received "
                                       f"[{','.join(map(str, v.shape))}]")
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode("utf-8", "surrogateescape")
    if not isinstance(v, str):
        raise TypeError(f"{what} must be a string, got {v!r}")
    return v


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Replaces matches of ``pattern`` with ``rewrite`` (``tf.strings.regex_replace``).

    RE2 semantics, as TensorFlow: ``\\d``/``\\w``/``\\s`` are ASCII, ``$`` is the end of the
    text, ``.`` is one character (a UTF-8 code point), empty matches next to a previous
    match are not replaced; in ``rewrite`` ``\\0``-``\\9`` insert groups and ``\\\\`` a
    backslash.

    Raises:
        InvalidArgumentError (a ValueError): ``Invalid pattern: ...`` for a pattern RE2
            rejects (lookarounds and back-references included).

    Example:
        >>> regex_replace(["a1b22"], r"\\d+", "#").numpy().tolist()
        ['a#b#']
    """
    pattern = _scalar_str(pattern, "Pattern")
    rewrite = _scalar_str(rewrite, "Rewrite")
    _compile_re2(pattern, "regex_replace")
    return _regex_replace(_host(input, "input", "O"), pattern=pattern, rewrite=rewrite,
                          replace_global=bool(replace_global))


def _full_match_fwd(xp, a, pattern):
    rx = _compile_re2(pattern, "regex_full_match")
    a = np.asarray(a)
    hits = [rx.fullmatch(_text(s)) is not None for s in a.reshape(-1).tolist()]
    return _out(np.array(hits, dtype=np.bool_).reshape(a.shape))


_regex_full_match = register("regex_full_match", _full_match_fwd)


def regex_full_match(input, pattern, name=None):
    """Whether each string matches ``pattern`` entirely (``tf.strings.regex_full_match``),
    with RE2's semantics as :func:`regex_replace`.

    Returns:
        bool Tensor of the input's shape.

    Example:
        >>> regex_full_match(["ab1", "ab"], r"[a-z]+\\d").numpy().tolist()
        [True, False]
    """
    pattern = _scalar_str(pattern, "Pattern")
    _compile_re2(pattern, "regex_full_match")
    return _regex_full_match(_host(input, "input", "O"), pattern=pattern)


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
        ['ell', 'orl']
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
        ['abc 123', 'def 456']
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
        >>> format("tensor: {}, suffix", ef.range(10)).numpy().item()
        'tensor: [0 1 2 ... 7 8 9], suffix'
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


# --- splitting -----------------------------------------------------------------------------
def _split_v1_bytes(b, delim, skip_empty):
    """TF's StringSplit on bytes: empty input gives no token; an empty delimiter splits
    into single bytes (skip_empty ignored); otherwise every byte of ``delim`` is a
    separator."""
    if not b:
        return []
    if not delim:
        return [b[i:i + 1] for i in range(len(b))]
    if len(delim) == 1:
        toks = b.split(delim)
    else:
        toks = re.split(b"[" + re.escape(delim) + b"]", b)
    return [t for t in toks if t] if skip_empty else toks


_WS_B = re.compile(rb"[ \t\n\v\f\r]+")


def _split_v2_bytes(b, sep, maxsplit):
    """TF's SplitV2 (Python's str.split, with TF's own maxsplit=0 rule: the whole string,
    unstripped, is the one token, even when empty)."""
    if maxsplit == 0:
        return [b]
    if sep:
        return b.split(sep, maxsplit if maxsplit > 0 else -1)
    toks = []
    m = _WS_B.match(b)
    text = b[m.end():] if m else b
    while text:
        m = _WS_B.search(text)
        toks.append(text if m is None else text[:m.start()])
        text = b"" if m is None else text[m.end():]
        if maxsplit > 0 and len(toks) == maxsplit:
            toks.append(text)  # the rest, even when empty, is one more token
            break
    return toks


def _split_fwd(xp, a, mode, sep, maxsplit, skip_empty):
    a = np.asarray(a)
    items = a.reshape(-1).tolist()
    lead = a.shape
    rows, vals = [], []
    width = 0
    sep_b = sep.encode("utf-8", "surrogateescape") if sep is not None else b""
    for r, s in enumerate(items):
        b = _as_bytes(s)
        toks = _split_v1_bytes(b, sep_b, skip_empty) if mode == "chars" else \
            _split_v2_bytes(b, sep_b, maxsplit)
        for c, t in enumerate(toks):
            rows.append((r, c))
            vals.append(_like(s, t))
        width = max(width, len(toks))
    values = np.empty(len(vals), dtype=object)
    values[:] = vals
    if len(lead) <= 1:
        return _sparse_out([r for r, _ in rows], [c for _, c in rows], values, len(items),
                           width)
    # rank > 1: the SparseTensor of the ragged result (TF's RaggedTensor.to_sparse())
    idx = np.zeros((len(rows), len(lead) + 1), np.int64)
    if rows:
        idx[:, :-1] = np.stack(np.unravel_index([r for r, _ in rows], lead), axis=1)
        idx[:, -1] = [c for _, c in rows]
    return _out(idx), values, _out(np.array(list(lead) + [width], np.int64))


_split = register("string_split", _split_fwd, multi=True)


def _vector_input(x, what):
    x = _host(x, what, "O")
    if len(x.shape) != 1:
        raise InvalidArgumentError(
            f"input must be a vector, got shape: [{','.join(map(str, x.shape))}] ({what} must "
            f"be a 1-D string tensor, got shape {tuple(x.shape)})")
    return x


def _check_result_type(result_type, what):
    if result_type == "RaggedTensor":
        raise ValueError(f"{what}: result_type='RaggedTensor' is not supported (eagerflow has "
                         "no RaggedTensor); use the default 'SparseTensor'")
    if result_type != "SparseTensor":
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")


def string_split(source, sep=None, skip_empty=True, delimiter=None,
                 result_type="SparseTensor", name=None):
    """Splits each string of a 1-D tensor into tokens (TF1 ``tf.string_split``).

    TensorFlow's ``StringSplit`` works on bytes: every byte of the delimiter (``sep``,
    default ``' '``; ``delimiter`` is its deprecated alias) is a split point, an empty
    string gives no token, an empty delimiter splits into single bytes, and
    ``skip_empty`` drops empty tokens.

    Args:
        source: 1-D string tensor ``(batch,)``.
        sep: the set of delimiter characters.
        skip_empty: drop empty tokens.

    Returns:
        SparseTensor with indices ``(nnz, 2)`` = ``[row, position]``, string values and
        dense_shape ``[batch, max_tokens]``.

    Raises:
        ValueError: both ``sep`` and ``delimiter``, a non-string delimiter, or
            ``result_type='RaggedTensor'`` (eagerflow has no RaggedTensor).
        InvalidArgumentError: ``input must be a vector`` for a source that is not 1-D.

    Example:
        >>> sp = string_split(["a b", "c"])
        >>> sp.values.numpy().tolist(), sp.dense_shape.numpy().tolist()
        (['a', 'b', 'c'], [2, 2])
    """
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'sep' and 'delimiter'")
    delimiter = sep if sep is not None else delimiter
    if delimiter is None:
        delimiter = " "
    if isinstance(delimiter, Tensor):
        delimiter = delimiter.numpy()
        delimiter = delimiter.item() if isinstance(delimiter, np.ndarray) else delimiter
    if not isinstance(delimiter, (str, bytes)):
        raise TypeError(f"string_split: delimiter must be a string, got {delimiter!r}")
    if isinstance(delimiter, bytes):
        delimiter = delimiter.decode("utf-8", "surrogateescape")
    _check_result_type(result_type, "string_split")
    idx, vals, shape = _split(_vector_input(source, "source"), mode="chars", sep=delimiter,
                              maxsplit=-1, skip_empty=bool(skip_empty))
    return SparseTensor(idx, vals, shape)


def split(input=None, sep=None, maxsplit=-1, result_type="SparseTensor", source=None,
          name=None):
    """Splits each string on ``sep`` (TF1 ``tf.compat.v1.strings.split``, a SparseTensor).

    TensorFlow's ``StringSplitV2``: with ``sep=None`` (or ``''``) runs of ASCII whitespace
    separate tokens and leading/trailing whitespace gives no empty token; with a ``sep``
    string, consecutive separators delimit empty tokens and an empty string is one empty
    token, as Python's ``str.split``. ``maxsplit > 0`` limits the splits (the rest is one
    more token); ``maxsplit=0`` keeps each whole string, unstripped, as its one token.
    A scalar input is split as a batch of one; an input of rank N > 1 gives a SparseTensor
    of rank N + 1 (the ragged result's ``to_sparse()``).

    Args:
        input: string tensor (``source`` is the deprecated alias).
        sep: separator string or None.
        maxsplit: at most this many splits per string (-1: no limit).
        result_type: only ``'SparseTensor'`` (eagerflow has no RaggedTensor).

    Returns:
        SparseTensor of tokens, indices ``[..., position]``.

    Example:
        >>> split(["1<>2<><>3"], sep="<>").values.numpy().tolist()
        ['1', '2', '', '3']
    """
    if input is not None and source is not None:
        raise ValueError("Cannot specify both 'input' and 'source'")
    if input is None:
        input = source
    if input is None:
        raise ValueError("split: input is required")
    _check_result_type(result_type, "split")
    if sep is not None:
        if isinstance(sep, bytes):
            sep = sep.decode("utf-8", "surrogateescape")
        if not isinstance(sep, str):
            raise TypeError(f"split: sep must be a string or None, got {sep!r}")
        if sep == "":
            sep = None
    x = _host(input, "input", "O")
    if len(x.shape) == 0:
        x = x.reshape(1)
    idx, vals, shape = _split(x, mode="sep", sep=sep, maxsplit=int(maxsplit),
                              skip_empty=False)
    return SparseTensor(idx, vals, shape)


# TF1 top-level spellings
string_to_hash_bucket_fast = to_hash_bucket_fast
string_to_hash_bucket_strong = to_hash_bucket_strong
string_to_hash_bucket = to_hash_bucket
string_join = join
string_strip = strip
string_to_number = to_number
