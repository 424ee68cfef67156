#!/usr/bin/python3
"""Writes the committed trace descriptors (docs/trace-format.md): three characters, each once with a
development seed (traces/NAME.json) and once with a held-out seed (traces/heldout/NAME.json, that
no policy parameter is tuned on).

  drift  slow drift: long scenes (60..140 frames), sub-pixel motion (at most 3/4 pixel: the
         bilinear blur of larger sub-pixel shifts costs this model points), contrast and brightness
         drift, faint noise
  cuts   frequent cuts: scenes of 4..32 frames (mean 18), moderate transforms
  hard   hard frames: strong noise, contrast and brightness changes, moving occluders

Each trace has exactly FRAMES frames (the last scene is cut short). Source images are drawn by
index, without repeats within a trace, from the 10,000 CIFAR-10 test images, so no data is read;
the held-out traces show none of the development traces' images.
Everything comes from random.Random(seed): the same seed writes the same bytes.

  /usr/bin/python3 scripts/make_traces.py [--out DIR]      (default: the repository's traces/)
"""
import argparse
import json
import os
import random
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 5000
TEST_IMAGES = 10000
SEEDS = {"dev": {"drift": 1101, "cuts": 1102, "hard": 1103},
         "heldout": {"drift": 2101, "cuts": 2102, "hard": 2103}}

# Per character: scene length range, and for each transform the range of its start value and of
# its change over the scene (end - start), in the descriptor's units (shift: 1/16 pixel; contrast:
# 1/256 gain; brightness and noise: pixel levels). Occluders: the chance a scene has one, its side
# range and how far it moves.
CHARACTERS = {
    "drift": {
        "description": "slow drift: long scenes, slight sub-pixel motion, contrast and brightness drift, faint noise",
        "scene_frames": [60, 140], "shift": [-6, 6], "shift_change": [-6, 6],
        "contrast": [224, 288], "contrast_change": [-24, 24], "brightness": [-12, 12],
        "brightness_change": [-12, 12], "noise": [0, 2], "noise_change": [0, 0],
        "occlusion_chance": 0.0, "occluder_side": [0, 0], "occluder_move": [0, 0],
    },
    "cuts": {
        "description": "frequent cuts: short scenes (mean 18 frames), moderate motion and lighting changes",
        "scene_frames": [4, 32], "shift": [-24, 24], "shift_change": [-16, 16],
        "contrast": [208, 304], "contrast_change": [-16, 16], "brightness": [-20, 20],
        "brightness_change": [-8, 8], "noise": [0, 6], "noise_change": [0, 0],
        "occlusion_chance": 0.0, "occluder_side": [0, 0], "occluder_move": [0, 0],
    },
    "hard": {
        "description": "hard frames: strong noise, low or high contrast, brightness swings, moving occluders",
        "scene_frames": [8, 40], "shift": [-32, 32], "shift_change": [-24, 24],
        "contrast": [144, 320], "contrast_change": [-48, 48], "brightness": [-48, 48],
        "brightness_change": [-16, 16], "noise": [4, 16], "noise_change": [-4, 4],
        "occlusion_chance": 0.5, "occluder_side": [6, 12], "occluder_move": [-16, 16],
    },
}
# The descriptor's ranges (docs/trace-format.md), which every drawn value is clamped to.
LIMITS = {"shift": (-512, 512), "contrast": (0, 1024), "brightness": (-255, 255), "noise": (0, 255)}


def ramp(rng, start_range, change_range, limits):
    start = rng.randint(*start_range)
    end = min(max(start + rng.randint(*change_range), limits[0]), limits[1])
    return start if start == end else [start, end]


def make_scene(rng, params, image, frames):
    scene = {"image": image, "frames": frames}
    for key in ("shift_x", "shift_y"):
        scene[key] = ramp(rng, params["shift"], params["shift_change"], LIMITS["shift"])
    for key in ("contrast", "brightness", "noise"):
        scene[key] = ramp(rng, params[key], params[key + "_change"], LIMITS[key])
    scene["noise_seed"] = rng.getrandbits(53)
    if rng.random() < params["occlusion_chance"]:
        side = [rng.randint(*params["occluder_side"]) for _ in range(2)]
        corner = [rng.randint(-side[i] // 2, 32 - side[i] // 2) for i in range(2)]
        moved = [min(max(corner[i] + rng.randint(*params["occluder_move"]), -32), 32) for i in range(2)]
        scene["occlusion"] = {"x": [corner[0], moved[0]], "y": [corner[1], moved[1]], "width": side[0],
                              "height": side[1], "fill": [rng.randint(0, 255) for _ in range(3)]}
    defaults = {"shift_x": 0, "shift_y": 0, "contrast": 256, "brightness": 0, "noise": 0}
    for key, default in defaults.items():
        if scene[key] == default:
            del scene[key]
    if "noise" not in scene:
        del scene["noise_seed"]
    return scene


def make_trace(name, split, seed, excluded=frozenset()):
    """`excluded`: test images the trace must not show (the held-out traces exclude every image of
    the development traces)."""
    params = CHARACTERS[name]
    rng = random.Random(seed)
    scenes, used, total = [], set(excluded), 0
    while total < FRAMES:
        image = rng.randrange(TEST_IMAGES)
        while image in used:
            image = rng.randrange(TEST_IMAGES)
        used.add(image)
        frames = min(rng.randint(*params["scene_frames"]), FRAMES - total)
        scenes.append(make_scene(rng, params, image, frames))
        total += frames
    return {
        "format": "bsnpu-trace", "version": 1, "name": name if split == "dev" else f"{name}-heldout",
        "description": params["description"], "source": "cifar10-test",
        "generator": {"script": "scripts/make_traces.py", "seed": seed,
                      "parameters": {"frames": FRAMES, **{k: v for k, v in params.items() if k != "description"}}},
        "scenes": scenes,
    }


def dumps(trace):
    """The descriptor as JSON text: the header indented, one scene per line."""
    lines = ["{"]
    for key, value in trace.items():
        if key != "scenes":
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "scenes": [')
    lines.append(",\n".join("    " + json.dumps(scene) for scene in trace["scenes"]))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def output_path(out, split, name):
    return os.path.join(out, name + ".json") if split == "dev" else os.path.join(out, "heldout", name + ".json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "traces"),
                        help="folder of the traces (heldout/ below it); default: the repository's traces/")
    args = parser.parse_args()
    try:
        os.makedirs(os.path.join(args.out, "heldout"), exist_ok=True)
        dev_images = set()
        for split, seeds in SEEDS.items():
            for name, seed in seeds.items():
                trace = make_trace(name, split, seed, frozenset(dev_images) if split == "heldout" else frozenset())
                if split == "dev":
                    dev_images.update(scene["image"] for scene in trace["scenes"])
                path = output_path(args.out, split, name)
                temporary = path + ".tmp"
                with open(temporary, "w") as f:
                    f.write(dumps(trace))
                os.replace(temporary, path)
    except OSError as e:
        print(f"make_traces: error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
