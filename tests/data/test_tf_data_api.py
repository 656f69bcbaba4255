"""tf.data APIs added after the fidelity audit: Options/with_options, sample_from_datasets,
choose_from_datasets, ignore_errors, assert_cardinality, get_next_as_optional and zip's
list check. Expected values come from the TF API docs and kernels cited per test."""
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import eagerflow.data as efd
from eagerflow.data import Dataset as D
from eagerflow.data import experimental
from eagerflow.errors import FailedPreconditionError, OpError
from eagerflow.io.errors import InvalidArgumentError
from tests.data.test_iterator_state import check_resume

INF, UNK = efd.INFINITE_CARDINALITY, efd.UNKNOWN_CARDINALITY


def ints(ds):
    return [int(x) for x in ds]


# -- tf.data.Options -------------------------------------------------------------------
def test_options_doc_example_and_defaults():
    # tf.data.Options docs: range(42).with_options(options with deterministic=False)
    # -> dataset.options().deterministic is False. Defaults (options.py): deterministic
    # None, auto_shard_policy AUTO; AutoShardPolicy OFF=-1 AUTO=0 FILE=1 DATA=2 HINT=3.
    options = efd.Options()
    assert options.deterministic is None
    options.deterministic = False
    ds = D.range(42).with_options(options)
    assert ds.options().deterministic is False
    assert ints(ds) == list(range(42)) and ds.cardinality() == 42
    P = experimental.AutoShardPolicy
    assert [P.OFF, P.AUTO, P.FILE, P.DATA, P.HINT] == [-1, 0, 1, 2, 3]
    fresh = efd.Options()
    assert fresh.experimental_distribute.auto_shard_policy is P.AUTO
    assert fresh.threading.private_threadpool_size is None
    assert fresh.threading.max_intra_op_parallelism is None
    assert D.range(3).options() == efd.Options()  # no with_options: all defaults


def test_options_aliases_and_namespaces():
    # options.py: experimental_deterministic / experimental_threading read and write
    # deterministic / threading; ThreadingOptions docs: threading.private_threadpool_size
    # = 10; OptimizationOptions docs: noop_elimination / apply_default_optimizations.
    o = efd.Options()
    o.experimental_deterministic = False
    assert o.deterministic is False and o.experimental_deterministic is False
    o.threading.private_threadpool_size = 10
    o.threading.max_intra_op_parallelism = 1
    assert o.experimental_threading.private_threadpool_size == 10
    t = efd.ThreadingOptions()
    t.private_threadpool_size = 3
    o.experimental_threading = t
    assert o.threading.private_threadpool_size == 3 and experimental.ThreadingOptions is \
        efd.ThreadingOptions
    o.experimental_optimization.noop_elimination = True
    o.experimental_optimization.apply_default_optimizations = False
    o.experimental_distribute.auto_shard_policy = experimental.AutoShardPolicy.OFF
    got = D.range(4).with_options(o).options()
    assert got.deterministic is False
    assert got.threading.private_threadpool_size == 3
    assert got.threading.max_intra_op_parallelism is None  # t replaced the whole namespace
    assert got.experimental_optimization.noop_elimination is True
    assert got.experimental_optimization.apply_default_optimizations is False
    assert got.experimental_distribute.auto_shard_policy == experimental.AutoShardPolicy.OFF
    assert got == o


def test_options_type_checks_and_unknown_names():
    # create_option: TypeError('Property "x" must be of type ...'); OptionsBase.__setattr__:
    # AttributeError("Cannot set the property foo on Options.").
    o = efd.Options()
    with pytest.raises(TypeError, match='Property "deterministic" must be of type'):
        o.deterministic = 1
    with pytest.raises(TypeError, match='Property "auto_shard_policy" must be of type'):
        o.experimental_distribute.auto_shard_policy = 1
    with pytest.raises(TypeError, match='Property "private_threadpool_size"'):
        o.threading.private_threadpool_size = "4"
    with pytest.raises(AttributeError, match="Cannot set the property foo on Options."):
        o.foo = 1
    with pytest.raises(AttributeError, match="Cannot set the property bar on ThreadingOptions"):
        o.threading.bar = 1
    with pytest.raises(TypeError, match="with_options: options must be a tf.data.Options"):
        D.range(3).with_options({"deterministic": False})


