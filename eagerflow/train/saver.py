"""``Saver``: TF1 checkpoints stored as safetensors, written atomically, with TF's names,
``checkpoint`` state file and retention rules.

A checkpoint with prefix ``model.ckpt-200`` is two files: ``model.ckpt-200.safetensors``
(the variables, keyed by their TF-style names such as ``dnn/hiddenlayer_0/kernel``) and
``model.ckpt-200.index`` (a small JSON manifest written last, so its presence means the
checkpoint is complete). A Saver given ``extra_states`` also writes one JSON file per named
state, ``model.ckpt-200.<name>.json`` (an input pipeline's position, RNG state), before the
manifest, so it belongs to the checkpoint atomically and is rotated with it. Nothing here
unpickles anything.

Example:
    >>> import tempfile, eagerflow as ef
    >>> from eagerflow.train.saver import Saver
    >>> v = ef.Variable([1.0, 2.0], name="w")
    >>> d = tempfile.mkdtemp()
    >>> path = Saver([v]).save(None, d + "/model.ckpt", global_step=3)
    >>> path.endswith("model.ckpt-3")
    True
"""
import glob
import json
import logging
import os
import re
import time

import numpy as np
import safetensors.numpy

from .. import backend
from ..autograd.variable import Variable
from .checkpoint_state import atomic_write, get_checkpoint_state, update_checkpoint_state

__all__ = ["Saver", "NewCheckpointReader", "checkpoint_exists", "checkpoint_is_valid", "list_variables", "load_variable", "load_checkpoint",
           "CheckpointReader", "NotFoundError", "extra_state_path", "discard_extra_state"]

log = logging.getLogger("eagerflow")

DATA_SUFFIX = ".safetensors"
INDEX_SUFFIX = ".index"
_STATE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def extra_state_path(prefix, name):
    """The file holding extra state ``name`` of checkpoint ``prefix``."""
    return f"{prefix}.{name}.json"


def discard_extra_state(prefix, name):
    """Deletes extra state ``name`` of checkpoint ``prefix`` (no error when absent); the
    checkpoint's variables stay valid and :meth:`CheckpointReader.get_extra_state` then
    returns None."""
    try:
        os.remove(extra_state_path(prefix, name))
    except FileNotFoundError:
        pass


class NotFoundError(KeyError, FileNotFoundError):
    """A checkpoint or a tensor in it does not exist (TF's ``errors.NotFoundError``)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def checkpoint_exists(prefix):
    """True when a complete checkpoint with this prefix exists."""
    return os.path.isfile(prefix + INDEX_SUFFIX) and os.path.isfile(prefix + DATA_SUFFIX)


def checkpoint_is_valid(prefix):
    """True when the checkpoint's files are complete and consistent: the index parses, and
    the safetensors header parses and accounts for exactly the data file's size (a
    truncated or overwritten file fails). Reads only the headers."""
    if not checkpoint_exists(prefix):
        return False
    try:
        with open(prefix + INDEX_SUFFIX, encoding="utf-8") as f:
            index = json.load(f)
        path = prefix + DATA_SUFFIX
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if n <= 0 or 8 + n > size:
                return False
            header = json.loads(f.read(n))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"),
                  default=0)
        return 8 + n + end == size and set(index["tensors"]) <= set(header)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _resolve(ckpt_dir_or_file):
    if os.path.isdir(ckpt_dir_or_file):
        state = get_checkpoint_state(ckpt_dir_or_file)
        if state is None or not checkpoint_exists(state.model_checkpoint_path):
            raise NotFoundError(f"no checkpoint found in {ckpt_dir_or_file}")
        return state.model_checkpoint_path
    if not checkpoint_exists(ckpt_dir_or_file):
        raise NotFoundError(f"checkpoint {ckpt_dir_or_file} does not exist (expected "
                            f"{ckpt_dir_or_file}{DATA_SUFFIX} and {INDEX_SUFFIX})")
    return ckpt_dir_or_file


class CheckpointReader:
    """Reads tensors from one checkpoint (``tf.train.load_checkpoint``)."""

    def __init__(self, prefix):
        self.prefix = _resolve(prefix)
        with open(self.prefix + INDEX_SUFFIX, encoding="utf-8") as f:
            self._index = json.load(f)
        self._tensors = None

    def _load(self):
        if self._tensors is None:
            self._tensors = safetensors.numpy.load_file(self.prefix + DATA_SUFFIX)
        return self._tensors

    def get_variable_to_shape_map(self):
        return {k: list(v["shape"]) for k, v in self._index["tensors"].items()}

    def get_variable_to_dtype_map(self):
        return {k: np.dtype(v["dtype"]) for k, v in self._index["tensors"].items()}

    def has_tensor(self, name):
        return name in self._index["tensors"]

    def get_tensor(self, name):
        tensors = self._load()
        if name not in tensors:
            raise NotFoundError(f"key {name} not found in checkpoint {self.prefix}")
        # safetensors stores 0-d arrays as shape (1,): the manifest has the true shape
        return tensors[name].reshape(self._index["tensors"][name]["shape"])

    @property
    def global_step(self):
        return self._index.get("global_step")

    def get_extra_state(self, name):
        """The JSON value saved as extra state ``name``, or None when this checkpoint has
        none (never saved, or discarded). An unreadable file is reported with a warning and
        treated as absent: it must not stop a restore of the variables."""
        if name not in self._index.get("extra_states", ()):
            return None
        path = extra_state_path(self.prefix, name)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log.warning("Ignoring the unreadable %r state of checkpoint %s: %s", name,
                        self.prefix, e)
            return None


def NewCheckpointReader(filepattern):  # noqa: N802  (TF1's name)
    """TF1's ``tf.train.NewCheckpointReader``: a :class:`CheckpointReader`."""
    return CheckpointReader(filepattern)


