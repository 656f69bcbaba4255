"""Seeded random generators for both backends, with TensorFlow's seed semantics.

TF combines a global seed (``set_seed``) with an op-level seed. With both fixed, the
sequence of values an op produces is reproducible across runs; calling the op again draws
the next values of that sequence. We keep one generator per (global seed, op seed) pair.
An op without a seed draws from the global generator of the current backend.
"""
import threading

import numpy as np

from . import _cupy, state

__all__ = ["set_seed", "get_seed", "generator", "get_state", "set_state", "DEFAULT_OP_SEED"]

DEFAULT_OP_SEED = 87654321  # TF's: used when only the global seed is set

_lock = threading.Lock()
_global_seed = None
_generators = {}


def set_seed(seed):
    """Sets the global random seed (``tf.random.set_seed``); resets all op sequences.

    Args:
        seed: an int, or None to go back to non-deterministic draws.
    """
    global _global_seed
    if seed is not None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        seed = int(seed)
    with _lock:
        _global_seed = seed
        _generators.clear()


def get_seed(op_seed=None):
    """(global_seed, op_seed) as TF's ``get_seed`` returns them."""
    if _global_seed is None and op_seed is None:
        return None, None
    if _global_seed is None:
        return 0, int(op_seed)  # TF uses a default global seed when only op seed is set
    if op_seed is None:
        return _global_seed, DEFAULT_OP_SEED
    return _global_seed, int(op_seed)


class _NumpyGen:
    __slots__ = ("rng",)

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, dtype):
        if dtype.kind == "f" and dtype.itemsize in (4, 8):
            return self.rng.standard_normal(shape, dtype=dtype)
        return self.rng.standard_normal(shape).astype(dtype)

    def uniform(self, shape, dtype):
        if dtype.kind == "f" and dtype.itemsize in (4, 8):
            return self.rng.random(shape, dtype=dtype)
        return self.rng.random(shape).astype(dtype)

    def integers(self, low, high, shape, dtype):
        return self.rng.integers(low, high, size=shape, dtype=dtype)

    def permutation(self, n):
        return self.rng.permutation(n)


class _CupyGen:
    __slots__ = ("rs",)

    def __init__(self, seed):
        cp = _cupy.load()
        self.rs = cp.random.RandomState(seed)

    def normal(self, shape, dtype):
        if dtype.kind == "f":
            return self.rs.standard_normal(shape, dtype=dtype)
        return self.rs.standard_normal(shape).astype(dtype)

    def uniform(self, shape, dtype):
        if dtype.kind == "f":
            return self.rs.random_sample(shape, dtype=dtype)
        return self.rs.random_sample(shape).astype(dtype)

    def integers(self, low, high, shape, dtype):
        return self.rs.randint(low, high, size=shape, dtype=dtype)

    def permutation(self, n):
        return self.rs.permutation(n)


def _seed_int(*parts):
    # mix the parts into one 63-bit seed; SeedSequence does the hashing
    return int(np.random.SeedSequence([p & 0xFFFFFFFFFFFFFFFF for p in parts]).generate_state(
        2, np.uint32).view(np.uint64)[0] >> 1)


def generator(op_seed=None, backend=None):
    """The generator to draw from for an op with seed ``op_seed`` on ``backend``.

    Returns an object with ``normal(shape, dtype)``, ``uniform(shape, dtype)`` (in [0, 1)),
    ``integers(low, high, shape, dtype)`` and ``permutation(n)``.
    """
    name = backend or state.name
    g, o = get_seed(op_seed)
    key = (name, g, o)
    gen = _generators.get(key)
    if gen is None:
        with _lock:
            gen = _generators.get(key)
            if gen is None:
                seed = None if g is None else _seed_int(g, o)
                if name == "numpy":
                    gen = _NumpyGen(seed)
                else:
                    gen = _CupyGen(seed)
                _generators[key] = gen
    return gen


def get_state():
    """The positions of the seeded NumPy generators as a JSON-able dict, so a checkpoint can
    carry them (dropout masks after a resume then equal an uninterrupted run's).

    Unseeded generators are not reproducible anyway and CuPy's generators cannot report a
    position, so both are left out.

    Example:
        >>> f32 = np.dtype("float32")
        >>> set_seed(1); _ = generator(7, backend="numpy").normal((2,), f32)
        >>> saved = get_state(); a = generator(7, backend="numpy").normal((2,), f32)
        >>> set_state(saved); bool((generator(7, backend="numpy").normal((2,), f32) == a).all())
        True
    """
    with _lock:
        gens = [[g, o, gen.rng.bit_generator.state] for (name, g, o), gen in _generators.items()
                if name == "numpy" and g is not None]
        return {"global_seed": _global_seed, "numpy": gens}


def set_state(saved):
    """Moves the seeded NumPy generators to the positions :func:`get_state` returned; the
    global seed must be the one they were saved under (else ValueError naming both)."""
    if saved.get("global_seed") != _global_seed:
        raise ValueError(f"random.set_state: the state was saved under global seed "
                         f"{saved.get('global_seed')} but the global seed is {_global_seed}")
    for g, o, bit_state in saved.get("numpy", ()):
        generator(o, backend="numpy").rng.bit_generator.state = bit_state