def test_options_returned_by_dataset_are_read_only():
    # OptionsBase.__setattr__ on options from Dataset.options(): ValueError.
    o = efd.Options()
    o.deterministic = True
    ds = D.range(3).with_options(o)
    got = ds.options()
    with pytest.raises(ValueError, match=r"Mutating `tf.data.Options\(\)` returned by "
                                         r"`tf.data.Dataset.options\(\)` has no effect"):
        got.deterministic = False
    with pytest.raises(ValueError, match="has no effect"):
        got.threading.private_threadpool_size = 2
    # the user's object stays mutable, and editing it later does not change the dataset
    o.deterministic = False
    assert ds.options().deterministic is True


def test_options_survive_transformations():
    # Options docs: "carried over to datasets created through tf.data transformations";
    # DatasetV2.__init__ merges the options of every input.
    o = efd.Options()
    o.deterministic = False
    o.threading.private_threadpool_size = 2
    base = D.range(10).with_options(o)
    derived = [
        base.map(lambda x: x + 1), base.map(lambda x: x, num_parallel_calls=2),
        base.filter(lambda x: x > 2), base.batch(3).unbatch(), base.shuffle(4, seed=1),
        base.repeat(2).take(5).skip(1), base.prefetch(2), base.cache(), base.shard(2, 0),
        base.interleave(lambda x: D.from_tensors(x), cycle_length=2),
        base.flat_map(lambda x: D.from_tensors(x)), base.enumerate(), base.window(2),
        base.padded_batch(2), base.scan(np.int64(0), lambda s, x: (s + x, s)),
        base.unique(), base.take_while(lambda x: x < 5), base.apply(lambda d: d.skip(1)),
        D.zip((D.range(3), base)), D.range(2).concatenate(base),
        base.ignore_errors(), base.assert_cardinality(10),
        D.sample_from_datasets([D.range(3), base], seed=1),
        D.choose_from_datasets([D.range(3), base], D.range(2)),
    ]
    for ds in derived:
        got = ds.options()
        assert got.deterministic is False, ds
        assert got.threading.private_threadpool_size == 2, ds


def test_options_merge_later_wins_and_defaults_never_override():
    # merge_options: "If an option is set to different values by different options
    # objects, the result will match the setting of the options object that appears in
    # the input list last"; a value equal to the default is skipped.
    a = efd.Options()
    a.deterministic = True
    a.threading.private_threadpool_size = 4
    a.experimental_distribute.auto_shard_policy = experimental.AutoShardPolicy.DATA
    b = efd.Options()
    b.deterministic = False
    b.experimental_distribute.auto_shard_policy = experimental.AutoShardPolicy.AUTO  # default
    got = D.range(3).with_options(a).with_options(b).options()
    assert got.deterministic is False                       # later wins
    assert got.threading.private_threadpool_size == 4       # kept from a
    assert got.experimental_distribute.auto_shard_policy == experimental.AutoShardPolicy.DATA
    assert D.range(3).with_options(b).with_options(a).options().deterministic is True
    # inputs merge in order: zip((x, y)) takes y's value where they conflict
    x, y = D.range(3).with_options(a), D.range(3).with_options(b)
    assert D.zip((x, y)).options().deterministic is False
    assert D.zip((y, x)).options().deterministic is True
    assert a.merge(b).deterministic is False and b.merge(a).deterministic is True
    assert a.deterministic is True  # merge returns a new object


def test_options_keep_iterator_state():
    o = efd.Options()
    o.deterministic = False
    check_resume(lambda: D.range(12).shuffle(5, seed=2).with_options(o).batch(5), [0, 1, 2])


