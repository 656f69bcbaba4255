"""Collectives on Tensors and arrays: ``all_reduce``, ``broadcast``, ``all_gather``,
``all_to_all`` and ``barrier``, over the job's transport (NCCL for GPU arrays when usable,
MPI otherwise, the identity in a single process).

Each call first agrees on shapes and dtypes across ranks with a few int64s, so a rank
that passes a different shape gets a ``ValueError`` naming both ranks' shapes instead of
a hang or corrupted data. Collectives are not differentiable (they move gradients).

Example:
    >>> import numpy as np
    >>> from eagerflow import distribute
    >>> distribute.all_reduce(np.array([1.0, 2.0]), op="mean")   # size 1: unchanged
    array([1., 2.])
"""
import zlib

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap
from . import runtime
from .runtime import default_transport  # moved to runtime (init's only user); kept here
from .transport import LocalTransport, MPITransport, NCCLTransport

__all__ = ["REDUCE_OPS", "default_transport", "get_transport", "all_reduce", "broadcast",
           "all_gather", "all_to_all", "barrier"]

REDUCE_OPS = ("sum", "mean", "max", "min")
_MAX_RANK = 8  # dims carried in a shape agreement
_transport = {}


def get_transport():
    """The :class:`~eagerflow.distribute.transport.Transport` of this job (made once)."""
    t = _transport.get("t")
    if t is None:
        info = runtime.init()
        world = runtime.mpi_world()
        if info.size == 1:
            t = LocalTransport()
        elif info.transport == "nccl":
            t = NCCLTransport(world, runtime.collective_timeout())
        else:
            t = MPITransport(world, runtime.collective_timeout())
        _transport["t"] = t
    return t


def _unwrap(x):
    if isinstance(x, Tensor):
        a, as_tensor = x._data, True
    else:
        a, as_tensor = (x if backend.is_array(x) else backend.asarray(x)), False
    if a.dtype.kind not in "biufc":
        raise TypeError(f"collectives move numeric arrays only, got dtype {a.dtype}")
    return a, as_tensor


def _dtype_code(dtype):
    return ord(dtype.kind) * 100 + dtype.itemsize


def _dtype_of(code):
    return np.dtype(f"{chr(int(code) // 100)}{int(code) % 100}")


def _describe(row):
    ndim = int(row[1])
    return f"shape {tuple(int(d) for d in row[2:2 + ndim])} {_dtype_of(row[0])}"


def _agree(t, what, a, free_first_dim=False):
    """Checks that every rank passes the same shape (all but dim 0 when ``free_first_dim``)
    and dtype; returns the ``(size, 2 + _MAX_RANK)`` table of everyone's shapes."""
    if a.ndim > _MAX_RANK:
        raise ValueError(f"{what}: at most {_MAX_RANK} dimensions, got shape {a.shape}")
    mine = np.zeros(2 + _MAX_RANK, np.int64)
    mine[0], mine[1] = _dtype_code(a.dtype), a.ndim
    mine[2:2 + a.ndim] = a.shape
    table = t.gather_meta(mine, what)
    cols = np.ones(mine.size, bool)
    if free_first_dim:
        if a.ndim == 0:
            raise ValueError(f"{what}: needs arrays with a first dimension, got a scalar")
        cols[2] = False
    bad = np.nonzero((table[:, cols] != table[0, cols]).any(axis=1))[0]
    if bad.size:
        r = int(bad[0])
        raise ValueError(f"{what}: rank 0 passed {_describe(table[0])} but rank {r} passed "
                         f"{_describe(table[r])}" +
                         (" (only the first dimension may differ)" if free_first_dim else ""))
    return table


def _out(a, as_tensor):
    return _wrap(a) if as_tensor else a


