r"""Regular expressions with RE2's semantics on top of Python's ``re`` (``tf.strings.
regex_replace`` and ``regex_full_match``): ASCII ``\d\w\s``, ``$`` only at the end of the
text, RE2's rewrite and global-replace rules. Split from :mod:`eagerflow.ops.string`, which
re-exports them.

Example:
    >>> import eagerflow as ef
    >>> ef.strings.regex_replace(ef.constant(["a1b22"]), r"\d+", "#").numpy().tolist()
    [b'a#b#']
"""
import re

import numpy as np

from ..autograd.registry import register
from ..autograd.tensor import Tensor
from ..backend import to_numpy
from ..errors import InvalidArgumentError
from ._host_strings import _host, _object_array, _out

__all__ = ["regex_replace", "regex_full_match"]



# --- regular expressions (RE2 semantics on Python's re) -------------------------------------
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f"}
_RE2_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "(?#", "(?>", "(?(", "(?P=")


def _re2_to_python(pattern):
    """Translates an RE2 pattern to Python's ``re`` with RE2's meaning.

    RE2 (what TF uses) differs from ``re`` where it matters for strings: ``\\d \\w \\s \\b`` are
    ASCII-only, ``$`` outside multi-line mode matches only at the very end (Python's also
    matches before a final newline), ``\\z`` is the end of text, and ``\\Q...\\E`` quotes a
    literal. Lookarounds, back-references and atomic groups are RE2 errors.
    """
    multiline = re.search(r"\(\?[a-zA-Z]*m[a-zA-Z]*[:)]", pattern) is not None
    out = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing \\")
            d = pattern[i + 1]
            if d == "Q" and not in_class:
                j = pattern.find("\\E", i + 2)
                lit = pattern[i + 2:] if j < 0 else pattern[i + 2:j]
                out.append(re.escape(lit))
                i = n if j < 0 else j + 2
                continue
            if d.isdigit() and d != "0" and not in_class:
                raise ValueError(f"invalid escape sequence: \\{d}")
            if d == "z":
                out.append(r"\Z")
            elif d == "Z":
                raise ValueError("invalid escape sequence: \\Z")
            else:
                out.append(c + d)
            i += 2
            continue
        if in_class:
            m = _POSIX_CLASS.match(pattern, i)
            if m is not None:  # RE2's [[:alpha:]]; Python's re has no POSIX classes
                if m.group(2) not in _POSIX_CLASSES:
                    raise ValueError(f"invalid character class range: {m.group(0)}")
                if m.group(1):
                    raise ValueError("negated POSIX classes are not supported")
                out.append(_POSIX_CLASSES[m.group(2)])
                i = m.end()
                continue
            if c == "]" and out and out[-1] not in ("[", "[^"):
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is a literal
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            for bad in _RE2_UNSUPPORTED:
                if pattern.startswith(bad, i):
                    raise ValueError(f"invalid perl operator: {bad}")
        if c == "$" and not multiline:
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_RE_CACHE = {}


def _compile_re2(pattern, op):
    """The compiled translation of an RE2 ``pattern`` (cached), or TF's InvalidArgument."""
    if isinstance(pattern, bytes):
        pattern = pattern.decode("utf-8", "surrogateescape")
    key = pattern
    hit = _RE_CACHE.get(key)
    if hit is not None:
        return hit
    try:
        rx = re.compile(_re2_to_python(pattern), re.ASCII)
    except (re.error, ValueError) as e:
        raise InvalidArgumentError(f"Invalid pattern: {pattern}, error: {e} ({op}: invalid "
                                   f"pattern {pattern!r})") from None
    if len(_RE_CACHE) > 256:
        _RE_CACHE.clear()
    _RE_CACHE[key] = rx
    return rx


def _parse_rewrite(rewrite):
    """RE2's rewrite string: ``\\0``-``\\9`` are groups, ``\\\\`` a backslash; any other
    escape ends the rewrite (RE2 logs "invalid rewrite pattern" and keeps what it had).
    Returns (pieces, max group, valid)."""
    pieces, lit, max_group, i = [], [], 0, 0
    while i < len(rewrite):
        c = rewrite[i]
        if c != "\\":
            lit.append(c)
            i += 1
            continue
        d = rewrite[i + 1] if i + 1 < len(rewrite) else ""
        if d.isdigit():
            if lit:
                pieces.append("".join(lit))
                lit = []
            pieces.append(int(d))
            max_group = max(max_group, int(d))
        elif d == "\\":
            lit.append("\\")
        else:
            if lit:
                pieces.append("".join(lit))
            return pieces, max_group, False
        i += 2
    if lit:
        pieces.append("".join(lit))
    return pieces, max_group, True


