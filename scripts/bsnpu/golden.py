"""Golden vectors from the NumPy reference, for the C++ engine's bit-exactness tests.

tests/golden/golden.safetensors holds the int logits of the first N test images at every k, and
every layer's output for the first 2 images at the k in LAYER_BITS. The images themselves are not
copied (shared data is read by path): golden.json names them by index in test_batch.bin and
pins their bytes with a sha256.
"""

import json
import os

import numpy as np

from . import fileio, reference

LOGIT_IMAGES = 64
LAYER_IMAGES = 2
LAYER_BITS = (1, 8)


def smallest_int_dtype(array):
    low, high = int(array.min()), int(array.max())
    for dtype in (np.uint8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype
    raise OverflowError(f"golden values [{low}, {high}] do not fit int32")


def write(model_prefix, data_dir, out_dir):
    model = reference.Model(model_prefix)
    images, labels = fileio.load_cifar(data_dir, "test", LOGIT_IMAGES)
    tensors = {}
    layer_names = []
    for k in range(1, 9):
        tensors[f"logits.k{k}"] = reference.run(model, images, k).astype(np.int32)
    for k in LAYER_BITS:
        _, acts = reference.run(model, images[:LAYER_IMAGES], k, keep=True)
        # The input op's output is the images themselves (at act_bits = 8): not copied, see above.
        layer_names = [op["output"] for op in model.graph if op["op"] != "input"]
        for name in layer_names:
            array = acts[name]
            tensors[f"layers.k{k}.{name}"] = array.astype(smallest_int_dtype(array))
    os.makedirs(out_dir, exist_ok=True)
    tensor_file = os.path.join(out_dir, "golden.safetensors")
    fileio.save_safetensors(tensor_file, tensors, {"format": "bsnpu-golden"})
    test_file = os.path.join(data_dir, fileio.CIFAR_TEST_FILE)
    manifest = {
        "format": "bsnpu-golden",
        "version": 1,
        "model_tensors_sha256": fileio.sha256_file(os.path.join(os.path.dirname(model_prefix + ".json"),
                                                                model.manifest["tensors_file"])),
        "images": {"file": fileio.CIFAR_TEST_FILE, "first": LOGIT_IMAGES,
                   "sha256": fileio.sha256_array(images), "labels": [int(v) for v in labels]},
        "logits": {"tensor": "logits.k{k}", "bits": list(range(1, 9)), "shape": [LOGIT_IMAGES, 10]},
        "layers": {"tensor": "layers.k{k}.{name}", "bits": list(LAYER_BITS), "images": LAYER_IMAGES,
                   "names": layer_names, "layout": "NCHW for feature maps, NC for pool and logits"},
        "test_batch_sha256": fileio.sha256_file(test_file),
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest
