"""``Dataset``: an immutable, lazy recipe of elements, with TensorFlow's tf.data semantics.

Every transformation returns a new Dataset; ``iter(ds)`` starts a fresh pass (an epoch).
Iterators can save their position as a JSON-able dict and resume from it. The operations
live in :mod:`.sources`, :mod:`.transforms`, :mod:`.batching`, :mod:`.shuffle`,
:mod:`.cache` and :mod:`.parallel`; this module holds the public methods.

Example:
    >>> ds = Dataset.range(5).map(lambda x: x * 2).batch(2)
    >>> [b.tolist() for b in ds]
    [[0, 2], [4, 6], [8]]
"""
import os

import numpy as np

from .structure import flatten, flatten_raw, pack_like, spec_of

__all__ = ["Dataset", "AUTOTUNE", "INFINITE", "UNKNOWN", "INFINITE_CARDINALITY",
           "UNKNOWN_CARDINALITY", "Cardinality"]

AUTOTUNE = -1
INFINITE = INFINITE_CARDINALITY = -1
UNKNOWN = UNKNOWN_CARDINALITY = -2


class Cardinality(int):
    """An element count as :meth:`Dataset.cardinality` returns it: a plain ``int`` that
    also has TF's ``.numpy()`` (``ds.cardinality().numpy()``)."""

    def numpy(self):
        return np.int64(self)


def _card(n):
    return Cardinality(n)


def resolve_parallelism(n, arg="num_parallel_calls"):
    """None -> None (serial); AUTOTUNE -> CPU count; k >= 1 -> k."""
    if n is None:
        return None
    n = int(n)
    if n == AUTOTUNE:
        return max(os.cpu_count() or 1, 1)
    if n < 1:
        raise ValueError(f"{arg} must be >= 1 or AUTOTUNE (-1), got {n}")
    return n


