"""eagerflow.data against tf.data's documented behaviour (expected values from the TF API
docs and kernels, cited per test)."""
import numpy as np
import pytest

import eagerflow.data as efd
from eagerflow.data import Dataset as D
from eagerflow.data import experimental
from eagerflow.io import InvalidArgumentError

INF, UNK = efd.INFINITE_CARDINALITY, efd.UNKNOWN_CARDINALITY


def test_cardinality_constants_and_doc_example():
    # tf.data.experimental.cardinality docs: range(42) -> 42; .repeat() -> INFINITE;
    # .filter(...) -> UNKNOWN; INFINITE_CARDINALITY = -1, UNKNOWN_CARDINALITY = -2.
    assert (INF, UNK) == (-1, -2)
    assert experimental.INFINITE_CARDINALITY == -1 and experimental.UNKNOWN_CARDINALITY == -2
    ds = D.range(42)
    assert experimental.cardinality(ds).numpy() == 42
    ds = ds.repeat()
    assert experimental.cardinality(ds) == INF
    assert ds.filter(lambda x: True).cardinality() == UNK


def test_cardinality_per_transformation():
    # TF kernels' CardinalityInternal (batch/take/skip/shard/repeat/zip/concatenate/window
    # _dataset_op.cc); map, shuffle, prefetch and cache keep the input's count.
    r = D.range(42)
    assert r.map(lambda x: x + 1).cardinality() == 42
    assert r.map(lambda x: x, num_parallel_calls=2).cardinality() == 42
    assert r.shuffle(10).prefetch(2).cache().cardinality() == 42
    assert r.batch(5).cardinality() == 9 and r.batch(5, drop_remainder=True).cardinality() == 8
    assert r.padded_batch(4).cardinality() == 11
    assert r.take(10).cardinality() == 10 and r.take(100).cardinality() == 42
    assert r.take(-1).cardinality() == 42 and r.repeat().take(7).cardinality() == 7
    assert r.skip(40).cardinality() == 2 and r.skip(50).cardinality() == 0
    assert r.skip(-1).cardinality() == 0 and r.repeat().skip(3).cardinality() == INF
    assert r.shard(5, 1).cardinality() == 9 and r.shard(5, 3).cardinality() == 8
    assert r.repeat(3).cardinality() == 126 and r.repeat(0).cardinality() == 0
    assert D.range(0).repeat().cardinality() == 0
    assert r.filter(lambda x: True).repeat().cardinality() == INF  # count < 0, n != 0
    assert r.filter(lambda x: True).repeat(2).cardinality() == UNK
    assert D.zip((D.range(3), D.range(5))).cardinality() == 3
    assert D.zip((r.repeat(), D.range(5))).cardinality() == 5
    assert D.zip((r.filter(lambda x: True), D.range(5))).cardinality() == UNK
    assert r.concatenate(D.range(3)).cardinality() == 45
    assert r.filter(lambda x: True).concatenate(r.repeat()).cardinality() == INF
    assert r.concatenate(r.filter(lambda x: True)).cardinality() == UNK
    assert D.range(7).window(3, 2).cardinality() == 4
    assert D.range(7).window(3, 2, drop_remainder=True).cardinality() == 3
    assert r.enumerate().cardinality() == 42
    assert r.flat_map(lambda x: D.range(x)).cardinality() == UNK
    assert r.batch(2).unbatch().cardinality() == UNK


def test_len_and_bool():
    # Dataset.__len__: the cardinality, else TypeError("The dataset is infinite." /
    # "The dataset length is unknown."); __bool__ is always True.
    assert len(D.range(10).batch(3)) == 4
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(D.range(3).repeat())
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(D.range(3).filter(lambda x: True))
    assert bool(D.range(0)) and bool(D.range(3).filter(lambda x: True))


def test_as_numpy_iterator_gives_numpy_scalars_and_bytes():
    # as_numpy_iterator yields each component's .numpy(): a NumPy scalar for a scalar
    # numeric tensor, bytes for a scalar string (docs: [1, 2, 3] prints 1 2 3).
    words = [w.decode() for w in D.from_tensor_slices(["a", "b"]).as_numpy_iterator()]
    assert words == ["a", "b"]
    vals = list(D.from_tensor_slices({"a": ([1, 2], [3, 4]), "b": [5, 6]}).as_numpy_iterator())
    assert vals == [{"a": (1, 3), "b": 5}, {"a": (2, 4), "b": 6}]
    assert isinstance(vals[0]["b"], np.int32)  # TF: Python ints are int32
    assert not isinstance(vals[0]["b"], np.ndarray)
    rows = list(D.from_tensor_slices(np.eye(2, dtype=np.float32)).as_numpy_iterator())
    assert isinstance(rows[0], np.ndarray) and rows[0].shape == (2,)


