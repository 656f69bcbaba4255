"""Loader: turns a version directory into a loaded model, estimating its memory first.

The default functions are :mod:`eagerflow.saved_model`'s ``load``, ``estimate_memory`` and
``is_complete``; tests and other model formats inject their own.

Example:
    >>> from types import SimpleNamespace
    >>> loader = Loader(load=lambda path: SimpleNamespace(signatures={}),
    ...                 estimate_memory=lambda path: 10)
    >>> loader.estimate_memory("/m/1"), loader.load("/m/1").signatures
    (10, {})
"""

__all__ = ["Loader"]


class Loader:
    """Loads servable versions.

    Args:
        load: callable ``(export_dir) -> model`` whose ``model.signatures`` maps signature keys
            to callables with ``method_name``, ``inputs``, ``outputs``
            (default ``eagerflow.saved_model.load``).
        estimate_memory: callable ``(export_dir) -> bytes`` (default
            ``eagerflow.saved_model.estimate_memory``; 0 when that is missing).
        is_complete: callable ``(export_dir) -> bool`` telling finished exports from ones
            still being written (default ``eagerflow.saved_model.is_complete``).
    """

    def __init__(self, load=None, estimate_memory=None, is_complete=None):
        self._load = load
        self._estimate = estimate_memory
        self._is_complete = is_complete

    @staticmethod
    def _saved_model():
        from eagerflow import saved_model
        return saved_model

    def load(self, export_dir):
        fn = self._load or self._saved_model().load
        model = fn(export_dir)
        if not isinstance(getattr(model, "signatures", None), dict):
            raise TypeError(f"the model loaded from {export_dir} has no signatures dict")
        return model

    def estimate_memory(self, export_dir):
        fn = self._estimate
        if fn is None:
            if self._load is not None:
                return 0
            fn = getattr(self._saved_model(), "estimate_memory", None)
            if fn is None:
                return 0
        return int(fn(export_dir))

    def is_complete(self, export_dir):
        fn = self._is_complete
        if fn is None:
            if self._load is not None:
                return True
            fn = self._saved_model().is_complete
        return bool(fn(export_dir))
