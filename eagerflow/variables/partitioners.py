"""Partitioners (``tf.fixed_size_partitioner``, ``tf.min_max_variable_partitioner``) and the
:class:`PartitionedVariable` that ``get_variable(..., partitioner=...)`` returns.

A partitioner is ``fn(shape, dtype) -> list of ints`` (one per dimension; one entry > 1).
Shards split that axis the way TF does: the first ``dim % n`` shards get one extra row, so
``embedding_lookup(list(pv), ids, partition_strategy='div')`` finds the same rows TF does.

Example:
    >>> fixed_size_partitioner(3)((10, 4), None)
    [3, 1]
"""
import math

import numpy as np

__all__ = ["fixed_size_partitioner", "min_max_variable_partitioner",
           "variable_axis_size_partitioner", "PartitionedVariable", "shard_sizes"]


def fixed_size_partitioner(num_shards, axis=0):
    """A partitioner that splits ``axis`` into ``num_shards`` shards.

    Raises:
        ValueError: for ``num_shards < 1``.
    """
    if int(num_shards) < 1:
        raise ValueError(f"fixed_size_partitioner: num_shards must be >= 1, got {num_shards}")

    def _partitioner(shape, dtype):
        shape = tuple(shape)
        if axis >= len(shape):
            raise ValueError(f"fixed_size_partitioner: axis {axis} out of range for shape {shape}")
        parts = [1] * len(shape)
        parts[axis] = min(int(num_shards), shape[axis]) if shape[axis] else 1
        return parts
    return _partitioner


def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10,
                                 bytes_per_string_element=16):
    """Shards of at least ``min_slice_size`` bytes, at most ``max_partitions`` of them."""
    if max_partitions < 1:
        raise ValueError(f"min_max_variable_partitioner: max_partitions must be >= 1, got "
                         f"{max_partitions}")

    def _partitioner(shape, dtype):
        shape = tuple(shape)
        if axis >= len(shape):
            raise ValueError(f"min_max_variable_partitioner: axis {axis} out of range for "
                             f"shape {shape}")
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        per = bytes_per_string_element if dt.kind in "OSU" else dt.itemsize
        total = math.prod(shape) * per
        parts = [1] * len(shape)
        parts[axis] = max(1, min(shape[axis], max_partitions,
                                 int(math.ceil(total / min_slice_size))))
        return parts
    return _partitioner


def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16,
                                   max_shards=None):
    """Shards of at most ``max_shard_bytes`` bytes along ``axis`` (TF's formula)."""
    if max_shard_bytes < 1:
        raise ValueError("variable_axis_size_partitioner: max_shard_bytes must be positive")

    def _partitioner(shape, dtype):
        shape = tuple(shape)
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        per = bytes_per_string_element if dt.kind in "OSU" else dt.itemsize
        slice_bytes = math.prod(shape[:axis] + shape[axis + 1:]) * per
        slices_per_shard = max(1, max_shard_bytes // max(slice_bytes, 1))
        n = int(math.ceil(shape[axis] / slices_per_shard))
        if max_shards:
            n = min(n, max_shards)
        parts = [1] * len(shape)
        parts[axis] = max(1, n)
        return parts
    return _partitioner


def shard_sizes(dim, num_shards):
    """Sizes of ``num_shards`` shards of a ``dim``-long axis (the first ``dim % n`` get +1)."""
    base, extra = divmod(int(dim), int(num_shards))
    return [base + (1 if i < extra else 0) for i in range(int(num_shards))]


class PartitionedVariable(list):
    """The shards of a partitioned variable, in order; a list, as ``embedding_lookup`` wants.

    Attributes:
        name: the full variable name; shards are ``<name>/part_<i>``.
        shape: the full shape.
        dtype: the dtype.
        axis: the axis the shards split.
    """

    def __init__(self, name, shape, dtype, shards, axis):
        super().__init__(shards)
        self.name = name
        self.shape = tuple(shape)
        self.dtype = dtype
        self.axis = axis

    def get_shape(self):
        return self.shape

    def _get_variable_list(self):
        return list(self)

    def _get_partitions(self):
        parts = [1] * len(self.shape)
        parts[self.axis] = len(self)
        return parts

    def as_tensor(self):
        """The shards concatenated into one Tensor (differentiable)."""
        from ..ops import concat
        return concat(list(self), axis=self.axis)

    def __repr__(self):
        return (f"<PartitionedVariable '{self.name}' shape={self.shape} "
                f"shards={len(self)}>")

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other
