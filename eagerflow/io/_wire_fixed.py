"""numba kernels for the common CTR case: a spec of only FixedLenFeatures.

``parse_fixed`` locates every feature and decodes all numeric values and string spans of
a batch in one GIL-free call, so several parser threads overlap well (each GIL hand-off
costs up to the interpreter's switch interval when another thread runs Python).
"""
import numba
import numpy as np

from ._wire import (KIND_BYTES, KIND_FLOAT, KIND_INT64, KIND_NONE, _f32, _skip, _varint,
                    locate, pack_fixed)

__all__ = ["fixed_numeric", "fixed_bytes", "dedupe_rows", "parse_fixed"]

_jit = numba.njit(cache=True, nogil=True)


@_jit
def fixed_numeric(buf, kind, start, stop, rows, want, nvals, out_off, fout, iout, present):
    """Decodes several FixedLen float/int64 features in one pass.

    Feature f reads located row ``rows[f]`` and writes example b's ``nvals[f]`` values at
    ``out_off[f] + b * nvals[f]`` of ``fout`` (float bits) or ``iout`` (int64).
    Returns (f, b) of the first type or count mismatch, else (-1, -1).
    """
    nb = kind.shape[1]
    for f in range(rows.shape[0]):
        k = rows[f]
        n = nvals[f]
        w = want[f]
        for b in range(nb):
            kd = kind[k, b]
            if kd == KIND_NONE:
                present[f, b] = False
                continue
            if kd != w:
                return f, b
            present[f, b] = True
            o = out_off[f] + b * n
            c = 0
            p = start[k, b]
            end = stop[k, b]
            while p < end:
                if (w == KIND_FLOAT and buf[p] == 0x0A and p + 1 < end
                        and buf[p + 1] < 0x80):  # common case: short packed floats
                    m = np.int64(buf[p + 1])
                    p += 2
                    q = p + m
                    if q > end or m % 4 != 0 or c + m // 4 > n:
                        return f, b
                    while p < q:
                        fout[o + c] = _f32(buf, p)
                        c += 1
                        p += 4
                    continue
                tag, p = _varint(buf, p, end)
                if p < 0:
                    return f, b
                wt = tag & 7
                if tag >> 3 != 1:
                    p = _skip(buf, p, end, wt)
                    if p < 0:
                        return f, b
                    continue
                if wt == 2:
                    m, p = _varint(buf, p, end)
                    q = p + m
                    if p < 0 or q > end:
                        return f, b
                    if w == KIND_FLOAT:
                        if m % 4 != 0 or c + m // 4 > n:
                            return f, b
                        while p < q:
                            fout[o + c] = _f32(buf, p)
                            c += 1
                            p += 4
                    else:
                        while p < q:
                            v, p = _varint(buf, p, q)
                            if p < 0 or c >= n:
                                return f, b
                            iout[o + c] = v
                            c += 1
                elif wt == 5 and w == KIND_FLOAT:
                    if c >= n or p + 4 > end:
                        return f, b
                    fout[o + c] = _f32(buf, p)
                    c += 1
                    p += 4
                elif wt == 0 and w == KIND_INT64:
                    v, p = _varint(buf, p, end)
                    if p < 0 or c >= n:
                        return f, b
                    iout[o + c] = v
                    c += 1
                else:
                    return f, b
            if c != n:
                return f, b
    return -1, -1


