"""TensorBoard summaries (``tf.summary`` and TF1's ``FileWriter``)."""
from .hooks import SummarySaverHook
from .writer import (Event, FileWriter, FileWriterCache, HistogramProto, Summary,
                     SummaryWriter, create_file_writer, event_files, histogram, scalar,
                     summary_iterator)

__all__ = ["SummarySaverHook", "Event", "FileWriter", "FileWriterCache", "HistogramProto", "Summary",
           "SummaryWriter", "create_file_writer", "event_files", "histogram", "scalar",
           "summary_iterator"]

# hooks of eagerflow.train given an output_dir write through this cache, as TF's
# SummaryWriterCache (train sits below summary and cannot import it)
from ..train import basic_session_run_hooks as _hooks  # noqa: E402
_hooks.set_writer_factory(FileWriterCache.get)
