"""Control flow run eagerly (``tf.cond``, ``tf.while_loop``, ``tf.map_fn``...)."""

__all__ = []
