"""A range check of values that never reads them back: ``low <= v <= high``.

On the CPU it raises at once with the caller's message. On the GPU one ElementwiseKernel
records the first bad element in the device error flag (the values are left as they are)
and :func:`eagerflow.kernels.check_errors` raises it at the next sync point: checking
labels every step must not cost a host synchronisation per step (nor break a CUDA-graph
capture of the step).
"""
import numpy as np

from eagerflow import backend
from eagerflow.errors import InvalidArgumentError
from . import _cuda, device_errors

__all__ = ["check_in_range"]


def check_in_range(values, low, high, message):
    """Checks ``low <= values <= high`` elementwise (NaN counts as out of range).

    Args:
        values: a numeric array (NumPy or CuPy).
        low, high: the inclusive bounds.
        message: the error's text, fixed per call site; ``{lo}`` and ``{hi}`` are replaced
            by the smallest and largest value found (``?`` on the GPU, whose record holds
            the bounds and the first bad element's flat position instead).

    Raises:
        InvalidArgumentError: (a ValueError) on the CPU, when an element is out of range;
            on the GPU at the next ``check_errors``.

    Example:
        >>> import numpy as np
        >>> check_in_range(np.array([0.0, 1.0]), 0, 1, "labels in [{lo}, {hi}]")
    """
    if values.size == 0:
        return
    if backend.array_module(values) is np:
        bad = ~((values >= low) & (values <= high))
        if bad.any():
            raise InvalidArgumentError(message.format(lo=np.nanmin(values), hi=np.nanmax(values)))
        return
    # the flag is the kernel's (raw) output: the size comes from the values
    # the record holds integers: the bounds as the message shows them (labels' are)
    _kernel()(values.reshape(-1), np.float64(low), np.float64(high), np.int64(low),
              np.int64(high), np.uint64(device_errors.range_code(message)),
              device_errors.error_flag())


def _kernel():
    return _cuda.elementwise(
        "T x, float64 lo, float64 hi, int64 low, int64 limit, uint64 code", "raw uint64 err",
        """
        const double v = (double)x;
        if (!(v >= lo && v <= hi)) {
            // VALUE_OUT_OF_RANGE with the message's index (device_errors.range_code)
            ef_report((unsigned long long*)&err[0], code, low, limit, (long long)i);
        }""", "ef_check_in_range", preamble=device_errors.REPORT_SRC)
