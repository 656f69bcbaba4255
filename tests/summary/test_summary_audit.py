"""Fidelity audit of eagerflow.summary against TensorFlow / TensorBoard.

Expected values come from TensorFlow's and TensorBoard's sources and tests:
summary_file_writer.cc (WriteTensor: numbers as tensor_content, strings as string_val),
tensorboard/plugins/{scalar,histogram,text}/summary_v2.py and metadata.py, histogram.cc
and summary_op_test.cc (TF1 histogram buckets), summary_op_util.py (TF1 tags),
writer.py's SummaryToEventTransformer (metadata kept once per tag), events_writer.cc
(file name and the first event). Files are parsed with eagerflow's own protos (wire-
compatible with TF's) and, when the tensorboard package is installed, with TensorBoard.
"""
import os
import re
import socket
import sys

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import summary
from eagerflow.errors import InvalidArgumentError
from eagerflow.summary import ops as W


@pytest.fixture(autouse=True)
def _fresh_state():
    W._clear_collections()
    W._default.writer, W._default.step, W._default.recording = None, None, True
    yield
    W._clear_collections()
    W._default.writer, W._default.step, W._default.recording = None, None, True


def _events(logdir):
    return [e for f in summary.event_files(str(logdir)) for e in summary.summary_iterator(f)]


def _values(logdir):
    return [(e.step, v) for e in _events(logdir) if e.HasField("summary")
            for v in e.summary.value]


# --- TF2 writer: file and the tensor format --------------------------------------------------
def test_tf2_file_name_and_first_event(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    w.close()
    (name,) = os.listdir(tmp_path)
    # events_writer.cc "%s.out.tfevents.%010lld.%s%s" with TF2's suffix
    # ".<pid>.<counter>" + ".v2" (create_file_writer's default filename_suffix)
    m = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\." + re.escape(socket.gethostname()) +
                     r"\.(\d+)\.(\d+)\.v2", name)
    assert m and int(m.group(2)) == os.getpid()
    first = _events(tmp_path)[0]
    # the first event: file_version "brain.Event:2" at the file's whole-second time
    assert first.file_version == "brain.Event:2" and first.wall_time == float(m.group(1))
    with pytest.raises(ValueError, match="logdir cannot be None"):
        summary.create_file_writer(None)


