"""``cache``: record the first complete pass, in memory or in files that outlive the process.

On disk (``filename`` given) a complete cache is ``<filename>.index`` (JSON: element
count and format version) plus ``<filename>.data-00000-of-00001`` (TFRecord-framed
elements in a small self-describing binary encoding, no pickle). While a pass records,
``<filename>_0.lockfile`` exists and the data goes to a temporary file; only a complete
pass renames it into place and writes the index last, so an interrupted pass leaves no
cache and the next pass recomputes. A second concurrent writer gets AlreadyExistsError.
"""
import json
import os
import struct
import warnings

import numpy as np

from eagerflow.io.errors import AlreadyExistsError
from eagerflow.io.tfrecord import TFRecordReader, TFRecordWriter

from .dataset import DatasetIterator
from .structure import TensorSpec, flatten, pack_like
from .transforms import _SameCount, _Unary

__all__ = ["CacheDataset", "encode_binary", "decode_binary", "spec_to_json", "spec_from_json"]

_VERSION = 1


def encode_binary(elem):
    """Bytes for one element: a JSON header (dtype, shape, sizes) then raw payloads."""
    header, payload = [], []
    for leaf in flatten(elem):
        if leaf.dtype.kind == "O":
            vals = [v if isinstance(v, bytes) else str(v).encode() for v in leaf.reshape(-1).tolist()]
            header.append(["S", list(leaf.shape), [len(v) for v in vals]])
            payload.extend(vals)
        else:
            data = np.ascontiguousarray(leaf).tobytes()
            header.append([leaf.dtype.str, list(leaf.shape), len(data)])
            payload.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    return b"".join([struct.pack("<I", len(h)), h] + payload)


def decode_binary(structure, data):
    """Inverse of :func:`encode_binary`; ``structure`` gives the nesting."""
    (hlen,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4:4 + hlen])
    pos = 4 + hlen
    leaves = []
    for dtype, shape, sizes in header:
        if dtype == "S":
            out = np.empty(len(sizes), dtype=object)
            vals = []
            for n in sizes:
                vals.append(data[pos:pos + n])
                pos += n
            out[:] = vals
            leaves.append(out.reshape(shape))
        else:
            leaves.append(np.frombuffer(data, dtype=np.dtype(dtype), count=int(np.prod(
                shape, dtype=np.int64)), offset=pos).reshape(shape).copy())
            pos += sizes
    return pack_like(structure, leaves)


def spec_to_json(spec):
    """A JSON-able form of an element_spec (dicts, tuples, TensorSpec leaves)."""
    if isinstance(spec, dict):
        return {"d": {k: spec_to_json(v) for k, v in spec.items()}}
    if isinstance(spec, tuple):
        return {"t": [spec_to_json(v) for v in spec]}
    dt = "string" if spec.dtype.kind == "O" else spec.dtype.str
    return {"l": [dt, None if spec.shape is None else list(spec.shape)]}


def spec_from_json(d):
    """Inverse of :func:`spec_to_json`."""
    if "d" in d:
        return {k: spec_from_json(v) for k, v in d["d"].items()}
    if "t" in d:
        return tuple(spec_from_json(v) for v in d["t"])
    dt, shape = d["l"]
    return TensorSpec(shape, "string" if dt == "string" else np.dtype(dt))


class CacheDataset(_SameCount, _Unary):
    def __init__(self, input_dataset, filename=""):
        super().__init__(input_dataset)
        self._filename = os.fspath(filename) if filename else ""
        self._mem = None

    def _infer_spec(self):
        if self._filename and self._complete_on_disk():
            with open(self._index) as f:
                return spec_from_json(json.load(f)["spec"])
        return self._input.element_spec

    @property
    def _index(self):
        return self._filename + ".index"

    @property
    def _data(self):
        return self._filename + ".data-00000-of-00001"

    def _complete_on_disk(self):
        if not os.path.exists(self._index) or not os.path.exists(self._data):
            return False
        try:
            with open(self._index) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            return False
        return meta.get("version") == _VERSION and meta.get("complete") is True

    def _make(self, peek=False):
        if peek:
            return self._input._make(peek)
        if not self._filename:
            if self._mem is not None:
                return _MemReplay(self._mem)
            return _Recorder(self, self._input._make(), None)
        if self._complete_on_disk():
            return _FileReplay(self)
        return _Recorder(self, self._input._make(), self._open_writer())

    def _open_writer(self):
        lock = self._filename + "_0.lockfile"
        d = os.path.dirname(os.path.abspath(self._filename))
        os.makedirs(d, exist_ok=True)
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise AlreadyExistsError(
                f"cache: there appears to be a concurrent caching iterator running - cache "
                f"lockfile already exists ('{lock}'). If you are sure no other running "
                "process uses this cache, delete the lockfile and retry.") from None
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        tmp = f"{self._data}.tmp-{os.getpid()}-{id(self)}"
        return {"lock": lock, "tmp": tmp, "writer": TFRecordWriter(tmp)}


