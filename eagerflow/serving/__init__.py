"""``eagerflow.serving``: a TensorFlow-Serving-compatible model server.

Source (polls base paths) -> Loader -> Manager (version policies, reference-counted
handles) -> REST (an ASGI app on uvicorn: predict/classify/regress dispatched on the raw
ASGI scope, the rest through Starlette) and gRPC (grpcio) front ends speaking TF Serving's
protocols, with optional request batching and Prometheus metrics.

Example:
    >>> from eagerflow import serving
    >>> core = serving.ServerCore([serving.ModelConfig("half_plus_two", "/models/hp2")])
    ... # doctest: +SKIP
    >>> with serving.ModelServer(core, grpc_port=8500, rest_port=8501):  # doctest: +SKIP
    ...     pass

Command line: ``python -m eagerflow.serving --model_name NAME --model_base_path DIR``.
"""
from .batching import BatchScheduler
from .config import (BatchingConfig, ModelConfig, parse_batching_parameters,
                     parse_model_server_config, read_model_server_config)
from .core import ServerCore
from .errors import ServingError
from .loader import Loader
from .manager import AspiredVersionsManager, Servable, ServableHandle
from .metrics import Metrics
from .policy import availability_preserving, resource_preserving
from .server import ModelServer


def main(argv=None):
    """Run the model server CLI (see :mod:`eagerflow.serving.__main__`)."""
    from .cli import main as _main
    return _main(argv)


__all__ = ["ServerCore", "ModelServer", "ModelConfig", "BatchingConfig", "Loader",
           "AspiredVersionsManager", "Servable", "ServableHandle", "BatchScheduler",
           "Metrics", "ServingError", "availability_preserving", "resource_preserving",
           "parse_model_server_config", "read_model_server_config",
           "parse_batching_parameters", "main"]
