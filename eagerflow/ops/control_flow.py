"""Control flow run eagerly (``tf.cond``, ``tf.while_loop``, ``tf.map_fn``...).

Branches and loop bodies are plain Python running ops, so the tape records what ran and
gradients through them come for free; these functions add TF's argument and structure
checks, returned structures and errors.
"""
import collections
import functools
import logging
import pprint
import random
import sys

import numpy as np

from ..autograd import nest
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, convert_to_tensor
from ..autograd.variable import Variable
from ..backend import to_numpy
from ..backend.dtypes import as_dtype, tf_name
from ..errors import InvalidArgumentError
from .array import stack, unstack
from .math import identity, stop_gradient, zeros_like
from .string_format import format as _string_format

__all__ = ["cond", "case", "switch_case", "while_loop", "map_fn", "vectorized_map", "foldl",
           "foldr", "py_function", "numpy_function", "print_", "get_static_value",
           "ensure_shape", "identity_n"]

_STDERR, _STDOUT = sys.stderr, sys.stdout  # the defaults as bound at import time
_TYPE_STRING = {"float32": "float", "float64": "double", "float16": "half"}


# --- shared helpers (eagerflow.debugging uses them too) -----------------------------------
def _type_string(dtype):
    """TensorFlow's ``DataTypeString`` (``float``, ``double``, ``int32``...)."""
    return _TYPE_STRING.get(tf_name(dtype), tf_name(dtype))


def _tensor_str(t):
    """``str()`` of an EagerTensor: ``tf.Tensor(False, shape=(), dtype=bool)``."""
    return f"tf.Tensor({str(to_numpy(t._data))}, shape={tuple(t.shape)}, dtype={tf_name(t.dtype)})"


def _summarize_eager(x, summarize):
    """One data item of an eager ``tf.Assert`` message."""
    if isinstance(x, str):
        return x
    a = to_numpy((x if isinstance(x, Tensor) else convert_to_tensor(x))._data)
    summarize = 3 if summarize is None else (a.size if summarize < 0 else summarize)
    if a.ndim == 0:
        return str(a[()]) if summarize != 0 else ""
    items = [str(v) for v in a.reshape(-1)[:summarize]]
    return ", ".join(items + (["..."] if len(items) < a.size else []))


def _assert_message(condition, data, summarize):
    """The InvalidArgumentError text of an eager ``tf.Assert`` whose condition is false."""
    text = _tensor_str(condition) if isinstance(condition, Tensor) else str(condition)
    data = [data] if isinstance(data, (str, Tensor)) else data
    return "Expected '%s' to be true. Summarized data: %s" % (
        text, "\n".join(_summarize_eager(d, summarize) for d in data))


def _pred_value(pred, fname, arg="pred"):
    """The Python bool of a Python bool or a scalar bool (or numeric) Tensor."""
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    if pred is None or isinstance(pred, (SparseTensor, IndexedSlices, str, bytes)):
        raise TypeError(f"{fname}: {arg} must be a Python bool or a scalar bool Tensor, got "
                        f"{type(pred).__name__}")
    t = pred if isinstance(pred, Tensor) else convert_to_tensor(pred)
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{fname}: {arg} must be a bool scalar, got dtype {tf_name(t.dtype)}")
    if t.ndim != 0:
        raise InvalidArgumentError(f"{fname}: {arg} must be a scalar (rank 0), got a tensor "
                                   f"of shape {list(t.shape)}")
    return bool(t.item())


def _convert_value(v, dtype, what):
    """``tf.convert_to_tensor(v, dtype)`` for a non-Tensor: casts within a kind (and int to
    float); across kinds (1.5 to int32, True to float32) a TypeError, as in TF."""
    natural = convert_to_tensor(v)
    src, dst = natural.dtype, as_dtype(dtype)
    if src == dst:
        return natural
    ok = src.kind == dst.kind or (src.kind in "iu" and dst.kind in "iufc") or \
        (src.kind == "f" and dst.kind in "fc")
    if "b" in (src.kind, dst.kind) or "O" in (src.kind, dst.kind):
        ok = src.kind == dst.kind
    if not ok:
        raise TypeError(f"{what}: cannot convert {v!r} to a tensor of dtype {tf_name(dst)}")
    return convert_to_tensor(v, dtype=dst)


