import numpy as np
import pytest

from eagerflow.data import AUTOTUNE, Dataset, TensorSpec
from eagerflow.io import InvalidArgumentError, OutOfRangeError

D = Dataset


def ints(ds):
    return [int(x) for x in ds]


def test_sources_and_structure():
    assert ints(D.range(5)) == [0, 1, 2, 3, 4]
    assert ints(D.range(2, 10, 3)) == [2, 5, 8]
    assert D.range(3).element_spec == TensorSpec((), "int64")
    assert [x.tolist() for x in D.from_tensors([1, 2])] == [[1, 2]]
    ds = D.from_tensor_slices({"a": np.arange(3), "b": (np.ones((3, 2)), ["x", "y", "z"])})
    els = list(ds)
    assert els[1]["a"] == 1 and els[1]["b"][0].shape == (2,) and els[2]["b"][1] == b"z"
    assert ds.element_spec["b"][0] == TensorSpec((2,), "float64")
    assert ds.element_spec["b"][1].dtype == np.dtype(object)
    with pytest.raises(ValueError, match="same size in dim 0"):
        D.from_tensor_slices((np.arange(3), np.arange(4)))
    assert D.from_tensor_slices([1.0, 2.0]).element_spec.dtype == np.float32


def test_from_generator_reruns_each_epoch_and_checks_shapes():
    calls = []

    def gen(n):
        calls.append(n)
        for i in range(n):
            yield i, np.full(2, i, np.float32)
    ds = D.from_generator(gen, ("int64", "float32"), ((), (2,)), args=(3,))
    assert [int(a) for a, _ in ds] == [0, 1, 2]
    assert len(list(ds.repeat(2))) == 6 and calls == [3, 3, 3]
    bad = D.from_generator(lambda: iter([[1, 2, 3]]), "int64", [2])
    with pytest.raises(InvalidArgumentError, match="not compatible with output_shapes"):
        list(bad)


def test_map_unpacks_tuples_filter_flat_map_zip_concat():
    ds = D.zip((D.range(3), D.range(10, 13)))
    assert [int(x) for x in ds.map(lambda a, b: a + b)] == [10, 12, 14]
    assert [int(d["x"]) for d in D.range(3).map(lambda x: {"x": x * 3})] == [0, 3, 6]
    assert ints(D.range(10).filter(lambda x: x % 3 == 0)) == [0, 3, 6, 9]
    with pytest.raises(InvalidArgumentError, match="scalar bool"):
        list(D.range(3).filter(lambda x: np.array([True, False])))
    assert ints(D.range(3).flat_map(lambda x: D.range(x))) == [0, 0, 1]
    assert ints(D.range(2).concatenate(D.range(5, 7))) == [0, 1, 5, 6]
    with pytest.raises(TypeError, match="incompatible"):
        D.range(2).concatenate(D.from_tensors(1.0))
    z = D.zip({"a": D.range(2), "b": D.range(5)})
    assert [(int(e["a"]), int(e["b"])) for e in z] == [(0, 0), (1, 1)]
    assert [(int(i), int(x)) for i, x in D.range(5, 7).enumerate(3)] == [(3, 5), (4, 6)]


def test_take_skip_shard_repeat():
    assert ints(D.range(5).take(2)) == [0, 1]
    assert ints(D.range(5).take(-1)) == [0, 1, 2, 3, 4]
    assert ints(D.range(5).skip(3)) == [3, 4]
    assert ints(D.range(5).skip(-1)) == []
    assert ints(D.range(10).shard(3, 1)) == [1, 4, 7]
    for bad in [(0, 0), (3, 3), (3, -1)]:
        with pytest.raises(InvalidArgumentError):
            D.range(3).shard(*bad)
    shards = [ints(D.range(23).shard(4, i)) for i in range(4)]
    assert sorted(sum(shards, [])) == list(range(23))
    assert ints(D.range(2).repeat(3)) == [0, 1] * 3
    assert ints(D.range(2).repeat(0)) == []
    assert ints(D.range(2).repeat().take(5)) == [0, 1, 0, 1, 0]
    assert ints(D.range(0).repeat()) == []  # an empty epoch ends an infinite repeat


