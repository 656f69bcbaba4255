"""The variable store: ``get_variable`` and ``variable_scope`` with TF1 semantics, eagerly.

Variables live in a :class:`VariableStore` by full name (``dnn/hiddenlayer_0/kernel``).
``get_variable`` returns the existing variable when its name exists (the root scope is
``AUTO_REUSE``), which is what lets a ``model_fn`` run every step and see the same
variables. Unnamed scopes (``variable_scope(None, default_name='dense')``) are made unique
(``dense``, ``dense_1``) with counters that :meth:`VariableStore.as_default` resets, so an
Estimator that enters its store each step gets the same names each step.

Example:
    >>> import eagerflow.variables as vs
    >>> with vs.VariableStore().as_default():
    ...     with vs.variable_scope("fc"):
    ...         w = vs.get_variable("w", [2, 3])
    ...     w.name
    'fc/w'
"""
import contextlib
import threading
import weakref

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, TensorShape, _to_array
from ..autograd.variable import Variable
from ..backend.dtypes import as_dtype
from . import initializers as init_ops
from .partitioners import PartitionedVariable, shard_sizes

__all__ = [
    "AUTO_REUSE", "GraphKeys", "VariableStore", "VariableScope", "variable_scope",
    "get_variable_scope", "get_variable", "get_default_store", "trainable_variables",
    "global_variables", "local_variables", "model_variables", "get_collection",
    "add_to_collection", "get_regularization_losses", "get_regularization_loss",
]


class _AutoReuse:
    def __repr__(self):
        return "AUTO_REUSE"


AUTO_REUSE = _AutoReuse()


class GraphKeys:
    """Collection names (``tf.GraphKeys``)."""
    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"


