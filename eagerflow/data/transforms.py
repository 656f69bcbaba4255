"""Element-wise and ordering transformations: map, filter, interleave/flat_map, zip,
concatenate, take, skip, shard, repeat, unbatch, window."""
import numpy as np

from eagerflow.io.errors import InvalidArgumentError

from .dataset import INFINITE, UNKNOWN, Cardinality, Dataset, DatasetIterator
from .iterator import decode_element, deferred_element
from .structure import flatten, flatten_raw, normalize, pack_like, same_structure

__all__ = ["call", "normalize_output", "MapDataset", "FilterDataset", "InterleaveDataset",
           "ZipDataset", "ConcatenateDataset", "TakeDataset", "SkipDataset", "ShardDataset",
           "RepeatDataset", "UnbatchDataset"]


def call(fn, elem):
    """``fn(*elem)`` for a plain tuple element (TF unpacks tuples), else ``fn(elem)``."""
    if type(elem) is tuple:
        return fn(*elem)
    return fn(elem)


def normalize_output(out):
    """A map function's result as an element: a top-level list becomes a tuple."""
    if isinstance(out, list):
        out = tuple(out)
    if isinstance(out, (dict, tuple)):
        return pack_like(out, flatten(out))
    return normalize(out)


class _Unary(Dataset):
    def __init__(self, input_dataset):
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"expected a Dataset, got {type(input_dataset).__name__}")
        self._input = input_dataset

    def _inputs(self):
        return [self._input]

    def _input_cardinality(self):
        return int(self._input.cardinality())


class _SameCount:
    """Mixin: as many elements as the input (map, shuffle, prefetch, cache...)."""

    def cardinality(self):
        return Cardinality(self._input.cardinality())


class _UpIter(DatasetIterator):
    """An iterator whose whole state is its upstream's state."""

    def __init__(self, up):
        self.up = up

    def save(self):
        return {"up": self.up.save()}

    def restore(self, state):
        self.up.restore(state["up"])

    def close(self):
        self.up.close()


class MapDataset(_SameCount, _Unary):
    def __init__(self, input_dataset, fn):
        super().__init__(input_dataset)
        if not callable(fn):
            raise TypeError("map: map_func must be callable")
        self._fn = fn

    def _make(self, peek=False):
        return _MapIter(self._input._make(peek), self._fn)


class _MapIter(_UpIter):
    def __init__(self, up, fn):
        super().__init__(up)
        self.fn = fn

    def __next__(self):
        return normalize_output(call(self.fn, next(self.up)))


class FilterDataset(_Unary):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._pred = predicate
        self._spec = None

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _FilterIter(self._input._make(peek), self._pred)


class _FilterIter(_UpIter):
    def __init__(self, up, pred):
        super().__init__(up)
        self.pred = pred

    def __next__(self):
        while True:
            elem = next(self.up)
            keep = np.asarray(call(self.pred, elem))
            if keep.shape != () or keep.dtype != np.bool_:
                raise InvalidArgumentError(
                    f"filter: predicate must return a scalar bool, got dtype {keep.dtype} "
                    f"shape {list(keep.shape)}")
            if keep:
                return elem


class InterleaveDataset(_Unary):
    """``interleave`` (and ``flat_map`` with cycle_length=1) in TF's exact order."""

    def __init__(self, input_dataset, fn, cycle_length, block_length, parallel,
                 deterministic=None):
        super().__init__(input_dataset)
        self._fn = fn
        self._cycle = int(cycle_length)
        self._block = int(block_length)
        self._parallel = parallel
        if self._cycle < 1:
            raise ValueError(f"cycle_length must be >= 1, got {cycle_length}")

    def _open(self, elem, peek):
        ds = call(self._fn, elem)
        if not isinstance(ds, Dataset):
            raise TypeError(f"interleave/flat_map: map_func must return a Dataset, got "
                            f"{type(ds).__name__}")
        if self._parallel:
            from .parallel import PrefetchDataset
            ds = PrefetchDataset(ds, 64)
        return ds._make(peek)

    def _make(self, peek=False):
        return _InterleaveIter(self, peek)


