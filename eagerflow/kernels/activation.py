"""ReLU and its gradient in one pass each: numba ufuncs on the CPU, CuPy ElementwiseKernels
on the GPU.

``relu(x) = x if x > 0 else 0`` (so NaN gives 0, as ``where(x > 0, x, 0)`` does) and
``relu_grad(g, y) = g if y > 0 else 0`` (TensorFlow's ``ReluGrad``: zero where the
activation is not positive, the gradient at 0 is 0). On the CPU this replaces a
``where(x > 0, x, zeros_like(x))`` chain of three passes and two temporaries; NumPy's
``where`` with a data-dependent mask ran at ~0.25 G elements/s on the development machine
against ~3.5 G/s for the ufunc (``bench/NOTES.md``). float16 and other dtypes fall back to
NumPy/CuPy's ``where``.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.activation import relu, relu_grad
    >>> relu(np.array([-1.0, 2.0], np.float32)).tolist()
    [0.0, 2.0]
    >>> relu_grad(np.array([5.0, 5.0]), np.array([0.0, 2.0])).tolist()
    [0.0, 5.0]
"""
import numba
import numpy as np
from numba import njit

from eagerflow.backend import _cupy
from . import _cuda
from eagerflow.backend.dtypes import bfloat16

__all__ = ["relu", "relu_grad", "bias_relu", "relu_cpu", "relu_grad_cpu", "relu_gpu",
           "relu_grad_gpu"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))
# the GPU kernels are templates over T; CUDA's bfloat16 type has the operators they use
_GPU_FAST = _FAST + (bfloat16,)


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
def _relu_cpu(x):
    return x if x > 0 else 0


@numba.vectorize(["float32(float32, float32)", "float64(float64, float64)"], cache=True)
def _relu_grad_cpu(g, y):
    return g if y > 0 else 0


@njit(cache=True, nogil=True, boundscheck=False)
def _bias_relu_cpu(x, b, out):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j] + b[j]
            out[i, j] = v if v > 0 else 0



def relu_cpu(x):
    """ReLU of a NumPy array (same dtype)."""
    if x.dtype in _FAST:
        with np.errstate(invalid="ignore"):  # a NaN compared is not an error here
            return np.asarray(_relu_cpu(x), dtype=x.dtype)
    return np.where(x > 0, x, np.zeros_like(x))


def relu_grad_cpu(g, y):
    """``g`` where ``y > 0``, else 0 (NumPy arrays of one float dtype; broadcasting)."""
    if g.dtype in _FAST and y.dtype == g.dtype:
        with np.errstate(invalid="ignore"):
            return np.asarray(_relu_grad_cpu(g, y), dtype=g.dtype)
    out = np.where(y > 0, g, np.zeros((), g.dtype))
    return np.asarray(out, dtype=g.dtype)


def bias_relu(x, b):
    """``relu(x + b)`` in one pass, ``b`` of shape ``(x.shape[-1],)``, on the arrays'
    device (the forward of ``tf.nn.relu_layer`` after its matmul)."""
    if x.ndim < 1 or b.shape != (x.shape[-1],):
        raise ValueError(f"bias_relu: bias of shape {tuple(b.shape)} does not match the last "
                         f"axis of {tuple(x.shape)}")
    if isinstance(x, np.ndarray):
        b = np.asarray(b)
        if x.dtype in _FAST and b.dtype == x.dtype and x.size:
            x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
            out = np.empty(x2.shape, dtype=x.dtype)
            _bias_relu_cpu(x2, b, out)
            return out.reshape(x.shape)
        return relu_cpu(np.asarray(x + b))
    if b.dtype != x.dtype or x.dtype not in _GPU_FAST:
        return relu_gpu(x + b)
    cp = _cupy.load()
    xc = cp.ascontiguousarray(x)
    out = cp.empty_like(xc)  # C-contiguous, so flat index i has bias index i % n
    _gpu_kernel("bias_relu")(xc, cp.ascontiguousarray(b), np.int64(x.shape[-1]), out)
    return out


_GPU_SRC = {
    "relu": ("T x", "T y", "y = x > (T)0 ? x : (T)0"),
    # x and y are C-contiguous and read flat: the bias index is i % n
    "bias_relu": ("raw T x, raw T b, int64 n", "T y",
                  "const T v = x[i] + b[i % n]; y = v > (T)0 ? v : (T)0"),
    "relu_grad": ("T g, T y", "T d", "d = y > (T)0 ? g : (T)0"),
}


def _gpu_kernel(name):
    return _cuda.elementwise(*_GPU_SRC[name], f"ef_{name}")


def relu_gpu(x):
    """ReLU of a CuPy array: one ElementwiseKernel launch (float32/64, bfloat16; else
    ``where``)."""
    if x.dtype not in _GPU_FAST:
        cp = _cupy.load()
        return cp.where(x > 0, x, cp.zeros((), x.dtype))
    return _gpu_kernel("relu")(x)


def relu_grad_gpu(g, y):
    """``g`` where ``y > 0``, else 0 (CuPy arrays of one dtype): one launch."""
    if y.dtype != g.dtype:
        y = y.astype(g.dtype)
    if g.dtype not in _GPU_FAST:
        cp = _cupy.load()
        return cp.where(y > 0, g, cp.zeros((), g.dtype))
    return _gpu_kernel("relu_grad")(g, y)


def relu(x):
    """ReLU on the array's own device."""
    if isinstance(x, (np.ndarray, np.generic)):
        return relu_cpu(np.asarray(x))
    return relu_gpu(x)


def relu_grad(g, y):
    """ReLU's gradient ``g * (y > 0)`` (zero at 0) on the arrays' device."""
    if isinstance(g, (np.ndarray, np.generic)):
        return relu_grad_cpu(np.asarray(g), np.asarray(y))
    return relu_grad_gpu(g, y)
