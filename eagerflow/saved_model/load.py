"""Loading an export and running its signatures on the current backend, with no user
Python code: each signature is a list of registered ops executed in order."""
import importlib
import json
import os

import numpy as np
import safetensors.numpy

from .. import backend
from ..autograd.registry import array_module_of, get
from .function import TensorInfo
from .graph_format import FORMAT, FORMAT_VERSION, decode

__all__ = ["load", "is_complete", "estimate_memory", "LoadedModel", "Signature",
           "ExportFormatError"]


class ExportFormatError(ValueError):
    """The directory is not an eagerflow export this version can run."""


class _Batch:
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


def _decode_attr(v, xp):
    if isinstance(v, dict) and "__batch__" in v:
        return _Batch(int(v["__batch__"]))
    if isinstance(v, dict) and not any(k.startswith("__") for k in v):
        return {k: _decode_attr(x, xp) for k, x in v.items()}
    if isinstance(v, dict) and "__tuple__" in v:
        return tuple(_decode_attr(x, xp) for x in v["__tuple__"])
    if isinstance(v, dict) and "__dict__" in v:
        return {k: _decode_attr(x, xp) for k, x in v["__dict__"].items()}
    if isinstance(v, list):
        return [_decode_attr(x, xp) for x in v]
    return decode(v, xp)


def _has_batch(v):
    if isinstance(v, _Batch):
        return True
    if isinstance(v, (list, tuple)):
        return any(_has_batch(x) for x in v)
    if isinstance(v, dict):
        return any(_has_batch(x) for x in v.values())
    return False


def _resolve(v, batch):
    if isinstance(v, _Batch):
        return v.k * batch
    if isinstance(v, tuple):
        return tuple(_resolve(x, batch) for x in v)
    if isinstance(v, list):
        return [_resolve(x, batch) for x in v]
    if isinstance(v, dict):
        return {k: _resolve(x, batch) for k, x in v.items()}
    return v


def _read_doc(export_dir):
    path = os.path.join(export_dir, "saved_model.json")
    if not os.path.isfile(path):
        raise ExportFormatError(f"{export_dir} is not an eagerflow export (no saved_model.json; "
                                "an export still being written has none yet)")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != FORMAT:
        raise ExportFormatError(f"{path}: unknown format {doc.get('format')!r}")
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise ExportFormatError(f"{path}: format version {doc['format_version']} is newer than "
                                f"this eagerflow supports ({FORMAT_VERSION}); upgrade eagerflow")
    return doc


def is_complete(export_dir):
    """True when ``export_dir`` holds a finished, readable export."""
    try:
        _read_doc(os.fspath(export_dir))
        return True
    except (ExportFormatError, OSError, ValueError):
        return False


def estimate_memory(export_dir):
    """Bytes the loaded model will hold (variables and constants)."""
    total = 0
    for rel in ("variables/variables.safetensors", "constants.safetensors"):
        p = os.path.join(os.fspath(export_dir), rel)
        if os.path.isfile(p):
            total += os.path.getsize(p)
    return total


def _op(node, key):
    """The registered op of a node, importing the eagerflow module that defines it."""
    try:
        return get(node["op"])
    except KeyError:
        module = node.get("module") or ""
        if module == "eagerflow" or module.startswith("eagerflow."):
            try:
                importlib.import_module(module)
                return get(node["op"])
            except (ImportError, KeyError):
                pass
    raise ExportFormatError(f"signature {key!r} uses op {node['op']!r}, which this eagerflow "
                            "does not register")


