"""Writing an export: ``saved_model.json`` (signatures and op graphs), ``variables/
variables.safetensors``, ``constants.safetensors``, ``assets/`` — into a temporary
directory renamed into place when complete."""
import json
import os
import shutil
import tempfile

import numpy as np
import safetensors.numpy

from .. import __version__ as _version
from .. import backend
from .function import ConcreteFunction, Function
from .graph_format import FORMAT, FORMAT_VERSION, encode

__all__ = ["save", "write_export"]


def _concrete(obj, key):
    if isinstance(obj, ConcreteFunction):
        return obj
    if isinstance(obj, Function):
        return obj.get_concrete_function()
    raise TypeError(f"signature {key!r} must be an ef.function (with an input_signature) or a "
                    f"concrete function, got {type(obj).__name__}")


def save(obj, export_dir, signatures=None, options=None, assets=None):
    """Exports traced functions as a SavedModel (``tf.saved_model.save``).

    Args:
        obj: an ``ef.function`` (becomes ``serving_default`` when ``signatures`` is None) or
            any object (ignored otherwise).
        export_dir: the directory to create (must not exist or be empty).
        signatures: dict signature key -> ``ef.function`` / concrete function.
        assets: dict relative path -> source file, copied under ``assets/``.

    Raises:
        TraceError: when a function cannot be expressed as an op graph.
        FileExistsError: when ``export_dir`` is a non-empty directory.
    """
    if signatures is None:
        if not isinstance(obj, (Function, ConcreteFunction)):
            raise ValueError("save: pass signatures= or an ef.function as obj")
        signatures = {"serving_default": obj}
    elif not isinstance(signatures, dict):
        signatures = {"serving_default": signatures}
    concretes = {k: _concrete(v, k) for k, v in signatures.items()}
    write_export(export_dir, concretes, assets)
    return export_dir


def write_export(export_dir, concretes, assets=None, assets_extra=None):
    export_dir = os.fspath(export_dir)
    if os.path.isdir(export_dir) and os.listdir(export_dir):
        raise FileExistsError(f"export directory {export_dir} already exists and is not empty")
    parent = os.path.dirname(os.path.abspath(export_dir)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(export_dir)}.tmp-", dir=parent)
    try:
        variables, consts, sigs = {}, {}, {}
        for key, cf in concretes.items():
            for name, var in cf.variables.items():
                if name in variables and variables[name] is not var:
                    raise ValueError(f"two different variables are named {name!r}")
                variables[name] = var
            graph = dict(cf.graph)
            const_refs = []
            for i, arr in enumerate(cf.consts):
                if arr.dtype.kind == "O":
                    const_refs.append({"inline": encode(arr)})
                else:
                    cname = f"{key}/{i}"
                    consts[cname] = np.ascontiguousarray(arr) if arr.ndim else arr.reshape(())
                    const_refs.append({"tensor": cname, "shape": list(arr.shape)})
            graph["constants"] = const_refs
            sigs[key] = {"method_name": cf.method_name,
                         "inputs": {a: dict(i.to_json(), placeholder=n)
                                    for n, (a, i) in enumerate(cf.inputs.items())},
                         "outputs": {a: i.to_json() for a, i in cf.outputs.items()},
                         "graph": graph}
        os.makedirs(os.path.join(tmp, "variables"))
        arrays = {n: _host(v._data) for n, v in variables.items()}
        manifest = {n: {"shape": list(a.shape), "dtype": a.dtype.str} for n, a in arrays.items()}
        safetensors.numpy.save_file({n: a.reshape(a.shape or (1,)) for n, a in arrays.items()},
                                    os.path.join(tmp, "variables", "variables.safetensors"))
        safetensors.numpy.save_file({n: a.reshape(a.shape or (1,)) for n, a in consts.items()},
                                    os.path.join(tmp, "constants.safetensors"))
        os.makedirs(os.path.join(tmp, "assets"))
        for rel, src in (assets or {}).items():
            _copy_under(tmp, "assets", rel, src)
        for rel, src in (assets_extra or {}).items():
            _copy_under(tmp, "assets.extra", rel, src)
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "eagerflow_version": _version,
               "variables": manifest, "signatures": sigs}
        with open(os.path.join(tmp, "saved_model.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isdir(export_dir):
            os.rmdir(export_dir)  # empty (checked above)
        os.rename(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return export_dir


def _copy_under(root, sub, rel, src):
    rel = os.path.normpath(rel)
    if rel.startswith("..") or os.path.isabs(rel):
        raise ValueError(f"asset path {rel!r} must stay inside {sub}/")
    dst = os.path.join(root, sub, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def _host(a):
    a = backend.to_numpy(a)
    return a if a.flags.c_contiguous else a.copy(order="C")
