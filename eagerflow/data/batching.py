"""``batch``, ``padded_batch`` and ``window``."""
import numpy as np

from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.io.errors import InvalidArgumentError

from .structure import TensorSpec, flatten, flatten_raw, pack_like
from .dataset import INFINITE, UNKNOWN, Cardinality, Dataset
from .transforms import _Unary, _UpIter

__all__ = ["BatchDataset", "PaddedBatchDataset", "WindowDataset", "stack_component"]


def _batch_spec(spec, n):
    if spec is None:
        return None
    return pack_like(spec, [TensorSpec(None if s.shape is None else (n,) + s.shape, s.dtype)
                            for s in flatten_raw(spec)])


def _stack_sparse(vals):
    rank = max(len(np.asarray(v.dense_shape)) for v in vals)
    idx, values, shape = [], [], np.zeros(rank, dtype=np.int64)
    for b, v in enumerate(vals):
        ind = np.asarray(v.indices, dtype=np.int64)
        idx.append(np.concatenate([np.full((ind.shape[0], 1), b, np.int64), ind], axis=1))
        values.append(np.asarray(v.values))
        shape = np.maximum(shape, np.asarray(v.dense_shape, dtype=np.int64))
    return SparseTensor(np.concatenate(idx), np.concatenate(values),
                        np.concatenate([[len(vals)], shape]).astype(np.int64))


def stack_component(vals, comp):
    """Stacks one component of a batch; TF's error for unequal shapes."""
    first = vals[0]
    if isinstance(first, SparseTensor):
        return _stack_sparse(vals)
    shape = first.shape
    for i, v in enumerate(vals):
        if v.shape != shape:
            raise InvalidArgumentError(
                f"Cannot batch tensors with different shapes in component {comp}. First "
                f"element had shape {list(shape)} and element {i} had shape {list(v.shape)}.")
    if first.dtype.kind == "O" and first.ndim == 0:
        out = np.empty(len(vals), dtype=object)
        out[:] = [v[()] for v in vals]
        return out
    return np.stack(vals)


