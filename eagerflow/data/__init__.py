"""``eagerflow.data``: tf.data's Dataset API on NumPy, with readers and iterators.

Fast path for Example files: ``TFRecordDataset(files).batch(B).map(lambda s:
parse_example(s, spec), num_parallel_calls=2).prefetch(AUTOTUNE)``. Batching records
straight from the reader hands ``parse_example`` one contiguous buffer, and a spec of only
FixedLenFeatures is decoded in one compiled, GIL-free call. Work runs on threads, so
throughput is bounded by the GIL-held part (creating ``bytes`` objects): more than 2-4
parser threads rarely help.

Example:
    >>> import eagerflow.data as efd
    >>> [int(x) for x in efd.Dataset.range(10).shard(3, 1)]
    [1, 4, 7]
"""
from . import experimental
from .dataset import (AUTOTUNE, INFINITE, INFINITE_CARDINALITY, UNKNOWN, UNKNOWN_CARDINALITY,
                      Dataset)
from .iterator import (InitializableIterator, Iterator, make_initializable_iterator,
                       make_one_shot_iterator)
from .options import Options, ThreadingOptions
from .readers import ParquetDataset, TextLineDataset, TFRecordDataset
from .structure import SparseTensorSpec, TensorSpec

AUTOTUNE = AUTOTUNE

__all__ = ["Dataset", "TFRecordDataset", "TextLineDataset", "ParquetDataset", "AUTOTUNE",
           "INFINITE", "UNKNOWN", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Iterator", "InitializableIterator",
           "make_one_shot_iterator", "make_initializable_iterator", "TensorSpec",
           "SparseTensorSpec", "Options", "ThreadingOptions", "experimental"]
