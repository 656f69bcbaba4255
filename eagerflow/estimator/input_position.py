"""The training input's position, saved with every checkpoint so a killed run resumes exactly.

``Estimator.train`` reads its batches through :class:`InputPosition`. Each checkpoint then
carries, next to the variables (model, optimizer slots, global step), a JSON state file
``model.ckpt-<step>.input.json`` with the iterator's position and the seeded random
generators' positions, written before the checkpoint's manifest so that all of it is saved
together or not at all.

When is a saved position used? TensorFlow calls ``input_fn`` afresh on every ``train()``
call, and so does eagerflow: a position is only a *crash* marker. ``train()`` discards the
position of its last checkpoint when it returns normally (steps done, input exhausted, a
hook's stop), so the next call starts the input from the beginning, as in TF. A run killed
(or failing) mid-way leaves the position in place, and the next ``train()`` continues the
same stream from it — provided the rebuilt dataset has the same recipe fingerprint
(:func:`eagerflow.data.fingerprint.structure_fingerprint`: transformations, sizes, files,
function names). A changed pipeline starts from the beginning, with a warning.

Only a :class:`~eagerflow.data.Dataset` returned by ``input_fn`` has a position; a
``(features, labels)`` tuple or a plain Python iterable does not (logged once).
"""
import logging
import queue
import threading

from ..autograd import nest
from ..backend import random as _random
from ..backend import transfer as _transfer
from ..data.dataset import Dataset
from ..data.fingerprint import structure_fingerprint
from ..data.iterator import materialize
from .inputs import _is_stream, _split, batches
from .model_fn import ModeKeys

__all__ = ["InputPosition", "STATE_NAME", "open_position", "restore_random"]

log = logging.getLogger("eagerflow")

STATE_NAME = "input"  # -> model.ckpt-<step>.input.json


class InputPosition:
    """Batches of a training ``input_fn`` result, with a checkpointable position.

    Args:
        input_result: what ``input_fn`` returned.

    Example:
        >>> import numpy as np
        >>> from eagerflow.data import Dataset
        >>> ds = Dataset.from_tensor_slices(({"x": np.arange(6.0)}, np.zeros(6))).batch(2)
        >>> pos = InputPosition(ds)
        >>> _ = pos.next(); saved = pos.state()
        >>> again = InputPosition(ds); again.resume(saved)
        True
        >>> float(again.next()[0]["x"].numpy()[0])
        2.0
    """

    def __init__(self, input_result):
        self._iterator = None
        self._fingerprint = None
        self._held = None
        self._feeder = None  # the GPU's read-ahead thread, started by the first next()
        self._live = None    # with a feeder: the position after the last batch handed out
        if isinstance(input_result, Dataset):
            self._fingerprint = structure_fingerprint(input_result)
            self._iterator = iter(input_result)
            input_result = self._iterator
        else:
            log.info("input_fn returned a %s, not a Dataset: its position is not "
                     "checkpointed", type(input_result).__name__)
        self._raw = input_result if _is_stream(input_result) else None
        self._stream = batches(input_result, ModeKeys.TRAIN)

    def resume(self, saved):
        """Moves to a position saved by :meth:`state` when the pipeline's fingerprint
        matches; returns whether it did. A mismatch, or a state the iterator rejects,
        leaves the input at its beginning (with a warning)."""
        if not saved or self._iterator is None:
            return False
        if saved.get("fingerprint") != self._fingerprint:
            log.warning("The input pipeline differs from the one the checkpoint's input "
                        "position was saved for; reading the input from its beginning.")
            return False
        try:
            self._iterator.set_state(saved["iterator"])
        except (KeyError, TypeError, ValueError, IndexError, NotImplementedError) as e:
            log.warning("Could not restore the saved input position (%s); reading the input "
                        "from its beginning.", e)
            raise _Rebuild() from e
        log.info("Resuming the input pipeline at its checkpointed position")
        return True

    def next(self, hold=False):
        """The next ``(features, labels)`` batch, or None at the end of the input.

        ``hold=True`` keeps reporting the position *before* this batch until
        :meth:`release`: the Estimator reads its first batch to build the model, saves the
        first checkpoint, and only then trains on that batch.
        """
        if hold:
            self._held = self._iterator_state()
        if self._feeder is None and self._raw is not None and \
                _transfer.device_transfer_active():
            self._live = self._iterator_state()
            self._feeder = _DeviceFeeder(self._raw, self._state_now)
        if self._feeder is None:
            return next(self._stream, None)
        item = self._feeder.get()
        if item is None:
            return None
        batch, self._live = item
        return batch

    def close(self):
        """Stops the read-ahead thread (if any) and drops the batches it holds."""
        if self._feeder is not None:
            self._feeder.close()

    def release(self):
        """The held batch is being trained on: report the live position again."""
        self._held = None

    def _iterator_state(self):
        if self._feeder is not None:
            return self._live
        return self._state_now()

    def _state_now(self):
        if self._iterator is None:
            return None
        try:
            # a snapshot: taken for every batch, encoded only when a checkpoint is written
            return self._iterator.snapshot()
        except NotImplementedError as e:
            log.warning("The input pipeline cannot save its position (%s); a resumed run "
                        "will read its input from the beginning.", e)
            self._iterator = None
            return None

    def state(self):
        """The JSON-able state to save with a checkpoint (None when there is none)."""
        it_state = self._held if self._held is not None else self._iterator_state()
        if it_state is None:
            return None
        return {"fingerprint": self._fingerprint, "iterator": materialize(it_state),
                "random": _random.get_state()}