def _hinted(v, dtype, what):
    """``convert_to_tensor(v, preferred_dtype=dtype)``: the natural dtype if casting fails."""
    try:
        return v if isinstance(v, Tensor) else _convert_value(v, dtype, what)
    except (TypeError, ValueError):
        return convert_to_tensor(v)


def _is_seq(s):
    return isinstance(s, (list, tuple))


def _need_callable(fn, fname, arg="fn"):
    if not callable(fn):
        raise TypeError(f"{fname}: {arg} must be callable, got {type(fn).__name__}")


def _same_structure(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and \
            all(_same_structure(a[k], b[k]) for k in a)
    if _is_seq(a) or _is_seq(b):
        return _is_seq(a) and _is_seq(b) and len(a) == len(b) and \
            all(_same_structure(x, y) for x, y in zip(a, b))
    return True


def _assert_same_structure(expected, got, fname, what):
    if not _same_structure(expected, got):
        dots = [nest.map_structure(lambda _: ".", s) for s in (expected, got)]
        raise ValueError(f"{fname}: The two structures don't have the same nested structure. "
                         f"{what}: expected {dots[0]!r}, got {dots[1]!r}")


def _read(x):
    """Variables are read (a snapshot, as TF converts them); other values as they are."""
    return identity(x) if isinstance(x, Variable) else x


def _to_tensor_out(x):
    if x is None or isinstance(x, (SparseTensor, IndexedSlices)):
        return x
    return _read(x) if isinstance(x, Tensor) else convert_to_tensor(x)


def _elems_flat(elems, fname):
    """The leaves of ``elems`` as Tensors of rank >= 1 sharing their first dimension."""
    flat = nest.flatten(elems)
    if not flat:
        raise ValueError(f"{fname}: elems must be a Tensor or (possibly nested) sequence of "
                         f"Tensors. Got {elems!r}, which does not contain any Tensors.")
    out = []
    for e in flat:
        if isinstance(e, (SparseTensor, IndexedSlices)):
            raise TypeError(f"{fname} can not consume {type(e).__name__} inputs")
        out.append(_read(e) if isinstance(e, Tensor) else convert_to_tensor(e))
    if out[0].ndim < 1:
        raise ValueError(f"{fname}: Elements in elems must be 1+ dimensional Tensors, not "
                         "scalars")
    n = out[0].shape[0]
    for t in out[1:]:
        if t.ndim < 1 or t.shape[0] != n:
            raise ValueError(f"{fname}: Dimensions {n} and {t.shape[0] if t.ndim else None} "
                             "are not compatible: all elems need the same first dimension")
    return out, n


def _stop_all(structure):
    return nest.map_structure(lambda t: stop_gradient(t) if isinstance(t, Tensor) else t,
                              structure)


# --- cond / case / switch_case ---------------------------------------------------------
def _cond(pred, true_fn, false_fn, strict, fname="cond"):
    for arg, fn in (("true_fn", true_fn), ("false_fn", false_fn)):
        if fn is None:
            raise TypeError(f"{fname}(): '{arg}' argument required")
        if not callable(fn):
            raise TypeError(f"'{arg}' must be callable.")
    result = true_fn() if _pred_value(pred, fname) else false_fn()
    return result[0] if not strict and _is_seq(result) and len(result) == 1 else result


def cond(pred, true_fn=None, false_fn=None, name=None):
    """``true_fn()`` if ``pred`` (a bool or scalar bool Tensor) is true, else ``false_fn()``
    (``tf.cond``); only that branch runs, its result returned as is (TF2's ``strict``).

    Raises TypeError for a missing or non-callable branch, InvalidArgumentError for a
    non-scalar ``pred``.

    Example:
        >>> import eagerflow as ef
        >>> x, y = ef.constant(2), ef.constant(5)
        >>> ef.cond(x < y, lambda: x * 7, lambda: y + 3).numpy()
        np.int32(14)
    """
    return _cond(pred, true_fn, false_fn, strict=True)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name=None):
    """Runs the fn of the first true predicate of ``pred_fn_pairs`` (a list of ``(scalar bool
    Tensor, callable)``), else ``default`` (``tf.case``). Without a default the last pair is
    it, and no true predicate is an InvalidArgumentError, as is more than one with
    ``exclusive``. Unless ``strict`` a singleton list/tuple result is unpacked.

    Raises:
        TypeError: not a list of 2-tuples, a predicate not a bool Tensor, a fn not callable.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.constant(3)
        >>> ef.case([(x < 2, lambda: ef.constant(17)), (x < 5, lambda: ef.constant(23))],
        ...         default=lambda: ef.constant(-1)).numpy()
        np.int32(23)
    """
    if not isinstance(pred_fn_pairs, (list, tuple, dict)):
        raise TypeError("'pred_fn_pairs' must be a list, tuple, or dict. "
                        f"Received: {type(pred_fn_pairs)}")
    if isinstance(pred_fn_pairs, dict):
        if not exclusive and not isinstance(pred_fn_pairs, collections.OrderedDict):
            raise ValueError("Unordered dictionaries are not supported for the 'pred_fn_pairs' "
                             "argument when `exclusive=False` and eager mode is enabled.")
        pred_fn_pairs = list(pred_fn_pairs.items())
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in 'pred_fn_pairs' must be a 2-tuple. Received {pair}.")
        pred, fn = pair
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred!r}")
        if pred.dtype.kind != "b":
            raise TypeError(f"pred must be Tensor of type bool, got {tf_name(pred.dtype)}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred!r} must be callable.")
    if not pred_fn_pairs:
        raise ValueError("case: pred_fn_pairs must hold at least one (pred, fn) pair")
    if default is not None:
        _need_callable(default, "case", "default")
    preds = [p for p, _ in pred_fn_pairs]
    if exclusive:
        values = [_pred_value(p, "case") for p in preds]
        if sum(values) > 1:
            raise InvalidArgumentError(_assert_message(convert_to_tensor(False), [
                f"Input error: exclusive=True: more than 1 conditions "
                f"({', '.join('?' for _ in preds)}) evaluated as True:",
                convert_to_tensor(values)], len(preds)))
    for pred, fn in pred_fn_pairs:
        if _pred_value(pred, "case"):
            return _cond(True, fn, fn, strict)
    if default is not None:
        return _cond(False, default, default, strict)
    raise InvalidArgumentError(_assert_message(
        preds[-1], ["Input error: None of conditions evaluated as True:",
                    convert_to_tensor([_pred_value(p, "case") for p in preds])], None))


