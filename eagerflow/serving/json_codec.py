"""TF Serving's REST JSON <-> NumPy tensors and tf.Examples (``util/json_tensor.cc``).

Predict requests come in row (``instances``) or columnar (``inputs``) form; a tensor's dtype
comes from the signature and its shape from the JSON nesting (never reshaped; ragged lists
are an error). ``{"b64": "..."}`` carries bytes. Classify/regress ``examples`` become
serialized ``tf.Example`` protos.

Example:
    >>> arr = json_to_tensor([[1, 2], [3, 4]], np.dtype(np.float32), "x")
    >>> arr.shape, arr.dtype
    ((2, 2), dtype('float32'))
    >>> tensor_to_json(np.array([0.1, 2.5], np.float32), "y")
    [0.1, 2.5]
"""
import base64
import binascii
import math

import numpy as np

from .errors import ServingError

__all__ = ["json_to_tensor", "tensor_to_json", "predict_inputs", "predict_response",
           "examples_from_json", "INT64_MAX"]

INT64_MAX = 2 ** 63 - 1
MAX_RANK = 254  # TensorShape's limit in TensorFlow


def _bad(msg):
    return ServingError.invalid_argument(msg)


def _is_b64(v):
    return isinstance(v, dict) and len(v) == 1 and "b64" in v


def _decode_b64(v, name):
    s = v["b64"]
    if not isinstance(s, str):
        raise _bad(f"'b64' value of input '{name}' must be a string")
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _bad(f"Unable to base64 decode the value of input '{name}'") from None


def _shape_of(value):
    shape, x = [], value
    while isinstance(x, list):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    return shape


def _leaf_checker(dtype, name):
    kind = dtype.kind
    if kind == "f" or kind == "c":
        def check(v):
            if type(v) is float or type(v) is int:
                return v
            raise _bad(f"Expected a number for input '{name}' of type {dtype.name}, got "
                       f"{_jtype(v)}")
    elif kind in "iu":
        def check(v):
            if type(v) is int:
                return v
            raise _bad(f"Expected an integer for input '{name}' of type {dtype.name}, got "
                       f"{_jtype(v)}")
    elif kind == "b":
        def check(v):
            if type(v) is bool:
                return v
            raise _bad(f"Expected true or false for input '{name}' of type bool, got "
                       f"{_jtype(v)}")
    else:
        def check(v):
            if type(v) is str:
                return v.encode("utf-8")
            if _is_b64(v):
                return _decode_b64(v, name)
            raise _bad(f"Expected a string or {{\"b64\": ...}} for input '{name}' of type "
                       f"string, got {_jtype(v)}")
    return check


def _jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"number {v!r}"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    return "an object"


# The JSON types a numeric dtype takes as they are (a bool is no number and no int here, as
# in TF); strings take none as they are: each one is encoded or b64-decoded.
_AS_IS = {"f": (float, int), "c": (float, int), "i": (int,), "u": (int,), "b": (bool,)}


def _leaves(values, dtype, name, rank):
    """The innermost values one by one: strings converted, the first bad value reported."""
    check = _leaf_checker(dtype, name)
    out = []
    for v in values:
        if isinstance(v, list):
            raise _bad(f"Input '{name}' is ragged: lists nest deeper than the first "
                       f"element's {rank} levels")
        out.append(check(v))
    return out


def _walk(v, d, shape, flat, as_is, dtype, name):
    """Appends the values of the list ``v`` at depth ``d`` to ``flat``, checking that it
    has the shape the first elements gave and that its values fit ``dtype``."""
    if not isinstance(v, list) or len(v) != shape[d]:
        raise _bad(f"Input '{name}' is ragged: expected a list of {shape[d]} values at "
                   f"depth {d}, got {'a list of %d' % len(v) if isinstance(v, list) else _jtype(v)}")
    if d + 1 < len(shape):
        for item in v:
            _walk(item, d + 1, shape, flat, as_is, dtype, name)
        return
    # The innermost list: one type-checking loop, then one extend (no call per value); a
    # string list, or a list with a bad value, goes value by value.
    for item in v:
        if type(item) not in as_is:
            flat.extend(_leaves(v, dtype, name, len(shape)))
            return
    flat.extend(v)


def json_to_tensor(value, dtype, name):
    """A NumPy array of ``dtype`` from a JSON value (nested lists give the shape).

    Raises:
        ServingError: INVALID_ARGUMENT for ragged lists or values of the wrong type.
    """
    shape = _shape_of(value)
    if len(shape) > MAX_RANK:
        raise _bad(f"Input '{name}' has {len(shape)} dimensions; at most {MAX_RANK} are "
                   "supported")
    if shape:
        flat = []
        _walk(value, 0, shape, flat, _AS_IS.get(dtype.kind, ()), dtype, name)
    else:
        flat = _leaves([value], dtype, name, 0)
    if dtype.kind in "OSU":
        arr = np.empty(len(flat), dtype=object)
        arr[:] = flat
        return arr.reshape(shape)
    try:
        with np.errstate(over="ignore"):  # float32 overflow: see _check_lossless
            arr = np.array(flat, dtype=dtype)
    except (OverflowError, ValueError):
        raise _bad(f"A value of input '{name}' is out of range for {dtype.name}") from None
    return arr if len(shape) == 1 else arr.reshape(shape)


