"""Argument normalisation shared by the ``nn`` modules."""

from ..autograd.tensor import Tensor, convert_to_tensor
from ..backend.dtypes import is_real_floating

_LAST = ("NHWC", "NWC", "NDHWC", "N...C")
_FIRST = ("NCHW", "NCW", "NCDHW", "NC...")


def to_tensor(value, dtype=None):
    """``value`` as a Tensor; a non-tensor takes ``dtype`` when given."""
    if isinstance(value, Tensor):
        return value
    return convert_to_tensor(value, dtype=dtype)


def as_float_tensor(value, opname, argname):
    """``value`` as a floating Tensor, or a TypeError naming the argument."""
    t = to_tensor(value)
    if not is_real_floating(t.dtype):
        raise TypeError(f"{opname}: {argname} must be a floating-point tensor, got dtype "
                        f"{t.dtype}")
    return t


def data_format_channels_last(data_format, opname):
    """True for channels-last formats (None, 'NHWC', 'NWC', 'NDHWC', 'N...C'), False for
    channels-first ones ('NCHW', 'NCW', 'NCDHW', 'NC...')."""
    if data_format is None or data_format in _LAST:
        return True
    if data_format in _FIRST:
        return False
    raise ValueError(f"{opname}: data_format must be one of {_LAST + _FIRST}, got "
                     f"{data_format!r}")

