"""TensorBoard summaries: TF2's ``tf.summary`` (``create_file_writer``, ``scalar``,
``histogram``, ``text``, ``write``...), TF1's ``tf.compat.v1.summary`` ops (the same
functions without a default writer or step, plus ``merge``/``merge_all``) and
``FileWriter``."""
from .hooks import SummarySaverHook
from .encoding import histogram_proto, make_ndarray
from .ops import (SUMMARIES, SummaryWriter, create_file_writer, create_noop_writer,
                  experimental, flush, histogram, merge, merge_all, record_if, scalar,
                  should_record_summaries, text, write)
from .writer import (Event, FileWriter, FileWriterCache, HistogramProto, SessionLog, Summary,
                     SummaryMetadata, TensorProto, event_files, summary_iterator)

__all__ = ["SummarySaverHook", "Event", "FileWriter", "FileWriterCache", "HistogramProto",
           "SessionLog", "Summary", "SummaryMetadata", "SummaryWriter", "TensorProto",
           "create_file_writer", "create_noop_writer", "event_files", "experimental", "flush",
           "histogram", "histogram_proto", "make_ndarray", "merge", "merge_all", "record_if",
           "scalar", "should_record_summaries", "summary_iterator", "text", "write",
           "SUMMARIES"]

# hooks of eagerflow.train given an output_dir write through this cache, as TF's
# SummaryWriterCache (train sits below summary and cannot import it)
from ..train import basic_session_run_hooks as _hooks  # noqa: E402
_hooks.set_writer_factory(FileWriterCache.get)
