import gc
import threading
import time
import traceback

import pytest

from eagerflow.data import AUTOTUNE, Dataset

D = Dataset


def _threads(prefix):
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_parallel_map_keeps_order_under_jitter():
    def slow(x):
        time.sleep(0.002 * ((int(x) * 7) % 5))
        return x * 10
    assert [int(v) for v in D.range(40).map(slow, num_parallel_calls=4)] == \
        [i * 10 for i in range(40)]
    out = [int(v) for v in D.range(40).map(slow, num_parallel_calls=4, deterministic=False)]
    assert sorted(out) == [i * 10 for i in range(40)]
    assert [int(v) for v in D.range(5).map(lambda x: x + 1, AUTOTUNE)] == [1, 2, 3, 4, 5]


def test_parallel_map_runs_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    def f(x):
        barrier.wait()  # deadlocks (times out) unless two run at once
        return x
    assert len(list(D.range(4).map(f, num_parallel_calls=2))) == 4


def boom(x):
    if int(x) == 3:
        raise KeyError("bad element 3")
    return x


def test_worker_exception_surfaces_with_traceback():
    it = iter(D.range(10).map(boom, num_parallel_calls=2))
    got = []
    with pytest.raises(KeyError, match="bad element 3") as info:
        for v in it:
            got.append(int(v))
    assert got == [0, 1, 2]
    tb = "".join(traceback.format_tb(info.value.__traceback__))
    assert "in boom" in tb
    with pytest.raises(KeyError):
        list(D.range(10).map(boom).prefetch(2))


def test_dropped_pipeline_stops_threads():
    gc.collect()
    time.sleep(0.05)
    before = len(_threads("eagerflow-"))
    ds = D.range(10 ** 9).map(lambda x: x, num_parallel_calls=2).prefetch(4)
    it = iter(ds)
    for _ in range(5):
        next(it)
    assert len(_threads("eagerflow-")) > before
    del it
    gc.collect()
    deadline = time.time() + 5
    while len(_threads("eagerflow-")) > before and time.time() < deadline:
        time.sleep(0.01)
    assert len(_threads("eagerflow-")) <= before


def test_prefetch_order_values_and_early_break():
    ds = D.range(100).batch(7).prefetch(AUTOTUNE)
    assert [b.tolist() for b in ds] == [list(range(i, min(i + 7, 100))) for i in range(0, 100, 7)]
    for i, _ in enumerate(ds):
        if i == 2:
            break
    assert [int(x) for x in D.range(3).prefetch(0)] == [0, 1, 2]


def test_parallel_interleave_reads_files_in_order(tmp_path):
    from eagerflow.data import TFRecordDataset
    from eagerflow.io import TFRecordWriter
    files = []
    for f in range(3):
        p = tmp_path / f"{f}.tfrecord"
        with TFRecordWriter(p) as w:
            for i in range(4 + f):
                w.write(b"%d:%d" % (f, i))
        files.append(str(p))
    seq = [x.item() for x in D.from_tensor_slices(files).interleave(
        lambda f: TFRecordDataset(f.item().decode()), cycle_length=2, block_length=1)]
    par = [x.item() for x in TFRecordDataset(files, num_parallel_reads=2)]
    assert par == seq and len(par) == 15
    assert seq[:4] == [b"0:0", b"1:0", b"0:1", b"1:1"]


def test_parallel_map_with_prefetch_error_and_order():
    it = iter(D.range(10).map(boom, num_parallel_calls=2).prefetch(3))
    got = []
    with pytest.raises(KeyError, match="bad element 3"):
        for v in it:
            got.append(int(v))
    assert got == [0, 1, 2]
    fast = D.range(50).map(lambda x: x * 3, num_parallel_calls=2).prefetch(AUTOTUNE)
    assert [int(v) for v in fast] == [i * 3 for i in range(50)]
    loose = D.range(50).map(lambda x: x, num_parallel_calls=2, deterministic=False).prefetch(2)
    assert sorted(int(v) for v in loose) == list(range(50))


def test_typical_ctr_input_fn(tmp_path):
    from eagerflow.data import TFRecordDataset
    from eagerflow.datasets import synthetic_ctr
    from eagerflow.io import parse_example
    files, _ = synthetic_ctr.write_tfrecord(str(tmp_path / "d.tfrecord"), 600, seed=0,
                                            num_shards=4)
    spec = synthetic_ctr.feature_spec()
    seen = []
    for worker in range(2):
        fl = D.list_files(str(tmp_path / "*.tfrecord"), shuffle=True, seed=1).shard(2, worker)
        ds = fl.interleave(TFRecordDataset, cycle_length=4, block_length=1)
        ds = ds.shuffle(1000, seed=2).repeat(2).batch(64, drop_remainder=True)
        ds = ds.map(lambda s: parse_example(s, spec), num_parallel_calls=2).prefetch(AUTOTUNE)
        batches = list(ds)
        assert all(b["label"].shape == (64,) and b["C26"].dtype == object for b in batches)
        seen.append(sum(len(b["label"]) for b in batches))
    assert sum(seen) == 2 * 600 - sum(s % 64 for s in [300 * 2, 300 * 2])