class BatchDataset(_Unary):
    def __init__(self, input_dataset, batch_size, drop_remainder=False):
        super().__init__(input_dataset)
        self._n = int(batch_size)
        if self._n < 1:
            raise InvalidArgumentError(f"batch: batch_size must be >= 1, got {batch_size}")
        self._drop = bool(drop_remainder)

    def _infer_spec(self):
        return _batch_spec(self._input.element_spec, self._n if self._drop else None)

    def _make(self, peek=False):
        return _BatchIter(self._input._make(peek), self)

    def cardinality(self):
        n = self._input_cardinality()
        if n in (INFINITE, UNKNOWN):
            return Cardinality(n)
        return Cardinality(n // self._n + (0 if n % self._n == 0 or self._drop else 1))


def take_up_to(it, n):
    """The next ``n`` elements of iterator ``it``, fewer where it ends."""
    elems = []
    for _ in range(n):
        try:
            elems.append(next(it))
        except StopIteration:
            break
    return elems


class _BatchIter(_UpIter):
    def __init__(self, up, ds):
        super().__init__(up)
        self.ds = ds
        self.many = getattr(up, "next_many", None)  # a fast path of record readers

    def _collect(self):
        n = self.ds._n
        if self.many is not None:
            return self.many(n)
        return take_up_to(self.up, n)

    def __next__(self):
        elems = self._collect()
        if len(elems) == 0 or (self.ds._drop and len(elems) < self.ds._n):
            raise StopIteration
        if isinstance(elems, np.ndarray):  # next_many gave a ready batch
            return elems
        return self._combine(elems)

    def _combine(self, elems):
        if isinstance(elems[0], np.ndarray):  # single-array elements: no structure walk
            return stack_component(elems, 0)
        cols = list(zip(*[flatten(e) for e in elems]))
        return pack_like(elems[0], [stack_component(list(c), i) for i, c in enumerate(cols)])


class PaddedBatchDataset(BatchDataset):
    def __init__(self, input_dataset, batch_size, padded_shapes=None, padding_values=None,
                 drop_remainder=False):
        super().__init__(input_dataset, batch_size, drop_remainder)
        self._shapes = padded_shapes
        self._values = padding_values

    def _infer_spec(self):
        spec = self._input.element_spec
        if spec is None:
            return None
        shapes = self._flat_shapes(spec)
        out = []
        for s, ps in zip(flatten_raw(spec), shapes):
            dims = ps if ps is not None else (
                [None] * len(s.shape) if s.shape is not None else None)
            out.append(TensorSpec(None if dims is None else
                                  (self._n if self._drop else None,) + tuple(dims), s.dtype))
        return pack_like(spec, out)

    def _flat_shapes(self, spec):
        n = len(flatten_raw(spec))
        if self._shapes is None:
            return [None] * n
        if n == 1 and not isinstance(spec, (dict, tuple)):
            return [[None if d is None or d == -1 else int(d) for d in self._shapes]]
        from .sources import _shapes_like
        return [None if s is None else [None if d is None or d == -1 else int(d) for d in s]
                for s in _shapes_like(spec, self._shapes)]

    def _flat_values(self, spec):
        n = len(flatten_raw(spec))
        if self._values is None:
            return [None] * n
        if not isinstance(self._values, (dict, tuple)):
            return [self._values] * n
        vals = flatten_raw(self._values)
        if len(vals) != n:
            raise ValueError(f"padded_batch: padding_values has {len(vals)} components, the "
                             f"element has {n}")
        return vals

    def _make(self, peek=False):
        it = _BatchIter(self._input._make(peek), self)
        it.many = None
        it._combine = self._combine
        return it

    def _combine(self, elems):
        flat = [flatten(e) for e in elems]
        shapes = self._flat_shapes(elems[0])
        values = self._flat_values(elems[0])
        out = []
        for comp, (col, ps, pv) in enumerate(zip(zip(*flat), shapes, values)):
            out.append(_pad(list(col), ps, pv, comp))
        return pack_like(elems[0], out)


def _pad(vals, padded, pad_value, comp):
    rank = vals[0].ndim
    for i, v in enumerate(vals):
        if v.ndim != rank:
            raise InvalidArgumentError(f"padded_batch: component {comp}: element {i} has rank "
                                       f"{v.ndim}, element 0 has rank {rank}")
    if padded is not None and len(padded) != rank:
        raise InvalidArgumentError(f"padded_batch: padded_shapes {padded} for component {comp} "
                                   f"has rank {len(padded)} but elements have rank {rank}")
    longest = np.max([v.shape for v in vals], axis=0) if rank else np.zeros(0, int)
    target = []
    for d in range(rank):
        want = None if padded is None else padded[d]
        if want is None:
            target.append(int(longest[d]))
        else:
            if longest[d] > want:
                raise InvalidArgumentError(
                    f"padded_batch: component {comp}, dim {d}: an element has size "
                    f"{int(longest[d])}, larger than the padded size {want}")
            target.append(want)
    dtype = vals[0].dtype
    if pad_value is None:
        pad_value = b"" if dtype.kind == "O" else (False if dtype == np.bool_ else 0)
    elif isinstance(pad_value, str):
        pad_value = pad_value.encode()
    out = np.full((len(vals),) + tuple(target), np.asarray(pad_value).reshape(()).item()
                  if dtype.kind != "O" else pad_value, dtype=dtype)
    for i, v in enumerate(vals):
        out[(i,) + tuple(slice(0, s) for s in v.shape)] = v
    return out


class WindowDataset(_Unary):
    """Windows as nests of datasets (one per component), like ``tf.data``'s ``window``."""

    def __init__(self, input_dataset, size, shift, stride, drop_remainder):
        super().__init__(input_dataset)
        self._size = int(size)
        self._shift = self._size if shift is None else int(shift)
        self._stride = int(stride)
        if min(self._size, self._shift, self._stride) < 1:
            raise InvalidArgumentError("window: size, shift and stride must be >= 1")
        self._drop = bool(drop_remainder)

    def _infer_spec(self):
        return None

    def _make(self, peek=False):
        return _WindowIter(self._input._make(peek), self)

    def cardinality(self):
        n = self._input_cardinality()
        if n in (INFINITE, UNKNOWN):
            return Cardinality(n)
        if self._drop:
            rest = n - ((self._size - 1) * self._stride + 1)
            return Cardinality(0 if rest < 0 else rest // self._shift + 1)
        return Cardinality(n // self._shift + (0 if n % self._shift == 0 else 1))


class _WindowIter(_UpIter):
    def __init__(self, up, ds):
        super().__init__(up)
        self.ds, self.buf, self.base, self.start, self.done = ds, [], 0, 0, False

    def __next__(self):
        ds = self.ds
        span = (ds._size - 1) * ds._stride + 1
        while not self.done and self.base + len(self.buf) < self.start + span:
            try:
                self.buf.append(next(self.up))
            except StopIteration:
                self.done = True
        lo = self.start - self.base
        picked = self.buf[lo:lo + span:ds._stride]
        if not picked or (ds._drop and len(picked) < ds._size):
            raise StopIteration
        self.start += ds._shift
        drop = min(self.start - self.base, len(self.buf))
        del self.buf[:drop]
        self.base += drop
        leaves = [flatten(e) for e in picked]
        return pack_like(picked[0], [Dataset.from_tensor_slices(np.stack(col))
                                     for col in zip(*leaves)])
