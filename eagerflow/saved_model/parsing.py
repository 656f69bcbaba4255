"""``parse_example`` as a registered (traceable) op, and the serving input receivers."""
import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..backend.dtypes import as_dtype
from ..io import parse_example as _parse_example
from ..io.parsing_config import FixedLenFeature, VarLenFeature

__all__ = ["parse_example_op", "spec_to_attr", "attr_to_spec"]


def spec_to_attr(features):
    """A hashable, exportable form of a FixedLen/VarLen feature spec."""
    out = []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, FixedLenFeature):
            default = None if f.default_value is None else \
                np.asarray(f.default_value, dtype=object if as_dtype(f.dtype).kind == "O"
                           else as_dtype(f.dtype)).tolist()
            out.append((key, "fixed", tuple(int(d) for d in f.shape), as_dtype(f.dtype), default))
        elif isinstance(f, VarLenFeature):
            out.append((key, "var", (), as_dtype(f.dtype), None))
        else:
            raise TypeError(f"parse_example in an exported graph supports FixedLenFeature and "
                            f"VarLenFeature; {key!r} is a {type(f).__name__}")
    return tuple(out)


def attr_to_spec(attr):
    spec = {}
    for key, kind, shape, dtype, default in attr:
        spec[key] = FixedLenFeature(list(shape), dtype, default) if kind == "fixed" \
            else VarLenFeature(dtype)
    return spec


def _device(a):
    a = np.asarray(a)
    return a if a.dtype.kind == "O" else backend.asarray(a)


def _parse_fwd(xp, serialized, spec):
    parsed = _parse_example(np.asarray(backend.to_numpy(serialized), dtype=object).reshape(-1),
                            attr_to_spec(spec))
    out = []
    for key, kind, *_ in spec:
        v = parsed[key]
        if kind == "fixed":
            out.append(_device(v))
        else:
            out += [_device(v.indices), _device(v.values), _device(v.dense_shape)]
    return tuple(out)


_parse = register("parse_example", _parse_fwd, multi=True)


def parse_example_op(serialized, features):
    """``parse_example`` recorded as one op, so an exported model parses tf.Examples itself.

    Args:
        serialized: string Tensor ``(batch,)`` of serialized Examples.
        features: dict key -> FixedLenFeature / VarLenFeature.

    Returns:
        dict key -> Tensor ``(batch, *shape)`` or SparseTensor of Tensors.
    """
    if not isinstance(serialized, Tensor):
        serialized = _wrap(np.asarray(serialized, dtype=object))
    attr = spec_to_attr(features)
    outs = list(_parse(serialized, spec=attr))
    result = {}
    for key, kind, *_ in attr:
        if kind == "fixed":
            result[key] = outs.pop(0)
        else:
            result[key] = SparseTensor(outs.pop(0), outs.pop(0), outs.pop(0))
    return result
