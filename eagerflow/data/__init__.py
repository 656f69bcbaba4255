"""``eagerflow.data``: tf.data's Dataset API on NumPy, with readers and iterators.

Example:
    >>> import eagerflow.data as efd
    >>> [int(x) for x in efd.Dataset.range(10).shard(3, 1)]
    [1, 4, 7]
"""
from . import experimental
from .dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset
from .iterator import (InitializableIterator, Iterator, make_initializable_iterator,
                       make_one_shot_iterator)
from .readers import ParquetDataset, TextLineDataset, TFRecordDataset
from .structure import SparseTensorSpec, TensorSpec

AUTOTUNE = AUTOTUNE

__all__ = ["Dataset", "TFRecordDataset", "TextLineDataset", "ParquetDataset", "AUTOTUNE",
           "INFINITE", "UNKNOWN", "Iterator", "InitializableIterator",
           "make_one_shot_iterator", "make_initializable_iterator", "TensorSpec",
           "SparseTensorSpec", "experimental"]
