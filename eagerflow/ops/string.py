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
``to_hash_bucket_strong`` is keyed SipHash-2-4, crosses chain ``FingerprintCat64`` from
``hash_key=0xDECAFCAFFE``.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.ops import string
    >>> string.to_hash_bucket_fast(ef.constant(["Hello", "TensorFlow", "2.x"]), 3).numpy().tolist()
    [0, 2, 2]
"""
import math
import re

import numpy as np

from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor
from ..backend.dtypes import as_dtype
from ..kernels import farmhash, siphash
from ._host_strings import _check_buckets, _fingerprints, _host, _out, _raw, _sparse_out
from .cross import bucketize, sparse_cross, sparse_cross_hashed  # noqa: F401 (re-exported)

__all__ = [
    "to_hash_bucket_fast", "to_hash_bucket_strong", "fingerprint", "as_string",
    "string_split", "split", "join", "length", "lower", "upper", "strip", "to_number",
    "regex_replace", "sparse_cross_hashed", "sparse_cross", "bucketize",
    "string_to_hash_bucket_fast", "string_to_hash_bucket_strong", "string_join",
    "string_strip", "string_to_number", "fingerprint64",
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


# --- conversions ---------------------------------------------------------------------------
def _as_string_fwd(xp, a, precision, scientific, shortest, width, fill):
    a = np.asarray(a)
    if a.dtype.kind == "O":
        return a.copy()
    if a.dtype.kind == "b":  # TF ignores width for bools
        items = ["true" if v else "false" for v in a.reshape(-1).tolist()]
        return np.array(items, dtype=object).reshape(a.shape)
    fmt = "%"
    if width > -1:
        fmt += fill + str(width)
    if precision > -1:
        fmt += "." + str(precision)
    if a.dtype.kind in "iu":
        if fmt == "%":
            return a.astype(str).astype(object)
        fmt += "d"
        items = [fmt % v for v in a.reshape(-1).tolist()]
    else:
        fmt += "g" if shortest else "e" if scientific else "f"
        # C's printf pads nan/inf with spaces even under the '0' flag
        nf = fmt.replace("%0", "%", 1)
        items = [(fmt if math.isfinite(v) else nf) % v
                 for v in a.reshape(-1).astype(np.float64).tolist()]
    return np.array(items, dtype=object).reshape(a.shape)


_as_string = register("as_string", _as_string_fwd)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="",
              name=None):
    """Converts numbers to strings (``tf.strings.as_string``), printf style.

    Floats default to ``%f`` (six decimals: 3.5 -> "3.500000"), ints to ``%d``, bools to
    ``"true"``/``"false"``; strings pass through.

    Args:
        input: numeric, bool or string tensor.
        precision: digits after the point for floats (-1: printf's default).
        scientific: ``%e`` notation for floats.
        shortest: ``%g`` notation for floats.
        width: pad to this width (-1: no padding).
        fill: padding flag: ``''`` (spaces), ``'0'`` or ``'-'`` (left-justify), ...

    Returns:
        string Tensor (object array of ``str``) of the input's shape.

    Raises:
        ValueError: scientific with shortest, precision for an int/bool tensor, or a fill
            longer than one character.

    Example:
        >>> as_string([1.5, 2.0]).numpy().tolist()
        ['1.500000', '2.000000']
    """
    if scientific and shortest:
        raise ValueError("as_string: cannot select both scientific and shortest notation")
    if not isinstance(fill, str) or len(fill) > 1 or (fill and fill not in "0 -+#"):
        raise ValueError(f"as_string: fill must be '' or one of '0', ' ', '-', '+', '#', "
                         f"got {fill!r}")
    x = _host(input, "input", "Obiuf")
    if precision > -1 and x.dtype.kind not in "fO":
        raise ValueError(f"as_string: precision is only supported for float tensors, got "
                         f"dtype {x.dtype}")
    return _as_string(x, precision=int(precision), scientific=bool(scientific),
                      shortest=bool(shortest), width=int(width), fill=fill)


_NUMBER_TYPES = ("float32", "float64", "int32", "int64")


def _to_number_fwd(xp, a, out_type):
    dt = np.dtype(out_type)
    flat = np.asarray(a).reshape(-1).tolist()
    conv = float if dt.kind == "f" else int
    vals = []
    for s in flat:
        t = s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s)
        try:
            if "_" in t:  # Python accepts 1_000; strtod/strtoll do not
                raise ValueError
            if conv is float and "0x" in t.lower():
                vals.append(float.fromhex(t.strip()))
            else:
                vals.append(conv(t))
        except ValueError:
            raise ValueError(f"to_number: could not convert string {s!r} to "
                             f"{dt.name}") from None
    if dt.kind == "i":
        info = np.iinfo(dt)
        bad = [v for v in vals if not info.min <= v <= info.max]
        if bad:
            raise ValueError(f"to_number: {bad[0]} is out of range for {dt.name}")
    return _out(np.array(vals, dtype=dt).reshape(np.shape(a)))


_to_number = register("string_to_number", _to_number_fwd)


def to_number(string_tensor, out_type=np.float32, name=None):
    """Parses each string as a number (``tf.strings.to_number``).

    Args:
        string_tensor: string tensor of any shape.
        out_type: float32 (default), float64, int32 or int64.

    Returns:
        Tensor of ``out_type`` on the current backend.

    Raises:
        ValueError: a string that is not a number of that type, or out of its range.
        TypeError: an unsupported ``out_type``.

    Example:
        >>> to_number(["1.5", "-2"]).numpy().tolist()
        [1.5, -2.0]
    """
    dt = as_dtype(out_type)
    if dt.name not in _NUMBER_TYPES:
        raise TypeError(f"to_number: out_type must be one of {_NUMBER_TYPES}, got {dt}")
    return _to_number(_host(string_tensor, "string_tensor", "O"), out_type=dt.name)


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


def _length_fwd(xp, a, unit):
    if unit == "BYTE":
        def fs(s):
            return len(s.encode("utf-8", "surrogatepass")) if not s.isascii() else len(s)
        fb = len
    else:
        fs = len

        def fb(b):
            return len(b.decode("utf-8", "replace"))
    out = _map_strings(a, fs, fb)
    return _out(out.astype(np.int32))


_length = register("string_length", _length_fwd)


def length(input, unit="BYTE", name=None):
    """The length of each string (``tf.strings.length``), int32.

    Args:
        input: string tensor.
        unit: ``'BYTE'`` (UTF-8 bytes) or ``'UTF8_CHAR'`` (code points).

    Example:
        >>> length(["héllo"]).numpy().tolist(), length(["héllo"], unit="UTF8_CHAR").numpy().tolist()
        ([6], [5])
    """
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"length: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return _length(_host(input, "input", "O"), unit=unit)


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
        inputs: a list of string tensors of one shape (scalars broadcast).
        separator: placed between the joined strings.

    Raises:
        ValueError: an empty list or shapes that do not broadcast.

    Example:
        >>> join([["a", "b"], ["x", "y"]], separator="-").numpy().tolist()
        ['a-x', 'b-y']
    """
    if isinstance(inputs, (Tensor, np.ndarray)) or not len(inputs):
        raise ValueError("join: inputs must be a non-empty list of string tensors")
    xs = [_host(x, f"inputs[{i}]", "O") for i, x in enumerate(inputs)]
    try:
        np.broadcast_shapes(*[tuple(x.shape) for x in xs])
    except ValueError:
        raise ValueError("join: inputs must have the same shape (or be scalars), got "
                         f"{[tuple(x.shape) for x in xs]}") from None
    return _join(*xs, separator=str(separator))


def _regex_fwd(xp, a, pattern, rewrite, replace_global):
    count = 0 if replace_global else 1
    ps, pb = re.compile(pattern), re.compile(pattern.encode("utf-8"))
    rs = re.sub(r"\\(\d)", r"\\g<\1>", rewrite)  # RE2's \1 in Python's spelling
    rb = rs.encode("utf-8")
    return _map_strings(a, lambda s: ps.sub(rs, s, count=count),
                        lambda b: pb.sub(rb, b, count=count))


_regex_replace = register("regex_replace", _regex_fwd)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Replaces matches of ``pattern`` with ``rewrite`` (``tf.strings.regex_replace``).

    Python's ``re`` stands in for RE2 (the same syntax for common patterns); ``\\1`` in
    ``rewrite`` is a group reference.

    Example:
        >>> regex_replace(["a1b22"], r"\\d+", "#").numpy().tolist()
        ['a#b#']
    """
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"regex_replace: invalid pattern {pattern!r}: {e}") from None
    return _regex_replace(_host(input, "input", "O"), pattern=str(pattern),
                          rewrite=str(rewrite), replace_global=bool(replace_global))


# --- splitting -----------------------------------------------------------------------------
def _split_fwd(xp, a, mode, sep, maxsplit, skip_empty):
    items = np.asarray(a).reshape(-1).tolist()
    rows, cols, vals = [], [], []
    width = 0
    pattern = None
    if mode == "chars" and sep:
        pattern = "[" + re.escape(sep) + "]"
        pat_s, pat_b = re.compile(pattern), re.compile(pattern.encode("utf-8"))
    for r, s in enumerate(items):
        is_b = not isinstance(s, str)
        if mode == "chars":
            if not s:
                toks = []  # TF gives an empty string no token, even without skip_empty
            elif not sep:
                toks = [s[i:i + 1] for i in range(len(s))]
            else:
                toks = (pat_b if is_b else pat_s).split(s)
            if skip_empty:
                toks = [t for t in toks if t]
        elif sep is None:
            toks = _split_whitespace(s, maxsplit, is_b)
        else:
            toks = s.split(sep.encode("utf-8") if is_b else sep, maxsplit)
        for c, t in enumerate(toks):
            rows.append(r)
            cols.append(c)
            vals.append(t)
        width = max(width, len(toks))
    values = np.empty(len(vals), dtype=object)
    values[:] = vals
    return _sparse_out(rows, cols, values, len(items), width)


_WS_S = re.compile(r"[ \t\n\v\f\r]+")
_WS_B = re.compile(rb"[ \t\n\v\f\r]+")


def _split_whitespace(s, maxsplit, is_b):
    """TF's StringSplitV2 without a separator: runs of ASCII whitespace split, and once
    ``maxsplit`` tokens are out the rest (even an empty rest) is one more token."""
    ws = _WS_B if is_b else _WS_S
    m = ws.match(s)
    text = s[m.end():] if m else s
    if maxsplit == 0:
        return [text] if text else []
    toks = []
    while text:
        m = ws.search(text)
        if m is None:
            toks.append(text)
            text = text[:0]
        else:
            toks.append(text[:m.start()])
            text = text[m.end():]
        if len(toks) == maxsplit:
            toks.append(text)
            break
    return toks


_split = register("string_split", _split_fwd, multi=True)


def _split_input(x, what):
    x = _host(x, what, "O")
    if len(x.shape) != 1:
        raise ValueError(f"{what} must be a 1-D string tensor, got shape {tuple(x.shape)}")
    return x


def string_split(source, delimiter=" ", skip_empty=True, sep=None, name=None):
    """Splits each string of a 1-D tensor into tokens (TF1 ``tf.string_split``).

    Every character of ``delimiter`` is a split point; an empty delimiter splits into
    single characters (TF splits bytes: the same for ASCII). ``skip_empty`` drops empty
    tokens.

    Args:
        source: 1-D string tensor ``(batch,)``.
        delimiter: the set of delimiter characters.
        skip_empty: drop empty tokens.

    Returns:
        SparseTensor with indices ``(nnz, 2)`` = ``[row, position]``, string values and
        dense_shape ``[batch, max_tokens]``.

    Example:
        >>> sp = string_split(["a b", "c"])
        >>> sp.values.numpy().tolist(), sp.dense_shape.numpy().tolist()
        (['a', 'b', 'c'], [2, 2])
    """
    if sep is not None:
        delimiter = sep
    if not isinstance(delimiter, (str, bytes)):
        raise TypeError(f"string_split: delimiter must be a string, got {delimiter!r}")
    if isinstance(delimiter, bytes):
        delimiter = delimiter.decode("utf-8")
    idx, vals, shape = _split(_split_input(source, "source"), mode="chars", sep=delimiter,
                              maxsplit=-1, skip_empty=bool(skip_empty))
    return SparseTensor(idx, vals, shape)


def split(input=None, sep=None, maxsplit=-1, result_type="SparseTensor", source=None,
          name=None):
    """Splits each string on ``sep`` (TF1 ``tf.strings.split``, returning a SparseTensor).

    With ``sep=None`` runs of ASCII whitespace separate tokens and leading/trailing
    whitespace gives no empty token (with ``maxsplit``, TF's rule: once ``maxsplit`` tokens
    are out, the rest is one more token, even when empty); with a ``sep`` string,
    consecutive separators delimit empty tokens, as Python's ``str.split``.

    Args:
        input: 1-D string tensor (``source`` is the deprecated alias).
        sep: separator string or None.
        maxsplit: at most this many splits per string (-1: no limit).
        result_type: only ``'SparseTensor'`` (eagerflow has no RaggedTensor).

    Returns:
        SparseTensor as :func:`string_split`.

    Example:
        >>> split(["1<>2<><>3"], sep="<>").values.numpy().tolist()
        ['1', '2', '', '3']
    """
    if input is None:
        input = source
    if input is None:
        raise ValueError("split: input is required")
    if result_type != "SparseTensor":
        raise ValueError("split: result_type must be 'SparseTensor' (eagerflow has no "
                         f"RaggedTensor), got {result_type!r}")
    if sep is not None:
        if isinstance(sep, bytes):
            sep = sep.decode("utf-8")
        if not isinstance(sep, str):
            raise TypeError(f"split: sep must be a string or None, got {sep!r}")
        if sep == "":
            sep = None
    idx, vals, shape = _split(_split_input(input, "input"), mode="sep", sep=sep,
                              maxsplit=int(maxsplit), skip_empty=False)
    return SparseTensor(idx, vals, shape)



# TF1 top-level spellings
string_to_hash_bucket_fast = to_hash_bucket_fast
string_to_hash_bucket_strong = to_hash_bucket_strong
string_join = join
string_strip = strip
string_to_number = to_number
