"""numba kernels for TFRecord framing: CRC-32C and a block record scanner.

CRC-32C uses SSE4.2's crc32 instruction when numba targets an x86-64 host that has it,
else a slicing-by-8 table.

The scanner walks a block of the (decompressed) stream, checks both masked CRCs of every
complete record and returns record starts and lengths, so the Python side only slices.
"""
import os
import platform

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["scan_records", "OK", "TRUNCATED", "BAD_HEADER_CRC", "BAD_DATA_CRC"]

OK, TRUNCATED, BAD_HEADER_CRC, BAD_DATA_CRC = 0, 1, 2, 3


def _make_tables():
    poly = 0x82F63B78
    t = np.zeros((8, 256), dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t[0, i] = c
    for k in range(1, 8):
        for i in range(256):
            t[k, i] = (t[k - 1, i] >> 8) ^ t[0, t[k - 1, i] & 0xFF]
    return t


_TABLES = _make_tables()


@numba.njit(cache=True, nogil=True)
def _crc(buf, start, n, t):
    c = np.uint32(0xFFFFFFFF)
    i = start
    end = start + n
    while i + 8 <= end:
        lo = c ^ (np.uint32(buf[i]) | (np.uint32(buf[i + 1]) << 8)
                  | (np.uint32(buf[i + 2]) << 16) | (np.uint32(buf[i + 3]) << 24))
        c = (t[7, lo & 0xFF] ^ t[6, (lo >> 8) & 0xFF] ^ t[5, (lo >> 16) & 0xFF]
             ^ t[4, lo >> 24] ^ t[3, buf[i + 4]] ^ t[2, buf[i + 5]]
             ^ t[1, buf[i + 6]] ^ t[0, buf[i + 7]])
        i += 8
    while i < end:
        c = t[0, (c ^ buf[i]) & 0xFF] ^ (c >> 8)
        i += 1
    return c ^ np.uint32(0xFFFFFFFF)


def _hw_crc_available():
    """SSE4.2's crc32 instruction computes CRC-32C; usable when numba targets this host."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if os.environ.get("NUMBA_CPU_NAME", "host") != "host":
        return False
    try:
        import llvmlite.binding as ll
        return bool(ll.get_host_cpu_features().get("sse4.2"))
    except Exception:  # noqa: BLE001 - fall back to the table version
        return False


HW_CRC = _hw_crc_available()


@intrinsic
def _crc32_u64(typingctx, crc, data):
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64), ir.IntType(64)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse42.crc32.64.64")
        return builder.call(fn, args)
    return sig, codegen


@intrinsic
def _crc32_u8(typingctx, crc, data):
    sig = types.uint32(types.uint32, types.uint8)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(32), ir.IntType(8)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse42.crc32.32.8")
        return builder.call(fn, args)
    return sig, codegen


@numba.njit(cache=True, nogil=True)
def _crc_hw(buf, u64, start, n, t):
    """CRC-32C with the crc32 instruction; ``u64`` is ``buf`` viewed as uint64 words."""
    c32 = np.uint32(0xFFFFFFFF)
    i = start
    end = start + n
    while i < end and i % 8 != 0:
        c32 = _crc32_u8(c32, buf[i])
        i += 1
    c = np.uint64(c32)
    while i + 8 <= end:
        c = _crc32_u64(c, u64[i // 8])
        i += 8
    c32 = np.uint32(c)
    while i < end:
        c32 = _crc32_u8(c32, buf[i])
        i += 1
    return c32 ^ np.uint32(0xFFFFFFFF)


@numba.njit(cache=True, nogil=True)
def _crc_table(buf, u64, start, n, t):
    return _crc(buf, start, n, t)


_crc_any = _crc_hw if HW_CRC else _crc_table


@numba.njit(cache=True, nogil=True)
def _masked(c):
    c = np.uint32(c)
    return np.uint32(((c >> 15) | (c << 17)) + np.uint32(0xA282EAD8))


@numba.njit(cache=True, nogil=True)
def _u32(buf, p):
    return (np.uint32(buf[p]) | (np.uint32(buf[p + 1]) << 8) | (np.uint32(buf[p + 2]) << 16)
            | (np.uint32(buf[p + 3]) << 24))


@numba.njit(cache=True, nogil=True)
def _scan(buf, u64, pos, max_records, check, t, starts, lengths):
    """Returns (count, new_pos, status, status_pos, need). need: bytes for the next record."""
    n = buf.shape[0]
    count = 0
    while count < max_records:
        if n - pos < 12:
            return count, pos, TRUNCATED, pos, 12
        length = np.int64(0)
        for k in range(8):
            length |= np.int64(buf[pos + k]) << (8 * k)
        if check and _masked(_crc_any(buf, u64, pos, 8, t)) != _u32(buf, pos + 8):
            return count, pos, BAD_HEADER_CRC, pos, 0
        if length < 0 or n - pos < 16 + length:
            return count, pos, TRUNCATED, pos, 16 + length
        if check and _masked(_crc_any(buf, u64, pos + 12, length, t)) != \
                _u32(buf, pos + 12 + length):
            return count, pos, BAD_DATA_CRC, pos, 0
        starts[count] = pos + 12
        lengths[count] = length
        count += 1
        pos += 16 + length
    return count, pos, OK, pos, 0


def scan_records(buf_u8, pos, max_records, check=True):
    """Scans complete records of ``buf_u8`` (uint8 array) from ``pos``.

    Returns:
        (starts, lengths, new_pos, status, status_pos, need): record data starts and
        lengths (int64 arrays), the position after the last complete record, a status
        code (OK, TRUNCATED, BAD_HEADER_CRC, BAD_DATA_CRC), where it applies, and for
        TRUNCATED how many bytes the next record needs from ``status_pos``.
    """
    starts = np.empty(max_records, dtype=np.int64)
    lengths = np.empty(max_records, dtype=np.int64)
    u64 = buf_u8[:buf_u8.shape[0] // 8 * 8].view(np.uint64)
    count, new_pos, status, spos, need = _scan(buf_u8, u64, pos, max_records, check, _TABLES,
                                               starts, lengths)
    return starts[:count], lengths[:count], new_pos, status, spos, need


def crc32c_np(data, hardware=None):
    """CRC-32C of bytes via the numba kernels (table, or the crc32 instruction)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    fn = _crc_any if hardware is None else (_crc_hw if hardware else _crc_table)
    return int(fn(arr, arr[:arr.shape[0] // 8 * 8].view(np.uint64), 0, arr.shape[0], _TABLES))


@numba.njit(cache=True, nogil=True)
def _gather(src, starts, lengths, dst, pos):
    for i in range(starts.shape[0]):
        s = starts[i]
        n = lengths[i]
        dst[pos:pos + n] = src[s:s + n]
        pos += n
    return pos


def gather_spans(spans):
    """One uint8 buffer and (B+1,) offsets from [(block, starts, lengths), ...]."""
    lens = np.concatenate([l for _, _, l in spans]) if spans else np.zeros(0, np.int64)
    offs = np.zeros(lens.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    dst = np.empty(int(offs[-1]), dtype=np.uint8)
    pos = 0
    for block, starts, lengths in spans:
        pos = _gather(block, starts, lengths, dst, pos)
    return dst, offs
