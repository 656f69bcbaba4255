"""Stateful and grouping transformations: ``scan``, ``take_while``, ``unique``,
``group_by_window`` (and ``bucket_by_sequence_length`` on top of it) and ``rebatch``.

They follow TF's kernels: ``group_by_window`` emits a key's group as soon as it holds
``window_size`` elements and, once the input ends, flushes the partial groups in
ascending key order; ``rebatch(N)`` equals ``unbatch().batch(N)``.

Example:
    >>> from eagerflow.data import Dataset
    >>> ds = Dataset.range(5).scan(np.int64(0), lambda s, x: (s + x, s + x))
    >>> [int(x) for x in ds]
    [0, 1, 3, 6, 10]
    >>> ds = Dataset.range(6).batch(2).rebatch(3)
    >>> [b.tolist() for b in ds]
    [[0, 1, 2], [3, 4, 5]]
"""
import numpy as np

from eagerflow.io.errors import InvalidArgumentError

from .batching import stack_component, take_up_to
from .dataset import Cardinality, Dataset, DatasetIterator
from .iterator import decode_element, deferred_element
from .structure import flatten, pack_like
from .transforms import (_SameCount, _UnbatchIter, _Unary, _UpIter, call, normalize_output,
                         UnbatchDataset)

__all__ = ["ScanDataset", "TakeWhileDataset", "UniqueDataset", "GroupByWindowDataset",
           "RebatchDataset", "bucket_by_sequence_length"]


def _scalar_bool(value, what):
    keep = np.asarray(value)
    if keep.shape != () or keep.dtype != np.bool_:
        raise InvalidArgumentError(f"{what}: predicate must return a scalar bool, got dtype "
                                   f"{keep.dtype} shape {list(keep.shape)}")
    return bool(keep)


def _scalar_int(value, what):
    v = np.asarray(value)
    if v.shape != () or v.dtype.kind not in "iu":
        raise InvalidArgumentError(f"`{what}` must return a scalar int64, got dtype "
                                   f"{v.dtype} shape {list(v.shape)}")
    return int(v)


# -- scan ------------------------------------------------------------------------------
class ScanDataset(_SameCount, _Unary):
    """``scan_func(state, element) -> (new_state, output)``, state carried across."""

    def __init__(self, input_dataset, initial_state, scan_func):
        super().__init__(input_dataset)
        if not callable(scan_func):
            raise TypeError("scan: scan_func must be callable")
        self._init = normalize_output(initial_state)
        self._fn = scan_func

    def _make(self, peek=False):
        return _ScanIter(self._input._make(peek), self)


class _ScanIter(_UpIter):
    def __init__(self, up, ds):
        super().__init__(up)
        self.ds, self.state = ds, ds._init

    def __next__(self):
        out = self.ds._fn(self.state, next(self.up))
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("scan: scan_func must return a pair (new_state, output_element), "
                            f"got {type(out).__name__}")
        self.state = normalize_output(out[0])
        return normalize_output(out[1])

    def save(self):
        return {"up": self.up.save(), "state": deferred_element(self.state)}

    def restore(self, state):
        self.up.restore(state["up"])
        self.state = decode_element(self.ds._init, state["state"])


# -- take_while / unique ---------------------------------------------------------------
class TakeWhileDataset(_Unary):
    """The elements up to (not including) the first one for which ``predicate`` is False."""

    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._pred = predicate

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _TakeWhileIter(self._input._make(peek), self._pred)


class _TakeWhileIter(_UpIter):
    def __init__(self, up, pred):
        super().__init__(up)
        self.pred, self.done = pred, False

    def __next__(self):
        if self.done:
            raise StopIteration
        elem = next(self.up)
        if not _scalar_bool(call(self.pred, elem), "take_while"):
            self.done = True
            raise StopIteration
        return elem

    def save(self):
        return {"up": self.up.save(), "done": self.done}

    def restore(self, state):
        self.up.restore(state["up"])
        self.done = bool(state["done"])


class UniqueDataset(_Unary):
    """The first occurrence of each element (int32, int64 or string scalars)."""

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _UniqueIter(self._input._make(peek))


