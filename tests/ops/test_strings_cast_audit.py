"""Fidelity audit of the string ops and the cast family against TensorFlow.

Every expected value comes from TensorFlow itself: its API documentation examples, its
kernels' sources (tensorflow/core/kernels/*.cc, quoted where a rule is subtle), its own
unit-test vectors (hash_test.cc, RE2's re2_test.cc), or the TF 2.21 outputs stored in
tests/lookup/tf_parity.json. None is taken from eagerflow's output.
"""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow.backend.dtypes import as_datatype_enum, as_dtype
from eagerflow.errors import InvalidArgumentError, OutOfRangeError
from eagerflow.ops import array as A
from eagerflow.ops import string as S
from eagerflow.ops._host_strings import hash64
from tests.gradcheck import GradCase, run_case, tensor, to_numpy


def _v(t):
    return to_numpy(t).tolist()


def _b(x):
    """Strings as the bytes TF returns."""
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, list):
        return [_b(v) for v in x]
    return x


def _sp(sp):
    return _v(sp.indices), _b(_v(sp.values)), _v(sp.dense_shape)


# --- hashing -----------------------------------------------------------------------------
def test_legacy_hash64_matches_tf_hash_test_vectors():
    # tensorflow/core/lib/hash/hash_test.cc, TEST(Hash, SignedUnsignedIssue): (hash64, data, seed)
    d5 = bytes([0x01, 0xc0] + [0] * 14 + [0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0,
                                          0x18, 0x28, 0, 0, 0, 0, 0, 0, 0, 0x02] + [0] * 7)
    cases = [(0x4c61ea3eeda4cb87, b"", 0xbc9f1d34), (0x091309f7ef916c8a, b"\x62", 0xbc9f1d34),
             (0xa815bcdf1d1af01c, b"\xc3\x97", 0xbc9f1d34),
             (0x02167564e4d06430, b"\xe2\x99\xa5", 0xbc9f1d34),
             (0x8f7ed82ffc21071f, b"\xe1\x80\xb9\x32", 0xbc9f1d34),
             (0xce196580c97aff1e, d5, 0x12345678)]
    for want, data, seed in cases:
        assert hash64(data, seed) == want


def test_to_hash_bucket_is_tf_legacy_hash_not_farmhash():
    # tf.strings.to_hash_bucket docs: ["Hello", "TensorFlow", "2.x"], 3 -> [2, 0, 1]
    assert _v(S.to_hash_bucket(["Hello", "TensorFlow", "2.x"], 3)) == [2, 0, 1]
    assert _v(ef.strings.to_hash_bucket(ef.constant(["Hello", "TensorFlow", "2.x"]), 3)) == \
        [2, 0, 1]
    # the _fast variant (FarmHash Fingerprint64) gives different ids: docs say [0, 2, 2]
    assert _v(S.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3)) == [0, 2, 2]
    # TF1 spelling with TF1's argument name
    assert _v(S.string_to_hash_bucket(string_tensor=[b"Hello"], num_buckets=3)) == [2]
    with pytest.raises(ValueError, match="num_buckets"):
        S.to_hash_bucket(["a"], 0)


# --- splitting -----------------------------------------------------------------------------
def test_strings_split_whitespace_maxsplit_keeps_rest_even_when_empty():
    # TF 2.21 (tests/lookup/tf_parity.json "split_v1"/"none_max1"): after maxsplit tokens the
    # rest is one more token even when empty: "1<>2<><>3" -> ["1<>2<><>3", ""]
    idx, vals, shape = _sp(S.split(["1<>2<><>3", "", "a<>b", "  a  b  ", "a b c d"], maxsplit=1))
    assert idx == [[0, 0], [0, 1], [2, 0], [2, 1], [3, 0], [3, 1], [4, 0], [4, 1]]
    assert vals == [b"1<>2<><>3", b"", b"a<>b", b"", b"a", b"b  ", b"a", b"b c d"]
    assert shape == [5, 2]


def test_strings_split_maxsplit_zero_keeps_the_whole_string():
    # string_split_op.cc SplitV2: `if (maxsplit == 0) { result.emplace_back(text); return }`
    # -- the whole, unstripped string, also for an empty one (Python's str.split strips)
    idx, vals, _ = _sp(S.split(["  a b ", ""], maxsplit=0))
    assert idx == [[0, 0], [1, 0]] and vals == [b"  a b ", b""]


