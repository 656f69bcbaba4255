"""Keeping freed host memory in the process (glibc's ``mallopt``), for large-batch CPU work.

NumPy allocates every temporary with ``malloc``; glibc serves blocks above its mmap
threshold (128 KiB, adapting up to 32 MiB) with fresh ``mmap`` pages and gives freed memory
back to the kernel (``munmap``, heap trimming). A training step that allocates and frees
the same large temporaries every step then pays a page fault and a page zeroing for every
page it touches, every step: on the development machine (2 vCPU KVM guest) 0.5-0.7 s of
system time per DeepFM step at batch 65536, ~12% of the step (``bench/NOTES.md``).
:func:`keep_host_memory` raises both thresholds so freed blocks stay in the heap and are
reused, the same effect as ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` in the
environment, but settable after start-up. The process's RSS then stays at its peak.

Opt-in and process-wide (it affects every library in the process, PyTorch included); it
cannot be undone. Does nothing (returns False) where the C library is not glibc.

Example:
    >>> from eagerflow.backend.host_memory import keep_host_memory
    >>> keep_host_memory() in (True, False)
    True
"""
import ctypes
import ctypes.util
import sys

__all__ = ["keep_host_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_LIMIT = 2 ** 31 - 1  # the largest value mallopt's int argument takes
_state = {"applied": False}


def keep_host_memory():
    """Keeps freed host memory for reuse instead of returning it to the OS.

    Returns:
        True when glibc accepted both settings (now or in an earlier call), False where
        ``mallopt`` is not available (not Linux/glibc) or refused them.
    """
    if _state["applied"]:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _LIMIT) == 1 and mallopt(_M_TRIM_THRESHOLD, _LIMIT) == 1
    _state["applied"] = bool(ok)
    return _state["applied"]