class _DeviceFeeder:
    """Reads training batches ahead on a thread and copies them to the GPU there (pinned
    staging buffers, a side stream: ``backend.transfer``), so the training loop never waits
    for a host-to-device copy, which on the default stream would also wait for the
    previous step's kernels. Each batch travels with the iterator position after it, so a
    checkpoint saves the position of the last batch trained on, not of the read-ahead."""

    _END = object()

    def __init__(self, raw, state_now, depth=2):
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(raw, state_now),
                                         name="eagerflow-input-feeder", daemon=True)
        self._thread.start()

    def _run(self, raw, state_now):
        try:
            for elem in raw:
                leaves = _transfer.copy_to_device(nest.flatten(elem))
                item = (_split(nest.pack_sequence_as(elem, leaves), ModeKeys.TRAIN),
                        state_now())
                if not self._put(item):
                    return
        except BaseException as e:  # noqa: BLE001 (re-raised in the training thread)
            self._put(e)
            return
        self._put(self._END)

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self):
        """The next ``(batch, position)``, or None at the end of the input."""
        item = self._queue.get()
        if item is self._END:
            self._queue.put(item)  # later calls see the end too
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self):
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)


class _Rebuild(Exception):
    """The iterator was partly moved by a rejected state: build a fresh one."""


def open_position(make_input, saved):
    """An :class:`InputPosition` over ``make_input()``, resumed from ``saved`` when it fits.

    Returns:
        (position, resumed): resumed says whether the saved position was applied; the
        caller restores the random generators (``saved['random']``) after building the
        model, whose initialisers draw from them.
    """
    position = InputPosition(make_input())
    try:
        return position, position.resume(saved)
    except _Rebuild:
        return InputPosition(make_input()), False


def restore_random(saved):
    """Moves the seeded random generators to the positions in ``saved`` (a state from
    :meth:`InputPosition.state`); a state saved under another ``tf_random_seed`` is skipped
    with a warning, since the run is then not the one that crashed."""
    try:
        _random.set_state(saved["random"])
    except (KeyError, TypeError, ValueError) as e:
        log.warning("Not restoring the random generators' positions (%s); dropout masks "
                    "will differ from the interrupted run's.", e)
