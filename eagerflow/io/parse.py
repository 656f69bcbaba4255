"""Batched ``parse_example`` / ``parse_single_example`` on a compiled wire decoder.

The batch is joined into one buffer; numba kernels (``_wire``) find each requested
feature in every Example and decode values straight into the output arrays. No protobuf
objects are built and there is no Python loop over examples, except to create the
``bytes`` objects of string features.

Example:
    >>> from eagerflow.io.example import Example, Features, Feature, FloatList
    >>> ex = Example(features=Features(feature={"x": Feature(float_list=FloatList(value=[1.5]))}))
    >>> out = parse_example([ex.SerializeToString()], {"x": FixedLenFeature([], "float32")})
    >>> out["x"].tolist()
    [1.5]
"""
import threading

import numpy as np

from eagerflow.autograd.sparse_tensor import SparseTensor

from . import _wire, _wire_fixed
from .errors import InvalidArgumentError
from .parsing_config import (KIND_OF_DTYPE, FixedLenFeature, FixedLenSequenceFeature,
                             SparseFeature, VarLenFeature)

__all__ = ["parse_example", "parse_single_example", "serialized_batch", "RecordBatch",
           "record_batch"]

_TYPE_NAMES = {1: "string", 2: "float", 3: "int64"}  # TF's DataTypeString
_VALUE_NAMES = {1: "bytes", 2: "float", 3: "int64"}  # as TF's size errors name them


def shape_str(shape, ragged=False):
    """A shape as TF's TensorShape::DebugString writes it: ``[2,3]``; ``[?,2]`` when
    ``ragged`` (a FixedLenSequenceFeature's unknown first dimension)."""
    dims = (["?"] if ragged else []) + [str(int(d)) for d in shape]
    return "[" + ",".join(dims) + "]"


def _minibatch_starts(sizes):
    """First example of each of TF's FastParseExample minibatches (from record sizes)."""
    result, mb = 0, 0
    for n in sizes:
        if mb == 0:
            result += 1
        mb += int(n) + 1
        if mb > 50000:
            mb = 0
    b = len(sizes)
    num = max(min(8, b), min(64, result))
    return [b * m // num for m in range(num)] if num else []


class RecordBatch(np.ndarray):
    """An object array of serialized records that also carries them as one buffer.

    TFRecord readers return batches of this type so that parsing skips re-joining the
    records. Slices and derived arrays drop the buffer (it would no longer match).
    """

    def __array_finalize__(self, obj):
        self.frame = None


def record_batch(records, buf, starts, ends):
    """A (B,) :class:`RecordBatch` of ``records``; record i is ``buf[starts[i]:ends[i]]``."""
    out = np.empty(len(records), dtype=object).view(RecordBatch)
    out[:] = records
    out.frame = (buf, starts, ends)
    return out


def serialized_batch(serialized):
    """(buffer bytes or None, uint8 view, starts (B,), ends (B,), batch shape)."""
    frame = getattr(serialized, "frame", None)
    if frame is not None and serialized.ndim == 1:
        arr, starts, ends = frame
        return None, arr, starts, ends, serialized.shape
    if isinstance(serialized, (bytes, bytearray, memoryview)):
        items, shape = [bytes(serialized)], ()
    else:
        arr = np.asarray(serialized, dtype=object)
        shape = arr.shape
        if arr.ndim > 1:
            raise InvalidArgumentError(f"serialized must be a vector of strings, got shape {shape}")
        items = arr.reshape(-1).tolist()
    try:
        buf = b"".join(items)
    except TypeError:
        items = [s.encode() if isinstance(s, str) else s for s in items]
        buf = b"".join(items)
    offs = np.zeros(len(items) + 1, dtype=np.int64)
    if items:
        np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)), out=offs[1:])
    return buf, np.frombuffer(buf, dtype=np.uint8), offs[:-1], offs[1:], shape


