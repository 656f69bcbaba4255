"""``Estimator.export_saved_model`` and the serving input receivers.

A receiver describes the server's inputs (``receiver_tensors``: alias -> TensorSpec) and how
they become the ``features`` ``model_fn`` expects. The PREDICT-mode ``model_fn`` is traced
on those inputs (ops recorded, variables restored from the checkpoint), and the graph is
written to ``<export_dir_base>/<version>/``.
"""
import collections
import logging
import os
import time

import numpy as np

from ..autograd.tensor import Tensor
from ..data.structure import TensorSpec
from ..io import Example, Feature, Features, FloatList, Int64List, BytesList
from ..io.parsing_config import FixedLenFeature, VarLenFeature
from ..saved_model.function import ConcreteFunction, _trace
from ..saved_model.parsing import parse_example_op
from ..saved_model.save import write_export
from .model_fn import ModeKeys

__all__ = ["ServingInputReceiver", "build_parsing_serving_input_receiver_fn",
           "build_raw_serving_input_receiver_fn", "PredictOutput", "ClassificationOutput",
           "RegressionOutput", "export_saved_model"]

log = logging.getLogger("eagerflow")

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


class ServingInputReceiver:
    """What a serving input receiver fn returns.

    Args:
        features: dict of feature Tensors (or a callable mapping the receiver tensors to
            them, since eagerflow builds them per request).
        receiver_tensors: dict alias -> :class:`~eagerflow.TensorSpec` of the server inputs.
        sample_inputs: optional ``fn(batch_size) -> dict alias -> array`` of valid inputs
            used while tracing (e.g. serialized Examples that parse).
    """

    def __init__(self, features, receiver_tensors, receiver_tensors_alternatives=None,
                 sample_inputs=None):
        if isinstance(receiver_tensors, TensorSpec):
            receiver_tensors = {"input": receiver_tensors}
        if not isinstance(receiver_tensors, dict) or not receiver_tensors:
            raise ValueError("receiver_tensors must be a non-empty dict alias -> TensorSpec")
        for k, v in receiver_tensors.items():
            if not isinstance(v, TensorSpec):
                raise TypeError(f"receiver_tensors[{k!r}] must be an ef.TensorSpec, got "
                                f"{type(v).__name__}")
        self.features = features
        self.receiver_tensors = dict(receiver_tensors)
        self.sample_inputs = sample_inputs

    def build_features(self, tensors):
        if callable(self.features):
            return self.features(tensors)
        return dict(tensors) if self.features is None else self.features


