"""Whole-call CUDA graphs: capture a Python call once, replay its kernels with one launch.

What a capture needs, from ``../shared/anchors/CUPY_PROBE.md``:

- the call runs on a capturing (non-default) stream; its kernels are recorded, not run;
- temporaries come from a private ``MemoryPool`` kept alive with the graph, so a replay
  never writes into memory that eager code was handed since (the shared pool would);
- every buffer the call reads from outside (inputs, variables) is read at its address of
  capture time: inputs are copied into static buffers before each replay, variables are
  updated in place (``Variable.assign*``, the optimizers' kernels);
- nothing may read the device from the host (``float(x)``, ``unique``, boolean masks) and
  no cuRAND call may run: CuPy raises inside the capture, which then ends cleanly and the
  caller runs the call eagerly instead. GEMMs go through :mod:`eagerflow.kernels.gemm`.

On the NumPy backend :func:`supported` is False and nothing here is used.
"""
from . import _cupy, state as _backend_state

__all__ = ["NotCapturable", "CapturedCall", "capture", "supported", "capturing",
           "on_replay", "buffer_epoch", "bump_buffer_epoch"]


class NotCapturable(RuntimeError):
    """A call could not be captured; the message says why (the caller runs it eagerly)."""


def _where(e):
    """`` (at file:line in fn)`` of the innermost frame of ``e`` outside CuPy: the line of
    eagerflow or user code that made the call a capture refuses."""
    import traceback  # noqa: PLC0415 (only on this error path)
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not any(p in ("cupy", "cupy_backends", "cupyx")
                         for p in f.filename.replace("\\", "/").split("/"))]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {f.filename}:{f.lineno} in {f.name})"


class _State:
    capturing = 0
    epoch = 0   # bumped when a variable's buffer is replaced (restore, device move)
    effects = None  # host-side effects of the capture in progress (on_replay)


_state = _State()


def supported():
    """True when the current backend can capture (CuPy)."""
    return _backend_state.name == "cupy" and _cupy.loaded() is not None


def capturing():
    """True while a capture records on this process."""
    return _state.capturing > 0


def on_replay(fn):
    """Registers ``fn()`` to run on the host each time the graph now being captured is
    replayed: what the captured call did to host state besides its kernels (a variable's
    host copy of its value), which a replay, running no Python, would otherwise lose."""
    if not capturing():
        raise RuntimeError("on_replay is meaningful only during a capture")
    _state.effects.append(fn)


def buffer_epoch():
    return _state.epoch


def bump_buffer_epoch():
    """Called when a variable gets a new buffer: graphs captured before read the old one."""
    _state.epoch += 1


class CapturedCall:
    """A captured call: static input buffers, the graph, its outputs and private pool.

    ``replay(arrays)`` copies ``arrays`` into the input buffers, launches the graph on the
    current stream (so it is ordered with eager work before and after) and returns the
    output buffers. The next replay overwrites them: copy what must outlive it.
    """

    def __init__(self, graph, pool, inputs, outputs, epoch, effects=()):
        self.graph, self.pool = graph, pool
        self.inputs, self.outputs = inputs, outputs
        self.epoch = epoch
        self.effects = list(effects)

    @property
    def valid(self):
        return self.epoch == _state.epoch

    def replay(self, arrays):
        cp = _cupy.load()
        for dst, src in zip(self.inputs, arrays):
            if isinstance(src, cp.ndarray):
                if src.data.ptr != dst.data.ptr:
                    cp.copyto(dst, src)
            else:
                dst.set(src)
        self.graph.launch(cp.cuda.get_current_stream())
        for fn in self.effects:
            fn()
        return self.outputs


def static_inputs(arrays):
    """Device buffers for a capture's inputs, filled with ``arrays`` (on the current
    stream, before the capture starts)."""
    cp = _cupy.load()
    return [cp.array(a, copy=True) for a in arrays]


def capture(run, inputs):
    """Captures ``run()`` (which must read ``inputs``, from :func:`static_inputs`) into a
    :class:`CapturedCall`. ``run`` returns a list of device arrays: the outputs.

    Raises:
        NotCapturable: with the reason, when anything in ``run`` cannot be captured or
            ``run`` raised. Nothing ran on the device then (a capture only records).
    """
    cp = _cupy.load()
    cp.cuda.get_current_stream().synchronize()  # the inputs' copies are done
    pool = cp.cuda.MemoryPool()
    stream = cp.cuda.Stream(non_blocking=True)
    epoch = _state.epoch
    outputs = graph = None
    with cp.cuda.using_allocator(pool.malloc), stream:
        stream.begin_capture()
        _state.capturing += 1
        _state.effects = []
        try:
            outputs = run()
        except Exception as e:  # anything: the reason is reported, eager runs instead
            _state.capturing -= 1
            _state.effects = None
            try:
                stream.end_capture()
            except Exception:  # noqa: BLE001 (the capture was invalidated by e)
                pass
            raise NotCapturable(f"{type(e).__name__}: {e}{_where(e)}") from e
        _state.capturing -= 1
        effects, _state.effects = _state.effects, None
        try:
            graph = stream.end_capture()
        except Exception as e:  # noqa: BLE001
            raise NotCapturable(f"the capture was invalidated: {type(e).__name__}: {e}") \
                from e
    if epoch != _state.epoch:
        raise NotCapturable("a variable's buffer was replaced during the capture")
    for o in outputs:
        if not isinstance(o, cp.ndarray):
            raise NotCapturable(f"an output is not a device array ({type(o).__name__})")
    graph.upload(cp.cuda.get_current_stream())
    return CapturedCall(graph, pool, inputs, outputs, epoch, effects)
