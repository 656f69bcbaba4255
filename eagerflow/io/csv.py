"""``decode_csv``: CSV records to typed columns (``tf.io.decode_csv``).

Fields are split as TensorFlow's DecodeCSV kernel splits them (RFC 4180 quoting, with
its errors for malformed quoting), working on bytes.

Example:
    >>> cols = decode_csv([b"1,a,2.5", b",b,"], record_defaults=[[0], [""], [0.0]])
    >>> [c.tolist() for c in cols]
    [[1, 0], [b'a', b'b'], [2.5, 0.0]]
"""
import re

import numpy as np

from eagerflow.backend import dtypes as _dtypes

from .errors import InvalidArgumentError

__all__ = ["decode_csv"]

_OK = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64)} | {np.dtype(object)}
_TF_NAME = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
            np.dtype(np.int32): "int32", np.dtype(np.int64): "int64"}
_INT_RE = re.compile(rb"[+-]?[0-9]+\Z")
_FLOAT_BAD = re.compile(rb"[^0-9a-zA-Z+\-.]")
_SPACE = b" \t\n\v\f\r"


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
    if arr.ndim > 1:
        raise InvalidArgumentError("Each record default should be at most rank 1")
    if arr.size == 0:
        return dtype, None
    if arr.size != 1:
        raise InvalidArgumentError(f"There should only be 1 default per field but field {i} "
                                   f"has {arr.size}")
    v = arr.reshape(-1)[0]
    if dtype.kind == "O":
        v = v.encode() if isinstance(v, str) else bytes(v)
    return dtype, v


def _as_bytes(v, what):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, np.bytes_):
        return bytes(v)
    raise InvalidArgumentError(f"{what} must be strings, got {type(v).__name__}")


