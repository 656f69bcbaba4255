"""A client written for TensorFlow Serving (``tensorflow-serving-api`` stubs, TensorFlow's
``make_tensor_proto``), run by test_interop.py in a separate virtual environment.

Usage: python tf_serving_client.py GRPC_PORT MODEL_NAME   (prints one JSON line)
"""
import json
import sys

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc,
                                     regression_pb2)


def example(x):
    return tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[x]))}))


def main(port, name):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    pred = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    out = {}
    req = predict_pb2.PredictRequest()
    req.model_spec.name = name
    req.model_spec.signature_name = "serving_default"
    req.inputs["x"].CopyFrom(tf.make_tensor_proto([[1.0], [2.0], [5.0]], dtype=tf.float32))
    resp = pred.Predict(req, timeout=10)
    out["predict"] = tf.make_ndarray(resp.outputs["y"]).ravel().tolist()
    out["predict_version"] = resp.model_spec.version.value
    c = classification_pb2.ClassificationRequest()
    c.model_spec.name = name
    c.model_spec.signature_name = "classify_x_to_y"
    c.input.example_list.examples.extend([example(20.0)])
    out["classify"] = [[(k.label, k.score) for k in cl.classes]
                       for cl in pred.Classify(c, timeout=10).result.classifications]
    r = regression_pb2.RegressionRequest()
    r.model_spec.name = name
    r.model_spec.signature_name = "regress_x_to_y"
    r.input.example_list.examples.extend([example(80.0)])
    out["regress"] = [g.value for g in pred.Regress(r, timeout=10).result.regressions]
    m = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    m.model_spec.name = name
    sdm = get_model_metadata_pb2.SignatureDefMap()
    pred.GetModelMetadata(m, timeout=10).metadata["signature_def"].Unpack(sdm)
    sd = sdm.signature_def["serving_default"]
    out["metadata"] = [sd.method_name, sd.inputs["x"].name,
                       tf.dtypes.as_dtype(sd.inputs["x"].dtype).name,
                       [d.size for d in sd.inputs["x"].tensor_shape.dim]]
    s = get_model_status_pb2.GetModelStatusRequest()
    s.model_spec.name = name
    st = models.GetModelStatus(s, timeout=10).model_version_status[0]
    out["status"] = [st.version, get_model_status_pb2.ModelVersionStatus.State.Name(st.state)]
    bad = predict_pb2.PredictRequest()
    bad.model_spec.name = "nope"
    try:
        pred.Predict(bad, timeout=10)
    except grpc.RpcError as e:
        out["error"] = [e.code().name, e.details()]
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
