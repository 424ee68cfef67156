"""Loaders and writers for the two on-disk formats bsnpu reads: safetensors and the CIFAR-10
binary layout. NumPy only (no pickle, no torch), so the reference stays independent of PyTorch.

Every malformed file raises `FormatError` with a one-line message that names the file.
"""

import hashlib
import json
import os
import struct

import numpy as np

CIFAR_IMAGE_BYTES = 3 * 32 * 32
CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES
CIFAR_TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]
CIFAR_TEST_FILE = "test_batch.bin"
CIFAR_HINT = ("get the official CIFAR-10 binary release (cifar-10-binary.tar.gz, "
              "'CIFAR-10 binary version' on the CIFAR web page) and pass its "
              "cifar-10-batches-bin directory")

# safetensors dtype name -> numpy little-endian dtype
SAFETENSORS_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
}
NUMPY_TO_SAFETENSORS = {np.dtype(v).str: k for k, v in SAFETENSORS_DTYPES.items()}
MAX_HEADER_BYTES = 100 * 1024 * 1024


class FormatError(Exception):
    """A file that is missing, truncated, oversized or otherwise not what it claims to be."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_array(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, expected a file") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None


def load_safetensors(path):
    """Returns (tensors: dict name -> np.ndarray (read-only view), metadata: dict)."""
    blob = _read_bytes(path)
    if len(blob) < 8:
        raise FormatError(f"{path}: truncated safetensors file ({len(blob)} bytes, no header length)")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(blob):
        raise FormatError(f"{path}: header length {header_len} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: corrupt safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    spans = []
    for name, info in header.items():
        try:
            dtype = np.dtype(SAFETENSORS_DTYPES[info["dtype"]])
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"{path}: tensor '{name}' has a malformed or unsupported header entry") from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if any(d < 0 for d in shape) or begin < 0 or end < begin or end - begin != count * dtype.itemsize:
            raise FormatError(f"{path}: tensor '{name}' offsets [{begin}, {end}) do not match shape {shape} of {info['dtype']}")
        if end > len(data):
            raise FormatError(f"{path}: truncated: tensor '{name}' ends at byte {end} of a {len(data)}-byte data section")
        spans.append((begin, end, name))
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
    spans.sort()
    covered = 0
    for begin, end, name in spans:
        if begin != covered:
            raise FormatError(f"{path}: tensor '{name}' overlaps or leaves a gap in the data section at byte {begin}")
        covered = end
    if covered != len(data):
        raise FormatError(f"{path}: {len(data) - covered} trailing bytes after the last tensor (oversized or corrupt file)")
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors sorted by name, so the same content always gives the same bytes."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name]).reshape(np.shape(tensors[name]))  # keeps 0-d shapes
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        raw = array.tobytes()
        header[name] = {"dtype": NUMPY_TO_SAFETENSORS[array.dtype.str], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # 8-byte alignment of the data section
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def load_cifar_file(path, limit=None):
    """Returns (images uint8 [N,3,32,32], labels uint8 [N]) of one CIFAR-10 binary batch file."""
    blob = _read_bytes(path)
    if len(blob) == 0 or len(blob) % CIFAR_RECORD_BYTES:
        raise FormatError(f"{path}: {len(blob)} bytes is not a whole number of {CIFAR_RECORD_BYTES}-byte "
                          "CIFAR-10 records (truncated or not a CIFAR-10 binary batch)")
    records = np.frombuffer(blob, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    if limit is not None:
        records = records[:limit]
    labels = records[:, 0].copy()
    bad = np.nonzero(labels > 9)[0]
    if bad.size:
        raise FormatError(f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])}, outside 0..9 (corrupt file)")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return images, labels


def load_cifar(data_dir, split, limit=None):
    """split 'test' reads test_batch.bin; 'train' reads whichever data_batch_{1..5}.bin exist."""
    if limit is not None and limit < 1:
        # records[:limit] would silently read all but the last |limit| images.
        raise FormatError(f"{data_dir}: cannot read the first {limit} {split} images: the count must be positive")
    if not os.path.isdir(data_dir):
        raise FormatError(f"{data_dir}: CIFAR-10 directory not found; {CIFAR_HINT}")
    if split == "test":
        return load_cifar_file(os.path.join(data_dir, CIFAR_TEST_FILE), limit)
    if split != "train":
        raise ValueError(f"unknown split {split!r}")
    files = [os.path.join(data_dir, f) for f in CIFAR_TRAIN_FILES if os.path.exists(os.path.join(data_dir, f))]
    if not files:
        raise FormatError(f"{data_dir}: no data_batch_*.bin training file; {CIFAR_HINT}")
    images, labels = [], []
    remaining = limit
    for f in files:
        x, y = load_cifar_file(f, remaining)
        images.append(x)
        labels.append(y)
        if remaining is not None:
            remaining -= len(y)
            if remaining <= 0:
                break
    return np.concatenate(images), np.concatenate(labels)


def cifar_files(data_dir):
    """The batch files present, for provenance records."""
    names = CIFAR_TRAIN_FILES + [CIFAR_TEST_FILE]
    return [os.path.join(data_dir, n) for n in names if os.path.exists(os.path.join(data_dir, n))]