class VariableStore:
    """Named variables, their collections, regularizers and initializers.

    Args:
        reuse: the root scope's reuse mode: ``AUTO_REUSE`` (default: return the existing
            variable), or ``False`` for TF1 graph strictness (creating an existing name
            raises).

    An Estimator owns one and enters :meth:`as_default` around each ``model_fn`` call.
    """

    def __init__(self, reuse=AUTO_REUSE):
        self._vars = {}             # full name -> Variable (insertion order = creation)
        self._partitioned = {}      # full name -> PartitionedVariable
        self._initializers = {}     # full name -> zero-arg callable, for reinitialize
        self._regularizers = {}     # full name -> regularizer callable
        self._owners = {}           # full name -> owner key (optimizer slots)
        self._collections = {}      # key -> list of objects
        self._scope_counts = {}
        self._lock = threading.RLock()
        self.root_reuse = reuse
        self._creation_hooks = []

    # --- default-store stack ----------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Makes this the store ``get_variable`` uses; resets the unique-scope counters."""
        self._scope_counts = {}
        _state().stores.append(self)
        saved_scopes = _state().scopes
        _state().scopes = [VariableScope("", reuse=self.root_reuse)]
        try:
            yield self
        finally:
            _state().scopes = saved_scopes
            _state().stores.pop()

    # --- lookup -----------------------------------------------------------------------
    def __contains__(self, name):
        return name in self._vars or name in self._partitioned

    def __getitem__(self, name):
        if name in self._partitioned:
            return self._partitioned[name]
        return self._vars[name]

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def variables(self):
        """Every variable, in creation order."""
        return list(self._vars.values())

    def names(self):
        return list(self._vars)

    def trainable_variables(self):
        return [v for v in self._vars.values() if v.trainable]

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_collection(self, key):
        return list(self._collections.get(key, ()))

    def add_to_collection(self, key, value):
        with self._lock:
            lst = self._collections.setdefault(key, [])
            if not any(x is value for x in lst):
                lst.append(value)

    # --- creation ---------------------------------------------------------------------
    def get_variable(self, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     trainable=None, collections=None, partitioner=None, reuse=AUTO_REUSE,
                     validate_shape=True, owner=None):
        """Returns the variable ``name`` (a full name), creating it if needed.

        Same arguments as :func:`get_variable`, with ``name`` already scoped and ``reuse``
        resolved (``True``: must exist; ``False``: must not; ``AUTO_REUSE``: either).
        """
        with self._lock:
            if partitioner is not None:
                return self._get_partitioned(name, shape, dtype, initializer, regularizer,
                                             trainable, collections, partitioner, reuse)
            existing = self._vars.get(name)
            if existing is None and name in self._partitioned:
                raise ValueError(f"variable {name} is partitioned; pass the partitioner to "
                                 "get it again")
            if existing is not None:
                if reuse is False:
                    raise ValueError(f"Variable {name} already exists, disallowed. Did you "
                                     "mean to set reuse=True or reuse=AUTO_REUSE in VarScope?")
                self._check_compatible(name, existing, shape, dtype)
                return existing
            if reuse is True:
                raise ValueError(f"Variable {name} does not exist, or was not created with "
                                 "get_variable(). Did you mean to set reuse=AUTO_REUSE in "
                                 "VarScope?")
            make, shape, dtype = self._initial_value_fn(name, shape, dtype, initializer)
            var = Variable(make(), trainable=True if trainable is None else trainable,
                           name=name)
            self._register(name, var, make, regularizer, collections, owner)
            return var

    def _check_compatible(self, name, var, shape, dtype):
        if shape is not None and tuple(int(d) for d in shape) != tuple(var.shape):
            raise ValueError(f"Trying to share variable {name}, but specified shape "
                             f"{tuple(int(d) for d in shape)} and found shape "
                             f"{tuple(var.shape)}.")
        if dtype is not None and as_dtype(dtype) != var.dtype:
            raise ValueError(f"Trying to share variable {name}, but specified dtype "
                             f"{as_dtype(dtype)} and found dtype {var.dtype}.")

    def _initial_value_fn(self, name, shape, dtype, initializer):
        dtype = as_dtype(dtype) if dtype is not None else None
        if isinstance(initializer, str) and (dtype is None or dtype.kind != "O"):
            # a name ('glorot_uniform', 'zeros'...), as layers take; unknown names raise
            try:
                initializer = init_ops.get(initializer)
            except ValueError as e:
                raise ValueError(f"get_variable {name}: {e}") from None
        if initializer is not None and not callable(initializer):
            # a value: the shape comes from it
            value = initializer
            arr = _to_array(value, dtype)
            if shape is not None and tuple(int(d) for d in shape) != tuple(arr.shape):
                raise ValueError(f"get_variable {name}: the initializer value has shape "
                                 f"{tuple(arr.shape)}, but shape {tuple(shape)} was given")
            return (lambda: arr.copy()), tuple(arr.shape), arr.dtype
        if shape is None:
            raise ValueError(f"get_variable {name}: shape is required when the initializer "
                             "is not a value")
        shape = tuple(int(d) for d in shape)
        if dtype is None:
            dtype = np.dtype(backend.FLOATX)
        if initializer is None:
            if dtype.kind == "f":
                initializer = init_ops.GlorotUniform()
            elif dtype.kind in "iub":
                initializer = init_ops.Zeros()
            else:
                raise ValueError(f"get_variable {name}: an initializer is required for "
                                 f"dtype {dtype}")
        initializer = init_ops.get(initializer)

        def make():
            v = initializer(shape, dtype=dtype)
            a = v._data if isinstance(v, Tensor) else _to_array(v, dtype)
            if tuple(a.shape) != shape:
                raise ValueError(f"get_variable {name}: the initializer returned shape "
                                 f"{tuple(a.shape)}, expected {shape}")
            return a.astype(dtype, copy=False)
        return make, shape, dtype

    def add_creation_hook(self, fn):
        """Calls ``fn(name, variable)`` right after each new variable is created (checkpoint
        restoration on creation, snapshots); returns a function that removes the hook."""
        self._creation_hooks.append(fn)
        return lambda: self._creation_hooks.remove(fn) if fn in self._creation_hooks else None

    def _register(self, name, var, make, regularizer, collections, owner=None):
        self._vars[name] = var
        self._initializers[name] = make
        if owner is not None:
            self._owners[name] = owner
        if regularizer is not None:
            self._regularizers[name] = regularizer
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        for key in collections:
            self.add_to_collection(key, var)
        if var.trainable:
            self.add_to_collection(GraphKeys.TRAINABLE_VARIABLES, var)
        for hook in list(self._creation_hooks):
            hook(name, var)

    def _get_partitioned(self, name, shape, dtype, initializer, regularizer, trainable,
                         collections, partitioner, reuse):
        existing = self._partitioned.get(name)
        if existing is not None:
            if reuse is False:
                raise ValueError(f"Partitioned variable {name} already exists, disallowed.")
            if shape is not None and tuple(int(d) for d in shape) != existing.shape:
                raise ValueError(f"Trying to share partitioned variable {name}, but specified "
                                 f"shape {tuple(shape)} and found shape {existing.shape}.")
            return existing
        if reuse is True:
            raise ValueError(f"Partitioned variable {name} does not exist. Did you mean to "
                             "set reuse=AUTO_REUSE in VarScope?")
        if name in self._vars:
            raise ValueError(f"variable {name} exists and is not partitioned")
        make, shape, dtype = self._initial_value_fn(name, shape, dtype, initializer)
        parts = list(partitioner(TensorShape(shape), dtype))
        if len(parts) != len(shape) or any(p < 1 for p in parts):
            raise ValueError(f"partitioner returned {parts} for shape {shape}: need one "
                             "positive int per dimension")
        split_axes = [i for i, p in enumerate(parts) if p > 1]
        if len(split_axes) > 1:
            raise ValueError(f"partitioner returned {parts}: only one axis may be split")
        axis = split_axes[0] if split_axes else 0
        full = make()
        shards, start = [], 0
        for i, size in enumerate(shard_sizes(shape[axis], parts[axis])):
            idx = [slice(None)] * len(shape)
            idx[axis] = slice(start, start + size)
            start += size
            piece = full[tuple(idx)].copy()
            sname = f"{name}/part_{i}"
            var = Variable(piece, trainable=True if trainable is None else trainable,
                           name=sname)
            self._register(sname, var, (lambda p=piece: p.copy()), regularizer, collections)
            shards.append(var)
        pv = PartitionedVariable(name, shape, dtype, shards, axis)
        self._partitioned[name] = pv
        return pv

    def get_owned(self, name, owner, make_variable):
        """The variable ``name`` (or ``name_<k>``) whose owner is ``owner``; created if none.

        Optimizer slots use this: ``owner`` is ``(slot_kind, primary variable)`` and the
        primary is compared by identity, so two distinct variables that share a name get
        distinct slots, while a new optimizer object each step finds the old slots.
        ``make_variable(name)`` creates the Variable.
        """
        with self._lock:
            k = 0
            while True:
                cand = name if k == 0 else f"{name}_{k}"
                if cand not in self._vars:
                    var = make_variable(cand)
                    self._register(cand, var, None, None, None, _owner_key(owner))
                    self._initializers[cand] = (lambda a=var._data.copy(): a.copy())
                    return var
                held = self._owners.get(cand)
                if held is not None and _owner_matches(held, owner):
                    return self._vars[cand]
                if held is not None and _owner_dead(held):
                    # the name is free again, but the state is not the new owner's: a
                    # slot of a garbage-collected variable must not seed a new model's
                    # optimizer (Adam's moments and beta powers would carry over)
                    self._owners[cand] = _owner_key(owner)
                    return self._reset_owned(cand, make_variable(cand))
                k += 1

    def _reset_owned(self, name, fresh):
        old = self._vars[name]
        self._initializers[name] = (lambda a=fresh._data.copy(): a.copy())
        if old.shape == fresh.shape and old.dtype == fresh.dtype:
            old.assign(fresh)
            return old
        self._vars[name] = fresh  # another shape: the new variable takes the old one's place
        for members in self._collections.values():
            for i, v in enumerate(members):
                if v is old:
                    members[i] = fresh
        return fresh

    # --- regularization, reinitialization ---------------------------------------------
    def get_regularization_losses(self, scope=None):
        """The regularizers evaluated on the variables' current values (list of Tensors)."""
        out = []
        for name, reg in self._regularizers.items():
            if scope and not name.startswith(scope):
                continue
            loss = reg(self._vars[name])
            if loss is not None:
                out.append(loss)
        for key_loss in self._collections.get(GraphKeys.REGULARIZATION_LOSSES, ()):
            out.append(key_loss() if callable(key_loss) else key_loss)
        return out

    def reinitialize(self, variables=None):
        """Writes each variable's initial value again (all variables, or those given)."""
        targets = self.variables() if variables is None else list(variables)
        by_id = {id(v): n for n, v in self._vars.items()}
        for v in targets:
            name = by_id.get(id(v))
            if name is None:
                raise ValueError(f"variable {getattr(v, 'name', v)!r} is not in this store")
            make = self._initializers.get(name)
            if make is not None:
                v.assign(make())

    # --- unique scope names -------------------------------------------------------------
    def _open_scope(self, full_name):
        self._scope_counts[full_name] = self._scope_counts.get(full_name, 0) + 1

    def _unique_scope(self, prefix, base):
        k = 0
        while True:
            cand = base if k == 0 else f"{base}_{k}"
            full = f"{prefix}/{cand}" if prefix else cand
            if not self._scope_counts.get(full):
                return full
            k += 1

    def __len__(self):
        return len(self._vars)

    def __repr__(self):
        return f"<VariableStore with {len(self._vars)} variables>"


