"""Fully supervised WRN-28-2 on CIFAR-10 (the reference of the semi-supervised tables).

Command (needs CIFAR-10 prepared for TFDS and a GPU):
  tfless-train --config=configs/supervised/cifar10.py --workdir=/tmp/tfless/sup_c10 \
      --strategy=mirrored

Args: (none) all 50,000 labels; ``labels=N`` N labels per class (labeled-only reference);
``smoke`` a few steps on whatever data is there (tests run it on TFDS mock data).

Expected: 4.62% test error with all labels (TorchSSL/USB supervised WRN-28-2, V in
shared/REFERENCE_NUMBERS.md); labeled-only with 4/25/400 labels per class: 77.6 / 56.0 /
15.5% error (USB classic_cv). Recipe of those baselines: SGD nesterov momentum 0.9,
lr 0.03 with FixMatch's cosine decay, weight decay 5e-4, batch 64, 2^20 steps, EMA
0.999, pad-crop + flip augmentation. Compute: about 16 GPU-hours on a V100; not
runnable on the 2-core CPU machine (a CPU step of WRN-28-2 at batch 64 takes ~1 s).
"""

import importlib.util
import os

import ml_collections

# Configs are loaded by path (ml_collections config_flags), so the sibling digits
# config is loaded by path too rather than as a package import.
_spec = importlib.util.spec_from_file_location(
    "_supervised_digits", os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.py")
)
digits = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(digits)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    labels = None
    if arg.startswith("labels="):
        labels = int(arg.split("=", 1)[1])
    elif arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '', 'labels=N' or 'smoke'.")
    c = digits.get_config()
    with c.unlocked():
        c.method.kwargs.weight_decay = 5e-4
        c.model.backbone = "wrn28_2"
        c.model.kwargs = ml_collections.ConfigDict()
        c.data.dataset = "cifar10"
        c.data.image_size = None
        c.data.channels = 3
        c.data.batch_size = 64
        c.data.eval_batch_size = 500
        c.data.labels_per_class = labels
        c.data.augment = "flip_crop"
        c.data.shuffle_buffer = 50_000
        c.optimizer.name = "sgd"
        c.optimizer.learning_rate = 0.03
        c.optimizer.nesterov = True
        c.optimizer.schedule = "fixmatch_cosine"
        c.optimizer.warmup_steps = 0
        c.optimizer.ema = 0.999
        c.train.steps = 2**20
        c.train.eval_every = 2**14
        if arg == "smoke":
            c.model.backbone = "convnet"
            c.model.kwargs = ml_collections.ConfigDict({"widths": (8, 16)})
            c.data.batch_size = 16
            c.data.augment = "identity"
            c.train.steps = 4
            c.train.eval_every = 2
    c.lock()
    return c
