"""The capture fallback's reason names the innermost frame outside CuPy (works anywhere:
it only reads a traceback)."""
import os

from eagerflow.backend.cuda_graph import _where


def _raise_in(filename, name):
    code = compile(f"def {name}():\n    raise RuntimeError('H2D transfers are disallowed')\n",
                   filename, "exec")
    scope = {}
    exec(code, scope)  # noqa: S102 (builds a frame with the given file name)
    return scope[name]


def test_innermost_frame_outside_cupy_is_named():
    cupy_fn = _raise_in(os.path.join("site-packages", "cupy", "_core", "core.py"), "asarray")

    def caller():
        cupy_fn()
    try:
        caller()
    except RuntimeError as e:
        where = _where(e)
    assert "in caller" in where and __file__ in where and "cupy" not in where


def test_no_frame_outside_cupy_gives_nothing():
    fn = _raise_in(os.path.join("cupy_backends", "cuda", "api.pyx"), "call")
    try:
        fn()
    except RuntimeError as e:
        assert _where(e.with_traceback(e.__traceback__.tb_next)) == ""