def _owner_key(owner):
    return tuple(weakref.ref(o) if isinstance(o, Tensor) else o for o in owner)


def _owner_matches(held, owner):
    if len(held) != len(owner):
        return False
    for h, o in zip(held, owner):
        if isinstance(h, weakref.ref):
            if h() is not o:
                return False
        elif h != o:
            return False
    return True


def _owner_dead(held):
    return any(isinstance(h, weakref.ref) and h() is None for h in held)


class VariableScope:
    """A variable scope: a name prefix plus defaults for ``get_variable`` (``tf.VariableScope``)."""

    def __init__(self, name, reuse=None, initializer=None, regularizer=None, partitioner=None,
                 dtype=None, custom_getter=None):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.partitioner = partitioner
        self.dtype = dtype
        self.custom_getter = custom_getter

    @property
    def original_name_scope(self):
        return self.name + "/" if self.name else ""

    def reuse_variables(self):
        self.reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def set_partitioner(self, partitioner):
        self.partitioner = partitioner

    def set_dtype(self, dtype):
        self.dtype = dtype

    def get_variable(self, name, *args, **kwargs):
        with variable_scope(self):
            return get_variable(name, *args, **kwargs)

    def __repr__(self):
        return f"<VariableScope '{self.name}' reuse={self.reuse}>"


