"""Wire compatibility with TensorFlow Serving's own client stubs.

``tensorflow-serving-api`` registers the same proto names as eagerflow's, so its client
runs in another interpreter: set ``EAGERFLOW_TF_SERVING_PYTHON`` to a Python with
``tensorflow-cpu`` and ``tensorflow-serving-api`` (installed with ``--no-deps``).
"""
import json
import os
import subprocess

import pytest

from eagerflow import saved_model
from eagerflow.serving import Loader

from .helpers import make_server, single

TF_PYTHON = os.environ.get("EAGERFLOW_TF_SERVING_PYTHON", "")


@pytest.mark.slow
@pytest.mark.skipif(not TF_PYTHON, reason="optional interop: set EAGERFLOW_TF_SERVING_PYTHON "
                    "to a Python with tensorflow-serving-api")
def test_tensorflow_serving_api_client(tmp_path):
    saved_model.write_half_plus_two(str(tmp_path / "123"))
    server = make_server(single("half_plus_two", tmp_path), loader=Loader()).start(10)
    try:
        script = os.path.join(os.path.dirname(__file__), "tf_serving_client.py")
        proc = subprocess.run([TF_PYTHON, script, str(server.grpc_port), "half_plus_two"],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["predict"] == [2.5, 3.0, 4.5] and out["predict_version"] == 123
    assert out["classify"] == [[["", 12.0]]]
    assert out["regress"] == [42.0]
    assert out["metadata"] == ["tensorflow/serving/predict", "x:0", "float32", [-1, 1]]
    assert out["status"] == [123, "AVAILABLE"]
    assert out["error"] == ["NOT_FOUND", "Servable not found for request: Latest(nope)"]