def _extract_fields(rec, delim, use_quote, select_cols):
    """The fields of one record, as TF's DecodeCSV ``ExtractFields`` finds them."""
    if not rec:
        return []
    if (not use_quote or b'"' not in rec) and b"\n" not in rec and b"\r" not in rec:
        parts = rec.split(delim)  # no quoting and no CR/LF: a plain split is the same
        if select_cols is None:
            return parts
        return [parts[c] for c in select_cols if c < len(parts)]
    d = delim[0]
    quote, cr, lf = 0x22, 0x0D, 0x0A
    n = len(rec)
    i = nparsed = sel = 0
    out = []
    while i < n:
        if rec[i] in (lf, cr):
            i += 1
            continue
        include = select_cols is None or select_cols[sel] == nparsed
        field = bytearray()
        if use_quote and rec[i] == quote:
            i += 1
            while i < n - 1 and (rec[i] != quote or rec[i + 1] != d):
                if rec[i] != quote:
                    field.append(rec[i])
                    i += 1
                else:
                    if rec[i + 1] != quote:
                        raise InvalidArgumentError(
                            "Quote inside a string has to be escaped by another quote")
                    field.append(quote)
                    i += 2
            if not (i < n and rec[i] == quote and (i == n - 1 or rec[i + 1] == d)):
                raise InvalidArgumentError(
                    "Quoted field has to end with quote followed by delim or end")
            i += 2
        else:
            while i < n and rec[i] != d:
                c = rec[i]
                if (use_quote and c == quote) or c in (lf, cr):
                    raise InvalidArgumentError("Unquoted fields cannot have quotes/CRLFs inside")
                field.append(c)
                i += 1
            i += 1
        nparsed += 1
        if include:
            out.append(bytes(field))
            sel += 1
            if select_cols is not None and sel == len(select_cols):
                return out
    if (select_cols is None or select_cols[sel] == nparsed) and rec[-1] == d:
        out.append(b"")
    return out


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
        InvalidArgumentError: a wrong field count, a missing required field, a value
            that does not parse, or malformed quoting (TF's messages; the first error
            in record order is reported, as TF does).
    """
    del name
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(a >= b for a, b in zip(select_cols, select_cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
        if select_cols and select_cols[0] < 0:
            raise ValueError("select_cols contains negative values.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
        if not select_cols:
            select_cols = None
    delim = _as_bytes(field_delim, "field_delim")
    if len(delim) != 1:
        raise InvalidArgumentError("field_delim should be only 1 char")
    na = _as_bytes(na_value, "na_value")
    cols_spec = [_column_default(d, i) for i, d in enumerate(record_defaults)]
    arr = np.asarray(records, dtype=object)
    shape = arr.shape
    rows, row_error = [], None
    for i, r in enumerate(arr.reshape(-1).tolist()):
        try:
            row = _extract_fields(_as_bytes(r, "records"), delim, use_quote_delim, select_cols)
            if len(row) != len(cols_spec):
                raise InvalidArgumentError(f"Expect {len(cols_spec)} fields but have "
                                           f"{len(row)} in record {i}")
        except InvalidArgumentError as e:
            row_error = e  # raised unless an earlier record has a bad value
            break
        rows.append(row)
    columns = list(zip(*rows)) if rows else [()] * len(cols_spec)
    out, first_bad = [], None
    for j, ((dtype, default), col) in enumerate(zip(cols_spec, columns)):
        res, bad = _convert(col, dtype, default, j, na)
        if bad is not None and (first_bad is None or bad[0] < first_bad[0]):
            first_bad = bad
        out.append(res)
    if first_bad is not None:
        raise InvalidArgumentError(first_bad[1])
    if row_error is not None:
        raise row_error
    return [o.reshape(shape) for o in out]


def _convert(col, dtype, default, j, na):
    """(values, None) or (partial values, (record, TF error message)) for one column."""
    bad = None
    empty = [i for i, v in enumerate(col) if v == b"" or v == na]
    if empty and default is None:
        bad = (empty[0], f"Field {j} is required but missing in record {empty[0]}!")
    if dtype.kind == "O":
        res = np.empty(len(col), dtype=object)
        res[:] = list(col)
        for i in empty:
            res[i] = default
        return res, bad
    res = np.zeros(len(col), dtype=dtype)
    if bad is None and _fast_numbers(col, empty, dtype, res):
        if empty:
            res[empty] = default
        return res, None
    skip = set(empty)
    for i, v in enumerate(col):
        if i in skip:
            continue
        if bad is not None and i >= bad[0]:
            break
        val = _parse_number(v, dtype)
        if val is None:
            bad = (i, f"Field {j} in record {i} is not a valid {_TF_NAME[dtype]}: "
                      f"{v.decode('utf-8', 'replace')}")
            break
        res[i] = val
    if empty and default is not None:
        res[empty] = default
    return res, bad


def _fast_numbers(col, empty, dtype, res):
    """Vectorized conversion into ``res`` when every field parses; False otherwise.

    Python's int()/float() accept what absl accepts here, except ``_`` separators
    (excluded up front) and Python-only spellings such as "infinity" variants, which
    from_chars accepts as well.
    """
    vals = list(col)
    for i in empty:
        vals[i] = b"0"
    if b"_" in b"".join(vals):
        return False
    try:
        if dtype.kind == "f":
            res[:] = np.array(vals, dtype=object).astype(np.float64)
        else:
            ints = [int(v) for v in vals]
            info = np.iinfo(dtype)
            if ints and (min(ints) < info.min or max(ints) > info.max):
                return False
            res[:] = ints
    except (ValueError, OverflowError):
        return False
    return True


def _parse_number(v, dtype):
    """The value of one field as absl's SimpleAtoi/SimpleAtof read it, or None."""
    s = v.strip(_SPACE)
    if dtype.kind in "iu":
        if not _INT_RE.match(s):
            return None
        x = int(s)
        info = np.iinfo(dtype)
        return x if info.min <= x <= info.max else None
    if not s or _FLOAT_BAD.search(s) or s.startswith(b"+-"):
        return None
    try:
        return float(s)
    except ValueError:
        return None