# -- sample_from_datasets ----------------------------------------------------------------
def test_sample_from_datasets_doc_example():
    # Dataset.sample_from_datasets docs: range(0, 3) and range(100, 103), weights
    # [0.5, 0.5] -> one possible outcome [100, 0, 1, 101, 2, 102]: every element once,
    # each input in its own order (sampling without replacement).
    for seed in range(5):
        ds = D.sample_from_datasets([D.range(0, 3), D.range(100, 103)], weights=[0.5, 0.5],
                                    seed=seed)
        out = ints(ds)
        assert sorted(out) == [0, 1, 2, 100, 101, 102]
        assert [v for v in out if v < 100] == [0, 1, 2]
        assert [v for v in out if v >= 100] == [100, 101, 102]
    alias = experimental.sample_from_datasets([D.range(0, 3), D.range(100, 103)],
                                              [0.5, 0.5], seed=3)
    assert ints(alias) == ints(D.sample_from_datasets([D.range(0, 3), D.range(100, 103)],
                                                      [0.5, 0.5], seed=3))


def test_sample_from_datasets_seed_gives_the_same_picks():
    def make(seed, rerandomize=None):
        return D.sample_from_datasets([D.range(20), D.range(100, 120)], seed=seed,
                                      rerandomize_each_iteration=rerandomize)
    a, b = make(5), make(5)
    assert ints(a) == ints(b)
    assert ints(a) == ints(a)  # rerandomize_each_iteration None: same picks every epoch
    assert any(ints(make(5)) != ints(make(s)) for s in (6, 7, 8))
    r1, r2 = make(5, True), make(5, True)
    e1 = [ints(r1) for _ in range(3)]
    assert e1 == [ints(r2) for _ in range(3)]  # reproducible sequence of epochs
    assert len({tuple(e) for e in e1}) > 1     # but new picks each epoch
    assert ints(make(5, True).repeat(3)) == sum(e1, [])


def test_sample_from_datasets_seed_is_reproducible_across_processes():
    code = ("from eagerflow.data import Dataset as D;"
            "ds = D.sample_from_datasets([D.range(30), D.range(100, 130)], [0.3, 0.7], seed=11);"
            "print([int(x) for x in ds])")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    here = ints(D.sample_from_datasets([D.range(30), D.range(100, 130)], [0.3, 0.7], seed=11))
    assert out == str(here)


def test_sample_from_datasets_weights_are_normalised():
    # weights are probabilities after normalisation (TF: log(weights) as multinomial
    # logits), so [1, 3] and [0.25, 0.75] pick identically and ~75% from input 1.
    def make(w):
        return D.sample_from_datasets([D.from_tensors(0).repeat(), D.from_tensors(1).repeat()],
                                      weights=w, seed=4).take(4000)
    picks = ints(make([1.0, 3.0]))
    assert picks == ints(make([0.25, 0.75])) == ints(make(np.array([0.25, 0.75], np.float32)))
    assert abs(np.mean(picks) - 0.75) < 0.03
    uniform = ints(D.sample_from_datasets([D.from_tensors(0).repeat(),
                                           D.from_tensors(1).repeat()], seed=4).take(4000))
    assert abs(np.mean(uniform) - 0.5) < 0.03


def test_sample_from_datasets_zero_weights_and_single_input():
    # _skip_datasets_with_zero_weight: inputs with weight <= 0 are dropped; none left ->
    # datasets[0].take(0); one left -> that dataset itself.
    only = D.range(5)
    assert D.sample_from_datasets([D.range(10, 15), only], [0.0, 2.0]) is only
    assert D.sample_from_datasets([only]) is only
    assert ints(D.sample_from_datasets([D.range(3), D.range(5)], [0.0, 0.0])) == []
    out = ints(D.sample_from_datasets([D.range(3), D.range(10, 13), D.range(20, 23)],
                                      [0.5, 0.0, 0.5], seed=1))
    assert sorted(out) == [0, 1, 2, 20, 21, 22]
    assert ints(D.sample_from_datasets([D.range(0), D.range(0)], seed=1)) == []