def test_strings_split_scalar_and_higher_rank_inputs():
    # tf.compat.v1.strings.split: a scalar is expanded to a batch of one; rank N gives a
    # SparseTensor of rank N+1 (the RaggedTensor's to_sparse())
    idx, vals, shape = _sp(S.split("hello world"))
    assert (idx, vals, shape) == ([[0, 0], [0, 1]], [b"hello", b"world"], [1, 2])
    idx, vals, shape = _sp(S.split([["a b", "c"], ["", "d e f"]]))
    assert idx == [[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 2]]
    assert vals == [b"a", b"b", b"c", b"d", b"e", b"f"] and shape == [2, 2, 3]
    with pytest.raises(ValueError, match="Cannot specify both 'input' and 'source'"):
        S.split(["a"], source=["b"])


def test_string_split_v1_splits_bytes():
    # tf.compat.v1.string_split docs: "If sep is an empty string, each element of the source
    # is split into individual strings, each containing one byte. (This includes splitting
    # multibyte sequences of UTF-8.) If delimiter contains multiple bytes, it is treated as a
    # set of delimiters with each considered a potential split point."
    assert _sp(S.string_split(["é"], ""))[1] == [b"\xc3", b"\xa9"]
    # 'é' is two bytes, so both of them split: "aéb" -> a, b (the empty token in between is
    # skipped)
    assert _sp(S.string_split(["a\u00e9b"], "\u00e9"))[1] == [b"a", b"b"]
    assert _sp(S.string_split(["a\u00e9b"], "\u00e9", skip_empty=False))[1] == [b"a", b"", b"b"]
    # TF 2.x signature: (source, sep=None, skip_empty=True, delimiter=None, result_type=...)
    assert _sp(S.string_split(["a,b"], sep=","))[1] == [b"a", b"b"]
    with pytest.raises(ValueError, match="Cannot specify both 'sep' and 'delimiter'"):
        S.string_split(["a"], sep=",", delimiter=";")
    with pytest.raises(InvalidArgumentError, match="input must be a vector"):
        S.string_split([["a"]])


# --- to_number -----------------------------------------------------------------------------
def test_to_number_error_is_tfs_invalid_argument():
    # string_to_number_op.cc: kErrorMessage "StringToNumberOp could not correctly convert
    # string: " + the string, as InvalidArgument
    with pytest.raises(InvalidArgumentError,
                       match="StringToNumberOp could not correctly convert string: x1"):
        S.to_number(["x1"])
    with pytest.raises(InvalidArgumentError,
                       match="StringToNumberOp could not correctly convert string: 3000000000"):
        S.to_number(["3000000000"], out_type=ef.int32)


def test_to_number_rejects_non_ascii_digits_and_whitespace():
    # absl::SimpleAtoi / SimpleAtof (TF's SafeStringToNumeric) read ASCII digits and strip
    # ASCII whitespace only; Python's int()/float() also take other Unicode digits/spaces
    for bad in ["\u0663", "\u00a07", "\u2003" + "1.5"]:
        with pytest.raises(InvalidArgumentError):
            S.to_number([bad])
        with pytest.raises(InvalidArgumentError):
            S.to_number([bad], out_type=ef.int64)
    # and the accepted forms (TF 2.21, tf_parity.json "to_number"): '+', hex floats, infinity
    assert _v(S.to_number(["+7", "0X1p3", "-0x10", "infinity", " 3e2 "])) == \
        [7.0, 8.0, -16.0, np.inf, 300.0]
    assert _v(S.to_number(["+7", " 010 "], out_type=ef.int32)) == [7, 10]


# --- as_string -----------------------------------------------------------------------------
def test_as_string_fill_is_a_printf_flag_even_without_width():
    # as_string_op.cc: format = "%" + fill + "*.*" + conv, width -1 -> 0, so fill='+' with no
    # width still prints the sign
    assert _v(S.as_string(ef.constant(np.array([7, -3], np.int64)), fill="+")) == ["+7", "-3"]
    assert _v(S.as_string(ef.constant(np.array([1.5], np.float32)), fill=" ")) == [" 1.500000"]


