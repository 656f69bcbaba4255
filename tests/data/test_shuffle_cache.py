import os
import warnings

import numpy as np
import pytest

from eagerflow.backend import random as efrandom
from eagerflow.data import Dataset
from eagerflow.io import AlreadyExistsError, InvalidArgumentError

D = Dataset


def ints(ds):
    return [int(x) for x in ds]


def test_shuffle_basics():
    assert ints(D.range(10).shuffle(1)) == list(range(10))
    a = ints(D.range(50).shuffle(100, seed=7))
    assert sorted(a) == list(range(50)) and a != list(range(50))
    for bad in (0, -3, -1):
        with pytest.raises(InvalidArgumentError):
            D.range(3).shuffle(bad)


def test_shuffle_seed_reproducible_and_reshuffles():
    ds1, ds2 = D.range(30).shuffle(10, seed=5), D.range(30).shuffle(10, seed=5)
    e1 = [ints(ds1) for _ in range(3)]
    e2 = [ints(ds2) for _ in range(3)]
    assert e1 == e2                       # same sequence of orders across "runs"
    assert e1[0] != e1[1] != e1[2]        # a new order each epoch
    fixed = D.range(30).shuffle(10, seed=5, reshuffle_each_iteration=False)
    assert ints(fixed) == ints(fixed)
    rep = ints(D.range(30).shuffle(10, seed=5).repeat(3))
    assert rep == sum(e1, [])             # repeat re-runs shuffle epochs in order
    efrandom.set_seed(11)
    g1 = ints(D.range(30).shuffle(30))
    efrandom.set_seed(11)
    g2 = ints(D.range(30).shuffle(30))
    efrandom.set_seed(None)
    assert g1 == g2


def test_shuffle_buffer_locality_and_uniformity():
    # with a buffer of 5 an element can move at most buffer_size-1 places earlier
    out = ints(D.range(200).shuffle(5, seed=1))
    assert all(v - i <= 4 for i, v in enumerate(out))
    # full-buffer shuffle: first position roughly uniform over 4 values
    counts = np.bincount([ints(D.range(4).shuffle(4, seed=s))[0] for s in range(400)],
                         minlength=4)
    assert counts.min() > 60


def test_shuffle_repeat_vs_repeat_shuffle():
    sr = ints(D.range(10).shuffle(10, seed=2).repeat(2))
    assert sorted(sr[:10]) == list(range(10)) and sorted(sr[10:]) == list(range(10))
    rs = ints(D.range(10).repeat(2).shuffle(10, seed=2))
    assert sorted(rs) == sorted(list(range(10)) * 2)
    assert sorted(rs[:10]) != list(range(10))  # neighbouring epochs mix (for this seed)


def test_memory_cache_replays_first_pass():
    calls = []
    ds = D.range(5).map(lambda x: (calls.append(1), x)[1]).shuffle(5, seed=3).cache()
    first = ints(ds)
    assert ints(ds) == first and ints(ds) == first and len(calls) == 5
    reshuffled = D.range(20).cache().shuffle(20, seed=4)
    assert ints(reshuffled) != ints(reshuffled)


def test_partial_pass_discards_memory_cache():
    calls = []
    ds = D.range(5).map(lambda x: (calls.append(1), x)[1]).cache()
    it = iter(ds)
    next(it)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        it.close()
    assert ints(ds) == [0, 1, 2, 3, 4] and len(calls) == 6
    assert ints(ds) == [0, 1, 2, 3, 4] and len(calls) == 6


def test_file_cache_survives_and_partial_is_invalidated(tmp_path):
    fn = str(tmp_path / "c" / "cache")
    calls = []

    def make():
        return D.from_tensor_slices({"s": ["a", "b", "c"], "v": np.arange(6.0).reshape(3, 2)}) \
            .map(lambda e: (calls.append(1), e)[1]).cache(fn)
    it = iter(make())
    next(it)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        it.close()
    assert not os.path.exists(fn + ".index") and not os.path.exists(fn + "_0.lockfile")
    full = list(make())
    assert os.path.exists(fn + ".index") and os.path.exists(fn + ".data-00000-of-00001")
    n = len(calls)
    again = list(make())  # a "new process": a new dataset object reuses the files
    assert len(calls) == n
    assert [e["s"].item() for e in again] == [b"a", b"b", b"c"]
    np.testing.assert_array_equal(np.stack([e["v"] for e in again]),
                                  np.stack([e["v"] for e in full]))


def test_file_cache_concurrent_writer(tmp_path):
    fn = str(tmp_path / "cache")
    ds = D.range(3).cache(fn)
    it1 = iter(ds)
    next(it1)
    with pytest.raises(AlreadyExistsError, match="lockfile"):
        next(iter(ds))
    assert ints(it1) == [1, 2]
    assert ints(ds) == [0, 1, 2]
