"""SignatureDef / model status as TF Serving's proto3 JSON (REST) and protos (gRPC).

Example:
    >>> from types import SimpleNamespace as NS
    >>> info = NS(name="x:0", dtype=np.dtype(np.float32), shape=(None, 1))
    >>> tensor_info_json(info)["tensor_shape"]["dim"][0]
    {'size': '-1', 'name': ''}
"""
import numpy as np

from .tensor_codec import dtype_enum, dtype_name

__all__ = ["tensor_info_json", "signature_def_json", "metadata_json", "status_json",
           "signature_def_map_proto"]


def _dims(shape):
    return [-1 if d is None or d < 0 else int(d) for d in shape]


def tensor_info_json(info):
    shape = info.shape
    if shape is None:
        ts = {"dim": [], "unknown_rank": True}
    else:
        ts = {"dim": [{"size": str(d), "name": ""} for d in _dims(shape)],
              "unknown_rank": False}
    return {"dtype": dtype_name(np.dtype(info.dtype)), "tensor_shape": ts,
            "name": info.name}


def signature_def_json(sig):
    return {"inputs": {k: tensor_info_json(v) for k, v in sig.inputs.items()},
            "outputs": {k: tensor_info_json(v) for k, v in sig.outputs.items()},
            "method_name": sig.method_name}


def metadata_json(name, version, signatures):
    """The REST ``GET .../metadata`` body."""
    return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {"signature_def": {"signature_def": {
                k: signature_def_json(s) for k, s in signatures.items()}}}}


def status_json(rows):
    """The REST ``GET /v1/models/...`` body of :meth:`ServerCore.status` rows."""
    from .errors import CODE_NAMES
    return {"model_version_status": [
        {"version": str(v), "state": state,
         "status": {"error_code": CODE_NAMES.get(code, "UNKNOWN"), "error_message": msg}}
        for v, state, code, msg in rows]}


def _fill_tensor_info(proto, info):
    proto.name = info.name
    proto.dtype = dtype_enum(np.dtype(info.dtype))
    if info.shape is None:
        proto.tensor_shape.unknown_rank = True
    else:
        for d in _dims(info.shape):
            proto.tensor_shape.dim.add().size = d


def signature_def_map_proto(signatures):
    """A ``tensorflow.serving.SignatureDefMap`` of ``{key: signature}``."""
    from .protos import apis_pb2
    out = apis_pb2.SignatureDefMap()
    for k, s in signatures.items():
        sd = out.signature_def[k]
        sd.method_name = s.method_name
        for a, info in s.inputs.items():
            _fill_tensor_info(sd.inputs[a], info)
        for a, info in s.outputs.items():
            _fill_tensor_info(sd.outputs[a], info)
    return out
