"""Tensor manipulation ops TF files at the top level (``tf.roll``, ``tf.repeat``,
``tf.tensor_scatter_nd_update``...)."""

__all__ = []
