"""``SparseTensor``: TensorFlow's COO sparse value (indices, values, dense_shape)."""
import numpy as np

from ..backend.tf_dtypes import dtype_of

__all__ = ["SparseTensor"]


class SparseTensor:
    """A sparse tensor in TF's COO layout.

    Args:
        indices: int64 array of shape ``(nnz, rank)``, the coordinates of the values.
        values: array of shape ``(nnz,)``.
        dense_shape: int64 array of shape ``(rank,)``.

    The components are kept as given: NumPy arrays from an input pipeline, or Tensors.

    Example:
        >>> st = SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
        >>> st.dense_shape.tolist()
        [3, 4]
    """

    __slots__ = ("indices", "values", "dense_shape")

    def __init__(self, indices, values, dense_shape):
        if isinstance(indices, (list, tuple)):
            indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(dense_shape))
        if isinstance(values, (list, tuple)):
            values = np.asarray(values)
            if values.dtype == np.float64:
                values = values.astype(np.float32)
            elif values.dtype.kind in "US":
                values = values.astype(object)
        if isinstance(dense_shape, (list, tuple)):
            dense_shape = np.asarray(dense_shape, dtype=np.int64)
        ishape, vshape, sshape = (tuple(getattr(a, "shape", ())) for a in (indices, values, dense_shape))
        if len(ishape) != 2 or len(vshape) != 1 or len(sshape) != 1 or ishape[0] != vshape[0] \
                or ishape[1] != sshape[0]:
            raise ValueError(
                "SparseTensor needs indices (nnz, rank), values (nnz,) and dense_shape (rank,); "
                f"got indices {ishape}, values {vshape}, dense_shape {sshape}")
        self.indices = indices
        self.values = values
        self.dense_shape = dense_shape

    @property
    def dtype(self):
        return dtype_of(self.values.dtype)  # TF's DType

    @property
    def shape(self):
        ds = self.dense_shape
        ds = getattr(ds, "numpy", lambda: ds)()
        return tuple(int(d) for d in np.asarray(ds).tolist())

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices!r}, values={self.values!r}, "
                f"dense_shape={self.dense_shape!r})")
