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
from . import loader
from .builder import SavedModelBuilder
from .signature_constants import *  # noqa: F401,F403  (TF >= 1.13 spells them here too)
from .signature_constants import __all__ as _sig_constants
from .tag_constants import GPU, SERVING, TPU, TRAINING

utils = signature_def_utils  # TF1's tf.saved_model.utils.build_tensor_info lives here too
Builder = SavedModelBuilder  # tf.saved_model.Builder (TF >= 1.13)


def contains_saved_model(export_dir):
    """True when ``export_dir`` holds a complete export (``tf.saved_model.contains_saved_model``)."""
    return is_complete(export_dir)


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None):
    """TF1's ``tf.saved_model.simple_save``: one ``serving_default`` predict signature.

    Args:
        session: ignored (eager).
        export_dir: the directory to create.
        inputs: dict alias -> ``ef.TensorSpec``.
        outputs: dict alias -> a callable of the inputs (by alias), as in
            :func:`predict_signature_def`.
    """
    b = SavedModelBuilder(export_dir)
    b.add_meta_graph_and_variables(session, [SERVING], signature_def_map={
        DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict_signature_def(inputs, outputs)})
    return b.save()

__all__ = ["ConcreteFunction", "Function", "TensorInfo", "TensorSpec", "function",
           "write_half_plus_two", "ExportFormatError", "LoadedModel", "Signature",
           "estimate_memory", "is_complete", "load", "parse_example_op", "save",
           "write_export", "TraceError", "builder", "signature_constants",
           "signature_def_utils", "tag_constants", "utils", "build_signature_def",
           "build_tensor_info", "classification_signature_def", "predict_signature_def",
           "regression_signature_def", "loader", "SavedModelBuilder", "Builder",
           "contains_saved_model", "simple_save", "SERVING", "TRAINING", "GPU",
           "TPU"] + list(_sig_constants)
