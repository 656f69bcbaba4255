"""The README's main job runs end to end and learns something."""
import io

import pytest

from eagerflow import cli


def test_quickstart_learns():
    out = io.StringIO()
    auc = cli.quickstart(steps=60, batch_size=256, out=out)
    assert auc > 0.7
    text = out.getvalue()
    assert "test AUC" in text and "step   60/60" in text


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        cli.main(["quickstart", "--steps", "0"])
    assert "--steps and --batch-size must be positive" in capsys.readouterr().err


def test_auc_matches_definition():
    import numpy as np
    labels = np.array([0, 0, 1, 1])
    assert cli._auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert cli._auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