def _make_bytes(buf, arr, vstart, vlen):
    """An object array of bytes values buf[vstart[i]:vstart[i]+vlen[i]]."""
    n = vstart.shape[0]
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    width = int(vlen.max())
    if 0 < width <= 64 and n >= 64:
        mat = np.zeros((n, width), dtype=np.uint8)
        nul = _wire.pack_fixed(arr, vstart, vlen, width, mat)
        out = mat.view(f"S{width}").reshape(n).astype(object)
        if not nul:
            return out
        # an 'S' array drops trailing NULs; redo the values that end in one
        last = vstart + vlen - 1
        bad = np.nonzero((vlen > 0) & (arr[np.maximum(last, 0)] == 0))[0]
        for i in bad.tolist():
            s = int(vstart[i])
            out[i] = arr[s:s + int(vlen[i])].tobytes()
        return out
    if buf is None:
        buf = arr.tobytes()
    out[:] = [buf[s:s + l] for s, l in zip(vstart.tolist(), vlen.tolist())]
    return out


_local = threading.local()


def _scratch(k, nb):
    """Per-thread (kind, start, stop) work arrays of shape (k, nb), kind zeroed.

    Reused across batches: fresh multi-MB arrays per batch cost page faults, which are
    expensive on virtual machines.
    """
    buf = getattr(_local, "scratch", None)
    if buf is None or buf.shape[1] < k * nb:
        buf = _local.scratch = np.empty((3, max(k * nb, 1 << 16)), dtype=np.int64)
    kind, start, stop = (buf[i, :k * nb].reshape(k, nb) for i in range(3))
    kind.fill(0)
    return kind, start, stop


def _layout(cfgs, nb):
    """Row numbers, per-example value counts, offsets and total size of a feature group."""
    nvals = np.array([int(np.prod(c.shape, dtype=np.int64)) for _, c in cfgs], np.int64)
    sizes = nvals * nb
    return nvals, np.cumsum(sizes) - sizes, int(sizes.sum())


def _fused_fixed(serialized, features):
    """Parses a spec of only FixedLenFeatures in one compiled, GIL-free call.

    Returns a dict, or None on any problem (malformed data, type or size mismatch, an
    absent value without default): the per-feature path then raises the exact error.
    """
    buf, arr, starts, ends, _ = serialized_batch(serialized)
    nb = starts.shape[0]
    keys = list(features)
    keyb = [k.encode() for k in keys]
    keybuf = np.frombuffer(b"".join(keyb) or b"\0", dtype=np.uint8)
    keyoffs = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum([len(k) for k in keyb], out=keyoffs[1:])
    table = _wire.key_table(keyb)
    kind, start, stop = _scratch(len(keys), nb)
    fl = [(i, k, c) for i, (k, c) in enumerate(features.items()) if KIND_OF_DTYPE[c.dtype] == 2]
    it = [(i, k, c) for i, (k, c) in enumerate(features.items()) if KIND_OF_DTYPE[c.dtype] == 3]
    st = [(i, k, c) for i, (k, c) in enumerate(features.items()) if KIND_OF_DTYPE[c.dtype] == 1]
    num = fl + it
    nrows = np.array([i for i, _, _ in num], dtype=np.int64)
    want = np.array([2] * len(fl) + [3] * len(it), dtype=np.int64)
    nnum, noff, _ = _layout([(k, c) for _, k, c in num], nb)
    nfl = int((nnum[:len(fl)] * nb).sum())
    noff[len(fl):] -= nfl  # ints are laid out in their own array
    fout = np.empty(nfl, dtype=np.uint32)
    iout = np.empty(int((nnum[len(fl):] * nb).sum()), dtype=np.int64)
    npresent = np.empty((len(num), nb), dtype=np.bool_)
    srows = np.array([i for i, _, _ in st], dtype=np.int64)
    nstr, soff, stotal = _layout([(k, c) for _, k, c in st], nb)
    vstart = np.empty(stotal, dtype=np.int64)
    vlen = np.empty(stotal, dtype=np.int64)
    spresent = np.empty((len(st), nb), dtype=np.bool_)
    stage, _, _, umat, inverse, nul = _wire_fixed.parse_fixed(
        arr, starts, ends, keybuf, keyoffs, table, kind, start, stop, nrows, want, nnum, noff,
        fout, iout, npresent, srows, nstr, soff, vstart, vlen, spresent)
    if stage:
        return None
    out = {}
    fview = fout.view(np.float32)
    for j, (_, key, cfg) in enumerate(num):
        src = fview if j < len(fl) else iout
        n = int(nnum[j])
        val = src[noff[j]:noff[j] + n * nb].reshape(nb, n)
        if not npresent[j].all():
            if cfg.default_value is None:
                return None
            val[~npresent[j]] = cfg.default_value.reshape(-1)
        out[key] = val.reshape((nb,) + cfg.shape)
    if st:
        if umat.shape[0] and umat.shape[1] <= 64:
            objs = umat.view(f"S{umat.shape[1]}").reshape(-1).astype(object)[inverse]
            if nul:
                last = vstart + vlen - 1
                for i in np.nonzero((vlen > 0) & (arr[np.maximum(last, 0)] == 0))[0].tolist():
                    objs[i] = arr[vstart[i]:vstart[i] + vlen[i]].tobytes()
        else:
            objs = _make_bytes(buf, arr, vstart, vlen)
        for j, (_, key, cfg) in enumerate(st):
            n = int(nstr[j])
            val = objs[soff[j]:soff[j] + n * nb].reshape(nb, n)
            if not spresent[j].all():
                if cfg.default_value is None:
                    return None
                val[~spresent[j]] = cfg.default_value.reshape(-1)
            out[key] = val.reshape((nb,) + cfg.shape)
    return {k: out[k] for k in keys}


