"""Aspired-versions manager: loads and unloads servable versions, hands out handles.

Versions move forward through START -> LOADING -> AVAILABLE -> UNLOADING -> END (a failed
load goes LOADING -> END with its error). A version policy (:mod:`.policy`) picks one action
at a time; loads and unloads run on worker threads. Requests hold a reference-counted
:class:`ServableHandle`, and an unload waits until every handle of that version is released,
so no request in flight loses its model.

Example:
    >>> from types import SimpleNamespace
    >>> mgr = AspiredVersionsManager(Loader(load=lambda path: SimpleNamespace(signatures={})))
    >>> mgr.set_aspired_versions("m", {1: "/m/1"})
    >>> mgr.wait_until_settled(5)
    True
    >>> with mgr.acquire("m") as servable:
    ...     servable.version
    1
    >>> mgr.stop()
"""
import concurrent.futures
import threading
import time

from .errors import RESOURCE_EXHAUSTED, UNKNOWN, ServingError
from .events import log_event
from .loader import Loader  # noqa: F401  (doctest name)
from .policy import AVAILABLE, END, LOADING, POLICIES, START, UNLOADING

__all__ = ["AspiredVersionsManager", "Servable", "ServableHandle"]


class Servable:
    """One loaded model version: the loaded object plus per-servable state of the server."""

    def __init__(self, name, version, path, model, memory):
        self.name, self.version, self.path = name, version, path
        self.model = model
        self.memory = memory
        self.extras = {}  # e.g. batch schedulers, stopped on unload

    @property
    def signatures(self):
        return self.model.signatures


class ServableHandle:
    """A reference to an AVAILABLE servable; release it (or use ``with``) when done."""

    def __init__(self, manager, harness):
        self._manager, self._harness = manager, harness
        self.servable = harness.servable
        self._released = False

    def release(self):
        if not self._released:
            self._released = True
            self._manager._release(self._harness)

    def __enter__(self):
        return self.servable

    def __exit__(self, *exc):
        self.release()


class _Harness:
    __slots__ = ("name", "version", "path", "state", "error", "servable", "refs", "aspired",
                 "memory")

    def __init__(self, name, version, path):
        self.name, self.version, self.path = name, version, path
        self.state, self.error, self.servable = START, None, None
        self.refs, self.aspired, self.memory = 0, True, 0


