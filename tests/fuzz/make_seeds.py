#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora under tests/fuzz/corpus/ (run from anywhere).

Everything is made here or copied from this repository's configs/: nothing from ../shared.
  config/       the shipped NPU configs and a minimal one
  energy/       the shipped energy table
  model/        a tiny model (input, 3 convs, 2 adds, avgpool, fc; k = 1 and 8): manifest, NUL,
                tensors; and two variants (4-bit activations; a conv shortcut)
  safetensors/  the tiny model's tensors file and a one-scalar file
  cifar/        one limit byte + a few synthetic records
  tolerances/   tests/arch/data/tolerances.json and a minimal file
  report/       the crafted run reports of tests/arch/data/reports/
  trace/        the committed development traces and a small one with every field
  sweep/        the shipped sweep files (configs/sweeps/) and a minimal one
  sweep_journal/ a record of each status (one points.jsonl line) and a sweep.json
  precision/    per-layer precisions for fuzz_precision's in-memory model (7 conv/fc): each JSON
                form, uniform and mixed
  policy/       the shipped dynamic-precision policies (configs/policies/)
"""
import hashlib
import json
import pathlib
import random
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"
BITS = [1, 8]
rng = random.Random(1127)


def safetensors(tensors):
    """tensors: name -> (dtype, shape, raw bytes); packed in name order."""
    header, data = {"__metadata__": {"format": "bsnpu-fuzz-seed"}}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tiny_model(act_bits=8, downsample=False):
    """downsample: the first block's shortcut is a 1x1 conv without relu (an int32 shortcut)."""
    tensors, graph = {}, []

    def pack(fmt, values):
        return struct.pack("<%d%s" % (len(values), fmt), *values)

    def weighted(name, cout, fan_in, shape, mult, shift, offset):
        tensors[name + ".codes"] = ("U8", shape, bytes(rng.randrange(256) for _ in range(cout * fan_in)))
        tensors[name + ".alpha"] = ("F32", [cout], pack("f", [0.01] * cout))
        for k in BITS:
            tensors["k%d.%s.mult" % (k, name)] = ("I32", [cout], pack("i", [mult] * cout))
            tensors["k%d.%s.offset" % (k, name)] = ("I64", [cout], pack("q", [offset] * cout))
            tensors["k%d.%s.shift" % (k, name)] = ("I32", [cout], pack("i", [shift + k] * cout))

    def conv(name, inp, out, cin, cout, kernel, stride, pad, in_hw, relu):
        out_hw = (in_hw + 2 * pad - kernel) // stride + 1
        weighted(name, cout, cin * kernel * kernel, [cout, cin, kernel, kernel], 1024, 12, 1 << 16)
        graph.append({"op": "conv", "name": name, "input": inp, "output": out, "in_channels": cin,
                      "out_channels": cout, "kernel": kernel, "stride": stride, "pad": pad,
                      "in_hw": in_hw, "out_hw": out_hw, "relu": relu, "weight": name + ".codes",
                      "accumulator_bound_k8": cin * kernel * kernel * 255 * 255})

    def add(name, inputs, out, channels, hw, rescale):
        graph.append({"op": "add", "name": name, "input": inputs, "output": out, "channels": channels,
                      "hw": hw, "rescale_shortcut": rescale})
        if rescale:
            for k in BITS:
                tensors["k%d.%s.mult" % (k, name)] = ("I32", [1], pack("i", [3 << 14]))
                tensors["k%d.%s.shift" % (k, name)] = ("I32", [1], pack("i", [15]))

    zero_point = [125, 123, 114] if act_bits == 8 else [(1 << act_bits) // 2] * 3
    graph.append({"op": "input", "name": "input", "output": "input", "shape": [3, 32, 32],
                  "zero_point": zero_point})
    conv("conv1", "input", "stem", 3, 4, 3, 2, 1, 32, True)
    conv("block.conv", "stem", "block.residual", 4, 4, 3, 1, 1, 16, False)
    if downsample:
        conv("block.down", "stem", "block.shortcut", 4, 4, 1, 1, 0, 16, False)
        add("block.add", ["block.residual", "block.shortcut"], "block.out", 4, 16, False)
    else:
        add("block.add", ["block.residual", "stem"], "block.out", 4, 16, True)
    conv("block2.conv", "block.out", "block2.residual", 4, 4, 1, 1, 0, 16, False)
    add("block2.add", ["block2.residual", "block.out"], "block2.out", 4, 16, False)
    graph.append({"op": "avgpool", "name": "avgpool", "input": "block2.out", "output": "pool",
                  "channels": 4, "in_hw": 16, "mult": 1 << 24, "shift": 32})
    weighted("fc", 10, 4, [10, 4], 1, 0, 0)
    graph.append({"op": "fc", "name": "fc", "input": "pool", "output": "logits", "in_features": 4,
                  "out_features": 10, "weight": "fc.codes", "accumulator_bound_k8": 4 * 255 * 255})
    blob = safetensors(tensors)
    manifest = {
        "format": "bsnpu-bwb-model", "version": 1, "code_bits": 8, "act_bits": act_bits,
        "accumulator_bits": 32, "bits": BITS, "tensors_file": "m.safetensors",
        "input": {"zero_point": zero_point}, "graph": graph,
        "tensors": {name: {"dtype": dtype, "shape": shape, "sha256": hashlib.sha256(raw).hexdigest()}
                    for name, (dtype, shape, raw) in sorted(tensors.items())},
    }
    return json.dumps(manifest, separators=(",", ":")).encode(), blob


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for target in ["config", "energy", "model", "safetensors", "cifar", "precision", "tolerances", "report", "trace",
                   "sweep", "sweep_journal", "policy"]:
        (CORPUS / target).mkdir(parents=True)
    for name in ["default.json", "edge.json", "large.json", "scalesim_ws64.json"]:
        shutil.copy(ROOT / "configs" / name, CORPUS / "config" / name)
    (CORPUS / "config" / "minimal.json").write_text('{"format": "bsnpu-config", "version": 1, "name": "m"}\n')
    shutil.copy(ROOT / "configs" / "energy" / "45nm_horowitz.json", CORPUS / "energy" / "45nm_horowitz.json")
    for path in sorted((ROOT / "configs" / "policies").glob("*.json")):
        shutil.copy(path, CORPUS / "policy" / path.name)

    manifest, blob = tiny_model()
    (CORPUS / "model" / "tiny.bin").write_bytes(manifest + b"\0" + blob)
    for name, variant in [("act4", tiny_model(act_bits=4)), ("downsample", tiny_model(downsample=True))]:
        (CORPUS / "model" / (name + ".bin")).write_bytes(variant[0] + b"\0" + variant[1])
    (CORPUS / "safetensors" / "tiny.safetensors").write_bytes(blob)
    (CORPUS / "safetensors" / "scalar.safetensors").write_bytes(
        safetensors({"x": ("I64", [], struct.pack("<q", 7))}))

    def records(count):
        return b"".join(bytes([rng.randrange(10)]) + bytes(rng.randrange(256) for _ in range(3072))
                        for _ in range(count))
    (CORPUS / "cifar" / "all_of_3.bin").write_bytes(b"\0" + records(3))
    (CORPUS / "cifar" / "first_2_of_3.bin").write_bytes(b"\2" + records(3))
    (CORPUS / "cifar" / "one.bin").write_bytes(b"\1" + records(1))

    shutil.copy(ROOT / "tests" / "arch" / "data" / "tolerances.json", CORPUS / "tolerances" / "per_k.json")
    (CORPUS / "tolerances" / "minimal.json").write_text('{"format": "bsnpu-tolerances", "version": 1}\n')
    for name in ["base.json", "other_bits.json"]:
        shutil.copy(ROOT / "tests" / "arch" / "data" / "reports" / name, CORPUS / "report" / name)
    for name in ["drift.json", "cuts.json", "hard.json"]:
        shutil.copy(ROOT / "traces" / name, CORPUS / "trace" / name)
    every_field = {
        "format": "bsnpu-trace", "version": 1, "name": "all", "description": "every field", "source": "cifar10-test",
        "generator": {"script": "by hand", "seed": 1, "parameters": {}},
        "scenes": [{"image": 0, "frames": 3},
                   {"image": 1, "frames": 4, "shift_x": [-8, 40], "shift_y": -16, "contrast": [0, 1024],
                    "brightness": [-255, 255], "noise": [255, 0], "noise_seed": 9007199254740991,
                    "occlusion": {"x": [-32, 32], "y": 4, "width": [0, 32], "height": 9, "fill": [1, 2, 3]}}]}
    (CORPUS / "trace" / "every_field.json").write_text(json.dumps(every_field) + "\n")
    for path in sorted((ROOT / "configs" / "sweeps").glob("*.json")):
        shutil.copy(path, CORPUS / "sweep" / path.name)
    (CORPUS / "sweep" / "minimal.json").write_text(json.dumps(
        {"format": "bsnpu-sweep", "version": 1, "name": "m", "base": "b.json",
         "axes": [{"field": "mac_array.rows", "values": [8, 16]}]}) + "\n")
    module_energy = {"mac_array": 1e-5, "accumulator": 2e-4, "weight_memory": 7.5e-6,
                     "activation_buffer": 2.5e-5, "dram": 1.5e-4}
    result = {"bits": 1, "images": 20, "correct": 15, "cycles": 276154, "stall_cycles": 4778,
              "latency_s": 0.000552308, "energy_j": 0.0005735, "utilization": 0.982, "average_bits": 1,
              "weight_bits_read": 11611904, "dram_bits": 11188928, "weights_resident": False,
              "energy_breakdown_j": module_energy, "feasible": True}
    mixed = dict(result, bits=[8, 4, 4, 2], average_bits=3.25)
    seeds = {
        "mixed.jsonl": {"index": 3, "id": "3-0a1b2c3d4e5f", "axes": {"precision": [8, 4, 4, 2]},
                        "status": "ok", "area_mm2": 5.46, "results": [mixed]},
        "ok.jsonl": {"index": 0, "id": "0-27e98a248465", "axes": {"mac_array.rows": 32},
                     "status": "ok", "area_mm2": 5.46, "results": [result, dict(result, bits=8, average_bits=8)]},
        "filtered.jsonl": {"index": 1, "id": "1-7a4fe51e6ed9", "axes": {"mac_array.rows": 64},
                           "status": "filtered", "reason": "constraint area_mm2 <= 8"},
        "invalid.jsonl": {"index": 2, "id": "2-2adbf6937157", "axes": {"mac_array.rows": 0},
                          "status": "invalid", "reason": "s.json point 2: mac_array.rows: must be"},
        "state.json": {"format": "bsnpu-sweep-state", "version": 1, "space_file": "s.json",
                       "space_sha256": "52d9f2ea", "points": 6, "shard": "1/3", "images": 20,
                       "data_sha256": "576c7fbb", "models": {"resnet18_cifar10.json": "05bcb920"}},
    }
    for name, document in seeds.items():
        (CORPUS / "sweep_journal" / name).write_text(json.dumps(document, separators=(",", ":")))
    for name, text in [("uniform.json", "4"), ("array.json", "[8, 1, 2, 3, 4, 5, 6]"),
                       ("object.json", '{"default": 2, "layers": {"conv1": 8, "b1.downsample": 5, "fc": 8}}'),
                       ("layers_only.json", '{"layers": {"conv1": 1, "b1.conv1": 2, "b1.conv2": 3, '
                        '"b1.downsample": 4, "b2.conv1": 5, "b2.conv2": 6, "fc": 7}}')]:
        (CORPUS / "precision" / name).write_text(text + "\n")


if __name__ == "__main__":
    main()
