"""REST predict throughput and latency of the eagerflow model server on loopback.

Starts ``python -m eagerflow.serving`` (without and with ``--enable_batching``) on
127.0.0.1 in a subprocess, plus a minimal ASGI endpoint on the same uvicorn that returns a
constant (the HTTP stack's own ceiling on this machine), raw and through Starlette. An asyncio client with N
keep-alive connections (1..64) sends ``:predict`` requests of 1 or 64 instances for a fixed
time; the table shows requests/s, instances/s and p50/p99 latency. The default model is
the half_plus_two reference export; ``--model wide_deep`` exports a small Wide&Deep
(``DNNLinearCombinedClassifier`` trained a few steps on a synthetic click log, parsing
receiver) and sends serialized tf.Examples as ``{"b64": ...}`` instances to its
``predict`` signature (``serving_default`` of a canned classifier is the classify view,
as in TF); ``--model_base_path`` serves any other export (its ``--instance`` JSON is one
row of ``instances``).

Usage:
    python bench/serving.py [--model half_plus_two|wide_deep] [--model_base_path DIR]
                            [--model_name NAME] [--signature_name NAME]
                            [--instance '[1.0]'] [--clients 1 4 16 64] [--instances 1 64]
                            [--seconds 3] [--no-batching] [--no-ceiling] [--json]
"""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the ceiling endpoint
async def constant_app(scope, receive, send):
    """Reads the body and answers a constant JSON predictions body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    body = b'{"predictions": [2.5]}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def constant_starlette_app():
    """The same constant answer through Starlette's routing, Request and Response."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def predict(request):
        await request.body()
        return Response(b'{"predictions": [2.5]}', media_type="application/json")
    return Starlette(routes=[Route("/{path:path}", predict, methods=["GET", "POST"])])


def run_ceiling_server(port, starlette=False):
    import uvicorn
    app = constant_starlette_app() if starlette else constant_app
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")


# ------------------------------------------------------------------ the client
async def _client(port, request, deadline, lat):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            n = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    n = int(line[15:])
            await reader.readexactly(n)
            lat.append(time.perf_counter() - t0)
            errors += status != 200
    finally:
        writer.close()
    return errors


async def _load(port, request, clients, seconds):
    lat = []
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    errors = await asyncio.gather(*[_client(port, request, deadline, lat)
                                    for _ in range(clients)])
    return lat, time.perf_counter() - t0, sum(errors)


def measure(port, path, body, clients, seconds):
    req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    asyncio.run(_load(port, req, clients, min(0.5, seconds)))  # warm-up
    lat, wall, errors = asyncio.run(_load(port, req, clients, seconds))
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3  # noqa: E731
    return {"requests_per_s": len(lat) / wall, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "errors": errors, "requests": len(lat)}


