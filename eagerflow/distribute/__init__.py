"""Data-parallel training over MPI (CPUs, mpi4py) or NCCL (GPUs, CuPy): start with
``mpiexec -n N python script.py``; a script run without it is a job of size 1.

Example:
    >>> import eagerflow as ef
    >>> info = ef.distribute.init()
    >>> info.size >= 1 and ef.distribute.rank() < info.size
    True
"""
from . import collective, gradients, runtime
from .collective import all_gather, all_reduce, all_to_all, barrier, broadcast
from .gradients import GradientAllReducer, broadcast_variables
from .hooks import BroadcastGlobalVariablesHook
from .optimizer import DistributedOptimizer, SyncReplicasOptimizer
from .runtime import ClusterInfo, init, is_chief, local_rank, rank, size
from .strategy import InputContext, MirroredStrategy, MultiWorkerMirroredStrategy, ReduceOp

__all__ = [
    "collective", "gradients", "runtime", "all_gather", "all_reduce", "all_to_all",
    "barrier", "broadcast", "GradientAllReducer", "broadcast_variables",
    "BroadcastGlobalVariablesHook", "DistributedOptimizer", "SyncReplicasOptimizer",
    "ClusterInfo", "init", "is_chief", "local_rank", "rank", "size", "InputContext",
    "MirroredStrategy", "MultiWorkerMirroredStrategy", "ReduceOp",
]
