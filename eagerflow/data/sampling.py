"""``sample_from_datasets`` and ``choose_from_datasets`` over TF's directed interleave.

A *selector* dataset of int64 indices says which input gives the next element. An
exhausted input is skipped (the selector is asked again) unless ``stop_on_empty_dataset``,
which ends the result at once; the result also ends when the selector does or when every
input is exhausted. ``sample_from_datasets`` draws its selector from a seeded generator:
``(seed, epoch)`` with ``rerandomize_each_iteration``, ``(seed, 0)`` without (the same picks
each epoch), and a fresh base seed per dataset when unseeded (new picks each epoch), so a
seed makes the picks reproducible across runs. Iterators save and restore their position.

Example:
    >>> from eagerflow.data import Dataset
    >>> picks = Dataset.from_tensor_slices(np.array([1, 0, 0, 1], np.int64))
    >>> ds = choose_from_datasets([Dataset.range(3), Dataset.range(10, 13)], picks)
    >>> [int(x) for x in ds]
    [10, 0, 1, 11]
"""
import secrets

import numpy as np

from eagerflow.backend import random as _random
from eagerflow.io.errors import InvalidArgumentError

from .dataset import INFINITE, UNKNOWN, Cardinality, Dataset, DatasetIterator
from .shuffle import EpochSeeded
from .structure import TensorSpec, flatten_raw, pack_like, same_structure

__all__ = ["sample_from_datasets", "choose_from_datasets", "DirectedInterleaveDataset"]


def _check_datasets(datasets):
    if isinstance(datasets, Dataset) or not datasets:
        raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
    datasets = list(datasets)
    for i, d in enumerate(datasets):
        if not isinstance(d, Dataset):
            raise TypeError(f"Invalid `datasets`. `datasets` must be a list of "
                            f"`tf.data.Dataset` objects, but element {i} is "
                            f"{type(d).__name__}.")
    return datasets


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                         rerandomize_each_iteration=None):
    """See :meth:`Dataset.sample_from_datasets` (TF's ``sample_from_datasets_op``).

    Raises:
        ValueError: ``datasets`` is empty, or ``len(weights) != len(datasets)``.
        TypeError: ``weights`` is not floating point, or the inputs' element specs differ.
    """
    datasets = _check_datasets(datasets)
    if isinstance(weights, Dataset):
        sampler = _SamplerDataset(None, weights, len(datasets), seed,
                                  rerandomize_each_iteration)
        return DirectedInterleaveDataset(sampler, datasets, stop_on_empty_dataset)
    if weights is None:
        probs = np.full(len(datasets), 1.0 / len(datasets))
    else:
        if isinstance(weights, np.ndarray):
            weights = list(weights.reshape(-1)) if weights.ndim else weights
        if len(datasets) != len(weights):
            raise ValueError(f"Invalid `weights`. `weights` should have the same length as "
                             f"`datasets` but got `len(weights)={len(weights)}` vs. "
                             f"`len(datasets)={len(datasets)}`.")
        kept = [(d, w) for d, w in zip(datasets, weights) if w > 0]  # TF drops weight <= 0
        if kept:
            datasets, weights = [d for d, _ in kept], [w for _, w in kept]
        else:
            datasets, weights = [datasets[0].take(0)], [1.0]
        arr = np.asarray(weights)
        if arr.dtype not in (np.float32, np.float64):
            raise TypeError(f"Invalid `weights`. `weights` type must be either `tf.float32` "
                            f"or `tf.float64` but is <dtype: '{arr.dtype.name}'>.")
        probs = _normalize(arr.astype(np.float64), len(datasets))
    if len(datasets) == 1:
        return datasets[0]
    sampler = _SamplerDataset(probs, None, len(datasets), seed, rerandomize_each_iteration)
    return DirectedInterleaveDataset(sampler, datasets, stop_on_empty_dataset)


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    """See :meth:`Dataset.choose_from_datasets` (TF's ``choose_from_datasets_op``).

    Raises:
        ValueError: ``datasets`` is empty.
        TypeError: ``choice_dataset`` is not a Dataset of scalar int64, or the inputs'
            element specs differ.
        InvalidArgumentError: (when iterating) a choice outside ``[0, len(datasets))``.
    """
    datasets = _check_datasets(datasets)
    if not isinstance(choice_dataset, Dataset):
        raise TypeError(f"Invalid `choice_dataset`. `choice_dataset` should be a "
                        f"`tf.data.Dataset` but is {type(choice_dataset)}.")
    spec = choice_dataset.element_spec
    if spec is not None and not (isinstance(spec, TensorSpec) and spec.dtype == np.int64
                                 and spec.shape in (None, ())):
        raise TypeError(f"Invalid `choice_dataset`. Elements of `choice_dataset` must be "
                        f"scalar `tf.int64` tensors but are {spec}.")
    return DirectedInterleaveDataset(choice_dataset, datasets, stop_on_empty_dataset)


def _normalize(w, n, what="weights"):
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise InvalidArgumentError(f"sample_from_datasets: each element of the `weights` "
                                   f"dataset must hold {n} weights, got shape {list(w.shape)}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise InvalidArgumentError(f"sample_from_datasets: {what} must be finite and >= 0 "
                                   f"with a positive sum, got {w.tolist()}")
    return w / w.sum()