class Dataset:
    """Base class of all datasets. Build one with a static constructor, e.g.
    :meth:`from_tensor_slices`, :meth:`range` or ``TFRecordDataset``."""

    _spec = None

    # -- the iterator contract ------------------------------------------------------
    def _make(self, peek=False):
        """A fresh internal iterator (``__next__``, ``save``, ``restore``, ``close``).

        ``peek`` is True for internal look-ahead passes (shape inference), which must not
        advance per-epoch counters such as shuffle's.
        """
        raise NotImplementedError

    def _inputs(self):
        return []

    def _infer_spec(self):
        it = self._make(peek=True)
        try:
            elem = next(it)
        except StopIteration:
            return None
        finally:
            it.close()
        return spec_of(elem)

    @property
    def element_spec(self):
        """The nested structure of :class:`TensorSpec` of one element."""
        if self._spec is None:
            self._spec = self._infer_spec()
        return self._spec

    @property
    def output_types(self):
        """TF1: the dtype structure of an element."""
        return pack_like(self.element_spec, [s.dtype for s in flatten_raw(self.element_spec)])

    @property
    def output_shapes(self):
        """TF1: the shape structure of an element."""
        return pack_like(self.element_spec, [s.shape for s in flatten_raw(self.element_spec)])

    def __iter__(self):
        from .iterator import Iterator
        return Iterator(self)

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self._spec!r}>"

    def __bool__(self):
        return True  # like TF: ``__len__`` must not decide truthiness

    def __len__(self):
        """The number of elements; TypeError when it is infinite or unknown (like TF)."""
        n = self.cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return int(n)

    # -- sources ----------------------------------------------------------------------
    @staticmethod
    def from_tensors(tensors):
        """A dataset of exactly one element, ``tensors``."""
        from .sources import TensorsDataset
        return TensorsDataset(tensors)

    @staticmethod
    def from_tensor_slices(tensors):
        """Slices every component of ``tensors`` along dim 0 (dim-0 sizes must agree).

        Example:
            >>> [x.tolist() for x in Dataset.from_tensor_slices([[1, 2], [3, 4]])]
            [[1, 2], [3, 4]]
        """
        from .sources import TensorSlicesDataset
        return TensorSlicesDataset(tensors)

    @staticmethod
    def range(*args, **kwargs):
        """``range(stop)`` or ``range(start, stop[, step])`` of int64 scalars."""
        from .sources import RangeDataset
        return RangeDataset(*args, **kwargs)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None):
        """Elements yielded by ``generator(*args)``, called anew for each epoch."""
        from .sources import GeneratorDataset
        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None):
        """The sorted file names matching ``file_pattern`` (a glob or list of globs),
        reshuffled each epoch unless ``shuffle=False``."""
        from .sources import list_files
        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Tuples (or the given nesting) of elements of the datasets; stops at the
        shortest. ``zip(a, b)`` = ``zip((a, b))`` = ``zip(datasets=(a, b))``; ``zip(a)``
        gives ``a``'s elements as they are. A list (``zip([a, b])``) raises TypeError, as
        in TF: use a tuple."""
        from .transforms import ZipDataset
        del name
        if not args and datasets is None:
            raise TypeError("Must pass at least one dataset to `zip`.")
        if args and datasets is not None:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        if len(args) == 1:
            datasets = args[0]
        elif args:
            datasets = args
        return ZipDataset(datasets)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None):
        """Elements of ``datasets`` picked at random, dataset ``i`` with probability
        ``weights[i]`` (normalised; default uniform; a Dataset of weight vectors gives one
        vector per pick). An exhausted input is skipped, or ends the result when
        ``stop_on_empty_dataset``. The picks are reproducible with ``seed``; they repeat
        each epoch unless ``rerandomize_each_iteration`` (unseeded: new every epoch).

        Example:
            >>> ds = Dataset.sample_from_datasets(
            ...     [Dataset.range(3), Dataset.range(100, 103)], [0.5, 0.5], seed=1)
            >>> sorted(int(x) for x in ds)
            [0, 1, 2, 100, 101, 102]
        """
        from .sampling import sample_from_datasets
        return sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset,
                                    rerandomize_each_iteration)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """The next element of ``datasets[i]`` for each int64 ``i`` of ``choice_dataset``.

        Example:
            >>> ds = Dataset.choose_from_datasets(
            ...     [Dataset.from_tensors("foo").repeat(), Dataset.from_tensors("bar").repeat()],
            ...     Dataset.range(2).repeat(2))
            >>> list(ds.as_numpy_iterator())
            [b'foo', b'bar', b'foo', b'bar']
        """
        from .sampling import choose_from_datasets
        return choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    # -- element-wise -----------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """Applies ``map_func`` to each element (a tuple element is unpacked into args).

        With ``num_parallel_calls=N`` it runs N worker threads and keeps the input order
        unless ``deterministic=False``.
        """
        n = resolve_parallelism(num_parallel_calls)
        if n is None:
            from .transforms import MapDataset
            return MapDataset(self, map_func)
        from .parallel import ParallelMapDataset
        return ParallelMapDataset(self, map_func, n, deterministic)

    def filter(self, predicate):
        """Keeps the elements for which ``predicate`` returns a scalar True."""
        from .transforms import FilterDataset
        return FilterDataset(self, predicate)

    def flat_map(self, map_func):
        """Concatenates the datasets ``map_func`` returns for each element."""
        from .transforms import InterleaveDataset
        return InterleaveDataset(self, map_func, 1, 1, None)

    def interleave(self, map_func, cycle_length=None, block_length=None,
                   num_parallel_calls=None, deterministic=None):
        """Interleaves the datasets ``map_func`` returns, ``block_length`` at a time over
        ``cycle_length`` slots (TF's exact order; parallel slots keep it)."""
        from .transforms import InterleaveDataset
        cycle = resolve_parallelism(AUTOTUNE if cycle_length is None else cycle_length,
                                    "cycle_length")
        block = 1 if block_length is None else int(block_length)
        if block < 1:
            raise ValueError(f"block_length must be >= 1, got {block_length}")
        return InterleaveDataset(self, map_func, cycle, block,
                                 resolve_parallelism(num_parallel_calls), deterministic)

    def enumerate(self, start=0):
        """``(int64 index, element)`` pairs, counting from ``start``."""
        return Dataset.zip((Dataset.range(start, 2 ** 63 - 1), self))

    def apply(self, transformation_func):
        """``transformation_func(self)``."""
        return transformation_func(self)

    def concatenate(self, dataset):
        """The elements of ``self`` then those of ``dataset`` (compatible structures)."""
        from .transforms import ConcatenateDataset
        return ConcatenateDataset(self, dataset)

    def take(self, count):
        """The first ``count`` elements (-1: all)."""
        from .transforms import TakeDataset
        return TakeDataset(self, count)

    def skip(self, count):
        """All but the first ``count`` elements (-1: skip all)."""
        from .transforms import SkipDataset
        return SkipDataset(self, count)

    def shard(self, num_shards, index):
        """The elements whose position p has ``p % num_shards == index``."""
        from .transforms import ShardDataset
        return ShardDataset(self, num_shards, index)

    def repeat(self, count=None):
        """Repeats the dataset ``count`` times (None or -1: forever), re-running upstream."""
        from .transforms import RepeatDataset
        return RepeatDataset(self, count)

    def unbatch(self):
        """Splits each element along dim 0 into elements."""
        from .transforms import UnbatchDataset
        return UnbatchDataset(self)

    def window(self, size, shift=None, stride=1, drop_remainder=False):
        """Windows of ``size`` elements (each a dataset), moving by ``shift``."""
        from .batching import WindowDataset
        return WindowDataset(self, size, shift, stride, drop_remainder)

    def scan(self, initial_state, scan_func):
        """A running state: ``scan_func(state, element)`` returns ``(new_state, output)``
        and ``output`` is the element produced."""
        from .grouping import ScanDataset
        return ScanDataset(self, initial_state, scan_func)

    def take_while(self, predicate):
        """The elements before the first one for which ``predicate`` is False."""
        from .grouping import TakeWhileDataset
        return TakeWhileDataset(self, predicate)

    def unique(self):
        """The first occurrence of each element (int32, int64 or string scalars)."""
        from .grouping import UniqueDataset
        return UniqueDataset(self)

    # -- grouping, order, buffering ---------------------------------------------------
    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None):
        """Groups elements by the int64 ``key_func(element)``; each group of
        ``window_size`` (or ``window_size_func(key)``) elements becomes
        ``reduce_func(key, group_dataset)``. At the end, partial groups are flushed in
        ascending key order.

        Example:
            >>> ds = Dataset.range(10).group_by_window(
            ...     lambda x: x % 2, lambda k, g: g.batch(3), window_size=3)
            >>> [b.tolist() for b in ds]
            [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
        """
        from .grouping import GroupByWindowDataset
        return GroupByWindowDataset(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                  bucket_batch_sizes, padded_shapes=None, padding_values=None,
                                  pad_to_bucket_boundary=False, no_padding=False,
                                  drop_remainder=False):
        """Batches elements of similar ``element_length_func`` length: bucket i holds
        lengths in ``[boundaries[i-1], boundaries[i])`` and is emitted (padded with
        :meth:`padded_batch`) every ``bucket_batch_sizes[i]`` elements.

        Example:
            >>> ds = Dataset.from_generator(
            ...     lambda: iter([[1], [2, 2], [3, 3, 3], [4]]), "int64", [None])
            >>> ds = ds.bucket_by_sequence_length(lambda x: len(x), [2], [2, 2])
            >>> [b.tolist() for b in ds]
            [[[2, 2, 0], [3, 3, 3]], [[1], [4]]]
        """
        from .grouping import bucket_by_sequence_length
        return bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                         bucket_batch_sizes, padded_shapes, padding_values,
                                         pad_to_bucket_boundary, no_padding, drop_remainder)

    def rebatch(self, batch_size, drop_remainder=False):
        """``unbatch().batch(batch_size)``; a list of sizes is cycled through."""
        from .grouping import RebatchDataset
        return RebatchDataset(self, batch_size, drop_remainder)

    # -- batching, order, buffering ----------------------------------------------------
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None):
        """Stacks ``batch_size`` consecutive elements along a new dim 0."""
        from .batching import BatchDataset
        del num_parallel_calls, deterministic
        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False):
        """Batches elements of different shapes, padding each dim at its high end.

        Example:
            >>> ds = Dataset.from_generator(lambda: iter([[1], [2, 2], [3, 3, 3]]), "int64")
            >>> [b.tolist() for b in ds.padded_batch(2, padded_shapes=[None])]
            [[[1, 0], [2, 2]], [[3, 3, 3]]]
        """
        from .batching import PaddedBatchDataset
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                  drop_remainder)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None):
        """Shuffles with a ``buffer_size`` buffer (TF's algorithm)."""
        from .shuffle import ShuffleDataset
        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def cache(self, filename=""):
        """Records the first complete pass (in memory, or on disk when ``filename``)."""
        from .cache import CacheDataset
        return CacheDataset(self, filename)

    def ignore_errors(self, log_warning=False, name=None):
        """Drops the elements whose production raised an error and goes on with the next.

        Example:
            >>> def inv(x):
            ...     if x == 0:
            ...         raise ValueError("division by zero")
            ...     return 1.0 / x
            >>> ds = Dataset.from_tensor_slices([1.0, 2.0, 0.0, 4.0]).map(inv)
            >>> [float(x) for x in ds.ignore_errors()]
            [1.0, 0.5, 0.25]
        """
        from .error_ops import IgnoreErrorsDataset
        del name
        return IgnoreErrorsDataset(self, log_warning)

    def assert_cardinality(self, expected_cardinality):
        """The same elements, with :meth:`cardinality` ``expected_cardinality``; iterating
        fails (FailedPrecondition, see :mod:`.error_ops`) when the count differs.

        Example:
            >>> ds = Dataset.range(10).filter(lambda x: x % 2 == 0)
            >>> int(ds.cardinality()), int(ds.assert_cardinality(5).cardinality())
            (-2, 5)
        """
        from .error_ops import AssertCardinalityDataset
        return AssertCardinalityDataset(self, expected_cardinality)

    def with_options(self, options, name=None):
        """The same dataset with ``options`` (a :class:`~eagerflow.data.Options`) merged
        into the options of its inputs; later transformations keep them.

        Example:
            >>> from eagerflow.data import Options
            >>> o = Options(); o.deterministic = False
            >>> Dataset.range(3).with_options(o).map(lambda x: x).options().deterministic
            False
        """
        from .options import OptionsDataset
        del name
        return OptionsDataset(self, options)

    def options(self):
        """The options of this dataset and its inputs (read-only; set them with
        :meth:`with_options`)."""
        opts = self._merged_options()
        opts._set_mutable(False)
        return opts

    def _merged_options(self):
        from .options import Options, merge_options
        return merge_options(Options(), *[d._merged_options() for d in self._inputs()])

    def prefetch(self, buffer_size):
        """Works ahead on a background thread; values and order are unchanged."""
        from .parallel import PrefetchDataset
        return PrefetchDataset(self, buffer_size)

    # -- consumption --------------------------------------------------------------------
    def reduce(self, initial_state, reduce_func):
        """Folds the elements: ``state = reduce_func(state, element)``."""
        state = initial_state
        for elem in self:
            state = reduce_func(state, elem)
        return state

    def as_numpy_iterator(self):
        """An iterator of NumPy elements, like TF's: scalar components come as NumPy
        scalars (``np.int64(1)``) and scalar strings as ``bytes``; others as arrays.

        Example:
            >>> list(Dataset.from_tensor_slices(["a", "b"]).as_numpy_iterator())
            [b'a', b'b']
        """
        for elem in self:
            yield pack_like(elem, [_numpy_leaf(x) for x in flatten(elem)])

    def get_single_element(self):
        """The only element of the dataset; InvalidArgumentError if it has 0 or >1."""
        from eagerflow.io.errors import InvalidArgumentError
        it = iter(self)
        try:
            try:
                elem = next(it)
            except StopIteration:
                raise InvalidArgumentError("Dataset was empty.") from None
            try:
                next(it)
            except StopIteration:
                return elem
            raise InvalidArgumentError("Dataset had more than one element.")
        finally:
            it.close()

    def make_one_shot_iterator(self):
        """TF1: an iterator with ``get_next()`` raising OutOfRangeError at the end."""
        from .iterator import Iterator
        return Iterator(self)

    def make_initializable_iterator(self, shared_name=None):
        """TF1: an iterator that (re)starts when ``initializer`` is called."""
        del shared_name
        from .iterator import InitializableIterator
        return InitializableIterator(self)

    def cardinality(self):
        """The element count when cheap to know, else UNKNOWN (-2) or INFINITE (-1),
        with TF's rules per transformation (e.g. ``filter`` gives UNKNOWN).

        Example:
            >>> ds = Dataset.range(42)
            >>> int(ds.cardinality()), int(ds.repeat().cardinality())
            (42, -1)
            >>> int(ds.repeat().filter(lambda x: True).cardinality())
            -2
        """
        return _card(UNKNOWN)


def _numpy_leaf(x):
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x.item() if x.dtype.kind == "O" else x[()]
    return x


class DatasetIterator:
    """Base of the internal iterators: ``__next__``, ``save``, ``restore``, ``close``."""

    def __iter__(self):
        return self

    def save(self):
        raise NotImplementedError(f"{type(self).__name__} cannot save its state")

    def restore(self, state):
        raise NotImplementedError(f"{type(self).__name__} cannot restore a state")

    def close(self):
        pass
