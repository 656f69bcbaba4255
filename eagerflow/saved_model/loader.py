"""``tf.saved_model.loader`` (TF1): ``load(sess, tags, export_dir)``.

Eagerly there is no session to load into: the export is loaded on the current backend and
the :class:`~eagerflow.saved_model.LoadedModel` is returned (TF1 returned the MetaGraphDef);
its ``signatures`` are the callables ``ef.saved_model.load`` gives. An eagerflow export holds
one graph, so ``tags`` select nothing.
"""
from .load import is_complete
from .load import load as _load

__all__ = ["load", "maybe_saved_model_directory"]


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """Loads ``export_dir`` (``sess``, ``tags`` and ``import_scope`` are accepted for TF1
    code and have no meaning eagerly)."""
    return _load(export_dir)


def maybe_saved_model_directory(export_dir):
    """True when ``export_dir`` holds a complete export."""
    return is_complete(export_dir)
