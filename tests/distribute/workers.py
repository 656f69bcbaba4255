"""What each MPI process runs in the tests: ``python -m tests.distribute.workers SCENARIO
OUT_DIR`` under ``mpiexec -n 2``. Rank 0 writes results as ``.npz`` (no pickles) for the
test to compare with single-process training."""
import os
import re
import sys

import numpy as np
import pytest

import eagerflow as ef
from tests.distribute import models


def collectives(out, r, n):
    d = ef.distribute
    np.testing.assert_array_equal(d.all_reduce(np.array([r + 1.0, 2.0])), [3.0, 4.0])
    np.testing.assert_array_equal(d.all_reduce(ef.constant([r + 1.0]), "mean").numpy(), [1.5])
    np.testing.assert_array_equal(d.all_reduce(np.array([r, -r]), "max"), [1, 0])
    np.testing.assert_array_equal(d.broadcast(np.arange(3) + 10 * r, root=1), [10, 11, 12])
    gathered = d.all_gather(np.full((r + 1, 2), r, np.int32))  # uneven: 1 and 2 rows
    np.testing.assert_array_equal(gathered, [[0, 0], [1, 1], [1, 1]])
    np.testing.assert_array_equal(d.all_to_all(np.arange(4) + 100 * r),
                                  [0, 1, 100, 101] if r == 0 else [2, 3, 102, 103])
    uneven = d.all_to_all(np.arange(3.0) + 100 * r, splits=[1, 2])
    np.testing.assert_array_equal(uneven, [0, 100] if r == 0 else [1, 2, 101, 102])
    with pytest.raises(ValueError, match=re.escape("rank 1 passed shape (3,)")):
        d.all_reduce(np.zeros(r + 2))
    # sparse gradients stay sparse: indices and values of both ranks, averaged
    table = ef.Variable(np.zeros((10, 2), np.float32), name="t")
    g = ef.IndexedSlices(ef.constant(np.full((r + 1, 2), 2.0, np.float32)),
                         ef.constant(np.arange(r + 1, dtype=np.int64) + 5 * r), (10, 2))
    (red, _), = ef.distribute.GradientAllReducer()([(g, table)])
    assert isinstance(red, ef.IndexedSlices)
    np.testing.assert_array_equal(red.indices.numpy(), [0, 5, 6])
    np.testing.assert_array_equal(red.values.numpy(), np.ones((3, 2)))
    # two sparse gradients of different lengths per rank: their counts share one exchange
    emb = ef.Variable(np.zeros((10, 1), np.float32), name="emb")
    g2 = ef.IndexedSlices(ef.constant(np.full((2 - r, 1), 4.0, np.float32)),
                          ef.constant(np.full(2 - r, 9 - r, np.int64)), (10, 1))
    (red, _), (red2, _) = ef.distribute.GradientAllReducer()([(g, table), (g2, emb)])
    np.testing.assert_array_equal(red.indices.numpy(), [0, 5, 6])
    np.testing.assert_array_equal(red2.indices.numpy(), [9, 9, 8])
    np.testing.assert_array_equal(red2.values.numpy(), np.full((3, 1), 2.0))
    # replicas that start apart, or update different variables, are told so on every rank
    unsynced = ef.Variable(np.full(2, float(r), np.float32), name="unsynced")
    with pytest.raises(RuntimeError, match=re.escape("'unsynced' differs between ranks")):
        ef.distribute.GradientAllReducer()([(ef.constant(np.ones(2, np.float32)), unsynced)])
    other = ef.Variable(np.zeros(2 + r, np.float32), name=f"v{r}")
    with pytest.raises(ValueError, match=re.escape("rank 1 passes different variables")):
        ef.distribute.GradientAllReducer()([(ef.constant(np.ones(2 + r, np.float32)), other)])
    # a list every rank agreed on before: a rank that now passes another one is told so on
    # every rank (an agreement remembered per rank left it waiting in an exchange the
    # others skipped)
    same = ef.Variable(np.zeros(2, np.float32), name="same")
    ef.distribute.GradientAllReducer()([(ef.constant(np.ones(2, np.float32)), same)])
    changed = same if r == 0 else ef.Variable(np.zeros(3, np.float32), name="same")
    with pytest.raises(ValueError, match=re.escape("rank 1 passes different variables")):
        ef.distribute.GradientAllReducer()(
            [(ef.constant(np.ones(int(changed.shape[0]), np.float32)), changed)])
    assert ef.distribute.size() == n and ef.distribute.rank() == r
    if r == 0:
        np.savez(os.path.join(out, "collectives.npz"), ok=np.array(1))


def train(out, r, n):
    opt = ef.distribute.DistributedOptimizer
    dense = models.train_dense(lambda: opt(ef.train.MomentumOptimizer(0.05, 0.9)), r, n)
    sparse = models.train_sparse(r, n)
    sync = models.train_dense(lambda: ef.train.SyncReplicasOptimizer(
        ef.train.GradientDescentOptimizer(0.1), replicas_to_aggregate=4, total_num_replicas=2),
        r, n, micro=2)
    if r == 0:
        for name, result in (("dense", dense), ("sparse", sparse), ("sync", sync)):
            np.savez(os.path.join(out, f"{name}.npz"), **result)


def estimator(out, r, n):
    if r != 0:  # only the chief may write: any write from here fails the job
        def refuse(*args, **kwargs):
            raise AssertionError(f"rank {r} (not the chief) tried to write")
        ef.train.Saver.save = refuse
        ef.summary.FileWriterCache.get = refuse
    strategy = ef.distribute.MultiWorkerMirroredStrategy()
    models.train_estimator(os.path.join(out, "model"), strategy)
    # 5 batches over 2 workers (3 and 2): both stop after 2 steps instead of one waiting
    uneven = models.train_estimator(os.path.join(out, "uneven"), strategy, rows=5 * 8,
                                    steps=None)
    if r == 0:
        np.savez(os.path.join(out, "uneven.npz"),
                 step=np.array(int(uneven.latest_checkpoint().rsplit("-", 1)[1])))


def die(out, r, n):
    """Rank 1 dies in the middle of training; rank 0 must not wait forever."""
    d = models.data()
    w = ef.Variable(np.zeros((8, 1), np.float32), name="w")
    opt = ef.distribute.DistributedOptimizer(ef.train.GradientDescentOptimizer(0.1))
    for step in range(1000):
        if r == 1 and step == 3:
            os._exit(3)
        x = ef.constant(d["x"][:8])
        opt.minimize(lambda: ef.reduce_mean(ef.square(ef.matmul(x, w))), var_list=[w])
    open(os.path.join(out, f"finished-{r}"), "w").close()


def hang(out, r, n):
    """Rank 1 hangs outside any collective; rank 0's all-reduce times out (init's
    timeout_s, from EAGERFLOW_COLLECTIVE_TIMEOUT) and aborts the job."""
    import time
    if r == 1:
        time.sleep(60)
    ef.distribute.all_reduce(np.ones(3))
    open(os.path.join(out, f"finished-{r}"), "w").close()


def fail(out, r, n):
    """Rank 1 raises; the excepthook installed by init() aborts every rank."""
    ef.distribute.init()
    if r == 1:
        raise ValueError("planted failure on rank 1")
    ef.distribute.all_reduce(np.ones(3))
    open(os.path.join(out, f"finished-{r}"), "w").close()


if __name__ == "__main__":
    out_dir = sys.argv[2]
    info = ef.distribute.init()
    for scenario in sys.argv[1].split(","):
        globals()[scenario](out_dir, info.rank, info.size)
