"""Request batching: concurrent Predict calls of one signature merged into one call.

Each task is one request's inputs (every input shares dim 0, its row count). A batch thread
takes the queued tasks whose inputs have matching dtypes and inner shapes, up to
``max_batch_size`` rows (waiting up to ``batch_timeout_micros`` for a partly filled batch),
concatenates them on dim 0, calls the signature once and splits every output back by rows.
If the merged call fails, or an output does not have one row per input row, the tasks run
one by one, so a bad request only fails itself and results always equal unbatched ones.

Example:
    >>> sched = BatchScheduler(lambda x: {"y": x * 2}, BatchingConfig(max_batch_size=8))
    >>> sched.run({"x": np.ones((2, 1), np.float32)})["y"].tolist()
    [[2.0], [2.0]]
    >>> sched.stop()
"""
import asyncio
import collections
import threading
import time

import numpy as np

from .config import BatchingConfig  # noqa: F401  (doctest name)
from .errors import ServingError

__all__ = ["BatchScheduler"]


class _Task:
    __slots__ = ("inputs", "rows", "key", "done", "result", "error", "enqueued")

    def __init__(self, inputs, rows, key, done):
        self.inputs, self.rows, self.key = inputs, rows, key
        self.done = done  # an object with .set(): a threading.Event or an asyncio waker
        self.result = self.error = None
        self.enqueued = time.monotonic()


class _AsyncWaker:
    """Resolves an asyncio future from a batch thread."""

    __slots__ = ("loop", "future")

    def __init__(self, loop):
        self.loop, self.future = loop, loop.create_future()

    def set(self):
        self.loop.call_soon_threadsafe(self._resolve)

    def _resolve(self):
        if not self.future.done():
            self.future.set_result(None)


def _task_key(inputs):
    rows, key = None, []
    for k in sorted(inputs):
        a = inputs[k]
        if a.ndim == 0:
            return None, None
        if rows is None:
            rows = a.shape[0]
        elif a.shape[0] != rows:
            return None, None
        key.append((k, a.dtype.str, a.shape[1:]))
    return rows, tuple(key)


class BatchScheduler:
    """Merges concurrent calls of ``fn(**inputs) -> {alias: array}``.

    Args:
        fn: the signature callable.
        config: a :class:`~eagerflow.serving.config.BatchingConfig`.
        on_batch: optional callable ``(rows)`` told each executed batch's size (metrics).
    """

    def __init__(self, fn, config, on_batch=None):
        self._fn, self._cfg, self._on_batch = fn, config, on_batch
        self._queue = collections.deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [threading.Thread(target=self._worker, daemon=True,
                                          name=f"ef-serving-batch-{i}")
                         for i in range(max(1, config.num_batch_threads))]
        for t in self._threads:
            t.start()

    def run(self, inputs):
        """Run one request's ``inputs`` through a batch; blocks until its outputs are ready."""
        rows, key = _task_key(inputs)
        if key is None or rows == 0 or rows > self._cfg.max_batch_size:
            return self._fn(**inputs)  # cannot be merged: run it alone
        task = self._enqueue(_Task(inputs, rows, key, threading.Event()))
        task.done.wait()
        if task.error is not None:
            raise task.error
        return task.result

    async def run_async(self, inputs):
        """:meth:`run` for asyncio callers: awaits the batch instead of blocking a thread."""
        rows, key = _task_key(inputs)
        if key is None or rows == 0 or rows > self._cfg.max_batch_size:
            return self._fn(**inputs)
        waker = _AsyncWaker(asyncio.get_running_loop())
        task = self._enqueue(_Task(inputs, rows, key, waker))
        await waker.future
        if task.error is not None:
            raise task.error
        return task.result

    def _enqueue(self, task):
        rows = task.rows
        with self._cond:
            if self._stopped:
                raise ServingError.unavailable("The batch scheduler is shutting down")
            limit = self._cfg.max_enqueued_batches * self._cfg.max_batch_size
            if self._queued_rows + rows > limit:
                raise ServingError.unavailable(
                    "The batch scheduling queue to which this task was submitted is full")
            self._queue.append(task)
            self._queued_rows += rows
            self._cond.notify()
        return task

    def _take_batch(self):
        """The next batch of same-key tasks (caller holds the lock), or None when stopped."""
        cfg = self._cfg
        while not self._queue:
            if self._stopped:
                return None
            self._cond.wait()
        head = self._queue[0]
        timeout = cfg.batch_timeout_micros / 1e6
        while timeout > 0 and not self._stopped:
            rows = sum(t.rows for t in self._queue if t.key == head.key)
            left = head.enqueued + timeout - time.monotonic()
            if rows >= cfg.max_batch_size or left <= 0:
                break
            self._cond.wait(left)
        batch, rows, keep = [], 0, collections.deque()
        while self._queue:
            t = self._queue.popleft()
            if t.key == head.key and rows + t.rows <= cfg.max_batch_size:
                batch.append(t)
                rows += t.rows
            else:
                keep.append(t)
        self._queue = keep
        self._queued_rows -= rows
        return batch

    def _worker(self):
        while True:
            with self._cond:
                batch = self._take_batch()
            if batch is None:
                return
            self._execute(batch)

    def _execute(self, batch):
        total = sum(t.rows for t in batch)
        if self._on_batch is not None:
            self._on_batch(total)
        if len(batch) > 1:
            try:
                merged = {k: np.concatenate([t.inputs[k] for t in batch])
                          for k in batch[0].inputs}
                out = {k: np.asarray(v) for k, v in self._fn(**merged).items()}
                if all(v.ndim >= 1 and v.shape[0] == total for v in out.values()):
                    start = 0
                    for t in batch:
                        t.result = {k: v[start:start + t.rows] for k, v in out.items()}
                        start += t.rows
                        t.done.set()
                    return
            except Exception:  # fall back to one call per task: errors stay per request
                pass
        for t in batch:
            try:
                t.result = self._fn(**t.inputs)
            except BaseException as e:
                t.error = e
            t.done.set()

    def stop(self):
        """Finish queued work and stop the batch threads."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=10)
