"""TF1 input helpers: producer order and epochs, batch/shuffle_batch end semantics."""
import numpy as np
import pytest

from eagerflow.data import Dataset
from eagerflow.data.legacy_input import (batch, match_filenames_once, shuffle_batch,
                                         string_input_producer)
from eagerflow.io.errors import OutOfRangeError


def test_producer_epochs_order_and_end():
    q = string_input_producer(["a", "b", "c"], num_epochs=2, shuffle=False)
    assert [q.dequeue() for _ in range(6)] == [b"a", b"b", b"c"] * 2
    with pytest.raises(OutOfRangeError, match="insufficient elements"):
        q.dequeue()
    s = string_input_producer(["a", "b", "c", "d"], num_epochs=3, seed=1)
    got = list(s)
    assert len(got) == 12 and all(sorted(got[i:i + 4]) == [b"a", b"b", b"c", b"d"]
                                  for i in (0, 4, 8))
    assert got[:4] != got[4:8] or got[4:8] != got[8:12]  # reshuffled per epoch
    again = list(string_input_producer(["a", "b", "c", "d"], num_epochs=3, seed=1))
    assert again == got
    with pytest.raises(ValueError, match="non-null"):
        string_input_producer([])


def test_match_filenames_once(tmp_path):
    for n in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / n).write_text("x")
    got = match_filenames_once(str(tmp_path / "*.txt"))
    assert [g.decode().rsplit("/", 1)[1] for g in got] == ["a.txt", "b.txt"]


def test_batch_and_shuffle_batch():
    x = np.arange(10)
    q = batch(x, 4, enqueue_many=True)
    assert [b.tolist() for b in q] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    q = batch(Dataset.range(10), 4, allow_smaller_final_batch=True)
    assert [len(b) for b in q] == [4, 4, 2]
    with pytest.raises(OutOfRangeError):
        q.dequeue()
    s = shuffle_batch(x, 5, capacity=20, min_after_dequeue=5, seed=3, enqueue_many=True)
    out = np.concatenate(list(s))
    assert sorted(out.tolist()) == list(range(10)) and out.tolist() != list(range(10))
    with pytest.raises(ValueError, match="min_after_dequeue"):
        shuffle_batch(x, 2, capacity=4, min_after_dequeue=4, enqueue_many=True)
    with pytest.raises(TypeError, match="enqueue_many"):
        batch([1, 2, 3], 2)


def test_batch_of_a_list_of_tensors_batches_each_tensor():
    feats, labels = np.arange(10).reshape(5, 2), np.arange(5) * 10
    q = batch([feats, labels], 2, enqueue_many=True, allow_smaller_final_batch=True)
    got = list(q)
    assert [type(b) for b in got] == [list] * 3
    assert [b[0].tolist() for b in got] == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9]]]
    assert [b[1].tolist() for b in got] == [[0, 10], [20, 30], [40]]
    s = shuffle_batch([feats, labels], 5, capacity=10, min_after_dequeue=2, seed=1,
                      enqueue_many=True)
    f, lab = s.dequeue()
    assert sorted(lab.tolist()) == [0, 10, 20, 30, 40]
    np.testing.assert_array_equal(f[:, 0] * 5, lab)  # rows stay paired
