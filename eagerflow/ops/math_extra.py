"""More of ``tf.math`` (complex parts, ``in_top_k``, ``invert_permutation``...).

``__all__`` lists every name (all are in ``tf.math``); ``TOP_LEVEL`` the ones TF also
exports at the top level."""

__all__ = []
TOP_LEVEL = []
