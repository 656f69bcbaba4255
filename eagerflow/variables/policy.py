"""``Policy``: the dtype a layer computes in and the dtype of its variables (public as
``ef.mixed_precision``; here because layers, which come before the optimizers, read it)."""
import contextlib

from ..backend.dtypes import as_dtype

__all__ = ["Policy", "global_policy", "set_global_policy", "policy_scope"]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_PLAIN = ("float16", "bfloat16", "float32", "float64")


class Policy:
    """A dtype policy (``tf.keras.mixed_precision.Policy``).

    Args:
        name: ``'mixed_bfloat16'`` / ``'mixed_float16'`` (compute in 16 bits, float32
            variables) or a plain float dtype name (``'float32'``, ``'bfloat16'``, ...)
            used for both.

    Raises:
        ValueError: for any other name.
    """

    def __init__(self, name):
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str) or (name not in _MIXED and name not in _PLAIN):
            raise ValueError(f"Policy: unknown policy {name!r}; accepted: "
                             f"{', '.join(sorted(_MIXED) + list(_PLAIN))}")
        self._name = name
        self._compute = _MIXED.get(name, name)
        self._variable = "float32" if name in _MIXED else name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        """The dtype name layer computations run in."""
        return self._compute

    @property
    def variable_dtype(self):
        """The dtype name of the layer's variables."""
        return self._variable

    @property
    def is_mixed(self):
        return self._compute != self._variable

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<Policy "{self._name}">'


_FLOAT32 = Policy("float32")
_global = [_FLOAT32]


def global_policy():
    """The policy layers created now take (``'float32'`` unless set)."""
    return _global[0]


def set_global_policy(policy):
    """Sets the policy of layers created from now on (``None`` restores ``'float32'``).

    Raises:
        ValueError: for an unknown policy name.
    """
    _global[0] = _FLOAT32 if policy is None else Policy(policy)


@contextlib.contextmanager
def policy_scope(policy):
    """The global policy set to ``policy`` inside the ``with`` block only."""
    old = _global[0]
    set_global_policy(policy)
    try:
        yield _global[0]
    finally:
        _global[0] = old


def layer_policy(dtype):
    """The policy of a layer built with ``dtype``: a Policy or policy name, a plain dtype,
    or None (the global policy; None when that is the default, so a TF1 layer still takes
    its first input's dtype)."""
    if dtype is None:
        return None if _global[0] == _FLOAT32 else _global[0]
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, str) and dtype in _MIXED:
        return Policy(dtype)
    return Policy(as_dtype(dtype).name) if as_dtype(dtype).name in _PLAIN else None
