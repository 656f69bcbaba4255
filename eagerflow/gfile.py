"""``tf.io.gfile`` and TF1's ``tf.gfile``: TensorFlow's file API on the local filesystem.

TF2's names (``GFile``, ``exists``, ``makedirs``, ``glob``, ``walk``...) and TF1's
(``Exists``, ``MakeDirs``, ``Walk(top, in_order)``...) keep TF's semantics: paths may be
``str``, ``bytes`` or ``os.PathLike``, names come back as ``str``, failures raise TF's error
classes with TF's messages (``NotFoundError: /x; No such file or directory``), ``mkdir`` of
an existing directory succeeds. ``file://`` paths are local; other schemes (``gs://``,
``s3://``, ``hdfs://``...) raise :class:`UnimplementedError`: eagerflow has local files only.

Example:
    >>> import tempfile
    >>> from eagerflow import gfile
    >>> root = tempfile.mkdtemp()
    >>> d = gfile.join(root, "run", "ckpt")
    >>> gfile.makedirs(d); gfile.exists(d), gfile.isdir(d)
    (True, True)
    >>> with gfile.GFile(gfile.join(d, "a.txt"), "w") as f:
    ...     f.write("one\\ntwo\\n")
    >>> gfile.GFile(gfile.join(d, "a.txt")).readlines()
    ['one\\n', 'two\\n']
    >>> gfile.listdir(d), gfile.stat(gfile.join(d, "a.txt")).length
    (['a.txt'], 8)
    >>> gfile.rmtree(root); gfile.exists(d)
    False
"""
import collections
import contextlib
import errno as _errno
import os
import posixpath
import re
import shutil
import stat as _stat

from .errors import (AlreadyExistsError, FailedPreconditionError, InvalidArgumentError,
                     NotFoundError, PermissionDeniedError, UnimplementedError)

__all__ = ["GFile", "exists", "makedirs", "mkdir", "listdir", "glob", "isdir", "remove",
           "rename", "copy", "rmtree", "stat", "walk", "join", "FileStatistics",
           "PermissionDeniedError", "UnimplementedError",
           "FastGFile", "Open", "Exists", "MakeDirs", "MkDir", "ListDirectory", "Glob",
           "IsDirectory", "Remove", "Rename", "Copy", "DeleteRecursively", "Stat", "Walk"]


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9.]*)://")
_BY_ERRNO = {_errno.ENOENT: NotFoundError, _errno.EEXIST: AlreadyExistsError,
             _errno.EACCES: PermissionDeniedError, _errno.EPERM: PermissionDeniedError,
             _errno.EROFS: PermissionDeniedError, _errno.ENOTDIR: FailedPreconditionError,
             _errno.EISDIR: FailedPreconditionError, _errno.ENOTEMPTY: FailedPreconditionError,
             _errno.ENAMETOOLONG: InvalidArgumentError, _errno.EINVAL: InvalidArgumentError}


def _path(path):
    """``path`` (str, bytes or PathLike) as a local ``str`` path; ``file://`` stripped."""
    try:
        p = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"a path must be str, bytes or os.PathLike, got {path!r}") from None
    m = _SCHEME.match(p)
    if m:
        rest = p[m.end():]
        if m.group(1) != "file":
            raise UnimplementedError(
                f"File system scheme '{m.group(1)}' not implemented (file: '{p}'): "
                "eagerflow reads and writes local files only")
        p = rest[rest.index("/"):] if "/" in rest else "/"  # file://host/path -> /path
    return p


FileStatistics = collections.namedtuple("FileStatistics", "length mtime_nsec is_directory")
FileStatistics.__doc__ = """What :func:`stat` returns: ``length`` (bytes), ``mtime_nsec`` (an
int, nanoseconds since the epoch) and ``is_directory``."""


