"""Start servers on 127.0.0.1 ephemeral ports and talk to them (REST via http.client)."""
import http.client
import json

import grpc

from eagerflow.serving import ModelConfig, ModelServer, ServerCore
from eagerflow.serving.protos import apis_pb2_grpc

from .fake_model import fake_loader


def make_server(configs, loader=None, poll=0.05, **core_kw):
    max_body = core_kw.pop("max_body_bytes", 1 << 20)
    core_kw.setdefault("max_num_load_retries", 0)
    core = ServerCore(configs, loader=loader or fake_loader(),
                      file_system_poll_wait_seconds=poll, **core_kw)
    return ModelServer(core, grpc_port=0, rest_port=0, host="127.0.0.1",
                       max_body_bytes=max_body)


def single(name, base_path, **kw):
    return [ModelConfig(name, str(base_path), **kw)]


class Rest:
    """A keep-alive HTTP/1.1 client for one server."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, raw=None, headers=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        try:
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
        payload = resp.read()
        if resp.getheader("connection", "").lower() == "close":
            self.conn.close()
        ctype = resp.getheader("content-type", "")
        if "json" in ctype:
            return resp.status, json.loads(payload)
        return resp.status, payload.decode("utf-8", "replace")

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def get(self, path):
        return self.request("GET", path)

    def close(self):
        self.conn.close()


def stubs(port):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return (channel, apis_pb2_grpc.PredictionServiceStub(channel),
            apis_pb2_grpc.ModelServiceStub(channel))