def switch_case(branch_index, branch_fns, default=None, name=None):
    """Runs ``branch_fns[branch_index]()`` (``tf.switch_case``): ``branch_index`` a scalar int
    Tensor, ``branch_fns`` a list of callables, of ``(int, callable)`` pairs or a dict with
    keys ``0..len-1``. Out of range runs ``default``, else the last branch, as TF does.

    Raises TypeError (a non-integer-Tensor index, bad keys or fns) and ValueError (empty or
    non-contiguous keys).

    Example:
        >>> import eagerflow as ef
        >>> ef.switch_case(ef.constant(1), [lambda: ef.constant(17), lambda: ef.constant(31)],
        ...                default=lambda: ef.constant(-1)).numpy()
        np.int32(31)
    """
    if not isinstance(branch_index, Tensor):
        raise TypeError(f"'branch_index' must be a Tensor, got {type(branch_index)}")
    if branch_index.dtype.kind not in "iu":
        raise TypeError("'branch_index' must be an integer Tensor, got "
                        f"{tf_name(branch_index.dtype)}")
    if not branch_fns:
        raise ValueError("Must provide at least one item in 'branch_fns'")
    if not isinstance(branch_fns, (list, tuple, dict)):
        raise TypeError("'branch_fns' must be a list, tuple, or dict")
    pairs = list(branch_fns.items()) if isinstance(branch_fns, dict) else list(branch_fns)
    if all(callable(fn) for fn in pairs):
        pairs = list(enumerate(pairs))
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in 'branch_fns' must be a 2-tuple. Received {pair}.")
        if not isinstance(pair[0], int) or isinstance(pair[0], bool):
            raise TypeError(f"key must be a Python `int`, got {type(pair[0])}")
        if not callable(pair[1]):
            raise TypeError(f"fn for key {pair[0]} must be callable.")
    keys = [k for k, _ in pairs]
    if min(keys) < 0 or max(keys) >= len(keys) or len(set(keys)) != len(keys):
        raise ValueError("branch indices (keys) must form contiguous range of [0 to "
                         f"{len(keys)}) but found {{{','.join(map(str, sorted(keys)))}}}")
    actions = [fn for _, fn in sorted(pairs, key=lambda p: p[0])]
    if default is not None:
        _need_callable(default, "switch_case", "default")
        actions.append(default)
    if branch_index.ndim != 0:
        raise InvalidArgumentError("switch_case: branch_index must be a scalar, got shape "
                                   f"{list(branch_index.shape)}")
    i = int(branch_index.item())
    return actions[i if 0 <= i < len(actions) else len(actions) - 1]()


