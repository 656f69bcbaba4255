"""Optimizer wrappers that average gradients over replicas: Horovod's
``DistributedOptimizer`` and TF1's ``SyncReplicasOptimizer`` (``ef.train`` re-exports it).

Example (``mpiexec -n 2 python train.py``; in one process it is the plain optimizer):
    >>> import eagerflow as ef
    >>> w = ef.Variable([1.0, 2.0], name="w_dopt_doc")
    >>> opt = DistributedOptimizer(ef.train.GradientDescentOptimizer(0.5))
    >>> _ = opt.minimize(lambda: ef.reduce_sum(w * w), var_list=[w])
    >>> w.numpy().tolist()
    [0.0, 0.0]
"""
import weakref

from .. import backend
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import _wrap
from ..train.distribution_context import reducer_scope
from ..train.optimizer import Optimizer, TrainOp
from ..variables.store import get_default_store
from .collective import get_transport
from .gradients import DEFAULT_BUCKET_BYTES, GradientAllReducer

__all__ = ["DistributedOptimizer", "SyncReplicasOptimizer"]

# gradients a SyncReplicasOptimizer holds until its k-th step, per variable store and name:
# an Estimator's model_fn builds a new optimizer every step (TF kept them in accumulators)
_PENDING = weakref.WeakKeyDictionary()


class DistributedOptimizer(Optimizer):
    """Wraps ``optimizer`` so ``compute_gradients`` returns gradients averaged (or summed)
    over every replica; ``apply_gradients`` then applies them with ``optimizer``.

    Args:
        optimizer: any :class:`~eagerflow.train.Optimizer`.
        average: average (True) or sum the replicas' gradients.
        bucket_bytes: fusion bucket size of the dense all-reduce.
    """

    def __init__(self, optimizer, average=True, bucket_bytes=DEFAULT_BUCKET_BYTES,
                 name=None):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"DistributedOptimizer: optimizer must be an ef.train.Optimizer, "
                            f"got {type(optimizer).__name__}")
        super().__init__(False, name or f"Distributed{optimizer.get_name()}")
        self._optimizer = optimizer
        self._reducer = GradientAllReducer(average=average, bucket_bytes=bucket_bytes)

    @property
    def optimizer(self):
        """The wrapped optimizer."""
        return self._optimizer

    def compute_gradients(self, loss, var_list=None, **kwargs):
        pairs = self._optimizer.compute_gradients(loss, var_list=var_list, **kwargs)
        return self._reduce(pairs)

    def _reduce(self, pairs):
        # a gradient that is None is None on every rank (same model): keep it out
        present = [i for i, (g, _) in enumerate(pairs) if g is not None]
        reduced = self._reducer([pairs[i] for i in present])
        out = list(pairs)
        for i, pair in zip(present, reduced):
            out[i] = pair
        return out

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        with reducer_scope(None):  # already reduced: a strategy scope must not do it again
            return self._optimizer.apply_gradients(grads_and_vars, global_step, name)

    def get_slot(self, var, name):
        return self._optimizer.get_slot(var, name)

    def get_slot_names(self):
        return self._optimizer.get_slot_names()

    def variables(self):
        return self._optimizer.variables()


