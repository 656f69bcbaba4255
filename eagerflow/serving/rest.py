"""TF Serving's REST API as a Starlette (ASGI) app.

Routes (paths case-insensitive, as TF Serving's regexes):

* ``POST /v1/models/{name}[/versions/{v}|/labels/{l}]:(predict|classify|regress)``
* ``GET  /v1/models/{name}[/versions/{v}|/labels/{l}][/metadata]``
* ``GET  /monitoring/prometheus/metrics``

Every error is ``{"error": message}`` with TF Serving's HTTP status; bodies over
``max_body_bytes`` get 413. Model names only ever key a dictionary, never a file path.

The hot path, ``POST ...:(predict|classify|regress)``, is dispatched on the raw ASGI
scope before Starlette's middleware, router, ``Request`` and ``Response`` (about a third
of a small predict's time); every other request goes through Starlette. Both run the same
handler, so status codes and bodies are identical (``create_app(core, fast_path=False)``
sends everything through Starlette).

Example:
    >>> app = create_app(core)  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8501)  # doctest: +SKIP
"""
import json
import logging
import re
import time

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Route

from .errors import ServingError
from .json_codec import INT64_MAX, examples_from_json, predict_inputs, predict_response
from .signature_json import metadata_json, status_json

__all__ = ["create_app", "DEFAULT_MAX_BODY_BYTES", "METRICS_PATH"]

DEFAULT_MAX_BODY_BYTES = 64 << 20
METRICS_PATH = "/monitoring/prometheus/metrics"
log = logging.getLogger("eagerflow.serving")

_PRED = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?"
                   r":(classify|regress|predict)", re.IGNORECASE)
_STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:/versions/(\d+)|/labels/([^/:]+))?"
                     r"(?:/(metadata))?", re.IGNORECASE)
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


class _TooLarge(Exception):
    pass


# json.dumps builds a new JSONEncoder per call for non-default options; one is enough.
_ENCODER = json.JSONEncoder(allow_nan=True, ensure_ascii=False)
_JSON_HEADERS = [(b"content-type", b"application/json")]


def _json_body(obj):
    return _ENCODER.encode(obj).encode("utf-8")


def _version(v):
    if v is None:
        return None
    n = int(v)
    if n > INT64_MAX:
        raise ServingError.invalid_argument(f"Failed to convert version: {v} to numeric.")
    return n


def _parse_body(raw):
    if not raw.strip():
        raise ServingError.invalid_argument("JSON Parse error: The document is empty.")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise ServingError.invalid_argument("JSON Parse error: nesting too deep") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, int too long
        raise ServingError.invalid_argument(f"JSON Parse error: {e}") from None
    if not isinstance(body, dict):
        raise ServingError.invalid_argument("JSON Value is not an object: the request body "
                                            "must be a JSON object")
    sig = body.get("signature_name", "")
    if not isinstance(sig, str):
        raise ServingError.invalid_argument("'signature_name' attribute must be a string")
    return body, sig


