"""Feature columns against the spec's TF-verified vectors, semantics and errors."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import kernels
from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.io.parsing_config import FixedLenFeature, VarLenFeature
from eagerflow.variables import VariableStore, global_variables
from tests.gradcheck import to_numpy


def ids_of(column, features):
    cache = fc.FeatureTransformationCache(features)
    pair = column.get_sparse_tensors(cache)
    return np.asarray(to_numpy(pair.id_tensor.values) if isinstance(pair.id_tensor.values, ef.Tensor)
                      else pair.id_tensor.values).tolist()


def dense_of(columns, features):
    with VariableStore().as_default():
        return to_numpy(fc.input_layer(features, columns))


def test_hash_bucket_ids_match_tensorflow():
    col = fc.categorical_column_with_hash_bucket("w", 3)
    assert ids_of(col, {"w": np.array([["Hello"], ["TensorFlow"], ["2.x"]])}) == [0, 2, 2]
    assert ids_of(fc.categorical_column_with_hash_bucket("w", 1000), {"w": np.array(["hello"])}) \
        == [296]
    # ints hash as decimal strings; '' / -1 in dense input are missing
    icol = fc.categorical_column_with_hash_bucket("i", 1000, dtype=ef.int64)
    s = fc.categorical_column_with_hash_bucket("s", 1000)
    assert ids_of(icol, {"i": np.array([[5, -1]])}) == ids_of(s, {"s": np.array([["5"]])})
    assert ids_of(s, {"s": np.array([["", "hello"]])}) == [296]


def test_crossed_column_matches_tensorflow_vector():
    col = fc.crossed_column(["a", fc.categorical_column_with_identity("b", 1000)], 5)
    features = {"a": SparseTensor(np.array([[i, 0] for i in range(5)]),
                                  np.array(["A", "B", "A", "B", "A"], dtype=object), [5, 1]),
                "b": SparseTensor(np.array([[i, 0] for i in range(5)]),
                                  np.array([101, 101, 101, 102, 102]), [5, 1])}
    assert ids_of(col, features) == [1, 4, 1, 1, 3]
    assert col.name == "a_X_b"
    with pytest.raises(ValueError, match="not supported for crossing"):
        fc.crossed_column([fc.categorical_column_with_hash_bucket("x", 3), "y"], 4)
    with pytest.raises(ValueError, match="length > 1"):
        fc.crossed_column(["x"], 4)


def test_bucketized_boundaries():
    b = fc.bucketized_column(fc.numeric_column("x"), [0, 10, 100])
    x = np.array([[-5.0], [5.0], [10.0], [100.0], [150.0]])
    assert ids_of(b, {"x": x}) == [0, 1, 2, 3, 3]
    dense = dense_of([b], {"x": x})
    assert dense.shape == (5, 4) and dense.argmax(1).tolist() == [0, 1, 2, 3, 3]
    b2 = fc.bucketized_column(fc.numeric_column("v", shape=2), [0.0])
    assert b2.num_buckets == 4
    assert ids_of(b2, {"v": np.array([[-1.0, 1.0]])}) == [0, 3]
    nan = fc.bucketized_column(fc.numeric_column("x"), [0.0, 1.5, 10.0])
    assert ids_of(nan, {"x": np.array([[np.nan], [-0.0], [-np.inf]])}) == [3, 1, 0]
    with pytest.raises(ValueError, match="sorted list"):
        fc.bucketized_column(fc.numeric_column("x"), [1, 1])


def test_vocabulary_and_identity_columns(tmp_path):
    v = fc.categorical_column_with_vocabulary_list("c", ["a", "b", "c"], num_oov_buckets=2)
    got = ids_of(v, {"c": np.array([["b"], ["zz"], ["a"]])})
    assert got[0] == 1 and got[2] == 0 and got[1] in (3, 4) and v.num_buckets == 5
    d = fc.categorical_column_with_vocabulary_list("c", ["a", "b"])
    assert ids_of(d, {"c": np.array([["b", "q"]])}) == [1, -1]
    iv = fc.categorical_column_with_vocabulary_list("n", [10, 20])
    assert iv.dtype == np.int64 and ids_of(iv, {"n": np.array([[20, 10]])}) == [1, 0]
    f = tmp_path / "vocab.txt"
    f.write_text("x\ny\nz\n")
    vf = fc.categorical_column_with_vocabulary_file("c", str(f), vocabulary_size=2)
    assert vf.num_buckets == 2 and ids_of(vf, {"c": np.array([["y"], ["z"]])}) == [1, -1]
    ident = fc.categorical_column_with_identity("i", 10, default_value=0)
    assert ids_of(ident, {"i": np.array([[3, 12]])}) == [3, 0]
    strict = fc.categorical_column_with_identity("i", 10)
    with pytest.raises(ValueError, match=r"identity i: ids range over \[(12, 12|\?, \?)\], "
                                         r"not all in \[0, 10\)"):
        ids_of(strict, {"i": np.array([[12]])})
        kernels.check_errors()  # on the GPU the check is recorded on the device
    with pytest.raises(ValueError, match="Duplicate keys"):
        fc.categorical_column_with_vocabulary_list("c", ["a", "a"])
    with pytest.raises(ValueError, match="Can't specify both"):
        fc.categorical_column_with_vocabulary_list("c", ["a"], default_value=0, num_oov_buckets=1)
    with pytest.raises(ValueError, match="does not exist"):
        fc.categorical_column_with_vocabulary_file("c", str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="compatible"):
        ids_of(d, {"c": np.array([[1]])})


def test_indicator_counts_and_weights():
    v = fc.categorical_column_with_vocabulary_list("c", ["a", "b", "c"])
    ind = fc.indicator_column(v)
    out = dense_of([ind], {"c": np.array([["a", "a"], ["c", "zz"]])})
    assert out.tolist() == [[2, 0, 0], [0, 0, 1]]
    w = fc.indicator_column(fc.weighted_categorical_column(v, "w"))
    sp = SparseTensor(np.array([[0, 0], [0, 1]]), np.array(["a", "b"], dtype=object), [1, 2])
    spw = SparseTensor(np.array([[0, 0], [0, 1]]), np.array([0.5, 2.0], np.float32), [1, 2])
    assert dense_of([w], {"c": sp, "w": spw}).tolist() == [[0.5, 2.0, 0.0]]
    assert ind.name == "c_indicator" and w.name == "c_weighted_by_w_indicator"


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_combiners_and_gradient(combiner):
    v = fc.categorical_column_with_identity("i", 4)
    emb = fc.embedding_column(fc.weighted_categorical_column(v, "w"), 2, combiner=combiner,
                              initializer=lambda shape, dtype=None, partition_info=None:
                              np.arange(8, dtype=np.float32).reshape(shape))
    sp = SparseTensor(np.array([[0, 0], [0, 1], [2, 0]]), np.array([1, 3, 0]), [3, 2])
    spw = SparseTensor(np.array([[0, 0], [0, 1], [2, 0]]), np.array([1.0, 3.0, 2.0], np.float32),
                       [3, 2])
    table = np.arange(8, dtype=np.float64).reshape(4, 2)
    with VariableStore().as_default():
        with ef.GradientTape() as tape:
            out = fc.input_layer({"i": sp, "w": spw}, [emb])
            loss = ef.reduce_sum(out)
        var = global_variables()[0]
        grad = tape.gradient(loss, var)
    assert var.name == "input_layer/i_weighted_by_w_embedding/embedding_weights"
    num = table[1] * 1 + table[3] * 3
    norm = {"sum": 1.0, "mean": 4.0, "sqrtn": np.sqrt(10.0)}[combiner]
    row2 = table[0] * 2.0 / {"sum": 1.0, "mean": 2.0, "sqrtn": 2.0}[combiner]
    np.testing.assert_allclose(to_numpy(out), [num / norm, [0, 0], row2], rtol=1e-6)
    assert isinstance(grad, ef.IndexedSlices)
    dense = to_numpy(grad.to_dense())
    np.testing.assert_allclose(dense[3], [3 / norm] * 2, rtol=1e-6)


def test_shared_embeddings_and_input_layer_order():
    a = fc.categorical_column_with_identity("a", 5)
    b = fc.categorical_column_with_identity("b", 5)
    sa, sb = fc.shared_embedding_columns([a, b], 3)
    assert sa.name == "a_shared_embedding"
    feats = {"a": np.array([[1], [2]]), "b": np.array([[1], [4]]), "z": np.array([[7.0], [8.0]])}
    with VariableStore().as_default():
        out = to_numpy(fc.input_layer(feats, [fc.numeric_column("z"), sb, sa]))
        names = [v.name for v in global_variables()]
    assert names == ["input_layer/a_b_shared_embedding/embedding_weights"]
    assert out.shape == (2, 7)
    np.testing.assert_allclose(out[0, :3], out[0, 3:6])  # same id 1, same table
    np.testing.assert_allclose(out[:, 6], [7.0, 8.0])    # 'z' sorts last
    with pytest.raises(ValueError, match="same num_buckets"):
        fc.shared_embedding_columns([a, fc.categorical_column_with_identity("c", 6)], 2)


def test_linear_model_names_and_values():
    cols = [fc.numeric_column("x", shape=2),
            fc.categorical_column_with_vocabulary_list("c", ["a", "b"])]
    feats = {"x": np.array([[1.0, 2.0], [3.0, 4.0]]), "c": np.array([["b"], ["q"]])}
    store = VariableStore()
    with store.as_default():  # each model_fn call re-enters the store, as an Estimator does
        out = fc.linear_model(feats, cols, units=1)
        vs = {v.name: v for v in global_variables()}
        assert sorted(vs) == ["linear_model/bias_weights", "linear_model/c/weights",
                              "linear_model/x/weights"]
        assert to_numpy(out).tolist() == [[0.0], [0.0]]
        vs["linear_model/x/weights"].assign(np.array([[1.0], [1.0]], np.float32))
        vs["linear_model/c/weights"].assign(np.array([[0.0], [10.0]], np.float32))
        vs["linear_model/bias_weights"].assign(np.array([0.5], np.float32))
    with store.as_default():
        out = fc.linear_model(feats, cols, units=1)
    assert to_numpy(out).tolist() == [[13.5], [7.5]]


def test_linear_model_columns_of_different_batch_sizes():
    a, b = fc.numeric_column("a"), fc.numeric_column("b")
    ids = fc.categorical_column_with_identity("i", 4)
    feats = {"a": np.ones((2, 1)), "b": np.ones((3, 1)), "i": np.array([[1], [2], [3]])}
    # dense columns (one GEMM), and a categorical column against a dense one: TF's message,
    # naming every column's batch size
    msg = r"Batch size \(first dimension\) of each feature must be same. Batch size of columns "
    for cols, sizes in (([a, b], r"\(a, b\): \(2, 3\)"), ([a, ids], r"\(a, i\): \(2, 3\)")):
        with pytest.raises(ValueError, match=msg + sizes):
            with VariableStore().as_default():
                fc.linear_model(feats, cols)


def test_parse_example_spec_and_errors():
    cols = [fc.numeric_column("age", default_value=0.0),
            fc.embedding_column(fc.categorical_column_with_hash_bucket("w", 10), 2),
            fc.crossed_column(["w", "q"], 7)]
    spec = fc.make_parse_example_spec(cols)
    assert spec["age"] == FixedLenFeature((1,), np.dtype(np.float32), 0.0)
    assert spec["w"] == VarLenFeature(np.dtype(object)) and "q" in spec
    with pytest.raises(ValueError, match="different parse_spec"):
        fc.make_parse_example_spec([fc.numeric_column("k"),
                                    fc.categorical_column_with_identity("k", 3)])
    with pytest.raises(ValueError, match="must be a _DenseColumn"):
        dense_of([fc.categorical_column_with_identity("i", 3)], {"i": np.array([[1]])})
    with pytest.raises(ValueError, match="Duplicate feature column name"):
        dense_of([fc.numeric_column("a"), fc.numeric_column("a")], {"a": np.ones((1, 1))})
    with pytest.raises(ValueError, match="not in features dictionary"):
        dense_of([fc.numeric_column("a")], {"b": np.ones((1, 1))})
    with pytest.raises(ValueError, match="rank 0"):
        ids_of(fc.categorical_column_with_hash_bucket("w", 3), {"w": np.array("x")})
    with pytest.raises(ValueError, match="numeric_column a: the feature must be numeric"):
        dense_of([fc.numeric_column("a")], {"a": np.array([["x"], ["y"]])})
    with pytest.raises(ValueError, match="numeric_column a: the feature must be numeric"):
        dense_of([fc.numeric_column("a")], {"a": ef.constant(np.array([["x"]], object))})
    with pytest.raises(ValueError, match="shape dimensions must be greater than 0"):
        fc.numeric_column("a", shape=0)
    with pytest.raises(ValueError, match="Invalid dimension"):
        fc.embedding_column(fc.categorical_column_with_identity("i", 3), 0)


def test_numeric_column_normalizer_and_shape():
    col = fc.numeric_column("x", shape=(2, 2), normalizer_fn=lambda t: t * 2.0)
    out = dense_of([col], {"x": np.arange(8, dtype=np.float64).reshape(2, 2, 2)})
    assert out.dtype == np.float32 and out.tolist() == [[0, 2, 4, 6], [8, 10, 12, 14]]


def test_serialization_roundtrip_and_equality():
    v = fc.categorical_column_with_vocabulary_list("c", ["a", "b"], num_oov_buckets=1)
    emb = fc.embedding_column(v, 4, combiner="sqrtn")
    back = fc.deserialize_feature_column(fc.serialize_feature_column(emb))
    assert back == emb and hash(back) == hash(emb) and back.name == "c_embedding"
    assert fc.numeric_column("a") == fc.numeric_column("a")
    assert fc.numeric_column("a") != fc.numeric_column("b")


def test_dense_features_layer_names_and_output():
    emb = fc.embedding_column(fc.categorical_column_with_identity("i", 4), 2)
    layer = fc.DenseFeatures([fc.numeric_column("x"), emb], name="feats")
    with VariableStore().as_default():
        out = layer({"x": np.ones((3, 1)), "i": np.array([[0], [1], [3]])})
        names = [v.name for v in global_variables()]
    assert out.shape == (3, 3) and names == ["feats/i_embedding/embedding_weights"]
    with pytest.raises(ValueError, match="DenseColumn"):
        fc.DenseFeatures([fc.categorical_column_with_identity("i", 4)])


def test_shared_sources_are_transformed_once_per_batch(monkeypatch):
    calls = []
    for cls in (fc.HashedCategoricalColumn, fc.NumericColumn):
        orig = cls.transform_feature

        def counted(self, cache, _orig=orig):
            calls.append(self.name)
            return _orig(self, cache)
        monkeypatch.setattr(cls, "transform_feature", counted)
    h = fc.categorical_column_with_hash_bucket("h", 50)
    n = fc.numeric_column("n")
    cols = [fc.indicator_column(h), fc.embedding_column(h, 3), n,
            fc.bucketized_column(n, [0.0, 1.0])]
    out = dense_of(cols, {"h": np.array([["a"], ["b"]], object), "n": np.array([[0.5], [2.0]])})
    assert out.shape == (2, 50 + 3 + 1 + 3)
    assert sorted(calls) == ["h", "n"]


def test_parse_example_spec_round_trip_through_parse_example():
    from eagerflow.io import parse_example
    h = fc.categorical_column_with_hash_bucket("h", 20)
    v = fc.categorical_column_with_vocabulary_list("v", [3, 5, 7], dtype=ef.int64)
    cols = [fc.numeric_column("n", shape=(2,), default_value=(9.0, 9.0)),
            fc.indicator_column(h), fc.indicator_column(v)]
    spec = fc.make_parse_example_spec(cols)
    ex = [ef.train.Example(features=ef.train.Features(feature=f)).SerializeToString() for f in (
        {"n": ef.train.Feature(float_list=ef.train.FloatList(value=[1.0, 2.0])),
         "h": ef.train.Feature(bytes_list=ef.train.BytesList(value=[b"x", b"y"])),
         "v": ef.train.Feature(int64_list=ef.train.Int64List(value=[7]))},
        {"v": ef.train.Feature(int64_list=ef.train.Int64List(value=[3, 5]))})]
    parsed = parse_example(ex, spec)
    assert isinstance(parsed["h"], SparseTensor) and isinstance(parsed["v"], SparseTensor)
    direct = {"n": np.array([[1.0, 2.0], [9.0, 9.0]]),
              "h": np.array([["x", "y"], ["", ""]], object),
              "v": np.array([[7, -1], [3, 5]])}
    got, want = dense_of(cols, parsed), dense_of(cols, direct)
    np.testing.assert_array_equal(got, want)
    # ordered by column name: h_indicator (20), n (2), v_indicator (3)
    assert got[:, 20:22].tolist() == [[1.0, 2.0], [9.0, 9.0]]
    assert got[:, :20].sum(axis=1).tolist() == [2.0, 0.0]
    assert got[:, 22:].tolist() == [[0, 0, 1], [1, 1, 0]]
