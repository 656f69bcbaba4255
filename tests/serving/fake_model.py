"""A stand-in for ``eagerflow.saved_model`` exports, with exactly the loader interface the
server uses (``signatures`` of callables with ``method_name``, ``inputs``, ``outputs``).

An export is a directory holding ``fake_model.json`` (parameters) and, once complete,
``COMPLETE``. Signatures follow the half_plus_two reference model (spec section 6) plus a
few extra ones exercising several inputs/outputs and bytes.
"""
import json
import os
import time
from types import SimpleNamespace

import numpy as np

from eagerflow.io import FixedLenFeature, parse_example
from eagerflow.serving import Loader

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
F32 = np.dtype(np.float32)
OBJ = np.dtype(object)


def info(name, dtype, shape):
    return SimpleNamespace(name=name, dtype=np.dtype(dtype), shape=shape)


class Signature:
    def __init__(self, method_name, inputs, outputs, fn):
        self.method_name, self.inputs, self.outputs, self._fn = method_name, inputs, outputs, fn
        self.calls = []  # batch sizes seen, for batching tests

    def __call__(self, **kw):
        for k, v in kw.items():
            want = self.inputs[k].dtype
            if want.kind != "O" and v.dtype != want:
                raise TypeError(f"input {k} must be {want}, got {v.dtype}")
        first = next(iter(kw.values()))
        self.calls.append(first.shape[0] if first.ndim else 0)
        return self._fn(**kw)


def _parse(serialized):
    return parse_example(serialized, {"x": FixedLenFeature([1], np.float32),
                                      "x2": FixedLenFeature([1], np.float32,
                                                            default_value=0.0)})


def build_signatures(p):
    a, b, c = np.float32(p["a"]), np.float32(p["b"]), np.float32(p["c"])
    delay = p.get("call_delay", 0.0)

    def half(x):
        if delay:
            time.sleep(delay)
        return {"y": a * x + b}

    def multi(u, v):
        if u.shape != v.shape:
            raise ValueError(f"u and v must have one shape, got {u.shape} and {v.shape}")
        return {"sum": u + v, "diff": u - v}

    def echo(s):
        return {"s_bytes": s, "length": np.array([len(x) for x in s.ravel()],
                                                 np.int64).reshape(s.shape)}

    ex_in = {"inputs": info("tf_example:0", OBJ, (None,))}
    return {
        "serving_default": Signature(PREDICT, {"x": info("x:0", F32, (None, 1))},
                                     {"y": info("y:0", F32, (None, 1))}, half),
        "regress_x_to_y": Signature(REGRESS, ex_in, {"outputs": info("y:0", F32, (None, 1))},
                                    lambda inputs: {"outputs": a * _parse(inputs)["x"] + b}),
        "regress_x_to_y2": Signature(REGRESS, ex_in,
                                     {"outputs": info("y2:0", F32, (None, 1))},
                                     lambda inputs: {"outputs": a * _parse(inputs)["x"] + c}),
        "regress_x2_to_y3": Signature(REGRESS, {"inputs": info("x2:0", F32, (None, 1))},
                                      {"outputs": info("y3:0", F32, (None, 1))},
                                      lambda inputs: {"outputs": a * inputs + c}),
        "classify_x_to_y": Signature(CLASSIFY, ex_in, {"scores": info("y:0", F32, (None, 1))},
                                     lambda inputs: {"scores": a * _parse(inputs)["x"] + b}),
        "multi": Signature(PREDICT, {"u": info("u:0", F32, (None, 2)),
                                     "v": info("v:0", F32, (None, 2))},
                           {"sum": info("sum:0", F32, (None, 2)),
                            "diff": info("diff:0", F32, (None, 2))}, multi),
        "echo": Signature(PREDICT, {"s": info("s:0", OBJ, (None,))},
                          {"s_bytes": info("s:0", OBJ, (None,)),
                           "length": info("len:0", np.int64, (None,))}, echo),
        "classify_labels": Signature(
            CLASSIFY, ex_in, {"classes": info("c:0", OBJ, (None, 2)),
                              "scores": info("s:0", F32, (None, 2))},
            lambda inputs: {"classes": np.array([[b"neg", b"pos"]] * len(inputs), object),
                            "scores": np.tile(np.array([[0.25, 0.75]], np.float32),
                                              (len(inputs), 1))}),
    }


def write_fake(export_dir, a=0.5, b=2.0, c=3.0, complete=True, **extra):
    """Write a fake export at ``export_dir`` (``<base_path>/<version>``)."""
    os.makedirs(export_dir, exist_ok=True)
    with open(os.path.join(export_dir, "fake_model.json"), "w") as f:
        json.dump(dict(a=a, b=b, c=c, **extra), f)
    if complete:
        open(os.path.join(export_dir, "COMPLETE"), "w").close()
    return export_dir


def fake_load(export_dir):
    with open(os.path.join(export_dir, "fake_model.json")) as f:
        p = json.load(f)
    if p.get("load_delay"):
        time.sleep(p["load_delay"])
    if p.get("fail"):
        raise ValueError(f"corrupt export at {export_dir}")
    return SimpleNamespace(signatures=build_signatures(p))


def fake_is_complete(export_dir):
    return os.path.exists(os.path.join(export_dir, "COMPLETE"))


def fake_estimate(export_dir):
    try:
        with open(os.path.join(export_dir, "fake_model.json")) as f:
            return int(json.load(f).get("memory", 1000))
    except OSError:
        return 0


def fake_loader():
    return Loader(load=fake_load, estimate_memory=fake_estimate, is_complete=fake_is_complete)
