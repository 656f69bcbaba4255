"""The summary ops: TF2's ``tf.summary`` (default writer, ``scalar``/``histogram``/``text``/
``write`` at a step, ``record_if``) and TF1's ``tf.compat.v1.summary`` ops (serialized
``Summary`` string tensors collected for ``merge_all``). See :mod:`eagerflow.summary.writer`
for what the files hold."""
import contextlib
import itertools
import logging
import os
import re
import threading
import time

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..backend.dtypes import as_dtype
from ..errors import InvalidArgumentError
from .event_pb2 import Event, Summary, SummaryMetadata
from .encoding import _host_array, _tensor_proto, histogram_proto
from .writer import FileWriter


__all__ = ["SummaryWriter", "create_file_writer", "create_noop_writer", "scalar", "histogram",
           "text", "write", "merge", "merge_all", "flush", "record_if",
           "should_record_summaries", "experimental", "SUMMARIES"]

log = logging.getLogger("eagerflow")


# --- TF2 writer state --------------------------------------------------------------------
class _State(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None
        self.recording = True


_default = _State()
_file_counter = itertools.count()


class SummaryWriter:
    """A TF2 summary writer (``tf.summary.SummaryWriter``) over an event file; made by
    :func:`create_file_writer`. ``with writer.as_default(step=...): scalar(...)``."""

    def __init__(self, logdir, flush_millis=120000, filename_suffix=None, max_queue=None):
        # TF2's SummaryFileWriter embeds the pid and a per-process counter before the
        # suffix (default '.v2') so that writers never share a file
        suffix = ".v2" if filename_suffix is None else filename_suffix
        sep = "" if suffix.startswith(".") else "."
        unique = f".{os.getpid()}.{next(_file_counter)}{sep}{suffix}"
        self._writer = FileWriter(logdir, flush_secs=flush_millis / 1000.0,
                                  filename_suffix=unique)
        self._closed = False

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Makes this the default writer inside the block (and ``step`` the default step);
        flushes on the way out, as TF2 does."""
        saved, saved_step = _default.writer, _default.step
        _default.writer = self
        if step is not None:
            _default.step = step
        try:
            yield self
            self.flush()
        finally:
            _default.writer, _default.step = saved, saved_step

    def set_as_default(self, step=None):
        """Makes this the default writer from now on (``SummaryWriter.set_as_default``)."""
        _default.writer = self
        if step is not None:
            _default.step = step

    def init(self):
        """Nothing to do: the event file exists from the start (``SummaryWriter.init``)."""

    def flush(self):
        if not self._closed:
            self._writer.flush()

    def close(self):
        self._closed = True
        self._writer.close()

    @property
    def file_writer(self):
        return self._writer

    def _write_event(self, event):
        self._writer.add_event(event)


class _NoopSummaryWriter(SummaryWriter):
    """``tf.summary.create_noop_writer()``: a default writer that writes nothing."""

    def __init__(self):
        self._closed = False

    def flush(self):
        pass

    def close(self):
        self._closed = True

    @property
    def file_writer(self):
        return None

    def _write_event(self, event):
        pass


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None, experimental_trackable=False, experimental_mesh=None):
    """A :class:`SummaryWriter` for ``logdir`` (``tf.summary.create_file_writer``).

    The event file is created at once, named
    ``events.out.tfevents.<seconds>.<host>.<pid>.<n><filename_suffix or '.v2'>``.

    Raises:
        ValueError: ``logdir cannot be None``.
    """
    if logdir is None:
        raise ValueError("logdir cannot be None")
    return SummaryWriter(logdir, flush_millis=120000 if flush_millis is None else flush_millis,
                         filename_suffix=filename_suffix)


def create_noop_writer():
    """A writer that writes nothing (``tf.summary.create_noop_writer``)."""
    return _NoopSummaryWriter()


class _Experimental:
    """``tf.summary.experimental``: the default step."""

    @staticmethod
    def set_step(step):
        """Sets the default step for summaries in this thread."""
        _default.step = step

    @staticmethod
    def get_step():
        """The default step, or None."""
        return _default.step

    @staticmethod
    @contextlib.contextmanager
    def summary_scope(name, default_name=None, values=None):
        """Yields ``(tag, scope)`` for a summary named ``name`` under the current scope."""
        tag = _v2_tag(name or default_name)
        yield tag, tag + "/"


experimental = _Experimental()


@contextlib.contextmanager
def record_if(condition):
    """Records summaries only while ``condition`` (a bool or a callable) is true
    (``tf.summary.record_if``)."""
    saved = _default.recording
    _default.recording = condition
    try:
        yield
    finally:
        _default.recording = saved


def should_record_summaries():
    """Whether a summary written now would be recorded (``tf.summary.should_record_summaries``):
    a default writer exists and the ``record_if`` condition holds."""
    if _default.writer is None:
        return False
    cond = _default.recording
    cond = cond() if callable(cond) else cond
    if isinstance(cond, Tensor):
        cond = bool(cond.numpy())
    return bool(cond)


def flush(writer=None, name=None):
    """Flushes ``writer`` or the default writer (``tf.summary.flush``)."""
    writer = writer if writer is not None else _default.writer
    if writer is not None:
        writer.flush()


def _step_value(step):
    if isinstance(step, Tensor):
        return int(np.asarray(step.numpy()))
    if hasattr(step, "numpy") and callable(step.numpy):
        return int(np.asarray(step.numpy()))
    return int(step)


def _step(step):
    if step is None:
        step = _default.step
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument "
                         "or through tf.summary.experimental.set_step() (summary: step is "
                         "required: pass step= or use writer.as_default(step=...))")
    return _step_value(step)


def _name_scope():
    from ..variables import get_variable_scope  # variables sit below summary
    return get_variable_scope().name


def _v2_tag(name):
    scope = _name_scope()
    return f"{scope}/{name}" if scope else name


_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """TF1's ``summary_op_util.clean_tag``: illegal characters become ``_``."""
    if name is None:
        return None
    new = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if new != name:
        log.info("Summary name %s is illegal; using %s instead.", name, new)
    return new


def _v1_tag(name, family):
    """TF1's ``summary_scope`` tag: ``scope/name``, or ``family/scope/family/name``."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    scope = _name_scope()
    full = f"{scope}/{base}" if scope else base
    return full if family is None else f"{family}/{full}"


def write(tag, tensor, step=None, metadata=None, name=None):
    """Writes a tensor summary to the default writer (``tf.summary.write``).

    Args:
        tag: the value's tag.
        tensor: the data (array-like or Tensor), or a callable returning it (only called
            when recording).
        step: the step (default: the writer's/experimental default step).
        metadata: a ``SummaryMetadata`` proto or its serialized bytes.

    Returns:
        True when written; False when there is no default writer or recording is off.

    Raises:
        ValueError: a default writer but no step.
    """
    if not should_record_summaries():
        return False
    step = _step(step)
    if callable(tensor) and not isinstance(tensor, Tensor):
        tensor = tensor()
    value = Summary.Value(tag=tag, tensor=_tensor_proto(_host_array(tensor)))
    if metadata is not None:
        if isinstance(metadata, bytes):
            metadata = SummaryMetadata.FromString(metadata)
        if metadata.ByteSize():
            value.metadata.CopyFrom(metadata)
    ev = Event(wall_time=time.time(), step=step, summary=Summary(value=[value]))
    _default.writer._write_event(ev)
    return True


def _plugin_metadata(plugin, description):
    return SummaryMetadata(summary_description=description or "",
                           plugin_data=SummaryMetadata.PluginData(plugin_name=plugin,
                                                                  content=b""))


# --- TF1 summaries: serialized Summary protos, collected for merge_all --------------------
SUMMARIES = "summaries"  # tf.GraphKeys.SUMMARIES
_collections = {}
_collections_lock = threading.Lock()


def _string_tensor(data):
    return Tensor(np.array(data, dtype=object))


class _PendingSummary(Tensor):
    """The string tensor of a TF1 summary op whose values are on the GPU: the serialized
    ``Summary`` is made when the tensor is first read (``.numpy()``, :func:`merge_all`'s
    result read, ``FileWriter.add_summary``), as TF1 evaluates a summary op only when it is
    fetched. So a ``model_fn`` that calls ``tf.compat.v1.summary.scalar`` makes no
    device-to-host copy per training step (a wait for the GPU, which a CUDA-graph capture
    also refuses). The values are copied on the device when the op is called (a variable
    updated in place later does not change them); errors of the values (a NaN in a
    histogram) are raised when the tensor is read. ``tags`` are known at once."""

    __slots__ = ("_build", "_value", "tags")

    def __init__(self, build, tags):
        self._build = build
        self._value = None
        self.tags = tuple(tags)

    @property
    def _data(self):
        if self._value is None:
            self._value = np.array(self._build(), dtype=object)
            self._build = None
        return self._value


def _on_device(x):
    """Whether the data of ``x`` (a Tensor or an array) is on the GPU, where reading it on
    the host waits for the GPU."""
    a = x._data if isinstance(x, Tensor) else x
    return backend.is_array(a) and backend.array_module(a) is not np


def _shape_of(x):
    """The shape of ``x`` without reading its values."""
    if isinstance(x, Tensor) or backend.is_array(x):
        return tuple(x.shape)
    return np.shape(x)


def _dtype_of(x):
    """The dtype of ``x`` without reading its values."""
    if isinstance(x, Tensor) or backend.is_array(x):
        return np.dtype(x.dtype)
    return np.asarray(x).dtype


def _v1_summary(tags, data, make):
    """A TF1 summary op's string tensor: ``make(host array) -> Summary`` serialized now for
    host data, or when the tensor is first read for GPU data (:class:`_PendingSummary`)."""
    if _on_device(data):
        snapshot = (data._data if isinstance(data, Tensor) else data).copy()
        return _PendingSummary(
            lambda: make(backend.to_numpy(snapshot)).SerializeToString(), tags)
    return _string_tensor(make(_host_array(data)).SerializeToString())


def _collect(t, tags, collections):
    """Adds a TF1 summary (its string tensor ``t``) to its collections (default
    ``[SUMMARIES]``); eagerly the latest summary of a tag replaces the previous one, so
    ``merge_all`` merges each tag once."""
    keys = [SUMMARIES] if collections is None else list(collections)
    with _collections_lock:
        for key in keys:
            _collections.setdefault(key, {})[tuple(tags)] = t
    return t


def _v1_mode(step, collections, family):
    return collections is not None or family is not None or \
        isinstance(step, (list, tuple)) or (step is None and _default.writer is None)


def _v1_step():
    """``_get_step_for_v2``: the default summary step, else the global step."""
    if _default.step is not None:
        return _default.step
    from ..train.global_step import get_global_step
    gs = get_global_step()
    return gs if gs is not None else None


def scalar(name, data=None, step=None, description=None, collections=None, family=None,
           tensor=None):
    """Writes a scalar (``tf.summary.scalar``; TF1's ``tf.compat.v1.summary.scalar``).

    TF2 (a default writer, or a ``step``): writes a float32 scalar tensor with the
    ``scalars`` plugin metadata; returns True, or False without a default writer. The tag
    is ``name`` under the current variable scope.

    TF1 (no default writer and no ``step``, or ``collections``/``family`` given; ``tensor``
    is TF1's name for ``data``): returns the serialized ``Summary`` (one ``simple_value``,
    tag ``clean_tag(name)``, ``family/family/name`` with a family) as a string tensor and
    adds it to ``collections`` (default ``'summaries'``) for :func:`merge_all`. ``data``
    on the GPU is not read until that tensor is (see :class:`_PendingSummary`).

    Raises:
        ValueError: a non-scalar ``data`` (TF2: ``Expected scalar shape``; TF1:
            InvalidArgumentError ``tags and values are not the same shape``), or a TF2
            writer without a step.
    """
    if tensor is not None:
        data = tensor
    if isinstance(step, (list, tuple)) and collections is None:
        collections, step = step, None
    if _v1_mode(step, collections, family):
        tag = _v1_tag(name, family)
        shape = _shape_of(data)  # checked without reading GPU data
        if shape != ():
            raise InvalidArgumentError(
                f"tags and values are not the same shape: [] != "
                f"[{','.join(map(str, shape))}] (tag '{tag}')")
        if should_record_summaries():  # TF2's compat.v1 ops write through a v2 writer
            return _scalar_v2(tag, data, _v1_step(), description)
        t = _v1_summary([tag], data, lambda a: Summary(
            value=[Summary.Value(tag=tag, simple_value=float(np.asarray(a)))]))
        return _collect(t, [tag], collections)
    return _scalar_v2(_v2_tag(name), data, step, description)


def _scalar_v2(tag, data, step, description):
    # the data is read only when it is written: without a default writer, or under a
    # record_if that is off, a step's summary call costs no device-to-host copy
    if not should_record_summaries():
        return False
    a = np.asarray(_host_array(data))
    if a.shape != ():
        raise ValueError(f"Expected scalar shape, saw shape: {a.shape}.")
    return write(tag, a.astype(np.float32), step=step,
                 metadata=_plugin_metadata("scalars", description))


def _buckets(data, bucket_count):
    """TensorBoard's ``histogram/summary_v2._buckets``: ``[bucket_count, 3]`` float64 rows
    ``[left, right, count]``; zeros for no data; one value: every edge equals it and the
    last bucket holds the count."""
    a = np.asarray(data, dtype=np.float64).ravel()
    k = max(0, int(bucket_count))
    if a.size == 0 or k == 0:
        return np.zeros((k, 3), np.float64)
    lo, hi = float(a.min()), float(a.max())
    if hi - lo == 0:
        counts = np.zeros(k)
        counts[-1] = a.size
        edges = np.full(k, hi)
        return np.stack([edges, edges, counts], axis=1)
    width = (hi - lo) / k
    idx = np.minimum(np.floor((a - lo) / width).astype(np.int32), k - 1)
    counts = np.bincount(idx, minlength=k).astype(np.float64)
    edges = np.linspace(lo, hi, k + 1)
    edges[-1] = hi
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def histogram(name, data=None, step=None, buckets=None, description=None, collections=None,
              family=None, values=None):
    """Writes a histogram (``tf.summary.histogram``; TF1's ``tf.compat.v1.summary.histogram``).

    TF2: a ``[buckets, 3]`` float64 tensor (default 30 buckets, TensorBoard's bucketing)
    with the ``histograms`` plugin metadata; True, or False without a default writer.
    TF1 (``values`` is its name for ``data``): the serialized ``Summary`` with TF's C++
    ``HistogramProto`` (see :func:`histogram_proto`), collected for :func:`merge_all`;
    ``data`` on the GPU is read only when that tensor is (see :class:`_PendingSummary`).

    Raises:
        InvalidArgumentError: TF1 with a NaN or infinite value (``Nan in summary histogram
            for: <tag>``); for GPU data, when the returned tensor is read.
    """
    if values is not None:
        data = values
    if isinstance(step, (list, tuple)) and collections is None:
        collections, step = step, None
    if _v1_mode(step, collections, family):
        tag = _v1_tag(name, family)
        if should_record_summaries():
            return _histogram_v2(tag, data, _v1_step(), buckets, description)

        def make(a):
            a = np.asarray(a, dtype=np.float64).ravel()
            if np.isnan(a).any():
                raise InvalidArgumentError(f"Nan in summary histogram for: {tag}")
            if np.isinf(a).any():
                raise InvalidArgumentError(f"Infinity in summary histogram for: {tag}")
            return Summary(value=[Summary.Value(tag=tag, histo=histogram_proto(a))])
        return _collect(_v1_summary([tag], data, make), [tag], collections)
    return _histogram_v2(_v2_tag(name), data, step, buckets, description)


def _histogram_v2(tag, data, step, buckets, description):
    if not should_record_summaries():
        return False
    count = 30 if buckets is None else buckets
    return write(tag, lambda: _buckets(_host_array(data), count), step=step,
                 metadata=_plugin_metadata("histograms", description))


def text(name, data=None, step=None, description=None, collections=None, tensor=None):
    """Writes text (``tf.summary.text``; TF1's ``tf.compat.v1.summary.text``).

    TF2: a string tensor with the ``text`` plugin metadata. TF1 (``tensor`` is its name
    for ``data``): the serialized ``Summary`` with the string tensor and the ``text``
    plugin metadata, collected for :func:`merge_all`.

    Raises:
        ValueError: for a non-string ``data`` (TF1: ``Expected tensor ... to have dtype
            string``); TypeError for TF2.
    """
    if tensor is not None:
        data = tensor
    if isinstance(step, (list, tuple)) and collections is None:
        collections, step = step, None
    dt = _dtype_of(data)  # strings live on the host; a GPU tensor is not read to say no
    is_string = dt.kind in "USO"
    if _v1_mode(step, collections, None):
        tag = _v1_tag(name, None)
        if not is_string:
            raise ValueError(f"Expected tensor {name} to have dtype string, got "
                             f"{as_dtype(dt).name}")
        a = _host_array(data)
        if should_record_summaries():
            return _text_v2(tag, a, _v1_step(), description)
        value = Summary.Value(tag=tag, tensor=_tensor_proto(a),
                              metadata=SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
                                  plugin_name="text")))
        return _collect(_string_tensor(Summary(value=[value]).SerializeToString()), [tag],
                        collections)
    if not is_string:
        raise TypeError(f"text: data must be a string tensor, got dtype {dt}")
    return _text_v2(_v2_tag(name), _host_array(data), step, description)


def _text_v2(tag, a, step, description):
    if not should_record_summaries():
        return False
    return write(tag, a, step=step, metadata=_plugin_metadata("text", description))


def _summary_of(x):
    if isinstance(x, Summary):
        return x
    if isinstance(x, Tensor):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        x = x.item()
    if isinstance(x, str):
        x = x.encode("latin-1")
    return Summary.FromString(bytes(x))


def merge(inputs, collections=None, name=None):
    """Merges serialized ``Summary`` protos into one (``tf.compat.v1.summary.merge``).
    Inputs whose GPU values are not read yet are merged when the result is read.

    Raises:
        InvalidArgumentError: ``Duplicate tag <tag> found in summary inputs`` (TF's
            MergeSummary check).
    """
    inputs = list(inputs)
    if any(isinstance(x, _PendingSummary) for x in inputs):
        # GPU values not read yet: the tags are checked now, the merge is made when the
        # result is read (merge_all in every model_fn call reads nothing)
        tags = []
        for x in inputs:
            tags += x.tags if isinstance(x, _PendingSummary) else \
                [v.tag for v in _summary_of(x).value]
        _check_unique_tags(tags)
        t = _PendingSummary(lambda: _merged(inputs).SerializeToString(), tags)
    else:
        t = _string_tensor(_merged(inputs).SerializeToString())
    if collections:
        with _collections_lock:
            for key in collections:
                _collections.setdefault(key, {})[("merged", id(t))] = t
    return t


def _check_unique_tags(tags):
    seen = set()
    for tag in tags:
        if tag in seen:
            raise InvalidArgumentError(f"Duplicate tag {tag} found in summary inputs")
        seen.add(tag)


def _merged(inputs):
    out = Summary()
    values = [value for x in inputs for value in _summary_of(x).value]
    _check_unique_tags([v.tag for v in values])
    for value in values:
        out.value.add().CopyFrom(value)
    return out


def merge_all(key=SUMMARIES, scope=None, name=None):
    """Merges the summaries collected under ``key`` (``tf.compat.v1.summary.merge_all``):
    None when there are none, else the merged serialized ``Summary`` as a string tensor.

    Eagerly each TF1 summary op call replaces the previous value of its tag, so this is
    the latest value of every tag. ``scope`` keeps tags matching it (``re.match``).
    """
    with _collections_lock:
        entries = list(_collections.get(key, {}).items())
    if scope is not None:
        entries = [(k, v) for k, v in entries if re.match(scope, str(k[0]))]
    if not entries:
        return None
    return merge([v for _, v in entries])


def _clear_collections():
    with _collections_lock:
        _collections.clear()