def test_sample_from_datasets_stop_on_empty_dataset():
    # stop_on_empty_dataset (docs): True -> sampling stops at the first pick of an empty
    # input; False (default) -> empty inputs are skipped until all are exhausted.
    ds = D.sample_from_datasets([D.range(2), D.from_tensors(np.int64(7)).repeat()], seed=3,
                                stop_on_empty_dataset=True)
    out = ints(ds)
    assert out.count(0) == 1 and out.count(1) == 1 and set(out) <= {0, 1, 7}
    assert out.index(0) < out.index(1)  # ends at the first pick of input 0 after its end
    full = ints(D.sample_from_datasets([D.range(2), D.range(10, 13)], seed=3))
    assert sorted(full) == [0, 1, 10, 11, 12]
    stopped = ints(D.sample_from_datasets([D.range(2), D.range(10, 13)], seed=3,
                                          stop_on_empty_dataset=True))
    assert stopped == full[:len(stopped)] and len(stopped) < 5


def test_sample_from_datasets_errors():
    # sample_from_datasets_op.py / directed_interleave_op.py messages.
    with pytest.raises(ValueError, match="Invalid `datasets`. `datasets` should not be empty."):
        D.sample_from_datasets([])
    with pytest.raises(ValueError, match=r"`len\(weights\)=3` vs. `len\(datasets\)=2`"):
        D.sample_from_datasets([D.range(2), D.range(2)], [0.2, 0.3, 0.5])
    with pytest.raises(TypeError, match="`weights` type must be either `tf.float32` or "
                                        "`tf.float64`"):
        D.sample_from_datasets([D.range(2), D.range(2)], [1, 2])
    with pytest.raises(TypeError, match="must have compatible element specs"):
        D.sample_from_datasets([D.range(2), D.from_tensors("a")])
    with pytest.raises(TypeError, match="must have compatible element specs"):
        D.sample_from_datasets([D.range(2), D.zip((D.range(2), D.range(2)))])
    with pytest.raises(TypeError, match="element 1 is int"):
        D.sample_from_datasets([D.range(2), 3])
    bad = D.sample_from_datasets([D.range(2), D.range(2)], D.from_tensors([1.0, 1.0, 1.0]))
    with pytest.raises(InvalidArgumentError, match="must hold 2 weights"):
        list(bad)


def test_sample_from_datasets_weights_dataset_and_cardinality():
    # weights may be a Dataset of weight vectors, one per pick; the result ends with it.
    # (an endless selector that only picks an exhausted input never ends, in TF too)
    w = D.from_tensors(np.array([0.0, 1.0], np.float32)).repeat(7)
    assert ints(D.sample_from_datasets([D.range(5), D.range(10, 15)], w, seed=1)) == \
        [10, 11, 12, 13, 14]
    w3 = D.from_tensors(np.array([1.0, 0.0], np.float32)).repeat(3)
    assert ints(D.sample_from_datasets([D.range(5), D.range(10, 15)], w3, seed=1)) == [0, 1, 2]
    # directed_interleave_dataset_op.cc: INFINITE if an input is infinite, else UNKNOWN
    assert D.sample_from_datasets([D.range(3), D.range(4)]).cardinality() == UNK
    assert D.sample_from_datasets([D.range(3), D.range(4).repeat()]).cardinality() == INF
    spec = D.sample_from_datasets([D.from_tensors([1, 2]), D.from_tensors([1, 2, 3])]).element_spec
    assert spec.shape == (None,) and spec.dtype == np.int32  # Python ints: int32 in TF


def test_sample_from_datasets_resume():
    check_resume(lambda: D.sample_from_datasets([D.range(8), D.range(100, 108).map(
        lambda x: x * 2), D.range(200, 203)], [0.2, 0.5, 0.3], seed=9), [0, 1, 4, 9, 15, 18])
    check_resume(lambda: D.sample_from_datasets(
        [D.range(4), D.range(10, 14)], seed=2, rerandomize_each_iteration=True).repeat(3),
        [3, 8, 20])
    check_resume(lambda: D.sample_from_datasets(
        [D.range(4), D.range(10, 14)], D.from_tensors([0.5, 0.5]).repeat(), seed=2), [2, 5])
    # an exhausted input stays exhausted after a restore
    make = lambda: D.sample_from_datasets([D.range(1), D.range(10, 30)], [0.9, 0.1], seed=0)  # noqa: E731
    check_resume(make, [2, 6])


