"""FarmHash ``Fingerprint64`` and ``FingerprintCat64``, bit-identical to TensorFlow's.

TensorFlow hashes strings into buckets (``to_hash_bucket_fast``, hash-bucket and crossed
feature columns, vocabulary OOV buckets, ``fingerprint``) with ``farmhash::Fingerprint64``,
which is ``farmhashna::Hash64``; crosses chain values with ``FingerprintCat64``. Both are
implemented here as numba loops over a whole batch: strings are host data, packed into one
``uint8`` buffer plus ``int64`` offsets (row ``i`` is ``buf[offsets[i]:offsets[i+1]]``), so
one call hashes a million strings without a Python-level loop.

These are CPU-only kernels by nature (Python strings live on the host); callers move the
integer results to the current backend.

Example:
    >>> from eagerflow.kernels import farmhash
    >>> hex(int(farmhash.fingerprint64_strings([""])[0]))
    '0x9ae16a3b2f90404f'
    >>> int(farmhash.fingerprint64_strings(["hello"])[0] % 1000)
    296
"""
import numpy as np
from numba import njit

__all__ = ["string_spans", "pack_strings", "fingerprint64_spans", "fingerprint64_packed",
           "fingerprint64_strings",
           "fingerprint64_ints", "fingerprint_cat64", "fingerprint_cat64_scalar",
           "decimal_strings", "cross_positions", "build_index", "probe_index", "K_MUL", "DEFAULT_CROSS_HASH_KEY"]

_U = np.uint64
_K0 = _U(0xC3A5C85C97CB3127)
_K1 = _U(0xB492B66FBE98F273)
_K2 = _U(0x9AE16A3B2F90404F)
_KMUL16 = _U(0x9DDFEA08EB382D69)
K_MUL = _U(0xC6A4A7935BD1E995)
DEFAULT_CROSS_HASH_KEY = 0xDECAFCAFFE
_S47 = _U(47)
_SEED = _U(81)

# numba promotes uint64 (op) int64 to float64, so every constant and shift amount below is
# an explicit uint64.


@njit(cache=True, inline="always")
def _rot(v, s):
    return (v >> _U(s)) | (v << _U(64 - s))


@njit(cache=True, inline="always")
def _shift_mix(v):
    return v ^ (v >> _S47)


@njit(cache=True, inline="always")
def _fetch64(buf, p):
    return (_U(buf[p]) | (_U(buf[p + 1]) << _U(8)) | (_U(buf[p + 2]) << _U(16))
            | (_U(buf[p + 3]) << _U(24)) | (_U(buf[p + 4]) << _U(32))
            | (_U(buf[p + 5]) << _U(40)) | (_U(buf[p + 6]) << _U(48))
            | (_U(buf[p + 7]) << _U(56)))


@njit(cache=True, inline="always")
def _fetch32(buf, p):
    return (_U(buf[p]) | (_U(buf[p + 1]) << _U(8)) | (_U(buf[p + 2]) << _U(16))
            | (_U(buf[p + 3]) << _U(24)))


@njit(cache=True, inline="always")
def _hash_len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> _S47
    b = (v ^ a) * mul
    b ^= b >> _S47
    return b * mul


@njit(cache=True, inline="always")
def _weak_hash32(buf, p, a, b):
    # farmhashna WeakHashLen32WithSeeds(s, a, b): returns the pair (first, second)
    w = _fetch64(buf, p)
    x = _fetch64(buf, p + 8)
    y = _fetch64(buf, p + 16)
    z = _fetch64(buf, p + 24)
    a += w
    b = _rot(b + a + z, 21)
    c = a
    a += x
    a += y
    b += _rot(a, 44)
    return a + z, b + c