class _UniqueIter(_UpIter):
    def __init__(self, up):
        super().__init__(up)
        self.seen = set()

    def __next__(self):
        while True:
            elem = next(self.up)
            if (not isinstance(elem, np.ndarray) or elem.ndim != 0
                    or not (elem.dtype in (np.int32, np.int64) or elem.dtype.kind == "O")):
                raise TypeError("unique: elements must be int32, int64 or string scalars, got "
                                f"{getattr(elem, 'dtype', type(elem).__name__)} with shape "
                                f"{list(getattr(elem, 'shape', []))}")
            key = elem.item()
            if key not in self.seen:
                self.seen.add(key)
                return elem

    def save(self):
        return {"up": self.up.save(), "seen": [deferred_element(np.asarray(
            k, dtype=object if isinstance(k, bytes) else np.int64)) for k in self.seen]}

    def restore(self, state):
        self.up.restore(state["up"])
        self.seen = {decode_element(None, e).item() for e in state["seen"]}


# -- group_by_window -------------------------------------------------------------------
class _ElementsDataset(Dataset):
    """A dataset of given elements (a group handed to ``reduce_func``)."""

    def __init__(self, elems, spec):
        self._elems, self._spec = list(elems), spec

    def _make(self, peek=False):
        return _ElementsIter(self._elems)

    def cardinality(self):
        return Cardinality(len(self._elems))


class _ElementsIter(DatasetIterator):
    def __init__(self, elems):
        self.elems, self.i = elems, 0

    def __next__(self):
        if self.i >= len(self.elems):
            raise StopIteration
        self.i += 1
        return self.elems[self.i - 1]

    def save(self):
        return {"i": self.i}

    def restore(self, state):
        self.i = int(state["i"])


class GroupByWindowDataset(_Unary):
    """Groups elements by ``key_func`` and maps each full (or final) group with
    ``reduce_func(key, group_dataset)``, concatenating the results."""

    def __init__(self, input_dataset, key_func, reduce_func, window_size=None,
                 window_size_func=None):
        super().__init__(input_dataset)
        if (window_size is None) == (window_size_func is None):
            raise ValueError("group_by_window: exactly one of `window_size` and "
                             "`window_size_func` must be given")
        if window_size is not None:
            size = int(window_size)
            window_size_func = lambda key: size  # noqa: E731
        self._key, self._reduce, self._size = key_func, reduce_func, window_size_func

    def _infer_spec(self):
        return None  # known only by running reduce_func

    def _make(self, peek=False):
        return _GroupIter(self, peek)


class _GroupIter(DatasetIterator):
    def __init__(self, ds, peek):
        self.ds, self.peek = ds, peek
        self.up = ds._input._make(peek)
        self.end = False
        self.groups = {}   # key -> elements, in arrival order
        self.sizes = {}    # key -> window size
        self.key = None    # the group being emitted
        self.it = None

    def _open(self, key):
        group = _ElementsDataset(self.groups[key], self.ds._input.element_spec)
        out = self.ds._reduce(np.int64(key), group)
        if not isinstance(out, Dataset):
            raise TypeError(f"group_by_window: reduce_func must return a Dataset, got "
                            f"{type(out).__name__}")
        self.key, self.it = key, out._make(self.peek)

    def __next__(self):
        while True:
            if self.it is not None:
                try:
                    return next(self.it)
                except StopIteration:
                    self.it.close()
                    self.it = None
                    del self.groups[self.key]
                    self.key = None
            while not self.end:
                try:
                    elem = next(self.up)
                except StopIteration:
                    self.end = True
                    break
                key = _scalar_int(call(self.ds._key, elem), "key_func")
                if key not in self.sizes:
                    size = _scalar_int(self.ds._size(np.int64(key)), "window_size_func")
                    if size <= 0:
                        raise InvalidArgumentError(
                            f"Window size must be greater than zero, but got {size}.")
                    self.sizes[key] = size
                group = self.groups.setdefault(key, [])
                group.append(elem)
                if len(group) == self.sizes[key]:
                    self._open(key)
                    break
            if self.it is None:
                if not self.groups:
                    raise StopIteration
                self._open(min(self.groups))  # end of input: smallest key first, like TF

    def save(self):
        return {"up": self.up.save(), "end": self.end,
                "sizes": [[k, v] for k, v in self.sizes.items()],
                "groups": [[k, [deferred_element(e) for e in g]] for k, g in self.groups.items()],
                "key": self.key, "it": None if self.it is None else self.it.save()}

    def restore(self, state):
        self.up.restore(state["up"])
        self.end = bool(state["end"])
        self.sizes = {int(k): int(v) for k, v in state["sizes"]}
        spec = self.ds._input.element_spec
        self.groups = {int(k): [decode_element(spec, e) for e in g] for k, g in state["groups"]}
        if state["key"] is not None:
            self._open(int(state["key"]))
            self.it.restore(state["it"])

    def close(self):
        self.up.close()
        if self.it is not None:
            self.it.close()


