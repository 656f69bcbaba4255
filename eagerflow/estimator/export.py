"""``Estimator.export_saved_model`` and the serving input receivers.

A receiver describes the server's inputs (``receiver_tensors``: alias -> TensorSpec) and how
they become the ``features`` ``model_fn`` expects. The PREDICT-mode ``model_fn`` is traced
on those inputs (ops recorded, variables restored from the checkpoint), and the graph is
written to ``<export_dir_base>/<version>/``.
"""
import logging
import os
import time

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..data.structure import TensorSpec
from ..io import Example, Feature, Features, FloatList, Int64List, BytesList
from ..io.parsing_config import FixedLenFeature, VarLenFeature
from ..saved_model.function import ConcreteFunction, _trace
from ..saved_model.parsing import parse_example_op
from ..saved_model.save import write_export
from .model_fn import ModeKeys

__all__ = ["ServingInputReceiver", "TensorServingInputReceiver",
           "build_parsing_serving_input_receiver_fn", "build_raw_serving_input_receiver_fn",
           "ExportOutput", "PredictOutput", "ClassificationOutput", "RegressionOutput",
           "export_saved_model"]

log = logging.getLogger("eagerflow")

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


def _receiver_dict(tensors, what):
    if isinstance(tensors, TensorSpec):
        tensors = {"input": tensors}  # TF's SINGLE_RECEIVER_DEFAULT_NAME
    if not isinstance(tensors, dict) or not tensors:
        raise ValueError(f"{what} must be a non-empty dict alias -> TensorSpec")
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise ValueError(f"{what} keys must be strings: {k}.")
        if not isinstance(v, TensorSpec):
            raise TypeError(f"{what}[{k!r}] must be an ef.TensorSpec, got "
                            f"{type(v).__name__}")
    return dict(tensors)


class ServingInputReceiver:
    """What a serving input receiver fn returns
    (``tf.estimator.export.ServingInputReceiver``).

    Args:
        features: what ``model_fn`` gets: a callable mapping the receiver tensors (dict
            alias -> Tensor) to the features, since eagerflow builds them per request; or
            None (the receiver tensors themselves); or a dict whose values are receiver
            TensorSpecs (each replaced by its tensor); a single receiver TensorSpec becomes
            ``{"feature": tensor}``, as TF wraps a non-dict feature.
        receiver_tensors: dict alias -> :class:`~eagerflow.TensorSpec` of the server inputs
            (a single TensorSpec is aliased ``input``).
        receiver_tensors_alternatives: optional dict name -> (dict alias ->) TensorSpec:
            further input groups fed straight to ``model_fn`` as features (as TF feeds them
            downstream of the parsing); each adds the signatures ``"<name>:<key>"``.
        sample_inputs: optional ``fn(batch_size) -> dict alias -> array`` of valid inputs
            used while tracing (e.g. serialized Examples that parse).
    """

    def __init__(self, features, receiver_tensors, receiver_tensors_alternatives=None,
                 sample_inputs=None):
        self.features = features
        self.receiver_tensors = _receiver_dict(receiver_tensors, "receiver_tensors")
        if receiver_tensors_alternatives is not None:
            if not isinstance(receiver_tensors_alternatives, dict):
                raise ValueError(f"receiver_tensors_alternatives must be a dict: "
                                 f"{receiver_tensors_alternatives}.")
            receiver_tensors_alternatives = {
                name: _receiver_dict(alt, "receiver_tensors_alternative")
                for name, alt in receiver_tensors_alternatives.items()}
        self.receiver_tensors_alternatives = receiver_tensors_alternatives
        self.sample_inputs = sample_inputs

    def _substitute(self, value, tensors):
        for alias, spec in self.receiver_tensors.items():
            if value is spec:
                return tensors[alias]
        return value

    def build_features(self, tensors):
        if callable(self.features) and not isinstance(self.features, TensorSpec):
            return self.features(tensors)
        if self.features is None:
            return dict(tensors)
        if isinstance(self.features, dict):
            return {k: self._substitute(v, tensors) for k, v in self.features.items()}
        return {"feature": self._substitute(self.features, tensors)}


