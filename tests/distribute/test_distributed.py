"""Data-parallel training on 2 MPI processes equals one process with twice the batch;
collectives; chief-only writes; failing workers stop the job instead of hanging it."""
import os

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
    with pytest.raises(RuntimeError, match="environment says 2 processes but MPI sees 1"):
        runtime.init()
    assert os.environ["WORLD_SIZE"] == "2"


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