# TF Serving's IsLosslessDecimal (util/json_tensor.cc): a JSON integer must fit the float
# type's integer range (|v| <= 2**digits - 1) and a decimal its finite range (NaN and
# Infinity pass); anything else is "Cannot convert JSON value: ... without loss of precision".
_LOSSLESS = {np.dtype(np.float32): (2 ** 24 - 1, float(np.finfo(np.float32).max), "float"),
             np.dtype(np.float64): (2 ** 53 - 1, math.inf, "double")}


def _check_lossless(arr, value):
    """Raises INVALID_ARGUMENT for the first JSON number of ``value`` (document order) that
    the float32/float64 ``arr`` made of it cannot hold exactly, as TF Serving does."""
    limits = _LOSSLESS.get(arr.dtype)
    if limits is None or not arr.size:
        return arr
    max_int, max_abs, what = limits
    with np.errstate(invalid="ignore"):
        if (np.abs(arr) <= max_int).all():  # the common case: no value to look at
            return arr
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
        elif (type(v) is int and abs(v) > max_int) or (
                type(v) is float and math.isfinite(v) and abs(v) > max_abs):
            raise _bad(f"Cannot convert JSON value: {v} to {what} without loss of precision.")
    return arr


def _tensor(value, info, name):
    """The tensor of one request input: :func:`json_to_tensor` plus TF's lossless check."""
    return _check_lossless(json_to_tensor(value, info.dtype, name), value)


def _check_names(given, expected):
    given, expected = set(given), set(expected)
    if given != expected:
        extra = ",".join(sorted(given - expected))
        missing = ",".join(sorted(expected - given))
        raise _bad(f"input size does not match signature: {len(given)}!={len(expected)} "
                   f"len({{{','.join(sorted(given))}}}) != len({{{','.join(sorted(expected))}}}). "
                   f"Sent extra: {{{extra}}}. Missing but required: {{{missing}}}.")


def predict_inputs(body, sig_inputs):
    """``(inputs dict, row_format)`` of a parsed predict body for a signature's inputs.

    Args:
        body: dict, the parsed JSON request.
        sig_inputs: dict alias -> TensorInfo (``.dtype``).
    """
    has_inst, has_inp = "instances" in body, "inputs" in body
    if has_inst == has_inp:
        if has_inst:
            raise _bad("Not formatted correctly expecting only one of 'inputs' or "
                       "'instances' keys exists")
        raise _bad("Missing 'inputs' or 'instances' key")
    if has_inst:
        inst = body["instances"]
        if not isinstance(inst, list):
            raise _bad("Expecting 'instances' to be an list/array")
        if not inst:
            raise _bad("No values in 'instances' array")
        named = isinstance(inst[0], dict) and not _is_b64(inst[0])
        if not named:
            if len(sig_inputs) != 1:
                raise _bad(f"Expecting object with named inputs in 'instances' (the signature "
                           f"has {len(sig_inputs)} inputs: {', '.join(sorted(sig_inputs))})")
            (alias, info), = sig_inputs.items()
            return {alias: _tensor(inst, info, alias)}, True
        keys = None
        for i, item in enumerate(inst):
            if not isinstance(item, dict) or _is_b64(item):
                raise _bad(f"Expecting object but got {_jtype(item)} at item {i} of "
                           "'instances'")
            if keys is None:
                keys = set(item)
                _check_names(keys, sig_inputs)
            elif set(item) != keys:
                raise _bad(f"Expecting the same input names in every instance: item {i} has "
                           f"{sorted(item)} and item 0 has {sorted(keys)}")
        return {k: _tensor([item[k] for item in inst], sig_inputs[k], k)
                for k in sig_inputs}, True
    inp = body["inputs"]
    if isinstance(inp, dict) and not _is_b64(inp):
        _check_names(inp, sig_inputs)
        return {k: _tensor(inp[k], sig_inputs[k], k) for k in sig_inputs}, False
    if len(sig_inputs) != 1:
        raise _bad(f"Expecting an object of named inputs in 'inputs' (the signature has "
                   f"{len(sig_inputs)} inputs: {', '.join(sorted(sig_inputs))})")
    (alias, info), = sig_inputs.items()
    return {alias: _tensor(inp, info, alias)}, False


def _bytes_json(b, as_b64):
    if as_b64:
        return {"b64": base64.b64encode(b).decode("ascii")}
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(b).decode("ascii")}


