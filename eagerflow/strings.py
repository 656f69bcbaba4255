"""``tf.strings``: hashing and string ops (host-side, recorded as ops for export)."""
from .ops.string import (as_string, join, length, lower, regex_replace, split, strip,
                         to_hash_bucket_fast, to_hash_bucket_strong, to_number, upper)

__all__ = ["as_string", "join", "length", "lower", "regex_replace", "split", "strip",
           "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number", "upper"]
