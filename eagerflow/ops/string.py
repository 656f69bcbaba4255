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
import re

import numpy as np

from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor
from ..backend import to_numpy
from ..errors import InvalidArgumentError
from ..kernels import farmhash, siphash
from ._host_strings import (_as_bytes, _check_buckets, _check_unit, _fingerprints, _host,
                            _like, _out, _raw, _sparse_out, hash64)
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
        [b'camelcase']
    """
    enc = _check_encoding(encoding, "lower")
    return _case(_host(input, "input", "O"), upper=False, encoding=enc)


def upper(input, encoding="", name=None):
    """Upper-cases strings (``tf.strings.upper``); ASCII only unless ``encoding='utf-8'``.

    Example:
        >>> upper(["abc"]).numpy().tolist()
        [b'ABC']
    """
    enc = _check_encoding(encoding, "upper")
    return _case(_host(input, "input", "O"), upper=True, encoding=enc)


_strip = register("string_strip", lambda xp, a: _map_strings(
    a, lambda s: s.strip(_ASCII_WS), lambda b: b.strip()))


def strip(input, name=None):
    """Strips leading and trailing ASCII whitespace (``tf.strings.strip``).

    Example:
        >>> strip(["  hi \\n"]).numpy().tolist()
        [b'hi']
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
        [b'a-x', b'b-y']
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
        ([b'a', b'b', b'c'], [2, 2])
    """
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'sep' and 'delimiter'")
    delimiter = sep if sep is not None else delimiter
    if delimiter is None:
        delimiter = " "
    if isinstance(delimiter, Tensor):
        delimiter = to_numpy(delimiter._data)
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
        [b'1', b'2', b'', b'3']
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


# the conversions, formatting and regular expressions live in their own modules (imported
# last: they use this module's helpers)
from .string_format import (as_string, format, reduce_join, string_format,  # noqa: E402,A004
                            substr, to_number)
from .string_regex import regex_full_match, regex_replace  # noqa: E402

# TF1 top-level spellings
string_to_hash_bucket_fast = to_hash_bucket_fast
string_to_hash_bucket_strong = to_hash_bucket_strong
string_to_hash_bucket = to_hash_bucket
string_join = join
string_strip = strip
string_to_number = to_number
