"""Host -> device copies for input pipelines: pinned staging buffers on a side stream.

``copy_to_device(arrays)`` copies numeric NumPy arrays to the GPU through pinned host
memory on a non-blocking CUDA stream owned by the calling thread, then waits for that
stream, so the arrays are ready when handed to the training step (which runs on another
stream). Object (string) arrays stay on the host. On the numpy backend it returns its
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

__all__ = ["copy_to_device", "device_transfer_active"]

_local = threading.local()


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
            if not isinstance(a, np.ndarray) or a.dtype.kind == "O" or a.nbytes == 0:
                out.append(cp.asarray(a) if isinstance(a, np.ndarray) and a.dtype.kind != "O"
                           else a)
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
