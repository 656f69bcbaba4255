"""train_and_evaluate with exporters, and TrainSpec/EvalSpec validation."""
import os

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import estimator as est
from eagerflow import saved_model

X = np.random.default_rng(0).standard_normal((128, 2)).astype(np.float32)
Y = (X.sum(1, keepdims=True) > 0).astype(np.int64)


def test_train_and_evaluate_exports_and_evaluates(tmp_path):
    cols = [fc.numeric_column("a", shape=2)]
    m = est.DNNClassifier([4], cols, model_dir=str(tmp_path),
                          config=est.RunConfig(save_checkpoints_steps=10,
                                               log_step_count_steps=None))
    recv = est.build_raw_serving_input_receiver_fn({"a": ef.TensorSpec([None, 2], ef.float32)})
    train = est.TrainSpec(lambda: iter([({"a": X}, Y)] * 100), max_steps=30)
    evals = est.EvalSpec(lambda: iter([({"a": X}, Y)]), steps=1, throttle_secs=0,
                         exporters=[est.LatestExporter("latest", recv, exports_to_keep=2),
                                    est.FinalExporter("final", recv)])
    result, exports = est.train_and_evaluate(m, train, evals)
    assert result["global_step"] == 30 and "auc" in result
    latest = sorted(os.listdir(tmp_path / "export" / "latest"))
    assert 1 <= len(latest) <= 2
    finals = [p for p in exports if "/final/" in p]
    assert len(finals) == 1 and saved_model.is_complete(finals[0])


def test_spec_validation():
    with pytest.raises(TypeError, match="callable"):
        est.TrainSpec(None)
    with pytest.raises(ValueError, match="max_steps > 0"):
        est.TrainSpec(lambda: None, max_steps=0)
    with pytest.raises(ValueError, match="unique names"):
        e = est.FinalExporter("x", None)
        est.EvalSpec(lambda: None, exporters=[e, e])
    with pytest.raises(TypeError, match="TrainSpec"):
        est.train_and_evaluate(None, None, None)


def test_progress_bar_shows_loss_and_examples_per_second_only_on_request(tmp_path):
    import io

    import eagerflow.feature_column as fc
    from eagerflow import estimator as est
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
    y = (x > 0).astype(np.int64)
    outs = {}
    for disable in (False, None):
        out = io.StringIO()  # not a terminal: None hides the bar, False forces it
        m = est.LinearClassifier([fc.numeric_column("a")],
                                 model_dir=str(tmp_path / f"m{disable}"),
                                 config=est.RunConfig(log_step_count_steps=None))
        m.train(lambda: iter([({"a": x}, y)] * 6), steps=6, hooks=[est.ProgressBarHook(
            total_steps=6, every_n_steps=2, file=out, disable=disable, batch_size=64)])
        outs[disable] = out.getvalue()
    assert "6/6" in outs[False] and "loss=" in outs[False] and "examples/s=" in outs[False]
    assert outs[None] == ""
    with pytest.raises(ValueError, match="batch_size"):
        est.ProgressBarHook(batch_size=0)
