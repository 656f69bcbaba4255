"""``MirroredStrategy`` / ``MultiWorkerMirroredStrategy``: synchronous data parallelism with
one process per replica (per GPU on a GPU host), started by ``mpiexec -n N``.

Under ``strategy.scope()`` every optimizer's ``apply_gradients`` averages the gradients
over replicas first (fused dense all-reduce, sparse all-gather), so single-process training
code runs unchanged. An Estimator given ``RunConfig(train_distribute=strategy)`` also
shards its input, broadcasts the chief's variables, and lets only the chief write.

Example:
    >>> import eagerflow as ef
    >>> strategy = ef.distribute.MirroredStrategy()
    >>> strategy.num_replicas_in_sync >= 1
    True
    >>> w = ef.Variable([1.0], name="w_strategy_doc")
    >>> with strategy.scope():
    ...     _ = ef.train.GradientDescentOptimizer(0.5).minimize(
    ...         lambda: ef.reduce_sum(w * w), var_list=[w])
    >>> w.numpy().tolist()
    [0.0]
"""
import numpy as np

from ..train.distribution_context import reducer_scope
from ..variables.store import get_default_store
from . import collective, runtime
from .gradients import DEFAULT_BUCKET_BYTES, GradientAllReducer, broadcast_variables

__all__ = ["ReduceOp", "InputContext", "MultiWorkerMirroredStrategy", "MirroredStrategy"]


class ReduceOp:
    """``tf.distribute.ReduceOp``."""
    SUM = "sum"
    MEAN = "mean"


class InputContext:
    """What an input function needs to read its share (``tf.distribute.InputContext``)."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        """``global_batch_size / num_replicas_in_sync``; raises if it does not divide."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"global batch size {global_batch_size} is not divisible by "
                             f"num_replicas_in_sync {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class MultiWorkerMirroredStrategy:
    """Synchronous training over every process of the job.

    Args:
        communication_options: accepted for TF compatibility; the transport follows the
            backend (NCCL for cupy, MPI for numpy).
        bucket_bytes: gradient fusion bucket size.
    """

    def __init__(self, communication_options=None, cluster_resolver=None,
                 bucket_bytes=DEFAULT_BUCKET_BYTES):
        self._info = runtime.init()
        self._reducer = GradientAllReducer(average=True, bucket_bytes=bucket_bytes)

    @property
    def num_replicas_in_sync(self):
        return self._info.size

    @property
    def num_workers(self):
        return self._info.size

    @property
    def worker_index(self):
        return self._info.rank

    @property
    def is_chief(self):
        return self._info.rank == 0

    def scope(self):
        """A context in which optimizers average gradients over replicas."""
        return reducer_scope(self._reducer)

    def broadcast_variables(self, var_list=None, root=0):
        """Overwrites ``var_list`` (default: every variable of the default store) with
        ``root``'s values."""
        if var_list is None:
            var_list = get_default_store().variables()
        broadcast_variables(var_list, root=root)

    def input_context(self):
        return InputContext(self.num_workers, self.worker_index, self.num_replicas_in_sync)

    def experimental_distribute_dataset(self, dataset):
        """This worker's share of ``dataset``: ``dataset.shard(num_workers, worker_index)``.
        Batch with the per-replica batch size before calling it."""
        return dataset.shard(self.num_workers, self.worker_index)

    def distribute_datasets_from_function(self, dataset_fn):
        """``dataset_fn(input_context)``: the function shards the data itself."""
        return dataset_fn(self.input_context())

    def run(self, fn, args=(), kwargs=None):
        """Runs ``fn`` for this process's replica (there is one replica per process)."""
        with self.scope():
            return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis=None):
        """``value`` reduced over replicas (``'sum'`` or ``'mean'``)."""
        del axis
        op = str(reduce_op).lower().rsplit(".", 1)[-1]
        return collective.all_reduce(value, op=op)

    def barrier(self):
        collective.barrier()

    def all_true(self, flag):
        """True when ``flag`` is true on every worker (e.g. "I still have a batch": a worker
        whose shard ran out must stop the others, or they would wait in the next
        all-reduce)."""
        if self.num_workers == 1:
            return bool(flag)
        # straight to the transport: one collective per step, where all_reduce would first
        # agree on the shape of this fixed one-element flag
        mine = np.array([1 if flag else 0], np.int64)
        return bool(collective.get_transport().allreduce_(mine, "min")[0])

    def __repr__(self):
        return (f"{type(self).__name__}(worker {self.worker_index} of {self.num_workers}, "
                f"transport={self._info.transport!r})")


class MirroredStrategy(MultiWorkerMirroredStrategy):
    """``tf.distribute.MirroredStrategy``: one process per device on one host
    (``mpiexec -n <GPUs>``), each process on GPU ``local_rank``.

    Args:
        devices: if given, its length must be the number of processes.

    Raises:
        ValueError: when ``devices`` does not match the number of processes.
    """

    def __init__(self, devices=None, cross_device_ops=None, bucket_bytes=DEFAULT_BUCKET_BYTES):
        super().__init__(bucket_bytes=bucket_bytes)
        if devices is not None and len(devices) != self.num_replicas_in_sync:
            raise ValueError(f"MirroredStrategy: {len(devices)} devices but "
                             f"{self.num_replicas_in_sync} processes; eagerflow runs one "
                             f"process per device: mpiexec -n {len(devices)} python ...")
