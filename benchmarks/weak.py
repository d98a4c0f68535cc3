"""Weak supervision: accuracy vs label noise, and BiT transfer from a weakly labeled source.

  python benchmarks/weak.py [--seeds 3] [--steps 400] [--pretrain_steps 1000]
      [--finetune_scale 1.0] [--batch 32] [--only noise|transfer]

**Noise** (built-in digits at 8x8: 1,257 training images, test accuracy on the 540 clean
test images; mean, standard deviation and min / median / max over ``--seeds``). Every run
trains a ConvNet 32-64 (``build_backbone("convnet")``, batch-norm momentum 0.9) for
``--steps`` steps of batch 64 with Adam 2e-3, a 10% linear warm-up then cosine decay to 0:
the digits recipe of ``configs/supervised/digits.py`` shortened from 2,000 steps at 16x16
to fit a sweep. Its CE row at 0% noise is the check that the shortened recipe trains (the
full config measures 99.07%). Steps run 50 at a time (``steps_per_execution``: the same
updates, less Python overhead). Symmetric label noise at 0/20/40/60/80% (a corrupted
label always moves to another class) for plain cross-entropy and each robust loss of
:mod:`tfless.losses.noisy` (:class:`tfless.methods.NoisyLabel`, the authors' defaults,
SCE with its MNIST alpha 0.01 / beta 1.0); as the clean-label reference, cross-entropy on
only the images whose label was left intact (true labels, ``1 - rate`` of the data: what
noise costs beyond losing those images); and the multi-tag softmax objective
(:class:`tfless.methods.MultiTag`, 10 class tags and 2 non-visual ones) where, at each
rate, that fraction of images gains a wrong class tag (``extra_wrong``), loses its tag
(``missing``, untagged images dropped) or gains a non-visual tag (``extra_nonvisual``).
At 0% the clean reference *is* the CE run (NoisyLabel's ``ce`` is Supervised bit for bit)
and the three tag rows are one run, so those are trained once. Writes
``weak_noise.png``: accuracy vs noise rate, mean with min-max bars.

**Transfer** (glyphs "train" split as the source: 389 character classes; mnist5k as the
few-shot target, 1/5/10 images per class drawn per seed; test accuracy on mnist5k's 1,000
test images, min / median / max and mean over ``--seeds``; every image resized from 28x28
to 16x16). A GN+WS ResNetV2 (:func:`tfless.backbones.resnet_v2_gn`: an 8-channel 3x3
stem, three one-unit stages of widths 32-64-128, GroupNorm(4), i.e. two channels per group
at the stem as in BiT-R50x1) is pre-trained once (seed 0) for ``--pretrain_steps`` steps
of batch 128, Adam 1e-3, with the multi-tag softmax objective on either weak tags (each
image: 50% chance of an extra non-visual tag out of 20, 20% of an extra wrong class tag,
then every tag dropped with probability 0.2; untagged images dropped) or clean labels; or
not at all (scratch). Each trunk is then fine-tuned with :class:`tfless.methods.BiT`
(zero-initialized head) and BiT-HyperRule: SGD momentum 0.9, lr 0.003, no weight decay,
the under-20k schedule (warm-up 100 steps, x0.1 at 200/300/400, 500 steps; multiplied by
``--finetune_scale``), no MixUp (under 20k examples). CPU-budget departures from the
rule: batch ``--batch`` (32) instead of 512, 16x16 images instead of its 160 -> 128.

Writes ``benchmarks/results/weak.{json,md}`` and ``weak_noise.png``. Runtime of the
defaults: 25 min 22 s wall (transfer about 15 min, then the noise sweep about 10 min) on 2
CPU cores shared with other jobs; ``--only noise`` or ``--only transfer`` runs one part
and keeps the other's last results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from math import gcd

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RATES = (0.0, 0.2, 0.4, 0.6, 0.8)
LOSSES = ("ce", "bootstrap_soft", "bootstrap_hard", "gce", "sce")
TAG_NOISE = ("extra_wrong", "missing", "extra_nonvisual")
SHOTS = (1, 5, 10)
INITS = ("scratch", "clean-label pre-trained", "weak-tag pre-trained")
CLEAN_REF = "clean labels only (CE on the 1 - rate intact images)"
#: A row "degrades slowly" while its mean stays within this many points of its 0% mean.
SLOW_DROP = 5.0
#: The full configs/supervised/digits.py run (16x16, 2,000 steps), for the CE check.
SUPERVISED_CONFIG_ACCURACY = 99.07
TRANSFER_SIZE = 16


def _stats(values):
    v = np.asarray(values, np.float64) * 100
    return {
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
        "median": float(np.median(v)),
        "max": float(v.max()),
        "runs": [round(float(a), 2) for a in v],
    }


def _warmup_cosine(lr, steps):
    import keras

    warm = max(1, steps // 10)
    return keras.optimizers.schedules.CosineDecay(
        0.0, steps - warm, warmup_target=lr, warmup_steps=warm
    )


def _fit(method, data, steps, optimizer, seed):
    import keras

    keras.utils.set_random_seed(seed)
    # Fused steps: the same updates with less per-step Python overhead (tiny models).
    method.compile(optimizer=optimizer, jit_compile=False, steps_per_execution=gcd(steps, 50))
    method.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return method


def _accuracy(method, x, y):
    logits = np.concatenate(
        [np.asarray(method.logits(x[i : i + 500])) for i in range(0, len(x), 500)]
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
    if kind == "extra_wrong":
        return noise.extra_tags(clean, rate, candidates=np.arange(10), seed=seed)
    if kind == "missing":
        return noise.missing_tags(clean, rate, seed=seed)
    return noise.extra_tags(clean, rate, candidates=[10, 11], seed=seed)


def _noise_runs(x, y, rate, seed, steps):
    """``{row: accuracy}`` of one seed at one rate (without the rows shared with 0%)."""
    import keras

    from tfless.backbones import build_backbone
    from tfless.data import digits_arrays, noise
    from tfless.methods import MultiTag, NoisyLabel, Supervised

    xt, yt = digits_arrays("test")

    def encoder():
        # Momentum 0.9: with Keras' 0.99 the moving statistics still lag after a few hundred
        # steps (measured: 10% test accuracy at 300 steps where the batch statistics give 98%).
        return build_backbone("convnet", (8, 8, 1), widths=(32, 64), bn_momentum=0.9)

    def run(method, data):
        keras.utils.set_random_seed(seed)
        opt = keras.optimizers.Adam(_warmup_cosine(2e-3, steps))
        return _accuracy(_fit(method, data, steps, opt, seed), xt, yt)

    out = {}
    noisy = noise.corrupt_labels(y, 10, "symmetric", rate, seed=seed)[0] if rate else y
    data = _batches({"image": x, "label": noisy.astype(np.int32)}, 64, seed)
    for loss in LOSSES:
        kw = {"alpha": 0.01, "beta": 1.0} if loss == "sce" else None
        keras.utils.set_random_seed(seed)
        out[f"symmetric noise, {loss}"] = run(NoisyLabel(encoder(), 10, loss, kw), data)
    if rate:
        intact = noisy == y
        data = _batches({"image": x[intact], "label": y[intact].astype(np.int32)}, 64, seed)
        keras.utils.set_random_seed(seed)
        out[CLEAN_REF] = run(Supervised(encoder(), 10), data)
    for kind in TAG_NOISE if rate else TAG_NOISE[:1]:
        t = _tags_for(kind, y, rate, seed)
        keep = noise.drop_untagged(t)
        keras.utils.set_random_seed(seed)
        data = _batches({"image": x[keep], "tags": t[keep]}, 64, seed)
        out[f"multi-tag softmax, {kind}"] = run(MultiTag(encoder(), 12, 10), data)
    if not rate:  # identical runs at 0% (see the module docstring)
        out[CLEAN_REF] = out["symmetric noise, ce"]
        for kind in TAG_NOISE[1:]:
            out[f"multi-tag softmax, {kind}"] = out["multi-tag softmax, extra_wrong"]
    return out


def noise_sweep(seeds, steps):
    from tfless.data import digits_arrays

    x, y = digits_arrays("train")
    rows = {}
    for seed in range(seeds):
        for rate in RATES:
            start = time.time()
            for name, acc in _noise_runs(x, y, rate, seed, steps).items():
                rows.setdefault(name, {}).setdefault(rate, []).append(acc)
            print(f"noise: seed {seed} rate {rate:.0%} ({time.time() - start:.0f}s)", flush=True)
    order = [f"symmetric noise, {loss}" for loss in LOSSES] + [CLEAN_REF]
    order += [f"multi-tag softmax, {kind}" for kind in TAG_NOISE]
    return {name: {str(r): _stats(v) for r, v in sorted(rows[name].items())} for name in order}


def _trunk(shape):
    from tfless.backbones import resnet_v2_gn

    return resnet_v2_gn(
        shape, blocks=(1, 1, 1), base_width=8, groups=4, stem="cifar", name="bit_small"
    )


def _unit_images(x):
    """Images in [0, 1], resized to TRANSFER_SIZE (a CPU budget; see the module docstring)."""
    import tensorflow as tf

    x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    size = (TRANSFER_SIZE, TRANSFER_SIZE)
    return np.asarray(tf.image.resize(x, size, antialias=True)).clip(0, 1)


def _pretrain(kind, steps, seed):
    """Trunk weights pre-trained on glyphs "train" with weak tags or clean labels."""
    import keras

    from tfless.data import builtin_arrays, noise, tags
    from tfless.methods import MultiTag

    x, y = builtin_arrays("glyphs", "train")
    # The split's class ids are global ids of the whole glyphs set: number them 0..C-1.
    classes, y = len(np.unique(y)), np.unique(y, return_inverse=True)[1]
    x = _unit_images(x)
    t = tags.labels_to_tags(y, classes + 20)  # 20 non-visual tags after the classes
    if kind == "weak":
        t = noise.extra_tags(t, 0.5, candidates=np.arange(classes, classes + 20), seed=seed)
        t = noise.extra_tags(t, 0.2, candidates=np.arange(classes), seed=seed + 1)
        t = noise.missing_tags(t, 0.2, seed=seed + 2)
    keep = noise.drop_untagged(t)
    keras.utils.set_random_seed(seed)
    method = MultiTag(_trunk(x.shape[1:]), classes + 20, classes)
    data = _batches({"image": x[keep], "tags": t[keep]}, 128, seed)
    _fit(method, data, steps, keras.optimizers.Adam(1e-3), seed)
    source_acc = _accuracy(method, x, y)  # fit to the (clean) source labels
    return method.encoder.get_weights(), x.shape[1:], source_acc, int(len(keep))


def _scaled(H, n, scale):
    """The HyperRule schedule with every step point multiplied by ``scale``."""
    import keras

    base = H.HyperRuleSchedule(n)

    class Scaled(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return base(keras.ops.cast(step, "float32") / scale)

    return Scaled()


def _finetune(weights, shape, x, y, xt, yt, shots, seed, scale, batch):
    import keras

    from tfless.methods import BiT
    from tfless.train import hyperrule as H

    idx = H.fewshot_indices(y, shots, seed=seed)
    n = len(idx)
    steps = max(1, round(H.hyperrule_steps(n) * scale))
    keras.utils.set_random_seed(seed)
    trunk = _trunk(shape)
    if weights is not None:
        trunk.set_weights(weights)
    method = BiT(trunk, 10, mixup_alpha=H.hyperrule_mixup(n))
    schedule = H.HyperRuleSchedule(n) if scale == 1 else _scaled(H, n, scale)
    optimizer = keras.optimizers.SGD(schedule, momentum=H.MOMENTUM)
    data = _batches({"image": x[idx], "label": y[idx].astype(np.int32)}, batch, seed)
    return _accuracy(_fit(method, data, steps, optimizer, seed), xt, yt), steps


def transfer(seeds, pre_steps, scale, batch):
    from tfless.data import builtin_arrays

    (x, y), (xt, yt) = builtin_arrays("mnist5k", "train"), builtin_arrays("mnist5k", "test")
    x, xt = _unit_images(x), _unit_images(xt)
    source = {}
    for init, kind in zip(INITS[1:], ("clean", "weak"), strict=True):
        start = time.time()
        weights, shape, acc, kept = _pretrain(kind, pre_steps, 0)
        source[init] = {"weights": weights, "source_train_accuracy": acc * 100, "images": kept}
        print(f"pre-train {kind}: source acc {acc:.3f} ({time.time() - start:.0f}s)", flush=True)
    rows = {}
    for init in INITS:
        weights = source[init]["weights"] if init in source else None
        for shots in SHOTS:
            start, accs = time.time(), []
            for seed in range(seeds):
                acc, steps = _finetune(weights, shape, x, y, xt, yt, shots, seed, scale, batch)
                accs.append(acc)
            rows.setdefault(init, {})[str(shots)] = {**_stats(accs), "steps": steps}
            cell = rows[init][str(shots)]
            print(
                f"transfer {init} {shots}-shot: mean {cell['mean']:.1f} "
                f"({time.time() - start:.0f}s)",
                flush=True,
            )
    pre = {k: {kk: vv for kk, vv in v.items() if kk != "weights"} for k, v in source.items()}
    return {"pretraining": pre, "accuracy": rows}


def _cell(c):
    return f"{c['mean']:.1f} ± {c['std']:.1f} [{c['min']:.1f}, {c['max']:.1f}]"


def noise_claims(noise):
    """Per row: the 0% mean, and the first rate whose mean drops more than SLOW_DROP."""
    claims = {}
    for name, per in noise.items():
        base = per["0.0"]["mean"]
        broken = [r for r in RATES if base - per[str(r)]["mean"] > SLOW_DROP]
        claims[name] = {
            "mean_at_0": base,
            "drop_at_40": base - per["0.4"]["mean"],
            "drop_at_80": base - per["0.8"]["mean"],
            "slow_until": max([r for r in RATES if not broken or r < broken[0]]),
            "first_rate_beyond_slow": broken[0] if broken else None,
        }
    return claims


def _noise_markdown(result):
    noise, claims = result["noise"], noise_claims(result["noise"])
    lines = [
        f"## Clean test accuracy (%) vs noise rate on digits ({result['noise_steps']} steps)",
        "",
        "mean ± sd [min, max] over seeds; the rate is the fraction of training labels"
        " flipped (symmetric rows) or of images whose tags were corrupted (multi-tag rows).",
        "",
        "| training | " + " | ".join(f"{r:.0%}" for r in RATES) + " | degrades slowly until |",
        "|---" * (len(RATES) + 2) + "|",
    ]
    for name, per in noise.items():
        c = claims[name]
        end = "80% (all)" if c["first_rate_beyond_slow"] is None else f"{c['slow_until']:.0%}"
        lines.append(f"| {name} | " + " | ".join(_cell(per[str(r)]) for r in RATES) + f" | {end} |")
    ce = noise["symmetric noise, ce"]["0.0"]
    lines += [
        "",
        f"'Degrades slowly': mean within {SLOW_DROP:.0f} points of the row's 0% mean. CE check:"
        f" cross-entropy at 0% noise reaches {ce['mean']:.1f} ± {ce['std']:.1f} here (8x8,"
        f" {result['noise_steps']} steps); configs/supervised/digits.py (16x16, 2,000 steps)"
        f" measured {SUPERVISED_CONFIG_ACCURACY}.",
        "",
        "![accuracy vs noise](weak_noise.png)",
        "",
    ]
    return lines


def _transfer_markdown(result):
    tr = result["transfer"]
    lines = [
        "## Few-shot transfer glyphs -> mnist5k with BiT-HyperRule, test accuracy (%)",
        "",
        "mean, then min / median / max over seeds (seed = which k images per class, and the"
        " fine-tuning order); the pre-training itself ran once (seed 0).",
        "",
        "| trunk | " + " | ".join(f"{s}-shot" for s in SHOTS) + " |",
        "|---" * (len(SHOTS) + 1) + "|",
    ]
    for init, per in tr["accuracy"].items():
        cells = [per[str(s)] for s in SHOTS]
        fmt = [
            f"{c['mean']:.1f} ({c['min']:.1f} / {c['median']:.1f} / {c['max']:.1f})" for c in cells
        ]
        lines.append(f"| {init} | " + " | ".join(fmt) + " |")
    steps = [tr["accuracy"][INITS[0]][str(s)]["steps"] for s in SHOTS]
    lines += ["", f"Fine-tuning steps per shot setting: {steps}; pre-training:"]
    for init, pre in tr["pretraining"].items():
        lines.append(
            f"- {init}: {pre['images']} tagged source images, accuracy on the source's"
            f" clean labels after pre-training {pre['source_train_accuracy']:.1f}%"
        )
    return lines + [""]


def _markdown(result):
    lines = ["# Weak supervision benchmark", ""]
    for key in ("command_all", "command_noise", "command_transfer"):
        if key in result:
            part = key.split("_")[1]
            secs = result.get(f"seconds_{part}")
            lines.append(f"Command ({part}): `{result[key]}` ({secs} s on 2 shared CPU cores)")
    lines.append("")
    if "noise" in result:
        lines += _noise_markdown(result)
    if "transfer" in result:
        lines += _transfer_markdown(result)
    return "\n".join(lines) + "\n"


def _plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noise = result["noise"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for name, per in noise.items():
        ax = axes[1] if name.startswith("multi-tag") else axes[0]
        mean = np.array([per[str(r)]["mean"] for r in RATES])
        lo = mean - [per[str(r)]["min"] for r in RATES]
        hi = np.array([per[str(r)]["max"] for r in RATES]) - mean
        style = "--" if name == CLEAN_REF else "-"
        ax.errorbar(
            [r * 100 for r in RATES],
            mean,
            yerr=[lo, hi],
            marker="o",
            ls=style,
            capsize=3,
            label=name.replace("symmetric noise, ", "").replace("multi-tag softmax, ", ""),
        )
    axes[0].set_title("Symmetric label noise: loss on noisy labels")
    axes[1].set_title("Multi-tag softmax objective: tag noise")
    axes[0].set_xlabel("labels flipped (%)")
    axes[1].set_xlabel("images with a corrupted tag set (%)")
    axes[0].set_ylabel("clean test accuracy (%)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    seeds = len(next(iter(noise.values()))["0.0"]["runs"])
    fig.suptitle(
        f"Digits (8x8), ConvNet, {result['noise_steps']} steps: test accuracy vs noise rate "
        f"(mean, bars min-max over {seeds} seeds)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400, help="training steps per noise run")
    parser.add_argument("--pretrain_steps", type=int, default=1000)
    parser.add_argument(
        "--finetune_scale", type=float, default=1.0, help="HyperRule steps multiplier"
    )
    parser.add_argument("--batch", type=int, default=32, help="fine-tuning batch (rule: 512)")
    parser.add_argument("--only", choices=("noise", "transfer"))
    parser.add_argument("--out", default="weak", help="results file stem")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    os.makedirs(RESULTS, exist_ok=True)
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    command = ("python benchmarks/weak.py " + argv_text).strip()
    path = os.path.join(RESULTS, f"{args.out}.json")
    result = {}
    if args.only and os.path.exists(path):
        # One part at a time: keep the other part's last results.
        with open(path) as f:
            result = {k: v for k, v in json.load(f).items() if not k.endswith("_all")}
    part = args.only or "all"
    result[f"command_{part}"] = command
    start = time.time()
    if args.only != "noise":
        result["transfer"] = transfer(
            args.seeds, args.pretrain_steps, args.finetune_scale, args.batch
        )
    if args.only != "transfer":
        result["noise_steps"] = args.steps
        result["noise"] = noise_sweep(args.seeds, args.steps)
        result["noise_claims"] = noise_claims(result["noise"])
        _plot(result, os.path.join(RESULTS, f"{args.out}_noise.png"))
    result[f"seconds_{part}"] = round(time.time() - start, 1)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    md = _markdown(result)
    with open(os.path.join(RESULTS, f"{args.out}.md"), "w") as f:
        f.write(md.replace("weak_noise.png", f"{args.out}_noise.png"))
    print(md)


if __name__ == "__main__":
    main()
