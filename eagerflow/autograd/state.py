"""Per-thread list of active recorders (gradient tapes, the export tracer).

Kept apart so that the hot path (:func:`registry.execute`) reads one attribute of one
thread-local object to learn that nothing records.
"""
import threading

__all__ = ["recorders_state", "push", "pop", "suspended"]


class _Recorders(threading.local):
    def __init__(self):
        self.recorders = []


recorders_state = _Recorders()


def push(rec):
    recorders_state.recorders = recorders_state.recorders + [rec]


def pop(rec):
    recs = recorders_state.recorders
    if rec in recs:
        recs = list(recs)
        # remove the innermost occurrence
        for i in range(len(recs) - 1, -1, -1):
            if recs[i] is rec:
                del recs[i]
                break
        recorders_state.recorders = recs


class suspended:
    """Context manager: no recorder (or only those ``keep`` allows) sees ops inside."""

    __slots__ = ("_saved", "_keep")

    def __init__(self, keep=None):
        self._keep = keep
        self._saved = None

    def __enter__(self):
        self._saved = recorders_state.recorders
        keep = self._keep
        recorders_state.recorders = [r for r in self._saved if keep(r)] if keep else []
        return self

    def __exit__(self, *exc):
        recorders_state.recorders = self._saved
        return False
