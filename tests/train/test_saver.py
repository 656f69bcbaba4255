"""Saver checkpoints: names, state file, retention, atomicity, restore errors."""
import json
import os

import numpy as np
import pytest

import eagerflow as ef
from eagerflow.train.checkpoint_state import (get_checkpoint_state, latest_checkpoint,
                                              update_checkpoint_state)
from eagerflow.train.saver import (NotFoundError, Saver, checkpoint_exists, list_variables,
                                   load_checkpoint, load_variable)
from tests.gradcheck import to_numpy


def _vars():
    return [ef.Variable(np.arange(6.0, dtype=np.float32).reshape(2, 3), name="dnn/kernel"),
            ef.Variable(np.array(7, dtype=np.int64), name="global_step")]


def test_save_writes_tf_layout_and_state_file(tmp_path):
    vs = _vars()
    s = Saver(vs)
    prefix = s.save(None, str(tmp_path / "model.ckpt"), global_step=200)
    assert prefix == str(tmp_path / "model.ckpt-200")
    assert checkpoint_exists(prefix)
    state = (tmp_path / "checkpoint").read_text().splitlines()
    assert state[0] == 'model_checkpoint_path: "model.ckpt-200"'
    assert state[1] == 'all_model_checkpoint_paths: "model.ckpt-200"'
    assert latest_checkpoint(str(tmp_path)) == prefix
    assert list_variables(str(tmp_path)) == [("dnn/kernel", [2, 3]), ("global_step", [])]
    np.testing.assert_array_equal(load_variable(prefix, "dnn/kernel"), to_numpy(vs[0]))
    idx = json.loads((tmp_path / "model.ckpt-200.index").read_text())
    assert idx["global_step"] == 200 and idx["tensors"]["global_step"]["dtype"] == "<i8"
    assert load_checkpoint(prefix).global_step == 200


def test_restore_roundtrip_and_failed_restore_changes_nothing(tmp_path):
    vs = _vars()
    s = Saver(vs)
    prefix = s.save(str(tmp_path / "m"), global_step=1)
    vs[0].assign(np.zeros((2, 3), np.float32))
    assert s.restore(None, prefix) == prefix
    np.testing.assert_array_equal(to_numpy(vs[0]), np.arange(6.0).reshape(2, 3))
    other = ef.Variable(np.ones(3, np.float32), name="missing")
    before = to_numpy(vs[0]).copy()
    with pytest.raises(NotFoundError, match="key missing not found"):
        Saver(vs + [other]).restore(prefix)
    bad = ef.Variable(np.ones((3, 3), np.float32), name="dnn/kernel")
    with pytest.raises(ValueError, match=r"has shape \(3, 3\) but the checkpoint holds shape \(2, 3\)"):
        Saver([bad]).restore(prefix)
    np.testing.assert_array_equal(to_numpy(vs[0]), before)
    with pytest.raises(NotFoundError, match="does not exist"):
        Saver(vs).restore(str(tmp_path / "nope"))


def test_retention_keeps_newest_and_deletes_older_files(tmp_path):
    vs = _vars()
    s = Saver(vs, max_to_keep=2)
    for step in (1, 2, 3):
        s.save(str(tmp_path / "model.ckpt"), global_step=step)
    assert not checkpoint_exists(str(tmp_path / "model.ckpt-1"))
    assert not (tmp_path / "model.ckpt-1.safetensors").exists()
    state = get_checkpoint_state(str(tmp_path))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == \
        ["model.ckpt-2", "model.ckpt-3"]
    assert len(state.all_model_checkpoint_timestamps) == 2
    keep_all = Saver(vs, max_to_keep=0)
    for step in (10, 11, 12):
        keep_all.save(str(tmp_path / "all" / "m"), global_step=step)
    assert all(checkpoint_exists(str(tmp_path / "all" / f"m-{s}")) for s in (10, 11, 12))


def test_state_file_roundtrip_and_errors(tmp_path):
    update_checkpoint_state(str(tmp_path), str(tmp_path / 'we"ird'), [str(tmp_path / "a")])
    st = get_checkpoint_state(str(tmp_path))
    assert st.model_checkpoint_path == str(tmp_path / 'we"ird')
    assert st.all_model_checkpoint_paths[0] == str(tmp_path / "a")
    assert latest_checkpoint(str(tmp_path)) is None  # listed but not on disk
    (tmp_path / "checkpoint").write_text("garbage line\n")
    with pytest.raises(ValueError, match="not a CheckpointState line"):
        get_checkpoint_state(str(tmp_path))
    assert get_checkpoint_state(str(tmp_path / "empty")) is None


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="no variables"):
        Saver([]).save(str(tmp_path / "x"))
    with pytest.raises(TypeError, match="is not a Variable"):
        Saver({"a": np.ones(2)}).save(str(tmp_path / "x"))
    with pytest.raises(ValueError, match="save_path is required"):
        Saver(_vars()).save()


