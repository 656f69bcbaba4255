"""SavedModel export and loading: traced op graphs with a dynamic batch dimension, variables
in safetensors, signatures TF Serving understands — and no pickles.

Example:
    >>> import tempfile, numpy as np, eagerflow as ef
    >>> from eagerflow import saved_model
    >>> d = tempfile.mkdtemp() + "/1"
    >>> _ = saved_model.write_half_plus_two(d)
    >>> sig = saved_model.load(d).signatures["serving_default"]
    >>> sig(x=np.array([[1.0], [2.0], [5.0]], np.float32))["y"].ravel().tolist()
    [2.5, 3.0, 4.5]
"""
from .function import ConcreteFunction, Function, TensorInfo, TensorSpec, function
from .half_plus_two import write_half_plus_two
from .load import ExportFormatError, LoadedModel, Signature, estimate_memory, is_complete, load
from .parsing import parse_example_op
from .save import save, write_export
from .tracer import TraceError

__all__ = ["ConcreteFunction", "Function", "TensorInfo", "TensorSpec", "function",
           "write_half_plus_two", "ExportFormatError", "LoadedModel", "Signature",
           "estimate_memory", "is_complete", "load", "parse_example_op", "save",
           "write_export", "TraceError"]
