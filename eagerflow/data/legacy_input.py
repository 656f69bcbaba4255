"""TF1's queue-based input helpers as thin wrappers over ``Dataset``:
``string_input_producer``, ``match_filenames_once``, ``batch``, ``shuffle_batch``.

There are no queue runners eagerly: each helper returns a :class:`QueueLike` whose
``dequeue()`` (or iteration) gives the next item and raises ``OutOfRangeError`` at the end,
as a TF1 input queue does.

Example:
    >>> q = string_input_producer(["a.tfrecord", "b.tfrecord"], num_epochs=1, shuffle=False)
    >>> [q.dequeue() for _ in range(2)]
    [b'a.tfrecord', b'b.tfrecord']
"""
import glob as _glob

import numpy as np

from ..io.errors import OutOfRangeError
from .dataset import Dataset

__all__ = ["QueueLike", "string_input_producer", "match_filenames_once", "batch",
           "shuffle_batch"]


class QueueLike:
    """The consumer end of a TF1 input queue."""

    def __init__(self, dataset, what, convert=None):
        self._convert = convert
        self._dataset = dataset
        self._it = iter(dataset)
        self._what = what
        self._closed = False

    def dequeue(self):
        if self._closed:
            raise OutOfRangeError(f"{self._what} is closed")
        try:
            item = next(self._it)
            return self._convert(item) if self._convert else item
        except StopIteration:
            self._closed = True
            raise OutOfRangeError(f"{self._what} is closed and has insufficient elements "
                                  "(requested 1, current size 0)") from None

    def dequeue_many(self, n):
        return [self.dequeue() for _ in range(int(n))]

    def __iter__(self):
        while True:
            try:
                yield self.dequeue()
            except OutOfRangeError:
                return

    def close(self, cancel_pending_enqueues=False):
        self._closed = True

    @property
    def dataset(self):
        return self._dataset


def _names(string_tensor):
    a = string_tensor.numpy() if hasattr(string_tensor, "numpy") else string_tensor
    items = [x if isinstance(x, bytes) else str(x).encode() for x in np.asarray(a).ravel()]
    return items


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None,
                          capacity=32, shared_name=None, name=None, cancel_op=None):
    """File names, epoch after epoch (each epoch reshuffled when ``shuffle``), then the end.

    Raises:
        ValueError: for an empty list of names.
    """
    names = _names(string_tensor)
    if not names:
        raise ValueError("string_input_producer requires a non-null input tensor (no files)")
    if num_epochs is not None and num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 or None, got {num_epochs}")
    rng = np.random.default_rng(seed)

    def gen():
        epoch = 0
        while num_epochs is None or epoch < num_epochs:
            order = rng.permutation(len(names)) if shuffle else range(len(names))
            for i in order:
                yield names[i]
            epoch += 1
    return QueueLike(Dataset.from_generator(gen, output_types=object, output_shapes=()),
                     "FIFOQueue '_0_input_producer'", convert=lambda a: np.asarray(a).item())


def match_filenames_once(pattern, name=None):
    """The sorted file names matching ``pattern`` (a glob, or a list of globs)."""
    patterns = [pattern] if isinstance(pattern, (str, bytes)) else list(pattern)
    out = []
    for p in patterns:
        out += sorted(_glob.glob(p.decode() if isinstance(p, bytes) else p))
    return np.array([s.encode() for s in out], dtype=object)


def _source(tensors, enqueue_many):
    if isinstance(tensors, QueueLike):
        return tensors.dataset
    if isinstance(tensors, Dataset):
        return tensors
    if enqueue_many:
        # a list is a list of separate tensors (TF1's ``tensors`` argument), not one stacked
        # tensor as ``from_tensor_slices`` reads it
        return Dataset.from_tensor_slices(tuple(tensors) if isinstance(tensors, list)
                                          else tensors)
    if callable(tensors):
        return Dataset.from_generator(tensors)
    raise TypeError("batch: tensors must be a Dataset, an input producer, a generator "
                    "function, or (with enqueue_many=True) arrays whose first dim is examples")


def _as_list_if(tensors):
    """TF1 returns a list of batched tensors for a list of tensors."""
    return list if isinstance(tensors, list) else None


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches of ``batch_size`` elements (TF1 ``tf.train.batch``); the final short batch
    only with ``allow_smaller_final_batch``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = _source(tensors, enqueue_many)
    ds = ds.padded_batch(batch_size, drop_remainder=not allow_smaller_final_batch) \
        if dynamic_pad else ds.batch(batch_size, drop_remainder=not allow_smaller_final_batch)
    return QueueLike(ds, "batch/fifo_queue", convert=_as_list_if(tensors))


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """Shuffled batches (TF1 ``tf.train.shuffle_batch``): a shuffle buffer of
    ``min_after_dequeue + batch_size`` elements (at most ``capacity``)."""
    if min_after_dequeue >= capacity:
        raise ValueError(f"capacity ({capacity}) must be larger than min_after_dequeue "
                         f"({min_after_dequeue})")
    ds = _source(tensors, enqueue_many)
    buf = max(1, min(capacity, min_after_dequeue + batch_size))
    ds = ds.shuffle(buf, seed=seed).batch(batch_size,
                                          drop_remainder=not allow_smaller_final_batch)
    return QueueLike(ds, "shuffle_batch/random_shuffle_queue", convert=_as_list_if(tensors))