def test_sample_from_datasets_unseeded_resume_keeps_picks():
    ds = D.sample_from_datasets([D.range(10), D.range(100, 110)])
    it = iter(ds)
    head = ints(next(it) for _ in range(6))
    state = json.loads(json.dumps(it.get_state()))
    rest = ints(it)
    it2 = iter(D.sample_from_datasets([D.range(10), D.range(100, 110)]))  # another base seed
    it2.set_state(state)
    assert ints(it2) == rest and sorted(head + rest) == list(range(10)) + list(range(100, 110))


# -- choose_from_datasets ----------------------------------------------------------------
def test_choose_from_datasets_doc_example():
    # Dataset.choose_from_datasets docs: foo/bar/baz repeated, choices range(3).repeat(3)
    # -> "foo", "bar", "baz", "foo", "bar", "baz", "foo", "bar", "baz".
    datasets = [D.from_tensors("foo").repeat(), D.from_tensors("bar").repeat(),
                D.from_tensors("baz").repeat()]
    result = D.choose_from_datasets(datasets, D.range(3).repeat(3))
    assert list(result.as_numpy_iterator()) == [b"foo", b"bar", b"baz"] * 3
    alias = experimental.choose_from_datasets(datasets, D.range(3).repeat(3))
    assert list(alias.as_numpy_iterator()) == [b"foo", b"bar", b"baz"] * 3
    assert result.cardinality() == INF
    dicts = D.choose_from_datasets([D.from_tensor_slices({"a": [1, 2]}),
                                    D.from_tensor_slices({"a": [7, 8]})],
                                   D.from_tensor_slices(np.array([1, 0, 0], np.int64)))
    assert [int(e["a"]) for e in dicts] == [7, 1, 2]


def test_choose_from_datasets_stop_on_empty_dataset():
    # stop_on_empty_dataset defaults to True: choosing an exhausted input ends the result;
    # False skips it. An exhausted choice dataset ends the result either way.
    choices = D.from_tensor_slices(np.array([0, 0, 0, 1, 1], np.int64))
    assert ints(D.choose_from_datasets([D.range(2), D.range(10, 20)], choices)) == [0, 1]
    assert ints(D.choose_from_datasets([D.range(2), D.range(10, 20)], choices,
                                       stop_on_empty_dataset=False)) == [0, 1, 10, 11]
    assert ints(D.choose_from_datasets([D.range(5)], D.range(0))) == []
    assert ints(D.choose_from_datasets([D.range(0), D.range(0)],
                                       D.range(2).repeat(), stop_on_empty_dataset=False)) == []


def test_choose_from_datasets_errors():
    # choose_from_datasets_op.py messages; the kernel's "Selector index out of range".
    with pytest.raises(ValueError, match="`datasets` should not be empty"):
        D.choose_from_datasets([], D.range(1))
    with pytest.raises(TypeError, match="`choice_dataset` should be a `tf.data.Dataset`"):
        D.choose_from_datasets([D.range(2)], [0, 0])
    with pytest.raises(TypeError, match="must be scalar `tf.int64` tensors"):
        D.choose_from_datasets([D.range(2)], D.from_tensor_slices(np.array([0], np.int32)))
    with pytest.raises(TypeError, match="must be scalar `tf.int64` tensors"):
        D.choose_from_datasets([D.range(2)], D.from_tensors([0, 1]))
    with pytest.raises(TypeError, match="must have compatible element specs"):
        D.choose_from_datasets([D.range(2), D.from_tensors(1.0)], D.range(2))
    it = iter(D.choose_from_datasets([D.range(3), D.range(3)], D.from_tensor_slices(
        np.array([1, 2], np.int64))))
    assert int(next(it)) == 0
    with pytest.raises(InvalidArgumentError, match="Selector index out of range: 2 >= 2"):
        next(it)
    with pytest.raises(InvalidArgumentError, match="Selector index out of range: -1 >= 2"):
        list(D.choose_from_datasets([D.range(3), D.range(3)], D.from_tensors(np.int64(-1))))


