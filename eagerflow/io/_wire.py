"""numba kernels that decode serialized tf.train.Example protos straight from the wire.

A batch of B serialized Examples is one uint8 buffer plus (B,) start and end offsets. ``locate`` walks
every Example once and records, for each requested feature key, which list kind it holds
and where that list's bytes lie (last map entry wins, as in protobuf). The per-feature
kernels then count and decode values without creating Python objects. All kernels release
the GIL, so parsing in several threads runs in parallel.
"""
import numba
import numpy as np

__all__ = ["key_hash", "key_table", "locate", "count_values", "fill_float", "fill_int64",
           "bytes_spans", "pack_fixed", "KIND_NONE", "KIND_BYTES", "KIND_FLOAT", "KIND_INT64"]

KIND_NONE, KIND_BYTES, KIND_FLOAT, KIND_INT64 = 0, 1, 2, 3

_jit = numba.njit(cache=True, nogil=True)
_inline = numba.njit(cache=True, nogil=True, inline="always")


@_jit
def _varint(buf, p, end):
    """(value as int64 bits, new_p); new_p == -1 when the varint runs past ``end``."""
    result = np.int64(0)
    shift = np.int64(0)
    while p < end:
        b = np.int64(buf[p])
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7
        if shift >= 70:
            return result, -1
    return result, -1


@_jit
def _skip(buf, p, end, wt):
    if wt == 0:
        _, p = _varint(buf, p, end)
        return p
    if wt == 1:
        return p + 8 if p + 8 <= end else -1
    if wt == 5:
        return p + 4 if p + 4 <= end else -1
    if wt == 2:
        n, p = _varint(buf, p, end)
        if p < 0 or n < 0 or p + n > end:
            return -1
        return p + n
    return -1


