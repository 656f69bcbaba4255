"""Static lookup tables (``tf.lookup.StaticHashTable``, ``StaticVocabularyTable``) and
TF1's ``index_table_from_*`` / ``index_to_string_table_from_*`` builders.

A table is built once on the host: an open-addressing index over the keys (string keys
by their FarmHash Fingerprint64, with their bytes kept beside it), and a lookup is one
numba pass that hashes and probes every query and compares the bytes of a match, so a
fingerprint collision can never give a wrong id; ``str`` and ``bytes`` keys with the same
UTF-8 bytes are the same key. Lookups are registered ops, so export tracing records them with the table's
arrays as constant inputs. Integer results go to the current backend; string results stay
on the host.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.lookup import index_table_from_tensor
    >>> table = index_table_from_tensor(["emerson", "lake", "palmer"], num_oov_buckets=1)
    >>> table.lookup(ef.constant(["emerson", "lake", "and", "palmer"])).numpy().tolist()
    [0, 1, 3, 2]
"""
import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..backend.dtypes import as_dtype
from ..io.errors import FailedPreconditionError
from ..kernels import farmhash, siphash
from ..ops.array import to_device
from .initializers import KeyValueTensorInitializer, TextFileInitializer

__all__ = ["StaticHashTable", "HashTable", "StaticVocabularyTable", "IdTableWithHashBuckets",
           "FastHashSpec", "StrongHashSpec", "HasherSpec"]


class HasherSpec:
    """How OOV keys are hashed: ``FastHashSpec`` (Fingerprint64) or ``StrongHashSpec``."""

    def __init__(self, hasher, key=None):
        self.hasher = hasher
        self.key = key

    def _attr(self):
        if self.hasher == "fasthash":
            return ("fast",)
        k = list(self.key) if self.key is not None else []
        if len(k) != 2:
            raise ValueError(f"StrongHashSpec key must be two ints, got {self.key!r}")
        return ("strong", int(k[0]), int(k[1]))


FastHashSpec = HasherSpec("fasthash")


def StrongHashSpec(key):  # noqa: N802  (TF's spelling)
    """A SipHash-2-4 hasher with the 2-int ``key`` (``tf.lookup.StrongHashSpec``)."""
    return HasherSpec("stronghash", tuple(key))


# --- the lookup ops ----------------------------------------------------------------------
def _find(query, slots, tkeys, tbuf, tstarts, tlens):
    """(position in the table or -1, query fingerprints or None) of each query key."""
    q = np.asarray(query).reshape(-1)
    if tkeys.dtype == np.uint64:  # string keys: fingerprints plus a byte comparison
        spans = farmhash.string_spans(q)
        qfp = farmhash.fingerprint64_spans(*spans)
        pos = farmhash.probe_index(slots, tkeys, qfp, (tbuf, tstarts, tlens), spans)
        return pos, qfp
    return farmhash.probe_index(slots, tkeys, q.astype(np.int64)), None


def _place(values, like_shape):
    out = values.reshape(like_shape)
    return out if out.dtype.kind == "O" else backend.asarray(out)


def _find_fwd(xp, query, slots, tkeys, tbuf, tstarts, tlens, tvalues, default_value):
    pos, _ = _find(query, slots, tkeys, tbuf, tstarts, tlens)
    hit = pos >= 0
    if tvalues.dtype.kind == "O":
        out = np.empty(pos.shape[0], dtype=object)
        out[:] = default_value
        out[hit] = tvalues[pos[hit]]
    else:
        found = tvalues[pos] if tvalues.shape[0] else np.zeros(pos.shape[0], tvalues.dtype)
        out = np.where(hit, found, np.asarray(default_value, tvalues.dtype))
    return _place(out, np.shape(query))


_lookup_find = register("lookup_table_find", _find_fwd)


def _oov_hash(q, qfp, hasher):
    if hasher[0] == "fast":
        if qfp is not None:
            return qfp
        return farmhash.fingerprint64_ints(q)
    items = q if q.dtype.kind == "O" else farmhash.decimal_strings(q)
    return siphash.siphash24_strings(items, hasher[1], hasher[2])


def _find_oov_fwd(xp, query, slots, tkeys, tbuf, tstarts, tlens, tvalues, vocab_size,
                  num_oov_buckets, hasher):
    q = np.asarray(query).reshape(-1)
    pos, qfp = _find(q, slots, tkeys, tbuf, tstarts, tlens)
    hit = pos >= 0
    out = np.empty(q.shape[0], np.int64)
    out[hit] = tvalues[pos[hit]]
    miss = ~hit
    if miss.any():
        h = _oov_hash(q[miss], None if qfp is None else qfp[miss], hasher)
        out[miss] = (h % np.uint64(num_oov_buckets)).astype(np.int64) + vocab_size
    return _place(out, np.shape(query))


