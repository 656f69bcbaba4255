"""Background work: ``map(num_parallel_calls=N)`` on a thread pool and ``prefetch``.

Both keep the element order (parallel map gives it up only with ``deterministic=False``).
A worker's exception reaches the consumer with its original traceback, once: the next
call goes on with the following element, as TF's prefetch does. Dropping or
closing the iterator stops the threads. Saving state waits for work in flight and stores
the finished-but-unconsumed elements in the state.
"""
import collections
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from .dataset import AUTOTUNE, DatasetIterator
from .iterator import decode_element, deferred_element
from .transforms import _SameCount, _Unary, call, normalize_output

__all__ = ["ParallelMapDataset", "PrefetchDataset"]


def _apply(fn, elem):
    return normalize_output(call(fn, elem))


class ParallelMapDataset(_SameCount, _Unary):
    def __init__(self, input_dataset, fn, num_parallel_calls, deterministic=None):
        super().__init__(input_dataset)
        if not callable(fn):
            raise TypeError("map: map_func must be callable")
        self._fn = fn
        self._n = int(num_parallel_calls)
        self._deterministic = deterministic is not False

    def _make(self, peek=False, feed=0):
        if peek:
            from .transforms import _MapIter
            return _MapIter(self._input._make(peek), self._fn)
        if feed and self._deterministic:
            return _FedParallelMapIter(self, feed)
        return _ParallelMapIter(self)


class _ParallelMapIter(DatasetIterator):
    def __init__(self, ds):
        self.ds = ds
        self.up = ds._input._make()
        self.pool = ThreadPoolExecutor(ds._n, thread_name_prefix="eagerflow-map")
        self.queue = collections.deque()
        self.ready = collections.deque()   # restored outputs, consumed first
        self.up_done = False
        self.depth = 2 * ds._n

    def _fill(self):
        while not self.up_done and len(self.queue) < self.depth:
            try:
                elem = next(self.up)
            except StopIteration:
                self.up_done = True
                break
            self.queue.append(self.pool.submit(_apply, self.ds._fn, elem))

    def __next__(self):
        if self.ready:
            return self.ready.popleft()
        if self.pool is None:
            raise StopIteration
        self._fill()
        if not self.queue:
            raise StopIteration
        if self.ds._deterministic:
            fut = self.queue.popleft()
        else:
            done, _ = wait(self.queue, return_when=FIRST_COMPLETED)
            fut = next(f for f in self.queue if f in done)
            self.queue.remove(fut)
        out = fut.result()  # re-raises a worker's exception with its traceback
        self._fill()
        return out

    def save(self):
        outs = list(self.ready) + [f.result() for f in self.queue]
        return {"up": self.up.save(), "up_done": self.up_done,
                "buffer": [deferred_element(e) for e in outs]}

    def restore(self, state):
        for f in self.queue:
            f.cancel()
        self.queue.clear()
        self.up.restore(state["up"])
        self.up_done = bool(state["up_done"])
        spec = self.ds.element_spec
        self.ready = collections.deque(decode_element(spec, e) for e in state["buffer"])

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            self.queue.clear()
            self.up.close()


class PrefetchDataset(_SameCount, _Unary):
    def __init__(self, input_dataset, buffer_size):
        super().__init__(input_dataset)
        size = int(buffer_size)
        if size == AUTOTUNE:
            size = 4
        if size < 0:
            raise ValueError(f"prefetch: buffer_size must be >= 0 or AUTOTUNE, got {buffer_size}")
        self._size = size

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        if not peek and self._size and isinstance(self._input, ParallelMapDataset):
            # fuse: the map's feeder thread works ahead; no extra hand-off thread
            return self._input._make(feed=self._size)
        up = self._input._make(peek)
        if peek or self._size == 0:
            return up
        return _PrefetchIter(self, up)


_END = object()


def _fatal(err):
    """True for an error that ends a prefetch thread (KeyboardInterrupt and the like);
    an ordinary Exception is delivered once and the input goes on."""
    return err is not None and not isinstance(err, Exception)


