"""TFRecord files: TensorFlow's length + masked-CRC32C framing, optionally GZIP/ZLIB wrapped.

One record on disk is ``uint64 length | uint32 masked_crc(length) | data | uint32
masked_crc(data)``, all little-endian, laid end to end. Compression wraps the whole framed
stream. Files written here are read by TensorFlow and the other way round.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
    >>> with TFRecordWriter(path, "GZIP") as w:
    ...     w.write(b"hello")
    >>> list(tf_record_iterator(path, "GZIP"))
    [b'hello']
"""
import gzip
import io
import os
import struct
import zlib

import numpy as np

from ._framing import BAD_DATA_CRC, BAD_HEADER_CRC, OK, crc32c_np, scan_records

try:  # hardware CRC-32C; the compiled table version is the fallback
    from crc32c import crc32c as _crc32c_fn
except ImportError:  # pragma: no cover - crc32c is a declared dependency
    _crc32c_fn = crc32c_np
from .errors import DataLossError, InvalidArgumentError, NotFoundError

__all__ = ["TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType",
           "tf_record_iterator", "TFRecordReader", "masked_crc32c", "unmask_crc32c",
           "crc32c", "encode_record"]

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_CHUNK = 1 << 20


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data`` (bytes-like)."""
    return _crc32c_fn(data)


def masked_crc32c(data):
    """TensorFlow's masked CRC-32C: the CRC rotated right by 15 bits plus a constant."""
    c = _crc32c_fn(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & _U32


def unmask_crc32c(masked):
    """Inverse of the mask applied by :func:`masked_crc32c`."""
    r = (masked - _MASK_DELTA) & _U32
    return ((r >> 17) | (r << 15)) & _U32


def encode_record(data):
    """The framed bytes of one record holding ``data``."""
    data = bytes(data)
    head = struct.pack("<Q", len(data))
    return b"".join((head, struct.pack("<I", masked_crc32c(head)), data,
                     struct.pack("<I", masked_crc32c(data))))


class TFRecordCompressionType:
    """Compression kinds, numbered as TensorFlow numbers them."""
    NONE = 0
    ZLIB = 1
    GZIP = 2


_NAMES = {None: "", "": "", "NONE": "", "ZLIB": "ZLIB", "GZIP": "GZIP", 0: "", 1: "ZLIB",
          2: "GZIP"}


def _compression_name(value, arg="compression_type"):
    if isinstance(value, TFRecordOptions):
        return value.compression_type
    key = value.upper() if isinstance(value, str) else value
    if key not in _NAMES:
        raise InvalidArgumentError(
            f"{arg} must be None, '', 'ZLIB' or 'GZIP', got {value!r}")
    return _NAMES[key]


class TFRecordOptions:
    """Options of a TFRecord file (``tf.io.TFRecordOptions``).

    Args:
        compression_type: ``None``/``''``, ``'ZLIB'`` or ``'GZIP'`` (or a
            :class:`TFRecordCompressionType` value).
        compression_level: zlib level 0-9; ``None`` is zlib's default (6).
    """

    def __init__(self, compression_type=None, compression_level=None):
        self.compression_type = _compression_name(compression_type)
        if compression_level is not None and not 0 <= int(compression_level) <= 9:
            raise InvalidArgumentError(
                f"compression_level must be in [0, 9], got {compression_level!r}")
        self.compression_level = compression_level

    @classmethod
    def get_compression_type_string(cls, options):
        """'' / 'ZLIB' / 'GZIP' for options given as a string, number or TFRecordOptions."""
        return _compression_name(options, "options")


def _options(options):
    if isinstance(options, TFRecordOptions):
        return options
    return TFRecordOptions(options)


class TFRecordWriter:
    """Writes records to a TFRecord file (``tf.io.TFRecordWriter``).

    Args:
        path: file to create (truncated if it exists).
        options: ``None``, ``'ZLIB'``, ``'GZIP'`` or a :class:`TFRecordOptions`.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
        >>> with TFRecordWriter(p) as w:
        ...     w.write(b"abc")
    """

    def __init__(self, path, options=None):
        opts = _options(options)
        self.path = os.fspath(path)
        self._raw = open(self.path, "wb")
        level = 6 if opts.compression_level is None else int(opts.compression_level)
        if opts.compression_type == "GZIP":
            self._comp = zlib.compressobj(level, zlib.DEFLATED, 31)
        elif opts.compression_type == "ZLIB":
            self._comp = zlib.compressobj(level, zlib.DEFLATED, 15)
        else:
            self._comp = None
        self._pending = []
        self._pending_bytes = 0

    def write(self, record):
        """Appends one record (bytes, or an object with ``SerializeToString``)."""
        if self._raw is None:
            raise ValueError(f"TFRecordWriter for {self.path} is closed")
        if hasattr(record, "SerializeToString"):
            record = record.SerializeToString()
        framed = encode_record(record)
        self._pending.append(framed)
        self._pending_bytes += len(framed)
        if self._pending_bytes >= _CHUNK:
            self._drain()

    def _drain(self):
        if not self._pending:
            return
        blob = b"".join(self._pending)
        self._pending, self._pending_bytes = [], 0
        self._raw.write(self._comp.compress(blob) if self._comp is not None else blob)

    def flush(self):
        """Writes buffered records to the file (a full zlib flush when compressed)."""
        self._drain()
        if self._comp is not None:
            self._raw.write(self._comp.flush(zlib.Z_FULL_FLUSH))
        self._raw.flush()

    def close(self):
        """Finishes the compressed stream and closes the file."""
        if self._raw is None:
            return
        self._drain()
        if self._comp is not None:
            self._raw.write(self._comp.flush(zlib.Z_FINISH))
        self._raw.close()
        self._raw = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


def _open_stream(path, compression):
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise NotFoundError(f"{path}; No such file or directory") from None
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "ZLIB":
        return _ZlibReader(raw)
    return raw


class _ZlibReader(io.RawIOBase):
    """A read-only file object over a zlib (RFC 1950) stream."""

    def __init__(self, raw):
        self._raw = raw
        self._d = zlib.decompressobj(15)
        self._buf = b""

    def readable(self):
        return True

    def read(self, n=-1):
        while (n < 0 or len(self._buf) < n) and not self._d.eof:
            chunk = self._raw.read(_CHUNK)
            if not chunk:
                break
            self._buf += self._d.decompress(chunk)
        if n < 0:
            n = len(self._buf)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def close(self):
        self._raw.close()
        super().close()


class TFRecordReader:
    """Reads the records of one file in blocks, checking both CRCs by default.

    The (decompressed) stream is read in large blocks; a compiled scanner finds record
    boundaries and checks CRCs, so per-record Python cost is one slice. ``offset`` is the
    stream position of the next record (uncompressed bytes); :meth:`seek` resumes there.

    Args:
        path: the file.
        compression_type: ``None``/``''``, ``'ZLIB'`` or ``'GZIP'``.
        check_crc: verify header and data CRCs (default True).
        buffer_size: read block size in bytes (default 1 MiB).

    Raises:
        DataLossError: a corrupt or truncated record; the message names the file and the
            byte offset of the record.
    """

    def __init__(self, path, compression_type=None, check_crc=True, buffer_size=None):
        self.path = os.fspath(path)
        self.compression = _compression_name(compression_type)
        self.check_crc = bool(check_crc)
        self.block = int(buffer_size) if buffer_size else _CHUNK
        self._f = _open_stream(self.path, self.compression)
        self._buf = b""
        self._arr = np.empty(0, np.uint8)
        self._pos = 0          # position in _buf
        self._base = 0         # stream offset of _buf[0]
        self._eof = False
        self._need = 12
        self._error = None

    @property
    def offset(self):
        return self._base + self._pos

    def seek(self, offset):
        """Positions the reader at stream offset ``offset`` (a record boundary)."""
        self._error = None
        if offset < self.offset:
            self._f.close()
            self._f = _open_stream(self.path, self.compression)
            self._buf, self._arr, self._pos, self._base, self._eof = \
                b"", np.empty(0, np.uint8), 0, 0, False
        while self.offset < offset:
            avail = len(self._buf) - self._pos
            skip = offset - self.offset
            if avail >= skip:
                self._pos += skip
                return
            self._pos = len(self._buf)
            if not self._more(1):
                raise DataLossError(f"{self.path}: cannot seek to offset {offset}")

    def _more(self, need):
        """Reads more of the stream so that >= need bytes lie after _pos; False at EOF."""
        while len(self._buf) - self._pos < need and not self._eof:
            try:
                chunk = self._f.read(max(self.block, need))
            except (EOFError, OSError, zlib.error) as e:
                raise DataLossError(
                    f"{self.path}: corrupted {self.compression} stream after record at "
                    f"{self.offset}: {e}") from None
            if not chunk:
                self._eof = True
                break
            self._base += self._pos
            self._buf = self._buf[self._pos:] + chunk
            self._pos = 0
            self._arr = np.frombuffer(self._buf, dtype=np.uint8)
        return len(self._buf) - self._pos >= need

    def read_many(self, n, spans=None):
        """Up to ``n`` next records as a list of bytes (shorter only at the end of file).

        Records before a bad one are returned first; the error comes on the next call.
        With a list ``spans``, (block uint8 array, starts, lengths) of the records are
        appended to it as well (for gathering them into one buffer).
        """
        if self._error is not None:
            raise self._error
        out = []
        try:
            self._read_into(out, n, spans)
        except DataLossError as e:
            if not out:
                raise
            self._error = e
        return out

    def _read_into(self, out, n, spans):
        while len(out) < n:
            if len(self._buf) - self._pos < self._need:
                self._more(self._need)
            starts, lengths, new_pos, status, spos, need = scan_records(
                self._arr, self._pos, n - len(out), self.check_crc)
            buf = self._buf
            out.extend([buf[s:s + l] for s, l in zip(starts.tolist(), lengths.tolist())])
            if spans is not None and len(starts):
                spans.append((self._arr, starts, lengths))
            self._pos = new_pos
            if status == OK:
                self._need = 12
                continue
            at = self._base + spos
            if status == BAD_HEADER_CRC:
                raise DataLossError(f"{self.path}: corrupted record at {at} "
                                    "(length header CRC mismatch)")
            if status == BAD_DATA_CRC:
                # TF's record_reader.cc names the data's own offset, after the 12-byte
                # length header and its CRC (TF 2.21: "corrupted record at 175" for a
                # record at 163)
                raise DataLossError(f"{self.path}: corrupted record at {at + 12} "
                                    "(data CRC mismatch)")
            # TRUNCATED: the block ends inside a record; read more unless at EOF.
            self._need = need
            if not self._more(need):
                if len(self._buf) - self._pos == 0:
                    break
                raise DataLossError(
                    f"{self.path}: truncated record at {at} (needs {need} bytes, "
                    f"{len(self._buf) - self._pos} left)")

    def read_record(self):
        """The next record's bytes, or None at a clean end of file."""
        recs = self.read_many(1)
        return recs[0] if recs else None

    def __iter__(self):
        while True:
            recs = self.read_many(256)
            if not recs:
                return
            yield from recs

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


def tf_record_iterator(path, options=None):
    """Yields the records of a TFRecord file (``tf.compat.v1.io.tf_record_iterator``).

    Args:
        path: the file.
        options: ``None``, ``'ZLIB'``, ``'GZIP'`` or a :class:`TFRecordOptions`.
    """
    reader = TFRecordReader(path, _options(options).compression_type)
    try:
        yield from reader
    finally:
        reader.close()