def wait_ready(port, proc, path="/", timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not come up")


def start(cmd, port, path):
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_ready(port, proc, path)
    return proc


def export_wide_deep(workdir, rows=2048, steps=20, batch_size=256, seed=0):
    """Trains a small Wide&Deep on a synthetic click log and exports it with a parsing
    receiver; returns ``(export base path, [serialized tf.Example bytes])``."""
    sys.path.insert(0, ROOT)
    import logging

    import numpy as np

    from eagerflow import estimator as est
    from eagerflow import feature_column as fc
    from eagerflow.data import TFRecordDataset
    from eagerflow.datasets import synthetic_ctr as ctr
    from eagerflow.quickstart import feature_columns, input_fn
    logging.getLogger("eagerflow").setLevel(logging.WARNING)
    files, _ = ctr.write_tfrecord(os.path.join(workdir, "clicks"), rows, seed=seed)
    wide, deep = feature_columns()
    model = est.DNNLinearCombinedClassifier(
        linear_feature_columns=wide, dnn_feature_columns=deep, dnn_hidden_units=[64, 32],
        config=est.RunConfig(model_dir=os.path.join(workdir, "model"), tf_random_seed=seed))
    model.train(input_fn(files, batch_size, wide + deep, shuffle=True, seed=seed),
                steps=steps)
    spec = fc.make_parse_example_spec(wide + deep)
    base = os.path.join(workdir, "export")
    model.export_saved_model(base, est.build_parsing_serving_input_receiver_fn(spec))
    records = [bytes(np.asarray(r).item()) for r in TFRecordDataset(files).take(64)]
    return base, records


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["half_plus_two", "wide_deep"], default="half_plus_two")
    p.add_argument("--model_base_path", default="")
    p.add_argument("--model_name", default="")
    p.add_argument("--signature_name", default="")
    p.add_argument("--instance", default="[1.0]", help="JSON of one instance")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--instances", type=int, nargs="+", default=[1, 64])
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--no-batching", action="store_true")
    p.add_argument("--no-ceiling", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--_ceiling_server", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--_starlette", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._ceiling_server:
        return run_ceiling_server(args._ceiling_server, args._starlette)

    tmp = None
    base = args.model_base_path
    args.model_name = args.model_name or args.model
    records = None
    if not base:
        sys.path.insert(0, ROOT)
        tmp = tempfile.TemporaryDirectory()
        if args.model == "wide_deep":
            t0 = time.perf_counter()
            base, records = export_wide_deep(tmp.name)
            args.signature_name = args.signature_name or "predict"
            if not args.json:
                print(f"exported Wide&Deep to {base} in {time.perf_counter() - t0:.1f}s "
                      f"(serialized tf.Example: {len(records[0])} bytes)", flush=True)
        else:
            from eagerflow import saved_model
            base = os.path.join(tmp.name, "half_plus_two")
            saved_model.write_half_plus_two(os.path.join(base, "1"))
    instance = json.loads(args.instance)

    def make_body(n):
        if records is not None:
            import base64
            inst = [{"b64": base64.b64encode(records[i % len(records)]).decode()}
                    for i in range(n)]
        else:
            inst = [instance] * n
        req = {"instances": inst}
        if args.signature_name:
            req["signature_name"] = args.signature_name
        return json.dumps(req).encode()
    path = f"/v1/models/{args.model_name}:predict"
    status_path = f"/v1/models/{args.model_name}"
    setups = [("server", [])]
    if not args.no_batching:
        setups.append(("server+batching", ["--enable_batching"]))
    if not args.no_ceiling:
        setups += [("constant ASGI", None), ("constant Starlette", ["--_starlette"])]
    rows = []
    for name, extra in setups:
        port = _free_port()
        if extra is None or extra == ["--_starlette"]:
            cmd = [sys.executable, os.path.abspath(__file__), "--_ceiling_server", str(port)]
            proc = start(cmd + (extra or []), port, "/")
        else:
            if extra:
                bp = os.path.join(tempfile.gettempdir(), f"ef_bench_batching_{os.getpid()}")
                with open(bp, "w") as f:
                    f.write("max_batch_size { value: 4096 } batch_timeout_micros { value: 0 } "
                            "num_batch_threads { value: 1 }")
                extra = extra + ["--batching_parameters_file", bp]
            cmd = [sys.executable, "-m", "eagerflow.serving", "--host", "127.0.0.1",
                   "--port", "0", "--rest_api_port", str(port), "--model_name",
                   args.model_name, "--model_base_path", base, "--log_level", "WARNING"] + extra
            proc = start(cmd, port, status_path)
        try:
            for n in args.instances:
                body = make_body(n)
                for c in args.clients:
                    r = measure(port, path, body, c, args.seconds)
                    r.update(setup=name, instances=n, clients=c,
                             instances_per_s=r["requests_per_s"] * n)
                    rows.append(r)
                    if not args.json:
                        print(f"{name:16s} inst={n:3d} clients={c:3d}  "
                              f"{r['requests_per_s']:9.0f} req/s {r['instances_per_s']:10.0f} "
                              f"inst/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
                              f"  errors {r['errors']}", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    if tmp is not None:
        tmp.cleanup()
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    ceil = {(r["instances"], r["clients"]): r["requests_per_s"] for r in rows
            if r["setup"] == "constant ASGI"}
    ceil_s = {(r["instances"], r["clients"]): r["requests_per_s"] for r in rows
              if r["setup"] == "constant Starlette"}
    print("\n| setup | instances/request | clients | req/s | instances/s | p50 ms | p99 ms |"
          " % of raw ASGI | % of Starlette |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        k = (r["instances"], r["clients"])
        pct = [f"{100 * r['requests_per_s'] / t[k]:.0f}%" if k in t else "-"
               for t in (ceil, ceil_s)]
        print(f"| {r['setup']} | {r['instances']} | {r['clients']} | "
              f"{r['requests_per_s']:.0f} | {r['instances_per_s']:.0f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {pct[0]} | {pct[1]} |")


if __name__ == "__main__":
    main()
