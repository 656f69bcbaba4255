"""``tf.train.Example`` and friends as protobuf messages, wire-compatible with TensorFlow.

Generated from ``example.proto`` (same package and field numbers as TensorFlow's
``core/example/{feature,example}.proto``). Messages have keyword constructors,
``SerializeToString()``, ``FromString()`` and ``ParseFromString()``.

Example:
    >>> ex = Example(features=Features(feature={
    ...     "x": Feature(float_list=FloatList(value=[1.0]))}))
    >>> ex.SerializeToString().hex()
    '0a0f0a0d0a0178120812060a040000803f'
"""
from .example_pb2 import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                          FloatList, Int64List, SequenceExample)

__all__ = ["BytesList", "FloatList", "Int64List", "Feature", "Features", "FeatureList",
           "FeatureLists", "Example", "SequenceExample"]