def test_choose_from_datasets_resume():
    choices = D.from_tensor_slices(np.array([0, 1, 1, 0, 2, 2, 2, 1, 0, 0], np.int64))
    make = lambda: D.choose_from_datasets(  # noqa: E731
        [D.range(5).shuffle(5, seed=1), D.range(10, 13), D.range(20, 22)], choices,
        stop_on_empty_dataset=False)
    full = check_resume(make, [0, 1, 3, 5, 6, 7, 8])
    # the third pick of input 2 finds it exhausted and is skipped
    assert [v for (v,) in full][1:3] == [10, 11] and len(full) == 9
    assert [v for (v,) in full][4:7] == [20, 21, 12]


# -- ignore_errors ---------------------------------------------------------------------
def _inverse(x):
    # stands for tf.debugging.check_numerics(1. / x, "error") of the docs
    if float(x) == 0.0:
        raise InvalidArgumentError("error : Tensor had Inf values")
    return np.float32(1.0) / x


def test_ignore_errors_doc_example():
    # Dataset.ignore_errors docs: [1., 2., 0., 4.] mapped through check_numerics(1. / x)
    # raises InvalidArgumentError; ignore_errors() gives [1.0, 0.5, 0.25].
    ds = D.from_tensor_slices([1.0, 2.0, 0.0, 4.0]).map(_inverse)
    with pytest.raises(InvalidArgumentError):
        list(ds)
    assert [float(x) for x in ds.ignore_errors()] == [1.0, 0.5, 0.25]
    assert [float(x) for x in ds.apply(experimental.ignore_errors())] == [1.0, 0.5, 0.25]
    assert ds.ignore_errors().cardinality() == 4  # the input's, as the kernel says
    assert ds.ignore_errors().element_spec == ds.element_spec


def test_ignore_errors_log_warning(caplog):
    ds = D.from_tensor_slices([1.0, 0.0, 2.0]).map(_inverse).ignore_errors(log_warning=True)
    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        assert [float(x) for x in ds] == [1.0, 0.5]
    assert "Error raised with error message error : Tensor had Inf values" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        list(D.from_tensor_slices([0.0]).map(_inverse).ignore_errors())
    assert caplog.text == ""


def test_ignore_errors_any_stage_and_edge_cases():
    def bad_at(n):
        def f(x):
            if int(x) in n:
                raise ValueError(f"bad {int(x)}")
            return x
        return f
    expect = [0, 1, 2, 4, 6, 7]
    assert ints(D.range(8).map(bad_at({3, 5})).ignore_errors()) == expect
    assert ints(D.range(8).map(bad_at({3, 5}), num_parallel_calls=3).ignore_errors()) == expect
    assert ints(D.range(8).map(bad_at({3, 5})).prefetch(2).ignore_errors()) == expect
    assert ints(D.range(8).map(bad_at({3, 5}), num_parallel_calls=2).prefetch(3)
                .ignore_errors()) == expect
    assert ints(D.range(4).interleave(lambda x: D.range(2).map(bad_at({1})).map(
        lambda y: y + 10 * x), cycle_length=2).ignore_errors()) == [0, 10, 20, 30]
    assert ints(D.range(5).map(bad_at(set(range(5)))).ignore_errors()) == []
    assert ints(D.range(0).ignore_errors()) == []
    assert ints(D.range(3).ignore_errors()) == [0, 1, 2]
    # a filter whose predicate fails drops that element too
    assert ints(D.range(4).filter(lambda x: bad_at({2})(x) >= 0).ignore_errors()) == [0, 1, 3]


