"""Sequence feature columns: per-step outputs, padding, lengths, gradients, parse specs,
export and errors (TF 2.x ``sequence_*`` columns / ``SequenceFeatures`` semantics)."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import kernels, saved_model
from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.io import parse_example
from eagerflow.io.parsing_config import VarLenFeature
from eagerflow.variables import VariableStore, global_variables
from eagerflow.feature_column.transform_ops import seq_dense, seq_unflatten
from tests.gradcheck import GradCase, run_case, to_numpy

_IND = np.array([[0, 0], [0, 2], [1, 1], [2, 3]], np.int64)
_SHAPE = np.array([3, 4], np.int64)
GRAD_CASES = [
    # [batch * time, dim] -> [batch, time, dim]
    GradCase(["fc_seq_unflatten"], lambda x, s: seq_unflatten(x, s),
             np.random.default_rng(0).standard_normal((6, 2)), np.array([3, 2], np.int64),
             order=2),
    # 4 values into (batch 3, 2 steps of shape (2,)), the rest default_value
    GradCase(["fc_seq_dense"], lambda i, v, s: seq_dense(i, v, s, default=0.5, shape=(2,),
                                                         key="k"),
             _IND, np.random.default_rng(1).standard_normal(4), _SHAPE),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_gradients(case):
    run_case(case)


def seq(rows, dtype=None):
    """A [batch, max_len] SparseTensor holding each row's sequence."""
    idx = [[b, t] for b, r in enumerate(rows) for t in range(len(r))]
    vals = np.array([v for r in rows for v in r], dtype=dtype)
    return SparseTensor(np.array(idx, np.int64).reshape(-1, 2), vals,
                        [len(rows), max((len(r) for r in rows), default=0)])


def run(features, columns):
    with VariableStore().as_default():
        x, n = fc.sequence_input_layer(features, columns)
    return to_numpy(x), to_numpy(n)


def arange_init(shape, dtype=None, partition_info=None):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def test_identity_embedding_per_step_padding_lengths_and_indexed_slices_gradient():
    col = fc.sequence_categorical_column_with_identity("follow_seq", 5)
    emb = fc.embedding_column(col, 2, initializer=arange_init)
    feats = {"follow_seq": seq([[1, 3], [4], []], np.int64)}
    table = np.arange(10, dtype=np.float32).reshape(5, 2)
    with VariableStore().as_default():
        with ef.GradientTape() as tape:
            x, n = fc.sequence_input_layer(feats, [emb])
            loss = ef.reduce_sum(x * ef.constant(np.arange(1, 13, dtype=np.float32)
                                                 .reshape(3, 2, 2)))
        var = global_variables()[0]
        grad = tape.gradient(loss, var)
    assert var.name == "sequence_input_layer/follow_seq_embedding/embedding_weights"
    assert emb.name == "follow_seq_embedding" and col.name == "follow_seq"
    assert x.shape == (3, 2, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(x), [[table[1], table[3]], [table[4], [0, 0]],
                                                [[0, 0], [0, 0]]])
    assert to_numpy(n).tolist() == [2, 1, 0] and to_numpy(n).dtype == np.int64
    assert isinstance(grad, ef.IndexedSlices)
    g = to_numpy(grad.to_dense())
    np.testing.assert_array_equal(g, [[0, 0], [1, 2], [0, 0], [3, 4], [5, 6]])
    # out-of-range ids: the non-sequence twin's rule (default_value or an error naming
    # the ids' range)
    with pytest.raises(ValueError, match=r"follow_seq: ids range over \[(7, 7|\?, \?)\], not "
                                         r"all in \[0, 5\)"):
        run({"follow_seq": seq([[7]], np.int64)}, [emb])
        kernels.check_errors()  # on the GPU the check is recorded on the device
    dflt = fc.embedding_column(fc.sequence_categorical_column_with_identity("s", 5, 0), 2,
                               initializer=arange_init)
    x, _ = run({"s": seq([[9, 2]], np.int64)}, [dflt])
    np.testing.assert_array_equal(x, [[table[0], table[2]]])


