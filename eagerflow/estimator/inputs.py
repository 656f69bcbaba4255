"""Turning what an ``input_fn`` returns into batches of Tensors on the current backend."""
import inspect

import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from .model_fn import ModeKeys

__all__ = ["call_input_fn", "batches", "to_tensors"]


def call_input_fn(input_fn, mode, params, config):
    """Calls ``input_fn`` with the ``params``/``config``/``mode`` it declares (as TF does)."""
    if not callable(input_fn):
        raise TypeError(f"input_fn must be callable, got {type(input_fn).__name__}")
    names = inspect.signature(input_fn).parameters
    kwargs = {}
    if "params" in names:
        kwargs["params"] = params
    if "config" in names:
        kwargs["config"] = config
    if "mode" in names:
        kwargs["mode"] = mode
    return input_fn(**kwargs)


def _to_tensor(x):
    if isinstance(x, (Tensor, SparseTensor)) or x is None:
        if isinstance(x, SparseTensor):
            return SparseTensor(*(c if isinstance(c, Tensor) else _wrap(backend.asarray(c))
                                  for c in (x.indices, x.values, x.dense_shape)))
        return x
    a = np.asarray(x) if not backend.is_array(x) else x
    if isinstance(a, np.ndarray) and a.dtype.kind in "OUS":
        return _wrap(a.astype(object) if a.dtype.kind != "O" else a)  # strings stay on the host
    return _wrap(backend.asarray(a))


def to_tensors(structure):
    """Every leaf of a nested features/labels structure as a Tensor (SparseTensors kept)."""
    if isinstance(structure, SparseTensor):
        return _to_tensor(structure)
    return nest.map_structure(_to_tensor, structure)


def _is_stream(obj):
    return hasattr(obj, "__iter__") and not isinstance(
        obj, (tuple, list, dict, Tensor, np.ndarray, SparseTensor, str, bytes))


def batches(result, mode):
    """Yields ``(features, labels)`` pairs from an input_fn result.

    A Dataset (or any iterable of elements) is iterated once; a ``(features, labels)`` tuple
    (or features alone) is a single batch — repeated forever in TRAIN mode, where the step
    count ends training, and used once otherwise.
    """
    if _is_stream(result):
        for elem in result:
            yield _split(elem, mode)
        return
    pair = _split(result, mode)
    if mode == ModeKeys.TRAIN:
        while True:
            yield pair
    yield pair


def _split(elem, mode):
    if isinstance(elem, tuple) and len(elem) == 2:
        features, labels = elem
    elif isinstance(elem, tuple) and len(elem) == 1:
        features, labels = elem[0], None
    else:
        features, labels = elem, None
    if mode == ModeKeys.PREDICT:
        labels = None
    return to_tensors(features), (None if labels is None else to_tensors(labels))