_lookup_find_oov = register("lookup_table_find_oov", _find_oov_fwd)


# --- tables --------------------------------------------------------------------------------
def _initializer_pairs(initializer, what):
    if not isinstance(initializer, (KeyValueTensorInitializer, TextFileInitializer)):
        raise TypeError(f"{what}: initializer must be a KeyValueTensorInitializer or "
                        f"TextFileInitializer, got {type(initializer).__name__}")
    return initializer.pairs()


def _index(keys, strings):
    if strings:
        spans = farmhash.string_spans(keys)
        fps = farmhash.fingerprint64_spans(*spans)
        slots, dup_of = farmhash.build_index(fps, spans)
        return (slots, fps) + spans, dup_of
    k = keys.astype(np.int64)
    slots, dup_of = farmhash.build_index(k)
    empty = np.zeros(0, np.int64)
    return (slots, k, np.zeros(0, np.uint8), empty, empty), dup_of


def _text(v):
    """A key or value as TF's HashTable error prints it (strings without quotes)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v.item() if isinstance(v, np.generic) else v)


class _Table:
    """Keys, values and an open-addressing index over them; what every table shares."""

    def __init__(self, keys, values, key_dtype, value_dtype, what):
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype
        strings = key_dtype.kind == "O"
        if not strings:
            keys = keys.astype(np.int64)
        arrays, dup_of = _index(keys, strings)
        dups = np.flatnonzero(dup_of >= 0)
        if dups.size:
            for i in dups.tolist():
                j = int(dup_of[i])
                if values[i] != values[j]:
                    raise FailedPreconditionError(
                        f"HashTable has different value for same key. Key {_text(keys[i])} "
                        f"has {_text(values[j])} and trying to add value {_text(values[i])}")
            keep = dup_of < 0
            keys, values = keys[keep], values[keep]
            arrays, _ = _index(keys, strings)
        self._arrays = tuple(_wrap(a) for a in arrays + (values,))
        self._size = int(keys.shape[0])
        self._keys = keys
        self._values = values

    def _query(self, keys, what):
        """The query's value array (host) after dtype checks, and a rebuild function."""
        sp = keys if isinstance(keys, SparseTensor) else None
        x = sp.values if sp is not None else keys
        if isinstance(x, Tensor):
            if backend.array_module(x._data) is not np:
                x = to_device(x, "numpy")
        elif backend.is_array(x) and backend.array_module(x) is not np:
            x = to_device(Tensor(x), "numpy")
        else:
            a = np.asarray(x)
            if a.dtype.kind in "US":
                a = np.array(x, dtype=object) if not isinstance(x, np.ndarray) \
                    else a.astype(object)
            x = a
        kind = x.dtype.kind
        if self.key_dtype.kind == "O" and kind != "O":
            raise TypeError(f"{what}: keys must be strings for a table with string keys, "
                            f"got dtype {x.dtype}")
        if self.key_dtype.kind in "iu" and kind not in "iu":
            raise TypeError(f"{what}: keys must be integers for a table with {self.key_dtype} "
                            f"keys, got dtype {x.dtype}")

        def rebuild(values):
            if sp is None:
                return values
            return SparseTensor(sp.indices, values, sp.dense_shape)
        return x, rebuild

    def size(self, name=None):
        """The number of keys, an int64 scalar Tensor."""
        return _wrap(backend.asarray(np.asarray(self._size, np.int64)))

    def export(self, name=None):
        """``(keys, values)`` Tensors of the table's contents (in its internal order)."""
        return _wrap(self._keys), _wrap(_place(self._values, self._values.shape))


class StaticHashTable(_Table):
    """An immutable key -> value table (``tf.lookup.StaticHashTable``).

    Args:
        initializer: a :class:`KeyValueTensorInitializer` or :class:`TextFileInitializer`.
        default_value: returned for keys not in the table (a scalar of the value dtype).

    Raises:
        FailedPreconditionError: a key repeated with another value (TF's HashTable
            initializer fails the same way).
        TypeError: a bad initializer or a default of the wrong type.

    Example:
        >>> init = KeyValueTensorInitializer(["a", "b"], [7, 8])
        >>> StaticHashTable(init, -1).lookup(["b", "z"]).numpy().tolist()
        [8, -1]
    """

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        keys, values = _initializer_pairs(initializer, "StaticHashTable")
        vdt = initializer.value_dtype
        super().__init__(keys, values, initializer.key_dtype, vdt, "StaticHashTable")
        self.name = name
        if isinstance(default_value, Tensor):
            default_value = backend.to_numpy(default_value._data)
        dv = np.asarray(default_value)
        if dv.ndim != 0:
            raise ValueError(f"StaticHashTable: default_value must be a scalar, got shape "
                             f"{dv.shape}")
        if (vdt.kind == "O") != (dv.dtype.kind in "OUS"):
            raise TypeError(f"StaticHashTable: default_value {default_value!r} does not match "
                            f"the value dtype {vdt}")
        self.default_value = dv.item() if vdt.kind == "O" else dv.astype(vdt).item()

    def lookup(self, keys, name=None):
        """Looks up ``keys`` (a Tensor/array of any shape, or a SparseTensor).

        Returns:
            The values, shaped like ``keys`` (a SparseTensor's values for a SparseTensor);
            ``default_value`` where a key is missing.
        """
        x, rebuild = self._query(keys, "StaticHashTable.lookup")
        return rebuild(_lookup_find(x, *self._arrays, default_value=self.default_value))

    __getitem__ = lookup


