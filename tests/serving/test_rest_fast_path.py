"""The raw-ASGI fast path for ``POST ...:predict|classify|regress`` answers exactly as the
Starlette path does (status, headers, body bytes), errors included."""
import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eagerflow.serving import ServerCore
from eagerflow.serving.rest import create_app

from .fake_model import fake_loader, write_fake
from .helpers import Rest, make_server, single

P = "/v1/models/half_plus_two"

REQUESTS = [
    ("POST", P + ":predict", b'{"instances": [1.0, 2.0, 5.0]}'),
    ("POST", P + ":predict", b'{"instances": [[1.0]]}'),
    ("POST", P + ":predict", b'{"inputs": [3.0, 4.0]}'),
    ("POST", P + "/versions/123:predict", b'{"instances": [[1.0]]}'),
    ("POST", P + "/versions/7:predict", b'{"instances": [[1.0]]}'),
    ("POST", P + "/versions/99999999999999999999:predict", b'{"instances": [1.0]}'),
    ("POST", P + "/labels/nope:predict", b'{"instances": [1.0]}'),
    ("POST", "/V1/Models/half_plus_two:PREDICT", b'{"instances": [1.0]}'),
    ("POST", "/v1/models/unknown:predict", b'{"instances": [1.0]}'),
    ("POST", P + ":predict", b'{"instances": [NaN, Infinity, -Infinity, 0.2]}'),
    ("POST", P + ":predict", b'{"signature_name": "multi", "instances": '
                             b'[{"u": [1, 2], "v": [3, 4]}, {"u": [5, 6], "v": [7, 8]}]}'),
    ("POST", P + ":predict", b'{"signature_name": "echo", "instances": '
                             b'[{"b64": "AP9iaW4="}, "text", "\xc3\xa9"]}'),
    ("POST", P + ":predict", b'{"signature_name": "nope", "instances": [1.0]}'),
    ("POST", P + ":predict", b'{"signature_name": 3, "instances": [1.0]}'),
    ("POST", P + ":predict", b'{"instances": [[1.0], [1.0, 2.0]]}'),
    ("POST", P + ":predict", b'{"instances": ["a"]}'),
    ("POST", P + ":predict", b'{"instances": [1.0], "inputs": [1.0]}'),
    ("POST", P + ":predict", b'{}'),
    ("POST", P + ":predict", b'[1, 2]'),
    ("POST", P + ":predict", b'{"instances": [1.0'),
    ("POST", P + ":predict", b''),
    ("POST", P + ":predict", b'\xff\xfe'),
    ("POST", P + ":predict", b'{"instances": "' + b"x" * 5000 + b'"}'),  # over the limit
    ("POST", P + ":regress", b'{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}'),
    ("POST", P + ":classify", b'{"signature_name": "classify_x_to_y", '
                              b'"examples": [{"x": 1.0}, {"x": 2.0}]}'),
    ("POST", P + ":classify", b'{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}'),
    ("POST", P + ":regress", b'{"examples": []}'),
    ("POST", P + ":explain", b'{"instances": [1.0]}'),
    ("POST", P, b'{"instances": [1.0]}'),
    ("POST", "/monitoring/prometheus/metrics", b''),
    ("GET", P, b''),
    ("GET", P + "/metadata", b''),
    ("GET", P + ":predict", b''),
]

MAX_BODY = 4096


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    base = tmp_path_factory.mktemp("hp2")
    write_fake(str(base / "00000123"))
    core = ServerCore(single("half_plus_two", base), loader=fake_loader(),
                      file_system_poll_wait_seconds=0, max_num_load_retries=0)
    core.start(10)
    yield (create_app(core, max_body_bytes=MAX_BODY),
           create_app(core, max_body_bytes=MAX_BODY, fast_path=False))
    core.stop()


