"""Structured (one JSON object per line) logs of model loads, unloads and source polls."""
import json
import logging
import time

__all__ = ["log_event"]

log = logging.getLogger("eagerflow.serving")


def log_event(event, level=logging.INFO, **fields):
    """Log ``{"ts": ..., "event": event, **fields}`` as one JSON line on ``eagerflow.serving``."""
    if not log.isEnabledFor(level):
        return
    rec = {"ts": round(time.time(), 3), "event": event}
    rec.update(fields)
    log.log(level, json.dumps(rec, default=str, sort_keys=False))
