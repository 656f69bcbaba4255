"""Source datasets: from_tensors, from_tensor_slices, range, from_generator, list_files."""
import glob as _glob
import os

import numpy as np

from eagerflow.io.errors import InvalidArgumentError

from .dataset import Cardinality, Dataset, DatasetIterator
from .structure import (TensorSpec, check_equal_dim0, flatten, flatten_raw, normalize,
                        pack_like, spec_of)
from eagerflow.backend import dtypes as _dtypes

__all__ = ["TensorsDataset", "TensorSlicesDataset", "RangeDataset", "GeneratorDataset",
           "list_files"]


def _frozen(leaf):
    if isinstance(leaf, np.ndarray):
        leaf = leaf.copy()
        leaf.flags.writeable = False
    return leaf


class TensorsDataset(Dataset):
    """One element: the given structure."""

    def __init__(self, tensors):
        self._structure = tensors
        self._leaves = [_frozen(x) for x in flatten(tensors)]
        self._spec = spec_of(pack_like(tensors, self._leaves))

    def _make(self, peek=False):
        return _ListIter(self, 1)

    def _element(self, i):
        return pack_like(self._structure, self._leaves)

    def cardinality(self):
        return Cardinality(1)


class TensorSlicesDataset(Dataset):
    """Elements are the dim-0 slices of every component."""

    def __init__(self, tensors):
        self._structure = tensors
        leaves = flatten(tensors)
        if not leaves:
            raise ValueError("from_tensor_slices: tensors has no components")
        self._n = check_equal_dim0(leaves)
        self._leaves = [_frozen(x) for x in leaves]
        self._spec = pack_like(tensors, [TensorSpec(l.shape[1:], l.dtype) for l in leaves])

    def _make(self, peek=False):
        return _ListIter(self, self._n)

    def _element(self, i):
        return pack_like(self._structure, [l[i, ...] for l in self._leaves])

    def cardinality(self):
        return Cardinality(self._n)


class _ListIter(DatasetIterator):
    def __init__(self, ds, n):
        self.ds, self.n, self.i = ds, n, 0

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.ds._element(self.i - 1)

    def save(self):
        return {"i": self.i}

    def restore(self, state):
        self.i = int(state["i"])


class RangeDataset(Dataset):
    """int64 scalars like Python's range(start, stop, step)."""

    def __init__(self, *args, output_type="int64", dtype=None):
        if not 1 <= len(args) <= 3:
            raise TypeError("range() takes 1 to 3 positional arguments (stop / start, stop, step)")
        r = range(*(int(a) for a in args))
        if r.step == 0:
            raise InvalidArgumentError("range: step must not be 0")
        self._range = r
        self._dtype = _dtypes.as_dtype(dtype or output_type)
        self._spec = TensorSpec((), self._dtype)

    def _make(self, peek=False):
        return _RangeIter(self._range, self._dtype)

    def cardinality(self):
        return Cardinality(len(self._range))


class _RangeIter(DatasetIterator):
    def __init__(self, r, dtype):
        self.r, self.dtype, self.i = r, dtype, 0

    def __next__(self):
        if self.i >= len(self.r):
            raise StopIteration
        v = self.r[self.i]
        self.i += 1
        return np.array(v, dtype=self.dtype)

    def save(self):
        return {"i": self.i}

    def restore(self, state):
        self.i = int(state["i"])


class GeneratorDataset(Dataset):
    """Elements produced by ``generator(*args)``, called anew each epoch.

    Restoring a saved position re-runs the generator and skips the elements already
    produced (a generator has no other way to resume).
    """

    def __init__(self, generator, output_types, output_shapes=None, args=None,
                 output_signature=None):
        if not callable(generator):
            raise TypeError("from_generator: generator must be a callable returning an iterator")
        if output_signature is not None:
            self._spec = output_signature
            specs = flatten_raw(output_signature)
            self._types = [s.dtype for s in specs]
            self._shapes = [s.shape for s in specs]
            self._structure = output_signature
        else:
            if output_types is None:
                raise TypeError("from_generator needs output_types (or output_signature)")
            self._structure = output_types
            self._types = [_dtypes.as_dtype(t) for t in flatten_raw(output_types)]
            if output_shapes is None:
                self._shapes = [None] * len(self._types)
            else:
                self._shapes = _shapes_like(output_types, output_shapes)
            self._spec = pack_like(output_types, [TensorSpec(s, t) for s, t in
                                                  zip(self._shapes, self._types)])
        self._gen = generator
        self._args = tuple(args) if args is not None else ()

    def _make(self, peek=False):
        return _GenIter(self)


def _shapes_like(types, shapes):
    """Flat per-component shapes, walking ``shapes`` in the nesting of ``types``."""
    if isinstance(types, dict):
        return [x for k in sorted(types) for x in _shapes_like(types[k], shapes[k])]
    if isinstance(types, tuple):
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(types):
            raise ValueError(f"from_generator: output_shapes {shapes!r} does not match the "
                             f"nesting of output_types {types!r}")
        return [x for t, sh in zip(types, shapes) for x in _shapes_like(t, sh)]
    return [None if shapes is None else tuple(shapes)]


class _GenIter(DatasetIterator):
    def __init__(self, ds):
        self.ds = ds
        self.it = iter(ds._gen(*ds._args))
        self.i = 0

    def __next__(self):
        value = next(self.it)
        self.i += 1
        ds = self.ds
        leaves = flatten(value) if isinstance(value, (dict, tuple)) else [normalize(value)]
        if len(leaves) != len(ds._types):
            raise InvalidArgumentError(
                f"from_generator: element {self.i - 1} has {len(leaves)} components but "
                f"output_types has {len(ds._types)}")
        out = []
        for j, (leaf, dt, shape) in enumerate(zip(leaves, ds._types, ds._shapes)):
            if leaf.dtype != dt:
                if dt.kind == "O":
                    leaf = normalize(leaf.astype(object))
                else:
                    leaf = leaf.astype(dt)
            if shape is not None and not TensorSpec(shape, dt).is_compatible_with(leaf):
                raise InvalidArgumentError(
                    f"from_generator: component {j} of element {self.i - 1} has shape "
                    f"{list(leaf.shape)}, not compatible with output_shapes {list(shape)}")
            out.append(leaf)
        return pack_like(ds._structure, out)

    def save(self):
        return {"i": self.i}

    def restore(self, state):
        for _ in range(int(state["i"]) - self.i):
            next(self)

    def close(self):
        close = getattr(self.it, "close", None)
        if close is not None:
            close()


def list_files(file_pattern, shuffle=None, seed=None):
    """Sorted matches of ``file_pattern``; shuffled each epoch unless shuffle=False.

    Raises:
        InvalidArgumentError: nothing matches.
    """
    patterns = [file_pattern] if isinstance(file_pattern, (str, os.PathLike)) else list(
        file_pattern)
    files = sorted({f for p in patterns for f in _glob.glob(os.fspath(p))})
    if not files:
        raise InvalidArgumentError(f"list_files: no files matched pattern {file_pattern!r}")
    ds = Dataset.from_tensor_slices(np.array([f.encode() for f in files], dtype=object))
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(files), seed=seed)
    return ds
