"""Variable initializers with TensorFlow 1's names, defaults and formulas.

Each initializer is a callable ``init(shape, dtype=None, partition_info=None)`` returning a
Tensor on the current backend. Seeded initializers draw from
``eagerflow.backend.random.generator(seed)``, so TF's global/op seed rules apply:
``ef.random.set_seed(1)`` then the same initializer calls give the same values every run.

Example:
    >>> from eagerflow.variables import initializers
    >>> initializers.glorot_uniform_initializer(seed=1)((2, 3)).shape
    TensorShape([2, 3])
"""
import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap
from ..backend import random as _random
from ..backend.dtypes import as_dtype

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Orthogonal", "Identity", "GlorotUniform",
    "GlorotNormal", "zeros_initializer", "ones_initializer", "constant_initializer",
    "random_normal_initializer", "random_uniform_initializer", "truncated_normal_initializer",
    "variance_scaling_initializer", "orthogonal_initializer", "identity_initializer",
    "glorot_uniform_initializer", "glorot_normal_initializer", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform", "get", "compute_fans", "TRUNCATED_NORMAL_STDDEV_FACTOR",
]

# std of a unit normal truncated to [-2, 2]; TF divides by it so the truncated draw keeps
# the requested variance.
TRUNCATED_NORMAL_STDDEV_FACTOR = .87962566103423978


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in shape)


def _float(dtype, what):
    dtype = as_dtype(dtype if dtype is not None else backend.FLOATX)
    if dtype.kind != "f":
        raise TypeError(f"{what} needs a floating dtype, got {dtype}")
    return dtype


def _truncated(gen, shape, dtype):
    """Unit normal draws with values outside [-2, 2] redrawn (TF's truncated_normal)."""
    xp = backend.xp()
    out = gen.normal(shape, dtype)
    bad = xp.abs(out) > 2
    # each redraw keeps ~95% of the values; a handful of rounds empties `bad`
    while int(bad.sum()):
        out = xp.where(bad, gen.normal(shape, dtype), out)
        bad = xp.abs(out) > 2
    return out


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as TF's ``_compute_fans`` computes them."""
    shape = _shape(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, dtype=None, partition_info=None) -> Tensor``."""

    dtype = None

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _dtype(self, dtype):
        if dtype is None:  # not `or`: a numpy dtype is falsy (it has len 0)
            dtype = self.dtype if self.dtype is not None else backend.FLOATX
        return as_dtype(dtype)


class Zeros(Initializer):
    """All zeros (``tf.zeros_initializer``)."""

    def __init__(self, dtype=None):
        self.dtype = dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return _wrap(backend.xp().zeros(_shape(shape), dtype=self._dtype(dtype)))


class Ones(Initializer):
    """All ones (``tf.ones_initializer``)."""

    def __init__(self, dtype=None):
        self.dtype = dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return _wrap(backend.xp().ones(_shape(shape), dtype=self._dtype(dtype)))


class Constant(Initializer):
    """A constant (``tf.constant_initializer(value)``): a scalar, or a value of the full size.

    Raises:
        ValueError: when a non-scalar value's size differs from the variable's.
    """

    def __init__(self, value=0, dtype=None, verify_shape=False):
        self.value = value
        self.dtype = dtype
        self.verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape(shape)
        value = self.value.numpy() if isinstance(self.value, Tensor) else self.value
        arr = np.asarray(value, dtype=self._dtype(dtype))
        if arr.ndim and arr.size != math.prod(shape):
            raise ValueError(f"constant_initializer: value has {arr.size} elements, the "
                             f"variable of shape {shape} needs {math.prod(shape)}")
        if self.verify_shape and arr.ndim and arr.shape != shape:
            raise ValueError(f"constant_initializer: value shape {arr.shape} != {shape}")
        arr = np.broadcast_to(arr, shape) if arr.ndim == 0 else arr.reshape(shape)
        return _wrap(backend.to_device(np.ascontiguousarray(arr)))


class RandomNormal(Initializer):
    """Normal draws (``tf.random_normal_initializer(mean=0.0, stddev=1.0, seed=None)``)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=None):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float(self._dtype(dtype), "random_normal_initializer")
        a = _random.generator(self.seed).normal(_shape(shape), dtype)
        return _wrap((a * dtype.type(self.stddev) + dtype.type(self.mean)).astype(dtype))


class RandomUniform(Initializer):
    """Uniform draws in ``[minval, maxval)`` (``tf.random_uniform_initializer``).

    ``maxval=None`` means 1 for floats, as in TF1.
    """

    def __init__(self, minval=0, maxval=None, seed=None, dtype=None):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        gen = _random.generator(self.seed)
        if dtype.kind in "iu":
            if self.maxval is None:
                raise ValueError("random_uniform_initializer: maxval is required for ints")
            return _wrap(gen.integers(self.minval, self.maxval, _shape(shape), dtype))
        hi = 1.0 if self.maxval is None else self.maxval
        a = gen.uniform(_shape(shape), dtype)
        return _wrap((a * dtype.type(hi - self.minval) + dtype.type(self.minval)).astype(dtype))


