"""Tensors, variables and reverse-mode autodiff (tape, registry, function transforms)."""
from . import nest, registry
from .functional import custom_gradient, grad, value_and_grad
from .indexed_slices import IndexedSlices
from .registry import DeviceMismatchError, defvjp, defvjp_all, execute, register
from .sparse_tensor import SparseTensor
from .tape import GradientTape, UnconnectedGradients, no_grad, recording, stop_recording
from .tensor import Tensor, TensorShape, constant, convert_to_tensor, from_dlpack, is_tensor
from .variable import Variable

__all__ = [
    "Tensor", "TensorShape", "Variable", "IndexedSlices", "SparseTensor", "GradientTape",
    "UnconnectedGradients", "no_grad", "stop_recording", "recording", "grad",
    "value_and_grad", "custom_gradient", "constant", "convert_to_tensor", "is_tensor",
    "from_dlpack", "register", "defvjp", "defvjp_all", "execute", "registry", "nest",
    "DeviceMismatchError",
]
