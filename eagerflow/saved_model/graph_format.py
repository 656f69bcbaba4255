"""JSON encoding of op attributes (dtypes, tuples, slices, arrays, Ellipsis) — the on-disk
form of a traced graph. Nothing is pickled: every value has an explicit tagged form."""
import base64

import numpy as np

from .. import backend

__all__ = ["encode", "decode", "FORMAT", "FORMAT_VERSION"]

FORMAT = "eagerflow.saved_model"
FORMAT_VERSION = 1


def encode(v):
    """A JSON-able form of an attribute value."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else {"__float__": repr(f)}
    if isinstance(v, np.dtype):
        return {"__dtype__": v.str if v.kind != "O" else "object"}
    if isinstance(v, type) and issubclass(v, np.generic):
        return {"__dtype__": np.dtype(v).str}
    if isinstance(v, tuple):
        return {"__tuple__": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            return {"__dict_items__": [[encode(k), encode(x)] for k, x in v.items()]}
        return {"__dict__": {k: encode(x) for k, x in v.items()}}
    if isinstance(v, slice):
        return {"__slice__": [encode(v.start), encode(v.stop), encode(v.step)]}
    if v is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(v, bytes):
        return {"__bytes__": base64.b64encode(v).decode()}
    if isinstance(v, complex):
        return {"__complex__": [v.real, v.imag]}
    if backend.is_array(v) or isinstance(v, np.ndarray):
        a = backend.to_numpy(v)
        if a.dtype.kind == "O":
            return {"__objarray__": [encode(x) for x in a.reshape(-1).tolist()],
                    "shape": list(a.shape)}
        return {"__ndarray__": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode(),
                "dtype": a.dtype.str, "shape": list(a.shape)}
    raise TypeError(f"cannot export an op attribute of type {type(v).__name__}: {v!r}")


def decode(v, xp=np):
    """The value :func:`encode` wrote (arrays land on ``xp``)."""
    if isinstance(v, list):
        return [decode(x, xp) for x in v]
    if not isinstance(v, dict):
        return v
    if "__dtype__" in v:
        return np.dtype(object) if v["__dtype__"] == "object" else np.dtype(v["__dtype__"])
    if "__tuple__" in v:
        return tuple(decode(x, xp) for x in v["__tuple__"])
    if "__dict__" in v:
        return {k: decode(x, xp) for k, x in v["__dict__"].items()}
    if "__dict_items__" in v:
        return {decode(k, xp): decode(x, xp) for k, x in v["__dict_items__"]}
    if "__slice__" in v:
        return slice(*[decode(x, xp) for x in v["__slice__"]])
    if "__ellipsis__" in v:
        return Ellipsis
    if "__bytes__" in v:
        return base64.b64decode(v["__bytes__"])
    if "__float__" in v:
        return float(v["__float__"])
    if "__complex__" in v:
        return complex(*v["__complex__"])
    if "__ndarray__" in v:
        a = np.frombuffer(base64.b64decode(v["__ndarray__"]), dtype=np.dtype(v["dtype"]))
        a = a.reshape(v["shape"]).copy()
        return a if xp is np else xp.asarray(a)
    if "__objarray__" in v:
        return np.array([decode(x, xp) for x in v["__objarray__"]],
                        dtype=object).reshape(v["shape"])
    if "__batch__" in v:
        raise ValueError("unresolved batch symbol")  # resolved by the runtime first
    raise ValueError(f"unknown attribute encoding: {sorted(v)}")
