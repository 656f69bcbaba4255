"""What eagerflow's numba kernels share: the lock around parallel launches, and the choice
between a kernel's serial and parallel twins.

numba's workqueue threading layer (its fallback without OpenMP or TBB) aborts the process
when two threads launch parallel kernels at the same time: any two kernels, so the
embedding bag, scatter-add, optimizer and elementwise kernels must take one lock, not one
each (a serving thread's lookup and a training thread's update may run together).
"""
import threading

import numba

__all__ = ["PARALLEL_LOCK", "launch"]

PARALLEL_LOCK = threading.Lock()


def launch(serial, parallel, work, *args, min_work=1 << 17, chunk=None):
    """Runs ``parallel(*args)`` when ``work`` (elements touched) is at least ``min_work``,
    numba has more than one thread and no other thread is in a parallel launch (the lock is
    taken without waiting); ``serial(*args)`` otherwise. The twins must compute the same
    values, so which one ran never shows. ``chunk``: numba's parallel chunk size for this
    launch (a thread that lost its core then holds up at most one chunk)."""
    if (work < min_work or numba.get_num_threads() < 2
            or not PARALLEL_LOCK.acquire(blocking=False)):
        serial(*args)
        return
    try:
        if chunk is None:
            parallel(*args)
            return
        # numba's chunk size is thread-local runtime state: set it for this launch only
        # (a `with numba.parallel_chunksize` inside the kernel would defeat cache=True)
        previous = numba.set_parallel_chunksize(chunk)
        try:
            parallel(*args)
        finally:
            numba.set_parallel_chunksize(previous)
    finally:
        PARALLEL_LOCK.release()
