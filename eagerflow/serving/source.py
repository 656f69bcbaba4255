"""File-system storage path source: which versions of each model should be loaded.

A child directory of a model's base path is a version iff its name parses as an int64
(``00000123`` is version 123); other names are ignored, and so are exports that are not
finished yet (``is_complete`` is false, e.g. a temporary directory still being written).

Example:
    >>> aspired_versions({3: "/m/3", 7: "/m/7", 5: "/m/5"}, ModelConfig("m", "/m", num_versions=2))
    {7: '/m/7', 5: '/m/5'}
"""
import logging
import os

from .config import ModelConfig  # noqa: F401  (doctest name)
from .events import log_event

__all__ = ["list_versions", "aspired_versions", "poll_model"]

_INT64_MAX = 2 ** 63 - 1
log = logging.getLogger("eagerflow.serving")


def _parse_version(name):
    if not name or not (name.isdigit() or (name[0] == "-" and name[1:].isdigit())):
        return None
    v = int(name)
    return v if 0 <= v <= _INT64_MAX else None


def list_versions(base_path, is_complete=None):
    """``{version: path}`` of the finished version directories under ``base_path``.

    Args:
        base_path: str, the model's base path.
        is_complete: optional callable ``(path) -> bool`` that filters half-written exports.

    Returns:
        dict int -> str, or None when ``base_path`` does not exist or cannot be read.
    """
    try:
        entries = list(os.scandir(base_path))
    except OSError:
        return None
    out = {}
    for e in entries:
        v = _parse_version(e.name)
        if v is None:
            continue
        try:
            if not e.is_dir():
                continue
        except OSError:
            continue
        if is_complete is not None:
            try:
                if not is_complete(e.path):
                    continue
            except Exception:  # a broken export is simply not a version yet
                continue
        # "00000123" and "123" name one version; keep the first seen deterministically.
        if v not in out or e.name < os.path.basename(out[v]):
            out[v] = e.path
    return out


def aspired_versions(on_disk, config):
    """Apply ``config``'s version policy to ``{version: path}`` found on disk.

    Returns:
        dict version -> path of the versions that should be loaded (highest first for
        ``latest``).
    """
    if config.policy == "all":
        return dict(sorted(on_disk.items(), reverse=True))
    if config.policy == "specific":
        return {v: on_disk[v] for v in sorted(config.versions, reverse=True) if v in on_disk}
    n = max(1, config.num_versions)
    return {v: on_disk[v] for v in sorted(on_disk, reverse=True)[:n]}


def poll_model(config, is_complete=None):
    """The aspired ``{version: path}`` of one model now, or None to keep the previous set.

    A missing base path keeps what is being served (a model directory that disappears does
    not take the model down); an existing base path without versions aspires nothing.
    """
    on_disk = list_versions(config.base_path, is_complete)
    if on_disk is None:
        log_event("base_path_missing", model=config.name, base_path=config.base_path,
                  level=logging.WARNING)
        return None
    if not on_disk:
        log_event("no_versions_found", model=config.name, base_path=config.base_path,
                  level=logging.WARNING)
    if config.policy == "specific":
        missing = sorted(set(config.versions) - set(on_disk))
        if missing:
            log_event("specific_versions_missing", model=config.name, versions=missing,
                      level=logging.WARNING)
    return aspired_versions(on_disk, config)
