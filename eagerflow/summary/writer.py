"""Event files that TensorBoard reads: ``FileWriter`` (TF1) and ``create_file_writer`` /
``scalar`` / ``histogram`` (TF2 style).

Events are ``Event`` protos framed as TFRecords in ``events.out.tfevents.<time>.<host>``,
the first one carrying ``file_version: "brain.Event:2"``, exactly as TensorFlow writes them.

Example:
    >>> import tempfile
    >>> from eagerflow import summary
    >>> d = tempfile.mkdtemp()
    >>> with summary.create_file_writer(d).as_default():
    ...     summary.scalar("loss", 0.25, step=1)
    True
    >>> [e.summary.value[0].simple_value for e in summary.summary_iterator(summary.event_files(d)[0])
    ...  if e.HasField("summary")]
    [0.25]
"""
import contextlib
import glob
import os
import socket
import threading
import time

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..io.tfrecord import encode_record, tf_record_iterator
from .event_pb2 import Event, HistogramProto, SessionLog, Summary

__all__ = ["FileWriter", "FileWriterCache", "SummaryWriter", "create_file_writer", "scalar",
           "histogram", "summary_iterator", "event_files", "Event", "Summary",
           "HistogramProto", "SessionLog"]


class FileWriter:
    """Appends events to a new event file in ``logdir`` (``tf.compat.v1.summary.FileWriter``).

    Args:
        logdir: the directory (created if missing).
        graph: optional graph to write first (see :meth:`add_graph`).
        flush_secs: flush at least this often.
        filename_suffix: appended to the event file name.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, filename_suffix=None):
        self._logdir = os.fspath(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}"
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
        self.add_event(Event(wall_time=time.time(), file_version="brain.Event:2"))
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
        """Writes a ``Summary`` proto (or its serialized bytes) at ``global_step``."""
        if isinstance(summary, bytes):
            summary = Summary.FromString(summary)
        if not isinstance(summary, Summary):
            raise TypeError(f"add_summary: expected a Summary proto, got {type(summary).__name__}")
        ev = Event(wall_time=time.time(), summary=summary)
        if global_step is not None:
            ev.step = int(global_step)
        self.add_event(ev)

    def add_graph(self, graph, global_step=None):
        """Writes a graph for TensorBoard's Graphs tab (``FileWriter.add_graph``).

        Args:
            graph: a ``GraphDef`` (or its serialized bytes), or anything with
                ``as_graph_def()`` — a concrete function — or ``get_concrete_function()`` —
                an ``ef.function`` with an input signature.
        """
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
        """Writes one scalar."""
        self.add_summary(Summary(value=[Summary.Value(tag=tag, simple_value=float(value))]),
                         step)

    def add_histogram(self, tag, values, step, buckets=30):
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


def _histogram(values, buckets):
    a = np.asarray(backend.to_numpy(values._data) if isinstance(values, Tensor) else values,
                   dtype=np.float64).ravel()
    if a.size == 0:
        return HistogramProto()
    counts, edges = np.histogram(a, bins=int(buckets))
    return HistogramProto(min=float(a.min()), max=float(a.max()), num=float(a.size),
                          sum=float(a.sum()), sum_squares=float((a * a).sum()),
                          bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())


class _Default(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None


_default = _Default()


class SummaryWriter:
    """A TF2-style writer: ``with writer.as_default(): summary.scalar(...)``."""

    def __init__(self, logdir, flush_millis=120000, filename_suffix=None):
        self._writer = FileWriter(logdir, flush_secs=flush_millis / 1000.0,
                                  filename_suffix=filename_suffix)

    @contextlib.contextmanager
    def as_default(self, step=None):
        saved, saved_step = _default.writer, _default.step
        _default.writer = self
        if step is not None:
            _default.step = int(step)
        try:
            yield self
        finally:
            _default.writer, _default.step = saved, saved_step
            self.flush()

    def set_as_default(self, step=None):
        _default.writer = self
        if step is not None:
            _default.step = int(step)

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()

    @property
    def file_writer(self):
        return self._writer


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None):
    """A :class:`SummaryWriter` for ``logdir`` (``tf.summary.create_file_writer``)."""
    return SummaryWriter(logdir, flush_millis=120000 if flush_millis is None else flush_millis,
                         filename_suffix=filename_suffix)


def _step(step):
    if step is None:
        step = _default.step
    if step is None:
        raise ValueError("summary: step is required (pass step= or use "
                         "writer.as_default(step=...))")
    return int(step.numpy() if isinstance(step, Tensor) else step)


def scalar(name, data, step=None, description=None):
    """Writes a scalar to the default writer; returns False when there is none."""
    if _default.writer is None:
        return False
    value = float(np.asarray(backend.to_numpy(data._data) if isinstance(data, Tensor) else data))
    _default.writer.file_writer.add_scalar(name, value, _step(step))
    return True


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes a histogram of ``data`` to the default writer; False when there is none."""
    if _default.writer is None:
        return False
    _default.writer.file_writer.add_histogram(name, data, _step(step), buckets or 30)
    return True


def summary_iterator(path):
    """Yields the ``Event`` protos of an event file (``tf.compat.v1.train.summary_iterator``)."""
    for record in tf_record_iterator(path):
        yield Event.FromString(record)


def event_files(logdir):
    """The event files in ``logdir``, oldest first."""
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))
