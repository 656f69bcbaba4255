"""The engines under the collectives: MPI (mpi4py buffer methods), NCCL (through
:mod:`eagerflow.backend.nccl`) and a single-process stand-in with the same methods.

Every method works on flat, contiguous arrays of the backend (reductions in place) and
moves no Python objects: metadata travels as small int64 NumPy arrays, so nothing is
pickled. Small host-side metadata always goes over MPI, even when NCCL carries the data.
"""
import time

import numpy as np

from .. import backend
from ..backend import nccl as _nccl

__all__ = ["Transport", "LocalTransport", "MPITransport", "NCCLTransport"]

_SPIN_POLLS = 1000  # polls (a few microseconds each) before a wait starts sleeping
_SLEEP_FIRST_S, _SLEEP_MAX_S = 50e-6, 1e-3  # back-off between later polls


class Transport:
    """The interface of the three engines (rank, size and these methods)."""

    name = "?"

    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def allreduce_(self, buf, op):
        """Reduces ``buf`` in place over ranks; ``op`` is 'sum', 'max' or 'min'."""
        raise NotImplementedError

    def bcast_(self, buf, root):
        raise NotImplementedError

    def allgatherv(self, flat, counts):
        """Each rank's ``flat`` (``counts[r]`` elements) concatenated in rank order."""
        raise NotImplementedError

    def alltoallv(self, flat, send_counts, recv_counts):
        raise NotImplementedError

    def gather_meta(self, ints, what="metadata exchange"):
        """``(size, k)`` int64 host array of every rank's ``k`` ints (same ``k`` on all);
        ``what`` names the collective it serves in errors."""
        raise NotImplementedError

    def exchange_meta(self, ints, what="metadata exchange"):
        """All-to-all of one int64 per peer: returns what each rank sent to this one."""
        raise NotImplementedError

    def barrier(self):
        raise NotImplementedError


class LocalTransport(Transport):
    """Size 1: every collective is the identity (no copies)."""

    name = "local"

    def __init__(self):
        super().__init__(0, 1)

    def allreduce_(self, buf, op):
        return buf

    def bcast_(self, buf, root):
        return buf

    def allgatherv(self, flat, counts):
        return flat

    def alltoallv(self, flat, send_counts, recv_counts):
        return flat

    def gather_meta(self, ints, what="metadata exchange"):
        return np.asarray(ints, np.int64).reshape(1, -1)

    def exchange_meta(self, ints, what="metadata exchange"):
        return np.asarray(ints, np.int64).reshape(1)

    def barrier(self):
        pass