@njit(cache=True)
def _hash64(buf, s, n):
    """farmhashna::Hash64 of buf[s:s+n]."""
    un = _U(n)
    if n <= 16:
        if n >= 8:
            mul = _K2 + un * _U(2)
            a = _fetch64(buf, s) + _K2
            b = _fetch64(buf, s + n - 8)
            c = _rot(b, 37) * mul + a
            d = (_rot(a, 25) + b) * mul
            return _hash_len16(c, d, mul)
        if n >= 4:
            mul = _K2 + un * _U(2)
            a = _fetch32(buf, s)
            return _hash_len16(un + (a << _U(3)), _fetch32(buf, s + n - 4), mul)
        if n > 0:
            a = _U(buf[s])
            b = _U(buf[s + (n >> 1)])
            c = _U(buf[s + n - 1])
            y = (a + (b << _U(8))) & _U(0xFFFFFFFF)
            z = (un + (c << _U(2))) & _U(0xFFFFFFFF)
            return _shift_mix((y * _K2) ^ (z * _K0)) * _K2
        return _K2
    if n <= 32:
        mul = _K2 + un * _U(2)
        a = _fetch64(buf, s) * _K1
        b = _fetch64(buf, s + 8)
        c = _fetch64(buf, s + n - 8) * mul
        d = _fetch64(buf, s + n - 16) * _K2
        return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + _K2, 18) + c, mul)
    if n <= 64:
        mul = _K2 + un * _U(2)
        a = _fetch64(buf, s) * _K2
        b = _fetch64(buf, s + 8)
        c = _fetch64(buf, s + n - 8) * mul
        d = _fetch64(buf, s + n - 16) * _K2
        y = _rot(a + b, 43) + _rot(c, 30) + d
        z = _hash_len16(y, a + _rot(b + _K2, 18) + c, mul)
        e = _fetch64(buf, s + 16) * mul
        f = _fetch64(buf, s + 24)
        g = (y + _fetch64(buf, s + n - 32)) * mul
        h = (z + _fetch64(buf, s + n - 24)) * mul
        return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)
    # over 64 bytes: 64-byte blocks with 56 bytes of state (v, w, x, y, z)
    x = _SEED
    y = _SEED * _K1 + _U(113)
    z = _shift_mix(y * _K2 + _U(113)) * _K2
    v0 = _U(0)
    v1 = _U(0)
    w0 = _U(0)
    w1 = _U(0)
    x = x * _K2 + _fetch64(buf, s)
    end = s + ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    p = s
    while True:
        x = _rot(x + y + v0 + _fetch64(buf, p + 8), 37) * _K1
        y = _rot(y + v1 + _fetch64(buf, p + 48), 42) * _K1
        x ^= w1
        y += v0 + _fetch64(buf, p + 40)
        z = _rot(z + w0, 33) * _K1
        v0, v1 = _weak_hash32(buf, p, v1 * _K1, x + w0)
        w0, w1 = _weak_hash32(buf, p + 32, z + w1, y + _fetch64(buf, p + 16))
        x, z = z, x
        p += 64
        if p == end:
            break
    mul = _K1 + ((z & _U(0xFF)) << _U(1))
    p = last64
    w0 += _U((n - 1) & 63)
    v0 += w0
    w0 += v0
    x = _rot(x + y + v0 + _fetch64(buf, p + 8), 37) * mul
    y = _rot(y + v1 + _fetch64(buf, p + 48), 42) * mul
    x ^= w1 * _U(9)
    y += v0 * _U(9) + _fetch64(buf, p + 40)
    z = _rot(z + w0, 33) * mul
    v0, v1 = _weak_hash32(buf, p, v1 * mul, x + w0)
    w0, w1 = _weak_hash32(buf, p + 32, z + w1, y + _fetch64(buf, p + 16))
    x, z = z, x
    return _hash_len16(_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z,
                       _hash_len16(v1, w1, mul) + x, mul)


@njit(cache=True, nogil=True)
def _fingerprint_spans(buf, starts, lengths, out):
    for i in range(out.shape[0]):
        out[i] = _hash64(buf, starts[i], lengths[i])


@njit(cache=True, nogil=True)
def _fingerprint_ints(values, out):
    # hashes the decimal string of each int64 (TF's as_string) without building it
    digits = np.empty(24, np.uint8)
    for i in range(values.shape[0]):
        v = values[i]
        neg = v < 0
        # magnitude as uint64 so that INT64_MIN works
        m = _U(0) - _U(v) if neg else _U(v)
        p = 24
        while True:
            p -= 1
            digits[p] = np.uint8(_U(48) + m % _U(10))
            m //= _U(10)
            if m == _U(0):
                break
        if neg:
            p -= 1
            digits[p] = np.uint8(45)
        out[i] = _hash64(digits, p, 24 - p)


@njit(cache=True, inline="always")
def _cat64(fp1, fp2):
    r = fp1 ^ K_MUL
    r ^= _shift_mix(fp2 * K_MUL) * K_MUL
    r *= K_MUL
    r = _shift_mix(r) * K_MUL
    return _shift_mix(r)


@njit(cache=True, nogil=True)
def _cat64_arrays(a, b, out):
    for i in range(out.shape[0]):
        out[i] = _cat64(a[i], b[i])


