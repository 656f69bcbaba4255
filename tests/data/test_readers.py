import gzip

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eagerflow.data import Dataset, ParquetDataset, TextLineDataset, TFRecordDataset
from eagerflow.data.experimental import (make_csv_dataset, map_and_batch, prefetch_to_device,
                                         shuffle_and_repeat)
from eagerflow.io import TFRecordWriter


def test_tfrecord_dataset_batch_fast_path(tmp_path):
    p = tmp_path / "a.tfrecord"
    with TFRecordWriter(p) as w:
        for i in range(10):
            w.write(b"r%d" % i)
    batches = list(TFRecordDataset([str(p), str(p)]).batch(4))
    assert [len(b) for b in batches] == [4, 4, 4, 4, 4]
    assert batches[2].tolist() == [b"r8", b"r9", b"r0", b"r1"]
    assert batches[0].dtype == object
    assert [len(b) for b in TFRecordDataset(str(p)).batch(4, drop_remainder=True)] == [4, 4]
    names = Dataset.from_tensor_slices([str(p)])
    assert len(list(TFRecordDataset(names))) == 10


def test_text_line_dataset(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"x,1\r\ny,2\nlast")
    g = tmp_path / "b.txt.gz"
    with gzip.open(g, "wb") as f:
        f.write(b"g1\ng2\n")
    assert [l.item() for l in TextLineDataset(str(a))] == [b"x,1", b"y,2", b"last"]
    assert [l.item() for l in TextLineDataset([str(g)], "GZIP")] == [b"g1", b"g2"]
    it = iter(TextLineDataset([str(a), str(a)]))
    [next(it) for _ in range(4)]
    st = it.get_state()
    it2 = iter(TextLineDataset([str(a), str(a)]))
    it2.set_state(st)
    assert [l.item() for l in it2] == [b"y,2", b"last"]


def test_parquet_dataset_streams_row_groups(tmp_path):
    p = tmp_path / "t.parquet"
    t = pa.table({"x": np.arange(10, dtype=np.int64), "f": np.linspace(0, 1, 10).astype(np.float32),
                  "s": [f"v{i}" for i in range(10)]})
    pq.write_table(t, p, row_group_size=4)
    batches = list(ParquetDataset(str(p), batch_size=3))
    assert [len(b["x"]) for b in batches] == [3, 3, 3, 1]
    assert np.concatenate([b["x"] for b in batches]).tolist() == list(range(10))
    assert batches[0]["s"].tolist() == [b"v0", b"v1", b"v2"] and batches[0]["f"].dtype == np.float32
    only = next(iter(ParquetDataset([str(p)], columns=["s"], batch_size=2)))
    assert list(only) == ["s"]
    it = iter(ParquetDataset([str(p), str(p)], batch_size=3))
    [next(it) for _ in range(5)]
    st = it.get_state()
    it2 = iter(ParquetDataset([str(p), str(p)], batch_size=3))
    it2.set_state(st)
    assert np.concatenate([b["x"] for b in it2]).tolist() == list(range(3, 10))


def test_make_csv_dataset(tmp_path):
    for k in range(2):
        (tmp_path / f"d{k}.csv").write_text(
            "id,score,name,label\n" + "".join(f"{k * 10 + i},{i * 0.5},n{i},{i % 2}\n"
                                               for i in range(5)))
    ds = make_csv_dataset(str(tmp_path / "*.csv"), batch_size=4, label_name="label",
                          num_epochs=1, shuffle=False)
    batches = list(ds)
    feats, label = batches[0]
    assert sorted(feats) == ["id", "name", "score"]
    assert feats["id"].dtype == np.int64 and feats["score"].dtype == np.float32
    assert feats["name"].dtype == object and label.dtype == np.int64
    ids = np.concatenate([f["id"] for f, _ in batches]).tolist()
    assert ids == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
    sh = make_csv_dataset(str(tmp_path / "*.csv"), batch_size=3, num_epochs=2, shuffle=True,
                          shuffle_seed=1, select_columns=["id", "name"])
    got = np.concatenate([b["id"] for b in sh]).tolist()
    assert sorted(got) == sorted(ids * 2) and set(next(iter(sh))) == {"id", "name"}


def test_make_csv_dataset_names_a_missing_select_column(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"select_columns entry 'z' is not a column; "
                                         r"the columns are: x, y"):
        make_csv_dataset(str(tmp_path / "d.csv"), 1, select_columns=["x", "z"])
    with pytest.raises(ValueError, match=r"select_columns index 2 is out of range; "
                                         r"accepted: 0 to 1 \(2 columns\)"):
        make_csv_dataset(str(tmp_path / "d.csv"), 1, select_columns=[0, 2])
    ds = make_csv_dataset(str(tmp_path / "d.csv"), 1, select_columns=[1], num_epochs=1)
    assert [b["y"].tolist() for b in ds] == [[2]]


def test_experimental_helpers():
    assert [b.tolist() for b in Dataset.range(5).apply(map_and_batch(lambda x: x * 2, 2))] == \
        [[0, 2], [4, 6], [8]]
    vals = [int(x) for x in Dataset.range(4).apply(shuffle_and_repeat(4, 2, seed=1))]
    assert sorted(vals) == [0, 0, 1, 1, 2, 2, 3, 3]
    ds = Dataset.range(3)
    from eagerflow import backend
    if backend.get_backend() == "numpy":
        assert prefetch_to_device("/gpu:0")(ds) is ds  # numpy backend: a no-op


def test_num_parallel_reads_positional_and_keyword(tmp_path):
    files = []
    for f in range(2):
        p = tmp_path / f"{f}.tfrecord"
        with TFRecordWriter(p) as w:
            for i in range(3):
                w.write(b"%d%d" % (f, i))
        files.append(str(p))
    want = [b"00", b"10", b"01", b"11", b"02", b"12"]
    assert [x.item() for x in TFRecordDataset(files, None, None, 2)] == want
    assert [x.item() for x in TFRecordDataset(files, num_parallel_reads=2)] == want
    assert [x.item() for x in TFRecordDataset(files)] == sorted(want)


def test_make_batched_features_dataset(tmp_path):
    from eagerflow.data.experimental import make_batched_features_dataset
    from eagerflow.datasets import synthetic_ctr
    synthetic_ctr.write_tfrecord(str(tmp_path / "d.tfrecord"), 300, seed=0, num_shards=3)
    ds = make_batched_features_dataset(str(tmp_path / "*.tfrecord"), 64,
                                       synthetic_ctr.feature_spec(), label_key="label",
                                       num_epochs=2, shuffle_seed=3, reader_num_threads=2,
                                       parser_num_threads=2, drop_final_batch=True)
    batches = list(ds)
    assert len(batches) == 600 // 64
    feats, label = batches[0]
    assert "label" not in feats and label.shape == (64,) and feats["I1"].dtype == np.float32


@pytest.mark.gpu
def test_prefetch_to_device_on_gpu():
    from eagerflow import backend
    if backend.get_backend() != "cupy":
        pytest.skip("needs the cupy backend")
    cp = backend.xp()
    ds = Dataset.from_tensor_slices({"x": np.arange(12, dtype=np.float32).reshape(6, 2),
                                     "s": np.array([b"a"] * 6, dtype=object)})
    out = list(ds.batch(4).apply(prefetch_to_device("/gpu:0", buffer_size=2)))
    assert isinstance(out[0]["x"], cp.ndarray) and out[1]["x"].tolist() == [[8, 9], [10, 11]]
    assert isinstance(out[0]["s"], np.ndarray) and out[0]["s"].dtype == object
