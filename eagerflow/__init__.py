"""eagerflow: TensorFlow's high-level stack as an eager framework on NumPy/numba or CuPy.

Example:
    >>> import eagerflow as ef
    >>> w = ef.Variable([1.0, 2.0])
    >>> with ef.GradientTape() as tape:
    ...     loss = ef.reduce_sum(w * w)
    >>> tape.gradient(loss, w).numpy().tolist()
    [2.0, 4.0]
"""
__version__ = "0.1.0"

from . import backend  # noqa: E402
from .autograd import (GradientTape, IndexedSlices, SparseTensor, Tensor, TensorShape,
                       UnconnectedGradients, Variable, constant, convert_to_tensor,
                       custom_gradient, from_dlpack, grad, is_tensor, nest, no_grad,
                       stop_recording, value_and_grad)
from .backend import get_backend, gpu_available, memory_stats, set_backend
from .backend.tf_dtypes import DType, as_dtype
from .backend import dtypes as _np_dtypes
# TF's DType objects (equal to, and usable as, the NumPy dtypes eagerflow computes with)
(bool_, bfloat16, complex64, complex128, float16, float32, float64, int8, int16, int32, int64,
 string, uint8, uint16, uint32, uint64) = (as_dtype(getattr(_np_dtypes, _n)) for _n in (
    "bool_", "bfloat16", "complex64", "complex128", "float16", "float32", "float64", "int8",
    "int16", "int32", "int64", "string", "uint8", "uint16", "uint32", "uint64"))
half, double = float16, float64
from . import ops
from . import linalg
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .ops import random
from .ops.control_flow import scan  # tf.scan (the ops module eagerflow.ops.scan keeps its path)

del math  # (from the star import) ef.math is the tf.math namespace, eagerflow/math.py, lazy

bool = bool_  # noqa: A001  (TF spells it tf.bool)

__all__ = [
    "backend", "GradientTape", "IndexedSlices", "SparseTensor", "Tensor", "TensorShape",
    "UnconnectedGradients", "Variable", "constant", "convert_to_tensor", "custom_gradient",
    "from_dlpack", "grad", "is_tensor", "nest", "no_grad", "stop_recording",
    "value_and_grad", "get_backend", "gpu_available", "memory_stats", "set_backend",
    "as_dtype", "DType", "bool", "bfloat16", "complex64", "complex128", "double", "float16",
    "float32", "float64", "half", "int8", "int16", "int32", "int64", "string", "uint8",
    "uint16", "uint32", "uint64", "random", "ops", "linalg",
] + [n for n in _ops_all if n not in ("math", "random")]

# --- lazily imported parts ------------------------------------------------------------
# Subpackages above the core load on first use (``ef.estimator``...), so ``import
# eagerflow`` stays fast; TF1/TF2 top-level aliases resolve to them the same way.
_SUBPACKAGES = ("math", "nn", "losses", "layers", "train", "metrics", "variables", "data", "io",
                "estimator", "feature_column", "summary", "saved_model", "datasets", "lookup",
                "serving", "kernels", "quickstart", "strings", "sparse", "errors",
                "distribute", "config", "mixed_precision", "compat", "debugging", "dtypes",
                "gfile")
