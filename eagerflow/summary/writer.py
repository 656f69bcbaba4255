"""Event files that TensorBoard reads: TF1's ``FileWriter`` and ``tf.compat.v1.summary.*``
ops, and TF2's ``create_file_writer`` / ``scalar`` / ``histogram`` / ``text`` / ``write``.

Events are ``Event`` protos framed as TFRecords in ``events.out.tfevents.<time>.<host>``,
the first one carrying ``file_version: "brain.Event:2"``, exactly as TensorFlow writes them.
The two APIs write what TensorFlow writes:

* TF2 (``create_file_writer(...).as_default()`` then ``scalar(name, data, step)``): a
  ``tensor`` value with the TensorBoard plugin's ``metadata`` (``scalars``: a float32
  scalar; ``histograms``: a ``[buckets, 3]`` float64 tensor of ``[left, right, count]``
  rows, 30 buckets by default; ``text``: a string tensor). The file name ends in
  ``.<pid>.<n>.v2``, as ``create_file_writer``'s do.
* TF1 (no default writer, no ``step``; or ``collections=``/``family=``): the op returns the
  serialized ``Summary`` (``simple_value`` for scalars, a ``HistogramProto`` bucketed as
  TF's C++ histogram for histograms) as a string tensor, collected for
  :func:`merge_all`, and written with ``FileWriter.add_summary``. With a default TF2
  writer, a TF1 call writes through it at the default step or the global step, as
  ``tf.compat.v1.summary`` does in TF2.

Example:
    >>> import tempfile
    >>> from eagerflow import summary
    >>> d = tempfile.mkdtemp()
    >>> with summary.create_file_writer(d).as_default():
    ...     summary.scalar("loss", 0.25, step=1)
    True
    >>> [summary.make_ndarray(e.summary.value[0].tensor).item()
    ...  for e in summary.summary_iterator(summary.event_files(d)[0]) if e.HasField("summary")]
    [0.25]
"""
import glob
import logging
import os
import socket
import threading
import time

import numpy as np

from ..autograd.tensor import Tensor
from ..io.tfrecord import encode_record, tf_record_iterator
from .event_pb2 import Event, HistogramProto, SessionLog, Summary, SummaryMetadata, TensorProto

from .encoding import _histogram

__all__ = ["FileWriter", "FileWriterCache", "summary_iterator", "event_files", "Event",
           "Summary", "SummaryMetadata", "TensorProto", "HistogramProto", "SessionLog"]

log = logging.getLogger("eagerflow")

_FILE_VERSION = "brain.Event:2"