@njit(cache=True, nogil=True)
def _cross_fill(offs, out_off, pos, rows, cols):
    nfeat = offs.shape[0]
    idx = np.empty(nfeat, np.int64)
    for b in range(out_off.shape[0] - 1):
        o = out_off[b]
        n = out_off[b + 1] - o
        for f in range(nfeat):
            idx[f] = offs[f, b]
        for k in range(n):
            for f in range(nfeat):
                pos[o + k, f] = idx[f]
            rows[o + k] = b
            cols[o + k] = k
            f = nfeat - 1  # odometer step, last feature fastest
            while f >= 0:
                idx[f] += 1
                if idx[f] < offs[f, b + 1]:
                    break
                idx[f] = offs[f, b]
                f -= 1


def cross_positions(offs, out_off):
    """Positions of every feature combination of every row, for sparse crosses.

    Args:
        offs: ``int64 (num_features, batch + 1)``: feature ``f``'s values of row ``b`` are
            positions ``offs[f, b]:offs[f, b + 1]`` of its value array.
        out_off: ``int64 (batch + 1,)``: the cumulative product counts per row.

    Returns:
        ``(pos, rows, cols)``: ``pos`` is ``int64 (total, num_features)``, row-major
        cartesian order with the last feature fastest; ``rows``/``cols`` are each output's
        row and position within its row.
    """
    offs = np.ascontiguousarray(offs, np.int64)
    out_off = np.ascontiguousarray(out_off, np.int64)
    total = int(out_off[-1])
    pos = np.empty((total, offs.shape[0]), np.int64)
    rows = np.empty(total, np.int64)
    cols = np.empty(total, np.int64)
    if total:
        _cross_fill(_ro(offs), _ro(out_off), pos, rows, cols)
    return pos, rows, cols


