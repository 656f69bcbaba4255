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
