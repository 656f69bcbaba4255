"""TF1's ``SessionRunHook`` contract, run eagerly, and the one hook runner that Estimator
and ``MonitoredTrainingSession`` share.

There is no graph session: a *step* is a Python function. ``before_run`` may ask for
``SessionRunArgs(fetches)``; after the step the runner evaluates the fetches and hands them
to ``after_run`` as ``SessionRunValues.results``. A fetch is a Tensor or Variable (read after
the step), a zero-argument callable, the name of a value the step published (``'loss'``,
``'global_step'``, a prediction key), or a nested list/tuple/dict of those. The ``session``
that hooks receive is an :class:`EagerSession` whose ``run(fetches)`` evaluates fetches the
same way, so hook code that calls ``session.run(global_step_tensor)`` keeps working.
"""
import collections
import time

import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.tensor import Tensor
from ..autograd.variable import Variable
from .optimizer import TrainOp

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues",
           "EagerSession", "HookRunner"]


class SessionRunHook:
    """Base class of hooks (``tf.estimator.SessionRunHook``); every method is optional."""

    def begin(self):
        """Called once before the loop; variables may not exist yet."""

    def after_create_session(self, session, coord):
        """Called once variables are created or restored."""

    def before_run(self, run_context):
        """Called before each step; may return :class:`SessionRunArgs`."""
        return None

    def after_run(self, run_context, run_values):
        """Called after each step with the requested fetches evaluated."""

    def end(self, session):
        """Called at the end of the loop (normal finish or end of input)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """What ``before_run`` asks for: ``fetches`` to evaluate after the step."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """What ``after_run`` receives: ``results`` has the structure of the fetches."""


class SessionRunContext:
    """Passed to ``before_run``/``after_run``; ``request_stop()`` ends the loop after this step."""

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True


def _to_value(x):
    if isinstance(x, Variable):
        # a snapshot, as TF's sess.run gives: on the CPU the variable's own buffer would
        # change under the caller at the next update (numpy() of the global step comes
        # from its host copy: no device sync)
        return np.array(x.numpy(), copy=True)
    if isinstance(x, Tensor):
        return backend.to_numpy(x._data)
    if isinstance(x, TrainOp):  # TF1's sess.run(train_op) gives None
        return None
    return x


class EagerSession:
    """A stand-in for ``tf.Session`` that evaluates fetches eagerly (see the module doc).

    Args:
        named: a dict of the values the current step published (updated by the runner).
    """

    def __init__(self, named=None):
        self.named = named if named is not None else {}
        # (start, end) of the last step the runner ran, time.perf_counter() seconds
        # (ProfilerHook's step span)
        self.step_span = None
        # id(tensor a hook holds from model_fn's first call) -> this step's tensor: model_fn
        # runs every step eagerly, where TF re-evaluated one graph (Estimator.train sets it)
        self.aliases = {}

    def tensor(self, fetch):
        """One fetch resolved without copying it to the host: the published value, Tensor
        or callable's result as it is (a device array stays on the device)."""
        if isinstance(fetch, str):
            if fetch not in self.named:
                raise KeyError(f"fetch {fetch!r} is not a value this step published; "
                               f"available: {sorted(self.named)}")
            return self.named[fetch]
        if callable(fetch) and not isinstance(fetch, Tensor):
            return fetch()
        return self.aliases.get(id(fetch), fetch)

    def evaluate(self, fetches):
        def one(f):
            if f is None or isinstance(f, TrainOp):
                return None
            if not isinstance(f, (str, Tensor)) and not callable(f):
                raise TypeError(f"cannot fetch an object of type {type(f).__name__}; use a "
                                "Tensor, a Variable, a callable or a published name")
            return _to_value(self.tensor(f))
        return nest.map_structure(one, fetches)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluates ``fetches`` now (``feed_dict`` has no meaning eagerly and must be None)."""
        if feed_dict:
            raise ValueError("EagerSession.run: feed_dict has no meaning in eager execution; "
                             "compute the values directly")
        return self.evaluate(fetches)

    @property
    def graph(self):
        return None


class HookRunner:
    """Calls hooks around steps in TF's order; shared by Estimator and MonitoredSession.

    Example:
        >>> runner = HookRunner([SessionRunHook()])
        >>> runner.begin()
        >>> runner.after_create_session()
        >>> runner.run_step(lambda: {"loss": 1.0})["loss"]
        1.0
        >>> runner.end()
    """

    def __init__(self, hooks=(), session=None):
        hooks = list(hooks or ())
        for h in hooks:
            if not isinstance(h, SessionRunHook):
                raise TypeError(f"hooks must be SessionRunHook instances, got "
                                f"{type(h).__name__}")
        self.hooks = hooks
        self.session = session or EagerSession()
        self._stop = False

    def begin(self):
        for h in self.hooks:
            h.begin()

    def after_create_session(self, coord=None):
        for h in self.hooks:
            h.after_create_session(self.session, coord)

    def run_step(self, step_fn):
        """Runs ``before_run`` hooks, ``step_fn()`` (returns a dict of published values),
        evaluates each hook's fetches and runs ``after_run``; returns the published dict."""
        ctx = SessionRunContext(SessionRunArgs(None), self.session)
        requests = []
        for h in self.hooks:
            args = h.before_run(ctx)
            if args is not None and not isinstance(args, SessionRunArgs):
                raise TypeError(f"{type(h).__name__}.before_run must return SessionRunArgs "
                                f"or None, got {type(args).__name__}")
            requests.append(args)
        start = time.perf_counter()
        named = step_fn() or {}
        try:
            self.session.step_span = (start, time.perf_counter())
        except AttributeError:  # a caller's own session object may not take attributes
            pass
        self.session.named = named
        for h, req in zip(self.hooks, requests):
            results = self.session.evaluate(req.fetches) if req is not None else None
            h.after_run(ctx, SessionRunValues(results=results, options=None, run_metadata=None))
        if ctx.stop_requested:
            self._stop = True
        return named

    def request_stop(self):
        self._stop = True

    def should_stop(self):
        return self._stop

    def end(self):
        for h in self.hooks:
            h.end(self.session)


def scalar(value):
    """A Python number from a fetched value (0-d array, 1-element array, number)."""
    a = np.asarray(value)
    return a.reshape(()).item() if a.size == 1 else a
