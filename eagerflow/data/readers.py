"""File readers: ``TFRecordDataset``, ``TextLineDataset`` and ``ParquetDataset``.

Example:
    >>> import os, tempfile
    >>> from eagerflow.io import TFRecordWriter
    >>> p = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
    >>> with TFRecordWriter(p) as w:
    ...     for i in range(3): w.write(b"r%d" % i)
    >>> [r.item() for r in TFRecordDataset(p)]
    [b'r0', b'r1', b'r2']
"""
import os

import numpy as np

from eagerflow.io._framing import gather_spans
from eagerflow.io.errors import InvalidArgumentError
from eagerflow.io.parse import record_batch
from eagerflow.io.tfrecord import TFRecordReader, _compression_name, _open_stream

from .dataset import Dataset, DatasetIterator, resolve_parallelism
from .structure import TensorSpec

__all__ = ["TFRecordDataset", "TextLineDataset", "ParquetDataset"]


_BLOCK = 4 << 20  # read block: a few batches' worth, so few GIL hand-offs per batch


def _names(filenames, arg="filenames"):
    """A list of str file names, or None when ``filenames`` is a Dataset."""
    if isinstance(filenames, Dataset):
        return None
    if isinstance(filenames, (str, bytes, os.PathLike)):
        filenames = [filenames]
    arr = np.asarray(filenames, dtype=object).reshape(-1)
    out = []
    for f in arr.tolist():
        if isinstance(f, bytes):
            f = f.decode()
        if not isinstance(f, (str, os.PathLike)):
            raise TypeError(f"{arg} must be file names (str), got {type(f).__name__}")
        out.append(os.fspath(f))
    return out


def _scalar_name(x):
    v = x.item() if isinstance(x, np.ndarray) else x
    return v.decode() if isinstance(v, bytes) else os.fspath(v)


def _scalar_bytes(value):
    a = np.empty((), dtype=object)
    a[()] = value
    return a


class _FilesDataset(Dataset):
    """A reader over files; a Dataset of names or parallel reads go through interleave.

    ``__new__`` returns an ``interleave`` of single-file readers when ``filenames`` is a
    Dataset or ``num_parallel_reads`` > 1 (the order TF documents for that case);
    otherwise the reader itself, which walks the files in order.
    """

    def __new__(cls, filenames, compression_type=None, buffer_size=None,
                num_parallel_reads=None):
        names = _names(filenames)
        k = resolve_parallelism(num_parallel_reads, "num_parallel_reads")
        if names is None or (k is not None and k > 1 and len(names) > 1):
            files = filenames if names is None else Dataset.from_tensor_slices(
                np.array([n.encode() for n in names], dtype=object))
            return files.interleave(
                lambda f: cls(_scalar_name(f), compression_type, buffer_size),
                cycle_length=k or 1, block_length=1,
                num_parallel_calls=k if k and k > 1 else None)
        return super().__new__(cls)


class TFRecordDataset(_FilesDataset):
    """The records of TFRecord files, in file order, as scalar string (bytes) elements.

    Args:
        filenames: a file name, a list of them, or a Dataset of names.
        compression_type: ``None``/``''``, ``'ZLIB'`` or ``'GZIP'``.
        buffer_size: read block size in bytes.
        num_parallel_reads: read this many files at once (order as
            ``interleave(cycle_length=k, block_length=1)``).

    Raises:
        DataLossError: on a corrupt or truncated record (names the file and offset).
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None):
        self._files = _names(filenames)
        self._compression = _compression_name(compression_type)
        self._buffer = buffer_size
        self._spec = TensorSpec((), "string")

    def _make(self, peek=False):
        return _TFRecordIter(self)


class _TFRecordIter(DatasetIterator):
    def __init__(self, ds):
        self.ds = ds
        self.file = 0
        self.reader = None
        self.recs, self.j = [], 0
        self.offset = 0  # stream offset of the next record to yield

    def _open(self):
        self.reader = TFRecordReader(self.ds._files[self.file], self.ds._compression,
                                     buffer_size=self.ds._buffer or _BLOCK)
        self.offset = 0

    def _refill(self, k):
        """Reads up to k records of the current file into recs; False after the last file."""
        while True:
            if self.reader is None:
                if self.file >= len(self.ds._files):
                    return False
                self._open()
            self.recs, self.j = self.reader.read_many(k), 0
            if self.recs:
                return True
            self.reader.close()
            self.reader, self.offset = None, 0
            self.file += 1

    def __next__(self):
        if self.j >= len(self.recs) and not self._refill(256):
            raise StopIteration
        rec = self.recs[self.j]
        self.j += 1
        self.offset += len(rec) + 16
        return _scalar_bytes(rec)

    def next_many(self, n):
        """A batch of up to n records as a (k,) object array (the batch fast path).

        When all records come straight from the reader, the result is a RecordBatch that
        also carries them as one buffer, which parse_example uses without re-joining.
        """
        out = []
        spans = [] if self.j >= len(self.recs) else None
        while len(out) < n:
            if self.j >= len(self.recs):
                if self.reader is None and self.file >= len(self.ds._files):
                    break
                if self.reader is None:
                    self._open()
                mark = len(spans) if spans is not None else 0
                got = self.reader.read_many(n - len(out), spans)
                if not got:
                    self.reader.close()
                    self.reader, self.offset = None, 0
                    self.file += 1
                    continue
                payload = (sum(int(l.sum()) for _, _, l in spans[mark:]) if spans is not None
                           else sum(map(len, got)))
                self.offset += payload + 16 * len(got)
                out.extend(got)
                continue
            take = self.recs[self.j:self.j + n - len(out)]
            self.j += len(take)
            self.offset += sum(map(len, take)) + 16 * len(take)
            out.extend(take)
        if spans is not None and out:
            if all(block is spans[0][0] for block, _, _ in spans):
                # all from one read block: point into it, no copy
                starts = np.concatenate([s for _, s, _ in spans])
                ends = starts + np.concatenate([l for _, _, l in spans])
                return record_batch(out, spans[0][0], starts, ends)
            buf, offs = gather_spans(spans)
            return record_batch(out, buf, offs[:-1], offs[1:])
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        return arr

    def save(self):
        return {"file": self.file, "offset": self.offset}

    def restore(self, state):
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        self.recs, self.j = [], 0
        self.file = int(state["file"])
        if self.file < len(self.ds._files):
            self._open()
            self.offset = int(state["offset"])
            self.reader.seek(self.offset)

    def close(self):
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class TextLineDataset(_FilesDataset):
    """The lines of text files (newline and a trailing ``\\r`` removed) as bytes scalars.

    Args:
        filenames: a file name, a list of them, or a Dataset of names.
        compression_type: ``None``/``''``, ``'ZLIB'`` or ``'GZIP'``.
        buffer_size: unused (TF compatibility).
        num_parallel_reads: read this many files at once.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None):
        self._files = _names(filenames)
        self._compression = _compression_name(compression_type)
        self._spec = TensorSpec((), "string")

    def _make(self, peek=False):
        return _LineIter(self)


