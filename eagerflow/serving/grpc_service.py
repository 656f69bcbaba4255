"""gRPC ``tensorflow.serving.PredictionService`` and ``ModelService`` on grpcio.

Wire-compatible with TF Serving (same service paths, messages and field numbers), so a
client built on ``tensorflow-serving-api`` stubs works unchanged.

Example:
    >>> server = grpc.server(concurrent.futures.ThreadPoolExecutor(8))  # doctest: +SKIP
    >>> add_services(server, core)  # doctest: +SKIP
"""
import time

import grpc
import numpy as np

from .config import configs_from_proto
from .core import CLASSIFY
from .errors import ServingError
from .protos import apis_pb2, apis_pb2_grpc
from .signature_json import signature_def_map_proto
from .tensor_codec import make_ndarray, make_tensor_proto

__all__ = ["PredictionServicer", "ModelServicer", "add_services"]


def _spec(ms):
    """``(name, version, label, signature_name)`` of a ``ModelSpec``."""
    which = ms.WhichOneof("version_choice")
    version = ms.version.value if which == "version" else None
    label = ms.version_label if which == "version_label" else None
    return ms.name, version, label, ms.signature_name


def _set_spec(out, name, version, signature_name):
    out.name = name
    out.version.value = version
    out.signature_name = signature_name


def _examples(inp):
    """(n,) object array of serialized Examples of an ``Input`` (context merged in)."""
    kind = inp.WhichOneof("kind")
    if kind == "example_list":
        exs, prefix = inp.example_list.examples, b""
    elif kind == "example_list_with_context":
        exs = inp.example_list_with_context.examples
        prefix = inp.example_list_with_context.context.SerializeToString()
    else:
        raise ServingError.invalid_argument("Input is empty.")
    if not len(exs):
        raise ServingError.invalid_argument("Input is empty.")
    out = np.empty(len(exs), dtype=object)
    out[:] = [prefix + e.SerializeToString() for e in exs]
    return out


class _Base:
    def __init__(self, core):
        self.core = core

    def _handle(self, api, request, context, fn):
        t0 = time.perf_counter()
        has_spec = "model_spec" in request.DESCRIPTOR.fields_by_name
        name = request.model_spec.name if has_spec else ""
        status = "OK"
        try:
            return fn()
        except ServingError as e:
            status = e.code_name
            context.abort(getattr(grpc.StatusCode, e.code_name), e.message)
        except grpc.RpcError:
            raise
        except Exception as e:  # a server bug: report INTERNAL, never crash the worker
            status = "INTERNAL"
            context.abort(grpc.StatusCode.INTERNAL, f"Internal error: {type(e).__name__}")
        finally:
            if name and not self.core.is_served(name):
                name = ""
            self.core.metrics.observe_request(name, api, "GRPC", status,
                                              (time.perf_counter() - t0) * 1e6)


class PredictionServicer(_Base, apis_pb2_grpc.PredictionServiceServicer):
    """``tensorflow.serving.PredictionService`` over a ServerCore."""

    def Predict(self, request, context):
        def go():
            name, version, label, sig_name = _spec(request.model_spec)
            inputs = {k: make_ndarray(v) for k, v in request.inputs.items()}
            out, v, key = self.core.predict(name, version, label, sig_name, inputs,
                                            output_filter=list(request.output_filter),
                                            check_dtypes=True)
            resp = apis_pb2.PredictResponse()
            _set_spec(resp.model_spec, name, v, key)
            for k, arr in out.items():
                make_tensor_proto(arr, out=resp.outputs[k])
            return resp
        return self._handle("predict", request, context, go)

    def Classify(self, request, context):
        def go():
            name, version, label, sig_name = _spec(request.model_spec)
            res, v, key = self.core.classify(name, version, label, sig_name,
                                             _examples(request.input))
            resp = apis_pb2.ClassificationResponse()
            _set_spec(resp.model_spec, name, v, key)
            for row in res:
                c = resp.result.classifications.add()
                for lab, score in row:
                    c.classes.add(label=lab, score=float(score))
            return resp
        return self._handle("classify", request, context, go)

    def Regress(self, request, context):
        def go():
            name, version, label, sig_name = _spec(request.model_spec)
            y, v, key = self.core.regress(name, version, label, sig_name,
                                          _examples(request.input))
            resp = apis_pb2.RegressionResponse()
            _set_spec(resp.model_spec, name, v, key)
            for value in y.tolist():
                resp.result.regressions.add(value=value)
            return resp
        return self._handle("regress", request, context, go)

    def MultiInference(self, request, context):
        def go():
            tasks = [(*_spec(t.model_spec), t.method_name) for t in request.tasks]
            v, results = self.core.multi_inference(tasks, _examples(request.input))
            resp = apis_pb2.MultiInferenceResponse()
            for task, (key, method, res) in zip(request.tasks, results):
                out = resp.results.add()
                _set_spec(out.model_spec, task.model_spec.name, v, key)
                if method == CLASSIFY:
                    for row in res:
                        c = out.classification_result.classifications.add()
                        for lab, score in row:
                            c.classes.add(label=lab, score=float(score))
                else:
                    for value in res.tolist():
                        out.regression_result.regressions.add(value=value)
            return resp
        return self._handle("multi_inference", request, context, go)

    def GetModelMetadata(self, request, context):
        def go():
            name, version, label, _ = _spec(request.model_spec)
            if not name:
                raise ServingError.invalid_argument("Missing ModelSpec")
            fields = list(request.metadata_field)
            if not fields:
                raise ServingError.invalid_argument(
                    "GetModelMetadataRequest must specify at least one metadata_field")
            for f in fields:
                if f != "signature_def":
                    raise ServingError.invalid_argument(f"Metadata field {f} is not supported")
            v, sigs = self.core.metadata(name, version, label)
            resp = apis_pb2.GetModelMetadataResponse()
            resp.model_spec.name = name
            resp.model_spec.version.value = v
            resp.metadata["signature_def"].Pack(signature_def_map_proto(sigs))
            return resp
        return self._handle("metadata", request, context, go)


class ModelServicer(_Base, apis_pb2_grpc.ModelServiceServicer):
    """``tensorflow.serving.ModelService``: GetModelStatus and HandleReloadConfigRequest."""

    def GetModelStatus(self, request, context):
        def go():
            name, version, label, _ = _spec(request.model_spec)
            resp = apis_pb2.GetModelStatusResponse()
            for v, state, code, msg in self.core.status(name, version, label):
                s = resp.model_version_status.add(version=v)
                s.state = apis_pb2.ModelVersionStatus.State.Value(state)
                s.status.error_code = code
                s.status.error_message = msg
            return resp
        return self._handle("status", request, context, go)

    def HandleReloadConfigRequest(self, request, context):
        def go():
            try:
                configs = configs_from_proto(request.config)
            except ValueError as e:
                raise ServingError.invalid_argument(str(e)) from None
            self.core.reload_config(configs)
            return apis_pb2.ReloadConfigResponse()
        return self._handle("reload_config", request, context, go)


def add_services(server, core):
    """Register both services of ``core`` on a ``grpc.Server``."""
    apis_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(core), server)
    apis_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(core), server)
