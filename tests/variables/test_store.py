import numpy as np
import pytest

import eagerflow as ef
import eagerflow.variables as vs
from tests.gradcheck import to_numpy


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def test_get_variable_names_and_reuse(store):
    with vs.variable_scope("fc"):
        w = vs.get_variable("w", [2, 3])
        assert vs.get_variable("w", [2, 3]) is w
    with vs.variable_scope("fc"):
        assert vs.get_variable("w") is w
    assert w.name == "fc/w" and w.dtype == np.float32 and w.trainable
    assert [v.name for v in vs.trainable_variables()] == ["fc/w"]
    assert vs.global_variables() == [w]


def test_default_initializer_is_glorot_uniform(store):
    ef.random.set_seed(3)
    w = to_numpy(vs.get_variable("big", [200, 300]))
    limit = np.sqrt(6.0 / 500)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.01 * limit
    assert to_numpy(vs.get_variable("i", [3], dtype=ef.int64)).tolist() == [0, 0, 0]


def test_shape_mismatch_and_strict_reuse(store):
    vs.get_variable("v", [2])
    with pytest.raises(ValueError, match="Trying to share variable v"):
        vs.get_variable("v", [3])
    with pytest.raises(ValueError, match="dtype"):
        vs.get_variable("v", [2], dtype=ef.float64)
    with vs.variable_scope("s", reuse=True):
        with pytest.raises(ValueError, match="does not exist"):
            vs.get_variable("nope", [1])
    with vs.VariableStore(reuse=False).as_default():
        vs.get_variable("x", [1])
        with pytest.raises(ValueError, match="already exists"):
            vs.get_variable("x", [1])
    with pytest.raises(ValueError, match="shape is required"):
        vs.get_variable("noshape")


def test_scope_initializer_regularizer_and_value_initializer(store):
    with vs.variable_scope("a", initializer=vs.constant_initializer(2.0),
                           regularizer=vs.l2_regularizer(0.5)):
        v = vs.get_variable("v", [2])
        with vs.variable_scope("b"):
            u = vs.get_variable("u", [1])
    assert u.name == "a/b/u"
    np.testing.assert_allclose(to_numpy(v), [2.0, 2.0])
    c = vs.get_variable("c", initializer=np.array([1.0, 2.0], np.float32))
    assert c.shape == (2,)
    losses = vs.get_regularization_losses()
    assert len(losses) == 2
    np.testing.assert_allclose(float(vs.get_regularization_loss()), 0.25 * 8 + 0.25 * 4)
    v.assign([1.0, 1.0])  # regularization follows the current value
    np.testing.assert_allclose(float(vs.get_regularization_loss()), 0.25 * 2 + 0.25 * 4)


def test_default_name_uniquified_and_reset(store):
    names = []
    for _ in range(2):
        with vs.variable_scope(None, default_name="dense") as s:
            names.append(s.name)
    assert names == ["dense", "dense_1"]
    with store.as_default():
        with vs.variable_scope(None, default_name="dense") as s:
            assert s.name == "dense"


def test_reenter_scope_object_and_custom_getter(store):
    with vs.variable_scope("outer") as outer:
        pass
    with vs.variable_scope("other"):
        with vs.variable_scope(outer):
            v = vs.get_variable("v", [1])
    assert v.name == "outer/v"
    seen = []

    def getter(next_getter, name, **kw):
        seen.append(name)
        return next_getter(name, **kw)
    with vs.variable_scope("g", custom_getter=getter):
        vs.get_variable("x", [1])
    assert seen == ["g/x"]


def test_partitioned_variable(store):
    pv = vs.get_variable("emb", [10, 4], partitioner=vs.fixed_size_partitioner(3))
    assert [s.name for s in pv] == ["emb/part_0", "emb/part_1", "emb/part_2"]
    assert [tuple(s.shape) for s in pv] == [(4, 4), (3, 4), (3, 4)]
    assert isinstance(pv, list) and pv.as_tensor().shape == (10, 4)
    assert vs.get_variable("emb", [10, 4], partitioner=vs.fixed_size_partitioner(3)) is pv
    p = vs.min_max_variable_partitioner(max_partitions=4, min_slice_size=64)
    assert p((10, 4), np.float32) == [3, 1]  # 160 bytes / 64 -> 3 shards
    assert p((100, 4), np.float32) == [4, 1]
    assert vs.min_max_variable_partitioner()((10, 4), np.float32) == [1, 1]
    assert vs.fixed_size_partitioner(5)((3, 2), None) == [3, 1]
    with pytest.raises(ValueError, match="num_shards"):
        vs.fixed_size_partitioner(0)


def test_reinitialize_and_local_collection(store):
    v = vs.get_variable("m", [2], initializer=vs.zeros_initializer(), trainable=False,
                        collections=[vs.GraphKeys.LOCAL_VARIABLES])
    v.assign([3.0, 4.0])
    assert vs.local_variables() == [v] and vs.trainable_variables() == []
    store.reinitialize(vs.local_variables())
    assert to_numpy(v).tolist() == [0.0, 0.0]


def test_partitioned_shards_feed_embedding_lookup_and_sparse_training(store):
    import eagerflow.train as train
    from eagerflow import nn
    from tests.gradcheck import tensor
    full = np.arange(40, dtype=np.float32).reshape(10, 4)
    pv = vs.get_variable("table", initializer=full, partitioner=vs.fixed_size_partitioner(3))
    ids = tensor(np.array([0, 3, 4, 9, 3]))
    got = to_numpy(nn.embedding_lookup(list(pv), ids, partition_strategy="div"))
    np.testing.assert_array_equal(got, full[[0, 3, 4, 9, 3]])
    opt = train.AdagradOptimizer(0.5)
    with ef.GradientTape():
        loss = ef.reduce_sum(nn.embedding_lookup(list(pv), ids, partition_strategy="div"))
        opt.minimize(loss, var_list=[pv])
    after = np.concatenate([to_numpy(s) for s in pv])
    changed = np.flatnonzero(np.any(after != full, axis=1)).tolist()
    assert changed == [0, 3, 4, 9]
    # row 3 was looked up twice: gradient 2, accumulator 0.1 + 4
    np.testing.assert_allclose(after[3], full[3] - 0.5 * 2 / np.sqrt(4.1), rtol=1e-6)


def test_initializer_names_and_unknown_name(store):
    v = vs.get_variable("named", [2, 3], initializer="zeros")
    np.testing.assert_array_equal(to_numpy(v), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="get_variable bad: unknown initializer 'nope'"):
        vs.get_variable("bad", [2], initializer="nope")
    assert "bad" not in [x.name for x in vs.global_variables()]


def test_scalar_assign_add_keeps_dtype_and_value():
    """Python scalars are the in-place kernel's operand (no array is made for them)."""
    import eagerflow as ef
    v = ef.Variable(ef.constant(np.array([1, 2], np.int64)))
    v.assign_add(3)
    v.assign_sub(np.int64(1))
    np.testing.assert_array_equal(v.numpy(), [3, 4])
    assert v.dtype == np.int64
    w = ef.Variable(ef.constant(np.zeros(2, np.float32)))
    w.assign(1.5)
    w.assign_add(True)
    np.testing.assert_array_equal(w.numpy(), [2.5, 2.5])
    assert w.dtype == np.float32