class MPITransport(Transport):
    """Collectives over an MPI communicator. GPU arrays (when NCCL is not usable) are
    staged through host memory, since a pip-installed MPICH is not CUDA-aware."""

    name = "mpi"

    def __init__(self, world, timeout_s=None):
        super().__init__(world.Get_rank(), world.Get_size())
        from mpi4py import MPI  # noqa: PLC0415
        self._world = world
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
        self._in_place = MPI.IN_PLACE
        self.timeout_s = timeout_s

    def _wait(self, request, what):
        """Waits for a non-blocking collective by polling it from Python. A blocking MPI
        call never returns to the interpreter, so neither the launcher's SIGTERM (sent
        when another rank died) nor a timeout could turn into a clear error."""
        for _ in range(_SPIN_POLLS):  # most collectives finish within these
            if request.Test():
                return
        # a long wait (a slower rank): sleep between polls so this rank leaves its core to
        # the others, waking quickly at first and at most every _SLEEP_MAX_S later
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        delay = _SLEEP_FIRST_S
        while not request.Test():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(
                    f"eagerflow.distribute: {what} on rank {self.rank} got no answer "
                    f"from all {self.size} ranks within {self.timeout_s} s; a rank "
                    "died, hangs or runs different collectives")
            time.sleep(delay if left is None else min(delay, left))
            delay = min(2 * delay, _SLEEP_MAX_S)

    @staticmethod
    def _host(a):
        return np.ascontiguousarray(backend.to_numpy(a))

    @staticmethod
    def _like(host, a):
        return host if isinstance(a, np.ndarray) else backend.array_module(a).asarray(host)

    def allreduce_(self, buf, op):
        host = self._host(buf)
        self._wait(self._world.Iallreduce(self._in_place, host, op=self._ops[op]),
                   "all_reduce")
        if host is not buf:
            buf[...] = self._like(host, buf)
        return buf

    def bcast_(self, buf, root):
        host = self._host(buf)
        self._wait(self._world.Ibcast(host, root=root), "broadcast")
        if host is not buf:
            buf[...] = self._like(host, buf)
        return buf

    def allgatherv(self, flat, counts):
        host = self._host(flat)
        out = np.empty(int(np.sum(counts)), dtype=host.dtype)
        self._wait(self._world.Iallgatherv(host, [out, np.asarray(counts, np.int64)]),
                   "all_gather")
        return self._like(out, flat)

    def alltoallv(self, flat, send_counts, recv_counts):
        host = self._host(flat)
        out = np.empty(int(np.sum(recv_counts)), dtype=host.dtype)
        self._wait(self._world.Ialltoallv([host, np.asarray(send_counts, np.int64)],
                                          [out, np.asarray(recv_counts, np.int64)]),
                   "all_to_all")
        return self._like(out, flat)

    def gather_meta(self, ints, what="metadata exchange"):
        mine = np.ascontiguousarray(ints, dtype=np.int64).reshape(-1)
        out = np.empty((self.size, mine.size), np.int64)
        self._wait(self._world.Iallgather(mine, out), what)
        return out

    def exchange_meta(self, ints, what="metadata exchange"):
        mine = np.ascontiguousarray(ints, dtype=np.int64).reshape(-1)
        out = np.empty(self.size, np.int64)
        self._wait(self._world.Ialltoall(mine, out), what)
        return out

    def barrier(self):
        self._wait(self._world.Ibarrier(), "barrier")


class NCCLTransport(MPITransport):
    """Data over NCCL on the GPU, metadata (and the unique id at start-up) over MPI.
    The process's GPU was chosen by :func:`~eagerflow.distribute.init` (its local rank)."""

    name = "nccl"

    def __init__(self, world, timeout_s=None):
        super().__init__(world, timeout_s)
        uid = _nccl.unique_id() if self.rank == 0 else np.zeros(_nccl.UNIQUE_ID_BYTES, np.int8)
        world.Bcast(uid, root=0)
        self._comm = _nccl.communicator(self.size, uid, self.rank)

    def allreduce_(self, buf, op):
        if isinstance(buf, np.ndarray):  # host arrays (int metadata) stay on MPI
            return super().allreduce_(buf, op)
        _nccl.all_reduce(self._comm, buf, op)
        return buf

    def bcast_(self, buf, root):
        if isinstance(buf, np.ndarray):  # host arrays (int metadata) stay on MPI
            return super().bcast_(buf, root)
        _nccl.broadcast(self._comm, buf, root)
        return buf

    def allgatherv(self, flat, counts):
        if isinstance(flat, np.ndarray):  # host arrays (int metadata) stay on MPI
            return super().allgatherv(flat, counts)
        out = backend.array_module(flat).empty(int(np.sum(counts)), dtype=flat.dtype)
        _nccl.all_gatherv(self._comm, flat, out, counts)
        return out

    def alltoallv(self, flat, send_counts, recv_counts):
        if isinstance(flat, np.ndarray):  # host arrays (int metadata) stay on MPI
            return super().alltoallv(flat, send_counts, recv_counts)
        out = backend.array_module(flat).empty(int(np.sum(recv_counts)), dtype=flat.dtype)
        _nccl.all_to_allv(self._comm, flat, send_counts, out, recv_counts)
        return out
