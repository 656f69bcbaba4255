"""embedding_lookup / embedding_lookup_sparse: forward against NumPy, IndexedSlices
gradients equal to dense ones, sharding, bad ids, the SparseTensor helpers."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.nn as nn
from eagerflow import backend
from eagerflow.kernels import check_errors
from tests.gradcheck import GradCase, check_grads, run_case, tensor, to_numpy

R = np.random.default_rng(7)
P = R.standard_normal((6, 3))
IDS = np.array([3, 0, 5, 3, 2])
SEGS = np.array([0, 0, 1, 3, 3])          # bag 2 is empty
W = R.uniform(0.5, 2.0, 5)


def _sp(values, segs=SEGS, batch=4):
    cols = np.concatenate([np.arange(c) for c in np.bincount(segs, minlength=batch)])
    idx = np.stack([segs, cols], axis=1).astype(np.int64)
    return ef.SparseTensor(backend.to_device(idx), values, np.array([batch, 3], np.int64))


def _lookup_sparse(combiner, weighted):
    def fn(p, w):
        sw = _sp(w) if weighted else None
        return nn.embedding_lookup_sparse(p, _sp(tensor(IDS)), sw, combiner=combiner)
    return fn


GRAD_CASES = [
    GradCase(["embedding_bag", "embedding_bag_grad"],
             lambda p, w: nn.embedding_lookup_sparse(p, _sp(tensor(IDS)), _sp(w),
                                                     combiner="mean"),
             P, W, order=2, id="embedding_bag_mean_weighted"),
    GradCase(["embedding_bag", "embedding_bag_grad"], _lookup_sparse("sqrtn", True), P, W,
             order=2, id="embedding_bag_sqrtn_weighted_order2"),
    GradCase(["embedding_bag", "embedding_bag_grad"], _lookup_sparse("sum", True), P, W,
             order=2, id="embedding_bag_sum_weighted_order2"),
] + [
    GradCase(["embedding_bag"], _lookup_sparse(c, wt), P, W, id=f"sparse_{c}_{wt}")
    for c in ("sum", "mean", "sqrtn") for wt in (False, True)
] + [
    GradCase(["embedding_lookup"],
             lambda p: nn.embedding_lookup(p, tensor(IDS.reshape(5, 1))), P, order=2,
             id="embedding_lookup"),
    GradCase(["embedding_lookup"],
             lambda a, b: nn.embedding_lookup([a, b], tensor(IDS), partition_strategy="div"),
             P[:3], P[3:], id="embedding_lookup_sharded"),
    GradCase(["embedding_lookup"], lambda p: nn.embedding_lookup(p, tensor(IDS), max_norm=1.0),
             P, id="embedding_lookup_max_norm"),
    # max_norm takes the unfused path: rows looked up, then bagged in place (ids None)
    GradCase(["embedding_lookup", "embedding_bag", "embedding_bag_grad"],
             lambda p, w: nn.embedding_lookup_sparse(p, _sp(tensor(IDS)), _sp(w),
                                                     combiner="sqrtn", max_norm=1.5),
             P, W, order=2, id="embedding_bag_rows_in_place"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def reference_sparse(params, ids, segs, weights, combiner, batch):
    out = np.zeros((batch,) + params.shape[1:])
    for b in range(batch):
        k = segs == b
        w = np.ones(k.sum()) if weights is None else weights[k]
        acc = (w[:, None] * params[ids[k]]).sum(0)
        norm = {"sum": 1.0, "mean": w.sum(), "sqrtn": np.sqrt((w * w).sum())}[combiner]
        out[b] = acc / norm if k.any() else 0.0
    return out


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lookup_sparse_forward(combiner, weighted):
    sw = _sp(tensor(W)) if weighted else None
    got = nn.embedding_lookup_sparse(tensor(P), _sp(tensor(IDS)), sw, combiner=combiner)
    want = reference_sparse(P, IDS, SEGS, W if weighted else None, combiner, 4)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)


def test_lookup_sparse_default_combiner_is_mean_and_numpy_components():
    sp = ef.SparseTensor(np.stack([SEGS, [0, 1, 0, 0, 1]], 1), IDS, [4, 2])
    got = nn.embedding_lookup_sparse(tensor(P), sp, None)
    np.testing.assert_allclose(to_numpy(got), reference_sparse(P, IDS, SEGS, None, "mean", 4))


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("nshards", [2, 3, 4])
def test_sharded_lookup_equals_unsharded(strategy, nshards):
    vocab = 10
    table = R.standard_normal((vocab, 2))
    if strategy == "mod":
        shards = [table[p::nshards] for p in range(nshards)]
    else:
        per, extra = divmod(vocab, nshards)
        sizes = [per + (1 if p < extra else 0) for p in range(nshards)]
        shards = np.split(table, np.cumsum(sizes)[:-1])
    ids = np.array([[9, 0], [4, 4], [7, 1]])
    got = nn.embedding_lookup([tensor(s) for s in shards], tensor(ids),
                              partition_strategy=strategy)
    np.testing.assert_array_equal(to_numpy(got), table[ids])
    sp = _sp(tensor(ids.reshape(-1)[:5]))
    got = nn.embedding_lookup_sparse([tensor(s) for s in shards], sp, None,
                                     partition_strategy=strategy, combiner="sum")
    np.testing.assert_allclose(to_numpy(got),
                               reference_sparse(table, ids.reshape(-1)[:5], SEGS, None,
                                                "sum", 4))


def test_gradient_is_indexed_slices_equal_to_dense():
    v = ef.Variable(backend.to_device(P))
    g = R.standard_normal((4, 3))
    with ef.GradientTape(persistent=True) as tape:
        out = nn.embedding_lookup_sparse(v, _sp(tensor(IDS)), _sp(tensor(W)), combiner="sqrtn")
        dense_out = ef.matmul(tensor(_dense_matrix("sqrtn")), v)
    gs = tape.gradient(out, v, output_gradients=tensor(g))
    gd = tape.gradient(dense_out, v, output_gradients=tensor(g))
    assert isinstance(gs, ef.IndexedSlices)
    assert tuple(gs.dense_shape) == P.shape
    np.testing.assert_array_equal(to_numpy(gs.indices), IDS)
    np.testing.assert_allclose(to_numpy(gs), to_numpy(gd), rtol=1e-12)
    with ef.GradientTape() as tape:
        out = nn.embedding_lookup(v, tensor(IDS))
    assert isinstance(tape.gradient(out, v), ef.IndexedSlices)


def test_two_lookups_of_one_table_accumulate_indexed_slices():
    v = ef.Variable(backend.to_device(P))
    with ef.GradientTape() as tape:
        loss = ef.reduce_sum(nn.embedding_lookup(v, tensor(IDS))) + \
            ef.reduce_sum(nn.embedding_lookup(v, tensor(IDS[:2])) * 2.0)
    g = tape.gradient(loss, v)
    assert isinstance(g, ef.IndexedSlices)
    assert g.values.shape == (7, 3) and g.indices.shape == (7,)
    want = np.zeros_like(P)
    np.add.at(want, IDS, 1.0)
    np.add.at(want, IDS[:2], 2.0)
    np.testing.assert_allclose(to_numpy(g), want)


def _dense_matrix(combiner):
    m = np.zeros((4, P.shape[0]))
    for k, (s, i) in enumerate(zip(SEGS, IDS)):
        w = W[SEGS == s]
        norm = {"sum": 1.0, "mean": w.sum(), "sqrtn": np.sqrt((w * w).sum())}[combiner]
        m[s, i] += W[k] / norm
    return m


def test_lookup_forward_shapes_and_dtype():
    table = tensor(P.astype(np.float32))
    got = nn.embedding_lookup(table, tensor(np.array([[1, 2, 3]])))
    assert got.shape == (1, 3, 3) and got.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(got), P.astype(np.float32)[[[1, 2, 3]]])
    empty = nn.embedding_lookup(table, tensor(np.zeros((0,), np.int64)))
    assert empty.shape == (0, 3)
    got = nn.embedding_lookup(tensor(np.arange(4.0)), [2, 3])       # 1-D table
    np.testing.assert_array_equal(to_numpy(got), [2.0, 3.0])


def test_max_norm_clips_rows():
    got = to_numpy(nn.embedding_lookup(tensor(P), tensor(IDS), max_norm=0.5))
    norms = np.linalg.norm(P[IDS], axis=1)
    want = P[IDS] * np.minimum(1.0, 0.5 / norms)[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_out_of_range_ids_raise_naming_id_and_size():
    with pytest.raises(IndexError, match=r"= 6 .*6 rows"):
        nn.embedding_lookup(tensor(P), tensor(np.array([0, 6])))
        check_errors()
    with pytest.raises(IndexError, match=r"= 12 .*sharded table of 6 rows"):
        nn.embedding_lookup([tensor(P[:3]), tensor(P[3:])], tensor(np.array([12])))
        check_errors()
    with pytest.raises(IndexError, match=r"= 9 .*6 rows"):
        nn.embedding_lookup_sparse(tensor(P), _sp(tensor(np.array([0, 1, 9, 2, 3]))), None)
        check_errors()


def test_bad_arguments():
    with pytest.raises(ValueError, match="partition_strategy"):
        nn.embedding_lookup(tensor(P), [0], partition_strategy="hash")
    with pytest.raises(ValueError, match="combiner"):
        nn.embedding_lookup_sparse(tensor(P), _sp(tensor(IDS)), None, combiner="max")
    with pytest.raises(TypeError, match="integers"):
        nn.embedding_lookup(tensor(P), tensor(np.array([0.5])))
    with pytest.raises(TypeError, match="SparseTensor"):
        nn.embedding_lookup_sparse(tensor(P), tensor(IDS), None)
    with pytest.raises(ValueError, match="not sorted"):
        sp = ef.SparseTensor(np.array([[1, 0], [0, 0]]), IDS[:2], [2, 1])
        nn.embedding_lookup_sparse(tensor(P), sp, None)
        check_errors()
    with pytest.raises(ValueError, match="empty"):
        nn.embedding_lookup([], [0])


def test_sparse_reorder_and_to_dense():
    sp = ef.SparseTensor(np.array([[1, 0], [0, 2], [0, 1]]), tensor(np.array([1.0, 2.0, 3.0])),
                         np.array([2, 3]))
    r = nn.sparse_reorder(sp)
    np.testing.assert_array_equal(backend.to_numpy(r.indices), [[0, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(to_numpy(r.values), [3.0, 2.0, 1.0])
    dense = nn.sparse_tensor_to_dense(sp, default_value=-1.0)
    np.testing.assert_array_equal(to_numpy(dense), [[-1.0, 3.0, 2.0], [1.0, -1.0, -1.0]])
    check_grads(lambda v: nn.sparse_tensor_to_dense(
        ef.SparseTensor(np.array([[1, 0], [0, 2]]), v, np.array([2, 3]))),
        np.array([1.0, 2.0]))
    with pytest.raises(IndexError, match="out of bounds"):
        nn.sparse_tensor_to_dense(ef.SparseTensor(np.array([[2, 0]]), np.array([1.0]),
                                                  np.array([2, 3])))


def reference_safe(params, idx, ids, weights, shape, combiner, default_id):
    batch = int(np.prod(shape[:-1]))
    rows = np.ravel_multi_index(tuple(idx[:, :-1].T), shape[:-1])
    keep = ids >= 0
    if weights is not None and combiner != "sum":  # TF keeps weights <= 0 in a sum
        keep &= weights > 0
    w = np.ones(len(ids)) if weights is None else weights
    out = np.zeros((batch, params.shape[1]))
    for b in range(batch):
        k = keep & (rows == b)
        if not k.any():
            out[b] = params[default_id] if default_id is not None else 0.0
            continue
        acc = (w[k][:, None] * params[ids[k]]).sum(0)
        norm = {"sum": 1.0, "mean": w[k].sum(), "sqrtn": np.sqrt((w[k] ** 2).sum())}[combiner]
        out[b] = acc / norm
    return out.reshape(tuple(shape[:-1]) + (params.shape[1],))


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("default_id", [None, 2])
def test_safe_lookup_prunes_invalid_and_fills_empty_rows(combiner, weighted, default_id):
    shape = (2, 3, 4)          # rank 3: combined along the last dim, result (2, 3, dim)
    idx = np.array([[0, 0, 0], [0, 0, 1], [0, 2, 0], [1, 0, 0], [1, 0, 2], [1, 1, 3]])
    ids = np.array([1, -1, 4, 0, 5, 3])
    w = np.array([0.5, 2.0, -1.0, 1.5, 0.7, 0.0])
    sp = ef.SparseTensor(backend.to_device(idx), tensor(ids), np.array(shape))
    sw = ef.SparseTensor(backend.to_device(idx), tensor(w), np.array(shape)) if weighted \
        else None
    got = nn.safe_embedding_lookup_sparse(tensor(P), sp, sw, combiner=combiner,
                                          default_id=default_id)
    want = reference_safe(P, idx, ids, w if weighted else None, shape, combiner, default_id)
    assert got.shape == (2, 3, 3)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-15)


def test_safe_lookup_gradient_and_sharding():
    idx = np.array([[0, 0], [0, 1], [2, 0]])
    ids = np.array([4, -1, 1])
    shards = [P[:3], P[3:]]   # 'div': ids 0-2 in shard 0, 3-5 in shard 1

    def fn(a, b, wv):
        sp = ef.SparseTensor(backend.to_device(idx), tensor(ids), np.array([3, 2]))
        sw = ef.SparseTensor(backend.to_device(idx), wv, np.array([3, 2]))
        return nn.safe_embedding_lookup_sparse([a, b], sp, sw, default_id=0)

    check_grads(fn, shards[0], shards[1], np.array([0.5, 1.0, 2.0]))
    got = to_numpy(fn(tensor(shards[0]), tensor(shards[1]), tensor(np.array([0.5, 1.0, 2.0]))))
    np.testing.assert_allclose(got, np.stack([P[4], P[0], P[1]]), rtol=1e-12)


def test_lookups_trace_into_a_graph_with_a_dynamic_batch():
    # every batch-dependent input goes through an op, so export can replay the lookups
    from eagerflow.saved_model.tracer import trace_graph
    table = ef.Variable(backend.to_device(P), name="emb")

    def sparse(indices, values):
        sp = ef.SparseTensor(indices, values, np.array([int(indices.shape[0]) // 2, 2]))
        return nn.embedding_lookup_sparse(table, sp, None, combiner="sqrtn"), \
            nn.embedding_lookup(table, values)

    def make(b):
        idx = np.stack([np.repeat(np.arange(b), 2), np.tile([0, 1], b)], 1)
        return tensor(idx), tensor(np.arange(2 * b) % 6)

    graph, consts, _, _ = trace_graph(sparse, make)
    ops_run = [n["op"] for n in graph["nodes"]]
    assert ops_run == ["embedding_bag_offsets", "embedding_bag", "embedding_lookup"]
    assert graph["nodes"][0]["attrs"]["num_bags"] == {"__batch__": 1}
    assert not consts

    def safe(indices, values):
        sp = ef.SparseTensor(indices, values - 1, np.array([int(indices.shape[0]) // 2, 2]))
        return nn.safe_embedding_lookup_sparse(table, sp, default_id=3)

    graph, _, _, _ = trace_graph(safe, make)   # raises TraceError if anything left the graph
    assert "embedding_bag" in [n["op"] for n in graph["nodes"]]


def test_safe_lookup_leaves_rows_of_dropped_entries_alone():
    """TF prunes invalid ids (< 0) and weights <= 0 before the lookup, so their rows get no
    gradient row: with LazyAdam only the rows of valid entries move (the id-0 placeholder
    of a dropped entry must not)."""
    from eagerflow.kernels.scatter_add import INDEX_PAD
    table = ef.Variable(tensor(np.random.default_rng(0).standard_normal((5, 2))
                               .astype(np.float32)))
    before = table.numpy().copy()
    sp = ef.SparseTensor(np.array([[0, 0], [0, 1], [1, 0], [2, 0]]),
                         tensor(np.array([3, -1, 4, 2])), [3, 2])
    sw = ef.SparseTensor(np.array([[0, 0], [0, 1], [1, 0], [2, 0]]),
                         tensor(np.array([1.0, 1.0, 2.0, 0.0], np.float32)), [3, 2])
    opt = ef.train.LazyAdamOptimizer(0.1)
    for _ in range(2):
        with ef.GradientTape() as tape:
            loss = ef.reduce_sum(nn.safe_embedding_lookup_sparse(table, sp, sw))
        (g,) = tape.gradient(loss, [table])
        opt.apply_gradients([(g, table)])
    assert to_numpy(g.indices).tolist() == [3, INDEX_PAD, 4, INDEX_PAD]
    moved = np.flatnonzero(np.abs(table.numpy() - before).sum(axis=1) > 0).tolist()
    assert moved == [3, 4]


@pytest.mark.parametrize("variant", ["max_norm", "sharded"])
def test_safe_lookup_of_row_by_row_paths_gives_dropped_entries_no_gradient_row(variant):
    """max_norm and sharded tables look rows up one by one: invalid entries are pruned
    there, so row 0 (the placeholder id elsewhere) gets no zero gradient row, which LazyAdam
    would apply: a row with moments moves on a zero gradient."""
    rng = np.random.default_rng(1)
    full = rng.standard_normal((6, 2)).astype(np.float32)
    tables = [ef.Variable(tensor(full))] if variant == "max_norm" else \
        [ef.Variable(tensor(full[:3])), ef.Variable(tensor(full[3:]))]
    kw = {"max_norm": 10.0} if variant == "max_norm" else {}
    params = tables[0] if variant == "max_norm" else tables
    opt = ef.train.LazyAdamOptimizer(0.1)

    def step(idx, ids, w):
        sp = ef.SparseTensor(idx, tensor(np.array(ids)), [4, 2])
        sw = ef.SparseTensor(idx, tensor(np.array(w, np.float32)), [4, 2])
        with ef.GradientTape() as tape:
            out = nn.safe_embedding_lookup_sparse(params, sp, sw, combiner="sum", **kw)
            loss = ef.reduce_sum(out)
        grads = tape.gradient(loss, tables)
        opt.apply_gradients([(g, t) for g, t in zip(grads, tables) if g is not None])
        return out, grads

    step(np.array([[0, 0]]), [0], [1.0])  # row 0 gets moments
    before = np.concatenate([t.numpy() for t in tables])
    idx = np.array([[0, 0], [0, 1], [1, 0], [2, 0], [3, 0]])
    out, grads = step(idx, [3, -1, 4, 2, -1], [1.0, 1.0, 2.0, 0.0, 1.0])
    want = np.stack([before[3], before[4] * 2, np.zeros(2), np.zeros(2)])
    np.testing.assert_allclose(to_numpy(out), want, rtol=1e-6)
    after = np.concatenate([t.numpy() for t in tables])
    assert np.flatnonzero(np.abs(after - before).sum(axis=1) > 0).tolist() == [3, 4]


def test_safe_lookup_with_max_norm_when_every_entry_is_invalid():
    sp = ef.SparseTensor(np.array([[0, 0], [1, 0]]), tensor(np.array([-1, -2])), [2, 1])
    got = nn.safe_embedding_lookup_sparse(tensor(P), sp, max_norm=1.0, default_id=1)
    want = P[1] * min(1.0, 1.0 / np.linalg.norm(P[1]))
    np.testing.assert_allclose(to_numpy(got), np.stack([want, want]), rtol=1e-12)
