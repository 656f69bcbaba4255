"""``index_add``: ``out[key] += values`` with NumPy indexing rules, duplicates accumulated.

The adjoint of ``x[key]`` for any key (slices, ints, integer or boolean arrays). Row
gathers take the faster :mod:`scatter_add` path; this is the general fallback.
"""
import numpy as np

from eagerflow.backend import _cupy

__all__ = ["index_add"]


def _is_basic(key):
    return all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice))
               for k in key)


def index_add(out, key, values):
    """Adds ``values`` into ``out[key]`` in place, summing repeated positions; returns out."""
    if not isinstance(key, tuple):
        key = (key,)
    if _is_basic(key):
        out[key] += values  # a basic index never repeats a position
        return out
    if isinstance(out, np.ndarray):
        np.add.at(out, key, values)
        return out
    import cupyx  # noqa: PLC0415  (cupy is loaded: out is a cupy array)
    _cupy.load()
    cupyx.scatter_add(out, key, values)
    return out
