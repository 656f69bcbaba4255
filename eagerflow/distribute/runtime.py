"""Process start-up: who am I (rank, size, local rank) and which transport carries collectives.

Processes are started by ``mpiexec -n N python script.py``. MPI is the source of truth;
the usual launcher variables (``OMPI_COMM_WORLD_*``, ``PMI_*``/``MPI_LOCALRANKID``,
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``) are read too, so a launcher that set them
without MPI is caught with a clear error instead of N processes each training alone.
Without mpi4py and without such variables, eagerflow runs as a single process (size 1).

Example:
    >>> import eagerflow as ef
    >>> info = ef.distribute.init()
    >>> (info.rank, info.size) if info.size == 1 else (0, 1)
    (0, 1)
"""
import os
import signal
import sys
import time
from typing import NamedTuple

from .. import backend
from ..backend import nccl as backend_nccl

__all__ = ["ClusterInfo", "init", "rank", "size", "local_rank", "is_chief", "mpi_world",
           "collective_timeout", "default_transport"]

_ABORT_GRACE_S = 0.5  # for the launcher to forward a failing rank's output before Abort
_ENV = (  # (rank, size, local rank) variable names, by launcher
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
    ("RANK", "WORLD_SIZE", "LOCAL_RANK"),
)


class ClusterInfo(NamedTuple):
    """This process's place in the job."""
    rank: int
    size: int
    local_rank: int
    local_size: int
    transport: str  # 'local' (size 1), 'mpi' or 'nccl'


_state = {"info": None, "world": None, "timeout_s": None}


def _env_ranks():
    for r, s, lr in _ENV:
        if r in os.environ and s in os.environ:
            return int(os.environ[r]), int(os.environ[s]), int(os.environ.get(lr, 0))
    return None


def _import_mpi(needed):
    try:
        from mpi4py import MPI  # noqa: PLC0415  (optional dependency)
    except ImportError as e:
        if needed:
            raise RuntimeError(
                "eagerflow.distribute: the launcher started several processes but mpi4py is "
                "not installed; pip install 'eagerflow[distributed]' (mpi4py and mpich)") from e
        return None
    return MPI


def _install_abort_on_error(world, rank, size):
    """An uncaught exception on one rank would leave the others blocked in a collective
    forever (and this rank blocked in MPI_Finalize): print it, then abort the whole job."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        # the line that matters first: Abort kills the job, and a launcher under load may
        # not have forwarded all of a long traceback by then
        sys.stderr.write(f"eagerflow.distribute: rank {rank} of {size} failed with "
                         f"{exc_type.__name__}: {exc}; aborting all ranks\n")
        sys.stderr.flush()
        previous(exc_type, exc, tb)
        sys.stderr.flush()
        time.sleep(_ABORT_GRACE_S)
        world.Abort(1)
    sys.excepthook = hook


def _install_stop_on_sigterm(rank, size):
    """Launchers that stop a job with SIGTERM (a scheduler's time limit, ``timeout``,
    some mpiexecs when a rank dies; MPICH's hydra kills outright) get a clear last word
    instead of silence: collectives wait in Python, so the handler gets to run."""
    def handler(signum, frame):
        raise RuntimeError(f"eagerflow.distribute: rank {rank} of {size} was stopped by the "
                           "launcher (SIGTERM): another rank exited or failed; see its output")
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: keep the default action
        pass


def default_transport(local_size=1):
    """'nccl' when the backend is cupy, NCCL is usable and this host has a GPU for each of
    its ``local_size`` ranks (NCCL refuses two ranks on one GPU), else 'mpi'."""
    if backend.get_backend() != "cupy" or not backend_nccl.available():
        return "mpi"
    return "nccl" if backend_nccl.device_count() >= int(local_size) else "mpi"


def init(transport=None, timeout_s=None):
    """Initialises the process group once (later calls return the same answer).

    Args:
        transport: ``'mpi'`` or ``'nccl'`` to force one; by default NCCL when the backend
            is cupy and NCCL is usable, else MPI (single process: ``'local'``).
        timeout_s: fail a collective that waits longer than this (``TimeoutError``, which
            aborts the job); default ``EAGERFLOW_COLLECTIVE_TIMEOUT`` or no limit. Launchers
            (mpiexec) already stop the job when a process dies; this also catches a rank
            that hangs or skips a collective.

    Returns:
        :class:`ClusterInfo`.

    Raises:
        RuntimeError: when launcher variables say N > 1 processes but MPI sees another
            number (or mpi4py is missing).
        ValueError: for an unknown ``transport``.
    """
    if transport not in (None, "mpi", "nccl"):
        raise ValueError(f"init: transport must be 'mpi', 'nccl' or None, got {transport!r}")
    if timeout_s is None and os.environ.get("EAGERFLOW_COLLECTIVE_TIMEOUT"):
        timeout_s = float(os.environ["EAGERFLOW_COLLECTIVE_TIMEOUT"])
    if timeout_s is not None:
        if not timeout_s > 0:
            raise ValueError(f"init: timeout_s must be positive, got {timeout_s}")
        _state["timeout_s"] = float(timeout_s)
    info = _state["info"]
    if info is not None:
        if transport is not None and info.size > 1 and transport != info.transport:
            raise RuntimeError(f"init: already initialised with transport {info.transport!r}")
        return info
    env = _env_ranks()
    MPI = _import_mpi(needed=env is not None and env[1] > 1)
    if MPI is None:
        info = ClusterInfo(0, 1, 0, 1, "local")
    else:
        world = MPI.COMM_WORLD
        r, n = world.Get_rank(), world.Get_size()
        if env is not None and env[1] != n:
            raise RuntimeError(
                f"eagerflow.distribute: the environment says {env[1]} processes but MPI sees "
                f"{n}; start the job with `mpiexec -n {env[1]} python ...`")
        node = world.Split_type(MPI.COMM_TYPE_SHARED)
        local_rank, local_size = node.Get_rank(), node.Get_size()
        node.Free()
        _state["world"] = world
        if n > 1:
            _install_abort_on_error(world, r, n)
            _install_stop_on_sigterm(r, n)
        chosen = "local" if n == 1 else (transport or default_transport(local_size))
        if n > 1 and backend.get_backend() == "cupy":
            # before any array is allocated: one GPU per process on each host
            backend_nccl.use_device(local_rank)
        info = ClusterInfo(r, n, local_rank, local_size, chosen)
    _state["info"] = info
    return info


def mpi_world():
    """The MPI world communicator after :func:`init`, or None in a single process
    without mpi4py."""
    init()
    return _state["world"]


def collective_timeout():
    """Seconds a collective may wait before it fails, or None."""
    return _state["timeout_s"]


def rank():
    """This process's rank (0 is the chief)."""
    return init().rank


def size():
    """The number of processes (replicas) in the job."""
    return init().size


def local_rank():
    """This process's rank among the processes of its host (its GPU index)."""
    return init().local_rank


def is_chief():
    """True on rank 0, the only process that writes checkpoints, summaries and exports."""
    return init().rank == 0
