"""Averaging gradients over replicas, and broadcasting variables from the chief.

Dense gradients are packed into fused buckets (one flat buffer per ~25 MB of one dtype,
Horovod's tensor fusion) so a model with many small variables costs a few all-reduces,
not one per variable. ``IndexedSlices`` gradients stay sparse: every rank's indices and
values are all-gathered (the optimizer then sums duplicate rows as usual), so an
embedding table is never densified.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.distribute.gradients import GradientAllReducer
    >>> w = ef.Variable([1.0, 2.0], name="w_grad_doc")
    >>> pairs = GradientAllReducer()([(ef.constant([0.5, 0.5]), w)])  # size 1: unchanged
    >>> pairs[0][0].numpy().tolist()
    [0.5, 0.5]
"""
import weakref

import numpy as np

from .. import backend
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import _wrap
from .collective import get_transport, signature

__all__ = ["DEFAULT_BUCKET_BYTES", "GradientAllReducer", "broadcast_variables", "buckets"]

DEFAULT_BUCKET_BYTES = 25 * 2 ** 20
# variables already checked equal across ranks, shared by every reducer: an Estimator's
# model_fn builds a new optimizer (and reducer) each step, and the check costs a sync
_checked = {}
# signature of each (name, shape, gradient dtype, sparse) list: the same model sends the
# same list each step
_signatures = {}
_MAX_SIGNATURES = 1000  # distinct lists remembered (a few per model; bounds a leak)


def _was_checked(v):
    ref = _checked.get(id(v))
    return ref is not None and ref() is v


def buckets(arrays, bucket_bytes):
    """Splits the positions of ``arrays`` into runs of one dtype of at most
    ``bucket_bytes`` each (an array larger than that gets a bucket of its own)."""
    out, current, size, dtype = [], [], 0, None
    for i, a in enumerate(arrays):
        if current and (a.dtype != dtype or size + a.nbytes > bucket_bytes):
            out.append(current)
            current, size = [], 0
        current.append(i)
        size += a.nbytes
        dtype = a.dtype
    if current:
        out.append(current)
    return out


def _fused(arrays, bucket_bytes, collective):
    """Runs ``collective(flat)`` (in place) on each bucket's flat concatenation; yields
    ``(position, result view shaped like arrays[position])``."""
    for positions in buckets(arrays, bucket_bytes):
        parts = [arrays[i] for i in positions]
        xp = backend.array_module(parts[0])
        flat = xp.concatenate([p.reshape(-1) for p in parts])
        collective(flat)
        offset = 0
        for i, p in zip(positions, parts):
            yield i, flat[offset:offset + p.size].reshape(p.shape)
            offset += p.size


