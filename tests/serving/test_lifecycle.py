"""Version lifecycle: hot swaps, policies, failed/partial exports, labels, handles."""
import shutil
import threading
import time
from types import SimpleNamespace

import pytest

from eagerflow.serving import AspiredVersionsManager, Loader, ModelConfig

from .fake_model import write_fake
from .helpers import Rest, single

P = "/v1/models/m"


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def _states(client, name="m"):
    st, body = client.get(f"/v1/models/{name}")
    if st != 200:
        return {}
    return {int(s["version"]): s["state"] for s in body["model_version_status"]}


def test_hot_swap_under_load_has_zero_failed_requests(serve, tmp_path):
    write_fake(str(tmp_path / "1"), b=2.0)
    server, client = serve(single("m", tmp_path))
    stop, results, lock = threading.Event(), [], threading.Lock()

    def worker():
        c = Rest(server.rest_port)
        try:
            while not stop.is_set():
                r = c.post(P + ":predict", {"instances": [1.0]})
                with lock:
                    results.append(r)
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        _wait(lambda: len(results) > 20)
        write_fake(str(tmp_path / "2"), b=10.0, load_delay=0.3)  # slow load: real overlap
        _wait(lambda: results and results[-1] == (200, {"predictions": [10.5]}))
        _wait(lambda: _states(client) == {2: "AVAILABLE", 1: "END"})
        n = len(results)
        _wait(lambda: len(results) > n + 20)
    finally:
        stop.set()
        for t in threads:
            t.join()
    bad = [r for r in results if r[0] != 200]
    assert not bad, bad[:3]
    values = {r[1]["predictions"][0] for r in results}
    assert values == {2.5, 10.5}


@pytest.mark.parametrize("policy,old_state_while_loading", [
    ("availability_preserving", "AVAILABLE"), ("resource_preserving", "END")])
def test_policy_transitions(serve, tmp_path, policy, old_state_while_loading):
    write_fake(str(tmp_path / "1"))
    _, client = serve(single("m", tmp_path), policy=policy)
    write_fake(str(tmp_path / "2"), b=10.0, load_delay=0.5)
    _wait(lambda: _states(client).get(2) == "LOADING")
    assert _states(client)[1] == old_state_while_loading
    _wait(lambda: _states(client) == {2: "AVAILABLE", 1: "END"})
    assert client.post(P + ":predict", {"instances": [1.0]}) == (200, {"predictions": [10.5]})


def test_failed_load_is_reported_and_old_version_keeps_serving(serve, tmp_path):
    write_fake(str(tmp_path / "1"))
    _, client = serve(single("m", tmp_path))
    write_fake(str(tmp_path / "2"), fail=True)
    _wait(lambda: _states(client).get(2) == "END")
    st, body = client.get(P + "/versions/2")
    assert st == 200
    status = body["model_version_status"][0]["status"]
    assert status["error_code"] == "UNKNOWN" and "corrupt export" in status["error_message"]
    assert _states(client)[1] == "AVAILABLE"
    assert client.post(P + ":predict", {"instances": [1.0]}) == (200, {"predictions": [2.5]})
    write_fake(str(tmp_path / "3"), b=3.0)  # a good newer version still replaces it
    _wait(lambda: _states(client).get(3) == "AVAILABLE" and _states(client)[1] == "END")


def test_half_written_export_and_vanishing_directory(serve, tmp_path):
    write_fake(str(tmp_path / "1"))
    _, client = serve(single("m", tmp_path))
    write_fake(str(tmp_path / "2"), b=10.0, complete=False)
    time.sleep(0.3)  # several polls
    assert _states(client) == {1: "AVAILABLE"}
    (tmp_path / "2" / "COMPLETE").touch()
    _wait(lambda: _states(client) == {2: "AVAILABLE", 1: "END"})
    shutil.rmtree(tmp_path)  # the whole model directory disappears while serving
    time.sleep(0.3)
    assert client.post(P + ":predict", {"instances": [1.0]}) == (200, {"predictions": [10.5]})
    assert _states(client)[2] == "AVAILABLE"