def _expand(pieces, m):
    return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in pieces)


def _re2_replace(rx, text, pieces, max_group, valid, replace_global):
    """RE2::GlobalReplace / RE2::Replace: an empty match right after the previous match is
    skipped (Python's re.sub, since 3.7, replaces it), and a rewrite naming a group the
    pattern lacks changes nothing."""
    if max_group > rx.groups:
        return text
    if not replace_global:
        m = rx.search(text)
        if m is None or not valid:
            return text
        return text[:m.start()] + _expand(pieces, m) + text[m.end():]
    out, p, lastend, count = [], 0, -1, 0
    while p <= len(text):
        m = rx.search(text, p)
        if m is None:
            break
        if p < m.start():
            out.append(text[p:m.start()])
        if m.start() == lastend and m.start() == m.end():
            if p < len(text):  # disallow an empty match at the end of the last one
                out.append(text[p])
            p += 1
            continue
        out.append(_expand(pieces, m))
        p = lastend = m.end()
        count += 1
    if count == 0:
        return text
    if p < len(text):
        out.append(text[p:])
    return "".join(out)


def _text(s):
    return s if isinstance(s, str) else bytes(s).decode("utf-8", "surrogateescape")


def _back(orig, t):
    return t if isinstance(orig, str) else t.encode("utf-8", "surrogateescape")


def _regex_fwd(xp, a, pattern, rewrite, replace_global):
    rx = _compile_re2(pattern, "regex_replace")
    pieces, max_group, valid = _parse_rewrite(rewrite)
    a = np.asarray(a)
    items = [_back(s, _re2_replace(rx, _text(s), pieces, max_group, valid, replace_global))
             for s in a.reshape(-1).tolist()]
    return _object_array(items, a.shape)


_regex_replace = register("regex_replace", _regex_fwd)


def _scalar_str(v, what):
    if isinstance(v, Tensor):
        v = to_numpy(v._data)
    if isinstance(v, np.ndarray):
        if v.shape != ():
            raise InvalidArgumentError(f"{what} must be scalar, but received "
                                       f"[{','.join(map(str, v.shape))}]")
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode("utf-8", "surrogateescape")
    if not isinstance(v, str):
        raise TypeError(f"{what} must be a string, got {v!r}")
    return v


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    """Replaces matches of ``pattern`` with ``rewrite`` (``tf.strings.regex_replace``).

    RE2 semantics, as TensorFlow: ``\\d``/``\\w``/``\\s`` are ASCII, ``$`` is the end of the
    text, ``.`` is one character (a UTF-8 code point), empty matches next to a previous
    match are not replaced; in ``rewrite`` ``\\0``-``\\9`` insert groups and ``\\\\`` a
    backslash.

    Raises:
        InvalidArgumentError (a ValueError): ``Invalid pattern: ...`` for a pattern RE2
            rejects (lookarounds and back-references included).

    Example:
        >>> regex_replace(["a1b22"], r"\\d+", "#").numpy().tolist()
        [b'a#b#']
    """
    pattern = _scalar_str(pattern, "Pattern")
    rewrite = _scalar_str(rewrite, "Rewrite")
    _compile_re2(pattern, "regex_replace")
    return _regex_replace(_host(input, "input", "O"), pattern=pattern, rewrite=rewrite,
                          replace_global=bool(replace_global))


def _full_match_fwd(xp, a, pattern):
    rx = _compile_re2(pattern, "regex_full_match")
    a = np.asarray(a)
    hits = [rx.fullmatch(_text(s)) is not None for s in a.reshape(-1).tolist()]
    return _out(np.array(hits, dtype=np.bool_).reshape(a.shape))


_regex_full_match = register("regex_full_match", _full_match_fwd)


def regex_full_match(input, pattern, name=None):
    """Whether each string matches ``pattern`` entirely (``tf.strings.regex_full_match``),
    with RE2's semantics as :func:`regex_replace`.

    Returns:
        bool Tensor of the input's shape.

    Example:
        >>> regex_full_match(["ab1", "ab"], r"[a-z]+\\d").numpy().tolist()
        [True, False]
    """
    pattern = _scalar_str(pattern, "Pattern")
    _compile_re2(pattern, "regex_full_match")
    return _regex_full_match(_host(input, "input", "O"), pattern=pattern)