# --- an open-addressing index over 64-bit keys, for lookup tables ---------------------------
_GOLDEN = _U(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _same_bytes(abuf, a0, alen, bbuf, b0, blen):
    if alen != blen:
        return False
    for j in range(alen):
        if abuf[a0 + j] != bbuf[b0 + j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _index_build(keys, buf, starts, lengths, strings, slots, dup_of):
    mask = slots.shape[0] - 1
    shift = _U(64) - _U(np.log2(slots.shape[0]))
    for i in range(keys.shape[0]):
        k = keys[i]
        h = np.int64((k * _GOLDEN) >> shift)
        while True:
            s = slots[h]
            if s < 0:
                slots[h] = i
                break
            if keys[s] == k and (not strings or _same_bytes(
                    buf, starts[s], lengths[s], buf, starts[i], lengths[i])):
                dup_of[i] = s
                break
            h = (h + 1) & mask


@njit(cache=True, nogil=True)
def _index_probe(slots, keys, buf, starts, lengths, strings, qkeys, qbuf, qstarts, qlengths,
                 out):
    mask = slots.shape[0] - 1
    shift = _U(64) - _U(np.log2(slots.shape[0]))
    for i in range(qkeys.shape[0]):
        k = qkeys[i]
        h = np.int64((k * _GOLDEN) >> shift)
        out[i] = -1
        while True:
            s = slots[h]
            if s < 0:
                break
            if keys[s] == k and (not strings or _same_bytes(
                    buf, starts[s], lengths[s], qbuf, qstarts[i], qlengths[i])):
                out[i] = s
                break
            h = (h + 1) & mask


def _index_keys(keys):
    return np.ascontiguousarray(keys).view(np.uint64) if keys.dtype != np.uint64 else \
        np.ascontiguousarray(keys)


def build_index(keys, spans=None):
    """Builds an open-addressing index over 64-bit keys (ints, or string fingerprints).

    Args:
        keys: ``uint64``/``int64 (n,)``: the keys, or the fingerprints of string keys.
        spans: for string keys, ``(buf, starts, lengths)`` of their bytes; a probe then
            compares bytes too, so fingerprint collisions never give a wrong match.

    Returns:
        ``(slots, dup_of)``: ``slots`` is the ``int64`` table (position or -1);
        ``dup_of[i]`` is the earlier position holding the same key as ``i``, or -1
        (duplicates are not inserted).
    """
    k = _index_keys(keys)
    n = k.shape[0]
    cap = 8
    while cap < 2 * n:
        cap *= 2
    slots = np.full(cap, -1, np.int64)
    dup_of = np.full(n, -1, np.int64)
    buf, starts, lengths = _ro_spans(spans if spans is not None else _NO_SPANS)
    if n:
        _index_build(_ro(k), buf, starts, lengths, spans is not None, slots, dup_of)
    return slots, dup_of


def probe_index(slots, keys, queries, spans=None, query_spans=None):
    """Positions of ``queries`` in an index from :func:`build_index` (-1 when absent).

    Args:
        slots: the index.
        keys: the keys the index was built from.
        queries: ``uint64``/``int64 (m,)`` query keys (fingerprints for strings).
        spans, query_spans: the bytes of the table's and the queries' strings (both or
            neither).

    Returns:
        ``int64 (m,)``.
    """
    q = _index_keys(queries)
    out = np.empty(q.shape[0], np.int64)
    buf, starts, lengths = _ro_spans(spans if spans is not None else _NO_SPANS)
    qbuf, qstarts, qlengths = _ro_spans(query_spans if query_spans is not None else _NO_SPANS)
    if q.shape[0]:
        _index_probe(_ro(np.ascontiguousarray(slots, np.int64)), _ro(_index_keys(keys)), buf,
                     starts, lengths, spans is not None, _ro(q), qbuf, qstarts, qlengths, out)
    return out


_NO_SPANS = (np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _ro(a):
    """A read-only view: numba compiles one signature for read-only and writable arrays
    each, and byte buffers come both ways (np.frombuffer is read-only)."""
    v = a.view()
    v.flags.writeable = False
    return v


def _ro_spans(spans):
    buf, starts, lengths = spans
    return _ro(np.ascontiguousarray(buf).reshape(-1).view(np.uint8)), \
        _ro(np.ascontiguousarray(starts, np.int64).reshape(-1)), \
        _ro(np.ascontiguousarray(lengths, np.int64).reshape(-1))


def _to_bytes_list(items):
    """UTF-8 bytes of each item (str or bytes-like)."""
    out = []
    for i, s in enumerate(items):
        if isinstance(s, str):
            out.append(s.encode("utf-8", "surrogatepass"))
        elif isinstance(s, (bytes, bytearray, memoryview, np.bytes_)):
            out.append(bytes(s))
        else:
            raise TypeError(f"expected strings (str or bytes), got {type(s).__name__} "
                            f"at position {i}")
    return out


def string_spans(values):
    """The bytes of many strings as one buffer: ``(buf, starts, lengths)``, all NumPy.

    String ``i`` is ``buf[starts[i]:starts[i] + lengths[i]]``; ``str`` items are UTF-8
    encoded. Bytes items are laid out in a fixed-width block when that wastes little
    memory (a cheaper copy than joining them), so spans need not be contiguous.

    Raises:
        TypeError: if an item is neither ``str`` nor ``bytes``.
    """
    items = values.ravel().tolist() if isinstance(values, np.ndarray) else list(values)
    n = len(items)
    if n == 0:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)
    try:
        joined = "".join(items)
    except TypeError:
        joined = None
    if joined is not None:
        if joined.isascii():  # byte length == character length
            lengths = np.fromiter(map(len, items), np.int64, n)
            return _contiguous(joined.encode("ascii"), lengths)
        items = _to_bytes_list(items)
    try:  # all bytes-like: one C-level join (a Python type check per item costs more)
        bjoined = b"".join(items)
    except TypeError:
        items = _to_bytes_list(items)
        bjoined = b"".join(items)
    return _contiguous(bjoined, np.fromiter(map(len, items), np.int64, n))


def _contiguous(joined, lengths):
    starts = np.zeros(lengths.shape[0], np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return np.frombuffer(joined, np.uint8), starts, lengths


def pack_strings(values):
    """Packs strings into one contiguous ``uint8`` buffer and ``int64`` offsets.

    Args:
        values: a sequence or array (any shape; flattened) of ``str`` (encoded as UTF-8)
            or ``bytes``.

    Returns:
        ``(buf, offsets)``: ``buf`` is ``uint8 (total_bytes,)``, ``offsets`` is
        ``int64 (n + 1,)``, and string ``i`` is ``buf[offsets[i]:offsets[i + 1]]``.

    Raises:
        TypeError: if an item is neither ``str`` nor ``bytes``.
    """
    items = values.ravel().tolist() if isinstance(values, np.ndarray) else list(values)
    encoded = _to_bytes_list(items)
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), offsets


def fingerprint64_spans(buf, starts, lengths):
    """Fingerprint64 of ``buf[starts[i]:starts[i] + lengths[i]]`` for each ``i``.

    This is the zero-copy entry for callers that already hold string bytes in one buffer
    (a parsed record batch, a vocabulary file).

    Args:
        buf: ``uint8 (total_bytes,)``.
        starts, lengths: ``int64 (n,)``; every span must lie inside ``buf``.

    Returns:
        ``uint64 (n,)``.

    Raises:
        ValueError: for spans outside the buffer or negative lengths.
    """
    buf, starts, lengths = _ro_spans((buf, starts, lengths))
    if starts.shape != lengths.shape:
        raise ValueError(f"starts {starts.shape} and lengths {lengths.shape} must match")
    n = starts.shape[0]
    if n and (starts.min() < 0 or lengths.min() < 0
              or int((starts + lengths).max()) > buf.shape[0]):
        raise ValueError("fingerprint64_spans: a span lies outside the buffer")
    out = np.empty(n, np.uint64)
    if n:
        _fingerprint_spans(buf, starts, lengths, out)
    return out


def fingerprint64_packed(buf, offsets):
    """Fingerprint64 of each packed string (see :func:`pack_strings`).

    Args:
        buf: ``uint8 (total_bytes,)``.
        offsets: ``int64 (n + 1,)``, non-decreasing, ``offsets[-1] <= len(buf)``.

    Returns:
        ``uint64 (n,)``.
    """
    offsets = np.ascontiguousarray(offsets, np.int64).reshape(-1)
    if offsets.shape[0] < 1:
        raise ValueError("offsets must have at least one element")
    return fingerprint64_spans(buf, offsets[:-1], np.diff(offsets))


def fingerprint64_strings(values):
    """Fingerprint64 (``farmhash::Fingerprint64``) of each string's UTF-8 bytes.

    Args:
        values: a sequence or array of ``str``/``bytes`` (any shape).

    Returns:
        ``uint64`` array with the shape of ``values`` (flat for a sequence).

    Example:
        >>> int(fingerprint64_strings(["Hello", "TensorFlow", "2.x"])[1] % 3)
        2
    """
    shape = values.shape if isinstance(values, np.ndarray) else None
    out = fingerprint64_spans(*string_spans(values))
    return out.reshape(shape) if shape is not None else out


def fingerprint64_ints(values):
    """Fingerprint64 of the decimal string of each integer (``str(i)``, negatives too).

    Args:
        values: integer array (any shape); converted to int64.

    Returns:
        ``uint64`` array of the same shape.
    """
    a = np.asarray(values)
    if a.dtype.kind not in "iu":
        raise TypeError(f"fingerprint64_ints needs integers, got dtype {a.dtype}")
    if a.dtype == np.uint64 and a.size and a.max() > np.iinfo(np.int64).max:
        raise ValueError("fingerprint64_ints: uint64 values above 2**63 - 1 are not supported")
    flat = np.ascontiguousarray(a.reshape(-1), np.int64)
    out = np.empty(flat.shape[0], np.uint64)
    if flat.shape[0]:
        _fingerprint_ints(_ro(flat), out)
    return out.reshape(a.shape)


def fingerprint_cat64(fp1, fp2):
    """``FingerprintCat64(fp1, fp2)`` elementwise (TF's cross-hash combiner).

    Args:
        fp1, fp2: ``uint64`` arrays (broadcast together; int64 is reinterpreted).

    Returns:
        ``uint64`` array of the broadcast shape.
    """
    a, b = np.broadcast_arrays(_as_u64(fp1), _as_u64(fp2))
    shape = a.shape
    a = np.ascontiguousarray(a).reshape(-1)
    b = np.ascontiguousarray(b).reshape(-1)
    out = np.empty(a.shape[0], np.uint64)
    if out.shape[0]:
        _cat64_arrays(_ro(a), _ro(b), out)
    return out.reshape(shape)


def fingerprint_cat64_scalar(fp1, fp2):
    """``FingerprintCat64`` of two Python ints (taken mod 2**64); returns a Python int."""
    m = (1 << 64) - 1
    k = int(K_MUL)

    def mix(v):
        return v ^ (v >> 47)
    r = (int(fp1) & m) ^ k
    r ^= (mix(((int(fp2) & m) * k) & m) * k) & m
    r = (r * k) & m
    r = (mix(r) * k) & m
    return mix(r)


def _as_u64(x):
    a = np.asarray(x)
    if a.dtype == np.uint64:
        return a
    if a.dtype.kind in "iu":
        return a.astype(np.int64).view(np.uint64)
    if a.dtype == object:  # Python ints, possibly >= 2**63
        return np.array([int(v) & ((1 << 64) - 1) for v in a.reshape(-1)],
                        np.uint64).reshape(a.shape)
    raise TypeError(f"expected 64-bit fingerprints, got dtype {a.dtype}")


def decimal_strings(values):
    """``str(i)`` of each integer as an object array of str (TF's ``as_string``)."""
    a = np.asarray(values)
    return np.array([str(v) for v in a.reshape(-1).tolist()], dtype=object).reshape(a.shape)
