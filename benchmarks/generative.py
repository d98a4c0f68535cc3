"""Generative augmentation benchmark: MR-GAN stages on synthetic-to-real digits; NRM vs FixMatch.

  python benchmarks/generative.py [--seeds 0 1 2] [--labels_per_class 4]
      [--num_synthetic 10000] [--classifier_steps 300] [--cyclegan_steps 300]
      [--semi_steps 300] [--image_size 16] [--gan_filters 16] [--generator_blocks 1]
      [--timing_steps 10] [--timing_rounds 3] [--quick]

Three blocks, every seed drawing its own labeled real digits (the same ones in every block):

* **MR-GAN** on the font-rendered digits vs real ``mnist5k`` pair
  (:func:`tfless.data.synthetic_digits.digits_pair`, resized to ``--image_size``): test
  accuracy on the 1,000 real test digits of the real-only classifier and of stages 0, 1, 2
  (:func:`tfless.methods.generative.run_stage`, the ``convnet`` classifier of
  :class:`~tfless.methods.generative.StageSettings`).
* **Semi-supervised** on the same real training digits with the same labels (``mnist5k``
  through the trainer, ``data.val_size=0`` so the labeled subset is exactly the pair's),
  each method from its config (``configs/<name>/digits.py``) with only the dataset,
  labels, seed, image size and step budget overridden: ``nrm`` (allconv
  32-M-64-M-128), the registered ``supervised`` method on the labeled images alone with the
  same allconv network (``supervised_allconv``) and with FixMatch's convnet
  (``supervised_convnet``), and ``fixmatch``.
* **Step time**: seconds per training step in interleaved rounds (benchmarks/_timing.py),
  each against the registered ``supervised`` step on the same backbone and the same
  number of images: a CycleGAN step (one batch per domain) against the stage classifier on
  as many images; an NRM step (labeled + mu unlabeled) against the allconv supervised step;
  a FixMatch step against the convnet supervised step.

Writes ``benchmarks/results/generative.{json,md,png}``; the PNG shows raw and refined
synthetic and real digits of the first seed. The talk's CIFAR-DA4 figures (improvement
over real-only: stage 0 5.43, stage 1 5.09, stage 2 8.85 points) are the claim compared
with. ``--quick`` shrinks every budget (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _timing import build_for_timing, count_images, interleaved_seconds_per_step  # noqa: E402

from tfless.configs import load_config  # noqa: E402
from tfless.data.synthetic_digits import digits_pair  # noqa: E402
from tfless.methods.generative import StageSettings, real_only_accuracy, run_stage  # noqa: E402
from tfless.methods.generative.mrgan import (  # noqa: E402
    _load_cyclegan,
    build_classifier,
    build_cyclegan,
    refine,
    stage_dir,
)
from tfless.train import train_and_evaluate  # noqa: E402

RESULTS = os.path.join(HERE, "results")
STAGE_KEYS = ("real_only", "stage_0", "stage_1", "stage_2")
SEMI_RUNS = ("supervised_allconv", "nrm", "supervised_convnet", "fixmatch")
#: The talk's CIFAR-DA4 improvements over real-only, in accuracy points (published).
TALK = {"stage_0": 5.43, "stage_1": 5.09, "stage_2": 8.85}


def _settings(args, seed):
    if args.quick:
        return StageSettings(
            classifier_steps=100,
            cyclegan_steps=40,
            batch_size=32,
            classifier_widths=(16, 32, 64),
            generator_filters=8,
            generator_blocks=1,
            discriminator_filters=8,
            seed=seed,
        )
    return StageSettings(
        classifier_steps=args.classifier_steps,
        cyclegan_steps=args.cyclegan_steps,
        generator_filters=args.gan_filters,
        generator_blocks=args.generator_blocks,
        discriminator_filters=args.gan_filters,
        seed=seed,
    )


def _stages(pair, settings, workdir):
    row = {"real_only": real_only_accuracy(pair, settings)}
    for s in (0, 1, 2):
        row[f"stage_{s}"] = run_stage(s, workdir, pair, settings)["test_accuracy"]
    return row


# ------------------------------------------------------------------ semi-supervised block


def semi_config(
    name: str, steps: int, seed: int, labels: int, image_size: int, batch_size: int | None = None
):
    """The config of semi-supervised run ``name`` on ``mnist5k`` with ``labels`` per class."""
    source = {"supervised_allconv": "nrm", "supervised_convnet": "fixmatch"}.get(name, name)
    c = load_config(os.path.join(ROOT, "configs", source, "digits.py"))
    with c.unlocked():
        if name.startswith("supervised"):
            c.method.name = "supervised"
            c.method.kwargs = {"label_smoothing": 0.0, "weight_decay": 0.0}
            c.data.pipeline = "supervised"
            c.data.mu = 0
            c.data.unlabeled_views = ""
            c.data.views_kwargs = {}
        c.data.dataset = "mnist5k"
        c.data.image_size = image_size
        c.data.val_size = 0  # the labeled subset is then digits_pair's for the same seed
        c.data.labels_per_class = labels
        c.data.split_seed = seed
        c.data.eval_batch_size = 500
        if batch_size is not None:
            c.data.batch_size = batch_size
        c.train.steps = steps
        c.train.eval_every = steps
        c.train.seed = seed
        c.train.verbose = 0
        c.train.tensorboard = False
        c.optimizer.warmup_steps = min(c.optimizer.warmup_steps, steps // 10)
        c.eval = {"protocols": ()}
    return c


def _semi_row(steps: int, seed: int, labels: int, image_size: int) -> dict:
    row = {}
    for name in SEMI_RUNS:
        workdir = tempfile.mkdtemp(prefix=f"generative_{name}_{seed}_")
        try:
            start = time.perf_counter()
            result = train_and_evaluate(semi_config(name, steps, seed, labels, image_size), workdir)
            row[name] = float(result.metrics["test_accuracy"])
            row[f"{name}_train_seconds"] = time.perf_counter() - start
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"  seed {seed} {name}: {row[name]:.4f}", flush=True)
    return row


# ---------------------------------------------------------------------------- step time


def _cyclegan_entries(settings, images_a, images_b):
    """The stage CycleGAN and the stage classifier on as many images, in-memory batches."""
    b = settings.batch_size
    gan = build_cyclegan(images_a.shape[1:], settings)
    batch = {"a": {"image": images_a[:b]}, "b": {"image": images_b[:b]}}
    gan_ds = tf.data.Dataset.from_tensors(batch).repeat()
    clf = build_classifier(images_a.shape[1:], 10, settings)
    x = np.concatenate([images_a[:b], images_b[:b]])
    clf_ds = tf.data.Dataset.from_tensors(
        {"image": x, "label": np.arange(len(x), dtype=np.int32) % 10}
    ).repeat()
    size = images_a.shape[1]
    return {"cyclegan": (gan, gan_ds), f"supervised_convnet{size}@{2 * b}": (clf, clf_ds)}


def measure_step_time(args, pair, settings) -> dict:
    """Seconds per step of CycleGAN, NRM and FixMatch vs the supervised step they compare with."""
    entries = _cyclegan_entries(settings, pair.synthetic_images, pair.real_images)
    size = pair.real_images.shape[1]
    pairs = {"cyclegan": f"supervised_convnet{size}@{2 * settings.batch_size}"}
    for name, sup in (("nrm", "supervised_allconv"), ("fixmatch", "supervised_convnet")):
        method, ds, batch = build_for_timing(
            semi_config(name, args.semi_steps, 0, args.labels_per_class, args.image_size)
        )
        n = count_images(batch)
        entries[name] = (method, ds)
        ref = f"{sup}@{n}"
        entries[ref] = build_for_timing(
            semi_config(
                sup, args.semi_steps, 0, args.labels_per_class, args.image_size, batch_size=n
            )
        )[:2]
        pairs[name] = ref
    timed = interleaved_seconds_per_step(entries, args.timing_steps, args.timing_rounds)
    out = {}
    for name, ref in pairs.items():
        sec, ref_sec = timed[name]["seconds_per_step"], timed[ref]["seconds_per_step"]
        out[name] = {
            "seconds_per_step": sec,
            "reference": ref,
            "reference_seconds_per_step": ref_sec,
            "ratio": sec / ref_sec,
            "rounds": timed[name]["rounds"],
            "reference_rounds": timed[ref]["rounds"],
        }
        print(f"step time {name}: {sec:.4f} s = {sec / ref_sec:.2f}x {ref}", flush=True)
    return out


# ----------------------------------------------------------------------------------- PNG


def grid_png(pair, workdir, settings, path, count: int = 10) -> None:
    """Raw vs refined synthetic and real digits (stage 1 and stage 2 refiners), labelled rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shape = pair.real_images.shape[1:]
    first, second = build_cyclegan(shape, settings), build_cyclegan(shape, settings)
    _load_cyclegan(first, stage_dir(workdir, 1))
    _load_cyclegan(second, stage_dir(workdir, 2))

    # One image of each class, in class order, in both domains.
    def per_class(images, labels):
        return np.stack([images[np.flatnonzero(labels == c)[0]] for c in range(count)])

    syn = per_class(pair.synthetic_images, pair.synthetic_labels)
    real = per_class(pair.test_images, pair.test_labels)
    once = refine(first.generator_ab, syn)
    rows = [
        ("synthetic, raw", syn),
        ("synthetic, stage 1: G1(s)", once),
        ("synthetic, stage 2: G2(G1(s))", refine(second.generator_ab, once)),
        ("real test, raw", real),
        ("real test, stage 2: F2(r)", refine(second.generator_ba, real)),
    ]
    fig, axes = plt.subplots(len(rows), 1, figsize=(count * 0.8 + 2.6, len(rows) * 1.0))
    for ax, (label, images) in zip(axes, rows):
        strip = np.concatenate([np.pad(im[..., 0], 1) for im in images], axis=1)
        ax.imshow(np.clip(strip, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ summary


def summarise(rows) -> dict:
    keys = [*STAGE_KEYS, *SEMI_RUNS]
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if k in r]
        if vals:
            out[k] = {"accuracies": vals, "mean": float(np.mean(vals)), "std": float(np.std(vals))}
    for k in ("stage_0", "stage_1", "stage_2"):
        gains = [100 * (r[k] - r["real_only"]) for r in rows if k in r]
        if gains:
            out[k]["gain_points"] = {"mean": float(np.mean(gains)), "std": float(np.std(gains))}
    s1 = [100 * (r["stage_1"] - r["stage_0"]) for r in rows if "stage_1" in r]
    if s1:
        out["stage_1_minus_stage_0_points"] = {"mean": float(np.mean(s1)), "std": float(np.std(s1))}
    return out


def _command(args) -> str:
    if args.quick:
        return f"python benchmarks/generative.py --quick --seeds {' '.join(map(str, args.seeds))}"
    return (
        f"python benchmarks/generative.py --seeds {' '.join(map(str, args.seeds))} "
        f"--labels_per_class {args.labels_per_class} --num_synthetic {args.num_synthetic} "
        f"--classifier_steps {args.classifier_steps} --cyclegan_steps {args.cyclegan_steps} "
        f"--semi_steps {args.semi_steps} --image_size {args.image_size} "
        f"--gan_filters {args.gan_filters} --generator_blocks {args.generator_blocks} "
        f"--timing_steps {args.timing_steps} "
        f"--timing_rounds {args.timing_rounds}"
    )


def _acc(e) -> str:
    return f"{100 * e['mean']:.1f} +- {100 * e['std']:.1f}"


def to_markdown(args, summary, timing, runtime) -> str:
    n = len(args.seeds)
    lines = [
        "# Generative augmentation",
        "",
        f"Command: `{_command(args)}` ({runtime / 60:.1f} min on {os.cpu_count()} shared CPU "
        f"cores, {platform.machine()}).",
        "",
        f"Real `mnist5k` digits with {args.labels_per_class} labels per class "
        f"({10 * args.labels_per_class} of 4,000 = {args.labels_per_class / 4:.2f}%), "
        f"{args.image_size}x{args.image_size} images, "
        f"{n} seeds (each its own labeled subset); test accuracy on the 1,000 real test "
        "digits, mean +- std over seeds.",
        "",
        f"## MR-GAN stages ({args.num_synthetic} font-rendered synthetic digits, "
        f"classifier {args.classifier_steps} steps and CycleGAN {args.cyclegan_steps} steps "
        f"per stage, generators {args.gan_filters} filters x {args.generator_blocks} blocks)",
        "",
        "| run | test accuracy (%) | gain over real-only (points) | talk, CIFAR-DA4 (published) |",
        "| --- | --- | --- | --- |",
    ]
    for k in STAGE_KEYS:
        if k not in summary:
            continue
        e = summary[k]
        g = e.get("gain_points")
        gain = f"{g['mean']:+.1f} +- {g['std']:.1f}" if g else ""
        lines.append(f"| {k} | {_acc(e)} | {gain} | {TALK.get(k, '')} |")
    if "stage_1_minus_stage_0_points" in summary:
        d = summary["stage_1_minus_stage_0_points"]
        lines += ["", f"Stage 1 minus stage 0: {d['mean']:+.1f} +- {d['std']:.1f} points."]
    lines += [
        "",
        f"## Semi-supervised, same labels ({args.semi_steps} steps, the methods' digits configs)",
        "",
        "| run | test accuracy (%) |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {_acc(summary[k])} |" for k in SEMI_RUNS if k in summary]
    if timing:
        lines += [
            "",
            "## Step time (median of interleaved rounds)",
            "",
            "| step | s/step | reference (registered supervised, same backbone and images) "
            "| reference s/step | ratio |",
            "| --- | --- | --- | --- | --- |",
        ]
        for k, t in timing.items():
            lines.append(
                f"| {k} | {t['seconds_per_step']:.4f} | {t['reference']} | "
                f"{t['reference_seconds_per_step']:.4f} | {t['ratio']:.2f} |"
            )
    lines += ["", f"Image: `benchmarks/results/generative.png` (seed {args.seeds[0]})."]
    return "\n".join(lines) + "\n"


def write(args, rows, timing, runtime) -> str:
    summary = summarise(rows)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "generative.json"), "w") as f:
        json.dump(
            {
                "command": _command(args),
                "args": vars(args),
                "runtime_seconds": runtime,
                "rows": rows,
                "summary": summary,
                "timing": timing,
                "talk_cifar_da4_gain_points_published": TALK,
            },
            f,
            indent=2,
        )
    text = to_markdown(args, summary, timing, runtime)
    with open(os.path.join(RESULTS, "generative.md"), "w") as f:
        f.write(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels_per_class", type=int, default=4)
    parser.add_argument("--num_synthetic", type=int, default=10_000)
    parser.add_argument("--classifier_steps", type=int, default=300)
    parser.add_argument("--cyclegan_steps", type=int, default=300)
    parser.add_argument("--semi_steps", type=int, default=300)
    parser.add_argument("--image_size", type=int, default=16)
    parser.add_argument("--gan_filters", type=int, default=16)
    parser.add_argument("--generator_blocks", type=int, default=1)
    parser.add_argument("--timing_steps", type=int, default=10)
    parser.add_argument("--timing_rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.num_synthetic, args.semi_steps, args.timing_steps = 2000, 40, 3
    start, rows, timing = time.perf_counter(), [], {}
    for seed in args.seeds:
        pair = digits_pair(
            args.num_synthetic, args.labels_per_class, seed=seed, size=args.image_size
        )
        settings = _settings(args, seed)
        with tempfile.TemporaryDirectory() as workdir:
            row = {"seed": seed, **_stages(pair, settings, workdir)}
            print(json.dumps(row), flush=True)
            if seed == args.seeds[0]:
                grid_png(pair, workdir, settings, os.path.join(RESULTS, "generative.png"))
        row.update(_semi_row(args.semi_steps, seed, args.labels_per_class, args.image_size))
        rows.append(row)
        print(json.dumps(row), flush=True)
        # Timed after the first seed, so an interrupted run keeps its step times.
        if seed == args.seeds[0] and args.timing_steps and args.timing_rounds:
            timing = measure_step_time(args, pair, settings)
        write(args, rows, timing, time.perf_counter() - start)
    print(write(args, rows, timing, time.perf_counter() - start))


if __name__ == "__main__":
    main()
