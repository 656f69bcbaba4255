"""Flattening and re-packing of nested lists, tuples and dicts (``tf.nest`` essentials)."""

__all__ = ["flatten", "pack_sequence_as", "map_structure"]


def flatten(structure):
    """The leaves of ``structure`` in order (dicts by sorted key, as tf.nest does)."""
    out = []
    _flatten(structure, out)
    return out


def _flatten(s, out):
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten(s[k], out)
    elif isinstance(s, (list, tuple)) and not hasattr(s, "_fields"):
        for v in s:
            _flatten(v, out)
    elif isinstance(s, tuple):  # namedtuple
        for v in s:
            _flatten(v, out)
    else:
        out.append(s)


def pack_sequence_as(structure, flat):
    """Builds ``structure``'s shape back from the leaves in ``flat``."""
    it = iter(flat)
    result = _pack(structure, it)
    rest = list(it)
    if rest:
        raise ValueError(f"pack_sequence_as: {len(rest)} leaves left over")
    return result


def _pack(s, it):
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return type(s)((k, packed[k]) for k in s) if type(s) is not dict else \
            {k: packed[k] for k in s}
    if isinstance(s, tuple) and hasattr(s, "_fields"):
        return type(s)(*[_pack(v, it) for v in s])
    if isinstance(s, (list, tuple)):
        return type(s)(_pack(v, it) for v in s)
    return next(it)


def map_structure(fn, structure):
    """Applies ``fn`` to every leaf, keeping the structure."""
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])
