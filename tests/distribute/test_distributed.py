"""Data-parallel training on 2 MPI processes equals one process with twice the batch;
collectives; chief-only writes; failing workers stop the job instead of hanging it."""
import re
import time

import numpy as np
import pytest

import eagerflow as ef
from tests.distribute import models
from tests.distribute.launch import run_workers

TOL = dict(rtol=2e-5, atol=2e-6)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """One 2-process job runs every scenario that should succeed (start-up is the cost)."""
    out = tmp_path_factory.mktemp("dist")
    proc, _ = run_workers(["collectives", "train", "estimator"], out)
    assert proc.returncode == 0, f"workers failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _load(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _assert_same(got, want):
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], err_msg=k, **TOL)


def test_collectives_on_two_ranks(two_ranks):
    assert (two_ranks / "collectives.npz").exists()


def test_dense_two_processes_equal_one_with_double_batch(two_ranks):
    want = models.train_dense(lambda: ef.train.MomentumOptimizer(0.05, 0.9),
                              batch=2 * models.BATCH)
    _assert_same(_load(two_ranks / "dense.npz"), want)


def test_sparse_embeddings_adagrad_equal_one_with_double_batch(two_ranks):
    _assert_same(_load(two_ranks / "sparse.npz"), models.train_sparse(batch=2 * models.BATCH))


def test_sync_replicas_aggregates_four_gradients_per_update(two_ranks):
    want = models.train_dense(lambda: ef.train.GradientDescentOptimizer(0.1),
                              batch=4 * models.BATCH)
    _assert_same(_load(two_ranks / "sync.npz"), want)


def test_estimator_chief_checkpoints_equal_single_process_and_resume(two_ranks, tmp_path):
    # the workers' rank 1 fails the job if it writes anything; rank 0 saved every 2 steps
    model_dir = two_ranks / "model"
    assert ef.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-4")
    single = models.train_estimator(str(tmp_path / "single"), batch=2 * models.BATCH)
    dist = ef.estimator.Estimator(models.model_fn, model_dir=str(model_dir))
    for name in ("w1", "w2"):
        np.testing.assert_allclose(dist.get_variable_value(name),
                                   single.get_variable_value(name), **TOL)
    # resume the 2-worker checkpoint with 1 worker
    resumed = models.train_estimator(str(model_dir), batch=2 * models.BATCH, steps=6)
    assert resumed.latest_checkpoint().endswith("model.ckpt-6")


def test_estimator_workers_stop_together_when_a_shard_runs_out(two_ranks):
    assert int(_load(two_ranks / "uneven.npz")["step"]) == 2


def test_dead_worker_stops_the_job(tmp_path):
    proc, seconds = run_workers(["die"], tmp_path, timeout=60)
    assert proc.returncode != 0
    assert not list(tmp_path.glob("finished-*")), "a rank finished although its peer died"
    assert seconds < 30


