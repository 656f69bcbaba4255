"""A dataset's *recipe fingerprint*: which saved iterator positions fit which pipeline.

A saved iterator state only makes sense for the pipeline that produced it. The
fingerprint hashes the recipe — each transformation's type, its sizes, counts and flags,
file names, the qualified names of mapped functions, and the element shapes and dtypes of
in-memory sources — so a pipeline rebuilt by the same ``input_fn`` matches, and one with
another batch size, another file list or another transformation does not.

Left out on purpose: seeds (an unseeded shuffle draws a new base seed in every process, and
the saved position carries its seed anyway), per-epoch counters, cached element specs and
the *contents* of in-memory arrays (hashing a large ``from_tensor_slices`` array on every
``train`` call would cost more than it protects).

Example:
    >>> from eagerflow.data import Dataset
    >>> a = structure_fingerprint(Dataset.range(10).shuffle(4).batch(2))
    >>> a == structure_fingerprint(Dataset.range(10).shuffle(4).batch(2))
    True
    >>> a == structure_fingerprint(Dataset.range(10).shuffle(4).batch(3))
    False
"""
import hashlib

import numpy as np

from .dataset import Dataset

__all__ = ["structure_fingerprint"]

# attributes that change from one process (or epoch) to the next without changing the recipe
_VOLATILE = frozenset({"_seed", "_epochs", "_spec"})


def _describe(value, depth=0):
    """A stable text for one attribute value (recursing into containers, not datasets)."""
    if depth > 4:
        return "..."
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.generic)):
        return repr(value)
    if isinstance(value, Dataset):
        return "<dataset>"  # walked separately through _inputs()
    if isinstance(value, np.ndarray) or hasattr(value, "__array__") and hasattr(value, "shape"):
        return f"array{tuple(value.shape)}:{np.dtype(value.dtype).str}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_describe(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_describe(v, depth + 1)}"
                              for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if callable(value):
        return "fn:" + getattr(value, "__qualname__", type(value).__name__)
    return type(value).__name__


def _lines(dataset, depth, out):
    attrs = getattr(dataset, "__dict__", {})
    body = ";".join(f"{k}={_describe(v)}" for k, v in sorted(attrs.items())
                    if k not in _VOLATILE)
    out.append(f"{depth}:{type(dataset).__name__}({body})")
    for parent in dataset._inputs():
        _lines(parent, depth + 1, out)


def structure_fingerprint(dataset):
    """A hex digest of ``dataset``'s recipe (see the module docstring for what counts).

    Args:
        dataset: a :class:`~eagerflow.data.Dataset`.

    Returns:
        str, 32 hex characters.

    Raises:
        TypeError: when ``dataset`` is not a Dataset.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"structure_fingerprint: expected a Dataset, got "
                        f"{type(dataset).__name__}")
    out = []
    _lines(dataset, 0, out)
    return hashlib.blake2b("\n".join(out).encode(), digest_size=16).hexdigest()