# --- while_loop -------------------------------------------------------------------------
def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (``tf.while_loop``).

    A list/tuple ``loop_vars`` is passed as positional arguments, anything else as one.
    ``body`` returns that structure (a bare value for a single variable); so does the
    result, with Tensor leaves. Shapes may change eagerly (``shape_invariants`` and the
    parallelism options are ignored); ``back_prop=False`` stops gradients. Raises TypeError
    (not callable), ValueError (no loop_vars, non-scalar ``maximum_iterations``, a body
    result of another structure).

    Example:
        >>> import eagerflow as ef
        >>> i, s = ef.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i),
        ...                      (ef.constant(0), ef.constant(0)))
        >>> int(i), int(s)
        (4, 6)
    """
    for arg, fn in (("cond", cond), ("body", body)):
        if not callable(fn):
            raise TypeError(f"'{arg}' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if loop_vars is None or (_is_seq(loop_vars) and len(loop_vars) == 0):
        raise ValueError("'loop_vars' must be provided.")
    limit = None
    if maximum_iterations is not None:
        m = convert_to_tensor(maximum_iterations)
        if m.ndim != 0:
            raise ValueError("'maximum_iterations' must be a scalar. Received shape: "
                             f"{tuple(m.shape)}")
        limit = int(m.item())
    seq = _is_seq(loop_vars)
    values = nest.map_structure(lambda v: _read(v) if isinstance(v, Tensor) else v, loop_vars)
    count = 0
    while (limit is None or count < limit) and _pred_value(
            cond(*values) if seq else cond(values), "while_loop", "the result of cond"):
        new = body(*values) if seq else body(values)
        if seq and not _is_seq(new):
            new = (new,)
        elif not seq and _is_seq(new) and len(new) == 1:
            new = new[0]
        _assert_same_structure(values, new, "while_loop", "body must return loop_vars' "
                               "structure")
        values, count = new, count + 1
    out = nest.pack_sequence_as(loop_vars, [_to_tensor_out(v) for v in nest.flatten(values)])
    return out if back_prop else _stop_all(out)


# --- map_fn / vectorized_map / foldl / foldr ---------------------------------------------
def _out_spec(d):
    """(dtype, shape or None) of a ``fn_output_signature`` leaf (a dtype or TensorSpec)."""
    if hasattr(d, "dtype") and hasattr(d, "shape") and not isinstance(d, (Tensor, np.dtype)):
        if isinstance(d, SparseTensor):
            raise TypeError(f"map_fn can not generate {d!r} outputs")
        return as_dtype(d.dtype), None if d.shape is None else tuple(d.shape)
    return as_dtype(d), None


def _merge_shape(known, shape, fname, i):
    if known is not None and (len(known) != len(shape) or any(
            a is not None and a != b for a, b in zip(known, shape))):
        raise ValueError(f"{fname}: the result of fn for element {i} has shape {list(shape)}, "
                         f"which is not compatible with the element shape {list(known)} of "
                         "the other results")
    return tuple(shape)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None, fn_output_signature=None):
    """Applies ``fn`` to the slices of ``elems`` along axis 0 and stacks the results
    (``tf.map_fn``).

    ``fn`` gets the nest of slices of ``elems``. Results have the structure and dtypes of
    ``fn_output_signature`` (dtypes or TensorSpecs; ``dtype`` is its old name), else those of
    ``elems``: another dtype is an InvalidArgumentError, another structure or inconsistent
    shapes a ValueError. Empty ``elems`` give shape ``[0] + spec.shape`` for a fully known
    TensorSpec shape, else ``[0]``, as TF.

    Example:
        >>> import eagerflow as ef
        >>> ef.map_fn(lambda x: x * x, ef.constant([1, 2, 3])).numpy()
        array([1, 4, 9], dtype=int32)
    """
    if fn_output_signature is None:
        fn_output_signature = dtype
    _need_callable(fn, "map_fn")
    flat, n = _elems_flat(elems, "map_fn")
    if fn_output_signature is None:
        specs, out_struct = [(t.dtype, None) for t in flat], elems
    else:
        specs = [_out_spec(d) for d in nest.flatten(fn_output_signature)]
        out_struct = fn_output_signature
    slices = [unstack(t) for t in flat]
    results, shapes = [[] for _ in specs], [s for _, s in specs]
    for i in range(n):
        r = fn(nest.pack_sequence_as(elems, [s[i] for s in slices]))
        _assert_same_structure(out_struct, r, "map_fn", "fn must return the structure of "
                               "fn_output_signature (of elems when it is not given)")
        for k, (v, (dt, _)) in enumerate(zip(nest.flatten(r), specs)):
            v = _hinted(_read(v), dt, "map_fn")
            if v.dtype != dt:
                raise InvalidArgumentError(f"TensorArray dtype is {tf_name(dt)} but Op is "
                                           f"trying to write dtype {tf_name(v.dtype)} (map_fn: "
                                           "set fn_output_signature to the dtype fn returns)")
            if infer_shape:
                shapes[k] = _merge_shape(shapes[k], v.shape, "map_fn", i)
            results[k].append(v)
    outs = []
    for rs, (dt, shape) in zip(results, specs):
        full = shape is not None and all(d is not None for d in shape)
        outs.append(stack(rs) if rs else
                    convert_to_tensor(np.zeros((0,) + (shape if full else ()), dtype=dt)))
    out = nest.pack_sequence_as(out_struct, outs)
    return out if back_prop else _stop_all(out)


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """Maps ``fn`` over axis 0 of ``elems`` and stacks the results (``tf.vectorized_map``).

    Runs as a loop: results of any structure and dtype, loop-invariant ones broadcast. For
    empty ``elems`` ``fn`` runs once on zeros to learn the results' shapes and dtypes.

    Example:
        >>> import eagerflow as ef
        >>> ef.vectorized_map(lambda x: ef.reduce_sum(x), ef.ones((3, 2))).numpy()
        array([2., 2., 2.], dtype=float32)
    """
    _need_callable(fn, "vectorized_map")
    flat, n = _elems_flat(elems, "vectorized_map")
    if n == 0:
        probe = [convert_to_tensor(np.zeros(tuple(t.shape[1:]), dtype=t.dtype)) for t in flat]
        return nest.map_structure(
            lambda v: convert_to_tensor(np.zeros((0,) + tuple(v.shape), dtype=v.dtype)),
            nest.map_structure(_to_tensor_out, fn(nest.pack_sequence_as(elems, probe))))
    slices = [unstack(t) for t in flat]
    first, results = None, None
    for i in range(n):
        r = fn(nest.pack_sequence_as(elems, [s[i] for s in slices]))
        if first is None:
            first, results = r, [[] for _ in nest.flatten(r)]
        _assert_same_structure(first, r, "vectorized_map", "fn must return one structure")
        for k, v in enumerate(nest.flatten(r)):
            results[k].append(_to_tensor_out(v))
    return nest.pack_sequence_as(first, [stack(rs) for rs in results])


def _accumulators(fn, elems, initializer, reverse, fname):
    """Runs ``acc = fn(acc, x)`` over ``elems`` (axis 0, from the end when ``reverse``);
    returns ``(accumulators, last)``: every accumulator in scan order (the first element
    itself when there is no ``initializer``) and the final one."""
    _need_callable(fn, fname)
    flat, n = _elems_flat(elems, fname)
    slices = [unstack(t) for t in flat]
    order = list(range(n))[::-1] if reverse else list(range(n))
    if initializer is None:
        if n == 0:
            raise InvalidArgumentError(f"{fname}: Tried to read from index 0 but array size "
                                       "is: 0 (elems is empty and no initializer was given)")
        acc, order = nest.pack_sequence_as(elems, [s[order[0]] for s in slices]), order[1:]
        accs = [acc]
    else:
        acc, accs = initializer, []
    for i in order:
        new = fn(acc, nest.pack_sequence_as(elems, [s[i] for s in slices]))
        _assert_same_structure(acc, new, fname, "fn must return the accumulator's structure")
        acc = new
        accs.append(acc)
    return accs, acc


def _fold(fn, elems, initializer, back_prop, reverse, fname):
    out = nest.map_structure(_to_tensor_out, _accumulators(fn, elems, initializer, reverse,
                                                           fname)[1])
    return out if back_prop else _stop_all(out)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """Folds ``acc = fn(acc, x)`` over ``elems`` along axis 0 from the left (``tf.foldl``).

    Without ``initializer`` the first element starts (empty ``elems`` are then an
    InvalidArgumentError). ``elems`` may be a nest; ``fn`` keeps the accumulator's structure.

    Example:
        >>> import eagerflow as ef
        >>> ef.foldl(lambda a, x: a + x, ef.constant([1, 2, 3, 4, 5, 6])).numpy()
        np.int32(21)
    """
    return _fold(fn, elems, initializer, back_prop, False, "foldl")


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """Folds ``acc = fn(acc, x)`` over ``elems`` along axis 0 from the right (``tf.foldr``).

    Example:
        >>> import eagerflow as ef
        >>> ef.foldr(lambda a, x: a * 10 + x, ef.constant([1, 2, 3])).numpy()
        np.int32(321)
    """
    return _fold(fn, elems, initializer, back_prop, True, "foldr")


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """Every accumulator of ``acc = fn(acc, x)`` over ``elems`` along axis 0, stacked
    (``tf.scan``).

    Without ``initializer`` the first element is the first accumulator (and the first
    output); ``reverse`` scans from the end and keeps the outputs aligned with ``elems``.
    The result has the accumulator's structure, each leaf stacked on a new axis 0; empty
    ``elems`` with an ``initializer`` give leaves of length 0.

    Example:
        >>> import eagerflow as ef
        >>> ef.scan(lambda a, x: a + x, ef.constant([1, 2, 3, 4, 5, 6])).numpy().tolist()
        [1, 3, 6, 10, 15, 21]
        >>> ef.scan(lambda a, x: a + x, ef.constant([1, 2, 3]), reverse=True).numpy().tolist()
        [6, 5, 3]
    """
    outs, acc = _accumulators(fn, elems, initializer, reverse, "scan")
    if reverse:
        outs.reverse()
    template = nest.map_structure(_to_tensor_out, acc)
    if not outs:
        out = nest.map_structure(lambda t: zeros_like(stack([t]))[:0], template)
    else:
        columns = zip(*[nest.flatten(nest.map_structure(_to_tensor_out, o)) for o in outs])
        out = nest.pack_sequence_as(template, [stack(list(c)) for c in columns])
    return out if back_prop else _stop_all(out)


# --- py_function / numpy_function -------------------------------------------------------
def _func_call(func, inp, Tout, fname, to_numpy):
    if not callable(func):
        raise ValueError(f"Expected func to be callable. Received func={func!r} of type "
                         f"{type(func)}.")
    single = not _is_seq(Tout)
    try:
        dts = [_out_spec(t)[0] for t in ([Tout] if single else Tout)]
    except TypeError:
        raise TypeError(f"{fname}: Tout must be a dtype or a list of dtypes, got "
                        f"{Tout!r}") from None
    args = [] if inp is None else list(inp) if _is_seq(inp) else [inp]
    args = [_read(v) if isinstance(v, Tensor) else convert_to_tensor(v) for v in args]
    ret = func(*[_ndarray(a) for a in args] if to_numpy else args)
    return single, dts, [] if ret is None else list(ret) if _is_seq(ret) else [ret]


def _ndarray(t):
    """What TF's py_func kernel hands ``func``: an ndarray (0-d ones too), strings as bytes."""
    return np.array(t.numpy(), dtype=object) if t.dtype.kind == "O" else to_numpy(t._data)


