"""Turning what an ``input_fn`` returns into batches of Tensors on the current backend."""
import inspect

import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..data.dataset import Dataset
from .model_fn import ModeKeys

__all__ = ["call_input_fn", "batches", "to_tensors"]


def call_input_fn(input_fn, mode, params, config, strategy=None):
    """Calls ``input_fn`` with the ``params``/``config``/``mode``/``input_context`` it
    declares (as TF does).

    With a distribution ``strategy``, each worker reads its share: an ``input_fn`` that
    takes ``input_context`` shards by itself; a Dataset it returns is otherwise sharded
    element-wise with ``shard(num_workers, worker_index)`` (so a dataset batched by B on
    N workers gives, step by step, the batches of N*B of a single process).
    """
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
    if "input_context" in names:
        kwargs["input_context"] = None if strategy is None else strategy.input_context()
        return input_fn(**kwargs)
    result = input_fn(**kwargs)
    if strategy is not None and strategy.num_workers > 1 and isinstance(result, Dataset):
        result = result.shard(strategy.num_workers, strategy.worker_index)
    return result


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
