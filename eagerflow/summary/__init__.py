"""TensorBoard summaries (``tf.summary`` and TF1's ``FileWriter``)."""
from .hooks import SummarySaverHook
from .writer import (Event, FileWriter, FileWriterCache, HistogramProto, Summary,
                     SummaryWriter, create_file_writer, event_files, histogram, scalar,
                     summary_iterator)

__all__ = ["SummarySaverHook", "Event", "FileWriter", "FileWriterCache", "HistogramProto", "Summary",
           "SummaryWriter", "create_file_writer", "event_files", "histogram", "scalar",
           "summary_iterator"]
