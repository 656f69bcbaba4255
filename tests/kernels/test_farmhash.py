"""FarmHash Fingerprint64 / FingerprintCat64 and SipHash-2-4 kernels against pyfarmhash,
the spec's vectors (spec/tf_hashing.md) and SipHash's published test vectors."""
import numpy as np
import pytest

from eagerflow.kernels import farmhash as fh
from eagerflow.kernels import siphash

M64 = (1 << 64) - 1


def _random_strings(rng, per_length=12, max_len=300):
    """Random bytes and random (partly non-ASCII) str of every length 0..max_len."""
    out = []
    alphabet = list("abcXYZ019 _-/") + ["é", "ß", "中", "😀"]
    for n in range(max_len + 1):
        for _ in range(per_length // 2):
            out.append(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        for _ in range(per_length // 2):
            out.append("".join(rng.choice(alphabet, n)))
    return out


def test_fingerprint64_matches_pyfarmhash_on_every_length_and_code_path():
    farmhash = pytest.importorskip("farmhash", reason="pyfarmhash (dev extra) is the reference")
    strs = _random_strings(np.random.default_rng(0))
    got = fh.fingerprint64_strings(strs)
    want = np.array([farmhash.fingerprint64(s) for s in strs], np.uint64)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"mismatch for lengths {sorted({len(strs[i]) for i in bad[:20]})}"
    assert len(strs) > 3000


def test_fingerprint64_object_array_keeps_shape_and_mixes_str_and_bytes():
    farmhash = pytest.importorskip("farmhash", reason="pyfarmhash (dev extra) is the reference")
    a = np.array([["a", b"a"], ["héllo", "x" * 70]], dtype=object)
    got = fh.fingerprint64_strings(a)
    assert got.shape == (2, 2) and got.dtype == np.uint64
    assert got[0, 0] == got[0, 1] == farmhash.fingerprint64("a")
    assert got[1, 0] == farmhash.fingerprint64("héllo".encode())
    assert got[1, 1] == farmhash.fingerprint64("x" * 70)


def test_spec_vectors():
    assert int(fh.fingerprint64_strings([""])[0]) == 0x9AE16A3B2F90404F
    assert int(fh.fingerprint64_strings(["hello"])[0] % 1000) == 296
    assert (fh.fingerprint64_strings(["Hello", "TensorFlow", "2.x"]) % 3).tolist() == [0, 2, 2]


def test_fixed_width_and_contiguous_packings_agree():
    # bytes with trailing NULs and one long item exercise both layouts of string_spans
    items = [b"ab\x00", b"\x00", b"", b"xyz" * 3]
    long_items = items + [b"q" * 5000]
    a = fh.fingerprint64_strings(items)
    b = fh.fingerprint64_strings(long_items)[:4]
    buf, offsets = fh.pack_strings(items)
    c = fh.fingerprint64_packed(buf, offsets)
    assert a.tolist() == b.tolist() == c.tolist()
    assert a[0] != fh.fingerprint64_strings([b"ab"])[0]


def test_ints_hash_as_their_decimal_string():
    farmhash = pytest.importorskip("farmhash", reason="pyfarmhash (dev extra) is the reference")
    rng = np.random.default_rng(1)
    vals = np.concatenate([rng.integers(-10**12, 10**12, 500),
                           [0, -1, 1, 9, 10, -10, 2**63 - 1, -2**63]]).astype(np.int64)
    got = fh.fingerprint64_ints(vals)
    want = np.array([farmhash.fingerprint64(str(v)) for v in vals.tolist()], np.uint64)
    np.testing.assert_array_equal(got, want)
    assert fh.fingerprint64_ints(np.array([5, -5], np.int32)).tolist() == \
        fh.fingerprint64_strings(["5", "-5"]).tolist()
    with pytest.raises(TypeError, match="integers"):
        fh.fingerprint64_ints(np.array([1.5]))


def test_fingerprint_cat64_matches_the_spec_formula():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**63, 200, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, 200, dtype=np.uint64)
    got = fh.fingerprint_cat64(a, b)
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        assert g == fh.fingerprint_cat64_scalar(x, y)
    # the spec's crossed-column vector: ("A", 101) ... with 5 buckets
    key = fh.DEFAULT_CROSS_HASH_KEY
    feats = [("A", 101), ("B", 101), ("A", 101), ("B", 102), ("A", 102)]
    ids = [fh.fingerprint_cat64_scalar(
        fh.fingerprint_cat64_scalar(key, int(fh.fingerprint64_strings([s])[0])), i) % 5
        for s, i in feats]
    assert ids == [1, 4, 1, 1, 3]


def test_fingerprint_cat64_scalar_hand_computed():
    k = 0xC6A4A7935BD1E995

    def mix(v):
        return v ^ (v >> 47)
    r = 7 ^ k
    r ^= (mix((11 * k) & M64) * k) & M64
    r = (r * k) & M64
    r = mix((mix(r) * k) & M64)
    assert fh.fingerprint_cat64_scalar(7, 11) == r
    assert int(fh.fingerprint_cat64(np.uint64(7), np.int64(11))) == r


def test_cross_positions_row_major_last_fastest():
    offs = np.array([[0, 2, 3], [0, 2, 2]], np.int64)  # row 1 of feature 1 is empty
    out_off = np.array([0, 4, 4], np.int64)
    pos, rows, cols = fh.cross_positions(offs, out_off)
    assert pos.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert rows.tolist() == [0, 0, 0, 0] and cols.tolist() == [0, 1, 2, 3]


def test_empty_batches_and_bad_inputs():
    assert fh.fingerprint64_strings([]).shape == (0,)
    assert fh.fingerprint64_strings(np.zeros((0, 3), object)).shape == (0, 3)
    assert fh.fingerprint64_ints(np.zeros(0, np.int64)).shape == (0,)
    assert siphash.siphash24_strings([], 1, 2).shape == (0,)
    with pytest.raises(TypeError, match="position 1"):
        fh.fingerprint64_strings(["a", 3])
    with pytest.raises(ValueError, match="outside the buffer"):
        fh.fingerprint64_spans(np.zeros(4, np.uint8), [2], [5])
    with pytest.raises(ValueError, match="must match"):
        fh.fingerprint64_spans(np.zeros(4, np.uint8), [0, 1], [1])


def _siphash_ref(data, k0, k1):
    """SipHash-2-4 straight from the paper, in Python ints."""
    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & M64

    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & M64; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)  # noqa: E702
        v[2] = (v[2] + v[3]) & M64; v[3] = rotl(v[3], 16) ^ v[2]  # noqa: E702
        v[0] = (v[0] + v[3]) & M64; v[3] = rotl(v[3], 21) ^ v[0]  # noqa: E702
        v[2] = (v[2] + v[1]) & M64; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)  # noqa: E702

    n = len(data)
    blocks = [int.from_bytes(data[i:i + 8], "little") for i in range(0, n - n % 8, 8)]
    blocks.append(int.from_bytes(data[n - n % 8:], "little") | ((n & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rnd()
        rnd()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def test_siphash_published_vectors_and_reference():
    k0 = int.from_bytes(bytes(range(8)), "little")
    k1 = int.from_bytes(bytes(range(8, 16)), "little")
    got = siphash.siphash24_strings([b"", bytes(range(15))], k0, k1)
    assert got.tolist() == [0x726FDB47DD0E0E31, 0xA129CA6149BE45E5]
    rng = np.random.default_rng(3)
    data = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in range(70)]
    got = siphash.siphash24_strings(data, 2**64 - 5, 12345)
    assert got.tolist() == [_siphash_ref(d, 2**64 - 5, 12345) for d in data]
    # TF's documented example of to_hash_bucket_strong
    assert (siphash.siphash24_strings(["Hello", "TF"], 1, 2) % 3).tolist() == [2, 0]
    # negative key words are taken mod 2**64
    assert siphash.siphash24_strings(["x"], -1, 0)[0] == siphash.siphash24_strings(["x"], M64, 0)[0]
    with pytest.raises(ValueError, match="64 bits"):
        siphash.siphash24_strings(["x"], 1 << 64, 0)


def test_index_compares_bytes_so_fingerprint_collisions_cannot_match():
    spans = fh.string_spans(["a", "b", "c", "b"])
    fake = np.full(4, 7, np.uint64)  # every key "collides"
    slots, dup_of = fh.build_index(fake, spans)
    assert dup_of.tolist() == [-1, -1, -1, 1]
    q = fh.string_spans(["b", "d", "a", b"c"])
    assert fh.probe_index(slots, fake, np.full(4, 7, np.uint64), spans, q).tolist() == [1, -1, 0, 2]
    keys = np.array([5, -3, 9, 2**62], np.int64)
    slots, dup_of = fh.build_index(keys)
    assert dup_of.tolist() == [-1] * 4
    got = fh.probe_index(slots, keys, np.array([9, 5, 7, -3, 2**62], np.int64))
    assert got.tolist() == [2, 0, -1, 1, 3]
    assert fh.probe_index(slots, keys, np.zeros(0, np.int64)).shape == (0,)