def test_hash_bucket_steps_use_tensorflow_ids():
    col = fc.sequence_categorical_column_with_hash_bucket("w", 3)
    x, n = run({"w": seq([["Hello", "TensorFlow"], ["2.x"]], object)},
               [fc.indicator_column(col)])
    # TF's ids: Hello -> 0, TensorFlow -> 2, 2.x -> 2
    assert x.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 0, 1], [0, 0, 0]]]
    assert n.tolist() == [2, 1]
    ints = fc.sequence_categorical_column_with_hash_bucket("i", 1000, dtype=ef.int64)
    twin = fc.categorical_column_with_hash_bucket("i", 1000, dtype=ef.int64)
    cache = fc.FeatureTransformationCache({"i": seq([[5, 17, 5]], np.int64)})
    ids = ints.get_sparse_tensors(cache).id_tensor
    assert to_numpy(ids.dense_shape).tolist() == [1, 3, 1]  # [batch, time, 1], as TF
    assert to_numpy(ids.indices).tolist() == [[0, 0, 0], [0, 1, 0], [0, 2, 0]]
    assert to_numpy(ids.values).tolist() == \
        to_numpy(twin.get_sparse_tensors(cache).id_tensor.values).tolist()


def test_vocabulary_list_and_file_steps(tmp_path):
    v = fc.sequence_categorical_column_with_vocabulary_list("c", ["a", "b", "c"])
    x, n = run({"c": seq([["b", "zz", "a"], ["c"]], object)}, [fc.indicator_column(v)])
    # an out-of-vocabulary step (-1) adds nothing but still counts in the length (as TF)
    assert x.tolist() == [[[0, 1, 0], [0, 0, 0], [1, 0, 0]], [[0, 0, 1], [0, 0, 0], [0, 0, 0]]]
    assert n.tolist() == [3, 1]
    oov = fc.sequence_categorical_column_with_vocabulary_list("c", ["a"], num_oov_buckets=2)
    assert oov.num_buckets == 3
    x, _ = run({"c": seq([["a", "q"]], object)}, [fc.indicator_column(oov)])
    assert x[0, 0].tolist() == [1, 0, 0] and x[0, 1, 1:].sum() == 1
    f = tmp_path / "vocab.txt"
    f.write_text("x\ny\nz\n")
    vf = fc.sequence_categorical_column_with_vocabulary_file("c", str(f), vocabulary_size=2)
    # dense inputs are sequences padded with '' (dropped, as the non-sequence columns do)
    x, n = run({"c": np.array([["y", "x"], ["x", ""]], object)}, [fc.indicator_column(vf)])
    assert x.tolist() == [[[0, 1], [1, 0]], [[1, 0], [0, 0]]] and n.tolist() == [2, 1]


def test_sequence_numeric_steps_shapes_padding_and_normalizer():
    col = fc.sequence_numeric_column("t")
    x, n = run({"t": seq([[1.0, 2.0], [3.0]], np.float32)}, [col])
    assert x.shape == (2, 2, 1) and x.tolist() == [[[1], [2]], [[3], [0]]]
    assert n.tolist() == [2, 1]
    # a [batch, 4] feature holds 2 steps of shape (2,); padding is default_value
    pair = fc.sequence_numeric_column("p", shape=(2,), default_value=9.0)
    x, n = run({"p": seq([[1, 2, 3, 4], [5, 6]], np.float32)}, [pair])
    assert x.tolist() == [[[1, 2], [3, 4]], [[5, 6], [9, 9]]] and n.tolist() == [2, 1]
    # steps of shape (2, 2) are flattened to 4 values on the last axis
    sq = fc.sequence_numeric_column("q", shape=(2, 2), normalizer_fn=lambda v: v * 10.0)
    x, n = run({"q": seq([[1, 2, 3, 4]], np.int64)}, [sq])
    assert x.shape == (1, 1, 4) and x.tolist() == [[[10, 20, 30, 40]]] and n.tolist() == [1]
    with pytest.raises(ValueError, match="sequence_numeric_column p: .* not a multiple of 2"):
        run({"p": seq([[1, 2, 3]], np.float32)}, [pair])
    with pytest.raises(ValueError, match="sequence_numeric_column t: the feature must be a "
                                         "SparseTensor"):
        run({"t": np.ones((2, 3))}, [col])
    with pytest.raises(ValueError, match="sequence_numeric_column t: the feature must be "
                                         "numeric"):
        run({"t": seq([["a"]], object)}, [col])


