"""``tf.compat.v1.logging`` (TF1's ``tf.logging``): TensorFlow's logging functions, acting
on the ``"eagerflow"`` logger that eagerflow's own messages use.

``set_verbosity(INFO)`` therefore shows the Estimator's ``loss = ..., step = ...`` lines, as
it shows TF's. As in TF, the first call of any function here gives the logger a stderr
handler (``logging.BASIC_FORMAT``) when neither it nor the root logger has one, so those
lines are printed without configuring :mod:`logging`; records name the caller's file and
line, not this module's. ``log_every_n``/``log_first_n`` count per call site (the calling
file and line), not per message.

Where it differs from TF: ``flush()`` flushes the handlers (TF's raises
``NotImplementedError``), ``log_every_n`` raises ``ValueError`` for ``n < 1`` (TF's
divides by it) and no interactive shell switches the level to ``INFO`` by itself.

Example:
    >>> from eagerflow import tf_logging as logging
    >>> logging.INFO, logging.WARN, logging.FATAL
    (20, 30, 50)
    >>> logger = logging.get_logger(); old = logger.level
    >>> logger.name
    'eagerflow'
    >>> logging.set_verbosity(logging.ERROR)
    >>> logging.get_verbosity()
    40
    >>> logger.setLevel(old)
"""
import logging as _logging
import os as _os
import sys as _sys
import threading as _threading
import traceback as _traceback

__all__ = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL", "set_verbosity", "get_verbosity",
           "debug", "info", "warning", "warn", "error", "fatal", "log", "vlog",
           "log_every_n", "log_first_n", "log_if", "flush", "TaskLevelStatusMessage",
           "get_logger"]

DEBUG = _logging.DEBUG  # 10
INFO = _logging.INFO  # 20
WARN = _logging.WARN  # 30
ERROR = _logging.ERROR  # 40
FATAL = _logging.FATAL  # 50

_LOGGER_NAME = "eagerflow"
_THIS_FILE = _os.path.normcase(__file__)
_lock = _threading.Lock()
_configured = False
_handler = None  # the stderr handler get_logger() added, if it added one
_log_counter_per_token = {}  # (file, line) -> calls so far (log_every_n, log_first_n)


def get_logger():
    """The :class:`logging.Logger` these functions write to (``logging.getLogger(
    "eagerflow")``; TF's ``tf.get_logger()``). Its first call adds a stderr handler when
    neither that logger nor the root logger has one, as TF's does for ``"tensorflow"``."""
    global _configured, _handler
    logger = _logging.getLogger(_LOGGER_NAME)
    if _configured:
        return logger
    with _lock:
        if not _configured:
            if not _logging.getLogger().handlers and not logger.handlers:
                _handler = _logging.StreamHandler(_sys.stderr)
                _handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT, None))
                logger.addHandler(_handler)
            _configured = True
    return logger


def _caller():
    """The innermost frame outside this module (TF's ``_get_caller``), or None."""
    f = _sys._getframe(1)
    while f is not None and _os.path.normcase(f.f_code.co_filename) == _THIS_FILE:
        f = f.f_back
    return f


def _log(level, msg, args, exc_info=None, stack_info=False, stacklevel=1, extra=None):
    """``Logger.log`` with the record's file, line and function those of the first frame
    outside this module (TF overrides the logger's ``findCaller`` to the same end)."""
    if not isinstance(level, int) or isinstance(level, bool):
        raise TypeError(f"level must be an integer, got {level!r}")
    logger = get_logger()
    if not logger.isEnabledFor(level):
        return
    f = _caller()
    for _ in range(max(int(stacklevel), 1) - 1):
        if f is None or f.f_back is None:
            break
        f = f.f_back
    if f is None:
        fn, lno, func = "(unknown file)", 0, "(unknown function)"
    else:
        fn, lno, func = f.f_code.co_filename, f.f_lineno, f.f_code.co_name
    if exc_info:
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        elif not isinstance(exc_info, tuple):
            exc_info = _sys.exc_info()
    sinfo = None
    if stack_info and f is not None:
        sinfo = "Stack (most recent call last):\n" + "".join(
            _traceback.format_stack(f)).rstrip("\n")
    record = logger.makeRecord(logger.name, level, fn, lno, msg, args, exc_info or None,
                               func, extra, sinfo)
    logger.handle(record)


def log(level, msg, *args, **kwargs):
    """Logs ``msg % args`` at the integer ``level`` (TF's ``tf.logging.log``); keyword
    arguments are :meth:`logging.Logger.log`'s (``exc_info``, ``stack_info``, ...)."""
    _log(level, msg, args, **kwargs)


def debug(msg, *args, **kwargs):
    """Logs ``msg % args`` at ``DEBUG``."""
    _log(DEBUG, msg, args, **kwargs)


def info(msg, *args, **kwargs):
    """Logs ``msg % args`` at ``INFO``."""
    _log(INFO, msg, args, **kwargs)


def warning(msg, *args, **kwargs):
    """Logs ``msg % args`` at ``WARN``."""
    _log(WARN, msg, args, **kwargs)


def warn(msg, *args, **kwargs):
    """TF's ``tf.logging.warn``: :func:`warning` (no deprecation warning)."""
    _log(WARN, msg, args, **kwargs)


def error(msg, *args, **kwargs):
    """Logs ``msg % args`` at ``ERROR``."""
    _log(ERROR, msg, args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Logs ``msg % args`` at ``FATAL`` (50). As in TF it only logs: nothing exits."""
    _log(FATAL, msg, args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    """TF's ``vlog``: :func:`log` at ``level``."""
    _log(level, msg, args, **kwargs)


def log_if(level, msg, condition, *args):
    """Logs ``msg % args`` at ``level`` only if ``condition`` is true."""
    if condition:
        _log(level, msg, args)


def _next_count():
    """How many times the calling site (file, line) has counted before (0 the first time),
    counted up by one; TF's ``_GetNextLogCountPerToken(_GetFileAndLine())``."""
    f = _caller()
    token = ("<unknown>", 0) if f is None else (f.f_code.co_filename, f.f_lineno)
    with _lock:
        count = _log_counter_per_token.get(token, -1) + 1
        _log_counter_per_token[token] = count
    return count


def log_every_n(level, msg, n, *args):
    """Logs ``msg % args`` at ``level`` on the 1st, (n+1)st, (2n+1)st... call from the
    same file and line. Every call counts, whether its level is enabled or not."""
    if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 1:
        raise ValueError(f"log_every_n needs n >= 1 (log every n-th call), got {n!r}")
    count = _next_count()
    log_if(level, msg, not (count % n), *args)


def log_first_n(level, msg, n, *args):
    """Logs ``msg % args`` at ``level`` on the first ``n`` calls from the same file and
    line only (none for ``n <= 0``)."""
    count = _next_count()
    log_if(level, msg, count < n, *args)


def TaskLevelStatusMessage(msg):  # noqa: N802 (TF's name)
    """TF's ``TaskLevelStatusMessage``: logs ``msg`` as it is at ``ERROR``."""
    _log(ERROR, msg, ())


def flush():
    """Flushes the handlers the logger's records reach (its own and its ancestors')."""
    logger = get_logger()
    while logger is not None:
        for handler in logger.handlers:
            handler.flush()
        logger = logger.parent if logger.propagate else None


def get_verbosity():
    """The logger's effective level: 30 (``WARN``, the root logger's) until set."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v):
    """Sets the logger's level: ``DEBUG``... ``FATAL``, any integer, or a level name such
    as ``"INFO"`` (``ValueError`` for an unknown name, ``TypeError`` for other types)."""
    get_logger().setLevel(v)