class TensorServingInputReceiver(ServingInputReceiver):
    """A receiver for a ``model_fn`` taking one feature Tensor rather than a dict
    (``tf.estimator.export.TensorServingInputReceiver``): ``features`` is a callable of the
    receiver tensors returning that Tensor, a receiver TensorSpec, or None (the single
    receiver tensor)."""

    def build_features(self, tensors):
        if callable(self.features) and not isinstance(self.features, TensorSpec):
            return self.features(tensors)
        if self.features is None:
            if len(tensors) != 1:
                raise ValueError("TensorServingInputReceiver without features needs exactly "
                                 f"one receiver tensor, got {sorted(tensors)}")
            return next(iter(tensors.values()))
        return self._substitute(self.features, tensors)


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
        # TF's _placeholder_from_tensor: shape [default_batch_size] + the tensor's shape[1:],
        # named after the given tensor (a TensorSpec's name), else after its key here
        if isinstance(v, TensorSpec):
            specs[k] = TensorSpec((default_batch_size,) + tuple(v.shape[1:]) if v.shape else
                                  [default_batch_size], v.dtype, name=v.name or k)
        else:
            a = v if isinstance(v, Tensor) or backend.is_array(v) else np.asarray(v)  # CuPy too
            specs[k] = TensorSpec((default_batch_size,) + tuple(a.shape[1:]), a.dtype, name=k)

    def fn():
        return ServingInputReceiver(None, specs)
    return fn


class ExportOutput:
    """One output of a model that can be served (``tf.estimator.export.ExportOutput``)."""

    _SEPARATOR_CHAR = "/"


def _is_float_tensor(t):
    return isinstance(t, Tensor) and t.dtype.kind == "f"


class ClassificationOutput(ExportOutput):
    """A classification head's output (``tf.estimator.export.ClassificationOutput``):
    ``scores`` (float, one per class) and/or ``classes`` (string labels); exported as a
    ``tensorflow/serving/classify`` signature taking serialized Examples.

    Raises:
        ValueError: as TF, when scores is not a float Tensor, classes not a string Tensor,
            or both are None.
    """

    def __init__(self, scores=None, classes=None):
        if scores is not None and not _is_float_tensor(scores):
            raise ValueError(f"Classification scores must be a float32 Tensor; got {scores}")
        if classes is not None and not (isinstance(classes, Tensor) and
                                        classes.dtype.kind in "OSU"):
            raise ValueError(f"Classification classes must be a string Tensor; got {classes}")
        if scores is None and classes is None:
            raise ValueError("At least one of scores and classes must be set.")
        self._scores, self._classes = scores, classes

    @property
    def scores(self):
        return self._scores

    @property
    def classes(self):
        return self._classes


class RegressionOutput(ExportOutput):
    """A regression head's output (``tf.estimator.export.RegressionOutput``); exported as a
    ``tensorflow/serving/regress`` signature taking serialized Examples."""

    def __init__(self, value):
        if not _is_float_tensor(value):
            raise ValueError(f"Regression output value must be a float32 Tensor; got {value}")
        self._value = value

    @property
    def value(self):
        return self._value


class PredictOutput(ExportOutput):
    """A generic prediction output (``tf.estimator.export.PredictOutput``): a Tensor (alias
    ``output``) or a dict alias -> Tensor; exported as a ``tensorflow/serving/predict``
    signature taking the receiver's inputs."""

    _SINGLE_OUTPUT_DEFAULT_NAME = "output"

    def __init__(self, outputs):
        if not isinstance(outputs, dict):
            outputs = {self._SINGLE_OUTPUT_DEFAULT_NAME: outputs}
        checked = {}
        for key, value in outputs.items():
            if isinstance(key, tuple):  # multi-head models
                key = self._SEPARATOR_CHAR.join(key)
            if not isinstance(key, str):
                raise ValueError(f"Prediction output key must be a string; got {key}.")
            if not isinstance(value, Tensor):
                raise ValueError(f"Prediction output value must be a Tensor; got {value}.")
            checked[key] = value
        self._outputs = checked

    @property
    def outputs(self):
        return self._outputs


