"""The cross-replica gradient hook that :meth:`Optimizer.apply_gradients` consults.

``train`` sits below ``distribute`` in the layering, so the optimizer cannot import the
collectives. A strategy's ``scope()`` pushes a reducer here instead (TF's optimizers ask
``distribution_strategy_context`` the same way); wrappers that already reduced their
gradients (``DistributedOptimizer``) push ``None`` around the inner ``apply_gradients``.

Example:
    >>> from eagerflow.train import distribution_context as dc
    >>> dc.current_reducer() is None
    True
    >>> with dc.reducer_scope(lambda pairs: pairs):
    ...     callable(dc.current_reducer())
    True
"""
import contextlib
import threading

__all__ = ["current_reducer", "reducer_scope"]

_local = threading.local()


def _stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def current_reducer():
    """The innermost reducer: ``reducer(pairs) -> pairs`` over ``(grad, var)``, or None."""
    stack = _stack()
    return stack[-1] if stack else None


@contextlib.contextmanager
def reducer_scope(reducer):
    """Makes ``reducer`` (or None: no reduction) the current one inside the block."""
    stack = _stack()
    stack.append(reducer)
    try:
        yield reducer
    finally:
        stack.pop()
