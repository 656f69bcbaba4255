"""The ``checkpoint`` state file (TF's text-format ``CheckpointState``) and atomic writes.

The file lists the newest checkpoint prefix and all kept prefixes, oldest first, relative to
the checkpoint directory, exactly as TensorFlow writes it::

    model_checkpoint_path: "model.ckpt-200"
    all_model_checkpoint_paths: "model.ckpt-100"
    all_model_checkpoint_paths: "model.ckpt-200"
    all_model_checkpoint_timestamps: 1764000000.5
    all_model_checkpoint_timestamps: 1764000100.25
    last_preserved_timestamp: 1763999990.0
"""
import logging
import os
import re
import tempfile

__all__ = ["CheckpointState", "get_checkpoint_state", "update_checkpoint_state",
           "latest_checkpoint", "atomic_write"]


def atomic_write(path, data):
    """Writes ``data`` (bytes) to ``path`` so that readers see the old or the new file, never
    a partial one: a temporary file in the same directory, fsync, rename."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


class CheckpointState:
    """The parsed state file: ``model_checkpoint_path`` and ``all_model_checkpoint_paths``
    (absolute), with their timestamps."""

    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=None):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return (f"CheckpointState(model_checkpoint_path={self.model_checkpoint_path!r}, "
                f"all_model_checkpoint_paths={self.all_model_checkpoint_paths!r})")


_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([-+0-9.eE]+))\s*$')


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(s):
    return re.sub(r"\\(.)", r"\1", s)


def _state_path(checkpoint_dir, latest_filename):
    return os.path.join(checkpoint_dir, latest_filename or "checkpoint")


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """Reads ``checkpoint_dir/checkpoint``; returns a :class:`CheckpointState` or None.

    Relative paths in the file are joined to ``checkpoint_dir``.

    Raises:
        ValueError: if the file exists but is not a CheckpointState text proto.
    """
    path = _state_path(checkpoint_dir, latest_filename)
    if not os.path.isfile(path):
        return None
    fields = {"model_checkpoint_path": None, "all_model_checkpoint_paths": [],
              "all_model_checkpoint_timestamps": [], "last_preserved_timestamp": None}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = _LINE.match(line)
            if not m or m.group(1) not in fields:
                raise ValueError(f"{path}:{n}: not a CheckpointState line: {line.strip()!r}")
            key, text, number = m.group(1), m.group(2), m.group(3)
            value = _unquote(text) if text is not None else float(number)
            if isinstance(fields[key], list):
                fields[key].append(value)
            else:
                fields[key] = value
    if fields["model_checkpoint_path"] is None:
        raise ValueError(f"{path}: no model_checkpoint_path")

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    return CheckpointState(absolute(fields["model_checkpoint_path"]),
                           [absolute(p) for p in fields["all_model_checkpoint_paths"]],
                           fields["all_model_checkpoint_timestamps"],
                           fields["last_preserved_timestamp"])


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=True):
    """Writes the state file atomically (``tf.train.update_checkpoint_state``)."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)

    def rel(p):
        if save_relative_paths and os.path.isabs(p) and \
                os.path.dirname(os.path.abspath(p)) == os.path.abspath(save_dir):
            return os.path.basename(p)
        return p

    lines = [f"model_checkpoint_path: {_quote(rel(model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(rel(p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}"
              for t in (all_model_checkpoint_timestamps or [])]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {float(last_preserved_timestamp)!r}")
    atomic_write(_state_path(save_dir, latest_filename), ("\n".join(lines) + "\n").encode())


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The newest valid checkpoint prefix in ``checkpoint_dir``, or None
    (``tf.train.latest_checkpoint``).

    A newest checkpoint whose files are missing, truncated or corrupt is skipped in favour
    of the previous one listed in the state file, with a warning.
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    from .saver import checkpoint_is_valid
    candidates = [state.model_checkpoint_path] + [
        p for p in reversed(state.all_model_checkpoint_paths)
        if p != state.model_checkpoint_path]
    for i, prefix in enumerate(candidates):
        if checkpoint_is_valid(prefix):
            if i:
                logging.getLogger("eagerflow").warning(
                    "checkpoint %s is incomplete or corrupt; using %s instead",
                    candidates[0], prefix)
            return prefix
    return None
