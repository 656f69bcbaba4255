"""``eagerflow.io``: TFRecord files, ``tf.train.Example`` protos, Example and CSV parsing.

Example:
    >>> from eagerflow import io as efio
    >>> ex = efio.Example(features=efio.Features(feature={
    ...     "x": efio.Feature(int64_list=efio.Int64List(value=[3]))}))
    >>> efio.parse_single_example(ex.SerializeToString(),
    ...                           {"x": efio.FixedLenFeature([], "int64")})["x"].item()
    3
"""
from .. import gfile  # tf.io.gfile
from .csv import decode_csv
from .errors import (AlreadyExistsError, DataLossError, InvalidArgumentError, NotFoundError,
                     OpError, OutOfRangeError)
from .example import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                      FloatList, Int64List, SequenceExample)
from .parse import parse_example, parse_single_example
from .parsing_config import (FixedLenFeature, FixedLenSequenceFeature, SparseFeature,
                             VarLenFeature)
from .sequence import parse_sequence_example, parse_single_sequence_example
from .tfrecord import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,
                       tf_record_iterator)

__all__ = [
    "TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType", "tf_record_iterator",
    "Example", "Features", "Feature", "BytesList", "FloatList", "Int64List",
    "SequenceExample", "FeatureList", "FeatureLists",
    "FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature",
    "parse_example", "parse_single_example", "parse_sequence_example",
    "parse_single_sequence_example", "decode_csv",
    "OpError", "InvalidArgumentError", "DataLossError", "OutOfRangeError", "NotFoundError",
    "AlreadyExistsError", "gfile",
]