def _common_spec(datasets):
    """The inputs' common element_spec (shapes relaxed where they differ)."""
    spec = datasets[0].element_spec
    for i, d in enumerate(datasets[1:], 1):
        other = d.element_spec
        if spec is None or other is None:
            spec = spec if other is None else other
            continue
        ok = same_structure(spec, other) and all(
            a.dtype == b.dtype for a, b in zip(flatten_raw(spec), flatten_raw(other)))
        if not ok:
            raise TypeError(f"Invalid `datasets`. `datasets` must have compatible element "
                            f"specs.\n Dataset 0 element_spec={datasets[0].element_spec}.\n"
                            f"Dataset {i} element_spec={other}.")
        spec = pack_like(spec, [a.most_specific_common(b) for a, b in
                                zip(flatten_raw(spec), flatten_raw(other))])
    return spec


class DirectedInterleaveDataset(Dataset):
    """The element of ``data_inputs[i]`` for each index ``i`` the selector yields."""

    def __init__(self, selector_input, data_inputs, stop_on_empty_dataset=False):
        self._selector = selector_input
        self._datasets = list(data_inputs)
        self._stop = bool(stop_on_empty_dataset)
        self._spec = _common_spec(self._datasets)

    def _inputs(self):
        return [self._selector] + self._datasets

    def _infer_spec(self):
        return _common_spec(self._datasets)

    def cardinality(self):
        """INFINITE when an input is infinite, else UNKNOWN (TF's kernel)."""
        if any(int(d.cardinality()) == INFINITE for d in self._datasets):
            return Cardinality(INFINITE)
        return Cardinality(UNKNOWN)

    def _make(self, peek=False):
        return _DirectedIter(self, peek)


class _DirectedIter(DatasetIterator):
    def __init__(self, ds, peek):
        self.ds = ds
        self.selector = ds._selector._make(peek)
        self.inputs = [d._make(peek) for d in ds._datasets]
        self.done = False

    def _finish(self):
        self.done = True
        self.close()
        raise StopIteration

    def __next__(self):
        if self.done:
            raise StopIteration
        n = len(self.inputs)
        while True:
            try:
                i = int(next(self.selector))
            except StopIteration:
                self._finish()
            if not 0 <= i < n:
                raise InvalidArgumentError(f"Selector index out of range: {i} >= {n}")
            it = self.inputs[i]
            if it is None:
                continue  # an exhausted input: ask the selector again
            try:
                return next(it)
            except StopIteration:
                if self.ds._stop:
                    self._finish()
                it.close()
                self.inputs[i] = None
                if all(x is None for x in self.inputs):
                    self._finish()

    def save(self):
        return {"done": self.done,
                "selector": None if self.done else self.selector.save(),
                "inputs": [None if self.done or it is None else it.save()
                           for it in self.inputs]}

    def restore(self, state):
        if state["done"]:
            self.done = True
            self.close()
            return
        self.selector.restore(state["selector"])
        for i, s in enumerate(state["inputs"]):
            if s is None:
                self.inputs[i].close()
                self.inputs[i] = None
            else:
                self.inputs[i].restore(s)

    def close(self):
        self.selector.close()
        for it in self.inputs:
            if it is not None:
                it.close()


class _SamplerDataset(EpochSeeded, Dataset):
    """int64 indices in ``[0, n)`` drawn with probabilities ``probs`` (forever), or with
    the weights of each element of ``weights_dataset`` (one draw per element)."""

    def __init__(self, probs, weights_dataset, n, seed, rerandomize):
        self._probs, self._weights, self._n = probs, weights_dataset, int(n)
        gseed, oseed = _random.get_seed(seed)
        self._seeded = gseed is not None
        if self._seeded:
            self._seed = [int(gseed) & (2 ** 63 - 1), int(oseed) & (2 ** 63 - 1)]
        else:
            self._seed = [secrets.randbits(63)]
        self._reseed = bool(rerandomize) or not self._seeded
        self._epochs = 0
        self._spec = TensorSpec((), np.int64)

    def _inputs(self):
        return [] if self._weights is None else [self._weights]

    def cardinality(self):
        if self._weights is None:
            return Cardinality(INFINITE)
        return Cardinality(self._weights.cardinality())

    def _make(self, peek=False):
        return _SamplerIter(self, self._epoch(peek), peek)


class _SamplerIter(DatasetIterator):
    def __init__(self, ds, epoch, peek):
        self.ds, self.epoch = ds, epoch
        self.rng = ds._rng(epoch)
        self.up = None if ds._weights is None else ds._weights._make(peek)
        self.cum = None if ds._probs is None else np.cumsum(ds._probs)

    def __next__(self):
        cum = self.cum
        if self.up is not None:
            elem = next(self.up)
            w = flatten_raw(elem) if isinstance(elem, (tuple, dict)) else elem
            cum = np.cumsum(_normalize(w, self.ds._n, "each element of `weights`"))
        i = int(np.searchsorted(cum / cum[-1], self.rng.random(), side="right"))
        return np.array(min(i, self.ds._n - 1), dtype=np.int64)

    def save(self):
        return {"epoch": self.epoch, "seed": list(self.ds._seed),
                "rng": self.rng.bit_generator.state,
                "up": None if self.up is None else self.up.save()}

    def restore(self, state):
        ds = self.ds
        self.epoch = int(state["epoch"])
        ds._seed = [int(x) for x in state["seed"]]  # later epochs continue the same picks
        ds._epochs = max(ds._epochs, self.epoch + 1)
        self.rng = ds._rng(self.epoch)
        self.rng.bit_generator.state = state["rng"]
        if self.up is not None:
            self.up.restore(state["up"])

    def close(self):
        if self.up is not None:
            self.up.close()
