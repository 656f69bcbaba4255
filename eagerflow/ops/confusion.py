"""``tf.math.confusion_matrix``: counts (or weights) of (label, prediction) pairs.

Built from ``cast`` and ``scatter_nd``, so a floating ``weights`` argument is
differentiable, as in TensorFlow.
"""
import numpy as np

from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module, to_numpy
from ..backend.dtypes import as_dtype
from ..errors import InvalidArgumentError
from ..kernels.range_check import check_in_range
from .array import squeeze
from .indexing import scatter_nd
from .math import cast, ones_like

__all__ = ["confusion_matrix", "confusion_matrix_v1", "remove_squeezable_dimensions"]

_BIG = 2 ** 62


def _as_tensor(v, like=None):
    if isinstance(v, Tensor):
        return v
    a = _to_array(v)
    if like is not None and array_module(a) is not array_module(like._data):
        a = array_module(like._data).asarray(a)
    return _wrap(a)


def remove_squeezable_dimensions(labels, predictions, expected_rank_diff=0, name=None):
    """Squeezes the last dim of the larger-rank input when the ranks differ from
    ``expected_rank_diff`` by exactly 1 and that dim is 1 (TF's helper of the same name).

    Returns:
        ``(labels, predictions)`` as tensors, possibly squeezed.
    """
    labels = _as_tensor(labels)
    predictions = _as_tensor(predictions, like=labels)
    diff = predictions.ndim - labels.ndim
    if diff == expected_rank_diff + 1 and predictions.shape[-1] == 1:
        predictions = squeeze(predictions, [-1])
    elif diff == expected_rank_diff - 1 and labels.shape[-1] == 1:
        labels = squeeze(labels, [-1])
    return labels, predictions


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=np.int32,
                     name=None):
    """The confusion matrix of ``labels`` (rows) against ``predictions`` (columns)
    (``tf.math.confusion_matrix``).

    Args:
        labels: 1-D tensor of true class ids (cast to int64, so floats truncate).
        predictions: 1-D tensor of predicted class ids, the shape of ``labels`` (a trailing
            dim of 1 on either is squeezed).
        num_classes: the matrix size ``n``; default ``max(labels, predictions) + 1`` (read
            on the host).
        weights: optional tensor the shape of ``predictions``; each pair adds its weight
            instead of 1. It is cast to ``dtype`` first (float weights truncate for an int
            ``dtype``, as in TF).
        dtype: the result's dtype.

    Returns:
        Tensor of shape ``(n, n)`` and ``dtype``; repeated pairs add up.

    Raises:
        ValueError: for negative labels or predictions, values >= ``num_classes``,
            mismatched shapes (on the GPU the range checks raise at the next
            ``kernels.check_errors``).

    Example:
        >>> import eagerflow as ef
        >>> ef.math.confusion_matrix([1, 2, 2], [2, 2, 0]).numpy().tolist()
        [[0, 0, 0], [0, 0, 1], [1, 0, 1]]
    """
    dtype = as_dtype(dtype)
    labels, predictions = remove_squeezable_dimensions(labels, predictions)
    labels, predictions = cast(labels, np.int64), cast(predictions, np.int64)
    if labels.ndim != 1 or tuple(labels.shape) != tuple(predictions.shape):
        raise ValueError("confusion_matrix: labels and predictions must be 1-D with the same "
                         f"shape, got {tuple(labels.shape)} and {tuple(predictions.shape)}")
    la, pa = labels._data, predictions._data
    for what, a in (("labels", la), ("predictions", pa)):
        check_in_range(a, 0, _BIG,
                       f"confusion_matrix: `{what}` contains negative values (smallest: {{lo}})")
    if num_classes is None:
        if la.size == 0:
            raise ValueError("confusion_matrix: num_classes cannot be inferred from empty "
                             "labels and predictions; pass num_classes")
        xp = array_module(la)
        n = int(to_numpy(xp.maximum(la.max(), pa.max()))) + 1
    else:
        n = int(num_classes.numpy() if isinstance(num_classes, Tensor) else num_classes)
        if n < 0:
            raise InvalidArgumentError(f"confusion_matrix: num_classes must be >= 0, got {n}")
        for what, a in (("labels", la), ("predictions", pa)):
            check_in_range(a, -_BIG, n - 1,
                           f"confusion_matrix: `{what}` out of bound: must be < num_classes "
                           "(largest: {hi})")
    if weights is None:
        values = ones_like(predictions, dtype=dtype)
    else:
        weights = _as_tensor(weights, like=labels)
        if tuple(weights.shape) != tuple(predictions.shape):
            raise ValueError(f"confusion_matrix: weights must have the shape of predictions "
                             f"{tuple(predictions.shape)}, got {tuple(weights.shape)}")
        values = cast(weights, dtype)
    xp = array_module(la)
    indices = xp.stack([la, pa], axis=1)
    return scatter_nd(_wrap(indices), values, (n, n))


def confusion_matrix_v1(labels, predictions, num_classes=None, dtype=np.int32, name=None,
                        weights=None):
    """TF1's ``tf.confusion_matrix``: :func:`confusion_matrix` with TF1's argument order
    (``dtype`` and ``name`` before ``weights``)."""
    return confusion_matrix(labels, predictions, num_classes, weights, dtype, name)