class SyncReplicasOptimizer(DistributedOptimizer):
    """TF1's ``tf.train.SyncReplicasOptimizer`` on collectives: each update applies the mean
    of ``replicas_to_aggregate`` gradients, and the global step advances once per update.

    One replica is one process, so ``total_num_replicas`` must be the job size. When
    ``replicas_to_aggregate`` is a multiple ``k`` of it, each replica contributes ``k``
    successive gradients (accumulated locally) to every update, as TF's queue would
    collect them. Fewer than ``total_num_replicas`` (TF's backup workers, which drop the
    slowest) has no meaning for a synchronous all-reduce and is refused.

    Args:
        opt: the optimizer that applies the aggregated gradients.
        replicas_to_aggregate: gradients averaged per update.
        total_num_replicas: replicas in the job (default: ``replicas_to_aggregate``).

    Raises:
        ValueError: when ``replicas_to_aggregate`` is not positive, ``total_num_replicas``
            is not the number of processes, or ``replicas_to_aggregate`` is not a multiple
            of it.
        NotImplementedError: for backup workers.
    """

    def __init__(self, opt, replicas_to_aggregate, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking=False,
                 name="sync_replicas"):
        # first: 0 would otherwise be reported as a job-size mismatch or backup workers
        if int(replicas_to_aggregate) < 1:
            raise ValueError(f"SyncReplicasOptimizer: replicas_to_aggregate must be a positive "
                             f"int, got {replicas_to_aggregate}")
        total = replicas_to_aggregate if total_num_replicas is None else total_num_replicas
        size = get_transport().size
        if int(total) != size:
            raise ValueError(f"SyncReplicasOptimizer: total_num_replicas={total} but the job "
                             f"has {size} processes (one replica per process)")
        if replicas_to_aggregate < total:
            raise NotImplementedError(
                f"SyncReplicasOptimizer: replicas_to_aggregate={replicas_to_aggregate} < "
                f"total_num_replicas={total} (backup workers) is not supported: a synchronous "
                "all-reduce waits for every replica")
        if replicas_to_aggregate % total:
            raise ValueError(f"SyncReplicasOptimizer: replicas_to_aggregate="
                             f"{replicas_to_aggregate} must be a multiple of "
                             f"total_num_replicas={total}")
        if variable_averages is not None or variables_to_average is not None:
            raise NotImplementedError("SyncReplicasOptimizer: variable_averages is not "
                                      "supported")
        super().__init__(opt, average=True, name=name)
        self.replicas_to_aggregate = int(replicas_to_aggregate)
        self.total_num_replicas = int(total)
        self._local_steps = self.replicas_to_aggregate // self.total_num_replicas

    def compute_gradients(self, loss, var_list=None, **kwargs):
        # reduction waits for apply_gradients, where k local gradients are combined first
        return self._optimizer.compute_gradients(loss, var_list=var_list, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Accumulates; every ``k``-th call averages over replicas and applies.

        Returns a :class:`~eagerflow.train.TrainOp` whose ``global_step`` is None on the
        calls that only accumulated."""
        pending = _PENDING.setdefault(get_default_store(), {}).setdefault(self._name, [])
        pending.append(list(grads_and_vars))
        if len(pending) < self._local_steps:
            return TrainOp(None, name or self._name)
        pairs = _mean_of_steps(pending)
        pending.clear()
        return super().apply_gradients(self._reduce(pairs), global_step, name)

    def make_session_run_hook(self, is_chief, num_tokens=-1):
        """A hook that broadcasts the chief's variables when the session starts (what
        TF's chief queue runner and init tokens ensured: every replica starts alike)."""
        from .hooks import BroadcastGlobalVariablesHook  # noqa: PLC0415
        return BroadcastGlobalVariablesHook(0)


def _mean_of_steps(steps):
    """The mean of ``k`` lists of ``(grad, var)``: dense gradients added, sparse ones
    concatenated (their duplicate rows are summed by the optimizer)."""
    if len(steps) == 1:
        return steps[0]
    k = len(steps)
    out = []
    for column in zip(*steps):
        var = column[0][1]
        grads = [g for g, _ in column if g is not None]
        if not grads:
            out.append((None, var))
        elif isinstance(grads[0], IndexedSlices):
            xp = backend.array_module(grads[0].values._data)
            vals = xp.concatenate([g.values._data for g in grads]) / k
            idx = xp.concatenate([g.indices._data.reshape(-1) for g in grads])
            out.append((IndexedSlices(_wrap(vals.astype(grads[0].values.dtype)), _wrap(idx),
                                      grads[0].dense_shape), var))
        else:
            total = grads[0]._data.copy()
            for g in grads[1:]:
                total += g._data
            out.append((_wrap(total / total.dtype.type(k)), var))
    return out
