"""``tf.nn``: activations, softmax and cross-entropies, embeddings, sampled losses,
normalization and moments, loss scaling, convolution, pooling and block rearrangements.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow import nn
    >>> nn.relu(ef.constant([-1.0, 2.0])).numpy().tolist()
    [0.0, 2.0]
"""
from .activation import (bias_add, crelu, dropout, elu, gelu, leaky_relu, relu, relu6,
                         relu_layer, selu, sigmoid, silu, softplus, softsign, swish, tanh)
from .conv import (conv1d, conv1d_transpose, conv2d, conv2d_transpose, conv3d,
                   conv3d_transpose, convolution, depthwise_conv2d, separable_conv1d,
                   separable_conv2d)
from .cross_entropy import (compute_average_loss, log_poisson_loss, log_softmax,
                            scale_regularization_loss, sigmoid_cross_entropy_with_logits,
                            softmax,
                            softmax_cross_entropy_with_logits,
                            softmax_cross_entropy_with_logits_v2,
                            sparse_softmax_cross_entropy_with_logits,
                            weighted_cross_entropy_with_logits)
from .interaction import dcn_cross, fm_interaction
from .embedding import (embedding_lookup, embedding_lookup_sparse, sparse_reorder,
                        sparse_tensor_to_dense)
from .normalization import (batch_normalization, fused_batch_norm, in_top_k, l2_loss,
                            l2_normalize, local_response_normalization, lrn, moments, top_k,
                            weighted_moments, zero_fraction)
from .pool import (avg_pool, avg_pool1d, avg_pool2d, avg_pool3d, depth_to_space, max_pool,
                   max_pool1d, max_pool2d, max_pool3d, pool, space_to_depth)
from .safe_embedding import safe_embedding_lookup_sparse
from .sampled import (CandidateSamplerResult, compute_sampled_logits,
                      fixed_unigram_candidate_sampler, log_uniform_candidate_sampler, nce_loss,
                      sampled_softmax_loss, uniform_candidate_sampler)


__all__ = [
    "bias_add", "crelu", "dropout", "elu", "gelu", "leaky_relu", "relu", "relu6",
    "relu_layer", "selu",
    "sigmoid", "silu", "softplus", "softsign", "swish", "tanh",
    "conv1d", "conv1d_transpose", "conv2d", "conv2d_transpose", "conv3d", "conv3d_transpose",
    "convolution", "depthwise_conv2d", "separable_conv1d", "separable_conv2d",
    "embedding_lookup", "embedding_lookup_sparse", "safe_embedding_lookup_sparse",
    "fm_interaction", "dcn_cross",
    "sparse_reorder", "sparse_tensor_to_dense",
    "batch_normalization", "fused_batch_norm", "l2_loss", "l2_normalize",
    "local_response_normalization", "lrn", "moments", "top_k", "in_top_k",
    "zero_fraction",
    "avg_pool", "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool", "max_pool1d",
    "max_pool2d", "max_pool3d", "pool",
    "CandidateSamplerResult", "compute_sampled_logits", "fixed_unigram_candidate_sampler",
    "log_uniform_candidate_sampler", "nce_loss", "sampled_softmax_loss",
    "uniform_candidate_sampler",
    "log_poisson_loss", "log_softmax", "sigmoid_cross_entropy_with_logits", "softmax",
    "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits", "weighted_cross_entropy_with_logits",
    "weighted_moments", "compute_average_loss", "scale_regularization_loss", "space_to_depth",
    "depth_to_space",
]