def _fixed_group(batch, fixed):
    """All FixedLenFeatures of a mixed spec from an already located batch (two compiled
    passes); None on any problem, so that ``_fixed`` raises the exact error."""
    out, nb = {}, batch.b
    for kinds in ((2, 3), (1,)):
        items = [(k, c) for k, c in fixed.items() if KIND_OF_DTYPE[c.dtype] in kinds]
        if not items:
            continue
        rows = np.array([batch.index[k] for k, _ in items], dtype=np.int64)
        nvals, off, total = _layout(items, nb)
        present = np.empty((len(items), nb), dtype=np.bool_)
        if kinds == (1,):
            vstart = np.empty(total, dtype=np.int64)
            vlen = np.empty(total, dtype=np.int64)
            f, _ = _wire_fixed.fixed_bytes(batch.arr, batch.kind, batch.start, batch.stop, rows,
                                           nvals, off, vstart, vlen, present)
            flat = None if f >= 0 else _make_bytes(batch.buf, batch.arr, vstart, vlen)
            srcs = [flat] * len(items)
        else:
            want = np.array([KIND_OF_DTYPE[c.dtype] for _, c in items], dtype=np.int64)
            fout = np.empty(total, dtype=np.uint32)
            iout = np.empty(total, dtype=np.int64)
            f, _ = _wire_fixed.fixed_numeric(batch.arr, batch.kind, batch.start, batch.stop,
                                             rows, want, nvals, off, fout, iout, present)
            srcs = [fout.view(np.float32) if w == 2 else iout for w in want.tolist()]
        if f >= 0:
            return None
        for i, (key, cfg) in enumerate(items):
            n = int(nvals[i])
            val = srcs[i][off[i]:off[i] + n * nb].reshape(nb, n)
            if not present[i].all():
                if cfg.default_value is None:
                    return None
                val[~present[i]] = cfg.default_value.reshape(-1)
            out[key] = val.reshape((nb,) + cfg.shape)
    return out


