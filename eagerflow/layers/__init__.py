"""``tf.layers``: layer classes and functional forms whose variables go through the store.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow import layers
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default() as store:
    ...     h = layers.dense(ef.ones((2, 3)), 4, activation="relu")
    ...     y = layers.dense(h, 1)
    ...     store.names()
    ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias']
"""
from .base import InputSpec, Layer, get_activation
from .convolutional import (AveragePooling1D, AveragePooling2D, AveragePooling3D, Conv1D,
                            Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, MaxPooling1D,
                            MaxPooling2D, MaxPooling3D, SeparableConv1D, SeparableConv2D,
                            average_pooling1d, average_pooling2d, average_pooling3d, conv1d,
                            conv2d, conv2d_transpose, conv3d, conv3d_transpose, max_pooling1d,
                            max_pooling2d, max_pooling3d, separable_conv1d, separable_conv2d)
from .core import Dense, Dropout, Embedding, Flatten, dense, dropout, flatten
from .normalization import BatchNormalization, batch_normalization
from .sequential import Sequential

__all__ = [
    "InputSpec", "Layer", "get_activation", "Dense", "Dropout", "Embedding", "Flatten",
    "dense", "dropout", "flatten", "BatchNormalization", "batch_normalization", "Sequential",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "Conv1D", "Conv2D",
    "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "SeparableConv1D", "SeparableConv2D", "average_pooling1d",
    "average_pooling2d", "average_pooling3d", "conv1d", "conv2d", "conv2d_transpose",
    "conv3d", "conv3d_transpose", "max_pooling1d", "max_pooling2d", "max_pooling3d",
    "separable_conv1d", "separable_conv2d",
]
