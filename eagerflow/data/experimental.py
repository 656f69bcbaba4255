"""``tf.data.experimental`` and TF1 helpers: CSV datasets, fused-name aliases, device
prefetch.

Example:
    >>> from eagerflow.data import Dataset
    >>> ds = Dataset.range(4).apply(map_and_batch(lambda x: x + 1, 2))
    >>> [b.tolist() for b in ds]
    [[1, 2], [3, 4]]
"""
import csv
import glob
import io as _io

import numpy as np

from eagerflow.backend import transfer as _transfer
from eagerflow.io.csv import decode_csv
from eagerflow.io.errors import InvalidArgumentError
from eagerflow.io.tfrecord import _compression_name, _open_stream

from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from .iterator import Optional
from .options import (AutoShardPolicy, AutotuneOptions, DistributeOptions,
                      ExternalStatePolicy, OptimizationOptions, ThreadingOptions)
from .readers import TextLineDataset, TFRecordDataset, _names
from .sampling import choose_from_datasets, sample_from_datasets
from .structure import flatten, pack_like
from .transforms import MapDataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality",
           "get_single_element", "scan", "take_while", "unique", "group_by_window",
           "bucket_by_sequence_length", "unbatch", "make_csv_dataset", "make_batched_features_dataset",
           "parse_example_dataset", "shuffle_and_repeat", "map_and_batch",
           "parallel_interleave", "prefetch_to_device", "copy_to_device",
           "sample_from_datasets", "choose_from_datasets", "ignore_errors",
           "assert_cardinality", "get_next_as_optional", "Optional", "AutoShardPolicy",
           "AutotuneOptions", "DistributeOptions", "ExternalStatePolicy",
           "OptimizationOptions", "ThreadingOptions"]


def cardinality(dataset):
    """``dataset.cardinality()``: the count, INFINITE_CARDINALITY or UNKNOWN_CARDINALITY."""
    return dataset.cardinality()


def get_single_element(dataset):
    """``dataset.get_single_element()``."""
    return dataset.get_single_element()


def scan(initial_state, scan_func):
    """``ds.scan(initial_state, scan_func)`` as a transformation for ``apply``."""
    return lambda ds: ds.scan(initial_state, scan_func)


def take_while(predicate):
    """``ds.take_while(predicate)`` as a transformation for ``apply``."""
    return lambda ds: ds.take_while(predicate)


def unique():
    """``ds.unique()`` as a transformation for ``apply``."""
    return lambda ds: ds.unique()


def unbatch():
    """``ds.unbatch()`` as a transformation for ``apply``."""
    return lambda ds: ds.unbatch()


def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    """``ds.group_by_window(...)`` as a transformation for ``apply``."""
    return lambda ds: ds.group_by_window(key_func, reduce_func, window_size, window_size_func)


def bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None,
                              pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """``ds.bucket_by_sequence_length(...)`` as a transformation for ``apply``."""
    return lambda ds: ds.bucket_by_sequence_length(
        element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes,
        padding_values, pad_to_bucket_boundary, no_padding, drop_remainder)


def ignore_errors(log_warning=False):
    """``ds.ignore_errors(log_warning)`` as a transformation for ``apply``."""
    return lambda ds: ds.ignore_errors(log_warning)


def assert_cardinality(expected_cardinality):
    """``ds.assert_cardinality(expected_cardinality)`` as a transformation for ``apply``.

    Example:
        >>> ds = Dataset.range(10).filter(lambda x: x < 4).apply(assert_cardinality(4))
        >>> int(cardinality(ds)), len(list(ds))
        (4, 4)
    """
    return lambda ds: ds.assert_cardinality(expected_cardinality)


def get_next_as_optional(iterator):
    """``iterator.get_next_as_optional()``."""
    return iterator.get_next_as_optional()


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """``shuffle(buffer_size, seed).repeat(count)`` as a transformation for ``apply``."""
    return lambda ds: ds.shuffle(buffer_size, seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None):
    """``map(map_func).batch(batch_size)`` as a transformation for ``apply``."""
    n = num_parallel_calls or num_parallel_batches
    return lambda ds: ds.map(map_func, num_parallel_calls=n).batch(batch_size, drop_remainder)


