"""``IndexedSlices``: the sparse gradient of a gather (rows ``indices`` of a dense tensor)."""
from ..backend.tf_dtypes import dtype_of
from .tensor import Tensor, TensorShape, _wrap

__all__ = ["IndexedSlices"]


class IndexedSlices:
    """A sparse set of rows of a tensor of shape ``dense_shape`` (``tf.IndexedSlices``).

    Row ``i`` of ``values`` belongs at row ``indices[i]``; duplicate indices add up. This is
    what the gradient of ``gather``/``embedding_lookup`` is, so optimizers can update only
    the touched rows.

    Args:
        values: Tensor of shape ``(n, *dense_shape[1:])``.
        indices: int Tensor of shape ``(n,)``.
        dense_shape: the shape of the dense tensor (a tuple of ints).
    """

    __slots__ = ("values", "indices", "dense_shape")

    def __init__(self, values, indices, dense_shape):
        if not isinstance(values, Tensor):
            values = _wrap(values)
        if not isinstance(indices, Tensor):
            indices = _wrap(indices)
        self.values = values
        self.indices = indices
        self.dense_shape = TensorShape(int(d) for d in dense_shape)

    @property
    def dtype(self):
        return dtype_of(self.values.dtype)  # TF's DType

    @property
    def shape(self):
        return self.dense_shape

    def _as_dense_tensor(self):
        from .registry import get
        return get("unsorted_segment_sum")(self.values, self.indices,
                                            num_segments=self.dense_shape[0])

    def to_dense(self):
        """The dense tensor these slices describe (duplicates summed)."""
        return self._as_dense_tensor()

    def numpy(self):
        return self.to_dense().numpy()

    def __repr__(self):
        return (f"IndexedSlices(values shape={tuple(self.values.shape)}, "
                f"indices shape={tuple(self.indices.shape)}, dense_shape={list(self.dense_shape)})")