def test_zip_of_one_dataset_and_datasets_keyword():
    # Dataset.zip(*args, datasets=None): one arg -> datasets = args[0], so zip(ds) has
    # ds's own elements; zip(datasets=(a, b)) == zip(a, b).
    assert [int(x) for x in D.zip(D.range(3))] == [0, 1, 2]
    pairs = [(int(a), int(b)) for a, b in D.zip(datasets=(D.range(2), D.range(5, 7)))]
    assert pairs == [(0, 5), (1, 6)]
    with pytest.raises(TypeError, match="at least one dataset"):
        D.zip()


def test_unbatch_of_scalar_components_is_a_value_error_at_construction():
    # unbatch_op.py: ValueError("Cannot unbatch an input with scalar components.")
    with pytest.raises(ValueError, match="Cannot unbatch an input with scalar components."):
        D.range(3).unbatch()


def test_scan_take_while_unique_get_single_element():
    # Dataset.scan docs: range(10).scan(0, lambda s, i: (s + i, s)) -> running totals
    # before each element: [0, 0, 1, 3, 6, 10, 15, 21, 28, 36].
    ds = D.range(10).scan(np.int64(0), lambda state, i: (state + i, state))
    assert [int(x) for x in ds] == [0, 0, 1, 3, 6, 10, 15, 21, 28, 36]
    assert ds.cardinality() == 10
    # scan passes a tuple element packed, as its second argument
    ds = D.zip((D.range(3), D.range(3))).scan(np.int64(0), lambda s, ab: (s + ab[1], s))
    assert [int(x) for x in ds] == [0, 0, 1]
    # take_while docs: range(10).take_while(lambda x: x < 5) -> [0, 1, 2, 3, 4]
    assert [int(x) for x in D.range(10).take_while(lambda x: x < 5)] == [0, 1, 2, 3, 4]
    assert D.range(10).take_while(lambda x: x < 5).cardinality() == UNK
    # unique docs: [1, 37, 2, 37, 2, 1] -> [1, 37, 2]; strings keep first occurrences
    vals = D.from_tensor_slices([1, 37, 2, 37, 2, 1]).unique()
    assert [int(x) for x in vals] == [1, 37, 2]
    strs = D.from_tensor_slices(["b", "a", "b"]).unique().as_numpy_iterator()
    assert list(strs) == [b"b", b"a"]
    # get_single_element: the element; InvalidArgumentError "Dataset was empty." /
    # "Dataset had more than one element." (dataset_ops.cc)
    assert int(D.range(5).skip(4).get_single_element()) == 4
    assert int(experimental.get_single_element(D.from_tensors(7))) == 7
    with pytest.raises(InvalidArgumentError, match="Dataset was empty."):
        D.range(0).get_single_element()
    with pytest.raises(InvalidArgumentError, match="Dataset had more than one element."):
        D.range(2).get_single_element()


def test_group_by_window():
    # Dataset.group_by_window docs: range(10), key x % 2, window_size 5, batch(5)
    # -> [0 2 4 6 8], [1 3 5 7 9].
    ds = D.range(10).group_by_window(key_func=lambda x: x % 2,
                                     reduce_func=lambda key, d: d.batch(5), window_size=5)
    assert [b.tolist() for b in ds] == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]
    # group_by_window_dataset_op.cc: a full window is emitted at once; at the end of
    # input partial groups flush from std::map, i.e. ascending key.
    ds = D.from_tensor_slices([5, 3, 5, 4, 1]).group_by_window(
        lambda x: x, lambda key, d: d.batch(10), window_size=2)
    assert [b.tolist() for b in ds] == [[5, 5], [1], [3], [4]]
    # reduce_func gets the int64 key; window_size_func sizes windows per key
    ds = D.range(6).apply(experimental.group_by_window(
        lambda x: x % 2, lambda key, d: d.batch(3).map(lambda b: (key, b)),
        window_size_func=lambda key: key + 1))
    assert [(int(k), b.tolist()) for k, b in ds] == [(0, [0]), (0, [2]), (1, [1, 3]),
                                                     (0, [4]), (1, [5])]
    with pytest.raises(InvalidArgumentError, match="Window size must be greater than zero"):
        list(D.range(3).group_by_window(lambda x: x, lambda k, d: d, window_size=0))
    with pytest.raises(ValueError):
        D.range(3).group_by_window(lambda x: x, lambda k, d: d)


