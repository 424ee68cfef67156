"""Trace descriptors and their frames (docs/trace-format.md): the Python twin of
src/core/trace.{h,cpp}, written from the document, integer NumPy only. A trace's frames rendered
here and by `bsnpu frames` have the same bytes (tests/python/test_frames.py).

    trace = Trace.load("traces/drift.json")
    images, labels = fileio.load_cifar(paths.data_dir(), "test")
    frames = render(trace, images)              # uint8 [frames, 3, 32, 32]
    sha256(trace, images)                       # = bsnpu frames --trace ... --sha256
"""

import hashlib
import json

import numpy as np

from .fileio import FormatError

MAX_FRAMES = 1_000_000
MAX_IMAGE = 99_999
MASK64 = (1 << 64) - 1
SIDE = 32
PIXELS = 3 * SIDE * SIDE

# key -> (low, high, default) of the scene's ramps
SCENE_RAMPS = {"shift_x": (-512, 512, 0), "shift_y": (-512, 512, 0), "contrast": (0, 1024, 256),
               "brightness": (-255, 255, 0), "noise": (0, 255, 0)}
OCCLUSION_RAMPS = {"x": (-32, 32), "y": (-32, 32), "width": (0, 32), "height": (0, 32)}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class _Fields:
    """The keys of one JSON object, with errors 'PATH: FIELD: why' and a check for unknown keys."""

    def __init__(self, value, path, field):
        self.path, self.field = path, field
        if not isinstance(value, dict):
            self.fail("", "must be an object")
        self.value, self.seen = value, set()

    def fail(self, key, why):
        name = ".".join(part for part in (self.field, key) if part) or "(top level)"
        raise FormatError(f"{self.path}: {name}: {why}")

    def get(self, key, required=False):
        self.seen.add(key)
        if required and key not in self.value:
            self.fail(key, "missing")
        return self.value.get(key)

    def integer(self, key, low, high, default=None):
        value = self.get(key, required=default is None)
        if value is None and default is not None:
            return default
        if not _is_int(value) or not low <= value <= high:
            self.fail(key, f"must be an integer in {low}..{high}")
        return value

    def ramp(self, key, low, high, default=None):
        """(start, end): an integer or [start, end]."""
        value = self.get(key, required=default is None)
        if key not in self.value:
            return default, default
        if isinstance(value, list):
            if len(value) != 2 or not all(_is_int(v) and low <= v <= high for v in value):
                self.fail(key, f"must be an array of 2 integers in {low}..{high}")
            return value[0], value[1]
        if not _is_int(value) or not low <= value <= high:
            self.fail(key, f"must be an integer in {low}..{high} or an array [start, end] of two")
        return value, value

    def finish(self):
        for key in self.value:
            if key not in self.seen:
                self.fail(key, "unknown key")


class Trace:
    """A parsed descriptor: `scenes` (dicts of ramps as (start, end) pairs), `starts` (the first
    frame of each scene, then the frame count)."""

    def __init__(self, name, description, scenes, path):
        self.name, self.description, self.scenes, self.path = name, description, scenes, path
        self.starts = np.concatenate([[0], np.cumsum([s["frames"] for s in scenes])]).astype(np.int64)

    @property
    def frames(self):
        return int(self.starts[-1])

    def scene_of(self, t):
        return int(np.searchsorted(self.starts, t, side="right")) - 1

    @classmethod
    def load(cls, path):
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise FormatError(f"{path}: cannot read ({e.strerror})") from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text, path):
        try:
            document = json.loads(text)
        except ValueError as e:
            raise FormatError(f"{path}: invalid JSON: {e}") from None
        top = _Fields(document, path, "")
        for key, expected in (("format", "bsnpu-trace"), ("version", 1), ("source", "cifar10-test")):
            value = top.get(key, required=True)
            if value != expected or type(value) is not type(expected):
                top.fail(key, f"must be {json.dumps(expected)}")
        name = top.get("name", required=True)
        if not isinstance(name, str) or not name:
            top.fail("name", "must be a non-empty string")
        description = top.get("description")
        if description is not None and not isinstance(description, str):
            top.fail("description", "must be a string")
        if "generator" in document and not isinstance(top.get("generator"), dict):
            top.fail("generator", "must be an object")
        scenes_value = top.get("scenes", required=True)
        if not isinstance(scenes_value, list) or not scenes_value:
            top.fail("scenes", "must be a non-empty array of scene objects")
        scenes, total = [], 0
        for index, value in enumerate(scenes_value):
            scene = _parse_scene(_Fields(value, path, f"scenes[{index}]"))
            total += scene["frames"]
            if total > MAX_FRAMES:
                top.fail("scenes", f"more than {MAX_FRAMES} frames in all")
            scenes.append(scene)
        top.finish()
        return cls(name, description or "", scenes, path)


def _parse_scene(fields):
    scene = {"image": fields.integer("image", 0, MAX_IMAGE), "frames": fields.integer("frames", 1, MAX_FRAMES)}
    for key, (low, high, default) in SCENE_RAMPS.items():
        scene[key] = fields.ramp(key, low, high, default)
    scene["noise_seed"] = fields.integer("noise_seed", 0, (1 << 53) - 1, default=0)
    scene["occlusion"] = None
    fields.get("occlusion")
    if "occlusion" in fields.value:
        occlusion = _Fields(fields.value["occlusion"], fields.path, fields.field + ".occlusion")
        box = {key: occlusion.ramp(key, low, high) for key, (low, high) in OCCLUSION_RAMPS.items()}
        fill = occlusion.get("fill", required=True)
        if not isinstance(fill, list) or len(fill) != 3 or not all(_is_int(v) and 0 <= v <= 255 for v in fill):
            occlusion.fail("fill", "must be an array of 3 integers in 0..255")
        box["fill"] = list(fill)
        occlusion.finish()
        scene["occlusion"] = box
    fields.finish()
    return scene


