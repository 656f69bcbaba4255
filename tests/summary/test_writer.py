"""Event files: TF's framing and file_version record, scalars, histograms, errors."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import summary
from eagerflow.io.tfrecord import tf_record_iterator


def test_file_writer_layout(tmp_path):
    w = summary.FileWriter(str(tmp_path))
    w.add_scalar("a/b", 1.5, step=3)
    w.add_histogram("h", ef.constant(np.arange(10.0)), step=4, buckets=5)
    w.add_summary(summary.Summary(value=[summary.Summary.Value(tag="c", simple_value=2.0)])
                  .SerializeToString(), global_step=5)
    w.close()
    files = summary.event_files(str(tmp_path))
    assert len(files) == 1 and "events.out.tfevents." in files[0]
    events = [summary.Event.FromString(r) for r in tf_record_iterator(files[0])]
    assert events[0].file_version == "brain.Event:2"
    assert (events[1].step, events[1].summary.value[0].tag,
            events[1].summary.value[0].simple_value) == (3, "a/b", 1.5)
    h = events[2].summary.value[0].histo
    assert h.num == 10 and h.max == 9 and len(h.bucket) == 5 and sum(h.bucket) == 10
    assert events[3].summary.value[0].simple_value == 2.0
    with pytest.raises(ValueError, match="closed"):
        w.add_scalar("x", 1.0, 1)
    with pytest.raises(TypeError, match="Summary proto"):
        summary.FileWriter(str(tmp_path)).add_summary(object())


def test_tf2_style_default_writer(tmp_path):
    assert summary.scalar("nowhere", 1.0, step=0) is False
    writer = summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=7):
        assert summary.scalar("loss", ef.constant(0.5))
        assert summary.histogram("w", np.ones(3))
    with writer.as_default():
        with pytest.raises(ValueError, match="step is required"):
            summary.scalar("loss", 1.0)
    writer.close()
    evs = [e for f in summary.event_files(str(tmp_path)) for e in summary.summary_iterator(f)]
    steps = [(e.step, e.summary.value[0].tag) for e in evs if e.HasField("summary")]
    assert steps == [(7, "loss"), (7, "w")]


def test_summary_saver_hook_arguments(tmp_path, monkeypatch):
    with pytest.raises(ValueError,
                       match="Exactly one of scaffold or summary_op must be provided."):
        summary.SummarySaverHook(save_steps=1, output_dir="x")
    # TF does not check the writer: without output_dir or summary_writer the hook runs and
    # writes nothing
    from eagerflow.train.session_run_hook import HookRunner
    from eagerflow.variables import VariableStore
    monkeypatch.chdir(tmp_path)
    with VariableStore().as_default():
        gs = ef.train.get_or_create_global_step()
        runner = HookRunner([summary.SummarySaverHook(save_steps=1, summary_op={"l": "loss"})])
        runner.begin()
        runner.after_create_session()
        for _ in range(2):
            runner.run_step(lambda: (gs.assign_add(1), {"loss": ef.constant(1.0)})[1])
        runner.end()
    assert list(tmp_path.rglob("*")) == []