@contextlib.contextmanager
def _tf_errors(path):
    """An ``OSError`` of the block raised as TF's class for its errno, with TF's message
    ``"<path>; <strerror>"``; one of another errno as it is."""
    try:
        yield
    except OSError as e:
        cls = _BY_ERRNO.get(e.errno)
        if cls is None:
            raise
        where = os.fsdecode(e.filename if e.filename is not None else path)
        raise cls(f"{where}; {e.strerror}") from None


class GFile:
    """TF's file object (``tf.io.gfile.GFile``). ``mode`` is ``'r'``, ``'w'``, ``'a'``,
    ``'r+'``, ``'w+'`` or ``'a+'``, with ``'b'`` for bytes. As in TF, reading and writing
    use separate positions, the file opens at the first read or write (``'w'``/``'r+'``/
    ``'w+'`` truncate then), and ``write`` takes ``str`` or ``bytes`` in any mode."""

    def __init__(self, name, mode="r"):
        self._name, self._mode = name, mode
        self._path = _path(name)
        if not isinstance(mode, str):
            raise TypeError(f"mode must be a str, got {mode!r}")
        self._binary = "b" in mode
        plain = mode.replace("b", "")
        if plain not in ("r", "w", "a", "r+", "w+", "a+"):
            raise InvalidArgumentError("mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._readable, self._writable = plain != "w" and plain != "a", plain != "r"
        self._reader = self._writer = None

    name = property(lambda self: self._name, doc="The file name, as given.")
    mode = property(lambda self: self._mode, doc="The mode, as given.")

    def _open(self, how):
        with _tf_errors(self._path):
            return open(self._path, how)

    def _read_stream(self):
        if self._reader is None:
            if not self._readable:
                raise PermissionDeniedError("File isn't open for reading")
            self._reader = self._open("rb")
        self.flush()  # what was written is there to read
        return self._reader

    def _write_stream(self):
        if self._writer is None:
            if not self._writable:
                raise PermissionDeniedError("File isn't open for writing")
            self._writer = self._open("ab" if "a" in self._mode else "wb")
        return self._writer

    def _value(self, data):
        return data if self._binary else data.decode("utf-8")

    def size(self):
        """The file's size in bytes (what was written so far included)."""
        self.flush()
        return stat(self._path).length

    def write(self, file_content):
        """Appends ``file_content`` (``str``, encoded as UTF-8, or ``bytes``)."""
        if isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        elif not isinstance(file_content, (bytes, bytearray, memoryview)):
            raise TypeError(f"Expected binary or unicode string, got {file_content!r}")
        self._write_stream().write(file_content)

    def read(self, n=-1):
        """``n`` bytes (all for -1) from the read position: ``str`` (UTF-8), or ``bytes``."""
        if n < -1:
            raise InvalidArgumentError(f"Can't read a negative number of bytes: {n}")
        return self._value(self._read_stream().read(n))

    def readline(self):
        """The next line, ``'\\n'`` kept and ``'\\r'`` dropped as TF does; ``''`` at EOF."""
        return self._value(self._read_stream().readline().replace(b"\r", b""))

    def readlines(self):
        """The remaining lines, as :meth:`readline` gives them."""
        return list(iter(self.readline, self._value(b"")))

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def seek(self, offset=None, whence=0, position=None):
        """Moves the read position ``offset`` bytes from the start, the current position or
        the end (``whence`` 0, 1, 2). ``position`` is TF's deprecated ``offset``."""
        stream = self._read_stream()
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        offset = position if offset is None else offset
        if whence == 1:
            offset += stream.tell()
        elif whence == 2:
            offset += self.size()
        elif whence != 0:
            raise InvalidArgumentError(
                f"Invalid whence argument: {whence}. Valid values are 0, 1, or 2.")
        if offset < 0:
            raise InvalidArgumentError(f"Seeking to a negative position: {offset}")
        stream.seek(offset)

    def tell(self):
        """The read position in bytes (the write position in ``'w'`` and ``'a'``)."""
        if self._readable:
            return self._read_stream().tell()
        return self._write_stream().tell()

    def flush(self):
        """Pushes what was written out of the process."""
        if self._writer is not None:
            self._writer.flush()

    def close(self):
        """Flushes and closes; a later read or write opens the file again, as in TF."""
        for stream in (self._reader, self._writer):
            if stream is not None:
                stream.close()
        self._reader = self._writer = None

    def seekable(self):
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


FastGFile = Open = GFile


def exists(path):
    """Whether ``path`` exists, as a file or a directory."""
    return os.path.exists(_path(path))


def isdir(path):
    """Whether ``path`` is a directory (False when it does not exist)."""
    return os.path.isdir(_path(path))


def stat(path):
    """:class:`FileStatistics` of ``path`` (``NotFoundError`` if it does not exist)."""
    p = _path(path)
    with _tf_errors(p):
        st = os.stat(p)
    return FileStatistics(st.st_size, st.st_mtime_ns, _stat.S_ISDIR(st.st_mode))


def mkdir(path):
    """Creates the directory ``path``; its parent must exist (``NotFoundError``). As in
    TF an existing directory is no error; an existing file is (``AlreadyExistsError``)."""
    p = _path(path)
    if not os.path.isdir(p):
        with _tf_errors(p):
            os.mkdir(p)


def makedirs(path):
    """Creates ``path`` and the directories above it that are missing; no error if it
    exists. ``FailedPreconditionError`` where a file stands in the way."""
    p = _path(path)
    probe = p.rstrip("/") or p
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe and not os.path.isdir(probe):
        raise FailedPreconditionError(f"{probe} is not a directory")
    with _tf_errors(p):
        os.makedirs(p, exist_ok=True)


def listdir(path):
    """The names in directory ``path``, sorted (``NotFoundError`` if it is none)."""
    p = _path(path)
    if not os.path.isdir(p):
        raise NotFoundError(f"Could not find directory {p}")
    with _tf_errors(p):
        return sorted(os.listdir(p))


_MAGIC = re.compile(r"[*?[\\]")
_GLOB_TOKEN = re.compile(r"\\(.)|(\*)|(\?)|\[([!^]?\]?[^\]]*)\]|(.)", re.DOTALL)


def _component_regex(part):
    """A glob component as a regex: ``*``, ``?``, ``[...]``/``[!...]``/``[^...]`` and
    ``\\c`` (a literal c), as TF's ``fnmatch``; ``*`` and ``?`` also match a leading dot."""
    def one(m):
        esc, star, qmark, cls, char = m.groups()
        if star or qmark:
            return ".*" if star else "."
        if cls is not None:
            neg = cls[:1] in ("!", "^")
            body = (cls[1:] if neg else cls).replace("\\", "\\\\").replace("[", "\\[")
            return "[" + "^" * neg + body + "]" if body else re.escape(m.group(0))
        return re.escape(char if esc is None else esc)
    try:
        return re.compile("".join(map(one, _GLOB_TOKEN.finditer(part))) + r"\Z", re.DOTALL)
    except re.error as e:
        raise InvalidArgumentError(f"invalid glob pattern {part!r}: {e}") from None


def _child(base, name):
    return name if not base else (base + name if base.endswith("/") else base + "/" + name)


def _glob_one(pattern):
    p = _path(pattern)
    parts = p.split("/")
    if not any(_MAGIC.search(x) for x in parts):
        return [p] if os.path.exists(p) else []
    found, rest = (["/"], parts[1:]) if parts[0] == "" else ([""], parts)
    for k, part in enumerate(rest):
        last = k == len(rest) - 1
        if not part:  # '//' or a trailing '/': directories only
            found = [f for f in found if os.path.isdir(f or ".")] if last else found
            continue
        rx, nxt = _MAGIC.search(part) and _component_regex(part), []
        for base in found:
            if rx:
                with contextlib.suppress(OSError):
                    nxt.extend(_child(base, n) for n in os.listdir(base or ".") if rx.match(n))
            elif os.path.lexists(_child(base, part)):
                nxt.append(_child(base, part))
        found = nxt if last else [c for c in nxt if os.path.isdir(c)]
    return found


def glob(pattern):
    """The paths matching ``pattern``, or any of an iterable of patterns, sorted per
    pattern. ``*`` and ``?`` match within one path component, dot files included; there is
    no recursive ``**``. A pattern without wildcards gives itself if it exists."""
    if isinstance(pattern, (str, bytes, os.PathLike)):
        return sorted(_glob_one(pattern))
    try:
        patterns = list(pattern)
    except TypeError:
        raise TypeError(f"glob() takes a pattern or an iterable of patterns, got "
                        f"{type(pattern).__name__}") from None
    return [m for pat in patterns for m in sorted(_glob_one(pat))]


def remove(path):
    """Deletes the file ``path`` (``FailedPreconditionError`` for a directory)."""
    p = _path(path)
    with _tf_errors(p):
        os.remove(p)


def rename(src, dst, overwrite=False):
    """Moves ``src`` to ``dst`` (``AlreadyExistsError`` if it exists, unless ``overwrite``)."""
    s, d = _path(src), _path(dst)
    if not overwrite and os.path.exists(d):
        raise AlreadyExistsError("file already exists")
    with _tf_errors(s):
        os.replace(s, d)


def copy(src, dst, overwrite=False):
    """Copies file ``src``'s data and mode bits to ``dst`` (``AlreadyExistsError`` if it
    exists, unless ``overwrite``)."""
    s, d = _path(src), _path(dst)
    if not overwrite and os.path.exists(d):
        raise AlreadyExistsError("file already exists")
    with contextlib.suppress(shutil.SameFileError), _tf_errors(s):  # onto itself: no-op
        shutil.copyfile(s, d)
        shutil.copymode(s, d)


def rmtree(path):
    """Deletes ``path`` and everything under it; a file (or a link) is just deleted.
    ``NotFoundError`` if it does not exist."""
    p = _path(path)
    if not os.path.lexists(p):
        raise NotFoundError(f"{p}; No such file or directory")
    with _tf_errors(p):
        if os.path.islink(p) or not os.path.isdir(p):
            os.remove(p)
        else:
            shutil.rmtree(p)


def walk(top, topdown=True, onerror=None):
    """Yields ``(dirname, subdirs, files)`` for ``top`` and each directory under it (names
    sorted; children first if not ``topdown``; names removed from ``subdirs`` are skipped).
    If ``top`` is no directory, ``onerror`` gets the ``NotFoundError``; nothing is yielded."""
    top = _path(top)
    try:
        names = listdir(top)
    except NotFoundError as err:
        if onerror is not None:
            onerror(err)
        return
    subdirs = [n for n in names if os.path.isdir(os.path.join(top, n))]  # links followed
    is_dir = set(subdirs)
    here = (top, subdirs, [n for n in names if n not in is_dir])
    if topdown:
        yield here
    for sub in list(subdirs):
        yield from walk(os.path.join(top, sub), topdown, onerror)
    if not topdown:
        yield here


def join(path, *paths):
    """Joins path components: ``os.path.join``, or with ``'/'`` for a URL (``gs://b``)."""
    base = os.fspath(path)
    if (b"://" if isinstance(base, bytes) else "://") in base[1:]:
        return posixpath.join(base, *paths)
    return os.path.join(base, *paths)


# TF1's tf.gfile names (positional arguments as TF1's; keyword names the TF2 functions')
Exists, IsDirectory, MkDir, MakeDirs, ListDirectory, Glob = exists, isdir, mkdir, makedirs, \
    listdir, glob
Remove, Rename, Copy, DeleteRecursively, Stat = remove, rename, copy, rmtree, stat


def Walk(top, in_order=True):  # noqa: N802
    """TF1's ``tf.gfile.Walk``: :func:`walk` with ``in_order`` for ``topdown``."""
    return walk(top, topdown=in_order)