def test_as_string_errors_for_non_float_options():
    # as_string_op.cc: for a non-float, non-string dtype "scientific and shortest format not
    # supported for datatype ..." and "precision not supported for datatype ..."
    with pytest.raises(ValueError, match="scientific and shortest format not supported for "
                                         "datatype int64"):
        S.as_string(ef.constant(np.array([1], np.int64)), scientific=True)
    with pytest.raises(ValueError, match="precision not supported for datatype bool"):
        S.as_string(np.array([True]), precision=1)
    with pytest.raises(ValueError, match="Fill string must be one or fewer characters"):
        S.as_string([1.0], fill="ab")
    with pytest.raises(ValueError, match='Fill argument not supported: "x"'):
        S.as_string([1.0], fill="x")


def test_as_string_complex_and_padded_strings():
    # as_string_op.cc: complex -> "(" + fmt(real) + "," + fmt(imag) + ")"; a string input
    # with a width goes through "%*.*s" (precision truncates)
    c = tensor(np.array([complex(1, 2), complex(0, -0.5)], np.complex64))
    assert _v(S.as_string(c, precision=1)) == ["(1.0,2.0)", "(0.0,-0.5)"]
    assert _v(S.as_string(["ab"], width=4)) == ["  ab"]
    assert _v(S.as_string(["abcdef"], width=4, precision=2)) == ["  ab"]
    assert _v(S.as_string(["ab"], width=4, fill="-")) == ["ab  "]
    # tf.strings.as_string docs
    assert _v(S.as_string([3.1415926, 2.71828], precision=2)) == ["3.14", "2.72"]


# --- length / join ---------------------------------------------------------------------------
def test_length_utf8_char_counts_non_continuation_bytes():
    # tf.strings.length docs: ["Hello", "TensorFlow", "🙂"] -> [5, 10, 4] bytes, [5, 10, 1] chars
    assert _v(S.length(["Hello", "TensorFlow", "\U0001f642"])) == [5, 10, 4]
    assert _v(S.length(["Hello", "TensorFlow", "\U0001f642"], unit="UTF8_CHAR")) == [5, 10, 1]
    # string_util.h UTF8StrLen counts bytes that are not 10xxxxxx: a lone continuation byte
    # is no character (decoding with 'replace' would count one per byte)
    assert _v(S.length([b"\x80\x80", b"a\x80"], unit="UTF8_CHAR")) == [0, 1]


def test_join_broadcasts_scalars_only():
    # string_join_op.cc: non-scalar inputs must have one shape, "Input shapes do not match"
    with pytest.raises(InvalidArgumentError, match=r"Input shapes do not match: \[2\] vs. \[1\]"):
        S.join([["a", "b"], ["c"]])
    assert _v(S.join([["a", "b"], "!"], separator="-")) == ["a-!", "b-!"]


# --- regular expressions (RE2) -----------------------------------------------------------
RE2_REPLACE = [  # re2/testing/re2_test.cc ReplaceTest: (pattern, rewrite, text, first, all)
    ("(qu|[b-df-hj-np-tv-z]*)([a-z]+)", "\\2\\1ay", "the quick brown fox jumps over the lazy dogs.",
     "ethay quick brown fox jumps over the lazy dogs.",
     "ethay ickquay ownbray oxfay umpsjay overay ethay azylay ogsday."),
    ("\\w+", "\\0-NOSPAM", "abcd.efghi@google.com", "abcd-NOSPAM.efghi@google.com",
     "abcd-NOSPAM.efghi-NOSPAM@google-NOSPAM.com-NOSPAM"),
    ("^", "(START)", "foo", "(START)foo", "(START)foo"),
    ("$", "(END)", "", "(END)", "(END)"),
    ("b", "bb", "ababababab", "abbabababab", "abbabbabbabbabb"),
    ("b+", "bb", "bbbbbb", "bb", "bb"),
    ("b*", "bb", "bbbbbb", "bb", "bb"),
    ("b*", "bb", "aaaaa", "bbaaaaa", "bbabbabbabbabbabb"),
    ("a.*a", "(\\0)", "aba\naba", "(aba)\naba", "(aba)\n(aba)"),
]


@pytest.mark.parametrize("pattern,rewrite,text,first,every", RE2_REPLACE)
def test_regex_replace_follows_re2_replace(pattern, rewrite, text, first, every):
    # TF's RegexReplace is RE2::Replace / RE2::GlobalReplace; in particular RE2 does not
    # replace an empty match right after a previous match ("b*" on "bbbbbb" -> "bb", where
    # Python's re.sub gives "bbbb")
    assert _v(S.regex_replace([text], pattern, rewrite, replace_global=False)) == [first]
    assert _v(S.regex_replace([text], pattern, rewrite)) == [every]


