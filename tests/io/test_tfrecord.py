import os

import crc32c
import numpy as np
import pytest

from eagerflow.io import DataLossError, NotFoundError, TFRecordOptions, TFRecordWriter, tf_record_iterator
from eagerflow.io._framing import crc32c_np
from eagerflow.io.tfrecord import TFRecordReader, encode_record, masked_crc32c, unmask_crc32c


def test_crc_check_value_and_vectors():
    assert crc32c.crc32c(b"123456789") == 0xE3069283
    assert crc32c_np(b"123456789") == 0xE3069283
    from eagerflow.io._framing import HW_CRC
    for n in (0, 1, 7, 8, 9, 1000, 1003):
        data = os.urandom(n)
        assert crc32c_np(data, hardware=False) == crc32c.crc32c(data)
        if HW_CRC:
            assert crc32c_np(data, hardware=True) == crc32c.crc32c(data)
            from eagerflow.io._framing import _TABLES, _crc_hw
            arr = np.frombuffer(b"abc" + data + b"zz", np.uint8)
            got = _crc_hw(arr, arr[:len(arr) // 8 * 8].view(np.uint64), 3, n, _TABLES)
            assert got == crc32c.crc32c(data)  # unaligned start and a ragged end
    assert encode_record(b"hello").hex() == "0500000000000000eab2043e68656c6c6fbb1f1c19"
    assert encode_record(b"").hex() == "000000000000000029039807d8ea82a2"
    assert unmask_crc32c(masked_crc32c(b"abc")) == crc32c.crc32c(b"abc")


@pytest.mark.parametrize("comp", [None, "", "GZIP", "ZLIB", TFRecordOptions("GZIP", 9)])
def test_roundtrip(tmp_path, comp):
    p = tmp_path / "a.tfrecord"
    recs = [os.urandom(i % 300) for i in range(500)]
    with TFRecordWriter(p, comp) as w:
        for r in recs:
            w.write(r)
    assert list(tf_record_iterator(p, comp)) == recs


def test_reader_block_boundaries_and_seek(tmp_path):
    p = tmp_path / "a.tfrecord"
    recs = [bytes([i % 256]) * (i * 7 % 200) for i in range(300)]
    with TFRecordWriter(p) as w:
        for r in recs:
            w.write(r)
    r = TFRecordReader(p, buffer_size=64)  # records straddle blocks
    got = r.read_many(100)
    off = r.offset
    got += r.read_many(1000)
    assert got == recs
    r2 = TFRecordReader(p, buffer_size=97)
    r2.seek(off)
    assert r2.read_many(1000) == recs[100:]


def test_corrupt_and_truncated_name_file_and_offset(tmp_path):
    p = tmp_path / "a.tfrecord"
    with TFRecordWriter(p) as w:
        for i in range(3):
            w.write(b"x" * 10)
    raw = bytearray(p.read_bytes())
    bad = tmp_path / "bad.tfrecord"
    raw2 = bytearray(raw)
    raw2[26 + 12 + 3] ^= 1
    bad.write_bytes(bytes(raw2))
    # a bad data CRC names the data's offset (after the 12-byte header), as TF does
    with pytest.raises(DataLossError, match=r"bad.tfrecord: corrupted record at 38 "):
        list(tf_record_iterator(bad))
    hdr = bytearray(raw)
    hdr[26 + 2] ^= 1
    bad.write_bytes(bytes(hdr))
    with pytest.raises(DataLossError, match="corrupted record at 26.*header"):
        list(tf_record_iterator(bad))
    bad.write_bytes(bytes(raw[:26 + 14]))
    with pytest.raises(DataLossError, match="truncated record at 26"):
        list(tf_record_iterator(bad))
    bad.write_bytes(bytes(raw[:26 + 5]))
    with pytest.raises(DataLossError, match="truncated record at 26"):
        list(tf_record_iterator(bad))
    # CRC checks can be switched off
    bad.write_bytes(bytes(raw2))
    assert len(TFRecordReader(bad, check_crc=False).read_many(10)) == 3


def test_truncated_gzip_is_data_loss(tmp_path):
    p = tmp_path / "a.gz"
    with TFRecordWriter(p, "GZIP") as w:
        for i in range(200):
            w.write(os.urandom(100))
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataLossError, match="a.gz"):
        list(tf_record_iterator(p, "GZIP"))


def test_missing_file_and_bad_option(tmp_path):
    with pytest.raises(NotFoundError):
        list(tf_record_iterator(tmp_path / "nope"))
    with pytest.raises(ValueError, match="compression_type"):
        TFRecordOptions("SNAPPY")


def test_writer_accepts_protos_and_flush(tmp_path):
    from eagerflow.io import Example
    p = tmp_path / "e.tfrecord"
    w = TFRecordWriter(p, "ZLIB")
    w.write(Example())
    w.flush()
    w.write(b"z")
    w.close()
    assert list(tf_record_iterator(p, "ZLIB")) == [b"", b"z"]