def _sample_example(spec):
    feats = {}
    for key, f in spec.items():
        dtype = np.dtype(object) if f.dtype in (str, bytes, "string") else np.dtype(f.dtype)
        shape = getattr(f, "shape", [1]) or []
        n = int(np.prod(shape)) if isinstance(f, FixedLenFeature) else 1
        if dtype.kind == "O":
            feats[key] = Feature(bytes_list=BytesList(value=[b"a"] * n))
        elif dtype.kind == "f":
            feats[key] = Feature(float_list=FloatList(value=[1.0] * n))
        else:
            feats[key] = Feature(int64_list=Int64List(value=[1] * n))
    return Example(features=Features(feature=feats)).SerializeToString()


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None):
    """A receiver taking serialized ``tf.Example`` strings under the alias ``examples``
    (``tf.estimator.export.build_parsing_serving_input_receiver_fn``)."""
    spec = dict(feature_spec)
    for k, f in spec.items():
        if not isinstance(f, (FixedLenFeature, VarLenFeature)):
            raise ValueError(f"feature_spec[{k!r}] must be a FixedLenFeature or VarLenFeature")

    def fn():
        sample = _sample_example(spec)
        return ServingInputReceiver(
            lambda t: parse_example_op(t["examples"], spec),
            {"examples": TensorSpec([default_batch_size], object, name="input_example_tensor")},
            sample_inputs=lambda b: {"examples": np.array([sample] * b, dtype=object)})
    return fn


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A receiver taking the features themselves (``build_raw_serving_input_receiver_fn``).

    Args:
        features: dict name -> TensorSpec, Tensor or array (its dtype and trailing shape).
    """
    specs = {}
    for k, v in features.items():
        if isinstance(v, TensorSpec):
            specs[k] = TensorSpec((default_batch_size,) + tuple(v.shape[1:]) if v.shape else
                                  [default_batch_size], v.dtype, name=k)
        else:
            a = v if isinstance(v, Tensor) else np.asarray(v)
            specs[k] = TensorSpec((default_batch_size,) + tuple(a.shape[1:]), a.dtype, name=k)

    def fn():
        return ServingInputReceiver(None, specs)
    return fn


PredictOutput = collections.namedtuple("PredictOutput", ["outputs"])
ClassificationOutput = collections.namedtuple("ClassificationOutput", ["scores", "classes"])
ClassificationOutput.__new__.__defaults__ = (None, None)
RegressionOutput = collections.namedtuple("RegressionOutput", ["value"])


def _new_version_dir(export_dir_base):
    for _ in range(10):
        path = os.path.join(os.fspath(export_dir_base), str(int(time.time())))
        if not os.path.exists(path):
            return path
        time.sleep(1)
    raise RuntimeError(f"Failed to obtain a unique export directory name after 10 attempts "
                       f"under {export_dir_base}")


def export_saved_model(estimator, export_dir_base, serving_input_receiver_fn,
                       assets_extra=None, as_text=False, checkpoint_path=None):
    """Implementation of :meth:`Estimator.export_saved_model`; returns the export path (bytes)."""
    from .estimator import _EstimatorStore
    ckpt = checkpoint_path or estimator.latest_checkpoint()
    if ckpt is None:
        raise ValueError(f"Couldn't find trained model at {estimator.model_dir}.")
    receiver = serving_input_receiver_fn()
    if not isinstance(receiver, ServingInputReceiver):
        raise TypeError("serving_input_receiver_fn must return a ServingInputReceiver")
    aliases = list(receiver.receiver_tensors)
    specs = [receiver.receiver_tensors[a] for a in aliases]
    store = _EstimatorStore(ckpt)
    outputs_kind = {}

    def predict_fn(*tensors):
        with store.as_default():
            features = receiver.build_features(dict(zip(aliases, tensors)))
            spec = estimator._call(features, None, ModeKeys.PREDICT)
        preds = spec.predictions
        if isinstance(preds, Tensor):
            preds = {"output": preds}
        outputs_kind["export_outputs"] = spec.export_outputs
        out = {k: v for k, v in preds.items() if isinstance(v, Tensor)}
        for key, eo in (spec.export_outputs or {}).items():
            for name, t in _export_output_tensors(key, eo)[1].items():
                out[f"{_EO}{key}/{name}"] = t
        return out

    sample = None
    if receiver.sample_inputs is not None:
        sample = lambda b: [receiver.sample_inputs(b)[a] for a in aliases]  # noqa: E731
    cf = _trace(predict_fn, specs, aliases, sample, PREDICT)
    for a, s in zip(aliases, specs):
        cf.tensor_names[a] = f"{s.name or a}:0"
    export_outputs = outputs_kind.get("export_outputs")
    if export_outputs:
        concretes = _export_output_signatures(cf, export_outputs, receiver, aliases)
    else:
        # TF's canned heads make classify (regress) the default signature when the receiver
        # takes serialized Examples, so `:classify` with no signature_name works as on TF
        # Serving. TF drops serving_default for other receivers; keeping predict there lets
        # such a model be served without naming a signature.
        concretes = {"predict": cf}
        concretes.update(_head_signatures(cf, receiver, aliases))
        concretes["serving_default"] = concretes.get(
            "classification", concretes.get("regression", cf))
    path = _new_version_dir(export_dir_base)
    write_export(path, concretes, assets_extra=assets_extra)
    log.info("SavedModel written to: %s", path)
    return path.encode()


def _head_signatures(cf, receiver, aliases):
    """``classification`` / ``regression`` signatures for canned heads with a parsing receiver
    (one string input), as TF's canned estimators export them."""
    if len(aliases) != 1 or receiver.receiver_tensors[aliases[0]].dtype.kind != "O":
        return {}
    outs = cf.output_aliases
    out = {}
    if "probabilities" in outs and "classes" in outs:
        c = _view(cf, {"scores": "probabilities", "classes": "all_classes"}, CLASSIFY)
        out["classification"] = c
    elif "predictions" in outs:
        out["regression"] = _view(cf, {"outputs": "predictions"}, REGRESS)
    return out