def test_columns_ordered_by_name_and_concatenated_on_the_last_axis():
    e = fc.embedding_column(fc.sequence_categorical_column_with_identity("b_ids", 4), 2,
                            initializer=arange_init)
    i = fc.indicator_column(fc.sequence_categorical_column_with_identity("c_ids", 3))
    a = fc.sequence_numeric_column("a_num")
    feats = {"b_ids": seq([[1, 2], [3]], np.int64), "c_ids": seq([[0, 2], [1]], np.int64),
             "a_num": seq([[0.5, 0.25], [7.0]], np.float32)}
    with VariableStore().as_default():
        layer = fc.SequenceFeatures([i, e, a], name="seq")
        x, n = layer(feats)
        names = [v.name for v in global_variables()]
    assert names == ["seq/b_ids_embedding/embedding_weights"]
    x = to_numpy(x)
    assert x.shape == (2, 2, 1 + 2 + 3) and to_numpy(n).tolist() == [2, 1]
    assert x[0].tolist() == [[0.5, 2, 3, 1, 0, 0], [0.25, 4, 5, 0, 0, 1]]
    assert x[1].tolist() == [[7.0, 6, 7, 0, 1, 0], [0, 0, 0, 0, 0, 0]]


def test_mismatched_lengths_and_time_dimensions_are_errors():
    a = fc.indicator_column(fc.sequence_categorical_column_with_identity("a", 3))
    b = fc.sequence_numeric_column("b")
    # compared on the device: the difference's range (b's lengths minus a's) is named
    with pytest.raises(ValueError, match="sequence lengths of columns 'a_indicator' and 'b' "
                                         r"differ \(by (-1 to 1|\? to \?) steps\)"):
        # the same time dimension (2), lengths [2, 1] against [1, 2]
        run({"a": seq([[0, 1], [2]], np.int64), "b": seq([[1.0], [2.0, 3.0]], np.float32)},
            [a, b])
        kernels.check_errors()
    wide = SparseTensor(np.array([[0, 0], [1, 0]]), np.array([1.0, 2.0], np.float32), [2, 3])
    with pytest.raises(ValueError, match="time dimension"):
        run({"a": seq([[0], [2]], np.int64), "b": wide}, [a, b])
    with pytest.raises(ValueError, match="Batch size"):
        run({"a": seq([[0], [2]], np.int64), "b": seq([[1.0]], np.float32)}, [a, b])


def test_empty_sequences():
    e = fc.embedding_column(fc.sequence_categorical_column_with_identity("s", 4), 3)
    n = fc.sequence_numeric_column("t")
    empty = {"s": seq([[], []], np.int64), "t": seq([[], []], np.float32)}
    x, lengths = run(empty, [e, n])
    assert x.shape == (2, 0, 4) and lengths.tolist() == [0, 0]
    x, lengths = run({"s": seq([[], [2]], np.int64), "t": seq([[], [1.0]], np.float32)}, [e, n])
    assert x.shape == (2, 1, 4) and lengths.tolist() == [0, 1]
    assert x[0].tolist() == [[0, 0, 0, 0]] and x[1, 0, 3] == 1.0


def test_parse_spec_round_trip_through_parse_example():
    follow = fc.sequence_categorical_column_with_identity("follow_seq", 10)
    uid = fc.sequence_categorical_column_with_hash_bucket("uid", 7, dtype=ef.int64)
    dwell = fc.sequence_numeric_column("dwell")
    cols = [fc.embedding_column(follow, 2, initializer=arange_init),
            fc.indicator_column(uid), dwell]
    spec = fc.make_parse_example_spec(cols)
    # the seed's spec for follow_seq / uid
    assert spec == {"follow_seq": VarLenFeature(np.dtype(np.int64)),
                    "uid": VarLenFeature(np.dtype(np.int64)),
                    "dwell": VarLenFeature(np.dtype(np.float32))}

    def ex(f, u, d):
        return ef.train.Example(features=ef.train.Features(feature={
            "follow_seq": ef.train.Feature(int64_list=ef.train.Int64List(value=f)),
            "uid": ef.train.Feature(int64_list=ef.train.Int64List(value=u)),
            "dwell": ef.train.Feature(float_list=ef.train.FloatList(value=d))}))\
            .SerializeToString()
    parsed = parse_example([ex([3, 1, 4], [5, 6, 7], [0.5, 1.5, 2.5]), ex([9], [5], [4.0]),
                            ex([], [], [])], spec)
    assert isinstance(parsed["follow_seq"], SparseTensor)
    got_x, got_n = run(parsed, cols)
    direct = {"follow_seq": seq([[3, 1, 4], [9], []], np.int64),
              "uid": seq([[5, 6, 7], [5], []], np.int64),
              "dwell": seq([[0.5, 1.5, 2.5], [4.0], []], np.float32)}
    want_x, want_n = run(direct, cols)
    np.testing.assert_array_equal(got_x, want_x)
    assert got_n.tolist() == want_n.tolist() == [3, 1, 0]
    assert got_x.shape == (3, 3, 1 + 2 + 7)  # dwell, follow_seq_embedding, uid_indicator
    assert got_x[0, :, 0].tolist() == [0.5, 1.5, 2.5]
    assert got_x[1, 0, 1:3].tolist() == [18, 19] and not got_x[1, 1:].any()
    assert not got_x[2].any()