class _Batch:
    """The located features of one batch, decoding each key's values once."""

    def __init__(self, serialized, keys, names, single=False):
        self.buf, self.arr, self.starts, self.ends, self.shape = serialized_batch(serialized)
        self.names = names
        self.single = single  # parse_single_example: TF's FastParseSingleExample messages
        self.b = self.starts.shape[0]
        self.index = {k: i for i, k in enumerate(keys)}
        keyb = [k.encode() for k in keys]
        self.keybuf = np.frombuffer(b"".join(keyb) or b"\0", dtype=np.uint8)
        self.keyoffs = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(k) for k in keyb], out=self.keyoffs[1:])
        self.table = _wire.key_table(keyb)
        shape = (len(keys), self.b)
        self.kind = np.zeros(shape, dtype=np.int64)
        self.start = np.zeros(shape, dtype=np.int64)
        self.stop = np.zeros(shape, dtype=np.int64)
        bad = _wire.locate(self.arr, self.starts, self.ends, self.keybuf, self.keyoffs,
                           self.table, self.kind, self.start, self.stop)
        if bad >= 0:
            raise InvalidArgumentError(f"Could not parse example input, value: {self._name(bad)} "
                                       "(malformed tf.train.Example)")
        self.cache = {}

    def _name(self, b):
        return repr(self.names[b]) if self.names is not None else f"index {b}"

    def example_name(self, b):
        """Example ``b``'s name as TF prints it (``<unknown>`` without example_names)."""
        name = self.names[b] if self.names is not None else "<unknown>"
        return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)

    def where(self, key, b):
        """TF's error prefix for feature ``key`` of example ``b``."""
        if self.single:
            return f"Key: {key}."
        return f"Name: {self.example_name(b)}, Key: {key}, Index: {b}."

    def values(self, key, dtype, sparse=False):
        """(counts (B,), -1 where absent; flat values in example order).

        ``sparse``: a VarLenFeature/SparseFeature key (TF words its type error apart)."""
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        k = self.index[key]
        want = KIND_OF_DTYPE[dtype]
        kind, start, stop = self.kind[k], self.start[k], self.stop[k]
        wrong = np.nonzero((kind != 0) & (kind != want))[0]
        if wrong.size:
            b = int(wrong[0])
            got, exp = _TYPE_NAMES[int(kind[b])], _TYPE_NAMES[want]
            raise InvalidArgumentError(
                f"{self.where(key, b)}  Data types don't match. " +
                (f"Expected type: {exp}, Actual type: {got}" if sparse else
                 f"Data type: {got} but expected type: {exp}"))
        counts = np.empty(self.b, dtype=np.int64)
        bad = _wire.count_values(self.arr, kind, start, stop, counts)
        if bad >= 0:
            raise InvalidArgumentError(f"{self.where(key, bad)}  Can't parse serialized "
                                       "Example (malformed value list).")
        dest_offs = np.zeros(self.b + 1, dtype=np.int64)
        np.cumsum(np.maximum(counts, 0), out=dest_offs[1:])
        total = int(dest_offs[-1])
        if want == 2:
            flat = np.empty(total, dtype=np.uint32)
            _wire.fill_float(self.arr, kind, start, stop, flat, dest_offs)
            flat = flat.view(np.float32)
        elif want == 3:
            flat = np.empty(total, dtype=np.int64)
            _wire.fill_int64(self.arr, kind, start, stop, flat, dest_offs)
        else:
            vstart = np.empty(total, dtype=np.int64)
            vlen = np.empty(total, dtype=np.int64)
            _wire.bytes_spans(self.arr, kind, start, stop, vstart, vlen, dest_offs)
            flat = _make_bytes(self.buf, self.arr, vstart, vlen)
        self.cache[key] = (counts, flat)
        return counts, flat


def _fixed(batch, key, cfg):
    counts, flat = batch.values(key, cfg.dtype)
    n = int(np.prod(cfg.shape, dtype=np.int64))
    present = counts >= 0
    wrong = np.nonzero(present & (counts != n))[0]
    vname = _VALUE_NAMES[KIND_OF_DTYPE[cfg.dtype]]
    if wrong.size:
        b = int(wrong[0])
        if batch.single:
            raise InvalidArgumentError(f"Key: {key}.  Can't parse serialized Example: Some "
                                       f"{vname}_list slice was not parsed.")
        raise InvalidArgumentError(
            f"{batch.where(key, b)}  Number of {vname} values != expected.  Values size: "
            f"{int(counts[b])} but output shape: {shape_str(cfg.shape)}")
    if present.all():
        return flat.reshape((batch.b,) + cfg.shape)
    if cfg.default_value is None:
        tname = _TYPE_NAMES[KIND_OF_DTYPE[cfg.dtype]]
        b = int(np.nonzero(~present)[0][0])
        prefix = "" if batch.single else f"Name: {batch.example_name(b)}, "
        raise InvalidArgumentError(
            f"{prefix}Feature: {key} (data type: {tname}) is required but could not be "
            "found.")
    out = np.empty((batch.b, n), dtype=cfg.dtype)
    out[present] = flat.reshape(-1, n)
    out[~present] = cfg.default_value.reshape(n)
    return out.reshape((batch.b,) + cfg.shape)


