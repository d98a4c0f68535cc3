"""SLA ablation on digits: Baseline, DA, MT, SLA+SI, SLA+AG, SLA+SD at equal compute.

  python benchmarks/sla.py [--seeds 3] [--steps 400] [--forwarded 96] [--quick]
  python benchmarks/sla.py --only fewshot [--fs-steps 200] [--fs-episodes 600]

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

Few-shot rows (``--only fewshot``; the default runs both parts): Prototypical Networks
against few-shot SLA (:class:`tfless.methods.SLAProtoNet`, rotation, joint (class, rotation)
prototypes) on the built-in glyphs at 28x28: training episodes from the background classes,
5-way 1-shot and 5-way 5-shot test episodes (15 queries per class) on the evaluation classes,
the same ``--fs-episodes`` test episodes for every row, accuracy with its 95% confidence
interval (``1.96 std / sqrt(episodes)``, :mod:`tfless.evaluation.fewshot`). Every row
trains a Conv-4 (``--fs-width`` filters) with Adam 1e-3 for the same ``--fs-steps``
training episodes (one per step, ``--fs-train-ways``-way, the test shots, 5 queries per
class); an SLA episode forwards each of its images 4 times. SLA+SI (the untransformed query
against the untransformed prototypes) is the same SLA model without aggregation. The
paper's claim, checked with the criterion fixed before running: SLA+AG's mean accuracy over
the seeds is above ProtoNet's, for 1-shot and for 5-shot. Nothing is tuned until it holds.

Writes ``benchmarks/results/sla.{json,md}``; a run of one part keeps the other part's rows
of the previous run. ``--quick`` (2 seeds, 200 steps, 100 few-shot steps, 300 test
episodes) is the reduced run; the ablation takes about 5 minutes on 2 shared CPU cores and
the few-shot part about 10.
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
from tfless.data.episodes import EpisodeSampler  # noqa: E402
from tfless.data.glyphs import glyph_arrays  # noqa: E402
from tfless.evaluation.fewshot import FewShotSettings, evaluate_fewshot  # noqa: E402
from tfless.evaluation.finetuning import recompute_batch_norm  # noqa: E402
from tfless.methods import SLA, ProtoNet, SLAProtoNet, SLASelfDistillation, Supervised  # noqa: E402
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


# (row label, class, inference modes evaluated on the same trained model)
FEWSHOT_ROWS = [
    ("ProtoNet", ProtoNet, {"ProtoNet": None}),
    (
        "SLA-ProtoNet",
        SLAProtoNet,
        {"SLA-ProtoNet (SLA+AG)": "aggregated", "SLA-ProtoNet (SLA+SI)": "single"},
    ),
]
RESULTS_JSON = os.path.join(RESULTS, "sla.json")


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


def ablation_lines(results) -> list[str]:
    """The markdown of the ablation part (digits) from its JSON results."""
    a = results["args"]
    cmd = "python benchmarks/sla.py" + (" --quick" if a.get("quick") else "")
    elapsed = results.get("elapsed_min")
    took = f", {elapsed:.1f} min" if elapsed is not None else ""
    lines = [
        "# SLA ablation on digits (equal steps and forwarded images per step)",
        "",
        f"{a['seeds']} seeds, {a['steps']} steps, {a['forwarded']} forwarded images per step, "
        f"ConvNet 16-32, Adam 2e-3; {results.get('platform', 'CPU')}{took}. Command: `{cmd}`",
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
    return lines


def fewshot_lines(fs) -> list[str]:
    """The markdown of the few-shot part from its JSON results."""
    a = fs["args"]
    cmd = "python benchmarks/sla.py --only fewshot" + (" --quick" if a.get("quick") else "")
    lines = [
        "",
        "## Few-shot: ProtoNet vs SLA-ProtoNet (rotation) on glyphs",
        "",
        f"{a['seeds']} seeds; each trains Conv-4 ({a['fs_width']} filters, 28x28 glyphs) with "
        f"Adam 1e-3 on {a['fs_steps']} {a['fs_train_ways']}-way episodes of the background "
        f"classes (the test shots, {a['fs_queries']} queries per class); tested on the same "
        f"{a['fs_episodes']} 5-way episodes (15 queries per class) of the evaluation classes. "
        f"{fs['platform']}, {fs['elapsed_min']:.1f} min. Command: `{cmd}`",
        "",
        "Accuracy %: mean over seeds ± std over seeds; ± 95% CI over the test episodes "
        "(mean of the seeds' CIs); step time is the median training step.",
        "",
        "| setting | row | accuracy % | seeds (± 95% CI) | ms/step |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for setting, rows in fs["settings"].items():
        for row, r in rows.items():
            mean, std = summary(r["accuracy"])
            ci = statistics.mean(r["ci95"])
            shown = ", ".join(f"{x:.1f} ± {c:.1f}" for x, c in zip(r["accuracy"], r["ci95"]))
            lines.append(
                f"| {setting} | {row} | {mean:.2f} ± {std:.2f} (CI ± {ci:.2f}) | {shown} | "
                f"{r['ms_per_step']:.1f} |"
            )
    lines += ["", "Claim (SLA improves ProtoNet):", ""]
    for text, holds, detail in fs["claims"]:
        lines.append(f"- {text}: {'holds' if holds else 'does not hold'} ({detail})")
    return lines


def write(results):
    """Writes the JSON and the markdown of every part present in ``results``."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(RESULTS_JSON, "w") as f:
        json.dump(results, f, indent=2)
    lines = ablation_lines(results) if "sets" in results else []
    if "fewshot" in results:
        lines += fewshot_lines(results["fewshot"])
    with open(os.path.join(RESULTS, "sla.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def previous_results() -> dict:
    """The last run's JSON (its other part is kept), or ``{}``."""
    if not os.path.exists(RESULTS_JSON):
        return {}
    with open(RESULTS_JSON) as f:
        return json.load(f)


def glyph_split(split: str):
    """Glyph images as float32 in [0, 1] and their class ids."""
    x, y = glyph_arrays(split)
    return x.astype(np.float32) / 255.0, y


def train_fewshot(cls, base, shots, seed, args):
    """One few-shot model trained on ``args.fs_steps`` episodes; ``(method, s / step)``."""
    keras.utils.set_random_seed(seed)
    method = cls(build_backbone("conv4", base[0].shape[1:], width=args.fs_width))
    method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    sampler = EpisodeSampler(
        *base, ways=args.fs_train_ways, shots=shots, queries=args.fs_queries, seed=seed
    )
    timer = EpochTimer()
    epochs = max(1, args.fs_steps // EPOCH)
    ds = sampler.dataset(1)
    method.fit(ds, steps_per_epoch=EPOCH, epochs=epochs, verbose=0, callbacks=[timer])
    # Precise batch-norm statistics of base images, as the trainer's final evaluation.
    rng = np.random.default_rng(seed)
    recompute_batch_norm(method.encoder, base[0][rng.choice(len(base[0]), 1024, replace=False)])
    return method, statistics.median(timer.times[1:] or timer.times) / EPOCH


def fewshot_setting(shots, base, novel, args) -> dict:
    """Every few-shot row's test accuracy and CI per seed at 5-way ``shots``-shot."""
    test = FewShotSettings(ways=5, shots=(shots,), queries=15, episodes=args.fs_episodes, heads=())
    key = f"fewshot_5way{shots}shot"
    rows = {}
    for _, cls, modes in FEWSHOT_ROWS:
        for seed in range(args.seeds):
            method, step = train_fewshot(cls, base, shots, seed, args)
            for row, mode in modes.items():
                if mode is not None:
                    method.inference = mode
                res = evaluate_fewshot(method, *novel, test)
                acc, ci = 100 * res[f"{key}_accuracy"], 100 * res[f"{key}_ci95"]
                r = rows.setdefault(row, {"accuracy": [], "ci95": [], "ms_per_step": 0.0})
                r["accuracy"].append(acc)
                r["ci95"].append(ci)
                r["ms_per_step"] = step * 1e3
                print(f"{shots}-shot {row:24s} seed {seed}: {acc:.2f} ± {ci:.2f}%", flush=True)
            keras.backend.clear_session()
    return rows


def run_fewshot(args) -> dict:
    """5-way 1-shot and 5-shot accuracy of every few-shot row, ``args.seeds`` seeds each."""
    start = time.time()
    base, novel = glyph_split("train"), glyph_split("test")
    settings = {f"5-way {k}-shot": fewshot_setting(k, base, novel, args) for k in (1, 5)}
    kept = ("seeds", "quick")
    fs_args = {k: v for k, v in vars(args).items() if k.startswith("fs_") or k in kept}
    out = {"settings": settings, "args": fs_args, "platform": platform_name()}
    out["claims"] = fewshot_claims(settings)
    out["elapsed_min"] = (time.time() - start) / 60
    return out


def fewshot_claims(settings) -> list[tuple[str, bool, str]]:
    """SLA+AG above ProtoNet in mean accuracy, per setting; the detail gives the gap and the
    CIs."""
    out = []
    for name, rows in settings.items():
        base, ag = rows["ProtoNet"], rows["SLA-ProtoNet (SLA+AG)"]
        gap = statistics.mean(ag["accuracy"]) - statistics.mean(base["accuracy"])
        ci = (statistics.mean(ag["ci95"]), statistics.mean(base["ci95"]))
        detail = f"SLA+AG - ProtoNet = {gap:+.2f} points; 95% CIs ± {ci[0]:.2f} / ± {ci[1]:.2f}"
        out.append((f"{name}: SLA-ProtoNet (SLA+AG) beats ProtoNet", gap > 0, detail))
    return out


def platform_name() -> str:
    return f"{platform.processor() or 'CPU'}, TF {tf.__version__}"


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


def run_ablation(args, results: dict) -> None:
    """The digits ablation: fills ``results`` with its sets, timing and claims."""
    start = time.time()
    data = datasets(args)
    results.update(sets={}, timing={})
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
    results["args"] = {k: getattr(args, k) for k in ("seeds", "steps", "forwarded", "quick")}
    results["platform"] = platform_name()
    results["elapsed_min"] = (time.time() - start) / 60


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("all", "ablation", "fewshot"), default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--forwarded", type=int, default=96)
    parser.add_argument("--fs-steps", type=int, default=200, help="few-shot training episodes")
    parser.add_argument("--fs-episodes", type=int, default=600, help="few-shot test episodes")
    parser.add_argument("--fs-train-ways", type=int, default=10)
    parser.add_argument("--fs-queries", type=int, default=5, help="queries per training class")
    parser.add_argument("--fs-width", type=int, default=32, help="Conv-4 filters")
    parser.add_argument("--quick", action="store_true", help="2 seeds, shorter runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.steps, args.fs_steps, args.fs_episodes = 2, 200, 100, 300
    if args.forwarded % 12:
        parser.error(f"--forwarded must be a multiple of 12 (M = 4 and 12); got {args.forwarded}.")
    results = previous_results()
    if args.only in ("all", "ablation"):
        run_ablation(args, results)
    if args.only in ("all", "fewshot"):
        results["fewshot"] = run_fewshot(args)
    write(results)


if __name__ == "__main__":
    main()