def ramp_values(ramp, frame_indices, frames):
    """The ramp at each frame index i of a scene of `frames` frames (int64)."""
    start, end = ramp
    if frames < 2:
        return np.full(len(frame_indices), start, dtype=np.int64)
    return start + ((end - start) * frame_indices) // (frames - 1)


def splitmix64(seed, index):
    """Output number index + 1 of splitmix64 started at `seed` (index: uint64 array)."""
    z = np.uint64(seed) + (index + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _taps(shift):
    """Bilinear taps of the 32 output coordinates for each frame's shift: (first, second, weight),
    each [frames, 32]."""
    position = 16 * np.arange(SIDE, dtype=np.int64)[None, :] - shift[:, None]
    whole = position >> 4
    return np.clip(whole, 0, SIDE - 1), np.clip(whole + 1, 0, SIDE - 1), position - 16 * whole


def render_scene(scene, image, first, count):
    """Frames first .. first + count - 1 of `scene` (frame indices within the scene) from its source
    image (uint8 [3, 32, 32]): uint8 [count, 3, 32, 32]."""
    n = scene["frames"]
    i = np.arange(first, first + count, dtype=np.int64)
    at = {key: ramp_values(scene[key], i, n)[:, None, None, None] for key in SCENE_RAMPS}
    source = image.astype(np.int64)
    ya, yb, fy = _taps(at["shift_y"][:, 0, 0, 0])
    xa, xb, fx = _taps(at["shift_x"][:, 0, 0, 0])
    rows_a, rows_b = ya[:, :, None], yb[:, :, None]
    cols_a, cols_b = xa[:, None, :], xb[:, None, :]
    wy, wx = fy[:, None, :, None], fx[:, None, None, :]

    def gather(rows, cols):  # [count, 3, 32, 32]
        return source[:, rows, cols].transpose(1, 0, 2, 3)

    value = ((16 - wx) * (16 - wy) * gather(rows_a, cols_a) + wx * (16 - wy) * gather(rows_a, cols_b)
             + (16 - wx) * wy * gather(rows_b, cols_a) + wx * wy * gather(rows_b, cols_b) + 128) >> 8
    box = scene["occlusion"]
    if box is not None:
        left, top = (ramp_values(box[k], i, n)[:, None, None] for k in ("x", "y"))
        right = left + ramp_values(box["width"], i, n)[:, None, None]
        bottom = top + ramp_values(box["height"], i, n)[:, None, None]
        y = np.arange(SIDE)[None, :, None]
        x = np.arange(SIDE)[None, None, :]
        inside = (x >= left) & (x < right) & (y >= top) & (y < bottom)  # [count, 32, 32]
        fill = np.array(box["fill"], dtype=np.int64)[None, :, None, None]
        value = np.where(inside[:, None], fill, value)
    mean = ((source.reshape(3, -1).sum(axis=1) + 512) >> 10)[None, :, None, None]
    value = mean + (((value - mean) * at["contrast"] + 128) >> 8) + at["brightness"]
    amplitude = at["noise"]
    if (amplitude > 0).any():
        index = (i[:, None].astype(np.uint64) * np.uint64(PIXELS)
                 + np.arange(PIXELS, dtype=np.uint64)[None, :])
        r = splitmix64(scene["noise_seed"], index) % (2 * amplitude.reshape(-1, 1) + 1).astype(np.uint64)
        value = value + r.astype(np.int64).reshape(value.shape) - amplitude
    return np.clip(value, 0, 255).astype(np.uint8)


def check_images(trace, images):
    for index, scene in enumerate(trace.scenes):
        if scene["image"] >= len(images):
            raise FormatError(f"{trace.path}: scenes[{index}].image: {scene['image']} is outside the test set "
                              f"({len(images)} images)")


def iter_frames(trace, images, chunk=2048):
    """Yields the frames of the whole trace in order, as uint8 [<= chunk, 3, 32, 32] blocks."""
    check_images(trace, images)
    for scene in trace.scenes:
        for first in range(0, scene["frames"], chunk):
            yield render_scene(scene, images[scene["image"]], first, min(chunk, scene["frames"] - first))


def render(trace, images, start=0, stop=None):
    """Frames start .. stop - 1 of the trace (default: all), uint8 [N, 3, 32, 32]."""
    stop = trace.frames if stop is None else stop
    check_images(trace, images)
    out = []
    for index, scene in enumerate(trace.scenes):
        begin, end = max(start, int(trace.starts[index])), min(stop, int(trace.starts[index + 1]))
        if begin < end:
            first = begin - int(trace.starts[index])
            out.append(render_scene(scene, images[scene["image"]], first, end - begin))
    return np.concatenate(out) if out else np.zeros((0, 3, SIDE, SIDE), dtype=np.uint8)


def labels(trace, test_labels):
    """The label of every frame: its scene's source image's."""
    return np.repeat(np.array([test_labels[s["image"]] for s in trace.scenes], dtype=np.uint8),
                     [s["frames"] for s in trace.scenes])


def sha256(trace, images):
    """The sha256 of all frames' bytes, frame after frame (= bsnpu frames --sha256)."""
    digest = hashlib.sha256()
    for block in iter_frames(trace, images):
        digest.update(block.tobytes())
    return digest.hexdigest()
