"""tf.io.gfile / tf.gfile (eagerflow.gfile) on local files: TF's semantics, error classes
and messages, GFile's modes and positions, glob and walk, remote schemes refused."""
import os
import pathlib
import stat as pystat

import pytest

from eagerflow import errors
from eagerflow import gfile


def write(path, data="x"):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return str(path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def tree(tmp_path):
    """tmp/ d/{f1.txt, f2.txt, .hidden, sub/{g.txt, deep/}, other/}"""
    d = tmp_path / "d"
    (d / "sub" / "deep").mkdir(parents=True)
    (d / "other").mkdir()
    for name in ("f1.txt", "f2.txt", ".hidden", "sub/g.txt"):
        write(d / name, name)
    return d


PATH_KINDS = [str, os.fsencode, pathlib.Path]


# ---- exists / isdir / stat ----------------------------------------------------------------

@pytest.mark.parametrize("kind", PATH_KINDS)
def test_exists_and_isdir_take_str_bytes_and_pathlike(tree, kind):
    assert gfile.exists(kind(str(tree / "f1.txt"))) and gfile.exists(kind(str(tree)))
    assert not gfile.exists(kind(str(tree / "nope")))
    assert gfile.isdir(kind(str(tree))) and not gfile.isdir(kind(str(tree / "f1.txt")))
    assert not gfile.isdir(kind(str(tree / "nope")))


@pytest.mark.parametrize("bad", [3, None, 1.5, ["a"]])
def test_a_path_of_another_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="str, bytes or os.PathLike"):
        gfile.exists(bad)


def test_stat(tree):
    st = gfile.stat(tree / "f1.txt")
    assert st.length == 6 and st.is_directory is False
    assert isinstance(st.mtime_nsec, int)
    assert st.mtime_nsec == os.stat(tree / "f1.txt").st_mtime_ns
    assert gfile.stat(str(tree)).is_directory is True
    with pytest.raises(errors.NotFoundError, match=r"nope; No such file or directory"):
        gfile.stat(tree / "nope")


# ---- mkdir / makedirs ---------------------------------------------------------------------

