"""TF Serving's protos (packages ``tensorflow.serving``, ``tensorflow``,
``tensorflow.error``) and the code generated from them; ``tensor.proto`` holds the command
that regenerates it."""
__all__ = ["apis_pb2", "apis_pb2_grpc", "error_codes_pb2", "model_server_config_pb2",
           "tensor_pb2"]