def test_tf2_scalar_is_a_float32_tensor_with_scalars_metadata(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default():
        assert summary.scalar("loss", ef.constant(0.25), step=3) is True
        assert summary.scalar("my loss", 2, step=4, description="d") is True
    w.close()
    (s1, v1), (s2, v2) = _values(tmp_path)
    assert (s1, v1.tag, s2, v2.tag) == (3, "loss", 4, "my loss")  # TF2 keeps the name as is
    assert v1.WhichOneof("value") == "tensor"
    assert v1.metadata.plugin_data.plugin_name == "scalars"
    assert v1.metadata.plugin_data.content == b""  # ScalarPluginData(version=0)
    assert v2.metadata.summary_description == "d"
    t = v1.tensor
    assert t.dtype == 1 and len(t.tensor_shape.dim) == 0 and t.HasField("tensor_shape")
    assert t.tensor_content == np.float32(0.25).tobytes()
    assert summary.make_ndarray(v2.tensor).dtype == np.float32
    with w.as_default(step=1), pytest.raises(ValueError, match="Expected scalar shape"):
        summary.scalar("v", [1.0, 2.0])


def test_tf2_histogram_is_tensorboards_bucket_tensor(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(step=0):
        summary.histogram("h", np.arange(10.0))
        summary.histogram("h5", np.array([0.0, 1.0, 1.0, 4.0]), buckets=4)
        summary.histogram("one", np.array([2.5, 2.5, 2.5]), buckets=3)
        summary.histogram("none", np.zeros(0), buckets=3)
    w.close()
    vals = {v.tag: v for _, v in _values(tmp_path)}
    h = summary.make_ndarray(vals["h"].tensor)
    # histogram/summary_v2.py: DEFAULT_BUCKET_COUNT = 30, [k, 3] float64 [left, right, count]
    assert h.shape == (30, 3) and h.dtype == np.float64 and vals["h"].tensor.dtype == 2
    assert h[:, 2].sum() == 10 and h[0, 0] == 0.0 and h[-1, 1] == 9.0
    assert vals["h"].metadata.plugin_data.plugin_name == "histograms"
    # width 1: floor((x - 0) / 1) clamped to 3 -> counts [1, 2, 0, 1]
    np.testing.assert_array_equal(summary.make_ndarray(vals["h5"].tensor),
                                  [[0, 1, 1], [1, 2, 2], [2, 3, 0], [3, 4, 1]])
    # a single value: every edge is the value, the last bucket holds the count
    np.testing.assert_array_equal(summary.make_ndarray(vals["one"].tensor),
                                  [[2.5, 2.5, 0], [2.5, 2.5, 0], [2.5, 2.5, 3]])
    # no data: bucket_count rows of zeros
    np.testing.assert_array_equal(summary.make_ndarray(vals["none"].tensor), np.zeros((3, 3)))


def test_tf2_text_is_a_string_tensor(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(step=2):
        assert summary.text("notes", "hello **world**") is True
        assert summary.text("rows", ef.constant(["a", "b"])) is True
    w.close()
    vals = {v.tag: v for _, v in _values(tmp_path)}
    t = vals["notes"].tensor
    # summary_file_writer.cc: a DT_STRING tensor goes to string_val (AsProtoField)
    assert t.dtype == 7 and list(t.string_val) == [b"hello **world**"] and not t.tensor_content
    assert vals["notes"].metadata.plugin_data.plugin_name == "text"
    assert list(vals["rows"].tensor.string_val) == [b"a", b"b"]
    assert [d.size for d in vals["rows"].tensor.tensor_shape.dim] == [2]


def test_tf2_step_sources_and_recording(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    assert summary.scalar("nowhere", 1.0, step=0) is False  # no default writer
    with w.as_default():
        with pytest.raises(ValueError, match="No step set"):
            summary.scalar("loss", 1.0)
        summary.experimental.set_step(5)
        assert summary.experimental.get_step() == 5
        assert summary.scalar("a", 1.0)
        with summary.record_if(False):
            assert summary.should_record_summaries() is False
            assert summary.scalar("skipped", 1.0) is False
        assert summary.write("raw", np.array([1, 2], np.int64), step=6)
        summary.flush()
    summary.experimental.set_step(None)
    with summary.create_noop_writer().as_default(step=1):
        assert summary.scalar("x", 1.0) is True
    w.close()
    got = [(s, v.tag) for s, v in _values(tmp_path)]
    assert got == [(5, "a"), (6, "raw")]


def test_tf2_tag_under_variable_scope(tmp_path):
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(step=1), ef.variable_scope("tower"):
        summary.scalar("loss", 1.0)
    w.close()
    assert [v.tag for _, v in _values(tmp_path)] == ["tower/loss"]


# --- TF1 summary ops -------------------------------------------------------------------------
def test_tf1_scalar_returns_a_serialized_summary_and_merge_all(tmp_path):
    s = summary.scalar("acc", ef.constant(0.75))
    proto = summary.Summary.FromString(s.numpy())
    # ScalarSummary: one value, tag = name, simple_value
    assert [(v.tag, v.simple_value) for v in proto.value] == [("acc", 0.75)]
    summary.histogram("w", np.array([1.0, 2.0]))
    summary.scalar("acc", 0.5)  # eagerly the latest value of a tag replaces the previous one
    merged = summary.Summary.FromString(summary.merge_all().numpy())
    assert [v.tag for v in merged.value] == ["acc", "w"]
    assert merged.value[0].simple_value == 0.5
    fw = summary.FileWriter(str(tmp_path))
    fw.add_summary(summary.merge_all(), global_step=7)
    fw.close()
    assert [(s, v.tag) for s, v in _values(tmp_path)] == [(7, "acc"), (7, "w")]
    assert summary.merge_all(key="nothing") is None


def test_tf1_tags_clean_tag_and_family():
    # summary_op_util.clean_tag: characters outside [-/\w.] become '_'; with a family the
    # tag is family/<scope>/family/name... i.e. 'fam/fam/x' at the root scope
    s1 = summary.Summary.FromString(summary.scalar("my loss", 1.0).numpy())
    s2 = summary.Summary.FromString(summary.scalar("x", 1.0, family="fam").numpy())
    s3 = summary.Summary.FromString(summary.scalar("y", 2.0, ["mine"]).numpy())
    assert (s1.value[0].tag, s2.value[0].tag, s3.value[0].tag) == ("my_loss", "fam/fam/x", "y")
    assert summary.merge_all("mine") is not None
    with pytest.raises(InvalidArgumentError, match="tags and values are not the same shape"):
        summary.scalar("v", [1.0, 2.0], family="f")


def test_tf1_merge_rejects_duplicate_tags():
    a = summary.scalar("t", 1.0)
    b = summary.scalar("t", 2.0, ["other"])
    # summary_op_test.cc SummaryMergeOpTest.Error_MismatchedSize: "Duplicate tag"
    with pytest.raises(InvalidArgumentError, match="Duplicate tag t found in summary inputs"):
        summary.merge([a, b])


# TF's C++ Histogram::ToString of the decoded proto (histogram.cc), to compare with the
# strings TensorFlow's own summary_op_test.cc expects
def _histo_to_string(p):
    limits, buckets, num = list(p.bucket_limit), list(p.bucket), p.num
    avg = p.sum / num if num else 0.0
    std = ((p.sum_squares * num - p.sum * p.sum) / (num * num)) ** 0.5 if num else 0.0

    def percentile(q):
        thr, prev = num * (q / 100.0), 0.0
        for i, c in enumerate(buckets):
            cum = prev + c
            if cum >= thr:
                if cum == prev:
                    continue
                lhs = max(p.min if (i == 0 or prev == 0) else limits[i - 1], p.min)
                rhs = min(limits[i], p.max)
                return lhs + (thr - prev) / (cum - prev) * (rhs - lhs)
            prev = cum
        return p.max
    out = "Count: %.0f  Average: %.4f  StdDev: %.2f\n" % (num, avg, std)
    out += "Min: %.4f  Median: %.4f  Max: %.4f\n" % (p.min, percentile(50.0), p.max)
    out += "-" * 54 + "\n"
    total = 0.0
    for b, c in enumerate(buckets):
        if c <= 0:
            continue
        total += c
        out += "[ %10.2g, %10.2g ) %7.0f %7.3f%% %7.3f%% " % (
            -sys.float_info.max if b == 0 else limits[b - 1], limits[b], c, 100.0 * c / num,
            100.0 * total / num)
        out += "#" * int(20 * (c / num) + 0.5) + "\n"
    return out


_TF_HISTO_EXPECTED = (  # summary_op_test.cc SummaryHistoOpTest.SimpleFloat / SimpleDouble
    "Count: 6  Average: 2.7500  StdDev: 2.20\n"
    "Min: -0.7000  Median: 3.9593  Max: 5.0000\n"
    "------------------------------------------------------\n"
    "[      -0.76,      -0.69 )       1  16.667%  16.667% ###\n"
    "[      0.093,        0.1 )       1  16.667%  33.333% ###\n"
    "[        3.8,        4.2 )       3  50.000%  83.333% ##########\n"
    "[        4.6,        5.1 )       1  16.667% 100.000% ###\n")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tf1_histogram_matches_tfs_cpp_histogram(dtype):
    values = ef.constant(np.array([[0.1, -0.7], [4.1, 4.0], [5.0, 4.0]], dtype))
    proto = summary.Summary.FromString(summary.histogram("taghisto", values).numpy())
    assert proto.value[0].tag == "taghisto"
    assert _histo_to_string(proto.value[0].histo) == _TF_HISTO_EXPECTED


def test_tf1_histogram_empty_and_errors():
    h = summary.Summary.FromString(summary.histogram("e", np.zeros(0)).numpy())
    p = h.value[0].histo
    # histogram.cc: Clear() sets min=DBL_MAX, max=-DBL_MAX; EncodeToProto adds one
    # (DBL_MAX, 0) bucket when all are empty
    assert (p.min, p.max, p.num) == (sys.float_info.max, -sys.float_info.max, 0)
    assert list(p.bucket_limit) == [sys.float_info.max] and list(p.bucket) == [0.0]
    with pytest.raises(InvalidArgumentError, match="Nan in summary histogram for: n"):
        summary.histogram("n", np.array([1.0, np.nan]))
    with pytest.raises(InvalidArgumentError, match="Infinity in summary histogram for: i"):
        summary.histogram("i", np.array([np.inf]))


def test_tf1_text():
    t = summary.Summary.FromString(summary.text("notes", ef.constant("hi")).numpy())
    v = t.value[0]
    # text_summary.py: tensor_summary with plugin_name "text"
    assert v.tag == "notes" and list(v.tensor.string_val) == [b"hi"]
    assert v.metadata.plugin_data.plugin_name == "text"
    with pytest.raises(ValueError, match="to have dtype string"):
        summary.text("bad", ef.constant(1.0), collections=["x"])


def test_tf1_ops_write_through_a_tf2_default_writer(tmp_path):
    # summary.py (TF2's compat.v1): with a default v2 writer the v1 op calls the v2 op at
    # tf.summary.experimental.get_step(), else the global step
    with ef.VariableStore().as_default():
        ef.train.get_or_create_global_step().assign(11)
        w = summary.create_file_writer(str(tmp_path))
        with w.as_default():
            assert summary.scalar("loss", 1.5, family="f") is True
        w.close()
    ((step, v),) = _values(tmp_path)
    assert step == 11 and v.tag == "f/f/loss" and v.WhichOneof("value") == "tensor"


def test_file_writer_keeps_metadata_only_on_the_first_value_of_a_tag(tmp_path):
    # writer.py SummaryToEventTransformer.add_summary strips metadata of seen tags
    md = summary.SummaryMetadata(plugin_data=summary.SummaryMetadata.PluginData(
        plugin_name="text"))
    fw = summary.FileWriter(str(tmp_path))
    for step in (1, 2):
        fw.add_summary(summary.Summary(value=[summary.Summary.Value(
            tag="t", metadata=md, tensor=summary.TensorProto(dtype=7, string_val=[b"x"]))]),
            step)
    fw.close()
    (_, v1), (_, v2) = _values(tmp_path)
    assert v1.HasField("metadata") and not v2.HasField("metadata")
    first = _events(tmp_path)[0]
    assert first.file_version == "brain.Event:2" and first.wall_time == int(first.wall_time)


def test_files_parse_with_tensorboard(tmp_path):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from tensorboard.util import tensor_util
    w = summary.create_file_writer(str(tmp_path / "v2"))
    with w.as_default(step=3):
        summary.scalar("loss", 0.5)
        summary.histogram("h", np.arange(10.0))
        summary.text("t", "hello")
    w.close()
    acc = ea.EventAccumulator(str(tmp_path / "v2"), size_guidance={ea.TENSORS: 0})
    acc.Reload()
    assert sorted(acc.Tags()["tensors"]) == ["h", "loss", "t"]
    assert tensor_util.make_ndarray(acc.Tensors("loss")[0].tensor_proto) == np.float32(0.5)
    assert acc.SummaryMetadata("h").plugin_data.plugin_name == "histograms"
    summary.scalar("acc", 0.75)
    fw = summary.FileWriter(str(tmp_path / "v1"))
    fw.add_summary(summary.merge_all(), 7)
    fw.close()
    acc = ea.EventAccumulator(str(tmp_path / "v1"))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("acc")] == [(7, 0.75)]


# --- GPU values are not read where nothing is written (no per-step device-to-host copy) -------
def _no_host_reads(monkeypatch):
    def refuse(values):
        raise AssertionError("a summary value was read on the host")
    monkeypatch.setattr(W, "_host_array", refuse)


def test_tf2_scalar_reads_nothing_without_a_writer_or_when_not_recording(monkeypatch, tmp_path):
    # TF2's tf.summary.scalar(..., step) in a training step is a no-op without a default
    # writer and under record_if(False): its data must not be copied to the host
    _no_host_reads(monkeypatch)
    t = ef.constant(0.5)
    assert summary.scalar("loss", t, step=3) is False
    w = summary.create_file_writer(str(tmp_path))
    with w.as_default(step=3), summary.record_if(False):
        assert summary.scalar("loss", t) is False
        assert summary.histogram("w", ef.constant([1.0, 2.0])) is False
    w.close()


def test_tf1_summaries_of_gpu_values_are_serialized_when_read(monkeypatch):
    # GPU data (here: every Tensor, by the patched check) is copied on the device when the
    # op is called and serialized when the string tensor is read, as TF1 runs a summary op
    # only when it is fetched: a model_fn calling tf.compat.v1.summary.* reads nothing
    monkeypatch.setattr(W, "_on_device", lambda x: isinstance(x, ef.Tensor))
    a = np.array(0.25, np.float32)
    s = summary.scalar("acc", ef.constant(a))
    nan_hist = summary.histogram("h", ef.constant(np.array([1.0, np.nan])))
    merged = summary.merge_all()
    assert isinstance(s, W._PendingSummary) and isinstance(merged, W._PendingSummary)
    assert s._value is None and merged._value is None  # nothing read yet
    a[...] = 0.9  # a later in-place update (a variable) does not change the summary
    proto = summary.Summary.FromString(s.numpy())
    assert [(v.tag, v.simple_value) for v in proto.value] == [("acc", 0.25)]
    # checks that need no values stay immediate; value errors come when read
    with pytest.raises(InvalidArgumentError, match="tags and values are not the same shape"):
        summary.scalar("v", ef.constant([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="Duplicate tag acc found"):
        summary.merge([s, summary.scalar("acc", 1.0, ["other"])])
    with pytest.raises(InvalidArgumentError, match="Nan in summary histogram for: h"):
        nan_hist.numpy()
    W._clear_collections()
    summary.scalar("acc", ef.constant(0.5))
    summary.histogram("w", ef.constant(np.array([1.0, 2.0])))
    summary.scalar("host", 2.0)  # a host value is serialized at once
    merged = summary.Summary.FromString(summary.merge_all().numpy())
    assert [v.tag for v in merged.value] == ["acc", "w", "host"]
    assert merged.value[0].simple_value == 0.5 and merged.value[1].histo.num == 2



def test_summary_saver_hook_writes_tf1_serialized_summaries(tmp_path):
    # TF's SummarySaverHook fetches summary_op (serialized Summary protos: a TF1
    # tf.summary.scalar or merge_all) and passes each to add_summary; eagerly the step
    # publishes the op's value under a name, which the hook fetches
    from eagerflow.train.session_run_hook import HookRunner
    from eagerflow.variables import VariableStore
    out = str(tmp_path / "hook")
    store = VariableStore()
    with store.as_default():
        gs = ef.train.get_or_create_global_step()
        hook = summary.SummarySaverHook(save_steps=2, output_dir=out, summary_op="summ")
        runner = HookRunner([hook])
        runner.begin()
        runner.after_create_session()
        for k in range(5):
            def step(k=k):
                op = ef.compat.v1.summary.scalar("my_loss", ef.constant(float(k)))
                gs.assign_add(1)
                return {"summ": op}
            runner.run_step(step)
        runner.end()
    summary.FileWriterCache.clear()
    got = [(ev.step, v.tag, v.simple_value) for f in summary.event_files(out)
           for ev in summary.summary_iterator(f) for v in ev.summary.value]
    # TF's schedule: the first step, then every save_steps, at the global step after it
    assert got == [(1, "my_loss", 0.0), (3, "my_loss", 2.0), (5, "my_loss", 4.0)]
