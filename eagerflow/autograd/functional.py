"""Function transforms on top of the tape: ``grad``, ``value_and_grad``, ``custom_gradient``."""
import functools
import inspect

from . import nest
from .registry import Op
from .state import recorders_state, suspended
from .tape import GradientTape
from .tensor import Tensor, convert_to_tensor
from .variable import Variable

__all__ = ["grad", "value_and_grad", "custom_gradient"]


def _argnums_tuple(argnums, n):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"argnums {a} is out of range for a function called with {n} "
                             "positional arguments")
    return single, nums


def value_and_grad(fn, argnums=0, has_aux=False):
    """Returns ``f(*args) -> (value, grads)`` computing ``fn`` and its gradient.

    Args:
        fn: a function of Tensors returning a scalar Tensor (or ``(scalar, aux)`` when
            ``has_aux``).
        argnums: which positional arguments to differentiate (an int or a tuple).
        has_aux: whether ``fn`` returns a pair whose second item is passed through.

    Example:
        >>> import eagerflow as ef
        >>> v, g = ef.value_and_grad(lambda x: x * x)(ef.constant(3.0))
        >>> float(v), float(g)
        (9.0, 6.0)
    """

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args))
        args = list(args)
        for a in nums:
            args[a] = nest.map_structure(
                lambda x: x if isinstance(x, Tensor) else convert_to_tensor(x), args[a])
        with GradientTape(watch_accessed_variables=False) as tape:
            for a in nums:
                tape.watch(args[a])
            out = fn(*args, **kwargs)
        value, aux = (out if has_aux else (out, None))
        if not isinstance(value, Tensor):
            raise TypeError(f"value_and_grad: fn must return a Tensor, got {type(value).__name__}")
        if value.ndim != 0:
            raise ValueError(f"value_and_grad: fn must return a scalar, got shape {tuple(value.shape)}")
        srcs = [args[a] for a in nums]
        grads = tape.gradient(value, srcs, unconnected_gradients="zero")
        grads = grads[0] if single else tuple(grads)
        return ((value, aux), grads) if has_aux else (value, grads)

    return wrapped


def grad(fn, argnums=0, has_aux=False):
    """Returns a function computing the gradient of scalar ``fn`` w.r.t. ``argnums``.

    Gradients compose: ``grad(grad(f))`` is the second derivative.

    Example:
        >>> import eagerflow as ef
        >>> float(ef.grad(ef.grad(lambda x: x ** 3))(ef.constant(2.0)))
        12.0
    """
    vg = value_and_grad(fn, argnums, has_aux)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        (value, aux), g = vg(*args, **kwargs) if has_aux else ((None, None), vg(*args, **kwargs)[1])
        return (g, aux) if has_aux else g

    return wrapped


class _VariableSpy:
    """A recorder that notes which trainable variables an op reads."""

    def __init__(self):
        self.seen = {}

    def record(self, op, inputs, result, attrs):
        for x in inputs:
            if isinstance(x, Variable) and x.trainable:
                self.seen[id(x)] = x


def custom_gradient(f):
    """Decorator defining a function with its own gradient (``tf.custom_gradient``).

    ``f(*x)`` returns ``(y, grad_fn)``; ``grad_fn(*dy)`` returns the gradients w.r.t. ``x``.
    If ``f`` reads trainable variables, ``grad_fn`` must accept ``variables=`` and return
    ``(grads_x, grads_variables)``.

    Example:
        >>> import eagerflow as ef
        >>> @ef.custom_gradient
        ... def clip_grad(x):
        ...     return ef.identity(x), lambda dy: ef.clip_by_value(dy, -1.0, 1.0)
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        spy = _VariableSpy()
        # tracers (export) still see the inner ops; tapes see only the custom node
        with suspended(keep=lambda r: not isinstance(r, GradientTape)):
            recorders_state.recorders = recorders_state.recorders + [spy]
            y, grad_fn = f(*args, **kwargs)
        flat_y = nest.flatten(y)
        variables = list(spy.seen.values())
        tapes = [r for r in recorders_state.recorders if isinstance(r, GradientTape)]
        if not tapes:
            return y
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        inputs = tuple(tensor_args) + tuple(variables)
        accepts_vars = "variables" in inspect.signature(grad_fn).parameters
        if variables and not accepts_vars:
            raise TypeError("custom_gradient: f reads trainable variables "
                            f"({', '.join(v.name for v in variables)}), so grad_fn must "
                            "accept a 'variables' keyword argument")
        n_x = len(tensor_args)

        def vjp(g, ans, inputs_, attrs, needs):
            gs = g if isinstance(g, tuple) else (g,)
            if accepts_vars:
                gx, gv = grad_fn(*gs, variables=variables)
                gv = list(gv)
            else:
                gx, gv = grad_fn(*gs), []
            gx = list(gx) if isinstance(gx, (list, tuple)) else [gx]
            if len(gx) != n_x:
                raise ValueError(f"custom_gradient: grad_fn returned {len(gx)} gradients for "
                                 f"{n_x} tensor inputs")
            return gx + gv

        op = Op(f"custom_gradient:{getattr(f, '__name__', 'f')}", None, vjp,
                multi=len(flat_y) > 1)
        result = tuple(flat_y) if op.multi else flat_y[0]
        for r in tapes:
            r.record(op, inputs, result, {})
        return y

    return wrapped
