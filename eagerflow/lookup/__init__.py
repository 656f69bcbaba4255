"""``tf.lookup``: static hash and vocabulary tables with TensorFlow's ids.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow import lookup
    >>> init = lookup.KeyValueTensorInitializer(["a", "b"], [0, 1])
    >>> lookup.StaticVocabularyTable(init, num_oov_buckets=2).lookup(["b", "c"]).numpy().tolist()
    [1, 2]
"""
from .index_tables import (index_table_from_file, index_table_from_tensor,
                           index_to_string_table_from_file, index_to_string_table_from_tensor)
from .initializers import (KeyValueTensorInitializer, TextFileIdTableInitializer, TextFileIndex,
                           TextFileInitializer, TextFileStringTableInitializer)
from .tables import (FastHashSpec, HashTable, HasherSpec, IdTableWithHashBuckets,
                     StaticHashTable, StaticVocabularyTable, StrongHashSpec)

__all__ = [
    "StaticHashTable", "HashTable", "StaticVocabularyTable", "IdTableWithHashBuckets",
    "KeyValueTensorInitializer", "TextFileInitializer", "TextFileIndex",
    "TextFileStringTableInitializer", "TextFileIdTableInitializer", "HasherSpec",
    "FastHashSpec", "StrongHashSpec", "index_table_from_tensor", "index_table_from_file",
    "index_to_string_table_from_tensor", "index_to_string_table_from_file",
]