class _Worker:
    """The producer thread's state. It references only the upstream, never the consumer
    iterator, so a dropped consumer is collected and its ``__del__`` stops this."""

    def __init__(self, up, size):
        self.up, self.size = up, size
        self.buf = collections.deque()
        self.cv = threading.Condition()
        self.up_lock = threading.Lock()
        self.paused = False
        self.stop = False
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.run, name="eagerflow-prefetch", daemon=True)
        self.thread.start()

    def run(self):
        while True:
            with self.cv:
                while (len(self.buf) >= self.size or self.paused) and not self.stop:
                    self.cv.wait()
                if self.stop:
                    return
            with self.up_lock:
                if self.stop:
                    return
                try:
                    item = (next(self.up), None)
                except StopIteration:
                    item = (_END, None)
                except BaseException as e:  # noqa: BLE001 - handed to the consumer
                    item = (None, e)
                with self.cv:
                    self.buf.append(item)
                    self.cv.notify_all()
            if item[0] is _END or _fatal(item[1]):
                return  # after an ordinary error the input goes on, as TF's prefetch does

    def get(self):
        with self.cv:
            while not self.buf:
                self.cv.wait()
            elem, err = self.buf[0]
            if elem is not _END and not _fatal(err):
                self.buf.popleft()
                self.cv.notify_all()
        if err is not None:
            raise err
        if elem is _END:
            raise StopIteration
        return elem

    def pause(self):
        with self.cv:
            self.paused = True
        self.up_lock.acquire()

    def resume(self):
        self.up_lock.release()
        with self.cv:
            self.paused = False
            self.cv.notify_all()

    def close(self):
        with self.cv:
            self.stop = True
            self.cv.notify_all()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=10)
        with self.up_lock:
            self.up.close()


class _PrefetchIter(DatasetIterator):
    def __init__(self, ds, up):
        self.ds = ds
        self.w = _Worker(up, ds._size)

    def __next__(self):
        if self.w.thread is None:
            self.w.start()
        return self.w.get()

    def save(self):
        w = self.w
        w.pause()
        try:
            items = list(w.buf)
            for elem, err in items:
                if err is not None:
                    raise err
            ended = bool(items) and items[-1][0] is _END
            elems = [e for e, _ in items if e is not _END]
            return {"up": w.up.save(), "ended": ended,
                    "buffer": [deferred_element(e) for e in elems]}
        finally:
            w.resume()

    def restore(self, state):
        w = self.w
        w.pause()
        try:
            w.up.restore(state["up"])
            spec = self.ds.element_spec
            w.buf.clear()
            w.buf.extend((decode_element(spec, e), None) for e in state["buffer"])
            if state["ended"]:
                w.buf.append((_END, None))
        finally:
            w.resume()

    def close(self):
        self.w.close()

    def __del__(self):
        try:
            self.w.close()
        except Exception:  # noqa: BLE001
            pass


class _Submitter(DatasetIterator):
    """Pulls upstream elements and submits them to the pool; yields futures."""

    def __init__(self, up, pool, fn):
        self.up, self.pool, self.fn = up, pool, fn

    def __next__(self):
        return self.pool.submit(_apply, self.fn, next(self.up))

    def close(self):
        self.up.close()


class _FedParallelMapIter(DatasetIterator):
    """Parallel map + prefetch: a feeder thread reads upstream and submits work ahead,
    so the consumer only collects finished results, in order."""

    def __init__(self, ds, extra):
        self.ds = ds
        self.pool = ThreadPoolExecutor(ds._n, thread_name_prefix="eagerflow-map")
        self.w = _Worker(_Submitter(ds._input._make(), self.pool, ds._fn), 2 * ds._n + extra)
        self.ready = collections.deque()

    def __next__(self):
        if self.ready:
            return self.ready.popleft()
        if self.w.thread is None:
            self.w.start()
        return self.w.get().result()

    def save(self):
        w = self.w
        w.pause()
        try:
            items = list(w.buf)
            ended = bool(items) and items[-1][0] is _END
            for fut, err in items:
                if err is not None:
                    raise err
            outs = list(self.ready) + [f.result() for f, _ in items if f is not _END]
            return {"up": w.up.up.save(), "ended": ended,
                    "buffer": [deferred_element(e) for e in outs]}
        finally:
            w.resume()

    def restore(self, state):
        w = self.w
        w.pause()
        try:
            for fut, _ in w.buf:
                if fut is not _END:
                    fut.cancel()
            w.buf.clear()
            w.up.up.restore(state["up"])
            if state["ended"]:
                w.buf.append((_END, None))
            spec = self.ds.element_spec
            self.ready = collections.deque(decode_element(spec, e) for e in state["buffer"])
        finally:
            w.resume()

    def close(self):
        self.w.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