def test_makedirs_creates_parents_and_accepts_an_existing_dir(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    gfile.makedirs(target)
    assert target.is_dir()
    gfile.makedirs(target)  # again: no error
    gfile.makedirs(str(target) + "/")  # trailing slash
    gfile.MakeDirs(os.fsencode(str(tmp_path / "x" / "y")))
    assert (tmp_path / "x" / "y").is_dir()


def test_makedirs_through_or_onto_a_file_fails(tree):
    f = str(tree / "f1.txt")
    with pytest.raises(errors.FailedPreconditionError, match="f1.txt is not a directory"):
        gfile.makedirs(f + "/a/b")
    with pytest.raises(errors.FailedPreconditionError, match="f1.txt is not a directory"):
        gfile.makedirs(f)
    assert read(f) == b"f1.txt"


def test_mkdir(tmp_path):
    gfile.mkdir(tmp_path / "one")
    assert (tmp_path / "one").is_dir()
    gfile.mkdir(tmp_path / "one")  # TF's mkdir accepts an existing directory
    with pytest.raises(errors.NotFoundError, match="No such file or directory") as e:
        gfile.mkdir(tmp_path / "missing" / "two")
    assert isinstance(e.value, FileNotFoundError)
    assert not (tmp_path / "missing").exists()
    write(tmp_path / "file")
    with pytest.raises(errors.AlreadyExistsError, match="file; File exists"):
        gfile.MkDir(str(tmp_path / "file"))


# ---- listdir / glob -----------------------------------------------------------------------

def test_listdir_names_only_sorted(tree):
    assert gfile.listdir(tree) == [".hidden", "f1.txt", "f2.txt", "other", "sub"]
    assert gfile.ListDirectory(str(tree / "sub")) == ["deep", "g.txt"]
    assert gfile.listdir(tree / "other") == []


def test_listdir_of_a_missing_dir_or_a_file_is_not_found(tree):
    with pytest.raises(errors.NotFoundError, match="Could not find directory .*nope"):
        gfile.listdir(tree / "nope")
    with pytest.raises(errors.NotFoundError, match="Could not find directory"):
        gfile.listdir(tree / "f1.txt")


def test_glob_wildcards(tree):
    d = str(tree)
    assert gfile.glob(d + "/f*.txt") == [d + "/f1.txt", d + "/f2.txt"]
    assert gfile.glob(d + "/f?.txt") == [d + "/f1.txt", d + "/f2.txt"]
    assert gfile.glob(d + "/f[1].txt") == [d + "/f1.txt"]
    assert gfile.glob(d + "/f[!1].txt") == [d + "/f2.txt"]
    assert gfile.glob(d + "/f[^1].txt") == [d + "/f2.txt"]
    assert gfile.glob(d + "/f[0-9].txt") == [d + "/f1.txt", d + "/f2.txt"]
    assert gfile.glob(d + "/*.csv") == []


def test_glob_star_matches_dotfiles_and_stays_in_one_component(tree):
    d = str(tree)
    assert gfile.glob(d + "/*") == [d + "/" + n for n in (".hidden", "f1.txt", "f2.txt",
                                                        "other", "sub")]
    assert gfile.glob(d + "/*.txt") == [d + "/f1.txt", d + "/f2.txt"]  # not sub/g.txt
    assert gfile.glob(d + "/*/g.txt") == [d + "/sub/g.txt"]
    assert gfile.glob(d + "/*/*") == [d + "/sub/deep", d + "/sub/g.txt"]
    assert gfile.glob(d + "/**") == gfile.glob(d + "/*")  # no recursive **
    assert gfile.glob(d + "/*/") == [d + "/other", d + "/sub"]  # trailing '/': dirs


def test_glob_escapes_and_literal_names(tmp_path):
    write(tmp_path / "a*b")
    write(tmp_path / "axb")
    d = str(tmp_path)
    assert gfile.glob(d + "/a\\*b") == [d + "/a*b"]
    assert gfile.glob(d + "/a*b") == [d + "/a*b", d + "/axb"]
    assert gfile.glob(d + "/axb") == [d + "/axb"]  # no wildcard: itself if it exists
    assert gfile.glob(d + "/nope") == []
    assert gfile.glob(tmp_path / "a?b") == [d + "/a*b", d + "/axb"]  # PathLike


def test_glob_relative_and_several_patterns(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert gfile.glob("*.txt") == ["f1.txt", "f2.txt"]
    assert gfile.glob("sub/*") == ["sub/deep", "sub/g.txt"]
    assert gfile.glob(["f2*", "sub/g*", "nope*"]) == ["f2.txt", "sub/g.txt"]
    assert gfile.glob(p for p in ("f1.txt",)) == ["f1.txt"]  # any iterable
    assert gfile.glob([]) == []
    assert gfile.glob(b"f1*") == ["f1.txt"]  # names come back as str
    assert gfile.Glob("missingdir/*") == []


def test_glob_bad_arguments(tree):
    with pytest.raises(TypeError, match="iterable of patterns"):
        gfile.glob(3)
    with pytest.raises(errors.InvalidArgumentError, match="invalid glob pattern"):
        gfile.glob(str(tree) + "/[z-a]")


# ---- remove / rename / copy / rmtree ------------------------------------------------------

def test_remove(tree):
    gfile.remove(tree / "f1.txt")
    assert not (tree / "f1.txt").exists()
    with pytest.raises(errors.NotFoundError, match="f1.txt; No such file or directory"):
        gfile.Remove(str(tree / "f1.txt"))
    with pytest.raises(errors.FailedPreconditionError):
        gfile.remove(tree / "other")  # a directory
    assert (tree / "other").is_dir()


def test_rename_overwrite(tree):
    a, b = str(tree / "f1.txt"), str(tree / "f2.txt")
    with pytest.raises(errors.AlreadyExistsError, match="file already exists"):
        gfile.rename(a, b)
    assert read(a) == b"f1.txt" and read(b) == b"f2.txt"  # both kept
    gfile.rename(a, b, overwrite=True)
    assert not os.path.exists(a) and read(b) == b"f1.txt"
    gfile.Rename(b, str(tree / "new.txt"))
    assert read(tree / "new.txt") == b"f1.txt"
    gfile.rename(tree / "sub", tree / "moved")  # directories move too
    assert (tree / "moved" / "g.txt").exists() and not (tree / "sub").exists()
    with pytest.raises(errors.NotFoundError, match="nope; No such file or directory"):
        gfile.rename(tree / "nope", tree / "other2")


def test_copy(tree):
    src, dst = tree / "f1.txt", tree / "copy.txt"
    os.chmod(src, 0o640)
    gfile.copy(src, dst)
    assert read(dst) == b"f1.txt" and read(src) == b"f1.txt"
    assert pystat.S_IMODE(os.stat(dst).st_mode) == 0o640
    write(src, "changed")
    with pytest.raises(errors.AlreadyExistsError, match="file already exists"):
        gfile.copy(src, dst)
    assert read(dst) == b"f1.txt"
    gfile.Copy(str(src), str(dst), overwrite=True)
    assert read(dst) == b"changed"
    gfile.copy(src, src, overwrite=True)  # onto itself: left as it is
    assert read(src) == b"changed"


def test_copy_errors(tree):
    with pytest.raises(errors.NotFoundError, match="nope; No such file or directory"):
        gfile.copy(tree / "nope", tree / "x")
    with pytest.raises(errors.NotFoundError):
        gfile.copy(tree / "f1.txt", tree / "missing" / "x")
    with pytest.raises(errors.FailedPreconditionError, match="Is a directory"):
        gfile.copy(tree / "sub", tree / "x")
    assert not (tree / "x").exists()


def test_rmtree(tree, tmp_path):
    gfile.rmtree(tree / "sub")
    assert not (tree / "sub").exists() and (tree / "f1.txt").exists()
    gfile.DeleteRecursively(str(tree / "f1.txt"))  # a file: deleted
    assert not (tree / "f1.txt").exists()
    with pytest.raises(errors.NotFoundError, match="No such file or directory"):
        gfile.rmtree(tree / "sub")
    link = tmp_path / "link"
    os.symlink(tree, link)
    gfile.rmtree(link)  # the link goes, not what it points to
    assert not os.path.lexists(link) and (tree / "f2.txt").exists()
    gfile.rmtree(tree)
    assert not tree.exists()


# ---- walk ---------------------------------------------------------------------------------

def test_walk_top_down_and_bottom_up(tree):
    d = str(tree)
    top_down = list(gfile.walk(tree))
    assert top_down == [
        (d, ["other", "sub"], [".hidden", "f1.txt", "f2.txt"]),
        (d + "/other", [], []),
        (d + "/sub", ["deep"], ["g.txt"]),
        (d + "/sub/deep", [], []),
    ]
    bottom_up = list(gfile.walk(d, topdown=False))
    assert [w[0] for w in bottom_up] == [d + "/other", d + "/sub/deep", d + "/sub", d]
    assert sorted(bottom_up) == sorted(top_down)
    assert list(gfile.Walk(d, in_order=False)) == bottom_up
    assert list(gfile.Walk(os.fsencode(d))) == top_down  # bytes in, str out


def test_walk_prunes_removed_subdirs(tree):
    seen = []
    for dirname, subdirs, _ in gfile.walk(tree):
        seen.append(os.path.basename(dirname))
        if "sub" in subdirs:
            subdirs.remove("sub")
    assert seen == ["d", "other"]


def test_walk_of_a_missing_dir(tree):
    assert list(gfile.walk(tree / "nope")) == []
    errs = []
    assert list(gfile.walk(tree / "nope", onerror=errs.append)) == []
    assert len(errs) == 1 and isinstance(errs[0], errors.NotFoundError)

    def reraise(err):
        raise err
    with pytest.raises(errors.NotFoundError):
        list(gfile.walk(tree / "f1.txt", onerror=reraise))


# ---- join / schemes / aliases -------------------------------------------------------------

def test_join():
    assert gfile.join("a", "b", "c.txt") == os.path.join("a", "b", "c.txt")
    assert gfile.join("/a/", "/abs") == "/abs"
    assert gfile.join("gs://bucket", "dir", "f") == "gs://bucket/dir/f"
    assert gfile.join("gs://bucket/", "f") == "gs://bucket/f"
    assert gfile.join(b"a", b"b") == os.path.join(b"a", b"b")
    assert gfile.join(pathlib.Path("a"), "b") == os.path.join("a", "b")


@pytest.mark.parametrize("url", ["gs://bucket/x", "s3://b/k", "hdfs://nn:8020/p",
                                 b"gs://bucket/x"])
@pytest.mark.parametrize("fn", [gfile.exists, gfile.isdir, gfile.listdir, gfile.makedirs,
                                gfile.mkdir, gfile.stat, gfile.remove, gfile.rmtree,
                                gfile.glob, gfile.GFile, lambda p: list(gfile.walk(p)),
                                lambda p: gfile.copy(p, "/tmp/x"),
                                lambda p: gfile.rename("/tmp/x", p)])
def test_remote_schemes_are_refused_by_name(url, fn):
    scheme = os.fsdecode(url).split(":")[0]
    with pytest.raises(gfile.UnimplementedError,
                       match=f"File system scheme '{scheme}' not implemented"):
        fn(url)


def test_file_scheme_is_local(tree):
    assert gfile.exists("file://" + str(tree / "f1.txt"))
    assert gfile.listdir("file://" + str(tree / "sub")) == ["deep", "g.txt"]
    assert gfile.GFile("file://" + str(tree / "f2.txt")).read() == "f2.txt"


def test_tf1_aliases():
    assert gfile.FastGFile is gfile.GFile and gfile.Open is gfile.GFile
    for tf1, tf2 in [("Exists", "exists"), ("IsDirectory", "isdir"), ("MkDir", "mkdir"),
                     ("MakeDirs", "makedirs"), ("ListDirectory", "listdir"),
                     ("Glob", "glob"), ("Remove", "remove"), ("Rename", "rename"),
                     ("Copy", "copy"), ("DeleteRecursively", "rmtree"), ("Stat", "stat")]:
        assert getattr(gfile, tf1) is getattr(gfile, tf2), tf1


def test_error_classes_are_tfs_and_oserrors():
    assert issubclass(gfile.PermissionDeniedError, errors.OpError)
    assert issubclass(gfile.PermissionDeniedError, PermissionError)
    assert issubclass(gfile.UnimplementedError, errors.OpError)


# ---- GFile --------------------------------------------------------------------------------

def test_gfile_text_and_binary_reads(tmp_path):
    p = write(tmp_path / "t.txt", "héllo\nworld\n".encode())
    with gfile.GFile(p) as f:
        assert f.read() == "héllo\nworld\n"
    with gfile.GFile(p, "rb") as f:
        assert f.read() == "héllo\nworld\n".encode()
    f = gfile.GFile(pathlib.Path(p))
    assert f.read(3) == "hé" and f.tell() == 3  # n counts bytes ('é' is two)
    assert f.read(0) == "" and f.read(-1) == "llo\nworld\n"
    assert f.read() == ""  # at EOF
    assert f.name == pathlib.Path(p) and f.mode == "r"
    assert f.size() == len("héllo\nworld\n".encode())
    with pytest.raises(UnicodeDecodeError):  # as TF's: n bytes that split a character
        gfile.GFile(p).read(2)


def test_gfile_lines(tmp_path):
    p = write(tmp_path / "l.txt", b"a\r\nbb\n\nlast")
    f = gfile.GFile(p)
    assert f.readline() == "a\n"  # TF drops '\r'
    assert f.tell() == 3
    assert f.readlines() == ["bb\n", "\n", "last"]
    assert f.readline() == ""
    assert list(gfile.GFile(p)) == ["a\n", "bb\n", "\n", "last"]
    g = gfile.GFile(p, "rb")
    assert next(g) == b"a\n" and next(g) == b"bb\n"
    assert list(g) == [b"\n", b"last"]
    with pytest.raises(StopIteration):
        next(g)
    assert gfile.GFile(write(tmp_path / "empty", b"")).readlines() == []


def test_gfile_seek_and_tell(tmp_path):
    p = write(tmp_path / "s.bin", b"0123456789")
    f = gfile.GFile(p, "rb")
    f.seek(4)
    assert f.tell() == 4 and f.read(2) == b"45"
    f.seek(-3, 2)
    assert f.read() == b"789"
    f.seek(2)
    f.seek(3, whence=1)
    assert f.read(1) == b"5"
    f.seek(position=1)  # TF's deprecated name
    assert f.read(1) == b"1"
    f.seek(offset=0)
    assert f.read(1) == b"0" and f.seekable()


def test_gfile_seek_and_read_errors(tmp_path):
    f = gfile.GFile(write(tmp_path / "s.bin", b"0123"), "rb")
    with pytest.raises(TypeError, match="offset argument required"):
        f.seek()
    with pytest.raises(TypeError, match="may not be set simultaneously"):
        f.seek(1, position=2)
    with pytest.raises(errors.InvalidArgumentError, match="Invalid whence argument: 3"):
        f.seek(0, 3)
    with pytest.raises(errors.InvalidArgumentError, match="negative position"):
        f.seek(-10, 2)
    with pytest.raises(errors.InvalidArgumentError, match="negative number of bytes"):
        f.read(-2)
    assert f.read() == b"0123"  # the failed calls moved nothing


def test_gfile_opens_lazily_like_tf(tmp_path):
    missing = tmp_path / "missing.txt"
    f = gfile.GFile(missing)  # no error yet
    with pytest.raises(errors.NotFoundError, match="missing.txt; No such file or directory"):
        f.read()
    w = gfile.GFile(tmp_path / "w.txt", "w")
    assert not (tmp_path / "w.txt").exists()  # created by the first write
    w.write("x")
    w.close()
    assert read(tmp_path / "w.txt") == b"x"
    with pytest.raises(errors.FailedPreconditionError, match="Is a directory"):
        gfile.GFile(tmp_path).read()


def test_gfile_writes_str_or_bytes_in_any_mode(tmp_path):
    p = tmp_path / "w.txt"
    with gfile.GFile(p, "w") as f:
        f.write("a\n")
        f.write(b"b\n")
        f.write(bytearray(b"c"))
        assert f.tell() == 5
    assert read(p) == b"a\nb\nc"
    with gfile.GFile(p, "wb") as f:
        f.write("ü")  # utf-8 in a binary mode too
    assert read(p) == "ü".encode()
    with gfile.GFile(p, "ab") as f:
        f.write(b"!")
    assert read(p) == "ü!".encode()
    with gfile.GFile(p, "a") as f:
        f.write("?")
        assert f.tell() == 4  # bytes: 'ü' is two
    assert read(p) == "ü!?".encode()


def test_gfile_write_of_no_string(tmp_path):
    with gfile.GFile(tmp_path / "w", "w") as f:
        for bad in (3, None, ["a"]):
            with pytest.raises(TypeError, match="Expected binary or unicode string"):
                f.write(bad)


def test_gfile_plus_modes_read_what_was_written(tmp_path):
    p = tmp_path / "rw.txt"
    with gfile.GFile(p, "w+") as f:
        f.write("hello")
        assert f.read() == "hello"  # reading and writing keep their own positions
        f.write(" world")
        assert f.read() == " world"
        assert f.size() == 11
    with gfile.GFile(p, "a+") as f:
        assert f.read() == "hello world"
        f.write("!")
    assert read(p) == b"hello world!"
    with gfile.GFile(p, "r+") as f:
        assert f.read(5) == "hello"
        f.write("new")  # as TF's: the first write truncates
    assert read(p) == b"new"


def test_gfile_mode_checks(tmp_path):
    p = write(tmp_path / "m.txt", "data")
    for bad in ("x", "rw", "rt", "", "wa", "r++"):
        with pytest.raises(errors.InvalidArgumentError, match="mode is not 'r' or 'w'"):
            gfile.GFile(p, bad)
    with pytest.raises(TypeError):
        gfile.GFile(p, None)
    with pytest.raises(gfile.PermissionDeniedError, match="File isn't open for writing"):
        gfile.GFile(p, "r").write("x")
    with pytest.raises(gfile.PermissionDeniedError, match="File isn't open for reading"):
        gfile.GFile(p, "a").read()
    with pytest.raises(gfile.PermissionDeniedError, match="File isn't open for reading"):
        gfile.GFile(p, "w").seek(0)
    assert read(p) == b"data"  # none of that touched the file


def test_gfile_flush_and_close(tmp_path):
    p = tmp_path / "f.txt"
    f = gfile.GFile(p, "w")
    f.write("abc")
    f.flush()
    assert read(p) == b"abc"
    f.close()
    f.close()  # twice is fine
    r = gfile.GFile(p)
    assert r.read(1) == "a"
    r.close()
    assert r.read() == "abc"  # as TF's: reading after close opens again, at the start