def load_checkpoint(ckpt_dir_or_file):
    """A :class:`CheckpointReader` for a checkpoint prefix or the newest one in a directory."""
    return CheckpointReader(ckpt_dir_or_file)


def list_variables(ckpt_dir_or_file):
    """``[(name, shape), ...]`` sorted by name (``tf.train.list_variables``)."""
    return sorted(load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name):
    """The NumPy value of variable ``name`` in a checkpoint (``tf.train.load_variable``)."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def _default_var_list():
    from ..variables import global_variables
    return global_variables()


def _as_name_map(var_list):
    if var_list is None:
        var_list = _default_var_list()
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = []
        for v in var_list:
            shards = getattr(v, "_variable_list", None) or getattr(v, "variables", None)
            if shards is not None and not isinstance(v, Variable):
                items += [(s.name, s) for s in shards]  # partitioned variables save per shard
            else:
                items.append((v.name, v))
    out = {}
    for name, v in items:
        if not isinstance(v, Variable):
            raise TypeError(f"Saver: {name!r} is not a Variable (got {type(v).__name__})")
        if name in out and out[name] is not v:
            raise ValueError(f"Saver: two different variables are named {name!r}")
        out[name] = v
    return out


class Saver:
    """Saves and restores variables (``tf.compat.v1.train.Saver``).

    Args:
        var_list: list of variables, or dict name -> variable; default: every variable of
            the default variable store (model, optimizer slots, global step).
        max_to_keep: newest checkpoints to keep (0 or None keeps all).
        keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
        save_relative_paths: write paths relative to the directory in the state file.
        extra_states: dict name -> callable returning a JSON-able value (or None to write
            nothing) that is saved with every checkpoint as ``<prefix>.<name>.json``;
            names use letters, digits, ``_`` and ``-``.

    Example:
        >>> import tempfile, eagerflow as ef
        >>> v = ef.Variable([1.0], name="v")
        >>> saver = Saver([v], extra_states={"position": lambda: {"epoch": 3}})
        >>> prefix = saver.save(tempfile.mkdtemp() + "/model.ckpt", global_step=1)
        >>> load_checkpoint(prefix).get_extra_state("position")
        {'epoch': 3}
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=True,
                 filename=None, extra_states=None):
        self._var_list = var_list
        self._extra = dict(extra_states or {})
        for name, fn in self._extra.items():
            if not isinstance(name, str) or not _STATE_NAME.match(name) or not callable(fn):
                raise ValueError(f"Saver: extra_states must map names of letters, digits, "
                                 f"'_' and '-' to callables; got {name!r}: {fn!r}")
        self._max_to_keep = max_to_keep
        self._keep_hours = float(keep_checkpoint_every_n_hours)
        self._relative = save_relative_paths
        self._allow_empty = allow_empty
        self._pad = pad_step_number
        self._last = []  # [(prefix, timestamp)], oldest first
        self._last_preserved = time.time()

    # --- bookkeeping ---------------------------------------------------------------------
    @property
    def last_checkpoints(self):
        """Prefixes of the kept checkpoints, oldest first."""
        return [p for p, _ in self._last]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        self._last = [(p, float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopts existing checkpoints (e.g. from a previous process) for retention."""
        now = time.time()
        self._last = [(p, now) for p in checkpoint_paths if checkpoint_exists(p)]

    def _retire(self, prefix, stamp):
        if stamp - self._last_preserved >= self._keep_hours * 3600:
            self._last_preserved = stamp  # keep this one for good
            return
        paths = [prefix + INDEX_SUFFIX, prefix + DATA_SUFFIX]
        paths += glob.glob(glob.escape(prefix) + ".*.json")
        for path in paths:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def _write_extra_states(self, prefix):
        """Writes each extra state (before the manifest, which makes them part of the
        checkpoint); returns the names written."""
        written = []
        for name, fn in sorted(self._extra.items()):
            value = fn()
            if value is None:
                discard_extra_state(prefix, name)  # a stale file from an earlier save
                continue
            atomic_write(extra_state_path(prefix, name), json.dumps(value).encode())
            written.append(name)
        return written

    # --- save / restore ------------------------------------------------------------------
    def save(self, sess=None, save_path=None, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Writes a checkpoint; returns its prefix (``save_path-<global_step>``).

        ``sess`` is accepted for TF1 compatibility and ignored; ``saver.save(path)`` works too.
        """
        if isinstance(sess, (str, os.PathLike)) and save_path is None:
            sess, save_path = None, sess
        if save_path is None:
            raise ValueError("Saver.save: save_path is required")
        save_path = os.fspath(save_path)
        names = _as_name_map(self._var_list)
        if not names and not self._allow_empty:
            raise ValueError("Saver.save: there are no variables to save")
        step = None
        if global_step is not None:
            step = int(global_step.numpy() if hasattr(global_step, "numpy") else global_step)
            prefix = f"{save_path}-{step:08d}" if self._pad else f"{save_path}-{step}"
        else:
            prefix = save_path
        arrays, manifest = {}, {}
        for name, v in names.items():
            a = backend.to_numpy(v._data)
            if not a.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
                a = a.copy(order="C")
            if a.dtype == object:
                raise TypeError(f"Saver: variable {name!r} holds strings, which checkpoints "
                                "do not store")
            arrays[name] = a
            manifest[name] = {"shape": list(a.shape), "dtype": a.dtype.str}
        directory = os.path.dirname(os.path.abspath(prefix))
        os.makedirs(directory, exist_ok=True)
        meta = {"format": "eagerflow-safetensors-v1"}
        if step is not None:
            meta["global_step"] = str(step)
        atomic_write(prefix + DATA_SUFFIX, safetensors.numpy.save(arrays, metadata=meta))
        index = {"format": "eagerflow-checkpoint-v1", "global_step": step,
                 "created": time.time(), "tensors": manifest}
        extra = self._write_extra_states(prefix)
        if extra:
            index["extra_states"] = extra
        atomic_write(prefix + INDEX_SUFFIX, json.dumps(index, indent=1).encode())
        stamp = time.time()
        self._last = [(p, t) for p, t in self._last if p != prefix] + [(prefix, stamp)]
        if self._max_to_keep:
            while len(self._last) > self._max_to_keep:
                old, t = self._last.pop(0)
                self._retire(old, t)
        if write_state:
            update_checkpoint_state(directory, prefix, self.last_checkpoints,
                                    latest_filename=latest_filename,
                                    all_model_checkpoint_timestamps=[t for _, t in self._last],
                                    last_preserved_timestamp=self._last_preserved,
                                    save_relative_paths=self._relative)
        return prefix

    def restore(self, sess=None, save_path=None):
        """Loads every variable of the var_list from checkpoint ``save_path`` (a prefix).

        All tensors are read and checked before any variable changes, so a failed restore
        leaves the variables as they were.

        Raises:
            NotFoundError: for a missing checkpoint or a variable missing from it.
            ValueError: for a shape mismatch (both shapes are named).
        """
        if isinstance(sess, (str, os.PathLike)) and save_path is None:
            sess, save_path = None, sess
        if save_path is None:
            raise ValueError("Saver.restore: save_path is required")
        reader = CheckpointReader(os.fspath(save_path))
        names = _as_name_map(self._var_list)
        staged = []
        for name, v in names.items():
            if not reader.has_tensor(name):
                raise NotFoundError(f"key {name} not found in checkpoint {reader.prefix}")
            a = reader.get_tensor(name)
            if tuple(a.shape) != tuple(v.shape):
                raise ValueError(f"Saver.restore: variable {name} has shape {tuple(v.shape)} "
                                 f"but the checkpoint holds shape {tuple(a.shape)}")
            staged.append((v, a))
        for v, a in staged:
            target = "numpy" if backend.array_module(v._data) is np else "cupy"
            v.assign(backend.to_device(a.astype(v.dtype, copy=False), target))
        return reader.prefix
