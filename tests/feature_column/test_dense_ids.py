"""The dense-id path of feature columns: a dense integer feature keeps its ``(batch, n)``
shape through the identity/bucketized id transform and the embedding or linear lookup
(no SparseTensor, no host read). Every result must equal what the SparseTensor path (TF's
route: drop the ignore value, check ids, prune, safe lookup) gives for the same data."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import backend, kernels
from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.feature_column.transform_ops import dense_lookup
from eagerflow.kernels.optimizer_updates import deduplicate_rows
from eagerflow.kernels.scatter_add import INDEX_PAD
from eagerflow.variables import VariableStore, global_variables
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

NB = 7


def as_sparse(dense):
    """The SparseTensor TF builds from a dense int feature (-1 dropped)."""
    a = np.asarray(dense)
    a = a[:, None] if a.ndim == 1 else a
    keep = a != -1
    return SparseTensor(np.argwhere(keep).astype(np.int64), a[keep].astype(np.int64),
                        np.asarray(a.shape, np.int64))


def layer_and_grad(columns, features, fn=fc.input_layer):
    """Output and the densified gradient of every variable for sum(out * r)."""
    with VariableStore().as_default():
        ef.random.set_seed(3)
        with ef.GradientTape() as tape:
            out = fn(features, columns)  # creates the variables (watched as trainable)
            r = tensor(np.linspace(-1, 1, int(np.prod(out.shape))).reshape(tuple(out.shape)),
                       np.float32)
            loss = ef.reduce_sum(out * r)
        variables = global_variables()
        grads = tape.gradient(loss, variables)
        return to_numpy(out), {v.name: to_numpy(g) for v, g in zip(variables, grads)}, grads


DENSE = np.array([[3, -1, 0], [-1, -1, -1], [6, 6, 2], [1, -1, -1]], np.int64)


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_dense_equals_sparse_path(combiner):
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 4,
                              combiner=combiner)
    got, g_got, _ = layer_and_grad([col], {"a": tensor(DENSE)})
    want, g_want, _ = layer_and_grad([col], {"a": as_sparse(DENSE)})
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert not got[1].any()  # a row with no valid id gives zeros
    for name in g_want:
        np.testing.assert_allclose(g_got[name], g_want[name], rtol=1e-6, atol=1e-6)


def test_rank1_int32_and_host_inputs():
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 3, combiner="sum")
    ids = np.array([4, -1, 0], np.int32)
    got, _, _ = layer_and_grad([col], {"a": ids})
    want, _, _ = layer_and_grad([col], {"a": as_sparse(ids)})
    np.testing.assert_allclose(got, want, rtol=1e-6)
    got8, _, _ = layer_and_grad([col], {"a": tensor(np.array([[4], [2], [0]], np.uint8))})
    want8, _, _ = layer_and_grad([col], {"a": as_sparse(np.array([4, 2, 0]))})
    np.testing.assert_allclose(got8, want8, rtol=1e-6)


def test_missing_entries_are_gradient_padding():
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 2)
    _, _, grads = layer_and_grad([col], {"a": tensor(DENSE)})
    g = grads[0]
    assert isinstance(g, ef.IndexedSlices)
    idx = to_numpy(g.indices)
    np.testing.assert_array_equal(idx, np.where(DENSE >= 0, DENSE, INDEX_PAD).reshape(-1))
    assert not to_numpy(g.values)[idx == INDEX_PAD].any()


def test_default_value_and_out_of_range_ids():
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB, default_value=5), 2,
                              combiner="sum")
    got, _, _ = layer_and_grad([col], {"a": tensor(np.array([[9], [-3], [1]]))})
    want, _, _ = layer_and_grad([col], {"a": tensor(np.array([[5], [5], [1]]))})
    np.testing.assert_allclose(got, want)
    strict = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 2)
    kernels.clear_errors()
    # the CPU raises at once; the GPU treats the id as missing and raises at the sync point
    with pytest.raises(ValueError, match=r"id 9 .*is not in \[0, 7\)"):
        layer_and_grad([strict], {"a": tensor(np.array([[1], [9]]))})
        kernels.check_errors()
    kernels.check_errors()  # the error was reported once and cleared


def test_empty_batch():
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 3)
    got, g, _ = layer_and_grad([col], {"a": tensor(np.zeros((0, 1), np.int64))})
    assert got.shape == (0, 3)
    assert not next(iter(g.values())).any()


def test_linear_model_and_bucketized_dense_equal_sparse():
    ident = fc.categorical_column_with_identity("a", NB)
    price = fc.numeric_column("p", shape=(2,))
    cols = [ident, fc.bucketized_column(price, [0.0, 1.0, 5.0])]
    p = np.array([[-1.0, 0.5], [2.0, 7.0], [1.0, 1.0], [0.0, 9.0]], np.float32)
    for combiner in ("sum", "mean"):
        def lm(f, c, combiner=combiner):
            return fc.linear_model(f, c, units=2, sparse_combiner=combiner)

        got, g_got, _ = layer_and_grad(cols, {"a": tensor(DENSE), "p": tensor(p)}, lm)
        want, g_want, _ = layer_and_grad(cols, {"a": as_sparse(DENSE), "p": tensor(p)}, lm)
        np.testing.assert_allclose(got, want, atol=1e-6)
        for name in g_want:
            np.testing.assert_allclose(g_got[name], g_want[name], rtol=1e-6, atol=1e-6)
    # the bucketized column's embedding too
    emb = fc.embedding_column(cols[1], 3)
    got, _, _ = layer_and_grad([emb], {"p": tensor(p)})
    with VariableStore().as_default():
        ef.random.set_seed(3)
        cache = fc.FeatureTransformationCache({"p": tensor(p)})
        pair = cols[1].get_sparse_tensors(cache)
        table = emb._table()
        from eagerflow.feature_column.dense import _lookup
        want = to_numpy(_lookup(table, pair, "mean", None))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_lazy_adam_does_not_touch_rows_of_missing_entries():
    """Row 0 gets Adam moments in a first step; in a second step whose only id 0 stand-ins
    are missing entries it must not move (a zero gradient row there would still apply the
    decayed momentum)."""
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 2)
    with VariableStore().as_default():
        ef.random.set_seed(1)
        layer = fc.DenseFeatures([col])
        opt = ef.train.LazyAdamOptimizer(0.1)

        def step(ids):
            with ef.GradientTape() as tape:
                loss = ef.reduce_sum(layer({"a": tensor(np.array(ids))}))
            table = global_variables()[0]
            opt.apply_gradients(zip(tape.gradient(loss, [table]), [table]))
            return to_numpy(table).copy()

        first = step([[0, 3], [5, -1]])
        second = step([[3, -1], [-1, -1]])
    changed = np.flatnonzero(np.abs(second - first).sum(axis=1) > 0)
    assert changed.tolist() == [3]  # lazy: 5 is not in the gradient, 0 must not be either


def test_no_host_read_on_the_dense_path(monkeypatch):
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 2)
    lin = fc.categorical_column_with_identity("b", NB, default_value=0)
    feats = {"a": tensor(DENSE), "b": tensor(DENSE[:, :1])}
    with VariableStore().as_default():
        fc.input_layer(feats, [col])
        fc.linear_model(feats, [lin])

        def no_read(*a, **k):
            raise AssertionError("host read on the dense-id path")
        monkeypatch.setattr(backend, "to_numpy", no_read)
        with ef.GradientTape() as tape:
            loss = ef.reduce_sum(fc.input_layer(feats, [col])) + \
                ef.reduce_sum(fc.linear_model(feats, [lin]))
        tape.gradient(loss, global_variables())


def test_padded_rows_in_scatter_and_dedupe(xp):
    idx = xp.asarray(np.array([2, INDEX_PAD, 0, 2, INDEX_PAD], np.int64))
    vals = xp.asarray(np.array([[1.0], [0.0], [2.0], [3.0], [0.0]], np.float32))
    dense = kernels.scatter_add_new(idx, vals, 3)
    np.testing.assert_array_equal(backend.to_numpy(dense).ravel(), [2.0, 0.0, 4.0])
    uniq, summed = deduplicate_rows(idx, vals, num_rows=3)
    uniq, summed = backend.to_numpy(uniq), backend.to_numpy(summed).ravel()
    real = uniq != INDEX_PAD
    assert sorted(zip(uniq[real].tolist(), summed[real].tolist())) == [(0, 2.0), (2, 4.0)]
    assert not summed[~real].any()
    kernels.check_errors()  # pads are not errors


def test_dense_features_layer_reuses_its_variables():
    col = fc.embedding_column(fc.categorical_column_with_identity("a", NB), 2)
    one, two = fc.DenseFeatures([col]), fc.DenseFeatures([col])
    with VariableStore().as_default():
        first = to_numpy(one({"a": DENSE[:, :1]}))
        again = to_numpy(one({"a": DENSE[:, :1]}))
        two({"a": DENSE[:, :1]})
        names = [v.name for v in global_variables()]
    np.testing.assert_array_equal(first, again)
    assert names == ["dense_features/a_embedding/embedding_weights",
                     "dense_features_1/a_embedding/embedding_weights"]


def test_bad_ids_argument():
    from eagerflow.kernels.categorical_ids import identity_ids
    with pytest.raises(TypeError, match="integers"):
        identity_ids(np.array([1.5]), 3)


GRAD_CASES = [
    GradCase(["embedding_bag"], lambda t: dense_lookup(t, tensor(DENSE), combiner="mean"),
             np.random.default_rng(0).standard_normal((NB, 3)), id="dense_lookup-mean"),
    GradCase(["embedding_bag"], lambda t: dense_lookup(t, tensor(DENSE), combiner="sqrtn"),
             np.random.default_rng(1).standard_normal((NB, 2)), id="dense_lookup-sqrtn",
             order=2),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.id)
def test_gradients(case):
    run_case(case)
