"""ModelServer: a ServerCore behind gRPC (grpcio) and REST (uvicorn) listeners.

Example:
    >>> core = ServerCore([ModelConfig("half_plus_two", "/models/half_plus_two")])  # doctest: +SKIP
    >>> with ModelServer(core, grpc_port=8500, rest_port=8501) as server:  # doctest: +SKIP
    ...     print(server.rest_port)
"""
import asyncio
import concurrent.futures
import socket
import threading

from .config import ModelConfig
from .core import ServerCore
from .events import log_event
from .rest import DEFAULT_MAX_BODY_BYTES, METRICS_PATH, create_app

__all__ = ["ModelServer"]


class ModelServer:
    """Runs a ServerCore's gRPC and REST front ends on background threads.

    Args:
        core: a :class:`~eagerflow.serving.core.ServerCore` (started and stopped with the
            server).
        grpc_port: int or None (None: no gRPC; 0: an ephemeral port).
        rest_port: int or None (None: no REST; 0: an ephemeral port).
        host: str, the address both listen on.
        max_body_bytes: int, REST bodies (and gRPC messages) larger than this are refused.
        grpc_max_workers: int, gRPC handler threads.
        rest_threads: int, REST model calls run on this many worker threads; 0 runs them on
            the event loop (default: 64 with batching, else 0).
        metrics_path: str, the REST path of the Prometheus metrics (None: off).
    """

    def __init__(self, core, grpc_port=8500, rest_port=8501, host="0.0.0.0",
                 max_body_bytes=DEFAULT_MAX_BODY_BYTES, grpc_max_workers=16,
                 rest_threads=None, metrics_path=METRICS_PATH):
        self.core = core
        self.host = host
        self._want_grpc, self._want_rest = grpc_port, rest_port
        self._max_body = int(max_body_bytes)
        self._grpc_workers = grpc_max_workers
        self._rest_threads = rest_threads
        self._metrics_path = metrics_path
        self.grpc_port = self.rest_port = None
        self._grpc = self._uvicorn = self._rest_thread = None

    @classmethod
    def for_model(cls, model_name, model_base_path, host="127.0.0.1", rest_port=0,
                  grpc_port=None, **core_kwargs):
        """A server of one model, REST on an ephemeral loopback port by default.

        Example:
            >>> with ModelServer.for_model("m", "/exports/m") as srv:  # doctest: +SKIP
            ...     url = f"http://127.0.0.1:{srv.rest_port}/v1/models/m:predict"
        """
        core_kwargs.setdefault("file_system_poll_wait_seconds", 1.0)
        core = ServerCore([ModelConfig(model_name, str(model_base_path))], **core_kwargs)
        return cls(core, grpc_port=grpc_port, rest_port=rest_port, host=host)

    def start(self, wait_for_models_s=60.0):
        """Load the models (waiting up to ``wait_for_models_s``), then open the ports."""
        self.core.start(wait_for_models_s)
        try:
            if self._want_grpc is not None:
                self._start_grpc()
            if self._want_rest is not None:
                self._start_rest()
        except BaseException:
            self.stop()
            raise
        log_event("server_started", host=self.host, grpc_port=self.grpc_port,
                  rest_api_port=self.rest_port, models=self.core.model_names)
        return self

    def _start_grpc(self):
        import grpc

        from .grpc_service import add_services
        opts = [("grpc.max_receive_message_length", self._max_body),
                ("grpc.max_send_message_length", -1),
                ("grpc.so_reuseport", 0)]
        self._grpc = grpc.server(concurrent.futures.ThreadPoolExecutor(
            max_workers=self._grpc_workers, thread_name_prefix="ef-serving-grpc"), options=opts)
        add_services(self._grpc, self.core)
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = self._grpc.add_insecure_port(f"{host}:{self._want_grpc}")
        if port == 0:
            raise OSError(f"could not bind the gRPC port {self.host}:{self._want_grpc}")
        self._grpc.start()
        self.grpc_port = port

    def _start_rest(self):
        import uvicorn
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it Nagle + delayed ACKs add ~40 ms per keep-alive reply.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._want_rest))
        sock.listen(2048)
        self.rest_port = sock.getsockname()[1]
        app = create_app(self.core, max_body_bytes=self._max_body,
                         threads=self._rest_threads, metrics_path=self._metrics_path)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                timeout_graceful_shutdown=5)
        self._uvicorn = uvicorn.Server(config)
        started = threading.Event()
        failed = []

        def serve():
            try:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_until_complete(self._uvicorn.serve(sockets=[sock]))
                loop.close()
            except BaseException as e:  # report to start() instead of dying silently
                failed.append(e)
                started.set()

        self._rest_thread = threading.Thread(target=serve, daemon=True,
                                             name="ef-serving-rest")
        self._rest_thread.start()
        started.wait(30)
        while not self._uvicorn.started and self._rest_thread.is_alive():
            self._rest_thread.join(0.01)
        if failed:
            raise failed[0]
        self._sock = sock

    def stop(self):
        """Close both listeners, then unload every model."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            self._rest_thread.join(15)
            self._uvicorn = None
        if self._grpc is not None:
            self._grpc.stop(grace=2).wait(5)
            self._grpc = None
        self.core.stop()
        log_event("server_stopped")

    def wait(self):
        """Block until the REST thread ends (the CLI waits on signals instead)."""
        if self._rest_thread is not None:
            self._rest_thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