def test_export_round_trip_serves_other_batches_and_lengths(tmp_path):
    follow = fc.sequence_categorical_column_with_identity("follow_seq", 10)
    cols = [fc.embedding_column(follow, 3), fc.sequence_numeric_column("dwell")]
    spec = fc.make_parse_example_spec(cols)

    def ex(n):
        return ef.train.Example(features=ef.train.Features(feature={
            "follow_seq": ef.train.Feature(int64_list=ef.train.Int64List(
                value=[(n * 3 + k) % 10 for k in range(n)])),
            "dwell": ef.train.Feature(float_list=ef.train.FloatList(
                value=[float(k) for k in range(n)]))})).SerializeToString()

    store = VariableStore()

    @ef.function(input_signature=[ef.TensorSpec([None], ef.string, name="examples")],
                 sample_inputs=lambda b: [np.array([ex(i % b) for i in range(b)], object)])
    def model(examples):
        with store.as_default():
            x, n = fc.sequence_input_layer(saved_model.parse_example_op(examples, spec), cols)
        return {"x": x, "n": n}

    batch = np.array([ex(k) for k in (2, 0, 9, 4)], object)  # other batch and max length
    want = model(ef.constant(batch))
    sig = saved_model.load(saved_model.save(model, str(tmp_path / "1"))) \
        .signatures["serving_default"]
    got = sig(examples=batch)
    assert got["x"].shape == (4, 9, 4)
    np.testing.assert_allclose(got["x"], to_numpy(want["x"]), rtol=1e-6)
    assert got["n"].tolist() == to_numpy(want["n"]).tolist() == [2, 0, 9, 4]


def test_bad_arguments_and_wrong_layers():
    s = fc.sequence_categorical_column_with_identity("s", 4)
    with pytest.raises(ValueError, match="num_buckets 0 < 1"):
        fc.sequence_categorical_column_with_identity("s", 0)
    with pytest.raises(ValueError, match="hash_bucket_size must be at least 1"):
        fc.sequence_categorical_column_with_hash_bucket("h", 0)
    with pytest.raises(ValueError, match="Duplicate keys"):
        fc.sequence_categorical_column_with_vocabulary_list("v", ["a", "a"])
    with pytest.raises(ValueError, match="shape dimensions must be greater than 0"):
        fc.sequence_numeric_column("n", shape=(0,))
    with pytest.raises(ValueError, match="dtype must be convertible to float"):
        fc.sequence_numeric_column("n", dtype=object)
    with pytest.raises(ValueError, match="default_value must be a scalar"):
        fc.sequence_numeric_column("n", default_value=[1.0])
    with pytest.raises(TypeError, match="normalizer_fn must be a callable"):
        fc.sequence_numeric_column("n", normalizer_fn=3)
    with pytest.raises(ValueError, match="key must be a non-empty string"):
        fc.sequence_numeric_column("")
    feats = {"s": seq([[1]], np.int64)}
    for wrap in (fc.embedding_column(s, 2), fc.indicator_column(s)):
        with pytest.raises(ValueError, match=f"In .*: {wrap.name}. categorical_column must not "
                                             "be of type SequenceCategoricalColumn"):
            with VariableStore().as_default():
                fc.input_layer(feats, [wrap])
    flat = fc.embedding_column(fc.categorical_column_with_identity("s", 4), 2)
    with pytest.raises(ValueError, match="s_embedding. categorical_column must be of type "
                                         "SequenceCategoricalColumn"):
        run(feats, [flat])
    with pytest.raises(ValueError, match="must be of type SequenceDenseColumn"):
        run(feats, [fc.numeric_column("s")])
    with pytest.raises(ValueError, match="must be of type SequenceDenseColumn"):
        fc.SequenceFeatures([s])
    with pytest.raises(ValueError, match="must be a _DenseColumn"):
        with VariableStore().as_default():
            fc.input_layer({"n": seq([[1.0]], np.float32)}, [fc.sequence_numeric_column("n")])
    with pytest.raises(ValueError, match="linear_model: s is a sequence column"):
        with VariableStore().as_default():
            fc.linear_model(feats, [s])