def _bucket_id(length, boundaries):
    """TF's bucket: the first i with ``[int32 min] + b`` [i] <= length < ``b + [int32 max]`` [i]."""
    lows = [np.iinfo(np.int32).min] + boundaries
    highs = boundaries + [np.iinfo(np.int32).max]
    for i, (lo, hi) in enumerate(zip(lows, highs)):
        if lo <= length < hi:
            return i
    raise InvalidArgumentError(f"bucket_by_sequence_length: length {length} is in no bucket")


def bucket_by_sequence_length(dataset, element_length_func, bucket_boundaries,
                              bucket_batch_sizes, padded_shapes=None, padding_values=None,
                              pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """Batches elements of similar length together, padding each batch (TF's
    ``bucket_by_sequence_length``); see :meth:`Dataset.bucket_by_sequence_length`."""
    boundaries = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(boundaries) + 1:
        raise ValueError(f"`len(bucket_batch_sizes)` must equal `len(bucket_boundaries) + 1` "
                         f"but `len(bucket_batch_sizes)={len(sizes)}` and "
                         f"`len(bucket_boundaries)={len(boundaries)}`.")

    def key_func(*args):
        return np.int64(_bucket_id(int(np.asarray(element_length_func(*args))), boundaries))

    def reduce_func(bucket, group):
        bucket = int(bucket)
        batch_size = sizes[bucket]
        if no_padding:
            return group.batch(batch_size, drop_remainder=drop_remainder)
        shapes = padded_shapes
        if pad_to_bucket_boundary:
            if bucket >= len(sizes) - 1:
                raise InvalidArgumentError("When pad_to_bucket_boundary=True, elements must "
                                           "have length < max(bucket_boundaries).")
            shapes = _fill_unknown(group, padded_shapes, boundaries[bucket] - 1)
        return group.padded_batch(batch_size, shapes, padding_values,
                                  drop_remainder=drop_remainder)

    return GroupByWindowDataset(dataset, key_func, reduce_func,
                                window_size_func=lambda bucket: sizes[int(bucket)])


def _fill_unknown(group, padded_shapes, filler):
    """``padded_shapes`` (or the group's element shapes) with unknown dims set to
    ``filler``."""
    from .structure import flatten_raw
    spec = group.element_spec
    specs = flatten_raw(spec)
    if padded_shapes is None:
        shapes = [s.shape if s.shape is not None else
                  (None,) * flatten(group._elems[0])[i].ndim for i, s in enumerate(specs)]
    elif len(specs) == 1 and not isinstance(spec, (dict, tuple)):
        shapes = [padded_shapes]
    else:
        from .sources import _shapes_like
        shapes = _shapes_like(spec, padded_shapes)
    filled = [[filler if d is None or d == -1 else int(d) for d in s] for s in shapes]
    if len(specs) == 1 and not isinstance(spec, (dict, tuple)):
        return filled[0]
    return pack_like(spec, filled)


# -- rebatch ---------------------------------------------------------------------------
class RebatchDataset(_Unary):
    """``unbatch()`` then batches of ``batch_size`` (cycled through when a list)."""

    def __init__(self, input_dataset, batch_size, drop_remainder=False):
        super().__init__(input_dataset)
        sizes = [int(b) for b in np.atleast_1d(np.asarray(batch_size)).tolist()]
        if not sizes or min(sizes) < 1:
            raise InvalidArgumentError(f"rebatch: batch_size must be >= 1 (or a non-empty "
                                       f"list of such sizes), got {batch_size!r}")
        self._sizes, self._drop = sizes, bool(drop_remainder)
        self._unbatched = UnbatchDataset(input_dataset)

    def _infer_spec(self):
        from .batching import _batch_spec
        fixed = self._drop and len(set(self._sizes)) == 1
        return _batch_spec(self._unbatched.element_spec, self._sizes[0] if fixed else None)

    def _make(self, peek=False):
        return _RebatchIter(_UnbatchIter(self._input._make(peek), self._unbatched), self)


class _RebatchIter(_UpIter):
    def __init__(self, up, ds):
        super().__init__(up)
        self.ds, self.k = ds, 0

    def __next__(self):
        n = self.ds._sizes[self.k % len(self.ds._sizes)]
        elems = take_up_to(self.up, n)
        if not elems or (self.ds._drop and len(elems) < n):
            raise StopIteration
        self.k += 1
        cols = list(zip(*[flatten(e) for e in elems]))
        return pack_like(elems[0], [stack_component(list(c), i) for i, c in enumerate(cols)])

    def save(self):
        return {"up": self.up.save(), "k": self.k}

    def restore(self, state):
        self.up.restore(state["up"])
        self.k = int(state["k"])
