"""TF1's signature builders, eagerly: a signature is input specs plus the computation of
its outputs, traced when the builder saves.

TF1 wires graph tensors (``inputs={'image': x}``, ``outputs={'prediction': y}``); eagerly
the inputs are :class:`~eagerflow.TensorSpec` and each output is a function of the inputs
(called with the inputs as keyword arguments), or one function returning a dict.

Example:
    >>> import eagerflow as ef
    >>> sig = predict_signature_def(
    ...     inputs={"image": ef.TensorSpec([None, 4], ef.float32)},
    ...     outputs={"prediction": lambda image: ef.reduce_sum(image, axis=1)})
    >>> sig.method_name
    'tensorflow/serving/predict'
"""
import inspect

import numpy as np

from ..autograd.tensor import Tensor
from ..data.structure import TensorSpec
from . import signature_constants as sc
from .function import TensorInfo, _trace
from .tracer import TraceError

__all__ = ["SignatureDef", "build_signature_def", "predict_signature_def",
           "classification_signature_def", "regression_signature_def", "is_valid_signature"]


class SignatureDef:
    """Inputs (alias -> TensorSpec), output computations and a method name."""

    def __init__(self, inputs, outputs, method_name):
        if not isinstance(inputs, dict) or not inputs:
            raise ValueError("signature inputs must be a non-empty dict alias -> TensorSpec")
        for k, v in inputs.items():
            if not isinstance(v, TensorSpec):
                raise TypeError(f"signature input {k!r} must be an ef.TensorSpec, got "
                                f"{type(v).__name__}")
        if not (callable(outputs) or (isinstance(outputs, dict) and outputs and
                                      all(callable(f) for f in outputs.values()))):
            raise TypeError("signature outputs must be a dict alias -> function of the inputs, "
                            "or one function returning such a dict")
        self.inputs, self.outputs, self.method_name = dict(inputs), outputs, method_name

    def _compute(self, **tensors):
        if callable(self.outputs):
            out = self.outputs(**tensors)
            if isinstance(out, Tensor):
                out = {sc.PREDICT_OUTPUTS: out}
            return out
        return {alias: _call(fn, tensors) for alias, fn in self.outputs.items()}

    def trace(self):
        """The traced concrete function; fails when an output does not depend on the inputs."""
        aliases = list(self.inputs)
        specs = [self.inputs[a] for a in aliases]

        def fn(*tensors):
            return self._compute(**dict(zip(aliases, tensors)))
        cf = _trace(fn, specs, aliases, None, self.method_name)
        for a, s in zip(aliases, specs):
            cf.tensor_names[a] = f"{s.name or a}:0"
        _check_outputs_depend_on_inputs(cf)
        return cf


def _call(fn, tensors):
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**tensors)
    return fn(**{k: v for k, v in tensors.items() if k in params})


def _check_outputs_depend_on_inputs(cf):
    graph = cf.graph
    reach = set(range(graph["num_placeholders"]))
    for node in graph["nodes"]:
        if any(r.get("t") in reach for r in node["inputs"] if "t" in r):
            reach.update(node["outputs"])
    for alias, ref in zip(graph["output_aliases"], graph["outputs"]):
        if ref.get("t") not in reach:
            raise TraceError(f"signature output {alias!r} is not computed from the signature's "
                             f"inputs {cf.input_names}")


def build_signature_def(inputs=None, outputs=None, method_name=None, defaults=None):
    """A signature from inputs, outputs and a method name (TF1 ``build_signature_def``)."""
    return SignatureDef(inputs, outputs, method_name or sc.PREDICT_METHOD_NAME)


def predict_signature_def(inputs, outputs):
    """A ``tensorflow/serving/predict`` signature."""
    return SignatureDef(inputs, outputs, sc.PREDICT_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """A ``tensorflow/serving/classify`` signature: serialized Examples in (``inputs``),
    ``classes`` and/or ``scores`` out (functions of ``inputs``)."""
    outs = {}
    if classes is not None:
        outs[sc.CLASSIFY_OUTPUT_CLASSES] = classes
    if scores is not None:
        outs[sc.CLASSIFY_OUTPUT_SCORES] = scores
    if not outs:
        raise ValueError("classification_signature_def: classes and scores cannot both be None")
    return SignatureDef({sc.CLASSIFY_INPUTS: _string_spec(examples)}, outs,
                        sc.CLASSIFY_METHOD_NAME)


def regression_signature_def(examples, predictions):
    """A ``tensorflow/serving/regress`` signature: serialized Examples in, ``outputs`` out."""
    return SignatureDef({sc.REGRESS_INPUTS: _string_spec(examples)},
                        {sc.REGRESS_OUTPUTS: predictions}, sc.REGRESS_METHOD_NAME)


def _string_spec(examples):
    if examples is None:
        raise ValueError("examples must be a string TensorSpec (serialized tf.Examples)")
    if not isinstance(examples, TensorSpec) or examples.dtype.kind != "O":
        raise TypeError("examples must be an ef.TensorSpec of dtype string")
    return examples


def is_valid_signature(signature_def):
    return isinstance(signature_def, SignatureDef) and signature_def.method_name in (
        sc.PREDICT_METHOD_NAME, sc.CLASSIFY_METHOD_NAME, sc.REGRESS_METHOD_NAME)


def build_tensor_info(spec):
    """The :class:`TensorInfo` of a TensorSpec (TF1 ``utils.build_tensor_info``)."""
    return TensorInfo(f"{spec.name or 'input'}:0", spec.dtype, spec.shape)


del np