def test_serialization_equality_and_shared_sequence_embeddings():
    cols = [fc.sequence_categorical_column_with_vocabulary_list("v", ["a", "b"]),
            fc.sequence_numeric_column("n", shape=2, default_value=1),
            fc.embedding_column(fc.sequence_categorical_column_with_hash_bucket("h", 9), 4)]
    for c in cols:
        back = fc.deserialize_feature_column(fc.serialize_feature_column(c))
        assert back == c and hash(back) == hash(c) and back.name == c.name
    assert cols[0] != fc.categorical_column_with_vocabulary_list("v", ["a", "b"])
    a = fc.sequence_categorical_column_with_identity("a", 5)
    b = fc.sequence_categorical_column_with_identity("b", 5)
    sa, sb = fc.shared_embedding_columns([a, b], 2, initializer=arange_init)
    with VariableStore().as_default():
        x, n = fc.sequence_input_layer({"a": seq([[1, 2]], np.int64),
                                        "b": seq([[2, 4]], np.int64)}, [sb, sa])
        names = [v.name for v in global_variables()]
    assert names == ["sequence_input_layer/a_b_shared_embedding/embedding_weights"]
    assert to_numpy(x).tolist() == [[[2, 3, 4, 5], [4, 5, 8, 9]]] and to_numpy(n).tolist() == [2]


def test_untested_error_paths():
    # a rank-1 sparse feature has no time dimension (seq_ids3d), named by the column
    ids = fc.indicator_column(fc.sequence_categorical_column_with_identity("s", 4))
    flat = SparseTensor(np.array([[0], [1]], np.int64), np.array([1, 2], np.int64), [3])
    with pytest.raises(ValueError, match=r"sequence categorical column s: the feature must "
                                         r"have rank >= 2 .*dense_shape \[3\]"):
        run({"s": flat}, [ids])
    # [batch, time, 3] steps cannot hold shape (2,) (seq_dense)
    pair = fc.sequence_numeric_column("p", shape=(2,))
    steps3 = SparseTensor(np.array([[0, 0, 0], [0, 0, 2], [1, 0, 1]], np.int64),
                          np.array([1.0, 2.0, 3.0], np.float32), [2, 1, 3])
    with pytest.raises(ValueError, match=r"sequence_numeric_column p: the feature's step "
                                         r"dimensions \[3\] do not hold shape \(2,\) "
                                         r"\(dense_shape \[2, 1, 3\]\)"):
        run({"p": steps3}, [pair])
    # normalizer_fn gets the values Tensor and must return one
    host_fn = fc.sequence_numeric_column("t", normalizer_fn=lambda v: to_numpy(v) * 2)
    with pytest.raises(ValueError, match="sequence_numeric_column t: normalizer_fn must "
                                         "return a Tensor, got ndarray"):
        run({"t": seq([[1.0]], np.float32)}, [host_fn])
    # in a SparseTensor -1 is an out-of-range id (TF), not a missing entry as in dense input
    with pytest.raises(ValueError, match=r"identity s: ids range over \[(-1, 2|\?, \?)\]"):
        run({"s": seq([[2, -1]], np.int64)}, [ids])
        kernels.check_errors()


def test_sequence_features_layer_reuses_its_variables():
    col = fc.embedding_column(fc.sequence_categorical_column_with_identity("a", 5), 2)
    one, two = fc.SequenceFeatures([col]), fc.SequenceFeatures([col])
    feats = {"a": seq([[1, 3], [4]], np.int64)}
    with VariableStore().as_default():
        first, n1 = one(feats)
        again, n2 = one(feats)
        two(feats)
        names = [v.name for v in global_variables()]
    np.testing.assert_array_equal(to_numpy(first), to_numpy(again))
    assert to_numpy(n1).tolist() == to_numpy(n2).tolist() == [2, 1]
    assert names == ["sequence_features/a_embedding/embedding_weights",
                     "sequence_features_1/a_embedding/embedding_weights"]
