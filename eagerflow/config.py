"""``ef.config``: process-wide numeric settings (``tf.config``'s TF32 switch).

Example:
    >>> import eagerflow as ef
    >>> ef.config.set_allow_tf32(False)
    >>> ef.config.get_allow_tf32()
    False
"""
from types import SimpleNamespace

from .kernels import gemm as _gemm

__all__ = ["set_allow_tf32", "get_allow_tf32", "experimental"]


def set_allow_tf32(enabled):
    """Lets float32 matrix products on the GPU run on TF32 tensor cores.

    Off by default (eagerflow's float32 is IEEE float32 unless asked). TF32 keeps float32's
    range with a 10-bit mantissa: about 7-8x the fp32 GEMM rate on an H100 at ~3e-4 relative
    error per product. No effect on the CPU backend. The environment variable
    ``EAGERFLOW_TF32=1`` sets it at start-up.

    Args:
        enabled: bool.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"set_allow_tf32: enabled must be a bool, got {enabled!r}")
    _gemm.set_allow_tf32(enabled)


def get_allow_tf32():
    """Whether float32 GPU matrix products may use TF32."""
    return _gemm.allow_tf32()


# TensorFlow's spellings (tf.config.experimental.*)
experimental = SimpleNamespace(enable_tensor_float_32_execution=set_allow_tf32,
                               tensor_float_32_execution_enabled=get_allow_tf32)