def call(app, method, path, body, chunks=1, disconnect=False, content_length=True):
    """Drives an ASGI app with one request; returns ``(status, headers, body)``."""
    step = max(1, -(-len(body) // chunks))
    parts = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
    msgs = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
            for i, p in enumerate(parts)]
    if disconnect:
        msgs = msgs[:1]
        msgs[0]["more_body"] = True
        msgs.append({"type": "http.disconnect"})
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    if content_length:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": headers,
             "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 5000)}
    out = []

    async def receive():
        return msgs.pop(0) if msgs else {"type": "http.disconnect"}

    async def send(message):
        out.append(message)

    asyncio.run(app(scope, receive, send))
    start = out[0]
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in out[1:])


@pytest.mark.parametrize("method,path,body", REQUESTS)
def test_fast_path_answers_as_starlette(apps, method, path, body):
    fast, slow = apps
    got, want = call(fast, method, path, body), call(slow, method, path, body)
    assert got == want
    if "metrics" not in path:
        assert dict(got[1])[b"content-type"] == b"application/json"
        json.loads(got[2])  # every answer is JSON, errors included


@pytest.mark.parametrize("chunks,content_length", [(3, True), (5, False)])
def test_fast_path_chunked_bodies(apps, chunks, content_length):
    fast, slow = apps
    for body in (b'{"instances": [1.0, 2.0, 5.0]}', b'{"instances": [' + b"1.0, " * 2000 + b'1]}'):
        got = call(fast, "POST", P + ":predict", body, chunks, content_length=content_length)
        assert got == call(slow, "POST", P + ":predict", body, chunks,
                           content_length=content_length)
    assert got[0] == 413 and b"exceeds the limit of 4096 bytes" in got[2]


def test_fast_path_client_disconnect(apps):
    fast, slow = apps
    got = call(fast, "POST", P + ":predict", b'{"instances": [1.0]}', disconnect=True)
    assert got == call(slow, "POST", P + ":predict", b'{"instances": [1.0]}', disconnect=True)
    assert got[0] == 499


def test_fast_path_is_taken_and_counted(apps):
    fast, _ = apps
    assert hasattr(fast, "starlette")  # the Starlette app still serves everything else
    status, _, body = call(fast, "POST", P + ":predict", b'{"instances": [1.0]}')
    assert (status, body) == (200, b'{"predictions": [2.5]}')
    _, _, metrics = call(fast, "GET", "/monitoring/prometheus/metrics", b"")
    assert b'request_count{model_name="half_plus_two",status="OK"}' in metrics
    assert b'API="predict",entrypoint="REST"' in metrics


def test_fast_path_does_not_reach_starlette(apps, monkeypatch):
    """With Starlette's app made to fail, a predict still answers, so the fast path served
    it; a GET still goes to Starlette (the patch is seen, so the check can fail)."""
    fast, _ = apps
    reached = []

    async def broken(self, scope, receive, send):
        reached.append((scope["method"], scope["path"]))
        raise RuntimeError("Starlette was called")
    monkeypatch.setattr(type(fast.starlette), "__call__", broken)
    status, _, body = call(fast, "POST", P + ":predict", b'{"instances": [1.0]}')
    assert (status, body) == (200, b'{"predictions": [2.5]}')
    assert reached == []
    with pytest.raises(RuntimeError, match="Starlette was called"):
        call(fast, "GET", P, b"")
    assert reached == [("GET", P)]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=64),
    st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(
                     st.sampled_from(["instances", "inputs", "signature_name", "examples",
                                      "b64", "x", "u", "v"]), c, max_size=3),
                 max_leaves=8).map(lambda v: json.dumps(v).encode())),
    verb=st.sampled_from([":predict", ":classify", ":regress", "/versions/123:predict"]))
def test_fast_path_fuzz_same_answers(apps, body, verb):
    fast, slow = apps
    got = call(fast, "POST", P + verb, body)
    assert got == call(slow, "POST", P + verb, body)
    assert got[0] < 500


