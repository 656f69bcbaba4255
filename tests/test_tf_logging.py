"""tf.compat.v1.logging (eagerflow.tf_logging): TF's functions and semantics on the
"eagerflow" logger: levels, verbosity, caller attribution, per-call-site counting of
log_every_n/log_first_n, the default stderr handler, and the Estimator's loss lines."""
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from eagerflow import tf_logging as tfl

LOGGER = logging.getLogger("eagerflow")
HERE = os.path.normcase(os.path.abspath(__file__))


@pytest.fixture(autouse=True)
def _restore_logger():
    """Every test starts with the logger's level unset and leaves it as it found it."""
    level, handlers = LOGGER.level, list(LOGGER.handlers)
    LOGGER.setLevel(logging.NOTSET)
    yield
    LOGGER.setLevel(level)
    LOGGER.handlers[:] = handlers


def _ours(caplog):
    return [r for r in caplog.records if r.name == "eagerflow"]


def test_levels_are_tfs_values():
    assert (tfl.DEBUG, tfl.INFO, tfl.WARN, tfl.ERROR, tfl.FATAL) == (10, 20, 30, 40, 50)


def test_set_and_get_verbosity_act_on_the_eagerflow_logger():
    assert tfl.get_logger() is LOGGER
    assert tfl.get_verbosity() == logging.getLogger().getEffectiveLevel()  # unset: root's
    tfl.set_verbosity(tfl.INFO)
    assert LOGGER.level == 20 and tfl.get_verbosity() == 20
    tfl.set_verbosity("ERROR")  # logging's level names work, as with TF's setLevel
    assert tfl.get_verbosity() == 40
    tfl.set_verbosity(5)
    assert tfl.get_verbosity() == 5


def test_set_verbosity_bad_values():
    with pytest.raises(ValueError, match="Unknown level"):
        tfl.set_verbosity("LOUD")
    with pytest.raises(TypeError):
        tfl.set_verbosity(2.5)
    with pytest.raises(TypeError):
        tfl.set_verbosity(None)


@pytest.mark.parametrize("fn,level", [(tfl.debug, 10), (tfl.info, 20), (tfl.warning, 30),
                                      (tfl.warn, 30), (tfl.error, 40), (tfl.fatal, 50)])
def test_each_function_logs_at_its_level_with_percent_args(caplog, fn, level):
    tfl.set_verbosity(tfl.DEBUG)
    fn("value %d of %s", 3, "x")
    (rec,) = _ours(caplog)
    assert rec.levelno == level and rec.getMessage() == "value 3 of x"


def test_verbosity_filters_and_fatal_does_not_exit(caplog):
    tfl.set_verbosity(tfl.WARN)
    tfl.debug("d")
    tfl.info("i")
    tfl.warning("w")
    tfl.fatal("f")  # TF's only logs at FATAL; the process goes on
    assert [r.getMessage() for r in _ours(caplog)] == ["w", "f"]
    tfl.set_verbosity(tfl.FATAL)
    tfl.error("e")
    assert [r.getMessage() for r in _ours(caplog)] == ["w", "f"]


def test_log_and_vlog_take_the_level_first(caplog):
    tfl.set_verbosity(tfl.DEBUG)
    tfl.log(tfl.ERROR, "a %s", "b")
    tfl.vlog(15, "custom %d", 15)
    assert [(r.levelno, r.getMessage()) for r in _ours(caplog)] == [(40, "a b"),
                                                                    (15, "custom 15")]


@pytest.mark.parametrize("fn", [tfl.log, tfl.vlog])
def test_a_level_that_is_no_integer_is_rejected(fn):
    with pytest.raises(TypeError, match="level must be an integer"):
        fn("INFO", "msg")
    with pytest.raises(TypeError):
        fn(None, "msg")


def test_records_name_the_callers_file_line_and_function(caplog):
    tfl.set_verbosity(tfl.INFO)
    tfl.info("here")
    line = sys._getframe().f_lineno - 1
    tfl.log_every_n(tfl.INFO, "nested", 1)  # through log_if and _log: still this line
    (a, b) = _ours(caplog)
    assert os.path.normcase(a.pathname) == HERE and a.lineno == line
    assert a.funcName == "test_records_name_the_callers_file_line_and_function"
    assert os.path.normcase(b.pathname) == HERE and b.lineno == line + 2


def test_logger_kwargs_pass_through(caplog):
    tfl.set_verbosity(tfl.INFO)

    def helper():
        tfl.info("from helper", stacklevel=2)
    helper()
    line = sys._getframe().f_lineno - 1
    try:
        raise KeyError("boom")
    except KeyError:
        tfl.error("failed", exc_info=True)
    tfl.warning("tagged", extra={"tag": 7})
    h, e, t = _ours(caplog)
    assert h.lineno == line  # stacklevel=2: helper's caller
    assert e.exc_info[0] is KeyError and "boom" in caplog.text
    assert t.tag == 7


def test_log_if(caplog):
    tfl.set_verbosity(tfl.INFO)
    tfl.log_if(tfl.INFO, "yes %d", True, 1)
    tfl.log_if(tfl.INFO, "no %d", False, 2)
    tfl.log_if(tfl.INFO, "empty list is false", [])
    assert [r.getMessage() for r in _ours(caplog)] == ["yes 1"]


def test_log_every_n_logs_the_1st_then_every_nth_call_of_a_site(caplog):
    tfl.set_verbosity(tfl.INFO)
    for i in range(7):
        tfl.log_every_n(tfl.INFO, "every3 %d", 3, i)
    assert [r.getMessage() for r in _ours(caplog)] == ["every3 0", "every3 3", "every3 6"]


