"""Loaders on good and bad files: every malformed input raises fileio.FormatError with a one-line
message naming the file (scripts/bsnpu/fileio.py, reference.Model)."""

import json
import os
import struct

import numpy as np
import pytest

from bsnpu import fileio, reference


def expect_format_error(fn, path, *match):
    with pytest.raises(fileio.FormatError) as info:
        fn()
    message = str(info.value)
    assert str(path) in message, message
    assert "\n" not in message, message
    for m in match:
        assert m in message, message
    return message


def raw_safetensors(header, data, header_len=None):
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded) if header_len is None else header_len) + encoded + data


def write(path, blob):
    path.write_bytes(blob)
    return path


GOOD_HEADER = {"a": {"dtype": "I32", "shape": [2, 3], "data_offsets": [0, 24]},
               "b": {"dtype": "U8", "shape": [4], "data_offsets": [24, 28]}}
GOOD_DATA = np.arange(6, dtype="<i4").tobytes() + bytes([1, 2, 3, 250])


def test_safetensors_round_trip(tmp_path):
    tensors = {"z.f32": np.linspace(-1, 1, 7, dtype=np.float32).reshape(7, 1),
               "a.i64": np.array([-(1 << 62), 5], np.int64), "m.u8": np.arange(5, dtype=np.uint8),
               "s.i32": np.array(3, np.int32)}
    path = tmp_path / "t.safetensors"
    fileio.save_safetensors(str(path), tensors, {"format": "x", "n": 3})
    loaded, meta = fileio.load_safetensors(str(path))
    assert meta == {"format": "x", "n": "3"}
    assert list(loaded) == sorted(tensors)  # sorted names, packed in that order
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype.newbyteorder("<") and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    # same content, same bytes
    fileio.save_safetensors(str(tmp_path / "u.safetensors"), dict(reversed(list(tensors.items()))), {"format": "x", "n": 3})
    assert (tmp_path / "u.safetensors").read_bytes() == path.read_bytes()
    # hand-made file loads too
    loaded, _ = fileio.load_safetensors(str(write(tmp_path / "g.safetensors", raw_safetensors(GOOD_HEADER, GOOD_DATA))))
    np.testing.assert_array_equal(loaded["a"], np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(loaded["b"], [1, 2, 3, 250])


def test_safetensors_missing_and_directory(tmp_path):
    missing = tmp_path / "nope.safetensors"
    expect_format_error(lambda: fileio.load_safetensors(str(missing)), missing, "no such file")
    expect_format_error(lambda: fileio.load_safetensors(str(tmp_path)), tmp_path, "directory")


def test_safetensors_too_short(tmp_path):
    path = write(tmp_path / "short.safetensors", b"\x01\x02\x03")
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "truncated")
    path = write(tmp_path / "empty.safetensors", b"")
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path)


def test_safetensors_header_length_beyond_file(tmp_path):
    blob = raw_safetensors(GOOD_HEADER, GOOD_DATA)
    path = write(tmp_path / "hl.safetensors", struct.pack("<Q", len(blob)) + blob[8:])
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "header length")
    path = write(tmp_path / "huge.safetensors", struct.pack("<Q", 1 << 63) + blob[8:])
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "header length")


def test_safetensors_truncated_data(tmp_path):
    path = write(tmp_path / "trunc.safetensors", raw_safetensors(GOOD_HEADER, GOOD_DATA[:-1]))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "truncated", "'b'")


def test_safetensors_truncated_real_file(tmp_path):
    good = tmp_path / "good.safetensors"
    fileio.save_safetensors(str(good), {"w": np.zeros((8, 8), np.float32)})
    blob = good.read_bytes()
    for cut in (len(blob) - 4, len(blob) // 2, 9):
        path = write(tmp_path / f"cut{cut}.safetensors", blob[:cut])
        expect_format_error(lambda: fileio.load_safetensors(str(path)), path)


def test_safetensors_trailing_bytes(tmp_path):
    path = write(tmp_path / "big.safetensors", raw_safetensors(GOOD_HEADER, GOOD_DATA + b"\0\0"))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "trailing")


@pytest.mark.parametrize("entry", [
    {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 24]},   # shape smaller than the span
    {"dtype": "I32", "shape": [2, 4], "data_offsets": [0, 24]},   # shape larger than the span
    {"dtype": "I64", "shape": [2, 3], "data_offsets": [0, 24]},   # dtype size mismatch
    {"dtype": "I32", "shape": [-2, -3], "data_offsets": [0, 24]},  # negative dims
    {"dtype": "I32", "shape": [6], "data_offsets": [24, 0]},      # reversed offsets
])
def test_safetensors_offsets_do_not_match_shape(tmp_path, entry):
    header = dict(GOOD_HEADER, a=entry)
    path = write(tmp_path / "shape.safetensors", raw_safetensors(header, GOOD_DATA))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "'a'")


