"""``decode_csv``: CSV records to typed columns (``tf.io.decode_csv``).

Example:
    >>> cols = decode_csv([b"1,a,2.5", b",b,"], record_defaults=[[0], [""], [0.0]])
    >>> [c.tolist() for c in cols]
    [[1, 0], [b'a', b'b'], [2.5, 0.0]]
"""
import csv as _csv

import numpy as np

from eagerflow.backend import dtypes as _dtypes

from .errors import InvalidArgumentError

__all__ = ["decode_csv"]

_OK = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64)} | {np.dtype(object)}


def _column_default(d, i):
    """(dtype, default or None if required) for one record_defaults entry."""
    if isinstance(d, (str, np.dtype, type)) and not isinstance(d, bytes) and (
            not isinstance(d, str) or d in ("float32", "float64", "int32", "int64", "string")):
        return _dtypes.as_dtype(d), None
    arr = np.asarray(d)
    if arr.dtype.kind in "SU" or arr.dtype.kind == "O":
        dtype = np.dtype(object)
    elif arr.dtype == np.float64 and not isinstance(d, np.ndarray):
        dtype = np.dtype(np.float32)
    elif arr.dtype.kind in "iu" and not isinstance(d, np.ndarray):
        dtype = np.dtype(np.int64) if arr.dtype.itemsize >= 4 else arr.dtype
    else:
        dtype = arr.dtype
    if dtype not in _OK:
        raise ValueError(f"record_defaults[{i}]: unsupported dtype {arr.dtype}; use float32, "
                         "float64, int32, int64 or string")
    if arr.size == 0:
        return dtype, None
    if arr.size != 1:
        raise ValueError(f"record_defaults[{i}] must hold at most one value, got {arr.size}")
    v = arr.reshape(-1)[0]
    if dtype.kind == "O":
        v = v.encode() if isinstance(v, str) else bytes(v)
    return dtype, v


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, na_value="",
               select_cols=None, name=None):
    """Parses CSV lines into one array per (selected) column, shaped like ``records``.

    Args:
        records: a string (bytes) array or list, any shape.
        record_defaults: one entry per output column: ``[default]`` (e.g. ``[0.0]``, ``[0]``,
            ``[""]``) or an empty list / dtype for a required column.
        field_delim: one-character delimiter.
        use_quote_delim: treat double quotes as quoting (RFC 4180).
        na_value: a field equal to this counts as empty (uses the default).
        select_cols: sorted column indices to keep (default: all).

    Returns:
        A list of arrays, one per column.

    Raises:
        InvalidArgumentError: a wrong field count, a missing required field or a value
            that does not parse.
    """
    del name
    if len(field_delim) != 1:
        raise ValueError(f"field_delim must be one character, got {field_delim!r}")
    cols_spec = [_column_default(d, i) for i, d in enumerate(record_defaults)]
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if sorted(set(select_cols)) != select_cols:
            raise ValueError("select_cols must be strictly increasing")
        if len(select_cols) != len(cols_spec):
            raise ValueError(f"select_cols has {len(select_cols)} entries but record_defaults "
                             f"{len(cols_spec)}")
    arr = np.asarray(records, dtype=object)
    shape = arr.shape
    lines = [r.decode() if isinstance(r, bytes) else str(r) for r in arr.reshape(-1).tolist()]
    reader = _csv.reader(lines, delimiter=field_delim,
                         quoting=_csv.QUOTE_MINIMAL if use_quote_delim else _csv.QUOTE_NONE,
                         strict=False)
    rows = []
    for i, row in enumerate(reader):
        if not row:
            row = [""]
        if select_cols is None:
            if len(row) != len(cols_spec):
                raise InvalidArgumentError(f"Expect {len(cols_spec)} fields but have {len(row)} "
                                           f"in record {i}")
        else:
            if len(row) <= select_cols[-1]:
                raise InvalidArgumentError(f"Expect at least {select_cols[-1] + 1} fields but "
                                           f"have {len(row)} in record {i}")
            row = [row[c] for c in select_cols]
        rows.append(row)
    columns = list(zip(*rows)) if rows else [()] * len(cols_spec)
    out = []
    for j, ((dtype, default), col) in enumerate(zip(cols_spec, columns)):
        out.append(_convert(col, dtype, default, j, na_value).reshape(shape))
    return out


def _convert(col, dtype, default, j, na_value):
    empty = [i for i, v in enumerate(col) if v == "" or v == na_value]
    if empty and default is None:
        raise InvalidArgumentError(f"Field {j} is required but missing in record {empty[0]}!")
    if dtype.kind == "O":
        out = np.empty(len(col), dtype=object)
        out[:] = [v.encode() for v in col]
        for i in empty:
            out[i] = default
        return out
    vals = list(col)
    for i in empty:
        vals[i] = "0"
    try:
        if dtype.kind == "f":
            res = np.array(vals, dtype=np.float64).astype(dtype)
        else:
            res = np.array([int(v) for v in vals], dtype=dtype)
    except (ValueError, OverflowError):
        bad = next(i for i, v in enumerate(vals) if not _parses(v, dtype))
        raise InvalidArgumentError(f"Field {j} in record {bad} is not a valid "
                                   f"{dtype.name}: {vals[bad]!r}") from None
    if empty:
        res[empty] = default
    return res


def _parses(v, dtype):
    try:
        float(v) if dtype.kind == "f" else int(v)
        return True
    except ValueError:
        return False
