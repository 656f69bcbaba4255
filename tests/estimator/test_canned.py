"""Canned estimators: TF variable names, prediction keys, metrics, learning on clicks."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import estimator as est

R = np.random.default_rng(7)
N = 2048
X1 = R.standard_normal(N).astype(np.float32)
CAT = R.integers(0, 8, N)
LOGIT = 1.5 * X1 + np.where(CAT % 2 == 0, 1.5, -1.5)
Y = (R.random(N) < 1 / (1 + np.exp(-LOGIT))).astype(np.int64)
WORDS = np.array([f"w{c}" for c in CAT], dtype=object)


def input_fn(epochs=None, batch=256, labels=True):
    def fn():
        def gen():
            e = 0
            while epochs is None or e < epochs:
                for i in range(0, N, batch):
                    feats = {"x1": X1[i:i + batch, None], "cat": WORDS[i:i + batch, None]}
                    yield (feats, Y[i:i + batch, None]) if labels else feats
                e += 1
        return gen()
    return fn


X_COL = fc.numeric_column("x1")
CAT_COL = fc.categorical_column_with_hash_bucket("cat", 50)


def config(tmp_path):
    return est.RunConfig(model_dir=str(tmp_path), save_checkpoints_steps=100,
                         log_step_count_steps=50, tf_random_seed=1)


def test_wide_and_deep_learns_and_names_variables(tmp_path):
    # TF's default rates (0.001 / min(0.005, ...)) learn this log slowly: the optimizers
    # are given, as users of Wide & Deep usually do (the defaults: the test below)
    m = est.DNNLinearCombinedClassifier(
        linear_feature_columns=[X_COL, CAT_COL],
        dnn_feature_columns=[X_COL, fc.embedding_column(CAT_COL, 4)],
        dnn_hidden_units=[16, 8], config=config(tmp_path),
        linear_optimizer=lambda: ef.train.FtrlOptimizer(0.2),
        dnn_optimizer=lambda: ef.train.AdagradOptimizer(0.05))
    m.train(input_fn(), steps=150)
    res = m.evaluate(input_fn(epochs=1))
    for key in ("accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss",
                "label/mean", "prediction/mean", "precision", "recall", "loss", "global_step"):
        assert key in res, key
    assert res["global_step"] == 150 and res["auc"] > 0.8
    assert abs(res["label/mean"] - Y.mean()) < 1e-6
    names = m.get_variable_names()
    for n in ("dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_1/bias", "dnn/logits/kernel",
              "dnn/input_from_feature_columns/input_layer/cat_embedding/embedding_weights",
              "linear/linear_model/cat/weights", "linear/linear_model/x1/weights",
              "linear/linear_model/bias_weights", "global_step"):
        assert n in names, n
    preds = next(m.predict(input_fn(epochs=1, labels=False)))
    assert set(preds) == {"logits", "logistic", "probabilities", "class_ids", "classes",
                          "all_class_ids", "all_classes"}
    assert preds["probabilities"].shape == (2,) and preds["classes"][0] in (b"0", b"1")
    np.testing.assert_allclose(preds["probabilities"].sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("n_linear", [1, 50])
def test_wide_and_deep_named_optimizers_get_tfs_learning_rates(tmp_path, n_linear):
    """dnn_linear_combined.py: 0.001 for the DNN, min(0.005, 1/sqrt(#linear columns)) for
    the linear part. With 'SGD' and an all-zero start, one step moves the linear bias by
    lr * the mean gradient of the loss (sigmoid(0) - label) and the DNN's logits bias by
    0.001 times the same."""
    cols = [fc.numeric_column(f"x{i}") for i in range(n_linear)]
    feats = {f"x{i}": np.zeros((4, 1), np.float32) for i in range(n_linear)}
    labels = np.array([[1], [1], [1], [0]], np.int64)
    m = est.DNNLinearCombinedClassifier(
        linear_feature_columns=cols, dnn_feature_columns=cols[:1], dnn_hidden_units=[2],
        linear_optimizer="SGD", dnn_optimizer="SGD", config=config(tmp_path))
    m.train(lambda: iter([(feats, labels)]), steps=1)
    grad = float(np.mean(0.5 - labels))  # d(mean BCE)/d(logit) at logit 0
    lr_linear = min(0.005, 1 / np.sqrt(n_linear))
    np.testing.assert_allclose(m.get_variable_value("linear/linear_model/bias_weights"),
                               [-lr_linear * grad], rtol=1e-5)
    np.testing.assert_allclose(m.get_variable_value("dnn/logits/bias"), [-0.001 * grad],
                               rtol=1e-5)


def test_linear_and_dnn_classifiers_and_regressors(tmp_path):
    lin = est.LinearClassifier([X_COL, CAT_COL], config=config(tmp_path / "lin"))
    lin.train(input_fn(), steps=60)
    assert lin.evaluate(input_fn(epochs=1))["auc"] > 0.8
    dnn = est.DNNClassifier([8], [X_COL, fc.indicator_column(CAT_COL)],
                            config=config(tmp_path / "dnn"), optimizer="Adam")
    dnn.train(input_fn(), steps=60)
    assert dnn.evaluate(input_fn(epochs=1))["auc"] > 0.75
    reg = est.DNNRegressor([8], [X_COL], config=config(tmp_path / "reg"))

    def reg_input():
        for i in range(0, N, 256):
            yield {"x1": X1[i:i + 256, None]}, 2.0 * X1[i:i + 256, None]
    reg.train(lambda: (b for _ in range(100) for b in reg_input()), steps=80)
    r = reg.evaluate(lambda: reg_input())
    assert set(r) == {"average_loss", "label/mean", "prediction/mean", "loss", "global_step"}
    assert r["average_loss"] < 1.0
    lreg = est.LinearRegressor([X_COL], config=config(tmp_path / "lreg"))
    lreg.train(lambda: (b for _ in range(100) for b in reg_input()), steps=50)
    assert next(lreg.predict(lambda: ({"x1": X1[:4, None]},)))["predictions"].shape == (1,)


def test_multiclass_head(tmp_path):
    m = est.DNNClassifier([8], [X_COL], n_classes=3, config=config(tmp_path))
    labels = np.digitize(X1, [-0.5, 0.5])[:, None]
    m.train(lambda: iter([({"x1": X1[:, None]}, labels)] * 200), steps=100)
    res = m.evaluate(lambda: iter([({"x1": X1[:, None]}, labels)]))
    assert res["accuracy"] > 0.8
    p = next(m.predict(lambda: iter([{"x1": X1[:3, None]}])))
    assert p["probabilities"].shape == (3,) and p["all_classes"].tolist() == [b"0", b"1", b"2"]


@pytest.mark.parametrize("n_classes,bad", [(2, 2), (2, -1), (3, 3), (3, -1)])
def test_out_of_range_labels_fail_training(tmp_path, n_classes, bad):
    labels = np.zeros((8, 1), np.int64)
    labels[5] = bad
    m = est.DNNClassifier([4], [X_COL], n_classes=n_classes, config=est.RunConfig(
        model_dir=str(tmp_path), log_step_count_steps=None, save_summary_steps=None))
    # the CPU raises in the step; the GPU at the Estimator's next check of its error flag
    with pytest.raises(ValueError, match="labels must be"):
        m.train(lambda: iter([({"x1": X1[:8, None]}, labels)] * 3), steps=3)


def test_multiclass_label_vocabulary(tmp_path):
    m = est.DNNClassifier([4], [X_COL], n_classes=3, label_vocabulary=["a", "b", "c"],
                          config=config(tmp_path))
    words = np.array([["a"], ["c"], ["b"], ["a"]], dtype=object)
    m.train(lambda: iter([({"x1": X1[:4, None]}, words)] * 3), steps=3)
    with pytest.raises(ValueError, match="not in label_vocabulary"):
        m.train(lambda: iter([({"x1": X1[:4, None]}, words.copy() + "x")] * 3), steps=3)


def test_deepfm_and_dcn_learn(tmp_path):
    cols = [fc.embedding_column(CAT_COL, 4),
            fc.embedding_column(fc.categorical_column_with_identity("c2", 8), 4)]
    feats_fn = input_fn()

    def with_c2():
        for f, y in feats_fn():
            f = dict(f)
            f["c2"] = (np.abs(f["x1"] * 3).astype(np.int64) % 8)
            yield f, y
    deepfm = est.DeepFMClassifier(cols, hidden_units=[16], dense_columns=[X_COL],
                                  config=config(tmp_path / "fm"), learning_rate=0.01)
    deepfm.train(with_c2, steps=100)
    assert deepfm.evaluate(lambda: (b for _, b in zip(range(8), with_c2())))["auc"] > 0.8
    assert "fm/input_from_feature_columns/input_layer/cat_embedding/embedding_weights" in \
        deepfm.get_variable_names()
    dcn = est.DCNClassifier([X_COL, fc.embedding_column(CAT_COL, 4)], num_cross_layers=2,
                            hidden_units=[16], config=config(tmp_path / "dcn"),
                            learning_rate=0.01)
    dcn.train(input_fn(), steps=100)
    assert dcn.evaluate(input_fn(epochs=1))["auc"] > 0.8
    assert "dcn/cross_1/kernel" in dcn.get_variable_names()
    with pytest.raises(ValueError, match="one dimension"):
        est.DeepFMClassifier([fc.embedding_column(CAT_COL, 4),
                              fc.embedding_column(CAT_COL, 3)])


def test_deepfm_logits_are_linear_plus_fm_plus_dnn(tmp_path):
    # the model DeepFM's docstring states, recomputed in NumPy from the checkpoint: the fused
    # FM kernel and the fused bias+ReLU of its hidden layers must compute exactly this
    c2 = fc.categorical_column_with_identity("c2", 8)
    cols = [fc.embedding_column(CAT_COL, 4), fc.embedding_column(c2, 4)]

    def with_c2(n=8):
        def fn():
            for i, (f, y) in zip(range(n), input_fn()()):
                f = dict(f)
                f["c2"] = (np.abs(f["x1"] * 3).astype(np.int64) % 8)
                yield f, y
        return fn
    m = est.DeepFMClassifier(cols, hidden_units=[16, 8], dense_columns=[X_COL],
                             config=config(tmp_path), learning_rate=0.05)
    m.train(with_c2(), steps=8)
    feats = next(with_c2(1)())[0]
    got = next(m.predict(lambda: iter([feats]), yield_single_examples=False))["logits"]
    v = m.get_variable_value
    emb = "fm/input_from_feature_columns/input_layer/{}_embedding/embedding_weights"
    # the hashed ids as the model saw them: look them up through the column itself
    from eagerflow.feature_column.base import FeatureTransformationCache
    sp = CAT_COL.get_sparse_tensors(FeatureTransformationCache(feats)).id_tensor
    cat_ids = np.asarray(sp.values.numpy()).reshape(-1)
    c2_ids = feats["c2"][:, 0]
    e_cat, e_c2 = v(emb.format("cat"))[cat_ids], v(emb.format("c2"))[c2_ids]
    fields = np.stack([e_c2, e_cat], axis=1).astype(np.float64)  # name order: c2, cat
    s = fields.sum(axis=1)
    fm_term = 0.5 * (s * s - (fields * fields).sum(axis=1)).sum(axis=1, keepdims=True)
    lin = (v("linear/linear_model/cat/weights")[cat_ids] + v("linear/linear_model/c2/weights")[c2_ids]
           + feats["x1"] @ v("linear/linear_model/x1/weights") + v("linear/linear_model/bias_weights"))
    net = np.concatenate([e_c2, e_cat, feats["x1"]], axis=1).astype(np.float64)
    for i in range(2):
        net = np.maximum(net @ v(f"dnn/hiddenlayer_{i}/kernel") + v(f"dnn/hiddenlayer_{i}/bias"), 0)
    dnn = net @ v("dnn/logits/kernel") + v("dnn/logits/bias")
    assert np.abs(fm_term).max() > 1e-3 and np.abs(dnn).max() > 1e-3
    np.testing.assert_allclose(got, lin + fm_term + dnn, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("version,projection_dim", [("v2", None), ("v2", 3), ("v1", None)])
def test_dcn_logits_are_cross_network_plus_dnn(tmp_path, version, projection_dim):
    # DCN-V2 (tfrs.layers.dcn.Cross): x_{l+1} = x0 * (x_l W + b) + x_l, W full or U V;
    # DCN (v1): x_{l+1} = x0 * (x_l . w) + b + x_l; recomputed in NumPy from the checkpoint
    cols = [X_COL, fc.embedding_column(CAT_COL, 4)]
    m = est.DCNClassifier(cols, num_cross_layers=2, hidden_units=[8],
                          config=config(tmp_path), learning_rate=0.05,
                          cross_version=version, projection_dim=projection_dim)
    m.train(input_fn(), steps=5)
    feats = next(input_fn()())[0]
    got = next(m.predict(lambda: iter([feats]), yield_single_examples=False))["logits"]
    v = m.get_variable_value
    from eagerflow.feature_column.base import FeatureTransformationCache
    sp = CAT_COL.get_sparse_tensors(FeatureTransformationCache(feats)).id_tensor
    ids = np.asarray(sp.values.numpy()).reshape(-1)
    e = v("dcn/input_from_feature_columns/input_layer/cat_embedding/embedding_weights")[ids]
    x0 = np.concatenate([e, feats["x1"]], axis=1).astype(np.float64)  # name order: cat, x1
    x = x0
    for i in range(2):
        k, b = v(f"dcn/cross_{i}/kernel"), v(f"dcn/cross_{i}/bias")
        if version == "v1":
            assert k.shape == (5, 1)
            x = x0 * (x @ k) + b + x
        elif projection_dim is None:
            assert k.shape == (5, 5)
            x = x0 * (x @ k + b) + x
        else:
            u = v(f"dcn/cross_{i}/project_kernel")
            assert u.shape == (5, 3) and k.shape == (3, 5)
            x = x0 * (x @ u @ k + b) + x
    net = np.maximum(x0 @ v("dcn/hiddenlayer_0/kernel") + v("dcn/hiddenlayer_0/bias"), 0)
    want = np.concatenate([x, net], axis=1) @ v("dcn/logits/kernel") + v("dcn/logits/bias")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_dcn_argument_errors():
    with pytest.raises(ValueError, match="cross_version must be 'v1' or 'v2', got 'v3'"):
        est.DCNClassifier([X_COL], cross_version="v3")
    with pytest.raises(ValueError, match="projection_dim"):
        est.DCNClassifier([X_COL], projection_dim=0)
    with pytest.raises(ValueError, match="projection_dim"):
        est.DCNClassifier([X_COL], cross_version="v1", projection_dim=2)
    with pytest.raises(ValueError, match="num_cross_layers must be >= 0"):
        est.DCNClassifier([X_COL], num_cross_layers=-1)


def test_canned_argument_errors():
    with pytest.raises(ValueError, match="must be provided"):
        est.LinearClassifier([])
    with pytest.raises(ValueError, match="Either linear_feature_columns"):
        est.DNNLinearCombinedClassifier()
    with pytest.raises(ValueError, match="n_classes must be > 1"):
        est.DNNClassifier([4], [X_COL], n_classes=1)
    with pytest.raises(ValueError, match="Unsupported optimizer name"):
        est.canned.get_optimizer("Nope", 0.1)


def test_string_labels_need_a_vocabulary_and_column_sets_match():
    import eagerflow as ef
    from eagerflow.ctr_models import ColumnSet
    from eagerflow.estimator.canned import MultiClassHead
    head = MultiClassHead(3)
    logits = ef.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="give label_vocabulary"):
        head.create_estimator_spec({}, est.ModeKeys.TRAIN, logits,
                                   labels=np.array([["a"], ["b"]], dtype=object))
    with pytest.raises(ValueError, match="1 embedding_dims for 2 categorical columns"):
        ColumnSet(categorical=[CAT_COL, CAT_COL], embedding_dims=[4])
