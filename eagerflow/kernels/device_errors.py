"""The device-side error flag that GPU kernels set instead of raising.

A GPU kernel cannot raise, and asking the GPU after every launch whether an index was bad
would put a host synchronisation on the training hot path (DESIGN.md, decision 12). So the
GPU twins skip the offending rows and record the first error in a small per-device flag:
a ``uint64[4]`` array ``[code, value, limit, position]`` where ``code`` is 0 while nothing
went wrong. The first kernel thread that finds a problem claims the flag with an atomic
compare-and-swap, so the record is one consistent error even when many threads fail.

Callers read it at the sync points they already have (every N steps, end of epoch) with
:func:`check_errors`, which raises the recorded error and clears the flag. On the NumPy
backend the CPU twins raise at once and :func:`check_errors` is a no-op.

Example:
    >>> from eagerflow.kernels import check_errors
    >>> check_errors()  # nothing pending on the CPU
"""
import numpy as np

from eagerflow.backend import _cupy
from eagerflow.errors import InvalidArgumentError, InvalidArgumentIndexError

from . import _cuda

__all__ = ["check_errors", "error_flag", "clear_errors", "error_for", "position", "REPORT_SRC",
           "SCATTER_OUT_OF_RANGE", "SEGMENT_OUT_OF_RANGE", "SEGMENT_NOT_SORTED",
           "SEGMENT_NEGATIVE", "ID_OUT_OF_RANGE", "VALUE_OUT_OF_RANGE"]

SCATTER_OUT_OF_RANGE = 1
SEGMENT_OUT_OF_RANGE = 2
SEGMENT_NOT_SORTED = 3
SEGMENT_NEGATIVE = 4
ID_OUT_OF_RANGE = 5
VALUE_OUT_OF_RANGE = 6

# Prepended to every kernel that reports; ``err`` points at the flag of the current device.
REPORT_SRC = r"""
__device__ __forceinline__ void ef_report(unsigned long long* err, unsigned long long code,
                                          long long value, long long limit, long long pos) {
    if (atomicCAS(err, 0ULL, code) == 0ULL) {
        err[1] = (unsigned long long)value;
        err[2] = (unsigned long long)limit;
        err[3] = (unsigned long long)pos;
    }
}
"""

_flags = {}  # device id -> cupy uint64[4]


def error_flag():
    """The error flag of the current GPU (a cupy ``uint64[4]``), created zeroed on first use.

    Kernels take it as their last argument. Reading it does not synchronise; a caller that
    batches its host reads can fetch it together with its own values.

    Raises:
        RuntimeError: when CuPy or a GPU is not available.
    """
    cp = _cupy.load()
    return _cuda.cached_array(_flags, cp.cuda.Device().id,
                              lambda: cp.zeros(4, dtype=np.uint64))


def clear_errors():
    """Clears the flags of all GPUs (no synchronisation)."""
    for flag in _flags.values():
        flag.fill(0)


def position(pos, shape):
    """``pos`` (a flat position) written as an index into an array of ``shape``."""
    if len(shape) <= 1:
        return str(int(pos))
    return ", ".join(str(int(p)) for p in np.unravel_index(int(pos), tuple(shape)))


# check_in_range's messages: a GPU record carries its message's index in the code's high
# bits (code = VALUE_OUT_OF_RANGE | index << 8), so the error says what was checked
_range_messages = []
_range_index = {}


def range_code(message):
    """The record code of a :func:`~eagerflow.kernels.range_check.check_in_range` with
    ``message``."""
    i = _range_index.get(message)
    if i is None:
        i = _range_index[message] = len(_range_messages)
        _range_messages.append(message)
    return VALUE_OUT_OF_RANGE | (i << 8)


def error_for(code, value, limit, pos, gpu=False, name=None):
    """The exception for an error record (shared by the CPU twins and :func:`check_errors`);
    ``name`` is what the CPU twin knows and a GPU record does not (the column's key)."""
    skipped = "; the GPU kernel skipped those rows" if gpu else ""
    if code == SCATTER_OUT_OF_RANGE:
        return InvalidArgumentIndexError(f"scatter_add: indices[{pos}] = {value} is out of range for a "
                          f"table of {limit} rows (valid: 0 <= index < {limit}){skipped}")
    if code == SEGMENT_OUT_OF_RANGE:
        return InvalidArgumentIndexError(f"segment_reduce: segment_ids[{pos}] = {value} is out of range "
                          f"for num_segments = {limit} (valid: 0 <= id < {limit}){skipped}")
    if code == SEGMENT_NEGATIVE:
        return InvalidArgumentIndexError(f"segment_reduce: segment_ids[{pos}] = {value} is negative; "
                          f"sorted segment ids must be >= 0{skipped}")
    if code == SEGMENT_NOT_SORTED:
        return InvalidArgumentError(f"segment_reduce: segment_ids are not sorted: "
                          f"segment_ids[{pos}] = {value} < previous id {limit}")
    if code == ID_OUT_OF_RANGE:
        treated = "; the GPU kernel treated it as missing" if gpu else ""
        column = f" {name}" if name is not None else ""
        return InvalidArgumentError(f"categorical_column_with_identity{column}: id {value} (at "
                          f"position {pos}) "
                          f"is not in [0, {limit}); give default_value to map out-of-range "
                          f"ids to a bucket{treated}")
    if code & 0xFF == VALUE_OUT_OF_RANGE:
        # the record has the bounds and the first bad element, not the smallest and largest
        # values the CPU message shows
        what = _range_messages[code >> 8].format(lo="?", hi="?")
        return InvalidArgumentError(f"{what} (checked on the GPU: element {pos} is outside "
                          f"[{value}, {limit}])")
    return RuntimeError(f"eagerflow kernel error code {code} (value {value}, limit {limit}, "
                        f"position {pos})")


def check_errors():
    """Raises the first error a GPU kernel recorded since the last check, and clears it.

    This synchronises with each GPU that has a flag, so call it where the step already
    waits for the device. A no-op on the NumPy backend (the CPU twins raise at once).

    Raises:
        IndexError: an index or segment id was out of range (the message names the value,
            its position and the number of rows or segments).
        ValueError: sorted segment ids were not sorted, or an identity column's id was out
            of range.
    """
    if not _flags:
        return
    cp = _cupy.load()
    for dev, flag in list(_flags.items()):
        with cp.cuda.Device(dev):
            code, value, limit, pos = (int(v) for v in cp.asnumpy(flag))
            if code == 0:
                continue
            flag.fill(0)
        signed = [v - (1 << 64) if v >= 1 << 63 else v for v in (value, limit, pos)]
        raise error_for(code, *signed, gpu=True)