HashTable = StaticHashTable


class IdTableWithHashBuckets(_Table):
    """A string/int -> id table with hash buckets for misses (TF1 ``IdTableWithHashBuckets``).

    A key in ``table`` gets its value; any other key gets
    ``table.size() + hash(key) % num_oov_buckets`` (ints hashed through their decimal
    string). ``table=None`` hashes every key.
    """

    def __init__(self, table, num_oov_buckets, hasher_spec=FastHashSpec, name=None,
                 key_dtype=None):
        if not isinstance(num_oov_buckets, (int, np.integer)) or num_oov_buckets < 0:
            raise ValueError(f"num_oov_buckets must be an int >= 0, got {num_oov_buckets!r}")
        if not isinstance(hasher_spec, HasherSpec):
            raise TypeError(f"hasher_spec must be FastHashSpec or StrongHashSpec(key), got "
                            f"{hasher_spec!r}")
        self._hasher = hasher_spec._attr()
        if table is None:
            kdt = as_dtype(key_dtype if key_dtype is not None else "string")
            keys = np.zeros(0, dtype=object if kdt.kind == "O" else np.int64)
            values = np.zeros(0, np.int64)
        else:
            if not isinstance(table, StaticHashTable):
                raise TypeError(f"table must be a StaticHashTable or None, got "
                                f"{type(table).__name__}")
            if table.value_dtype != np.int64:
                raise TypeError(f"table values must be int64 ids, got {table.value_dtype}")
            kdt, keys, values = table.key_dtype, table._keys, table._values
        super().__init__(keys, values, kdt if kdt.kind == "O" else np.dtype(np.int64),
                         np.dtype(np.int64), type(self).__name__)
        self.num_oov_buckets = int(num_oov_buckets)
        self.name = name

    def size(self, name=None):
        """Table keys plus OOV buckets, an int64 scalar Tensor."""
        return _wrap(backend.asarray(np.asarray(self._size + self.num_oov_buckets, np.int64)))

    def lookup(self, keys, name=None):
        """Ids of ``keys`` (Tensor/array of any shape, or SparseTensor), int64."""
        x, rebuild = self._query(keys, f"{type(self).__name__}.lookup")
        if self.num_oov_buckets == 0:
            return rebuild(_lookup_find(x, *self._arrays, default_value=-1))
        return rebuild(_lookup_find_oov(x, *self._arrays, vocab_size=self._size,
                                        num_oov_buckets=self.num_oov_buckets,
                                        hasher=self._hasher))

    __getitem__ = lookup


class StaticVocabularyTable(IdTableWithHashBuckets):
    """A vocabulary table with OOV buckets (``tf.lookup.StaticVocabularyTable``).

    Out-of-vocabulary keys get ``vocab_size + Fingerprint64(as_string(key)) %
    num_oov_buckets``, the ids TensorFlow gives.

    Args:
        initializer: gives (key, int64 id) pairs; None means every key is hashed.
        num_oov_buckets: int > 0.
        lookup_key_dtype: accepted for compatibility (integer keys of any width are cast
            to int64).

    Raises:
        ValueError: ``num_oov_buckets <= 0``.

    Example:
        >>> init = KeyValueTensorInitializer(["a", "b"], [0, 1])
        >>> StaticVocabularyTable(init, 3).lookup(["a", "zzz"]).numpy().tolist()
        [0, 2]
    """

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None,
                 experimental_is_anonymous=False):
        if not isinstance(num_oov_buckets, (int, np.integer)) or num_oov_buckets <= 0:
            raise ValueError(f"num_oov_buckets must be an int > 0 (use StaticHashTable "
                             f"otherwise), got {num_oov_buckets!r}")
        table = None
        kdt = lookup_key_dtype
        if initializer is not None:
            if initializer.value_dtype != np.int64:
                raise TypeError(f"StaticVocabularyTable: initializer values must be int64, "
                                f"got {initializer.value_dtype}")
            table = StaticHashTable(initializer, -1)
        super().__init__(table, num_oov_buckets, FastHashSpec, name=name, key_dtype=kdt)
