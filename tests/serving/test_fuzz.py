"""Hypothesis fuzzing of REST bodies: never a 5xx, always a JSON body."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fake_model import write_fake
from .helpers import Rest, make_server, single

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                     st.fixed_dictionaries({"b64": st.text(max_size=8)}))
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["x", "u", "v", "s", "b64", "instances", "inputs",
                                     "examples", "context"]), inner, max_size=3)),
    max_leaves=12)
_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "signature_name": st.one_of(st.sampled_from(["", "serving_default", "multi", "echo",
                                                     "regress_x_to_y", "classify_x_to_y",
                                                     "regress_x2_to_y3", "nope"]), _json),
        "instances": _json, "inputs": _json, "examples": _json, "context": _json}).map(
        lambda d: json.dumps(d).encode()),
    st.binary(max_size=40))
_paths = st.sampled_from(["/v1/models/m:predict", "/v1/models/m:classify",
                          "/v1/models/m:regress", "/v1/models/m/versions/1:predict",
                          "/v1/models/m/labels/x:regress"])


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    write_fake(str(base / "1"))
    server = make_server(single("m", base)).start(10)
    client = Rest(server.rest_port)
    yield client
    client.close()
    server.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=_paths, body=_bodies)
def test_rest_fuzz_never_5xx(fuzz_server, path, body):
    status, payload = fuzz_server.post(path, raw=body)
    assert status < 500, (path, body, payload)
    assert isinstance(payload, dict)
    if status != 200:
        assert set(payload) == {"error"} and "Traceback" not in payload["error"]