def tensor_to_json(arr, alias):
    """Nested lists of an output tensor (float32 in shortest round-trip form)."""
    arr = np.asarray(arr)
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize < 8:
        # numpy prints float32/16 in their own shortest round-trip form ("0.1", not
        # "0.10000000149011612"); float() of that string keeps it.
        flat = list(map(float, arr.ravel().astype(str).tolist()))
        return _nest(flat, arr.shape)
    if kind in "OSU":
        b64 = alias.endswith("_bytes")
        flat = [_bytes_json(v if isinstance(v, bytes) else str(v).encode("utf-8"), b64)
                for v in arr.ravel().tolist()]
        return _nest(flat, arr.shape)
    if kind == "c":
        raise _bad(f"Output '{alias}' is complex, which JSON cannot carry")
    return arr.tolist()


def _nest(flat, shape):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    if len(shape) == 2 and shape[1]:
        k = shape[1]
        return [flat[i:i + k] for i in range(0, len(flat), k)]
    obj = np.empty(len(flat), dtype=object)
    obj[:] = flat
    return obj.reshape(shape).tolist()


def predict_response(outputs, row_format):
    """The response dict of predict ``outputs`` (alias -> array)."""
    if not row_format:
        if len(outputs) == 1:
            (alias, arr), = outputs.items()
            return {"outputs": tensor_to_json(arr, alias)}
        return {"outputs": {a: tensor_to_json(v, a) for a, v in outputs.items()}}
    if len(outputs) == 1:
        (alias, arr), = outputs.items()
        if np.ndim(arr) == 0:
            raise _bad(f"Output '{alias}' is a scalar; row format needs a batch dimension")
        return {"predictions": tensor_to_json(arr, alias)}
    batch = None
    cols = {}
    for a, v in outputs.items():
        if np.ndim(v) == 0 or (batch is not None and np.shape(v)[0] != batch):
            raise _bad("Row format needs outputs with the same batch size (dim 0); use the "
                       "columnar 'inputs' format for this signature")
        batch = np.shape(v)[0]
        cols[a] = tensor_to_json(v, a)
    return {"predictions": [{a: cols[a][i] for a in cols} for i in range(batch)]}


def _feature(value, name):
    from eagerflow.io import BytesList, Feature, FloatList, Int64List
    vals = value if isinstance(value, list) else [value]
    kinds = set()
    out = []
    for v in vals:
        if isinstance(v, bool):
            kinds.add("int64")
            out.append(int(v))
        elif isinstance(v, int):
            if not -2 ** 63 <= v <= INT64_MAX:
                raise _bad(f"Feature '{name}': integer {v} does not fit in int64")
            kinds.add("int64")
            out.append(v)
        elif isinstance(v, float):
            if math.isfinite(v) and abs(v) > _LOSSLESS[np.dtype(np.float32)][1]:
                raise _bad(f"Cannot convert JSON value: {v} to float without loss of "
                           "precision.")
            kinds.add("float")
            out.append(v)
        elif isinstance(v, str):
            kinds.add("bytes")
            out.append(v.encode("utf-8"))
        elif _is_b64(v):
            kinds.add("bytes")
            out.append(_decode_b64(v, name))
        else:
            raise _bad(f"Feature '{name}' has an unsupported value: {_jtype(v)} (expected "
                       "numbers, strings, {\"b64\": ...} or a flat list of one of them)")
    if len(kinds) > 1:
        raise _bad(f"Feature '{name}' mixes value types {sorted(kinds)}")
    kind = kinds.pop() if kinds else "float"
    if kind == "bytes":
        return Feature(bytes_list=BytesList(value=out))
    if kind == "int64":
        return Feature(int64_list=Int64List(value=out))
    return Feature(float_list=FloatList(value=out))


def _example(obj, what):
    from eagerflow.io import Example, Features
    if not isinstance(obj, dict) or _is_b64(obj):
        raise _bad(f"{what} must be an object of feature name -> value(s), got {_jtype(obj)}")
    return Example(features=Features(feature={k: _feature(v, k) for k, v in obj.items()}))


def examples_from_json(body):
    """A (n,) object array of serialized tf.Examples from a classify/regress body.

    With ``"context"``, each serialized Example is the context's bytes followed by the
    example's (protobuf merge), as TF Serving feeds ``ExampleListWithContext``. Other keys
    of the body are ignored, as in TF Serving.
    """
    if "examples" not in body:
        raise _bad("Missing 'examples' key in the request")
    exs = body["examples"]
    if not isinstance(exs, list) or not exs:
        raise _bad("'examples' must be a non-empty list of objects")
    prefix = b""
    if "context" in body:
        ctx = body["context"]
        prefix = _example(ctx, "'context'").SerializeToString()
        for i, e in enumerate(exs):
            if isinstance(e, dict):
                dup = set(ctx) & set(e)
                if dup:
                    raise _bad(f"Feature(s) {sorted(dup)} of example {i} also appear in "
                               "'context'")
    out = np.empty(len(exs), dtype=object)
    out[:] = [prefix + _example(e, f"Example {i}").SerializeToString()
              for i, e in enumerate(exs)]
    return out