class _InterleaveIter(DatasetIterator):
    def __init__(self, ds, peek):
        self.ds, self.peek = ds, peek
        self.input = ds._input._make(peek)
        self.input_done = False
        self.slots = [None] * ds._cycle
        self.elems = [None] * ds._cycle
        self.cursor = 0
        self.count = 0

    def _advance(self):
        self.cursor = (self.cursor + 1) % len(self.slots)
        self.count = 0

    def __next__(self):
        slots = self.slots
        while True:
            it = slots[self.cursor]
            if it is None:
                if self.input_done:
                    if all(s is None for s in slots):
                        raise StopIteration
                    self._advance()
                    continue
                try:
                    elem = next(self.input)
                except StopIteration:
                    self.input_done = True
                    continue
                it = slots[self.cursor] = self.ds._open(elem, self.peek)
                self.elems[self.cursor] = elem
                self.count = 0
            try:
                value = next(it)
            except StopIteration:
                it.close()
                slots[self.cursor] = self.elems[self.cursor] = None
                self._advance()
                continue
            self.count += 1
            if self.count >= self.ds._block:
                self._advance()
            return value

    def save(self):
        return {"input": self.input.save(), "input_done": self.input_done,
                "cursor": self.cursor, "count": self.count,
                "slots": [None if it is None else {"elem": deferred_element(e), "state": it.save()}
                          for it, e in zip(self.slots, self.elems)]}

    def restore(self, state):
        self.input.restore(state["input"])
        self.input_done = bool(state["input_done"])
        self.cursor, self.count = int(state["cursor"]), int(state["count"])
        spec = self.ds._input.element_spec
        for i, s in enumerate(state["slots"]):
            if s is not None:
                elem = decode_element(spec, s["elem"])
                self.slots[i] = self.ds._open(elem, self.peek)
                self.slots[i].restore(s["state"])
                self.elems[i] = elem

    def close(self):
        self.input.close()
        for it in self.slots:
            if it is not None:
                it.close()


class ZipDataset(Dataset):
    def __init__(self, datasets):
        leaves = flatten_raw(datasets)  # a list is a leaf, as in tf.data's nest
        for d in leaves:
            if isinstance(d, list):
                raise TypeError("Invalid `datasets`. `datasets` is expected to be a (nested) "
                                "structure of `tf.data.Dataset` objects. Python `list` is "
                                "not supported and you should use `tuple` instead.")
            if not isinstance(d, Dataset):
                raise TypeError(f"Invalid `datasets`. `datasets` is expected to be a (nested) "
                                f"structure of `tf.data.Dataset` objects but encountered "
                                f"object of type {type(d)}.")
        if not leaves:
            raise TypeError("zip: datasets must be a (nested) tuple or dict of Datasets, "
                            "got an empty structure")
        self._structure = datasets
        self._datasets = leaves

    def _inputs(self):
        return list(self._datasets)

    def cardinality(self):
        """The shortest input's count (TF: UNKNOWN if any is unknown)."""
        result = INFINITE
        for d in self._datasets:
            n = int(d.cardinality())
            if n == UNKNOWN:
                return Cardinality(UNKNOWN)
            if n != INFINITE and (result == INFINITE or n < result):
                result = n
        return Cardinality(result)

    def _infer_spec(self):
        return pack_like(self._structure, [d.element_spec for d in self._datasets])

    def _make(self, peek=False):
        return _ZipIter([d._make(peek) for d in self._datasets], self._structure)


class _ZipIter(DatasetIterator):
    def __init__(self, its, structure):
        self.its, self.structure = its, structure

    def __next__(self):
        return pack_like(self.structure, [next(it) for it in self.its])

    def save(self):
        return {"its": [it.save() for it in self.its]}

    def restore(self, state):
        for it, s in zip(self.its, state["its"]):
            it.restore(s)

    def close(self):
        for it in self.its:
            it.close()


class ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError("concatenate: dataset must be a Dataset")
        a, b = first.element_spec, second.element_spec
        if a is not None and b is not None:
            ok = same_structure(a, b) and all(
                x.dtype == y.dtype for x, y in zip(flatten_raw(a), flatten_raw(b)))
            if not ok:
                raise TypeError(f"concatenate: incompatible element structures {a} and {b}")
            self._spec = pack_like(a, [x.most_specific_common(y) for x, y in
                                       zip(flatten_raw(a), flatten_raw(b))])
        self._parts = (first, second)

    def _inputs(self):
        return list(self._parts)

    def cardinality(self):
        n1, n2 = (int(p.cardinality()) for p in self._parts)
        if INFINITE in (n1, n2):
            return Cardinality(INFINITE)
        if UNKNOWN in (n1, n2):
            return Cardinality(UNKNOWN)
        return Cardinality(n1 + n2)

    def _make(self, peek=False):
        return _ConcatIter(self._parts, peek)


class _ConcatIter(DatasetIterator):
    def __init__(self, parts, peek):
        self.parts, self.peek, self.which = parts, peek, 0
        self.it = parts[0]._make(peek)

    def __next__(self):
        while True:
            try:
                return next(self.it)
            except StopIteration:
                if self.which == len(self.parts) - 1:
                    raise
                self.it.close()
                self.which += 1
                self.it = self.parts[self.which]._make(self.peek)

    def save(self):
        return {"which": self.which, "state": self.it.save()}

    def restore(self, state):
        if int(state["which"]) != self.which:
            self.it.close()
            self.which = int(state["which"])
            self.it = self.parts[self.which]._make(self.peek)
        self.it.restore(state["state"])

    def close(self):
        self.it.close()


class _CountIter(_UpIter):
    """Shared by take/skip/shard: an upstream plus one counter."""

    def __init__(self, up, n):
        super().__init__(up)
        self.n, self.pos = n, 0

    def save(self):
        return {"up": self.up.save(), "pos": self.pos}

    def restore(self, state):
        self.up.restore(state["up"])
        self.pos = int(state["pos"])


