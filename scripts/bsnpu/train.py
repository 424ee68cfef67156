"""Float training of the CIFAR-10 ResNet-18 (the shared float model's recipe, see its card
models/resnet18_cifar10_float.json in ../shared):

- 10 epochs, batch 128, SGD momentum 0.9 nesterov, weight decay 5e-4 on conv/fc weights only;
- lr: epochs 1-7 linear warm-up 0.015 -> 0.15 over the first 15 % of their steps, then cosine to 0;
  epochs 8-10 a warm restart, cosine 0.05 -> 0;
- cross-entropy with label smoothing 0.1;
- augmentation: reflect-pad 4 + random 32x32 crop (one offset per batch), random horizontal flip
  per image; epochs 1-3 at 24x24 (antialiased bilinear downscale of the augmented 32x32 batch),
  epochs 4-10 at 32x32;
- seed 0, fp32, channels-last, torch threads 2.

Data order and augmentation are drawn from NumPy generators seeded by (seed, epoch) and
(seed, step), so a run resumed from a checkpoint sees exactly the batches the uninterrupted run
would have seen. The model is an nn.Module with torchvision names; its state dict (F32, without
num_batches_tracked) is written with fileio.save_safetensors in the shared float model's format,
with a card (PREFIX.json) beside it that scripts/quantize.py reads.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import fileio, graph, paths

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.247, 0.2435, 0.2616)
BN_EPS = 1e-5
CHECKPOINT_FORMAT = "bsnpu-train-checkpoint"
# options that change the trajectory: a checkpoint only resumes a run with the same values
TRAJECTORY_KEYS = ("epochs", "batch", "train_images", "seed", "lr_start", "lr_peak", "warmup", "lr_restart",
                   "restart_epoch", "low_res_epochs", "low_res", "momentum", "weight_decay", "label_smoothing")


class TrainError(fileio.FormatError):
    pass


def log(message):
    print(message, file=sys.stderr, flush=True)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=BN_EPS))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stem, no max-pool, stages of graph.STAGES, global pool, fc."""

    def __init__(self, num_classes=graph.NUM_CLASSES):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=BN_EPS)
        cin = 64
        for stage, (channels, stride) in enumerate(graph.STAGES, start=1):
            blocks = [BasicBlock(cin if b == 0 else channels, channels, stride if b == 0 else 1)
                      for b in range(graph.BLOCKS_PER_STAGE)]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
            cin = channels
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in range(1, len(graph.STAGES) + 1):
            x = getattr(self, f"layer{stage}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def export_tensors(model):
    """name -> float32 NCHW-contiguous numpy array, torchvision names, no num_batches_tracked."""
    return {name: t.detach().cpu().contiguous().numpy().astype(np.float32)
            for name, t in model.state_dict().items() if not name.endswith("num_batches_tracked")}


def lr_at(step, steps_per_epoch, cfg):
    """Learning rate of (0-based) `step`: phase 1 = epochs before restart_epoch, warm-up over the
    first `warmup` fraction of its steps then cosine to 0; phase 2 = cosine lr_restart -> 0."""
    total = cfg["epochs"] * steps_per_epoch
    phase1 = min(cfg["restart_epoch"] - 1, cfg["epochs"]) * steps_per_epoch
    if step < phase1:
        warm = max(1, round(cfg["warmup"] * phase1))
        if step < warm:
            return cfg["lr_start"] + (cfg["lr_peak"] - cfg["lr_start"]) * step / warm
        return cfg["lr_peak"] * 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, phase1 - warm)))
    return cfg["lr_restart"] * 0.5 * (1.0 + math.cos(math.pi * (step - phase1) / max(1, total - phase1)))


def resolution(epoch, cfg):
    return cfg["low_res"] if epoch < cfg["low_res_epochs"] else 32


def epoch_order(seed, epoch, n):
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


