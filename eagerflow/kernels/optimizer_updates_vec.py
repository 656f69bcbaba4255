"""GPU dense optimizer updates with 128-bit loads: the fast path of
:func:`eagerflow.kernels.optimizer_updates.apply_dense_gpu`.

The update rules' C bodies (``optimizer_updates.RULES``) are expanded once per vector lane
(``float4`` / ``double2``), so each thread moves 16 bytes per array per iteration, as
PyTorch's fused optimizers do. Used when the element count is a multiple of the lane count
and every buffer is 16-byte aligned; the ElementwiseKernel form handles the rest.
"""
import re

import numpy as np

from eagerflow.backend import _cupy

from . import _cuda

__all__ = ["vector_ok", "apply_dense_vec"]

_VEC = {np.dtype(np.float32): ("float", "float4", 4), np.dtype(np.float64): ("double", "double2", 2)}
_kernels = {}


def vector_ok(var, arrays):
    """True when the vector kernel applies to these buffers."""
    spec = _VEC.get(var.dtype)
    if spec is None or var.size % spec[2]:
        return False
    return all(a.data.ptr % 16 == 0 for a in arrays)


def _source(name, rule, dtype, slots, body, array_names, scalar_names):
    t, vt, w = _VEC[np.dtype(dtype)]
    names = ["v"] + list(slots)
    params = ([f"const {vt}* __restrict__ g_"] + [f"{vt}* __restrict__ {n}_" for n in names]
              + [f"const {t}* __restrict__ {a}_arr" for a in array_names]
              + [f"const {t} {s}" for s in scalar_names] + ["const long long n_vec"])
    lanes = []
    for c in "xyzw"[:w]:
        b = body
        for n in ["g"] + names:
            b = re.sub(rf"\b{n}\b", f"{n}_v.{c}", b)
        lanes.append("{" + b + "}")
    loads = " ".join(f"{vt} {n}_v = {n}_[k];" for n in ["g"] + names)
    stores = " ".join(f"{n}_[k] = {n}_v;" for n in names)
    pre = " ".join(f"const T {a} = {a}_arr[0];" for a in array_names)
    return f"""
typedef {t} T;
extern "C" __global__ void {name}({", ".join(params)}) {{
    {pre}
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n_vec;
         k += stride) {{
        {loads}
        {" ".join(lanes)}
        {stores}
    }}
}}
"""


def apply_dense_vec(rule, dtype, slots, body, array_names, scalar_names, var, slot_arrays,
                    grad, arrays, scalars):
    """Launches the vector kernel of ``rule`` (arguments prepared by the caller)."""
    key = (rule, np.dtype(dtype).name)
    kern = _kernels.get(key)
    if kern is None:
        cp = _cupy.load()
        name = f"ef_vec_{rule}_{key[1]}"
        kern = _kernels[key] = cp.RawKernel(
            _source(name, rule, dtype, slots, body, array_names, scalar_names), name)
    w = _VEC[np.dtype(dtype)][2]
    n_vec = var.size // w
    _cuda.launch(kern, n_vec, (grad, var, *slot_arrays, *arrays, *scalars, np.int64(n_vec)))