def test_fast_path_over_http(tmp_path):
    """Through uvicorn: the hot path and Starlette's answers on one keep-alive connection."""
    write_fake(str(tmp_path / "00000123"))
    server = make_server(single("half_plus_two", tmp_path)).start(10)
    client = Rest(server.rest_port)
    try:
        for _ in range(3):
            assert client.post(P + ":predict", {"instances": [1.0, 2.0, 5.0]}) == \
                (200, {"predictions": [2.5, 3.0, 4.5]})
            assert client.get(P)[0] == 200
            st_, body = client.post(P + ":predict", raw="{")
            assert st_ == 400 and body["error"].startswith("JSON Parse error")
    finally:
        client.close()
        server.stop()


_leaf = st.one_of(st.floats(allow_nan=False, width=64), st.integers(-2 ** 70, 2 ** 70),
                  st.booleans(), st.none(), st.text(max_size=2),
                  st.sampled_from(["AP9i", "YQ==", "***", 7]).map(lambda b: {"b64": b}))
_nested = st.recursive(_leaf, lambda c: st.lists(c, min_size=0, max_size=4), max_leaves=12)


def _value_by_value(value, dtype, name):
    """The oracle: json_to_tensor as it was before the one-loop innermost lists, a check
    call per value in document order (so the first bad value gives the error)."""
    import numpy as np

    from eagerflow.serving import json_codec as jc
    shape = jc._shape_of(value)
    check = jc._leaf_checker(dtype, name)
    flat, rank = [], len(shape)

    def walk(v, d):
        if d == rank:
            if isinstance(v, list):
                raise jc._bad(f"Input '{name}' is ragged: lists nest deeper than the first "
                              f"element's {rank} levels")
            flat.append(check(v))
            return
        if not isinstance(v, list) or len(v) != shape[d]:
            got = "a list of %d" % len(v) if isinstance(v, list) else jc._jtype(v)
            raise jc._bad(f"Input '{name}' is ragged: expected a list of {shape[d]} values "
                          f"at depth {d}, got {got}")
        for item in v:
            walk(item, d + 1)

    walk(value, 0)
    if dtype.kind in "OSU":
        arr = np.empty(len(flat), dtype=object)
        arr[:] = flat
        return arr.reshape(shape)
    try:
        return np.array(flat, dtype=dtype).reshape(shape)
    except (OverflowError, ValueError):
        raise jc._bad(f"A value of input '{name}' is out of range for {dtype.name}") from None


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.lists(st.floats(width=32) | st.integers(-1000, 1000), min_size=1,
                                max_size=5),
                       st.lists(st.lists(st.floats(width=32), min_size=1, max_size=3),
                                min_size=1, max_size=3),
                       st.lists(st.lists(st.integers(-300, 300) | st.booleans(), min_size=1,
                                         max_size=3), min_size=1, max_size=3),
                       st.lists(st.text(max_size=2), max_size=4),
                       _nested),
       dtype=st.sampled_from(["float32", "float64", "float16", "complex64", "int64", "int32",
                              "uint8", "bool", "object"]))
def test_json_to_tensor_equals_value_by_value_walk(value, dtype):
    """json_to_tensor (innermost lists type-checked in one loop and extended whole): the
    same array, or the same error, as a check per value, for every dtype kind."""
    import numpy as np

    from eagerflow.serving import json_codec
    from eagerflow.serving.errors import ServingError

    def run(fn):
        try:
            return fn(value, np.dtype(dtype), "x")
        except ServingError as e:
            return e.message

    with np.errstate(all="ignore"):
        got, want = run(json_codec.json_to_tensor), run(_value_by_value)
    if isinstance(want, str):
        assert got == want
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert [type(x) for x in got.ravel().tolist()] == \
            [type(x) for x in want.ravel().tolist()]


def test_nest_shapes():
    from eagerflow.serving.json_codec import tensor_to_json
    import numpy as np
    for shape in [(3,), (2, 3), (0, 3), (3, 0), (2, 2, 2), ()]:
        a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        assert tensor_to_json(a, "y") == a.tolist()
    s = np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object)
    assert tensor_to_json(s, "s") == [["a", "b"], ["c", "d"]]
