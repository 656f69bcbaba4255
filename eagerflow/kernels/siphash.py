"""SipHash-2-4 over a batch of strings: TensorFlow's ``to_hash_bucket_strong`` hash.

TensorFlow's ``StringToHashBucketStrong`` (and Keras ``Hashing(salt=...)``) computes
SipHash-2-4 of each string's bytes with a 128-bit key given as two uint64 ``[k0, k1]``
(the 16 key bytes are k0 then k1, each little-endian). The strings are packed by
:func:`eagerflow.kernels.farmhash.string_spans`; one numba loop hashes the batch.

Example:
    >>> from eagerflow.kernels import siphash
    >>> (siphash.siphash24_strings(["Hello", "TF"], 1, 2) % 3).tolist()
    [2, 0]
"""
import numpy as np
from numba import njit

from .farmhash import _ro_spans, string_spans

__all__ = ["siphash24_spans", "siphash24_strings"]

_U = np.uint64


@njit(cache=True, inline="always")
def _rotl(v, s):
    return (v << _U(s)) | (v >> _U(64 - s))


@njit(cache=True, inline="always")
def _round(v0, v1, v2, v3):
    v0 += v1
    v1 = _rotl(v1, 13)
    v1 ^= v0
    v0 = _rotl(v0, 32)
    v2 += v3
    v3 = _rotl(v3, 16)
    v3 ^= v2
    v0 += v3
    v3 = _rotl(v3, 21)
    v3 ^= v0
    v2 += v1
    v1 = _rotl(v1, 17)
    v1 ^= v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@njit(cache=True)
def _sip(buf, s, n, k0, k1):
    v0 = k0 ^ _U(0x736F6D6570736575)
    v1 = k1 ^ _U(0x646F72616E646F6D)
    v2 = k0 ^ _U(0x6C7967656E657261)
    v3 = k1 ^ _U(0x7465646279746573)
    nblocks = n // 8
    for blk in range(nblocks):
        p = s + 8 * blk
        m = _U(0)
        for j in range(8):
            m |= _U(buf[p + j]) << _U(8 * j)
        v3 ^= m
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0 ^= m
    b = _U(n & 0xFF) << _U(56)
    p = s + 8 * nblocks
    for j in range(n - 8 * nblocks):
        b |= _U(buf[p + j]) << _U(8 * j)
    v3 ^= b
    v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= _U(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


@njit(cache=True, nogil=True)
def _sip_spans(buf, starts, lengths, k0, k1, out):
    for i in range(out.shape[0]):
        out[i] = _sip(buf, starts[i], lengths[i], k0, k1)


def _key_word(k, what):
    k = int(k)
    if not -(1 << 63) <= k < (1 << 64):
        raise ValueError(f"{what} must fit in 64 bits, got {k}")
    return np.uint64(k & ((1 << 64) - 1))


def siphash24_spans(buf, starts, lengths, k0, k1):
    """SipHash-2-4 of ``buf[starts[i]:starts[i] + lengths[i]]`` with key ``(k0, k1)``.

    Args:
        buf: ``uint8 (total_bytes,)``.
        starts, lengths: ``int64 (n,)``.
        k0, k1: the key words (Python ints; negative values are taken mod 2**64).

    Returns:
        ``uint64 (n,)``.
    """
    buf, starts, lengths = _ro_spans((buf, starts, lengths))
    n = starts.shape[0]
    if lengths.shape[0] != n:
        raise ValueError(f"starts {starts.shape} and lengths {lengths.shape} must match")
    if n and (starts.min() < 0 or lengths.min() < 0
              or int((starts + lengths).max()) > buf.shape[0]):
        raise ValueError("siphash24_spans: a span lies outside the buffer")
    out = np.empty(n, np.uint64)
    if n:
        _sip_spans(buf, starts, lengths, _key_word(k0, "k0"), _key_word(k1, "k1"), out)
    return out


def siphash24_strings(values, k0, k1):
    """SipHash-2-4 of each string's UTF-8 bytes with key ``(k0, k1)``.

    Args:
        values: a sequence or array (any shape) of ``str``/``bytes``.
        k0, k1: the two 64-bit key words.

    Returns:
        ``uint64`` array with the shape of ``values`` (flat for a sequence).
    """
    shape = values.shape if isinstance(values, np.ndarray) else None
    out = siphash24_spans(*string_spans(values), k0, k1)
    return out.reshape(shape) if shape is not None else out