def test_log_every_n_counts_per_call_site_not_per_message(caplog):
    tfl.set_verbosity(tfl.INFO)
    for i in range(4):
        tfl.log_every_n(tfl.INFO, "site A %d", 2, i)
        tfl.log_every_n(tfl.INFO, "site B %d", 2, i)
    for msg in ("first", "second", "third"):  # one site, messages that differ
        tfl.log_every_n(tfl.INFO, msg, 2)
    assert [r.getMessage() for r in _ours(caplog)] == [
        "site A 0", "site B 0", "site A 2", "site B 2", "first", "third"]


def test_log_every_n_counts_calls_whose_level_is_off(caplog):
    def site(level):
        tfl.log_every_n(level, "at %d", 3, level)
    tfl.set_verbosity(tfl.ERROR)
    site(tfl.INFO)  # count 0: due, but INFO is off
    site(tfl.INFO)  # count 1
    site(tfl.INFO)  # count 2
    tfl.set_verbosity(tfl.INFO)
    site(tfl.INFO)  # count 3: due again
    site(tfl.INFO)  # count 4
    assert [r.getMessage() for r in _ours(caplog)] == ["at 20"]


@pytest.mark.parametrize("n", [0, -1, None, "3", True])
def test_log_every_n_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n >= 1"):
        tfl.log_every_n(tfl.INFO, "x", n)


def test_log_first_n(caplog):
    tfl.set_verbosity(tfl.INFO)
    for i in range(5):
        tfl.log_first_n(tfl.INFO, "first2 %d", 2, i)
    for i in range(3):
        tfl.log_first_n(tfl.INFO, "never %d", 0, i)
    for i in range(3):
        tfl.log_first_n(tfl.INFO, "never either %d", -4, i)
    assert [r.getMessage() for r in _ours(caplog)] == ["first2 0", "first2 1"]


def test_log_first_n_in_a_helper_counts_at_the_helpers_line(caplog):
    """TF keys the count by the first frame outside tf_logging: a helper that logs is
    one site whoever calls it."""
    tfl.set_verbosity(tfl.INFO)

    def helper(i):
        tfl.log_first_n(tfl.INFO, "helper %d", 1, i)
    helper(0)
    helper(1)
    helper(2)
    assert [r.getMessage() for r in _ours(caplog)] == ["helper 0"]


def test_task_level_status_message_logs_the_text_as_is_at_error(caplog):
    tfl.TaskLevelStatusMessage("100% done %s")
    (rec,) = _ours(caplog)
    assert rec.levelno == tfl.ERROR and rec.getMessage() == "100% done %s"


def test_flush_flushes_the_handlers():
    flushed = []

    class Counting(logging.Handler):
        def emit(self, record):
            pass

        def flush(self):
            flushed.append(self)
    h = Counting()
    LOGGER.addHandler(h)
    tfl.flush()
    assert flushed == [h]


def test_default_handler_only_without_other_handlers(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(tfl, "_configured", False)
    monkeypatch.setattr(tfl, "_handler", None)
    monkeypatch.setattr(root, "handlers", [logging.NullHandler()])
    before = list(LOGGER.handlers)
    tfl.get_logger()
    assert LOGGER.handlers == before and tfl._handler is None  # root has one: none added
    monkeypatch.setattr(tfl, "_configured", False)
    monkeypatch.setattr(root, "handlers", [])
    LOGGER.handlers[:] = []
    tfl.get_logger()
    tfl.get_logger()  # once only
    assert LOGGER.handlers == [tfl._handler]
    assert tfl._handler.stream is sys.stderr
    assert tfl._handler.formatter._fmt == logging.BASIC_FORMAT


def test_set_verbosity_info_prints_to_stderr_without_logging_config():
    code = ("from eagerflow import tf_logging as L\n"
            "L.info('hidden %d', 1)\n"  # WARN by default, as TF
            "L.set_verbosity(L.INFO)\n"
            "L.info('shown %d', 2)\n"
            "L.warning('warned')\n"
            "L.debug('not shown')\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(HERE)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith(("INFO", "WARNING",
                                                                      "DEBUG"))]
    assert lines == ["INFO:eagerflow:shown 2", "WARNING:eagerflow:warned"]


def test_set_verbosity_info_shows_the_estimators_loss_lines(tmp_path, caplog):
    import eagerflow as ef
    from eagerflow import estimator as est
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, zeros_initializer

    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(-1, 1)

    def model_fn(features, labels, mode, params):
        w = get_variable("w", [1, 1], initializer=zeros_initializer())
        loss = ef.reduce_mean(ef.square(features["x"] @ w - labels))
        opt = GradientDescentOptimizer(0.1)
        return est.EstimatorSpec(mode, loss=loss,
                                 train_op=opt.minimize(loss, global_step=get_global_step()))

    def input_fn():
        return iter([({"x": x}, 2 * x)] * 4)

    def train(model_dir):
        cfg = est.RunConfig(log_step_count_steps=2, save_checkpoints_steps=100)
        est.Estimator(model_fn, model_dir=str(model_dir), config=cfg).train(input_fn)
        return [r.getMessage() for r in _ours(caplog)]

    tfl.set_verbosity(tfl.WARN)
    assert not any("loss = " in m for m in train(tmp_path / "quiet"))
    tfl.set_verbosity(tfl.INFO)
    msgs = train(tmp_path / "loud")
    assert any(m.startswith("loss = ") and ", step = " in m for m in msgs), msgs
