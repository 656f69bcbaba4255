"""``tf.debugging``: assertions and numeric checks, run eagerly."""

__all__ = []
