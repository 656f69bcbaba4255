"""Small models trained both by 2 MPI processes (per-process batch B) and by one process
(batch 2B): the workers and the single-process references share this code."""
import numpy as np

import eagerflow as ef

STEPS = 4
BATCH = 8  # per process
ROWS = 128
VOCAB = 50


def data(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(ROWS, 8)).astype(np.float32),
        "y": rng.normal(size=(ROWS, 1)).astype(np.float32),
        "ids": rng.integers(0, VOCAB, size=(ROWS, 3)).astype(np.int64),
        "click": rng.integers(0, 2, size=(ROWS, 1)).astype(np.float32),
        "w1": rng.normal(scale=0.3, size=(8, 16)).astype(np.float32),
        "w2": rng.normal(scale=0.3, size=(16, 1)).astype(np.float32),
        "table": rng.normal(scale=0.1, size=(VOCAB, 4)).astype(np.float32),
        "proj": rng.normal(scale=0.3, size=(4, 1)).astype(np.float32),
    }


def rows(step, batch, rank, size):
    """This rank's rows at ``step``: rank r of n reads the r-th slice of the n*batch rows
    that one process with batch n*batch reads at that step."""
    start = step * batch * size + rank * batch
    return slice(start, start + batch)


def mlp_loss(d, w1, b1, w2, sl):
    h = ef.nn.relu(ef.matmul(ef.constant(d["x"][sl]), w1) + b1)
    return ef.reduce_mean(ef.square(ef.matmul(h, w2) - ef.constant(d["y"][sl])))


def train_dense(make_optimizer, rank=0, size=1, batch=BATCH, steps=STEPS, micro=1):
    """An MLP trained with ``make_optimizer()``; ``micro`` micro-batches per update
    (``SyncReplicasOptimizer`` aggregating several gradients per replica)."""
    d = data()
    # a different start on every rank: broadcast_variables must make them equal
    w1 = ef.Variable(d["w1"] + rank, name="dense/w1")
    b1 = ef.Variable(np.zeros(16, np.float32), name="dense/b1")
    w2 = ef.Variable(d["w2"], name="dense/w2")
    ef.distribute.broadcast_variables([w1, b1, w2])
    opt = make_optimizer()
    for step in range(steps * micro):
        sl = rows(step, batch, rank, size)
        opt.minimize(lambda sl=sl: mlp_loss(d, w1, b1, w2, sl), var_list=[w1, b1, w2])
    return {"w1": w1.numpy(), "b1": b1.numpy(), "w2": w2.numpy()}


def sparse_loss(d, table, proj, sl):
    emb = ef.nn.embedding_lookup(table, ef.constant(d["ids"][sl]))
    logits = ef.matmul(ef.reduce_mean(emb, axis=1), proj)
    return ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(
        labels=ef.constant(d["click"][sl]), logits=logits))


def train_sparse(rank=0, size=1, batch=BATCH, steps=STEPS):
    """Embeddings (IndexedSlices gradients) with Adagrad under a strategy's scope."""
    d = data()
    table = ef.Variable(d["table"], name="sparse/table")
    proj = ef.Variable(d["proj"], name="sparse/proj")
    strategy = ef.distribute.MultiWorkerMirroredStrategy()
    opt = ef.train.AdagradOptimizer(0.5)
    kinds = set()
    for step in range(steps):
        sl = rows(step, batch, rank, size)
        with strategy.scope():
            gv = opt.compute_gradients(lambda sl=sl: sparse_loss(d, table, proj, sl),
                                       var_list=[table, proj])
            kinds.add(type(gv[0][0]).__name__)
            opt.apply_gradients(gv)
    assert kinds == {"IndexedSlices"}, kinds
    return {"table": table.numpy(), "proj": proj.numpy()}


def model_fn(features, labels, mode, params):
    d = data()
    w1 = ef.get_variable("w1", [8, 16], initializer=ef.constant_initializer(d["w1"]))
    w2 = ef.get_variable("w2", [16, 1], initializer=ef.constant_initializer(d["w2"]))
    pred = ef.matmul(ef.nn.relu(ef.matmul(features["x"], w1)), w2)
    loss = ef.reduce_mean(ef.square(pred - labels))
    train_op = ef.train.GradientDescentOptimizer(0.05).minimize(
        loss, global_step=ef.train.get_global_step())
    return ef.estimator.EstimatorSpec(mode, predictions=pred, loss=loss, train_op=train_op)


def input_fn(batch, rows=ROWS):
    d = data()
    return lambda: ef.data.Dataset.from_tensor_slices(
        ({"x": d["x"][:rows]}, d["y"][:rows])).batch(batch)


def train_estimator(model_dir, strategy=None, batch=BATCH, steps=STEPS, rows=ROWS):
    config = ef.estimator.RunConfig(save_checkpoints_steps=2, train_distribute=strategy,
                                    log_step_count_steps=None)
    est = ef.estimator.Estimator(model_fn, model_dir=model_dir, config=config)
    est.train(input_fn(batch, rows), max_steps=steps)
    return est
