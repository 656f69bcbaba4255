"""What eagerflow's numba kernels share: the lock around parallel launches.

numba's workqueue threading layer (its fallback without OpenMP or TBB) aborts the process
when two threads launch parallel kernels at the same time: any two kernels, so the
embedding bag, scatter-add and optimizer kernels must take one lock, not one each (a
serving thread's lookup and a training thread's update may run together).
"""
import threading

__all__ = ["PARALLEL_LOCK"]

PARALLEL_LOCK = threading.Lock()
