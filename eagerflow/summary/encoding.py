"""How summaries encode values: TF1's C++ histogram buckets (``HistogramProto``) and
TensorFlow's ``TensorProto`` content, both ways (``make_ndarray``). Used by the writer and
the summary ops."""
import sys

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..backend.dtypes import DATATYPE_ENUM, as_dtype, bfloat16
from .event_pb2 import HistogramProto, TensorProto, TensorShapeProto

__all__ = ["histogram_proto", "make_ndarray"]


def _host_array(values):
    if isinstance(values, Tensor):
        return backend.to_numpy(values._data)
    if backend.is_array(values):
        return backend.to_numpy(values)
    return np.asarray(values)


def _histogram(values, buckets):
    a = np.asarray(_host_array(values), dtype=np.float64).ravel()
    if a.size == 0:
        return HistogramProto()
    counts, edges = np.histogram(a, bins=int(buckets))
    return HistogramProto(min=float(a.min()), max=float(a.max()), num=float(a.size),
                          sum=float(a.sum()), sum_squares=float((a * a).sum()),
                          bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())


# --- TF1's C++ histogram (tensorflow/core/lib/histogram/histogram.cc) ---------------------
def _default_bucket_limits():
    pos, v = [], 1.0e-12
    while v < 1.0e20:  # buckets grow by 10% from 1e-12 to 1e20, mirrored, 0 in the middle
        pos.append(v)
        v *= 1.1
    pos.append(sys.float_info.max)
    return [-x for x in reversed(pos)] + [0.0] + pos


_BUCKET_LIMITS = _default_bucket_limits()
_BUCKET_LIMITS_ARRAY = np.array(_BUCKET_LIMITS)


def histogram_proto(values):
    """The ``HistogramProto`` TF1's ``HistogramSummary`` op writes for ``values``.

    TF's default buckets (limits growing by 10% from 1e-12 to 1e20, both signs, plus 0 and
    +-DBL_MAX; a value goes to the first bucket whose limit exceeds it), runs of empty
    buckets collapsed into one entry with the run's last limit
    (``EncodeToProto(preserve_zero_buckets=false)``); min/max/num/sum/sum_squares in
    float64, summed in order. An empty input gives ``min=DBL_MAX, max=-DBL_MAX`` and one
    ``(DBL_MAX, 0)`` bucket.
    """
    a = np.asarray(_host_array(values), dtype=np.float64).ravel()
    limits = _BUCKET_LIMITS
    idx = np.minimum(np.searchsorted(_BUCKET_LIMITS_ARRAY, a, side="right"), len(limits) - 1)
    counts = np.bincount(idx, minlength=len(limits)).astype(np.float64).tolist()
    big = sys.float_info.max
    proto = HistogramProto(
        min=min(big, float(a.min())) if a.size else big,
        max=max(-big, float(a.max())) if a.size else -big, num=float(a.size),
        sum=float(np.cumsum(a)[-1]) if a.size else 0.0,  # cumsum adds in order, as TF's loop
        sum_squares=float(np.cumsum(a * a)[-1]) if a.size else 0.0)
    i = 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0.0:  # collapse a run of empty buckets into one
            while i < len(counts) and counts[i] <= 0.0:
                end, count = limits[i], counts[i]
                i += 1
        proto.bucket_limit.append(end)
        proto.bucket.append(count)
    if not proto.bucket:
        proto.bucket_limit.append(big)
        proto.bucket.append(0.0)
    return proto


# --- TensorProto encoding (TF's Tensor::AsProtoTensorContent / AsProtoField) ---------------
def _tensor_proto(a):
    """The TensorProto TF2's ``SummaryFileWriter::WriteTensor`` stores: numbers as
    little-endian ``tensor_content``, strings as ``string_val``."""
    a = np.asarray(a)
    if a.dtype.kind in "USO":
        items = [v.encode("utf-8") if isinstance(v, str) else bytes(v)
                 for v in a.reshape(-1).tolist()]
        dtype = DATATYPE_ENUM[as_dtype("string")]
        proto = TensorProto(dtype=dtype, tensor_shape=_shape_proto(a.shape), string_val=items)
    else:
        dtype = DATATYPE_ENUM[a.dtype]
        a = a.byteswap() if a.dtype.byteorder == ">" else a  # TF stores little-endian bytes
        content = np.ascontiguousarray(a).tobytes()
        proto = TensorProto(dtype=dtype, tensor_shape=_shape_proto(a.shape),
                            tensor_content=content)
    return proto


def _shape_proto(shape):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in shape])


_ENUM_TO_NP = {v: k for k, v in DATATYPE_ENUM.items()}


def make_ndarray(proto):
    """The NumPy array of a ``TensorProto`` (``tf.make_ndarray``): ``tensor_content`` or
    the typed ``*_val`` fields; strings come back as ``bytes``."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    dt = _ENUM_TO_NP.get(proto.dtype)
    if dt is None:
        raise TypeError(f"make_ndarray: unsupported DataType {proto.dtype}")
    n = int(np.prod(shape, dtype=np.int64))
    if dt.kind == "O":
        vals = list(proto.string_val)
        out = np.empty(len(vals), dtype=object)
        out[:] = vals
        return (np.repeat(out, n) if len(vals) == 1 and n > 1 else out).reshape(shape)
    if proto.tensor_content:
        out = np.frombuffer(proto.tensor_content, dtype=dt).reshape(shape).copy()
        return out if sys.byteorder == "little" else out.byteswap()
    if dt == np.float16 or dt == bfloat16:
        vals = np.asarray(list(proto.half_val), np.uint16).view(dt)
    elif dt.kind == "c":
        field = proto.scomplex_val if dt == np.complex64 else proto.dcomplex_val
        vals = np.asarray(list(field), dt.type(0).real.dtype).view(dt)
    else:
        field = {"f": {4: "float_val", 8: "double_val"}, "b": {1: "bool_val"},
                 "i": {1: "int_val", 2: "int_val", 4: "int_val", 8: "int64_val"},
                 "u": {1: "int_val", 2: "int_val", 4: "uint32_val", 8: "uint64_val"}}
        vals = np.asarray(list(getattr(proto, field[dt.kind][dt.itemsize])), dt)
    if vals.size == n:
        return vals.reshape(shape)
    out = np.full(n, vals[-1] if vals.size else 0, dtype=dt)  # TF repeats the last value
    out[:vals.size] = vals
    return out.reshape(shape)