@pytest.mark.parametrize("entry", [
    {"dtype": "Q7", "shape": [6], "data_offsets": [0, 24]},        # unknown dtype
    {"shape": [6], "data_offsets": [0, 24]},                       # no dtype
    {"dtype": "I32", "shape": "six", "data_offsets": [0, 24]},
    {"dtype": "I32", "shape": [6], "data_offsets": [0]},
    {"dtype": "I32", "shape": [6]},
    "not an object",
    [1, 2, 3],
])
def test_safetensors_malformed_entry(tmp_path, entry):
    header = dict(GOOD_HEADER, a=entry)
    path = write(tmp_path / "entry.safetensors", raw_safetensors(header, GOOD_DATA))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "'a'")


def test_safetensors_corrupt_header_json(tmp_path):
    encoded = json.dumps(GOOD_HEADER).encode()
    bad = encoded[:-5] + b"#####"
    path = write(tmp_path / "json.safetensors", struct.pack("<Q", len(bad)) + bad + GOOD_DATA)
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "corrupt")
    bad = b"\xff\xfe" + encoded[2:]
    path = write(tmp_path / "utf.safetensors", struct.pack("<Q", len(bad)) + bad + GOOD_DATA)
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "corrupt")
    path = write(tmp_path / "list.safetensors", raw_safetensors([1, 2], b""))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "JSON object")


def test_safetensors_overlapping_offsets(tmp_path):
    header = {"a": {"dtype": "I32", "shape": [2, 3], "data_offsets": [0, 24]},
              "b": {"dtype": "U8", "shape": [4], "data_offsets": [20, 24]},
              "c": {"dtype": "U8", "shape": [4], "data_offsets": [24, 28]}}
    path = write(tmp_path / "overlap.safetensors", raw_safetensors(header, GOOD_DATA))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "overlaps")


def test_safetensors_gap(tmp_path):
    header = {"a": {"dtype": "I32", "shape": [5], "data_offsets": [0, 20]},
              "b": {"dtype": "U8", "shape": [4], "data_offsets": [24, 28]}}
    path = write(tmp_path / "gap.safetensors", raw_safetensors(header, GOOD_DATA))
    expect_format_error(lambda: fileio.load_safetensors(str(path)), path, "gap")


# ---------------------------------------------------------------- CIFAR-10 binaries

def cifar_records(labels, rng=None):
    rng = rng or np.random.default_rng(0)
    recs = []
    for label in labels:
        recs.append(bytes([label]) + rng.integers(0, 256, size=3072, dtype=np.uint8).tobytes())
    return b"".join(recs)


def test_cifar_good_file_layout(tmp_path):
    img = np.zeros((3, 32, 32), np.uint8)
    img[0, 0, 1] = 11   # R, row 0, col 1
    img[1, 2, 0] = 22   # G, row 2, col 0
    img[2, 31, 31] = 33  # B, last pixel
    blob = bytes([7]) + img.tobytes() + cifar_records([3])
    path = write(tmp_path / "test_batch.bin", blob)
    images, labels = fileio.load_cifar_file(str(path))
    assert images.shape == (2, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, [7, 3])
    np.testing.assert_array_equal(images[0], img)
    images, labels = fileio.load_cifar(str(tmp_path), "test", limit=1)
    assert images.shape == (1, 3, 32, 32) and list(labels) == [7]
    for limit in (0, -1):  # not records[:-1], which would be all but the last image
        expect_format_error(lambda: fileio.load_cifar(str(tmp_path), "test", limit=limit), tmp_path, "positive")


def test_cifar_truncated_record(tmp_path):
    path = write(tmp_path / "test_batch.bin", cifar_records([1, 2])[:-1])
    expect_format_error(lambda: fileio.load_cifar_file(str(path)), path, "3073")
    expect_format_error(lambda: fileio.load_cifar(str(tmp_path), "test"), path)
    path = write(tmp_path / "empty.bin", b"")
    expect_format_error(lambda: fileio.load_cifar_file(str(path)), path)


def test_cifar_bad_label(tmp_path):
    path = write(tmp_path / "data_batch_1.bin", cifar_records([0, 9, 10, 3]))
    expect_format_error(lambda: fileio.load_cifar_file(str(path)), path, "record 2", "label 10")
    expect_format_error(lambda: fileio.load_cifar(str(tmp_path), "train"), path, "label 10")


def test_cifar_missing_file_and_dirs(tmp_path):
    missing = tmp_path / "nothere"
    expect_format_error(lambda: fileio.load_cifar(str(missing), "test"), missing, "not found")
    expect_format_error(lambda: fileio.load_cifar(str(missing), "train"), missing, "not found")
    empty = tmp_path / "empty"
    empty.mkdir()
    expect_format_error(lambda: fileio.load_cifar(str(empty), "test"), empty / "test_batch.bin", "no such file")
    expect_format_error(lambda: fileio.load_cifar(str(empty), "train"), empty, "data_batch")
    # a directory holding only the test batch has no training data
    only_test = tmp_path / "only_test"
    only_test.mkdir()
    write(only_test / "test_batch.bin", cifar_records([1]))
    expect_format_error(lambda: fileio.load_cifar(str(only_test), "train"), only_test, "data_batch")
    expect_format_error(lambda: fileio.load_cifar_file(str(only_test / "data_batch_1.bin")),
                        only_test / "data_batch_1.bin", "no such file")


