"""TF1's ``tf.losses`` (``tf.compat.v1.losses``): loss functions with ``weights`` and
``Reduction`` modes (``SUM_BY_NONZERO_WEIGHTS`` by default), and the loss collection
(``add_loss``, ``get_losses``, ``get_total_loss``...).

Example:
    >>> from eagerflow import losses
    >>> float(losses.mean_squared_error([1.0, 2.0], [1.0, 4.0]).numpy())
    2.0
"""
from .collection import (add_loss, get_losses, get_regularization_loss,
                         get_regularization_losses, get_total_loss)
from .loss_functions import (absolute_difference, cosine_distance, hinge_loss, huber_loss,
                             log_loss, mean_pairwise_squared_error, mean_squared_error,
                             sigmoid_cross_entropy, softmax_cross_entropy,
                             sparse_softmax_cross_entropy)
from .reduction import Reduction, compute_weighted_loss

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "cosine_distance",
           "hinge_loss", "huber_loss", "log_loss", "mean_pairwise_squared_error",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy", "add_loss", "get_losses", "get_regularization_loss",
           "get_regularization_losses", "get_total_loss"]