class _LineIter(DatasetIterator):
    def __init__(self, ds):
        self.ds, self.file, self.line, self.f = ds, 0, 0, None

    def _lines(self):
        import io
        raw = _open_stream(self.ds._files[self.file], self.ds._compression)
        return io.BufferedReader(raw) if not hasattr(raw, "readline") else raw

    def __next__(self):
        while True:
            if self.f is None:
                if self.file >= len(self.ds._files):
                    raise StopIteration
                self.f, self.line = self._lines(), 0
            line = self.f.readline()
            if line:
                self.line += 1
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                return _scalar_bytes(line)
            self.f.close()
            self.f = None
            self.file += 1

    def save(self):
        return {"file": self.file, "line": self.line if self.f is not None else 0}

    def restore(self, state):
        self.close()
        self.file = int(state["file"])
        if self.file < len(self.ds._files):
            self.f, self.line = self._lines(), 0
            for _ in range(int(state["line"])):
                self.f.readline()
                self.line += 1

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None


class ParquetDataset(Dataset):
    """Batches of rows of Parquet files, streamed row group by row group (pyarrow).

    Each element is a dict column -> (rows,) array; strings become object arrays of bytes.

    Args:
        files: a file name or a list of them.
        columns: the columns to read (default: all).
        batch_size: rows per element (the last one of each file may be shorter).

    Example:
        >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.parquet")
        >>> pq.write_table(pa.table({"x": [1, 2, 3]}), p)
        >>> [b["x"].tolist() for b in ParquetDataset(p, batch_size=2)]
        [[1, 2], [3]]
    """

    def __init__(self, files, columns=None, batch_size=1024):
        self._files = _names(files, "files")
        if self._files is None:
            raise TypeError("ParquetDataset: files must be a name or a list of names")
        self._columns = list(columns) if columns is not None else None
        self._batch = int(batch_size)
        if self._batch < 1:
            raise InvalidArgumentError(f"ParquetDataset: batch_size must be >= 1, got {batch_size}")

    def _make(self, peek=False):
        return _ParquetIter(self)


def _column(col):
    import pyarrow as pa
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
            or pa.types.is_large_binary(t):
        vals = col.to_pylist()
        out = np.empty(len(vals), dtype=object)
        out[:] = [v.encode() if isinstance(v, str) else (b"" if v is None else v) for v in vals]
        return out
    return col.to_numpy(zero_copy_only=False)


class _ParquetIter(DatasetIterator):
    def __init__(self, ds):
        self.ds, self.file, self.rows, self.it, self.head = ds, 0, 0, None, None

    def _open(self, skip=0):
        import pyarrow.parquet as pq
        pf = pq.ParquetFile(self.ds._files[self.file])
        self.it = pf.iter_batches(batch_size=self.ds._batch, columns=self.ds._columns)
        self.rows = 0
        pending = skip
        self.head = None
        while pending > 0:
            rb = next(self.it, None)
            if rb is None:
                break
            if rb.num_rows > pending:
                self.head = rb.slice(pending)
                self.rows += pending
                break
            pending -= rb.num_rows
            self.rows += rb.num_rows

    def __next__(self):
        while True:
            if self.it is None:
                if self.file >= len(self.ds._files):
                    raise StopIteration
                self._open()
            if self.head is not None:
                rb, self.head = self.head, None
            else:
                rb = next(self.it, None)
            if rb is not None and rb.num_rows:
                self.rows += rb.num_rows
                return {name: _column(rb.column(i)) for i, name in enumerate(rb.schema.names)}
            if rb is None:
                self.it = None
                self.file += 1

    def save(self):
        return {"file": self.file, "rows": self.rows if self.it is not None else 0}

    def restore(self, state):
        self.file = int(state["file"])
        self.it = None
        if self.file < len(self.ds._files):
            self._open(int(state["rows"]))