def _varlen(batch, key, cfg):
    counts, flat = batch.values(key, cfg.dtype, sparse=True)
    counts = np.maximum(counts, 0)
    rows = np.repeat(np.arange(batch.b, dtype=np.int64), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.arange(flat.shape[0], dtype=np.int64) - starts
    width = int(counts.max()) if batch.b else 0
    return SparseTensor(np.stack([rows, cols], axis=1), flat,
                        np.array([batch.b, width], dtype=np.int64))


def _sequence(batch, key, cfg):
    counts, flat = batch.values(key, cfg.dtype)
    counts = np.maximum(counts, 0)
    n = int(np.prod(cfg.shape, dtype=np.int64))
    if n == 0:
        lengths = np.zeros(batch.b, dtype=np.int64)
    else:
        bad = np.nonzero(counts % n)[0]
        if bad.size:
            b = int(bad[0])
            if batch.single:
                raise InvalidArgumentError(
                    f"Error while parsing feature with key {key}: number of elements should "
                    f"be divisible by {n}, found {int(counts[b])} instead")
            # TF reports the running count of the example's minibatch
            first = max(s for s in _minibatch_starts(batch.ends - batch.starts) if s <= b)
            seen = int(counts[first:b + 1].sum())
            raise InvalidArgumentError(
                f"{batch.where(key, b)}  Number of {_VALUE_NAMES[KIND_OF_DTYPE[cfg.dtype]]} "
                f"values is not a multiple of stride length. Saw {seen} values but output "
                f"shape is: {shape_str(cfg.shape, ragged=True)}")
        lengths = counts // n
    tmax = int(lengths.max()) if batch.b else 0
    pad = cfg.default_value if cfg.default_value is not None else (
        b"" if cfg.dtype.kind == "O" else 0)
    out = np.full((batch.b, tmax, n), pad, dtype=cfg.dtype)
    mask = np.arange(tmax)[None, :] < lengths[:, None]
    out[mask] = flat.reshape(-1, n) if n else flat.reshape(0, 0)
    return out.reshape((batch.b, tmax) + cfg.shape)


def _sparse(batch, key, cfg):
    keys = [cfg.index_key] if isinstance(cfg.index_key, str) else list(cfg.index_key)
    sizes = [cfg.size] if isinstance(cfg.size, (int, np.integer)) else list(cfg.size)
    vcounts, values = batch.values(cfg.value_key, cfg.dtype, sparse=True)
    vcounts = np.maximum(vcounts, 0)
    cols = []
    for ik in keys:
        icounts, idx = batch.values(ik, np.dtype(np.int64), sparse=True)
        icounts = np.maximum(icounts, 0)
        bad = np.nonzero(icounts != vcounts)[0]
        if bad.size:
            b = int(bad[0])
            raise InvalidArgumentError(
                f"SparseFeature {key!r}, Index: {b}: {int(icounts[b])} indices in {ik!r} but "
                f"{int(vcounts[b])} values in {cfg.value_key!r}")
        cols.append(idx)
    rows = np.repeat(np.arange(batch.b, dtype=np.int64), vcounts)
    for ik, col, size in zip(keys, cols, sizes):
        out = np.nonzero((col < 0) | (col >= size))[0]
        if out.size:
            raise InvalidArgumentError(
                f"SparseFeature {key!r}: index {int(col[out[0]])} in {ik!r} is out of "
                f"bounds [0, {size}) (example {int(rows[out[0]])})")
    indices = np.stack([rows] + cols, axis=1) if rows.size else np.zeros(
        (0, 1 + len(cols)), dtype=np.int64)
    if not cfg.already_sorted and rows.size:
        order = np.lexsort(tuple(reversed([rows] + cols)))
        indices, values = indices[order], values[order]
    return SparseTensor(indices, values, np.array([batch.b] + sizes, dtype=np.int64))


def _raw_keys(features):
    keys = []
    for key, cfg in features.items():
        if isinstance(cfg, SparseFeature):
            idx = [cfg.index_key] if isinstance(cfg.index_key, str) else list(cfg.index_key)
            keys.extend(idx + [cfg.value_key])
        elif isinstance(cfg, (FixedLenFeature, VarLenFeature, FixedLenSequenceFeature)):
            keys.append(key)
        else:
            raise ValueError(f"features[{key!r}]: unsupported feature config {cfg!r}")
    return list(dict.fromkeys(keys))


def _check_sequence_features(features):
    for cfg in features.values():
        if isinstance(cfg, FixedLenSequenceFeature) and not cfg.allow_missing:
            raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to "
                             "be True.")


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a batch of serialized ``tf.train.Example`` protos (``tf.io.parse_example``).

    Args:
        serialized: a vector (B,) of serialized Examples: a list, or an object array of
            bytes. A scalar (one bytes object) is parsed as by
            :func:`parse_single_example`, without the batch dimension, as in TF.
        features: dict mapping a key to a FixedLenFeature, VarLenFeature,
            FixedLenSequenceFeature or SparseFeature.
        name: unused (TF compatibility).
        example_names: optional names of the examples, used in error messages.

    Returns:
        dict key -> array (B,) + shape, or SparseTensor.

    Raises:
        InvalidArgumentError: malformed data, a type or size mismatch, or a required
            feature missing (the message names the key and the example).
        ValueError: a bad feature spec.

    Example:
        >>> parse_example([], {"x": VarLenFeature("int64")})["x"].dense_shape.tolist()
        [0, 0]
    """
    del name
    if isinstance(serialized, (bytes, bytearray, str)) or (
            isinstance(serialized, np.ndarray) and serialized.ndim == 0):
        # TF parses a scalar like parse_single_example: no batch dimension
        return parse_single_example(serialized, features)
    return _parse(serialized, features, example_names, single=False)


def _parse(serialized, features, example_names, single):
    if not isinstance(features, dict) or not features:
        raise ValueError("features must be a non-empty dict of feature configs")
    keys = _raw_keys(features)
    _check_sequence_features(features)
    if all(isinstance(c, FixedLenFeature) for c in features.values()):
        fast = _fused_fixed(serialized, features)
        if fast is not None:
            return fast
    names = None if example_names is None else list(np.asarray(example_names).reshape(-1))
    batch = _Batch(serialized, keys, names, single)
    fixed = {k: c for k, c in features.items() if isinstance(c, FixedLenFeature)}
    fast = _fixed_group(batch, fixed) if fixed else {}
    out = {}
    for key, cfg in features.items():
        if isinstance(cfg, FixedLenFeature):
            out[key] = fast[key] if fast is not None else _fixed(batch, key, cfg)
        elif isinstance(cfg, VarLenFeature):
            out[key] = _varlen(batch, key, cfg)
        elif isinstance(cfg, FixedLenSequenceFeature):
            out[key] = _sequence(batch, key, cfg)
        else:
            out[key] = _sparse(batch, key, cfg)
    return out


def _drop_batch(value):
    if isinstance(value, SparseTensor):
        return SparseTensor(value.indices[:, 1:], value.values, value.dense_shape[1:])
    return value[0, ...]


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parses one serialized Example; like :func:`parse_example` without the batch dim.

    Example:
        >>> from eagerflow.io.example import Example
        >>> parse_single_example(Example().SerializeToString(),
        ...                      {"x": FixedLenFeature([], "int64", default_value=7)})["x"]
        array(7)
    """
    del name, example_names
    if isinstance(serialized, np.ndarray):
        serialized = serialized.reshape(-1)[0] if serialized.size == 1 else serialized
    # a FixedLenSequenceFeature must have allow_missing=True, as in parse_example (TF's
    # parse_single_example is parse_example on a scalar)
    parsed = _parse([serialized], features, None, single=True)
    return {k: _drop_batch(v) for k, v in parsed.items()}