class TakeDataset(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._n = int(count)
        self._spec = None

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _TakeIter(self._input._make(peek), self._n)

    def cardinality(self):
        n = self._input_cardinality()
        if n == UNKNOWN:
            return Cardinality(UNKNOWN)
        if n == INFINITE:
            return Cardinality(self._n)
        return Cardinality(n if self._n < 0 else min(n, self._n))


class _TakeIter(_CountIter):
    def __next__(self):
        if 0 <= self.n <= self.pos:
            raise StopIteration
        elem = next(self.up)
        self.pos += 1
        return elem


class SkipDataset(TakeDataset):
    def _make(self, peek=False):
        return _SkipIter(self._input._make(peek), self._n)

    def cardinality(self):
        n = self._input_cardinality()
        if n in (INFINITE, UNKNOWN):
            return Cardinality(n)
        return Cardinality(0 if self._n < 0 else max(0, n - self._n))


class _SkipIter(_CountIter):
    def __next__(self):
        while self.n < 0 or self.pos < self.n:
            next(self.up)
            self.pos += 1
        return next(self.up)


class ShardDataset(TakeDataset):
    def __init__(self, input_dataset, num_shards, index):
        num_shards, index = int(num_shards), int(index)
        if num_shards < 1:
            raise InvalidArgumentError(f"shard: num_shards must be >= 1, got {num_shards}")
        if not 0 <= index < num_shards:
            raise InvalidArgumentError(
                f"shard: index must be in [0, num_shards={num_shards}), got {index}")
        super().__init__(input_dataset, num_shards)
        self._index = index

    def _make(self, peek=False):
        it = _ShardIter(self._input._make(peek), self._n)
        it.index = self._index
        return it

    def cardinality(self):
        n = self._input_cardinality()
        if n in (INFINITE, UNKNOWN):
            return Cardinality(n)
        return Cardinality(n // self._n + (1 if self._index < n % self._n else 0))


class _ShardIter(_CountIter):
    def __next__(self):
        while True:
            elem = next(self.up)
            p = self.pos
            self.pos += 1
            if p % self.n == self.index:
                return elem


class RepeatDataset(_Unary):
    def __init__(self, input_dataset, count=None):
        super().__init__(input_dataset)
        self._count = -1 if count is None else int(count)

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _RepeatIter(self, peek)

    def cardinality(self):
        n = self._input_cardinality()
        if self._count < 0:
            return Cardinality(0 if n == 0 else INFINITE)
        if self._count == 0:
            return Cardinality(0)
        if n in (INFINITE, UNKNOWN):
            return Cardinality(n)
        return Cardinality(self._count * n)


class _RepeatIter(DatasetIterator):
    def __init__(self, ds, peek):
        self.ds, self.peek, self.done, self.got = ds, peek, 0, False
        self.up = ds._input._make(peek) if ds._count != 0 else None

    def __next__(self):
        while self.up is not None:
            try:
                elem = next(self.up)
                self.got = True
                return elem
            except StopIteration:
                self.up.close()
                self.done += 1
                if not self.got or 0 <= self.ds._count <= self.done:
                    self.up = None  # finished, or an empty epoch (avoid spinning forever)
                    break
                self.got = False
                self.up = self.ds._input._make(self.peek)
        raise StopIteration

    def save(self):
        return {"done": self.done, "got": self.got,
                "up": None if self.up is None else self.up.save()}

    def restore(self, state):
        self.done, self.got = int(state["done"]), bool(state["got"])
        if state["up"] is None:
            if self.up is not None:
                self.up.close()
            self.up = None
        else:
            self.up.restore(state["up"])

    def close(self):
        if self.up is not None:
            self.up.close()


class UnbatchDataset(_Unary):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        spec = input_dataset._spec  # only a spec already known: no look-ahead pass here
        if spec is not None and any(s.shape == () for s in flatten_raw(spec)):
            raise ValueError("Cannot unbatch an input with scalar components.")

    def _infer_spec(self):
        from .structure import TensorSpec
        spec = self._input.element_spec
        if spec is None:
            return None
        return pack_like(spec, [TensorSpec(s.shape[1:] if s.shape else None, s.dtype)
                                for s in flatten_raw(spec)])

    def _make(self, peek=False):
        return _UnbatchIter(self._input._make(peek), self)


class _UnbatchIter(_UpIter):
    def __init__(self, up, ds):
        super().__init__(up)
        self.ds, self.cur, self.leaves, self.i, self.n = ds, None, None, 0, 0

    def __next__(self):
        while self.cur is None or self.i >= self.n:
            self._set(next(self.up), 0)
        i = self.i
        self.i += 1
        return pack_like(self.cur, [l[i, ...] for l in self.leaves])

    def _set(self, elem, i):
        leaves = flatten(elem)
        sizes = {l.shape[0] if l.ndim else None for l in leaves}
        if None in sizes or len(sizes) != 1:
            raise InvalidArgumentError(f"unbatch: every component needs the same dim 0, got "
                                       f"shapes {[list(l.shape) for l in leaves]}")
        self.cur, self.leaves, self.i, self.n = elem, leaves, i, sizes.pop()

    def save(self):
        return {"up": self.up.save(), "i": self.i,
                "cur": None if self.cur is None else deferred_element(self.cur)}

    def restore(self, state):
        self.up.restore(state["up"])
        if state["cur"] is not None:
            self._set(decode_element(self.ds._input.element_spec, state["cur"]), int(state["i"]))