def test_save_does_not_leave_partial_files_on_failure(tmp_path):
    vs = _vars() + [ef.Variable(np.array(["s"], dtype=object), name="strings")]
    with pytest.raises(TypeError, match="holds strings"):
        Saver(vs).save(str(tmp_path / "m"), global_step=1)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_newest_checkpoint_is_skipped(tmp_path, caplog):
    import logging
    vs = _vars()
    s = Saver(vs)
    s.save(str(tmp_path / "m"), global_step=1)
    vs[0].assign(np.full((2, 3), 9.0, np.float32))
    newest = s.save(str(tmp_path / "m"), global_step=2)
    data = tmp_path / "m-2.safetensors"
    data.write_bytes(data.read_bytes()[:-7])  # truncated (a crash mid-copy, a full disk)
    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        assert latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-1")
    assert "incomplete or corrupt" in caplog.text and newest.endswith("m-2")
    (tmp_path / "m-1.index").write_text("{not json")
    assert latest_checkpoint(str(tmp_path)) is None


def test_init_from_checkpoint_maps_names_and_scopes(tmp_path):
    from eagerflow.train import init_from_checkpoint
    from eagerflow.variables import VariableStore, get_variable, variable_scope
    src = [ef.Variable(np.ones((2, 2), np.float32) * 3, name="old/w"),
           ef.Variable(np.ones(2, np.float32) * 4, name="old/b")]
    prefix = Saver(src).save(str(tmp_path / "src"), global_step=1)
    with VariableStore().as_default():
        w_now = get_variable("new/w", [2, 2], initializer=np.zeros((2, 2), np.float32))
        init_from_checkpoint(prefix, {"old/": "new/"})
        assert to_numpy(w_now).tolist() == [[3, 3], [3, 3]]
        with variable_scope("new"):
            b_later = get_variable("b", [2], initializer=np.zeros(2, np.float32))
        assert to_numpy(b_later).tolist() == [4, 4]  # created after the call: set on creation
    with VariableStore().as_default():
        v = get_variable("x", [2], initializer=np.zeros(2, np.float32))
        init_from_checkpoint(prefix, {"old/b": v})
        assert to_numpy(v).tolist() == [4, 4]
        with pytest.raises(ValueError, match="not found"):
            init_from_checkpoint(prefix, {"old/missing": "x"})
        bad = get_variable("y", [3], initializer=np.zeros(3, np.float32))
        with pytest.raises(ValueError, match="shape"):
            init_from_checkpoint(prefix, {"old/b": bad})


def test_extra_states_are_saved_rotated_and_read_back(tmp_path, caplog):
    """Extra JSON states (an input position) belong to their checkpoint: written before
    its manifest, deleted with it, absent when the provider says None, and a corrupt file
    reads as absent with a warning."""
    from eagerflow.train.saver import discard_extra_state, extra_state_path
    v = ef.Variable([1.0], name="v")
    value = {"pos": 0}
    saver = Saver([v], max_to_keep=2, extra_states={"input": lambda: value if value["pos"] else None})
    prefixes = []
    for step in (1, 2, 3):
        value["pos"] = step
        prefixes.append(saver.save(str(tmp_path / "model.ckpt"), global_step=step))
    assert not os.path.exists(extra_state_path(prefixes[0], "input"))  # rotated away
    assert load_checkpoint(prefixes[2]).get_extra_state("input") == {"pos": 3}
    assert load_checkpoint(prefixes[2]).get_extra_state("other") is None
    discard_extra_state(prefixes[2], "input")
    assert load_checkpoint(prefixes[2]).get_extra_state("input") is None
    value["pos"] = 0  # the provider has nothing: a stale file of the same prefix goes
    with open(extra_state_path(prefixes[1], "input"), "w") as f:
        f.write("{truncated")
    with caplog.at_level("WARNING", logger="eagerflow"):
        assert load_checkpoint(prefixes[1]).get_extra_state("input") is None
    assert "unreadable 'input' state" in caplog.text
    saver.save(str(tmp_path / "model.ckpt"), global_step=2)
    assert not os.path.exists(extra_state_path(prefixes[1], "input"))
    with pytest.raises(ValueError, match="extra_states must map names"):
        Saver([v], extra_states={"a/b": lambda: 1})
