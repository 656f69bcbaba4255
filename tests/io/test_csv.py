import numpy as np
import pytest

from eagerflow.io import InvalidArgumentError, decode_csv


def test_decode_csv_types_defaults_quotes():
    recs = np.array([b'1,"a,b",2.5', b',c,', b'3,"",1e3'], dtype=object)
    a, s, f = decode_csv(recs, [[7], [""], [0.5]])
    assert a.dtype == np.int64 and a.tolist() == [1, 7, 3]
    assert s.tolist() == [b"a,b", b"c", b""]
    assert f.dtype == np.float32 and f.tolist() == [2.5, 0.5, 1000.0]


def test_decode_csv_select_cols_delim_na_and_shape():
    recs = np.array([[b"1|x|NA"], [b"2|y|4"]], dtype=object)
    a, c = decode_csv(recs, [[0], [0.0]], field_delim="|", select_cols=[0, 2], na_value="NA")
    assert a.shape == (2, 1) and a.ravel().tolist() == [1, 2]
    assert c.ravel().tolist() == [0.0, 4.0]


def test_decode_csv_errors():
    with pytest.raises(InvalidArgumentError, match="Expect 2 fields but have 3 in record 0"):
        decode_csv([b"1,2,3"], [[0], [0]])
    with pytest.raises(InvalidArgumentError, match="Field 1 is required"):
        decode_csv([b"1,"], [[0], np.zeros(0, np.int64)])
    with pytest.raises(InvalidArgumentError, match="not a valid int64"):
        decode_csv([b"1,x"], [[0], [0]])