class TruncatedNormal(Initializer):
    """Normal draws beyond two stddevs redrawn (``tf.truncated_normal_initializer``)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=None):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float(self._dtype(dtype), "truncated_normal_initializer")
        a = _truncated(_random.generator(self.seed), _shape(shape), dtype)
        return _wrap((a * dtype.type(self.stddev) + dtype.type(self.mean)).astype(dtype))


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Scale-aware draws (``tf.variance_scaling_initializer``).

    ``n`` is fan_in, fan_out or their mean (``mode``). ``truncated_normal`` (and its old
    alias ``normal``) draws a truncated normal of stddev
    ``sqrt(scale / n) / .87962566103423978``; ``untruncated_normal`` a normal of stddev
    ``sqrt(scale / n)``; ``uniform`` draws in ``[-sqrt(3 scale / n), sqrt(3 scale / n)]``.

    Raises:
        ValueError: for a non-positive scale, an unknown mode or distribution.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=None):
        if scale <= 0.0:
            raise ValueError(f"variance_scaling_initializer: scale must be positive, got {scale}")
        if mode not in _MODES:
            raise ValueError(f"variance_scaling_initializer: mode must be one of {_MODES}, "
                             f"got {mode!r}")
        distribution = distribution.lower()
        if distribution not in _DISTRIBUTIONS:
            raise ValueError("variance_scaling_initializer: distribution must be one of "
                             f"{_DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed, self.dtype = seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float(self._dtype(dtype), "variance_scaling_initializer")
        shape = _shape(shape)
        full = getattr(partition_info, "full_shape", None) or shape
        fan_in, fan_out = compute_fans(full)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        gen = _random.generator(self.seed)
        if self.distribution in ("normal", "truncated_normal"):
            a = _truncated(gen, shape, dtype) * dtype.type(
                math.sqrt(scale) / TRUNCATED_NORMAL_STDDEV_FACTOR)
        elif self.distribution == "untruncated_normal":
            a = gen.normal(shape, dtype) * dtype.type(math.sqrt(scale))
        else:
            limit = math.sqrt(3.0 * scale)
            a = gen.uniform(shape, dtype) * dtype.type(2 * limit) - dtype.type(limit)
        return _wrap(a.astype(dtype))


class GlorotUniform(VarianceScaling):
    """``VarianceScaling(1.0, 'fan_avg', 'uniform')``: the default of ``get_variable``."""

    def __init__(self, seed=None, dtype=None):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype}


class GlorotNormal(VarianceScaling):
    """``VarianceScaling(1.0, 'fan_avg', 'truncated_normal')``."""

    def __init__(self, seed=None, dtype=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype}


def he_normal(seed=None):
    """``VarianceScaling(2.0, 'fan_in', 'truncated_normal')``."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    """``VarianceScaling(2.0, 'fan_in', 'uniform')``."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    """``VarianceScaling(1.0, 'fan_in', 'truncated_normal')``."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    """``VarianceScaling(1.0, 'fan_in', 'uniform')``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


class Orthogonal(Initializer):
    """An orthogonal matrix (``tf.orthogonal_initializer(gain=1.0, seed=None)``).

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``; the Q factor of a normal
    matrix, sign-corrected by the diagonal of R, is scaled by ``gain``.

    Raises:
        ValueError: for shapes of rank below 2.
    """

    def __init__(self, gain=1.0, seed=None, dtype=None):
        self.gain, self.seed, self.dtype = gain, seed, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float(self._dtype(dtype), "orthogonal_initializer")
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal_initializer: the shape must have rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        xp = backend.xp()
        a = _random.generator(self.seed).normal(flat, np.dtype(np.float64))
        q, r = xp.linalg.qr(a)
        q = q * xp.sign(xp.diag(r))
        if rows < cols:
            q = q.T
        return _wrap((self.gain * q).reshape(shape).astype(dtype))


class Identity(Initializer):
    """``gain`` times the identity matrix (``tf.identity_initializer``); 2-D shapes only."""

    def __init__(self, gain=1.0, dtype=None):
        self.gain, self.dtype = gain, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"identity_initializer: the shape must be 2-D, got {shape}")
        dtype = self._dtype(dtype)
        return _wrap((backend.xp().eye(*shape) * self.gain).astype(dtype))


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
random_uniform_initializer = RandomUniform
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
orthogonal_initializer = Orthogonal
identity_initializer = Identity
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal

_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": lambda: RandomUniform(-0.05, 0.05), "uniform": lambda: RandomUniform(-0.05, 0.05),
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "xavier_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_normal": GlorotNormal,
    "he_normal": he_normal, "he_uniform": he_uniform, "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform, "orthogonal": Orthogonal, "identity": Identity,
}


def get(identifier):
    """An initializer from a name (``'glorot_uniform'``, ``'zeros'``...), a class or a callable.

    Raises:
        ValueError: for an unknown name.
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"unknown initializer {identifier!r}; known: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[key]()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"cannot interpret {identifier!r} as an initializer")
