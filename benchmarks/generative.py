"""Generative augmentation benchmark: MR-GAN stages on synthetic-to-real digits, NRM vs supervised.

  python benchmarks/generative.py [--seeds 0 1 2] [--labels_per_class 10] [--quick]

On the font-rendered digits vs real ``mnist5k`` pair (tfless.data.synthetic_digits): test
accuracy on real test digits of the real-only classifier and of MR-GAN stages 0, 1, 2
(tfless.methods.generative.mrgan); NRM semi-supervised vs the same network trained on the
labeled images alone (NRM with reconstruction and RPN weights 0, unlabeled images unused);
seconds per CycleGAN step and per NRM step relative to a supervised step; a PNG of raw vs
refined synthetic and real digits. Writes benchmarks/results/generative.{json,md,png}.
The talk's CIFAR-DA4 figures (improvement over real-only: stage 0 5.43, stage 1 5.09,
stage 2 8.85) are the claim compared with. ``--quick`` shrinks every budget (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import allconv
from tfless.data.synthetic_digits import digits_pair
from tfless.methods.generative import NRM, StageSettings, real_only_accuracy, run_stage
from tfless.methods.generative.cyclegan import write_png
from tfless.methods.generative.mrgan import _load_cyclegan, build_cyclegan, refine, stage_dir

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _settings(args, seed):
    if args.quick:
        return StageSettings(
            classifier_steps=200,
            cyclegan_steps=150,
            batch_size=32,
            classifier_widths=(16, 32, 64),
            generator_filters=8,
            generator_blocks=1,
            discriminator_filters=8,
            seed=seed,
        )
    return StageSettings(seed=seed)


def _stages(pair, settings, workdir):
    row = {"real_only": real_only_accuracy(pair, settings)}
    for s in (0, 1, 2):
        row[f"stage_{s}"] = run_stage(s, workdir, pair, settings)["test_accuracy"]
    return row


def _nrm_row(pair, steps, seed):
    out = {}
    for name, kw in (
        ("nrm", {}),
        ("supervised_allconv", dict(reconstruction_weight=0.0, rpn_weight=0.0, min_weight=0.0)),
    ):
        keras.utils.set_random_seed(seed)
        m = NRM(allconv((28, 28, 1), layers=(32, "M", 64, "M", 128)), num_classes=10, **kw)
        m.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=False)
        lab = tf.data.Dataset.from_tensor_slices(
            {"image": pair.real_labeled_images, "label": pair.real_labeled_labels}
        )
        unl = tf.data.Dataset.from_tensor_slices({"image": pair.real_images})
        data = tf.data.Dataset.zip(
            lab.shuffle(1000, seed=seed).repeat().batch(32),
            unl.shuffle(4000, seed=seed).repeat().batch(96),
        )
        data = data.map(lambda a, b: {"labeled": a, "unlabeled": b})
        t = time.time()
        m.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        out[f"{name}_seconds_per_step"] = (time.time() - t) / steps
        pred = np.argmax(m.predict(pair.test_images, verbose=0), -1)
        out[name] = float(np.mean(pred == pair.test_labels))
    return out


def _grid_png(pair, workdir, settings, path):
    gan = build_cyclegan(pair.real_images.shape[1:], settings)
    _load_cyclegan(gan, stage_dir(workdir, 2))
    syn, real = pair.synthetic_images[:10], pair.real_images[:10]
    rows = [syn, refine(gan.generator_ab, syn), real, refine(gan.generator_ba, real)]
    grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    write_png(path, (np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels_per_class", type=int, default=10)
    parser.add_argument("--num_synthetic", type=int, default=20_000)
    parser.add_argument("--nrm_steps", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        pair = digits_pair(
            2000 if args.quick else args.num_synthetic, args.labels_per_class, seed=seed
        )
        settings = _settings(args, seed)
        with tempfile.TemporaryDirectory() as workdir:
            row = {"seed": seed, **_stages(pair, settings, workdir)}
            row.update(_nrm_row(pair, 150 if args.quick else args.nrm_steps, seed))
            if seed == args.seeds[0]:
                os.makedirs(RESULTS, exist_ok=True)
                _grid_png(pair, workdir, settings, os.path.join(RESULTS, "generative.png"))
        rows.append(row)
        print(json.dumps(row))
    keys = [k for k in rows[0] if k != "seed"]
    summary = {
        k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in keys
    }
    lines = ["| measure | mean | std |", "| --- | --- | --- |"]
    lines += [f"| {k} | {m:.4f} | {s:.4f} |" for k, (m, s) in summary.items()]
    table = "\n".join(lines)
    print(table)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "generative.json"), "w") as f:
        json.dump({"args": vars(args), "rows": rows, "summary": summary}, f, indent=2)
    with open(os.path.join(RESULTS, "generative.md"), "w") as f:
        f.write(
            f"# Generative augmentation\n\nCommand: python benchmarks/generative.py "
            f"{'--quick ' if args.quick else ''}--seeds {' '.join(map(str, args.seeds))}"
            f"\n\n{table}\n\nRows: real-only and MR-GAN stages on real test digits; "
            "nrm vs supervised_allconv (same network, labeled images only).\n"
        )


if __name__ == "__main__":
    main()
