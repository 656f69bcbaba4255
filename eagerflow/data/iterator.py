"""Public iterators over a Dataset, with state that can be saved and restored.

``Iterator.get_state()`` returns a plain JSON-able dict (buffered elements are stored as
base64 array encodings, never pickles); ``set_state`` on a fresh iterator of an equal
pipeline resumes exactly where the saved one stood, shuffle order included.

Example:
    >>> from eagerflow.data import Dataset
    >>> it = iter(Dataset.range(5).shuffle(5, seed=1))
    >>> first = next(it); state = it.get_state()
    >>> rest = list(it)
    >>> it2 = iter(Dataset.range(5).shuffle(5, seed=1)); it2.set_state(state)
    >>> [int(x) for x in it2] == [int(x) for x in rest]
    True
"""
import json
import os

import numpy as np

from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.io.errors import InvalidArgumentError, OutOfRangeError

from .structure import (as_host_arrays, decode_array, encode_array, flatten, pack_like,
                        spec_of)

__all__ = ["Iterator", "InitializableIterator", "Optional", "make_one_shot_iterator",
           "make_initializable_iterator", "encode_element", "decode_element",
           "deferred_element", "materialize", "save_state", "load_state"]

STATE_VERSION = 1


def encode_element(elem):
    """A JSON-able list for an element's leaves."""
    out = []
    for leaf in flatten(elem):
        if isinstance(leaf, SparseTensor):
            out.append({"sparse": [encode_array(leaf.indices), encode_array(leaf.values),
                                   encode_array(leaf.dense_shape)]})
        else:
            out.append(encode_array(leaf))
    return out


class _Deferred:
    """An element kept by reference in a state snapshot, encoded when the state is
    materialized (iterators' buffers: encoding a 10k-element shuffle buffer took 50 ms)."""

    __slots__ = ("elem",)

    def __init__(self, elem):
        self.elem = elem


def deferred_element(elem):
    """What an iterator's ``save()`` puts in its state for a buffered element: the element
    by reference (the pipeline never writes into an element it has produced), encoded by
    :func:`materialize` only when the state is written."""
    return _Deferred(elem)


def materialize(state):
    """``state`` with every :func:`deferred_element` encoded: JSON-able."""
    if isinstance(state, _Deferred):
        return encode_element(state.elem)
    if isinstance(state, dict):
        return {k: materialize(v) for k, v in state.items()}
    if isinstance(state, list):
        return [materialize(v) for v in state]
    return state


def decode_element(structure, encoded):
    """Inverse of :func:`encode_element`; ``structure`` is the dataset's element_spec."""
    leaves = []
    for d in encoded:
        if "sparse" in d:
            leaves.append(SparseTensor(*[decode_array(x) for x in d["sparse"]]))
        else:
            leaves.append(decode_array(d))
    return pack_like(structure, leaves)


def save_state(state, path):
    """Writes an iterator state dict to ``path`` as JSON (atomically)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_state(path):
    """Reads a state written by :func:`save_state`."""
    with open(path) as f:
        return json.load(f)


class Iterator:
    """An iterator over one pass of a dataset.

    Python iteration raises StopIteration at the end; TF1's :meth:`get_next` raises
    :class:`~eagerflow.errors.OutOfRangeError`. Dropping the iterator (or
    :meth:`close`) stops any background threads of the pipeline.
    """

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._make()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        if self._it is None:
            raise StopIteration
        # arrays that also answer TF2's x.numpy(); still NumPy arrays for everything else
        return as_host_arrays(next(self._it))

    def get_next(self, name=None):
        """The next element; OutOfRangeError at the end of the pass."""
        del name
        try:
            return self.__next__()
        except StopIteration:
            raise OutOfRangeError("End of sequence") from None

    def get_next_as_optional(self):
        """The next element wrapped in an :class:`Optional`, empty at the end of the pass
        (instead of raising).

        Example:
            >>> from eagerflow.data import Dataset
            >>> it = iter(Dataset.from_tensors(42))
            >>> opt = it.get_next_as_optional()
            >>> bool(opt.has_value()), int(opt.get_value())
            (True, 42)
            >>> bool(it.get_next_as_optional().has_value())
            False
        """
        try:
            return Optional.from_value(self.__next__())
        except StopIteration:
            return Optional.empty(self.element_spec)

    def get_state(self):
        """The position of the iterator as a JSON-able dict."""
        return materialize(self.snapshot())

    def snapshot(self):
        """The position, cheaply: buffered elements by reference (:func:`materialize`
        makes it the :meth:`get_state` dict). For a position taken every batch and
        written only now and then (the Estimator's checkpoints)."""
        return {"version": STATE_VERSION, "state": self._it.save()}

    def set_state(self, state):
        """Moves this (fresh) iterator to a saved position."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError("state must be a dict returned by Iterator.get_state()")
        self._it.restore(state["state"])

    def save(self, path):
        """Writes :meth:`get_state` to ``path`` as JSON."""
        save_state(self.get_state(), path)

    def restore(self, path):
        """Restores from a file written by :meth:`save`."""
        self.set_state(load_state(path))

    def close(self):
        """Stops background work and releases files."""
        if self._it is not None:
            self._it.close()
            self._it = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class Optional:
    """``tf.experimental.Optional``: a value that may be absent.

    Example:
        >>> opt = Optional.empty(None)
        >>> bool(opt.has_value())
        False
        >>> opt.get_value()
        Traceback (most recent call last):
        ...
        eagerflow.errors.InvalidArgumentError: The given optional does not have a value.
    """

    __slots__ = ("_value", "_has", "_spec")

    def __init__(self, value, has_value, element_spec):
        self._value, self._has, self._spec = value, has_value, element_spec

    @staticmethod
    def from_value(value):
        """An Optional holding ``value``."""
        return Optional(value, True, spec_of(value))

    @staticmethod
    def empty(element_spec):
        """An Optional with no value, of elements like ``element_spec``."""
        return Optional(None, False, element_spec)

    @property
    def element_spec(self):
        """The spec structure of the (possible) value."""
        return self._spec

    def has_value(self, name=None):
        """A scalar bool: whether there is a value."""
        del name
        return np.asarray(self._has)

    def get_value(self, name=None):
        """The value; InvalidArgumentError when there is none."""
        del name
        if not self._has:
            raise InvalidArgumentError("The given optional does not have a value.")
        return self._value

    def __repr__(self):
        return f"Optional(has_value={self._has}, element_spec={self._spec!r})"


class InitializableIterator(Iterator):
    """TF1's initializable iterator: call :meth:`initialize` (or run ``initializer``)
    before :meth:`get_next`, and again to restart."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = None

    @property
    def initializer(self):
        """Calling this value (or :meth:`initialize`) starts a fresh pass."""
        return self.initialize

    def initialize(self):
        self.close()
        self._it = self._dataset._make()

    def __next__(self):
        if self._it is None:
            raise RuntimeError("the iterator is not initialized; call initialize() first")
        return next(self._it)


def make_one_shot_iterator(dataset):
    """``tf.compat.v1.data.make_one_shot_iterator``."""
    return Iterator(dataset)


def make_initializable_iterator(dataset, shared_name=None):
    """``tf.compat.v1.data.make_initializable_iterator``."""
    del shared_name
    return InitializableIterator(dataset)
