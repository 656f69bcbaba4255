"""``python -m eagerflow.serving`` flags, config files and a real half_plus_two export."""
import socket
import subprocess
import sys
import threading
import time

import pytest

from eagerflow import saved_model
from eagerflow.serving.cli import build_parser, main

from .helpers import Rest, stubs


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_flags_match_tensorflow_model_server():
    args = build_parser().parse_args([])
    assert (args.port, args.rest_api_port, args.model_name, args.file_system_poll_wait_seconds,
            args.max_num_load_retries, args.load_retry_interval_micros) == \
        (8500, 0, "default", 1, 5, 60000000)


def test_main_serves_a_config_file(tmp_path):
    base = tmp_path / "hp2"
    saved_model.write_half_plus_two(str(base / "123"))
    cfg = tmp_path / "models.config"
    cfg.write_text(f'model_config_list {{ config {{ name: "half_plus_two" base_path: "{base}" '
                   'model_platform: "tensorflow" } }')
    port, rest_port = _free_port(), _free_port()
    seen = {}

    def ready(server, stop):
        try:
            c = Rest(server.rest_port)
            seen["rest"] = c.post("/v1/models/half_plus_two:predict",
                                  {"instances": [[1.0], [2.0], [5.0]]})
            c.close()
            channel, _, model = stubs(server.grpc_port)
            from eagerflow.serving.protos import apis_pb2
            seen["grpc"] = model.GetModelStatus(apis_pb2.GetModelStatusRequest(
                model_spec=apis_pb2.ModelSpec(name="half_plus_two")), timeout=10)
            channel.close()
        finally:
            stop.set()

    t = threading.Thread(target=main, args=([
        "--host", "127.0.0.1", "--port", str(port), "--rest_api_port", str(rest_port),
        "--model_config_file", str(cfg), "--file_system_poll_wait_seconds", "0",
        "--enable_batching", "--log_level", "WARNING"],), kwargs={"ready": ready})
    t.start()
    t.join(30)
    assert not t.is_alive()
    assert seen["rest"] == (200, {"predictions": [[2.5], [3.0], [4.5]]})
    assert seen["grpc"].model_version_status[0].version == 123


def test_monitoring_config_and_compat_flags(tmp_path):
    from eagerflow.serving.cli import server_from_args
    from eagerflow.serving.config import parse_monitoring_config
    assert parse_monitoring_config('prometheus_config { enable: true, path: "/m" }') == "/m"
    assert parse_monitoring_config("prometheus_config { enable: false }") is None
    saved_model.write_half_plus_two(str(tmp_path / "1"))
    mon = tmp_path / "monitoring.config"
    mon.write_text('prometheus_config { enable: true, path: "/metrics" }')
    args = build_parser().parse_args([
        "--host", "127.0.0.1", "--port", "0", "--rest_api_port", str(_free_port()),
        "--model_base_path", str(tmp_path), "--monitoring_config_file", str(mon),
        "--tensorflow_intra_op_parallelism", "2", "--enable_model_warmup", "true"])
    with server_from_args(args) as srv:
        c = Rest(srv.rest_port)
        st, text = c.get("/metrics")
        c.close()
    assert st == 200 and ":tensorflow:serving:request_count" in text


def test_bad_flags_exit():
    with pytest.raises(SystemExit):
        main(["--port", "0", "--rest_api_port", "0", "--model_base_path", "/x"])
    with pytest.raises(SystemExit):
        main(["--port", "8600"])  # neither --model_base_path nor --model_config_file


@pytest.mark.slow
def test_python_m_entry_point_logs_loads(tmp_path):
    base = tmp_path / "hp2"
    saved_model.write_half_plus_two(str(base / "1"))
    rest_port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "eagerflow.serving", "--host", "127.0.0.1",
                             "--port", "0", "--rest_api_port", str(rest_port),
                             "--model_name", "half_plus_two", "--model_base_path", str(base)],
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = Rest(rest_port)
                status = c.get("/v1/models/half_plus_two")
                c.close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert status[0] == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert '"event": "load_finished", "model": "half_plus_two", "version": 1' in err
    assert '"event": "unload_finished"' in err


def test_for_model_quickstart_flow(tmp_path):
    """What ``eagerflow quickstart`` does: export, serve on loopback, one predict, stop."""
    import json
    import urllib.request

    from eagerflow.serving import ModelServer
    saved_model.write_half_plus_two(str(tmp_path / "1"))
    with ModelServer.for_model("half_plus_two", tmp_path) as srv:
        assert srv.grpc_port is None and srv.rest_port
        req = urllib.request.Request(
            f"http://127.0.0.1:{srv.rest_port}/v1/models/half_plus_two:predict",
            data=json.dumps({"instances": [[1.0], [2.0], [5.0]]}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read()) == {"predictions": [[2.5], [3.0], [4.5]]}
