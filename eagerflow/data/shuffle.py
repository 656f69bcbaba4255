"""``shuffle``: TF's buffer algorithm with per-epoch reseeding and saveable state.

Fill a buffer with the first ``buffer_size`` elements; then repeatedly pick a uniform
random slot, emit it and put the next input element there; once the input ends, shrink
the buffer. Epoch ``e`` draws from a generator seeded by ``(seed, e)`` when reshuffling,
``(seed, 0)`` otherwise, so a seed makes the sequence of orders reproducible.
"""
import secrets

import numpy as np

from eagerflow.backend import random as _random
from eagerflow.io.errors import InvalidArgumentError

from .dataset import DatasetIterator
from .iterator import decode_element, deferred_element
from .transforms import _SameCount, _Unary

__all__ = ["ShuffleDataset", "EpochSeeded"]

_CHUNK = 1024


class EpochSeeded:
    """Randomness per pass: the k-th iterator of a dataset draws from ``self._seed + [k]``,
    or from ``self._seed + [0]`` every pass when ``self._reseed`` is False (a shuffle that
    does not reshuffle, a sampler that does not rerandomize). A peek (spec inference) is
    pass 0 and counts no pass."""

    def _epoch(self, peek):
        if peek:
            return 0
        epoch = self._epochs
        self._epochs += 1
        return epoch

    def _rng(self, epoch):
        return np.random.default_rng(self._seed + [epoch if self._reseed else 0])


class ShuffleDataset(EpochSeeded, _SameCount, _Unary):
    def __init__(self, input_dataset, buffer_size, seed=None, reshuffle_each_iteration=None):
        super().__init__(input_dataset)
        buffer_size = int(buffer_size)
        if buffer_size == -1:
            raise InvalidArgumentError("shuffle: buffer_size must be > 0 (AUTOTUNE is not "
                                       "supported for shuffle)")
        if buffer_size <= 0:
            raise InvalidArgumentError(f"shuffle: buffer_size must be > 0, got {buffer_size}")
        self._size = buffer_size
        self._reseed = True if reshuffle_each_iteration is None else bool(
            reshuffle_each_iteration)
        gseed, oseed = _random.get_seed(seed)
        if gseed is None:
            self._seed = [secrets.randbits(63)]
        else:
            self._seed = [int(gseed) & (2 ** 63 - 1), int(oseed) & (2 ** 63 - 1)]
        self._epochs = 0

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _ShuffleIter(self, self._epoch(peek), peek)


class _ShuffleIter(DatasetIterator):
    def __init__(self, ds, epoch, peek):
        self.ds, self.epoch = ds, epoch
        self.rng = ds._rng(epoch)
        self.up = ds._input._make(peek)
        self.buf = []
        self.up_done = False
        self.filled = False
        self.pending = []  # pre-drawn slot indices for a full buffer

    def _fill(self):
        size = self.ds._size
        while len(self.buf) < size and not self.up_done:
            try:
                self.buf.append(next(self.up))
            except StopIteration:
                self.up_done = True
        self.filled = True

    def __next__(self):
        if not self.filled:
            self._fill()
        buf = self.buf
        n = len(buf)
        if n == 0:
            raise StopIteration
        if not self.up_done and n == self.ds._size:
            if not self.pending:
                self.pending = self.rng.integers(0, n, _CHUNK).tolist()[::-1]
            j = self.pending.pop()
            elem = buf[j]
            try:
                buf[j] = next(self.up)
            except StopIteration:
                self.up_done = True
                buf[j] = buf[-1]
                buf.pop()
            return elem
        j = int(self.rng.integers(0, n))
        elem = buf[j]
        buf[j] = buf[-1]
        buf.pop()
        return elem

    def save(self):
        return {"epoch": self.epoch, "seed": list(self.ds._seed),
                "rng": self.rng.bit_generator.state,
                "pending": list(self.pending), "filled": self.filled,
                "up_done": self.up_done, "up": self.up.save(),
                "buffer": [deferred_element(e) for e in self.buf]}

    def restore(self, state):
        ds = self.ds
        self.epoch = int(state["epoch"])
        ds._seed = [int(x) for x in state["seed"]]  # later epochs continue the same orders
        ds._epochs = max(ds._epochs, self.epoch + 1)
        self.rng = ds._rng(self.epoch)
        self.rng.bit_generator.state = state["rng"]
        self.pending = [int(x) for x in state["pending"]]
        self.filled, self.up_done = bool(state["filled"]), bool(state["up_done"])
        self.up.restore(state["up"])
        spec = ds._input.element_spec
        self.buf = [decode_element(spec, e) for e in state["buffer"]]

    def close(self):
        self.up.close()