def py_function(func=None, inp=None, Tout=None, name=None):
    """Calls ``func`` on the Tensors ``inp`` and returns its results as Tensors of ``Tout``
    (``tf.py_function``); gradients flow through the ops ``func`` runs.

    ``Tout`` is a dtype (one result) or a list of them (a list returned; ``[]`` for None).
    Without ``func`` it is a decorator (TF 2.13+). Raises InvalidArgumentError for another
    number of results or one not convertible to its dtype.

    Example:
        >>> import eagerflow as ef
        >>> ef.py_function(lambda a, b: a * b, [ef.constant(3.0), 2.0], ef.float32).numpy()
        np.float32(6.0)
    """
    if func is None:
        return lambda f: functools.wraps(f)(lambda *a: py_function(f, list(a), Tout, name))
    single, dts, vals = _func_call(func, inp, Tout, "py_function", False)
    if len(vals) != len(dts):
        raise InvalidArgumentError(f"py_function: func returned {len(vals)} value(s), but Tout "
                                   f"lists {len(dts)}")
    outs = []
    for i, (v, dt) in enumerate(zip(vals, dts)):
        if isinstance(v, Variable):
            raise RuntimeError("Attempted to return a variable from an eagerly executed "
                               "py_func; return its value (`.read_value()`) instead")
        if isinstance(v, Tensor) and v.dtype != dt:
            raise InvalidArgumentError(f"py_function: Tensor conversion requested dtype "
                                       f"{tf_name(dt)} for Tensor with dtype "
                                       f"{tf_name(v.dtype)} (result {i})")
        try:
            outs.append(v if isinstance(v, Tensor) else
                        _convert_value(v, dt, f"py_function: result {i}"))
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(str(e)) from None
    return outs[0] if single else outs


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Calls ``func`` on NumPy arrays (``tf.numpy_function``); not differentiable.

    Results must have the ``Tout`` dtypes already (a Python float is float64), else an
    InvalidArgumentError as TF's: ``0-th value returned by pyfunc_0 is double, but expects
    float``. ``stateful`` is ignored.

    Example:
        >>> import eagerflow as ef, numpy as np
        >>> ef.numpy_function(lambda x: np.sinh(x), [ef.constant([0.0])], ef.float32).numpy()
        array([0.], dtype=float32)
    """
    if func is None:
        return lambda f: functools.wraps(f)(
            lambda *a: numpy_function(f, list(a), Tout, stateful, name))
    single, dts, vals = _func_call(func, inp, Tout, "numpy_function", True)
    if len(vals) != len(dts):
        raise InvalidArgumentError(f"pyfunc_0 returns {len(vals)} values, but expects to see "
                                   f"{len(dts)} values.")
    outs = []
    for i, (v, dt) in enumerate(zip(vals, dts)):
        a = np.asarray(to_numpy(v._data) if isinstance(v, Tensor) else v)
        a = a.astype(object) if a.dtype.kind in "US" else a
        if a.dtype != dt:
            raise InvalidArgumentError(f"{i}-th value returned by pyfunc_0 is "
                                       f"{_type_string(a.dtype)}, but expects "
                                       f"{_type_string(dt)}")
        outs.append(convert_to_tensor(a))
    return outs[0] if single else outs


# --- print --------------------------------------------------------------------------------
def _placeholder(text):
    """TF's ``_generate_placeholder_string``: '{}' plus random digits until unique."""
    p, rng = "{}", random.Random(5)
    while p in text:
        p += str(rng.randint(0, 9))
    return p


