import numpy as np
import pyarrow.parquet as pq

from eagerflow.data import TFRecordDataset
from eagerflow.data.experimental import make_csv_dataset
from eagerflow.datasets import synthetic_ctr as ctr
from eagerflow.io import Example, parse_example, tf_record_iterator

N = 3000


def test_shape_determinism_and_prefix_stability():
    a = ctr.generate(N, seed=3)
    b = ctr.generate(N, seed=3)
    c = ctr.generate(N + 70000, seed=3)
    assert set(a) == {"label", *ctr.NUMERIC_KEYS, *ctr.CATEGORICAL_KEYS}
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
        assert np.array_equal(a[k], c[k][:N], equal_nan=a[k].dtype.kind == "f")
    d = ctr.generate(N, seed=4)
    assert not np.array_equal(a["label"], d["label"])
    assert ctr.VOCAB_SIZES[0] == 10 and ctr.VOCAB_SIZES[-1] == 1_000_000


def test_realistic_marginals():
    cols = ctr.generate(20000, seed=0)
    assert 0.1 < cols["label"].mean() < 0.4
    assert np.isnan(cols["I12"]).mean() > 0.6 and not np.isnan(cols["I2"]).any()
    assert np.nanmin(cols["I2"]) < 0  # negatives like Criteo's I2
    i5 = cols["I5"][~np.isnan(cols["I5"])]
    assert np.mean(i5) > 2 * np.median(i5)  # heavy right tail
    c1 = cols["C1"]
    assert len(set(c1.tolist())) <= 10
    big = cols["C26"][cols["C26"] != b""]
    _, counts = np.unique(big, return_counts=True)
    assert counts.max() > 50 * np.median(counts)  # Zipf: a few very frequent tokens
    assert all(len(t) == 8 for t in big[:100])
    assert (cols["C22"] == b"").mean() > 0.6


def test_bayes_auc_is_informative():
    cols = ctr.generate(20000, seed=1, with_probabilities=True)
    bayes = ctr.bayes_auc(20000, seed=1)
    assert 0.7 < bayes < 0.95
    assert abs(ctr.auc(cols["label"], cols["_prob"]) - bayes) < 1e-12
    # a weaker model (numeric features only) does clearly worse than Bayes
    weak = np.nan_to_num(np.log1p(np.maximum(cols["I1"], 0)))
    assert ctr.auc(cols["label"], weak) < bayes - 0.05
    assert ctr.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75


def test_tfrecord_matches_generate_and_protobuf(tmp_path):
    files, bayes = ctr.write_tfrecord(str(tmp_path / "ctr.tfrecord"), N, seed=2, num_shards=2,
                                      compression_type="GZIP")
    assert len(files) == 2 and 0.6 < bayes < 1
    recs = [r for f in files for r in tf_record_iterator(f, "GZIP")]
    assert len(recs) == N
    cols = ctr.generate(N, seed=2)
    out = parse_example(recs, ctr.feature_spec())
    for k in ctr.NUMERIC_KEYS:
        np.testing.assert_array_equal(out[k], np.nan_to_num(cols[k], nan=0.0))
    for k in ["label"] + ctr.CATEGORICAL_KEYS:
        assert out[k].tolist() == cols[k].tolist()
    ex = Example.FromString(recs[5])  # the numba encoder writes valid protobuf
    feats = ex.features.feature
    assert feats["label"].int64_list.value[0] == cols["label"][5]
    if "C1" in feats:
        assert feats["C1"].bytes_list.value[0] == cols["C1"][5]
    via_ds = sum(len(b) for b in TFRecordDataset(files, "GZIP").batch(1000))
    assert via_ds == N


def test_csv_and_parquet(tmp_path):
    cols = ctr.generate(500, seed=5)
    ctr.write_csv(str(tmp_path / "ctr.csv"), 500, seed=5)
    ds = make_csv_dataset(str(tmp_path / "ctr.csv"), batch_size=500, label_name="label",
                          shuffle=False, num_epochs=1,
                          column_defaults=[[0]] + [[0.0]] * 13 + [[""]] * 26)
    feats, label = next(iter(ds))
    assert label.tolist() == cols["label"].tolist()
    np.testing.assert_array_equal(feats["I3"], np.nan_to_num(cols["I3"]))
    assert feats["C7"].tolist() == cols["C7"].tolist()
    ctr.write_parquet(str(tmp_path / "ctr.parquet"), 500, seed=5)
    t = pq.read_table(tmp_path / "ctr.parquet")
    assert t.num_rows == 500 and t.column("label").to_pylist() == cols["label"].tolist()
    i1 = np.array(t.column("I1").to_pylist(), dtype=object)
    assert [v is None for v in i1] == np.isnan(cols["I1"]).tolist()


def test_record_batches_parse_like_plain_arrays(tmp_path):
    from eagerflow.io.parse import RecordBatch
    files, _ = ctr.write_tfrecord(str(tmp_path / "r.tfrecord"), 2500, seed=6, num_shards=2)
    spec = ctr.feature_spec()
    for block in (64 << 10, 8 << 20):  # batches across read blocks (gathered) / within one
        frames = 0
        for b in TFRecordDataset(files, buffer_size=block).batch(700):
            assert isinstance(b, RecordBatch)
            frames += b.frame is not None
            plain = np.array(list(b), dtype=object)
            got, want = parse_example(b, spec), parse_example(plain, spec)
            for k in want:
                assert got[k].tolist() == want[k].tolist(), k
            assert parse_example(b[1:3], spec)["label"].tolist() == want["label"][1:3].tolist()
        assert frames == 4