def key_hash(data):
    """FNV-1a 32-bit hash of bytes (the Python twin of ``_hash``)."""
    h = 0x811C9DC5
    for c in data:
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def key_table(keys):
    """An open-addressing table (size a power of two) of key index by :func:`key_hash`."""
    size = 8
    while size < 4 * max(len(keys), 1):
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    for i, k in enumerate(keys):
        slot = key_hash(k) & (size - 1)
        while table[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        table[slot] = i
    return table


@_jit
def _match(buf, ks, ke, keybuf, keyoffs, table):
    h = np.uint32(0x811C9DC5)
    for j in range(ks, ke):
        h = (h ^ np.uint32(buf[j])) * np.uint32(0x01000193)
    mask = table.shape[0] - 1
    slot = np.int64(h) & mask
    n = ke - ks
    while True:
        k = table[slot]
        if k < 0:
            return -1
        a = keyoffs[k]
        if keyoffs[k + 1] - a == n:
            same = True
            for j in range(n):
                if buf[ks + j] != keybuf[a + j]:
                    same = False
                    break
            if same:
                return k
        slot = (slot + 1) & mask


@_jit
def locate(buf, starts, ends, keybuf, keyoffs, table, kind, start, stop):
    """Fills kind/start/stop (K, B). Returns -1, or the index of a malformed Example.

    Varint decoding is written out inline: as helper calls returning tuples numba
    compiled this loop about 5x slower.
    """
    nb = starts.shape[0]
    mask = table.shape[0] - 1
    for b in range(nb):
        p = starts[b]
        end = ends[b]
        while p < end:
            tag = np.int64(0)
            _sh = np.int64(0)
            while True:
                if p >= end:
                    return b
                _c = np.int64(buf[p])
                p += 1
                tag |= (_c & 0x7F) << _sh
                if _c < 0x80:
                    break
                _sh += 7
                if _sh >= 70:
                    return b

            wt = tag & 7
            if tag != 10:
                p = _skip(buf, p, end, wt)
                if p < 0:
                    return b
                continue
            n = np.int64(0)
            _sh = np.int64(0)
            while True:
                if p >= end:
                    return b
                _c = np.int64(buf[p])
                p += 1
                n |= (_c & 0x7F) << _sh
                if _c < 0x80:
                    break
                _sh += 7
                if _sh >= 70:
                    return b

            fend = p + n
            if fend > end:
                return b
            while p < fend:
                tag = np.int64(0)
                _sh = np.int64(0)
                while True:
                    if p >= fend:
                        return b
                    _c = np.int64(buf[p])
                    p += 1
                    tag |= (_c & 0x7F) << _sh
                    if _c < 0x80:
                        break
                    _sh += 7
                    if _sh >= 70:
                        return b

                wt = tag & 7
                if tag != 10:
                    p = _skip(buf, p, fend, wt)
                    if p < 0:
                        return b
                    continue
                n = np.int64(0)
                _sh = np.int64(0)
                while True:
                    if p >= fend:
                        return b
                    _c = np.int64(buf[p])
                    p += 1
                    n |= (_c & 0x7F) << _sh
                    if _c < 0x80:
                        break
                    _sh += 7
                    if _sh >= 70:
                        return b

                eend = p + n
                if eend > fend:
                    return b
                ks = p
                ke = p
                vs = -1
                ve = -1
                while p < eend:
                    tag = np.int64(0)
                    _sh = np.int64(0)
                    while True:
                        if p >= eend:
                            return b
                        _c = np.int64(buf[p])
                        p += 1
                        tag |= (_c & 0x7F) << _sh
                        if _c < 0x80:
                            break
                        _sh += 7
                        if _sh >= 70:
                            return b

                    if tag == 10 or tag == 18:
                        n = np.int64(0)
                        _sh = np.int64(0)
                        while True:
                            if p >= eend:
                                return b
                            _c = np.int64(buf[p])
                            p += 1
                            n |= (_c & 0x7F) << _sh
                            if _c < 0x80:
                                break
                            _sh += 7
                            if _sh >= 70:
                                return b

                        if p + n > eend:
                            return b
                        if tag == 10:
                            ks = p
                            ke = p + n
                        else:
                            vs = p
                            ve = p + n
                        p += n
                    else:
                        p = _skip(buf, p, eend, tag & 7)
                        if p < 0:
                            return b
                h = np.uint32(0x811C9DC5)
                for j in range(ks, ke):
                    h = (h ^ np.uint32(buf[j])) * np.uint32(0x01000193)
                slot = np.int64(h) & mask
                kn = ke - ks
                k = -1
                while True:
                    kk = table[slot]
                    if kk < 0:
                        break
                    a = keyoffs[kk]
                    if keyoffs[kk + 1] - a == kn:
                        same = True
                        for j in range(kn):
                            if buf[ks + j] != keybuf[a + j]:
                                same = False
                                break
                        if same:
                            k = kk
                            break
                    slot = (slot + 1) & mask
                if k < 0:
                    continue
                kd = 0
                s = 0
                e = 0
                q = vs
                while q < ve:
                    tag = np.int64(0)
                    _sh = np.int64(0)
                    while True:
                        if q >= ve:
                            return b
                        _c = np.int64(buf[q])
                        q += 1
                        tag |= (_c & 0x7F) << _sh
                        if _c < 0x80:
                            break
                        _sh += 7
                        if _sh >= 70:
                            return b

                    wt = tag & 7
                    field = tag >> 3
                    if wt == 2 and field >= 1 and field <= 3:
                        n = np.int64(0)
                        _sh = np.int64(0)
                        while True:
                            if q >= ve:
                                return b
                            _c = np.int64(buf[q])
                            q += 1
                            n |= (_c & 0x7F) << _sh
                            if _c < 0x80:
                                break
                            _sh += 7
                            if _sh >= 70:
                                return b

                        if q + n > ve:
                            return b
                        kd = field
                        s = q
                        e = q + n
                        q = e
                    else:
                        q = _skip(buf, q, ve, wt)
                        if q < 0:
                            return b
                kind[k, b] = kd
                start[k, b] = s
                stop[k, b] = e
            p = fend
    return -1


@_jit
def count_values(buf, kind, start, stop, counts):
    """Value counts of one list per example (kind (B,)); returns -1 or a bad example."""
    for b in range(kind.shape[0]):
        kd = kind[b]
        c = 0
        p = start[b]
        end = stop[b]
        if kd == KIND_NONE:
            counts[b] = -1
            continue
        while p < end:
            tag, p = _varint(buf, p, end)
            if p < 0:
                return b
            field = tag >> 3
            wt = tag & 7
            if field != 1:
                p = _skip(buf, p, end, wt)
                if p < 0:
                    return b
                continue
            if wt == 2:
                n, p = _varint(buf, p, end)
                q = p + n
                if p < 0 or q > end:
                    return b
                if kd == KIND_BYTES:
                    c += 1
                elif kd == KIND_FLOAT:
                    c += n // 4
                else:
                    for j in range(p, q):
                        if buf[j] < 0x80:
                            c += 1
                p = q
            elif (wt == 5 and kd == KIND_FLOAT) or (wt == 0 and kd == KIND_INT64):
                c += 1
                p = _skip(buf, p, end, wt)
                if p < 0:
                    return b
            else:
                return b
        counts[b] = c
    return -1


@_jit
def _f32(buf, p):
    bits = (np.uint32(buf[p]) | (np.uint32(buf[p + 1]) << 8)
            | (np.uint32(buf[p + 2]) << 16) | (np.uint32(buf[p + 3]) << 24))
    return bits


@_jit
def fill_float(buf, kind, start, stop, dest, dest_offs):
    """Writes the float bits of example b's list to dest[dest_offs[b]:] (uint32 view)."""
    for b in range(kind.shape[0]):
        if kind[b] != KIND_FLOAT:
            continue
        o = dest_offs[b]
        p = start[b]
        end = stop[b]
        while p < end:
            tag, p = _varint(buf, p, end)
            field = tag >> 3
            wt = tag & 7
            if field != 1:
                p = _skip(buf, p, end, wt)
                continue
            if wt == 2:
                n, p = _varint(buf, p, end)
                q = p + (n // 4) * 4
                while p < q:
                    dest[o] = _f32(buf, p)
                    o += 1
                    p += 4
                p = q + n % 4
            else:
                dest[o] = _f32(buf, p)
                o += 1
                p += 4


@_jit
def fill_int64(buf, kind, start, stop, dest, dest_offs):
    """Writes example b's int64 values to dest[dest_offs[b]:]."""
    for b in range(kind.shape[0]):
        if kind[b] != KIND_INT64:
            continue
        o = dest_offs[b]
        p = start[b]
        end = stop[b]
        while p < end:
            tag, p = _varint(buf, p, end)
            field = tag >> 3
            wt = tag & 7
            if field != 1:
                p = _skip(buf, p, end, wt)
                continue
            if wt == 2:
                n, p = _varint(buf, p, end)
                q = p + n
                while p < q:
                    v, p = _varint(buf, p, q)
                    dest[o] = v
                    o += 1
            else:
                v, p = _varint(buf, p, end)
                dest[o] = v
                o += 1


@_jit
def bytes_spans(buf, kind, start, stop, vstart, vlen, dest_offs):
    """Start and length of every bytes value of example b at vstart/vlen[dest_offs[b]:]."""
    for b in range(kind.shape[0]):
        if kind[b] != KIND_BYTES:
            continue
        o = dest_offs[b]
        p = start[b]
        end = stop[b]
        while p < end:
            tag, p = _varint(buf, p, end)
            field = tag >> 3
            wt = tag & 7
            if field != 1:
                p = _skip(buf, p, end, wt)
                continue
            n, p = _varint(buf, p, end)
            vstart[o] = p
            vlen[o] = n
            o += 1
            p += n


@_jit
def pack_fixed(buf, vstart, vlen, width, out):
    """Copies values into a zero-padded (N, width) uint8 matrix (for an 'S' array).

    Returns how many values end in a NUL byte (an 'S' array would drop it)."""
    nul = 0
    for i in range(vstart.shape[0]):
        s = vstart[i]
        m = vlen[i]
        for j in range(m):
            out[i, j] = buf[s + j]
        if m > 0 and buf[s + m - 1] == 0:
            nul += 1
    return nul
