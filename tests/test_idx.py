"""IDX reading and writing: exact round trips, and DatasetError for every bad file."""

import gzip
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinygan.datasets import DatasetError
from tinygan.datasets import idx
from tinygan.datasets.idx import decode_idx_file, encode_idx, parse_idx, read_idx, write_idx
from tinygan import files

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
# derandomize: the same examples on every run, so a CI failure can be reproduced
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def test_known_bytes_uint8():
    # Header: zero, zero, type 0x08, ndim 2, then 2 and 3 as big-endian uint32.
    data = bytes.fromhex("00000802" "00000002" "00000003") + bytes(range(6))
    out = parse_idx(data)
    assert out.dtype == np.uint8 and out.shape == (2, 3)
    assert out.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert encode_idx(out) == data


def test_multibyte_elements_are_big_endian():
    little = np.array([1.0, -2.5], dtype="<f4")
    assert encode_idx(little) == bytes.fromhex("00000d01" "00000002" "3f800000" "c0200000")
    ints = encode_idx(np.array([1, -2], dtype=np.int16))
    assert ints[-4:] == bytes.fromhex("0001" "fffe")
    back = parse_idx(ints)
    assert back.dtype == np.int16 and back.dtype.isnative and back.tolist() == [1, -2]


def test_parsed_array_is_writable_copy():
    data = encode_idx(np.zeros((2, 2), np.uint8))
    out = parse_idx(data)
    out[0, 0] = 7  # would fail on a read-only np.frombuffer view
    assert out[0, 0] == 7


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip_every_dtype(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / name
    write_idx(path, x)
    assert path.read_bytes()[:2] == (idx.GZIP_MAGIC if name.endswith(".gz") else b"\0\0")
    y = read_idx(path)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, x)


shape_strategy = hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)
array_strategy = st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(dt, shape_strategy))
# For header and truncation tests the values do not matter; cheap to generate.
shaped_strategy = st.builds(lambda dt, shape: np.arange(np.prod(shape)).astype(dt).reshape(shape),
                            st.sampled_from(DTYPES), shape_strategy)


@FAST
@given(x=array_strategy, compress=st.booleans())
def test_round_trip_property_in_memory(x, compress):
    raw = encode_idx(x)
    y = decode_idx_file(gzip.compress(raw) if compress else raw, "x.gz" if compress else "x")
    assert y.dtype == x.dtype and y.shape == x.shape
    # Byte equality: exact even for NaN payloads and -0.0.
    assert y.tobytes() == x.tobytes()


# Through real files too, fewer examples: each atomic write pays an fsync.
@settings(max_examples=30, deadline=None, derandomize=True)
@given(x=array_strategy, compress=st.booleans())
def test_round_trip_property(x, compress):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / ("x.gz" if compress else "x")
        write_idx(path, x)
        y = read_idx(path)
        assert os.listdir(d) == [path.name]  # no temp file left behind
    assert y.dtype == x.dtype and y.shape == x.shape
    # Byte equality: exact even for NaN payloads and -0.0.
    assert y.tobytes() == x.tobytes()


def test_gzip_output_is_reproducible(tmp_path):
    x = np.arange(100, dtype=np.uint8).reshape(10, 10)
    write_idx(tmp_path / "a.gz", x)
    write_idx(tmp_path / "b.gz", x)
    a = (tmp_path / "a.gz").read_bytes()
    assert a == (tmp_path / "b.gz").read_bytes()
    assert a[4:8] == b"\0\0\0\0"  # gzip mtime field
    assert not a[3] & 0x08  # FNAME flag: no file name stored