# namespaces whose module has another name (tf.logging: eagerflow.tf_logging, which must not
# shadow the standard library's logging inside the package)
_RENAMED = {"logging": "tf_logging"}
_ALIASES = {
    "function": ("saved_model", "function"), "TensorSpec": ("saved_model", "TensorSpec"),
    "get_variable": ("variables", "get_variable"),
    "variable_scope": ("variables", "variable_scope"),
    "AUTO_REUSE": ("variables", "AUTO_REUSE"), "VariableStore": ("variables", "VariableStore"),
    "trainable_variables": ("variables", "trainable_variables"),
    "global_variables": ("variables", "global_variables"),
    "local_variables": ("variables", "local_variables"),
    "get_collection": ("variables", "get_collection"),
    "add_to_collection": ("variables", "add_to_collection"),
    "GraphKeys": ("variables", "GraphKeys"),
    "get_variable_scope": ("variables", "get_variable_scope"),
    "zeros_initializer": ("variables", "zeros_initializer"),
    "ones_initializer": ("variables", "ones_initializer"),
    "constant_initializer": ("variables", "constant_initializer"),
    "random_normal_initializer": ("variables", "random_normal_initializer"),
    "random_uniform_initializer": ("variables", "random_uniform_initializer"),
    "truncated_normal_initializer": ("variables", "truncated_normal_initializer"),
    "glorot_uniform_initializer": ("variables", "glorot_uniform_initializer"),
    "glorot_normal_initializer": ("variables", "glorot_normal_initializer"),
    "variance_scaling_initializer": ("variables", "variance_scaling_initializer"),
    "orthogonal_initializer": ("variables", "orthogonal_initializer"),
    "fixed_size_partitioner": ("variables", "fixed_size_partitioner"),
    "min_max_variable_partitioner": ("variables", "min_max_variable_partitioner"),
    "sparse_tensor_to_dense": ("nn", "sparse_tensor_to_dense"),
    "sparse_reorder": ("nn", "sparse_reorder"),
    # TF1 top-level spellings of tf.sparse.*
    "sparse_tensor_dense_matmul": ("sparse", "sparse_dense_matmul"),
    "sparse_add": ("sparse", "add"), "sparse_concat": ("sparse", "concat"),
    "sparse_reshape": ("sparse", "reshape"), "sparse_reduce_sum": ("sparse", "reduce_sum"),
    "sparse_reduce_max": ("sparse", "reduce_max"), "sparse_retain": ("sparse", "retain"),
    "sparse_slice": ("sparse", "slice"), "sparse_split": ("sparse", "split"),
    "sparse_fill_empty_rows": ("sparse", "fill_empty_rows"),
    "sparse_to_indicator": ("sparse", "to_indicator"),
    "parse_example": ("io", "parse_example"),
    "fingerprint": ("ops.string", "fingerprint"), "as_string": ("ops.string", "as_string"),
    "string_to_hash_bucket_fast": ("ops.string", "string_to_hash_bucket_fast"),
    "string_to_hash_bucket_strong": ("ops.string", "string_to_hash_bucket_strong"),
    "string_split": ("ops.string", "string_split"),
    "string_join": ("ops.string", "string_join"),
    "string_strip": ("ops.string", "string_strip"),
    "string_to_number": ("ops.string", "string_to_number"),
    "regex_replace": ("ops.string", "regex_replace"),
    "sparse_cross_hashed": ("ops.cross", "sparse_cross_hashed"),
    "clip_by_norm": ("train.clipping", "clip_by_norm"),
    "clip_by_global_norm": ("train.clipping", "clip_by_global_norm"),
    "global_norm": ("train.clipping", "global_norm"),
    # TF1 spellings of the random ops and of tf.norm / tf.trace
    "random_normal": ("ops.random", "normal"), "random_uniform": ("ops.random", "uniform"),
    "truncated_normal": ("ops.random", "truncated_normal"),
    "random_shuffle": ("ops.random", "shuffle"), "multinomial": ("ops.random", "categorical"),
    "set_random_seed": ("ops.random", "set_seed"),
    "norm": ("linalg", "norm"), "trace": ("linalg", "trace"),
    # TF1 top-level spellings of the tf.math segment ops and of tf.math.confusion_matrix
    "segment_prod": ("ops.segment", "segment_prod"),
    "unsorted_segment_prod": ("ops.segment", "unsorted_segment_prod"),
    "sparse_segment_sum": ("ops.segment", "sparse_segment_sum_v1"),
    "sparse_segment_mean": ("ops.segment", "sparse_segment_mean_v1"),
    "sparse_segment_sqrt_n": ("ops.segment", "sparse_segment_sqrt_n_v1"),
    "confusion_matrix": ("ops.confusion", "confusion_matrix_v1"),
    # TF1 top-level spellings of tf.math's special functions (erfinv, ndtri, bessel_*: math only)
    "lgamma": ("ops.special", "lgamma"), "digamma": ("ops.special", "digamma"),
    "polygamma": ("ops.special", "polygamma"), "igamma": ("ops.special", "igamma"),
    "igammac": ("ops.special", "igammac"), "betainc": ("ops.special", "betainc"),
    "zeta": ("ops.special", "zeta"),
    "sparse_maximum": ("sparse", "maximum"), "sparse_minimum": ("sparse", "minimum"),
    "sparse_softmax": ("sparse", "softmax"), "cross": ("linalg", "cross"),
    "space_to_depth": ("nn", "space_to_depth"), "depth_to_space": ("nn", "depth_to_space"),
    "clip_by_value": ("train.clipping", "clip_by_value"),
    "saturate_cast": ("ops.array", "saturate_cast"), "bitcast": ("ops.array", "bitcast"),
    "substr": ("ops.string", "substr"), "reduce_join": ("ops.string", "reduce_join"),
    "string_to_hash_bucket": ("ops.string", "to_hash_bucket"),
    "clip_by_average_norm": ("train.clipping", "clip_by_average_norm"),
    # TF1 top-level asserts (TF1 signatures, ``data`` third; a string there is the message)
    "assert_equal": ("debugging", "assert_equal_v1"),
    "assert_none_equal": ("debugging", "assert_none_equal_v1"),
    "assert_greater": ("debugging", "assert_greater_v1"),
    "assert_greater_equal": ("debugging", "assert_greater_equal_v1"),
    "assert_less": ("debugging", "assert_less_v1"),
    "assert_less_equal": ("debugging", "assert_less_equal_v1"),
    "assert_negative": ("debugging", "assert_negative_v1"),
    "assert_positive": ("debugging", "assert_positive_v1"),
    "assert_non_negative": ("debugging", "assert_non_negative_v1"),
    "assert_non_positive": ("debugging", "assert_non_positive_v1"),
    "assert_near": ("debugging", "assert_near_v1"),
    "assert_rank": ("debugging", "assert_rank_v1"),
    "assert_rank_at_least": ("debugging", "assert_rank_at_least_v1"),
    "assert_rank_in": ("debugging", "assert_rank_in_v1"),
    "assert_type": ("debugging", "assert_type"),
    "assert_integer": ("debugging", "assert_integer"),
    "assert_scalar": ("debugging", "assert_scalar_v1"),
    "check_numerics": ("debugging", "check_numerics"),
    "is_numeric_tensor": ("debugging", "is_numeric_tensor"),
    "Assert": ("debugging", "Assert"),
    "print": ("ops.control_flow", "print_"),
    # TF1 top-level spellings: parsing specs, initializer ops, state ops
    "FixedLenFeature": ("io", "FixedLenFeature"), "VarLenFeature": ("io", "VarLenFeature"),
    "SparseFeature": ("io", "SparseFeature"),
    "FixedLenSequenceFeature": ("io", "FixedLenSequenceFeature"),
    "parse_single_example": ("io", "parse_single_example"),
    "parse_single_sequence_example": ("io", "parse_single_sequence_example"),
    "decode_csv": ("io", "decode_csv"),
    "global_variables_initializer": ("variables", "global_variables_initializer"),
    "local_variables_initializer": ("variables", "local_variables_initializer"),
    "tables_initializer": ("variables", "tables_initializer"),
    "variables_initializer": ("variables", "variables_initializer"),
    "initialize_all_variables": ("variables", "initialize_all_variables"),
    "initialize_local_variables": ("variables", "initialize_local_variables"),
    "is_variable_initialized": ("variables", "is_variable_initialized"),
    "assert_variables_initialized": ("variables", "assert_variables_initialized"),
    "report_uninitialized_variables": ("variables", "report_uninitialized_variables"),
    "assign": ("variables", "assign"), "assign_add": ("variables", "assign_add"),
    "assign_sub": ("variables", "assign_sub"),
    "get_logger": ("tf_logging", "get_logger"),
}


def __getattr__(name):
    import importlib
    if name in _SUBPACKAGES or name in _RENAMED:
        mod = importlib.import_module(f"{__name__}.{_RENAMED.get(name, name)}")
        globals()[name] = mod
        return mod
    if name in _ALIASES:
        pkg, attr = _ALIASES[name]
        value = getattr(importlib.import_module(f"{__name__}.{pkg}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'eagerflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES) | set(_RENAMED) | set(_ALIASES))


__all__ += list(_SUBPACKAGES) + list(_RENAMED) + list(_ALIASES)