def test_prefetch_goes_on_after_an_error():
    # TF's prefetch buffers an element's error status and keeps producing (prefetch kernel)
    def f(x):
        if int(x) == 2:
            raise KeyError("bad element 2")
        return x
    it = iter(D.range(5).map(f).prefetch(2))
    assert [int(next(it)), int(next(it))] == [0, 1]
    with pytest.raises(KeyError, match="bad element 2"):
        next(it)
    assert ints(it) == [3, 4]


def test_ignore_errors_stops_on_an_input_stuck_on_one_error():
    class Stuck(D):
        """An input whose next() raises the very same error forever."""

        def _make(self, peek=False):
            err = RuntimeError("stuck")

            class It(efd.dataset.DatasetIterator):
                def __next__(self):
                    raise err
            return It()
    assert ints(Stuck().ignore_errors()) == []


def test_ignore_errors_resume():
    def f(x):
        if int(x) % 3 == 1:
            raise ValueError("bad")
        return x * 10
    full = check_resume(lambda: D.range(12).map(f).ignore_errors().batch(2), [0, 1, 3])
    assert [list(b) for b in full] == [[0, 20], [30, 50], [60, 80], [90, 110]]


# -- assert_cardinality ----------------------------------------------------------------
def test_assert_cardinality_doc_example():
    # assert_cardinality docs: a dataset of unknown cardinality; after
    # assert_cardinality(42) cardinality() == 42.
    ds = D.range(100).filter(lambda x: x < 42)
    assert ds.cardinality() == UNK
    ds = ds.apply(experimental.assert_cardinality(42))
    assert ds.cardinality() == 42 and experimental.cardinality(ds).numpy() == 42
    assert len(ds) == 42 and ints(ds) == list(range(42))
    assert D.range(3).assert_cardinality(INF).cardinality() == INF
    assert ints(D.range(3).repeat().assert_cardinality(INF).take(5)) == [0, 1, 2, 0, 1]


