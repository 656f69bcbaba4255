"""Table initializers (``tf.lookup.KeyValueTensorInitializer``, ``TextFileInitializer``).

An initializer only holds the (key, value) pairs, read once into NumPy arrays on the host;
the tables (:mod:`eagerflow.lookup.tables`) build their search structures from them.
"""
import os

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..backend.dtypes import as_dtype

__all__ = ["TextFileIndex", "KeyValueTensorInitializer", "TextFileInitializer",
           "TextFileStringTableInitializer", "TextFileIdTableInitializer"]


class TextFileIndex:
    """Special column indices of :class:`TextFileInitializer` (``tf.lookup.TextFileIndex``)."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


def _kind(dtype, what):
    """``'string'``, ``'int'`` or ``'float'`` for a table key/value dtype."""
    dt = as_dtype(dtype)
    if dt.kind == "O":
        return dt, "string"
    if dt.kind in "iu":
        return dt, "int"
    if dt.kind == "f":
        return dt, "float"
    if dt.kind == "b":
        return dt, "bool"
    raise TypeError(f"{what} must be a string, integer, float or bool dtype, got {dt}")


def _host_array(x, what):
    if isinstance(x, Tensor):
        x = x._data
    if backend.is_array(x):
        a = backend.to_numpy(x)
    else:
        a = np.asarray(x)
        if a.dtype.kind in "US" and not isinstance(x, np.ndarray):
            a = np.array(x, dtype=object)  # keeps str and bytes items as they are
    if a.dtype.kind in "US":
        a = a.astype(object)
    if a.ndim != 1:
        if a.ndim == 0:
            raise ValueError(f"{what} must be a 1-D list/tensor, got a scalar")
        a = a.reshape(-1)
    return a


def _convert(a, dtype, kind, what):
    """``a`` as the table dtype (object for strings); a clear error on a mismatch."""
    if kind == "string":
        if a.size and a.dtype.kind != "O":
            raise TypeError(f"{what} must be strings for dtype string, got dtype {a.dtype}")
        if a.size and not all(isinstance(v, (str, bytes)) for v in a.tolist()):
            raise TypeError(f"{what} must contain only str/bytes values")
        return a.astype(object)
    if a.dtype.kind == "O" and a.size:
        raise TypeError(f"{what} must be numbers for dtype {dtype}, got strings")
    if kind == "int" and a.dtype.kind == "f":
        raise TypeError(f"{what} must be integers for dtype {dtype}, got dtype {a.dtype}")
    return a.astype(dtype)


class KeyValueTensorInitializer:
    """Initializes a table from two 1-D lists/tensors of keys and values.

    Args:
        keys: 1-D strings or integers.
        values: 1-D values, one per key.
        key_dtype: defaults to the keys' dtype (strings -> ``ef.string``, ints -> int64).
        value_dtype: defaults to the values' dtype.

    Raises:
        ValueError: keys and values of different lengths.
        TypeError: keys/values that do not fit the dtypes.

    Example:
        >>> init = KeyValueTensorInitializer(["a", "b"], [7, 8])
        >>> init.key_dtype, init.value_dtype
        (dtype('O'), dtype('int64'))
    """

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        k = _host_array(keys, "keys")
        v = _host_array(values, "values")
        if k.shape[0] != v.shape[0]:
            raise ValueError(f"KeyValueTensorInitializer: keys ({k.shape[0]}) and values "
                             f"({v.shape[0]}) must have the same length")
        kdt = key_dtype if key_dtype is not None else (
            np.int64 if k.dtype.kind in "iu" or k.size == 0 else k.dtype)
        vdt = value_dtype if value_dtype is not None else (
            np.int64 if v.dtype.kind in "iu" else v.dtype if v.size else np.int64)
        self.key_dtype, key_kind = _kind(kdt, "key_dtype")
        self.value_dtype, _ = _kind(vdt, "value_dtype")
        if key_kind not in ("string", "int"):
            raise TypeError(f"key_dtype must be a string or integer dtype, got {self.key_dtype}")
        self._keys = _convert(k, self.key_dtype, key_kind, "keys")
        self._values = _convert(v, self.value_dtype, _kind(self.value_dtype, "")[1], "values")
        self.name = name

    def pairs(self):
        """``(keys, values)`` as NumPy arrays."""
        return self._keys, self._values


def _read_lines(filename, vocab_size):
    if not isinstance(filename, (str, bytes, os.PathLike)) or not str(filename):
        raise ValueError(f"filename must be a non-empty path, got {filename!r}")
    path = os.fsdecode(filename)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"vocabulary file {path!r} does not exist")
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line starts no new one
    lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
    if vocab_size is not None:
        if len(lines) < vocab_size:
            raise ValueError(f"Invalid vocab_size in {path}: expected {vocab_size} but got "
                             f"{len(lines)}")
        lines = lines[:vocab_size]
    for i, ln in enumerate(lines):
        if not ln:
            raise ValueError(f"Invalid content in {path}: empty line found at line {i}")
    return path, lines


def _parse_field(raw, kind, dtype, path, lineno):
    if kind == "string":
        return raw.decode("utf-8", "surrogateescape")
    try:
        text = raw.decode("ascii").strip()
        if kind == "int":
            v = int(text)
            info = np.iinfo(dtype)
            if not info.min <= v <= info.max:
                raise ValueError
            return v
        return float(text)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"Field {raw!r} in line {lineno} of {path} is not a valid "
                         f"{dtype}") from None


class TextFileInitializer:
    """Initializes a table from a text file (``tf.lookup.TextFileInitializer``).

    Each line gives one (key, value) pair; a column index is either a 0-based column of
    the line split on ``delimiter``, ``TextFileIndex.WHOLE_LINE`` (the line itself) or
    ``TextFileIndex.LINE_NUMBER`` (the 0-based line number, int64). Empty lines are an
    error, as in TensorFlow.

    Args:
        filename: the text file (UTF-8; strings are decoded to ``str``).
        key_dtype, key_index: the keys' dtype and column.
        value_dtype, value_index: the values' dtype and column.
        vocab_size: read only this many lines (the file must have at least that many).
        delimiter: the column separator.
        value_index_offset: added to line numbers used as values.

    Raises:
        FileNotFoundError: a missing file.
        ValueError: bad indices/dtypes, too few lines or columns, unparsable fields.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "vocab.txt")
        >>> _ = open(p, "w").write("a\\nb\\n")
        >>> init = TextFileInitializer(p, "string", TextFileIndex.WHOLE_LINE, "int64",
        ...                            TextFileIndex.LINE_NUMBER)
        >>> init.pairs()[1].tolist()
        [0, 1]
    """

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index,
                 vocab_size=None, delimiter="\t", name=None, value_index_offset=0):
        self.key_dtype, key_kind = _kind(key_dtype, "key_dtype")
        self.value_dtype, value_kind = _kind(value_dtype, "value_dtype")
        for what, idx, kind, dt in (("key_index", key_index, key_kind, self.key_dtype),
                                    ("value_index", value_index, value_kind,
                                     self.value_dtype)):
            if not isinstance(idx, (int, np.integer)) or idx < -2:
                raise ValueError(f"{what} must be a column >= 0, TextFileIndex.WHOLE_LINE or "
                                 f"TextFileIndex.LINE_NUMBER, got {idx!r}")
            if idx == TextFileIndex.LINE_NUMBER and dt != np.int64:
                raise ValueError(f"{what} LINE_NUMBER needs dtype int64, got {dt}")
            if idx == TextFileIndex.WHOLE_LINE and kind not in ("string", "int"):
                raise ValueError(f"{what} WHOLE_LINE needs a string or integer dtype, got {dt}")
        if key_kind not in ("string", "int"):
            raise TypeError(f"key_dtype must be a string or integer dtype, got {self.key_dtype}")
        if vocab_size is not None and (not isinstance(vocab_size, (int, np.integer))
                                       or vocab_size < 1):
            raise ValueError(f"vocab_size must be an int > 0 or None, got {vocab_size!r}")
        if not isinstance(delimiter, str) or not delimiter:
            raise ValueError(f"delimiter must be a non-empty string, got {delimiter!r}")
        path, lines = _read_lines(filename, None if vocab_size is None else int(vocab_size))
        self.filename = path
        self.vocab_size = vocab_size
        self.name = name
        delim = delimiter.encode("utf-8")
        cols = {key_index, value_index} - {-1, -2}
        keys, values = [], []
        for i, ln in enumerate(lines):
            fields = ln.split(delim) if cols else None
            if cols and max(cols) >= len(fields):
                raise ValueError(f"Invalid number of columns in {path} line {i} ({ln!r}): "
                                 f"expected more than {max(cols)}, got {len(fields)}")
            out = []
            for idx, kind, dt, off in ((key_index, key_kind, self.key_dtype, 0),
                                       (value_index, value_kind, self.value_dtype,
                                        value_index_offset)):
                if idx == TextFileIndex.LINE_NUMBER:
                    out.append(i + off)
                else:
                    raw = ln if idx == TextFileIndex.WHOLE_LINE else fields[idx]
                    out.append(_parse_field(raw, kind, dt, path, i))
            keys.append(out[0])
            values.append(out[1])
        self._keys = _typed_array(keys, self.key_dtype)
        self._values = _typed_array(values, self.value_dtype)

    def pairs(self):
        """``(keys, values)`` as NumPy arrays."""
        return self._keys, self._values


def _typed_array(items, dtype):
    if dtype.kind == "O":
        a = np.empty(len(items), dtype=object)
        a[:] = items
        return a
    return np.array(items, dtype=dtype).reshape(-1)


class TextFileStringTableInitializer(TextFileInitializer):
    """Line number (int64) -> whole line (string), by default."""

    def __init__(self, filename, key_column_index=TextFileIndex.LINE_NUMBER,
                 value_column_index=TextFileIndex.WHOLE_LINE, vocab_size=None,
                 delimiter="\t", name="text_file_string_table_init"):
        super().__init__(filename, np.int64, key_column_index, "string", value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)


class TextFileIdTableInitializer(TextFileInitializer):
    """Whole line (string) -> line number (int64), by default."""

    def __init__(self, filename, key_column_index=TextFileIndex.WHOLE_LINE,
                 value_column_index=TextFileIndex.LINE_NUMBER, vocab_size=None,
                 delimiter="\t", name="text_file_id_table_init", key_dtype="string"):
        super().__init__(filename, key_dtype, key_column_index, np.int64, value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)
