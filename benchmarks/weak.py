"""Weak supervision: accuracy vs label noise, and BiT-style transfer from a weakly labeled source.

  python benchmarks/weak.py [--seeds 3] [--steps 300] [--only noise|transfer] [--full]

**Noise** (built-in digits, 8x8, small ConvNet, Adam 1e-2 for ``--steps`` steps of batch 64,
test accuracy on the clean test split; min / median / max over ``--seeds``): symmetric label
noise at 0/20/40/60/80% for cross-entropy and each robust loss of
:mod:`tfless.losses.noisy` (:class:`tfless.methods.NoisyLabel`), against clean-label
supervised training; and the multi-tag softmax objective (:class:`tfless.methods.MultiTag`)
with, at the same rates, an extra wrong-class tag, missing tags (untagged images dropped)
or extra non-visual tags. Writes a PNG of accuracy vs noise rate.

**Transfer** (glyphs "train" split as the source, 389 classes; mnist5k as the few-shot
target, 1/5/10 images per class; test on mnist5k's test split): a GN+WS ResNetV2
(:func:`tfless.backbones.resnet_v2_gn`, three one-unit stages) pre-trained with the
multi-tag softmax objective on weak tags (50% extra non-visual tags, 20% missing tags), or
with clean labels (supervised), or not at all (scratch); then fine-tuned with
:class:`tfless.methods.BiT` and :func:`tfless.train.hyperrule.hyperrule_optimizer`
(SGD 0.9, lr 0.003, warm-up then x0.1 steps, zero-initialized head).
Without ``--full`` the HyperRule schedule is shortened by ``--schedule_scale`` (0.2:
100 instead of 500 steps), the batch is 32 instead of 512, and images stay 28x28 instead
of the HyperRule's 160 -> 128 (a CPU budget); ``--full`` runs the rule as written.

Writes ``benchmarks/results/weak.{json,md}`` and ``weak_noise.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RATES = (0.0, 0.2, 0.4, 0.6, 0.8)
LOSSES = ("ce", "bootstrap_soft", "bootstrap_hard", "gce", "sce")
TAG_NOISE = ("extra_wrong", "missing", "extra_nonvisual")
SHOTS = (1, 5, 10)


def _stats(values):
    v = np.asarray(values, np.float64) * 100
    return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}


def _fit(method, data, steps, lr, seed):
    import keras

    keras.utils.set_random_seed(seed)
    if not method.compiled:
        method.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=False)
    method.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return method


def _accuracy(method, x, y):
    logits = np.concatenate(
        [np.asarray(method.logits(x[i : i + 512])) for i in range(0, len(x), 512)]
    )
    return float(np.mean(logits.argmax(-1) == y))


def _batches(arrays, batch, seed):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(arrays)
    n = len(next(iter(arrays.values())))
    return ds.shuffle(n, seed=seed).repeat().batch(batch, drop_remainder=True)


def _tags_for(kind, y, rate, seed):
    """Multi-hot tags of digit labels ``y`` corrupted by ``kind`` at ``rate``."""
    from tfless.data import noise, tags

    clean = tags.labels_to_tags(y, 12)  # 10 class tags, 2 non-visual
    if rate == 0:
        return clean
    if kind == "extra_wrong":
        return noise.extra_tags(clean, rate, candidates=np.arange(10), seed=seed)
    if kind == "missing":
        return noise.missing_tags(clean, rate, seed=seed)
    return noise.extra_tags(clean, rate, candidates=[10, 11], seed=seed)


def noise_sweep(seeds, steps):
    from tests.testing import tiny_encoder
    from tfless.data import digits_arrays, noise
    from tfless.methods import MultiTag, NoisyLabel

    (x, y), (xt, yt) = digits_arrays("train"), digits_arrays("test")

    def encoder():
        return tiny_encoder(seed=None, widths=(16, 32), bn_momentum=0.9)

    rows = {}
    for seed in range(seeds):
        import keras

        keras.utils.set_random_seed(seed)
        clean_data = _batches({"image": x, "label": y.astype(np.int32)}, 64, seed)
        acc = _accuracy(
            _fit(NoisyLabel(encoder(), 10, loss="ce"), clean_data, steps, 1e-2, seed), xt, yt
        )
        rows.setdefault("clean labels (CE)", {}).setdefault(0.0, []).append(acc)
        for rate in RATES:
            noisy, _ = (
                noise.corrupt_labels(y, 10, "symmetric", rate, seed=seed) if rate else (y, None)
            )
            data = _batches({"image": x, "label": noisy.astype(np.int32)}, 64, seed)
            for loss in LOSSES:
                kw = {"alpha": 0.01, "beta": 1.0} if loss == "sce" else None
                keras.utils.set_random_seed(seed)
                m = _fit(
                    NoisyLabel(encoder(), 10, loss=loss, loss_kwargs=kw), data, steps, 1e-2, seed
                )
                rows.setdefault(f"symmetric noise, {loss}", {}).setdefault(rate, []).append(
                    _accuracy(m, xt, yt)
                )
            for kind in TAG_NOISE:
                t = _tags_for(kind, y, rate, seed)
                keep = noise.drop_untagged(t)
                data = _batches({"image": x[keep], "tags": t[keep]}, 64, seed)
                keras.utils.set_random_seed(seed)
                m = _fit(MultiTag(encoder(), 12, 10), data, steps, 1e-2, seed)
                rows.setdefault(f"multi-tag softmax, {kind}", {}).setdefault(rate, []).append(
                    _accuracy(m, xt, yt)
                )
            print(f"seed {seed} rate {rate:.0%} done", flush=True)
    return {name: {str(r): _stats(v) for r, v in per.items()} for name, per in rows.items()}


def _trunk(shape):
    from tfless.backbones import resnet_v2_gn

    return resnet_v2_gn(
        shape, blocks=(1, 1, 1), base_width=16, groups=8, stem="cifar", name="bit_s"
    )


def _pretrain(kind, steps, seed):
    """A trunk pre-trained on glyphs "train" with weak tags (``weak``) or clean labels."""
    import keras

    from tfless.data import builtin_arrays, noise, tags
    from tfless.methods import MultiTag

    x, y = builtin_arrays("glyphs", "train")
    x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    classes = int(y.max()) + 1
    t = tags.labels_to_tags(y, classes + 20)  # 20 non-visual tags
    if kind == "weak":
        t = noise.extra_tags(t, 0.5, candidates=np.arange(classes, classes + 20), seed=seed)
        t = noise.missing_tags(t, 0.2, seed=seed + 1)
    keep = noise.drop_untagged(t)
    keras.utils.set_random_seed(seed)
    method = MultiTag(_trunk(x.shape[1:]), classes + 20, classes)
    _fit(method, _batches({"image": x[keep], "tags": t[keep]}, 128, seed), steps, 1e-3, seed)
    return method.encoder.get_weights(), x.shape[1:]


def transfer(seeds, pre_steps, scale, batch, full):
    import keras
    import tensorflow as tf

    from tfless.data import builtin_arrays
    from tfless.methods import BiT
    from tfless.train import hyperrule as H

    (x, y), (xt, yt) = builtin_arrays("mnist5k", "train"), builtin_arrays("mnist5k", "test")
    x, xt = (a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0) for a in (x, xt))
    weights = {k: _pretrain(k, pre_steps, 0) for k in ("weak", "supervised")}
    shape = weights["weak"][1]
    rows = {}
    for init in ("scratch", "supervised", "weak"):
        for shots in SHOTS:
            accs = []
            for seed in range(seeds):
                idx = H.fewshot_indices(y, shots, seed=seed)
                n = len(idx)
                points = H.hyperrule_schedule(n)
                steps = points[-1] if full else max(1, int(points[-1] * scale))
                keras.utils.set_random_seed(seed)
                trunk = _trunk(shape)
                if init != "scratch":
                    trunk.set_weights(weights[init][0])
                method = BiT(trunk, 10, mixup_alpha=H.hyperrule_mixup(n))
                schedule = H.HyperRuleSchedule(n) if full else _scaled(H, n, scale)
                method.compile(
                    optimizer=keras.optimizers.SGD(schedule, momentum=0.9), jit_compile=False
                )
                data = _batches({"image": x[idx], "label": y[idx].astype(np.int32)}, batch, seed)
                if full:
                    crop = H.hyperrule_resolution(shape[:2])[1]
                    data = data.map(
                        lambda b, c=crop: {**b, "image": tf.image.resize(b["image"], (c, c))}
                    )
                method.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
                accs.append(
                    _accuracy(
                        method,
                        xt if not full else np.asarray(tf.image.resize(xt, (crop, crop))),
                        yt,
                    )
                )
            rows.setdefault(init, {})[str(shots)] = _stats(accs)
            print(f"transfer {init} {shots}-shot: {rows[init][str(shots)]}", flush=True)
    return rows


def _scaled(H, n, scale):
    """The HyperRule schedule with every step point multiplied by ``scale`` (reduced runs)."""
    import keras

    base = H.HyperRuleSchedule(n)
    factor = 1.0 / scale

    class Scaled(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return base(keras.ops.cast(step, "float32") * factor)

    return Scaled()


def _markdown(result):
    lines = ["# Weak supervision benchmark", "", f"Command: `{result['command']}`", ""]
    if "noise" in result:
        lines += [
            "## Test accuracy (%) vs noise rate on digits (min / median / max over seeds)",
            "",
        ]
        lines += ["| training | " + " | ".join(f"{r:.0%}" for r in RATES) + " |", "|---" * 6 + "|"]
        for name, per in result["noise"].items():
            cells = [per.get(str(r)) for r in RATES]
            fmt = [
                f"{c['min']:.1f} / {c['median']:.1f} / {c['max']:.1f}" if c else "" for c in cells
            ]
            lines.append(f"| {name} | " + " | ".join(fmt) + " |")
        lines.append("")
    if "transfer" in result:
        lines += ["## Few-shot transfer to mnist5k, test accuracy (%) min / median / max", ""]
        lines += ["| trunk | " + " | ".join(f"{s}-shot" for s in SHOTS) + " |", "|---" * 4 + "|"]
        for init, per in result["transfer"].items():
            fmt = [
                f"{per[str(s)]['min']:.1f} / {per[str(s)]['median']:.1f} / {per[str(s)]['max']:.1f}"
                for s in SHOTS
            ]
            lines.append(f"| {init} | " + " | ".join(fmt) + " |")
    return "\n".join(lines) + "\n"


def _plot(noise_rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, per in noise_rows.items():
        rates = [r for r in RATES if str(r) in per]
        med = [per[str(r)]["median"] for r in rates]
        lo = [per[str(r)]["min"] for r in rates]
        hi = [per[str(r)]["max"] for r in rates]
        ax.errorbar(
            [r * 100 for r in rates],
            med,
            yerr=[np.subtract(med, lo), np.subtract(hi, med)],
            marker="o",
            capsize=2,
            label=name,
        )
    ax.set_xlabel("noise rate (%)")
    ax.set_ylabel("clean test accuracy (%)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="training steps per noise run")
    parser.add_argument("--pretrain_steps", type=int, default=600)
    parser.add_argument("--schedule_scale", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--full", action="store_true", help="HyperRule as written")
    parser.add_argument("--only", choices=("noise", "transfer"))
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    os.makedirs(RESULTS, exist_ok=True)
    start = time.time()
    command = "python benchmarks/weak.py " + " ".join(argv or sys.argv[1:])
    result = {}
    path = os.path.join(RESULTS, "weak.json")
    if args.only and os.path.exists(path):
        # One part at a time: keep the other part's last results.
        with open(path) as f:
            result = json.load(f)
    result[f"command_{args.only or 'all'}"] = command
    result["command"] = "; ".join(v for k, v in sorted(result.items()) if k.startswith("command_"))
    if args.only != "transfer":
        result["noise"] = noise_sweep(args.seeds, args.steps)
        _plot(result["noise"], os.path.join(RESULTS, "weak_noise.png"))
    if args.only != "noise":
        batch = 512 if args.full else args.batch
        result["transfer"] = transfer(
            args.seeds, args.pretrain_steps, args.schedule_scale, batch, args.full
        )
    result[f"seconds_{args.only or 'all'}"] = round(time.time() - start, 1)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    md = _markdown(result)
    with open(os.path.join(RESULTS, "weak.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