@pytest.mark.parametrize("data, message", [
    (b"", "truncated"),
    (b"\x00\x00\x08", "truncated"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x00", "bad IDX magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x00", "unsupported IDX element type code 0x07"),
    (b"\x00\x00\x08\x00", "zero dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "promises 13 bytes, file has 11"),
    (b"\x00\x00\x0b\x01\x00\x00\x00\x02\x00\x01\x00", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01ab", "trailing"),
    (b"\x00\x00\x08\x04" + b"\xff" * 16, "truncated"),  # 2**128 elements: no overflow
])
def test_bad_headers(tmp_path, data, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_named_gz_but_not_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(encode_idx(np.zeros(3, np.uint8)))
    with pytest.raises(DatasetError, match="named .gz but is not gzip"):
        read_idx(path)


def test_raw_name_with_gzip_content_is_accepted(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(gzip.compress(encode_idx(np.arange(4, dtype=np.uint8))))
    assert read_idx(path).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("cut", [3, 10, 30, -9, -1])
def test_truncated_gzip(tmp_path, cut):
    data = gzip.compress(encode_idx(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "x.gz"
    path.write_bytes(data[:cut])
    with pytest.raises(DatasetError, match="x.gz"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(tmp_path / "nope.gz")


def test_write_rejects_unsupported(tmp_path):
    with pytest.raises(DatasetError, match="dtype"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
    with pytest.raises(DatasetError, match="0-d"):
        write_idx(tmp_path / "x", np.float32(1.0))
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros(3, np.uint8))
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)   # the rename of tinygan.files
    with pytest.raises(OSError, match="disk full"):
        write_idx(path, np.ones(5, np.uint8))
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]


# --- property tests: nothing but DatasetError, whatever the bytes -------------

def _check_only_dataset_error(data, name):
    # In memory: decode_idx_file is read_idx minus the read_bytes.
    try:
        return decode_idx_file(data, name)
    except DatasetError as exc:
        assert name in str(exc)
        return None


@settings(max_examples=30, deadline=None, derandomize=True)
@given(data=st.binary(max_size=100), name=st.sampled_from(["f-idx3-ubyte", "f.gz"]))
def test_random_files_raise_only_dataset_error(data, name):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        try:
            read_idx(path)
        except DatasetError as exc:
            assert str(path) in str(exc)


@FAST
@given(data=st.binary(max_size=200), name=st.sampled_from(["f-idx3-ubyte", "f.gz"]))
def test_random_bytes_raise_only_dataset_error(data, name):
    out = _check_only_dataset_error(data, name)
    if out is not None:  # rare valid file: then it must be self-consistent
        assert isinstance(out, np.ndarray) and out.ndim >= 1


@FAST
@given(data=st.binary(max_size=64))
def test_random_bytes_behind_a_valid_magic(data):
    # Random tails after a plausible header reach the dimension/length checks.
    for prefix in (b"\x00\x00\x08\x01", b"\x00\x00\x0d\x02", b"\x00\x00\x0e\x03"):
        _check_only_dataset_error(prefix + data, "f-idx-ubyte")


@FAST
@given(x=shaped_strategy, compress=st.booleans(), data=st.data())
def test_truncations_raise_dataset_error(x, compress, data):
    raw = encode_idx(x)
    blob = gzip.compress(raw) if compress else raw
    cut = data.draw(st.integers(0, len(blob) - 1))
    out = _check_only_dataset_error(blob[:cut], "f.gz" if compress else "f")
    # A truncated raw file is always detected: the header fixes the length.
    assert out is None or compress


@FAST
@given(x=shaped_strategy, data=st.data())
def test_corrupted_headers_raise_dataset_error(x, data):
    raw = bytearray(encode_idx(x))
    header_len = 4 + 4 * x.ndim
    pos = data.draw(st.integers(0, header_len - 1))
    raw[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    out = _check_only_dataset_error(bytes(raw), "f-idx-ubyte")
    if out is not None:
        # Some edits stay valid (e.g. int8 <-> uint8); the length must still agree.
        assert out.nbytes + 4 + 4 * out.ndim == len(raw)


def test_empty_array_with_an_impossible_shape_is_a_dataset_error():
    # Found by test_corrupted_headers_raise_dataset_error: zero items, so the
    # length check passes, but NumPy cannot even describe the shape.
    data = b"\x00\x00\x08\x04" + struct.pack(">4I", 0, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    with pytest.raises(DatasetError, match="no array NumPy can hold"):
        parse_idx(data, name="empty")


def test_header_dims_are_uint32():
    data = b"\x00\x00\x08\x01" + struct.pack(">I", 2**31 + 1)
    with pytest.raises(DatasetError, match="2147483649"):
        parse_idx(data, name="big")