def test_exception_on_one_rank_aborts_all(tmp_path):
    proc, seconds = run_workers(["fail"], tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "planted failure on rank 1" in proc.stderr
    assert ("rank 1 of 2 failed with ValueError: planted failure on rank 1; aborting all ranks"
            in proc.stderr)
    assert not list(tmp_path.glob("finished-*"))
    assert seconds < 30


def test_hung_worker_times_out_and_aborts_all(tmp_path):
    proc, seconds = run_workers(["hang"], tmp_path, timeout=60,
                                EAGERFLOW_COLLECTIVE_TIMEOUT="2")
    assert proc.returncode != 0
    assert ("all_reduce on rank 0 got no answer from all 2 ranks within 2.0 s"
            in proc.stderr)
    assert not list(tmp_path.glob("finished-*"))
    assert seconds < 30


def test_single_process_fallback():
    info = ef.distribute.init()
    assert (info.size, info.rank, info.transport) == (1, 0, "local")
    x = np.arange(4.0)
    for fn in (ef.distribute.all_reduce, ef.distribute.broadcast, ef.distribute.all_gather,
               ef.distribute.all_to_all):
        np.testing.assert_array_equal(fn(x), x)
    strategy = ef.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 1 and strategy.is_chief


def test_argument_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        ef.distribute.all_reduce(np.ones(2), op="avg")
    with pytest.raises(ValueError, match="root must be in"):
        ef.distribute.broadcast(np.ones(2), root=1)
    with pytest.raises(ValueError, match="splits must be 1"):
        ef.distribute.all_to_all(np.ones(4), splits=[2, 2])
    with pytest.raises(ValueError, match="total_num_replicas=2 but the job has 1"):
        ef.train.SyncReplicasOptimizer(ef.train.GradientDescentOptimizer(0.1), 2, 2)
    with pytest.raises(ValueError, match="2 devices but 1 processes"):
        ef.distribute.MirroredStrategy(devices=["/gpu:0", "/gpu:1"])
    with pytest.raises(ValueError, match=re.escape("op='mean' needs a floating dtype, got int64")):
        ef.distribute.all_reduce(np.arange(3, dtype=np.int64), op="mean")
    with pytest.raises(ValueError, match="all_gather: needs arrays with a first dimension, got a "
                                         "scalar"):
        ef.distribute.all_gather(np.array(1.0))
    with pytest.raises(ValueError, match=re.escape("at most 8 dimensions, got shape (1, 1, 1, 1, "
                                                   "1, 1, 1, 1, 1)")):
        ef.distribute.all_reduce(np.zeros((1,) * 9))
    with pytest.raises(ValueError, match="global batch size 10 is not divisible by "
                                         "num_replicas_in_sync 3"):
        ef.distribute.InputContext(num_replicas_in_sync=3).get_per_replica_batch_size(10)
    with pytest.raises(ValueError, match="bucket_bytes must be a positive number of bytes, got 0"):
        ef.distribute.GradientAllReducer(bucket_bytes=0)


def test_init_argument_errors():
    with pytest.raises(ValueError, match="transport must be 'mpi', 'nccl' or None, got 'gloo'"):
        ef.distribute.init(transport="gloo")
    with pytest.raises(ValueError, match="timeout_s must be positive, got 0"):
        ef.distribute.init(timeout_s=0)


def test_optimizer_argument_errors():
    sgd = ef.train.GradientDescentOptimizer(0.1)
    with pytest.raises(TypeError, match="optimizer must be an ef.train.Optimizer, got object"):
        ef.distribute.DistributedOptimizer(object())
    for total in (None, 1):  # not a job-size mismatch nor backup workers
        with pytest.raises(ValueError, match="replicas_to_aggregate must be a positive int, "
                                             "got 0"):
            ef.train.SyncReplicasOptimizer(sgd, 0, total_num_replicas=total)
    with pytest.raises(NotImplementedError, match="variable_averages is not supported"):
        ef.train.SyncReplicasOptimizer(sgd, 1, variable_averages=object())


class _FakeWorld:
    """Just enough of a communicator to build an MPITransport without peers."""

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2


class _NeverDone:
    """A request whose peer never answers; counts the polls."""

    def __init__(self):
        self.polls = 0

    def Test(self):
        self.polls += 1
        return False


def test_wait_sleeps_between_polls_and_times_out():
    pytest.importorskip("mpi4py")
    from eagerflow.distribute.transport import MPITransport
    t = MPITransport(_FakeWorld(), timeout_s=0.3)
    request = _NeverDone()
    wall, cpu = time.monotonic(), time.process_time()
    with pytest.raises(TimeoutError, match="barrier on rank 0 got no answer from all 2 ranks "
                                           "within 0.3 s"):
        t._wait(request, "barrier")
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert 0.3 <= wall < 2.0
    # spinning would poll millions of times on a busy core; backing off to 1 ms sleeps
    # polls a few hundred times after the first 1000
    assert request.polls < 2000, request.polls
    assert cpu < 0.5 * wall, (cpu, wall)


def test_sync_replicas_single_replica_is_the_plain_optimizer():
    w = ef.Variable([2.0], name="w_sync_single")
    opt = ef.train.SyncReplicasOptimizer(ef.train.GradientDescentOptimizer(0.25), 1)
    opt.minimize(lambda: ef.reduce_sum(w * w), var_list=[w])
    assert w.numpy().tolist() == [1.0]


def test_buckets_split_by_dtype_and_size():
    from eagerflow.distribute.gradients import buckets
    arrays = [np.zeros(10, np.float32), np.zeros(10, np.float32), np.zeros(300, np.float32),
              np.zeros(5, np.float64)]
    assert buckets(arrays, 100) == [[0, 1], [2], [3]]


def test_launcher_env_without_mpi_is_an_error(monkeypatch):
    from eagerflow.distribute import runtime
    monkeypatch.setitem(runtime._state, "info", None)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setitem(runtime._state, "world", None)
    with pytest.raises(RuntimeError, match="environment says 2 processes but MPI sees 1"):
        runtime.init()
    # nothing cached: once the launcher variables are right, init succeeds
    assert runtime._state["info"] is None and runtime._state["world"] is None
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert runtime.init().size == 1


@pytest.mark.parametrize("name", ["", ".runtime", ".collective", ".gradients", ".optimizer",
                                  ".strategy", ".hooks"])
def test_docstring_examples(name):
    import doctest
    import importlib
    mod = importlib.import_module("eagerflow.distribute" + name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_strings_are_refused():
    with pytest.raises(TypeError, match="numeric arrays only"):
        ef.distribute.all_gather(np.array(["a", "b"], dtype=object))


def test_sync_replicas_accumulates_across_optimizer_objects():
    # an Estimator's model_fn builds a new optimizer each step: the k gradients must
    # still be combined (k = replicas_to_aggregate / total_num_replicas = 2 here)
    with ef.variables.VariableStore().as_default():
        w = ef.Variable([1.0], name="w_sync_accum")
        gstep = ef.Variable(np.int64(0), name="gstep_sync_accum")
        for x in (1.0, 3.0):
            opt = ef.train.SyncReplicasOptimizer(ef.train.GradientDescentOptimizer(1.0),
                                                 replicas_to_aggregate=2, total_num_replicas=1)
            opt.minimize(lambda x=x: ef.reduce_sum(w * x), var_list=[w], global_step=gstep)
            if x == 1.0:
                assert w.numpy().tolist() == [1.0] and int(gstep.numpy()) == 0
        assert w.numpy().tolist() == [-1.0]  # 1 - mean(1, 3)
        assert int(gstep.numpy()) == 1  # one update, one step


class _CountingTransport:
    """Two ranks holding the same values, in one process: counts each collective."""

    size, rank = 2, 0

    def __init__(self):
        self.calls = []

    def gather_meta(self, ints, what="metadata exchange"):
        self.calls.append("gather_meta")
        return np.tile(np.asarray(ints, np.int64).reshape(1, -1), (2, 1))

    def allreduce_(self, buf, op):
        self.calls.append("allreduce_")
        if op == "sum":
            buf *= 2
        return buf

    def allgatherv(self, flat, counts):
        self.calls.append("allgatherv")
        return np.concatenate([flat, flat])


def test_a_step_runs_one_metadata_exchange_after_the_first(monkeypatch):
    from eagerflow.distribute import collective, gradients
    t = _CountingTransport()
    monkeypatch.setattr(gradients, "get_transport", lambda: t)
    monkeypatch.setitem(collective._transport, "t", t)
    dense = ef.Variable(np.zeros(2, np.float32), name="w_counting")
    tables = [ef.Variable(np.zeros((4, 1), np.float32), name=f"emb_counting{i}")
              for i in range(2)]

    def step():
        t.calls.clear()
        sparse = [(ef.IndexedSlices(ef.constant(np.ones((1, 1), np.float32)),
                                    ef.constant(np.array([i], np.int64)), (4, 1)), v)
                  for i, v in enumerate(tables)]
        out = ef.distribute.GradientAllReducer()([(ef.constant(np.ones(2, np.float32)),
                                                   dense)] + sparse)
        np.testing.assert_array_equal(out[0][0].numpy(), [1.0, 1.0])
        np.testing.assert_array_equal(out[2][0].indices.numpy(), [1, 1])
        return sorted(t.calls)
    # first step: the variable list's signature with the sparse counts, then the
    # variables' values
    assert step().count("gather_meta") == 2
    # later steps: signature and sparse counts (one exchange for both tables) and the data
    assert step() == ["allgatherv"] * 4 + ["allreduce_", "gather_meta"]
    strategy = ef.distribute.MultiWorkerMirroredStrategy()
    monkeypatch.setattr(strategy, "_info", strategy._info._replace(size=2))
    t.calls.clear()
    assert strategy.all_true(True) and not strategy.all_true(False)
    assert t.calls == ["allreduce_", "allreduce_"]  # one collective per flag
