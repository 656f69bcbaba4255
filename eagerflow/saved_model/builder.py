"""``SavedModelBuilder`` (TF1): collect signatures, then ``save()`` one export."""
import os

from .save import write_export
from .signature_def_utils import SignatureDef
from . import tag_constants

__all__ = ["SavedModelBuilder"]


class SavedModelBuilder:
    """Builds an export in ``export_dir`` (which must not exist yet).

    Example:
        >>> import tempfile, eagerflow as ef
        >>> from eagerflow.saved_model import builder, signature_def_utils
        >>> d = tempfile.mkdtemp() + "/1"
        >>> w = ef.Variable([[2.0]], name="w")
        >>> sig = signature_def_utils.predict_signature_def(
        ...     inputs={"image": ef.TensorSpec([None, 1], ef.float32)},
        ...     outputs={"prediction": lambda image: image @ w})
        >>> b = builder.SavedModelBuilder(d)
        >>> b.add_meta_graph_and_variables(None, ["serve"], signature_def_map={"predict": sig})
        >>> b.save().endswith("/1")
        True
    """

    def __init__(self, export_dir):
        export_dir = os.fspath(export_dir)
        if os.path.exists(export_dir) and os.listdir(export_dir):
            raise FileExistsError(f"Export directory already exists, and isn't empty. Please "
                                  f"choose a different export directory, or delete all the "
                                  f"contents of the specified directory: {export_dir}")
        self._dir = export_dir
        self._concretes = None
        self._tags = None
        self._assets = {}

    def add_meta_graph_and_variables(self, sess=None, tags=None, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None, strip_default_attrs=False,
                                     saver=None, **_ignored):
        """Traces every signature now, with the variables' current values.

        Raises:
            AssertionError: when called twice (TF's message).
            TraceError: a signature cannot be traced or an output ignores its inputs.
        """
        if self._concretes is not None:
            raise AssertionError("Graph state including variables and assets has already been "
                                 "saved. Please invoke `add_meta_graph()` instead.")
        if not signature_def_map:
            raise ValueError("signature_def_map must name at least one signature")
        for key, sig in signature_def_map.items():
            if not isinstance(sig, SignatureDef):
                raise TypeError(f"signature_def_map[{key!r}] must come from "
                                "signature_def_utils (got {type(sig).__name__})")
        self._tags = list(tags or [tag_constants.SERVING])
        self._concretes = {key: sig.trace() for key, sig in signature_def_map.items()}
        for path in assets_collection or []:
            self._assets[os.path.basename(path)] = path

    def add_meta_graph(self, tags=None, signature_def_map=None, **kwargs):
        """Adds signatures to the (single) graph already added."""
        if self._concretes is None:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        for key, sig in (signature_def_map or {}).items():
            self._concretes[key] = sig.trace()

    def save(self, as_text=False):
        """Writes the export; returns its path."""
        if self._concretes is None:
            raise AssertionError("nothing to save: call add_meta_graph_and_variables() first")
        write_export(self._dir, self._concretes, assets=self._assets)
        return self._dir
