"""numba encoder: synthetic CTR rows -> TFRecord-framed, serialized tf.train.Example bytes.

Every field of these Examples is short, so all lengths but the Example's own fit in one
varint byte; the layout is the protobuf wire format that TensorFlow writes (map entries
{key=1, value=2}, packed float/int64 lists, bytes lists).
"""
import numba
import numpy as np

from eagerflow.io._framing import _crc, _masked

__all__ = ["encode_chunk"]


@numba.njit(cache=True, nogil=True)
def _put_u32(out, p, v):
    for k in range(4):
        out[p + k] = (v >> (8 * k)) & 0xFF


@numba.njit(cache=True, nogil=True)
def _key(out, p, keybuf, keyoffs, k, value_len):
    """Writes a map entry header and key; returns the position of the value bytes."""
    klen = keyoffs[k + 1] - keyoffs[k]
    out[p] = 0x0A
    out[p + 1] = 2 + klen + 2 + value_len
    out[p + 2] = 0x0A
    out[p + 3] = klen
    for i in range(klen):
        out[p + 4 + i] = keybuf[keyoffs[k] + i]
    q = p + 4 + klen
    out[q] = 0x12
    out[q + 1] = value_len
    return q + 2


@numba.njit(cache=True, nogil=True)
def _encode(label, numeric, toks, cat_ok, keybuf, keyoffs, t, out, ends):
    n = label.shape[0]
    p = 0
    for r in range(n):
        body = p + 12 + 3  # room: frame header, Example tag + 2-byte length
        q = body
        # label: Feature{int64_list{packed [v]}}
        q = _key(out, q, keybuf, keyoffs, 0, 5)
        out[q] = 0x1A
        out[q + 1] = 3
        out[q + 2] = 0x0A
        out[q + 3] = 1
        out[q + 4] = label[r]
        q += 5
        for j in range(numeric.shape[1]):
            v = numeric[r, j]
            if v != v:
                continue
            q = _key(out, q, keybuf, keyoffs, 1 + j, 8)
            out[q] = 0x12
            out[q + 1] = 6
            out[q + 2] = 0x0A
            out[q + 3] = 4
            bits = np.array([v], dtype=np.float32).view(np.uint32)[0]
            _put_u32(out, q + 4, bits)
            q += 8
        for j in range(toks.shape[1]):
            if not cat_ok[r, j]:
                continue
            q = _key(out, q, keybuf, keyoffs, 14 + j, 12)
            out[q] = 0x0A
            out[q + 1] = 10
            out[q + 2] = 0x0A
            out[q + 3] = 8
            for i in range(8):
                out[q + 4 + i] = toks[r, j, i]
            q += 12
        flen = q - body
        # Example{features=1}: tag + 2-byte varint length (flen < 16384)
        out[body - 3] = 0x0A
        out[body - 2] = (flen & 0x7F) | 0x80
        out[body - 1] = flen >> 7
        length = flen + 3
        for k in range(8):
            out[p + k] = (length >> (8 * k)) & 0xFF
        _put_u32(out, p + 8, _masked(_crc(out, p, 8, t)))
        _put_u32(out, p + 12 + length, _masked(_crc(out, p + 12, length, t)))
        p = p + 16 + length
        ends[r] = p
    return p


def encode_chunk(label, numeric, toks, cat_ok, keybuf, keyoffs, tables):
    """(uint8 buffer, int64 end offsets per record) of framed Example records."""
    n = label.shape[0]
    out = np.empty(n * 1024, dtype=np.uint8)
    ends = np.empty(n, dtype=np.int64)
    used = _encode(label.astype(np.uint8), numeric.astype(np.float32),
                   np.ascontiguousarray(toks), np.ascontiguousarray(cat_ok), keybuf, keyoffs,
                   tables, out, ends)
    return out[:used], ends