def all_reduce(x, op="sum"):
    """Reduces ``x`` elementwise over all ranks.

    Args:
        x: a Tensor or array, the same shape and dtype on every rank.
        op: ``'sum'``, ``'mean'``, ``'max'`` or ``'min'``.

    Returns:
        A new Tensor (for a Tensor input) or array with the result, on every rank.

    Raises:
        ValueError: for an unknown ``op``, a ``'mean'`` of integers, or shapes that differ
            across ranks.

    Example:
        >>> import numpy as np
        >>> all_reduce(np.array([2.0]), op="sum")  # size 1
        array([2.])
    """
    if op not in REDUCE_OPS:
        raise ValueError(f"all_reduce: op must be one of {REDUCE_OPS}, got {op!r}")
    a, as_tensor = _unwrap(x)
    if op == "mean" and a.dtype.kind not in "fc":
        raise ValueError(f"all_reduce: op='mean' needs a floating dtype, got {a.dtype}")
    t = get_transport()
    _agree(t, "all_reduce", a)
    buf = backend.array_module(a).ascontiguousarray(a).reshape(-1).copy()
    t.allreduce_(buf, "sum" if op == "mean" else op)
    if op == "mean":
        buf *= buf.dtype.type(1.0 / t.size)
    return _out(buf.reshape(a.shape), as_tensor)


def broadcast(x, root=0):
    """``root``'s value of ``x`` on every rank (a new Tensor or array).

    Raises:
        ValueError: for a ``root`` outside ``[0, size)`` or shapes that differ across ranks.

    Example:
        >>> import numpy as np
        >>> broadcast(np.arange(3), root=0)
        array([0, 1, 2])
    """
    t = get_transport()
    if not 0 <= int(root) < t.size:
        raise ValueError(f"broadcast: root must be in [0, {t.size}), got {root}")
    a, as_tensor = _unwrap(x)
    _agree(t, "broadcast", a)
    buf = backend.array_module(a).ascontiguousarray(a).reshape(-1).copy()
    t.bcast_(buf, int(root))
    return _out(buf.reshape(a.shape), as_tensor)


def all_gather(x):
    """Every rank's ``x`` concatenated along dim 0, in rank order. The first dimension may
    differ between ranks (uneven shards); the others must match.

    Example:
        >>> import numpy as np
        >>> all_gather(np.array([[1, 2]])).shape
        (1, 2)
    """
    a, as_tensor = _unwrap(x)
    t = get_transport()
    table = _agree(t, "all_gather", a, free_first_dim=True)
    row = int(np.prod(a.shape[1:], dtype=np.int64))
    flat = backend.array_module(a).ascontiguousarray(a).reshape(-1)
    out = t.allgatherv(flat, table[:, 2] * row)
    return _out(out.reshape((-1,) + tuple(a.shape[1:])), as_tensor)


def all_to_all(x, splits=None):
    """Sends the ``p``-th chunk of ``x`` (split along dim 0) to rank ``p``; returns the
    chunks received from every rank, concatenated in rank order.

    Args:
        x: a Tensor or array of shape ``(n, ...)``; trailing dims must match across ranks.
        splits: rows sent to each rank (``size`` ints summing to ``n``); by default
            ``n / size`` each.

    Raises:
        ValueError: for bad ``splits`` or mismatched trailing shapes.

    Example:
        >>> import numpy as np
        >>> all_to_all(np.arange(4))  # size 1: everything comes back
        array([0, 1, 2, 3])
    """
    a, as_tensor = _unwrap(x)
    t = get_transport()
    _agree(t, "all_to_all", a, free_first_dim=True)
    n = a.shape[0]
    if splits is None:
        if n % t.size:
            raise ValueError(f"all_to_all: {n} rows do not split evenly over {t.size} ranks; "
                             "pass splits=")
        splits = [n // t.size] * t.size
    splits = np.asarray(backend.to_numpy(splits), np.int64).reshape(-1)
    if splits.size != t.size or (splits < 0).any() or splits.sum() != n:
        raise ValueError(f"all_to_all: splits must be {t.size} non-negative ints summing to "
                         f"{n}, got {splits.tolist()}")
    row = int(np.prod(a.shape[1:], dtype=np.int64))
    recv = t.exchange_meta(splits, "all_to_all")
    flat = backend.array_module(a).ascontiguousarray(a).reshape(-1)
    out = t.alltoallv(flat, splits * row, recv * row)
    return _out(out.reshape((-1,) + tuple(a.shape[1:])), as_tensor)


def barrier():
    """Returns when every rank has called it."""
    get_transport().barrier()


def signature(items):
    """A 63-bit checksum of ``items`` (strings/ints): ranks compare it to agree cheaply on
    what they are about to exchange (variable names, shapes, order)."""
    return zlib.crc32(repr(items).encode()) | (len(items) << 32)