def create_app(core, max_body_bytes=DEFAULT_MAX_BODY_BYTES, threads=None,
               metrics_path=METRICS_PATH, fast_path=True):
    """The ASGI app serving ``core`` (a :class:`~eagerflow.serving.core.ServerCore`).

    Args:
        core: the ServerCore.
        max_body_bytes: int, larger request bodies get 413.
        threads: int, run model calls on a pool of this many worker threads; 0 runs them
            on the event loop (the least overhead for small models). Default: 64 when
            batching is on (concurrent requests must be able to meet in a batch), else 0.
        metrics_path: str, where Prometheus metrics are served (None: nowhere).
        fast_path: bool, dispatch ``POST ...:predict|classify|regress`` on the raw ASGI
            scope (same answers, less overhead); False sends every request through
            Starlette.
    """
    threads = (64 if core.batching is not None else 0) if threads is None else int(threads)
    limiter = anyio.CapacityLimiter(threads) if threads > 0 else None
    metrics = core.metrics
    is_served = core.is_served
    observe = metrics.observe_request
    perf_counter = time.perf_counter

    async def read_body(content_length, receive):
        """The request body from ASGI messages (as Starlette's ``Request.stream``)."""
        n = content_length
        if n is not None and n.isdigit() and int(n) > max_body_bytes:
            raise _TooLarge(int(n))
        chunks, size = [], 0
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > max_body_bytes:
                        raise _TooLarge(size)
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif kind == "http.disconnect":
                raise ClientDisconnect()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def run(fn):
        if limiter is None:
            return fn()
        return await anyio.to_thread.run_sync(fn, limiter=limiter)

    async def predict_like(raw, name, version, label, verb):
        body, sig_name = _parse_body(raw)
        if verb == "predict":
            row = []

            def make_inputs(sig):
                inputs, is_row = predict_inputs(body, sig.inputs)
                row.append(is_row)
                return inputs

            if core.batching is not None:  # wait for the batch on the event loop
                out, _, _ = await core.predict_async(name, version, label, sig_name,
                                                     make_inputs, rest=True)
                return predict_response(out, row[0])

            def go():
                out, _, _ = core.predict(name, version, label, sig_name, make_inputs, rest=True)
                return predict_response(out, row[0])
            return await run(go)
        serialized = examples_from_json(body)
        if verb == "classify":
            def go():
                res, _, _ = core.classify(name, version, label, sig_name, serialized, rest=True)
                return {"results": [[[lab, float(str(s))] for lab, s in r] for r in res]}
        else:
            def go():
                y, _, _ = core.regress(name, version, label, sig_name, serialized, rest=True)
                return {"results": list(map(float, y.astype(str).tolist()))}
        return await run(go)

    def status_like(name, version, label, meta):
        if not name:
            raise ServingError.invalid_argument("Missing model name in request.")
        if meta:
            v, sigs = core.metadata(name, version, label)
            return metadata_json(name, v, sigs)
        return status_json(core.status(name, version, label))

    async def handle(method, path, content_length, receive, m=None):
        """``(HTTP status, JSON body bytes)`` of one request; ``m`` is the path's ``_PRED``
        match when the caller has it."""
        t0 = perf_counter()
        model, api, status = "", "unknown", "OK"
        code = 200
        try:
            if m is None and method == "POST":
                m = _PRED.fullmatch(path)
            if m is not None:
                name, ver, label, verb = m.groups()
                model, api = name, verb.lower()
                raw = await read_body(content_length, receive)
                body = _json_body(await predict_like(raw, name, _version(ver), label, api))
            else:
                m = _STATUS.fullmatch(path) if method == "GET" else None
                if m is None:
                    raise ServingError.invalid_argument(f"Malformed request: {method} {path}")
                name, ver, label, meta = m.groups()
                model, api = name or "", "metadata" if meta else "status"
                body = _json_body(status_like(name, _version(ver), label, bool(meta)))
        except ServingError as e:
            status, code, body = e.code_name, e.http_status, _json_body({"error": e.message})
        except _TooLarge as e:
            status, code = "RESOURCE_EXHAUSTED", 413
            body = _json_body({"error": f"Request body of {e.args[0]} bytes exceeds the "
                                        f"limit of {max_body_bytes} bytes"})
        except ClientDisconnect:  # nobody is left to answer
            status, code = "CANCELLED", 499
            body = _json_body({"error": "Client disconnected"})
        except Exception as e:  # a bug: log it, never show a stack trace to the client
            log.exception("unhandled error serving %s %s", method, path)
            status, code = "INTERNAL", 500
            body = _json_body({"error": f"Internal error: {type(e).__name__}"})
        if model and not is_served(model):  # bounded metric label cardinality
            model = ""
        observe(model, api, "REST", status, (perf_counter() - t0) * 1e6)
        return code, body

    async def dispatch(request):
        code, body = await handle(request.method, request.url.path,
                                  request.headers.get("content-length"), request.receive)
        return Response(body, status_code=code, media_type="application/json")

    async def prometheus(request):
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    routes = [Route(metrics_path, prometheus, methods=["GET"])] if metrics_path else []
    routes.append(Route("/{rest:path}", dispatch, methods=_METHODS))
    starlette = Starlette(routes=routes)
    if not fast_path:
        return starlette
    pred_match = _PRED.fullmatch

    async def app(scope, receive, send):
        # The hot path: POST .../models/...:verb on a server mounted at the root.
        if (scope["type"] == "http" and scope["method"] == "POST"
                and not scope.get("root_path")):
            path = scope["path"]
            m = pred_match(path)
            if m is not None:
                n = None
                for k, v in scope["headers"]:
                    if k == b"content-length":
                        n = v.decode("latin-1")
                        break
                code, body = await handle("POST", path, n, receive, m)
                await send({"type": "http.response.start", "status": code,
                            "headers": [(b"content-length", str(len(body)).encode()),
                                        *_JSON_HEADERS]})
                await send({"type": "http.response.body", "body": body})
                return
        await starlette(scope, receive, send)

    app.starlette = starlette
    return app