class GradientAllReducer:
    """``reducer(pairs) -> pairs``: sums (or averages) ``(gradient, variable)`` pairs over
    replicas. Every rank must pass the same variables in the same order.

    Args:
        average: divide by the number of replicas (the mean of per-replica gradients).
        bucket_bytes: fusion bucket size for dense gradients.
        check_variables: the first time a variable is seen, check that it holds the same
            value on every rank (a model built without :func:`broadcast_variables` and with
            different seeds would otherwise diverge silently).
    """

    def __init__(self, average=True, bucket_bytes=DEFAULT_BUCKET_BYTES, check_variables=True):
        if bucket_bytes <= 0:
            raise ValueError(f"GradientAllReducer: bucket_bytes must be a positive number of "
                             f"bytes, got {bucket_bytes}")
        self.average = bool(average)
        self.bucket_bytes = int(bucket_bytes)
        self.check_variables = check_variables

    def __call__(self, pairs):
        pairs = list(pairs)
        t = get_transport()
        if t.size == 1:
            return pairs
        sparse = [i for i, (g, _) in enumerate(pairs) if isinstance(g, IndexedSlices)]
        counts = self._agree_on(t, pairs, sparse)
        if self.check_variables:
            self._check_same_values(t, [v for _, v in pairs])
        scale = 1.0 / t.size if self.average else None
        out = list(pairs)
        dense = [i for i, (g, _) in enumerate(pairs) if not isinstance(g, IndexedSlices)]

        def reduce_(flat):
            t.allreduce_(flat, "sum")
            if scale is not None:
                flat *= flat.dtype.type(scale)
        for k, view in _fused([pairs[i][0]._data for i in dense], self.bucket_bytes, reduce_):
            i = dense[k]
            out[i] = (_wrap(view), pairs[i][1])
        for k, i in enumerate(sparse):
            g, v = pairs[i]
            out[i] = (self._gather_slices(t, g, np.ascontiguousarray(counts[:, k]), scale), v)
        return out

    @staticmethod
    def _agree_on(t, pairs, sparse):
        """Same variables, shapes and gradient kinds on every rank, else a clear error on
        every rank; returns each rank's index count of each sparse gradient ``(ranks,
        len(sparse))``. One exchange per step carries both: a rank whose list changed must
        not wait in a collective that ranks trusting an earlier agreement skip."""
        items = tuple((v.name, tuple(v.shape), str(g.dtype), isinstance(g, IndexedSlices))
                      for g, v in pairs)
        sig = _signatures.get(items)
        if sig is None:
            if len(_signatures) >= _MAX_SIGNATURES:
                _signatures.clear()
            sig = _signatures[items] = signature(items)
        table = t.gather_meta([sig] + [pairs[i][0].indices._data.size for i in sparse],
                              "gradient all-reduce")
        bad = np.nonzero(table[:, 0] != table[0, 0])[0]
        if bad.size:
            raise ValueError(
                f"gradient all-reduce: rank {int(bad[0])} passes different variables, shapes "
                f"or gradient kinds than rank 0 (this rank: {items}); every replica must "
                "build the same model and update the same variables in the same order")
        return table[:, 1:]

    @staticmethod
    def _check_same_values(t, variables):
        new = [v for v in variables if not _was_checked(v)]
        if not new:
            return
        sums = np.array([float(backend.to_numpy(v._data.sum(dtype=np.float64))) for v in new])
        table = t.gather_meta(sums.view(np.int64), "gradient all-reduce")
        differ = np.nonzero((table != table[0]).any(axis=0))[0]
        if differ.size:
            raise RuntimeError(
                f"variable {new[int(differ[0])].name!r} differs between ranks before its first "
                "update: call ef.distribute.broadcast_variables() after building the model "
                "(the Estimator does it for you), or seed every rank alike")
        if len(_checked) > 100_000:  # drop entries of variables that are gone
            for k in [k for k, ref in _checked.items() if ref() is None]:
                del _checked[k]
        _checked.update((id(v), weakref.ref(v)) for v in new)

    @staticmethod
    def _gather_slices(t, g, counts, scale):
        """Every rank's rows of ``g``; ``counts``: each rank's number of indices."""
        idx = g.indices._data.reshape(-1)
        vals = g.values._data
        xp = backend.array_module(vals)
        row = int(np.prod(vals.shape[1:], dtype=np.int64))
        all_idx = t.allgatherv(xp.ascontiguousarray(idx.astype(np.int64)), counts)
        all_vals = t.allgatherv(xp.ascontiguousarray(vals).reshape(-1), counts * row)
        all_vals = all_vals.reshape((-1,) + tuple(vals.shape[1:]))
        if scale is not None:
            all_vals *= all_vals.dtype.type(scale)
        return IndexedSlices(_wrap(all_vals), _wrap(all_idx), g.dense_shape)


def broadcast_variables(variables, root=0, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """Overwrites each variable, in place, with ``root``'s value (fused by dtype).

    Example:
        >>> import eagerflow as ef
        >>> v = ef.Variable([1.0], name="bcast_doc")
        >>> broadcast_variables([v])
        >>> v.numpy().tolist()
        [1.0]
    """
    variables = list(variables)
    t = get_transport()
    if t.size == 1 or not variables:
        return
    items = [(v.name, tuple(v.shape), str(v.dtype)) for v in variables]
    table = t.gather_meta([signature(items)], "broadcast_variables")
    if (table[:, 0] != table[0, 0]).any():
        raise ValueError(f"broadcast_variables: ranks hold different variables (this rank: "
                         f"{[n for n, _, _ in items]})")
    for i, view in _fused([v._data for v in variables], bucket_bytes,
                          lambda flat: t.bcast_(flat, root)):
        variables[i].assign(view)
