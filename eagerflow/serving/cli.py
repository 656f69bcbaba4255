"""``python -m eagerflow.serving`` / ``eagerflow serve``: tensorflow_model_server's flags.

Example:
    $ python -m eagerflow.serving --model_name half_plus_two \\
          --model_base_path /models/half_plus_two --port 8500 --rest_api_port 8501
"""
import argparse
import logging
import signal
import sys
import threading

from .config import (BatchingConfig, ModelConfig, parse_batching_parameters,
                     parse_monitoring_config, read_model_server_config)
from .core import ServerCore
from .events import log_event
from .server import ModelServer

__all__ = ["build_parser", "main", "server_from_args"]


def build_parser():
    p = argparse.ArgumentParser(
        prog="eagerflow serve", description="TensorFlow-Serving-compatible model server "
        "(REST and gRPC) for eagerflow SavedModels. Flags as tensorflow_model_server's.")
    a = p.add_argument
    a("--port", type=int, default=8500, help="gRPC port; 0 turns gRPC off")
    a("--rest_api_port", type=int, default=0, help="REST port; 0 turns REST off")
    a("--host", default="0.0.0.0", help="address to listen on (eagerflow extra)")
    a("--model_name", default="default", help="model name in single-model mode")
    a("--model_base_path", default="", help="directory holding the model's version dirs")
    a("--model_config_file", default="", help="text-format ModelServerConfig file")
    a("--model_config_file_poll_wait_seconds", type=int, default=0,
      help="re-read --model_config_file every N seconds; 0 reads it once")
    a("--file_system_poll_wait_seconds", type=int, default=1,
      help="scan base paths for new versions every N seconds; 0 once; <0 never")
    a("--enable_batching", action="store_true", help="merge concurrent Predict requests")
    a("--batching_parameters_file", default="",
      help="text-format BatchingParameters (max_batch_size, batch_timeout_micros, "
           "num_batch_threads, max_enqueued_batches)")
    a("--max_num_load_retries", type=int, default=5)
    a("--load_retry_interval_micros", type=int, default=60 * 1000 * 1000)
    a("--aspired_version_policy", default="availability_preserving",
      choices=["availability_preserving", "resource_preserving"],
      help="version swap policy (eagerflow extra)")
    a("--model_memory_limit_bytes", type=int, default=0,
      help="refuse loads past this total estimated model memory; 0 = no limit "
           "(eagerflow extra)")
    a("--rest_api_max_body_bytes", type=int, default=64 << 20,
      help="larger REST bodies get HTTP 413 (eagerflow extra)")
    a("--grpc_max_threads", type=int, default=16)
    a("--rest_api_num_threads", type=int, default=-1,
      help="threads running REST model calls; 0 runs them on the event loop; default: 64 "
           "with --enable_batching, else 0")
    a("--monitoring_config_file", default="",
      help="text-format MonitoringConfig; its prometheus_config.path moves the metrics "
           "(eagerflow serves them at /monitoring/prometheus/metrics by default)")
    a("--log_level", default="INFO")
    for flag in _ACCEPTED_NO_OP:
        a(flag, default=None, help="accepted for tensorflow_model_server compatibility; "
          "no effect")
    return p


# tensorflow_model_server flags that deployment scripts commonly pass and that have no
# meaning for eagerflow; accepting them keeps those scripts working.
_ACCEPTED_NO_OP = ["--tensorflow_session_parallelism", "--tensorflow_intra_op_parallelism",
                   "--tensorflow_inter_op_parallelism", "--enable_model_warmup",
                   "--rest_api_timeout_in_ms", "--grpc_channel_arguments",
                   "--allow_version_labels_for_unavailable_models", "--saved_model_tags",
                   "--per_process_gpu_memory_fraction", "--xla_cpu_compilation_enabled"]


def _configs(args):
    if args.model_config_file:
        return read_model_server_config(args.model_config_file)
    if not args.model_base_path:
        raise SystemExit("error: --model_base_path or --model_config_file is required")
    return [ModelConfig(args.model_name, args.model_base_path)]


def server_from_args(args, loader=None):
    """A (not yet started) :class:`ModelServer` for parsed CLI ``args``."""
    if args.port and args.port == args.rest_api_port:
        raise SystemExit("error: --port and --rest_api_port must differ")
    if args.port == 0 and args.rest_api_port == 0:
        raise SystemExit("error: at least one of --port and --rest_api_port must be on")
    batching = None
    if args.enable_batching:
        batching = BatchingConfig()
        if args.batching_parameters_file:
            with open(args.batching_parameters_file, encoding="utf-8") as f:
                batching = parse_batching_parameters(f.read())
    core = ServerCore(_configs(args), loader=loader, policy=args.aspired_version_policy,
                      file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
                      batching=batching, max_num_load_retries=args.max_num_load_retries,
                      load_retry_interval_s=args.load_retry_interval_micros / 1e6,
                      memory_limit_bytes=args.model_memory_limit_bytes or None)
    metrics_path = "/monitoring/prometheus/metrics"
    if args.monitoring_config_file:
        with open(args.monitoring_config_file, encoding="utf-8") as f:
            metrics_path = parse_monitoring_config(f.read()) or metrics_path
    return ModelServer(core, grpc_port=args.port or None, metrics_path=metrics_path,
                       rest_port=args.rest_api_port or None, host=args.host,
                       max_body_bytes=args.rest_api_max_body_bytes,
                       grpc_max_workers=args.grpc_max_threads,
                       rest_threads=None if args.rest_api_num_threads < 0
                       else args.rest_api_num_threads)


def main(argv=None, loader=None, ready=None):
    """Run the server until SIGINT/SIGTERM (or ``ready``'s stop event, for embedding).

    Args:
        argv: list of str flags (default ``sys.argv[1:]``).
        loader: optional :class:`~eagerflow.serving.loader.Loader`.
        ready: optional callable ``(server, stop_event)`` called once the ports are open.

    Returns:
        int exit status.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(message)s", stream=sys.stderr)
    server = server_from_args(args, loader)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"eagerflow model server: gRPC on {args.host}:{server.grpc_port}, REST on "
          f"{args.host}:{server.rest_port}", file=sys.stderr, flush=True)
    if ready is not None:
        ready(server, stop)
    try:
        wait = args.model_config_file_poll_wait_seconds
        while not stop.wait(wait if args.model_config_file and wait > 0 else 3600):
            if args.model_config_file and wait > 0:
                try:
                    server.core.reload_config(read_model_server_config(args.model_config_file))
                except (OSError, ValueError) as e:
                    log_event("config_reload_failed", error=str(e), level=logging.ERROR)
    finally:
        server.stop()
    return 0