def test_bucket_by_sequence_length_doc_example():
    # tf.data.experimental.bucket_by_sequence_length docs (buckets [0,3), [3,5), [5,inf),
    # batch size 2).
    elements = [[0], [1, 2, 3, 4], [5, 6, 7], [7, 8, 9, 10, 11], [13, 14, 15, 16, 19, 20],
                [21, 22]]
    ds = D.from_generator(lambda: iter(elements), "int64", output_shapes=[None])
    out = ds.apply(experimental.bucket_by_sequence_length(
        element_length_func=lambda elem: np.shape(elem)[0], bucket_boundaries=[3, 5],
        bucket_batch_sizes=[2, 2, 2]))
    assert [b.tolist() for b in out] == [[[1, 2, 3, 4], [5, 6, 7, 0]],
                                         [[7, 8, 9, 10, 11, 0], [13, 14, 15, 16, 19, 20]],
                                         [[0, 0], [21, 22]]]
    # pad_to_bucket_boundary: unknown dims padded to the bucket's boundary - 1 (TF's
    # batching_fn: none_filler = bucket_boundary - 1); buckets [0,2) [2,5) [5,7) [7,inf):
    # [0] -> bucket 0 (pad to 1), [21, 22] -> bucket 1 (pad to 4), both flushed at the end
    out = ds.bucket_by_sequence_length(lambda e: np.shape(e)[0], [2, 5, 7], [2, 2, 2, 2],
                                       pad_to_bucket_boundary=True, padding_values=-1)
    assert [b.tolist() for b in out] == [[[1, 2, 3, 4], [5, 6, 7, -1]],
                                         [[7, 8, 9, 10, 11, -1], [13, 14, 15, 16, 19, 20]],
                                         [[0]], [[21, 22, -1, -1]]]
    too_long = D.from_generator(lambda: iter([[1] * 9]), "int64", output_shapes=[None])
    with pytest.raises(InvalidArgumentError, match="pad_to_bucket_boundary"):
        list(too_long.bucket_by_sequence_length(len, [2, 5], [1, 1, 1],
                                                pad_to_bucket_boundary=True))
    with pytest.raises(ValueError, match="len\\(bucket_batch_sizes\\)"):
        ds.bucket_by_sequence_length(len, [3, 5], [2, 2])


def test_rebatch():
    # Dataset.rebatch docs: range(6).batch(2).rebatch(3) -> [0,1,2] [3,4,5]; a list of
    # sizes is cycled; drop_remainder drops the short final batch.
    assert [b.tolist() for b in D.range(6).batch(2).rebatch(3)] == [[0, 1, 2], [3, 4, 5]]
    assert [b.tolist() for b in D.range(8).batch(4).rebatch([2, 1])] == \
        [[0, 1], [2], [3, 4], [5], [6, 7]]
    assert [b.tolist() for b in D.range(7).batch(2).rebatch(3, drop_remainder=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    d = next(iter(D.from_tensor_slices({"x": np.arange(4)}).batch(3).rebatch(2)))
    assert d["x"].tolist() == [0, 1]


def test_elements_answer_numpy_as_eager_tensors_do():
    """TF2 loops call x.numpy() on every element: a NumPy scalar for a scalar (bytes for a
    string), an array otherwise; the elements stay NumPy arrays for everything else."""
    import eagerflow as ef
    got = [x.numpy() for x in D.range(3)]
    assert got == [0, 1, 2] and all(type(v) is np.int64 for v in got)
    words = [w.numpy() for w in D.from_tensor_slices(["a", "bc"])]
    assert words == [b"a", b"bc"]
    batch = next(iter(D.from_tensor_slices(
        {"x": np.arange(6.0).reshape(3, 2), "y": np.array([1, 2, 3])}).batch(2)))
    assert type(batch["x"].numpy()) is np.ndarray
    np.testing.assert_array_equal(batch["x"].numpy(), [[0.0, 1.0], [2.0, 3.0]])
    assert isinstance(batch["y"], np.ndarray) and (batch["y"] * 2).tolist() == [2, 4]
    assert float(ef.reduce_sum(ef.constant(batch["x"])).numpy()) == 6.0
    it = D.range(1).make_one_shot_iterator()
    assert it.get_next().numpy() == 0


def test_python_ints_become_int32_elements_as_in_tf():
    # tf.data converts Python values with convert_to_tensor: ints int32 (int64 when too
    # large), floats float32; Dataset.range stays int64 (its output_type default)
    assert D.from_tensor_slices([1, 2, 3]).element_spec.dtype == np.int32
    assert D.from_tensors(7).element_spec.dtype == np.int32
    assert D.from_tensor_slices([1, 2**40]).element_spec.dtype == np.int64
    assert D.from_tensor_slices([1.5]).element_spec.dtype == np.float32
    assert D.from_tensor_slices(np.array([1, 2], np.int64)).element_spec.dtype == np.int64
    assert D.range(3).element_spec.dtype == np.int64
