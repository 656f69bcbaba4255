"""``tf.math``: TensorFlow's math namespace in one place.

The elementwise ops of :mod:`eagerflow.ops.math`, plus what TF also files under
``tf.math``: reductions (``reduce_sum``...), ``argmax``/``argmin``, ``cumsum``/``cumprod``/
``cumulative_logsumexp``, the segment ops (sorted, unsorted and sparse), ``bincount``,
``count_nonzero``, ``confusion_matrix``, and ``softmax``, ``log_softmax``,
``softplus``, ``l2_normalize``, ``top_k``, ``zero_fraction`` (the same functions as
``ef.nn``'s).

Example:
    >>> import eagerflow as ef
    >>> float(ef.math.reduce_sum(ef.math.log(ef.constant([1.0, 1.0]))))
    0.0
"""
from .nn.activation import softplus
from .nn.cross_entropy import log_softmax, softmax
from .nn.normalization import l2_normalize, top_k, zero_fraction
from .ops.math import *  # noqa: F401,F403
from .ops.math import __all__ as _elementwise
from .ops.reduce import (argmax, argmin, count_nonzero, reduce_all, reduce_any,
                         reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod,
                         reduce_std, reduce_sum, reduce_variance)
from .ops.confusion import confusion_matrix
from .ops.scan import cumprod, cumsum, cumulative_logsumexp
from .ops.segment import (bincount, segment_max, segment_mean, segment_min, segment_prod,
                          segment_sqrt_n, segment_sum, sparse_segment_mean,
                          sparse_segment_sqrt_n, sparse_segment_sum, unsorted_segment_max,
                          unsorted_segment_mean, unsorted_segment_min, unsorted_segment_prod,
                          unsorted_segment_sqrt_n, unsorted_segment_sum)
from .ops import special  # tf.math.special (bessel_i0, bessel_i0e, bessel_i1, bessel_i1e)
from .ops.special import *  # noqa: F401,F403
from .ops.special import __all__ as _special
from .ops.math_extra import *  # noqa: F401,F403
from .ops.math_extra import __all__ as _extra

__all__ = list(_elementwise) + [
    "argmax", "argmin", "count_nonzero", "reduce_all", "reduce_any", "reduce_logsumexp",
    "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_std", "reduce_sum",
    "reduce_variance", "cumprod", "cumsum", "bincount", "segment_max", "segment_mean",
    "segment_min", "segment_sqrt_n", "segment_sum", "unsorted_segment_max",
    "unsorted_segment_mean", "unsorted_segment_min", "unsorted_segment_sqrt_n",
    "unsorted_segment_sum", "softplus", "log_softmax", "softmax", "l2_normalize", "top_k",
    "zero_fraction", "segment_prod", "unsorted_segment_prod", "sparse_segment_sum",
    "sparse_segment_mean", "sparse_segment_sqrt_n", "cumulative_logsumexp", "confusion_matrix",
]
__all__ += list(_special) + ["special"] + list(_extra)