def test_regex_re2_semantics_differ_from_python_re():
    # RE2: \d is ASCII [0-9]; $ (not multi-line) is only the end of the text
    assert _v(S.regex_replace(["\u0663 3"], r"\d", "#")) == ["\u0663 #"]
    assert _v(S.regex_replace(["a\n"], "a$", "X")) == ["a\n"]
    assert _v(S.regex_full_match(["a\n"], "a$")) == [False]
    # RE2 rewrites: \\ is a backslash; a group the pattern lacks leaves the text unchanged
    assert _v(S.regex_replace(["ab"], "(a)", "\\\\\\1")) == ["\\ab"]
    assert _v(S.regex_replace(["ab"], "(a)", "\\2")) == ["ab"]
    # RE2 syntax: POSIX classes inside brackets ([[:alpha:]] == [A-Za-z])
    assert _v(S.regex_replace(["ab1 C!"], "[[:alpha:]]", "x")) == ["xx1 x!"]
    assert _v(S.regex_full_match(["a1", "a_"], "[[:alpha:]][[:digit:]]")) == [True, False]
    # lookarounds and back-references are not RE2: TF's "Invalid pattern: ..."
    for bad in ["(?=a)", "(a)\\1", "a(?<!b)"]:
        with pytest.raises(InvalidArgumentError, match="Invalid pattern"):
            S.regex_replace(["a"], bad, "x")


def test_regex_full_match_docs():
    # tf.strings.regex_full_match docs
    assert _v(S.regex_full_match(["TF lib", "lib TF"], ".*lib$")) == [True, False]
    assert _v(S.regex_full_match(["TF lib", "lib TF"], ".*TF$")) == [False, True]
    assert _v(ef.strings.regex_full_match(["TF lib"], "TF lib")) == [True]


# --- substr ---------------------------------------------------------------------------------
def test_substr_docs_examples():
    # tf.strings.substr docs
    assert _b(_v(S.substr([b"Hello", b"World"], 1, 3))) == [b"ell", b"orl"]
    inp = [[b"ten", b"eleven", b"twelve"], [b"thirteen", b"fourteen", b"fifteen"],
           [b"sixteen", b"seventeen", b"eighteen"]]
    got = S.substr(inp, [[1, 2, 3], [1, 2, 3], [1, 2, 3]], [[2, 3, 4], [4, 3, 2], [5, 5, 5]])
    assert _v(got) == [[b"en", b"eve", b"lve"], [b"hirt", b"urt", b"te"],
                       [b"ixtee", b"vente", b"hteen"]]
    inp4 = inp + [[b"nineteen", b"twenty", b"twentyone"]]
    assert _v(S.substr(inp4, [1, 2, 3], [1, 2, 3])) == [
        [b"e", b"ev", b"lve"], [b"h", b"ur", b"tee"], [b"i", b"ve", b"hte"],
        [b"i", b"en", b"nty"]]
    assert _v(S.substr(b"thirteen", [1, 5, 7], [4, 3, 1])) == [b"hirt", b"een", b"n"]


def test_substr_rules_from_the_kernel():
    # substr_op.cc, BYTE: a negative pos counts from the end; a negative len takes the rest
    assert _v(S.substr(["Hello"], -3, 2)) == ["ll"]
    assert _v(S.substr(["Hello"], 1, -1)) == ["ello"]
    with pytest.raises(InvalidArgumentError,
                       match="pos 7 out of range for string b'Hello' at index 0"):
        S.substr(["Hello"], 7, 1)
    # UTF8_CHAR counts characters; a BYTE cut inside a character is bytes, as TF's strings
    assert _v(S.substr(["h\u00e9llo"], 1, 2, unit="UTF8_CHAR")) == ["\u00e9l"]
    assert _v(S.substr(["h\u00e9llo"], -2, 5, unit="UTF8_CHAR")) == ["lo"]
    assert _v(S.substr(["h\u00e9llo"], 1, 1)) == [b"\xc3"]
    with pytest.raises(InvalidArgumentError, match="pos 9 out of range for string at index 0"):
        S.substr(["h\u00e9llo"], 9, 1, unit="UTF8_CHAR")
    with pytest.raises(InvalidArgumentError, match="pos and len should have the same shape"):
        S.substr(["ab"], [0, 1], 1)


