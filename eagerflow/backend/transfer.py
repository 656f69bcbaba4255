"""Copies between host and device that do not stall the step stream.

Host -> device for input pipelines: pinned staging buffers on a side stream.

``copy_to_device(arrays)`` copies numeric NumPy arrays to the GPU through pinned host
memory on a non-blocking CUDA stream owned by the calling thread, then waits for that
stream, so the arrays are ready when handed to the training step (which runs on another
stream). String arrays (object, unicode, bytes) stay on the host. On the numpy backend it returns its
input unchanged.

Example:
    >>> import numpy as np
    >>> from eagerflow.backend import transfer
    >>> transfer.copy_to_device([np.zeros(3, np.float32)])[0].shape
    (3,)
"""
import threading

import numpy as np

from . import _cupy, state

__all__ = ["copy_to_device", "device_transfer_active", "read_async", "PendingRead"]

_local = threading.local()
_HOST_KINDS = "OUS"  # strings (object, unicode, bytes) stay on the host


def device_transfer_active():
    """True when copies go to a GPU (the current backend is cupy)."""
    return state.name == "cupy"


def _stream(cp):
    s = getattr(_local, "stream", None)
    if s is None:
        s = _local.stream = cp.cuda.Stream(non_blocking=True)
    return s


def copy_to_device(arrays):
    """A list with each numeric array of ``arrays`` copied to the current GPU.

    Args:
        arrays: a list of NumPy arrays (other objects pass through).

    Returns:
        The list with device arrays in place of numeric host arrays; on the numpy backend
        the input list itself.
    """
    if not device_transfer_active():
        return arrays
    cp = _cupy.load()
    stream = _stream(cp)
    out, todo = [], []
    with stream:
        for a in arrays:
            if not isinstance(a, np.ndarray) or a.dtype.kind in _HOST_KINDS or a.nbytes == 0:
                out.append(cp.asarray(a) if isinstance(a, np.ndarray)
                           and a.dtype.kind not in _HOST_KINDS else a)
                continue
            mem = cp.cuda.alloc_pinned_memory(a.nbytes)
            staged = np.frombuffer(mem, a.dtype, a.size).reshape(a.shape)
            np.copyto(staged, a)
            dev = cp.empty(a.shape, dtype=a.dtype)
            todo.append((dev, staged, mem))
            out.append(dev)
        # A block the consumer freed returns to the pool while the consumer's stream (the
        # default one) may still have reads of it queued; the copies must wait for that
        # work (PyTorch's record_stream problem). Recorded after the allocations, so every
        # reused block's last reads are covered.
        stream.wait_event(cp.cuda.Stream.null.record())
        for dev, staged, _ in todo:
            dev.set(staged, stream=stream)
    stream.synchronize()
    del todo  # the pinned staging blocks go back to their pool after the copies
    return out


class PendingRead:
    """A device array on its way to the host: the copy is queued behind the work that
    computes the array, and :meth:`ready` says, without waiting, whether it has arrived.

    Use it for values the host needs only eventually (a loss checked for NaN), so the
    host can queue the next step instead of waiting for this one.
    """

    __slots__ = ("_host", "_event", "_source")

    def __init__(self, host, event=None, source=None):
        self._host, self._event, self._source = host, event, source

    def ready(self):
        """True when :meth:`result` will not wait."""
        return self._event is None or self._event.done

    def result(self):
        """The NumPy value (waits for the copy when it has not arrived)."""
        if self._event is not None:
            self._event.synchronize()
            self._event = self._source = None
        return self._host

    def __del__(self):
        # dropped in flight: the pinned block must not return to its pool (and be handed
        # to an input copy) while the device still writes into it
        if self._event is not None and not self._event.done:
            self._event.synchronize()


def read_async(a):
    """Starts copying array ``a`` to the host; returns a :class:`PendingRead`.

    A NumPy array is read at once (ready immediately, a copy). A CuPy array is copied into
    pinned memory on the current stream, after the work already queued there.

    Example:
        >>> import numpy as np
        >>> from eagerflow.backend import transfer
        >>> r = transfer.read_async(np.float32(2.5))
        >>> r.ready(), float(r.result())
        (True, 2.5)
    """
    cp = _cupy.loaded()
    if cp is None or not isinstance(a, cp.ndarray):
        return PendingRead(np.array(a, copy=True))
    import cupyx  # noqa: PLC0415 (only with CuPy)
    host = cupyx.empty_pinned(a.shape, a.dtype)
    cp.asnumpy(a, out=host, blocking=False)
    event = cp.cuda.Event(block=False, disable_timing=True)
    event.record()
    # the source stays referenced until the copy is done: its block is not reused earlier
    return PendingRead(host, event, a)