class FileWriter:
    """Appends events to a new event file in ``logdir`` (``tf.compat.v1.summary.FileWriter``).

    The file is ``events.out.tfevents.<seconds>.<hostname><filename_suffix>`` and starts
    with a ``file_version: "brain.Event:2"`` event whose wall time is those seconds (TF's
    ``EventsWriter``). ``add_summary`` keeps a value's ``metadata`` only the first time its
    tag is seen, as TF's ``SummaryToEventTransformer`` does.

    Args:
        logdir: the directory (created if missing).
        graph: optional graph to write first (see :meth:`add_graph`).
        flush_secs: flush at least this often.
        filename_suffix: appended to the event file name.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, filename_suffix=None,
                 session=None, graph_def=None):
        self._logdir = os.fspath(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        seconds = int(time.time())
        name = f"events.out.tfevents.{seconds:010d}.{socket.gethostname()}"
        if filename_suffix:
            name += filename_suffix
        path = os.path.join(self._logdir, name)
        n = 0
        while os.path.exists(path):  # two writers in one second: keep both files
            n += 1
            path = os.path.join(self._logdir, f"{name}.{n}")
        self._path = path
        self._file = open(path, "ab")
        self._lock = threading.Lock()
        self._flush_secs = flush_secs
        self._last_flush = time.time()
        self._closed = False
        self._seen_summary_tags = set()
        self.add_event(Event(wall_time=float(seconds), file_version=_FILE_VERSION))
        graph = graph if graph is not None else graph_def
        if graph is not None:
            self.add_graph(graph)
        self.flush()

    def get_logdir(self):
        return self._logdir

    @property
    def path(self):
        return self._path

    def add_event(self, event):
        with self._lock:
            if self._closed:
                raise ValueError(f"FileWriter for {self._logdir} is closed")
            self._file.write(encode_record(event.SerializeToString()))
            if time.time() - self._last_flush >= self._flush_secs:
                self._flush_locked()

    def add_summary(self, summary, global_step=None):
        """Writes a ``Summary`` proto (or its serialized bytes, or the string tensor a TF1
        summary op returns) at ``global_step``."""
        if isinstance(summary, Tensor):
            summary = summary.numpy()
        if isinstance(summary, np.ndarray) and summary.shape == ():
            summary = summary.item()
        if isinstance(summary, bytes):
            summary = Summary.FromString(summary)
        if not isinstance(summary, Summary):
            raise TypeError(f"add_summary: expected a Summary proto, got {type(summary).__name__}")
        # TF strips the metadata of a tag seen before: only its first value carries it
        for value in summary.value:
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
                continue
            self._seen_summary_tags.add(value.tag)
        ev = Event(wall_time=time.time(), summary=summary)
        if global_step is not None:
            ev.step = int(global_step)
        self.add_event(ev)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Writes a graph for TensorBoard's Graphs tab (``FileWriter.add_graph``).

        Args:
            graph: a ``GraphDef`` (or its serialized bytes), or anything with
                ``as_graph_def()`` — a concrete function — or ``get_concrete_function()`` —
                an ``ef.function`` with an input signature.
        """
        if graph is None:
            graph = graph_def
        if hasattr(graph, "get_concrete_function"):
            graph = graph.get_concrete_function()
        if hasattr(graph, "as_graph_def"):
            graph = graph.as_graph_def()
        data = graph if isinstance(graph, bytes) else getattr(graph, "SerializeToString",
                                                               None)
        if data is None:
            raise TypeError("add_graph: expected a GraphDef, its bytes, a concrete function or "
                            f"an ef.function, got {type(graph).__name__}")
        ev = Event(wall_time=time.time(), graph_def=data if isinstance(data, bytes) else data())
        if global_step is not None:
            ev.step = int(global_step)
        self.add_event(ev)

    def add_session_log(self, session_log, global_step=None):
        """Writes a ``SessionLog`` event (``FileWriter.add_session_log``): ``START`` tells
        TensorBoard to drop the events of a crashed run past this step."""
        ev = Event(wall_time=time.time(), session_log=session_log)
        if global_step is not None:
            ev.step = int(global_step)
        self.add_event(ev)

    def add_scalar(self, tag, value, step):
        """Writes one scalar as a TF1 ``simple_value`` (an eagerflow convenience)."""
        self.add_summary(Summary(value=[Summary.Value(tag=tag, simple_value=float(value))]),
                         step)

    def add_histogram(self, tag, values, step, buckets=30):
        """Writes a ``HistogramProto`` of ``buckets`` equal-width buckets (an eagerflow
        convenience; TF1's ``tf.summary.histogram`` uses :func:`histogram_proto`)."""
        self.add_summary(Summary(value=[Summary.Value(tag=tag, histo=_histogram(values,
                                                                                buckets))]), step)

    def _flush_locked(self):
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_flush = time.time()

    def flush(self):
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def close(self):
        with self._lock:
            if not self._closed:
                self._flush_locked()
                self._file.close()
                self._closed = True

    def reopen(self):
        with self._lock:
            if self._closed:
                self._file = open(self._path, "ab")
                self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FileWriterCache:
    """One shared :class:`FileWriter` per directory (``tf.compat.v1.summary.FileWriterCache``)."""

    _writers = {}
    _lock = threading.Lock()

    @classmethod
    def get(cls, logdir):
        key = os.path.abspath(logdir)
        with cls._lock:
            w = cls._writers.get(key)
            if w is None or w._closed:
                w = cls._writers[key] = FileWriter(logdir)
            return w

    @classmethod
    def clear(cls):
        with cls._lock:
            for w in cls._writers.values():
                w.close()
            cls._writers.clear()


def summary_iterator(path):
    """Yields the ``Event`` protos of an event file (``tf.compat.v1.train.summary_iterator``)."""
    for record in tf_record_iterator(path):
        yield Event.FromString(record)


def event_files(logdir):
    """The event files in ``logdir``, oldest first."""
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))