class AspiredVersionsManager:
    """Keeps each model's loaded versions in line with its aspired versions.

    Args:
        loader: a :class:`~eagerflow.serving.loader.Loader`.
        policy: ``"availability_preserving"`` (default, TF Serving's) or
            ``"resource_preserving"``.
        max_num_load_retries: int, extra attempts after a failed load.
        load_retry_interval_s: float, seconds between attempts.
        memory_limit_bytes: optional int; a version whose estimated memory does not fit
            next to the loaded ones fails with RESOURCE_EXHAUSTED.
        num_load_threads: int, loads/unloads run at once.
        on_unload: optional callable ``(servable)`` run after the last handle is released.
    """

    def __init__(self, loader, policy="availability_preserving", max_num_load_retries=5,
                 load_retry_interval_s=60.0, memory_limit_bytes=None, num_load_threads=4,
                 on_unload=None):
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {sorted(POLICIES)}, got {policy!r}")
        self._loader = loader
        self._policy = POLICIES[policy]
        self._retries = int(max_num_load_retries)
        self._retry_interval = float(load_retry_interval_s)
        self._memory_limit = memory_limit_bytes
        self._on_unload = on_unload
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._models = {}  # name -> {version: _Harness}
        self._labels = {}  # name -> {label: version}
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=num_load_threads, thread_name_prefix="ef-serving-load")
        self._busy = 0
        self._stopped = False

    # ------------------------------------------------------------------ aspired versions
    def set_aspired_versions(self, name, versions):
        """Declare ``{version: path}`` as the versions of model ``name`` to serve."""
        with self._lock:
            if self._stopped:
                return
            table = self._models.setdefault(name, {})
            for v, path in versions.items():
                h = table.get(v)
                # A version whose load failed is not retried while it stays aspired; one
                # that left and came back (or was unloaded) gets a fresh harness.
                if h is None or (h.state == END and (h.error is None or not h.aspired)):
                    table[v] = _Harness(name, v, path)
            for v, h in table.items():
                h.aspired = v in versions
            self._reconcile(name)

    def set_version_labels(self, name, labels):
        """Set model ``name``'s ``{label: version}`` map."""
        with self._lock:
            self._labels[name] = dict(labels)

    def models(self):
        with self._lock:
            return sorted(self._models)

    def _snapshot(self, name):
        return [(v, h.state, h.aspired) for v, h in self._models[name].items()]

    def _reconcile(self, name):
        table = self._models[name]
        for h in table.values():
            if not h.aspired and h.state == START:
                h.state = END
                self._cond.notify_all()
        while not self._stopped:
            action = self._policy(self._snapshot(name))
            if action is None:
                return
            kind, v = action
            h = table[v]
            if kind == "load":
                h.state = LOADING
                self._submit(self._load, h)
            else:
                h.state = UNLOADING
                self._submit(self._unload, h)
            self._cond.notify_all()

    def _submit(self, fn, h):
        self._busy += 1
        log_event("unload_started" if fn == self._unload else "load_started",
                  model=h.name, version=h.version, path=h.path)
        self._pool.submit(self._run, fn, h)

    def _run(self, fn, h):
        try:
            fn(h)
        finally:
            with self._lock:
                self._busy -= 1
                if h.name in self._models:
                    self._reconcile(h.name)
                self._cond.notify_all()

    # ------------------------------------------------------------------ load / unload
    def _reserve(self, h):
        est = int(self._loader.estimate_memory(h.path))
        if self._memory_limit is not None:
            with self._lock:
                used = sum(x.memory for t in self._models.values() for x in t.values()
                           if x is not h and x.state in (LOADING, AVAILABLE, UNLOADING))
                if used + est > self._memory_limit:
                    raise ServingError.resource_exhausted(
                        f"Insufficient resources to load servable {{name: {h.name} version: "
                        f"{h.version}}}: needs {est} bytes, "
                        f"{max(0, self._memory_limit - used)} of {self._memory_limit} free")
                h.memory = est
        else:
            h.memory = est
        return est

    def _load(self, h):
        attempt, t0 = 0, time.monotonic()
        while True:
            try:
                est = self._reserve(h)
                model = self._loader.load(h.path)
                break
            except Exception as e:  # a bad export must never take the server down
                err = e if isinstance(e, ServingError) else ServingError(
                    UNKNOWN, f"Failed to load servable {h.name} version {h.version}: {e}")
                h.memory = 0
                retry = attempt < self._retries and err.code != RESOURCE_EXHAUSTED and self._still_aspired(h)
                log_event("load_failed", model=h.name, version=h.version, error=err.message,
                          attempt=attempt + 1, will_retry=retry, level=40)
                if not retry or not self._sleep_while_aspired(h):
                    with self._lock:
                        h.error, h.state = err, END
                    return
                attempt += 1
        with self._lock:
            h.servable = Servable(h.name, h.version, h.path, model, est)
            h.state = AVAILABLE
        log_event("load_finished", model=h.name, version=h.version, memory_bytes=est,
                  seconds=round(time.monotonic() - t0, 4))

    def _still_aspired(self, h):
        with self._lock:
            return h.aspired and not self._stopped

    def _sleep_while_aspired(self, h):
        deadline = time.monotonic() + self._retry_interval
        with self._lock:
            while time.monotonic() < deadline:
                if not h.aspired or self._stopped:
                    return False
                self._cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            return h.aspired and not self._stopped

    def _unload(self, h):
        t0 = time.monotonic()
        with self._lock:
            while h.refs:
                self._cond.wait()
            servable, h.servable = h.servable, None
        if servable is not None and self._on_unload is not None:
            try:
                self._on_unload(servable)
            except Exception as e:
                log_event("unload_hook_failed", model=h.name, version=h.version, error=repr(e),
                          level=40)
        with self._lock:
            h.state, h.memory = END, 0
        log_event("unload_finished", model=h.name, version=h.version,
                  seconds=round(time.monotonic() - t0, 4))

    # ------------------------------------------------------------------ lookups
    def resolve_version(self, name, version=None, label=None):
        """The version a request for ``name`` means (None: highest AVAILABLE).

        Raises:
            ServingError: NOT_FOUND for an unknown model or version, INVALID_ARGUMENT for an
                unknown label.
        """
        with self._lock:
            table = self._models.get(name, {})
            if label is not None:
                labels = self._labels.get(name, {})
                if label not in labels:
                    raise ServingError.invalid_argument(
                        f"Unrecognized servable version label: {label}")
                return labels[label]
            if version is not None:
                return int(version)
            ready = [v for v, h in table.items() if h.state == AVAILABLE]
            if not ready:
                raise ServingError.not_found(f"Servable not found for request: Latest({name})")
            return max(ready)

    def acquire(self, name, version=None, label=None):
        """A :class:`ServableHandle` of an AVAILABLE version of model ``name``.

        Raises:
            ServingError: NOT_FOUND "Servable not found for request: Latest(name)" /
                "Specific(name, v)" when no such version is AVAILABLE.
        """
        with self._lock:
            v = self.resolve_version(name, version, label)
            h = self._models.get(name, {}).get(v)
            if h is None or h.state != AVAILABLE:
                if version is None and label is None:
                    raise ServingError.not_found(
                        f"Servable not found for request: Latest({name})")
                raise ServingError.not_found(
                    f"Servable not found for request: Specific({name}, {v})")
            h.refs += 1
            return ServableHandle(self, h)

    def _release(self, h):
        with self._lock:
            h.refs -= 1
            if h.refs == 0:
                self._cond.notify_all()

    def version_states(self, name):
        """``[(version, state, error_or_None)]`` of every tracked version, highest first."""
        with self._lock:
            table = self._models.get(name, {})
            return [(v, table[v].state, table[v].error) for v in sorted(table, reverse=True)]

    def available_versions(self, name):
        with self._lock:
            return sorted(v for v, h in self._models.get(name, {}).items()
                          if h.state == AVAILABLE)

    def servables(self):
        """Every AVAILABLE :class:`Servable` (for monitoring)."""
        with self._lock:
            return [h.servable for t in self._models.values() for h in t.values()
                    if h.state == AVAILABLE]

    # ------------------------------------------------------------------ lifecycle
    def is_settled(self):
        with self._lock:
            if self._busy:
                return False
            return all(self._policy(self._snapshot(n)) is None for n in self._models)

    def wait_until_settled(self, timeout=None):
        """Block until no load/unload is running or pending; True unless it timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self.is_settled():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(0.05 if left is None else min(0.05, left))
            return True

    def stop(self, timeout=30.0):
        """Unload every version (waiting for requests in flight) and stop the workers."""
        with self._lock:
            for name in self._models:
                for h in self._models[name].values():
                    h.aspired = False
                self._reconcile(name)
        self.wait_until_settled(timeout)
        with self._lock:
            self._stopped = True
            self._cond.notify_all()
        self._pool.shutdown(wait=True)
