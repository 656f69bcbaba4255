"""Request batching: merged calls give exactly the unbatched results."""
import threading

import numpy as np
import pytest

from eagerflow.serving import BatchingConfig, BatchScheduler, ServingError

from .fake_model import write_fake
from .helpers import Rest, single


def test_scheduler_merges_and_splits():
    calls = []
    gate = threading.Event()

    def fn(x):
        gate.wait(5)
        calls.append(x.shape[0])
        return {"y": x * 2 + 1, "rowsum": x.sum(axis=1)}

    sched = BatchScheduler(fn, BatchingConfig(max_batch_size=64, batch_timeout_micros=50000,
                                              num_batch_threads=1))
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (1, 4, 2, 7, 1, 3)]
    results = [None] * len(inputs)

    def call(i):
        results[i] = sched.run({"x": inputs[i]})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    sched.stop()
    for x, r in zip(inputs, results):
        np.testing.assert_array_equal(r["y"], x * 2 + 1)
        np.testing.assert_array_equal(r["rowsum"], x.sum(axis=1))
    assert sum(calls) == 18 and len(calls) < len(inputs)  # some requests were merged


def test_scheduler_isolates_a_bad_request_and_odd_outputs():
    def fn(x):
        if np.isnan(x).any():
            raise ValueError("NaN input")
        return {"y": x + 1, "total": x.sum(keepdims=True)}  # "total" is not per row

    sched = BatchScheduler(fn, BatchingConfig(max_batch_size=8, batch_timeout_micros=50000))
    xs = [np.ones((2, 1)), np.full((1, 1), np.nan), np.zeros((3, 1))]
    out = [None] * 3

    def call(i):
        try:
            out[i] = sched.run({"x": xs[i]})
        except ValueError as e:
            out[i] = e

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sched.stop()
    assert isinstance(out[1], ValueError)
    assert out[0]["total"].tolist() == [[2.0]] and out[2]["total"].tolist() == [[0.0]]
    with pytest.raises(ServingError, match="shutting down"):
        sched.run({"x": np.ones((1, 1))})


def test_rest_batching_equals_unbatched(serve, tmp_path):
    write_fake(str(tmp_path / "1"), call_delay=0.01)
    server, _ = serve(single("m", tmp_path), batching=BatchingConfig(
        max_batch_size=32, batch_timeout_micros=2000, num_batch_threads=2))
    n_clients, per_client = 12, 6
    errors, got = [], {}

    def client(i):
        c = Rest(server.rest_port)
        try:
            for j in range(per_client):
                rows = [[float(i * 100 + j * 10 + k)] for k in range(1 + (i + j) % 4)]
                st, body = c.post("/v1/models/m:predict", {"instances": rows})
                if st != 200:
                    errors.append(body)
                got[(i, j)] = (rows, body["predictions"])
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for rows, preds in got.values():
        assert preds == (np.float32(0.5) * np.array(rows, np.float32) + 2).tolist()
    with server.core.acquire("m") as servable:
        calls = servable.signatures["serving_default"].calls
    assert sum(calls) == sum(len(r) for r, _ in got.values())
    assert max(calls) > 4  # concurrent requests did meet in one call


def test_grpc_batching_equals_unbatched(serve, tmp_path):
    from eagerflow.serving.protos import apis_pb2
    from eagerflow.serving.tensor_codec import make_ndarray, make_tensor_proto

    from .helpers import stubs
    write_fake(str(tmp_path / "1"), call_delay=0.01)
    server, _ = serve(single("m", tmp_path), batching=BatchingConfig(
        max_batch_size=64, batch_timeout_micros=2000, num_batch_threads=1))
    channel, pred, _ = stubs(server.grpc_port)
    xs = [np.arange(i + 1, dtype=np.float32).reshape(-1, 1) * (i + 1) for i in range(10)]
    outs = [None] * len(xs)

    def call(i):
        req = apis_pb2.PredictRequest()
        req.model_spec.name = "m"
        make_tensor_proto(xs[i], out=req.inputs["x"])
        outs[i] = make_ndarray(pred.Predict(req, timeout=10).outputs["y"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    channel.close()
    for x, y in zip(xs, outs):
        np.testing.assert_array_equal(y, np.float32(0.5) * x + np.float32(2))
    with server.core.acquire("m") as servable:
        assert len(servable.signatures["serving_default"].calls) < len(xs)