def parallel_interleave(map_func, cycle_length, block_length=1, sloppy=False,
                        buffer_output_elements=None, prefetch_input_elements=None):
    """TF1's parallel_interleave: ``interleave`` reading ``cycle_length`` inputs at once."""
    return lambda ds: ds.interleave(map_func, cycle_length, block_length,
                                    num_parallel_calls=cycle_length,
                                    deterministic=not sloppy)


def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """Maps batches of serialized Examples through ``parse_example(features)``."""
    from eagerflow.io.parse import parse_example
    return lambda ds: ds.map(lambda s: parse_example(s, features),
                             num_parallel_calls=num_parallel_calls, deterministic=deterministic)


def make_batched_features_dataset(file_pattern, batch_size, features,
                                  reader=TFRecordDataset, label_key=None, reader_args=None,
                                  num_epochs=None, shuffle=True, shuffle_buffer_size=10000,
                                  shuffle_seed=None, prefetch_buffer_size=None,
                                  reader_num_threads=None, parser_num_threads=None,
                                  sloppy_ordering=False, drop_final_batch=False):
    """Batches of parsed Examples (a dict, or ``(dict, label)``) from files of records.

    Files matching ``file_pattern`` are read (``reader_num_threads`` at once), records
    shuffled with a ``shuffle_buffer_size`` buffer, repeated ``num_epochs`` times (None:
    forever), batched and parsed with ``parse_example(features)`` on
    ``parser_num_threads`` threads.

    Example:
        >>> import os, tempfile
        >>> from eagerflow.io import TFRecordWriter, Example, FixedLenFeature
        >>> p = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
        >>> with TFRecordWriter(p) as w:
        ...     for i in range(3): w.write(Example())
        >>> ds = make_batched_features_dataset(p, 2, {"x": FixedLenFeature([], "int64", 7)},
        ...                                    num_epochs=1, shuffle=False)
        >>> [b["x"].tolist() for b in ds]
        [[7, 7], [7]]
    """
    files = Dataset.list_files(file_pattern, shuffle=shuffle, seed=shuffle_seed)
    k = reader_num_threads or 1
    args = list(reader_args or [])
    ds = files.interleave(lambda f: reader(f.item().decode(), *args), cycle_length=k,
                          block_length=1, num_parallel_calls=k if k > 1 else None,
                          deterministic=not sloppy_ordering)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    ds = ds.batch(batch_size, drop_remainder=drop_final_batch)
    ds = ds.apply(parse_example_dataset(features, parser_num_threads or 1))
    if label_key is not None:
        if label_key not in features:
            raise ValueError(f"label_key {label_key!r} is not in features")
        ds = ds.map(lambda f: (f, f.pop(label_key)))
    return ds.prefetch(prefetch_buffer_size if prefetch_buffer_size is not None else AUTOTUNE)


def prefetch_to_device(device=None, buffer_size=None):
    """Copies elements to the GPU on a background thread, ahead of the consumer.

    Numeric components go through pinned host memory on a separate CUDA stream
    (:mod:`eagerflow.backend.transfer`); string components stay on the host. On the
    numpy backend this returns the dataset unchanged.

    Args:
        device: unused (the current GPU); kept for TF compatibility.
        buffer_size: elements to keep ready on the device (default 2).
    """
    del device

    def apply(ds):
        if not _transfer.device_transfer_active():
            return ds
        moved = MapDataset(ds, _to_device_element)
        moved._spec = ds.element_spec
        return moved.prefetch(buffer_size or 2)
    return apply


def _to_device_element(*elem):
    elem = elem[0] if len(elem) == 1 else elem
    return pack_like(elem, _transfer.copy_to_device(flatten(elem)))


copy_to_device = prefetch_to_device


def _infer_type(values):
    vals = [v for v in values if v != ""]
    for cast, dtype in ((int, np.int64), (float, np.float32)):
        try:
            for v in vals:
                cast(v)
            if dtype is np.int64 and any(abs(int(v)) >= 2 ** 63 for v in vals):
                continue
            return dtype
        except ValueError:
            continue
    return object