def test_cifar_train_uses_the_batches_present(tmp_path):
    write(tmp_path / "data_batch_2.bin", cifar_records([1, 2]))
    write(tmp_path / "data_batch_5.bin", cifar_records([3, 4, 5]))
    images, labels = fileio.load_cifar(str(tmp_path), "train")
    assert list(labels) == [1, 2, 3, 4, 5] and images.shape == (5, 3, 32, 32)
    images, labels = fileio.load_cifar(str(tmp_path), "train", limit=3)
    assert list(labels) == [1, 2, 3]
    with pytest.raises(ValueError):
        fileio.load_cifar(str(tmp_path), "valid")


# ---------------------------------------------------------------- reference.Model

def make_model(tmp_path, name="m"):
    tensors = {"fc.codes": np.arange(6, dtype=np.uint8).reshape(2, 3),
               "k1.fc.mult": np.array([5, -7], np.int32)}
    prefix = tmp_path / name
    fileio.save_safetensors(str(prefix) + ".safetensors", tensors)
    manifest = {"format": "bsnpu-bwb-model", "version": 1, "tensors_file": f"{name}.safetensors",
                "graph": [], "act_bits": 8, "accumulator_bits": 32, "input": {"zero_point": [1, 2, 3]},
                "tensors": {n: {"dtype": fileio.NUMPY_TO_SAFETENSORS[a.dtype.str], "shape": list(a.shape),
                                "sha256": fileio.sha256_array(a)} for n, a in tensors.items()}}
    return str(prefix), manifest


def write_manifest(prefix, manifest):
    with open(prefix + ".json", "w") as f:
        json.dump(manifest, f)


def test_model_loads(tmp_path):
    prefix, manifest = make_model(tmp_path)
    write_manifest(prefix, manifest)
    model = reference.Model(prefix)
    np.testing.assert_array_equal(model.weights("fc", 8), 2 * np.arange(6).reshape(2, 3) + 1 - 256)
    assert set(model.params(1, "fc")) == {"mult"}


def test_model_missing_manifest(tmp_path):
    prefix = str(tmp_path / "absent")
    expect_format_error(lambda: reference.Model(prefix), prefix + ".json", "no such file")


def test_model_corrupt_manifest(tmp_path):
    prefix, manifest = make_model(tmp_path)
    with open(prefix + ".json", "w") as f:
        f.write(json.dumps(manifest)[:-3])
    expect_format_error(lambda: reference.Model(prefix), prefix + ".json", "JSON")
    write_manifest(prefix, dict(manifest, format="something-else"))
    expect_format_error(lambda: reference.Model(prefix), prefix + ".json", "format")


@pytest.mark.parametrize("field", ["tensors_file", "tensors", "act_bits", "accumulator_bits", "input", "graph"])
def test_model_manifest_missing_field(tmp_path, field):
    prefix, manifest = make_model(tmp_path)
    del manifest[field]
    write_manifest(prefix, manifest)
    expect_format_error(lambda: reference.Model(prefix), prefix + ".json", field)


def test_model_missing_tensors_file(tmp_path):
    prefix, manifest = make_model(tmp_path)
    write_manifest(prefix, manifest)
    os.remove(prefix + ".safetensors")
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "no such file")


def test_model_wrong_sha256(tmp_path):
    prefix, manifest = make_model(tmp_path)
    manifest["tensors"]["k1.fc.mult"]["sha256"] = fileio.sha256_array(np.array([5, -8], np.int32))
    write_manifest(prefix, manifest)
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "'k1.fc.mult'", "sha256")


def test_model_corrupted_tensor_bytes(tmp_path):
    prefix, manifest = make_model(tmp_path)
    write_manifest(prefix, manifest)
    blob = bytearray(open(prefix + ".safetensors", "rb").read())
    blob[-1] ^= 0x01  # flip one bit of the last tensor's data
    open(prefix + ".safetensors", "wb").write(bytes(blob))
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "sha256")


def test_model_wrong_shape(tmp_path):
    prefix, manifest = make_model(tmp_path)
    manifest["tensors"]["fc.codes"]["shape"] = [3, 2]
    write_manifest(prefix, manifest)
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "'fc.codes'", "shape")


def test_model_wrong_dtype(tmp_path):
    """Same bytes and shape but another dtype than the manifest says: the loader must notice."""
    prefix, manifest = make_model(tmp_path)
    manifest["tensors"]["k1.fc.mult"]["dtype"] = "F32"
    write_manifest(prefix, manifest)
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "'k1.fc.mult'", "dtype")


def test_model_missing_tensor(tmp_path):
    prefix, manifest = make_model(tmp_path)
    manifest["tensors"]["k2.fc.mult"] = dict(manifest["tensors"]["k1.fc.mult"])
    write_manifest(prefix, manifest)
    expect_format_error(lambda: reference.Model(prefix), prefix + ".safetensors", "'k2.fc.mult'", "missing")