_default_store = VariableStore()


class _State(threading.local):
    def __init__(self):
        self.stores = []
        self.scopes = [VariableScope("", reuse=AUTO_REUSE)]


_thread_state = _State()


def _state():
    return _thread_state


def get_default_store():
    """The store ``get_variable`` uses: the innermost ``as_default`` one, else a global one."""
    st = _state().stores
    return st[-1] if st else _default_store


def get_variable_scope():
    """The current :class:`VariableScope`."""
    return _state().scopes[-1]


@contextlib.contextmanager
def variable_scope(name_or_scope=None, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None,
                   custom_getter=None, reuse=None, dtype=None, use_resource=None,
                   constraint=None, auxiliary_name_scope=True):
    """Opens a variable scope (``tf.variable_scope``).

    Args:
        name_or_scope: a name (nested under the current scope), a :class:`VariableScope`
            (re-entered by its absolute name) or None (then ``default_name`` is made unique:
            ``dense``, ``dense_1``...).
        default_name: the base name when ``name_or_scope`` is None.
        initializer, regularizer, partitioner, dtype, custom_getter: defaults for
            ``get_variable`` inside; inherited from the parent when None.
        reuse: ``True``, ``AUTO_REUSE``, or None/False (inherit the parent's).

    Yields:
        The :class:`VariableScope`.

    Example:
        >>> with variable_scope(None, default_name="layer") as s:
        ...     pass
    """
    if name_or_scope is None and default_name is None:
        raise ValueError("variable_scope: name_or_scope or default_name is required")
    if reuse not in (None, False, True) and reuse is not AUTO_REUSE:
        raise ValueError(f"variable_scope: reuse must be True, False, None or AUTO_REUSE, got "
                         f"{reuse!r}")
    store = get_default_store()
    parent = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        base = name_or_scope
        full = base.name
    else:
        base = parent
        if name_or_scope is not None:
            name = str(name_or_scope).strip("/")
            full = f"{parent.name}/{name}" if parent.name else name
        else:
            full = store._unique_scope(parent.name, default_name)
    store._open_scope(full)
    new = VariableScope(
        full,
        reuse=reuse if reuse not in (None, False) else (parent.reuse if base is parent
                                                        else (base.reuse or parent.reuse)),
        initializer=initializer if initializer is not None else base.initializer,
        regularizer=regularizer if regularizer is not None else base.regularizer,
        partitioner=partitioner if partitioner is not None else base.partitioner,
        dtype=dtype if dtype is not None else base.dtype,
        custom_getter=custom_getter if custom_getter is not None else base.custom_getter)
    stack = _state().scopes
    stack.append(new)
    try:
        yield new
    finally:
        stack.pop()


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """Gets the variable ``<scope>/<name>`` from the default store or creates it (TF1).

    Args:
        name: the name inside the current variable scope.
        shape: the shape; taken from ``initializer`` when that is a value.
        dtype: default the scope's dtype, else float32.
        initializer: an initializer (object, class or name), a value, or None: the scope's
            initializer, else ``glorot_uniform`` for floats and zeros for ints and bools.
        regularizer: ``fn(variable) -> scalar Tensor``; its loss appears in
            :func:`get_regularization_losses` (evaluated on the current value).
        trainable: default True; trainable variables are listed by
            :func:`trainable_variables`.
        collections: collection keys (default ``[GraphKeys.GLOBAL_VARIABLES]``).
        partitioner: ``fn(shape, dtype) -> partitions``; then a
            :class:`PartitionedVariable` (a list of shards ``<name>/part_<i>``) is returned.

    Returns:
        A :class:`~eagerflow.Variable` (or a :class:`PartitionedVariable`).

    Raises:
        ValueError: when an existing variable of that name has another shape or dtype, or
            the scope's reuse mode forbids creating/reusing it.

    Example:
        >>> v = get_variable("doc_example_v", [2], initializer=zeros_initializer())
    """
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    getter = custom_getter or scope.custom_getter
    kwargs = dict(shape=shape, dtype=dtype if dtype is not None else scope.dtype,
                  initializer=initializer if initializer is not None else scope.initializer,
                  regularizer=regularizer if regularizer is not None else scope.regularizer,
                  trainable=trainable, collections=collections,
                  partitioner=partitioner if partitioner is not None else scope.partitioner)
    store = get_default_store()
    reuse = scope.reuse if scope.reuse is not None else store.root_reuse

    def true_getter(name, **kw):
        return store.get_variable(name, reuse=reuse, validate_shape=validate_shape, **kw)

    if getter is not None:
        return getter(true_getter, full, **kwargs)
    return true_getter(full, **kwargs)


