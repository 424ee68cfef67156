"""Invariants of the committed BWB model (models/resnet18_cifar10.*) and of the golden vectors
made from it (tests/golden/): they must agree with each other and with today's reference."""

import os

import numpy as np

from bsnpu import fileio, graph, intmath, quantize, reference


def test_manifest_graph_is_the_resnet18_graph(model):
    ops = graph.resnet18_ops()
    assert [op["name"] for op in model.graph] == [op["name"] for op in ops]
    for saved, op in zip(model.graph, ops):
        for key, value in op.items():
            assert saved[key] == value, (op["name"], key)


def test_every_k_has_params_for_every_layer(model):
    m = model.manifest
    assert m["bits"] == list(range(1, 9)) and m["code_bits"] == 8
    listed = set(m["tensors"])
    assert listed == set(model.tensors)  # nothing unlisted (hence unchecked) in the file
    for op in graph.weighted_ops(model.graph):
        cout = op["out_channels"] if op["op"] == "conv" else op["out_features"]
        codes = model.tensors[f"{op['name']}.codes"]
        want = [cout, op["in_channels"], op["kernel"], op["kernel"]] if op["op"] == "conv" else [cout, op["in_features"]]
        assert list(codes.shape) == want and codes.dtype == np.uint8
        assert model.tensors[f"{op['name']}.alpha"].shape == (cout,)
        for k in m["bits"]:
            p = model.params(k, op["name"])
            assert set(p) == {"mult", "offset", "shift"}, (k, op["name"])
            assert p["mult"].dtype == np.int32 and p["offset"].dtype == np.int64 and p["shift"].dtype == np.int32
            assert p["mult"].shape == p["offset"].shape == p["shift"].shape == (cout,)
            assert np.all((p["shift"] >= 0) & (p["shift"] <= intmath.MAX_SHIFT))
            assert np.all(np.abs(p["offset"]) < intmath.OFFSET_LIMIT)
            assert np.all(p["mult"] != 0)
    for op in model.graph:
        if op["op"] == "add":
            for k in m["bits"]:
                p = model.params(k, op["name"])
                if op["rescale_shortcut"]:
                    assert p["mult"].shape == p["shift"].shape == (1,), (k, op["name"])
                    assert 0 < p["mult"][0] and 0 <= p["shift"][0] <= intmath.MAX_SHIFT
                else:
                    assert p == {}, (k, op["name"])


def test_accumulator_bound(model):
    a_max = (1 << model.act_bits) - 1
    limit = 1 << (model.manifest["accumulator_bits"] - 1)
    for op in graph.weighted_ops(model.graph):
        fan_in = op["in_features"] if op["op"] == "fc" else op["in_channels"] * op["kernel"] ** 2
        assert op["accumulator_bound_k8"] == fan_in * 255 * a_max == quantize.accumulator_bound(op, 8, model.act_bits)
        assert op["accumulator_bound_k8"] < limit, op["name"]


def test_pool_and_input(model):
    pool = [op for op in model.graph if op["op"] == "avgpool"][0]
    assert (pool["mult"], pool["shift"]) == (1 << 30, 34)  # exactly /16 for the 4x4 map
    assert model.manifest["input"]["zero_point"] == [125, 123, 114]


def test_golden_files_match_the_model(model_prefix, model, golden, data_dir):
    """The golden vectors were made from this model (file sha256) and today's reference still
    reproduces their logits bit for bit; the images they name are the ones in test_batch.bin."""
    manifest, tensors = golden
    tensors_path = os.path.join(os.path.dirname(model_prefix), model.manifest["tensors_file"])
    assert manifest["model_tensors_sha256"] == fileio.sha256_file(tensors_path), "golden vectors are stale"
    n = manifest["images"]["first"]
    images, labels = fileio.load_cifar(data_dir, "test", n)
    assert fileio.sha256_array(images) == manifest["images"]["sha256"]
    assert [int(v) for v in labels] == manifest["images"]["labels"]
    for k in (1, 8):
        np.testing.assert_array_equal(reference.run(model, images, k), tensors[f"logits.k{k}"], err_msg=f"k={k}")
    for k in range(2, 8):  # the other k on a few images, to keep this fast
        np.testing.assert_array_equal(reference.run(model, images[:8], k), tensors[f"logits.k{k}"][:8], err_msg=f"k={k}")
    # layer outputs of the first images
    n_layer = manifest["layers"]["images"]
    for k in manifest["layers"]["bits"]:
        _, acts = reference.run(model, images[:n_layer], k, keep=True)
        for name in manifest["layers"]["names"]:
            np.testing.assert_array_equal(acts[name], tensors[f"layers.k{k}.{name}"], err_msg=f"k={k} {name}")


def test_golden_logits_are_plausible(golden):
    manifest, tensors = golden
    labels = np.array(manifest["images"]["labels"])
    correct = (tensors["logits.k8"].argmax(axis=1) == labels).mean()
    assert correct >= 0.7, correct  # the float model has 86.8 %; a broken model would be near 10 %