@_jit
def fixed_bytes(buf, kind, start, stop, rows, nvals, out_off, vstart, vlen, present):
    """Spans of several FixedLen string features in one pass (like ``fixed_numeric``).
    Absent examples get zero-length spans. Returns (f, b) of the first mismatch."""
    nb = kind.shape[1]
    for f in range(rows.shape[0]):
        k = rows[f]
        n = nvals[f]
        for b in range(nb):
            kd = kind[k, b]
            o = out_off[f] + b * n
            if kd == KIND_NONE:
                present[f, b] = False
                for i in range(n):
                    vstart[o + i] = 0
                    vlen[o + i] = 0
                continue
            if kd != KIND_BYTES:
                return f, b
            present[f, b] = True
            c = 0
            p = start[k, b]
            end = stop[k, b]
            while p < end:
                if buf[p] == 0x0A and p + 1 < end and buf[p + 1] < 0x80:  # common case
                    m = np.int64(buf[p + 1])
                    p += 2
                    if p + m > end or c >= n:
                        return f, b
                    vstart[o + c] = p
                    vlen[o + c] = m
                    c += 1
                    p += m
                    continue
                tag, p = _varint(buf, p, end)
                if p < 0:
                    return f, b
                wt = tag & 7
                if tag >> 3 != 1:
                    p = _skip(buf, p, end, wt)
                    if p < 0:
                        return f, b
                    continue
                if wt != 2:
                    return f, b
                m, p = _varint(buf, p, end)
                if p < 0 or p + m > end or c >= n:
                    return f, b
                vstart[o + c] = p
                vlen[o + c] = m
                c += 1
                p += m
            if c != n:
                return f, b
    return -1, -1


@_jit
def dedupe_rows(mat):
    """(first index of each distinct row, (N,) row -> distinct index), by hashing."""
    n, w = mat.shape
    size = 1
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, np.int64)
    inverse = np.empty(n, np.int64)
    uniq = np.empty(n, np.int64)
    nu = 0
    for i in range(n):
        h = np.uint64(14695981039346656037)
        for j in range(w):
            h = (h ^ np.uint64(mat[i, j])) * np.uint64(1099511628211)
        slot = np.int64(h & np.uint64(size - 1))
        while True:
            u = table[slot]
            if u < 0:
                table[slot] = nu
                uniq[nu] = i
                inverse[i] = nu
                nu += 1
                break
            r = uniq[u]
            same = True
            for j in range(w):
                if mat[r, j] != mat[i, j]:
                    same = False
                    break
            if same:
                inverse[i] = u
                break
            slot = (slot + 1) & (size - 1)
    return uniq[:nu], inverse


@_jit
def parse_fixed(buf, starts, ends, keybuf, keyoffs, table, kind, start, stop,
                nrows, want, nnum, noff, fout, iout, npresent,
                srows, nstr, soff, vstart, vlen, spresent):
    """``locate`` + ``fixed_numeric`` + ``fixed_bytes`` + packing, in one GIL-free call.

    Returns (stage, f, b, umat, inverse, nul): stage 0 = ok; 1 = malformed Example b;
    2/3 = a numeric/string feature f mismatch at example b. ``umat`` holds the distinct
    string values as zero-padded rows, ``inverse`` (N,) maps each value to its row, and
    ``nul`` counts values ending in a NUL byte. Deduplicating first means one ``bytes``
    object per distinct value (categorical columns repeat a lot), created with the GIL.
    """
    empty = np.zeros((0, 1), dtype=np.uint8)
    bad = locate(buf, starts, ends, keybuf, keyoffs, table, kind, start, stop)
    if bad >= 0:
        return 1, 0, bad, empty, np.zeros(0, dtype=np.int64), 0
    if nrows.shape[0]:
        f, b = fixed_numeric(buf, kind, start, stop, nrows, want, nnum, noff, fout, iout,
                             npresent)
        if f >= 0:
            return 2, f, b, empty, np.zeros(0, dtype=np.int64), 0
    if srows.shape[0]:
        f, b = fixed_bytes(buf, kind, start, stop, srows, nstr, soff, vstart, vlen, spresent)
        if f >= 0:
            return 3, f, b, empty, np.zeros(0, dtype=np.int64), 0
        width = 1
        for i in range(vlen.shape[0]):
            if vlen[i] > width:
                width = vlen[i]
        mat = np.zeros((vlen.shape[0], width), dtype=np.uint8)
        nul = pack_fixed(buf, vstart, vlen, width, mat)
        uniq, inverse = dedupe_rows(mat)
        return 0, 0, 0, mat[uniq], inverse, nul
    return 0, 0, 0, empty, np.zeros(0, dtype=np.int64), 0
