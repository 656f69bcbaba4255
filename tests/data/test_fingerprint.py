"""The recipe fingerprint that decides whether a saved iterator position fits a pipeline."""
import numpy as np
import pytest

from eagerflow.data import Dataset, TFRecordDataset
from eagerflow.data.fingerprint import structure_fingerprint as fp


def double(x):
    return x * 2


def triple(x):
    return x * 3


def test_same_recipe_matches_across_unseeded_shuffles_and_epochs():
    make = lambda: Dataset.range(50).shuffle(10).repeat().batch(4).map(double)  # noqa: E731
    a = make()
    list(zip(range(3), a))  # iterating (epoch counters, cached specs) changes nothing
    assert fp(a) == fp(make())


def test_recipe_changes_do_not_match():
    base = fp(Dataset.range(50).shuffle(10).batch(4).map(double))
    assert base != fp(Dataset.range(50).shuffle(10).batch(5).map(double))
    assert base != fp(Dataset.range(50).shuffle(11).batch(4).map(double))
    assert base != fp(Dataset.range(50).shuffle(10).batch(4).map(triple))
    assert base != fp(Dataset.range(50).batch(4).map(double))
    assert fp(TFRecordDataset(["a", "b"])) != fp(TFRecordDataset(["a", "c"]))
    x = np.zeros((8, 2), np.float32)
    assert fp(Dataset.from_tensor_slices(x)) != fp(Dataset.from_tensor_slices(x[:, :1]))


def test_not_a_dataset_is_named():
    with pytest.raises(TypeError, match=r"^structure_fingerprint: expected a Dataset, got list$"):
        fp([1, 2, 3])