def test_assert_cardinality_errors():
    # assert_cardinality_dataset_op.cc: FailedPrecondition "Input dataset was expected to
    # contain N elements but contained only M elements." at the end, or "... at least M
    # elements." on the element beyond N; "1 element", "an infinite number of elements".
    it = iter(D.range(3).assert_cardinality(5))
    assert [int(next(it)) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(FailedPreconditionError, match=r"^Input dataset was expected to contain 5 elements "
                                      r"but contained only 3 elements\.$"):
        next(it)
    it = iter(D.range(10).assert_cardinality(5))
    assert [int(next(it)) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(FailedPreconditionError,
                       match=r"^Input dataset was expected to contain 5 elements but "
                             r"contained at least 6 elements\.$"):
        next(it)
    with pytest.raises(FailedPreconditionError, match="expected to contain 1 element but contained only "
                                      "0 elements."):
        list(D.range(0).assert_cardinality(1))
    with pytest.raises(FailedPreconditionError, match="expected to contain 1 element but contained at least "
                                      "2 elements."):
        list(D.range(2).assert_cardinality(1))
    with pytest.raises(FailedPreconditionError, match="expected to contain 0 elements but contained at "
                                      "least 1 element."):
        list(D.range(2).assert_cardinality(0))
    with pytest.raises(FailedPreconditionError, match="expected to contain an infinite number of elements "
                                      "but contained only 3 elements."):
        list(D.range(3).assert_cardinality(INF))
    assert issubclass(FailedPreconditionError, OpError)
    assert ints(D.range(0).assert_cardinality(0)) == []
    assert ints(D.range(4).assert_cardinality(np.int64(4))) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="expected_cardinality must be an int"):
        D.range(3).assert_cardinality(2.5)
    with pytest.raises(TypeError, match="expected_cardinality must be an int"):
        D.range(3).assert_cardinality("3")


def test_assert_cardinality_resume_keeps_the_count():
    make = lambda: D.range(10).shuffle(10, seed=4).assert_cardinality(7)  # noqa: E731
    it = iter(make())
    head = [int(next(it)) for _ in range(4)]
    state = json.loads(json.dumps(it.get_state()))
    it2 = iter(make())
    it2.set_state(state)
    tail = [int(next(it2)) for _ in range(3)]
    with pytest.raises(OpError, match="contained at least 8 elements"):
        next(it2)
    assert head + tail == ints(make().take(7))
    check_resume(lambda: D.range(9).assert_cardinality(9).batch(2), [0, 2, 4])


# -- get_next_as_optional ----------------------------------------------------------------
def test_get_next_as_optional_doc_example():
    # Iterator.get_next_as_optional docs: from_tensors(42): has_value True, get_value 42;
    # the next call: has_value False. OptionalGetValue kernel: InvalidArgumentError
    # "The given optional does not have a value."
    dataset = D.from_tensors(42)
    iterator = iter(dataset)
    optional = iterator.get_next_as_optional()
    assert bool(optional.has_value()) is True and int(optional.get_value()) == 42
    optional = iterator.get_next_as_optional()
    assert bool(optional.has_value()) is False
    assert np.asarray(optional.has_value()).dtype == np.bool_
    assert optional.element_spec == dataset.element_spec
    with pytest.raises(InvalidArgumentError, match="The given optional does not have a value."):
        optional.get_value()
    assert not experimental.get_next_as_optional(iterator).has_value()


def test_optional_constructors_and_structures():
    # tf.experimental.Optional docs: from_value(42).has_value() -> True, get_value() -> 42;
    # empty(TensorSpec(shape=(), dtype=int32)).has_value() -> False.
    opt = experimental.Optional.from_value(42)
    assert opt.has_value() and int(opt.get_value()) == 42
    spec = efd.TensorSpec((), "int32")
    empty = experimental.Optional.empty(spec)
    assert not empty.has_value() and empty.element_spec == spec
    it = iter(D.from_tensor_slices({"a": [1, 2], "b": ["x", "y"]}))
    first = it.get_next_as_optional().get_value()
    assert int(first["a"]) == 1 and first["b"].item() == b"x"
    # position: an optional takes the element; save/restore continue after it
    it = iter(D.range(5))
    assert int(it.get_next_as_optional().get_value()) == 0
    it2 = iter(D.range(5))
    it2.set_state(it.get_state())
    assert ints(it2) == [1, 2, 3, 4]
    for i in range(1, 5):
        assert int(it.get_next_as_optional().get_value()) == i
    assert not it.get_next_as_optional().has_value()
    assert not it.get_next_as_optional().has_value()  # stays empty
    init = D.range(2).make_initializable_iterator()
    init.initialize()
    assert [int(init.get_next_as_optional().get_value()) for _ in range(2)] == [0, 1]
    assert not init.get_next_as_optional().has_value()


# -- zip with a list -----------------------------------------------------------------------
def test_zip_rejects_lists_like_tf():
    # zip_op.py: a list is an atom of tf.data's nest, and is refused with TypeError
    # "... Python `list` is not supported and you should use `tuple` instead."
    msg = "Python `list` is not supported and you should use `tuple` instead."
    with pytest.raises(TypeError, match=msg):
        D.zip([D.range(2), D.range(3)])
    with pytest.raises(TypeError, match=msg):
        D.zip(datasets=[D.range(2), D.range(3)])
    with pytest.raises(TypeError, match=msg):
        D.zip((D.range(2), [D.range(3), D.range(4)]))
    with pytest.raises(TypeError, match=msg):
        D.zip({"a": [D.range(3)]})
    with pytest.raises(TypeError, match="but encountered object of type <class 'int'>"):
        D.zip((D.range(2), 3))
    assert [(int(a), int(b)) for a, b in D.zip((D.range(2), D.range(5, 9)))] == [(0, 5), (1, 6)]
    nested = D.zip((D.range(2), {"x": D.range(3), "y": (D.range(4),)}))
    assert [(int(a), int(d["x"]), int(d["y"][0])) for a, d in nested] == [(0, 0, 0), (1, 1, 1)]