class Signature:
    """One signature of a loaded export: call it with NumPy inputs by alias; returns a dict
    alias -> NumPy array."""

    def __init__(self, key, spec, variables, constants, xp):
        self.key = key
        self.method_name = spec["method_name"]
        self.inputs = {a: TensorInfo.from_json(i) for a, i in spec["inputs"].items()}
        self.outputs = {a: TensorInfo.from_json(i) for a, i in spec["outputs"].items()}
        self._order = sorted(spec["inputs"], key=lambda a: spec["inputs"][a]["placeholder"])
        g = spec["graph"]
        self._n_placeholders = g["num_placeholders"]
        self._outputs = g["outputs"]
        self._aliases = g["output_aliases"]
        self._xp = xp
        self._nodes = []
        for n in g["nodes"]:
            op = _op(n, key)
            attrs = {k: _decode_attr(v, xp) for k, v in n["attrs"].items()}
            refs = []
            for r in n["inputs"]:
                if "t" in r:
                    refs.append(("t", r["t"]))
                elif "var" in r:
                    refs.append(("v", variables[r["var"]]))
                elif "const" in r:
                    refs.append(("v", constants[r["const"]]))
                else:
                    lit = _decode_attr(r["lit"], xp)
                    refs.append(("b" if _has_batch(lit) else "v", lit))
            self._nodes.append((op, refs, attrs, _has_batch(attrs), n["outputs"], n["multi"]))

    def _feeds(self, kwargs):
        missing = [a for a in self.inputs if a not in kwargs]
        extra = [a for a in kwargs if a not in self.inputs]
        if missing or extra:
            raise ValueError(f"signature {self.key!r} takes inputs {sorted(self.inputs)}; "
                             f"missing {missing}, unexpected {extra}")
        arrays, batch = [], None
        for alias in self._order:
            info = self.inputs[alias]
            a = kwargs[alias]
            a = backend.to_numpy(a._data) if hasattr(a, "_data") else a
            if info.dtype.kind == "O":
                a = np.asarray(a, dtype=object)
            else:
                a = np.asarray(a)
                if a.dtype.kind not in "biuf":
                    raise ValueError(f"input {alias!r} must be numeric ({info.dtype}), got "
                                     f"{a.dtype}")
                a = a.astype(info.dtype, copy=False)
            # As in TF Serving, the TensorInfo shape describes the input but is not enforced
            # (half_plus_two takes [3] and [2, 2] for its [-1, 1] input): the graph's ops
            # reject shapes they cannot compute with, naming them.
            if info.shape and info.shape[0] is None and a.ndim:
                if batch is not None and a.shape[0] != batch:
                    raise ValueError(f"inputs disagree on the batch size: {batch} and "
                                     f"{a.shape[0]} ({alias!r})")
                batch = a.shape[0]
            arrays.append(a if a.dtype.kind == "O" else backend.asarray(a))
        return arrays, (1 if batch is None else batch)

    def __call__(self, **inputs):
        arrays, batch = self._feeds(inputs)
        env = {i: a for i, a in enumerate(arrays)}
        for op, refs, attrs, dyn, outs, multi in self._nodes:
            args = [env[r] if kind == "t" else (_resolve(r, batch) if kind == "b" else r)
                    for kind, r in refs]
            if dyn:
                attrs = _resolve(attrs, batch)
            xp = array_module_of(args, op.name)
            res = op.forward(xp, *args, **attrs)
            if multi:
                for i, r in zip(outs, res):
                    env[i] = r
            else:
                env[outs[0]] = res
        out = {}
        for alias, r in zip(self._aliases, self._outputs):
            if "t" in r:
                v = env[r["t"]]
            elif "var" in r:
                v = self._vars[r["var"]]
            elif "const" in r:
                v = self._consts[r["const"]]
            else:
                v = _resolve(_decode_attr(r.get("lit"), self._xp), batch)
            out[alias] = backend.to_numpy(v) if backend.is_array(v) else np.asarray(v)
        return out

    def __repr__(self):
        return (f"<Signature {self.key!r} {self.method_name}: inputs {sorted(self.inputs)} -> "
                f"outputs {sorted(self.outputs)}>")


class LoadedModel:
    """A loaded export: ``signatures`` (key -> :class:`Signature`) and its variables."""

    def __init__(self, export_dir):
        self.export_dir = export_dir
        doc = _read_doc(export_dir)
        xp = backend.xp()
        manifest = doc.get("variables", {})
        raw = safetensors.numpy.load_file(os.path.join(export_dir, "variables",
                                                       "variables.safetensors"))
        self.variables = {n: _to_backend(raw[n].reshape(m["shape"])) for n, m in manifest.items()}
        craw = safetensors.numpy.load_file(os.path.join(export_dir, "constants.safetensors"))
        self.signatures = {}
        for key, spec in doc["signatures"].items():
            consts = []
            for c in spec["graph"].get("constants", []):
                if "inline" in c:
                    consts.append(decode(c["inline"]))
                else:
                    consts.append(_to_backend(craw[c["tensor"]].reshape(c["shape"])))
            sig = Signature(key, spec, self.variables, consts, xp)
            sig._vars, sig._consts = self.variables, consts
            self.signatures[key] = sig
        self.version = _version_of(export_dir)

    def __repr__(self):
        return f"<LoadedModel {self.export_dir} signatures={sorted(self.signatures)}>"


def _to_backend(a):
    return a if a.dtype.kind == "O" else backend.asarray(a)


def _version_of(export_dir):
    name = os.path.basename(os.path.normpath(export_dir))
    try:
        return int(name)
    except ValueError:
        return None


def load(export_dir, tags=None, options=None):
    """Loads an export (``tf.saved_model.load``); signatures run on the current backend.

    Raises:
        ExportFormatError: not an export, a newer format, or an op this version lacks.
    """
    export_dir = os.fspath(export_dir)
    if not os.path.isdir(export_dir):
        raise FileNotFoundError(f"export directory {export_dir} does not exist")
    return LoadedModel(export_dir)
