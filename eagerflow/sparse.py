"""``tf.sparse``: SparseTensor helpers and feature crosses."""
from .autograd.sparse_tensor import SparseTensor
from .nn import sparse_reorder, sparse_tensor_to_dense
from .ops.cross import sparse_cross as cross
from .ops.cross import sparse_cross_hashed as cross_hashed

to_dense = sparse_tensor_to_dense
reorder = sparse_reorder

__all__ = ["SparseTensor", "cross", "cross_hashed", "to_dense", "reorder"]