class _Recorder(DatasetIterator):
    """Passes upstream elements through while recording them; commits on completion."""

    def __init__(self, ds, up, writer):
        self.ds, self.up, self.file = ds, up, writer
        self.items = [] if writer is None else None
        self.count = 0
        self.recording = True
        self.finished = False

    def __next__(self):
        try:
            elem = next(self.up)
        except StopIteration:
            self._commit()
            raise
        if self.recording:
            if self.file is None:
                self.items.append(elem)
            else:
                self.file["writer"].write(encode_binary(elem))
        self.count += 1
        return elem

    def _commit(self):
        if self.finished:
            return
        self.finished = True
        if not self.recording:
            self._discard()
            return
        if self.file is None:
            if self.ds._mem is None:
                self.ds._mem = self.items
            return
        f = self.file
        f["writer"].close()
        os.replace(f["tmp"], self.ds._data)
        tmp_index = self.ds._index + ".tmp"
        with open(tmp_index, "w") as fh:
            json.dump({"version": _VERSION, "complete": True, "count": self.count,
                       "spec": spec_to_json(self.ds.element_spec)}, fh)
        os.replace(tmp_index, self.ds._index)
        os.remove(f["lock"])
        self.file = None

    def _discard(self):
        if self.file is not None:
            f, self.file = self.file, None
            f["writer"].close()
            for p in (f["tmp"], f["lock"]):
                if os.path.exists(p):
                    os.remove(p)
        self.items = None

    def save(self):
        return {"mode": "record", "up": self.up.save(), "count": self.count}

    def restore(self, state):
        if state.get("mode") != "record":
            raise ValueError("cache: the saved state is a replay state but the cache is not "
                             "complete here")
        self.up.restore(state["up"])
        self.count = int(state["count"])
        self.recording = self.count == 0  # a resumed pass cannot complete the cache

    def close(self):
        if not self.finished:
            self.finished = True
            if self.count and self.recording:
                warnings.warn("The calling iterator did not fully read the dataset being "
                              "cached; the partially cached contents are discarded.",
                              stacklevel=2)
            self._discard()
        self.up.close()


class _MemReplay(DatasetIterator):
    def __init__(self, items):
        self.items, self.i = items, 0

    def __next__(self):
        if self.i >= len(self.items):
            raise StopIteration
        self.i += 1
        return self.items[self.i - 1]

    def save(self):
        return {"mode": "replay", "i": self.i}

    def restore(self, state):
        if state.get("mode") == "record":
            raise ValueError("cache: restoring a recording pass into a replaying iterator")
        self.i = int(state["i"])


class _FileReplay(DatasetIterator):
    def __init__(self, ds):
        self.ds = ds
        self.reader = TFRecordReader(ds._data)
        self.i = 0
        self.spec = ds.element_spec

    def __next__(self):
        rec = self.reader.read_record()
        if rec is None:
            raise StopIteration
        self.i += 1
        return decode_binary(self.spec, rec)

    def save(self):
        return {"mode": "replay", "i": self.i, "offset": self.reader.offset}

    def restore(self, state):
        if state.get("mode") == "record":
            raise ValueError("cache: restoring a recording pass into a replaying iterator")
        self.reader.seek(int(state["offset"]))
        self.i = int(state["i"])

    def close(self):
        self.reader.close()