def _print_writer(stream):
    if isinstance(stream, str) and stream.startswith("file://"):
        def write_file(text):
            with open(stream[len("file://"):], "a", encoding="utf-8") as f:
                f.write(text)
        return write_file
    # the default streams mean the current ones (a test's capture, a notebook's)
    stream = {id(_STDERR): sys.stderr, id(sys.__stderr__): sys.stderr, id(_STDOUT): sys.stdout,
              id(sys.__stdout__): sys.stdout}.get(id(stream), stream)
    if isinstance(stream, int) and not isinstance(stream, bool) and \
            stream in (logging.INFO, logging.WARNING, logging.ERROR):
        return lambda text: logging.getLogger("eagerflow").log(stream, text.rstrip("\n"))
    if hasattr(stream, "write"):
        return lambda text: (stream.write(text), getattr(stream, "flush", lambda: None)())
    if callable(stream):  # logging.info, absl.logging.warning...
        return lambda text: stream(text.rstrip("\n"))
    raise ValueError(f"Unsupported output stream, logging level, or file.{stream}. Supported "
                     "streams are sys.stdout, sys.stderr, tf.logging.info, tf.logging.warning, "
                     "tf.logging.error. File needs to be in the form of 'file://<filepath>'.")


def print_(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n", name=None):
    """Prints tensors and Python values as ``tf.print`` does.

    Tensors print as ``[0 1 2 ... 7 8 9]`` (``summarize`` items at each end of each
    dimension, -1 all), structures through ``pprint``, top-level strings as they are.
    ``output_stream``: ``sys.stderr``, ``sys.stdout``, a file object, a logging level or
    function, or ``"file://<path>"`` (appended to); others are a ValueError.

    Example:
        >>> import eagerflow as ef, sys
        >>> ef.print_("tensors:", ef.range(10), {2: ef.range(3) * 2}, output_stream=sys.stdout)
        tensors: [0 1 2 ... 7 8 9] {2: [0 2 4]}
    """
    write = _print_writer(output_stream)
    summarize = 3 if summarize is None else int(summarize)
    if len(inputs) == 1 and isinstance(inputs[0], Tensor) and inputs[0].ndim == 0 and \
            inputs[0].dtype.kind == "O":  # a lone string scalar prints raw
        v = inputs[0].item()
        write((v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) + end)
        return None
    inputs = [collections.OrderedDict(sorted(i.items()))
              if isinstance(i, collections.OrderedDict) else i for i in inputs]
    is_t = lambda x: isinstance(x, (Tensor, SparseTensor, IndexedSlices))  # noqa: E731
    p = _placeholder(" ".join(pprint.pformat(nest.map_structure(
        lambda x: "" if is_t(x) else x, i)) for i in inputs))
    templates, tensors = [], []
    for item in inputs:
        holders = []
        for x in nest.flatten(item):
            if isinstance(x, SparseTensor):
                tensors.extend([x.indices, x.values, x.dense_shape])
                holders.append(f"SparseTensor(indices={p}, values={p}, shape={p})")
            elif is_t(x):
                tensors.append(x.to_dense() if isinstance(x, IndexedSlices) else x)
                holders.append(p)
            else:
                holders.append(x)
        templates.append(item if isinstance(item, str) else
                         pprint.pformat(nest.pack_sequence_as(item, holders)))
    template = sep.join(templates).replace("'" + p + "'", p)
    write(to_numpy(_string_format(template, tensors, placeholder=p, summarize=summarize)._data).item()
          + end)
    return None


# --- static value, shapes, identity_n ---------------------------------------------------
def get_static_value(tensor, partial=False):
    """The NumPy value of an eager Tensor (``tf.get_static_value``); non-tensors come back
    unchanged, Variables (mutable) and sparse values give None.

    Example:
        >>> import eagerflow as ef
        >>> ef.get_static_value(ef.constant([1, 2]))
        array([1, 2], dtype=int32)
    """
    if isinstance(tensor, (Variable, SparseTensor, IndexedSlices)):
        return None
    return tensor.numpy() if isinstance(tensor, Tensor) else tensor


def _shape_text(shape):
    """``TensorShape::DebugString``: ``[3,?]``."""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def ensure_shape(x, shape, name=None):
    """Returns ``x`` once its shape is compatible with ``shape`` (``tf.ensure_shape``): None
    or -1 dims match anything. Else an InvalidArgumentError (also a ValueError).

    Example:
        >>> import eagerflow as ef
        >>> ef.ensure_shape(ef.zeros((2, 3)), [None, 3]).shape
        TensorShape([2, 3])
    """
    t = _read(x) if isinstance(x, Tensor) else convert_to_tensor(x)
    if shape is None:
        return t
    shape = shape.numpy().tolist() if isinstance(shape, Tensor) else shape
    want = tuple(None if d is None or int(d) == -1 else int(d) for d in shape)
    if len(want) != t.ndim or any(w is not None and w != h for w, h in zip(want, t.shape)):
        raise InvalidArgumentError(f"Shape of tensor x {_shape_text(t.shape)} is not "
                                   f"compatible with expected shape {_shape_text(want)}.")
    return t


def identity_n(input, name=None):  # noqa: A002  (TF's argument name)
    """A list of identities of the tensors in ``input`` (``tf.identity_n``).

    Example:
        >>> import eagerflow as ef
        >>> [t.numpy().tolist() for t in ef.identity_n([ef.constant(1), ef.constant([2.0])])]
        [1, [2.0]]
    """
    if not _is_seq(input):
        raise TypeError(f"identity_n: input must be a list of tensors, got "
                        f"{type(input).__name__}")
    return [identity(v) for v in input]
