"""Restoring variables eagerly, where they are created lazily: a checkpoint is applied to
each variable the moment the store creates it (TF2 calls this deferred restoration), and a
build pass can be rolled back to the variables' first values."""
import re

import numpy as np

from .. import backend
from .saver import CheckpointReader

__all__ = ["RestoreOnCreate", "Snapshots", "WarmStartSettings", "init_from_checkpoint"]


class WarmStartSettings:
    """Initialise matching variables from another checkpoint when training starts fresh
    (``tf.estimator.WarmStartSettings``).

    Args:
        ckpt_to_initialize_from: a checkpoint prefix or a directory.
        vars_to_warm_start: a regex (or list of regexes) of variable names.
        var_name_to_prev_var_name: optional renames, new name -> name in the checkpoint.
    """

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start=".*",
                 var_name_to_vocab_info=None, var_name_to_prev_var_name=None):
        self.ckpt_to_initialize_from = ckpt_to_initialize_from
        if isinstance(vars_to_warm_start, str):
            vars_to_warm_start = [vars_to_warm_start]
        self.patterns = [re.compile(p) for p in (vars_to_warm_start or [])]
        self.renames = dict(var_name_to_prev_var_name or {})

    def source_name(self, name):
        if not any(p.match(name) for p in self.patterns):
            return None
        return self.renames.get(name, name)


def assign_from(var, value, where):
    if tuple(value.shape) != tuple(var.shape):
        raise ValueError(f"variable {var.name} has shape {tuple(var.shape)} but checkpoint "
                         f"{where} holds shape {tuple(value.shape)}")
    target = "numpy" if backend.array_module(var._data) is np else "cupy"
    var.assign(backend.to_device(value.astype(var.dtype, copy=False), target))


class RestoreOnCreate:
    """Initialises variables of ``store`` from ``checkpoint`` (and, for names it lacks,
    from ``warm_start``) as they are created; variables that exist already are restored at
    once. Use as a context manager or call :meth:`attach`/:meth:`detach`."""

    def __init__(self, store, checkpoint=None, warm_start=None):
        self._store = store
        self._reader = CheckpointReader(checkpoint) if checkpoint else None
        self._warm = warm_start
        self._warm_reader = CheckpointReader(warm_start.ckpt_to_initialize_from) \
            if warm_start is not None else None
        self._detach = None

    def __call__(self, name, var):
        if self._reader is not None and self._reader.has_tensor(name):
            assign_from(var, self._reader.get_tensor(name), self._reader.prefix)
        elif self._warm_reader is not None:
            src = self._warm.source_name(name)
            if src is not None and self._warm_reader.has_tensor(src):
                assign_from(var, self._warm_reader.get_tensor(src), self._warm_reader.prefix)

    def attach(self):
        for name in self._store.names():
            self(name, self._store[name])
        self._detach = self._store.add_creation_hook(self)
        return self

    def detach(self):
        if self._detach is not None:
            self._detach()
            self._detach = None

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc):
        self.detach()


class Snapshots:
    """Records each new variable's first value; :meth:`roll_back` restores them all."""

    def __init__(self, store):
        self._items = []
        self._detach = store.add_creation_hook(self)

    def __call__(self, name, var):
        self._items.append((var, var._data.copy()))

    def roll_back(self):
        self._detach()
        for var, value in self._items:
            var.assign(value)
        self._items = []


def init_from_checkpoint(ckpt_dir_or_file, assignment_map):
    """Initialises variables from a checkpoint (``tf.compat.v1.train.init_from_checkpoint``).

    ``assignment_map`` maps checkpoint names to current ones: ``{'old/w': 'new/w'}``, scope
    prefixes ``{'old_scope/': 'new_scope/'}`` (``'/'`` is the root), or checkpoint name ->
    Variable. Variables that exist now are set at once; those the default store creates
    later are set when created.

    Raises:
        ValueError: a mapped checkpoint name that the checkpoint lacks, or a shape mismatch.
    """
    from ..autograd.variable import Variable
    from ..variables.store import get_default_store
    reader = CheckpointReader(ckpt_dir_or_file)
    pairs = list(assignment_map.items())
    for ckpt_name, current in pairs:
        if not ckpt_name.endswith("/") and not reader.has_tensor(ckpt_name):
            raise ValueError(f"Tensor {ckpt_name} is not found in {reader.prefix} checkpoint")

    def source(name):
        for ckpt_name, current in pairs:
            if isinstance(current, Variable):
                if current.name == name:
                    return ckpt_name
            elif ckpt_name.endswith("/"):
                scope = "" if current in ("/", "") else current
                if name.startswith(scope):
                    return ("" if ckpt_name == "/" else ckpt_name) + name[len(scope):]
            elif current == name:
                return ckpt_name
        return None

    def hook(name, var):
        src = source(name)
        if src is not None and reader.has_tensor(src):
            assign_from(var, reader.get_tensor(src), reader.prefix)

    store = get_default_store()
    for ckpt_name, current in pairs:
        if isinstance(current, Variable):
            hook(current.name, current)
    for name in store.names():
        hook(name, store[name])
    store.add_creation_hook(hook)
