"""The README's main job runs end to end and learns; the tape demo too."""
import io

import pytest

from eagerflow import cli, quickstart


def test_quickstart_end_to_end(tmp_path):
    out = io.StringIO()
    res = quickstart.run(num_examples=6000, steps=40, batch_size=256, workdir=str(tmp_path),
                         out=out, progress=False)
    text = out.getvalue()
    for marker in ("1. wrote 6,000 training", "2. trained 40 steps", "3. evaluation on",
                   "4. predicted click probabilities", "5. exported a SavedModel",
                   "6. served the export"):
        assert marker in text, text
    assert res["global_step"] == 40 and 0.55 < res["auc"] <= 1.0
    assert 0.5 < res["bayes_auc"] < 1.0
    assert (tmp_path / "model" / "checkpoint").exists()
    from eagerflow import saved_model
    assert saved_model.is_complete(res["export_dir"])
    preds = res["served_predictions"]["predictions"]
    assert len(preds) == 3 and all(0.0 < p["logistic"][0] < 1.0 for p in preds)


def test_tape_demo_learns():
    out = io.StringIO()
    auc = cli.quickstart(steps=60, batch_size=256, out=out)
    assert auc > 0.7 and "step   60/60" in out.getvalue()


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        cli.main(["quickstart", "--steps", "0"])
    assert "--steps and --batch-size must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["quickstart", "--examples", "10", "--batch-size", "64"])
    assert "--rows (--examples) must be at least --batch-size" in capsys.readouterr().err


def test_serve_subcommand_forwards_to_the_model_server(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    assert "--model_base_path" in capsys.readouterr().out


def test_auc_matches_definition():
    import numpy as np
    labels = np.array([0, 0, 1, 1])
    assert cli._auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert cli._auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