def _view(cf, mapping, method, keep_inputs=False):
    """The same graph under other output aliases and method name; the one string input is
    renamed ``inputs`` (classify/regress) unless ``keep_inputs``."""
    graph = dict(cf.graph)
    names = list(graph["output_aliases"])
    graph["output_aliases"] = list(mapping)
    graph["outputs"] = [cf.graph["outputs"][names.index(src)] for src in mapping.values()]
    view = ConcreteFunction(graph, cf.consts, cf.variables, cf.input_specs,
                            list(cf.input_names) if keep_inputs else ["inputs"],
                            {k: cf.output_aliases[v] for k, v in mapping.items()}, method)
    if keep_inputs:
        view.tensor_names = dict(cf.tensor_names)
    else:
        view.tensor_names = {"inputs": cf.tensor_names.get(cf.input_names[0],
                                                           f"{cf.input_names[0]}:0")}
    return view


_EO = "__export_output__/"  # alias prefix of export_outputs' tensors inside the traced graph


def _export_output_tensors(key, eo):
    """``(method, {output alias: Tensor})`` of one ``EstimatorSpec.export_outputs`` entry,
    with TF's output keys (``outputs``/``output``; ``scores``, ``classes``; ``outputs``)."""
    if isinstance(eo, PredictOutput):
        outs = {"output": eo.outputs} if isinstance(eo.outputs, Tensor) else dict(eo.outputs)
        method = PREDICT
    elif isinstance(eo, ClassificationOutput):
        if eo.scores is None and eo.classes is None:
            raise ValueError(f"export_outputs[{key!r}]: classes and scores cannot both be "
                             "None")
        outs = {k: v for k, v in (("scores", eo.scores), ("classes", eo.classes))
                if v is not None}
        method = CLASSIFY
    elif isinstance(eo, RegressionOutput):
        outs, method = {"outputs": eo.value}, REGRESS
    else:
        raise TypeError(f"export_outputs[{key!r}] must be a PredictOutput, "
                        f"ClassificationOutput or RegressionOutput, got {type(eo).__name__}")
    for name, t in outs.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"export_outputs[{key!r}][{name!r}] must be a Tensor, got "
                            f"{type(t).__name__}")
    return method, outs


def _export_output_signatures(cf, export_outputs, receiver, aliases):
    """One signature per ``export_outputs`` entry, as TF's ``build_all_signature_defs``:
    a single entry is also ``serving_default``; classify/regress need one string input
    (otherwise that signature is left out with a warning, as TF does)."""
    if len(export_outputs) > 1 and "serving_default" not in export_outputs:
        raise ValueError("Multiple export_outputs were provided, but none of them is "
                         "specified as the default. Do this by naming one of them with "
                         "'serving_default'.")
    one_string = len(aliases) == 1 and receiver.receiver_tensors[aliases[0]].dtype.kind == "O"
    out = {}
    for key, eo in export_outputs.items():
        method, outs = _export_output_tensors(key, eo)
        mapping = {name: f"{_EO}{key}/{name}" for name in outs}
        if method != PREDICT and not one_string:
            log.warning("export_outputs[%r]: %s needs a single string input; signature "
                        "left out", key, method)
            continue
        out[key] = _view(cf, mapping, method, keep_inputs=method == PREDICT)
    if len(export_outputs) == 1 and "serving_default" not in out and out:
        out["serving_default"] = next(iter(out.values()))
    return out