class _HeadExportOutputs(dict):
    """``export_outputs`` made by a canned head (TF's keys and outputs). Under a receiver that
    does not take one string tensor TF leaves serving_default (classify/regress) out and keeps
    only ``predict``; eagerflow then serves ``predict`` as the default too."""


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
    store = _EstimatorStore(ckpt)

    def trace(receiver_tensors, build_features, sample_inputs):
        aliases = list(receiver_tensors)
        specs = [receiver_tensors[a] for a in aliases]
        holder = {}

        def predict_fn(*tensors):
            with store.as_default():
                features = build_features(dict(zip(aliases, tensors)))
                spec = estimator._call(features, None, ModeKeys.PREDICT)
            preds = spec.predictions
            if isinstance(preds, Tensor):
                preds = {"output": preds}
            holder["export_outputs"] = spec.export_outputs
            out = {k: v for k, v in preds.items() if isinstance(v, Tensor)}
            for key, eo in (spec.export_outputs or {}).items():
                for name, t in _export_output_tensors(key, eo)[1].items():
                    out[f"{_EO}{key}/{name}"] = t
            return out

        sample = None
        if sample_inputs is not None:
            sample = lambda b: [sample_inputs(b)[a] for a in aliases]  # noqa: E731
        cf = _trace(predict_fn, specs, aliases, sample, PREDICT)
        for a, s in zip(aliases, specs):
            cf.tensor_names[a] = f"{s.name or a}:0"
        return cf, holder.get("export_outputs")

    cf, export_outputs = trace(receiver.receiver_tensors, receiver.build_features,
                               receiver.sample_inputs)
    if export_outputs:
        # canned heads set TF's export_outputs: serving_default = classification (or
        # regression), classification, regression (binary: the logistic), predict
        concretes = _export_output_signatures(cf, export_outputs, receiver.receiver_tensors,
                                              main=True)
    else:
        # TF's export_utils.get_export_outputs: no export_outputs -> one serving_default
        # PredictOutput of the predictions (a single Tensor under the key "output")
        concretes = {"serving_default": cf}
    for name, alt in (receiver.receiver_tensors_alternatives or {}).items():
        # TF's build_all_signature_defs: every export output again on each alternative
        # group of inputs, as "<alternative>:<key>" (the group is fed as the features)
        alt_cf, alt_outputs = trace(alt, dict, None)
        sigs = _export_output_signatures(alt_cf, alt_outputs, alt) if alt_outputs else \
            {"serving_default": alt_cf}
        concretes.update({f"{name}:{key}": sig for key, sig in sigs.items()})
    path = _new_version_dir(export_dir_base)
    write_export(path, concretes, assets_extra=assets_extra)
    log.info("SavedModel written to: %s", path)
    return path.encode()


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
    with TF's output keys (``output`` or the dict's keys; ``classes``, ``scores``;
    ``outputs``)."""
    if isinstance(eo, PredictOutput):
        outs, method = dict(eo.outputs), PREDICT
    elif isinstance(eo, ClassificationOutput):
        # classification_signature_def's order: classes, then scores
        outs = {k: v for k, v in (("classes", eo.classes), ("scores", eo.scores))
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


def _export_output_signatures(cf, export_outputs, receiver_tensors, main=False):
    """One signature per ``export_outputs`` entry, as TF's ``build_all_signature_defs``:
    a single entry is also ``serving_default``; classify/regress need one string input
    (otherwise that signature is left out, logged, as TF does)."""
    if len(export_outputs) > 1 and "serving_default" not in export_outputs:
        raise ValueError("Multiple export_outputs were provided, but none of them is "
                         "specified as the default. Do this by naming one of them with "
                         "'serving_default'.")
    aliases = list(receiver_tensors)
    one_string = len(aliases) == 1 and receiver_tensors[aliases[0]].dtype.kind == "O"
    out, excluded = {}, {}
    for key, eo in export_outputs.items():
        method, outs = _export_output_tensors(key, eo)
        mapping = {name: f"{_EO}{key}/{name}" for name in outs}
        if method != PREDICT and not one_string:
            what = "Classification" if method == CLASSIFY else "Regression"
            excluded[key] = f"{what} input must be a single string Tensor; got {aliases}"
            continue
        out[key] = _view(cf, mapping, method, keep_inputs=method == PREDICT)
    if len(export_outputs) == 1 and "serving_default" not in out and out:
        out["serving_default"] = next(iter(out.values()))
    if excluded:
        log.info("Signatures EXCLUDED from export because they cannot be be served via "
                 "TensorFlow Serving APIs: %s", excluded)
    if main and "serving_default" not in out and "predict" in out and \
            isinstance(export_outputs, _HeadExportOutputs):
        # a canned head under a raw (non-Example) receiver: TF exports no default
        # signature; the predict one serves as the default here
        out["serving_default"] = out["predict"]
    if main and "serving_default" not in out:
        log.warning("Export includes no default signature!")
    return out