# --- reduce_join / format --------------------------------------------------------------------
def test_reduce_join_docs_and_axis_order():
    x = [["abc", "123"], ["def", "456"]]
    # tf.strings.reduce_join docs
    assert _v(S.reduce_join(x)) == "abc123def456"
    assert _v(S.reduce_join(x, axis=-1)) == ["abc123", "def456"]
    assert _v(S.reduce_join(x, axis=-1, separator=" ")) == ["abc 123", "def 456"]
    # reduce_join_op.cc: the reduced indices are taken in reverse, so the first axis listed
    # varies fastest
    assert _v(S.reduce_join([["a", "b"], ["c", "d"]], [0, 1])) == "acbd"
    assert _v(S.reduce_join([["a", "b"], ["c", "d"]], [1, 0])) == "abcd"
    assert _v(S.reduce_join(x, 0, keepdims=True)) == [["abcdef", "123456"]]
    assert _v(S.reduce_join(np.zeros((2, 0), object), 1)) == ["", ""]
    with pytest.raises(OutOfRangeError, match="Invalid reduction dimension 2 for input with 2"):
        S.reduce_join(x, 2)
    with pytest.raises(InvalidArgumentError, match="Duplicate reduction dimension -1"):
        S.reduce_join(x, [1, -1])


def test_format_docs_examples():
    # tf.strings.format docs
    assert _v(S.format("tensor: {}, suffix", ef.range(10))) == "tensor: [0 1 2 ... 7 8 9], suffix"
    got = _v(S.format("first: {}, second: {}, suffix",
                      (ef.reshape(ef.range(100), [10, 10]), ef.range(10))))
    assert got == ("first: [[0 1 2 ... 7 8 9]\n"
                   " [10 11 12 ... 17 18 19]\n"
                   " [20 21 22 ... 27 28 29]\n"
                   " ...\n"
                   " [70 71 72 ... 77 78 79]\n"
                   " [80 81 82 ... 87 88 89]\n"
                   " [90 91 92 ... 97 98 99]], second: [0 1 2 ... 7 8 9], suffix")
    with pytest.raises(ValueError, match="2 placeholder"):
        S.format("{} {}", [ef.range(2)])


def test_format_elements_as_tensor_summarize_value():
    # tensor.cc PrintOneElement(print_v2): strings quoted and C-escaped; floats through
    # FloatToBuffer (%.6g, %.9g if that does not round-trip); bools through StrCat: 1/0
    got = _v(S.format("{} {} {}", [tensor(np.array([1.5, 2.0, 0.1], np.float32)),
                                  ef.constant(['a"b\n']), np.array([True, False])]))
    assert got == '[1.5 2 0.1] ["a\\"b\\n"] [1 0]'
    assert _v(S.format("{}", [ef.constant(7)])) == "7"
    assert _v(S.format("{}", [ef.range(10)], summarize=-1)) == "[0 1 2 3 4 5 6 7 8 9]"


# --- casting: saturate_cast, bitcast, as_dtype ---------------------------------------------
def test_saturate_cast_clamps_in_the_input_dtype():
    # math_ops.saturate_cast: clamp to [out.min, out.max] in the input dtype before the cast;
    # an out bound the input type rounds past is moved toward zero with np.nextafter, so
    # float32 -> int32 saturates at 2147483520 (the largest float32 below 2**31)
    x = tensor(np.array([3e9, -3e9, 1.7, -1.7], np.float32))
    assert _v(A.saturate_cast(x, ef.int32)) == [2147483520, -2147483648, 1, -1]
    assert _v(A.saturate_cast(tensor(np.array([-1.0, 300.0, 254.9])), ef.uint8)) == [0, 255, 254]
    assert _v(A.saturate_cast(tensor(np.array([1e20])), ef.int64)) == [9223372036854774784]
    assert _v(A.saturate_cast(tensor(np.array([-5, 70000], np.int64)), ef.int16)) == [-5, 32767]
    big = A.saturate_cast(tensor(np.array([1e300, -np.inf])), ef.float32)
    assert _v(big) == [float(np.finfo(np.float32).max), float(np.finfo(np.float32).min)]
    # complex -> real keeps the real part, then clamps
    assert _v(A.saturate_cast(tensor(np.array([300 + 4j], np.complex128)), ef.uint8)) == [255]
    with pytest.raises(TypeError, match="Cannot find minimum value of bool"):
        A.saturate_cast(tensor(np.array([1.0])), ef.bool)


