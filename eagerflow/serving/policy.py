"""Aspired-version policies: which single load or unload the manager does next.

Each policy looks at a snapshot of one model's versions — ``(version, state, is_aspired)``
triples — and returns ``("load", v)``, ``("unload", v)`` or None, exactly as TF Serving's
``AvailabilityPreservingPolicy`` and ``ResourcePreservingPolicy``.

Example:
    >>> availability_preserving([(1, AVAILABLE, False), (2, START, True)])
    ('load', 2)
    >>> availability_preserving([(1, AVAILABLE, False), (2, AVAILABLE, True)])
    ('unload', 1)
    >>> resource_preserving([(1, AVAILABLE, False), (2, START, True)])
    ('unload', 1)
"""

__all__ = ["UNKNOWN", "START", "LOADING", "AVAILABLE", "UNLOADING", "END", "STATE_NAMES",
           "availability_preserving", "resource_preserving", "POLICIES"]

UNKNOWN, START, LOADING, AVAILABLE, UNLOADING, END = 0, 10, 20, 30, 40, 50
STATE_NAMES = {UNKNOWN: "UNKNOWN", START: "START", LOADING: "LOADING", AVAILABLE: "AVAILABLE",
               UNLOADING: "UNLOADING", END: "END"}


def _highest_new_aspired(snapshot):
    new = [v for v, s, a in snapshot if a and s == START]
    return ("load", max(new)) if new else None


def availability_preserving(snapshot):
    """New versions come up before old ones go: never zero available versions.

    Unloads the lowest un-aspired AVAILABLE version when nothing is aspired, an aspired
    version is AVAILABLE, or more than one un-aspired version is AVAILABLE; otherwise loads
    the highest aspired version still in START.
    """
    unaspired_ready = sorted(v for v, s, a in snapshot if not a and s == AVAILABLE)
    any_aspired = any(a for _, _, a in snapshot)
    aspired_ready = any(a and s == AVAILABLE for _, s, a in snapshot)
    if unaspired_ready and (not any_aspired or aspired_ready or len(unaspired_ready) > 1):
        return ("unload", unaspired_ready[0])
    return _highest_new_aspired(snapshot)


def resource_preserving(snapshot):
    """Old versions go before new ones load: least memory, a short outage on a swap.

    Unloads any un-aspired AVAILABLE version; waits while an un-aspired version is still
    loading or unloading; then loads the highest aspired version still in START.
    """
    for v, s, a in sorted(snapshot):
        if not a and s == AVAILABLE:
            return ("unload", v)
    if any(not a and s in (LOADING, UNLOADING) for _, s, a in snapshot):
        return None
    return _highest_new_aspired(snapshot)


POLICIES = {"availability_preserving": availability_preserving,
            "resource_preserving": resource_preserving}
