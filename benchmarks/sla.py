"""SLA ablation on digits: Baseline, DA, MT, SLA+SI, SLA+AG, SLA+SD at equal compute.

  python benchmarks/sla.py [--seeds 3] [--steps 400] [--forwarded 96] [--quick]

Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations" (ICML 2020,
arXiv 1910.05872). Every row trains the same small ConvNet (16-32 channels) with Adam 2e-3
for ``--steps`` steps and forwards ``--forwarded`` images per step: the baseline sees that
many original images, a method with ``M`` transformations ``forwarded / M`` originals in
their ``M`` copies. SLA+SI and SLA+AG are two inferences of the same SLA model.

Sets:

* ``rotation`` (M = 4) on the gray 8x8 digits (1,257 train / 540 test);
* ``rot_color_perm12`` (M = 12, rotation x cyclic colour permutation) on tinted digits:
  each digit drawn in a warm colour (R > G > B, with jitter) on black, so that a colour
  permutation is visible, as on natural images. The tint is this benchmark's choice: the
  built-in digits are gray, on which colour permutations are the identity;
* ``imbalanced``: rotation on a long-tailed training subset (``imbalanced_indices``, ratio
  100: 113 images of class 0 down to 1 of class 9), with and without class-balanced
  re-weighting; the test split stays balanced.

The paper's claims, checked with the criteria fixed before running: DA with rotation is not
better than the baseline (mean DA <= mean baseline); MT gains little (|MT - baseline| < 1
point); SLA+AG and SLA+SD beat the baseline (mean above the baseline's). Nothing is tuned
until a claim holds. Step time: median of timed epochs after the first (tracing), per
original image, SLA over baseline at equal forwarded images and at equal original batch.

Writes ``benchmarks/results/sla.{json,md}``. ``--quick`` (2 seeds, 200 steps) is the reduced
run; the default takes about 10 minutes on 2 shared CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfless.augment.label_transforms import get_transform_set  # noqa: E402
from tfless.backbones import build_backbone  # noqa: E402
from tfless.data import digits_arrays, imbalanced_indices  # noqa: E402
from tfless.methods import SLA, SLASelfDistillation, Supervised  # noqa: E402
from tfless.methods.sla import TransformAugmentation, TransformMultiTask  # noqa: E402

EPOCH = 50  # steps per timed epoch

# (row label, class, kwargs, inference modes evaluated on the same trained model)
OBJECTIVES = [
    ("Baseline", Supervised, {}, {"Baseline": None}),
    ("DA", TransformAugmentation, {}, {"DA": None}),
    ("MT", TransformMultiTask, {}, {"MT": None}),
    ("SLA", SLA, {}, {"SLA+SI": "single", "SLA+AG": "aggregated"}),
    ("SLA+SD", SLASelfDistillation, {}, {"SLA+SD": "single"}),
]


def tinted(x: np.ndarray, seed: int) -> np.ndarray:
    """Gray digits ``[N, H, W, 1]`` drawn in warm colours (R > G > B): ``[N, H, W, 3]``."""
    rng = np.random.RandomState(seed)
    base = np.array([1.0, 0.6, 0.25], np.float32)
    colours = np.clip(base + rng.uniform(-0.1, 0.1, (len(x), 3)), 0, 1).astype(np.float32)
    return x * colours[:, None, None, :]


def datasets(args):
    """``{set name: (x, y, x_test, y_test, transforms)}``."""
    x, y = digits_arrays("train")
    xt, yt = digits_arrays("test")
    keep = imbalanced_indices(y, 100.0, seed=0)
    out = {
        "rotation": (x, y, xt, yt, "rotation"),
        "rot_color_perm12": (tinted(x, 1), y, tinted(xt, 2), yt, "rot_color_perm12"),
        "imbalanced (ratio 100)": (x[keep], y[keep], xt, yt, "rotation"),
    }
    return out


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def train_one(cls, kwargs, data, m, seed, args):
    x, y, xt, yt, transforms = data
    keras.utils.set_random_seed(seed)
    encoder = build_backbone("convnet", x.shape[1:], widths=(16, 32), bn_momentum=0.9)
    if cls is Supervised:
        method, batch = cls(encoder, 10), args.forwarded
    else:
        method, batch = cls(encoder, 10, transforms=transforms, **kwargs), args.forwarded // m
    method.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=False)
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y})
    ds = ds.shuffle(len(x), seed=seed).repeat().batch(batch, drop_remainder=True)
    timer = EpochTimer()
    method.fit(ds, steps_per_epoch=EPOCH, epochs=args.steps // EPOCH, verbose=0, callbacks=[timer])
    step = statistics.median(timer.times[1:] or timer.times) / EPOCH
    return method, batch, step


def evaluate(method, mode, xt, yt) -> float:
    if mode is not None:
        method.inference = mode
    logs = method.evaluate({"image": xt, "label": yt}, batch_size=270, verbose=0, return_dict=True)
    return 100.0 * float(logs["accuracy"])


def run_set(name, data, args, objectives):
    m = get_transform_set(data[4]).size
    rows, timing = {}, {}
    for label, cls, kwargs, modes in objectives:
        for seed in range(args.seeds):
            method, batch, step = train_one(cls, kwargs, data, m, seed, args)
            timing.setdefault(label, []).append((step, batch))
            for row, mode in modes.items():
                acc = evaluate(method, mode, data[2], data[3])
                rows.setdefault(row, []).append(acc)
                print(f"{name:24s} {row:18s} seed {seed}: {acc:.2f}%  ({step * 1e3:.1f} ms/step)")
            keras.backend.clear_session()
    return rows, timing, m


def summary(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def claims(rows) -> list[tuple[str, bool, str]]:
    base, _ = summary(rows["Baseline"])
    da, _ = summary(rows["DA"])
    mt, _ = summary(rows["MT"])
    ag, _ = summary(rows["SLA+AG"])
    sd, _ = summary(rows["SLA+SD"])
    return [
        ("DA (rotation) not better than Baseline", da <= base, f"DA - Baseline = {da - base:+.2f}"),
        ("MT gains little (|MT - Baseline| < 1)", abs(mt - base) < 1, f"{mt - base:+.2f}"),
        ("SLA+AG beats Baseline", ag > base, f"SLA+AG - Baseline = {ag - base:+.2f}"),
        ("SLA+SD beats Baseline", sd > base, f"SLA+SD - Baseline = {sd - base:+.2f}"),
    ]


def write(results, args, elapsed):
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "sla.json"), "w") as f:
        json.dump(results, f, indent=2)
    cmd = "python benchmarks/sla.py" + (" --quick" if args.quick else "")
    lines = [
        "# SLA ablation on digits (equal steps and forwarded images per step)",
        "",
        f"{args.seeds} seeds, {args.steps} steps, {args.forwarded} forwarded images per step, "
        f"ConvNet 16-32, Adam 2e-3; {platform.processor() or 'CPU'}, TF {tf.__version__}, "
        f"{elapsed / 60:.1f} min. Command: `{cmd}`",
        "",
        "| set | row | test accuracy % (mean ± std) | seeds |",
        "| --- | --- | ---: | --- |",
    ]
    for name, res in results["sets"].items():
        for row, accs in res["accuracy"].items():
            mean, std = summary(accs)
            shown = ", ".join(f"{a:.1f}" for a in accs)
            lines.append(f"| {name} | {row} | {mean:.2f} ± {std:.2f} | {shown} |")
    lines += ["", "Claims (rotation set):", ""]
    for text, holds, detail in results["claims"]:
        lines.append(f"- {text}: {'holds' if holds else 'does not hold'} ({detail})")
    lines += ["", "Step time (median, ms), per original image relative to the baseline:", ""]
    for name, t in results["timing"].items():
        lines.append(f"- {name}: {t}")
    with open(os.path.join(RESULTS, "sla.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def timing_summary(timing, m):
    base_step = statistics.median(s for s, _ in timing["Baseline"])
    base_batch = timing["Baseline"][0][1]
    out = {}
    for label, entries in timing.items():
        step = statistics.median(s for s, _ in entries)
        batch = entries[0][1]
        per_image = (step / batch) / (base_step / base_batch)
        out[label] = f"{step * 1e3:.1f} ms/step, {batch} originals, {per_image:.2f}x per image"
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--forwarded", type=int, default=96)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 200 steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.steps = 2, 200
    if args.forwarded % 12:
        parser.error(f"--forwarded must be a multiple of 12 (M = 4 and 12); got {args.forwarded}.")
    start = time.time()
    data = datasets(args)
    results = {"sets": {}, "timing": {}}
    chosen = {
        "rotation": OBJECTIVES,
        "rot_color_perm12": OBJECTIVES,
        "imbalanced (ratio 100)": [
            OBJECTIVES[0],
            OBJECTIVES[3],
            OBJECTIVES[4],
            ("SLA+SD balanced", SLASelfDistillation, {}, {"SLA+SD balanced": "single"}),
        ],
    }
    for name, objectives in chosen.items():
        if name.startswith("imbalanced"):
            counts = np.bincount(data[name][1], minlength=10)
            dist = (counts / counts.sum()).tolist()
            objectives = [
                (lab, cls, dict(kw, class_balanced=True, label_distribution=dist), modes)
                if lab.endswith("balanced")
                else (lab, cls, kw, modes)
                for lab, cls, kw, modes in objectives
            ]
        rows, timing, m = run_set(name, data[name], args, objectives)
        results["sets"][name] = {"accuracy": rows, "M": m}
        results["timing"][name] = timing_summary(timing, m)
    results["claims"] = claims(results["sets"]["rotation"]["accuracy"])
    results["args"] = vars(args)
    write(results, args, time.time() - start)


if __name__ == "__main__":
    main()