zeros_initializer = init_ops.Zeros  # for the docstring example


def trainable_variables(scope=None):
    """The trainable variables of the default store (names starting with ``scope``)."""
    return [v for v in get_default_store().trainable_variables()
            if scope is None or v.name.startswith(scope)]


def global_variables(scope=None):
    return [v for v in get_default_store().global_variables()
            if scope is None or v.name.startswith(scope)]


def local_variables(scope=None):
    return [v for v in get_default_store().local_variables()
            if scope is None or v.name.startswith(scope)]


def model_variables(scope=None):
    return [v for v in get_default_store().get_collection(GraphKeys.MODEL_VARIABLES)
            if scope is None or v.name.startswith(scope)]


def get_collection(key, scope=None):
    return [v for v in get_default_store().get_collection(key)
            if scope is None or getattr(v, "name", "").startswith(scope)]


def add_to_collection(key, value):
    get_default_store().add_to_collection(key, value)


def get_regularization_losses(scope=None):
    """The regularization losses of the default store's variables (list of scalar Tensors)."""
    return get_default_store().get_regularization_losses(scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of :func:`get_regularization_losses` (0.0 when there are none)."""
    losses = get_regularization_losses(scope)
    if not losses:
        from ..autograd.tensor import constant
        return constant(0.0)
    from ..ops import add_n
    return add_n(losses) if len(losses) > 1 else losses[0]
