"""``tf.strings``: hashing and string ops (host-side, recorded as ops for export)."""
from .ops.string import (as_string, format, join, length, lower, reduce_join,
                         regex_full_match, regex_replace, split, strip, substr, to_hash_bucket,
                         to_hash_bucket_fast, to_hash_bucket_strong, to_number, upper)

__all__ = ["as_string", "format", "join", "length", "lower", "reduce_join", "regex_full_match",
           "regex_replace", "split", "strip", "substr", "to_hash_bucket",
           "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number", "upper"]