def test_batch_orders_and_remainders():
    assert [b.tolist() for b in D.range(5).batch(2).repeat(2)] == \
        [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]]
    assert [b.tolist() for b in D.range(5).repeat(2).batch(2)] == \
        [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]
    assert [b.tolist() for b in D.range(5).batch(2, drop_remainder=True)] == [[0, 1], [2, 3]]
    assert D.range(5).batch(2).element_spec.shape == (None,)
    assert D.range(5).batch(2, True).element_spec.shape == (2,)
    b = next(iter(D.from_tensor_slices({"s": ["a", "b", "c"], "v": np.eye(3)}).batch(2)))
    assert b["s"].tolist() == [b"a", b"b"] and b["v"].shape == (2, 3)
    ragged = D.from_generator(lambda: iter([[1, 2], [1, 2, 3]]), "int64")
    with pytest.raises(InvalidArgumentError, match=r"Cannot batch tensors with different shapes "
                       r"in component 0. First element had shape \[2\] and element 1 had shape \[3\]"):
        list(ragged.batch(2))
    assert [u.tolist() for u in D.range(5).batch(2).unbatch()] == [0, 1, 2, 3, 4]


def test_padded_batch():
    ds = D.from_generator(lambda: iter([[1], [2, 2], [3, 3, 3]]), "int64")
    assert [b.tolist() for b in ds.padded_batch(2, padded_shapes=[None])] == \
        [[[1, 0], [2, 2]], [[3, 3, 3]]]
    assert [b.tolist() for b in ds.padded_batch(3, padded_shapes=[4], padding_values=-1)] == \
        [[[1, -1, -1, -1], [2, 2, -1, -1], [3, 3, 3, -1]]]
    with pytest.raises(InvalidArgumentError, match="larger than the padded size 2"):
        list(ds.padded_batch(3, padded_shapes=[2]))
    s = D.from_generator(lambda: iter([(["a"], 1), (["b", "c"], 2)]), ("string", "int64"))
    (strs, nums), = list(s.padded_batch(2))
    assert strs.tolist() == [[b"a", b""], [b"b", b"c"]] and nums.tolist() == [1, 2]
    spec = ds.padded_batch(2, padded_shapes=[5], drop_remainder=True).element_spec
    assert spec.shape == (2, 5)


def test_window_apply_reduce():
    wins = [[int(x) for x in w] for w in D.range(7).window(3, shift=2)]
    assert wins == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    wins = [[int(x) for x in w] for w in D.range(7).window(3, 2, 2, drop_remainder=True)]
    assert wins == [[0, 2, 4], [2, 4, 6]]
    assert int(D.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10
    assert ints(D.range(4).apply(lambda d: d.skip(2))) == [2, 3]


def test_tf1_iterators():
    it = D.range(2).make_one_shot_iterator()
    assert int(it.get_next()) == 0 and int(it.get_next()) == 1
    with pytest.raises(OutOfRangeError):
        it.get_next()
    it = D.range(2).make_initializable_iterator()
    with pytest.raises(RuntimeError, match="initialize"):
        it.get_next()
    for _ in range(2):
        it.initializer()
        assert [int(it.get_next()), int(it.get_next())] == [0, 1]


def test_list_files(tmp_path):
    for n in "cab":
        (tmp_path / f"{n}.txt").write_text(n)
    fixed = [f.item().decode()[-5:] for f in D.list_files(str(tmp_path / "*.txt"), shuffle=False)]
    assert fixed == ["a.txt", "b.txt", "c.txt"]
    sh = D.list_files(str(tmp_path / "*.txt"), seed=3)
    orders = {tuple(f.item() for f in sh) for _ in range(12)}
    assert len(orders) > 1 and all(sorted(o) == sorted(next(iter(orders))) for o in orders)
    with pytest.raises(InvalidArgumentError, match="no files matched"):
        D.list_files(str(tmp_path / "*.nope"))


def test_interleave_exact_orders():
    ds = D.range(1, 6)

    def g(n):
        return lambda x: D.from_tensors(x).repeat(n)
    order = "".join(str(int(v)) for v in ds.interleave(g(6), cycle_length=2, block_length=4))
    assert order == "1111" "2222" "11" "22" "3333" "4444" "33" "44" "5555" "55"
    for par in (None, 4):
        order = "".join(str(int(v)) for v in ds.interleave(
            g(3), cycle_length=4, block_length=2, num_parallel_calls=par))
        assert order == "11" "22" "33" "44" "1" "2" "3" "4" "55" "5"
    assert ints(ds.interleave(g(2), cycle_length=1)) == ints(ds.flat_map(g(2)))
    assert ints(D.range(3).interleave(lambda x: D.range(x), cycle_length=AUTOTUNE)) == [0, 0, 1]