def test_version_policies_and_labels(serve, tmp_path):
    for v, b in ((1, 1.0), (2, 2.0), (3, 3.0)):
        write_fake(str(tmp_path / str(v)), a=0.0, b=b)
    cfgs = [ModelConfig("spec", str(tmp_path), policy="specific", versions=(1, 3),
                        version_labels={"stable": 1, "canary": 3}),
            ModelConfig("two", str(tmp_path), num_versions=2),
            ModelConfig("all", str(tmp_path), policy="all")]
    _, client = serve(cfgs)
    assert _states(client, "spec") == {3: "AVAILABLE", 1: "AVAILABLE"}
    assert _states(client, "two") == {3: "AVAILABLE", 2: "AVAILABLE"}
    assert _states(client, "all") == {3: "AVAILABLE", 2: "AVAILABLE", 1: "AVAILABLE"}
    pred = {"instances": [5.0]}
    assert client.post("/v1/models/spec/labels/stable:predict", pred)[1] == \
        {"predictions": [1.0]}
    assert client.post("/v1/models/spec/labels/canary:predict", pred)[1] == \
        {"predictions": [3.0]}
    assert client.post("/v1/models/spec:predict", pred)[1] == {"predictions": [3.0]}
    assert client.post("/v1/models/all/versions/2:predict", pred)[1] == {"predictions": [2.0]}
    st, body = client.get("/v1/models/spec/labels/stable")
    assert st == 200 and body["model_version_status"][0]["version"] == "1"
    assert [s["version"] for s in client.get("/v1/models/all")[1]["model_version_status"]] \
        == ["3", "2", "1"]  # highest first


def test_memory_limit_refuses_a_version_that_does_not_fit(serve, tmp_path):
    write_fake(str(tmp_path / "1"), memory=1000)
    _, client = serve(single("m", tmp_path), memory_limit_bytes=1500)
    write_fake(str(tmp_path / "2"), memory=1000)
    _wait(lambda: _states(client).get(2) == "END")
    st, body = client.get(P + "/versions/2")
    status = body["model_version_status"][0]["status"]
    assert status["error_code"] == "RESOURCE_EXHAUSTED"
    assert "Insufficient resources" in status["error_message"]
    assert _states(client)[1] == "AVAILABLE"


def test_unload_waits_for_requests_in_flight():
    mgr = AspiredVersionsManager(Loader(load=lambda p: SimpleNamespace(signatures={})),
                                 max_num_load_retries=0)
    try:
        mgr.set_aspired_versions("m", {1: "/m/1"})
        assert mgr.wait_until_settled(5)
        handle = mgr.acquire("m")
        mgr.set_aspired_versions("m", {})
        time.sleep(0.1)
        assert mgr.version_states("m")[0][1] == 40  # UNLOADING, held by the request
        assert handle.servable.model is not None
        handle.release()
        assert mgr.wait_until_settled(5)
        assert mgr.version_states("m")[0][1] == 50  # END
        with pytest.raises(Exception, match="Servable not found for request: Latest"):
            mgr.acquire("m")
    finally:
        mgr.stop()


def test_load_retries_then_reports():
    attempts = []

    def load(path):
        attempts.append(path)
        raise OSError("disk on fire")

    mgr = AspiredVersionsManager(Loader(load=load), max_num_load_retries=2,
                                 load_retry_interval_s=0.01)
    try:
        mgr.set_aspired_versions("m", {1: "/m/1"})
        assert mgr.wait_until_settled(5)
        (v, state, err), = mgr.version_states("m")
        assert len(attempts) == 3 and state == 50 and "disk on fire" in err.message
    finally:
        mgr.stop()


def test_reload_config_adds_and_removes_models(serve, tmp_path):
    write_fake(str(tmp_path / "a" / "1"))
    write_fake(str(tmp_path / "b" / "1"), b=5.0)
    server, client = serve(single("a", tmp_path / "a"))
    server.core.reload_config([ModelConfig("b", str(tmp_path / "b"))])
    server.core.manager.wait_until_settled(5)
    assert client.post("/v1/models/b:predict", {"instances": [0.0]}) == \
        (200, {"predictions": [5.0]})
    assert client.post("/v1/models/a:predict", {"instances": [0.0]})[0] == 404