def test_saturate_cast_gradient_is_zero_where_clamped():
    x = ef.Variable(np.array([1.0, 1e5, -2.0]))
    with ef.GradientTape() as tape:
        y = ef.reduce_sum(ef.cast(A.saturate_cast(x, ef.float16), ef.float64) * 3.0)
    assert _v(tape.gradient(y, x)) == [3.0, 0.0, 3.0]


GRAD_CASES = [
    GradCase("saturate_cast",
             lambda x: ef.cast(A.saturate_cast(x, ef.float32), ef.float64) * 2.0,
             np.array([0.5, -1.25, 2.0]), eps=1e-3, rtol=1e-3, atol=1e-4),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_gradients(case):
    run_case(case)


def test_bitcast_of_a_scalar():
    # tf.bitcast of a scalar: same size keeps the scalar, a smaller type gives a vector
    # (ascontiguousarray makes 0-d arrays 1-d, on NumPy and CuPy alike)
    one = ef.constant(np.int32(1))
    same = A.bitcast(one, ef.float32)
    assert tuple(same.shape) == () and same.numpy().view(np.int32) == 1
    assert _v(A.bitcast(one, ef.uint8)) == [1, 0, 0, 0]
    assert tuple(A.bitcast(one, ef.uint8).shape) == (4,)


def test_bitcast_shape_rules_and_errors():
    # tf.bitcast docs: a larger input type adds a last dim of sizeof(T)/sizeof(type); a
    # smaller one needs that last dim and removes it; bytes in memory order
    got = A.bitcast(ef.constant(np.array([1, 256], np.int32)), ef.uint8)
    assert got.shape == (2, 4) and _v(got) == [[1, 0, 0, 0], [0, 1, 0, 0]]
    back = A.bitcast(ef.constant(np.array([[1, 0, 0, 0]], np.uint8)), ef.int32)
    assert back.shape == (1,) and _v(back) == [1]
    assert _v(A.bitcast(ef.constant(np.array([1.0], np.float32)), ef.int32)) == [1065353216]
    # docs: tf.bitcast([1., 2., 3.], tf.complex128) -> "Cannot bitcast from 1 to 18"
    with pytest.raises(InvalidArgumentError, match="Cannot bitcast from 1 to 18"):
        A.bitcast(ef.constant([1.0, 2.0, 3.0]), ef.complex128)
    with pytest.raises(TypeError, match="bool"):
        A.bitcast(ef.constant([True]), ef.uint8)


def test_as_dtype_accepts_tf_spellings():
    # dtypes.as_dtype: DataType enum numbers and NumPy's text types are TF dtypes
    assert as_dtype(1) == ef.float32 and as_dtype(18) == ef.complex128 and as_dtype(9) == ef.int64
    assert as_dtype(np.str_) == ef.string and as_dtype(np.bytes_) == ef.string
    assert as_dtype(np.dtype("<U5")) == ef.string and as_dtype("string") == ef.string
    assert as_dtype("half") == ef.float16 and as_dtype("double") == ef.float64
    assert as_datatype_enum(ef.float32) == 1 and as_datatype_enum(ef.string) == 7
    assert as_datatype_enum(ef.bfloat16) == 14 and as_datatype_enum(ef.float16) == 19
    with pytest.raises(TypeError):
        as_dtype(99)


def test_cast_python_float_goes_through_float32_and_sparse_values_cast():
    # tf.cast(0.1, tf.float64): convert_to_tensor(0.1) is float32 first (0.10000000149...)
    got = ef.cast(0.1, ef.float64).numpy()
    assert got == np.float64(np.float32(0.1)) and got != 0.1
    # tf.cast of a SparseTensor / IndexedSlices casts the values, keeps indices and shape
    sp = ef.cast(ef.SparseTensor([[0, 1]], tensor(np.array([2.7])), [2, 3]), ef.int32)
    assert to_numpy(sp.values).tolist() == [2] and to_numpy(sp.values).dtype == np.int32
    assert to_numpy(sp.indices).tolist() == [[0, 1]]
    sl = ef.cast(ef.IndexedSlices(tensor(np.array([[1.5]])), tensor(np.array([1])), [3, 1]),
                 ef.float32)
    assert to_numpy(sl.values).dtype == np.float32 and to_numpy(sl.indices).tolist() == [1]