_MEAN = torch.tensor(MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(STD).view(1, 3, 1, 1)


def normalize(images_uint8):
    return (torch.from_numpy(np.ascontiguousarray(images_uint8)).float() / 255.0 - _MEAN) / _STD


def train_batch(images_uint8, seed, step, res):
    """Normalized, augmented batch: reflect-pad 4, one random 32x32 crop offset for the batch,
    per-image random horizontal flip, then (res < 32) antialiased bilinear downscale."""
    rng = np.random.default_rng([seed, 1, step])
    dy, dx = (int(v) for v in rng.integers(0, 9, size=2))
    flip = torch.from_numpy(rng.random(len(images_uint8)) < 0.5)
    x = F.pad(normalize(images_uint8), (4, 4, 4, 4), mode="reflect")[:, :, dy:dy + 32, dx:dx + 32]
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    if res != 32:
        x = F.interpolate(x, size=(res, res), mode="bilinear", align_corners=False, antialias=True)
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def evaluate(model, images, labels, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        x = normalize(images[i:i + batch]).contiguous(memory_format=torch.channels_last)
        correct += int((model(x).argmax(1).numpy() == labels[i:i + batch]).sum())
    model.train()
    return correct / max(1, len(images))


def make_optimizer(model, cfg):
    decay = [p for n, p in model.named_parameters() if n.endswith(".weight") and p.ndim > 1]  # conv, fc
    other = [p for n, p in model.named_parameters() if not (n.endswith(".weight") and p.ndim > 1)]
    return torch.optim.SGD([{"params": decay, "weight_decay": cfg["weight_decay"]},
                            {"params": other, "weight_decay": 0.0}],
                           lr=cfg["lr_start"], momentum=cfg["momentum"], nesterov=True)


def save_checkpoint(path, model, optimizer, step, cfg, stats, lines):
    state = {"format": CHECKPOINT_FORMAT, "step": step, "config": cfg, "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "epoch_stats": stats, "log": lines,
             "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state()}
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, cfg):
    try:
        state = torch.load(path)
    except FileNotFoundError:
        raise TrainError(f"{path}: no such checkpoint (drop --resume to start a new run)") from None
    except Exception as e:  # a truncated or foreign file: torch raises many kinds
        raise TrainError(f"{path}: not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainError(f"{path}: not a {CHECKPOINT_FORMAT} file")
    saved = state.get("config", {})
    different = [k for k in TRAJECTORY_KEYS if saved.get(k) != cfg[k]]
    if different:
        values = ", ".join(f"{k}={saved.get(k)}" for k in different)
        raise TrainError(f"{path}: checkpoint was made with other options ({values})")
    return state


def write_card(out, cfg, test_accuracy, test_images, lines, seconds):
    card = {
        "name": os.path.basename(out).rsplit(".", 1)[0],
        "architecture": {"family": "ResNet-18, CIFAR variant", "bn_eps": BN_EPS,
                         "stem": "conv3x3(3->64, stride 1, pad 1, no bias) + BN + ReLU, no max-pool",
                         "stages": [{"channels": c, "blocks": graph.BLOCKS_PER_STAGE, "stride": s}
                                    for c, s in graph.STAGES],
                         "head": "global average pool -> fc 512->10 (with bias)"},
        "input": {"layout": "NCHW, RGB", "scale": "pixel / 255", "mean": list(MEAN), "std": list(STD),
                  "formula": "x = (pixel/255 - mean[c]) / std[c]"},
        "test_accuracy": {"top1": test_accuracy, "images": test_images, "file": fileio.CIFAR_TEST_FILE},
        "training": dict(cfg, script="scripts/train.py", torch=torch.__version__, wall_seconds=round(seconds)),
        "sha256": fileio.sha256_file(out),
        "format": "safetensors, all tensors F32 little-endian, names sorted",
        "log": lines,
    }
    with open(out.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


def train(cfg, data_dir, out, checkpoint=None, resume=False, max_steps=None, test_images=None,
          checkpoint_every=0, log_every=50):
    """Runs (or resumes) the training; returns (model, last step, last epoch's test accuracy)."""
    started = time.time()
    torch.set_num_threads(cfg["threads"])
    images, labels = fileio.load_cifar(data_dir, "train", cfg["train_images"])
    if cfg["train_images"] is not None and len(labels) < cfg["train_images"]:
        raise TrainError(f"{data_dir}: only {len(labels)} training images, --train-images asks for {cfg['train_images']}")
    test = fileio.load_cifar(data_dir, "test", test_images) if test_images != 0 else None
    n = len(labels)
    steps_per_epoch = n // cfg["batch"]
    if steps_per_epoch < 1:
        raise TrainError(f"{data_dir}: {n} training images are fewer than one batch of {cfg['batch']}")
    total = cfg["epochs"] * steps_per_epoch
    end = total if max_steps is None else min(total, max_steps)

    for path in (checkpoint, out):  # fail now, not after hours of training
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    model = ResNet18().to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])
    step, stats, lines = 0, [0.0, 0, 0], []
    if resume:
        state = load_checkpoint(checkpoint, cfg)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, stats, lines = state["step"], list(state["epoch_stats"]), list(state["log"])
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        log(f"train: resumed {checkpoint} at step {step}/{total}")
    log(f"train: {n} images, {steps_per_epoch} steps per epoch, {total} steps, running to step {end}")

    order, order_epoch, accuracy = None, None, None
    model.train()
    while step < end:
        epoch, i = divmod(step, steps_per_epoch)
        if order_epoch != epoch:
            order, order_epoch = epoch_order(cfg["seed"], epoch, n), epoch
        idx = np.sort(order[i * cfg["batch"]:(i + 1) * cfg["batch"]])
        res = resolution(epoch, cfg)
        x = train_batch(images[idx], cfg["seed"], step, res)
        y = torch.from_numpy(labels[idx].astype(np.int64))
        lr = lr_at(step, steps_per_epoch, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        logits = model(x)
        loss = criterion(logits, y)
        if not torch.isfinite(loss):
            raise TrainError(f"{data_dir}: loss became {float(loss)} at step {step} (lr {lr:.4g})")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        stats[0] += float(loss) * len(idx)
        stats[1] += int((logits.argmax(1) == y).sum())
        stats[2] += len(idx)
        step += 1
        if log_every and step % log_every == 0:
            log(f"train: step {step}/{total} epoch {epoch + 1} res {res} lr {lr:.4f} loss {float(loss):.3f} "
                f"({time.time() - started:.0f} s)")
        if step % steps_per_epoch == 0:
            if test is not None:
                accuracy = evaluate(model, *test)
            line = (f"EPOCH {epoch + 1} res {res} train_loss {stats[0] / stats[2]:.3f} "
                    f"train_acc {stats[1] / stats[2]:.4f} test_acc "
                    f"{'n/a' if accuracy is None else f'{accuracy:.4f}'} time {time.time() - started:.0f}s")
            lines.append(line)
            log(line)
            stats = [0.0, 0, 0]
        if checkpoint and (step == end or step % steps_per_epoch == 0
                           or (checkpoint_every and step % checkpoint_every == 0)):
            save_checkpoint(checkpoint, model, optimizer, step, cfg, stats, lines)
    if resume and step == end and end == state["step"]:
        log(f"train: checkpoint is already at step {end}")
    if out:
        fileio.save_safetensors(out, export_tensors(model), {"format": "pt", "model": "resnet18_cifar10"})
        write_card(out, cfg, accuracy, None if test is None else len(test[1]), lines, time.time() - started)
        log(f"train: wrote {out} (step {step}/{total}) in {time.time() - started:.0f} s")
    return model, step, accuracy


def default_config():
    return {"epochs": 10, "batch": 128, "train_images": None, "seed": 0, "lr_start": 0.015, "lr_peak": 0.15,
            "warmup": 0.15, "lr_restart": 0.05, "restart_epoch": 8, "low_res_epochs": 3, "low_res": 24,
            "momentum": 0.9, "weight_decay": 5e-4, "label_smoothing": 0.1, "threads": 2}


def main(argv=None):
    cfg = default_config()
    parser = argparse.ArgumentParser(prog="train.py", description="Train the float CIFAR-10 ResNet-18 "
                                     "(the shared model's recipe); writes OUT (safetensors) and its card OUT.json.")
    parser.add_argument("--data", help="CIFAR-10 binary directory (default: $BSNPU_DATA or ../shared/datasets/...)")
    parser.add_argument("--out", default=os.path.join(paths.REPO_ROOT, "runs", "resnet18_cifar10_float.safetensors"),
                        help="output safetensors (default: runs/resnet18_cifar10_float.safetensors)")
    parser.add_argument("--checkpoint", help="checkpoint file, written every --checkpoint-every steps, at each "
                        "epoch end and when the run stops")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (0: epoch ends only)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--max-steps", type=int, help="stop after this global step (the schedule stays that of the full run)")
    parser.add_argument("--test-images", type=int, default=None, help="first N test images for the per-epoch "
                        "accuracy (default: all; 0: no evaluation)")
    parser.add_argument("--log-every", type=int, default=50, help="steps between progress lines on stderr")
    parser.add_argument("--train-images", type=int, default=None, help="first N training images (default: all)")
    for key in ("epochs", "batch", "seed", "threads"):
        parser.add_argument("--" + key, type=int, default=cfg[key])
    for key in ("lr_start", "lr_peak", "warmup", "lr_restart", "momentum", "weight_decay", "label_smoothing"):
        parser.add_argument("--" + key.replace("_", "-"), type=float, default=cfg[key])
    for key in ("restart_epoch", "low_res_epochs", "low_res"):
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=cfg[key])
    args = parser.parse_args(argv)
    for key in cfg:
        cfg[key] = getattr(args, key)
    if args.resume and not args.checkpoint:
        parser.error("--resume needs --checkpoint")
    for key in ("epochs", "batch", "threads"):
        if cfg[key] < 1:
            parser.error(f"--{key} must be at least 1")
    if cfg["train_images"] is not None and cfg["train_images"] < 1:
        parser.error("--train-images must be at least 1")
    if args.test_images is not None and args.test_images < 0:
        parser.error("--test-images must be 0 (no per-epoch test) or more")
    try:
        train(cfg, paths.data_dir(args.data), args.out, args.checkpoint, args.resume, args.max_steps,
              args.test_images, args.checkpoint_every, args.log_every)
    except fileio.FormatError as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"train: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0