def _column_index(column, column_names):
    """The position of a ``select_columns`` entry (a name or an index) among the columns;
    a bad entry is named with the columns there are (list.index would say only "not in
    list")."""
    if isinstance(column, str):
        if column not in column_names:
            raise ValueError(f"make_csv_dataset: select_columns entry {column!r} is not a "
                             f"column; the columns are: {', '.join(column_names)}")
        return column_names.index(column)
    i = int(column)
    if not 0 <= i < len(column_names):
        raise ValueError(f"make_csv_dataset: select_columns index {i} is out of range; "
                         f"accepted: 0 to {len(column_names) - 1} ({len(column_names)} columns)")
    return i


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None,
                     label_name=None, select_columns=None, field_delim=",",
                     use_quote_delim=True, na_value="", header=True, num_epochs=None,
                     shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                     prefetch_buffer_size=None, num_parallel_reads=None, sloppy=False,
                     num_rows_for_inference=100, compression_type=None, ignore_errors=False):
    """Batches of ``(features dict, label)`` (or just the dict) read from CSV files.

    Column names come from ``column_names`` or the header line; types from
    ``column_defaults`` or inferred (int64, float32, else string) from the first
    ``num_rows_for_inference`` rows. Files are shuffled, lines shuffled with a
    ``shuffle_buffer_size`` buffer, repeated ``num_epochs`` times (None: forever) and
    batched.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
        >>> _ = open(p, "w").write("x,y\\n1,a\\n2,b\\n")
        >>> f, y = next(iter(make_csv_dataset(p, 2, label_name="x", shuffle=False, num_epochs=1)))
        >>> sorted(y.tolist()), f["y"].tolist()
        ([1, 2], [b'a', b'b'])
    """
    del ignore_errors, sloppy
    patterns = [file_pattern] if isinstance(file_pattern, str) else _names(file_pattern)
    files = sorted({f for p in patterns for f in glob.glob(p)})
    if not files:
        raise InvalidArgumentError(f"make_csv_dataset: no files matched {file_pattern!r}")
    comp = _compression_name(compression_type)
    with _open_stream(files[0], comp) as f:
        head_lines = []
        for _ in range(num_rows_for_inference + 1):
            line = f.readline()
            if not line:
                break
            head_lines.append(line.decode().rstrip("\r\n"))
    rows = list(csv.reader(_io.StringIO("\n".join(head_lines)), delimiter=field_delim))
    if header:
        names_in_file, rows = rows[0], rows[1:]
    if column_names is None:
        if not header:
            raise ValueError("make_csv_dataset: column_names is needed when header=False")
        column_names = names_in_file
    column_names = list(column_names)
    if select_columns is not None:
        sel = sorted(_column_index(c, column_names) for c in select_columns)
    else:
        sel = list(range(len(column_names)))
    names = [column_names[i] for i in sel]
    if label_name is not None and label_name not in names:
        raise ValueError(f"make_csv_dataset: label_name {label_name!r} is not among the "
                         f"columns {names}")
    if column_defaults is None:
        defaults = []
        for i in sel:
            t = _infer_type([r[i] if i < len(r) else "" for r in rows])
            defaults.append({np.int64: [0], np.float32: [0.0], object: [""]}[t])
    else:
        defaults = list(column_defaults)
        if len(defaults) == len(column_names) and len(sel) != len(column_names):
            defaults = [defaults[i] for i in sel]
    if len(defaults) != len(names):
        raise InvalidArgumentError(f"make_csv_dataset: {len(defaults)} column_defaults for "
                                   f"{len(names)} columns")

    def lines(fname):
        ds = TextLineDataset(fname, comp)
        return ds.skip(1) if header else ds

    fds = Dataset.from_tensor_slices(np.array([f.encode() for f in files], dtype=object))
    if shuffle:
        fds = fds.shuffle(len(files), seed=shuffle_seed)
    k = num_parallel_reads or 1
    ds = fds.interleave(lambda f: lines(f.item().decode()), cycle_length=k, block_length=1,
                        num_parallel_calls=k if k > 1 else None)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    ds = ds.batch(batch_size)

    def decode(batch):
        cols = decode_csv(batch, defaults, field_delim=field_delim,
                          use_quote_delim=use_quote_delim, na_value=na_value,
                          select_cols=None if len(sel) == len(column_names) else sel)
        feats = dict(zip(names, cols))
        if label_name is None:
            return feats
        label = feats.pop(label_name)
        return feats, label

    ds = ds.map(decode)
    return ds.prefetch(prefetch_buffer_size if prefetch_buffer_size is not None else AUTOTUNE)
