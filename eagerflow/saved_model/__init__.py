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
from . import builder, signature_constants, signature_def_utils, tag_constants
from .function import ConcreteFunction, Function, TensorInfo, TensorSpec, function
from .half_plus_two import write_half_plus_two
from .load import ExportFormatError, LoadedModel, Signature, estimate_memory, is_complete, load
from .parsing import parse_example_op
from .save import save, write_export
from .signature_def_utils import (build_signature_def, build_tensor_info,
                                  classification_signature_def, predict_signature_def,
                                  regression_signature_def)
from .tracer import TraceError

utils = signature_def_utils  # TF1's tf.saved_model.utils.build_tensor_info lives here too

__all__ = ["ConcreteFunction", "Function", "TensorInfo", "TensorSpec", "function",
           "write_half_plus_two", "ExportFormatError", "LoadedModel", "Signature",
           "estimate_memory", "is_complete", "load", "parse_example_op", "save",
           "write_export", "TraceError", "builder", "signature_constants",
           "signature_def_utils", "tag_constants", "utils", "build_signature_def",
           "build_tensor_info", "classification_signature_def", "predict_signature_def",
           "regression_signature_def"]
