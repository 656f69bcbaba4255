"""eagerflow: TensorFlow's high-level stack as an eager framework on NumPy/numba or CuPy.

Example:
    >>> import eagerflow as ef
    >>> w = ef.Variable([1.0, 2.0])
    >>> with ef.GradientTape() as tape:
    ...     loss = ef.reduce_sum(w * w)
    >>> tape.gradient(loss, w).numpy().tolist()
    [2.0, 4.0]
"""
from . import backend
from .autograd import (GradientTape, IndexedSlices, SparseTensor, Tensor, TensorShape,
                       UnconnectedGradients, Variable, constant, convert_to_tensor,
                       custom_gradient, from_dlpack, grad, is_tensor, nest, no_grad,
                       stop_recording, value_and_grad)
from .backend import get_backend, gpu_available, memory_stats, set_backend
from .backend.dtypes import (as_dtype, bool_, complex64, complex128, double, float16, float32,
                             float64, half, int8, int16, int32, int64, string, uint8, uint16,
                             uint32, uint64)
from . import ops
from . import linalg
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .ops import random
from .ops import math as math

bool = bool_  # noqa: A001  (TF spells it tf.bool)
__version__ = "0.1.0"

__all__ = [
    "backend", "GradientTape", "IndexedSlices", "SparseTensor", "Tensor", "TensorShape",
    "UnconnectedGradients", "Variable", "constant", "convert_to_tensor", "custom_gradient",
    "from_dlpack", "grad", "is_tensor", "nest", "no_grad", "stop_recording",
    "value_and_grad", "get_backend", "gpu_available", "memory_stats", "set_backend",
    "as_dtype", "bool", "complex64", "complex128", "double", "float16", "float32", "float64",
    "half", "int8", "int16", "int32", "int64", "string", "uint8", "uint16", "uint32",
    "uint64", "random", "math", "ops", "linalg",
] + [n for n in _ops_all if n not in ("math", "random")]
