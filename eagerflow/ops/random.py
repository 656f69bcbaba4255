"""Random ops with TensorFlow's seed semantics (global seed + op seed): normal, uniform,
truncated_normal, categorical, shuffle."""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import random as _rng
from ..backend.dtypes import FLOATX, as_dtype
from .creation import _shape_arg

__all__ = ["normal", "uniform", "truncated_normal", "categorical", "shuffle", "set_seed",
           "get_seed"]

set_seed = _rng.set_seed
get_seed = _rng.get_seed


def _float_dtype(dtype, what):
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{what}: dtype must be a float type, got {dtype}")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=FLOATX, seed=None, name=None):
    """Samples from N(mean, stddev²) (``tf.random.normal``).

    Example:
        >>> import eagerflow as ef
        >>> ef.random.set_seed(0)
        >>> ef.random.normal((2, 3)).shape.as_list()
        [2, 3]
    """
    dtype = _float_dtype(dtype, "normal")
    z = _rng.generator(seed).normal(_shape_arg(shape, "normal"), dtype)
    return _wrap((z * stddev + mean).astype(dtype, copy=False))


def uniform(shape, minval=0, maxval=None, dtype=FLOATX, seed=None, name=None):
    """Samples uniformly from ``[minval, maxval)`` (``tf.random.uniform``).

    For integer dtypes ``maxval`` is required.
    """
    dtype = as_dtype(dtype)
    shape = _shape_arg(shape, "uniform")
    gen = _rng.generator(seed)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError("uniform: maxval must be given for integer dtypes")
        if maxval <= minval:
            raise ValueError(f"uniform: need minval < maxval, got {minval} and {maxval}")
        return _wrap(gen.integers(int(minval), int(maxval), shape, dtype))
    maxval = 1.0 if maxval is None else maxval
    u = gen.uniform(shape, dtype)
    return _wrap((u * (maxval - minval) + minval).astype(dtype, copy=False))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=FLOATX, seed=None, name=None):
    """N(mean, stddev²) with values beyond two stddevs redrawn (``tf.random.truncated_normal``)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    shape = _shape_arg(shape, "truncated_normal")
    gen = _rng.generator(seed)
    z = gen.normal(shape, dtype)
    xp = backend.array_module(z)
    bad = xp.abs(z) > 2.0
    while bool(bad.any()):  # each pass redraws ~4.6% of what is left
        z = xp.where(bad, gen.normal(shape, dtype), z)
        bad = xp.abs(z) > 2.0
    return _wrap((z * stddev + mean).astype(dtype, copy=False))


def categorical(logits, num_samples, dtype=np.int64, seed=None, name=None):
    """Draws class indices from unnormalised log-probabilities ``logits`` of shape
    ``(batch, num_classes)``; returns ``(batch, num_samples)`` (``tf.random.categorical``)."""
    lg = logits._data if isinstance(logits, Tensor) else _to_array(logits)
    if lg.ndim != 2:
        raise ValueError(f"categorical: logits must be 2-D (batch, classes), got {tuple(lg.shape)}")
    xp = backend.array_module(lg)
    gen = _rng.generator(seed, backend=backend.get_backend() if xp is not np else "numpy")
    b, k = lg.shape
    # Gumbel-max: argmax(logits + Gumbel noise) is a sample of softmax(logits)
    u = gen.uniform((b, int(num_samples), k), np.dtype(np.float64))
    gumbel = -xp.log(-xp.log(xp.clip(u, 1e-300, 1.0)))
    return _wrap(xp.argmax(lg[:, None, :].astype(np.float64) + gumbel, axis=-1).astype(
        as_dtype(dtype)))


def shuffle(value, seed=None, name=None):
    """Randomly permutes ``value`` along its first dimension (``tf.random.shuffle``)."""
    a = value._data if isinstance(value, Tensor) else _to_array(value)
    if a.ndim == 0:
        raise ValueError("shuffle: value must have rank >= 1")
    xp = backend.array_module(a)
    gen = _rng.generator(seed, backend="numpy" if xp is np else "cupy")
    return _wrap(a[gen.permutation(a.shape[0])])
